# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Identity: which cluster is which, and whether an instance is another's copy.

A cluster is identified by what Ganeti says about itself (``/2/info``: its
UUID, or its name where the version has no UUID), never by the address a user
typed.  An instance on the destination is this instance's copy only with
evidence: the jobs of a move (see move_history), or its shape (disk count and
sizes, NIC count and MAC addresses, as the move would have made them).
:func:`only_on_destination` and :func:`on_both_clusters` weigh that evidence
when the preflight finds the destination instance already there.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ganeti.rapi.plugins.module_utils.move_model import MoveError

# Fields of /2/query/instance that make up an instance's shape.
SHAPE_FIELDS = ["disk.count", "disk.sizes", "nic.count", "nic.macs"]
# The "mac" values of a NIC override that let the destination choose the address.
GENERATED_MACS = ("generate", "auto", "", None)


def same_cluster(source_info, destination_info):
    """True when both /2/info answers describe one cluster."""
    src_uuid, dst_uuid = source_info.get("uuid"), destination_info.get("uuid")
    if src_uuid and dst_uuid:
        return src_uuid == dst_uuid
    return _lower(source_info.get("name")) == _lower(destination_info.get("name"))


def describe_cluster(info):
    """``cluster-a.test (UUID b039c983-...)`` for messages."""
    if info.get("uuid"):
        return "%s (UUID %s)" % (info.get("name"), info["uuid"])
    return str(info.get("name"))


def expected_macs(source_macs, nic_overrides):
    """The MAC address each NIC would get on the destination; None where the destination generates one."""
    macs = []
    for index, mac in enumerate(source_macs or []):
        override = nic_overrides[index] if index < len(nic_overrides or []) else {}
        if "mac" in (override or {}):
            value = override["mac"]
            macs.append(None if value in GENERATED_MACS else _lower(value))
        else:
            macs.append(_lower(mac))
    return macs


def shape_mismatches(source_row, destination_row, nic_overrides=None):
    """How the destination instance differs from what a move of the source instance makes; [] when alike."""
    differences = []
    src_sizes, dst_sizes = list(source_row.get("disk.sizes") or []), list(destination_row.get("disk.sizes") or [])
    if len(src_sizes) != len(dst_sizes):
        differences.append("%d disk(s) on the source, %d on the destination" % (len(src_sizes), len(dst_sizes)))
    elif src_sizes != dst_sizes:
        differences.append("disk sizes %s MiB on the source, %s MiB on the destination"
                           % (_join(src_sizes), _join(dst_sizes)))
    src_macs = expected_macs(source_row.get("nic.macs"), nic_overrides)
    dst_macs = [_lower(mac) for mac in destination_row.get("nic.macs") or []]
    if len(src_macs) != len(dst_macs):
        differences.append("%d NIC(s) on the source, %d on the destination" % (len(src_macs), len(dst_macs)))
    else:
        for index, (expected, found) in enumerate(zip(src_macs, dst_macs)):
            if expected is not None and expected != found:
                differences.append("NIC %d MAC %s on the source, %s on the destination" % (index, expected, found))
    return differences


class Verdict:
    """A run that finds the instance already where it belongs ends unchanged with this (see move_model.STATES)."""

    def __init__(self, state, message, evidence, warning=None):
        self.state = state
        self.message = message
        self.evidence = evidence  # a key of move_model.EVIDENCE
        self.warning = warning


def only_on_destination(spec, cluster, earlier):
    """The source instance is gone and the destination has ``spec.destination_name``: a Verdict, or MoveError when
    the move that made it lost data.  ``earlier``: move_history.find_earlier_move's answer (None: not found)."""
    if earlier is not None and earlier.from_source and earlier.data_sent and not earlier.data_received:
        raise MoveError("destination", "preflight",
                        "%s is gone from the source, but the destination job of its move (%s) reports: %s"
                        % (spec.name, earlier.job_ids(), " / ".join(earlier.import_failures)),
                        job_id=earlier.create["id"],
                        hint="the destination copy %s may be incomplete: check it (gnt-instance info) and restore "
                             "the instance from a backup if it is" % spec.destination_name)
    if earlier is not None and earlier.from_source and (earlier.data_sent or earlier.data_received):
        return Verdict("already_moved", "%s is already on the destination cluster %s as %s (moved by %s)"
                       % (spec.name, cluster, spec.destination_name, earlier.job_ids()), "jobs")
    return Verdict("already_moved",
                   "%s is already on the destination cluster %s as %s (unverified: no job of the move was found and "
                   "the source instance is gone)" % (spec.name, cluster, spec.destination_name), "none",
                   warning="unverified: %s on %s is taken to be the moved %s, but no job of that move is listed on "
                           "either cluster any more (Ganeti archives old jobs) and the source instance is gone, so "
                           "nothing shows it is its copy" % (spec.destination_name, cluster, spec.name))


def on_both_clusters(spec, cluster, src, dst, earlier):
    """Both clusters have the instance (``src``, ``dst``: their /2/query/instance rows): finish, repair or refuse,
    never guess.

    Returns a Verdict to end unchanged, or None when ``dst`` is an incomplete copy the ``earlier`` move left (of the
    source's shape), which a run removes before it moves the instance; raises MoveError otherwise.
    """
    if earlier is not None and earlier.from_source:
        return _after_earlier_move(spec, cluster, src, dst, earlier)
    mismatches = shape_mismatches(src, dst, spec.nics)
    if mismatches:
        raise MoveError("destination", "preflight",
                        "%s on the destination cluster %s is not a copy of %s: %s; neither instance was touched"
                        % (spec.destination_name, cluster, spec.name, "; ".join(mismatches)),
                        hint="choose another destination_name, or remove or rename the other instance on the "
                             "destination")
    if spec.keep_source:
        return Verdict("already_copied",
                       "%s is on both clusters (source kept as asked): %s on %s has the disks and MAC addresses of the "
                       "source instance (no job of its move is listed any more)"
                       % (spec.name, spec.destination_name, cluster), "shape")
    raise MoveError("both", "preflight",
                    "%s exists on the source and as %s on the destination cluster %s with the same disks and MAC "
                    "addresses, but no job of a move of it is listed (Ganeti archives old jobs); neither was "
                    "touched" % (spec.name, spec.destination_name, cluster),
                    hint="check the destination copy (gnt-instance info %s), then remove the copy you do not want "
                         "(gnt-instance remove), or set keep_source: true if both are meant to stay"
                         % spec.destination_name)


def _after_earlier_move(spec, cluster, src, dst, earlier):
    """Both present, and the destination instance was made by an earlier (finished) move from this source."""
    jobs = earlier.job_ids()
    if earlier.data_sent or earlier.data_received:
        if spec.keep_source:
            return Verdict("already_copied", "%s is already copied to %s as %s (by %s); the source was kept as asked"
                           % (spec.name, cluster, spec.destination_name, jobs), "jobs")
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
    # The destination copy never got its data: debris of an earlier run, if it has the source's shape.
    mismatches = shape_mismatches(src, dst, spec.nics)
    if mismatches:
        raise MoveError("destination", "preflight",
                        "%s on %s is not the incomplete copy an earlier run made (%s): %s; not touched"
                        % (spec.destination_name, cluster, jobs, "; ".join(mismatches)),
                        hint="check it with gnt-instance info %s and remove it by hand if it is debris"
                             % spec.destination_name)
    return None


def _lower(value):
    return str(value).strip().lower() if value is not None else None


def _join(values):
    return "[%s]" % ", ".join(str(value) for value in values)
