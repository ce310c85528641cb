# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Many moves in one playbook run with forks, and the shipped playbook: every instance and option accounted for."""

import json
import os
import re

from conftest import ROOT, connection

COUNT = int(os.environ.get("LOAD_MOVES", "20"))


def test_twenty_moves_with_forks(runner, instances, cluster_a, cluster_b):
    names = [instances.create(cluster_a) for dummy in range(COUNT)]
    sums = dict((name, cluster_a.disk_md5(name)) for name in names)
    inventory = "[ganeti_instances]\n%s\n\n[ganeti_instances:vars]\nansible_connection=local\n" % "\n".join(names)
    group_vars = runner.tmp / "group_vars.yml"
    group_vars.write_text('{"ganeti_source": %s, "ganeti_destination": %s}' % (
        str(connection(cluster_a)).replace("'", '"'), str(connection(cluster_b)).replace("'", '"')))
    book = os.path.join(ROOT, "playbooks", "move_instances.yml")
    result = runner.run_file(book, inventory, ["-f", "10", "-e", "@%s" % group_vars])
    assert result.rc == 0, result
    # the playbook's own summary counts every instance as moved, none failed
    assert re.search(r'"moved": "?%d"?' % COUNT, result.stdout), result
    assert re.search(r'"failed": "?0"?', result.stdout), result
    on_a, on_b = cluster_a.instances(), cluster_b.instances()
    for name in names:
        assert name not in on_a, name
        assert on_b[name]["status"] == "running", name
        assert cluster_b.disk_md5(name) == sums[name], name


def test_shipped_playbook_summarises_and_fails_when_a_move_fails(runner, instances, cluster_a, cluster_b):
    names = [instances.create(cluster_a) for dummy in range(2)]
    already = instances.create(cluster_b)  # only on the destination: "already there"
    ghost = instances.name("ghost")  # on neither cluster: that move fails
    hosts = names + [already, ghost]
    inventory = "[ganeti_instances]\n%s\n\n[ganeti_instances:vars]\nansible_connection=local\n" % "\n".join(hosts)
    group_vars = runner.tmp / "group_vars.yml"
    group_vars.write_text('{"ganeti_source": %s, "ganeti_destination": %s}' % (
        str(connection(cluster_a)).replace("'", '"'), str(connection(cluster_b)).replace("'", '"')))
    result = runner.run_file(os.path.join(ROOT, "playbooks", "move_instances.yml"), inventory,
                             ["-f", "4", "-e", "@%s" % group_vars])
    assert result.rc != 0, result
    assert re.search(r'"moved": "?2"?', result.stdout), result
    assert re.search(r'"already_there": "?1"?', result.stdout), result
    assert re.search(r'"failed": "?1"?', result.stdout), result
    assert "%s: FAILED: " % ghost in result.stdout and "exists on neither cluster" in result.stdout
    assert "1 move(s) failed" in result.stdout
    on_b = cluster_b.instances()
    assert all(name in on_b for name in names) and not any(name in cluster_a.instances() for name in names)


def test_shipped_playbook_passes_every_option_per_group_and_per_host(runner, instances, cluster_a, cluster_b):
    plain, tuned, misspelt = [instances.create(cluster_a) for dummy in range(3)]
    mac = "aa:00:00:5e:78:%02x" % (os.getpid() % 256)
    inventory = {"ganeti_instances": {
        "hosts": {
            plain: {},
            tuned: {"ganeti_instance_options": {"nics": [{"mac": mac}], "beparams": {"vcpus": 2}}},
            misspelt: {"ganeti_instance_options": {"nic": [{"mac": mac}]}},
        },
        "vars": {"ansible_connection": "local", "ganeti_source": connection(cluster_a),
                 "ganeti_destination": connection(cluster_b),
                 # null means "not set" (secondary_node would otherwise need a primary_node)
                 "ganeti_move_options": {"beparams": {"maxmem": 256}, "iallocator": "hail", "secondary_node": None}},
    }}
    result = runner.run_file(os.path.join(ROOT, "playbooks", "move_instances.yml"), json.dumps(inventory),
                             ["-f", "3"], inventory_file="inventory.json")

    assert result.rc != 0, result
    assert re.search(r'"moved": "?2"?', result.stdout) and re.search(r'"failed": "?1"?', result.stdout), result
    assert "%s: FAILED: unknown option(s) nic in ganeti_move_options or ganeti_instance_options" % misspelt \
        in result.stdout
    assert misspelt in cluster_a.instances() and misspelt not in cluster_b.instances()
    # the group's options reach every move, the host's are merged over them key by key
    assert cluster_b.instance_field(plain, "be/maxmem") == "256M"
    assert cluster_b.instance_field(plain, "be/vcpus") == "1"
    assert cluster_b.instance_field(tuned, "be/maxmem") == "256M"
    assert cluster_b.instance_field(tuned, "be/vcpus") == "2"
    assert cluster_b.instance_field(tuned, "nic.mac/0") == mac
    assert cluster_b.instance_field(plain, "nic.mac/0") != mac
    assert cluster_b.instance_field(plain, "pnode") == cluster_b.node  # placed by the group's iallocator
