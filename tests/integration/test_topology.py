# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Moves between Ganeti 3.0 and 3.1, both ways, on clusters of two nodes, with Ganeti networks.

Runs on a lab brought up with LAB_B_GANETI=3.1 LAB_NODES=2 (run.sh's mixed phase): cluster a runs the host's
Ganeti 3.0.2, cluster b Debian trixie's 3.1.0~rc2; node1 of each is its master.
"""

import json
import uuid

import pytest

from conftest import Cluster, connection, lab, move_task, play, read_env

pytestmark = pytest.mark.mixed_lab

SUBNET = "192.0.2.0/24"  # TEST-NET-1: Ganeti's address pool only, never on the wire


@pytest.fixture(autouse=True)
def needs_mixed_lab(lab_env):
    env = read_env()
    if env.get("LAB_NODES") != "2" or env.get("GNT_A_VERSION") == env.get("GNT_B_VERSION"):
        pytest.skip("needs the mixed lab (LAB_B_GANETI=3.1 LAB_NODES=2, run.sh's mixed phase)")


@pytest.fixture(params=["a", "b"], ids=lambda key: "from-%s" % key)
def route(request, lab_env):
    """(source, destination): 3.0 -> 3.1 and 3.1 -> 3.0."""
    other = {"a": "b", "b": "a"}[request.param]
    source, destination = Cluster(request.param, lab_env), Cluster(other, lab_env)
    assert {source.version, destination.version} == {"3.0", "3.1"}
    return source, destination


@pytest.fixture(scope="module")
def network(lab_env):
    """A Ganeti network of the same name on both clusters, connected to their node group; removed afterwards."""
    name = "net-%s" % uuid.uuid4().hex[:6]
    for key in ("a", "b"):
        lab("gnt", key, "gnt-network", "add", "--network=%s" % SUBNET, name)
        lab("gnt", key, "gnt-network", "connect", "--nic-parameters=mode=bridged,link=br0", name, "default")
    yield name
    for key in ("a", "b"):
        lab("gnt", key, "gnt-network", "disconnect", name, "default", check=False)
        lab("gnt", key, "gnt-network", "remove", name, check=False)


def moved(result):
    move = result.registered["move"]
    assert move.get("failed") is not True, result
    assert move["state"] == "moved" and move["changed"] is True, move
    return move


def nic(cluster, name):
    """NIC 0 of an instance as Ganeti lists it: network name (or None), IP (or None), MAC, link."""
    fields = ["nic.network.name/0", "nic.ip/0", "nic.mac/0", "nic.link/0"]
    values = cluster.gnt("gnt-instance", "list", "--no-headers", "--separator=|", "-o", ",".join(fields),
                         name).stdout.strip().split("|")
    return {key: (None if value in ("-", "None", "") else value)
            for key, value in zip(("network", "ip", "mac", "link"), values)}


def free_addresses(cluster, network):
    return int(cluster.gnt("gnt-network", "list", "--no-headers", "-o", "free_count", network).stdout.strip())


def test_non_master_nodes_both_ways_with_tags(runner, instances, route):
    source, destination = route
    name = instances.create(source, options=["--node", source.nodes[1], "--tag", "wave:3", "--tag", "owner:ops"])
    assert source.instances()[name]["pnode"] == source.nodes[1]
    before = source.disk_md5(name)

    move = moved(runner.playbook(play(move_task(name, connection(source), connection(destination),
                                                primary_node=destination.nodes[1]))))

    assert name not in source.instances()
    there = destination.instances()[name]
    assert there["pnode"] == destination.nodes[1] and there["status"] == "running"
    assert destination.disk_md5(name) == before
    assert sorted(destination.instance_field(name, "tags").split(",")) == ["owner:ops", "wave:3"]
    assert move["instance"]["primary_node"] == destination.nodes[1]


def test_default_iallocator_places_the_instance(runner, instances, route):
    source, destination = route
    name = instances.create(source)
    before = source.disk_md5(name)

    move = moved(runner.playbook(play(move_task(name, connection(source), connection(destination)))))

    there = destination.instances()[name]
    assert there["pnode"] in destination.nodes and there["status"] == "running"
    assert destination.disk_md5(name) == before
    create = [job["id"] for job in move["jobs"] if job["operation"] == "create"]
    log = json.dumps(destination.job(create[-1])["oplog"])
    assert "via iallocator hail" in log, log


@pytest.mark.parametrize("name_check", [True, False])
def test_name_check_is_the_same_on_both_versions(runner, instances, route, name_check):
    source, destination = route
    name = instances.create(source)
    unresolvable = "nores-%s.test" % uuid.uuid4().hex[:8]  # in no hosts file of the lab
    instances.made.append(unresolvable)
    jobs = destination.job_count()

    result = runner.playbook(play(move_task(name, connection(source), connection(destination),
                                            destination_name=unresolvable, name_check=name_check)))
    move = result.registered["move"]

    if name_check:
        # the module sends name_check itself: 3.1 (whose default is off) resolves the name as 3.0 does
        assert move["failed"] is True, result
        assert move["step"] == "create" and "(%s) does not resolve" % unresolvable in move["msg"]
        assert "set name_check: false" in move["msg"]
        assert move["changed"] is False
        assert unresolvable not in destination.instances()
        assert destination.job_count() == jobs + 1  # the refused create only
        assert source.instances()[name]["status"] == "running"
    else:
        assert move.get("failed") is not True, result
        assert destination.instances()[unresolvable]["status"] == "running"
        assert name not in source.instances()


def test_a_source_name_the_destination_cannot_resolve_fails_even_without_name_check(runner, instances, route):
    """3.0 and 3.1.0~rc2 resolve the source instance's name on the destination master (ganeti#1841)."""
    source, destination = route
    name = "unres-%s.test" % uuid.uuid4().hex[:8]  # in no hosts file: made without Ganeti's name check
    source.gnt("gnt-instance", "add", "-t", "file", "-o", "noop", "-s", "16M", "--no-name-check", "--no-ip-check",
               "--no-start", name)
    instances.made.append(name)
    jobs = destination.job_count()

    result = runner.playbook(play(move_task(name, connection(source), connection(destination), name_check=False)))

    move = result.registered["move"]
    assert move["failed"] is True and move["step"] == "create", result
    assert "(%s) does not resolve" % name in move["msg"]
    assert "even with name_check: false" in move["msg"] and "ganeti#1841" in move["msg"]
    assert move["changed"] is False
    assert destination.job_count() == jobs + 1 and name not in destination.instances()
    assert source.instances()[name]["admin_state"] == "down"  # untouched


@pytest.mark.parametrize("flag, fix", [
    ("--drained=yes", "gnt-node modify --drained=no"),
    ("--offline=yes", "gnt-node add --readd"),
    ("--vm-capable=no", "gnt-node modify --vm-capable=yes"),
], ids=["drained", "offline", "not-vm-capable"])
def test_an_unusable_destination_node_is_refused_before_any_job(runner, instances, route, flag, fix):
    source, destination = route
    node = destination.nodes[1]
    name = instances.create(source)
    jobs = (source.job_count(), destination.job_count())
    destination.gnt("gnt-node", "modify", flag, node)
    try:
        result = runner.playbook(play(move_task(name, connection(source), connection(destination),
                                                primary_node=node)))
    finally:
        if flag == "--offline=yes":
            destination.gnt("gnt-node", "add", "--readd", "--no-ssh-key-check", node)
        else:
            destination.gnt("gnt-node", "modify", {"--drained=yes": "--drained=no",
                                                   "--vm-capable=no": "--vm-capable=yes"}[flag], node)
    move = result.registered["move"]
    assert move["failed"] is True and move["step"] == "preflight", result
    assert node in move["msg"] and destination.name in move["msg"]
    assert "%s %s" % (fix, node) in move["msg"]
    assert move["jobs"] == [] and move["changed"] is False
    assert (source.job_count(), destination.job_count() - 2) == jobs  # the node modify and its undo
    assert source.instances()[name]["status"] == "running" and name not in destination.instances()


def test_a_nic_on_a_network_arrives_on_the_network_of_that_name(runner, instances, route, network):
    source, destination = route
    name = instances.create(source, options=["--net", "0:network=%s,ip=pool" % network])
    on_source = nic(source, name)
    assert on_source["network"] == network and on_source["ip"]
    free = free_addresses(destination, network)

    moved(runner.playbook(play(move_task(name, connection(source), connection(destination)))))

    assert nic(destination, name) == on_source  # same network name, address and MAC
    assert free_addresses(destination, network) == free - 1  # the address is reserved in the destination's pool


def test_a_network_missing_on_the_destination_is_refused_before_any_job(runner, instances, route):
    source, destination = route
    lonely = "only-%s" % uuid.uuid4().hex[:6]
    source.gnt("gnt-network", "add", "--network=198.51.100.0/24", lonely)
    source.gnt("gnt-network", "connect", "--nic-parameters=mode=bridged,link=br0", lonely, "default")
    name = instances.create(source, options=["--net", "0:network=%s" % lonely])
    try:
        jobs = (source.job_count(), destination.job_count())
        result = runner.playbook(play(move_task(name, connection(source), connection(destination))))
        move = result.registered["move"]
        assert move["failed"] is True and move["step"] == "preflight", result
        assert "network %s" % lonely in move["msg"] and destination.name in move["msg"]
        assert "gnt-network add" in move["msg"] and 'network: ""' in move["msg"]
        assert move["jobs"] == [] and move["changed"] is False
        assert (source.job_count(), destination.job_count()) == jobs
        assert source.instances()[name]["status"] == "running"
    finally:
        source.remove(name)
        source.gnt("gnt-network", "disconnect", lonely, "default", check=False)
        source.gnt("gnt-network", "remove", lonely, check=False)


def test_nics_override_moves_a_nic_off_its_network_and_back(runner, instances, route, network):
    source, destination = route
    name = instances.create(source, options=["--net", "0:network=%s,ip=pool" % network])
    mac = nic(source, name)["mac"]

    # off the network onto the plain bridge; the pool's address would belong to the network there
    refused = runner.playbook(play(move_task(name, connection(source), connection(destination),
                                             nics=[{"network": "", "link": "br0"}])))
    move = refused.registered["move"]
    assert move["failed"] is True and move["step"] == "preflight", refused
    assert "belongs to network %s" % network in move["msg"] and 'nics[0]: {ip: ""}' in move["msg"]
    assert move["jobs"] == []

    moved(runner.playbook(play(move_task(name, connection(source), connection(destination),
                                         nics=[{"network": "", "link": "br0", "ip": ""}]))))
    assert nic(destination, name) == {"network": None, "ip": None, "mac": mac, "link": "br0"}

    # and back onto the network, with an address from the pool of the cluster it lands on
    moved(runner.playbook(play(move_task(name, connection(destination), connection(source),
                                         nics=[{"network": network, "ip": "pool"}]))))
    back = nic(source, name)
    assert back["network"] == network and back["mac"] == mac and back["ip"].startswith("192.0.2.")
    assert name not in destination.instances()


@pytest.mark.stock_socat
def test_stock_3_1_exports_to_stock_3_0(runner, instances, lab_env):
    """ganeti#1681 is a defect of the exporting 3.0 side: a stock 3.1 source moves to a stock 3.0 cluster."""
    if read_env().get("LAB_FIX_SOCAT_CN") != "0":
        pytest.skip("lab runs with its socat fix")
    source, destination = (Cluster("b", lab_env), Cluster("a", lab_env))
    assert (source.version, destination.version) == ("3.1", "3.0")
    name = instances.create(source)
    before = source.disk_md5(name)

    moved(runner.playbook(play(move_task(name, connection(source), connection(destination)))))

    assert destination.instances()[name]["status"] == "running"
    assert destination.disk_md5(name) == before
