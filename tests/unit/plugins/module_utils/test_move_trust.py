# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Identity, names, "changed" on failure, tracebacks and the diff, against two fake clusters."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.ganeti.rapi.plugins.module_utils.rapi_client import RapiError
from ansible_collections.ganeti.rapi.tests.unit.plugins.module_utils.fake_rapi import (
    failure,
    CREATE_JOB, DEST_ROW, HASH_ERROR, NAME, REMOVE_JOB, SOURCE_INFO, SOURCE_ROW, Scenario, answer,
    log_entry,
)


def _nothing_touched(sc):
    # The clusters' identities come in the same round of reads as the instance rows: reading touches nothing.
    assert sc.submitted() == []
    assert sc.source.called("cancel_job") == [] and sc.destination.called("cancel_job") == []


# ====================================================================== identity
@pytest.mark.parametrize("method", ["run", "check"])
@pytest.mark.parametrize("destination_info", [
    dict(SOURCE_INFO),  # the same cluster, same UUID
    dict(SOURCE_INFO, name="CLUSTER-A.test"),  # same UUID; the name as another resolver spells it
    dict((k, v) for k, v in SOURCE_INFO.items() if k != "uuid"),  # a version without UUID: by name
], ids=["same-uuid", "same-uuid-other-spelling", "same-name-no-uuid"])
def test_one_cluster_reached_twice_is_refused_before_anything(sc, method, destination_info):
    sc.destination.info = destination_info
    sc.destination.host, sc.destination.port = "localhost", 15080
    sc.source.host, sc.source.port = "127.0.0.1", 15080

    err = failure(sc.move(keep_source=True, destination_name="copy.test"), method)

    assert (err.side, err.step) == ("input", "preflight")
    assert err.message.startswith("source (127.0.0.1:15080) and destination (localhost:15080) are the same cluster")
    assert "nothing was touched" in err.message
    assert "gnt-instance rename" in err.hint and "gnt-instance move" in err.hint
    assert err.changed is False and err.recovery == []
    _nothing_touched(sc)


def test_one_cluster_reached_twice_is_said_even_when_another_read_failed(sc):
    # The identities come in the same round as the instance rows: a read refused on the second address (a
    # read-only user, say) does not hide what is wrong.
    sc.destination.info = dict(SOURCE_INFO)
    sc.destination.instance(NAME, RapiError("Forbidden", status=403))

    err = failure(sc.move())

    assert (err.side, err.step) == ("input", "preflight")
    assert "are the same cluster" in err.message
    _nothing_touched(sc)


# ========================================================================= names
@pytest.mark.parametrize("method", ["run", "check"])
def test_a_failed_read_with_the_canonical_name_is_a_preflight_error_of_the_destination(sc, method):
    sc.source.instance("inst1", copy.deepcopy(SOURCE_ROW), None)  # the source expands inst1 to inst1.test
    sc.destination.instance(NAME, RapiError("Service Unavailable", status=503))
    err = failure(sc.move(name="inst1"), method)
    assert (err.side, err.step) == ("destination", "preflight") and "Service Unavailable" in err.message
    assert sc.submitted() == []


def test_a_short_name_moves_under_the_canonical_name(sc):
    sc.source.instance("inst1", copy.deepcopy(SOURCE_ROW), None)  # the source expands inst1 to inst1.test
    outcome = sc.move(name="inst1").run()

    assert outcome.state == "moved"
    assert [call[1] for call in sc.source.submitted()] == [NAME, NAME, NAME]  # info, prepare, export
    body = sc.create_body()
    assert (body["name"], body["source_instance_name"]) == (NAME, NAME)
    # The destination is read beside the source with the name as given, then again with the canonical name (the
    # first answer is not used), and once more at the end.
    assert sc.destination.called("query_instance") == [("query_instance", "inst1"), ("query_instance", NAME),
                                                       ("query_instance", NAME)]
    assert outcome.message.startswith("%s moved to cluster-b.test as %s" % (NAME, NAME))


@pytest.mark.parametrize("given", ["inst1-new", "INST1"])
def test_a_short_destination_name_with_name_check_is_refused_before_any_job(sc, given):
    err = failure(sc.move(destination_name=given))

    assert (err.side, err.step) == ("input", "preflight")
    assert "is not fully qualified" in err.message
    assert "%s.test" % given.lower() in err.hint and "name_check: false" in err.hint
    assert sc.submitted() == []


def test_a_short_destination_name_without_name_check_is_used_as_given(sc):
    sc.destination.instance("inst1-new", None, dict(DEST_ROW, name="inst1-new"))
    sc.move(destination_name="inst1-new", name_check=False).run()
    assert sc.create_body()["name"] == "inst1-new"


def test_a_destination_name_ganeti_expands_to_another_instance_is_not_the_copy(sc):
    # the destination knows inst1.test.other: Ganeti's name lookup expands inst1.test to it
    sc.destination.instance(NAME, dict(DEST_ROW, name="inst1.test.other"))
    outcome = sc.move().check()
    assert outcome.state == "would_move"


def test_an_unknown_short_name_suggests_the_full_name(sc):
    sc.source.instance("inst1", None)
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))  # what the suggestion finds
    sc.destination.instance("inst1", None)

    err = failure(sc.move(name="inst1"))

    assert (err.side, err.step) == ("source", "preflight")
    assert "instance inst1 exists on neither cluster" in err.message
    assert err.hint == "use the full name: %s" % NAME
    assert sc.submitted() == []


# ====================================================================== changed
def test_a_failed_move_that_created_and_removed_reports_changed(sc):
    sc.destination.script("remove_instance", REMOVE_JOB, [answer("success")])
    failed = answer("error", error=["OpExecError", ["Export failed"]],
                    logs=[log_entry(1, "message", "Disk 0 failed to send")])
    sc.source.script("export_instance", 103, [failed])
    sc.source.submit_scripts["export_instance"].pop(0)
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    sc.destination.instance(NAME, None, copy.deepcopy(DEST_ROW))

    err = failure(sc.move())

    assert err.changed is True
    assert any("removed the incomplete destination instance" in line for line in err.recovery)


def test_a_create_refused_up_front_is_not_a_change(sc):
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, [answer("error", error=HASH_ERROR)])]
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))

    err = failure(sc.move())

    assert err.step == "create" and "domain secret" in err.hint
    assert err.changed is False


def test_a_create_refused_by_a_check_after_logging_is_not_a_change(sc):
    # the lab's 3.0 destination logs its iallocator choice, then refuses the NIC's address in CheckPrereq
    refused = answer("error", error=["OpPrereqError", ["The requested IP address (192.0.2.7) belongs to network "
                                                       "net1, but the target NIC does not.", "wrong_input"]],
                     logs=[log_entry(1, "message", " - INFO: Selected nodes for instance %s via iallocator hail"
                                     % NAME)])
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, [refused])]
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))

    err = failure(sc.move())

    assert err.step == "create" and "belongs to network net1" in err.message
    assert err.changed is False


def test_a_create_refused_after_making_the_disks_is_a_change(sc):
    # Ganeti's Exec raises OpPrereqError when the OS is missing on the node, after the disks were made
    refused = answer("error", error=["OpPrereqError", ["OS 'noop' is not available in node 'node1'", "wrong_input"]],
                     logs=[log_entry(1, "message", " - INFO: Selected nodes for instance %s via iallocator hail"
                                     % NAME),
                           log_entry(2, "message", "* creating instance disks..."),
                           log_entry(3, "message", "adding instance %s to cluster config" % NAME)])
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, [refused])]
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))

    err = failure(sc.move())

    assert err.changed is True


def test_a_create_that_failed_while_acting_is_a_change(sc):
    failed = answer("error", error=["OpExecError", ["Could not create disk"]],
                    logs=[log_entry(1, "message", "* creating instance disks...")])
    sc.destination.submit_scripts["create_instance"] = [(CREATE_JOB, [failed])]
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))

    err = failure(sc.move())

    assert err.step == "create"
    assert err.changed is True


# =================================================================== traceback
def test_an_unexpected_exception_keeps_its_traceback(sc):
    sc.source.submit_scripts["export_instance"] = [KeyError("destination_x509_ca")]
    sc.destination.script("remove_instance", REMOVE_JOB, [answer("success")])
    sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))

    err = failure(sc.move())

    assert err.side == "controller"
    assert err.traceback and "Traceback (most recent call last)" in err.traceback
    assert "KeyError: 'destination_x509_ca'" in err.traceback
    assert "export_instance" in err.traceback  # where it was raised


# ========================================================================= diff
def test_check_mode_diff_shows_both_clusters_by_name_and_every_change(sc):
    outcome = sc.move(primary_node="node2.cluster-b.test", disk_template="plain", beparams={"maxmem": 512},
                      nics=[{"link": "br-new", "mac": "generate"}], start=False).check()

    before, after = outcome.diff["before"], outcome.diff["after"]
    assert (before["cluster"], after["cluster"]) == ("cluster-a.test", "cluster-b.test")
    assert (before["primary_node"], after["primary_node"]) == ("node1.cluster-a.test", "node2.cluster-b.test")
    assert (before["disk_template"], after["disk_template"]) == ("file", "plain")
    assert (before["beparams"], after["beparams"]) == ({"maxmem": 256, "vcpus": 2}, {"maxmem": 512, "vcpus": 2})
    assert before["nics"] == [{"mac": "aa:00:00:b3:0a:23", "mode": "bridged", "link": "br0"}]
    assert after["nics"] == [{"mac": "generate", "mode": "bridged", "link": "br-new"}]
    assert (before["admin_state"], after["admin_state"]) == ("up", "down")
    assert after["hvparams"] == before["hvparams"] and after["osparams"] == before["osparams"]


def test_diff_by_iallocator_names_it_and_after_a_move_shows_the_real_copy(sc):
    outcome = sc.move().check()
    assert outcome.diff["after"]["primary_node"] == "chosen by iallocator hail"
    sc2 = Scenario()
    moved = sc2.move().run()
    assert moved.diff["after"]["primary_node"] == DEST_ROW["pnode"]
    assert moved.diff["after"]["cluster"] == "cluster-b.test"
