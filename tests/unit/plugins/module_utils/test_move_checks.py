# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""move_checks with plain rows and /2/info answers: what the preflight refuses, in which words, on which side.

The same refusals against two scripted clusters (nothing submitted, what is asked
of the destination) are in test_instance_move and test_move_placement.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.ganeti.rapi.plugins.module_utils import move_checks
from ansible_collections.ganeti.rapi.plugins.module_utils.move_model import MoveError, MoveSpec
from ansible_collections.ganeti.rapi.tests.unit.plugins.module_utils.fake_rapi import (
    DEST_INFO, NAME, SOURCE_INFO, SOURCE_ROW, network_row, node_row,
)

CLUSTER = DEST_INFO["name"]
NODE1, NODE2 = "node1.cluster-b.test", "node2.cluster-b.test"


def _refusal(check, *args):
    with pytest.raises(MoveError) as info:
        check(*args)
    assert info.value.step == "preflight"
    return info.value


def _options(src=None, source_info=None, info=None, **spec):
    spec.setdefault("name", NAME)
    move_checks.check_options(MoveSpec(**spec), src or dict(SOURCE_ROW), source_info or copy.deepcopy(SOURCE_INFO),
                              info or copy.deepcopy(DEST_INFO))


# ================================================================ clusters, names
def test_one_cluster_reached_twice_is_refused_naming_both_addresses():
    err = _refusal(move_checks.check_two_clusters, SOURCE_INFO, dict(SOURCE_INFO), "a:5080", "b:5080")
    assert err.side == "input"
    assert err.message.startswith("source (a:5080) and destination (b:5080) are the same cluster, cluster-a.test "
                                  "(UUID %s)" % SOURCE_INFO["uuid"])
    move_checks.check_two_clusters(SOURCE_INFO, DEST_INFO, "a:5080", "b:5080")  # two clusters: no refusal


@pytest.mark.parametrize("name, example", [("web1.example.org", "web1-new.example.org"),
                                           ("web1", "web1-new.example.org")])
def test_a_short_destination_name_with_name_check_is_refused_with_an_example(name, example):
    spec = MoveSpec(name=name, destination_name="web1-new")
    err = _refusal(move_checks.check_destination_name, spec)
    assert err.side == "input" and "the destination name web1-new is not fully qualified" in err.message
    assert "for example %s" % example in err.hint
    move_checks.check_destination_name(MoveSpec(name=name, destination_name="web1-new", name_check=False))


# ================================================================ options
def test_the_default_options_pass():
    _options()


@pytest.mark.parametrize("spec, side, words", [
    ({"nics": [{}, {}]}, "input", "nics has 2 entries but %s has 1 NIC(s)" % NAME),
    ({"disk_template": "sharedfile"}, "destination", "disk template sharedfile is not enabled on cluster-b.test"),
    ({"compress": "zstd"}, "source", "compress zstd is not allowed on the source cluster cluster-a.test"),
    ({"beparams": {"maxmemory": 1}}, "input", "beparams has unknown parameter(s) maxmemory for the destination"),
    ({"hvparams": {"kernel_pth": "x"}}, "input", "hvparams has unknown parameter(s) kernel_pth"),
    ({"hvparams": {"migration_mode": "live"}}, "input",
     "hvparams migration_mode can only be set for the whole destination cluster"),
    ({"secondary_node": NODE2}, "input", "secondary_node %s is given without primary_node" % NODE2),
])
def test_each_option_refusal_names_its_side(spec, side, words):
    with pytest.raises(MoveError) as info:
        _options(**spec)
    err = info.value
    assert (err.side, err.step) == (side, "preflight")
    assert words in err.message


def test_a_disabled_hypervisor_is_refused_with_the_enabled_ones():
    info = dict(copy.deepcopy(DEST_INFO), enabled_hypervisors=["kvm"])
    with pytest.raises(MoveError) as raised:
        _options(info=info)
    assert raised.value.message == "hypervisor fake of %s is not enabled on cluster-b.test (enabled: kvm)" % NAME


def test_compression_is_checked_on_the_destination_too():
    info = dict(copy.deepcopy(DEST_INFO), compression_tools=["gzip"])
    with pytest.raises(MoveError) as raised:
        _options(info=info, compress="lzop")
    assert raised.value.side == "destination"
    _options(info=info, compress="none")  # always allowed


def test_params_are_not_checked_when_the_destination_does_not_list_them():
    move_checks.check_params("beparams", {"anything": 1}, None)
    move_checks.check_params("beparams", {}, {"maxmem": 1})
    err = _refusal(move_checks.check_params, "osparams", {"b": 1, "a": 2}, {"c": 3})
    assert err.message == "osparams has unknown parameter(s) a, b for the destination"
    assert err.hint == "valid names: c"


@pytest.mark.parametrize("overrides, networks, words", [
    ([{"network": "net1", "link": "br0"}], [None], "nics[0] sets network net1 together with link"),
    ([{"mode": "routed", "vlan": "5"}], ["net1"], "nics[0] sets mode and vlan, but NIC 0 of %s is on network net1"
                                                  % NAME),
])
def test_nic_overrides_that_a_network_decides_are_refused(overrides, networks, words):
    spec = MoveSpec(name=NAME, nics=overrides)
    err = _refusal(move_checks.check_nic_overrides, spec, dict(SOURCE_ROW, **{"nic.networks.names": networks}))
    assert err.side == "input" and words in err.message


@pytest.mark.parametrize("overrides", [[{"network": "", "link": "br0"}], [{"network": "net2"}], [{"mac": "generate"}]])
def test_nic_overrides_that_fit_their_network_pass(overrides):
    move_checks.check_nic_overrides(MoveSpec(name=NAME, nics=overrides),
                                    dict(SOURCE_ROW, **{"nic.networks.names": ["net1"]}))


@pytest.mark.parametrize("spec, template, words", [
    ({"primary_node": NODE1}, "drbd", "disk template drbd (the source instance's) mirrors the disks"),
    ({"primary_node": NODE1, "secondary_node": NODE2}, "plain", "secondary_node %s is given, but disk template "
                                                                "plain (the source instance's) has no mirror" % NODE2),
])
def test_placement_fits_the_disk_template(spec, template, words):
    err = _refusal(move_checks.check_placement, MoveSpec(name=NAME, **spec), template, True)
    assert words in err.message
    move_checks.check_placement(MoveSpec(name=NAME, primary_node=NODE1, secondary_node=NODE2), "drbd", False)
    move_checks.check_placement(MoveSpec(name=NAME), "drbd", True)  # the iallocator chooses both


# ================================================================ nodes, allocation
def test_a_missing_node_is_refused():
    err = _refusal(move_checks.check_node, "primary_node", "node9", [], CLUSTER)
    assert err.side == "destination"
    assert err.message == "primary_node node9 does not exist on cluster-b.test"


def test_a_node_with_every_problem_names_every_fix():
    row = node_row(NODE1, offline=True, drained=True, vm_capable=False)
    err = _refusal(move_checks.check_node, "secondary_node", NODE1, [row], CLUSTER)
    assert err.message == ("secondary_node %s on the destination cluster cluster-b.test is offline and drained (it "
                           "takes no new instances) and not vm_capable (it cannot run instances)" % NODE1)
    assert err.hint.startswith("run gnt-node add --readd %s and gnt-node modify --drained=no %s and gnt-node modify "
                               "--vm-capable=yes %s on the destination cluster" % (NODE1, NODE1, NODE1))


def test_a_usable_node_returns_its_row():
    row = node_row(NODE1, group="rack2")
    assert move_checks.check_node("primary_node", NODE1, [row], CLUSTER) is row


def test_the_secondary_node_must_be_another_node():
    spec = MoveSpec(name=NAME, primary_node="node1", secondary_node=NODE1)
    err = _refusal(move_checks.check_node_pair, spec, node_row(NODE1), node_row(NODE1.upper() + "."))
    assert err.message == "secondary_node %s is the primary node %s: drbd mirrors the disks to another node" % (
        NODE1, NODE1)
    move_checks.check_node_pair(spec, node_row(NODE1), node_row(NODE2))


@pytest.mark.parametrize("spec, default, words", [
    ({}, None, "no placement: neither primary_node nor iallocator is set and cluster-b.test has no default "
               "iallocator"),
    ({"primary_node": NODE1, "opportunistic_tries": 2}, "hail", "opportunistic_tries needs an iallocator"),
    ({"opportunistic_tries": 2}, None, "no placement"),
])
def test_allocation_needs_a_node_or_an_iallocator(spec, default, words):
    info = dict(DEST_INFO, default_iallocator=default)
    err = _refusal(move_checks.check_allocation, MoveSpec(name=NAME, **spec), info)
    assert words in err.message


@pytest.mark.parametrize("spec, default", [({}, "hail"), ({"primary_node": NODE1}, None),
                                           ({"opportunistic_tries": 2}, "hail"),
                                           ({"primary_node": NODE1, "iallocator": "hail",
                                             "opportunistic_tries": 1}, None)])
def test_allocation_that_places_the_instance_passes(spec, default):
    move_checks.check_allocation(MoveSpec(name=NAME, **spec), dict(DEST_INFO, default_iallocator=default))


# ================================================================ networks
def test_networked_splits_networks_and_kept_addresses():
    nics = [{"network": "net1", "ip": "pool"}, {"ip": "192.0.2.9"}, {"ip": ""}, {"link": "br0"}]
    assert move_checks.networked(nics) == ([(0, "net1")], [(1, {"ip": "192.0.2.9"})])


def test_connected_groups_reads_both_shapes_of_group_list():
    assert move_checks.connected_groups(network_row("net1", "default", "rack2")) == ["default", "rack2"]
    assert move_checks.connected_groups({"group_list": ["default"]}) == ["default"]
    assert move_checks.connected_groups({"group_list": None}) == []


@pytest.mark.parametrize("rows, primary, words", [
    ([network_row("other", "default")], None, "NIC 0 of %s is to be on network net1, but the destination cluster "
                                              "cluster-b.test has no network of that name (it has: other)" % NAME),
    ([network_row("net1")], None, "network net1 of NIC 0 is on the destination cluster cluster-b.test but connected "
                                  "to no node group"),
    ([network_row("net1", "default")], node_row(NODE1, group="rack2"),
     "network net1 of NIC 0 is not connected to node group rack2 of primary_node %s" % NODE1),
])
def test_a_network_the_nic_cannot_use_is_refused(rows, primary, words):
    spec = MoveSpec(name=NAME, primary_node=NODE1 if primary else None)
    err = _refusal(move_checks.check_networks, spec, [(0, "net1")], rows, CLUSTER, primary)
    assert err.side == "destination" and words in err.message
    assert "gnt-network connect" in err.hint


def test_a_network_connected_to_the_nodes_group_passes():
    move_checks.check_networks(MoveSpec(name=NAME), [(0, "net1")], [network_row("net1", "default")], CLUSTER,
                               node_row(NODE1))
    move_checks.check_networks(MoveSpec(name=NAME), [(0, "net1")], [network_row("net1", "rack2")], CLUSTER, None)


def _no_groups():
    raise AssertionError("the node groups were asked for without need")


def test_an_address_outside_its_own_network_is_refused():
    err = _refusal(move_checks.check_addresses, MoveSpec(name=NAME), [(0, {"ip": "198.51.100.7", "network": "net1"})],
                   [network_row("net1", "default")], CLUSTER, None, _no_groups)
    assert err.message == ("NIC 0 of %s would keep the address 198.51.100.7, which is not in network net1 "
                           "(192.0.2.0/24) on the destination cluster cluster-b.test" % NAME)


def test_an_address_of_a_network_on_the_primary_nodes_group_is_refused_for_a_nic_off_it():
    err = _refusal(move_checks.check_addresses, MoveSpec(name=NAME), [(0, {"ip": "192.0.2.7"})],
                   [network_row("net1", "default")], CLUSTER, node_row(NODE1), _no_groups)
    assert "which belongs to network net1 on the destination cluster cluster-b.test" in err.message


def test_without_a_primary_node_an_address_conflicts_only_where_every_group_has_the_network():
    asked = []

    def groups(names):
        def all_groups():
            asked.append(True)
            return names
        return all_groups

    addressed = [(0, {"ip": "192.0.2.7"}), (1, {"ip": "192.0.2.8"})]
    rows = [network_row("net1", "default")]
    move_checks.check_addresses(MoveSpec(name=NAME), addressed, rows, CLUSTER, None, groups(["default", "rack2"]))
    assert asked == [True]  # asked once for both NICs
    _refusal(move_checks.check_addresses, MoveSpec(name=NAME), addressed, rows, CLUSTER, None, groups(["default"]))


@pytest.mark.parametrize("nic", [{"ip": "192.0.2.7", "network": "net1"}, {"ip": "203.0.113.1"},
                                 {"ip": "not-an-address"}])
def test_addresses_that_fit_pass_without_asking_for_groups(nic):
    move_checks.check_addresses(MoveSpec(name=NAME), [(0, nic)], [network_row("net1", "default"),
                                                                  {"name": "bad", "network": "junk"}],
                                CLUSTER, None if "network" in nic else node_row(NODE1, group="rack2"), _no_groups)
