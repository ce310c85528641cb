# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real moves between the lab's two Ganeti 3.0.2 clusters, driven by ansible-playbook."""

import json
import os

from conftest import LAB_DIR, connection, move_task, play, save_task


def test_plain_move_preserves_disk_bytes_and_rerun_is_unchanged(runner, instances, cluster_a, cluster_b):
    name = instances.create(cluster_a)
    before = cluster_a.disk_md5(name)
    jobs_b = cluster_b.job_count()
    logs = [(cluster, cluster.rapi_log_size()) for cluster in (cluster_a, cluster_b)]

    result = runner.playbook(play(move_task(name, connection(cluster_a), connection(cluster_b))))
    move = result.registered["move"]
    assert move.get("failed") is not True, result
    assert move["changed"] is True and move["state"] == "moved"

    assert name not in cluster_a.instances()
    on_b = cluster_b.instances()[name]
    assert on_b["status"] == "running" and on_b["pnode"] in cluster_b.nodes
    assert cluster_b.disk_md5(name) == before
    assert move["instance"]["cluster"] == cluster_b.name
    assert move["instance"]["disk_template"] == "file"
    # four jobs: prepare-export, instance info, export on A; create on B
    assert [(j["side"], j["operation"], j["status"]) for j in move["jobs"]] == [
        ("source", "prepare-export", "success"), ("source", "instance-info", "success"),
        ("destination", "create", "success"), ("source", "export", "success")]
    assert cluster_b.job_count() == jobs_b + 1
    assert [s["name"] for s in move["steps"]] == ["preflight", "prepare", "create", "export", "import", "verify"]
    assert move["source"]["tls"] == "pinned" and move["destination"]["tls"] == "pinned"

    again = runner.playbook(play(move_task(name, connection(cluster_a), connection(cluster_b))))
    second = again.registered["move"]
    assert second.get("failed") is not True, again
    assert second["changed"] is False and second["state"] == "already_moved"
    assert "already on the destination" in second["msg"]
    assert cluster_b.job_count() == jobs_b + 1  # the re-run submitted nothing
    assert cluster_b.disk_md5(name) == before
    # Neither RAPI daemon logged a failed connection for these runs (the certificate probe included).
    assert [(cluster.key, cluster.rapi_connection_errors(size)) for cluster, size in logs] == [
        (cluster.key, []) for cluster, _size in logs]


def test_a_bundle_of_both_clusters_certificates_pins_each(runner, instances, cluster_a, cluster_b):
    # One ca_path for both sides, as an operator keeps it: the client finds which certificate each server has.
    bundle = os.path.join(LAB_DIR, "rapi-ca-bundle.pem")
    name = instances.create(cluster_a)
    before = cluster_a.disk_md5(name)
    logs = [(cluster, cluster.rapi_log_size()) for cluster in (cluster_a, cluster_b)]

    result = runner.playbook(play(move_task(name, connection(cluster_a, ca_path=bundle),
                                            connection(cluster_b, ca_path=bundle))))
    move = result.registered["move"]
    assert move.get("failed") is not True, result
    assert move["source"]["tls"] == "pinned" and move["destination"]["tls"] == "pinned"
    assert name in cluster_b.instances() and name not in cluster_a.instances()
    assert cluster_b.disk_md5(name) == before
    assert [(cluster.key, cluster.rapi_connection_errors(size)) for cluster, size in logs] == [
        (cluster.key, []) for cluster, _size in logs]


def test_rename_with_explicit_primary_node_and_module_defaults(runner, instances, cluster_a, cluster_b):
    name = instances.create(cluster_a)
    new_name = instances.name("renamed")
    before = cluster_a.disk_md5(name)

    # connection settings from module_defaults of the action group, not from the task; the task's timeout
    # keyword (Ansible's) bounds the move's own deadline (the module's option)
    task = {"name": "move", "ganeti.rapi.ganeti_move_instance": {
        "name": name, "destination_name": new_name, "primary_node": cluster_b.node, "timeout": 3600},
        "timeout": 300, "register": "move", "ignore_errors": True}
    defaults = {"group/ganeti.rapi.ganeti": {"source": connection(cluster_a), "destination": connection(cluster_b)}}
    result = runner.playbook(play([task, save_task("move")], module_defaults=defaults))
    move = result.registered["move"]
    assert move.get("failed") is not True, result
    assert "the move's deadline is 290 s" in " ".join(result.output.split()), result
    assert move["instance"]["name"] == new_name
    assert name not in cluster_a.instances()
    assert name not in cluster_b.instances()
    assert cluster_b.instances()[new_name]["pnode"] == cluster_b.node
    assert cluster_b.disk_md5(new_name) == before


def test_keep_source_leaves_both_copies(runner, instances, cluster_a, cluster_b):
    name = instances.create(cluster_a)
    before = cluster_a.disk_md5(name)

    result = runner.playbook(play(move_task(name, connection(cluster_a), connection(cluster_b), keep_source=True,
                                            start=False)))
    move = result.registered["move"]
    assert move.get("failed") is not True, result
    assert move["changed"] is True
    on_a = cluster_a.instances()[name]
    assert on_a["admin_state"] == "up" and on_a["status"] == "running"  # started again after the copy
    assert cluster_b.instances()[name]["admin_state"] == "down"  # start: false
    assert cluster_a.disk_md5(name) == before
    assert cluster_b.disk_md5(name) == before

    again = runner.playbook(play(move_task(name, connection(cluster_a), connection(cluster_b), keep_source=True)))
    assert again.registered["move"]["changed"] is False
    assert again.registered["move"]["state"] == "already_copied"
    assert again.registered["move"]["evidence"] == "jobs"

    refused = runner.playbook(play(move_task(name, connection(cluster_a), connection(cluster_b))))
    failed = refused.registered["move"]
    assert failed["failed"] is True and failed["side"] == "both"
    # the earlier move is recognised as a keep_source copy, and nothing is touched
    assert name in failed["msg"] and "with keep_source" in failed["msg"] and "keep_source: true" in failed["msg"]
    assert failed["jobs"] == [] and failed["changed"] is False
    assert name in cluster_a.instances() and name in cluster_b.instances()


def test_nic_and_parameter_overrides_reach_the_destination(runner, instances, cluster_a, cluster_b):
    name = instances.create(cluster_a)
    mac = "aa:00:00:5e:77:%02x" % (os.getpid() % 256)
    result = runner.playbook(play(move_task(
        name, connection(cluster_a), connection(cluster_b),
        beparams={"maxmem": 256, "minmem": 192, "vcpus": 2},
        nics=[{"mac": mac}],
    )))
    move = result.registered["move"]
    assert move.get("failed") is not True, result
    assert cluster_b.instance_field(name, "nic.mac/0") == mac
    assert cluster_b.instance_field(name, "be/maxmem") == "256M"
    assert cluster_b.instance_field(name, "be/minmem") == "192M"
    assert cluster_b.instance_field(name, "be/vcpus") == "2"


def test_parameter_ganeti_refuses_is_refused_before_any_job(runner, instances, cluster_a, cluster_b):
    # The fake hypervisor's only parameter is cluster-wide in Ganeti; unknown
    # backend parameters are refused as well, both before anything runs.
    name = instances.create(cluster_a)
    jobs = (cluster_a.job_count(), cluster_b.job_count())
    for options, words in (({"hvparams": {"migration_mode": "non-live"}}, "whole destination cluster"),
                           ({"beparams": {"maxmemory": 256}}, "unknown parameter(s) maxmemory")):
        result = runner.playbook(play(move_task(name, connection(cluster_a), connection(cluster_b), **options)))
        move = result.registered["move"]
        assert move["failed"] is True and move["step"] == "preflight", result
        assert words in move["msg"]
        assert move["jobs"] == []
    assert (cluster_a.job_count(), cluster_b.job_count()) == jobs
    assert cluster_a.instances()[name]["status"] == "running" and name not in cluster_b.instances()


def test_check_mode_touches_nothing(runner, instances, cluster_a, cluster_b):
    name = instances.create(cluster_a)
    jobs = (cluster_a.job_count(), cluster_b.job_count())
    lists = (cluster_a.instances(), cluster_b.instances())

    result = runner.playbook(play(move_task(name, connection(cluster_a), connection(cluster_b))),
                             args=["--check", "--diff"])
    move = result.registered["move"]
    assert move.get("failed") is not True, result
    assert move["changed"] is True and move["state"] == "would_move"
    assert move["jobs"] == []
    assert (cluster_a.job_count(), cluster_b.job_count()) == jobs
    assert (cluster_a.instances(), cluster_b.instances()) == lists
    # both sides by the clusters' own names, never the address typed
    assert (move["diff"]["before"]["cluster"], move["diff"]["before"]["instance"]) == (cluster_a.name, name)
    assert (move["diff"]["after"]["cluster"], move["diff"]["after"]["instance"]) == (cluster_b.name, name)

    missing = runner.playbook(play(move_task("nope-%s" % name, connection(cluster_a), connection(cluster_b))),
                              args=["--check"])
    assert missing.registered["move"]["failed"] is True
    assert "exists on neither cluster" in missing.registered["move"]["msg"]


def test_parallel_moves_with_async_loop(runner, instances, cluster_a, cluster_b, tmp_path):
    """async on the controller: each move a process of its own, followed with async_status; no module runs."""
    names = [instances.create(cluster_a) for dummy in range(3)]
    ghost = instances.name("ghost")  # resolvable, but exists nowhere: that move must fail
    sums = dict((n, cluster_a.disk_md5(n)) for n in names)
    jobs_dir = tmp_path / "async-jobs"
    password = open(os.path.join(LAB_DIR, "rapi-password")).read().strip()
    destination = dict(connection(cluster_b), password=password)  # a no_log option, handed to the detached move
    del destination["password_file"]
    tasks = [
        {"name": "start moves", "ganeti.rapi.ganeti_move_instance": {
            "name": "{{ item }}", "source": connection(cluster_a), "destination": destination},
         "loop": names + [ghost], "async": 900, "poll": 0, "register": "started"},
        {"name": "wait", "ansible.builtin.async_status": {"jid": "{{ item.ansible_job_id }}"},
         "loop": "{{ started.results }}", "register": "finished", "until": "finished.finished",
         "retries": 300, "delay": 2, "ignore_errors": True},
        save_task("finished"),
        {"name": "clean up", "ansible.builtin.async_status": {"jid": "{{ item.ansible_job_id }}", "mode": "cleanup"},
         "loop": "{{ started.results }}"},
    ]
    result = runner.playbook(play(tasks), args=["-vvv"],
                             env={"ANSIBLE_ASYNC_DIR": str(jobs_dir), "ANSIBLE_INJECT_INVOCATION": "true"})
    assert result.rc == 0, result
    assert "AnsiballZ_ganeti_move_instance" not in result.output  # the moves ran on the controller, no module
    finished = result.registered["finished"]["results"]
    assert [r.get("state") for r in finished[:3]] == ["moved"] * 3
    assert finished[3]["failed"] is True and "exists on neither cluster" in finished[3]["msg"]
    # the deadline falls 10 s before async ends, so the move can still cancel and report its jobs
    assert [r["invocation"]["module_args"]["timeout"] for r in finished] == [890] * 4
    assert password not in result.output and password not in json.dumps(finished)
    assert list(jobs_dir.iterdir()) == []  # async_status's cleanup removed every job file
    on_b = cluster_b.instances()
    for name in names:
        assert name in on_b and name not in cluster_a.instances()
        assert cluster_b.disk_md5(name) == sums[name]
    assert ghost not in on_b


def test_the_module_path_with_become_plain_and_under_async(runner, instances, cluster_a, cluster_b, tmp_path):
    """become makes the action run the module (as the become user); with async it runs under async_wrapper."""
    names = [instances.create(cluster_a) for dummy in range(2)]
    sums = dict((n, cluster_a.disk_md5(n)) for n in names)
    move = {"source": connection(cluster_a), "destination": connection(cluster_b), "timeout": 900}
    tasks = [
        {"name": "plain", "ganeti.rapi.ganeti_move_instance": dict(move, name=names[0]), "register": "plain"},
        {"name": "async", "ganeti.rapi.ganeti_move_instance": dict(move, name=names[1]), "register": "polled",
         "async": 300, "poll": 2},
        save_task("plain"), save_task("polled"),
    ]
    result = runner.playbook(play(tasks, become=True, become_method="su"), args=["-vvv"],
                             env={"ANSIBLE_ASYNC_DIR": str(tmp_path / "async-jobs")})
    assert result.rc == 0, result
    assert result.output.count("AnsiballZ_ganeti_move_instance.py") >= 2  # the module ran, both times
    assert "async_wrapper.py" in result.output  # under Ansible's async_wrapper
    plain, polled = result.registered["plain"], result.registered["polled"]
    assert (plain["state"], polled["state"]) == ("moved", "moved")
    # within async less 10 s, so the move can still cancel and report its jobs; asked for more, so a warning (the
    # task without async keeps its 900 s: no other warning)
    said = " ".join(result.output.split())  # ansible-core 2.16 wraps warnings at 80 columns
    assert "async (300 s) ends the task before the timeout option (900 s): the move's deadline is 290 s" in said
    assert said.count("the move's deadline is") == 1
    for name in names:
        assert name in cluster_b.instances() and name not in cluster_a.instances()
        assert cluster_b.disk_md5(name) == sums[name]


def test_inventory_driven_moves_with_forks_and_one_failure(runner, instances, cluster_a, cluster_b):
    names = [instances.create(cluster_a) for dummy in range(3)]
    sums = dict((n, cluster_a.disk_md5(n)) for n in names)
    ghost = instances.name("ghost")  # resolvable, but exists nowhere: that move must fail
    inventory = "[to_move]\n%s\n\n[to_move:vars]\nansible_connection=local\n" % "\n".join(names + [ghost])
    tasks = [
        {"name": "move", "ganeti.rapi.ganeti_move_instance": {
            "name": "{{ inventory_hostname }}", "source": connection(cluster_a),
            "destination": connection(cluster_b)},
         "delegate_to": "localhost", "register": "move"},
        {"name": "save", "ansible.builtin.copy": {"content": "{{ move | to_json }}",
                                                  "dest": "@RESULTS@/{{ inventory_hostname }}.json"},
         "delegate_to": "localhost"},
    ]
    result = runner.playbook(play(tasks, hosts="to_move"), inventory=inventory, args=["-f", "4"])
    assert result.rc != 0, result  # one move failed: the run must say so
    assert "exists on neither cluster" in result.output
    on_b = cluster_b.instances()
    for name in names:
        assert result.registered[name]["state"] == "moved"
        assert name in on_b and cluster_b.disk_md5(name) == sums[name]
        assert name not in cluster_a.instances()
    assert ghost not in on_b


def test_adhoc_command_with_environment_credentials(runner, instances, cluster_a, cluster_b):
    name = instances.create(cluster_a)
    before = cluster_a.disk_md5(name)
    with open(os.path.join(LAB_DIR, "rapi-password")) as handle:
        password = handle.read().strip()
    args = "name=%s source=%s destination=%s" % (
        name, json.dumps({"host": "127.0.0.1", "port": cluster_a.port, "ca_path": cluster_a.ca_file}).replace(" ", ""),
        json.dumps({"host": "127.0.0.1", "port": cluster_b.port, "ca_path": cluster_b.ca_file}).replace(" ", ""))
    result = runner.adhoc(args, env={"GANETI_USERNAME": "lab", "GANETI_PASSWORD": password}, args=["-v"])
    assert result.rc == 0, result
    assert "CHANGED" in result.stdout
    assert password not in result.output
    assert name in cluster_b.instances() and name not in cluster_a.instances()
    assert cluster_b.disk_md5(name) == before


def test_wrong_ca_is_rejected_and_changes_nothing(runner, instances, cluster_a, cluster_b):
    name = instances.create(cluster_a)
    jobs = cluster_a.job_count()
    result = runner.playbook(play(move_task(name, connection(cluster_a, ca_path=cluster_b.ca_file),
                                            connection(cluster_b))))
    move = result.registered["move"]
    assert move["failed"] is True
    assert move["side"] == "source" and "TLS verification" in move["msg"] and "ca_path" in move["msg"]
    assert cluster_a.job_count() == jobs
    assert name in cluster_a.instances() and name not in cluster_b.instances()
