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

import ipaddress
import random
import re
import time
import traceback

from ansible_collections.ganeti.rapi.plugins.module_utils.job_logs import (
    data_sent, disks_sent, export_complete, failure_lines, flat_oplog, import_failures, is_remote_import, messages,
    shut_down_source,
)
from ansible_collections.ganeti.rapi.plugins.module_utils.job_waiter import (
    FINAL_STATUSES, Deadline, JobError, JobLost, JobTimeout, JobWaiter, JobWatch, timestamp,
)
from ansible_collections.ganeti.rapi.plugins.module_utils.move_evidence import (
    SHAPE_FIELDS, describe_cluster, same_cluster, shape_mismatches,
)
from ansible_collections.ganeti.rapi.plugins.module_utils.move_history import (
    UNFINISHED_STATUSES, find_earlier_move, live_jobs, operation, remote_creates,
)
from ansible_collections.ganeti.rapi.plugins.module_utils.move_model import (
    GRACE_REQUEST_TIMEOUT, GRACE_REQUESTS, MoveError, MoveOutcome, ganeti_hint, normalize_name, resolves_source_name,
)
from ansible_collections.ganeti.rapi.plugins.module_utils.move_request import (
    DESCRIBE_FIELDS, MIRRORED_TEMPLATES, NETWORK_NIC_KEYS, RequestError, create_body, describe, planned, planned_nics,
    start_after_move,
)
from ansible_collections.ganeti.rapi.plugins.module_utils.rapi_client import RapiError

SOURCE, DESTINATION = "source", "destination"

# Fields read from /2/query/instance (no job is submitted for them).
INSTANCE_FIELDS = sorted(set(["name", "admin_state", "oper_state", "pnode", "snodes", "disk_template", "hypervisor",
                              "os", "tags", "status"] + SHAPE_FIELDS + DESCRIBE_FIELDS))
COMPRESS_ALWAYS_ALLOWED = "none"
OP_PRIO_HIGH = -10  # the highest job priority Ganeti lets a client submit
# Hypervisor parameters Ganeti only accepts cluster-wide (its HVC_GLOBALS).
GLOBAL_HVPARAMS = ("migration_bandwidth", "migration_mode", "migration_port", "xen_cmd")
# Jobs whose work changes an instance; a run that had one of them act reports changed.
CHANGING_OPERATIONS = ("create", "export", "remove", "startup")
# How Ganeti's LogInfo, LogWarning and hints start in a job log (checks log these before acting).
CHECK_LOG_PREFIXES = (" - INFO:", " - WARNING:", "      Hint:")
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
        self.progress = progress or (lambda name, seconds: None)
        self._sleep = sleep
        self._clock = clock
        self._wall = wall_clock
        self._started_wall = wall_clock()
        self.deadline = Deadline(spec.timeout, clock)
        # After the deadline: only reading and cancelling, until this one.
        self.grace_deadline = Deadline(spec.timeout + GRACE_REQUESTS, clock)
        for client in (source, destination):
            client.deadline = self.deadline
        self.source_waiter = JobWaiter(source, self.deadline, sleep=sleep, clock=clock)
        self.destination_waiter = JobWaiter(destination, self.deadline, sleep=sleep, clock=clock)
        self.outcome = MoveOutcome()
        self.outcome.started = self._started_wall
        self._watches = []  # this run's jobs (and an earlier run's debris removal)
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
        self.progress(self._step_name, seconds)
        self._step_name = None

    def _timed_out(self, side, step, text, job_id=None):
        return MoveError(side, step, "%s; the move's timeout is %ss" % (text, self.spec.timeout), job_id=job_id,
                         hint="raise the module's timeout option, or run the same task again: it waits for the jobs "
                              "still running, then finishes the move or reports what is on each cluster",
                         timed_out=True)

    def _call(self, side, step, func, *args, **kwargs):
        """Run one RAPI call; turn a RapiError into a MoveError naming the side and step."""
        try:
            return func(*args, **kwargs)
        except RapiError as exc:
            if exc.kind == "deadline" or (exc.kind == "timeout" and self.deadline.expired()):
                raise self._timed_out(side, step, "the timeout expired while asking the %s cluster" % side)
            raise MoveError(side, step, exc.describe(), hint=exc.hint or ganeti_hint(str(exc)))

    def _submit(self, side, operation_name, step, func, *args):
        if self.deadline.expired():
            raise self._timed_out(side, step, "the timeout expired before the %s job was submitted" % operation_name)
        try:
            job_id = func(*args)
        except RapiError as exc:
            if exc.maybe_sent and operation_name in CHANGING_OPERATIONS:
                # The cluster may have queued the job: recovery must assume it runs.
                self._watches.append(JobWatch(None, side, operation_name))
                raise MoveError(side, step, "%s; the %s request may have reached the cluster"
                                % (exc.describe(), operation_name),
                                hint="look for a %s job with gnt-job list on the %s cluster" % (operation_name, side))
            if exc.kind == "deadline":
                raise self._timed_out(side, step, "the timeout expired before the %s job was submitted"
                                      % operation_name)
            raise MoveError(side, step, exc.describe(), hint=exc.hint or ganeti_hint(str(exc)))
        watch = JobWatch(job_id, side, operation_name)
        self._watches.append(watch)
        return watch

    def _client(self, side):
        return self.source if side == SOURCE else self.destination

    def _waiter(self, watch):
        return self.source_waiter if watch.side == SOURCE else self.destination_waiter

    def _follow(self, watch, step, until=None):
        try:
            return self._waiter(watch).wait(watch, until)
        except JobTimeout as exc:
            raise self._timed_out(watch.side, step, str(exc), job_id=watch.job_id)
        except JobLost as exc:
            raise MoveError(watch.side, step, str(exc), job_id=watch.job_id,
                            hint="look for the job with gnt-job list on that cluster")
        except RapiError as exc:
            raise MoveError(watch.side, step, "following job %s: %s" % (watch.job_id, exc.describe()),
                            job_id=watch.job_id, hint=exc.hint)

    def _job_result(self, watch, step):
        self._follow(watch, step)
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

    # ------------------------------------------------------------- preflight
    def _preflight(self):
        """Everything that can be known before a job: returns an outcome when there is nothing to move."""
        self._begin("preflight")
        self._identify_clusters()
        while True:
            src, dst = self._read_instances()
            others = self._call("both", "preflight", live_jobs, self.source, self.destination, self.spec.name,
                                self.spec.destination_name)
            if not others:
                break
            if self._check_mode:
                return self._plan_wait(others)
            self._wait_for_others(others)
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
        self._validate(src, self._destination_info)
        return None

    def _identify_clusters(self):
        if self._destination_info is not None:
            return
        src_info = self._call(SOURCE, "preflight", self.source.cluster_info)
        dst_info = self._call(DESTINATION, "preflight", self.destination.cluster_info)
        self._source_info, self._destination_info = src_info, dst_info
        self.outcome.source_cluster = src_info.get("name")
        self.outcome.destination_cluster = dst_info.get("name")
        if same_cluster(src_info, dst_info):
            raise MoveError("input", "preflight",
                            "source (%s) and destination (%s) are the same cluster, %s; a move between clusters "
                            "needs two, and nothing was touched"
                            % (_address(self.source), _address(self.destination), describe_cluster(dst_info)),
                            hint="to rename the instance inside its cluster use gnt-instance rename, to put it on "
                                 "another node of the same cluster use gnt-instance move (or failover/migrate); to "
                                 "move it to another cluster, point destination at that cluster's RAPI")

    def _read_instances(self):
        """Both sides' instance (None where absent), with every name settled."""
        spec = self.spec
        src = self._call(SOURCE, "preflight", self.source.query_instance, spec.name, INSTANCE_FIELDS)
        if src is not None:
            self._settle_names(src)
        dst = self._call(DESTINATION, "preflight", self.destination.query_instance, spec.destination_name,
                         INSTANCE_FIELDS)
        if dst is not None and normalize_name(dst.get("name")) != spec.destination_name:
            # Ganeti expanded a short name to another instance: not the one asked for.
            self._expanded_destination = dst.get("name")
            dst = None
        return src, dst

    def _settle_names(self, src):
        """The source's canonical name is what moves and, unless given, the destination name."""
        spec = self.spec
        canonical = normalize_name(src.get("name")) or spec.name
        spec.name = canonical
        if not spec.destination_name_given:
            spec.destination_name = canonical
        if spec.name_check and "." not in spec.destination_name:
            domain = canonical.partition(".")[2]
            example = "%s.%s" % (spec.destination_name, domain) if domain else "%s.example.org" % spec.destination_name
            raise MoveError("input", "preflight",
                            "the destination name %s is not fully qualified: with name_check the destination master "
                            "would expand it through DNS to a name known only once the create job runs"
                            % spec.destination_name,
                            hint="give destination_name in full (for example %s), or set name_check: false to keep "
                                 "the short name" % example)

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
                     "another name" % _job_list(self._others))
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
                self._waiter(watch).wait(watch)
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
        jobs = ", ".join("%s job %s (%s, %s)" % (w.side, w.job_id, w.operation, w.status) for w in running)
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
                                "or report their outcome" % (self.spec.name, _job_list(self._others)))
        return self.outcome

    # -------------------------------------------------- what is already there
    def _earlier(self):
        try:
            return find_earlier_move(self.source, self.destination, self.spec.name, self.spec.destination_name)
        except RapiError as exc:
            self.outcome.warnings.append("could not read the job lists to find an earlier move: %s" % exc)
            return None

    def _already_moved(self, dst):
        spec = self.spec
        cluster = self.outcome.destination_cluster
        earlier = self._earlier()
        if earlier is not None and earlier.from_source and earlier.data_sent and not earlier.data_received:
            raise MoveError(DESTINATION, "preflight",
                            "%s is gone from the source, but the destination job of its move (%s) reports: %s"
                            % (spec.name, earlier.job_ids(), " / ".join(import_failures(flat_oplog(earlier.create.get("oplog"))))),
                            job_id=earlier.create["id"],
                            hint="the destination copy %s may be incomplete: check it (gnt-instance info) and restore "
                                 "the instance from a backup if it is" % spec.destination_name)
        if earlier is not None and earlier.from_source and (earlier.data_sent or earlier.data_received):
            message = "%s is already on the destination cluster %s as %s (moved by %s)" % (
                spec.name, cluster, spec.destination_name, earlier.job_ids())
            return self._finish_unchanged("already_moved", dst, message, "jobs")
        self.outcome.warnings.append(
            "unverified: %s on %s is taken to be the moved %s, but no job of that move is listed on either cluster "
            "any more (Ganeti archives old jobs) and the source instance is gone, so nothing shows it is its copy"
            % (spec.destination_name, cluster, spec.name))
        message = ("%s is already on the destination cluster %s as %s (unverified: no job of the move was found and "
                   "the source instance is gone)" % (spec.name, cluster, spec.destination_name))
        return self._finish_unchanged("already_moved", dst, message, "none")

    def _both_present(self, src, dst):
        """Both clusters have the instance: finish, repair or refuse, never guess.

        Returns an outcome when done, None to go on with a normal move (after
        an earlier run's empty copy was removed), or raises MoveError.
        """
        spec = self.spec
        cluster = self.outcome.destination_cluster
        earlier = self._earlier()
        if earlier is not None and earlier.from_source:
            return self._after_earlier_move(src, dst, earlier)
        mismatches = shape_mismatches(src, dst, spec.nics)
        if mismatches:
            raise MoveError(DESTINATION, "preflight",
                            "%s on the destination cluster %s is not a copy of %s: %s; neither instance was touched"
                            % (spec.destination_name, cluster, spec.name, "; ".join(mismatches)),
                            hint="choose another destination_name, or remove or rename the other instance on the "
                                 "destination")
        if spec.keep_source:
            message = ("%s is on both clusters (source kept as asked): %s on %s has the disks and MAC addresses of "
                       "the source instance (no job of its move is listed any more)"
                       % (spec.name, spec.destination_name, cluster))
            return self._finish_unchanged("already_copied", dst, message, "shape")
        raise MoveError("both", "preflight",
                        "%s exists on the source and as %s on the destination cluster %s with the same disks and MAC "
                        "addresses, but no job of a move of it is listed (Ganeti archives old jobs); neither was "
                        "touched" % (spec.name, spec.destination_name, cluster),
                        hint="check the destination copy (gnt-instance info %s), then remove the copy you do not want "
                             "(gnt-instance remove), or set keep_source: true if both are meant to stay"
                             % spec.destination_name)

    def _after_earlier_move(self, src, dst, earlier):
        """Both present, and the destination instance was made by an earlier (finished) move from this source."""
        spec = self.spec
        cluster = self.outcome.destination_cluster
        jobs = earlier.job_ids()
        if earlier.data_sent or earlier.data_received:
            if spec.keep_source:
                return self._finish_unchanged("already_copied", dst, "%s is already copied to %s as %s (by %s); the "
                                              "source was kept as asked" % (spec.name, cluster,
                                                                            spec.destination_name, jobs), "jobs")
            if earlier.kept_source:
                raise MoveError("both", "preflight",
                                "an earlier run copied %s to %s with keep_source (%s), so both copies are meant to "
                                "exist; neither was touched" % (spec.name, cluster, jobs),
                                job_id=earlier.export["id"],
                                hint="set keep_source: true for this task, or remove the copy you do not want")
            if earlier.data_sent:
                raise MoveError("both", "preflight",
                                "an earlier run's export (source job %s) sent every disk of %s to %s, but the source "
                                "copy is still there: removing it failed (%s)"
                                % (earlier.export["id"], spec.name, cluster, earlier.export_error),
                                job_id=earlier.export["id"],
                                hint="check the destination copy (gnt-instance info %s) and then remove the source "
                                     "copy with gnt-instance remove %s" % (spec.destination_name, spec.name))
            raise MoveError("both", "preflight",
                            "%s on %s was made by an earlier move (%s) and received every disk, and the source copy "
                            "%s still exists; neither was touched" % (spec.destination_name, cluster, jobs, spec.name),
                            job_id=earlier.create["id"],
                            hint="check the destination copy (gnt-instance info %s), then remove the source copy "
                                 "(gnt-instance remove %s), or set keep_source: true if both are meant to stay"
                                 % (spec.destination_name, spec.name))
        # The destination copy never got its data: debris of an earlier run.
        self._start_hint = earlier.create_op.get("start")
        mismatches = shape_mismatches(src, dst, spec.nics)
        if mismatches:
            raise MoveError(DESTINATION, "preflight",
                            "%s on %s is not the incomplete copy an earlier run made (%s): %s; not touched"
                            % (spec.destination_name, cluster, jobs, "; ".join(mismatches)),
                            hint="check it with gnt-instance info %s and remove it by hand if it is debris"
                                 % spec.destination_name)
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
        watch = self._submit(DESTINATION, "remove", "remove earlier copy", self.destination.remove_instance,
                             spec.destination_name)
        self._job_result(watch, "remove earlier copy")
        self.outcome.notes.append("removed the incomplete copy %s an earlier run left on %s (%s; remove job %s)"
                                  % (spec.destination_name, cluster, jobs, watch.job_id))
        self._begin("preflight")
        return None

    def _finish_unchanged(self, state, dst, message, evidence):
        self.outcome.state = state
        self.outcome.evidence = evidence
        self.outcome.changed = False
        self.outcome.message = message
        self.outcome.instance = dst
        described = describe(dst, self.outcome.destination_cluster)
        self.outcome.diff = {"before": described, "after": described}
        self._end_step()
        return self.outcome

    # ------------------------------------------------------------- validate
    def _validate(self, src, info):
        """Every check that can be made before anything is touched."""
        spec = self.spec
        cluster = info.get("name")

        def refuse(message, hint=None, side=DESTINATION):
            raise MoveError(side, "preflight", message, hint=hint)

        nic_count = src.get("nic.count") or 0
        if len(spec.nics) > nic_count:
            refuse("nics has %d entries but %s has %d NIC(s); overrides cannot add NICs"
                   % (len(spec.nics), spec.name, nic_count), "give at most one nics entry per existing NIC",
                   side="input")
        self._check_nic_overrides(src)
        hypervisor = src.get("hypervisor")
        if hypervisor and hypervisor not in (info.get("enabled_hypervisors") or [hypervisor]):
            refuse("hypervisor %s of %s is not enabled on %s (enabled: %s)"
                   % (hypervisor, spec.name, cluster, ", ".join(info.get("enabled_hypervisors") or [])),
                   "enable it with gnt-cluster modify --enabled-hypervisors on the destination")
        template = spec.disk_template or src.get("disk_template")
        if template not in (info.get("enabled_disk_templates") or [template]):
            refuse("disk template %s is not enabled on %s (enabled: %s)"
                   % (template, cluster, ", ".join(info.get("enabled_disk_templates") or [])),
                   "choose disk_template from the enabled ones, or enable it with gnt-cluster modify")
        if spec.compress != COMPRESS_ALWAYS_ALLOWED:
            # The source compresses, the destination decompresses: both must allow the tool.
            for side, side_info in ((SOURCE, self._source_info), (DESTINATION, info)):
                allowed = side_info.get("compression_tools")
                if allowed is not None and spec.compress not in allowed:
                    refuse("compress %s is not allowed on the %s cluster %s (allowed: none, %s)"
                           % (spec.compress, side, side_info.get("name"), ", ".join(allowed)),
                           "choose a compression tool that both clusters list in gnt-cluster info", side=side)
        self._check_params("beparams", spec.beparams, (info.get("beparams") or {}).get("default"))
        self._check_params("hvparams", spec.hvparams, (info.get("hvparams") or {}).get(hypervisor))
        global_only = sorted(set(spec.hvparams) & set(GLOBAL_HVPARAMS))
        if global_only:
            refuse("hvparams %s can only be set for the whole destination cluster, not per instance"
                   % ", ".join(global_only), "set them with gnt-cluster modify -H on the destination, or drop them",
                   side="input")
        self._check_placement(template, not spec.disk_template)
        primary = None
        if spec.primary_node:
            primary = self._check_nodes()
        elif not (spec.iallocator or info.get("default_iallocator")):
            refuse("no placement: neither primary_node nor iallocator is set and %s has no default iallocator"
                   % cluster, "set primary_node, or iallocator (e.g. hail)")
        if spec.opportunistic_tries and not (spec.iallocator or (info.get("default_iallocator")
                                                                 and not spec.primary_node)):
            refuse("opportunistic_tries needs an iallocator", "set iallocator, or opportunistic_tries: 0",
                   side="input")
        self._check_networks(src, primary)

    def _check_params(self, option, given, known):
        if not given or not known:
            return
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise MoveError("input", "preflight", "%s has unknown parameter(s) %s for the destination"
                            % (option, ", ".join(unknown)),
                            hint="valid names: %s" % ", ".join(sorted(known)))

    def _check_nic_overrides(self, src):
        """A NIC on a network takes mode, link and vlan from it: refuse overrides that set them there."""
        networks = src.get("nic.networks.names") or []
        for index, override in enumerate(self.spec.nics):
            override = override or {}
            own = [key for key in NETWORK_NIC_KEYS if override.get(key) not in (None, "")]
            if not own:
                continue
            keys = " and ".join(own)
            if override.get("network") not in (None, ""):
                raise MoveError("input", "preflight",
                                "nics[%d] sets network %s together with %s: a NIC on a network gets its mode, "
                                "link and vlan from that network on the destination (Ganeti refuses a mode or "
                                "link next to a network and overwrites a vlan)"
                                % (index, override["network"], keys),
                                hint='drop %s from nics[%d] to let network %s decide them, or set network: "" '
                                     'in it to put the NIC on a plain link' % (keys, index, override["network"]))
            source_network = networks[index] if index < len(networks) else None
            if source_network and "network" not in override:
                raise MoveError("input", "preflight",
                                "nics[%d] sets %s, but NIC %d of %s is on network %s, which decides its mode, link "
                                "and vlan on the destination" % (index, keys, index, self.spec.name, source_network),
                                hint='add network: "" to nics[%d] to take the NIC off network %s (for example '
                                     '{network: "", link: br0}), or drop %s from it' % (index, source_network, keys))

    def _check_placement(self, template, from_source):
        """The nodes given fit the disk template: drbd needs a secondary node, other templates have none."""
        spec = self.spec
        words = "disk template %s%s" % (template, " (the source instance's)" if from_source else "")
        if spec.secondary_node and not spec.primary_node:
            raise MoveError("input", "preflight", "secondary_node %s is given without primary_node"
                            % spec.secondary_node,
                            hint="set primary_node too, or drop secondary_node to let the iallocator choose both "
                                 "nodes")
        if template in MIRRORED_TEMPLATES:
            if spec.primary_node and not spec.secondary_node:
                raise MoveError("input", "preflight",
                                "%s mirrors the disks to a second node, so with primary_node %s Ganeti needs a "
                                "secondary_node (The networked disk templates need a mirror node)"
                                % (words, spec.primary_node),
                                hint="set secondary_node to another node of the destination, or drop primary_node "
                                     "to let the iallocator choose both nodes, or choose a disk_template without "
                                     "mirror (e.g. plain)")
        elif spec.secondary_node:
            raise MoveError("input", "preflight",
                            "secondary_node %s is given, but %s has no mirror (only %s has a secondary node; Ganeti "
                            "would ignore it)" % (spec.secondary_node, words, ", ".join(MIRRORED_TEMPLATES)),
                            hint="drop secondary_node, or set disk_template: drbd")

    def _check_nodes(self):
        """primary_node (and secondary_node) exist on the destination and may take the instance.

        Returns the primary node's row (its group decides which networks the NICs can use).
        """
        spec = self.spec
        rows = [self._check_node(option, node) for option, node in (("primary_node", spec.primary_node),
                                                                    ("secondary_node", spec.secondary_node)) if node]
        # Compared by the names the destination reports, which expands short names.
        if len(rows) == 2 and normalize_name(rows[0].get("name")) == normalize_name(rows[1].get("name")):
            raise MoveError("input", "preflight", "secondary_node %s is the primary node %s: drbd mirrors the disks "
                            "to another node" % (spec.secondary_node, rows[0].get("name")),
                            hint="set secondary_node to another node of the destination")
        return rows[0]

    def _check_node(self, option, node):
        cluster = self.outcome.destination_cluster
        try:
            rows = self.destination.query("node", ["name", "offline", "drained", "vm_capable", "group"],
                                          ["=", "name", node])
        except RapiError as exc:
            if exc.ganeti_error_code == "unknown_entity":
                rows = []
            else:
                raise MoveError(DESTINATION, "preflight", exc.describe(), hint=exc.hint)
        if not rows:
            raise MoveError(DESTINATION, "preflight", "%s %s does not exist on %s" % (option, node, cluster),
                            hint="list the nodes with gnt-node list on the destination")
        row = rows[0]
        # Ganeti refuses each of these when the create job runs (Cannot use offline/drained/non-vm_capable node).
        problems = []
        if row.get("offline"):
            # Ganeti's own advice: gnt-node modify --offline=no asks for confirmation and recommends --readd
            problems.append(("offline", "gnt-node add --readd %s" % node))
        if row.get("drained"):
            problems.append(("drained (it takes no new instances)", "gnt-node modify --drained=no %s" % node))
        if row.get("vm_capable") is False:
            problems.append(("not vm_capable (it cannot run instances)", "gnt-node modify --vm-capable=yes %s"
                             % node))
        if problems:
            raise MoveError(DESTINATION, "preflight", "%s %s on the destination cluster %s is %s"
                            % (option, node, cluster, " and ".join(words for words, _fix in problems)),
                            hint="run %s on the destination cluster %s, or choose another %s"
                                 % (" and ".join(fix for _words, fix in problems), cluster, option))
        return row

    def _check_networks(self, src, primary):
        """Every network the NICs end on exists on the destination, connected to the primary node's group, and
        no address lands in a destination network its NIC is not on."""
        nics = planned_nics(src, self.spec.nics)
        wanted = [(index, nic["network"]) for index, nic in enumerate(nics) if nic.get("network")]
        addressed = [(index, nic) for index, nic in enumerate(nics) if nic.get("ip") not in (None, "", "pool")]
        if not wanted and not addressed:
            return  # no request for moves without networks or addresses
        cluster = self.outcome.destination_cluster
        rows = self._call(DESTINATION, "preflight", self.destination.query, "network",
                          ["name", "network", "group_list"])
        self._check_addresses(addressed, rows, cluster, primary)
        groups = dict((row.get("name"), _connected_groups(row)) for row in rows)
        for index, network in wanted:
            connect = ("gnt-network connect --nic-parameters=mode=bridged,link=BRIDGE %s %s on the destination"
                       % (network, (primary or {}).get("group") or "GROUP"))
            if network not in groups:
                raise MoveError(DESTINATION, "preflight",
                                "NIC %d of %s is to be on network %s, but the destination cluster %s has no network "
                                "of that name (it has: %s)"
                                % (index, self.spec.name, network, cluster, ", ".join(sorted(groups)) or "none"),
                                hint='create it there with the same name (gnt-network add --network=SUBNET %s, then '
                                     '%s), or take the NIC off it with a nics override, for example nics[%d]: '
                                     '{network: "", link: br0}' % (network, connect, index))
            if not groups[network]:
                raise MoveError(DESTINATION, "preflight",
                                "network %s of NIC %d is on the destination cluster %s but connected to no node "
                                "group, so no node can take the NIC" % (network, index, cluster),
                                hint="connect it: %s" % connect)
            group = (primary or {}).get("group")
            if group and group not in groups[network]:
                raise MoveError(DESTINATION, "preflight",
                                "network %s of NIC %d is not connected to node group %s of primary_node %s on the "
                                "destination cluster %s (it is connected to: %s)"
                                % (network, index, group, self.spec.primary_node, cluster,
                                   ", ".join(groups[network])),
                                hint="connect it: %s, or choose a primary_node in one of those groups" % connect)

    def _check_addresses(self, addressed, rows, cluster, primary):
        """The addresses the NICs keep, as Ganeti's create checks them (instance_create.CheckPrereq): a NIC on a
        network reserves its address in that network; a NIC on no network may not use an address of a network
        connected to the primary node's group (CheckForConflictingIp)."""
        networks = {}
        for row in rows:
            try:
                subnet = ipaddress.ip_network(u"%s" % row.get("network"), strict=False)
            except ValueError:
                continue
            networks[row.get("name")] = (subnet, _connected_groups(row))
        all_groups = None
        for index, nic in addressed:
            try:
                address = ipaddress.ip_address(u"%s" % nic["ip"])
            except ValueError:
                continue  # Ganeti judges what it is
            own = nic.get("network")
            if own:
                subnet = networks.get(own, (None, None))[0]
                if subnet is not None and (address.version != subnet.version or address not in subnet):
                    raise MoveError(DESTINATION, "preflight",
                                    "NIC %d of %s would keep the address %s, which is not in network %s (%s) on the "
                                    "destination cluster %s" % (index, self.spec.name, address, own, subnet, cluster),
                                    hint='take an address from its pool (nics[%d]: {ip: pool}) or none '
                                         '(nics[%d]: {ip: ""})' % (index, index))
                continue
            for name, (subnet, groups) in sorted(networks.items()):
                if address.version != subnet.version or address not in subnet or not groups:
                    continue
                if primary:
                    conflict = primary.get("group") in groups
                else:
                    # the iallocator chooses the node: a conflict is certain only where every group has the network
                    if all_groups is None:
                        all_groups = [row.get("name") for row in self._call(
                            DESTINATION, "preflight", self.destination.query, "group", ["name"])]
                    conflict = bool(all_groups) and set(all_groups) <= set(groups)
                if conflict:
                    raise MoveError(DESTINATION, "preflight",
                                    "NIC %d of %s would keep the address %s, which belongs to network %s on the "
                                    "destination cluster %s, but the NIC is not on that network"
                                    % (index, self.spec.name, address, name, cluster),
                                    hint='drop the address with a nics override (nics[%d]: {ip: ""}), or put the '
                                         'NIC on network %s (nics[%d]: {network: %s})' % (index, name, index, name))

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
            self.outcome.message += "; this run waited for another run's jobs first: %s" % _job_list(self._others)
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
            exc.recovery = self._after_timeout()
        elif exc.step not in ("preflight", "wait for another run"):
            exc.recovery = self._recover()
        exc.changed = self._changed()
        exc.outcome = self._finish_jobs()

    def _changed(self):
        """True when a job of this run created, removed, started or stopped something (or may have)."""
        for watch in self._watches:
            if watch.operation not in CHANGING_OPERATIONS or watch.cancelled:
                continue
            if watch.job_id is None or watch.result is None:
                return True  # still queued or running: it will act
            if watch.result.succeeded:
                return True
            said = messages(watch.log)
            if watch.result.error()[0] == "OpPrereqError":
                # Ganeti's checks raise it, having logged INFO/WARNING lines at most; a few raise it after acting
                # (an OS missing on the node, after the disks were made), whose log then says what was done.
                said = [line for line in said if not line.startswith(CHECK_LOG_PREFIXES)]
            if said:
                return True
        return False

    def _move(self):
        spec = self.spec
        self._begin("prepare")
        # Both source jobs are submitted at once; luxid runs them side by side.
        info_watch = self._submit(SOURCE, "instance-info", "prepare", self.source.instance_info_job, spec.name)
        prepare_watch = self._submit(SOURCE, "prepare-export", "prepare", self.source.prepare_export, spec.name)
        info_result = self._job_result(info_watch, "prepare")
        instinfo = _single_instance(info_result.result)
        expinfo = self._job_result(prepare_watch, "prepare").result
        if not isinstance(expinfo, dict) or not {"handshake", "x509_key_name", "x509_ca"} <= set(expinfo):
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
        self._transfer(create_watch, impinfo, expinfo["x509_key_name"], spec.compress, sizes)

    def _transfer(self, create_watch, impinfo, key_name, compress, sizes):
        """Export to the endpoints the destination published, then check both jobs and the result."""
        spec = self.spec
        self._begin("export")
        export_body = {
            "mode": "remote",
            "destination": impinfo["disks"],
            "destination_x509_ca": impinfo["x509_ca"],
            "x509_key_name": key_name,
            "shutdown": True,
            "shutdown_timeout": spec.shutdown_timeout,
            "remove_instance": not spec.keep_source,
            "compress": compress,
            # The destination already listens, with a connect timeout, and
            # holds one of its cluster's job slots: when the source's queue is
            # full (luxid runs max_running_jobs at once), the export goes first.
            "priority": OP_PRIO_HIGH,
        }
        if spec.keep_source:
            # Without snapshot-capable storage Ganeti refuses to keep a running
            # instance unless it may stay down for the whole copy.
            export_body["long_sleep"] = True
        export_watch = self._submit(SOURCE, "export", "export", self.source.export_instance, spec.name, export_body)
        dst = None
        every_disk = len(sizes)
        if (self._follow(export_watch, "export",
                         until=lambda entry: every_disk > 0 and len(disks_sent(export_watch.log)) >= every_disk)
                and self._ended(create_watch)):
            # Every disk is sent and the destination job is over: read the
            # copy while the source still removes its instance (~0.3 s), so
            # that little is left to ask once the last job ends.
            self._follow(create_watch, "import")
            if create_watch.result.succeeded and not import_failures(create_watch.log):
                dst = self._read_destination()
        self._check_export(self._job_result(export_watch, "export"))

        self._begin("import")
        # The destination job may still be finishing (Ganeti looks at its
        # import every 5 s): ask about the source meanwhile.
        src = self._read_source()
        self._job_result(create_watch, "import")
        failures = import_failures(create_watch.log)
        if failures:
            raise MoveError(DESTINATION, "import", "the destination job succeeded but reports: %s"
                            % " / ".join(failures), job_id=create_watch.job_id, hint=ganeti_hint(failures[0]))
        self._begin("verify")
        self._verify(sizes, dst if dst is not None else self._read_destination(), src)

    def _create(self, body):
        """Submit the remote-import create (retrying opportunistically) and wait for its endpoints."""
        spec = self.spec
        attempts = [True] * spec.opportunistic_tries + [False]
        for number, opportunistic in enumerate(attempts, 1):
            self._begin("create" if number == 1 else "create (attempt %d)" % number)
            body["opportunistic_locking"] = opportunistic
            watch = self._submit(DESTINATION, "create", "create", self.destination.create_instance, body)
            entry = self._follow(watch, "create", until=is_remote_import)
            if entry is not None:
                message = entry[3]
                if not isinstance(message, dict) or "disks" not in message or "x509_ca" not in message:
                    raise MoveError(DESTINATION, "create", "malformed remote-import log entry", job_id=watch.job_id)
                return watch, message
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
            failed = []
            if isinstance(value, (list, tuple)) and len(value) == 2 and isinstance(value[1], (list, tuple)):
                failed = [str(i) for i, d in enumerate(value[1]) if d is not True]
            raise MoveError(SOURCE, "export", "the export did not transfer every disk (result %r%s)"
                            % (value, ", failed disks: %s" % ", ".join(failed) if failed else ""),
                            job_id=result.job_id, hint=ganeti_hint("export failed"))

    def _ended(self, watch):
        """Whether a job is over, without waiting for it (one GET /2/jobs/ID)."""
        try:
            return (self._client(watch.side).get_job(watch.job_id) or {}).get("status") in FINAL_STATUSES
        except RapiError:
            return False  # the waiter will find out

    def _read_destination(self):
        return self._call(DESTINATION, "verify", self.destination.query_instance, self.spec.destination_name,
                          INSTANCE_FIELDS)

    def _read_source(self):
        """The source instance after the export (None when gone); not asked when it is kept on purpose."""
        if self.spec.keep_source:
            return None
        return self._call(SOURCE, "verify", self.source.query_instance, self.spec.name, ["name", "status"])

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

    # -------------------------------------------------------------- recovery
    def _recover(self):
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
        export = self._last(SOURCE, "export")
        create = self._last(DESTINATION, "create")
        if export is not None and not export.cancelled and not self._settle(export, done):
            # The export may still finish and remove the source: whatever we
            # removed now could be the last copy.
            done.append("source job %s (export) is still %s: it shuts the source instance down and sends the data, "
                        "so nothing was removed or restarted; run the same task again once it has ended (it waits "
                        "for the job, then finishes the move or reports both clusters)"
                        % (export.job_id, export.status))
            return done
        if export is not None and data_sent(export.status, export.result and export.result.result, export.log) \
                and not self.spec.keep_source:
            done.append("the export sent every disk (Ganeti then removes the source), so the destination copy %s "
                        "was kept; check it with gnt-instance info" % self.spec.destination_name)
            return done
        if create is not None and not create.cancelled and not self._settle(create, done):
            done.append("destination job %s (create) is still %s, so nothing was removed or restarted; run the same "
                        "task again once it has ended" % (create.job_id, create.status))
            return done
        try:
            source_now = self.source.query_instance(self.spec.name, INSTANCE_FIELDS)
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

    def _last(self, side, operation_name):
        matching = [w for w in self._watches if w.side == side and w.operation == operation_name]
        return matching[-1] if matching else None

    def _settle(self, watch, done):
        """Follow a job of this run to its end, until the move's deadline; False if it is still running."""
        if watch.finished:
            return True
        try:
            self._waiter(watch).wait(watch)
        except JobTimeout:
            self._peek(watch)
            return watch.finished  # the caller says what a running job means
        except (JobError, RapiError) as exc:
            done.append("could not follow %s job %s to its end: %s" % (watch.side, watch.job_id, exc))
            return False
        return True

    def _recovery_job(self, side, operation_name, submit, name):
        """Submit one recovery job (remove, startup) and follow it to success; raises JobError or RapiError."""
        if self.deadline.expired():
            raise JobTimeout("the timeout of %ss had expired, so no %s job was submitted"
                             % (self.spec.timeout, operation_name))
        watch = JobWatch(submit(name), side, operation_name)
        self._watches.append(watch)
        self._waiter(watch).result(watch)
        return watch

    def _peek(self, watch):
        """The job's status now (one GET /2/jobs/ID); the last one seen when the cluster does not answer."""
        try:
            status = (self._client(watch.side).get_job(watch.job_id, timeout=GRACE_REQUEST_TIMEOUT) or {}).get("status")
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
            client = self._client(watch.side)
            try:
                answer = client.cancel_job(watch.job_id, timeout=GRACE_REQUEST_TIMEOUT)
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

    def _after_timeout(self):
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

    def _remove_empty_destination(self, create, export, done):
        """Remove the destination instance this run created if its data is known to be missing."""
        if create is None or create.cancelled or create.result is None:
            return
        name = self.spec.destination_name
        ours = any(is_remote_import(entry) for entry in create.log) or create.result.succeeded
        if not ours:
            return  # our create never made the instance: whatever has that name is not ours
        missing = (not create.result.succeeded or bool(import_failures(create.log)) or export is None
                   or export.cancelled or not data_sent(export.status, export.result and export.result.result,
                                                        export.log))
        if not missing:
            done.append("kept the destination copy %s: it received every disk; check it with gnt-instance info"
                        % name)
            return
        try:
            if self.destination.query_instance(name, ["name"]) is None:
                return
        except RapiError:
            pass  # the remove below reports the problem
        if not self.spec.cleanup:
            done.append("kept the incomplete destination instance %s on %s for debugging (cleanup: false); "
                        "remove it with gnt-instance remove %s" % (name, self.outcome.destination_cluster, name))
            return
        try:
            watch = self._recovery_job(DESTINATION, "remove", self.destination.remove_instance, name)
            done.append("removed the incomplete destination instance %s (job %s)" % (name, watch.job_id))
        except (JobError, RapiError) as exc:
            done.append("could not remove the incomplete destination instance %s: %s; remove it with "
                        "gnt-instance remove %s" % (name, exc, name))

    def _restart_source(self, source_now, export, done):
        """Start the source again if this run's export shut it down (never another run's)."""
        before = self._source_before or {}
        # oper_state None means the node did not answer: do not guess.
        if export is None or export.cancelled or not shut_down_source(export.log):
            return
        if before.get("oper_state") is not True or source_now.get("oper_state") is not False:
            return
        name = self.spec.name
        try:
            watch = self._recovery_job(SOURCE, "startup", self.source.startup_instance, name)
            done.append("started the source instance %s again (job %s)" % (name, watch.job_id))
        except (JobError, RapiError) as exc:
            done.append("could not start the source instance %s again: %s; start it with "
                        "gnt-instance startup %s" % (name, exc, name))

    def _finish_jobs(self):
        self.outcome.jobs = [_job_entry(watch) for watch in self._watches]
        self.outcome.waited_for = [_job_entry(watch) for watch in self._others]
        return self.outcome


def _connected_groups(network_row):
    """The node groups a /2/query/network row's group_list names: (group name, NIC mode, NIC link[, vlan]) each."""
    return [entry[0] if isinstance(entry, (list, tuple)) else entry for entry in network_row.get("group_list") or []]


def _job_entry(watch):
    return {"side": watch.side, "id": watch.job_id, "operation": watch.operation, "status": watch.status}


def _job_list(watches):
    return ", ".join("%s job %s (%s, %s)" % (w.side, w.job_id, w.operation, w.status) for w in watches)


def _address(client):
    host, port = getattr(client, "host", None), getattr(client, "port", None)
    return "%s:%s" % (host, port) if host else getattr(client, "side", "?")


def _single_instance(result):
    if isinstance(result, dict) and len(result) == 1:
        return list(result.values())[0]
    raise MoveError(SOURCE, "prepare", "unexpected instance information: %r" % (result,))
