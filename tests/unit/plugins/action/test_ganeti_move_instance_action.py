# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The action plugin: which path a task takes, what it prints while the move runs, what it returns.

InstanceMove is replaced by a stand-in that plays a short move through the progress hooks (no network).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import multiprocessing
import os
import signal
import time
from unittest.mock import MagicMock

import pytest

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.parsing.vault import VaultLib, VaultSecret
from ansible.parsing.yaml import objects as yaml_objects
from ansible.playbook.task import Task
from ansible.release import __version__ as ansible_version
from ansible.plugins.action.normal import ActionModule as NormalAction

from ansible_collections.ganeti.rapi.plugins.action import ganeti_move_instance as action
from ansible_collections.ganeti.rapi.plugins.module_utils import move_async, move_task
from ansible_collections.ganeti.rapi.plugins.module_utils.move_options import RULES, argument_spec
from ansible_collections.ganeti.rapi.plugins.module_utils.job_waiter import JobWatch
from ansible_collections.ganeti.rapi.plugins.module_utils.move_model import MoveError, MoveOutcome
from ansible_collections.ganeti.rapi.plugins.module_utils.move_progress import MoveProgress
from ansible_collections.ganeti.rapi.tests.unit.plugins.modules.module_args import TASK_PW
from ansible_collections.ganeti.rapi.tests.unit.plugins.modules.module_args import task_args as args

FILE_PW = "file-PW-never-printed-3"


# a task's variables that ask for ``invocation`` in results (ansible-core 2.21's INJECT_INVOCATION)
INVOCATION = {"ansible_inject_invocation": True}


class FakeMove:
    """Plays a move through the progress hooks; records its spec."""

    instances = []
    fail = None
    echo = False  # a move whose words carry the password it was given (it must never be seen)

    def __init__(self, source, destination, spec, progress=None):
        self.source, self.destination, self.spec = source, destination, spec
        self.progress = progress or MoveProgress()
        self.outcome = MoveOutcome()
        FakeMove.instances.append(self)

    def _play(self):
        progress = self.progress
        progress.step("preflight", 0.2)
        export = JobWatch(5, "source", "export")
        progress.transfer(1)
        progress.job(export, [[1, [0, 0], "message", "Shutting down instance web1.test"],
                              [2, [0, 0], "message", "Disk 0 sent 12M, 2.4 MiB/s, 4%, ETA 1m 44s"]])
        progress.step("export", 41.0)

    def run(self):
        self._play()
        if FakeMove.fail:
            error = MoveError("source", "export", FakeMove.fail)
            error.outcome, error.changed, error.recovery = self.outcome, False, ["nothing was left"]
            raise error
        outcome = self.outcome
        outcome.state, outcome.changed, outcome.evidence = "moved", True, "jobs"
        outcome.message = "web1.test moved to cluster-b.test as web1.test"
        if FakeMove.echo:
            outcome.message += " with " + self.source._password
            self.progress.job(JobWatch(5, "source", "export"), [[3, [0, 0], "message", self.source._password]])
        outcome.instance = {"name": "web1.test", "pnode": "node1.b", "disk.sizes": [1024]}
        outcome.source_cluster, outcome.destination_cluster = "cluster-a.test", "cluster-b.test"
        outcome.steps = [{"name": "preflight", "seconds": 0.2}]
        outcome.warnings = ["a warning"]
        return outcome

    def check(self):
        outcome = self.outcome
        outcome.state, outcome.changed, outcome.message = "would_move", True, "web1.test would move"
        outcome.diff = {"before": {"cluster": "cluster-a.test"}, "after": {"cluster": "cluster-b.test"}}
        return outcome


@pytest.fixture
def fake(monkeypatch):
    for name in ("GANETI_SOURCE_PASSWORD", "GANETI_SOURCE_PASSWORD_FILE", "GANETI_PASSWORD", "GANETI_USERNAME",
                 "GANETI_SOURCE_HOST", "GANETI_DESTINATION_HOST", "GANETI_SOURCE_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    FakeMove.instances, FakeMove.fail, FakeMove.echo = [], None, False
    monkeypatch.setattr(move_task, "InstanceMove", FakeMove)
    printed = []
    for method, level in (("display", 0), ("v", 1), ("vv", 2)):
        monkeypatch.setattr(action.display, method, lambda text, *a, level=level, **kw: printed.append((level, text)))
    return printed


def plugin(args, transport="local", async_val=0, check_mode=False, diff=False, no_log=False, environment=None,
           become=False, timeout=0):
    task = MagicMock(Task)
    task.args = args
    task.async_val = async_val
    task.timeout = timeout  # the task keyword (0: none)
    task.check_mode = check_mode
    task.diff = diff
    task.no_log = no_log
    task.environment = environment
    task.action = "ganeti.rapi.ganeti_move_instance"
    connection = MagicMock()
    connection.transport = transport
    connection._shell.tmpdir = None
    templar = MagicMock()
    templar.template.side_effect = lambda value, *a, **kw: value
    play_context = MagicMock()
    play_context.become = become
    return action.ActionModule(task, connection, play_context, loader=None, templar=templar, shared_loader_obj=None)


def test_a_local_task_moves_in_process_and_prints_its_progress(fake):
    result = plugin(args(keep_source=True, compress="gzip")).run(task_vars={})

    assert result["changed"] is True and result["state"] == "moved" and not result.get("failed")
    assert result["msg"] == "web1.test moved to cluster-b.test as web1.test"
    assert result["instance"]["primary_node"] == "node1.b"
    assert result["warnings"] == ["a warning"]
    spec = FakeMove.instances[0].spec
    assert (spec.keep_source, spec.compress, spec.timeout) == (True, "gzip", 3600)
    assert fake[0] == (1, "web1.test: preflight done in 0.2s")
    assert (0, "web1.test: Disk 0 sent 12M, 2.4 MiB/s, 4%, ETA 1m 44s") in fake
    assert (2, "web1.test: source job 5 (export): Shutting down instance web1.test") in fake
    assert fake[-1][0] == 0 and fake[-1][1].startswith("web1.test: moved after ")
    assert fake[-1][1].endswith(": web1.test moved to cluster-b.test as web1.test")
    assert TASK_PW not in repr(result) and TASK_PW not in repr(fake)


def test_a_failed_move_fails_the_task_with_the_moves_words(fake):
    FakeMove.fail = "the export did not transfer every disk"
    result = plugin(args()).run(task_vars={})

    assert result["failed"] is True and result["changed"] is False
    assert (result["side"], result["step"]) == ("source", "export")
    assert "the export did not transfer every disk" in result["msg"]
    assert result["recovery"] == ["nothing was left"]
    assert fake[-1][1].startswith("web1.test: failed after ")


@pytest.mark.parametrize("diff", [True, False])
def test_check_and_diff_mode_reach_the_move(fake, diff):
    result = plugin(args(), check_mode=True, diff=diff).run(task_vars={})
    assert result["state"] == "would_move" and result["msg"] == "web1.test would move"
    assert ("diff" in result) is diff
    if diff:
        assert result["diff"]["after"] == {"cluster": "cluster-b.test"}


def test_no_log_prints_nothing_while_the_move_runs(fake):
    result = plugin(args(), no_log=True).run(task_vars={})
    assert result["state"] == "moved" and fake == []


@pytest.mark.parametrize("extra, words", [
    ({"name": None}, "missing required arguments: name"),
    ({"iallocator": "hail", "primary_node": "n1"}, "parameters are mutually exclusive: iallocator|primary_node"),
    ({"timeout": "soon"}, "timeout"),
    ({"colour": "blue"}, "Unsupported parameters for (ganeti.rapi.ganeti_move_instance) module: colour. "
                         "Supported parameters include: "),
])
def test_bad_options_fail_before_anything_is_asked(fake, extra, words):
    given = args(**extra)
    given = dict((key, value) for key, value in given.items() if value is not None)
    result = plugin(given).run(task_vars={})
    assert result["failed"] is True and words in result["msg"]
    assert (result["side"], result["step"]) == ("input", "arguments")
    assert FakeMove.instances == [] and fake == []
    assert TASK_PW not in repr(result)


def test_a_number_below_its_minimum_is_refused(fake):
    result = plugin(args(timeout=0)).run(task_vars={})
    assert result["failed"] is True and result["msg"] == "timeout must be at least 1, got 0"
    assert FakeMove.instances == []


def test_the_tasks_environment_gives_the_password_file_and_the_password_is_masked(fake, tmp_path, monkeypatch):
    secret = tmp_path / "pw"
    secret.write_text(FILE_PW + "\n")
    given = args(source={"host": "cluster-a.test", "username": "mover"})
    FakeMove.echo = True
    result = plugin(given, environment=[{"GANETI_SOURCE_PASSWORD_FILE": str(secret)}]).run(task_vars={})
    move = FakeMove.instances[0]
    assert move.source._password == FILE_PW and move.destination._password == FILE_PW
    assert result["msg"] == "web1.test moved to cluster-b.test as web1.test with ********"
    assert (2, "web1.test: source job 5 (export): ********") in fake
    assert FILE_PW not in repr(result) and FILE_PW not in repr(fake)
    assert "GANETI_SOURCE_PASSWORD_FILE" not in os.environ  # only for the task


@pytest.mark.parametrize("transport, async_val, become, requests", [
    ("ssh", 0, False, True), ("ssh", 600, False, True), ("local", 0, True, True), ("local", 0, False, False)],
    ids=["another-host", "async-on-another-host", "become", "no-requests-here"])
def test_the_module_runs_where_the_move_cannot_run_here(fake, monkeypatch, transport, async_val, become, requests):
    ran = []
    monkeypatch.setattr(NormalAction, "run", lambda self, tmp=None, task_vars=None: ran.append(1) or {"ok": 1})
    monkeypatch.setattr(action, "HAS_REQUESTS", requests)
    result = plugin(args(), transport=transport, async_val=async_val, become=become).run(task_vars={})
    assert result == {"ok": 1} and ran == [1] and FakeMove.instances == [] and fake == []


def test_a_no_log_options_value_is_masked_in_the_lines_and_the_result(fake):
    FakeMove.echo = True
    result = plugin(args()).run(task_vars=INVOCATION)
    assert result["msg"].endswith(" with ********")
    assert (2, "web1.test: source job 5 (export): ********") in fake
    assert TASK_PW not in repr(result) and TASK_PW not in repr(fake)
    assert result["invocation"]["module_args"]["source"]["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_the_environment_is_restored_when_the_move_raises(fake, monkeypatch):
    def explode(self):
        raise RuntimeError("a bug")
    monkeypatch.setattr(FakeMove, "run", explode)
    with pytest.raises(RuntimeError):
        plugin(args(), environment=[{"GANETI_SOURCE_PASSWORD_FILE": "/nonexistent"}]).run(task_vars={})
    assert "GANETI_SOURCE_PASSWORD_FILE" not in os.environ


@pytest.mark.parametrize("option, keyword, deadline, warned", [
    (None, 120, 110, False), (3600, 120, 110, True), (300, 600, 300, False), (None, 5, 1, False), (None, 0, 3600, False)],
    ids=["default-capped", "option-capped-with-warning", "option-within", "keyword-tiny", "no-keyword"])
def test_the_moves_deadline_falls_within_the_tasks_timeout_keyword(fake, option, keyword, deadline, warned):
    extra = {} if option is None else {"timeout": option}
    result = plugin(args(**extra), timeout=keyword).run(task_vars=INVOCATION)
    assert FakeMove.instances[0].spec.timeout == deadline
    assert result["invocation"]["module_args"]["timeout"] == deadline
    capped = [w for w in result["warnings"] if "timeout keyword" in w]
    assert capped == (["the task's timeout keyword (120 s) ends the task before the timeout option (3600 s): the "
                       "move's deadline is 110 s, so that it can cancel its jobs and report before Ansible stops "
                       "the task"] if warned else [])


def test_the_module_path_gets_the_deadline_within_the_keyword_too(fake, monkeypatch):
    seen = []
    monkeypatch.setattr(NormalAction, "run",
                        lambda self, tmp=None, task_vars=None: seen.append(self._task.args["timeout"]) or {"ok": 1})
    result = plugin(args(timeout="900"), transport="ssh", timeout=300).run(task_vars={})
    assert seen == [290] and "290 s" in result["warnings"][0]
    seen[:] = []
    plugin(args(timeout=900), transport="ssh", async_val=1000, timeout=300).run(task_vars={})
    assert seen == [900]  # with async, async bounds the module, not the keyword
    seen[:] = []
    warned = []
    monkeypatch.setattr(action.display, "warning", warned.append)
    result = plugin(args(timeout=900), transport="ssh", async_val=600).run(task_vars={})
    # said at the start: the executor's polling drops the start result's warnings (2.16)
    assert seen == [590] and "warnings" not in result and warned == [
        "async (600 s) ends the task before the timeout option (900 s): the move's deadline is 590 s, so that it "
        "can cancel its jobs and report before Ansible stops the task"]


def test_a_timeout_that_is_no_number_is_left_to_the_validation(fake):
    result = plugin(args(timeout="soon"), timeout=60).run(task_vars={})
    assert result["failed"] and "timeout" in result["msg"] and FakeMove.instances == []


def test_a_local_async_task_starts_a_detached_move_and_returns_its_job(fake, monkeypatch, tmp_path):
    started = []
    monkeypatch.setattr(action, "detach", started.append)
    warned = []
    monkeypatch.setattr(action.display, "warning", warned.append)
    task = plugin(args(timeout=3600), async_val=600, environment=[{"GANETI_SOURCE_PASSWORD_FILE": "/nonexistent"}])
    task.get_shell_option = lambda name, default=None: str(tmp_path / "async")
    seen = []
    monkeypatch.setattr(action, "detach", lambda job: seen.append(os.environ.get("GANETI_SOURCE_PASSWORD_FILE"))
                        or started.append(job))
    result = task.run(task_vars={})

    jid = result["ansible_job_id"]
    assert (result["started"], result["finished"], result["results_file"]) == (True, False, str(tmp_path / "async" / jid))
    assert json.loads((tmp_path / "async" / jid).read_text()) == {"started": True, "finished": False,
                                                                  "ansible_job_id": jid}
    (job,) = started
    assert seen == ["/nonexistent"]  # forked with the task's environment in force
    assert job["params"]["timeout"] == 590 and "the move's deadline is 590 s" in warned[0]
    assert TASK_PW in job["no_log_values"]  # masked in the final job file
    assert FakeMove.instances == [] and fake == []


def test_a_loop_of_async_moves_expands_async_dir_once(fake, monkeypatch, tmp_path):
    monkeypatch.setattr(action, "detach", lambda job: None)
    monkeypatch.setattr(action, "_EXPANDED", {})
    expanded = []
    for _item in range(3):
        task = plugin(args(), async_val=600)
        task.get_shell_option = lambda name, default=None: "~/async-jobs"
        task._get_remote_user = lambda: "mover"
        task._remote_expand_user = lambda path: expanded.append(path) or str(tmp_path / "home" / path[2:])
        result = task.run(task_vars={})
        assert result["results_file"].startswith(str(tmp_path / "home" / "async-jobs" / "j"))
    assert expanded == ["~/async-jobs"]  # one shell command for the loop, not one per item


def test_the_detached_move_writes_its_result_masked_for_async_status(fake, tmp_path):
    FakeMove.echo = True
    path = str(tmp_path / "j1.1")
    params = ArgumentSpecValidator(argument_spec(), **RULES).validate(args()).validated_parameters
    move_async.run_job({"jid": "j1.1", "path": path, "async": 60, "params": params, "no_log_values": [TASK_PW]})
    final = json.loads(open(path).read())
    assert "started" not in final and final["ansible_job_id"] == "j1.1"  # no "started": async_status sees it done
    assert final["state"] == "moved" and final["warnings"] == ["a warning"]
    assert TASK_PW not in json.dumps(final) and final["msg"].endswith("with ********")


@pytest.mark.parametrize("async_val, kill, said", [
    (1, None, "Timeout exceeded"),  # the backstop, as async_wrapper's: its own deadline failed to end the move
    (60, signal.SIGTERM, "stopped by SIGTERM")], ids=["async-ran-out", "killed"])
def test_a_detached_move_that_is_stopped_says_so_in_its_job_file(fake, monkeypatch, tmp_path, async_val, kill, said):
    monkeypatch.setattr(FakeMove, "run", lambda self: time.sleep(30))
    path = str(tmp_path / "j2.2")
    params = ArgumentSpecValidator(argument_spec(), **RULES).validate(args()).validated_parameters
    child = multiprocessing.get_context("fork").Process(target=move_async.run_job, args=(
        {"jid": "j2.2", "path": path, "async": async_val, "params": params},))
    started = time.monotonic()
    child.start()
    if kill:
        time.sleep(0.5)  # its handlers are in place well before
        os.kill(child.pid, kill)
    child.join(20)
    assert child.exitcode == 1 and time.monotonic() - started < 10
    assert json.loads(open(path).read()) == {"failed": True, "ansible_job_id": "j2.2", "msg": (
        said + "; the move's Ganeti jobs may still run: run the same task again, it finds them and finishes or "
        "repairs the move")}


def test_a_detached_move_that_crashes_reports_it_with_its_traceback(fake, monkeypatch, tmp_path):
    def crash(self):
        raise KeyError("boom")

    monkeypatch.setattr(FakeMove, "run", crash)
    path = str(tmp_path / "j3.3")
    params = ArgumentSpecValidator(argument_spec(), **RULES).validate(args()).validated_parameters
    move_async.run_job({"jid": "j3.3", "path": path, "async": 60, "params": params})
    final = json.loads(open(path).read())
    assert final["failed"] is True and final["msg"] == "unexpected KeyError: 'boom'"
    assert "Traceback" in final["exception"] and "crash" in final["exception"]


def test_an_async_job_file_that_cannot_be_written_fails_the_task_and_starts_nothing(fake, monkeypatch, tmp_path):
    monkeypatch.setattr(action, "detach", lambda job: pytest.fail("nothing may start"))
    blocked = tmp_path / "file"
    blocked.write_text("")  # a file where the directory should be
    task = plugin(args(), async_val=600)
    task.get_shell_option = lambda name, default=None: str(blocked / "async")
    result = task.run(task_vars={})
    assert result["failed"] is True and result["changed"] is False and "ansible_job_id" not in result
    assert result["msg"].startswith("controller, step 'async': cannot start the move (job file %s/async/j" % blocked)
    assert "Fix: set async_dir (ANSIBLE_ASYNC_DIR, ansible_async_dir)" in result["msg"]


def test_a_detached_move_runs_in_a_session_of_its_own_and_ends_its_job_file(tmp_path):
    # A real fork, as the action makes it: this process gets control back at once and is left no child.
    path = str(tmp_path / "j4.4")
    closed = {"host": "127.0.0.1", "port": 9, "username": "mover", "password": TASK_PW}  # nothing listens
    params = ArgumentSpecValidator(argument_spec(), **RULES).validate(
        args(source=closed, destination=dict(closed, password=None))).validated_parameters
    move_async.write_job_file(path, move_async.running("j4.4"))
    move_async.detach({"jid": "j4.4", "path": path, "async": 30, "params": params, "no_log_values": [TASK_PW]})
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)
    for _wait in range(300):
        final = json.loads(open(path).read())
        if "started" not in final:
            break
        time.sleep(0.1)
    assert final["failed"] is True and final["ansible_job_id"] == "j4.4"
    assert final["msg"].startswith("source, step 'preflight': GET /2/info: cannot connect to https://127.0.0.1:9")
    assert TASK_PW not in json.dumps(final)


def test_a_detached_move_leaves_the_workers_session_and_descriptors(fake, monkeypatch, tmp_path):
    def report(self):  # what the move's process is, in its job file's msg
        raise RuntimeError(json.dumps({"pid": os.getpid(), "sid": os.getsid(0), "fds": os.listdir("/proc/self/fd")}))

    monkeypatch.setattr(FakeMove, "run", report)
    path = str(tmp_path / "j6.6")
    params = ArgumentSpecValidator(argument_spec(), **RULES).validate(args()).validated_parameters
    held = os.open(os.devnull, os.O_RDONLY)  # as the worker's pipes to ansible-playbook
    move_async.write_job_file(path, move_async.running("j6.6"))
    move_async.detach({"jid": "j6.6", "path": path, "async": 30, "params": params})
    os.close(held)
    for _wait in range(100):
        final = json.loads(open(path).read())
        if "started" not in final:
            break
        time.sleep(0.1)
    seen = json.loads(final["msg"].split("unexpected RuntimeError: ", 1)[1])
    assert seen["pid"] != os.getpid() and seen["sid"] != os.getsid(0)  # in a session of its own
    assert len(seen["fds"]) <= 4  # 0-2 (on /dev/null) and the listing's own: nothing of the worker's


@pytest.mark.parametrize("task_vars", [{}, INVOCATION], ids=["by-default", "asked"])
def test_invocation_is_in_the_result_as_a_module_would_give_it(fake, task_vars):
    result = plugin(args()).run(task_vars=task_vars)
    try:  # ansible-core 2.21 added INJECT_INVOCATION, off by default; before it, AnsibleModule always adds it
        wanted = C.config.get_config_value("INJECT_INVOCATION", variables=task_vars)
    except AnsibleError:
        wanted = True
    assert ("invocation" in result) is bool(wanted)
    if wanted:
        assert result["invocation"]["module_args"]["name"] == "web1.test"


def test_the_move_gets_its_arguments_as_a_module_would(fake):
    # A date (YAML's 2024-01-01 unquoted) as the module path's JSON gives it: text, not a type JSON cannot carry.
    result = plugin(args(osparams={"built": datetime.date(2024, 1, 1)})).run(task_vars={})
    assert not result.get("failed"), result
    assert FakeMove.instances[0].spec.osparams == {"built": "2024-01-01"}


@pytest.mark.skipif(tuple(int(part) for part in ansible_version.split(".")[:2]) >= (2, 19),
                    reason="ansible-core 2.19 and later hand the action vaulted values as text")
def test_an_inline_vaulted_password_reaches_the_move_decrypted(fake):
    vault = VaultLib([("default", VaultSecret(b"vault password"))])
    vaulted = yaml_objects.AnsibleVaultEncryptedUnicode(vault.encrypt(TASK_PW))
    vaulted.vault = vault
    source = dict(args()["source"], password=vaulted)
    result = plugin(args(source=source)).run(task_vars={})
    assert not result.get("failed"), result
    assert FakeMove.instances[0].source._password == TASK_PW
