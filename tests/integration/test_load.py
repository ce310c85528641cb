# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Many moves in one playbook run with forks, and the shipped playbook (the role move_instances): every instance
and option accounted for, bad options refused per host, the variable names of 0.1.0, the wave's record."""

import json
import os
import re
import stat

from conftest import ROOT, connection

COUNT = int(os.environ.get("LOAD_MOVES", "20"))
BOOK = os.path.join(ROOT, "playbooks", "move_instances.yml")


def _inventory(hosts, **group_vars):
    """A YAML (JSON) inventory of the group ganeti_instances: ``hosts`` is {name: host vars}."""
    group_vars["ansible_connection"] = "local"
    return json.dumps({"ganeti_instances": {"hosts": hosts, "vars": group_vars}})


def _run(runner, hosts, args=(), **group_vars):
    return runner.run_file(BOOK, _inventory(hosts, **group_vars), list(args), inventory_file="inventory.json")


def _touched(cluster, name):
    """Jobs of the cluster that name the instance (Ganeti's job summaries read e.g. INSTANCE_CREATE(name))."""
    return [job for job in cluster.jobs() if "(%s)" % name in job[2]]


def test_twenty_moves_with_forks(runner, instances, cluster_a, cluster_b):
    names = [instances.create(cluster_a) for dummy in range(COUNT)]
    sums = dict((name, cluster_a.disk_md5(name)) for name in names)
    result = _run(runner, dict((name, {}) for name in names), ["-f", "10"],
                  move_instances_source=connection(cluster_a), move_instances_destination=connection(cluster_b))
    assert result.rc == 0, result
    # the role's summary counts every instance as moved, none failed
    assert re.search(r'"moved": "?%d"?' % COUNT, result.stdout), result
    assert re.search(r'"failed": "?0"?', result.stdout), result
    on_a, on_b = cluster_a.instances(), cluster_b.instances()
    for name in names:
        assert name not in on_a, name
        assert on_b[name]["status"] == "running", name
        assert cluster_b.disk_md5(name) == sums[name], name


def test_the_variable_names_of_0_1_0_still_work(runner, instances, cluster_a, cluster_b):
    """An inventory written for 0.1.0 (ganeti_source, ganeti_move_options, ganeti_instance_options,
    ganeti_destination_name) moves as before; the summary counts and fails the play when a move fails."""
    plain, renamed = [instances.create(cluster_a) for dummy in range(2)]
    new_name = instances.name("renamed")
    already = instances.create(cluster_b)  # only on the destination: "already there"
    ghost = instances.name("ghost")  # on neither cluster: that move fails
    hosts = {plain: {}, renamed: {"ganeti_destination_name": new_name,
                                  "ganeti_instance_options": {"beparams": {"vcpus": 2}}},
             already: {}, ghost: {}}
    result = _run(runner, hosts, ["-f", "4"], ganeti_source=connection(cluster_a),
                  ganeti_destination=connection(cluster_b), ganeti_move_options={"beparams": {"maxmem": 256}})

    assert result.rc != 0, result
    assert re.search(r'"moved": "?2"?', result.stdout), result
    assert re.search(r'"already_there": "?1"?', result.stdout), result
    assert re.search(r'"failed": "?1"?', result.stdout), result
    assert "%s: FAILED: " % ghost in result.stdout and "exists on neither cluster" in result.stdout
    assert "%s: moved (" % plain in result.stdout and "%s: already_moved (" % already in result.stdout
    assert "1 move(s) failed; see above" in result.stdout
    on_a, on_b = cluster_a.instances(), cluster_b.instances()
    assert plain in on_b and new_name in on_b and renamed not in on_b
    assert not {plain, renamed} & set(on_a)
    assert cluster_b.instance_field(plain, "be/maxmem") == "256M"
    assert cluster_b.instance_field(new_name, "be/maxmem") == "256M"
    assert cluster_b.instance_field(new_name, "be/vcpus") == "2"
    assert cluster_b.instance_field(plain, "be/vcpus") == "1"


def test_every_option_per_wave_and_per_host_and_a_bad_host_fails_alone(runner, instances, cluster_a, cluster_b):
    plain, tuned, misspelt = [instances.create(cluster_a) for dummy in range(3)]
    mac = "aa:00:00:5e:78:%02x" % (os.getpid() % 256)
    jobs_a, jobs_b = len(cluster_a.jobs()), len(cluster_b.jobs())
    touched = _touched(cluster_a, misspelt), _touched(cluster_b, misspelt)  # its creation
    hosts = {
        plain: {},
        tuned: {"move_instances_instance_options": {"nics": [{"mac": mac}], "beparams": {"vcpus": 2}}},
        misspelt: {"move_instances_instance_options": {"nic": [{"mac": mac}]}},
    }
    result = _run(runner, hosts, ["-f", "3"], move_instances_source=connection(cluster_a),
                  move_instances_destination=connection(cluster_b),
                  # null means "not set" (secondary_node would otherwise need a primary_node)
                  move_instances_options={"beparams": {"maxmem": 256}, "iallocator": "hail", "secondary_node": None})

    assert result.rc != 0, result
    # Ansible's role argument validation refuses the host's misspelt option, naming it and the valid ones, and
    # fails that host only
    assert re.search(r"move_instances_instance_options\.nic\. Supported parameters include: .*\bnics\b",
                     result.stdout), result
    assert re.search(r"fatal: \[%s\]: FAILED!" % re.escape(misspelt), result.stdout), result
    assert not re.search(r"fatal: \[(%s|%s)\]:" % (re.escape(plain), re.escape(tuned)), result.stdout), result
    assert re.search(r'"moved": "?2"?', result.stdout) and re.search(r'"failed": "?1"?', result.stdout), result
    assert "%s: FAILED: failed before the move" % misspelt in result.stdout
    # the play's statistics: the refused host, and only it, failed
    for host, failed in ((plain, 0), (tuned, 0), (misspelt, 1)):
        assert re.search(r"^%s +: .* failed=%d " % (re.escape(host), failed), result.stdout, re.M), result
    # nothing touched for the refused host, on either cluster
    on_a = cluster_a.instances()
    assert on_a[misspelt]["status"] == "running" and misspelt not in cluster_b.instances()
    assert (_touched(cluster_a, misspelt), _touched(cluster_b, misspelt)) == touched
    assert len(cluster_a.jobs()) > jobs_a and len(cluster_b.jobs()) > jobs_b  # the others' moves did run
    # the wave's options reach every move, the host's are merged over them key by key
    assert cluster_b.instance_field(plain, "be/maxmem") == "256M"
    assert cluster_b.instance_field(plain, "be/vcpus") == "1"
    assert cluster_b.instance_field(tuned, "be/maxmem") == "256M"
    assert cluster_b.instance_field(tuned, "be/vcpus") == "2"
    assert cluster_b.instance_field(tuned, "nic.mac/0") == mac
    assert cluster_b.instance_field(plain, "nic.mac/0") != mac
    assert cluster_b.instance_field(plain, "pnode") == cluster_b.node  # placed by the wave's iallocator


def test_the_wave_leaves_a_record(runner, instances, cluster_a, cluster_b, tmp_path):
    moving = instances.create(cluster_a)
    already = instances.create(cluster_b)
    ghost = instances.name("ghost")
    record = tmp_path / "records" / "wave1"
    record.parent.mkdir()
    hosts = {moving: {}, already: {}, ghost: {}}
    result = _run(runner, hosts, ["-f", "3"], move_instances_source=connection(cluster_a),
                  move_instances_destination=connection(cluster_b), move_instances_record_path=str(record),
                  move_instances_fail_on_error=False)

    # the failure is recorded and shown, but does not fail the play
    assert result.rc == 0, result
    assert "%s: FAILED: " % ghost in result.stdout and "move(s) failed" not in result.stdout
    assert moving in cluster_b.instances() and moving not in cluster_a.instances()

    rows = json.loads(record.with_suffix(".json").read_text())
    assert [row["host"] for row in rows] == [moving, already, ghost]  # inventory order
    by_host = dict((row["host"], row) for row in rows)
    assert all(set(row) == {"host", "instance", "outcome", "state", "msg", "duration", "jobs"} for row in rows)
    assert (by_host[moving]["outcome"], by_host[moving]["state"]) == ("moved", "moved")
    assert by_host[moving]["instance"] == moving and "moved to" in by_host[moving]["msg"]
    assert by_host[moving]["duration"] > 0
    operations = [(job["side"], job["operation"], job["status"]) for job in by_host[moving]["jobs"]]
    assert ("destination", "create", "success") in operations and ("source", "export", "success") in operations
    assert (by_host[already]["outcome"], by_host[already]["state"]) == ("already_moved", "already_moved")
    assert by_host[ghost]["outcome"] == "failed" and by_host[ghost]["state"] is None
    assert "exists on neither cluster" in by_host[ghost]["msg"]

    table = record.with_suffix(".md").read_text().splitlines()
    assert table[0] == "# Ganeti moves: 1 moved, 1 already there, 1 failed"
    assert "| Instance | Host | Outcome | State | Duration (s) | Jobs | Message |" in table
    lines = dict((line.split(" | ")[1], line) for line in table if line.startswith("| ") and ".test" in line)
    assert set(lines) == {moving, already, ghost}
    assert lines[moving].startswith("| %s | %s | moved | moved | " % (moving, moving))
    assert "destination" in lines[moving] and "create success" in lines[moving]
    assert lines[ghost].startswith("| %s | %s | failed |  | " % (ghost, ghost))
    assert "exists on neither cluster" in lines[ghost]
    for suffix in (".json", ".md"):
        assert stat.S_IMODE(os.stat(str(record.with_suffix(suffix))).st_mode) == 0o644
