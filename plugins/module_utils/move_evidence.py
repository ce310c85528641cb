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
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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


def _lower(value):
    return str(value).strip().lower() if value is not None else None


def _join(values):
    return "[%s]" % ", ".join(str(value) for value in values)
