# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""job_logs: what a move reads from Ganeti's job logs and results, with entries as /2/jobs/ID/wait returns them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.ganeti.rapi.plugins.module_utils import job_logs
from ansible_collections.ganeti.rapi.plugins.module_utils.job_waiter import JobResult
from ansible_collections.ganeti.rapi.tests.unit.plugins.module_utils.fake_rapi import (
    EXPINFO, IMPINFO, IMPORT_WARNING, INSTINFO, NAME, log_entry,
)


def _log(*texts):
    return [log_entry(serial, "message", text) for serial, text in enumerate(texts, 1)]


def test_the_instance_info_of_the_one_instance_asked_about():
    assert job_logs.one_instance({NAME: INSTINFO}) is INSTINFO
    assert job_logs.one_instance({}) is None
    assert job_logs.one_instance({NAME: INSTINFO, "other": INSTINFO}) is None
    assert job_logs.one_instance([INSTINFO]) is None
    assert job_logs.one_instance({NAME: None}) is None


def test_a_prepare_export_result_needs_the_handshake_certificate_and_key_name():
    assert job_logs.has_handshake(EXPINFO)
    assert not job_logs.has_handshake(dict((k, v) for k, v in EXPINFO.items() if k != "x509_key_name"))
    assert not job_logs.has_handshake(None)
    assert not job_logs.has_handshake([EXPINFO])


def test_the_import_endpoints_of_a_remote_import_entry():
    entry = log_entry(3, "remote-import", IMPINFO)
    assert job_logs.is_remote_import(entry)
    assert job_logs.import_endpoints(entry) is IMPINFO
    assert job_logs.import_endpoints(log_entry(3, "remote-import", {"disks": []})) is None
    assert job_logs.import_endpoints(log_entry(3, "remote-import", "text")) is None
    assert not job_logs.is_remote_import(log_entry(3, "message", "remote-import"))


@pytest.mark.parametrize("value, failed", [
    ([True, [True, True]], []), ([True, [True, False]], ["1"]), ([False, [None, True, "x"]], ["0", "2"]),
    (None, []), ("error", []), ([True], []),
])
def test_the_disks_an_export_result_marks_as_not_sent(value, failed):
    assert job_logs.failed_disks(value) == failed


@pytest.mark.parametrize("status, value, complete", [
    ("success", [True, [True, True]], True), ("success", [True, [True, False]], False),
    ("success", [True, []], False), ("error", [True, [True]], False), ("success", [False, [True]], False),
])
def test_an_export_is_complete_only_when_every_disk_was_sent(status, value, complete):
    assert job_logs.export_complete(status, value) is complete


def test_every_disk_sent_counts_the_disks_that_finished_sending():
    log = _log("Disk 0 sent 1.2G, 45.3 MiB/s, 23%, ETA 2m 13s", "Disk 0 finished sending data",
               "Disk 0 finished sending data")
    assert job_logs.disks_sent(log) == {"0"}
    assert not job_logs.every_disk_sent(log, 2)
    assert job_logs.every_disk_sent(log + _log("Disk 1 finished sending data"), 2)
    assert not job_logs.every_disk_sent([], 0)  # an instance without disks is never "all sent" by its log


def test_data_sent_by_the_result_or_the_removal_line():
    assert job_logs.data_sent("success", [True, [True]], [])
    assert job_logs.data_sent("error", None, _log("Removing instance %s" % NAME))
    assert not job_logs.data_sent("error", None, _log("Shutting down instance %s" % NAME))
    assert job_logs.shut_down_source(_log("Shutting down instance %s" % NAME))


def test_an_import_is_received_only_without_a_failure_line():
    assert job_logs.import_received("success", _log("Disk 0 received"))
    assert not job_logs.import_received("success", _log(IMPORT_WARNING))
    assert job_logs.import_failures(_log("x", IMPORT_WARNING)) == [IMPORT_WARNING]
    assert not job_logs.import_received("error", [])


def test_failure_lines_are_the_last_that_say_what_failed():
    log = _log("start", "socat: E connect failed", "Disk 0 failed to send", "error in disk 1", "done")
    assert job_logs.failure_lines(log) == ["Disk 0 failed to send", "error in disk 1"]


def _failed(error_class, *texts):
    return JobResult(7, "error", ["error"], [[error_class, ["refused", "wrong_input"]]], _log(*texts))


def test_a_successful_job_acted():
    assert job_logs.acted(JobResult(7, "success", ["success"], [None], []))


@pytest.mark.parametrize("result, acted", [
    (_failed("OpPrereqError"), False),
    (_failed("OpPrereqError", " - INFO: Selected nodes for instance x via iallocator hail: node1",
             " - WARNING: something", "      Hint: do this"), False),
    (_failed("OpPrereqError", "Creating disks", " - INFO: x"), True),
    (_failed("OpExecError"), False),
    (_failed("OpExecError", " - INFO: Selected nodes"), True),
], ids=["checks-refused", "checks-refused-after-logging", "refused-after-acting", "failed-silently",
        "failed-after-logging"])
def test_a_failed_job_acted_when_its_log_says_more_than_its_checks(result, acted):
    assert job_logs.acted(result) is acted


def test_a_job_lists_oplog_is_one_list_of_entries():
    assert job_logs.flat_oplog([[log_entry(1, "message", "a")], None, [log_entry(2, "message", "b")]]) == [
        log_entry(1, "message", "a"), log_entry(2, "message", "b")]
    assert job_logs.flat_oplog(None) == []
