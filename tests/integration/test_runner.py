# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A wave run as AWX runs a job: ansible-runner's Python interface (private data directory, inventory, extra
vars, environment) on the playbook ganeti.rapi.move_instances, the connection coming only from the environment
and files the shipped AWX credential types inject. Checked: runner's status, events and stats, and both
clusters."""

import json
import os
import shutil
import sys
import tempfile

import ansible_runner
import yaml

from conftest import BIN, COLLECTIONS, LAB_DIR, ROOT

sys.path.insert(0, os.path.join(ROOT, "tests", "unit", "extensions"))
from awx_injection import awx_inject  # noqa: E402  (a plain file shared with the unit tests)

CREDENTIAL_TYPES = os.path.join(ROOT, "extensions", "awx", "credential_types.yml")
MODULE = "ganeti.rapi.ganeti_move_instance"


def inject(type_name, inputs, private_data_dir):
    """The environment of a job with a credential of the shipped type ``type_name``, its files written into
    ``private_data_dir``/env as AWX writes them (the unit tests check the rendering against AWX's rules)."""
    with open(CREDENTIAL_TYPES) as handle:
        item = next(t for t in yaml.safe_load(handle)["credential_types"] if t["name"] == type_name)
    return awx_inject(item, inputs, private_data_dir)


def cluster_inputs(cluster, password):
    with open(cluster.ca_file) as handle:
        return {"host": "127.0.0.1", "port": str(cluster.port), "username": "lab", "password": password,
                "ca_certificate": handle.read()}


def test_a_wave_through_ansible_runner(instances, cluster_a, cluster_b):
    moved = [instances.create(cluster_a, size="16M"), instances.create(cluster_a, size="16M", start=False)]
    ghost = instances.name("ghost")  # in DNS, on neither cluster
    before = dict((name, cluster_a.disk_md5(name)) for name in moved)
    with open(os.path.join(LAB_DIR, "rapi-password")) as handle:
        password = handle.read().strip()

    # A private data directory of its own, removed at the end: runner keeps the job's whole environment in its
    # artifacts, and the credential files live in env/ as in an AWX job.
    pdd = tempfile.mkdtemp(prefix="ganeti-runner-")
    try:
        os.mkdir(os.path.join(pdd, "env"))
        envvars = inject("Ganeti RAPI source", cluster_inputs(cluster_a, password), pdd)
        envvars.update(inject("Ganeti RAPI destination", cluster_inputs(cluster_b, password), pdd))
        envvars.update({
            "PATH": BIN + os.pathsep + os.environ.get("PATH", ""),  # runner runs the first ansible-playbook on PATH
            "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        })
        inventory = {"all": {"children": {"ganeti_instances": {
            # Nothing of the connection in the inventory: the credentials' environment variables give all of it.
            "hosts": dict((name, {}) for name in moved + [ghost]),
        }}}}
        result = ansible_runner.run(private_data_dir=pdd, playbook="ganeti.rapi.move_instances",
                                    inventory=inventory, envvars=envvars, forks=3, quiet=True, timeout=900)
        events = list(result.events)
        stdout = result.stdout.read()
        stats = result.stats
        artifacts = result.config.artifact_dir
        with open(os.path.join(artifacts, "command")) as handle:
            command = handle.read()
    finally:
        shutil.rmtree(pdd)
    assert artifacts.startswith(pdd + os.sep)

    # The wave failed, for the one host that failed; the others are moved.
    assert (result.status, result.rc) == ("failed", 2), stdout[-4000:]
    moves = dict((e["event_data"]["host"], e) for e in events
                 if e["event"] in ("runner_on_ok", "runner_on_failed")
                 and e["event_data"].get("resolved_action", e["event_data"].get("task_action")) == MODULE)
    assert sorted(moves) == sorted(moved + [ghost])
    for name in moved:
        assert moves[name]["event"] == "runner_on_ok"
        res = moves[name]["event_data"]["res"]
        assert (res["state"], res["changed"]) == ("moved", True), res
    failure = moves[ghost]
    failure_task = failure["event_data"]["task"]
    assert failure["event"] == "runner_on_failed"
    assert "instance %s exists on neither cluster" % ghost in failure["event_data"]["res"]["msg"]

    # The summary, once on the controller after every move (run_once: runner files it under the first host):
    # one line per instance; then the failed instance fails on its own host, naming the count.
    summary = [e for e in events if e["event"] == "runner_item_on_ok"
               and e["event_data"]["task"] == "Show what happened to each instance"]
    lines = [e["event_data"]["res"]["msg"] for e in summary]
    assert len(lines) == 3, lines
    for name in moved:
        assert ["%s: moved (%s moved to %s" % (name, name, cluster_b.name) in line for line in lines].count(True) == 1
    assert [line.startswith("%s: FAILED: " % ghost) and "instance %s exists on neither cluster" % ghost in line
            for line in lines].count(True) == 1, lines
    last = [e for e in events if e["event"] == "runner_on_failed" and e["event_data"]["task"] != failure_task]
    assert [e["event_data"]["host"] for e in last] == [ghost]
    assert last[0]["event_data"]["res"]["msg"].startswith("1 move(s) failed; see above. This one: ")
    assert "instance %s exists on neither cluster" % ghost in last[0]["event_data"]["res"]["msg"]

    # Runner's stats per host (what AWX shows as the job's host summary, and what "Relaunch on failed hosts"
    # relaunches): the moves changed; the ghost, and only the ghost, failed.
    assert stats["dark"] == {}
    assert stats["failures"] == {ghost: 1}
    assert stats["rescued"] == {ghost: 1}
    assert set(stats["changed"]) == set(moved)
    assert set(stats["processed"]) == set(moved + [ghost])

    # No password in what runner records.
    assert password not in stdout and password not in json.dumps(events) and password not in command

    # The clusters: each instance on b only, running as before (one was stopped), same disk bytes.
    on_a, on_b = cluster_a.instances(), cluster_b.instances()
    for name in moved:
        assert name not in on_a and name in on_b
        assert cluster_b.disk_md5(name) == before[name]
    assert on_b[moved[0]]["status"] == "running"
    assert on_b[moved[1]]["admin_state"] == "down"
    assert ghost not in on_a and ghost not in on_b
