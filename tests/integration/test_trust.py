# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Trust on the real lab: cluster identity, names, evidence, deadlines and concurrent runs (docs/docsite/rst/failures.rst).

Each test asserts both clusters' end state (instance lists, run state, disk
bytes), the job counts, and the words of msg an operator acts on.
"""

import json
import os
import subprocess
import time

import pytest

from conftest import BIN, connection, move_task, play

GRACE = 5  # TIMEOUT_GRACE in plugins/module_utils/move_model.py


def untouched(cluster_a, cluster_b, name, md5, jobs):
    on_a = cluster_a.instances()
    assert on_a[name]["status"] == "running", on_a.get(name)
    assert cluster_a.disk_md5(name) == md5
    assert (cluster_a.job_count(), cluster_b.job_count()) == jobs


# ===================================================================== identity
@pytest.mark.parametrize("how", ["same-address", "other-name", "copy-with-new-name"])
def test_one_cluster_as_source_and_destination_is_refused_before_any_job(runner, instances, cluster_a, cluster_b,
                                                                         how):
    name = instances.create(cluster_a)
    md5 = cluster_a.disk_md5(name)
    jobs = (cluster_a.job_count(), cluster_b.job_count())
    options = {}
    destination = connection(cluster_a)
    if how != "same-address":
        destination["host"] = "localhost"  # the lab certificate lists localhost: the same cluster, another name
    if how == "copy-with-new-name":
        options = {"destination_name": "copy-" + name, "keep_source": True, "nics": [{"mac": "generate"}]}

    result = runner.playbook(play(move_task(name, connection(cluster_a), destination, **options)))

    move = result.registered["move"]
    assert move["failed"] is True and move["changed"] is False
    assert (move["side"], move["step"]) == ("input", "preflight")
    assert "are the same cluster, %s" % cluster_a.name in move["msg"]
    assert "gnt-instance rename" in move["msg"] and "gnt-instance move" in move["msg"]
    assert move["jobs"] == []
    untouched(cluster_a, cluster_b, name, md5, jobs)
    assert [n for n in cluster_a.instances() if n.startswith("copy-")] == []


# ===================================================================== evidence
@pytest.mark.parametrize("keep_source", [True, False])
def test_an_unrelated_instance_of_the_same_name_is_not_taken_for_the_copy(runner, instances, cluster_a, cluster_b,
                                                                          keep_source):
    name = instances.create(cluster_a, size="32M")
    md5 = cluster_a.disk_md5(name)
    other = instances.create_named(cluster_b, name, size="64M")
    other_md5 = cluster_b.disk_md5(other)
    jobs = (cluster_a.job_count(), cluster_b.job_count())

    result = runner.playbook(play(move_task(name, connection(cluster_a), connection(cluster_b),
                                            keep_source=keep_source)))

    move = result.registered["move"]
    assert move["failed"] is True and move["changed"] is False, result
    assert "is not a copy of %s" % name in move["msg"]
    assert "disk sizes [32] MiB on the source, [64] MiB on the destination" in move["msg"]
    assert "MAC" in move["msg"]
    assert "choose another destination_name" in move["msg"]
    untouched(cluster_a, cluster_b, name, md5, jobs)
    assert cluster_b.disk_md5(other) == other_md5


def test_copy_then_rerun_is_already_copied_with_the_jobs_as_evidence(runner, instances, cluster_a, cluster_b):
    name = instances.create(cluster_a)
    md5 = cluster_a.disk_md5(name)
    tasks = (move_task(name, connection(cluster_a), connection(cluster_b), register="first", keep_source=True)
             + move_task(name, connection(cluster_a), connection(cluster_b), register="again", keep_source=True))
    result = runner.playbook(play(tasks))

    first, again = result.registered["first"], result.registered["again"]
    assert (first["state"], first["changed"]) == ("copied", True), result
    assert first["msg"].startswith("%s copied to %s" % (name, cluster_b.name))
    assert (again["state"], again["evidence"], again["changed"]) == ("already_copied", "jobs", False)
    assert again["jobs"] == []
    assert cluster_a.instances()[name]["status"] == "running" and cluster_b.instances()[name]["status"] == "running"
    assert cluster_a.disk_md5(name) == md5 == cluster_b.disk_md5(name)


# ======================================================================== names
def test_a_short_name_moves_under_the_canonical_name(runner, instances, cluster_a, cluster_b):
    name = instances.create(cluster_a)
    md5 = cluster_a.disk_md5(name)
    short = name.split(".")[0]

    result = runner.playbook(play(move_task(short, connection(cluster_a), connection(cluster_b))))

    move = result.registered["move"]
    assert move.get("failed") is not True, result
    assert move["state"] == "moved" and move["source"]["instance"] == name
    assert move["destination"]["instance"] == name
    assert name not in cluster_a.instances()
    assert cluster_b.instances()[name]["status"] == "running" and short not in cluster_b.instances()
    assert cluster_b.disk_md5(name) == md5


def test_a_short_destination_name_is_refused_before_any_job(runner, instances, cluster_a, cluster_b):
    name = instances.create(cluster_a)
    md5 = cluster_a.disk_md5(name)
    jobs = (cluster_a.job_count(), cluster_b.job_count())

    result = runner.playbook(play(move_task(name, connection(cluster_a), connection(cluster_b),
                                            destination_name="renamed")))

    move = result.registered["move"]
    assert move["failed"] is True and move["side"] == "input"
    assert "the destination name renamed is not fully qualified" in move["msg"]
    assert "renamed.test" in move["msg"] and "name_check: false" in move["msg"]
    untouched(cluster_a, cluster_b, name, md5, jobs)


# ==================================================================== the diff
def test_check_diff_shows_both_clusters_by_name_and_the_changes(runner, instances, cluster_a, cluster_b):
    name = instances.create(cluster_a)
    jobs = (cluster_a.job_count(), cluster_b.job_count())
    result = runner.playbook(play(move_task(name, connection(cluster_a), connection(cluster_b),
                                            beparams={"maxmem": 256}, nics=[{"mac": "generate"}], start=False)),
                             args=["--check", "--diff"])

    move = result.registered["move"]
    assert move["state"] == "would_move", result
    before, after = move["diff"]["before"], move["diff"]["after"]
    assert (before["cluster"], after["cluster"]) == (cluster_a.name, cluster_b.name)
    assert (before["primary_node"], after["primary_node"]) == (cluster_a.node, "chosen by iallocator hail")
    assert before["beparams"].get("maxmem") != 256 and after["beparams"]["maxmem"] == 256
    assert before["nics"][0]["mac"].startswith("aa:00:00:") and after["nics"][0]["mac"] == "generate"
    assert (before["admin_state"], after["admin_state"]) == ("up", "down")
    assert "cluster-b.test" in result.stdout and "chosen by iallocator" in result.stdout  # printed by --diff
    assert (cluster_a.job_count(), cluster_b.job_count()) == jobs


# ============================================================ concurrent runs
def test_three_runs_of_the_same_move_at_once(runner, instances, cluster_a, cluster_b):
    name = instances.create(cluster_a)
    md5 = cluster_a.disk_md5(name)
    procs, dirs = [], []
    for index in range(3):
        base = runner.tmp / ("parallel%d" % index)
        (base / "results").mkdir(parents=True)
        book = base / "play.yml"
        book.write_text(json.dumps(play(move_task(name, connection(cluster_a), connection(cluster_b))))
                        .replace("@RESULTS@", str(base / "results")))
        dirs.append(base)
        procs.append(subprocess.Popen([os.path.join(BIN, "ansible-playbook"), str(book), "-i", "localhost,",
                                       "-c", "local"], env=runner.env(), cwd=str(base), stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True))
    outputs = [proc.communicate(timeout=900)[0] for proc in procs]
    results = [json.loads((base / "results" / "move.json").read_text()) for base in dirs]

    assert [r.get("failed", False) for r in results] == [False] * 3, outputs
    assert sorted(r["state"] for r in results) == ["already_moved", "already_moved", "moved"]
    mover = [r for r in results if r["state"] == "moved"][0]
    mover_jobs = set((j["side"], j["id"]) for j in mover["jobs"])
    for loser in (r for r in results if r["state"] == "already_moved"):
        assert loser["changed"] is False and loser["evidence"] == "jobs"
        # it acted on none of the winner's jobs, and says whose they were
        assert not any(j["operation"] in ("export", "remove", "startup") for j in loser["jobs"])
        waited = set((j["side"], j["id"]) for j in loser["waited_for"])
        assert waited and waited <= mover_jobs | set((j["side"], j["id"]) for r in results for j in r["jobs"])
        assert "another run" in loser["msg"]
    assert not any("choose another destination_name" in text for text in outputs)
    assert name not in cluster_a.instances()
    assert cluster_b.instances()[name]["status"] == "running"
    assert cluster_b.disk_md5(name) == md5


# =================================================================== deadlines
TIMEOUTS = [1, 2, 3, 5, 8]


def test_small_timeouts_keep_their_deadline_and_reruns_finish(runner, instances, cluster_a, cluster_b):
    names = [instances.create(cluster_a) for dummy in TIMEOUTS]
    md5s = dict((name, cluster_a.disk_md5(name)) for name in names)
    inventory = "[cut]\n%s\n\n[cut:vars]\nansible_connection=local\n" % "\n".join(
        "%s move_timeout=%d" % (name, seconds) for name, seconds in zip(names, TIMEOUTS))
    tasks = [
        {"name": "move", "ganeti.rapi.ganeti_move_instance": {
            "name": "{{ inventory_hostname }}", "source": connection(cluster_a),
            "destination": connection(cluster_b), "timeout": "{{ move_timeout | int }}", "shutdown_timeout": 0},
         "delegate_to": "localhost", "register": "move", "ignore_errors": True},
        {"name": "save", "ansible.builtin.copy": {"content": "{{ move | to_json }}",
                                                  "dest": "@RESULTS@/{{ inventory_hostname }}.json"},
         "delegate_to": "localhost"},
    ]
    cut = runner.playbook(play(tasks, hosts="cut"), inventory=inventory, args=["-f", str(len(names))])

    for name, seconds in zip(names, TIMEOUTS):
        move = cut.registered[name]
        print("timeout %ss: %s after %.3fs, step %s"
              % (seconds, move.get("state") or "failed", move["duration"], move.get("step")))
        assert move["duration"] <= seconds + GRACE, move
        deadline = move["start_ts"] + seconds
        for job in move["jobs"]:
            cluster = cluster_a if job["side"] == "source" else cluster_b
            received = cluster.job(job["id"])["received_ts"]
            assert received[0] + received[1] / 1e6 <= deadline, (job, deadline)
        if move.get("failed"):
            changing = [j for j in move["jobs"] if j["operation"] in ("create", "export") and j["status"] != "canceled"]
            assert move["changed"] is bool(changing), move
            for line in move["recovery"]:
                assert not ("could not cancel" in line and "running" in line), line
        else:
            assert move["state"] == "moved" and move["changed"] is True
    # Every job of the cut runs ends by itself; then each instance is in one place, running
    for name in names:
        cluster_a.wait_for_jobs_of(name)
        cluster_b.wait_for_jobs_of(name)
    for name in names:
        move = cut.registered[name]
        for line in move.get("recovery") or []:
            if " ended with status " in line:
                job_id, status = line.split(" job ")[1].split()[0], line.split(" ended with status ")[1].split()[0]
                side = cluster_a if line.startswith("source") else cluster_b
                assert side.job(job_id)["status"] == status, line
            if line.startswith("cancelled "):
                side = cluster_a if line.startswith("cancelled source") else cluster_b
                assert side.job(line.split(" job ")[1].split()[0])["status"] == "canceled", line
        on_a, on_b = cluster_a.instances().get(name), cluster_b.instances().get(name)
        if on_a is not None:
            assert on_a["status"] == "running", (name, on_a)  # never left stopped
        else:
            assert on_b is not None and cluster_b.disk_md5(name) == md5s[name], (name, on_b)  # the data moved

    rerun = "[cut]\n%s\n\n[cut:vars]\nansible_connection=local\nmove_timeout=900\n" % "\n".join(names)
    again = runner.playbook(play(tasks, hosts="cut"), inventory=rerun, args=["-f", str(len(names))])
    for name in names:
        move = again.registered[name]
        assert move.get("failed") is not True, move
        assert move["state"] in ("moved", "already_moved")
        assert move["changed"] is (move["state"] == "moved")
        assert name not in cluster_a.instances()
        on_b = cluster_b.instances()[name]
        assert (on_b["status"], on_b["admin_state"]) == ("running", "up")  # the admin state it had
        assert cluster_b.disk_md5(name) == md5s[name]


def test_a_run_cut_while_the_destination_listens_is_finished_by_the_next_run(runner, instances, cluster_a,
                                                                             cluster_b):
    # The first run's create waits for data that never comes (its controller was cut off before the export);
    # the next run must not send the export for it, and must not leave the instance stopped.
    name = instances.create(cluster_a)
    md5 = cluster_a.disk_md5(name)
    first = runner.playbook(play(move_task(name, connection(cluster_a), connection(cluster_b), timeout=2,
                                           shutdown_timeout=0)))
    cut = first.registered["move"]
    assert cut["failed"] is True and "timeout" in cut["msg"]
    started = time.time()

    again = runner.playbook(play(move_task(name, connection(cluster_a), connection(cluster_b))))

    move = again.registered["move"]
    assert move.get("failed") is not True, again
    assert move["state"] == "moved" and move["changed"] is True
    create = [j for j in cut["jobs"] if j["operation"] == "create"]
    if create:  # the cut run's create was waited for, not acted on
        assert (("destination", create[0]["id"]) in
                [(j["side"], j["id"]) for j in move["waited_for"]]), move
        assert "waited for another run's jobs" in move["msg"]
        print("the next run waited %.0f s for the cut run's create" % (time.time() - started))
    assert name not in cluster_a.instances()
    assert (cluster_b.instances()[name]["status"], cluster_b.instances()[name]["admin_state"]) == ("running", "up")
    assert cluster_b.disk_md5(name) == md5
