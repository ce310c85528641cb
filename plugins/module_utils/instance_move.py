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
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import time

from ansible_collections.ganeti.rapi.plugins.module_utils.rapi_client import RapiError
from ansible_collections.ganeti.rapi.plugins.module_utils.move_history import (
    earlier_create_running, find_earlier_move,
)
from ansible_collections.ganeti.rapi.plugins.module_utils.job_waiter import (
    FINAL_STATUSES, Deadline, JobError, JobLost, JobTimeout, JobWaiter, JobWatch,
)

SOURCE, DESTINATION = "source", "destination"

# Fields read from /2/query/instance (no job is submitted for them).
INSTANCE_FIELDS = ["name", "admin_state", "oper_state", "pnode", "snodes", "disk_template", "hypervisor",
                   "os", "nic.count", "disk.count", "disk.sizes", "tags", "status"]
# Lines the destination job logs when a disk did not arrive; its status
# stays "success" (see docs/failures.md).
IMPORT_FAILURE_MARKERS = ("were not imported successfully", "failed to receive data")
COMPRESS_ALWAYS_ALLOWED = "none"
OP_PRIO_HIGH = -10  # the highest job priority Ganeti lets a client submit
# Hypervisor parameters Ganeti only accepts cluster-wide (its HVC_GLOBALS).
GLOBAL_HVPARAMS = ("migration_bandwidth", "migration_mode", "migration_port", "xen_cmd")


class MoveSpec:
    """What to move and how; every attribute maps to a module option."""

    def __init__(self, name, destination_name=None, primary_node=None, secondary_node=None, iallocator=None,
                 disk_template=None, compress="none", beparams=None, hvparams=None, osparams=None, nics=None,
                 keep_source=False, start=None, shutdown_timeout=120, opportunistic_tries=0,
                 opportunistic_delay=30, timeout=3600, cleanup=True, name_check=True):
        # Ganeti stores instance names lower-case without a trailing dot, and
        # its name lookups are case-sensitive.
        self.name = normalize_name(name)
        self.destination_name = normalize_name(destination_name or name)
        self.name_check = name_check
        self.primary_node = primary_node
        self.secondary_node = secondary_node
        self.iallocator = iallocator
        self.disk_template = disk_template
        self.compress = compress or "none"
        self.beparams = beparams or {}
        self.hvparams = hvparams or {}
        self.osparams = osparams or {}
        self.nics = nics or []
        self.keep_source = keep_source
        self.start = start
        self.shutdown_timeout = shutdown_timeout
        self.opportunistic_tries = opportunistic_tries or 0
        self.opportunistic_delay = opportunistic_delay
        self.timeout = timeout
        self.cleanup = cleanup


class MoveError(Exception):
    """A move failed: which side, which step, which job, Ganeti's words and what to do."""

    def __init__(self, side, step, message, job_id=None, hint=None, ganeti_error=None):
        super(MoveError, self).__init__(message)
        self.side = side
        self.step = step
        self.message = message
        self.job_id = job_id
        self.hint = hint
        self.ganeti_error = ganeti_error
        self.recovery = []  # what was done to leave both clusters clean
        self.timed_out = False  # the overall timeout expired: recovery must not wait either
        self.outcome = None  # the partial MoveOutcome (jobs, steps) for the results

    def __str__(self):
        where = "%s, step '%s'" % (self.side, self.step)
        if self.job_id is not None:
            where += ", job %s" % self.job_id
        text = "%s: %s" % (where, self.message)
        if self.hint:
            text = "%s. Fix: %s" % (text.rstrip("."), self.hint)
        if self.recovery:
            text = "%s. Recovery: %s" % (text.rstrip("."), "; ".join(self.recovery))
        return text


class MoveOutcome:
    """What happened: the final state, the jobs, the step timings."""

    def __init__(self):
        self.state = None  # "moved", "already_moved", "kept_both", "would_move", "would_resume"
        self.changed = False
        self.message = None
        self.instance = None  # destination instance as found after the move
        self.source_instance = None
        self.destination_cluster = None
        self.jobs = []
        self.steps = []
        self.handoff = {}
        self.notes = []  # repairs made before the move (e.g. an earlier run's debris removed)


def normalize_name(name):
    return str(name).strip().rstrip(".").lower() if name else name


def ganeti_hint(text, code=None):
    """What an operator should do about a Ganeti error text."""
    lowered = (text or "").lower()
    if "hash didn't match" in lowered or "domain secret" in lowered or "signature is invalid" in lowered:
        return ("the clusters do not share the same cluster domain secret: copy "
                "/var/lib/ganeti/cluster-domain-secret from one master to the other with "
                "'gnt-cluster renew-crypto --cluster-domain-secret=FILE --new-confd-hmac-key'")
    if "does not resolve" in lowered or code == "resolver_error":
        return "the destination master must resolve the instance name: add it to DNS or /etc/hosts there"
    if "commonname does not match" in lowered:
        return ("socat on the source node rejected the destination node's certificate name; Ganeti 3.0 with "
                "socat 1.7.3 or later always fails this check (ganeti#1681): upgrade both clusters to Ganeti 3.1 "
                "or later, where reverse DNS of the destination node IP must return the node's FQDN")
    if "not imported successfully" in lowered or "failed to receive data" in lowered \
            or "errors in disk export" in lowered or "export failed" in lowered:
        return ("the disk data did not arrive: the source nodes must reach the destination nodes' primary IPs "
                "on TCP ports above 1024, and both clusters need socat; see the source job log for details")
    if code == "temp_insufficient_resources":
        return "the destination is short of resources right now: retry later or use opportunistic_tries"
    if code == "insufficient_resources" or "can't compute nodes" in lowered or "iallocator" in lowered:
        return "the destination cannot place the instance: choose another primary_node or iallocator, or free capacity"
    if code == "resource_not_unique" and "mac" in lowered:
        return "the instance's MAC address is in use on the destination: set nics: [{mac: generate}]"
    if code == "already_exists" or "already exists" in lowered:
        return "an instance of that name exists on the destination: choose another destination_name"
    if "not enabled" in lowered:
        return "enable it on the destination cluster (gnt-cluster modify) or choose another one"
    if "snapshot" in lowered and "long-sleep" in lowered:
        return "the source disks cannot be snapshotted: the move shuts the instance down for the copy"
    return None


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
        self.deadline = Deadline(spec.timeout, clock)
        self.source_waiter = JobWaiter(source, self.deadline, sleep=sleep, clock=clock)
        self.destination_waiter = JobWaiter(destination, self.deadline, sleep=sleep, clock=clock)
        self.outcome = MoveOutcome()
        self._watches = []
        self._step_started = None
        self._step_name = None
        self._source_before = None
        self._destination_info = None
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

    def _call(self, side, step, func, *args, **kwargs):
        """Run one RAPI call; turn a RapiError into a MoveError naming the side and step."""
        try:
            return func(*args, **kwargs)
        except RapiError as exc:
            raise MoveError(side, step, exc.describe(), hint=exc.hint or ganeti_hint(str(exc)))

    def _submit(self, side, operation, step, func, *args):
        try:
            job_id = func(*args)
        except RapiError as exc:
            if exc.maybe_sent and operation in ("create", "export"):
                # The cluster may have queued the job: recovery must assume it runs.
                self._watches.append(JobWatch(None, side, operation))
                raise MoveError(side, step, "%s; the %s request may have reached the cluster"
                                % (exc.describe(), operation),
                                hint="look for a %s job with gnt-job list on the %s cluster" % (operation, side))
            raise MoveError(side, step, exc.describe(), hint=exc.hint or ganeti_hint(str(exc)))
        watch = JobWatch(job_id, side, operation)
        self._watches.append(watch)
        return watch

    def _waiter(self, watch):
        return self.source_waiter if watch.side == SOURCE else self.destination_waiter

    def _follow(self, watch, step, until=None):
        try:
            return self._waiter(watch).wait(watch, until)
        except JobTimeout as exc:
            error = MoveError(watch.side, step, "%s; the move's timeout is %ss" % (exc, self.spec.timeout),
                              job_id=watch.job_id, hint="raise the module's timeout option, or run the same task "
                              "again: it finishes the interrupted move or removes its incomplete copy")
            error.timed_out = True
            raise error
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
            details = _failure_lines(result)
            text = "%s: %s" % (error_class, message)
            if details:
                text += " (job log: %s)" % " / ".join(details)
            raise MoveError(watch.side, step, text, job_id=watch.job_id,
                            hint=ganeti_hint(" ".join([message or ""] + details), code), ganeti_error=message)
        return result

    # ------------------------------------------------------------- preflight
    def _preflight(self):
        spec = self.spec
        self._begin("preflight")
        src = self._call(SOURCE, "preflight", self.source.query_instance, spec.name, INSTANCE_FIELDS)
        dst = self._call(DESTINATION, "preflight", self.destination.query_instance,
                         spec.destination_name, INSTANCE_FIELDS)
        info = self._call(DESTINATION, "preflight", self.destination.cluster_info)
        self._destination_info = info
        self.outcome.destination_cluster = info.get("name")
        self.outcome.source_instance = src
        self._source_before = src
        if src is None and dst is not None:
            return self._finish_unchanged("already_moved", dst,
                                          "%s is already on the destination cluster %s"
                                          % (spec.destination_name, info.get("name")))
        if src is not None and (dst is not None or self._earlier_create_running()):
            done = self._both_present(dst, info)
            if done is not None:
                return done
        if src is None:
            raise MoveError(SOURCE, "preflight",
                            "instance %s exists on neither cluster (nor as %s on the destination)"
                            % (spec.name, spec.destination_name),
                            hint="check the instance name (gnt-instance list on the source)")
        self._validate(src, info)
        return None

    def _both_present(self, dst, info):
        """Both clusters have the instance: finish, repair or refuse, never guess.

        Returns an outcome when done, None to go on with a normal move (after
        an earlier run's empty copy was removed), or raises MoveError.
        """
        spec = self.spec
        cluster = info.get("name")
        if spec.keep_source and dst is not None:
            return self._finish_unchanged("kept_both", dst,
                                          "%s is on both clusters (source kept as asked)" % spec.destination_name)
        both = MoveError("both", "preflight",
                         "%s exists on the source and %s on the destination cluster %s, and no earlier move of it "
                         "was found in the job lists; neither was touched" % (spec.name, spec.destination_name, cluster),
                         hint="remove the copy you do not want (gnt-instance remove), or set keep_source: true if "
                              "both copies are meant to stay")
        try:
            earlier = find_earlier_move(self.source, self.destination, spec.name, spec.destination_name)
        except RapiError:
            earlier = None
        if earlier is None:
            raise both
        create = self._adopt(DESTINATION, "create", earlier.create)
        export = self._adopt(SOURCE, "export", earlier.export) if earlier.export else None
        if self._check_mode:
            return self._plan_earlier(create, export, earlier)
        self._begin("resume")
        if export is not None and not export.finished:
            self._follow(export, "resume")  # it decides whether the source still exists
            if self._call(SOURCE, "resume", self.source.query_instance, spec.name, ["name"]) is None:
                # The earlier run's move went on without it: check its end as if it were ours.
                self._job_result(create, "resume")
                failures = _import_failures(create.result)
                if failures:
                    raise MoveError(DESTINATION, "resume", "an earlier run's move of %s ended with the source "
                                    "removed but the destination reports: %s" % (spec.name, " / ".join(failures)),
                                    job_id=create.job_id, hint="the destination copy may be incomplete: check it "
                                    "(gnt-instance info %s) and restore the instance from a backup if it is"
                                    % spec.destination_name)
                dst = self._call(DESTINATION, "resume", self.destination.query_instance, spec.destination_name,
                                 INSTANCE_FIELDS)
                return self._finish_unchanged("already_moved", dst, "%s: an earlier run's export (job %s) finished "
                                              "the move to %s" % (spec.destination_name, export.job_id, cluster))
        if export is None and earlier.prepare_result:
            entry = self._follow(create, "resume", until=_is_remote_import)
            if entry is not None and not create.finished:
                # The destination still listens for the earlier run's data: send it.
                op = earlier.create_op
                sizes = [disk.get("size") for disk in op.get("disks") or []]
                self._transfer(create, entry[3], earlier.prepare_result["x509_key_name"],
                               op.get("compress") or "none", sizes)
                self.outcome.message += " (resumed an interrupted move: create job %s, prepare job %s)" % (
                    create.job_id, earlier.prepare["id"])
                return self.outcome
        self._follow(create, "resume")
        if export is not None and _data_sent(export) and earlier.export_op.get("remove_instance") is False:
            raise MoveError("both", "preflight",
                            "an earlier run copied %s to %s with keep_source (source job %s), so both copies are "
                            "meant to exist" % (spec.name, cluster, export.job_id), job_id=export.job_id,
                            hint="set keep_source: true for this task, or remove the copy you do not want")
        if export is not None and _data_sent(export):
            raise MoveError("both", "preflight",
                            "an earlier run's export (source job %s) sent every disk of %s to %s, but the source copy "
                            "is still there: removing it failed (%s)"
                            % (export.job_id, spec.name, cluster, export.result.error()[1]),
                            job_id=export.job_id,
                            hint="check the destination copy (gnt-instance info %s) and then remove the source copy "
                                 "with gnt-instance remove %s" % (spec.destination_name, spec.name))
        if create.result.succeeded and not _import_failures(create.result):
            # The destination copy received its data (its export job may be archived already).
            raise MoveError("both", "preflight",
                            "%s on %s was made by an earlier move (create job %s) and received every disk, and the "
                            "source copy %s still exists; neither was touched"
                            % (spec.destination_name, cluster, create.job_id, spec.name),
                            job_id=create.job_id,
                            hint="check the destination copy (gnt-instance info %s), then remove the source copy "
                                 "(gnt-instance remove %s), or set keep_source: true if both are meant to stay"
                                 % (spec.destination_name, spec.name))
        # The destination copy never got its data: it is debris of an earlier run.
        if self._call(DESTINATION, "resume", self.destination.query_instance, spec.destination_name,
                      ["name"]) is None:
            self._begin("preflight")
            return None  # Ganeti removed it itself (the create failed): move as usual
        if not spec.cleanup:
            raise MoveError(DESTINATION, "preflight",
                            "%s on %s is an incomplete copy left by an earlier interrupted run (create job %s); kept "
                            "because cleanup is false" % (spec.destination_name, cluster, create.job_id),
                            job_id=create.job_id, hint="remove it with gnt-instance remove %s, or set cleanup: true"
                            % spec.destination_name)
        watch = self._submit(DESTINATION, "remove", "resume", self.destination.remove_instance, spec.destination_name)
        self._job_result(watch, "resume")
        self.outcome.notes.append("removed the incomplete copy %s an earlier run left on %s (create job %s, remove "
                                  "job %s)" % (spec.destination_name, cluster, create.job_id, watch.job_id))
        self._begin("preflight")
        return None

    def _earlier_create_running(self):
        """An earlier run's create may not have registered the instance yet (or runs right now)."""
        return self._call(DESTINATION, "preflight", earlier_create_running, self.destination,
                          self.spec.destination_name)

    def _adopt(self, side, operation, job):
        """Follow a job an earlier run submitted as if this run had."""
        watch = JobWatch(job["id"], side, operation)
        watch.adopted = True
        self._watches.append(watch)
        return watch

    def _plan_earlier(self, create, export, earlier):
        spec = self.spec
        self._end_step()
        self.outcome.changed = True
        self.outcome.state = "would_resume"
        if export is not None:
            what = "wait for the earlier run's export job %s and act on its result" % export.job_id
        elif earlier.prepare_result and earlier.create.get("status") not in ("success", "error", "canceled"):
            what = "resume the earlier run's move (create job %s is still running)" % create.job_id
        else:
            what = ("check the earlier run's destination copy (create job %s): remove it and move again if it "
                    "never received its data, else stop and report" % create.job_id)
        self.outcome.message = "%s is on both clusters after an interrupted move: would %s" % (spec.name, what)
        return self.outcome

    def _finish_unchanged(self, state, dst, message):
        self.outcome.state = state
        self.outcome.changed = False
        self.outcome.message = message
        self.outcome.instance = dst
        self._end_step()
        return self.outcome

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
            source_info = self._call(SOURCE, "preflight", self.source.cluster_info)
            for side, side_info in ((SOURCE, source_info), (DESTINATION, info)):
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
        if spec.primary_node or spec.secondary_node:
            self._check_nodes()
        elif not (spec.iallocator or info.get("default_iallocator")):
            refuse("no placement: neither primary_node nor iallocator is set and %s has no default iallocator"
                   % cluster, "set primary_node, or iallocator (e.g. hail)")
        if spec.opportunistic_tries and not (spec.iallocator or (info.get("default_iallocator")
                                                                 and not spec.primary_node)):
            refuse("opportunistic_tries needs an iallocator", "set iallocator, or opportunistic_tries: 0",
                   side="input")

    def _check_params(self, option, given, known):
        if not given or not known:
            return
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise MoveError("input", "preflight", "%s has unknown parameter(s) %s for the destination"
                            % (option, ", ".join(unknown)),
                            hint="valid names: %s" % ", ".join(sorted(known)))

    def _check_nodes(self):
        for node in (self.spec.primary_node, self.spec.secondary_node):
            if not node:
                continue
            try:
                rows = self.destination.query("node", ["name", "offline", "vm_capable"], ["=", "name", node])
            except RapiError as exc:
                if exc.ganeti_error_code == "unknown_entity":
                    rows = []
                else:
                    raise MoveError(DESTINATION, "preflight", exc.describe(), hint=exc.hint)
            if not rows:
                raise MoveError(DESTINATION, "preflight", "node %s does not exist on %s"
                                % (node, self.outcome.destination_cluster),
                                hint="list the nodes with gnt-node list on the destination")
            if rows[0].get("offline") or rows[0].get("vm_capable") is False:
                raise MoveError(DESTINATION, "preflight", "node %s on %s is offline or not vm_capable"
                                % (node, self.outcome.destination_cluster),
                                hint="choose another node")

    def check(self):
        """Check mode: the preflight only; nothing is submitted, nothing changes."""
        self._check_mode = True
        done = self._preflight()
        if done is not None:
            return done
        self._end_step()
        self.outcome.state = "would_move"
        self.outcome.changed = True
        self.outcome.message = "%s would move to %s as %s" % (
            self.spec.name, self.outcome.destination_cluster, self.spec.destination_name)
        return self.outcome

    # ------------------------------------------------------------------ move
    def run(self):
        try:
            done = self._preflight()
            if done is not None:
                self._finish_jobs()
                return done
            self._move()
        except MoveError as exc:
            self._fail(exc)
            raise
        except Exception as exc:  # pylint: disable=broad-except
            # A bug or an unexpected answer must not skip the recovery.
            error = MoveError("controller", self._step_name or "move", "unexpected %s: %s"
                              % (type(exc).__name__, exc), hint="please report this as a bug in ganeti.rapi")
            self._fail(error)
            raise error
        self._finish_jobs()
        if self.outcome.notes:
            self.outcome.message += "; before that, %s" % "; ".join(self.outcome.notes)
        return self.outcome

    def _fail(self, exc):
        self._end_step()
        if exc.timed_out:
            exc.recovery = self._after_timeout()
        elif exc.step != "preflight":
            exc.recovery = self._recover()
        exc.outcome = self._finish_jobs()

    def _after_timeout(self):
        """The deadline passed: cancel what has not started, name what still runs, wait for nothing.

        A later run of the same task finds those jobs and finishes or repairs the move.
        """
        done = []
        self._cancel_queued(done)
        running = [w for w in self._watches if not w.finished and not w.cancelled and w.job_id is not None]
        for watch in running:
            done.append("%s job %s (%s) is still running; run the same task again to finish the move or remove "
                        "its incomplete copy" % (watch.side, watch.job_id, watch.operation))
        return done

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
        body = self._create_body(instinfo, expinfo)
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
        self.outcome.handoff["export_submitted"] = self._wall()
        dst = None
        if (self._follow(export_watch, "export", until=lambda entry: _every_disk_sent(export_watch, len(sizes)))
                and self._ended(create_watch)):
            # Every disk is sent and the destination job is over: read the
            # copy while the source still removes its instance (~0.3 s), so
            # that little is left to ask once the last job ends.
            self._follow(create_watch, "import")
            if create_watch.result.succeeded and not _import_failures(create_watch.result):
                dst = self._read_destination()
        self._check_export(self._job_result(export_watch, "export"))

        self._begin("import")
        # The destination job may still be finishing (Ganeti looks at its
        # import every 5 s): ask about the source meanwhile.
        src = self._read_source()
        create_result = self._job_result(create_watch, "import")
        failures = _import_failures(create_result)
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
            entry = self._follow(watch, "create", until=_is_remote_import)
            if entry is not None:
                self.outcome.handoff["remote_import_logged"] = entry[1][0] + entry[1][1] / 1000000.0
                self.outcome.handoff["remote_import_seen"] = self._wall()
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
            error_class, message, code = result.error()
            if opportunistic and code == "temp_insufficient_resources":
                delay = spec.opportunistic_delay * random.uniform(0.85, 1.15)
                if self.deadline.remaining() > delay:
                    self._sleep(delay)
                    continue
            raise MoveError(DESTINATION, "create", "%s: %s" % (error_class, message), job_id=watch.job_id,
                            hint=ganeti_hint(message, code), ganeti_error=message)
        raise MoveError(DESTINATION, "create", "no create attempt left")  # pragma: no cover

    def _check_export(self, result):
        value = result.result
        if not _export_complete(result):
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
        if dst is None:
            raise MoveError(DESTINATION, "verify", "%s is not on the destination after a successful import"
                            % spec.destination_name)
        if sizes and dst.get("disk.sizes") and list(dst["disk.sizes"]) != sizes:
            raise MoveError(DESTINATION, "verify", "disk sizes differ: source %s, destination %s"
                            % (sizes, dst["disk.sizes"]))
        self._end_step()
        self.outcome.instance = dst
        self.outcome.state = "moved"
        self.outcome.changed = True
        note = "" if spec.keep_source or src is None else " (the source instance is still listed: remove it by hand)"
        self.outcome.message = "%s moved to %s as %s%s" % (
            spec.name, self.outcome.destination_cluster, spec.destination_name, note)

    # ----------------------------------------------------------- the request
    def _create_body(self, instinfo, expinfo):
        spec = self.spec
        src = self._source_before or {}
        start = spec.start if spec.start is not None else instinfo.get("config_state") == "up"
        disks = []
        for disk in instinfo.get("disks") or []:
            item = {"size": disk["size"], "mode": disk.get("mode") or "rw"}
            if disk.get("name"):
                item["name"] = disk["name"]
            if disk.get("spindles") is not None:
                item["spindles"] = disk["spindles"]
            disks.append(item)
        nics = [_nic_request(nic) for nic in instinfo.get("nics") or []]
        for index, override in enumerate(spec.nics):
            for key, value in (override or {}).items():
                if value is None or value == "":
                    nics[index].pop(key, None)
                else:
                    nics[index][key] = value
        body = {
            "mode": "remote-import",
            "name": spec.destination_name,
            "disk_template": spec.disk_template or instinfo["disk_template"],
            "disks": disks,
            "nics": nics,
            "os": instinfo.get("os"),
            "hypervisor": instinfo.get("hypervisor"),
            "beparams": _merged(instinfo.get("be_instance"), spec.beparams),
            "hvparams": _merged(instinfo.get("hv_instance"), spec.hvparams),
            "osparams": _merged(instinfo.get("os_instance"), spec.osparams),
            "start": bool(start),
            "ip_check": False,
            # explicit: the server default differs (true up to 3.0, false from 3.1)
            "name_check": bool(spec.name_check),
            "wait_for_sync": False,
            "source_handshake": expinfo["handshake"],
            "source_x509_ca": expinfo["x509_ca"],
            "source_instance_name": instinfo["name"],
            "source_shutdown_timeout": spec.shutdown_timeout,
            "compress": spec.compress,
            "tags": list(src.get("tags") or []),
        }
        if spec.primary_node:
            body["pnode"] = spec.primary_node
            if spec.secondary_node:
                body["snode"] = spec.secondary_node
        else:
            body["iallocator"] = spec.iallocator or self._destination_info.get("default_iallocator")
        return body

    # -------------------------------------------------------------- recovery
    def _recover(self):
        """Leave one good copy and no debris; return what was done, in words.

        A copy is removed only when it is this run's and its data is known
        to be missing, and only while the other copy is known to exist.
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
            done.append("the source export job %s is still running, so nothing was removed or restarted; when it "
                        "ends, check both clusters (gnt-instance list) and remove the copy you do not want"
                        % export.job_id)
            return done
        if export is not None and _data_sent(export) and not self.spec.keep_source:
            done.append("the export sent every disk (Ganeti then removes the source), so the destination copy %s "
                        "was kept; check it with gnt-instance info" % self.spec.destination_name)
            return done
        if create is not None and not create.cancelled and not self._settle(create, done):
            done.append("the destination create job %s is still running, so nothing was removed or restarted; "
                        "when it ends, check %s on both clusters" % (create.job_id, self.spec.destination_name))
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
        self._restart_source(source_now, done)
        return done

    def _last(self, side, operation):
        matching = [w for w in self._watches if w.side == side and w.operation == operation]
        return matching[-1] if matching else None

    def _settle(self, watch, done):
        """Follow a job of this run to its end within a grace period; False if it is still running."""
        if watch.finished:
            return True
        # A transfer whose peer went away ends within the import's connect
        # window (180 s plus the shutdown timeout); a healthy one may need longer.
        try:
            self._grace_waiter(watch.side, max(600, self.spec.shutdown_timeout + 300)).wait(watch)
        except JobTimeout:
            return False  # the caller says what that means
        except (JobError, RapiError) as exc:
            done.append("could not follow %s job %s to its end: %s" % (watch.side, watch.job_id, exc))
            return False
        return True

    def _client(self, side):
        return self.source if side == SOURCE else self.destination

    def _grace_waiter(self, side, seconds):
        """A waiter with a deadline of its own: recovery runs after the move's deadline may have passed."""
        return JobWaiter(self._client(side), Deadline(seconds, self._clock), sleep=self._sleep, clock=self._clock)

    def _recovery_job(self, side, operation, submit, name, seconds):
        """Submit one recovery job (remove, startup) and follow it to success; raises JobError or RapiError."""
        watch = JobWatch(submit(name), side, operation)
        self._watches.append(watch)
        self._grace_waiter(side, seconds).result(watch)
        return watch

    def _cancel_queued(self, done):
        """Cancel this run's jobs that have not started; a running Ganeti job cannot be interrupted."""
        for watch in self._watches:
            if watch.finished:
                continue
            client = self._client(watch.side)
            try:
                status = (client.get_job(watch.job_id) or {}).get("status")
            except RapiError:
                status = (watch.previous_info or [None])[0]
            if status not in ("queued", "waiting"):
                continue
            try:
                answer = client.cancel_job(watch.job_id)
            except RapiError as exc:
                done.append("could not cancel %s job %s: %s" % (watch.side, watch.job_id, exc))
                continue
            if isinstance(answer, (list, tuple)) and answer and answer[0] is True:
                watch.cancelled = True  # dequeued before it ran: it made nothing
                done.append("cancelled %s job %s (%s)" % (watch.side, watch.job_id, watch.operation))
            else:
                reason = answer[1] if isinstance(answer, (list, tuple)) and len(answer) > 1 else answer
                done.append("could not cancel %s job %s (%s): %s"
                            % (watch.side, watch.job_id, watch.operation, reason))

    def _remove_empty_destination(self, create, export, done):
        """Remove the destination instance this run created if its data is known to be missing."""
        if create is None or create.cancelled or create.result is None:
            return
        name = self.spec.destination_name
        ours = any(_is_remote_import(entry) for entry in create.log) or create.result.succeeded
        if not ours:
            return  # our create never made the instance: whatever has that name is not ours
        missing = (not create.result.succeeded or bool(_import_failures(create.result)) or export is None
                   or export.cancelled or not _data_sent(export))
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
            watch = self._recovery_job(DESTINATION, "remove", self.destination.remove_instance, name,
                                       self.spec.shutdown_timeout + 240)
            done.append("removed the incomplete destination instance %s (job %s)" % (name, watch.job_id))
        except (JobError, RapiError) as exc:
            done.append("could not remove the incomplete destination instance %s: %s; remove it with "
                        "gnt-instance remove %s" % (name, exc, name))

    def _restart_source(self, source_now, done):
        before = self._source_before or {}
        # oper_state None means the node did not answer: do not guess.
        if before.get("oper_state") is not True or source_now.get("oper_state") is not False:
            return
        name = self.spec.name
        try:
            watch = self._recovery_job(SOURCE, "startup", self.source.startup_instance, name, 300)
            done.append("started the source instance %s again (job %s)" % (name, watch.job_id))
        except (JobError, RapiError) as exc:
            done.append("could not start the source instance %s again: %s; start it with "
                        "gnt-instance startup %s" % (name, exc, name))

    def _finish_jobs(self):
        for watch in self._watches:
            entry = {"side": watch.side, "id": watch.job_id, "operation": watch.operation,
                     "status": watch.result.status if watch.result else (watch.previous_info or ["submitted"])[0]}
            if watch.result:
                entry.update({"received_ts": watch.result.received_ts, "start_ts": watch.result.start_ts,
                              "end_ts": watch.result.end_ts})
            self.outcome.jobs.append(entry)
        return self.outcome


def _is_remote_import(entry):
    """The destination job's log entry that publishes its import endpoints."""
    return entry[2] == "remote-import"


def _every_disk_sent(export, count):
    """True once the export job logged "Disk N finished sending data" for each of its ``count`` disks."""
    sent = set()
    for entry in export.log:
        words = str(entry[3]).split() if entry[2] == "message" else []
        if len(words) == 5 and words[0] == "Disk" and words[2:] == ["finished", "sending", "data"]:
            sent.add(words[1])
    return count > 0 and len(sent) >= count


def _failure_lines(result, limit=2):
    """The last log messages of a failed job that say what failed (socat's own words included)."""
    lines = [str(m).strip() for m in result.messages() if "fail" in str(m).lower() or "error" in str(m).lower()]
    return lines[-limit:]


def _import_failures(result):
    """The destination job's messages saying that a disk did not arrive (its status stays "success")."""
    return [str(m) for m in result.messages() if any(marker in str(m) for marker in IMPORT_FAILURE_MARKERS)]


def _data_sent(export):
    """True when the export sent every disk, even if removing the source failed afterwards.

    Ganeti logs "Removing instance" only once every disk was sent; a failure
    to remove the source after that makes the job fail, but the destination
    then holds the only complete copy.
    """
    if _export_complete(export.result):
        return True
    return any(entry[2] == "message" and str(entry[3]).startswith("Removing instance") for entry in export.log)


def _export_complete(result):
    """True for a successful export job whose result is ``[true, [true, ...]]``: every disk was sent."""
    if result is None or not result.succeeded:
        return False
    value = result.result
    return (isinstance(value, (list, tuple)) and len(value) == 2 and value[0] is True
            and isinstance(value[1], (list, tuple)) and bool(value[1]) and all(d is True for d in value[1]))


def _single_instance(result):
    if isinstance(result, dict) and len(result) == 1:
        return list(result.values())[0]
    raise MoveError(SOURCE, "prepare", "unexpected instance information: %r" % (result,))


def _merged(own, overrides):
    merged = dict(own or {})
    merged.update(overrides or {})
    return merged


def _nic_request(nic):
    """The create request's NIC dict from one of the NIC tuples that Ganeti versions return."""
    fields = {9: ("name", "uuid", "ip", "mac", "mode", "link", "vlan", "network", "netinfo"),
              8: ("name", "uuid", "ip", "mac", "mode", "link", "network", "netinfo"),
              6: ("ip", "mac", "mode", "link", "network", "netinfo"),
              4: ("ip", "mac", "mode", "link")}.get(len(nic))
    if fields is None:
        raise MoveError(SOURCE, "prepare", "unexpected NIC information %r" % (nic,))
    values = dict(zip(fields, nic))
    request = {"ip": values.get("ip"), "mac": values.get("mac")}
    if values.get("name"):
        request["name"] = values["name"]
    netinfo = values.get("netinfo")
    if values.get("network"):
        # A network is named on the destination by name; mode/link/vlan come from it.
        request["network"] = (netinfo or {}).get("name") or values["network"]
    else:
        for key in ("mode", "link", "vlan"):
            if values.get(key) not in (None, ""):
                request[key] = values[key]
    return request
