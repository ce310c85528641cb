# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Where the instance lands: destination nodes, mirrored disk templates and Ganeti networks (see fake_rapi.Scenario).

DRBD and networks do not exist on the lab, so these follow Ganeti 3.0's
cmdlib/instance_create.py and instance_utils.ComputeNics.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.ganeti.rapi.tests.unit.plugins.module_utils.fake_rapi import (
    failure,
    INFO_JOB, INSTINFO, NAME, SOURCE_ROW, Scenario, answer, network_row, node_row,
)

NODE1, NODE2 = "node1.cluster-b.test", "node2.cluster-b.test"
MAC = "aa:00:00:b3:0a:23"


def _refused(sc, side, text, method="run", **spec):
    """A preflight refusal: no job on either cluster, nothing changed, and a fix."""
    err = failure(sc.move(**spec), method)
    assert (err.side, err.step) == (side, "preflight")
    assert text in err.message
    assert err.hint
    assert sc.source.submitted() == [] and sc.destination.submitted() == []
    assert err.changed is False and err.recovery == []
    return err


def _queries(cluster, resource):
    return [call for call in cluster.called("query") if call[1] == resource]


def _source(sc, row=None, instinfo=None):
    """The source instance as the preflight (query row) and the prepare step (instance-info job) see it."""
    if row is not None:
        sc.source.instance(NAME, copy.deepcopy(row), None)
    if instinfo is not None:
        sc.source.submit_scripts["instance_info_job"] = [(INFO_JOB, [answer("success",
                                                                            result={NAME: copy.deepcopy(instinfo)})])]


def _plan_and_move(setup, **spec):
    """The check-mode diff and the create request of the same move, each on fresh clusters made by ``setup``."""
    planning, moving = Scenario(), Scenario()
    setup(planning)
    setup(moving)
    after = planning.move(**spec).check().diff["after"]
    moving.move(**spec).run()
    return after, moving


def _on_network(sc, network="net1"):
    """The source's NIC 0 is on a Ganeti network; its filled mode and link are the network's."""
    row = dict(SOURCE_ROW, **{"nic.networks.names": [network], "nic.links": ["br-" + network]})
    info = copy.deepcopy(INSTINFO)
    info["nics"] = [[None, "nic-uuid-0", None, MAC, "bridged", "br-" + network, "", "net-uuid-1",
                     {"name": network, "uuid": "net-uuid-1"}]]
    _source(sc, row, info)


# ====================================================================== nodes
@pytest.mark.parametrize("option", ["primary_node", "secondary_node"])
@pytest.mark.parametrize("flags, words, fix", [
    ({"offline": True}, "is offline", "gnt-node add --readd node4.cluster-b.test"),
    ({"drained": True}, "is drained", "gnt-node modify --drained=no node4.cluster-b.test"),
    ({"vm_capable": False}, "is not vm_capable", "gnt-node modify --vm-capable=yes node4.cluster-b.test"),
], ids=["offline", "drained", "not-vm-capable"])
def test_each_node_condition_has_its_own_message_and_fix(sc, option, flags, words, fix):
    sc.destination.nodes["node4.cluster-b.test"] = node_row("node4.cluster-b.test", **flags)
    nodes = {"primary_node": NODE1, "secondary_node": NODE2}
    nodes[option] = "node4.cluster-b.test"

    err = _refused(sc, "destination", "%s node4.cluster-b.test on the destination cluster cluster-b.test %s"
                   % (option, words), disk_template="drbd", **nodes)

    assert err.hint == "run %s on the destination cluster cluster-b.test, or choose another %s" % (fix, option)


def test_a_node_with_two_conditions_names_both_fixes(sc):
    sc.destination.nodes["node4"] = node_row("node4.cluster-b.test", offline=True, vm_capable=False)
    err = _refused(sc, "destination", "is offline and not vm_capable", primary_node="node4")
    assert "gnt-node add --readd node4 and gnt-node modify --vm-capable=yes node4" in err.hint


@pytest.mark.parametrize("secondary", [NODE1, "node1"], ids=["same-name", "short-name-of-the-same-node"])
def test_refuses_the_primary_node_as_secondary_node(sc, secondary):
    sc.destination.nodes["node1"] = node_row(NODE1)  # the destination expands short names
    err = _refused(sc, "input", "secondary_node %s is the primary node %s" % (secondary, NODE1),
                   primary_node=NODE1, secondary_node=secondary, disk_template="drbd")
    assert "another node" in err.hint


@pytest.mark.parametrize("method", ["run", "check"])
def test_refuses_a_secondary_node_without_primary_node(sc, method):
    err = _refused(sc, "input", "secondary_node %s is given without primary_node" % NODE2, method=method,
                   secondary_node=NODE2, disk_template="drbd")
    assert "set primary_node" in err.hint
    assert _queries(sc.destination, "node") == []


# ============================================================== disk templates
@pytest.mark.parametrize("spec, row_template, words", [
    ({"disk_template": "drbd"}, "file", "disk template drbd mirrors"),
    ({}, "drbd", "disk template drbd (the source instance's) mirrors"),
], ids=["drbd-asked", "drbd-from-the-source"])
def test_drbd_with_a_primary_node_needs_a_secondary_node(sc, spec, row_template, words):
    _source(sc, dict(SOURCE_ROW, disk_template=row_template))
    err = _refused(sc, "input", words, primary_node=NODE1, **spec)
    assert "needs a secondary_node" in err.message and "mirror node" in err.message
    assert "set secondary_node" in err.hint and "drop primary_node" in err.hint
    assert _queries(sc.destination, "node") == []


@pytest.mark.parametrize("spec, words", [
    ({"disk_template": "plain"}, "disk template plain has no mirror"),
    ({}, "disk template file (the source instance's) has no mirror"),
], ids=["plain-asked", "file-from-the-source"])
def test_a_secondary_node_is_refused_for_a_template_without_mirror(sc, spec, words):
    err = _refused(sc, "input", words, primary_node=NODE1, secondary_node=NODE2, **spec)
    assert "secondary_node %s is given" % NODE2 in err.message
    assert err.hint == "drop secondary_node, or set disk_template: drbd"


def test_drbd_on_two_given_nodes_sends_both_and_no_iallocator(sc):
    outcome = sc.move(disk_template="drbd", primary_node=NODE1, secondary_node=NODE2).run()
    body = sc.create_body()
    assert outcome.state == "moved"
    assert (body["disk_template"], body["pnode"], body["snode"]) == ("drbd", NODE1, NODE2)
    assert "iallocator" not in body
    assert body["wait_for_sync"] is False


def test_drbd_without_nodes_is_placed_by_the_iallocator(sc):
    sc.move(disk_template="drbd").run()
    body = sc.create_body()
    assert (body["disk_template"], body["iallocator"]) == ("drbd", "hail")
    assert "pnode" not in body and "snode" not in body
    assert _queries(sc.destination, "node") == []


@pytest.mark.parametrize("source_template, spec", [
    ("plain", {"disk_template": "drbd"}),
    ("plain", {"disk_template": "drbd", "primary_node": NODE1, "secondary_node": NODE2}),
    ("drbd", {"disk_template": "file"}),
    ("drbd", {"disk_template": "file", "primary_node": NODE1}),
], ids=["plain-to-drbd", "plain-to-drbd-on-nodes", "drbd-to-file", "drbd-to-file-on-a-node"])
def test_template_conversion_keeps_disk_sizes_names_and_modes(sc, source_template, spec):
    info = copy.deepcopy(INSTINFO)
    info["disk_template"] = source_template
    for disk in info["disks"]:
        disk["dev_type"] = source_template
    _source(sc, dict(SOURCE_ROW, disk_template=source_template), info)

    sc.move(**spec).run()

    body = sc.create_body()
    assert body["disk_template"] == spec["disk_template"]
    assert body["disks"] == [{"size": 64, "mode": "rw"}, {"size": 128, "mode": "ro", "name": "data", "spindles": 2}]
    assert body["wait_for_sync"] is False
    assert ("snode" in body) == ("secondary_node" in spec)


@pytest.mark.parametrize("spec", [{}, {"disk_template": "drbd"}, {"keep_source": True},
                                  {"disk_template": "drbd", "primary_node": NODE1, "secondary_node": NODE2}])
def test_wait_for_sync_is_always_false(sc, spec):
    if spec.get("keep_source"):
        sc.source.instance(NAME, copy.deepcopy(SOURCE_ROW))
    sc.move(**spec).run()
    assert sc.create_body()["wait_for_sync"] is False


# ==================================================================== networks
def test_an_override_that_sets_a_network_drops_the_inherited_mode_link_and_vlan(sc):
    def setup(sc):
        info = copy.deepcopy(INSTINFO)
        info["nics"][0][6] = "100"  # a plain NIC with a vlan
        _source(sc, dict(SOURCE_ROW, **{"nic.vlans": ["100"]}), info)
        sc.destination.networks = {"net1": network_row("net1", "default")}

    after, moved = _plan_and_move(setup, nics=[{"network": "net1"}])

    assert moved.create_body()["nics"] == [{"ip": None, "mac": MAC, "network": "net1"}]
    assert after["nics"] == [{"mac": MAC, "network": "net1"}]
    setup(sc)
    assert sc.move().check().diff["before"]["nics"] == [{"mac": MAC, "mode": "bridged", "link": "br0",
                                                         "vlan": "100"}]


@pytest.mark.parametrize("key", ["mode", "link", "vlan"])
def test_an_override_with_a_network_and_its_own_mode_link_or_vlan_is_refused(sc, key):
    sc.destination.networks = {"net1": network_row("net1", "default")}
    err = _refused(sc, "input", "nics[0] sets network net1 together with %s" % key,
                   nics=[{"network": "net1", key: "x"}])
    assert "Ganeti refuses a mode or link next to a network and overwrites a vlan" in err.message
    assert "drop %s from nics[0]" % key in err.hint
    assert _queries(sc.destination, "network") == []


@pytest.mark.parametrize("method", ["run", "check"])
def test_mode_or_link_on_a_nic_that_stays_on_its_network_is_refused(sc, method):
    _on_network(sc)
    err = _refused(sc, "input", "nics[0] sets mode and link, but NIC 0 of %s is on network net1" % NAME,
                   method=method, nics=[{"link": "br1", "mode": "bridged"}])
    assert 'add network: "" to nics[0] to take the NIC off network net1' in err.hint


def test_an_empty_network_moves_a_networked_nic_to_a_plain_bridge():
    after, moved = _plan_and_move(_on_network, nics=[{"network": "", "link": "br0"}])

    assert moved.create_body()["nics"] == [{"ip": None, "mac": MAC, "link": "br0"}]
    assert after["nics"] == [{"mac": MAC, "link": "br0"}]
    assert _queries(moved.destination, "network") == []  # no NIC ends on a network


def test_a_networked_nic_keeps_its_network_by_name(sc):
    _on_network(sc)
    sc.destination.networks = {"net1": network_row("net1", "default")}

    outcome = sc.move().check()

    # the source as it is: its network and the mode and link the network gave it
    assert outcome.diff["before"]["nics"] == [{"mac": MAC, "mode": "bridged", "link": "br-net1", "network": "net1"}]
    # on the destination the network decides mode and link, as in the create request
    assert outcome.diff["after"]["nics"] == [{"mac": MAC, "network": "net1"}]
    assert len(_queries(sc.destination, "network")) == 1
    assert sc.submitted() == []


@pytest.mark.parametrize("nics", [None, [{"network": "net2"}], [{"network": "", "link": "br0"}],
                                  [{"mac": "generate", "name": "eth0"}]],
                         ids=["as-is", "other-network", "off-its-network", "mac-and-name"])
def test_the_diff_shows_the_nics_the_request_sends(nics):
    def setup(sc):
        _on_network(sc)
        sc.destination.networks = {"net1": network_row("net1", "default"), "net2": network_row("net2", "default")}

    after, moved = _plan_and_move(setup, nics=nics)

    sent = [dict((k, v) for k, v in nic.items() if v is not None) for nic in moved.create_body()["nics"]]
    assert after["nics"] == sent


def test_a_network_missing_on_the_destination_is_refused(sc):
    _on_network(sc)
    sc.destination.networks = {"lan": network_row("lan", "default"), "dmz": network_row("dmz", "default")}

    err = _refused(sc, "destination", "NIC 0 of %s is to be on network net1, but the destination cluster "
                   "cluster-b.test has no network of that name (it has: dmz, lan)" % NAME)

    assert "gnt-network add --network=SUBNET net1" in err.hint
    assert "gnt-network connect --nic-parameters=mode=bridged,link=BRIDGE net1 GROUP" in err.hint
    assert 'nics[0]: {network: "", link: br0}' in err.hint


def test_a_network_an_override_names_must_exist_too(sc):
    _refused(sc, "destination", "NIC 0 of %s is to be on network net9" % NAME, nics=[{"network": "net9"}])


def test_a_network_connected_to_no_group_is_refused(sc):
    _on_network(sc)
    sc.destination.networks = {"net1": network_row("net1")}
    err = _refused(sc, "destination", "network net1 of NIC 0 is on the destination cluster cluster-b.test but "
                   "connected to no node group")
    assert "gnt-network connect" in err.hint


def test_a_network_not_connected_to_the_primary_nodes_group_is_refused(sc):
    _on_network(sc)
    sc.destination.networks = {"net1": network_row("net1", "rack2", "rack3")}
    err = _refused(sc, "destination", "network net1 of NIC 0 is not connected to node group default of "
                   "primary_node %s on the destination cluster cluster-b.test (it is connected to: rack2, rack3)"
                   % NODE1, primary_node=NODE1)
    assert "gnt-network connect --nic-parameters=mode=bridged,link=BRIDGE net1 default" in err.hint
    assert "choose a primary_node in one of those groups" in err.hint


def test_a_network_connected_to_the_primary_nodes_group_is_fine(sc):
    _on_network(sc)
    sc.destination.nodes[NODE1] = node_row(NODE1, group="rack2")
    sc.destination.networks = {"net1": network_row("net1", "default", "rack2")}
    assert sc.move(primary_node=NODE1).run().state == "moved"
    assert sc.create_body()["nics"] == [{"ip": None, "mac": MAC, "network": "net1"}]


def test_without_a_primary_node_any_connected_group_will_do(sc):
    _on_network(sc)
    sc.destination.networks = {"net1": network_row("net1", "rack2")}
    assert sc.move().check().state == "would_move"


def test_moves_without_networks_do_not_ask_for_networks(sc):
    sc.move(primary_node=NODE1, nics=[{"link": "br1"}]).run()
    assert _queries(sc.destination, "network") == [] and _queries(sc.destination, "group") == []


# ============================================================ addresses
def _with_address(sc, address, network=None):
    """The source's NIC 0 carries ``address`` (on ``network`` when given)."""
    row = dict(SOURCE_ROW, **{"nic.ips": [address], "nic.networks.names": [network]})
    info = copy.deepcopy(INSTINFO)
    info["nics"] = [[None, "nic-uuid-0", address, MAC, "bridged", "br0", "", "net-uuid-1" if network else None,
                     {"name": network, "uuid": "net-uuid-1"} if network else None]]
    _source(sc, row, info)
    sc.destination.networks = {"net1": network_row("net1", "default", subnet="192.0.2.0/24"),
                               "net2": network_row("net2", "default", subnet="198.51.100.0/24")}


@pytest.mark.parametrize("network, nics", [
    ("net1", [{"network": "", "link": "br0"}]),
    (None, []),
], ids=["taken-off-its-network", "plain-nic-in-a-destination-network"])
@pytest.mark.parametrize("primary_node", [None, NODE1], ids=["iallocator", "primary-node"])
def test_an_address_of_a_destination_network_on_a_nic_off_it_is_refused(sc, network, nics, primary_node):
    _with_address(sc, "192.0.2.7", network)
    err = _refused(sc, "destination", "NIC 0 of %s would keep the address 192.0.2.7, which belongs to network net1 "
                   "on the destination cluster cluster-b.test, but the NIC is not on that network" % NAME,
                   nics=nics, primary_node=primary_node)
    assert 'nics[0]: {ip: ""}' in err.hint and "nics[0]: {network: net1}" in err.hint


def test_an_address_outside_the_network_its_nic_moves_to_is_refused(sc):
    _with_address(sc, "192.0.2.7", "net1")
    err = _refused(sc, "destination", "NIC 0 of %s would keep the address 192.0.2.7, which is not in network net2 "
                   "(198.51.100.0/24) on the destination cluster cluster-b.test" % NAME, nics=[{"network": "net2"}])
    assert "nics[0]: {ip: pool}" in err.hint


@pytest.mark.parametrize("groups, primary_node, node_group", [
    (("rack2",), NODE1, "default"),  # Ganeti checks the networks of the primary node's group only
    ((), NODE1, "default"),  # a network connected to no group conflicts with nothing
    (("rack2",), None, None),  # the iallocator may choose a node of a group without the network
], ids=["other-group", "no-group", "iallocator-with-a-group-without-it"])
def test_an_address_of_a_network_the_node_does_not_see_moves(sc, groups, primary_node, node_group):
    _with_address(sc, "192.0.2.7")
    sc.destination.networks["net1"] = network_row("net1", *groups, subnet="192.0.2.0/24")
    sc.destination.groups = ["default", "rack2"]
    if node_group:
        sc.destination.nodes[NODE1] = node_row(NODE1, group=node_group)
    assert sc.move(primary_node=primary_node).run().state == "moved"
    assert sc.create_body()["nics"][0]["ip"] == "192.0.2.7"


@pytest.mark.parametrize("network, nics", [
    ("net1", []),
    ("net1", [{"network": "", "link": "br0", "ip": ""}]),
    (None, [{"network": "net1"}]),
    ("net1", [{"network": "net2", "ip": "pool"}]),
], ids=["stays-on-its-network", "address-dropped", "plain-nic-onto-the-network", "pool-address-on-another-network"])
def test_an_address_that_fits_its_nic_moves(sc, network, nics):
    _with_address(sc, "192.0.2.7", network)
    assert sc.move(nics=nics).run().state == "moved"


def test_a_plain_address_outside_every_destination_network_moves(sc):
    _with_address(sc, "203.0.113.9")
    assert sc.move().run().state == "moved"
    assert sc.create_body()["nics"][0]["ip"] == "203.0.113.9"
    assert _queries(sc.destination, "group") == []  # asked only when an address lies in a network
