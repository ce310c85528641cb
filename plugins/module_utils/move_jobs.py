# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A move's requests and jobs on the two clusters, each failure a MoveError that names the side and the step.

:class:`MoveJobs` asks the clusters (``call``), submits jobs (``submit``),
follows them (``follow``, ``result``) and keeps every job this run submitted
(``watches``), for the results and for move_recovery.  Nothing is submitted
after the move's deadline; a wait the deadline cuts short is a timed-out
MoveError.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ganeti.rapi.plugins.module_utils.job_logs import failure_lines
from ansible_collections.ganeti.rapi.plugins.module_utils.job_waiter import (
    FINAL_STATUSES, JobLost, JobTimeout, JobWatch,
)
from ansible_collections.ganeti.rapi.plugins.module_utils.move_model import MoveError, ganeti_hint
from ansible_collections.ganeti.rapi.plugins.module_utils.rapi_client import RapiError

# Jobs whose work changes an instance; a run that had one of them act reports changed.
CHANGING_OPERATIONS = ("create", "export", "remove", "startup")


class MoveJobs:
    """This run's jobs: ``clients`` and ``waiters`` (JobWaiter) by side ("source", "destination"), one deadline."""

    def __init__(self, clients, waiters, deadline):
        self.clients = clients
        self.waiters = waiters
        self.deadline = deadline
        self.watches = []  # this run's jobs (and an earlier run's debris removal), in submission order

    def timed_out(self, side, step, text, job_id=None):
        return MoveError(side, step, "%s; the move's timeout is %ss" % (text, self.deadline.seconds), job_id=job_id,
                         hint="raise the module's timeout option, or run the same task again: it waits for the jobs "
                              "still running, then finishes the move or reports what is on each cluster",
                         timed_out=True)

    def call(self, side, step, func, *args, **kwargs):
        """Run one RAPI call; turn a RapiError into a MoveError naming the side and step."""
        try:
            return func(*args, **kwargs)
        except RapiError as exc:
            if exc.kind == "deadline" or (exc.kind == "timeout" and self.deadline.expired()):
                raise self.timed_out(side, step, "the timeout expired while asking the %s cluster" % side)
            raise MoveError(side, step, exc.describe(), hint=exc.hint or ganeti_hint(str(exc)))

    def submit(self, side, operation_name, step, func, *args):
        """Submit a job with ``func(*args)`` (a RapiClient method); returns its JobWatch."""
        if self.deadline.expired():
            raise self.timed_out(side, step, "the timeout expired before the %s job was submitted" % operation_name)
        try:
            job_id = func(*args)
        except RapiError as exc:
            if exc.maybe_sent and operation_name in CHANGING_OPERATIONS:
                # The cluster may have queued the job: recovery must assume it runs.
                self.watches.append(JobWatch(None, side, operation_name))
                raise MoveError(side, step, "%s; the %s request may have reached the cluster"
                                % (exc.describe(), operation_name),
                                hint="look for a %s job with gnt-job list on the %s cluster" % (operation_name, side))
            if exc.kind == "deadline":
                raise self.timed_out(side, step, "the timeout expired before the %s job was submitted"
                                     % operation_name)
            raise MoveError(side, step, exc.describe(), hint=exc.hint or ganeti_hint(str(exc)))
        watch = JobWatch(job_id, side, operation_name)
        self.watches.append(watch)
        return watch

    def waiter(self, watch):
        return self.waiters[watch.side]

    def follow(self, watch, step, until=None):
        """Follow the job to its end, or to the first log entry ``until(entry)`` is true for (returned)."""
        try:
            return self.waiter(watch).wait(watch, until)
        except JobTimeout as exc:
            raise self.timed_out(watch.side, step, str(exc), job_id=watch.job_id)
        except JobLost as exc:
            raise MoveError(watch.side, step, str(exc), job_id=watch.job_id,
                            hint="look for the job with gnt-job list on that cluster")
        except RapiError as exc:
            raise MoveError(watch.side, step, "following job %s: %s" % (watch.job_id, exc.describe()),
                            job_id=watch.job_id, hint=exc.hint)

    def result(self, watch, step):
        """Follow the job to its end; its JobResult, or a MoveError in Ganeti's words when it failed."""
        self.follow(watch, step)
        result = watch.result
        if not result.succeeded:
            error_class, message, code = result.error()
            details = failure_lines(result.log)
            text = "%s: %s" % (error_class, message)
            if details:
                text += " (job log: %s)" % " / ".join(details)
            raise MoveError(watch.side, step, text, job_id=watch.job_id,
                            hint=ganeti_hint(" ".join([message or ""] + details), code), ganeti_error=message)
        return result

    def ended(self, watch):
        """Whether a job is over, without waiting for it (one GET /2/jobs/ID)."""
        try:
            return (self.clients[watch.side].get_job(watch.job_id) or {}).get("status") in FINAL_STATUSES
        except RapiError:
            return False  # the waiter will find out

    def last(self, side, operation_name):
        """This run's latest job of ``operation_name`` on ``side``, or None."""
        matching = [w for w in self.watches if w.side == side and w.operation == operation_name]
        return matching[-1] if matching else None


def job_entry(watch):
    """A job as the results list it."""
    return {"side": watch.side, "id": watch.job_id, "operation": watch.operation, "status": watch.status}


def job_list(watches):
    """Jobs in words, for messages."""
    return ", ".join("%s job %s (%s, %s)" % (w.side, w.job_id, w.operation, w.status) for w in watches)
