# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory plugin ganeti.rapi.instances on the lab: what ansible-inventory shows, and a wave selected by
tag moved by the shipped playbook ganeti.rapi.move_instances from that inventory."""

import json
import os
import re
import subprocess

from conftest import BIN, LAB_DIR, connection

GRAPH_LINE = re.compile(r"^(?P<indent>(?:  |\|  )*)(?:\|--)?(?P<name>\S.*)$")


def inventory_file(tmp_path, cluster, name="lab.ganeti.yml", **options):
    """An inventory file for ``cluster``; the credentials come from the environment (see credentials_env)."""
    config = {"plugin": "ganeti.rapi.instances", "host": "127.0.0.1", "port": cluster.port,
              "ca_path": cluster.ca_file}
    config.update(options)
    path = tmp_path / name
    path.write_text(json.dumps(config, indent=1))  # JSON is YAML
    return str(path)


def credentials_env():
    return {"GANETI_USERNAME": "lab", "GANETI_SOURCE_PASSWORD_FILE": os.path.join(LAB_DIR, "rapi-password"),
            "GANETI_SOURCE_USERNAME": "", "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "true"}


def graph(runner, path):
    """{group: set of hosts directly in it} from ansible-inventory --graph (all and ungrouped left out)."""
    proc = subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", path, "--graph"], capture_output=True,
                          text=True, env=runner.env(credentials_env()), timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    groups = {}
    stack = []
    for line in proc.stdout.splitlines():
        match = GRAPH_LINE.match(line)
        assert match, line
        depth = len(match.group("indent")) // 3
        name = match.group("name")
        del stack[depth:]
        if name.startswith("@"):
            group = name[1:].rstrip(":")
            groups.setdefault(group, set())
            stack.append(group)
        else:
            groups[stack[-1]].add(name)
    return dict((group, hosts) for group, hosts in groups.items() if group not in ("all", "ungrouped")), proc


def unwrap(value):
    """ansible-inventory of ansible-core 2.16 prints unsafe strings as {"__ansible_unsafe": text}."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return dict((key, unwrap(item)) for key, item in value.items())
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value


def tagged(cluster, tag):
    """The instances the cluster lists with ``tag``."""
    out = cluster.gnt("gnt-instance", "list", "--no-headers", "--separator=|", "-o", "name,tags").stdout
    return set(line.split("|")[0] for line in out.splitlines() if tag in line.split("|")[1].split(","))


def test_graph_shows_the_cluster_instances_and_a_tagged_wave_moves(runner, instances, cluster_a, cluster_b, tmp_path):
    web = instances.create(cluster_a, options=["--tag", "wave:3", "--tag", "role:web"])
    db = instances.create(cluster_a, options=["--tag", "wave:3"])
    later = instances.create(cluster_a, start=False, options=["--tag", "wave:4"])
    before = dict((name, cluster_a.disk_md5(name)) for name in (web, db, later))

    path = inventory_file(tmp_path, cluster_a,
                          keyed_groups=[{"key": "ganeti_primary_node", "prefix": "node"}],
                          groups={"stopped": "ganeti_status != 'running'"})
    groups, proc = graph(runner, path)
    on_a = cluster_a.instances()
    assert groups["ganeti_instances"] == set(on_a), proc.stdout
    assert groups["wave_3"] == tagged(cluster_a, "wave:3") and {web, db} <= groups["wave_3"]
    assert later in groups["wave_4"] and later not in groups["wave_3"]
    assert web in groups["role_web"] and db not in groups["role_web"]
    assert groups["stopped"] == set(name for name, row in on_a.items() if row["status"] != "running")
    assert later in groups["stopped"]
    for node in cluster_a.nodes:
        group = "node_" + re.sub(r"\W", "_", node)
        assert groups.get(group, set()) == set(name for name, row in on_a.items() if row["pnode"] == node)
    # hosts of other clusters, or no host at all, would have made it this far only through a wrong listing
    assert set().union(*groups.values()) == set(on_a)

    # an instance's facts, as the cluster has them (Ganeti's own listing, and the lab's only hypervisor)
    proc = subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", path, "--host", web], capture_output=True,
                          text=True, env=runner.env(credentials_env()), timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    facts = unwrap(json.loads(proc.stdout))
    assert (facts["ganeti_cluster"], facts["ganeti_hypervisor"]) == (cluster_a.name, "fake"), facts
    assert (facts["ganeti_primary_node"], facts["ganeti_status"]) == (on_a[web]["pnode"], "running"), facts
    assert facts["ganeti_tag_values"] == {"role": ["web"], "wave": ["3"]}, facts

    filtered = inventory_file(tmp_path, cluster_a, name="wave3.ganeti.yml", filters={"tags": ["wave:3"]})
    groups3, _proc = graph(runner, filtered)
    assert groups3["ganeti_instances"] == tagged(cluster_a, "wave:3")

    extra = tmp_path / "clusters.json"
    extra.write_text(json.dumps({"move_instances_source": connection(cluster_a),
                                 "move_instances_destination": connection(cluster_b),
                                 "move_instances_hosts": "wave_3"}))
    with open(path) as handle:
        config = handle.read()
    moved = runner.run_file("ganeti.rapi.move_instances", config, args=["-e", "@%s" % extra, "-f", "2"],
                            env=credentials_env(), inventory_file="lab.ganeti.yml")
    assert moved.rc == 0, moved

    on_a, on_b = cluster_a.instances(), cluster_b.instances()
    for name in (web, db):
        assert name not in on_a
        assert on_b[name]["status"] == "running"
        assert cluster_b.disk_md5(name) == before[name]
    assert on_a[later]["admin_state"] == "down" and later not in on_b
    assert cluster_a.disk_md5(later) == before[later]
    assert "wave:3" in cluster_b.instance_field(web, "tags")
