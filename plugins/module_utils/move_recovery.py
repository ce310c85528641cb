# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What a failed move does about its own jobs, and says in words (MoveError.recovery).

:meth:`Recovery.after_failure` leaves one good copy and no debris: it cancels
this run's queued jobs, follows the others to their end, removes the
destination instance this run created when its data is known to be missing,
and starts the source again if this run's export shut it down.
:meth:`Recovery.after_timeout` only cancels what has not started and says what
each other job is doing; a later run of the same task finishes from there.
Another run's jobs are never acted on.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ganeti.rapi.plugins.module_utils.job_logs import (
    data_sent, import_received, is_remote_import, shut_down_source,
)
from ansible_collections.ganeti.rapi.plugins.module_utils.job_waiter import (
    FINAL_STATUSES, JobError, JobTimeout, JobWatch,
)
from ansible_collections.ganeti.rapi.plugins.module_utils.move_jobs import CHANGING_OPERATIONS
from ansible_collections.ganeti.rapi.plugins.module_utils.move_model import GRACE_REQUEST_TIMEOUT
from ansible_collections.ganeti.rapi.plugins.module_utils.rapi_client import RapiError

SOURCE, DESTINATION = "source", "destination"
# What recovery reads of the source instance: whether it exists, and whether it runs.
SOURCE_FIELDS = ["name", "oper_state"]


class Recovery:
    """Recovery of one move: its spec and its jobs (move_jobs.MoveJobs).

    Recovery jobs are added to the move's jobs, so that its results list
    them.  ``source_before`` is the source instance as the preflight found it.
    """

    def __init__(self, spec, jobs, source_before, destination_cluster):
        self.spec = spec
        self._jobs = jobs
        self._clients = jobs.clients
        self._waiters = jobs.waiters
        self._watches = jobs.watches
        self._source_before = source_before or {}
        self._destination_cluster = destination_cluster

    def after_failure(self):
        """Leave one good copy and no debris; return what was done, in words.

        A copy is removed only when it is this run's and its data is known
        to be missing, and only while the other copy is known to exist.
        Waits end at the move's deadline; no job is submitted after it.
        """
        done = []
        unknown = [w for w in self._watches if w.job_id is None]
        if unknown:
            done.append("the %s request's outcome is unknown, so nothing was cancelled, removed or restarted: look "
                        "for its job with gnt-job list on the %s cluster and check both clusters"
                        % (unknown[0].operation, unknown[0].side))
            return done
        self._cancel_queued(done)
        export = self._jobs.last(SOURCE, "export")
        create = self._jobs.last(DESTINATION, "create")
        if export is not None and not export.cancelled and not self._settle(export, done):
            # The export may still finish and remove the source: whatever we
            # removed now could be the last copy.
            done.append("source job %s (export) is still %s: it shuts the source instance down and sends the data, "
                        "so nothing was removed or restarted; run the same task again once it has ended (it waits "
                        "for the job, then finishes the move or reports both clusters)"
                        % (export.job_id, export.status))
            return done
        if export is not None and _sent_every_disk(export) and not self.spec.keep_source:
            done.append("the export sent every disk (Ganeti then removes the source), so the destination copy %s "
                        "was kept; check it with gnt-instance info" % self.spec.destination_name)
            return done
        if create is not None and not create.cancelled and not self._settle(create, done):
            done.append("destination job %s (create) is still %s, so nothing was removed or restarted; run the same "
                        "task again once it has ended" % (create.job_id, create.status))
            return done
        try:
            source_now = self._clients[SOURCE].query_instance(self.spec.name, SOURCE_FIELDS)
        except RapiError as exc:
            # Without proof that the source copy exists, the destination copy
            # may be the only one: touch nothing.
            done.append("could not read the source instance (%s); left %s on the destination as it is"
                        % (exc, self.spec.destination_name))
            return done
        if source_now is None:
            done.append("the source instance is gone; kept the destination copy %s" % self.spec.destination_name)
            return done
        self._remove_empty_destination(create, export, done)
        self._restart_source(source_now, export, done)
        return done

    def after_timeout(self):
        """The deadline passed: cancel what has not started, say what each other job of this run is doing.

        Nothing waits and nothing is submitted.  A later run of the same task
        waits for these jobs, then finishes the move or reports what is where.
        """
        done = []
        self._cancel_queued(done)
        for watch in self._watches:
            if watch.finished or watch.cancelled or watch.job_id is None:
                continue
            status = watch.status
            if watch.operation not in CHANGING_OPERATIONS:
                if status not in FINAL_STATUSES:
                    done.append("%s job %s (%s) is %s; it changes nothing"
                                % (watch.side, watch.job_id, watch.operation, status))
                continue
            if status in FINAL_STATUSES:
                done.append("%s job %s (%s) ended with status %s just after the timeout; run the same task again "
                            "to check the result" % (watch.side, watch.job_id, watch.operation, status))
            elif watch.operation == "export" and status == "running":
                done.append("source job %s (export) is running: it shut the source instance down and sends the "
                            "data, and if it fails the source stays shut down; run the same task again: it waits for "
                            "the job, then finishes the move or restarts and moves the instance"
                            % watch.job_id)
            else:
                done.append("%s job %s (%s) is %s; run the same task again: it waits for the job, then finishes "
                            "the move or reports both clusters" % (watch.side, watch.job_id, watch.operation, status))
        return done

    # ------------------------------------------------------------ this run's jobs
    def _settle(self, watch, done):
        """Follow a job of this run to its end, until the move's deadline; False if it is still running."""
        if watch.finished:
            return True
        try:
            self._waiters[watch.side].wait(watch)
        except JobTimeout:
            self._peek(watch)
            return watch.finished  # the caller says what a running job means
        except (JobError, RapiError) as exc:
            done.append("could not follow %s job %s to its end: %s" % (watch.side, watch.job_id, exc))
            return False
        return True

    def _peek(self, watch):
        """The job's status now (one GET /2/jobs/ID); the last one seen when the cluster does not answer."""
        try:
            job = self._clients[watch.side].get_job(watch.job_id, timeout=GRACE_REQUEST_TIMEOUT)
            status = (job or {}).get("status")
        except RapiError:
            return watch.status
        if status:
            watch.seen_status = status
        return watch.status

    def _cancel_queued(self, done):
        """Cancel this run's changing jobs that have not started; a running Ganeti job cannot be interrupted.

        Jobs that only read or prepare (instance-info, prepare-export) are left to end by themselves.
        """
        for watch in self._watches:
            if (watch.finished or watch.cancelled or watch.job_id is None
                    or watch.operation not in CHANGING_OPERATIONS):
                continue
            if self._peek(watch) not in ("queued", "waiting"):
                continue
            try:
                answer = self._clients[watch.side].cancel_job(watch.job_id, timeout=GRACE_REQUEST_TIMEOUT)
            except RapiError as exc:
                done.append("could not cancel %s job %s (%s): %s" % (watch.side, watch.job_id, watch.operation, exc))
                continue
            accepted = isinstance(answer, (list, tuple)) and answer and answer[0] is True
            # Only a queued job is dequeued for sure; one waiting for its locks is merely told to stop,
            # and may already be past them.
            if (accepted and "dequeued" in str(answer[1:]).lower()) or self._peek(watch) == "canceled":
                watch.cancelled = True  # it never ran: it made nothing
                done.append("cancelled %s job %s (%s) before it started"
                            % (watch.side, watch.job_id, watch.operation))

    # ------------------------------------------------------------ repairs
    def _recovery_job(self, side, operation_name, submit, name):
        """Submit one recovery job (remove, startup) and follow it to success; raises JobError or RapiError."""
        if self._jobs.deadline.expired():
            raise JobTimeout("the timeout of %ss had expired, so no %s job was submitted"
                             % (self.spec.timeout, operation_name))
        watch = JobWatch(submit(name), side, operation_name)
        self._watches.append(watch)
        self._waiters[side].result(watch)
        return watch

    def _remove_empty_destination(self, create, export, done):
        """Remove the destination instance this run created if its data is known to be missing."""
        if create is None or create.cancelled or create.result is None:
            return
        name = self.spec.destination_name
        ours = any(is_remote_import(entry) for entry in create.log) or create.result.succeeded
        if not ours:
            return  # our create never made the instance: whatever has that name is not ours
        missing = (not import_received(create.result.status, create.log) or export is None or export.cancelled
                   or not _sent_every_disk(export))
        if not missing:
            done.append("kept the destination copy %s: it received every disk; check it with gnt-instance info"
                        % name)
            return
        destination = self._clients[DESTINATION]
        try:
            if destination.query_instance(name, ["name"]) is None:
                return
        except RapiError:
            pass  # the remove below reports the problem
        if not self.spec.cleanup:
            done.append("kept the incomplete destination instance %s on %s for debugging (cleanup: false); "
                        "remove it with gnt-instance remove %s" % (name, self._destination_cluster, name))
            return
        try:
            watch = self._recovery_job(DESTINATION, "remove", destination.remove_instance, name)
            done.append("removed the incomplete destination instance %s (job %s)" % (name, watch.job_id))
        except (JobError, RapiError) as exc:
            done.append("could not remove the incomplete destination instance %s: %s; remove it with "
                        "gnt-instance remove %s" % (name, exc, name))

    def _restart_source(self, source_now, export, done):
        """Start the source again if this run's export shut it down (never another run's)."""
        # oper_state None means the node did not answer: do not guess.
        if export is None or export.cancelled or not shut_down_source(export.log):
            return
        if self._source_before.get("oper_state") is not True or source_now.get("oper_state") is not False:
            return
        name = self.spec.name
        try:
            watch = self._recovery_job(SOURCE, "startup", self._clients[SOURCE].startup_instance, name)
            done.append("started the source instance %s again (job %s)" % (name, watch.job_id))
        except (JobError, RapiError) as exc:
            done.append("could not start the source instance %s again: %s; start it with "
                        "gnt-instance startup %s" % (name, exc, name))


def _sent_every_disk(export):
    """Whether this run's export job sent every disk, by its result or its log (job_logs.data_sent)."""
    return data_sent(export.status, export.result and export.result.result, export.log)
