# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""move_history against job lists of two fake clusters (rows as /2/query/job returns them)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.ganeti.rapi.plugins.module_utils.move_history import (
    EarlierMove, find_earlier_move, live_jobs_of, operation,
)
from ansible_collections.ganeti.rapi.plugins.module_utils.rapi_client import RapiError
from ansible_collections.ganeti.rapi.tests.unit.plugins.module_utils.fake_rapi import FakeClock, FakeCluster

NAME, NEW_NAME = "inst1.test", "inst1-new.test"
CA_1, CA_2 = "X-Ganeti-Signature: s1/aaa\n\nCERT-ONE\n", "X-Ganeti-Signature: s2/bbb\n\nCERT-TWO\n"
KEY_1, KEY_2 = ["x509-key-one", "hmac1", "salt1"], ["x509-key-two", "hmac2", "salt2"]


def create_row(job_id, status="running", mode="remote-import", ca=CA_1, name=NAME):
    return {"id": job_id, "status": status, "summary": ["INSTANCE_CREATE(%s)" % name],
            "ops": [{"OP_ID": "OP_INSTANCE_CREATE", "instance_name": name, "mode": mode, "source_x509_ca": ca,
                     "disks": [{"size": 64}], "compress": "gzip"}],
            "opresult": [None]}


def prepare_row(job_id, ca=CA_1, key=None, status="success", mode="remote"):
    key = KEY_1 if key is None else key
    result = {"handshake": [0, "hs", "salt"], "x509_key_name": list(key), "x509_ca": ca}
    return {"id": job_id, "status": status, "summary": ["BACKUP_PREPARE(%s)" % NAME],
            "ops": [{"OP_ID": "OP_BACKUP_PREPARE", "instance_name": NAME, "mode": mode}],
            "opresult": [result if status == "success" else ["OpExecError", ["no key"]]]}


def export_row(job_id, key=None, status="running", mode="remote"):
    key = KEY_1 if key is None else key
    return {"id": job_id, "status": status, "summary": ["BACKUP_EXPORT(%s)" % NAME],
            "ops": [{"OP_ID": "OP_BACKUP_EXPORT", "instance_name": NAME, "mode": mode, "x509_key_name": list(key)}],
            "opresult": [None]}


@pytest.fixture
def clusters():
    clock = FakeClock()
    return FakeCluster("source", clock), FakeCluster("destination", clock)


def _find(clusters, destination_name=NAME):
    source, destination = clusters
    return find_earlier_move(source, destination, NAME, destination_name)


# ============================================================ find_earlier_move
def test_no_create_job_is_no_earlier_move(clusters):
    source, destination = clusters
    source.job_list = [prepare_row(10), export_row(11)]  # source jobs alone are not a move to resume
    assert _find(clusters) is None
    # one request: without a create job the source's job list is not read
    assert len(destination.called("query")) == 1 and source.called("query") == []


def test_create_with_matching_prepare_and_export(clusters):
    source, destination = clusters
    destination.job_list = [create_row("200")]
    source.job_list = [prepare_row(10), export_row(11), prepare_row(12, ca=CA_2, key=KEY_2), export_row(13, KEY_2)]

    earlier = _find(clusters)

    assert isinstance(earlier, EarlierMove)
    assert earlier.create["id"] == "200"
    assert earlier.prepare["id"] == 10
    assert earlier.prepare_result == {"handshake": [0, "hs", "salt"], "x509_key_name": KEY_1, "x509_ca": CA_1}
    assert earlier.export["id"] == 11  # matched by key name, not the newest export
    assert earlier.create_op["source_x509_ca"] == CA_1


def test_latest_matching_export_is_taken(clusters):
    source, destination = clusters
    destination.job_list = [create_row("200")]
    source.job_list = [prepare_row(10), export_row(9, status="error"), export_row(21), export_row(15)]
    assert _find(clusters).export["id"] == 21


def test_prepare_with_another_certificate_gives_the_create_only(clusters):
    source, destination = clusters
    destination.job_list = [create_row("200")]
    source.job_list = [prepare_row(10, ca=CA_2), export_row(11)]  # the export even carries KEY_1

    earlier = _find(clusters)

    assert earlier.create["id"] == "200"
    assert earlier.prepare is None and earlier.prepare_result is None and earlier.export is None


def test_failed_or_non_remote_prepare_does_not_match(clusters):
    source, destination = clusters
    destination.job_list = [create_row("200")]
    source.job_list = [prepare_row(10, status="error"), prepare_row(11, mode="local"), export_row(12)]
    earlier = _find(clusters)
    assert earlier.prepare is None and earlier.export is None


def test_export_with_another_key_is_not_taken(clusters):
    source, destination = clusters
    destination.job_list = [create_row("200")]
    source.job_list = [prepare_row(10), export_row(11, key=KEY_2), export_row(12, mode="local")]
    earlier = _find(clusters)
    assert earlier.prepare["id"] == 10
    assert earlier.export is None


def test_latest_create_by_numeric_id(clusters):
    source, destination = clusters
    # "9" > "10" as text: the job id must be compared as a number
    destination.job_list = [create_row("10", ca=CA_2), create_row("9", ca=CA_1)]
    source.job_list = [prepare_row(20, ca=CA_1), prepare_row(21, ca=CA_2, key=KEY_2)]

    earlier = _find(clusters)

    assert earlier.create["id"] == "10"
    assert earlier.prepare["id"] == 21  # the prepare that goes with that create


def test_only_remote_import_creates_count(clusters):
    source, destination = clusters
    destination.job_list = [create_row("300", mode="create"), create_row("301", mode="import")]
    assert _find(clusters) is None

    destination.job_list.append(create_row("200"))
    assert _find(clusters).create["id"] == "200"  # the newer plain creates are ignored


def test_jobs_of_other_instances_are_ignored(clusters):
    source, destination = clusters
    destination.job_list = [create_row("200", name="other.test")]
    assert _find(clusters) is None


def test_destination_name_is_used_on_the_destination(clusters):
    source, destination = clusters
    destination.job_list = [create_row("200", name=NEW_NAME), create_row("201", name=NAME)]
    source.job_list = [prepare_row(10)]
    earlier = _find(clusters, destination_name=NEW_NAME)
    assert earlier.create["id"] == "200"
    assert earlier.prepare["id"] == 10


def test_unreadable_job_list_raises(clusters):
    source, destination = clusters
    destination.job_list = [create_row("200")]
    source.query_errors["job"] = RapiError("Forbidden", status=403)
    with pytest.raises(RapiError):
        _find(clusters)


# ================================================================= live_jobs_of
def row(job_id, summary, status="running"):
    return {"id": job_id, "status": status, "summary": [summary], "ops": [{}], "opresult": [None]}


@pytest.mark.parametrize("status, live", [
    ("queued", True), ("waiting", True), ("running", True), ("canceling", True),
    ("success", False), ("error", False), ("canceled", False),
])
def test_live_jobs_by_status(clusters, status, live):
    source, destination = clusters
    destination.job_list = [create_row("200", status=status)]
    source.job_list = [export_row(12, status=status)]
    found = live_jobs_of("source", source, NAME) + live_jobs_of("destination", destination, NAME)
    assert [(side, job["id"]) for side, job in found] == ([("source", 12), ("destination", "200")] if live else [])


def test_live_jobs_cover_every_changing_operation_of_the_instance_only(clusters):
    source, destination = clusters
    source.job_list = [row(5, "INSTANCE_STARTUP(%s)" % NAME), row(3, "BACKUP_PREPARE(%s)" % NAME),
                       row(4, "INSTANCE_REMOVE(%s)" % NAME), row(6, "INSTANCE_STARTUP(other.test)"),
                       row(7, "INSTANCE_SHUTDOWN(%s)" % NAME)]
    destination.job_list = [row(9, "INSTANCE_REMOVE(%s)" % NEW_NAME), row(8, "INSTANCE_REMOVE(%s)" % NAME)]
    found = live_jobs_of("source", source, NAME) + live_jobs_of("destination", destination, NEW_NAME)
    # one query per cluster, without job logs or results: it is asked on every preflight
    queries = source.called("query") + destination.called("query")
    assert len(queries) == 2
    assert not any({"ops", "opresult", "oplog"} & set(call[3]) for call in queries)
    assert [(side, job["id"], operation(job)) for side, job in found] == [
        ("source", 3, "prepare-export"), ("source", 4, "remove"), ("source", 5, "startup"),
        ("source", 7, "shutdown"), ("destination", 9, "remove")]


# ============================================================ evidence of a move
def test_evidence_needs_the_source_prepare(clusters):
    source, destination = clusters
    destination.job_list = [create_row("200", status="success")]
    earlier = _find(clusters)
    assert not earlier.from_source
    source.job_list = [prepare_row(10)]
    assert _find(clusters).from_source


def test_data_sent_from_the_result_or_the_removal_line(clusters):
    source, destination = clusters
    export = export_row(11, status="success")
    export["opresult"] = [[True, [True, True]]]
    destination.job_list = [create_row("200", status="success")]
    source.job_list = [prepare_row(10), export]
    assert _find(clusters).data_sent
    export["opresult"] = [[True, [True, False]]]
    assert not _find(clusters).data_sent
    export["status"] = "error"
    export["opresult"] = [["OpExecError", ["Could not remove instance"]]]
    export["oplog"] = [[[1, [0, 0], "message", "Removing instance %s" % NAME]]]
    assert _find(clusters).data_sent


def test_data_received_needs_success_without_import_failures(clusters):
    source, destination = clusters
    create = create_row("200", status="success")
    destination.job_list = [create]
    assert _find(clusters).data_received
    create["oplog"] = [[[1, [0, 0], "message", "Disk 0 failed to receive data: timeout"]]]
    assert not _find(clusters).data_received
    create["oplog"], create["status"] = [], "error"
    assert not _find(clusters).data_received


def test_the_create_that_made_the_instance_wins_over_a_later_failed_one(clusters):
    source, destination = clusters
    lost = create_row("300", status="error", ca=CA_2)
    destination.job_list = [create_row("200", status="success"), lost]
    source.job_list = [prepare_row(10), prepare_row(11, ca=CA_2, key=KEY_2)]
    earlier = _find(clusters)
    assert earlier.create["id"] == "200" and earlier.prepare["id"] == 10
    destination.job_list = [create_row("200", status="error"), lost]
    assert _find(clusters).create["id"] == "300"


def test_the_export_error_is_ganetis_message(clusters):
    source, destination = clusters
    failed = export_row(11, status="error")
    failed["opresult"] = [["OpExecError", ["Could not remove instance %s" % NAME]]]
    destination.job_list = [create_row("200", status="success")]
    source.job_list = [prepare_row(10), failed]
    assert _find(clusters).export_error == "Could not remove instance %s" % NAME
