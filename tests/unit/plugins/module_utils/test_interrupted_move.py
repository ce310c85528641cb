# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A run that finds an earlier, interrupted move of the same instance (see move_history), and timeouts.

The earlier run's jobs are rows in the fake clusters' ``job_list`` (what
``PUT /2/query/job`` answers) and scripted ``/wait`` answers in their
``jobs`` (what following them shows).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.ganeti.rapi.plugins.module_utils.instance_move import MoveError
from ansible_collections.ganeti.rapi.plugins.module_utils.rapi_client import RapiError
from ansible_collections.ganeti.rapi.tests.unit.plugins.module_utils.fake_rapi import (
    CREATE_JOB, DEST_ROW, EXPORT_JOB, IMPORT_WARNING, NAME, PREPARE_JOB, REMOVE_JOB, SOURCE_ROW, INFO_JOB,
    SUBMITTING, Scenario, answer, log_entry,
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


def _fail(move, method="run"):
    with pytest.raises(MoveError) as info:
        getattr(move, method)()
    return info.value


def _waits(cluster, job_id):
    return [call for call in cluster.calls if call[0] == "wait" and call[1] == job_id]


def _in_order(sc):
    """Every submission on either cluster, in the order made."""
    return [event[1] for event in sc.events if event[1] in SUBMITTING]


def _job_queries(cluster):
    return [call for call in cluster.called("query") if call[1] == "job"]


@pytest.fixture
def sc():
    return Scenario()


# ================================================================== resume
@pytest.mark.parametrize("on_destination", [True, False], ids=["both-present", "only-source-create-running"])
def test_resume_sends_the_earlier_runs_data(sc, on_destination):
    interrupted(sc)
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), None)  # preflight, then gone after the export
    sc.destination.instance(NAME, copy.deepcopy(DEST_ROW) if on_destination else None, copy.deepcopy(DEST_ROW))

    outcome = sc.move().run()

    # exactly one new job: the export of the earlier run's prepared key to the earlier create's endpoints
    assert sc.submitted() == [("export_instance", NAME)]
    assert sc.export_body() == {
        "mode": "remote",
        "destination": EARLIER_IMPINFO["disks"],
        "destination_x509_ca": EARLIER_IMPINFO["x509_ca"],
        "x509_key_name": EARLIER_EXPINFO["x509_key_name"],
        "shutdown": True,
        "shutdown_timeout": 120,
        "remove_instance": True,
        "compress": "gzip",  # from the create op, not the task's default "none"
        "priority": -10,
    }
    assert outcome.state == "moved"
    assert outcome.changed is True
    assert outcome.message.startswith("%s moved to cluster-b.test as %s" % (NAME, NAME))
    assert "resumed an interrupted move" in outcome.message
    assert "create job %s" % EARLIER_CREATE in outcome.message
    assert "prepare job %s" % EARLIER_PREPARE in outcome.message
    assert outcome.instance == DEST_ROW
    # the earlier create was followed to its end (the import), after the export
    assert sc.destination.jobs[EARLIER_CREATE] and len(_waits(sc.destination, EARLIER_CREATE)) == 2
    events = [e[:3] for e in sc.events]
    assert events.index(("source", "export_instance", NAME)) < \
        [i for i, e in enumerate(events) if e == ("destination", "wait", EARLIER_CREATE)][-1]
    assert sc.destination.called("remove_instance") == [] and sc.source.called("startup_instance") == []
    assert [s["name"] for s in outcome.steps] == ["preflight", "resume", "export", "import", "verify"]
    if not on_destination:
        # the unfinished-create query found it
        unfinished = [q for q in _job_queries(sc.destination) if q[2][0] == "&"]
        assert len(unfinished) == 1


def test_resumed_move_reports_its_jobs(sc):
    interrupted(sc)
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), None)
    sc.destination.instance(NAME, copy.deepcopy(DEST_ROW))

    outcome = sc.move().run()

    assert ("source", EXPORT_JOB, "export", "success") in [
        (j["side"], j["id"], j["operation"], j["status"]) for j in outcome.jobs]


def test_resume_verifies_with_the_create_ops_disk_sizes(sc):
    interrupted(sc, create_disks=(64, 256))  # the source row says [64, 128]: only the create op is used
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), None)
    sc.destination.instance(NAME, copy.deepcopy(DEST_ROW))  # disk.sizes [64, 128]

    err = _fail(sc.move())

    assert (err.side, err.step) == ("destination", "verify")
    assert "source [64, 256]" in err.message
    assert sc.submitted() == [("export_instance", NAME)]
    assert sc.destination.called("remove_instance") == []  # the export sent every disk: the copy is kept


def test_resume_with_matching_sizes_passes_verify(sc):
    row = dict(DEST_ROW, **{"disk.sizes": [10, 20]})
    interrupted(sc, create_disks=(10, 20))
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), None)
    sc.destination.instance(NAME, row)
    assert sc.move().run().state == "moved"


# ======================================================= export still running
def test_earlier_export_running_is_followed_then_the_move_is_already_done(sc):
    interrupted(sc, export_status="running")
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), None)  # preflight; gone after the export ended
    sc.destination.instance(NAME, copy.deepcopy(DEST_ROW))

    outcome = sc.move().run()

    assert outcome.state == "already_moved"
    assert outcome.changed is False
    assert "job %s" % EARLIER_EXPORT in outcome.message
    assert outcome.instance == DEST_ROW
    assert sc.submitted() == []
    # the export was followed to its end before the source was looked at again, then the create to its end
    assert len(_waits(sc.source, EARLIER_EXPORT)) == 3
    assert len(_waits(sc.destination, EARLIER_CREATE)) == 2
    events = [e[:3] for e in sc.events]
    last_export_wait = max(i for i, e in enumerate(events) if e == ("source", "wait", EARLIER_EXPORT))
    second_source_look = [i for i, e in enumerate(events) if e == ("source", "query_instance", NAME)][1]
    first_create_wait = events.index(("destination", "wait", EARLIER_CREATE))
    assert last_export_wait < second_source_look < first_create_wait


def test_earlier_export_running_then_import_failures_are_reported(sc):
    interrupted(sc, export_status="running", create_answers=earlier_create(warning=True))
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), None)
    sc.destination.instance(NAME, copy.deepcopy(DEST_ROW))

    err = _fail(sc.move())

    assert (err.side, err.step, err.job_id) == ("destination", "resume", EARLIER_CREATE)
    assert "not imported successfully" in err.message
    assert "failed to receive data" in err.message
    assert "gnt-instance info %s" % NAME in err.hint
    # the source is gone: the destination copy is the only one and stays
    assert sc.destination.called("remove_instance") == [] and sc.source.called("startup_instance") == []
    assert sc.submitted() == []


def test_earlier_export_running_then_failed_create_is_reported(sc):
    interrupted(sc, export_status="running",
                create_answers=earlier_create(end="error", error=["OpExecError", ["disk creation failed"]]))
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), None)
    sc.destination.instance(NAME, copy.deepcopy(DEST_ROW))

    err = _fail(sc.move())

    assert (err.side, err.step, err.job_id) == ("destination", "resume", EARLIER_CREATE)
    assert "disk creation failed" in err.message
    assert sc.destination.called("remove_instance") == []


# ===================================================== export sent, source left
def test_earlier_export_sent_every_disk_but_the_source_remains(sc):
    interrupted(sc, create_status="success", create_answers=finished_create(), export_status="error",
                export_answers=earlier_export(end="error", result=None, running=0, error=REMOVE_FAILED))
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))  # still there
    sc.destination.instance(NAME, copy.deepcopy(DEST_ROW))

    err = _fail(sc.move())

    assert (err.side, err.step, err.job_id) == ("both", "preflight", EARLIER_EXPORT)
    assert "sent every disk" in err.message
    assert "Could not remove instance" in err.message
    assert "check the destination copy (gnt-instance info %s)" % NAME in err.hint
    assert "gnt-instance remove %s" % NAME in err.hint
    assert err.recovery == []
    assert sc.submitted() == []
    assert sc.destination.called("remove_instance") == [] and sc.source.called("startup_instance") == []


def test_earlier_keep_source_export_is_not_reported_as_a_failed_removal(sc):
    interrupted(sc, create_status="success", create_answers=finished_create(), export_status="success",
                export_answers=earlier_export(removing=False, running=0))
    sc.source.job_list[-1] = export_row("success", remove_instance=False)
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    sc.destination.instance(NAME, copy.deepcopy(DEST_ROW))

    err = _fail(sc.move())

    assert err.side == "both"
    assert sc.submitted() == [] and sc.destination.called("remove_instance") == []
    assert "(None)" not in err.message and "removing it failed" not in err.message


# ============================================================== debris
DEBRIS_CASES = {
    # create ended with import failures, export failed without sending (no "Removing instance")
    "import-failures-export-failed": dict(
        create_status="success", create_answers=finished_create(warning=True), export_status="error",
        export_answers=earlier_export(end="error", result=None, removing=False, running=0,
                                      error=["OpExecError", ["Export failed, errors in disk export: disk(s) 0"]])),
    # create ended with import failures, the export was never submitted
    "import-failures-no-export": dict(create_status="success", create_answers=finished_create(warning=True)),
    # the create failed outright and no prepare-export matches it
    "create-failed": dict(create_status="error", prepare=False,
                          create_answers=finished_create(end="error", error=["OpExecError", ["import failed"]])),
}


@pytest.mark.parametrize("case", sorted(DEBRIS_CASES))
def test_earlier_debris_is_removed_then_moved_again(sc, case):
    interrupted(sc, **DEBRIS_CASES[case])
    looks = 2 if "export_status" in DEBRIS_CASES[case] else 1  # an export makes the run look at the source again
    sc.source.instance(NAME, *([copy.deepcopy(SOURCE_ROW)] * looks + [None]))
    sc.destination.instance(NAME, copy.deepcopy(DEST_ROW))  # debris at preflight and resume; the new copy at verify
    sc.destination.script("remove_instance", REMOVE_JOB, [answer("running"), answer("success")])

    outcome = sc.move().run()

    assert sc.destination.called("remove_instance") == [("remove_instance", NAME)]
    names = _in_order(sc)
    assert names == ["remove_instance", "instance_info_job", "prepare_export", "create_instance", "export_instance"]
    events = [e[:2] for e in sc.events]
    assert events.index(("destination", "remove_instance")) < events.index(("source", "prepare_export"))
    # the removal finished before the new move started
    last_remove_wait = max(i for i, e in enumerate(sc.events) if e[:3] == ("destination", "wait", REMOVE_JOB))
    assert last_remove_wait < events.index(("source", "instance_info_job"))
    assert outcome.state == "moved"
    assert outcome.changed is True
    assert outcome.message.startswith("%s moved to cluster-b.test as %s" % (NAME, NAME))
    assert ("before that, removed the incomplete copy %s an earlier run left on cluster-b.test (create job %s, "
            "remove job %s)" % (NAME, EARLIER_CREATE, REMOVE_JOB)) in outcome.message
    # the new move used this run's own prepare and create
    assert sc.create_body()["source_x509_ca"] != EARLIER_EXPINFO["x509_ca"]
    assert sc.export_body()["destination"] != EARLIER_IMPINFO["disks"]
    assert ("destination", CREATE_JOB, "create", "success") in [
        (j["side"], j["id"], j["operation"], j["status"]) for j in outcome.jobs]


def test_earlier_debris_with_cleanup_false_is_kept_and_named(sc):
    interrupted(sc, **DEBRIS_CASES["import-failures-no-export"])
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    sc.destination.instance(NAME, copy.deepcopy(DEST_ROW))

    err = _fail(sc.move(cleanup=False))

    assert (err.side, err.step, err.job_id) == ("destination", "preflight", EARLIER_CREATE)
    assert NAME in err.message and "incomplete copy" in err.message
    assert "cleanup" in err.message
    assert "gnt-instance remove %s" % NAME in err.hint
    assert sc.destination.called("remove_instance") == []
    assert sc.submitted() == []


def test_earlier_debris_already_gone_moves_as_usual(sc):
    interrupted(sc, **DEBRIS_CASES["import-failures-no-export"])
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), None)
    # preflight: the debris; the resume's look: gone (Ganeti or someone removed it); verify: the new copy
    sc.destination.instance(NAME, copy.deepcopy(DEST_ROW), None, copy.deepcopy(DEST_ROW))

    outcome = sc.move().run()

    assert sc.destination.called("remove_instance") == []
    assert _in_order(sc) == ["instance_info_job", "prepare_export", "create_instance", "export_instance"]
    assert outcome.state == "moved"
    assert outcome.message == "%s moved to cluster-b.test as %s" % (NAME, NAME)


def test_unfinished_earlier_create_that_fails_is_followed_then_moved_again(sc):
    # only the source lists the instance; an earlier create is still running and then fails (Ganeti removes it)
    refused = ["OpPrereqError", ["not enough memory", "insufficient_resources"]]
    interrupted(sc, create_answers=earlier_create(end="error", published=False, running=2, error=refused))
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), None)
    sc.destination.instance(NAME, None, None, copy.deepcopy(DEST_ROW))

    outcome = sc.move().run()

    assert len(_waits(sc.destination, EARLIER_CREATE)) == 3  # followed to its end first
    events = [e[:3] for e in sc.events]
    assert events.index(("destination", "wait", EARLIER_CREATE)) < events.index(("source", "instance_info_job", NAME))
    assert sc.destination.called("remove_instance") == []
    assert _in_order(sc) == ["instance_info_job", "prepare_export", "create_instance", "export_instance"]
    assert outcome.state == "moved"


# ========================================================== nothing found
def _both(sc):
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    sc.destination.instance(NAME, copy.deepcopy(DEST_ROW))


@pytest.mark.parametrize("jobs", ["none", "plain-create-only", "query-fails"])
def test_both_present_without_an_earlier_move_refuses(sc, jobs):
    _both(sc)
    if jobs == "plain-create-only":
        sc.destination.job_list = [create_row("success", mode="create")]
        sc.source.job_list = [prepare_row()]
    elif jobs == "query-fails":
        sc.destination.query_errors["job"] = RapiError("Forbidden", status=403)

    err = _fail(sc.move())

    assert (err.side, err.step) == ("both", "preflight")
    assert "no earlier move" in err.message and "neither was touched" in err.message
    assert "keep_source" in err.hint
    assert err.recovery == []
    assert sc.submitted() == []
    assert len(_job_queries(sc.destination)) == 1  # it did look
    assert not any(call[0] in ("wait", "cancel_job") for call in sc.source.calls + sc.destination.calls)


def test_both_present_with_keep_source_does_not_look_at_jobs(sc):
    _both(sc)
    interrupted(sc)  # even an earlier move in the job lists does not matter

    outcome = sc.move(keep_source=True).run()

    assert outcome.state == "kept_both"
    assert outcome.changed is False
    assert outcome.instance == DEST_ROW
    assert sc.submitted() == []
    assert _job_queries(sc.source) == [] and _job_queries(sc.destination) == []
    assert not any(call[0] == "wait" for call in sc.source.calls + sc.destination.calls)


def test_both_present_with_a_clean_earlier_create_and_its_export_refuses(sc):
    # the earlier create received every disk, its export ended without sending every disk: not debris
    interrupted(sc, create_status="success", create_answers=finished_create(), export_status="error",
                export_answers=earlier_export(end="error", result=None, removing=False, running=0,
                                              error=["OpExecError", ["something"]]))
    _both(sc)

    err = _fail(sc.move())

    assert (err.side, err.step) == ("both", "preflight")
    assert sc.destination.called("remove_instance") == [] and sc.submitted() == []


def test_clean_earlier_create_without_a_found_export_is_not_removed(sc):
    # the earlier run (e.g. with keep_source) moved the instance completely; the source jobs are gone from the
    # job list, the destination still lists its create job
    interrupted(sc, create_status="success", create_answers=finished_create(), prepare=False)
    _both(sc)
    sc.destination.script("remove_instance", REMOVE_JOB, [answer("success")])

    try:
        sc.move().run()
    except MoveError:
        pass

    assert sc.destination.called("remove_instance") == []


# ============================================================== check mode
@pytest.mark.parametrize("kind, expected", [
    ("resume", "resume the earlier run's move (create job %s is still running)" % EARLIER_CREATE),
    ("export", "wait for the earlier run's export job %s" % EARLIER_EXPORT),
    ("debris", "check the earlier run's destination copy (create job %s)" % EARLIER_CREATE),
])
def test_check_mode_with_an_earlier_move_would_resume(sc, kind, expected):
    if kind == "resume":
        interrupted(sc)
    elif kind == "export":
        interrupted(sc, export_status="running")
    else:
        interrupted(sc, create_status="success", create_answers=finished_create(warning=True), prepare=False)
    _both(sc)

    outcome = sc.move().check()

    assert outcome.state == "would_resume"
    assert outcome.changed is True
    assert expected in outcome.message
    assert sc.submitted() == []
    assert sc.destination.called("remove_instance") == []
    assert not any(call[0] in ("wait", "cancel_job") for call in sc.source.calls + sc.destination.calls)


def test_check_mode_with_only_the_source_and_a_running_earlier_create(sc):
    interrupted(sc)
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    sc.destination.instance(NAME, None)

    outcome = sc.move().check()

    assert outcome.state == "would_resume"
    assert sc.submitted() == []


# ================================================================ timeout
def _timed_waits(sc):
    """Record the clock at every /wait (the fake advances it during the call)."""
    seen = []

    def timed(original):
        def wait(job_id, *args, **kwargs):
            seen.append((job_id, sc.clock.now))
            return original(job_id, *args, **kwargs)
        return wait

    for cluster in (sc.source, sc.destination):
        cluster.wait_for_job_change = timed(cluster.wait_for_job_change)
    return seen


@pytest.mark.parametrize("status", ["running", "queued"])
def test_timeout_while_following_the_earlier_create(status):
    sc = Scenario(wait_advance=10.0)
    answers = earlier_create(end=None, published=False) if status == "running" else [answer("queued")]
    interrupted(sc, create_status=status, create_answers=answers)
    _both(sc)
    waits = _timed_waits(sc)
    deadline = sc.clock.now + 60

    err = _fail(sc.move(timeout=60))

    assert err.timed_out is True
    assert (err.side, err.step, err.job_id) == ("destination", "resume", EARLIER_CREATE)
    assert "run the same task again" in err.hint
    assert waits and all(started < deadline for dummy, started in waits)  # no /wait begun after the deadline
    assert sc.clock.now <= deadline + 10  # the failure path waited for nothing
    assert sc.destination.called("remove_instance") == [] and sc.source.called("startup_instance") == []
    assert sc.submitted() == []
    if status == "running":
        assert sc.destination.cancelled == []
        assert err.recovery == ["destination job %s (create) is still running; run the same task again to finish "
                                "the move or remove its incomplete copy" % EARLIER_CREATE]
    else:
        assert sc.destination.cancelled == [EARLIER_CREATE]
        assert err.recovery == ["cancelled destination job %s (create)" % EARLIER_CREATE]
    assert "run the same task again" in str(err)


def test_timeout_while_following_a_new_create_names_it_and_waits_for_nothing():
    sc = Scenario(wait_advance=10.0)
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, [answer("running")])]  # forever running
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    waits = _timed_waits(sc)
    deadline = sc.clock.now + 100

    err = _fail(sc.move(timeout=100))

    assert err.timed_out is True
    assert (err.side, err.step, err.job_id) == ("destination", "create", CREATE_JOB)
    assert err.recovery == ["destination job %s (create) is still running; run the same task again to finish the "
                            "move or remove its incomplete copy" % CREATE_JOB]
    assert all(started < deadline for dummy, started in waits)
    assert sc.clock.now <= deadline + 10
    assert sc.destination.cancelled == [] and sc.source.cancelled == []
    assert sc.destination.called("remove_instance") == [] and sc.source.called("startup_instance") == []
    statuses = dict((j["id"], j["status"]) for j in err.outcome.jobs)
    assert statuses == {INFO_JOB: "success", PREPARE_JOB: "success", CREATE_JOB: "running"}


def test_timeout_during_the_export_names_both_running_jobs_and_removes_nothing():
    sc = Scenario(wait_advance=10.0)
    sc.source.submit_scripts["export_instance"] = [(EXPORT_JOB, [answer("running")])]  # forever copying
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    waits = _timed_waits(sc)
    deadline = sc.clock.now + 100

    err = _fail(sc.move(timeout=100))

    assert err.timed_out is True
    assert (err.side, err.step, err.job_id) == ("source", "export", EXPORT_JOB)
    assert len(err.recovery) == 2
    assert err.recovery[0].startswith("destination job %s (create) is still running; run the same task again"
                                      % CREATE_JOB)
    assert err.recovery[1].startswith("source job %s (export) is still running; run the same task again"
                                      % EXPORT_JOB)
    assert all(started < deadline for dummy, started in waits)
    assert sc.clock.now <= deadline + 10
    assert sc.destination.called("remove_instance") == [] and sc.source.called("startup_instance") == []
    assert sc.destination.cancelled == [] and sc.source.cancelled == []


def test_timeout_while_following_the_earlier_export_names_both_jobs():
    sc = Scenario(wait_advance=10.0)
    interrupted(sc, export_status="running", export_answers=[answer("running")])  # the export copies forever
    _both(sc)
    waits = _timed_waits(sc)
    deadline = sc.clock.now + 60

    err = _fail(sc.move(timeout=60))

    assert err.timed_out is True
    assert (err.side, err.step, err.job_id) == ("source", "resume", EARLIER_EXPORT)
    assert sorted(line.split(" is still running")[0] for line in err.recovery) == [
        "destination job %s (create)" % EARLIER_CREATE, "source job %s (export)" % EARLIER_EXPORT]
    assert all("run the same task again" in line for line in err.recovery)
    assert all(started < deadline for dummy, started in waits)
    assert _waits(sc.destination, EARLIER_CREATE) == []  # the create was not followed at all
    assert sc.source.cancelled == [] and sc.destination.cancelled == []
    assert sc.destination.called("remove_instance") == [] and sc.source.called("startup_instance") == []
    assert sc.submitted() == []
