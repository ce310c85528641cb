# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ganeti_move_instance module, with InstanceMove replaced by a stand-in (no network)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

import pytest

from ansible_collections.ganeti.rapi.plugins.module_utils import move_task
from ansible_collections.ganeti.rapi.plugins.module_utils.move_model import MoveError, MoveOutcome
from ansible_collections.ganeti.rapi.plugins.module_utils.rapi_client import RapiClient
from ansible_collections.ganeti.rapi.plugins.modules import ganeti_move_instance
from ansible_collections.ganeti.rapi.tests.unit.plugins.modules.module_args import TASK_PW, run_module
from ansible_collections.ganeti.rapi.tests.unit.plugins.modules.module_args import task_args as args

ENV_PW = "env-PW-never-printed-2"
FILE_PW = "file-PW-never-printed-3"
SECRETS = (TASK_PW, ENV_PW, FILE_PW)
ENV_NAMES = ("GANETI_SOURCE_HOST", "GANETI_SOURCE_PORT", "GANETI_SOURCE_USERNAME", "GANETI_SOURCE_PASSWORD",
             "GANETI_SOURCE_PASSWORD_FILE", "GANETI_SOURCE_CA_PATH", "GANETI_SOURCE_VALIDATE_CERTS",
             "GANETI_SOURCE_REQUEST_TIMEOUT", "GANETI_DESTINATION_HOST", "GANETI_DESTINATION_PORT",
             "GANETI_DESTINATION_USERNAME", "GANETI_DESTINATION_PASSWORD", "GANETI_DESTINATION_PASSWORD_FILE",
             "GANETI_DESTINATION_CA_PATH", "GANETI_DESTINATION_VALIDATE_CERTS", "GANETI_DESTINATION_REQUEST_TIMEOUT",
             "GANETI_USERNAME", "GANETI_PASSWORD")

DEST_ROW = {"name": "web1.test", "pnode": "node1.cluster-b.test", "snodes": [], "disk_template": "file",
            "disk.sizes": [1024], "admin_state": "up", "status": "running"}


def moved_outcome(state="moved", changed=True):
    outcome = MoveOutcome()
    outcome.state = state
    outcome.changed = changed
    outcome.message = "web1.test moved to cluster-b.test as web1.test"
    outcome.instance = dict(DEST_ROW)
    outcome.source_instance = {"name": "web1.test"} if state != "already_moved" else None
    outcome.source_cluster = "cluster-a.test"
    outcome.destination_cluster = "cluster-b.test"
    outcome.evidence = "jobs"
    outcome.diff = {"before": {"instance": "web1.test", "cluster": "cluster-a.test", "primary_node": "node1.a"},
                    "after": {"instance": "web1.test", "cluster": "cluster-b.test", "primary_node": "node1.b"}}
    outcome.jobs = [{"side": "source", "id": 11, "operation": "instance-info", "status": "success"},
                    {"side": "destination", "id": 21, "operation": "create", "status": "success"}]
    outcome.steps = [{"name": "preflight", "seconds": 0.1}]
    outcome.started = 1800000000.25
    return outcome


class FakeMove:
    """Stands in for InstanceMove; records how the module used it."""

    instances = []
    check_result = None
    run_result = None

    def __init__(self, source, destination, spec, progress=None):
        self.source = source
        self.destination = destination
        self.spec = spec
        self.progress = progress
        self.calls = []
        self.outcome = MoveOutcome()
        FakeMove.instances.append(self)

    def _do(self, name, result):
        self.calls.append(name)
        if isinstance(result, Exception):
            raise result
        return result

    def check(self):
        return self._do("check", FakeMove.check_result)

    def run(self):
        return self._do("run", FakeMove.run_result)


@pytest.fixture
def fake_move(monkeypatch):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    FakeMove.instances = []
    FakeMove.check_result = None
    FakeMove.run_result = None
    monkeypatch.setattr(move_task, "InstanceMove", FakeMove)
    return FakeMove


def _run(capsys, **extra):
    return run_module(ganeti_move_instance.main, args(**extra), capsys)


def test_check_mode_calls_check_not_run(fake_move, capsys):
    outcome = moved_outcome(state="would_move")
    outcome.message = "web1.test would move to cluster-b.test as web1.test"
    fake_move.check_result = outcome

    code, result, out = _run(capsys, _ansible_check_mode=True)

    assert code == 0
    assert [m.calls for m in fake_move.instances] == [["check"]]
    assert result["changed"] is True
    assert result["state"] == "would_move"
    assert result["msg"] == "web1.test would move to cluster-b.test as web1.test"


def test_run_calls_run_and_reports(fake_move, capsys):
    fake_move.run_result = moved_outcome()

    before = time.time()
    code, result, out = _run(capsys, destination_name="web1-new.test", keep_source=True, compress="gzip",
                             nics=[{"link": "br1"}], beparams={"maxmem": 512})

    assert code == 0
    move = fake_move.instances[0]
    assert move.calls == ["run"]
    spec = move.spec
    assert (spec.name, spec.destination_name, spec.keep_source, spec.compress) == (
        "web1.test", "web1-new.test", True, "gzip")
    assert spec.nics == [{"link": "br1"}] and spec.beparams == {"maxmem": 512}
    assert (spec.timeout, spec.shutdown_timeout, spec.cleanup, spec.opportunistic_tries) == (3600, 120, True, 0)
    assert isinstance(move.source, RapiClient) and isinstance(move.destination, RapiClient)
    assert (move.destination.host, move.destination.username) == ("cluster-b.test", "mover")  # inherited

    assert result["changed"] is True
    assert result["state"] == "moved"
    assert result["instance"] == {"name": "web1.test", "cluster": "cluster-b.test",
                                  "primary_node": "node1.cluster-b.test", "secondary_nodes": [],
                                  "disk_template": "file", "disk_sizes": [1024], "admin_state": "up",
                                  "status": "running"}
    assert result["source"] == {"host": "cluster-a.test", "port": 5080, "username": "mover", "ca_path": None,
                                "validate_certs": True, "tls": None, "instance": "web1.test",
                                "cluster": "cluster-a.test"}
    assert result["evidence"] == "jobs"
    assert result["waited_for"] == []
    assert result["destination"]["cluster"] == "cluster-b.test"
    # the name the destination reports for the instance (here the fake's row), not the one asked for
    assert result["destination"]["instance"] == result["instance"]["name"] == "web1.test"
    assert result["jobs"] == fake_move.run_result.jobs
    assert result["start_ts"] == 1800000000.25
    assert 0 <= result["duration"] <= time.time() - before


def test_already_moved_is_not_changed(fake_move, capsys):
    fake_move.run_result = moved_outcome(state="already_moved", changed=False)
    code, result, out = _run(capsys)
    assert code == 0
    assert result["changed"] is False
    assert result["state"] == "already_moved"


def test_diff_mode(fake_move, capsys):
    fake_move.run_result = moved_outcome()
    code, result, out = _run(capsys, _ansible_diff=True)
    assert result["diff"] == fake_move.run_result.diff
    code, result, out = _run(capsys)
    assert "diff" not in result


def test_failure_is_fail_json_with_side_step_and_job(fake_move, capsys):
    error = MoveError("destination", "create", "OpPrereqError: Invalid handshake: Hash didn't match", job_id=21,
                      hint="the clusters do not share the same cluster domain secret",
                      ganeti_error="Invalid handshake: Hash didn't match")
    error.recovery = ["cancelled destination job 22 (create)"]
    error.outcome = moved_outcome()
    fake_move.run_result = error

    code, result, out = _run(capsys)

    assert code == 1
    assert result["failed"] is True
    assert result["msg"] == str(error)
    assert "cluster domain secret" in result["msg"]
    assert result["side"] == "destination"
    assert result["step"] == "create"
    assert result["job_id"] == 21
    assert result["ganeti_error"] == "Invalid handshake: Hash didn't match"
    assert result["recovery"] == ["cancelled destination job 22 (create)"]
    assert result["jobs"] == error.outcome.jobs
    assert result["destination"]["cluster"] == "cluster-b.test"


def test_failure_without_outcome_uses_the_move_outcome(fake_move, capsys):
    fake_move.run_result = MoveError("both", "preflight", "web1.test exists on both")
    code, result, out = _run(capsys)
    assert code == 1
    assert (result["side"], result["step"], result["job_id"]) == ("both", "preflight", None)
    assert result["jobs"] == []


@pytest.mark.parametrize("failing", [False, True], ids=["success", "failure"])
def test_passwords_never_appear_in_the_output(fake_move, capsys, monkeypatch, tmp_path, failing):
    password_file = tmp_path / "dst-password"
    password_file.write_text(FILE_PW + "\n")
    monkeypatch.setenv("GANETI_PASSWORD", ENV_PW)
    monkeypatch.setenv("GANETI_USERNAME", "mover")
    # Text that carries the passwords (as a server echoing its input would): the module masks them, although
    # neither is a no_log task value (the source's comes from the environment, the destination's from a file).
    echo = "server said: %s / %s" % (ENV_PW, FILE_PW)
    if failing:
        error = MoveError("source", "export", "the export did not transfer every disk; " + echo, job_id=13)
        error.recovery = ["removed the incomplete destination instance web1.test (job 24)"]
        fake_move.run_result = error
    else:
        fake_move.run_result = moved_outcome()
        fake_move.run_result.message = echo

    code, result, out = run_module(ganeti_move_instance.main, {
        "name": "web1.test", "source": {"host": "cluster-a.test"},
        "destination": {"host": "cluster-b.test", "username": "other", "password_file": str(password_file)},
    }, capsys)

    assert code == (1 if failing else 0)
    assert fake_move.instances[0].source._password == ENV_PW  # the credentials did reach the clients
    for secret in SECRETS:
        assert secret not in out
    assert "server said: ******** / ********" in result["msg"]
    assert "password" not in result["source"] and "password" not in result["destination"]


def test_task_password_is_not_printed(fake_move, capsys):
    fake_move.run_result = moved_outcome()
    code, result, out = _run(capsys)
    assert code == 0
    assert TASK_PW not in out


def test_iallocator_and_primary_node_are_mutually_exclusive(fake_move, capsys):
    code, result, out = _run(capsys, iallocator="hail", primary_node="node1.cluster-b.test")
    assert code == 1
    assert result["failed"] is True
    assert "mutually exclusive" in result["msg"]
    assert "iallocator" in result["msg"] and "primary_node" in result["msg"]
    assert fake_move.instances == []
    assert TASK_PW not in out


def test_secondary_node_needs_primary_node(fake_move, capsys):
    code, result, out = _run(capsys, secondary_node="node2.cluster-b.test")
    assert code == 1
    assert "primary_node" in result["msg"]
    assert fake_move.instances == []


@pytest.mark.parametrize("option, value", [("timeout", 0), ("shutdown_timeout", -1), ("opportunistic_tries", -1),
                                           ("opportunistic_delay", -5)])
def test_numbers_are_checked(fake_move, capsys, option, value):
    code, result, out = _run(capsys, **{option: value})
    assert code == 1
    assert result["msg"].startswith("%s must be at least" % option)
    assert (result["side"], result["step"]) == ("input", "arguments")
    assert fake_move.instances == []


def test_connection_option_errors_fail_before_any_move(fake_move, capsys):
    code, result, out = _run(capsys, destination={"port": 25080})
    assert code == 1
    assert "destination.host is required" in result["msg"]
    assert (result["side"], result["step"]) == ("input", "arguments")
    assert fake_move.instances == []
    assert TASK_PW not in out


def test_bad_password_file_fails_without_showing_it(fake_move, capsys, tmp_path):
    password_file = tmp_path / "two-lines"
    password_file.write_text("%s\n%s\n" % (FILE_PW, FILE_PW))
    code, result, out = _run(capsys, source={"host": "cluster-a.test", "username": "u",
                                             "password_file": str(password_file)})
    assert code == 1
    assert "2 non-empty lines" in result["msg"]
    assert result["msg"].startswith("source:")
    assert FILE_PW not in out
    assert fake_move.instances == []


def test_destination_password_file_reaches_the_destination_client(fake_move, capsys, tmp_path):
    password_file = tmp_path / "dst-password"
    password_file.write_text(FILE_PW + "\n")
    fake_move.run_result = moved_outcome()

    code, result, out = _run(capsys, destination={"host": "cluster-b.test", "password_file": str(password_file)})

    assert code == 0
    move = fake_move.instances[0]
    assert move.source._password == TASK_PW
    assert move.destination._password == FILE_PW


NON_ASCII_PW = "p\u00e4ssw\u00f6rd-never-printed-4"


@pytest.mark.parametrize("how", ["task", "environment"])
def test_non_ascii_password_fails_before_any_move_without_showing_it(fake_move, capsys, monkeypatch, how):
    if how == "task":
        source = {"host": "cluster-a.test", "username": "mover", "password": NON_ASCII_PW}
    else:
        monkeypatch.setenv("GANETI_SOURCE_PASSWORD", NON_ASCII_PW)
        source = {"host": "cluster-a.test", "username": "mover"}

    code, result, out = run_module(ganeti_move_instance.main, {
        "name": "web1.test", "source": source, "destination": {"host": "cluster-b.test"}}, capsys)

    assert code == 1
    assert result["msg"].startswith("source: the password contains non-ASCII characters")
    assert (result["side"], result["step"]) == ("input", "arguments")
    assert fake_move.instances == []
    for text in (out, result["msg"]):
        assert NON_ASCII_PW not in text
        assert "\u00e4" not in text and "\u00f6" not in text
        assert "\\u00e4" not in text and "\\u00f6" not in text


def test_name_check_reaches_the_move(fake_move, capsys):
    fake_move.run_result = moved_outcome()
    _run(capsys, name="Web1.Test.")
    _run(capsys, name_check=False)
    first, second = fake_move.instances
    assert (first.spec.name, first.spec.destination_name, first.spec.name_check) == ("web1.test", "web1.test", True)
    assert second.spec.name_check is False


# ------------------------------------------------------------ one source of truth
# The role move_instances (and the shipped playbook, which runs it) passes every module option: see
# tests/unit/roles/test_move_instances_specs.py.


def test_documented_states_and_evidence_are_the_ones_the_move_reports():
    import yaml
    from ansible_collections.ganeti.rapi.plugins.module_utils.move_model import EVIDENCE, STATES
    returned = yaml.safe_load(ganeti_move_instance.RETURN)
    for key, known in (("state", STATES), ("evidence", EVIDENCE)):
        documented = [line.split()[0] for line in returned[key]["description"] if line.startswith("V(")]
        assert documented == ["V(%s)" % name for name in known], key


@pytest.mark.parametrize("failing", [False, True], ids=["success", "failure"])
def test_every_result_key_is_documented(fake_move, capsys, failing):
    import yaml
    if failing:
        error = MoveError("source", "export", "failed", job_id=13, ganeti_error="boom")
        error.outcome = moved_outcome()
        fake_move.run_result = error
    else:
        fake_move.run_result = moved_outcome()
    code, result, out = _run(capsys, _ansible_diff=True)
    documented = yaml.safe_load(ganeti_move_instance.RETURN)
    # what AnsibleModule adds by itself
    assert set(result) - {"failed", "invocation", "warnings", "deprecations"} <= set(documented)
    # the destination is documented as having the source's keys
    for side in ("source", "destination"):
        assert set(result[side]) == set(documented["source"]["contains"]), side


@pytest.mark.parametrize("failing", [False, True], ids=["success", "failure"])
def test_no_result_key_is_one_that_async_status_reads(fake_move, capsys, failing):
    # async_status takes a result with "started" for a job still running, and "finished"/"ansible_job_id"
    # are its own: a module result with one of them never finishes under async
    if failing:
        error = MoveError("source", "export", "failed")
        error.outcome = moved_outcome()
        fake_move.run_result = error
    else:
        fake_move.run_result = moved_outcome()
    code, result, out = _run(capsys)
    assert not {"started", "finished", "ansible_job_id", "results_file"} & set(result)
