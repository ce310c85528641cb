# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A run that finds another run's move of the same instance (live, interrupted or finished), and timeouts.

The earlier run's jobs are rows in the fake clusters' ``job_list`` (what
``PUT /2/query/job`` answers) and scripted ``/wait`` answers in their
``jobs`` (what following them shows).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.ganeti.rapi.plugins.module_utils.move_model import GRACE_REQUEST_TIMEOUT, TIMEOUT_GRACE
from ansible_collections.ganeti.rapi.plugins.module_utils.rapi_client import RapiError
from ansible_collections.ganeti.rapi.tests.unit.plugins.module_utils.fake_rapi import (
    failure,
    CREATE_JOB, DEST_ROW, EXPORT_JOB, IMPINFO, IMPORT_WARNING, INFO_JOB, NAME, PREPARE_JOB, REMOVE_JOB, SOURCE_ROW,
    SOURCE_ROW_STOPPED, Scenario, answer, log_entry,
)

# The earlier run's jobs (ids distinct from the ones Scenario hands out to this run).
EARLIER_PREPARE, EARLIER_EXPORT, EARLIER_CREATE = 90, 91, "150"

EARLIER_EXPINFO = {
    "handshake": [0, "0123456789abcdef0123456789abcdef01234567", "e1e2e3e4e5e6e7e8"],
    "x509_key_name": ["x509-20250101000000-earlier", "9999999999999999999999999999999999999999", "e1e2e3e4e5e6e7e8"],
    "x509_ca": ("X-Ganeti-Signature: e1e2e3e4e5e6e7e8/ffffffffffffffffffffffffffffffffffffffff\n\n"
                "-----BEGIN CERTIFICATE-----\nMIIBearlier\n-----END CERTIFICATE-----\n"),
}
EARLIER_IMPINFO = {
    "disks": [
        ["198.18.0.22", 41001, "d" * 40, "1111111111111111111111111111111111111111", "c1c2c3c4c5c6c7c8"],
        ["198.18.0.22", 41002, "c" * 40, "2222222222222222222222222222222222222222", "c1c2c3c4c5c6c7c8"],
    ],
    "x509_ca": ("X-Ganeti-Signature: c1c2c3c4c5c6c7c8/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\n\n"
                "-----BEGIN CERTIFICATE-----\nMIIBearlierdest\n-----END CERTIFICATE-----\n"),
}
REMOVE_FAILED = ["OpExecError", ["Could not remove instance %s: node1.cluster-a.test unreachable" % NAME]]


# --------------------------------------------------------------- job rows
def create_row(status="running", disks=(64, 128), compress="gzip", ca=None, mode="remote-import"):
    return {"id": EARLIER_CREATE, "status": status, "summary": ["INSTANCE_CREATE(%s)" % NAME],
            "ops": [{"OP_ID": "OP_INSTANCE_CREATE", "instance_name": NAME, "mode": mode,
                     "source_x509_ca": ca or EARLIER_EXPINFO["x509_ca"],
                     "source_handshake": EARLIER_EXPINFO["handshake"], "source_instance_name": NAME,
                     "disks": [{"size": size, "mode": "rw"} for size in disks], "compress": compress}],
            "opresult": [None]}


def prepare_row(ca=None):
    return {"id": EARLIER_PREPARE, "status": "success", "summary": ["BACKUP_PREPARE(%s)" % NAME],
            "ops": [{"OP_ID": "OP_BACKUP_PREPARE", "instance_name": NAME, "mode": "remote"}],
            "opresult": [dict(EARLIER_EXPINFO, x509_ca=ca or EARLIER_EXPINFO["x509_ca"])]}


def export_row(status="running", remove_instance=True):
    return {"id": EARLIER_EXPORT, "status": status, "summary": ["BACKUP_EXPORT(%s)" % NAME],
            "ops": [{"OP_ID": "OP_BACKUP_EXPORT", "instance_name": NAME, "mode": "remote",
                     "x509_key_name": EARLIER_EXPINFO["x509_key_name"], "remove_instance": remove_instance}],
            "opresult": [None]}


# ------------------------------------------------------- /wait answers
REMOTE_IMPORT = log_entry(2, "remote-import", EARLIER_IMPINFO)


def earlier_create(end="success", warning=False, error=None, published=True, running=1):
    """The earlier create as following it shows it: running (published), then its end."""
    end_logs = [log_entry(3, "message", "Disk 0 imported"), log_entry(4, "message", "Disk 1 imported")]
    if warning:
        end_logs = [log_entry(3, "message", "Disk 0 failed to receive data: timeout"),
                    log_entry(4, "message", IMPORT_WARNING)]
    first = [log_entry(1, "message", "creating disks")] + ([copy.deepcopy(REMOTE_IMPORT)] if published else [])
    if end is None:
        return [answer("running", logs=first)]  # runs forever
    return ([answer("running", logs=first)] * running
            + [answer(end, logs=end_logs, result=["node1.cluster-b.test"], error=error)])


def finished_create(end="success", warning=False, error=None):
    """An earlier create that had ended before this run: everything in the first answer."""
    logs = [log_entry(1, "message", "creating disks"), copy.deepcopy(REMOTE_IMPORT)]
    if warning:
        logs += [log_entry(3, "message", "Disk 0 failed to receive data: timeout"),
                 log_entry(4, "message", IMPORT_WARNING)]
    else:
        logs.append(log_entry(3, "message", "Disk 0 imported"))
    return [answer(end, logs=logs, result=["node1.cluster-b.test"], error=error)]


def earlier_export(end="success", result=(True, [True, True]), removing=True, running=2, error=None):
    end_logs = [log_entry(2, "message", "Exporting disk 0"), log_entry(3, "message", "Exporting disk 1")]
    if removing:
        end_logs.append(log_entry(4, "message", "Removing instance %s" % NAME))
    return ([answer("running", logs=[log_entry(1, "message", "Shutting down instance")])] * running
            + [answer(end, logs=end_logs, result=list(result) if result else None, error=error)])


def interrupted(sc, create_status="running", create_answers=None, prepare=True, export_status=None,
                export_answers=None, create_disks=(64, 128)):
    """Both clusters list an earlier run's jobs."""
    sc.destination.job_list = [create_row(create_status, disks=create_disks)]
    sc.destination.jobs[EARLIER_CREATE] = create_answers if create_answers is not None else earlier_create()
    sc.source.job_list = [prepare_row()] if prepare else []
    if export_status is not None:
        sc.source.job_list.append(export_row(export_status))
        sc.source.jobs[EARLIER_EXPORT] = export_answers if export_answers is not None else earlier_export()


def _waits(cluster, job_id):
    return [call for call in cluster.calls if call[0] == "wait" and call[1] == job_id]


def _both(sc):
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    sc.destination.instance(NAME, copy.deepcopy(DEST_ROW))


def _touched_nothing(sc):
    assert sc.submitted() == []
    assert sc.source.cancelled == [] and sc.destination.cancelled == []
    assert not any(call[0] == "cancel_job" for call in sc.source.calls + sc.destination.calls)


# ============================================= another run's jobs: wait, never act
def test_a_running_export_of_another_run_is_waited_for_then_reported(sc):
    interrupted(sc, export_status="running")
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), None)  # there at first; gone once the export ended
    sc.destination.instance(NAME, copy.deepcopy(DEST_ROW))

    outcome = sc.move().run()

    assert (outcome.state, outcome.evidence, outcome.changed) == ("already_moved", "jobs", False)
    assert outcome.instance == DEST_ROW
    _touched_nothing(sc)
    assert [(j["side"], j["id"], j["operation"], j["status"]) for j in outcome.waited_for] == [
        ("source", EARLIER_EXPORT, "export", "success"), ("destination", EARLIER_CREATE, "create", "success")]
    assert outcome.jobs == []
    assert ("moved by source job %s (prepare-export), destination job %s (create), source job %s (export)"
            % (EARLIER_PREPARE, EARLIER_CREATE, EARLIER_EXPORT)) in outcome.message
    assert ("this run waited for another run's jobs first: source job %s (export, success), destination job %s (create, success)"
            % (EARLIER_EXPORT, EARLIER_CREATE)) in outcome.message
    # both jobs were followed to their end before the clusters were looked at again
    events = [e[:3] for e in sc.events]
    last_wait = max(i for i, e in enumerate(events) if e[1] == "wait")
    second_look = [i for i, e in enumerate(events) if e == ("source", "query_instance", NAME)][1]
    assert last_wait < second_look


def test_another_runs_move_that_lost_the_data_is_reported_not_repaired(sc):
    interrupted(sc, export_status="running", create_answers=earlier_create(warning=True))
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), None)
    sc.destination.instance(NAME, copy.deepcopy(DEST_ROW))

    err = failure(sc.move())

    assert (err.side, err.step, err.job_id) == ("destination", "preflight", EARLIER_CREATE)
    assert "is gone from the source" in err.message and "failed to receive data" in err.message
    assert "gnt-instance info" in err.hint and "backup" in err.hint
    assert err.changed is False
    _touched_nothing(sc)
    assert sc.destination.called("remove_instance") == []


def test_another_runs_create_that_fails_is_waited_for_then_this_run_moves(sc):
    # only the source lists the instance; another run's create is queued, runs, then fails (Ganeti removes it)
    refused = ["OpPrereqError", ["not enough memory", "insufficient_resources"]]
    interrupted(sc, create_status="queued",
                create_answers=earlier_create(end="error", published=False, running=2, error=refused))
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), copy.deepcopy(SOURCE_ROW), None)
    sc.destination.instance(NAME, None, None, copy.deepcopy(DEST_ROW))

    outcome = sc.move().run()

    assert sc.destination.cancelled == []  # another run's queued job is never cancelled
    assert len(_waits(sc.destination, EARLIER_CREATE)) == 3
    events = [e[:3] for e in sc.events]
    assert max(i for i, e in enumerate(events) if e == ("destination", "wait", EARLIER_CREATE)) < events.index(
        ("source", "instance_info_job", NAME))
    assert len(sc.submitted()) == 4  # this run's own move, nothing else
    assert (outcome.state, outcome.changed) == ("moved", True)
    assert "this run waited for another run's jobs first: destination job %s (create, error)" % EARLIER_CREATE in outcome.message


def test_timeout_while_another_run_moves_the_instance_touches_nothing():
    sc = Scenario(wait_advance=10.0)
    interrupted(sc, create_status="queued", create_answers=[answer("queued")], export_status="running",
                export_answers=[answer("running")])
    _both(sc)
    waits = _timed_waits(sc)
    deadline = sc.clock.now + 60

    err = failure(sc.move(timeout=60))

    assert err.timed_out is True
    assert (err.side, err.step) == ("both", "wait for another run")
    assert err.message.startswith("another run is moving %s:" % NAME)
    assert "source job %s (export, running)" % EARLIER_EXPORT in err.message
    assert "this run submitted no job and touched nothing" in err.message
    assert "gnt-job watch %s on the source cluster" % EARLIER_EXPORT in err.hint
    assert err.recovery == [] and err.changed is False
    _touched_nothing(sc)
    assert waits and all(started + timeout <= deadline + 1e-6 for dummy, started, timeout in waits)
    assert sc.clock.now <= deadline + TIMEOUT_GRACE


def test_check_mode_with_another_runs_jobs_would_wait(sc):
    interrupted(sc, export_status="running")
    _both(sc)

    outcome = sc.move().check()

    assert (outcome.state, outcome.changed) == ("would_wait", False)
    assert "another run's jobs act on %s" % NAME in outcome.message
    assert "source job %s (export, running)" % EARLIER_EXPORT in outcome.message
    _touched_nothing(sc)
    assert not any(call[0] == "wait" for call in sc.source.calls + sc.destination.calls)


def test_a_lost_create_race_looks_again_and_reports_the_other_runs_move(sc):
    # Both runs looked before either had a job; the other run's create came first.
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), copy.deepcopy(SOURCE_ROW), None)
    sc.destination.instance(NAME, None, copy.deepcopy(DEST_ROW))
    exists = ["OpPrereqError", ["Instance '%s' is already in the cluster" % NAME, "already_exists"]]
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, [answer("error", error=exists)])]
    other_create = create_row("running")
    other_create["received_ts"] = [1800000000, 0]  # after this run started (its wall clock)
    sc.source.job_list = [prepare_row(), export_row("running")]
    sc.source.jobs[EARLIER_EXPORT] = earlier_export()
    sc.destination.jobs[EARLIER_CREATE] = earlier_create()
    # the other run's jobs appear in the lists only after this run's preflight
    lists = {"source": sc.source.job_list, "destination": [other_create]}
    sc.source.job_list, sc.destination.job_list = [], []
    original = sc.destination.create_instance

    def create(body):
        sc.source.job_list, sc.destination.job_list = lists["source"], lists["destination"]
        return original(body)
    sc.destination.create_instance = create

    outcome = sc.move().run()

    assert (outcome.state, outcome.evidence) == ("already_moved", "jobs")
    assert outcome.changed is False
    assert "another run's create of %s (destination job %s) came first" % (NAME, EARLIER_CREATE) in outcome.message
    assert "hint" not in outcome.message and "choose another destination_name" not in outcome.message
    # no second create, and no export to endpoints that are not this run's
    assert len(sc.destination.called("create_instance")) == 1 and sc.source.called("export_instance") == []
    assert sc.source.called("startup_instance") == [] and sc.destination.called("remove_instance") == []


# ======================================================= export sent, source left
def test_earlier_export_sent_every_disk_but_the_source_remains(sc):
    interrupted(sc, create_status="success", create_answers=finished_create(), export_status="error",
                export_answers=earlier_export(end="error", result=None, running=0, error=REMOVE_FAILED))
    _follow_earlier(sc)
    _both(sc)

    err = failure(sc.move())

    assert (err.side, err.step, err.job_id) == ("both", "preflight", EARLIER_EXPORT)
    assert "sent every disk" in err.message
    assert "Could not remove instance" in err.message
    assert "check the destination copy (gnt-instance info %s)" % NAME in err.hint
    assert "gnt-instance remove %s" % NAME in err.hint
    assert err.recovery == []
    _touched_nothing(sc)


@pytest.mark.parametrize("keep_source", [False, True])
def test_earlier_keep_source_copy(sc, keep_source):
    interrupted(sc, create_status="success", create_answers=finished_create(), export_status="success",
                export_answers=earlier_export(removing=False, running=0))
    sc.source.job_list[-1] = export_row("success", remove_instance=False)
    _follow_earlier(sc)
    _both(sc)

    if keep_source:
        outcome = sc.move(keep_source=True).run()
        assert (outcome.state, outcome.evidence, outcome.changed) == ("already_copied", "jobs", False)
        assert "already copied to cluster-b.test" in outcome.message
    else:
        err = failure(sc.move())
        assert err.side == "both"
        assert "copied %s to cluster-b.test with keep_source" % NAME in err.message
        assert "(None)" not in err.message and "removing it failed" not in err.message
    _touched_nothing(sc)


# ============================================================== debris
DEBRIS_CASES = {
    # create ended with import failures, export failed without sending (no "Removing instance")
    "import-failures-export-failed": dict(
        create_status="success", create_answers=finished_create(warning=True), export_status="error",
        export_answers=earlier_export(end="error", result=None, removing=False, running=0,
                                      error=["OpExecError", ["Export failed, errors in disk export: disk(s) 0"]])),
    # create ended with import failures, the export was never submitted
    "import-failures-no-export": dict(create_status="success", create_answers=finished_create(warning=True)),
}


def _follow_earlier(sc):
    """The earlier jobs' rows as the job list shows finished jobs (their logs and results)."""
    for cluster in (sc.source, sc.destination):
        for row in cluster.job_list:
            answers = cluster.jobs.get(row["id"]) or []
            logs = [entry for item in answers for entry in item["log_entries"]]
            if answers:
                row.update(status=answers[-1]["job_info"][0], opresult=answers[-1]["job_info"][2], oplog=[logs])


@pytest.mark.parametrize("case", sorted(DEBRIS_CASES))
def test_earlier_debris_is_removed_then_moved_again(sc, case):
    interrupted(sc, **DEBRIS_CASES[case])
    _follow_earlier(sc)
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), None)
    sc.destination.instance(NAME, copy.deepcopy(DEST_ROW))  # debris at preflight; the new copy at verify
    sc.destination.script("remove_instance", REMOVE_JOB, [answer("running"), answer("success")])

    outcome = sc.move().run()

    assert sc.destination.called("remove_instance") == [("remove_instance", NAME)]
    assert len(sc.submitted()) == 5  # the removal, then one move
    events = [e[:3] for e in sc.events]
    last_remove_wait = max(i for i, e in enumerate(events) if e == ("destination", "wait", REMOVE_JOB))
    assert last_remove_wait < events.index(("source", "instance_info_job", NAME))
    assert (outcome.state, outcome.changed) == ("moved", True)
    assert outcome.message.startswith("%s moved to cluster-b.test as %s" % (NAME, NAME))
    assert ("before that, removed the incomplete copy %s an earlier run left on cluster-b.test" % NAME
            in outcome.message)
    assert "remove job %s" % REMOVE_JOB in outcome.message
    # the new move used this run's own prepare and create
    assert sc.create_body()["source_x509_ca"] != EARLIER_EXPINFO["x509_ca"]


@pytest.mark.parametrize("earlier_start, option, expected", [
    (True, None, True), (False, None, False), (True, False, False), (None, None, False)])
def test_admin_state_of_the_first_run_is_kept_through_later_runs(sc, earlier_start, option, expected):
    # the source is found stopped now (an interrupted export shut it down); the first run's create says
    # whether the instance was meant to run
    interrupted(sc, **DEBRIS_CASES["import-failures-no-export"])
    if earlier_start is not None:
        sc.destination.job_list[0]["ops"][0]["start"] = earlier_start
    _follow_earlier(sc)
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW_STOPPED), None)
    sc.destination.instance(NAME, copy.deepcopy(DEST_ROW))
    sc.destination.script("remove_instance", REMOVE_JOB, [answer("success")])
    stopped_info = dict(sc.source.submit_scripts["instance_info_job"][0][1][-1]["job_info"][2][0][NAME],
                        config_state="down")
    sc.source.submit_scripts["instance_info_job"] = [(INFO_JOB, [answer("success", result={NAME: stopped_info})])]

    sc.move(start=option).run()

    assert sc.create_body()["start"] is expected


def test_earlier_debris_with_cleanup_false_is_kept_and_named(sc):
    interrupted(sc, **DEBRIS_CASES["import-failures-no-export"])
    _follow_earlier(sc)
    _both(sc)

    err = failure(sc.move(cleanup=False))

    assert (err.side, err.step, err.job_id) == ("destination", "preflight", EARLIER_CREATE)
    assert NAME in err.message and "incomplete copy" in err.message and "cleanup" in err.message
    assert "gnt-instance remove %s" % NAME in err.hint
    _touched_nothing(sc)


def test_debris_that_does_not_match_the_source_is_not_removed(sc):
    interrupted(sc, **DEBRIS_CASES["import-failures-no-export"])
    _follow_earlier(sc)
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    sc.destination.instance(NAME, dict(DEST_ROW, **{"disk.sizes": [64]}))

    err = failure(sc.move())

    assert "is not the incomplete copy an earlier run made" in err.message
    assert "disk(s)" in err.message
    _touched_nothing(sc)


def test_a_create_without_the_source_prepare_is_no_evidence(sc):
    # a remote-import create of the same name whose certificate the source never made (another source cluster,
    # or its prepare job archived): nothing is removed on its word
    interrupted(sc, create_status="error", prepare=False,
                create_answers=finished_create(end="error", error=["OpExecError", ["import failed"]]))
    _follow_earlier(sc)
    _both(sc)

    err = failure(sc.move())

    assert (err.side, err.step) == ("both", "preflight")
    assert "same disks and MAC addresses" in err.message
    _touched_nothing(sc)


def test_check_mode_with_debris_would_resume(sc):
    interrupted(sc, **DEBRIS_CASES["import-failures-no-export"])
    _follow_earlier(sc)
    _both(sc)

    outcome = sc.move().check()

    assert (outcome.state, outcome.changed) == ("would_resume", True)
    assert "a run would remove it and move %s again" % NAME in outcome.message
    _touched_nothing(sc)


# ==================================================== both present, no earlier move
@pytest.mark.parametrize("jobs", ["none", "plain-create-only", "query-fails"])
def test_both_present_with_the_same_shape_and_no_earlier_move_refuses(sc, jobs):
    _both(sc)
    if jobs == "plain-create-only":
        sc.destination.job_list = [create_row("success", mode="create")]
        sc.source.job_list = [prepare_row()]
    elif jobs == "query-fails":
        sc.destination.query_errors["job"] = RapiError("Forbidden", status=403)

    err = failure(sc.move())

    if jobs == "query-fails":
        assert err.side == "destination" and "Forbidden" in err.message  # the job lists must be readable
    else:
        assert (err.side, err.step) == ("both", "preflight")
        assert "with the same disks and MAC addresses" in err.message and "neither was touched" in err.message
        assert "keep_source" in err.hint
    assert err.recovery == []
    _touched_nothing(sc)


UNRELATED = [
    ({"disk.sizes": [64, 256]}, "disk sizes [64, 128] MiB on the source, [64, 256] MiB on the destination"),
    ({"disk.sizes": [64], "disk.count": 1}, "2 disk(s) on the source, 1 on the destination"),
    ({"nic.macs": ["aa:00:00:00:00:01"]}, "NIC 0 MAC aa:00:00:b3:0a:23 on the source, aa:00:00:00:00:01 on the "
                                          "destination"),
    ({"nic.macs": []}, "1 NIC(s) on the source, 0 on the destination"),
]


@pytest.mark.parametrize("keep_source", [False, True])
@pytest.mark.parametrize("change, words", UNRELATED, ids=["size", "disk-count", "mac", "nic-count"])
def test_an_unrelated_instance_of_the_same_name_is_never_taken_for_the_copy(sc, change, words, keep_source):
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    sc.destination.instance(NAME, dict(DEST_ROW, **change))

    err = failure(sc.move(keep_source=keep_source))

    assert (err.side, err.step) == ("destination", "preflight")
    assert "is not a copy of %s" % NAME in err.message
    assert words in err.message
    assert "choose another destination_name" in err.hint
    _touched_nothing(sc)


def test_a_generated_mac_is_not_compared(sc):
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    sc.destination.instance(NAME, dict(DEST_ROW, **{"nic.macs": ["aa:00:00:00:00:01"]}))

    outcome = sc.move(keep_source=True, nics=[{"mac": "generate"}]).run()

    assert (outcome.state, outcome.evidence) == ("already_copied", "shape")


def test_already_moved_without_jobs_is_unverified(sc):
    sc.source.instance(NAME, None)
    sc.destination.instance(NAME, copy.deepcopy(DEST_ROW))

    outcome = sc.move().run()

    assert (outcome.state, outcome.evidence, outcome.changed) == ("already_moved", "none", False)
    assert "unverified" in outcome.message
    assert len(outcome.warnings) == 1 and outcome.warnings[0].startswith("unverified:")


# ================================================================ timeout
def _timed_waits(sc):
    """Record the clock at every /wait (the fake advances it during the call)."""
    seen = []

    def timed(original):
        def wait(job_id, *args, **kwargs):
            seen.append((job_id, sc.clock.now, kwargs.get("timeout")))
            return original(job_id, *args, **kwargs)
        return wait

    for cluster in (sc.source, sc.destination):
        cluster.wait_for_job_change = timed(cluster.wait_for_job_change)
    return seen


def test_timeout_while_following_a_new_create_names_it_and_waits_for_nothing():
    sc = Scenario(wait_advance=10.0)
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, [answer("running")])]  # forever running
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    waits = _timed_waits(sc)
    deadline = sc.clock.now + 100

    err = failure(sc.move(timeout=100))

    assert err.timed_out is True
    assert (err.side, err.step, err.job_id) == ("destination", "create", CREATE_JOB)
    assert err.recovery == ["destination job %s (create) is running; run the same task again: it waits for the job, "
                            "then finishes the move or reports both clusters" % CREATE_JOB]
    assert waits and all(started + timeout <= deadline + 1e-6 for dummy, started, timeout in waits)
    assert sc.clock.now <= deadline + TIMEOUT_GRACE
    assert sc.destination.cancelled == [] and sc.source.cancelled == []
    assert sc.destination.called("remove_instance") == [] and sc.source.called("startup_instance") == []
    statuses = dict((j["id"], j["status"]) for j in err.outcome.jobs)
    assert statuses == {INFO_JOB: "success", PREPARE_JOB: "success", CREATE_JOB: "running"}
    assert err.changed is True  # the create runs on and will act


def test_timeout_during_the_export_names_both_running_jobs_and_removes_nothing():
    sc = Scenario(wait_advance=10.0)
    sc.source.submit_scripts["export_instance"] = [
        (EXPORT_JOB, [answer("running", logs=[log_entry(1, "message", "Shutting down instance")])])]
    # the destination listens and receives for as long as the export sends
    sc.destination.submit_scripts["create_instance"] = [
        (CREATE_JOB, [answer("running", logs=[log_entry(2, "remote-import", IMPINFO)])])]
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    waits = _timed_waits(sc)
    deadline = sc.clock.now + 100

    err = failure(sc.move(timeout=100))

    assert err.timed_out is True
    assert (err.side, err.step, err.job_id) == ("source", "export", EXPORT_JOB)
    assert len(err.recovery) == 2
    assert err.recovery[0].startswith("destination job %s (create) is running; run the same task again" % CREATE_JOB)
    assert err.recovery[1].startswith("source job %s (export) is running: it shut the source instance down and "
                                      "sends the data, and if it fails the source stays shut down" % EXPORT_JOB)
    assert waits and all(started + timeout <= deadline + 1e-6 for dummy, started, timeout in waits)
    assert sc.clock.now <= deadline + TIMEOUT_GRACE
    assert sc.destination.called("remove_instance") == [] and sc.source.called("startup_instance") == []
    assert sc.destination.cancelled == [] and sc.source.cancelled == []
    assert err.changed is True


def test_no_job_is_submitted_after_the_deadline():
    # the create publishes its endpoints only once the deadline has passed: the export is not submitted
    sc = Scenario(wait_advance=10.0)
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    late = [answer("running")] * 6 + [answer("running", logs=[log_entry(2, "remote-import", IMPINFO)])]
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, late)]
    deadline = sc.clock.now + 50

    err = failure(sc.move(timeout=50))

    assert err.timed_out is True
    assert sc.source.called("export_instance") == []
    assert sc.clock.now <= deadline + TIMEOUT_GRACE
    assert "destination job %s (create) is running" % CREATE_JOB in err.recovery[0]


@pytest.mark.parametrize("seconds", [1, 7, 15, 33, 61])
def test_every_wait_is_capped_by_the_time_left(seconds):
    sc = Scenario(wait_advance=4.0)
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, [answer("running")])]
    waits = _timed_waits(sc)
    deadline = sc.clock.now + seconds

    err = failure(sc.move(timeout=seconds))

    assert err.timed_out is True
    assert waits and all(0 < timeout and started + timeout <= deadline + 1e-6 for dummy, started, timeout in waits)
    # the fake answers take 4 s whatever the timeout: the real client would have been cut at the deadline
    assert sc.clock.now <= deadline + 4 + TIMEOUT_GRACE


def test_another_run_that_moved_the_instance_under_another_name_is_named(sc):
    interrupted(sc, export_status="running")
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), None)
    sc.destination.instance("inst1-other.test", None)

    err = failure(sc.move(destination_name="inst1-other.test"))

    assert "exists on neither cluster" in err.message
    assert "another run's jobs acted on it while this run waited (source job %s (export, success)" % EARLIER_EXPORT \
        in err.message
    assert "gnt-instance list" in err.hint
    _touched_nothing(sc)


def test_a_cancel_the_cluster_is_slow_to_answer_is_cut_short_and_reported():
    sc = Scenario(wait_advance=10.0)
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, [answer("waiting")])]  # forever waiting
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    timeouts = []

    def slow_cancel(job_id, timeout=None):
        timeouts.append(timeout)
        sc.clock.advance(timeout)
        raise RapiError("no answer from https://cluster-b.test:5080 within %ss" % timeout, kind="timeout",
                        maybe_sent=True)
    sc.destination.cancel_job = slow_cancel
    deadline = sc.clock.now + 60

    err = failure(sc.move(timeout=60))

    assert err.step == "create" and err.timed_out
    assert timeouts == [GRACE_REQUEST_TIMEOUT]
    assert err.recovery[0].startswith("could not cancel destination job %s (create): no answer" % CREATE_JOB)
    assert err.recovery[1].startswith("destination job %s (create) is waiting; run the same task again" % CREATE_JOB)
    assert sc.clock.now <= deadline + TIMEOUT_GRACE
