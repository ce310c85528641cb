# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""JobWaiter against a scripted /wait, with a fake clock (no real waiting)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.ganeti.rapi.plugins.module_utils.job_logs import messages
from ansible_collections.ganeti.rapi.plugins.module_utils.job_waiter import (
    WAIT_FIELDS, Deadline, JobFailed, JobLost, JobResult, JobTimeout, JobWaiter, JobWatch, decode_error,
)
from ansible_collections.ganeti.rapi.plugins.module_utils.rapi_client import RapiError
from ansible_collections.ganeti.rapi.tests.unit.plugins.module_utils.fake_rapi import (
    FakeClock, ScriptedJobClient, answer, job_info, log_entry,
)


def _waiter(script, clock=None, advance=0.0, deadline=None, reconnect_for=180, request_timeout=60):
    clock = clock or FakeClock()
    client = ScriptedJobClient(script, clock=clock, advance=advance, request_timeout=request_timeout)
    waiter = JobWaiter(client, deadline, reconnect_for=reconnect_for, sleep=clock.sleep, clock=clock)
    return waiter, client, clock


def _serials(watch):
    return [entry[0] for entry in watch.log]


def test_log_entries_once_each_in_serial_order_despite_overlaps():
    waiter, client, clock = _waiter([
        answer("running", logs=[log_entry(1, "message", "one"), log_entry(2, "message", "two")]),
        answer("running", logs=[log_entry(2, "message", "two"), log_entry(3, "message", "three")]),
        answer("running", logs=[log_entry(5, "message", "five"), log_entry(3, "message", "three"),
                                log_entry(4, "message", "four")]),
        answer("success", logs=[log_entry(5, "message", "five"), log_entry(6, "message", "six")],
               result="done"),
    ])
    watch = JobWatch(17, "source", "export")

    assert waiter.wait(watch) is None

    assert _serials(watch) == [1, 2, 3, 4, 5, 6]
    assert [c["previous_log_serial"] for c in client.calls] == [None, 2, 3, 5]
    assert all(c["job_id"] == 17 and c["fields"] == WAIT_FIELDS for c in client.calls)
    assert watch.result.succeeded
    assert watch.result.result == "done"


def test_unchanged_answers_keep_waiting_until_final():
    running = answer("running", logs=[log_entry(1, "message", "started")])
    unchanged = answer("running")
    waiter, client, clock = _waiter([running] + [unchanged] * 5 + [answer("success", result=[True])])
    watch = JobWatch(3)

    waiter.wait(watch)

    assert len(client.calls) == 7
    assert watch.result.status == "success"
    assert _serials(watch) == [1]
    # every later /wait tells the server what we already have
    for call in client.calls[1:]:
        assert call["previous_job_info"] == running["job_info"]
        assert call["previous_log_serial"] == 1


def test_null_answers_from_old_servers_mean_no_change():
    waiter, client, clock = _waiter([None, None, answer("running"), None, answer("success", result=1)])
    watch = JobWatch("9")

    waiter.wait(watch)

    assert len(client.calls) == 5
    assert watch.result.result == 1
    assert client.calls[4]["previous_job_info"] == job_info("running")


def test_until_returns_the_matching_entry_and_a_later_wait_continues():
    impinfo = {"disks": [["198.18.0.21", 40001, "f" * 40, "h" * 40, "s" * 16]], "x509_ca": "CA"}
    waiter, client, clock = _waiter([
        answer("running", logs=[log_entry(1, "message", "creating"), log_entry(2, "remote-import", impinfo),
                                log_entry(3, "message", "listening")]),
        answer("running", logs=[log_entry(4, "message", "receiving")]),
        answer("success", logs=[log_entry(5, "message", "imported")], result=["node1"]),
    ])
    watch = JobWatch(21, "destination", "create")

    found = waiter.wait(watch, until=lambda entry: entry[2] == "remote-import")

    assert found == log_entry(2, "remote-import", impinfo)
    assert not watch.finished
    assert _serials(watch) == [1, 2, 3]  # nothing of the batch is lost
    assert len(client.calls) == 1

    assert waiter.wait(watch) is None
    assert [c["previous_log_serial"] for c in client.calls] == [None, 3, 4]
    assert _serials(watch) == [1, 2, 3, 4, 5]
    assert watch.result.succeeded
    # a finished watch is not polled again
    assert waiter.wait(watch) is None
    assert len(client.calls) == 3


def test_until_matching_in_the_final_answer_still_returns_the_entry():
    waiter, client, clock = _waiter([answer("success", logs=[log_entry(1, "remote-import", {"disks": []})], result=1)])
    watch = JobWatch(1)
    found = waiter.wait(watch, until=lambda entry: entry[2] == "remote-import")
    assert found[0] == 1
    assert watch.finished


def test_until_never_matching_returns_none_at_the_end():
    waiter, client, clock = _waiter([answer("running", logs=[log_entry(1, "message", "x")]),
                                     answer("success", result=["node1"])])
    watch = JobWatch(1)
    assert waiter.wait(watch, until=lambda entry: entry[2] == "remote-import") is None
    assert watch.result.succeeded


@pytest.mark.parametrize("lost_answer", [
    {"job_info": [None, None, None, None, None, None, None], "log_entries": []},
    {"job_info": None, "log_entries": []},
], ids=["status-null", "job-info-null"])
def test_null_status_is_job_lost(lost_answer):
    waiter, client, clock = _waiter([answer("running"), lost_answer])
    watch = JobWatch(55)
    with pytest.raises(JobLost) as info:
        waiter.wait(watch)
    assert "job 55 is unknown to the cluster" in str(info.value)


def test_cant_load_job_file_is_job_lost():
    waiter, client, clock = _waiter([RapiError("Can't load job file", status=500, method="GET",
                                               path="/2/jobs/56/wait")])
    with pytest.raises(JobLost) as info:
        waiter.wait(JobWatch(56))
    assert "job 56 is unknown to the cluster" in str(info.value)
    assert "Can't load job file" in str(info.value)
    assert clock.sleeps == []  # not retried
    assert len(client.calls) == 1


def test_transient_errors_are_retried_then_succeed():
    waiter, client, clock = _waiter([
        RapiError("cannot connect", kind="connection"),
        RapiError("Bad Gateway", status=502),
        RapiError("no answer", kind="timeout"),
        RapiError("Gateway Timeout", status=504),
        answer("success", result="ok"),
    ])
    watch = JobWatch(8)

    waiter.wait(watch)

    assert watch.result.result == "ok"
    assert len(client.calls) == 5
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0]


def test_backoff_restarts_after_a_good_answer():
    waiter, client, clock = _waiter([
        RapiError("x", kind="connection"), RapiError("x", kind="connection"), answer("running"),
        RapiError("x", kind="connection"), answer("success"),
    ])
    waiter.wait(JobWatch(8))
    assert clock.sleeps == [0.5, 1.0, 0.5]


def test_persistent_transient_errors_are_raised_after_reconnect_for():
    error = RapiError("cannot connect to https://cluster-b.test:5080", kind="connection")
    waiter, client, clock = _waiter([error] * 50, reconnect_for=10)
    started = clock.now

    with pytest.raises(RapiError) as info:
        waiter.wait(JobWatch(8))

    assert info.value is error
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 5.0]
    assert clock.now - started >= 10
    assert len(client.calls) == 6


def test_non_transient_errors_are_raised_at_once():
    error = RapiError("Forbidden", status=403)
    waiter, client, clock = _waiter([error, answer("success")])
    with pytest.raises(RapiError) as info:
        waiter.wait(JobWatch(8))
    assert info.value is error
    assert clock.sleeps == []
    assert len(client.calls) == 1


def test_deadline_expiry_is_job_timeout():
    clock = FakeClock()
    deadline = Deadline(30, clock)
    waiter, client, clock = _waiter([answer("running")] * 10, clock=clock, advance=10.0, deadline=deadline)
    watch = JobWatch(77, "destination", "create")

    with pytest.raises(JobTimeout) as info:
        waiter.wait(watch)

    assert "job 77 was running when the timeout" in str(info.value)
    assert "30s" in str(info.value)
    assert len(client.calls) == 3
    assert not watch.finished


def test_deadline_already_expired_does_not_call_the_server():
    clock = FakeClock()
    deadline = Deadline(0, clock)
    waiter, client, clock = _waiter([answer("success")], clock=clock, deadline=deadline)
    with pytest.raises(JobTimeout) as info:
        waiter.wait(JobWatch(78))
    assert "was not yet seen when the timeout" in str(info.value)
    assert client.calls == []


def test_http_timeout_covers_the_server_hold():
    clock = FakeClock()
    waiter, client, clock = _waiter([answer("running"), answer("success")], clock=clock, advance=0,
                                    deadline=Deadline(5, clock), request_timeout=3)
    waiter.wait(JobWatch(1))
    # request_timeout is raised to the server's 10 s hold, then capped by the 5 s left
    assert [c["timeout"] for c in client.calls] == [5, 5]

    waiter, client, clock = _waiter([answer("success")], request_timeout=60)
    waiter.wait(JobWatch(1))
    assert client.calls[0]["timeout"] == 60

    clock = FakeClock()
    waiter, client, clock = _waiter([answer("success")], clock=clock, deadline=Deadline(40, clock), request_timeout=60)
    waiter.wait(JobWatch(1))
    assert client.calls[0]["timeout"] == 40


def test_result_raises_job_failed_in_ganetis_words():
    # the recovery reports a failed remove or startup with this text
    error = ["OpPrereqError", ["Instance 'x' already exists", "already_exists"]]
    waiter, client, clock = _waiter([answer("error", error=error, logs=[log_entry(1, "message", "checking")])])
    watch = JobWatch(90)

    with pytest.raises(JobFailed) as info:
        waiter.result(watch)

    assert str(info.value) == "Instance 'x' already exists"
    assert watch.result.log == [log_entry(1, "message", "checking")]


def test_result_returns_the_successful_result():
    waiter, client, clock = _waiter([answer("success", result=[True, [True]])])
    result = waiter.result(JobWatch(91))
    assert isinstance(result, JobResult)
    assert result.result == [True, [True]]


def test_canceled_job():
    waiter, client, clock = _waiter([answer("queued"), answer("canceled", opstatus=["canceled"])])
    watch = JobWatch(92)

    with pytest.raises(JobFailed) as info:
        waiter.result(watch)

    assert watch.result.status == "canceled"
    assert not watch.result.succeeded
    assert str(info.value) == "the job was canceled"


# ---------------------------------------------------------------- decoding
def test_decode_error_shapes():
    assert decode_error(["OpPrereqError", ["msg", "wrong_input"]]) == ("OpPrereqError", "msg", "wrong_input")
    assert decode_error(["OpExecError", ["msg"]]) == ("OpExecError", "msg", None)
    assert decode_error(["GenericError", []]) == ("GenericError", "", None)
    assert decode_error(["OpExecError", "flat text"]) == ("OpExecError", "flat text", None)
    assert decode_error("garbage") == ("UnknownError", "garbage", None)
    assert decode_error(None) == ("UnknownError", "None", None)


def test_job_result_error_picks_the_failed_opcode():
    result = JobResult(5, "error", ["success", "error"],
                       [["node1"], ["OpExecError", ["Disk 1 failed"]]], [])
    assert result.error() == ("OpExecError", "Disk 1 failed", None)

    result = JobResult(5, "error", ["error"], [["OpPrereqError", ["Invalid handshake", "wrong_input"]]], [])
    assert result.error() == ("OpPrereqError", "Invalid handshake", "wrong_input")

    # no per-opcode status: fall back to the first result
    result = JobResult(5, "error", None, [["OpExecError", ["boom"]]], [])
    assert result.error() == ("OpExecError", "boom", None)

    assert JobResult(5, "success", ["success"], [1], []).error() == (None, None, None)


def test_log_messages_skip_other_entry_types():
    log = [log_entry(1, "message", "a"), log_entry(2, "remote-import", {"disks": []}), log_entry(3, "message", "b")]
    assert messages(log) == ["a", "b"]
