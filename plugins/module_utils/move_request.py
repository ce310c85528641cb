# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What a move asks of the clusters: the create and export requests, and the same changes described for a diff.

One place decides how the instance changes on its way (node, disk template,
parameters merged over its own, NIC overrides, admin state), for the request
and for ``--diff`` alike.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# NIC keys a move can override, in the order a diff shows them.
NIC_KEYS = ("mac", "ip", "mode", "link", "vlan", "network", "name")
# What a NIC on a network takes from the network's connection to the node's group: Ganeti refuses
# mode and link next to a network ("If network is given, no mode or link is allowed") and replaces vlan.
NETWORK_NIC_KEYS = ("mode", "link", "vlan")
# The values of disk_template whose disks a secondary node mirrors (Ganeti's DTS_INT_MIRROR).
MIRRORED_TEMPLATES = ("drbd",)
# /2/query/instance fields that describe NICs, by NIC key.
NIC_FIELDS = {"mac": "nic.macs", "ip": "nic.ips", "mode": "nic.modes", "link": "nic.links", "vlan": "nic.vlans",
              "network": "nic.networks.names", "name": "nic.names"}
# Fields the diff reads besides the NICs.
DESCRIBE_FIELDS = ["name", "pnode", "snodes", "disk_template", "disk.sizes", "admin_state", "custom_beparams",
                   "custom_hvparams", "custom_osparams"] + sorted(NIC_FIELDS.values())
OP_PRIO_HIGH = -10  # the highest job priority Ganeti lets a client submit


class RequestError(ValueError):
    """The source reported something a create request cannot be made from."""


def merged(own, overrides):
    result = dict(own or {})
    result.update(overrides or {})
    return result


def apply_nic_overrides(nics, overrides):
    """Each override dict merged over its NIC; an empty value removes the key.

    A NIC that ends on a network has no mode, link or vlan of its own: on the
    source they came from its network or its plain bridge, and on the
    destination the network decides them.  The preflight refuses overrides
    that set them next to a network.
    """
    nics = [_network_decides(nic) for nic in nics]
    for index, override in enumerate((overrides or [])[:len(nics)]):  # the preflight refuses more
        for key, value in (override or {}).items():
            if value is None or value == "":
                nics[index].pop(key, None)
            else:
                nics[index][key] = value
    return [_network_decides(nic) for nic in nics]


def _network_decides(nic):
    if not nic.get("network"):
        return dict(nic)
    return dict((key, value) for key, value in nic.items() if key not in NETWORK_NIC_KEYS)


def planned_nics(row, overrides):
    """The NICs a move of the instance in ``row`` (a /2/query/instance row) gives it, as a diff shows them."""
    return apply_nic_overrides(_row_nics(row), overrides)


def nic_request(nic):
    """The create request's NIC dict from one of the NIC tuples that Ganeti versions return."""
    fields = {9: ("name", "uuid", "ip", "mac", "mode", "link", "vlan", "network", "netinfo"),
              8: ("name", "uuid", "ip", "mac", "mode", "link", "network", "netinfo"),
              6: ("ip", "mac", "mode", "link", "network", "netinfo"),
              4: ("ip", "mac", "mode", "link")}.get(len(nic))
    if fields is None:
        raise RequestError("unexpected NIC information %r" % (nic,))
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


def start_after_move(spec, admin_up, start_hint=None):
    """Whether the destination starts the instance: the option, else the state the first run found."""
    if spec.start is not None:
        return bool(spec.start)
    if start_hint is not None:
        return bool(start_hint)
    return bool(admin_up)


def create_body(spec, instinfo, expinfo, tags, default_iallocator, start):
    """The ``remote-import`` create request."""
    disks = []
    for disk in instinfo.get("disks") or []:
        item = {"size": disk["size"], "mode": disk.get("mode") or "rw"}
        if disk.get("name"):
            item["name"] = disk["name"]
        if disk.get("spindles") is not None:
            item["spindles"] = disk["spindles"]
        disks.append(item)
    body = {
        "mode": "remote-import",
        "name": spec.destination_name,
        "disk_template": spec.disk_template or instinfo["disk_template"],
        "disks": disks,
        "nics": apply_nic_overrides([nic_request(nic) for nic in instinfo.get("nics") or []], spec.nics),
        "os": instinfo.get("os"),
        "hypervisor": instinfo.get("hypervisor"),
        "beparams": merged(instinfo.get("be_instance"), spec.beparams),
        "hvparams": merged(instinfo.get("hv_instance"), spec.hvparams),
        "osparams": merged(instinfo.get("os_instance"), spec.osparams),
        "start": bool(start),
        "ip_check": False,
        # explicit: the server default differs (true up to 3.0, false from 3.1)
        "name_check": bool(spec.name_check),
        # Ganeti waits for the sync before the import starts: with drbd that
        # would be a full sync of empty disks while the source waits.
        "wait_for_sync": False,
        "source_handshake": expinfo["handshake"],
        "source_x509_ca": expinfo["x509_ca"],
        "source_instance_name": instinfo["name"],
        "source_shutdown_timeout": spec.shutdown_timeout,
        "compress": spec.compress,
        "tags": list(tags or []),
    }
    if spec.primary_node:
        body["pnode"] = spec.primary_node
        if spec.secondary_node:
            body["snode"] = spec.secondary_node
    else:
        body["iallocator"] = spec.iallocator or default_iallocator
    return body


def export_body(spec, impinfo, key_name):
    """The remote export request, to the endpoints the destination published (``impinfo``, see
    job_logs.import_endpoints), signed with the key prepare-export made (``key_name``)."""
    body = {
        "mode": "remote",
        "destination": impinfo["disks"],
        "destination_x509_ca": impinfo["x509_ca"],
        "x509_key_name": key_name,
        "shutdown": True,
        "shutdown_timeout": spec.shutdown_timeout,
        "remove_instance": not spec.keep_source,
        "compress": spec.compress,
        # The destination already listens, with a connect timeout, and
        # holds one of its cluster's job slots: when the source's queue is
        # full (luxid runs max_running_jobs at once), the export goes first.
        "priority": OP_PRIO_HIGH,
    }
    if spec.keep_source:
        # Without snapshot-capable storage Ganeti refuses to keep a running
        # instance unless it may stay down for the whole copy.
        body["long_sleep"] = True
    return body


def describe(row, cluster):
    """An instance as a diff shows it, from a /2/query/instance row (DESCRIBE_FIELDS)."""
    return {
        "cluster": cluster,
        "instance": row.get("name"),
        "primary_node": row.get("pnode"),
        "secondary_nodes": list(row.get("snodes") or []),
        "disk_template": row.get("disk_template"),
        "disk_sizes": list(row.get("disk.sizes") or []),
        "admin_state": row.get("admin_state"),
        "beparams": dict(row.get("custom_beparams") or {}),
        "hvparams": dict(row.get("custom_hvparams") or {}),
        "osparams": dict(row.get("custom_osparams") or {}),
        "nics": _row_nics(row),
    }


def planned(spec, source_row, cluster, default_iallocator, start):
    """The destination instance a move of ``source_row`` would make, as a diff shows it."""
    before = describe(source_row, None)
    if spec.primary_node:
        node = spec.primary_node
    else:
        node = "chosen by iallocator %s" % (spec.iallocator or default_iallocator)
    after = {
        "cluster": cluster,
        "instance": spec.destination_name,
        "primary_node": node,
        "secondary_nodes": [spec.secondary_node] if spec.secondary_node else [],
        "disk_template": spec.disk_template or before["disk_template"],
        "disk_sizes": before["disk_sizes"],
        "admin_state": "up" if start else "down",
        "beparams": merged(before["beparams"], spec.beparams),
        "hvparams": merged(before["hvparams"], spec.hvparams),
        "osparams": merged(before["osparams"], spec.osparams),
        "nics": planned_nics(source_row, spec.nics),
    }
    return after


def _row_nics(row):
    count = max([len(row.get(field) or []) for field in NIC_FIELDS.values()] + [0])
    nics = []
    for index in range(count):
        nic = {}
        for key, field in NIC_FIELDS.items():
            values = row.get(field) or []
            value = values[index] if index < len(values) else None
            if value not in (None, ""):
                nic[key] = value
        nics.append(dict((key, nic[key]) for key in NIC_KEYS if key in nic))
    return nics
