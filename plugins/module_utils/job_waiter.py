# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Follow Ganeti jobs through RAPI's long-polling ``/2/jobs/ID/wait``.

The server answers ``/wait`` as soon as the job's fields or log change, or
after about ten seconds with unchanged data, so there is no fixed-interval
polling: a log entry reaches the caller within one round trip of being
written.  The fields asked for include the result, so a
finished job needs no extra ``GET /2/jobs/ID``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.ganeti.rapi.plugins.module_utils.rapi_client import RapiError

FINAL_STATUSES = ("success", "error", "canceled")
WAIT_FIELDS = ["status", "opstatus", "opresult"]
# Errors after which the same /wait is simply asked again (RAPI or master
# daemon restarting, a dropped connection).
_TRANSIENT_KINDS = ("connection", "timeout")
_TRANSIENT_STATUSES = (502, 503, 504)


class Deadline:
    """An absolute point in time on the monotonic clock."""

    def __init__(self, seconds, clock=time.monotonic):
        self._clock = clock
        self.seconds = seconds
        self._end = clock() + seconds

    def remaining(self):
        return self._end - self._clock()

    def expired(self):
        return self.remaining() <= 0


class JobError(Exception):
    """Base of the waiter's errors; the message names the job."""


class JobLost(JobError):
    """The cluster no longer knows the job (archived, or the id is wrong)."""


class JobTimeout(JobError):
    """The deadline passed while the job was still running."""


class JobFailed(JobError):
    """The job ended with status error or canceled."""

    def __init__(self, result):
        super(JobFailed, self).__init__(result.error()[1] or "job %s %s" % (result.job_id, result.status))


class JobResult:
    """A finished job: status, per-opcode status and results, log."""

    def __init__(self, job_id, status, opstatus, opresult, log):
        self.job_id = job_id
        self.status = status
        self.opstatus = opstatus or []
        self.opresult = opresult or []
        self.log = log

    @property
    def succeeded(self):
        return self.status == "success"

    @property
    def result(self):
        """The first opcode's result (RAPI jobs of interest have one opcode)."""
        return self.opresult[0] if self.opresult else None

    def error(self):
        """(error class, message, ecode) of the first failed opcode."""
        if self.status == "canceled":
            return ("JobCanceled", "the job was canceled", None)
        for index, status in enumerate(self.opstatus):
            if status in ("error", "canceled") and index < len(self.opresult):
                return decode_error(self.opresult[index])
        if self.status == "error":
            return decode_error(self.result)
        return (None, None, None)


def decode_error(encoded):
    """``["OpPrereqError", ["msg", "wrong_input"]]`` -> ("OpPrereqError", "msg", "wrong_input")."""
    if isinstance(encoded, (list, tuple)) and len(encoded) == 2 and isinstance(encoded[0], str):
        args = encoded[1]
        if isinstance(args, (list, tuple)):
            message = str(args[0]) if args else ""
            code = args[1] if len(args) > 1 and isinstance(args[1], str) else None
            return (encoded[0], message, code)
        return (encoded[0], str(args), None)
    return ("UnknownError", str(encoded), None)


def timestamp(value):
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return value[0] + value[1] / 1000000.0
    return value


class JobWatch:
    """The waiter's position in one job: last log serial and last job info."""

    def __init__(self, job_id, side=None, operation=None):
        self.job_id = job_id
        self.side = side
        self.operation = operation
        self.log = []
        self.previous_info = None
        self.previous_serial = None
        self.result = None
        self.cancelled = False
        self.seen_status = None  # the last status seen (by /wait or GET /2/jobs/ID)

    @property
    def finished(self):
        return self.result is not None

    @property
    def status(self):
        """The final status, or the last one seen; "submitted" before any answer."""
        if self.result is not None:
            return self.result.status
        if self.cancelled:
            return "canceled"
        return self.seen_status or "submitted"


class JobWaiter:
    """Follows jobs of one RAPI client up to a deadline."""

    def __init__(self, client, deadline=None, reconnect_for=180, sleep=time.sleep, clock=time.monotonic,
                 listener=None):
        self.client = client
        # listener(watch, new_entries) hears every answer of the long poll, changed or not.
        self.listener = listener
        self.deadline = deadline
        self.reconnect_for = reconnect_for
        self._sleep = sleep
        self._clock = clock

    def wait(self, watch, until=None):
        """Follow ``watch`` until it finishes, or until ``until(entry)`` is true for a log entry.

        Returns the matching log entry, or None once the job has finished
        (its :class:`JobResult` is then in ``watch.result``).  Raises
        :class:`JobLost` or :class:`JobTimeout`; a failed job is not an
        exception here (see :meth:`result`).
        """
        if watch.finished:
            return None
        failing_since = None
        backoff = 0.5
        while True:
            if self._expired():
                raise JobTimeout("job %s was %s when the timeout of %ss expired"
                                 % (watch.job_id, watch.seen_status or "not yet seen", self.deadline.seconds))
            try:
                answer = self.client.wait_for_job_change(watch.job_id, WAIT_FIELDS, watch.previous_info,
                                                         watch.previous_serial, timeout=self._http_timeout())
            except RapiError as exc:
                if exc.status == 500 and "load job file" in (exc.message or ""):
                    raise JobLost("job %s is unknown to the cluster (%s)" % (watch.job_id, exc.message))
                if exc.kind == "deadline" or (exc.kind == "timeout" and self._expired()):
                    continue  # cut short by the deadline: the loop's first check reports it
                if exc.kind in _TRANSIENT_KINDS or exc.status in _TRANSIENT_STATUSES:
                    now = self._clock()
                    if failing_since is None:
                        failing_since = now
                    if now - failing_since < self.reconnect_for:
                        self._tell(watch, [])  # the job still runs as far as anyone knows
                        self._sleep(self._capped(backoff))
                        backoff = min(backoff * 2, 5)
                        continue
                raise
            failing_since, backoff = None, 0.5
            if answer is None:
                self._tell(watch, [])
                continue  # "no change" from servers older than 2.11
            job_info = answer.get("job_info")
            if not job_info or job_info[0] is None:
                raise JobLost("job %s is unknown to the cluster" % watch.job_id)
            found = None
            new = []
            for entry in sorted(answer.get("log_entries") or [], key=lambda item: item[0]):
                if watch.previous_serial is not None and entry[0] <= watch.previous_serial:
                    continue
                watch.previous_serial = entry[0]
                watch.log.append(entry)
                new.append(entry)
                if found is None and until is not None and until(entry):
                    found = entry
            watch.previous_info = job_info
            watch.seen_status = job_info[0]
            if job_info[0] in FINAL_STATUSES:
                watch.result = JobResult(watch.job_id, *(list(job_info) + [watch.log]))
            self._tell(watch, new)
            if found is not None:
                return found
            if watch.finished:
                return None

    def result(self, watch):
        """Follow ``watch`` to its end and return its :class:`JobResult`; raise :class:`JobFailed` if it failed."""
        self.wait(watch)
        if not watch.result.succeeded:
            raise JobFailed(watch.result)
        return watch.result

    def _tell(self, watch, entries):
        if self.listener is not None:
            self.listener(watch, entries)

    def _expired(self):
        return self.deadline is not None and self.deadline.expired()

    def _capped(self, seconds):
        """``seconds``, but no longer than what is left of the deadline."""
        if self.deadline is None:
            return seconds
        return max(0, min(seconds, self.deadline.remaining()))

    def _http_timeout(self):
        # The server holds /wait for up to ~10 s: a shorter timeout is only
        # used when the deadline comes first, and ends the wait there.
        return max(0.1, self._capped(max(self.client.request_timeout, 15)))
