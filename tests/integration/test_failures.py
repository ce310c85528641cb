# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fault and bad-input matrix (docs/docsite/rst/failures.rst) on the real lab.

Each test asserts the end state of both clusters, not only the module's
answer: exactly one good copy, its admin and run state, its disk bytes, and
no job submitted where the failure can be found up front.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import LAB_DIR, connection, lab, move_task, play

PASSWORD_FILE = os.path.join(LAB_DIR, "rapi-password")


def password():
    with open(PASSWORD_FILE) as handle:
        return handle.read().strip()


def assert_untouched(cluster_a, cluster_b, name, md5, jobs=None):
    """The source copy is running with its bytes, the destination has nothing, and (optionally) no new job."""
    on_a = cluster_a.instances()
    assert name in on_a and on_a[name]["status"] == "running", on_a.get(name)
    assert name not in cluster_b.instances()
    assert cluster_a.disk_md5(name) == md5
    if jobs is not None:
        assert (cluster_a.job_count(), cluster_b.job_count()) == jobs


INPUT_CASES = [
    # (id, task options or connection changes, words the message must contain, side)
    ("unknown-destination-node", {"primary_node": "node9.cluster-b.test"}, "node node9.cluster-b.test does not exist",
     "destination"),
    ("iallocator-and-node", {"primary_node": "node1.cluster-b.test", "iallocator": "hail"},
     "mutually exclusive", None),
    ("opportunistic-without-iallocator", {"opportunistic_tries": 2, "primary_node": "node1.cluster-b.test"},
     "opportunistic_tries needs an iallocator", "input"),
    ("too-many-nics", {"nics": [{}, {"link": "br0"}]}, "nics has 2 entries", "input"),
    ("disabled-disk-template", {"disk_template": "plain"}, "disk template plain is not enabled", "destination"),
    ("bad-port", {"source": {"port": 70000}}, "source.port must be between 1 and 65535", "input"),
    ("empty-host", {"source": {"host": " "}}, "source.host is empty", "input"),
    ("missing-password-file", {"source": {"password_file": "/nonexistent/pw"}}, "cannot read password_file",
     "input"),
    ("several-lines-password-file", {"source": {"password_file": "@MULTI@"}}, "2 non-empty lines", "input"),
    ("unknown-beparam", {"beparams": {"memory_mb": 1}}, "unknown parameter(s) memory_mb", "input"),
    ("compress-not-allowed", {"compress": "lzop"}, "compress lzop is not allowed", "source"),
]


@pytest.mark.parametrize("case", INPUT_CASES, ids=[c[0] for c in INPUT_CASES])
def test_bad_input_fails_before_any_job(runner, instances, cluster_a, cluster_b, tmp_path, case):
    label, options, words, side = case
    name = instances.create(cluster_a)
    md5 = cluster_a.disk_md5(name)
    jobs = (cluster_a.job_count(), cluster_b.job_count())
    multi = tmp_path / "multi"
    multi.write_text("one\ntwo\n")
    source, destination = connection(cluster_a), connection(cluster_b)
    options = json.loads(json.dumps(options).replace("@MULTI@", str(multi)))
    source.update(options.pop("source", {}))
    result = runner.playbook(play(move_task(name, source, destination, **options)))
    move = result.registered["move"]
    assert move["failed"] is True, result
    assert words in move["msg"], move["msg"]
    if side:
        assert move["side"] == side
    assert not move.get("jobs")
    assert_untouched(cluster_a, cluster_b, name, md5, jobs)


def test_destination_name_taken_touches_neither(runner, instances, cluster_a, cluster_b):
    name = instances.create(cluster_a)
    taken = instances.create(cluster_b)
    md5s = (cluster_a.disk_md5(name), cluster_b.disk_md5(taken))
    result = runner.playbook(play(move_task(name, connection(cluster_a), connection(cluster_b),
                                            destination_name=taken)))
    move = result.registered["move"]
    assert move["failed"] is True and move["side"] == "destination" and move["changed"] is False
    assert "%s on the destination cluster %s is not a copy of %s" % (taken, cluster_b.name, name) in move["msg"]
    assert "neither instance was touched" in move["msg"] and "choose another destination_name" in move["msg"]
    assert (cluster_a.disk_md5(name), cluster_b.disk_md5(taken)) == md5s
    assert cluster_b.instances()[taken]["status"] == "running"


@pytest.mark.parametrize("who", ["wrong-password", "read-only-user", "unreachable-host", "no-listener"])
def test_access_failures_name_the_side_and_change_nothing(runner, instances, cluster_a, cluster_b, who):
    name = instances.create(cluster_a)
    md5 = cluster_a.disk_md5(name)
    jobs = (cluster_a.job_count(), cluster_b.job_count())
    destination = connection(cluster_b)
    expect = {
        "wrong-password": ({"password": "not-the-password", "password_file": None}, "HTTP 401", "username and password"),
        "read-only-user": ({"username": "labro", "password_file": os.path.join(LAB_DIR, "rapi-ro-password")},
                           "HTTP 403", "'write' option"),
        "unreachable-host": ({"host": "no-such-cluster.invalid"}, "cannot connect", "Check the host name"),
        "no-listener": ({"port": 1}, "cannot connect", "Check the host name"),
    }[who]
    destination.update(expect[0])
    if destination.get("password_file") is None:
        destination.pop("password_file")
    result = runner.playbook(play(move_task(name, connection(cluster_a), destination)))
    move = result.registered["move"]
    assert move["failed"] is True and move["side"] == "destination", move
    assert expect[1] in move["msg"] and expect[2] in move["msg"], move["msg"]
    assert "not-the-password" not in result.output and password() not in result.output
    assert_untouched(cluster_a, cluster_b, name, md5, jobs)


def test_different_domain_secrets(runner, instances, cluster_a, cluster_b):
    name = instances.create(cluster_a)
    md5 = cluster_a.disk_md5(name)
    lab("set-domain-secret", "b", "random")
    try:
        result = runner.playbook(play(move_task(name, connection(cluster_a), connection(cluster_b))))
    finally:
        lab("set-domain-secret", "b", "shared")
    move = result.registered["move"]
    assert move["failed"] is True
    assert (move["side"], move["step"]) == ("destination", "create")
    assert move["job_id"] in [j["id"] for j in move["jobs"] if j["operation"] == "create"]
    assert "Hash didn't match" in move["ganeti_error"]
    assert "cluster domain secret" in move["msg"] and "gnt-cluster renew-crypto" in move["msg"]
    assert_untouched(cluster_a, cluster_b, name, md5)


def test_destination_refusing_placement(runner, instances, cluster_a, cluster_b):
    name = instances.create(cluster_a)
    md5 = cluster_a.disk_md5(name)
    # more memory than this machine has: the destination's iallocator refuses it
    result = runner.playbook(play(move_task(name, connection(cluster_a), connection(cluster_b),
                                            beparams={"maxmem": 60000, "minmem": 60000})))
    move = result.registered["move"]
    assert move["failed"] is True, result
    assert (move["side"], move["step"]) == ("destination", "create")
    assert move["ganeti_error"] and move["job_id"] is not None
    assert "Fix:" in move["msg"]
    assert_untouched(cluster_a, cluster_b, name, md5)


def start_playbook(runner, plays):
    """ansible-playbook in its own session, so that the whole controller can be killed at once."""
    runner.count += 1
    base = runner.tmp / ("bg%d" % runner.count)
    base.mkdir()
    (base / "results").mkdir()
    book = base / "play.yml"
    book.write_text(json.dumps(plays).replace("@RESULTS@", str(base / "results")))
    command = [os.path.join(os.environ.get("ANSIBLE_BIN_DIR") or os.path.dirname(sys.executable),
                            "ansible-playbook"), str(book), "-i", "localhost,", "-c", "local"]
    return subprocess.Popen(command, env=runner.env(), cwd=str(base), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def kill_tree(pid):
    """SIGKILL a process and all its descendants: Ansible's workers run in sessions of their own."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(current)], capture_output=True, text=True,
                                  check=False).stdout.split()
        todo.extend(int(child) for child in children)
    for victim in found:
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wait_for_job(cluster, summary, timeout=120):
    """Poll the cluster's job list until a job with this summary appears; its id."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        out = cluster.gnt("gnt-job", "list", "--no-headers", "-o", "id,summary").stdout
        for line in out.splitlines():
            job_id, text = line.split(None, 1)
            if text.strip() == summary:
                return job_id
        time.sleep(0.2)
    raise AssertionError("no job %s on cluster %s" % (summary, cluster.key))


def test_rapi_daemon_restart_during_move(runner, instances, cluster_a, cluster_b):
    name = instances.create(cluster_a)
    md5 = cluster_a.disk_md5(name)
    proc = start_playbook(runner, play(move_task(name, connection(cluster_a), connection(cluster_b))))
    try:
        create = wait_for_job(cluster_b, "INSTANCE_CREATE(%s)" % name)
        cluster_b.gnt("/usr/lib/ganeti/daemon-util", "stop", "ganeti-rapi")
        stopped = time.time()
        # The create was unfinished when the RAPI went away: the module could learn its end only by waiting on
        # it through the restarted RAPI, so the outage overlapped that wait.
        at_stop = dict((job_id, status) for job_id, status, summary in cluster_b.jobs())[create]
        time.sleep(3)
        running_during_outage = proc.poll() is None
        cluster_b.gnt("/usr/lib/ganeti/daemon-util", "start", "ganeti-rapi")
        restarted = time.time()
        assert proc.wait(timeout=600) == 0
    finally:
        if proc.poll() is None:
            kill_tree(proc.pid)
    assert at_stop in ("queued", "waiting", "running") and running_during_outage, at_stop
    result = json.loads(next((runner.tmp / ("bg%d" % runner.count) / "results").iterdir()).read_text())
    assert result.get("failed") is not True, result
    assert result["state"] == "moved"
    # the same create job followed to its end, not a second one submitted after the outage
    assert [(j["id"], j["status"]) for j in result["jobs"] if j["operation"] == "create"] == [(int(create), "success")]
    # The outage lies within the steps that follow the destination's create job, from its submission to its end
    # (create: until its endpoints; export and import: until the job ends), by the module's own clock.
    begin, windows = result["start_ts"], {}
    for step in result["steps"]:
        windows.setdefault(step["name"], [begin, begin + step["seconds"]])[1] = begin + step["seconds"]
        begin += step["seconds"]
    assert windows["create"][0] - 0.5 <= stopped and restarted <= windows["import"][1] + 0.5, (stopped, restarted,
                                                                                               windows)
    assert name not in cluster_a.instances() and cluster_b.instances()[name]["status"] == "running"
    assert cluster_b.disk_md5(name) == md5


@pytest.mark.parametrize("kill_at", ["create", "export"])
def test_controller_killed_mid_move_then_rerun_finishes(runner, instances, cluster_a, cluster_b, kill_at):
    name = instances.create(cluster_a)
    md5 = cluster_a.disk_md5(name)
    # shutdown_timeout 0: a create left listening gives up after the listen timeout alone (180 s, or the lab's
    # LAB_RIE_CONNECT_TIMEOUT), without the 120 s Ganeti adds for the shutdown
    proc = start_playbook(runner, play(move_task(name, connection(cluster_a), connection(cluster_b),
                                                 shutdown_timeout=0)))
    try:
        if kill_at == "create":
            wait_for_job(cluster_b, "INSTANCE_CREATE(%s)" % name)
        else:
            wait_for_job(cluster_a, "BACKUP_EXPORT(%s)" % name)
    finally:
        kill_tree(proc.pid)  # the whole controller: playbook, workers, module
        proc.wait()

    again = runner.playbook(play(move_task(name, connection(cluster_a), connection(cluster_b))))
    move = again.registered["move"]
    assert move.get("failed") is not True, again
    if kill_at == "create":
        # the destination waited for data nobody sends: this run waited for that job, never acted on it,
        # removed what it left, and moved the instance itself
        assert move["state"] == "moved" and move["changed"] is True
        assert any(j["operation"] == "create" for j in move["waited_for"]), move
    else:
        # The export ran on by itself and finished the earlier run's move: this run submitted no move job of its
        # own (it only read, and perhaps waited), and each cluster ran exactly one move job of each kind.
        assert move["state"] in ("already_moved", "moved"), move
        assert [j["operation"] for j in move["jobs"]] in ([], ["instance-info"]), move["jobs"]
        assert move["state"] == "already_moved" or any(j["operation"] == "export" for j in move["waited_for"]), move
        for kind, cluster in (("INSTANCE_CREATE", cluster_b), ("BACKUP_PREPARE", cluster_a),
                              ("BACKUP_EXPORT", cluster_a)):
            summaries = [summary for job_id, status, summary in cluster.jobs()]
            assert summaries.count("%s(%s)" % (kind, name)) == 1, (kind, summaries)
    assert name not in cluster_a.instances()
    assert cluster_b.instances()[name]["status"] == "running"
    assert cluster_b.disk_md5(name) == md5


def test_no_secret_in_any_output_with_vvvv(runner, instances, cluster_a, cluster_b):
    name = instances.create(cluster_a)
    secret = password()
    good = connection(cluster_a, password=secret)
    del good["password_file"]
    plays = play(move_task(name, good, connection(cluster_b)) + move_task(name, good, connection(cluster_b, port=1),
                                                                          register="failing"))
    result = runner.playbook(plays, args=["-vvvv"])
    assert result.registered["move"]["state"] == "moved"
    assert result.registered["failing"]["failed"] is True and "cannot connect" in result.registered["failing"]["msg"]
    assert secret not in result.output
    assert "Authorization" not in result.output and "Basic " not in result.output


def test_no_secret_from_environment_even_with_ansible_debug(runner, instances, cluster_a, cluster_b):
    # ANSIBLE_DEBUG makes ansible-core print every task argument: secrets from the
    # environment (or a password_file) are never arguments, so they stay hidden.
    name = instances.create(cluster_a)
    secret = password()
    source = connection(cluster_a)
    del source["password_file"]
    del source["username"]
    result = runner.playbook(play(move_task(name, source, connection(cluster_b, port=1))), args=["-vvvv"],
                             env={"ANSIBLE_DEBUG": "1", "GANETI_USERNAME": "lab", "GANETI_PASSWORD": secret})
    failed = result.registered["move"]
    assert failed["failed"] is True and failed["side"] == "destination"  # the source accepted the credentials
    assert secret not in result.output
    assert "Authorization" not in result.output and "Basic " not in result.output
