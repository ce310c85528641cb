# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The preflight's checks: the options of a move against the clusters, before anything is touched.

Each function takes what the preflight read (``/2/info`` answers, a
``/2/query/instance`` row, rows of ``/2/query/node`` or ``/2/query/network``)
and the :class:`MoveSpec`, asks nothing of a cluster, and raises
:class:`MoveError` naming what Ganeti would refuse later, and the fix.  The
order of the checks is the order a user meets the refusals in.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.ganeti.rapi.plugins.module_utils.move_evidence import describe_cluster, same_cluster
from ansible_collections.ganeti.rapi.plugins.module_utils.move_model import MoveError, normalize_name
from ansible_collections.ganeti.rapi.plugins.module_utils.move_request import (
    MIRRORED_TEMPLATES, NETWORK_NIC_KEYS,
)

SOURCE, DESTINATION = "source", "destination"
COMPRESS_ALWAYS_ALLOWED = "none"
# Hypervisor parameters Ganeti only accepts cluster-wide (its HVC_GLOBALS).
GLOBAL_HVPARAMS = ("migration_bandwidth", "migration_mode", "migration_port", "xen_cmd")
# What the node checks read of /2/query/node.
NODE_FIELDS = ["name", "offline", "drained", "vm_capable", "group"]
# What the network checks read of /2/query/network.
NETWORK_FIELDS = ["name", "network", "group_list"]


def _refuse(message, hint=None, side=DESTINATION):
    raise MoveError(side, "preflight", message, hint=hint)


def check_two_clusters(source_info, destination_info, source_address, destination_address):
    """Refuse one cluster reached twice (told apart by its /2/info answers, not by the addresses given)."""
    if same_cluster(source_info, destination_info):
        _refuse("source (%s) and destination (%s) are the same cluster, %s; a move between clusters needs two, and "
                "nothing was touched" % (source_address, destination_address, describe_cluster(destination_info)),
                "to rename the instance inside its cluster use gnt-instance rename, to put it on another node of the "
                "same cluster use gnt-instance move (or failover/migrate); to move it to another cluster, point "
                "destination at that cluster's RAPI", side="input")


def check_destination_name(spec):
    """With name_check the destination name must be fully qualified (``spec`` has the settled names)."""
    if spec.name_check and "." not in spec.destination_name:
        domain = spec.name.partition(".")[2]
        example = "%s.%s" % (spec.destination_name, domain) if domain else "%s.example.org" % spec.destination_name
        _refuse("the destination name %s is not fully qualified: with name_check the destination master would "
                "expand it through DNS to a name known only once the create job runs" % spec.destination_name,
                "give destination_name in full (for example %s), or set name_check: false to keep the short name"
                % example, side="input")


def check_options(spec, src, source_info, destination_info):
    """The options against the source instance ``src`` and both clusters' /2/info, up to the node choice."""
    info = destination_info
    cluster = info.get("name")
    nic_count = src.get("nic.count") or 0
    if len(spec.nics) > nic_count:
        _refuse("nics has %d entries but %s has %d NIC(s); overrides cannot add NICs"
                % (len(spec.nics), spec.name, nic_count), "give at most one nics entry per existing NIC",
                side="input")
    check_nic_overrides(spec, src)
    hypervisor = src.get("hypervisor")
    if hypervisor and hypervisor not in (info.get("enabled_hypervisors") or [hypervisor]):
        _refuse("hypervisor %s of %s is not enabled on %s (enabled: %s)"
                % (hypervisor, spec.name, cluster, ", ".join(info.get("enabled_hypervisors") or [])),
                "enable it with gnt-cluster modify --enabled-hypervisors on the destination")
    template = spec.disk_template or src.get("disk_template")
    if template not in (info.get("enabled_disk_templates") or [template]):
        _refuse("disk template %s is not enabled on %s (enabled: %s)"
                % (template, cluster, ", ".join(info.get("enabled_disk_templates") or [])),
                "choose disk_template from the enabled ones, or enable it with gnt-cluster modify")
    if spec.compress != COMPRESS_ALWAYS_ALLOWED:
        # The source compresses, the destination decompresses: both must allow the tool.
        for side, side_info in ((SOURCE, source_info), (DESTINATION, info)):
            allowed = side_info.get("compression_tools")
            if allowed is not None and spec.compress not in allowed:
                _refuse("compress %s is not allowed on the %s cluster %s (allowed: none, %s)"
                        % (spec.compress, side, side_info.get("name"), ", ".join(allowed)),
                        "choose a compression tool that both clusters list in gnt-cluster info", side=side)
    check_params("beparams", spec.beparams, (info.get("beparams") or {}).get("default"))
    check_params("hvparams", spec.hvparams, (info.get("hvparams") or {}).get(hypervisor))
    global_only = sorted(set(spec.hvparams) & set(GLOBAL_HVPARAMS))
    if global_only:
        _refuse("hvparams %s can only be set for the whole destination cluster, not per instance"
                % ", ".join(global_only), "set them with gnt-cluster modify -H on the destination, or drop them",
                side="input")
    check_placement(spec, template, not spec.disk_template)


def check_params(option, given, known):
    """Every parameter name ``given`` is one the destination ``known`` (nothing to check without either)."""
    if not given or not known:
        return
    unknown = sorted(set(given) - set(known))
    if unknown:
        _refuse("%s has unknown parameter(s) %s for the destination" % (option, ", ".join(unknown)),
                "valid names: %s" % ", ".join(sorted(known)), side="input")


def check_nic_overrides(spec, src):
    """A NIC on a network takes mode, link and vlan from it: refuse overrides that set them there."""
    networks = src.get("nic.networks.names") or []
    for index, override in enumerate(spec.nics):
        override = override or {}
        own = [key for key in NETWORK_NIC_KEYS if override.get(key) not in (None, "")]
        if not own:
            continue
        keys = " and ".join(own)
        if override.get("network") not in (None, ""):
            _refuse("nics[%d] sets network %s together with %s: a NIC on a network gets its mode, link and vlan "
                    "from that network on the destination (Ganeti refuses a mode or link next to a network and "
                    "overwrites a vlan)" % (index, override["network"], keys),
                    'drop %s from nics[%d] to let network %s decide them, or set network: "" in it to put the NIC '
                    'on a plain link' % (keys, index, override["network"]), side="input")
        source_network = networks[index] if index < len(networks) else None
        if source_network and "network" not in override:
            _refuse("nics[%d] sets %s, but NIC %d of %s is on network %s, which decides its mode, link and vlan on "
                    "the destination" % (index, keys, index, spec.name, source_network),
                    'add network: "" to nics[%d] to take the NIC off network %s (for example {network: "", link: '
                    'br0}), or drop %s from it' % (index, source_network, keys), side="input")


def check_placement(spec, template, from_source):
    """The nodes given fit the disk template: drbd needs a secondary node, other templates have none."""
    words = "disk template %s%s" % (template, " (the source instance's)" if from_source else "")
    if spec.secondary_node and not spec.primary_node:
        _refuse("secondary_node %s is given without primary_node" % spec.secondary_node,
                "set primary_node too, or drop secondary_node to let the iallocator choose both nodes",
                side="input")
    if template in MIRRORED_TEMPLATES:
        if spec.primary_node and not spec.secondary_node:
            _refuse("%s mirrors the disks to a second node, so with primary_node %s Ganeti needs a secondary_node "
                    "(The networked disk templates need a mirror node)" % (words, spec.primary_node),
                    "set secondary_node to another node of the destination, or drop primary_node to let the "
                    "iallocator choose both nodes, or choose a disk_template without mirror (e.g. plain)",
                    side="input")
    elif spec.secondary_node:
        _refuse("secondary_node %s is given, but %s has no mirror (only %s has a secondary node; Ganeti would "
                "ignore it)" % (spec.secondary_node, words, ", ".join(MIRRORED_TEMPLATES)),
                "drop secondary_node, or set disk_template: drbd", side="input")


def check_node(option, node, rows, cluster):
    """``node`` (given as ``option``) may take the instance; ``rows``: /2/query/node rows for it (NODE_FIELDS).

    Returns its row.
    """
    if not rows:
        _refuse("%s %s does not exist on %s" % (option, node, cluster),
                "list the nodes with gnt-node list on the destination")
    row = rows[0]
    # Ganeti refuses each of these when the create job runs (Cannot use offline/drained/non-vm_capable node).
    problems = []
    if row.get("offline"):
        # Ganeti's own advice: gnt-node modify --offline=no asks for confirmation and recommends --readd
        problems.append(("offline", "gnt-node add --readd %s" % node))
    if row.get("drained"):
        problems.append(("drained (it takes no new instances)", "gnt-node modify --drained=no %s" % node))
    if row.get("vm_capable") is False:
        problems.append(("not vm_capable (it cannot run instances)", "gnt-node modify --vm-capable=yes %s" % node))
    if problems:
        _refuse("%s %s on the destination cluster %s is %s"
                % (option, node, cluster, " and ".join(words for words, _fix in problems)),
                "run %s on the destination cluster %s, or choose another %s"
                % (" and ".join(fix for _words, fix in problems), cluster, option))
    return row


def check_node_pair(spec, primary, secondary):
    """The secondary node is another node than the primary (rows of check_node; compared by the names the
    destination reports, which expands short names)."""
    if normalize_name(primary.get("name")) == normalize_name(secondary.get("name")):
        _refuse("secondary_node %s is the primary node %s: drbd mirrors the disks to another node"
                % (spec.secondary_node, primary.get("name")),
                "set secondary_node to another node of the destination", side="input")


def check_allocation(spec, destination_info):
    """Something places the instance: primary_node, iallocator or the destination's default iallocator."""
    default = destination_info.get("default_iallocator")
    if not spec.primary_node and not (spec.iallocator or default):
        _refuse("no placement: neither primary_node nor iallocator is set and %s has no default iallocator"
                % destination_info.get("name"), "set primary_node, or iallocator (e.g. hail)")
    if spec.opportunistic_tries and not (spec.iallocator or (default and not spec.primary_node)):
        _refuse("opportunistic_tries needs an iallocator", "set iallocator, or opportunistic_tries: 0", side="input")


def networked(nics):
    """``(networks, addresses)`` of the NICs a move makes (move_request.planned_nics): ``[(index, network)]`` for
    the NICs on a network, ``[(index, nic)]`` for those that keep an address.  Neither: nothing to check."""
    networks = [(index, nic["network"]) for index, nic in enumerate(nics) if nic.get("network")]
    addresses = [(index, nic) for index, nic in enumerate(nics) if nic.get("ip") not in (None, "", "pool")]
    return networks, addresses


def connected_groups(network_row):
    """The node groups a /2/query/network row's group_list names: (group name, NIC mode, NIC link[, vlan]) each."""
    return [entry[0] if isinstance(entry, (list, tuple)) else entry for entry in network_row.get("group_list") or []]


def check_networks(spec, wanted, rows, cluster, primary):
    """Every network the NICs end on (``wanted``, see networked) exists on the destination and is connected to
    the primary node's group (``primary``: its node row, None when the iallocator chooses); ``rows``: the
    destination's /2/query/network rows (NETWORK_FIELDS)."""
    groups = dict((row.get("name"), connected_groups(row)) for row in rows)
    group = (primary or {}).get("group")
    for index, network in wanted:
        connect = ("gnt-network connect --nic-parameters=mode=bridged,link=BRIDGE %s %s on the destination"
                   % (network, group or "GROUP"))
        if network not in groups:
            _refuse("NIC %d of %s is to be on network %s, but the destination cluster %s has no network of that "
                    "name (it has: %s)" % (index, spec.name, network, cluster, ", ".join(sorted(groups)) or "none"),
                    'create it there with the same name (gnt-network add --network=SUBNET %s, then %s), or take the '
                    'NIC off it with a nics override, for example nics[%d]: {network: "", link: br0}'
                    % (network, connect, index))
        if not groups[network]:
            _refuse("network %s of NIC %d is on the destination cluster %s but connected to no node group, so no "
                    "node can take the NIC" % (network, index, cluster), "connect it: %s" % connect)
        if group and group not in groups[network]:
            _refuse("network %s of NIC %d is not connected to node group %s of primary_node %s on the destination "
                    "cluster %s (it is connected to: %s)"
                    % (network, index, group, spec.primary_node, cluster, ", ".join(groups[network])),
                    "connect it: %s, or choose a primary_node in one of those groups" % connect)


def check_addresses(spec, addressed, rows, cluster, primary, all_groups):
    """The addresses the NICs keep (``addressed``, see networked), as Ganeti's create checks them
    (instance_create.CheckPrereq): a NIC on a network reserves its address in that network; a NIC on no network
    may not use an address of a network connected to the primary node's group (CheckForConflictingIp).

    ``rows``: the destination's /2/query/network rows; ``primary``: the primary node's row, or None when the
    iallocator chooses; ``all_groups()``: the names of the destination's node groups, asked only when needed.
    """
    networks = {}
    for row in rows:
        try:
            subnet = ipaddress.ip_network(u"%s" % row.get("network"), strict=False)
        except ValueError:
            continue
        networks[row.get("name")] = (subnet, connected_groups(row))
    group_names = None
    for index, nic in addressed:
        try:
            address = ipaddress.ip_address(u"%s" % nic["ip"])
        except ValueError:
            continue  # Ganeti judges what it is
        own = nic.get("network")
        if own:
            subnet = networks.get(own, (None, None))[0]
            if subnet is not None and (address.version != subnet.version or address not in subnet):
                _refuse("NIC %d of %s would keep the address %s, which is not in network %s (%s) on the "
                        "destination cluster %s" % (index, spec.name, address, own, subnet, cluster),
                        'take an address from its pool (nics[%d]: {ip: pool}) or none (nics[%d]: {ip: ""})'
                        % (index, index))
            continue
        for name, (subnet, groups) in sorted(networks.items()):
            if address.version != subnet.version or address not in subnet or not groups:
                continue
            if primary:
                conflict = primary.get("group") in groups
            else:
                # the iallocator chooses the node: a conflict is certain only where every group has the network
                if group_names is None:
                    group_names = all_groups()
                conflict = bool(group_names) and set(group_names) <= set(groups)
            if conflict:
                _refuse("NIC %d of %s would keep the address %s, which belongs to network %s on the destination "
                        "cluster %s, but the NIC is not on that network" % (index, spec.name, address, name, cluster),
                        'drop the address with a nics override (nics[%d]: {ip: ""}), or put the NIC on network %s '
                        '(nics[%d]: {network: %s})' % (index, name, index, name))
