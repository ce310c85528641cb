# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every example of the module's documentation and every move example of the guides, run as written against the
lab: only the names (clusters, nodes, instances, bridge) and the paths (password file, certificates) are replaced by
the lab's."""

import ast
import json
import os
import re
import textwrap

import yaml

from conftest import LAB_DIR, ROOT, connection, save_task

MODULE_FILE = os.path.join(ROOT, "plugins", "modules", "ganeti_move_instance.py")
GUIDES = [os.path.join(ROOT, "docs", "docsite", "rst", name)
          for name in ("getting_started.rst", "move_instance_comparison.rst", "awx.rst")]
MODULE = "ganeti.rapi.ganeti_move_instance"
INSTANCES = ("web1", "db1", "app1", "app2")


def examples():
    """The module's EXAMPLES, parsed."""
    with open(MODULE_FILE) as handle:
        tree = ast.parse(handle.read())
    text = next(node.value.value for node in tree.body if isinstance(node, ast.Assign)
                and [target.id for target in node.targets] == ["EXAMPLES"])
    return yaml.safe_load(text)


def guide_examples():
    """The YAML examples of the guides that run the module: (where, parsed), in the guides' order."""
    found = []
    for path in GUIDES:
        with open(path) as handle:
            text = handle.read()
        # a code-block directive, its options, a blank line, then the indented block
        for match in re.finditer(r"^\.\. code-block:: yaml\S*\n(?:[ ]+:.*\n)*\n((?:[ ]+.*\n|\n)+)", text, re.M):
            if MODULE in match.group(1):
                where = "%s:%d" % (os.path.basename(path), text[:match.start()].count("\n") + 1)
                found.append((where, yaml.safe_load(textwrap.dedent(match.group(1)))))
    return found


def lab_side(side, clusters):
    """An example's source/destination with the lab's address, port, password file and certificate."""
    cluster = clusters[side["host"]]
    mapped = dict(side, host="127.0.0.1", port=cluster.port, ca_path=cluster.ca_file)
    if "username" in side:
        mapped["username"] = "lab"  # the lab's RAPI user with write access
    if "password_file" in side:
        mapped["password_file"] = os.path.join(LAB_DIR, "rapi-password")
    return mapped


def for_the_lab(value, names, clusters):
    """``value`` with every example name replaced by the lab's and every connection by the lab's."""
    if isinstance(value, dict):
        if value.get("host") in clusters:
            return lab_side(value, clusters)
        return dict((key, for_the_lab(item, names, clusters)) for key, item in value.items())
    if isinstance(value, list):
        return [for_the_lab(item, names, clusters) for item in value]
    if isinstance(value, str):
        for old, new in names.items():
            value = value.replace(old, new)
    return value


def test_every_example_of_the_module_runs_on_the_lab(runner, instances, cluster_a, cluster_b):
    made = dict((short, instances.create(cluster_a, size="16M", prefix=short)) for short in INSTANCES)
    renamed = instances.name("db1-new")
    by_async = [instances.create(cluster_a, size="16M", prefix="async") for _copy in range(2)]
    by_inventory = [instances.create(cluster_a, size="16M", prefix="inv") for _copy in range(2)]
    before = dict((name, cluster_a.disk_md5(name)) for name in list(made.values()) + by_async + by_inventory)
    names = dict(("%s.example.org" % short, name) for short, name in made.items())
    names.update({"db1-new.example.org": renamed, "node3.cluster-b.example.org": cluster_b.node, "br-new": "br0"})
    clusters = {"cluster-a.example.org": cluster_a, "cluster-b.example.org": cluster_b}
    with open(os.path.join(LAB_DIR, "rapi-password")) as handle:
        password = handle.read().strip()

    tasks = for_the_lab(examples(), names, clusters)
    assert not any("example.org" in json.dumps(task) for task in tasks), tasks
    per_host = [task for task in tasks if "inventory_hostname" in json.dumps(task)]
    on_localhost = [task for task in tasks if task not in per_host]
    assert len(per_host) == 1 and len(on_localhost) == 6
    saved = []
    for number, task in enumerate(on_localhost):
        if "block" not in task:
            task.setdefault("register", "example%d" % number)
            saved.append(save_task(task["register"]))
    common = {"ganeti_source": connection(cluster_a), "ganeti_destination": connection(cluster_b)}
    plays = [
        {"hosts": "localhost", "gather_facts": False, "tasks": on_localhost + saved,
         "vars": dict(common, instances_to_move=by_async, vault_rapi_password=password)},
        {"hosts": "to_move", "gather_facts": False, "tasks": per_host, "vars": common},
    ]
    inventory = "localhost ansible_connection=local\n[to_move]\n%s\n" % "\n".join(by_inventory)
    result = runner.playbook(plays, inventory=inventory, args=["-f", "8"])
    assert result.rc == 0, result
    assert password not in result.output

    on_a, on_b = cluster_a.instances(), cluster_b.instances()
    # The plain move, the module_defaults loop, the async loop and the per-host task: moved, bytes unchanged.
    for name in [made["web1"], made["app1"], made["app2"]] + by_async + by_inventory:
        assert name not in on_a and on_b[name]["status"] == "running", name
        assert cluster_b.disk_md5(name) == before[name], name
    # The rename onto a chosen node, keeping the source, with new memory and a new NIC.
    db1 = made["db1"]
    assert on_a[db1]["status"] == "running" and db1 not in on_b
    assert on_b[renamed]["pnode"] == cluster_b.node
    assert cluster_b.gnt("gnt-instance", "list", "--no-headers", "--units=m", "-o", "be/maxmem",
                         renamed).stdout.strip() == "2048"
    assert cluster_b.instance_field(renamed, "nic.links") == "br0"
    assert cluster_b.disk_md5(renamed) == before[db1]
    # The async example's wait saw every move finish; the check-mode preflight ran after web1 had moved.
    finished = result.registered[on_localhost[4]["register"]]["results"]
    assert [item["state"] for item in finished] == ["moved", "moved"]
    preflight = result.registered[on_localhost[5]["register"]]
    assert (preflight["state"], preflight["changed"]) == ("already_moved", False)


def test_every_move_example_of_the_guides_runs_on_the_lab(runner, instances, cluster_a, cluster_b, tmp_path):
    """Each guide example in a play of its own, with instances of its own; all plays in one ansible-playbook run."""
    # A third cluster is the lab's cluster b: the example still replaces the whole default destination.
    clusters = {"cluster-a.example.org": cluster_a, "cluster-b.example.org": cluster_b,
                "cluster-c.example.org": cluster_b}
    plays, expected, before = [], {}, {}
    found = guide_examples()
    assert [where.split(":")[0] for where, _example in found] == [
        "getting_started.rst", "getting_started.rst", "getting_started.rst", "move_instance_comparison.rst"], found
    for where, example in found:
        # instance names: web1.example.org, web1-new.example.org (not cluster-a.example.org)
        shorts = sorted(set(re.findall(r"(?<![\w-])([a-z0-9]+(?:-new)?)\.example\.org", json.dumps(example))))
        names = {}
        for short in shorts:
            if short.endswith("-new"):
                names["%s.example.org" % short] = instances.name(short)
            else:
                names["%s.example.org" % short] = instances.create(cluster_a, size="16M", prefix=short)
        for old, new in names.items():
            if not old.endswith("-new.example.org"):
                before[new] = cluster_a.disk_md5(new)
                renamed = old.replace(".example.org", "-new.example.org")
                expected[new] = names.get(renamed, new)
        mapped = for_the_lab(example, names, clusters)
        assert "example.org" not in json.dumps(mapped), (where, mapped)
        if "hosts" not in mapped[0]:  # a list of tasks
            mapped = [{"name": where, "hosts": "localhost", "gather_facts": False, "tasks": mapped}]
        plays += mapped
    extra = tmp_path / "connections.json"  # "as in the inventory example above, from group_vars, vars_files"
    extra.write_text(json.dumps({"ganeti_source": connection(cluster_a), "ganeti_destination": connection(cluster_b)}))
    result = runner.playbook(plays, inventory="localhost ansible_connection=local\n", args=["-e", "@%s" % extra])
    assert result.rc == 0, result

    on_a, on_b = cluster_a.instances(), cluster_b.instances()
    assert len(expected) == 8, expected  # web1; app1, app2, app3; app1, app2, db1; web1 as web1-new
    for name, there in expected.items():
        assert name not in on_a and on_b[there]["status"] == "running", (name, there)
        assert cluster_b.disk_md5(there) == before[name], (name, there)
