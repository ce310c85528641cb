# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The words of a move: what to move (MoveSpec), how it ended (MoveOutcome, STATES), how it failed (MoveError)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# Every state a successful run reports, with its meaning; the module's RETURN
# documentation lists the same (a unit test compares them).
STATES = {
    "moved": "this run moved the instance: the destination has it, the source copy is gone",
    "copied": "this run copied the instance (keep_source): both clusters have it",
    "already_moved": "only the destination has the instance: nothing to do",
    "already_copied": "both clusters have the instance, keep_source is set, and the destination instance is "
                      "shown to be its copy (see evidence)",
    "would_move": "check mode: a run would move the instance",
    "would_copy": "check mode: a run would copy the instance (keep_source)",
    "would_resume": "check mode: an interrupted run left an incomplete copy that a run would remove before moving",
    "would_wait": "check mode: another run's jobs are acting on the instance; a run would wait for them",
}
# How a run knows that the destination instance is this instance's copy.
EVIDENCE = {
    "jobs": "the jobs of this or an earlier run's move of this instance (its certificate came from the source)",
    "shape": "the destination instance has the disks (count and sizes) and MAC addresses a move would give it",
    "none": "nothing: no job of the move is listed any more and the source instance is gone (unverified)",
}
# Seconds a run may go on after its timeout: cancelling its queued jobs and
# reading their status.  No job is submitted in that time.
TIMEOUT_GRACE = 5
# Of that, what the requests may use (the rest is for writing the result),
# and what one of them may take: luxid can be slow to answer a cancel.
GRACE_REQUESTS = TIMEOUT_GRACE - 1
GRACE_REQUEST_TIMEOUT = 2


def normalize_name(name):
    """Ganeti stores instance names lower-case without a trailing dot; its lookups are case-sensitive."""
    return str(name).strip().rstrip(".").lower() if name else name


class MoveSpec:
    """What to move and how; every attribute maps to a module option."""

    def __init__(self, name, destination_name=None, primary_node=None, secondary_node=None, iallocator=None,
                 disk_template=None, compress="none", beparams=None, hvparams=None, osparams=None, nics=None,
                 keep_source=False, start=None, shutdown_timeout=120, opportunistic_tries=0,
                 opportunistic_delay=30, timeout=3600, cleanup=True, name_check=True):
        self.name = normalize_name(name)
        # Until the source has said its canonical name, the default is the
        # name as given; see InstanceMove._settle_names.
        self.destination_name_given = bool(destination_name)
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

    def __init__(self, side, step, message, job_id=None, hint=None, ganeti_error=None, timed_out=False):
        super(MoveError, self).__init__(message)
        self.side = side
        self.step = step
        self.message = message
        self.job_id = job_id
        self.hint = hint
        self.ganeti_error = ganeti_error
        self.recovery = []  # what was done to leave both clusters clean
        self.timed_out = timed_out  # the overall timeout expired: recovery must not wait either
        self.changed = False  # this run created, removed, started or stopped something
        self.outcome = None  # the partial MoveOutcome (jobs, steps) for the results
        self.traceback = None  # set when the cause was an unexpected exception

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
    """What happened: the final state, the evidence, the jobs, the step timings."""

    def __init__(self):
        self.started = None  # wall clock at the start; the deadline is started + timeout
        self.state = None  # a key of STATES
        self.evidence = None  # a key of EVIDENCE, for the states that claim a copy exists
        self.changed = False
        self.message = None
        self.warnings = []
        self.instance = None  # destination instance as found after the move
        self.source_instance = None  # source instance as found by the preflight
        self.source_cluster = None
        self.destination_cluster = None
        self.jobs = []
        self.waited_for = []  # another run's jobs this run waited for
        self.steps = []
        self.diff = None  # {"before": ..., "after": ...}
        self.notes = []  # repairs made before the move (e.g. an earlier run's debris removed)


def resolves_source_name(info):
    """Whether a destination (its /2/info) resolves the source instance's name whatever name_check says: Ganeti up
    to 3.1.0~rc2 does (ganeti#1841, fixed in 3.1.0); an unknown version is taken to."""
    match = re.match(r"(\d+)\.(\d+)\.(\d+)(.*)", (info or {}).get("software_version") or "")
    if not match:
        return True
    release = tuple(int(part) for part in match.groups()[:3])
    return release < (3, 1, 0) or (release == (3, 1, 0) and match.group(4).startswith(("~", "rc", "-rc")))


def ganeti_hint(text, code=None, source_name=None):
    """What an operator should do about a Ganeti error text (``source_name``: the instance being moved)."""
    lowered = (text or "").lower()
    if source_name and "(%s) does not resolve" % source_name.lower() in lowered:
        # Up to 3.1.0~rc2 the destination resolves the source instance's name whatever name_check says
        # (ganeti#1841, fixed in 3.1.0).
        return ("the destination master must resolve the source instance's name %s, even with name_check: false "
                "(Ganeti 3.0 and 3.1.0~rc2 resolve it, ganeti#1841): add it to DNS or to /etc/hosts on the "
                "destination master" % source_name)
    if "hash didn't match" in lowered or "domain secret" in lowered or "signature is invalid" in lowered:
        return ("the clusters do not share the same cluster domain secret: copy "
                "/var/lib/ganeti/cluster-domain-secret from one master to the other with "
                "'gnt-cluster renew-crypto --cluster-domain-secret=FILE --new-confd-hmac-key'")
    if "does not look the same as given hostname" in lowered:
        return ("the destination master resolves the name to another one: give destination_name as the full name "
                "it resolves to, or set name_check: false")
    if "does not resolve" in lowered or code == "resolver_error":
        return ("the destination master must resolve the instance name: give the full name (with its domain) and "
                "add it to DNS or /etc/hosts there, or set name_check: false")
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
        return ("another instance on the destination uses this instance's MAC address (gnt-instance list -o "
                "name,nic.macs there): set nics: [{mac: generate}] to give the copy a new one")
    if code == "already_exists" or "already exists" in lowered:
        return "an instance of that name exists on the destination: choose another destination_name"
    if "not enabled" in lowered:
        return "enable it on the destination cluster (gnt-cluster modify) or choose another one"
    if "snapshot" in lowered and "long-sleep" in lowered:
        return "the source disks cannot be snapshotted: the move shuts the instance down for the copy"
    return None
