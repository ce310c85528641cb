# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Ganeti's inter-cluster instance move, driven over RAPI.

:class:`InstanceMove` knows the protocol (prepare-export on the source, a
``remote-import`` create on the destination, the export to the endpoints the
destination publishes in its job log) and what to do when a step fails.  It
knows nothing of Ansible: it takes two :class:`RapiClient` objects and a
:class:`MoveSpec`, and returns a :class:`MoveOutcome` or raises
:class:`MoveError`.

It is the orchestration: the order of the steps and what each decides.  The
parts a step uses live in modules named after them:

- move_checks: the preflight's checks of the options against the clusters;
- move_evidence: whether the destination instance is this one's copy;
- move_history: other runs' jobs in the clusters' job lists;
- move_request: the create and export requests, and the diff;
- move_jobs: submitting and following this run's jobs;
- job_logs: what a job's log and result say;
- move_recovery: what a failed run does about its jobs.

Rules it keeps, whatever happens:

- The clusters are told apart by what they say of themselves; one cluster
  reached twice is refused before anything is touched.
- Every name is settled (the source's canonical name) before any job.
- Another run's jobs are never acted on: this run waits for them, then looks
  again.  "Already there" is claimed only with evidence.
- No job is submitted after the deadline, no request outlives it, and the run
  ends within ``timeout`` plus TIMEOUT_GRACE.
- A copy is removed only when it is this run's (or an earlier run's) and its
  data is known to be missing, and only while the other copy is known to exist.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import re
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.ganeti.rapi.plugins.module_utils import move_checks
from ansible_collections.ganeti.rapi.plugins.module_utils.job_logs import (
    acted, every_disk_sent, export_complete, failed_disks, has_handshake, import_endpoints, import_failures,
    import_received, is_remote_import, one_instance,
)
from ansible_collections.ganeti.rapi.plugins.module_utils.job_waiter import (
    Deadline, JobLost, JobTimeout, JobWaiter, JobWatch, timestamp,
)
from ansible_collections.ganeti.rapi.plugins.module_utils.move_evidence import (
    SHAPE_FIELDS, on_both_clusters, only_on_destination,
)
from ansible_collections.ganeti.rapi.plugins.module_utils.move_history import (
    UNFINISHED_STATUSES, find_earlier_move, live_jobs_of, operation, remote_creates,
)
from ansible_collections.ganeti.rapi.plugins.module_utils.move_jobs import (
    CHANGING_OPERATIONS, MoveJobs, job_entry, job_list,
)
from ansible_collections.ganeti.rapi.plugins.module_utils.move_model import (
    GRACE_REQUESTS, MoveError, MoveOutcome, ganeti_hint, normalize_name, resolves_source_name,
)
from ansible_collections.ganeti.rapi.plugins.module_utils.move_progress import MoveProgress
from ansible_collections.ganeti.rapi.plugins.module_utils.move_recovery import Recovery
from ansible_collections.ganeti.rapi.plugins.module_utils.move_request import (
    DESCRIBE_FIELDS, RequestError, create_body, describe, export_body, planned, planned_nics, start_after_move,
)
from ansible_collections.ganeti.rapi.plugins.module_utils.rapi_client import RapiError

SOURCE, DESTINATION = "source", "destination"

# Fields read from /2/query/instance (no job is submitted for them).
INSTANCE_FIELDS = sorted(set(["name", "admin_state", "oper_state", "pnode", "snodes", "disk_template", "hypervisor",
                              "os", "tags", "status"] + SHAPE_FIELDS + DESCRIBE_FIELDS))
# The fields Ganeti asks the instance's node for (~70 ms on an idle lab, one node call per move): the preflight
# reads the source without them, and they are read while its first jobs run (only a failed export uses them).
LIVE_FIELDS = ["oper_state", "status"]
SOURCE_FIELDS = [field for field in INSTANCE_FIELDS if field not in LIVE_FIELDS]
# How often a run looks again after losing a race to another run's create.
RACE_RETRIES = 3


class _RaceLost(Exception):
    """Another run's create of the same destination instance came first; look again."""

    def __init__(self, note):
        super(_RaceLost, self).__init__(note)
        self.note = note


class InstanceMove:
    """Moves one instance from ``source`` to ``destination`` (two RapiClients)."""

    def __init__(self, source, destination, spec, progress=None, sleep=time.sleep, clock=time.monotonic,
                 wall_clock=time.time):
        self.source = source
        self.destination = destination
        self.spec = spec
        self.progress = progress or MoveProgress()
        self._sleep = sleep
        self._clock = clock
        self._started_wall = wall_clock()
        self.deadline = Deadline(spec.timeout, clock)
        # After the deadline: only reading and cancelling, until this one.
        self.grace_deadline = Deadline(spec.timeout + GRACE_REQUESTS, clock)
        for client in (source, destination):
            client.deadline = self.deadline
        self.source_waiter = JobWaiter(source, self.deadline, sleep=sleep, clock=clock, listener=self._heard)
        self.destination_waiter = JobWaiter(destination, self.deadline, sleep=sleep, clock=clock,
                                            listener=self._heard)
        self.jobs = MoveJobs({SOURCE: source, DESTINATION: destination},
                             {SOURCE: self.source_waiter, DESTINATION: self.destination_waiter}, self.deadline)
        self.outcome = MoveOutcome()
        self.outcome.started = self._started_wall
        self._others = []  # another run's jobs this run waited for
        self._step_started = None
        self._step_name = None
        self._source_before = None
        self._source_info = None
        self._destination_info = None
        self._expanded_destination = None  # an instance a short destination name would expand to
        self._start_hint = None  # the admin state the first of several runs found
        self._check_mode = False

    # ---------------------------------------------------------------- steps
    def _begin(self, name):
        self._end_step()
        self._step_name = name
        self._step_started = self._clock()

    def _end_step(self):
        if self._step_name is None:
            return
        seconds = round(self._clock() - self._step_started, 3)
        self.outcome.steps.append({"name": self._step_name, "seconds": seconds})
        self.progress.step(self._step_name, seconds)
        self._step_name = None

    def _heard(self, watch, entries):
        try:
            self.progress.job(watch, entries, ours=watch in self.jobs.watches)
        except Exception:  # pylint: disable=broad-except
            pass  # whoever watches (a closed terminal, a broken pipe) must never break the move or its recovery

    # ------------------------------------------------------------- preflight
    def _preflight(self):
        """Everything that can be known before a job: returns an outcome when there is nothing to move."""
        self._begin("preflight")
        src, dst, others = self._read_both()
        while others:
            if self._check_mode:
                return self._plan_wait(others)
            self._wait_for_others(others)
            src, dst, others = self._read_both()
        self.outcome.source_instance = src
        self._source_before = src
        if src is None and dst is None:
            raise self._not_found()
        if src is None:
            return self._already_moved(dst)
        if dst is not None:
            done = self._both_present(src, dst)
            if done is not None:
                return done
        self._validate(src)
        return None

    def _read_both(self):
        """Both clusters at once: (source instance, destination instance, jobs still acting on either).

        Every request of this round goes at once, each on a connection of its own (Ganeti's RAPI answers one
        request per connection). Nothing is decided before all are answered: which clusters these are first,
        then the instance rows (None where absent). Every name is settled by the source's answer (a side is
        read again when that changed the name it was asked with).
        """
        spec = self.spec
        asked = (spec.name, spec.destination_name)
        reads = [(SOURCE, "instance", self.source.query_instance, spec.name, SOURCE_FIELDS),
                 (DESTINATION, "instance", self.destination.query_instance, spec.destination_name, INSTANCE_FIELDS),
                 (SOURCE, "jobs", live_jobs_of, SOURCE, self.source, spec.name),
                 (DESTINATION, "jobs", live_jobs_of, DESTINATION, self.destination, spec.destination_name)]
        if self._destination_info is None:
            reads[:0] = [(SOURCE, "cluster", self.source.cluster_info),
                         (DESTINATION, "cluster", self.destination.cluster_info)]
        answer = self._at_once(reads)
        if self._destination_info is None:
            # One cluster reached twice is what to say, whatever else failed.
            self._identify_clusters(answer(SOURCE, "cluster"), answer(DESTINATION, "cluster"))
        src, dst = answer(SOURCE, "instance"), answer(DESTINATION, "instance")
        src_jobs, dst_jobs = answer(SOURCE, "jobs"), answer(DESTINATION, "jobs")
        if src is not None:
            self._settle_names(src)
        if spec.name != asked[0]:
            src_jobs = self.jobs.call(SOURCE, "preflight", live_jobs_of, SOURCE, self.source, spec.name)
        if spec.destination_name != asked[1]:
            dst, dst_jobs = self.jobs.call(DESTINATION, "preflight", self._read_side, DESTINATION,
                                           spec.destination_name)
        if dst is not None and normalize_name(dst.get("name")) != spec.destination_name:
            # Ganeti expanded a short name to another instance: not the one asked for.
            self._expanded_destination = dst.get("name")
            dst = None
        return src, dst, src_jobs + dst_jobs

    def _at_once(self, reads):
        """Each ``(side, key, func, *args)`` of ``reads`` called side by side, every one to its end.

        Returns ``answer(side, key)``, which gives that call's answer or raises its failure (a MoveError naming
        the side), so that the caller decides which failure to report first.
        """
        with ThreadPoolExecutor(max_workers=len(reads)) as pool:
            calls = dict((tuple(read[:2]), pool.submit(self.jobs.call, read[0], "preflight", *read[2:]))
                         for read in reads)

        def answer(side, key):
            return calls[side, key].result()
        return answer

    def _read_side(self, side, name):
        """One cluster's instance ``name`` (None when absent) and the jobs still acting on it."""
        client = self.jobs.clients[side]
        fields = SOURCE_FIELDS if side == SOURCE else INSTANCE_FIELDS
        return client.query_instance(name, fields), live_jobs_of(side, client, name)

    def _identify_clusters(self, src_info, dst_info):
        self._source_info, self._destination_info = src_info, dst_info
        self.outcome.source_cluster = src_info.get("name")
        self.outcome.destination_cluster = dst_info.get("name")
        move_checks.check_two_clusters(src_info, dst_info, _address(self.source), _address(self.destination))

    def _settle_names(self, src):
        """The source's canonical name is what moves and, unless given, the destination name."""
        spec = self.spec
        canonical = normalize_name(src.get("name")) or spec.name
        spec.name = canonical
        if not spec.destination_name_given:
            spec.destination_name = canonical
        move_checks.check_destination_name(spec)

    def _not_found(self):
        spec = self.spec
        hint = "check the instance name (gnt-instance list on the source)"
        candidates = self._similar_names(spec.name)
        if candidates:
            hint = "use the full name: %s" % " or ".join(candidates)
        elif self._expanded_destination:
            hint = ("the destination has %s: if that is the moved instance, use its full name"
                    % self._expanded_destination)
        text = "instance %s exists on neither cluster (nor as %s on the destination)" % (spec.name, spec.destination_name)
        if self._others:
            text += ("; another run's jobs acted on it while this run waited (%s), so it may have been moved under "
                     "another name" % job_list(self._others))
            hint = "look for it on the destination (gnt-instance list) and at those jobs (gnt-job info)"
        return MoveError(SOURCE, "preflight", text, hint=hint)

    def _similar_names(self, name):
        """Source instances whose name starts with ``name`` and a dot (a short name that did not expand)."""
        pattern = "^%s\\." % re.escape(name)
        try:
            rows = self.source.query("instance", ["name"], ["=~", "name", pattern])
        except RapiError:
            return []
        return sorted(row["name"] for row in rows if row.get("name"))[:5]

    # ----------------------------------------------------- another run's jobs
    def _wait_for_others(self, rows):
        """Follow another run's jobs to their end, touching nothing; raise when the deadline comes first."""
        watches = []
        for side, row in rows:
            watch = self._other_watch(side, row)
            if not watch.finished:
                watches.append(watch)
        self._begin("wait for another run")
        if not watches:
            # The job list still shows jobs that have ended: give it a moment.
            self._sleep(max(0, min(1, self.deadline.remaining())))
        for watch in watches:
            try:
                self.jobs.waiter(watch).wait(watch)
            except JobTimeout:
                raise self._busy_error([w for w in self._others if not w.finished])
            except JobLost:
                watch.seen_status = "archived"  # it ended and was archived meanwhile
            except RapiError as exc:
                raise MoveError(watch.side, "wait for another run", "following another run's job %s: %s"
                                % (watch.job_id, exc.describe()), job_id=watch.job_id, hint=exc.hint)
        self._begin("preflight")

    def _other_watch(self, side, row):
        for watch in self._others:
            if watch.side == side and watch.job_id == row["id"]:
                return watch
        watch = JobWatch(row["id"], side, operation(row))
        watch.seen_status = row.get("status")
        self._others.append(watch)
        return watch

    def _busy_error(self, running):
        jobs = job_list(running)
        first = running[0] if running else None
        hint = "run this task again once those jobs have ended: it then reports their outcome or moves the instance"
        if first is not None:
            hint = "watch them with gnt-job watch %s on the %s cluster (gnt-job list on each cluster); %s" % (
                first.job_id, first.side, hint)
        error = MoveError("both", "wait for another run",
                          "another run is moving %s: %s did not end within the timeout of %ss; this run submitted "
                          "no job and touched nothing" % (self.spec.name, jobs, self.spec.timeout),
                          job_id=first.job_id if first else None, hint=hint, timed_out=True)
        return error

    def _plan_wait(self, rows):
        for side, row in rows:
            self._other_watch(side, row)
        self._end_step()
        self.outcome.state = "would_wait"
        self.outcome.message = ("another run's jobs act on %s (%s): a run would wait for them, then move the instance "
                                "or report their outcome" % (self.spec.name, job_list(self._others)))
        return self.outcome

    # -------------------------------------------------- what is already there
    def _earlier(self):
        try:
            return find_earlier_move(self.source, self.destination, self.spec.name, self.spec.destination_name)
        except RapiError as exc:
            self.outcome.warnings.append("could not read the job lists to find an earlier move: %s" % exc)
            return None

    def _already_moved(self, dst):
        """Only the destination has the instance: end unchanged, or refuse (see move_evidence)."""
        verdict = only_on_destination(self.spec, self.outcome.destination_cluster, self._earlier())
        return self._finish_unchanged(verdict, dst)

    def _both_present(self, src, dst):
        """Both clusters have the instance: finish, repair or refuse, never guess (see move_evidence).

        Returns an outcome when done, None to go on with a normal move (after
        an earlier run's empty copy was removed), or raises MoveError.
        """
        earlier = self._earlier()
        verdict = on_both_clusters(self.spec, self.outcome.destination_cluster, src, dst, earlier)
        if verdict is not None:
            return self._finish_unchanged(verdict, dst)
        return self._remove_earlier_copy(earlier)

    def _remove_earlier_copy(self, earlier):
        """The destination copy is an earlier move's that never got its data: remove it, then move again."""
        spec = self.spec
        cluster = self.outcome.destination_cluster
        jobs = earlier.job_ids()
        self._start_hint = earlier.create_op.get("start")
        if self._check_mode:
            self._end_step()
            self.outcome.state = "would_resume"
            self.outcome.changed = True
            self.outcome.message = ("%s on %s is an incomplete copy an earlier run left (%s): a run would remove it "
                                    "and move %s again" % (spec.destination_name, cluster, jobs, spec.name))
            return self.outcome
        if not spec.cleanup:
            raise MoveError(DESTINATION, "preflight",
                            "%s on %s is an incomplete copy left by an earlier run (%s); kept because cleanup is "
                            "false" % (spec.destination_name, cluster, jobs),
                            job_id=earlier.create["id"], hint="remove it with gnt-instance remove %s, or set "
                            "cleanup: true" % spec.destination_name)
        self._begin("remove earlier copy")
        watch = self.jobs.submit(DESTINATION, "remove", "remove earlier copy", self.destination.remove_instance,
                                 spec.destination_name)
        self.jobs.result(watch, "remove earlier copy")
        self.outcome.notes.append("removed the incomplete copy %s an earlier run left on %s (%s; remove job %s)"
                                  % (spec.destination_name, cluster, jobs, watch.job_id))
        self._begin("preflight")
        return None

    def _finish_unchanged(self, verdict, dst):
        if verdict.warning:
            self.outcome.warnings.append(verdict.warning)
        self.outcome.state = verdict.state
        self.outcome.evidence = verdict.evidence
        self.outcome.changed = False
        self.outcome.message = verdict.message
        self.outcome.instance = dst
        described = describe(dst, self.outcome.destination_cluster)
        self.outcome.diff = {"before": described, "after": described}
        self._end_step()
        return self.outcome

    # ------------------------------------------------------------- validate
    def _validate(self, src):
        """Every check that can be made before anything is touched (see move_checks), in a user's order."""
        spec, info = self.spec, self._destination_info
        move_checks.check_options(spec, src, self._source_info, info)
        primary = self._check_nodes() if spec.primary_node else None
        move_checks.check_allocation(spec, info)
        self._check_networks(src, primary)

    def _check_nodes(self):
        """primary_node (and secondary_node) exist on the destination and may take the instance.

        Returns the primary node's row (its group decides which networks the NICs can use).
        """
        spec = self.spec
        rows = [self._node_row(option, node) for option, node in (("primary_node", spec.primary_node),
                                                                  ("secondary_node", spec.secondary_node)) if node]
        if len(rows) == 2:
            move_checks.check_node_pair(spec, rows[0], rows[1])
        return rows[0]

    def _node_row(self, option, node):
        try:
            rows = self.destination.query("node", move_checks.NODE_FIELDS, ["=", "name", node])
        except RapiError as exc:
            if exc.ganeti_error_code != "unknown_entity":
                raise MoveError(DESTINATION, "preflight", exc.describe(), hint=exc.hint)
            rows = []
        return move_checks.check_node(option, node, rows, self.outcome.destination_cluster)

    def _check_networks(self, src, primary):
        """Every network the NICs end on exists on the destination, connected to the primary node's group, and
        no address lands in a destination network its NIC is not on."""
        wanted, addressed = move_checks.networked(planned_nics(src, self.spec.nics))
        if not wanted and not addressed:
            return  # no request for moves without networks or addresses
        cluster = self.outcome.destination_cluster
        rows = self.jobs.call(DESTINATION, "preflight", self.destination.query, "network", move_checks.NETWORK_FIELDS)
        move_checks.check_addresses(self.spec, addressed, rows, cluster, primary, self._group_names)
        move_checks.check_networks(self.spec, wanted, rows, cluster, primary)

    def _group_names(self):
        return [row.get("name") for row in self.jobs.call(DESTINATION, "preflight", self.destination.query, "group",
                                                          ["name"])]

    def _plan_diff(self, src):
        start = start_after_move(self.spec, src.get("admin_state") == "up", self._start_hint)
        after = planned(self.spec, src, self.outcome.destination_cluster,
                        self._destination_info.get("default_iallocator"), start)
        if self.spec.keep_source:
            after["source_kept"] = True
        self.outcome.diff = {"before": describe(src, self.outcome.source_cluster), "after": after}

    def check(self):
        """Check mode: the preflight only; nothing is submitted, nothing changes."""
        self._check_mode = True
        done = self._preflight()
        if done is not None:
            return self._finish_jobs()
        self._end_step()
        spec = self.spec
        self._plan_diff(self.outcome.source_instance)
        self.outcome.state = "would_copy" if spec.keep_source else "would_move"
        self.outcome.changed = True
        self.outcome.message = "%s would %s to %s as %s" % (
            spec.name, "be copied" if spec.keep_source else "move", self.outcome.destination_cluster,
            spec.destination_name)
        return self._finish_jobs()

    # ------------------------------------------------------------------ move
    def run(self):
        try:
            for _attempt in range(RACE_RETRIES):
                try:
                    done = self._preflight()
                    if done is None:
                        self._plan_diff(self._source_before)
                        self._move()
                    break
                except _RaceLost as race:
                    self.outcome.notes.append(race.note)
            else:
                raise MoveError("destination", "create", "another run's create of %s came first %d times"
                                % (self.spec.destination_name, RACE_RETRIES),
                                hint="run the task again once the other runs have ended")
        except MoveError as exc:
            self._fail(exc)
            raise
        except Exception as exc:  # pylint: disable=broad-except
            # A bug or an unexpected answer must not skip the recovery.
            error = MoveError("controller", self._step_name or "move", "unexpected %s: %s"
                              % (type(exc).__name__, exc), hint="please report this as a bug in ganeti.rapi")
            error.traceback = traceback.format_exc()
            self._fail(error)
            raise error
        self._finish_jobs()
        if self._others:
            self.outcome.message += "; this run waited for another run's jobs first: %s" % job_list(self._others)
        if self.outcome.notes:
            self.outcome.message += "; before that, %s" % "; ".join(self.outcome.notes)
        if self.outcome.state in ("moved", "copied"):
            self.outcome.changed = True
        else:
            self.outcome.changed = self._changed()
        return self.outcome

    def _fail(self, exc):
        self._end_step()
        for client in (self.source, self.destination):
            client.deadline = self.grace_deadline
        if exc.timed_out:
            exc.recovery = self._recovery().after_timeout()
        elif exc.step not in ("preflight", "wait for another run"):
            exc.recovery = self._recovery().after_failure()
        exc.changed = self._changed()
        exc.outcome = self._finish_jobs()

    def _recovery(self):
        return Recovery(self.spec, self.jobs, self._source_before, self.outcome.destination_cluster)

    def _changed(self):
        """True when a job of this run created, removed, started or stopped something (or may have)."""
        for watch in self.jobs.watches:
            if watch.operation not in CHANGING_OPERATIONS or watch.cancelled:
                continue
            if watch.job_id is None or watch.result is None:
                return True  # still queued or running: it will act
            if acted(watch.result):
                return True
        return False

    def _move(self):
        spec = self.spec
        self._begin("prepare")
        # Both source jobs are submitted at once, the prepare-export (the longer one) first; luxid runs them side
        # by side.
        prepare_watch = self.jobs.submit(SOURCE, "prepare-export", "prepare", self.source.prepare_export, spec.name)
        info_watch = self.jobs.submit(SOURCE, "instance-info", "prepare", self.source.instance_info_job, spec.name)
        with ThreadPoolExecutor(max_workers=1) as pool:
            # Either job may end last (luxid starts one job at a time): the short instance-info job is followed
            # beside the prepare-export, so that the create goes as soon as the later one ends.
            reading_info = pool.submit(self.jobs.result, info_watch, "prepare")
            self._read_run_state()
            expinfo = self.jobs.result(prepare_watch, "prepare").result
            info_result = reading_info.result()
        instinfo = one_instance(info_result.result)
        if instinfo is None:
            raise MoveError(SOURCE, "prepare", "unexpected instance information: %r" % (info_result.result,))
        if not has_handshake(expinfo):
            raise MoveError(SOURCE, "prepare", "prepare-export returned no handshake data",
                            job_id=prepare_watch.job_id)
        src = self._source_before or {}
        start = start_after_move(spec, instinfo.get("config_state") == "up", self._start_hint)
        try:
            body = create_body(spec, instinfo, expinfo, src.get("tags"),
                               self._destination_info.get("default_iallocator"), start)
        except RequestError as exc:
            raise MoveError(SOURCE, "prepare", str(exc))
        create_watch, impinfo = self._create(body)
        sizes = [disk.get("size") for disk in instinfo.get("disks") or []]
        self._transfer(create_watch, impinfo, expinfo["x509_key_name"], sizes)

    def _read_run_state(self):
        """Whether the source instance runs, read while its first jobs run, long before the export may stop it.

        Only the recovery of a failed export uses it (move_recovery starts the source again only if it ran).
        """
        row = self.jobs.call(SOURCE, "prepare", self.source.query_instance, self.spec.name, LIVE_FIELDS)
        if self._source_before is not None and row is not None:
            self._source_before.update(row)

    def _transfer(self, create_watch, impinfo, key_name, sizes):
        """Export to the endpoints the destination published, then check both jobs and the result."""
        spec = self.spec
        self._begin("export")
        export_watch = self.jobs.submit(SOURCE, "export", "export", self.source.export_instance, spec.name,
                                        export_body(spec, impinfo, key_name))
        every_disk = len(sizes)
        self.progress.transfer(every_disk)
        dst = None
        if (self.jobs.follow(export_watch, "export",
                             until=lambda entry: every_disk_sent(export_watch.log, every_disk))
                and self.jobs.ended(create_watch)):
            # Every disk is sent and the destination job is over: read the
            # copy while the source still removes its instance (~0.3 s), so
            # that little is left to ask once the last job ends.
            self.jobs.follow(create_watch, "import")
            if import_received(create_watch.result.status, create_watch.log):
                dst = self._read_destination()
        self._check_export(self.jobs.result(export_watch, "export"))

        self._begin("import")
        # The source is read while the destination job may still be finishing (Ganeti looks at its import every
        # 5 s) and while the copy is read: whichever ends last, little is left to ask after it.
        with ThreadPoolExecutor(max_workers=1) as pool:
            reading_source = pool.submit(self._read_source)
            dst = self._imported(create_watch, dst)
            src = reading_source.result()
        self._begin("verify")
        self._verify(sizes, dst, src)

    def _imported(self, create_watch, dst):
        """The destination copy once the destination job has ended well (``dst`` if it was read already)."""
        self.jobs.result(create_watch, "import")
        failures = import_failures(create_watch.log)
        if failures:
            raise MoveError(DESTINATION, "import", "the destination job succeeded but reports: %s"
                            % " / ".join(failures), job_id=create_watch.job_id, hint=ganeti_hint(failures[0]))
        return dst if dst is not None else self._read_destination()

    def _create(self, body):
        """Submit the remote-import create (retrying opportunistically) and wait for its endpoints."""
        spec = self.spec
        attempts = [True] * spec.opportunistic_tries + [False]
        for number, opportunistic in enumerate(attempts, 1):
            self._begin("create" if number == 1 else "create (attempt %d)" % number)
            body["opportunistic_locking"] = opportunistic
            watch = self.jobs.submit(DESTINATION, "create", "create", self.destination.create_instance, body)
            entry = self.jobs.follow(watch, "create", until=is_remote_import)
            if entry is not None:
                endpoints = import_endpoints(entry)
                if endpoints is None:
                    raise MoveError(DESTINATION, "create", "malformed remote-import log entry", job_id=watch.job_id)
                return watch, endpoints
            result = watch.result
            if result.succeeded:
                raise MoveError(DESTINATION, "create",
                                "the create job finished without publishing its import endpoints (no "
                                "'remote-import' log entry); the instance probably has no OS", job_id=watch.job_id,
                                hint="give the source instance an OS definition that exists on both clusters")
            self._check_race(watch)
            error_class, message, code = result.error()
            if opportunistic and code == "temp_insufficient_resources":
                delay = spec.opportunistic_delay * random.uniform(0.85, 1.15)
                if self.deadline.remaining() > delay:
                    self._sleep(delay)
                    continue
            raise MoveError(DESTINATION, "create", "%s: %s" % (error_class, message), job_id=watch.job_id,
                            hint=ganeti_hint(message, code, source_name=spec.name if resolves_source_name(
                                self._destination_info) else None), ganeti_error=message)
        raise MoveError(DESTINATION, "create", "no create attempt left")  # pragma: no cover

    def _check_race(self, failed):
        """Our create failed: if another run's create of the same name came since we looked, look again."""
        try:
            creates = remote_creates(self.destination, self.spec.destination_name)
        except RapiError:
            return
        for job in creates:
            received = timestamp(job.get("received_ts"))
            if str(job["id"]) == str(failed.job_id):
                continue
            since_we_looked = received is not None and received >= self._started_wall - 1
            if job.get("status") in UNFINISHED_STATUSES or since_we_looked:
                raise _RaceLost("another run's create of %s (destination job %s) came first; this run's create "
                                "(job %s) failed and made nothing"
                                % (self.spec.destination_name, job["id"], failed.job_id))

    def _check_export(self, result):
        value = result.result
        if not export_complete(result.status, value):
            failed = failed_disks(value)
            raise MoveError(SOURCE, "export", "the export did not transfer every disk (result %r%s)"
                            % (value, ", failed disks: %s" % ", ".join(failed) if failed else ""),
                            job_id=result.job_id, hint=ganeti_hint("export failed"))

    def _read_destination(self):
        return self.jobs.call(DESTINATION, "verify", self.destination.query_instance, self.spec.destination_name,
                              INSTANCE_FIELDS)

    def _read_source(self):
        """The source instance after the export (None when gone); not asked when it is kept on purpose."""
        if self.spec.keep_source:
            return None
        return self.jobs.call(SOURCE, "verify", self.source.query_instance, self.spec.name, ["name", "status"])

    def _verify(self, sizes, dst, src):
        """Check the destination copy and record the outcome; ``src`` is the source as read after the export."""
        spec = self.spec
        if dst is None or normalize_name(dst.get("name")) != spec.destination_name:
            raise MoveError(DESTINATION, "verify", "%s is not on the destination after a successful import"
                            % spec.destination_name)
        if sizes and dst.get("disk.sizes") and list(dst["disk.sizes"]) != sizes:
            raise MoveError(DESTINATION, "verify", "disk sizes differ: source %s, destination %s"
                            % (sizes, dst["disk.sizes"]))
        self._end_step()
        self.outcome.instance = dst
        self.outcome.state = "copied" if spec.keep_source else "moved"
        self.outcome.evidence = "jobs"
        self.outcome.changed = True
        if self.outcome.diff is not None:
            after = describe(dst, self.outcome.destination_cluster)
            if spec.keep_source:
                after["source_kept"] = True
            self.outcome.diff["after"] = after
        note = "" if spec.keep_source or src is None else " (the source instance is still listed: remove it by hand)"
        self.outcome.message = "%s %s to %s as %s%s" % (
            spec.name, "copied" if spec.keep_source else "moved", self.outcome.destination_cluster,
            spec.destination_name, note)

    def _finish_jobs(self):
        self.outcome.jobs = [job_entry(watch) for watch in self.jobs.watches]
        self.outcome.waited_for = [job_entry(watch) for watch in self._others]
        return self.outcome


def _address(client):
    host, port = getattr(client, "host", None), getattr(client, "port", None)
    return "%s:%s" % (host, port) if host else getattr(client, "side", "?")
