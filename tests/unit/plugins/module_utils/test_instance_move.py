# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""InstanceMove against two scripted clusters (see fake_rapi.Scenario)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import threading

import pytest

from ansible_collections.ganeti.rapi.plugins.module_utils import instance_move
from ansible_collections.ganeti.rapi.plugins.module_utils.instance_move import InstanceMove
from ansible_collections.ganeti.rapi.plugins.module_utils.move_model import MoveError, MoveSpec
from ansible_collections.ganeti.rapi.plugins.module_utils.move_progress import MoveProgress
from ansible_collections.ganeti.rapi.plugins.module_utils.rapi_client import RapiClient, RapiError
from ansible_collections.ganeti.rapi.tests.unit.plugins.module_utils.fake_rapi import (
    failure,
    CREATE_JOB, CREATE_JOB_2, DEST_ROW, EXPINFO, EXPORT_JOB, HASH_ERROR, IMPINFO, IMPORT_WARNING, INFO_JOB,
    INSTINFO, NAME, PREPARE_JOB, REMOVE_JOB, SOURCE_ROW, SOURCE_ROW_STOPPED, STARTUP_JOB, TEMP_INSUFFICIENT,
    Scenario, answer, create_answers, export_answers, log_entry,
)


# ================================================================ happy path
def test_happy_path_moves_and_reports(sc):
    outcome = sc.move().run()

    assert outcome.state == "moved"
    assert outcome.changed is True
    assert outcome.message == "%s moved to cluster-b.test as %s" % (NAME, NAME)
    assert outcome.instance == DEST_ROW
    assert outcome.source_instance == SOURCE_ROW
    assert outcome.destination_cluster == "cluster-b.test"
    assert [(j["side"], j["id"], j["operation"], j["status"]) for j in outcome.jobs] == [
        ("source", PREPARE_JOB, "prepare-export", "success"),
        ("source", INFO_JOB, "instance-info", "success"),
        ("destination", CREATE_JOB, "create", "success"),
        ("source", EXPORT_JOB, "export", "success"),
    ]
    assert [s["name"] for s in outcome.steps] == ["preflight", "prepare", "create", "export", "import", "verify"]
    assert all(s["seconds"] >= 0 for s in outcome.steps)
    # nothing removed or restarted
    assert sc.destination.called("remove_instance") == [] and sc.source.called("startup_instance") == []


def _at_a_barrier(cluster, method, barrier):
    """``cluster.method``'s first call waits until ``barrier`` has every party (BrokenBarrierError after 5 s)."""
    real = getattr(cluster, method)
    first = []

    def waiting(*args, **kwargs):
        if not first:
            first.append(True)
            barrier.wait()
        return real(*args, **kwargs)
    setattr(cluster, method, waiting)


def test_the_preflight_asks_both_clusters_everything_at_once(sc):
    # Each cluster's identity, instance row and job list: six requests, each waiting for the five others.
    barrier = threading.Barrier(6, timeout=5)
    for cluster in (sc.source, sc.destination):
        for method in ("cluster_info", "query_instance", "query"):
            _at_a_barrier(cluster, method, barrier)

    outcome = sc.move().run()

    assert not barrier.broken
    assert outcome.state == "moved"


def test_the_source_run_state_is_read_while_its_first_jobs_run(sc):
    outcome = sc.move().run()

    # The preflight asks for nothing Ganeti must ask the node for; the run state comes once the first jobs
    # are submitted and before the export, which may stop the instance.
    preflight, run_state = sc.source.fields_asked[:2]
    assert not set(instance_move.LIVE_FIELDS) & set(preflight)
    assert sorted(run_state) == sorted(instance_move.LIVE_FIELDS)
    calls = [call[0] for call in sc.source.calls]
    second_read = [i for i, name in enumerate(calls) if name == "query_instance"][1]
    assert calls.index("instance_info_job") < second_read < calls.index("export_instance")
    assert (outcome.source_instance["oper_state"], outcome.source_instance["status"]) == (True, "running")


def test_a_source_found_stopped_while_the_first_jobs_run_is_not_started_after_a_failed_export(sc):
    # The preflight saw it running; by the time its run state was read it had stopped (the admin's doing), so
    # the failed export did not stop it and the recovery leaves it as it was.
    sc.source.submit_scripts["export_instance"] = [(EXPORT_JOB, export_answers([True, [True, False]]))]
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), copy.deepcopy(SOURCE_ROW_STOPPED))
    sc.source.query_instance = _run_state_from(sc.source, SOURCE_ROW_STOPPED)
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, create_answers(warning=True))]
    sc.destination.instance(NAME, None, copy.deepcopy(DEST_ROW))
    sc.destination.script("remove_instance", REMOVE_JOB, [answer("running"), answer("success")])
    sc.source.script("startup_instance", STARTUP_JOB, [answer("success")])

    err = failure(sc.move())

    assert (err.side, err.step, err.job_id) == ("source", "export", EXPORT_JOB)
    assert sc.destination.called("remove_instance") == [("remove_instance", NAME)]
    assert sc.source.called("startup_instance") == []


def test_a_run_state_that_cannot_be_read_fails_the_prepare_step_and_withdraws_the_jobs(sc):
    sc.source.query_instance = _run_state_from(sc.source, RapiError("Service Unavailable", status=503))

    err = failure(sc.move())

    assert (err.side, err.step) == ("source", "prepare")
    assert "Service Unavailable" in err.message
    # Nothing was created, exported or started; the submitted jobs are accounted for.
    assert sc.destination.submitted() == []
    assert sc.source.called("export_instance") == [] and sc.source.called("startup_instance") == []
    assert [j["operation"] for j in err.outcome.jobs] == ["prepare-export", "instance-info"]


def test_a_source_without_a_run_state_is_never_started_by_the_recovery(sc):
    # Ganeti answers None when the node does not: the recovery does not guess that it ran.
    sc.source.submit_scripts["export_instance"] = [(EXPORT_JOB, export_answers([True, [True, False]]))]
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), copy.deepcopy(SOURCE_ROW_STOPPED))
    sc.source.query_instance = _run_state_from(sc.source, {"oper_state": None, "status": "ERROR_nodedown"})
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, create_answers(warning=True))]
    sc.destination.instance(NAME, None, copy.deepcopy(DEST_ROW))
    sc.destination.script("remove_instance", REMOVE_JOB, [answer("running"), answer("success")])

    err = failure(sc.move())

    assert (err.side, err.step) == ("source", "export")
    assert sc.source.called("startup_instance") == []


def _run_state_from(cluster, row):
    """``cluster.query_instance``, but the run-state read answers from ``row``."""
    real = cluster.query_instance

    def query_instance(name, fields):
        answer_row = real(name, fields)
        if answer_row is not None and set(fields) <= set(instance_move.LIVE_FIELDS):
            if isinstance(row, Exception):
                raise row
            return dict((field, row.get(field)) for field in fields)
        return answer_row
    return query_instance


class Recorder(MoveProgress):
    def __init__(self):
        self.steps, self.transfers, self.heard = [], [], []

    def step(self, name, seconds):
        self.steps.append(name)

    def transfer(self, disk_count):
        self.transfers.append(disk_count)

    def job(self, watch, entries, ours=True):
        assert ours  # no other run here
        self.heard.append((watch.operation, [entry[3] for entry in entries]))


def test_progress_hears_every_step_the_export_and_every_job_log_line(sc):
    seen = Recorder()
    move = sc.move()
    move.progress = seen
    move.run()
    assert seen.steps == ["preflight", "prepare", "create", "export", "import", "verify"]
    assert seen.transfers == [2]  # the fake instance has two disks
    export_lines = [line for operation, lines in seen.heard if operation == "export" for line in lines]
    assert "Disk 0 finished sending data" in export_lines and "Disk 1 finished sending data" in export_lines
    assert any(operation == "create" and any(line == "remote-import" or isinstance(line, dict) for line in lines)
               for operation, lines in seen.heard)


class Broken(MoveProgress):
    def job(self, watch, entries, ours=True):
        raise BrokenPipeError("the terminal went away")


def test_a_broken_watcher_never_breaks_the_move(sc):
    move = sc.move()
    move.progress = Broken()
    outcome = move.run()
    assert outcome.state == "moved"
    assert sc.destination.called("remove_instance") == [] and sc.source.called("startup_instance") == []


def test_create_body(sc):
    sc.move(compress="gzip").run()
    body = sc.create_body()

    assert body["mode"] == "remote-import"
    assert body["name"] == NAME
    assert body["source_instance_name"] == NAME
    assert body["source_handshake"] == EXPINFO["handshake"]  # verbatim, version stays an int
    assert isinstance(body["source_handshake"][0], int)
    assert body["source_x509_ca"] == EXPINFO["x509_ca"]
    assert body["disk_template"] == "file"
    assert body["disks"] == [{"size": 64, "mode": "rw"}, {"size": 128, "mode": "ro", "name": "data", "spindles": 2}]
    assert body["nics"] == [{"ip": None, "mac": "aa:00:00:b3:0a:23", "mode": "bridged", "link": "br0"}]
    assert body["os"] == "noop"
    assert body["hypervisor"] == "fake"
    assert body["beparams"] == {"maxmem": 256, "vcpus": 2}
    assert body["hvparams"] == {"kernel_args": "ro quiet"}
    assert body["osparams"] == {"dhcp": "yes"}
    assert body["start"] is True  # config_state up
    assert body["ip_check"] is False
    assert body["wait_for_sync"] is False
    assert body["compress"] == "gzip"
    assert body["tags"] == ["web", "prod"]
    assert body["source_shutdown_timeout"] == 120
    assert body["opportunistic_locking"] is False
    assert body["iallocator"] == "hail"  # the destination's default iallocator
    assert "pnode" not in body and "snode" not in body


def test_export_body_and_no_request_delays_the_hand_off(sc):
    sc.move(compress="gzip").run()
    body = sc.export_body()

    assert body == {
        "mode": "remote",
        "destination": IMPINFO["disks"],
        "destination_x509_ca": IMPINFO["x509_ca"],
        "x509_key_name": EXPINFO["x509_key_name"],
        "shutdown": True,
        "shutdown_timeout": 120,
        "remove_instance": True,
        "compress": "gzip",
        "priority": -10,  # ahead of queued jobs: the destination already waits for it
    }
    assert [type(disk[1]) for disk in body["destination"]] == [int, int]
    # The body carries the endpoints, so the export can only follow their /wait; what can go wrong is a
    # request in between, while the destination listens with a connect timeout.
    events = [e[:3] for e in sc.events]
    remote_import_wait = [i for i, e in enumerate(events) if e[:2] == ("destination", "wait")][1]
    export = events.index(("source", "export_instance", NAME))
    assert events[remote_import_wait + 1:export] == []


def _after_export_end(sc):
    """What the move asked once the export job's final /wait answered."""
    last = max(i for i, event in enumerate(sc.events) if event[:3] == ("source", "wait", EXPORT_JOB))
    return [event[:3] for event in sc.events[last + 1:]]


def test_destination_is_checked_while_the_source_removes_its_instance(sc):
    outcome = sc.move().run()

    assert outcome.state == "moved"
    # once every disk was sent, the create job's end and the destination copy
    # are read while the export job still removes the source ...
    sent = sc.events.index(("source", "wait", EXPORT_JOB, 1))
    assert ("destination", "query_instance", NAME) in sc.events[sent:]
    # ... so that only the source is asked after the export's end
    assert _after_export_end(sc) == [("source", "query_instance", NAME)]
    assert [s["name"] for s in outcome.steps] == ["preflight", "prepare", "create", "export", "import", "verify"]


def test_without_per_disk_lines_the_destination_is_checked_after_the_export(sc):
    answers = export_answers()
    answers[1]["log_entries"] = []  # a log without "Disk N finished sending data"
    sc.source.submit_scripts["export_instance"] = [(EXPORT_JOB, answers)]
    outcome = sc.move().run()

    assert outcome.state == "moved"
    assert ("destination", "query_instance", NAME) in _after_export_end(sc)


def test_a_destination_job_still_running_is_followed_after_the_source_is_checked(sc):
    # Ganeti notices the end of an import up to 5 s late: the destination job
    # can outlive the export. The source is checked meanwhile, so only the
    # destination copy is left to read when its job ends.
    answers = create_answers()
    answers.insert(2, answer("running", logs=[log_entry(3, "message", "Disk 0 is now receiving data")]))
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, answers)]
    outcome = sc.move().run()

    assert outcome.state == "moved"
    after = _after_export_end(sc)
    assert after[0] == ("source", "query_instance", NAME)  # before following the destination job
    assert after[-1] == ("destination", "query_instance", NAME)  # once that job has ended


def test_a_disk_that_failed_to_arrive_is_reported_after_the_export_ends(sc):
    # Every disk was sent, but the destination says one did not arrive: the
    # copy is not read early, and the failure is raised once the export ended.
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, create_answers(warning=True))]
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), None)
    sc.destination.instance(NAME, None, copy.deepcopy(DEST_ROW))
    sc.destination.script("remove_instance", REMOVE_JOB, [answer("success")])
    err = failure(sc.move())

    assert (err.side, err.step) == ("destination", "import")
    assert "failed to receive data" in err.message
    assert sc.destination.called("query_instance") == [("query_instance", NAME)]  # preflight only


def test_keep_source_sets_long_sleep_and_keeps_the_source(sc):
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    outcome = sc.move(keep_source=True).run()

    body = sc.export_body()
    assert body["remove_instance"] is False
    assert body["long_sleep"] is True
    assert outcome.state == "copied"
    assert outcome.evidence == "jobs"
    assert outcome.message.startswith("%s copied to cluster-b.test" % NAME)
    # the source is read by the preflight and for its run state while the first jobs run, and not again after
    # the move when it is kept on purpose
    assert len(sc.source.called("query_instance")) == 2


def test_no_long_sleep_without_keep_source(sc):
    sc.move().run()
    assert "long_sleep" not in sc.export_body()


def test_source_still_listed_after_move_is_noted(sc):
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    outcome = sc.move().run()
    assert outcome.state == "moved"
    assert "still listed" in outcome.message


def test_explicit_iallocator_and_start(sc):
    sc.move(iallocator="other-alloc", start=False).run()
    body = sc.create_body()
    assert body["iallocator"] == "other-alloc"
    assert body["start"] is False


def test_start_follows_the_config_state(sc):
    info = copy.deepcopy(INSTINFO)
    info["config_state"] = "down"
    sc.source.submit_scripts["instance_info_job"] = [(INFO_JOB, [answer("success", result={NAME: info})])]
    sc.move().run()
    assert sc.create_body()["start"] is False


def test_primary_and_secondary_node(sc):
    sc.move(primary_node="node1.cluster-b.test", secondary_node="node2.cluster-b.test", disk_template="drbd").run()
    body = sc.create_body()
    assert body["pnode"] == "node1.cluster-b.test"
    assert body["snode"] == "node2.cluster-b.test"
    assert body["disk_template"] == "drbd"
    assert "iallocator" not in body
    # both nodes were checked on the destination
    assert sorted(call[2][2] for call in sc.destination.called("query") if call[1] == "node") == [
        "node1.cluster-b.test", "node2.cluster-b.test"]


def test_params_are_merged_over_the_instance_values(sc):
    sc.move(beparams={"maxmem": 1024, "minmem": 512}, hvparams={"kernel_args": "console=ttyS0"},
            osparams={"extra": "1", "dhcp": "no"}).run()
    body = sc.create_body()
    assert body["beparams"] == {"maxmem": 1024, "minmem": 512, "vcpus": 2}
    assert body["hvparams"] == {"kernel_args": "console=ttyS0"}
    assert body["osparams"] == {"dhcp": "no", "extra": "1"}


def test_nic_overrides_and_empty_value_removes_the_key(sc):
    sc.move(nics=[{"link": "br-new", "mac": "generate", "mode": "", "vlan": "100"}]).run()
    assert sc.create_body()["nics"] == [{"ip": None, "mac": "generate", "link": "br-new", "vlan": "100"}]


def test_network_nic_sends_the_network_name_only(sc):
    info = copy.deepcopy(INSTINFO)
    info["nics"] = [["eth0", "nic-uuid-0", "192.0.2.10", "aa:00:00:00:00:01", "bridged", "br100", "100",
                     "net-uuid-1", {"name": "vlan100", "uuid": "net-uuid-1"}]]
    sc.source.submit_scripts["instance_info_job"] = [(INFO_JOB, [answer("success", result={NAME: info})])]
    sc.move().run()
    assert sc.create_body()["nics"] == [{"ip": "192.0.2.10", "mac": "aa:00:00:00:00:01", "name": "eth0",
                                         "network": "vlan100"}]


# ================================================================= idempotency
def test_only_on_destination_is_already_moved(sc):
    sc.source.instance(NAME, None)
    sc.destination.instance(NAME, copy.deepcopy(DEST_ROW))

    for method in ("run", "check"):
        outcome = getattr(sc.move(), method)()
        assert outcome.state == "already_moved"
        assert outcome.changed is False
        assert outcome.instance == DEST_ROW
        assert "already on the destination cluster cluster-b.test" in outcome.message
    assert sc.submitted() == []


def test_on_both_with_keep_source_and_the_same_shape_is_already_copied(sc):
    sc.destination.instance(NAME, copy.deepcopy(DEST_ROW))
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))

    outcome = sc.move(keep_source=True).run()

    assert outcome.state == "already_copied"
    assert outcome.evidence == "shape"
    assert outcome.changed is False
    assert sc.submitted() == []


@pytest.mark.parametrize("method", ["run", "check"])
def test_on_both_without_keep_source_fails_untouched(sc, method):
    sc.destination.instance(NAME, copy.deepcopy(DEST_ROW))
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))

    err = failure(sc.move(), method)

    assert err.side == "both"
    assert err.step == "preflight"
    assert "neither was touched" in err.message
    assert err.recovery == []
    assert sc.submitted() == []
    assert sc.source.called("cancel_job") == [] and sc.destination.called("cancel_job") == []


def test_renamed_destination_is_looked_up_by_its_new_name(sc):
    sc.source.instance(NAME, None)
    sc.destination.instance("new.test", copy.deepcopy(dict(DEST_ROW, name="new.test")))
    outcome = sc.move(destination_name="new.test").run()
    assert outcome.state == "already_moved"
    assert ("query_instance", "new.test") in sc.destination.calls


def test_on_neither_cluster_fails(sc):
    sc.source.instance(NAME, None)
    err = failure(sc.move())
    assert err.side == "source"
    assert err.step == "preflight"
    assert "neither cluster" in err.message
    assert sc.submitted() == []


def test_check_mode_submits_nothing(sc):
    outcome = sc.move().check()
    assert outcome.state == "would_move"
    assert outcome.changed is True
    assert outcome.message == "%s would move to cluster-b.test as %s" % (NAME, NAME)
    assert sc.submitted() == []
    assert [s["name"] for s in outcome.steps] == ["preflight"]


def test_unusable_ca_path_is_a_move_error_not_a_crash(sc, tmp_path):
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    source = RapiClient("127.0.0.1", 5080, username="mover", password="pw", ca_path=str(junk), side="source")
    move = InstanceMove(source, sc.destination, MoveSpec(name=NAME), sleep=sc.clock.sleep, clock=sc.clock)

    with pytest.raises(MoveError) as info:
        move.check()

    assert (info.value.side, info.value.step) == ("source", "preflight")
    assert "ca_path" in str(info.value)


def test_preflight_query_error_names_the_side(sc):
    sc.destination.instance(NAME, RapiError("Forbidden", status=403, hint="needs the 'write' option"))
    err = failure(sc.move())
    assert (err.side, err.step) == ("destination", "preflight")
    assert "HTTP 403" in err.message
    assert "'write'" in err.hint
    assert sc.submitted() == []


# ============================================================ preflight refusals
def _refused(sc, side=None, text=None, **spec):
    err = failure(sc.move(**spec))
    assert err.step == "preflight"
    if side is not None:
        assert err.side == side
    if text is not None:
        assert text in err.message
    assert sc.submitted() == []
    assert err.recovery == []
    assert err.hint
    return err


def test_refuses_more_nic_overrides_than_nics(sc):
    _refused(sc, "input", "nics has 2 entries", nics=[{}, {"link": "br1"}])


def test_refuses_a_disabled_hypervisor(sc):
    sc.destination.info["enabled_hypervisors"] = ["kvm"]
    _refused(sc, "destination", "hypervisor fake")


def test_refuses_a_disabled_disk_template(sc):
    sc.destination.info["enabled_disk_templates"] = ["file", "plain"]
    _refused(sc, "destination", "disk template drbd", disk_template="drbd", primary_node="node1.cluster-b.test")


def test_refuses_the_source_template_when_disabled_on_destination(sc):
    sc.destination.info["enabled_disk_templates"] = ["plain"]
    _refused(sc, "destination", "disk template file")


def test_refuses_a_disallowed_compression(sc):
    sc.destination.info["compression_tools"] = ["gzip"]
    _refused(sc, "destination", "compress lzop", compress="lzop")


def test_compress_none_is_always_allowed(sc):
    sc.destination.info["compression_tools"] = []
    assert sc.move(compress="none").check().state == "would_move"


def test_refuses_a_compression_the_source_does_not_allow(sc):
    sc.source.info["compression_tools"] = ["gzip"]
    _refused(sc, "source", "compress lzop", compress="lzop")


def test_refuses_unknown_beparams(sc):
    err = _refused(sc, "input", "beparams has unknown parameter(s) maxmemory", beparams={"maxmemory": 1024})
    assert "maxmem" in err.hint


def test_refuses_unknown_hvparams(sc):
    _refused(sc, "input", "hvparams has unknown parameter(s) acpi", hvparams={"acpi": False})


def test_refuses_cluster_wide_hvparams(sc):
    err = _refused(sc, "input", "hvparams migration_mode can only be set for the whole destination cluster",
                   hvparams={"migration_mode": "non-live"})
    assert "gnt-cluster modify -H" in err.hint


def test_refuses_an_unknown_node(sc):
    _refused(sc, "destination", "node node9.cluster-b.test does not exist", primary_node="node9.cluster-b.test")


def test_refuses_an_unknown_node_reported_as_unknown_entity(sc):
    sc.destination.query_errors["node"] = RapiError("('Node node9 not found', 'unknown_entity')", status=500)
    _refused(sc, "destination", "does not exist", primary_node="node9")


def test_refuses_an_offline_secondary_node(sc):
    err = _refused(sc, "destination", "secondary_node node3.cluster-b.test on the destination cluster cluster-b.test "
                   "is offline", primary_node="node1.cluster-b.test", secondary_node="node3.cluster-b.test",
                   disk_template="drbd")
    assert "gnt-node add --readd node3.cluster-b.test" in err.hint


def test_refuses_when_no_iallocator_anywhere(sc):
    sc.destination.info["default_iallocator"] = ""
    _refused(sc, "destination", "no placement")


def test_no_default_iallocator_is_fine_with_a_primary_node(sc):
    sc.destination.info["default_iallocator"] = ""
    sc.move(primary_node="node1.cluster-b.test").run()
    assert sc.create_body()["pnode"] == "node1.cluster-b.test"


def test_refuses_opportunistic_without_iallocator(sc):
    _refused(sc, "input", "opportunistic_tries needs an iallocator", opportunistic_tries=2,
             primary_node="node1.cluster-b.test")


def test_refuses_opportunistic_without_any_iallocator(sc):
    sc.destination.info["default_iallocator"] = None
    _refused(sc, "destination", "no placement", opportunistic_tries=1)


# =================================================================== failures
def test_hash_mismatch_on_create(sc):
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))  # untouched by the failed move
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, [answer("running"),
                                                                      answer("error", error=HASH_ERROR)])]

    err = failure(sc.move())

    assert err.side == "destination"
    assert err.step == "create"
    assert err.job_id == CREATE_JOB
    assert "Hash didn't match" in err.message
    assert err.ganeti_error == HASH_ERROR[1][0]
    assert "cluster domain secret" in err.hint
    assert "cluster domain secret" in str(err)
    assert sc.source.called("export_instance") == []
    assert sc.destination.called("remove_instance") == []
    assert err.recovery == []
    assert [(j["operation"], j["status"]) for j in err.outcome.jobs] == [
        ("prepare-export", "success"), ("instance-info", "success"), ("create", "error")]


def test_create_job_success_without_remote_import_fails_instead_of_hanging(sc):
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, [
        answer("running", logs=[log_entry(1, "message", "creating disks")]),
        answer("success", logs=[log_entry(2, "message", "no OS, nothing to import")], result=["node1"]),
    ])]
    # our create made an (empty) instance: the recovery finds it
    sc.destination.instance(NAME, None, copy.deepcopy(DEST_ROW))
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    sc.destination.script("remove_instance", REMOVE_JOB, [answer("success")])

    err = failure(sc.move())

    assert (err.side, err.step, err.job_id) == ("destination", "create", CREATE_JOB)
    assert "remote-import" in err.message
    assert sc.source.called("export_instance") == []
    # followed to its end (two answers), then never asked again
    assert len([c for c in sc.destination.called("wait") if c[1] == CREATE_JOB]) == 2
    assert sc.destination.called("remove_instance") == [("remove_instance", NAME)]


def test_malformed_remote_import_entry(sc):
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, [
        answer("running", logs=[log_entry(1, "remote-import", {"x509_ca": "only"})])])]  # runs on and on
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))

    err = failure(sc.move(shutdown_timeout=0))

    assert (err.side, err.step, err.job_id) == ("destination", "create", CREATE_JOB)
    assert "malformed" in err.message
    assert sc.source.called("export_instance") == []
    # the recovery gave the listening import a bounded grace period, then said what is left
    assert sc.destination.called("remove_instance") == []
    assert len(err.recovery) == 1 and "still running, so nothing was removed" in err.recovery[0]


def test_failed_disk_export_removes_the_destination_and_restarts_the_source(sc):
    sc.source.submit_scripts["export_instance"] = [(EXPORT_JOB, export_answers([True, [True, False]]))]
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), copy.deepcopy(SOURCE_ROW_STOPPED))
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, create_answers(warning=True))]
    sc.destination.instance(NAME, None, copy.deepcopy(DEST_ROW))
    sc.destination.script("remove_instance", REMOVE_JOB, [answer("running"), answer("success")])
    sc.source.script("startup_instance", STARTUP_JOB, [answer("success")])

    err = failure(sc.move())

    assert (err.side, err.step, err.job_id) == ("source", "export", EXPORT_JOB)
    assert "failed disks: 1" in err.message
    assert sc.destination.called("remove_instance") == [("remove_instance", NAME)]
    assert sc.source.called("startup_instance") == [("startup_instance", NAME)]
    assert err.recovery == [
        "removed the incomplete destination instance %s (job %s)" % (NAME, REMOVE_JOB),
        "started the source instance %s again (job %s)" % (NAME, STARTUP_JOB),
    ]
    assert "Recovery: removed the incomplete destination instance" in str(err)
    # the remove waited for the create job to end first
    events = [e[:3] for e in sc.events]
    assert events.index(("destination", "remove_instance", NAME)) > max(
        i for i, e in enumerate(events) if e[:3] == ("destination", "wait", CREATE_JOB))
    ops = [(j["side"], j["operation"], j["status"]) for j in err.outcome.jobs]
    assert ops[-2:] == [("destination", "remove", "success"), ("source", "startup", "success")]


@pytest.mark.parametrize("result", [[False, [True, True]], [True, []], None, "garbage"])
def test_any_incomplete_export_result_is_a_failure(sc, result):
    sc.source.submit_scripts["export_instance"] = [(EXPORT_JOB, export_answers(result))]
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))  # still there, still running
    sc.destination.instance(NAME, None)  # the failed import left nothing behind
    err = failure(sc.move())
    assert (err.side, err.step) == ("source", "export")
    assert sc.destination.called("remove_instance") == []
    assert sc.source.called("startup_instance") == []


def test_export_job_error_is_reported_with_ganeti_words(sc):
    error = ["OpPrereqError", ["Not all disks could be snapshotted, and you did not allow the instance to "
                               "remain offline for a longer time through the --long-sleep option; aborting",
                               "wrong_state"]]
    sc.source.submit_scripts["export_instance"] = [(EXPORT_JOB, [answer("error", error=error)])]
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    sc.destination.instance(NAME, None)
    err = failure(sc.move())
    assert (err.side, err.step, err.job_id) == ("source", "export", EXPORT_JOB)
    assert err.ganeti_error == error[1][0]
    assert "snapshot" in err.hint


def test_import_warning_fails_although_both_jobs_succeeded(sc):
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, create_answers(warning=True))]

    err = failure(sc.move())

    assert (err.side, err.step, err.job_id) == ("destination", "import", CREATE_JOB)
    assert "were not imported successfully" in err.message
    assert "failed to receive data" in err.message
    assert "did not arrive" in err.hint
    statuses = [(j["operation"], j["status"]) for j in err.outcome.jobs]
    assert ("export", "success") in statuses and ("create", "success") in statuses
    # the export removed the source: the destination copy is the only one and stays
    assert sc.destination.called("remove_instance") == []
    assert len(err.recovery) == 1
    assert "the destination copy %s was kept" % NAME in err.recovery[0]


def test_import_warning_with_kept_source_removes_the_broken_copy(sc):
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, create_answers(warning=True))]
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    sc.destination.instance(NAME, None, copy.deepcopy(DEST_ROW))
    sc.destination.script("remove_instance", REMOVE_JOB, [answer("success")])

    err = failure(sc.move(keep_source=True))

    assert err.step == "import"
    assert sc.destination.called("remove_instance") == [("remove_instance", NAME)]
    assert sc.source.called("startup_instance") == []  # it never stopped


def test_opportunistic_retry_then_success(sc):
    sc.destination.submit_scripts["create_instance"] = [
        (CREATE_JOB, [answer("running"), answer("error", error=TEMP_INSUFFICIENT)]),
        (CREATE_JOB_2, create_answers()),
    ]

    outcome = sc.move(iallocator="hail", opportunistic_tries=1, opportunistic_delay=20).run()

    assert outcome.state == "moved"
    assert len(sc.clock.sleeps) == 1
    assert 20 * 0.85 <= sc.clock.sleeps[0] <= 20 * 1.15
    bodies = sc.destination.bodies["create_instance"]
    assert [b["opportunistic_locking"] for b in bodies] == [True, False]
    assert bodies[0]["source_handshake"] == bodies[1]["source_handshake"] == EXPINFO["handshake"]
    assert [s["name"] for s in outcome.steps][2:4] == ["create", "create (attempt 2)"]
    assert [(j["id"], j["status"]) for j in outcome.jobs if j["operation"] == "create"] == [
        (CREATE_JOB, "error"), (CREATE_JOB_2, "success")]


def test_opportunistic_delay_is_jittered(sc, monkeypatch):
    bounds = []
    monkeypatch.setattr(instance_move.random, "uniform", lambda low, high: bounds.append((low, high)) or 1.1)
    sc.destination.submit_scripts["create_instance"] = [
        (CREATE_JOB, [answer("error", error=TEMP_INSUFFICIENT)]),
        (CREATE_JOB_2, create_answers()),
    ]
    sc.move(iallocator="hail", opportunistic_tries=2, opportunistic_delay=30).run()
    assert bounds == [(0.85, 1.15)]
    assert sc.clock.sleeps == [pytest.approx(33.0)]


def test_opportunistic_does_not_retry_other_errors(sc):
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, [answer("error", error=HASH_ERROR)])]
    err = failure(sc.move(iallocator="hail", opportunistic_tries=3))
    assert err.step == "create"
    assert sc.clock.sleeps == []
    assert len(sc.destination.called("create_instance")) == 1


def test_last_attempt_is_not_retried(sc):
    sc.destination.submit_scripts["create_instance"] = [
        (CREATE_JOB, [answer("error", error=TEMP_INSUFFICIENT)]),
        (CREATE_JOB_2, [answer("error", error=TEMP_INSUFFICIENT)]),
    ]
    err = failure(sc.move(iallocator="hail", opportunistic_tries=1))
    assert (err.step, err.job_id) == ("create", CREATE_JOB_2)
    assert "retry later or use opportunistic_tries" in err.hint
    assert len(sc.clock.sleeps) == 1


def test_verify_catches_different_disk_sizes(sc):
    sc.destination.instance(NAME, None, copy.deepcopy(dict(DEST_ROW, **{"disk.sizes": [64, 64]})))
    err = failure(sc.move())
    assert (err.side, err.step) == ("destination", "verify")
    assert "disk sizes differ" in err.message


def test_verify_catches_a_missing_destination_instance(sc):
    sc.destination.instance(NAME, None)
    err = failure(sc.move())
    assert (err.side, err.step) == ("destination", "verify")


# =================================================================== recovery
def _export_fails(sc):
    sc.source.submit_scripts["export_instance"] = [(EXPORT_JOB, export_answers([True, [False, False]]))]
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, create_answers(warning=True))]
    sc.destination.instance(NAME, None, copy.deepcopy(DEST_ROW))
    sc.destination.script("remove_instance", REMOVE_JOB, [answer("success")])
    sc.source.script("startup_instance", STARTUP_JOB, [answer("success")])


def test_recovery_keeps_the_destination_when_the_source_is_gone(sc):
    _export_fails(sc)
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), None)

    err = failure(sc.move())

    assert err.step == "export"
    assert sc.destination.called("remove_instance") == []
    assert sc.source.called("startup_instance") == []
    assert err.recovery == ["the source instance is gone; kept the destination copy %s" % NAME]


def test_recovery_keeps_the_destination_when_the_source_cannot_be_read(sc):
    _export_fails(sc)
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), RapiError("cannot connect", kind="connection"))

    err = failure(sc.move())

    assert err.step == "export"
    assert sc.destination.called("remove_instance") == []
    assert sc.source.called("startup_instance") == []
    assert len(err.recovery) == 1
    assert "could not read the source instance" in err.recovery[0]
    assert "left %s on the destination" % NAME in err.recovery[0]


def test_cleanup_false_keeps_the_incomplete_destination_and_says_so(sc):
    _export_fails(sc)
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), copy.deepcopy(SOURCE_ROW_STOPPED))

    err = failure(sc.move(cleanup=False))

    assert sc.destination.called("remove_instance") == []
    assert any("cleanup: false" in line and "gnt-instance remove %s" % NAME in line for line in err.recovery)
    assert "cleanup: false" in str(err)
    # the source is still restarted
    assert sc.source.called("startup_instance") == [("startup_instance", NAME)]


def test_recovery_reports_a_failed_remove(sc):
    _export_fails(sc)
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    sc.destination.submit_scripts["remove_instance"] = [(REMOVE_JOB, [answer(
        "error", error=["OpExecError", ["Could not remove disks"]])])]

    err = failure(sc.move())

    assert any("could not remove the incomplete destination instance" in line and "Could not remove disks" in line
               for line in err.recovery)


def test_recovery_does_not_remove_what_our_create_never_made(sc):
    # The create failed before publishing endpoints: an instance of that name is not ours.
    sc.destination.submit_scripts["create_instance"] = [
        (CREATE_JOB, [answer("error", error=["OpPrereqError",
                                             ["Instance 'inst1.test' already exists", "already_exists"]])])]
    sc.destination.instance(NAME, None, copy.deepcopy(DEST_ROW))
    err = failure(sc.move())
    assert err.step == "create"
    assert "destination_name" in err.hint
    assert sc.destination.called("remove_instance") == []


def test_queued_jobs_are_cancelled_on_timeout():
    sc = Scenario(wait_advance=10.0)
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, [answer("queued")])]  # forever queued
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))

    err = failure(sc.move(timeout=120))

    assert (err.side, err.step, err.job_id) == ("destination", "create", CREATE_JOB)
    assert "timeout" in err.message
    assert "timeout option" in err.hint
    assert sc.destination.cancelled == [CREATE_JOB]
    assert sc.source.called("cancel_job") == []  # finished source jobs are left alone
    assert err.recovery == ["cancelled destination job %s (create) before it started" % CREATE_JOB]
    assert sc.destination.called("remove_instance") == []
    create = [j for j in err.outcome.jobs if j["operation"] == "create"][0]
    assert create["status"] == "canceled"  # the last status seen, after the cancel


def test_timeout_during_export_never_removes_the_destination_while_the_export_may_remove_the_source():
    sc = Scenario(wait_advance=10.0)
    # the export job is still copying when the move's timeout expires, and succeeds later
    sc.source.submit_scripts["export_instance"] = [(EXPORT_JOB, [answer("running")] * 30 + [
        answer("success", result=[True, [True, True]])])]
    # preflight; the recovery's look (the export still runs); after the export
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), copy.deepcopy(SOURCE_ROW), None)
    sc.destination.instance(NAME, None, copy.deepcopy(DEST_ROW))
    sc.destination.script("remove_instance", REMOVE_JOB, [answer("success")])

    err = failure(sc.move(timeout=100))

    assert (err.side, err.step, err.job_id) == ("source", "export", EXPORT_JOB)
    # The import finished during the recovery's grace period, while the export (remove_instance: true)
    # was still running: removing the destination now can leave no copy at all.
    assert sc.destination.called("remove_instance") == []


def test_running_jobs_are_not_cancelled_on_timeout():
    sc = Scenario(wait_advance=10.0)
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, [answer("running")])]  # forever running
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    err = failure(sc.move(timeout=60))
    assert err.step == "create"
    assert sc.destination.called("cancel_job") == []


def test_cancel_failure_is_reported():
    sc = Scenario(wait_advance=10.0)
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, [answer("waiting")])]
    sc.destination.cancel_error = RapiError("Forbidden", status=403)
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    err = failure(sc.move(timeout=60))
    assert any(line.startswith("could not cancel destination job %s" % CREATE_JOB) for line in err.recovery)


def test_lost_job_is_reported_with_its_id(sc):
    sc.source.submit_scripts["prepare_export"] = [(PREPARE_JOB, [RapiError("Can't load job file", status=500)])]
    err = failure(sc.move())
    assert (err.side, err.step, err.job_id) == ("source", "prepare", PREPARE_JOB)
    assert "gnt-job list" in err.hint


def test_submit_error_is_a_move_error(sc):
    sc.destination.submit_scripts["create_instance"] = [RapiError("Forbidden", status=403,
                                                                  hint="The RAPI user needs the 'write' option")]
    err = failure(sc.move())
    assert (err.side, err.step, err.job_id) == ("destination", "create", None)
    assert "'write'" in err.hint


def test_prepare_export_without_handshake(sc):
    sc.source.submit_scripts["prepare_export"] = [(PREPARE_JOB, [answer("success", result=None)])]
    err = failure(sc.move())
    assert (err.side, err.step, err.job_id) == ("source", "prepare", PREPARE_JOB)
    assert sc.destination.called("create_instance") == []


# ==================================================================== hints
@pytest.mark.parametrize("version, resolves", [
    ("3.0.2", True), ("3.1.0~rc2", True), ("3.1.0rc2", True), (None, True), ("3.1.0", False), ("3.1.1", False),
    ("3.2.0~beta1", False),
])
@pytest.mark.parametrize("spec", [{}, {"name_check": False, "destination_name": "other.example.com"}],
                         ids=["defaults", "renamed-without-name-check"])
def test_an_unresolvable_source_name_hint_follows_the_destination_version(sc, version, resolves, spec):
    # up to 3.1.0~rc2 the destination resolves the source name whatever name_check says (ganeti#1841)
    if version:
        sc.destination.info["software_version"] = version
    else:
        sc.destination.info.pop("software_version", None)
    refused = answer("error", error=["OpPrereqError", ["The given name (%s) does not resolve: Temporary failure in "
                                                       "name resolution" % NAME, "resolver_error"]])
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, [refused])]

    err = failure(sc.move(**spec))

    assert err.step == "create"
    if resolves:
        assert "source instance's name %s, even with name_check: false" % NAME in err.hint
        assert "set name_check: false" not in err.hint and "ganeti#1841" in err.hint
    else:
        assert "set name_check: false" in err.hint and "1841" not in err.hint


# ======================================================== recovery by evidence
def test_export_error_after_removing_the_source_keeps_the_destination(sc):
    # Every disk was sent, then removing the source failed: the job fails, but the
    # destination holds the only complete copy.
    error = ["OpExecError", ["Can't remove instance's disks"]]
    sc.source.submit_scripts["export_instance"] = [(EXPORT_JOB, [
        answer("running", logs=[log_entry(1, "message", "Shutting down instance")]),
        answer("error", logs=[log_entry(2, "message", "Exporting disk 0"),
                              log_entry(3, "message", "Removing instance %s" % NAME)], error=error),
    ])]
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), copy.deepcopy(SOURCE_ROW_STOPPED))
    sc.destination.instance(NAME, None, copy.deepcopy(DEST_ROW))
    sc.destination.script("remove_instance", REMOVE_JOB, [answer("success")])
    sc.source.script("startup_instance", STARTUP_JOB, [answer("success")])

    err = failure(sc.move())

    assert (err.side, err.step, err.job_id) == ("source", "export", EXPORT_JOB)
    assert err.ganeti_error == "Can't remove instance's disks"
    assert sc.destination.called("remove_instance") == []
    assert sc.source.called("startup_instance") == []
    assert len(err.recovery) == 1
    assert "the destination copy %s was kept" % NAME in err.recovery[0]
    assert "removed" not in err.recovery[0] and "started" not in err.recovery[0]


def test_export_submission_that_may_have_reached_the_cluster_touches_nothing(sc):
    sc.source.submit_scripts["export_instance"] = [
        RapiError("no answer from https://cluster-a.test:5080 within 60s", kind="timeout", maybe_sent=True)]
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), copy.deepcopy(SOURCE_ROW_STOPPED))
    sc.destination.instance(NAME, None, copy.deepcopy(DEST_ROW))
    sc.destination.script("remove_instance", REMOVE_JOB, [answer("success")])
    sc.source.script("startup_instance", STARTUP_JOB, [answer("success")])

    err = failure(sc.move())

    assert (err.side, err.step, err.job_id) == ("source", "export", None)
    assert "the export request may have reached the cluster" in err.message
    assert "gnt-job list" in err.hint
    for cluster in (sc.source, sc.destination):
        assert cluster.called("cancel_job") == []
        assert cluster.called("remove_instance") == []
        assert cluster.called("startup_instance") == []
    assert len(err.recovery) == 1
    assert "the export request's outcome is unknown" in err.recovery[0]
    assert "nothing was cancelled, removed or restarted" in err.recovery[0]
    # the recovery did not even look at the clusters again (the source's reads: the preflight, its run state)
    assert len(sc.source.called("query_instance")) == 2
    assert len(sc.destination.called("query_instance")) == 1
    assert [j for j in err.outcome.jobs if j["operation"] == "export"] == [
        {"side": "source", "id": None, "operation": "export", "status": "submitted"}]


# No export job of this run exists, so a stopped source was stopped by someone else: not started.
@pytest.mark.parametrize("source_now", [SOURCE_ROW, SOURCE_ROW_STOPPED],
                         ids=["source-still-running", "source-stopped-by-someone-else"])
def test_export_connect_timeout_recovers_normally(sc, source_now):
    # A connect timeout: the request never left this host, no export job exists.
    sc.source.submit_scripts["export_instance"] = [
        RapiError("connecting to https://cluster-a.test:5080 timed out after 60s", kind="timeout",
                  maybe_sent=False)]
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), copy.deepcopy(source_now))
    sc.destination.instance(NAME, None, copy.deepcopy(DEST_ROW))
    sc.destination.script("remove_instance", REMOVE_JOB, [answer("success")])
    sc.source.script("startup_instance", STARTUP_JOB, [answer("success")])

    err = failure(sc.move())

    assert (err.side, err.step, err.job_id) == ("source", "export", None)
    assert "may have reached" not in err.message
    assert sc.source.called("cancel_job") == [] and sc.destination.called("cancel_job") == []
    # the create job was followed to its end before its instance was removed
    events = [e[:3] for e in sc.events]
    assert events.index(("destination", "remove_instance", NAME)) > max(
        i for i, e in enumerate(events) if e[:3] == ("destination", "wait", CREATE_JOB))
    assert sc.destination.called("remove_instance") == [("remove_instance", NAME)]
    assert sc.source.called("startup_instance") == []
    assert err.recovery == ["removed the incomplete destination instance %s (job %s)" % (NAME, REMOVE_JOB)]


def test_unexpected_exception_becomes_a_controller_error_and_still_recovers(sc):
    sc.source.submit_scripts["export_instance"] = [KeyError("destination_x509_ca")]
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW), copy.deepcopy(SOURCE_ROW))
    sc.destination.instance(NAME, None, copy.deepcopy(DEST_ROW))
    sc.destination.script("remove_instance", REMOVE_JOB, [answer("success")])

    err = failure(sc.move())

    assert err.side == "controller"
    assert err.step == "export"
    assert "unexpected KeyError" in err.message and "destination_x509_ca" in err.message
    assert "bug" in err.hint
    # the recovery ran: the destination instance this run created is removed, the source left running
    assert sc.destination.called("remove_instance") == [("remove_instance", NAME)]
    assert sc.source.called("startup_instance") == []
    assert err.recovery == ["removed the incomplete destination instance %s (job %s)" % (NAME, REMOVE_JOB)]
    assert err.outcome is not None
    assert ("destination", CREATE_JOB, "create", "success") in [
        (j["side"], j["id"], j["operation"], j["status"]) for j in err.outcome.jobs]


# The master daemon hiccups while the create job is still running and has not yet logged its
# remote-import entry: following the job fails, the move fails, and the job goes on without us.
WAIT_FAILED = RapiError("Internal Server Error", status=500, method="GET", path="/2/jobs/%s/wait" % CREATE_JOB)


@pytest.mark.parametrize("late_entry", [False, True], ids=["never-logged", "logged-after-the-failure"])
def test_create_still_running_when_the_move_fails_that_ends_with_an_import_failure_is_removed(sc, late_entry):
    end_logs = [log_entry(3, "message", "Disk 0 failed to receive data: timeout"),
                log_entry(4, "message", IMPORT_WARNING)]
    if late_entry:
        end_logs.insert(0, log_entry(2, "remote-import", copy.deepcopy(IMPINFO)))
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, [
        answer("running", logs=[log_entry(1, "message", "creating disks")]), WAIT_FAILED,
        answer("running"), answer("success", logs=end_logs, result=["node1.cluster-b.test"])])]
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))  # never stopped: no export ran
    sc.destination.instance(NAME, None, copy.deepcopy(DEST_ROW))
    sc.destination.script("remove_instance", REMOVE_JOB, [answer("success")])

    err = failure(sc.move())

    assert (err.side, err.step, err.job_id) == ("destination", "create", CREATE_JOB)
    assert "Internal Server Error" in err.message
    assert sc.source.called("export_instance") == []
    assert sc.destination.called("cancel_job") == []  # it was running, not queued
    # the recovery followed the job to its end, then removed the copy that never got its data
    events = [e[:3] for e in sc.events]
    assert events.index(("destination", "remove_instance", NAME)) > max(
        i for i, e in enumerate(events) if e[:3] == ("destination", "wait", CREATE_JOB))
    assert sc.destination.called("remove_instance") == [("remove_instance", NAME)]
    assert sc.source.called("startup_instance") == []
    assert err.recovery == ["removed the incomplete destination instance %s (job %s)" % (NAME, REMOVE_JOB)]
    create = [j for j in err.outcome.jobs if j["operation"] == "create"][0]
    assert create["status"] == "success"


def test_create_still_running_when_the_move_fails_that_fails_without_import_entry_removes_nothing(sc):
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, [
        answer("running"), WAIT_FAILED, answer("running"),
        answer("error", error=["OpPrereqError", ["Instance 'inst1.test' already exists", "already_exists"]])])]
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    # an instance of that name appeared meanwhile: it is not this run's
    sc.destination.instance(NAME, None, copy.deepcopy(DEST_ROW))
    sc.destination.script("remove_instance", REMOVE_JOB, [answer("success")])

    err = failure(sc.move())

    assert (err.side, err.step, err.job_id) == ("destination", "create", CREATE_JOB)
    assert sc.destination.called("remove_instance") == []
    assert sc.source.called("startup_instance") == []
    assert err.recovery == []
    create = [j for j in err.outcome.jobs if j["operation"] == "create"][0]
    assert create["status"] == "error"  # the recovery followed it to its end


# ============================================================ names, name_check
def test_a_mixed_case_name_with_trailing_dot_moves_the_instance(sc):
    outcome = sc.move(name="Inst1.TEST.").run()
    assert outcome.state == "moved"
    assert sc.source.called("query_instance")[0] == ("query_instance", NAME)
    assert sc.destination.called("query_instance")[0] == ("query_instance", NAME)
    assert sc.create_body()["name"] == NAME
    assert sc.source.called("export_instance") == [("export_instance", NAME)]


@pytest.mark.parametrize("given, expected", [({}, True), ({"name_check": False}, False),
                                             ({"name_check": True}, True)])
def test_create_body_sends_name_check_explicitly(sc, given, expected):
    sc.move(**given).run()
    assert sc.create_body()["name_check"] is expected


# ============================================================ cancel answers
def test_refused_cancel_is_reported_as_not_cancelled():
    sc = Scenario(wait_advance=10.0)
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, [answer("queued")])]  # forever queued
    sc.destination.cancel_answer = [False, "Job no longer waiting, can't cancel"]
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    sc.destination.script("remove_instance", REMOVE_JOB, [answer("success")])

    err = failure(sc.move(timeout=60))

    assert err.step == "create"
    assert sc.destination.called("cancel_job") == [("cancel_job", CREATE_JOB)]
    assert not any(line.startswith("cancelled") for line in err.recovery)
    # not cancelled: the job may still create the instance, so it is named with the status seen last
    assert err.recovery == ["destination job %s (create) is queued; run the same task again: it waits for the job, "
                            "then finishes the move or reports both clusters" % CREATE_JOB]
    assert sc.destination.called("remove_instance") == []


def test_a_job_that_started_since_it_was_last_seen_is_not_cancelled():
    sc = Scenario(wait_advance=10.0)
    # queued at each /wait until the move's timeout, running by the time the recovery asks
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, [answer("queued")] * 3 + [answer("running")])]
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))

    err = failure(sc.move(timeout=60))

    assert err.step == "create"
    assert "was queued when the timeout" in err.message  # what the waiter saw last
    assert sc.destination.called("get_job") == [("get_job", CREATE_JOB)]
    assert sc.destination.called("cancel_job") == []
    assert not any("cancel" in line for line in err.recovery)


# ============================================================ verify failures
def test_failed_verify_with_kept_source_keeps_the_complete_destination(sc):
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    sc.destination.instance(NAME, None, RapiError("cannot connect", kind="connection"), copy.deepcopy(DEST_ROW))
    sc.destination.script("remove_instance", REMOVE_JOB, [answer("success")])
    sc.source.script("startup_instance", STARTUP_JOB, [answer("success")])

    err = failure(sc.move(keep_source=True))

    assert (err.side, err.step) == ("destination", "verify")
    assert "cannot connect" in err.message
    statuses = [(j["operation"], j["status"]) for j in err.outcome.jobs]
    assert ("export", "success") in statuses and ("create", "success") in statuses
    assert sc.destination.called("remove_instance") == []
    assert sc.source.called("startup_instance") == []
    assert err.recovery == ["kept the destination copy %s: it received every disk; check it with gnt-instance info"
                            % NAME]
