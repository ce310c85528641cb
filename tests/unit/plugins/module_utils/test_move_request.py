# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""move_request: the export request and the NIC rules, without clusters.

The create request as a move sends it is checked in test_instance_move and
test_move_placement (against two scripted clusters).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.ganeti.rapi.plugins.module_utils.move_model import MoveSpec
from ansible_collections.ganeti.rapi.plugins.module_utils.move_request import (
    OP_PRIO_HIGH, RequestError, apply_nic_overrides, export_body, nic_request,
)
from ansible_collections.ganeti.rapi.tests.unit.plugins.module_utils.fake_rapi import EXPINFO, IMPINFO, NAME

MAC = "aa:00:00:b3:0a:23"


def test_the_export_goes_to_the_published_endpoints_at_high_priority():
    spec = MoveSpec(name=NAME, compress="lzop", shutdown_timeout=30)
    assert export_body(spec, IMPINFO, EXPINFO["x509_key_name"]) == {
        "mode": "remote",
        "destination": IMPINFO["disks"],
        "destination_x509_ca": IMPINFO["x509_ca"],
        "x509_key_name": EXPINFO["x509_key_name"],
        "shutdown": True,
        "shutdown_timeout": 30,
        "remove_instance": True,
        "compress": "lzop",
        "priority": -10,
    }
    assert OP_PRIO_HIGH == -10  # Ganeti's highest priority for a client


def test_keep_source_keeps_the_instance_and_allows_the_long_sleep():
    body = export_body(MoveSpec(name=NAME, keep_source=True), IMPINFO, EXPINFO["x509_key_name"])
    assert body["remove_instance"] is False and body["long_sleep"] is True


@pytest.mark.parametrize("nic, expected", [
    ([None, "u", None, "aa:00:00:00:00:01", "routed", "rt1", "", None, None],
     {"ip": None, "mac": "aa:00:00:00:00:01", "mode": "routed", "link": "rt1"}),
    (["n0", "u", "192.0.2.1", "aa:00:00:00:00:02", "bridged", "br0", "net-uuid", {"name": "lan"}],
     {"ip": "192.0.2.1", "mac": "aa:00:00:00:00:02", "name": "n0", "network": "lan"}),
    (["192.0.2.2", "aa:00:00:00:00:03", "bridged", "br0", "net-uuid", None],
     {"ip": "192.0.2.2", "mac": "aa:00:00:00:00:03", "network": "net-uuid"}),
    (["192.0.2.3", "aa:00:00:00:00:04", "bridged", "br0"],
     {"ip": "192.0.2.3", "mac": "aa:00:00:00:00:04", "mode": "bridged", "link": "br0"}),
], ids=["9-tuple", "8-tuple-network", "6-tuple-network-without-netinfo", "4-tuple"])
def test_nic_request_tuple_lengths(nic, expected):
    assert nic_request(nic) == expected


def test_nic_request_refuses_unknown_shapes():
    with pytest.raises(RequestError) as info:
        nic_request(["a", "b", "c"])
    assert "unexpected NIC information" in str(info.value)


@pytest.mark.parametrize("nics, overrides, expected", [
    ([{"mac": MAC, "mode": "bridged", "link": "br0", "vlan": "1"}], [{"network": "net1"}],
     [{"mac": MAC, "network": "net1"}]),
    ([{"mac": MAC, "mode": "bridged", "link": "br-net1", "network": "net1"}], [{"network": "", "link": "br0"}],
     [{"mac": MAC, "link": "br0"}]),
    ([{"mac": MAC, "mode": "bridged", "link": "br-net1", "network": "net1"}], [{"mac": "generate"}],
     [{"mac": "generate", "network": "net1"}]),
    ([{"mac": MAC, "link": "br0"}], [{"link": "br1", "mac": None}], [{"link": "br1"}]),
], ids=["onto-a-network", "off-a-network", "stays-on-its-network", "plain"])
def test_apply_nic_overrides(nics, overrides, expected):
    assert apply_nic_overrides(nics, overrides) == expected
