# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""prepare_clusters' report of each pair of clusters (templates/pairs.json.j2), from what the checks read.

The checks themselves run on the lab (tests/integration/test_prepare_clusters.py); here the cases a lab does not
have: a node without socat, without Debian's impexpd, a node that did not answer, IPv6 addresses.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

TEMPLATE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "prepare_clusters",
                                        "templates", "pairs.json.j2"))


def probe(node, ip, is_open):
    return 'PREPARE_CLUSTERS {"node": "%s", "ip": "%s", "open": %s}' % (node, ip, "true" if is_open else "false")


def report(tmp_path, clusters, probes, names, check_mode=False, fix="false"):
    """Render the template in a play on localhost, as the role does; {(source, destination): pair}."""
    out = tmp_path / "pairs.json"
    variables = {
        "prepare_clusters_fix_socat_commonname": fix,  # a string, as from the command line
        "prepare_clusters_fix_socat_commonname_state": "present",
        "prepare_clusters_check_port": 47001,
        "_prepare_clusters_names_wanted": sorted({name for _host, name, _rc in names}),
        "_prepare_clusters_checked": sorted(clusters),
        "_prepare_clusters_clusters": clusters,
        "_prepare_clusters_probes": {"results": [{"item": host, "stdout_lines": lines} if lines is not None
                                                 else {"item": host, "failed": True, "msg": "no answer"}
                                                 for host, lines in probes.items()]},
        "_prepare_clusters_names": {"results": [{"item": [host, name], "rc": rc} for host, name, rc in names]},
    }
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": [{"ansible.builtin.copy": {
        "content": "{{ lookup('ansible.builtin.template', '%s') }}" % TEMPLATE, "dest": str(out)},
        "check_mode": False}]}]
    (tmp_path / "play.json").write_text(json.dumps(play))
    env = dict(os.environ, ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_HOME=str(tmp_path / "home"),
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    command = [sys.executable, "-m", "ansible.cli.playbook", "-i", "localhost,", "-c", "local",
               "-e", "ansible_python_interpreter=" + sys.executable, "-e", "@" + str(tmp_path / "vars.json"),
               str(tmp_path / "play.json")] + (["--check"] if check_mode else [])
    proc = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {(pair["source"], pair["destination"]): pair for pair in json.loads(out.read_text())}


A = {"cluster": "a.example", "version": "3.0.2", "ips": {"n1.a": "10.0.0.1", "n2.a": "10.0.0.2"},
     "socat": [{"node": "n1.a", "socat": "1.7.4.4", "stock_name": 1}, {"node": "n2.a", "socat": "1.7.4.4",
                                                                       "stock_name": 1}]}
B = {"cluster": "b.example", "version": "3.1.0", "ips": {"n1.b": "10.0.1.1"},
     "socat": [{"node": "n1.b", "socat": "1.8.0.0", "stock_name": 0}]}
ALL_OPEN = {"ha": [probe("n1.a", "10.0.1.1", True), probe("n2.a", "10.0.1.1", True)],
            "hb": [probe("n1.b", "10.0.0.1", True), probe("n1.b", "10.0.0.2", True)]}


@pytest.fixture
def clusters():
    return {"ha": json.loads(json.dumps(A)), "hb": json.loads(json.dumps(B))}


def test_a_pair_out_of_ganeti_3_1_is_ready_and_one_out_of_3_0_is_not(tmp_path, clusters):
    pairs = report(tmp_path, clusters, ALL_OPEN, [("ha", "web1", 0), ("hb", "web1", 0)])

    good = pairs[("b.example", "a.example")]
    assert good["ready"] is True and good["report"] == [
        "b.example (Ganeti 3.1.0) -> a.example (Ganeti 3.0.2): ready", "2/2 node connections open on port 47001",
        "1/1 instance names resolved on a.example"]
    bad = pairs[("a.example", "b.example")]
    assert bad["ready"] is False and bad["socat_defect"] == ["n1.a", "n2.a"]
    assert bad["report"][0] == "a.example (Ganeti 3.0.2) -> b.example (Ganeti 3.1.0): NOT READY"
    assert bad["report"][3].startswith("ganeti#1681 on n1.a, n2.a: Ganeti 3.0.2 exports tell socat")
    assert bad["report"][3].endswith("Fix: prepare_clusters_fix_socat_commonname: true, or upgrade a.example to "
                                     "Ganeti 3.1")


def test_check_mode_with_the_fix_planned_reports_it_and_counts_the_pair_ready(tmp_path, clusters):
    pairs = report(tmp_path, clusters, ALL_OPEN, [], check_mode=True, fix="true")

    pair = pairs[("a.example", "b.example")]
    assert pair["ready"] is True
    assert pair["report"][2:] == ["instance names: none given to check (prepare_clusters_instance_names)",
                                  "ganeti#1681 on n1.a, n2.a: check mode, prepare_clusters_fix_socat_commonname "
                                  "would fix it"]


def test_a_closed_port_a_silent_node_and_an_unresolved_name(tmp_path, clusters):
    probes = {"ha": [probe("n1.a", "10.0.1.1", False)],  # n2.a did not answer
              "hb": None}  # the whole gnt-cluster command failed on b
    clusters["hb"]["version"] = "3.1.1"
    pairs = report(tmp_path, clusters, probes, [("ha", "web1", 0), ("hb", "web1", 2)])

    out = pairs[("a.example", "b.example")]
    assert out["closed"] == [{"node": "n1.a", "ip": "10.0.1.1", "open": False}] and out["unresolved"] == ["web1"]
    assert "0/1 node connections open on port 47001" in out["report"]
    assert "n1.a cannot connect to n1.b (10.0.1.1) on port 47001: open TCP ports above 1024 from a.example's " \
           "nodes to b.example's nodes" in out["report"]
    assert "1 of the connections from a.example to b.example could not be tried (see gnt-cluster command on " \
           "a.example)" in out["report"]
    assert "b.example cannot resolve web1: put it in DNS or in /etc/hosts of b.example's master (Ganeti's name " \
           "check needs it; Ganeti 3.0 and 3.1.0~rc2 resolve the source name even with name_check: false, " \
           "ganeti#1841)" in out["report"]
    back = pairs[("b.example", "a.example")]
    assert back["ready"] is False and "0/0 node connections open on port 47001" in back["report"]
    assert "2 of the connections from b.example to a.example could not be tried (see gnt-cluster command on " \
           "b.example)" in back["report"]


def test_nodes_without_socat_or_debian_impexpd_and_ipv6_addresses(tmp_path, clusters):
    clusters["ha"]["socat"] = [{"node": "n1.a", "socat": "", "stock_name": 1},  # no socat
                               {"node": "n2.a", "socat": "1.7.4.4", "stock_name": -1}]  # no impexpd there
    clusters["hb"]["ips"] = {"n1.b": "fd00::1"}
    clusters["hb"]["socat"] = []  # b's nodes did not answer
    probes = {"ha": [probe("n1.a", "fd00::1", True), probe("n2.a", "fd00::1", True)],
              "hb": [probe("n1.b", "10.0.0.1", True), probe("n1.b", "10.0.0.2", True)]}
    pairs = report(tmp_path, clusters, probes, [])

    out = pairs[("a.example", "b.example")]
    assert out["socat_defect"] == [] and out["ready"] is False
    assert "2/2 node connections open on port 47001" in out["report"]
    assert "no socat on n1.a: Ganeti's import and export daemons need it (apt-get install socat)" in out["report"]
    assert "no impexpd at /usr/share/ganeti/default/ganeti/impexpd on n2.a (not a Debian package of Ganeti?): the " \
           "socat defect is not checked there" in out["report"]
    back = pairs[("b.example", "a.example")]
    assert back["ready"] is False
    assert "1 of the 1 nodes of b.example did not answer gnt-cluster command: their socat and impexpd are not " \
           "checked" in back["report"]
