# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The role ganeti.rapi.prepare_clusters, over SSH on the masters of an unprepared lab (LAB_PREPARED=0).

An unprepared lab is what fresh clusters are: each has the domain secret its init made, the RAPI users file holds
a read-only user only, and no machine has the RAPI certificates. The tests run in order: the checks flagging
what is missing, the role in check mode, the role, the role again, moves with what the role made (out of Ganeti
3.0 thanks to the socat certificate-name fix), the checks finding a blocked port, a given secret installed one
cluster at a time, then the fix reverted and refused on a file it does not know.
"""

import hashlib
import json
import os
import secrets
import subprocess

import pytest
import yaml

from conftest import BIN, LAB_DIR, Cluster, connection, move_task, play, read_env
from conftest import lab as lab_sh

pytestmark = pytest.mark.unprepared

USER = "mover"
PASSWORD = "pw-" + secrets.token_hex(8)


@pytest.fixture(scope="module")
def lab(lab_env):
    env = read_env()
    if env.get("LAB_PREPARED") != "0":
        pytest.skip("needs a lab brought up with LAB_PREPARED=0 (run.sh's unprepared phase)")
    return env


@pytest.fixture(scope="module")
def clusters(lab):
    return Cluster("a", lab), Cluster("b", lab)


@pytest.fixture(scope="module")
def certificate_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("certificates")


IMPEXPD = "/usr/share/ganeti/3.0/ganeti/impexpd/__init__.py"
BACKUP = IMPEXPD + ".ganeti-rapi-orig"
STOCK_IMPEXPD = "fab727d58732434236f263e56eb90a2a2773a33f7797aa47b4da3da1e04b3c82"  # Ganeti 3.0.2, bookworm
FIX = {"prepare_clusters_fix_socat_commonname": True}


def node_keys(cluster):
    """lab.sh's names of the cluster's nodes: a, a2."""
    return [cluster.key + ("" if i == 0 else str(i + 1)) for i in range(len(cluster.nodes))]


def impexpd_files(cluster):
    """{node key: {path: sha256}} of impexpd and its backup on each node of a 3.0 cluster."""
    files = {}
    for key in node_keys(cluster):
        out = lab_sh("gnt", key, "sh", "-c", "sha256sum %s %s 2>/dev/null; true" % (IMPEXPD, BACKUP)).stdout
        files[key] = {row.split()[1]: row.split()[0] for row in out.splitlines()}
    return files


def old_clusters(clusters):
    """The clusters on Ganeti 3.0, the ones with the socat defect."""
    return [cluster for cluster in clusters if cluster.version == "3.0"]


def stock(cluster):
    return {key: {IMPEXPD: STOCK_IMPEXPD} for key in node_keys(cluster)}


def secret_digest(cluster):
    out = cluster.gnt("sha256sum", "/var/lib/ganeti/cluster-domain-secret").stdout
    return out.split()[0]


def users_file(cluster):
    return cluster.gnt("cat", "/var/lib/ganeti/rapi/users").stdout


def prepare(runner, certificate_dir, args=(), serial=None, vault=False, inventory=None, **variables):
    """The shipped playbook, as the getting-started guide runs it (-e @prepare.yml); with serial, a play of the role."""
    role_vars = {"prepare_clusters_rapi_user": USER, "prepare_clusters_rapi_password": PASSWORD,
                 "prepare_clusters_certificate_dir": str(certificate_dir)}
    role_vars.update(variables)
    if inventory is None:
        with open(os.path.join(LAB_DIR, "masters.yml")) as handle:
            inventory = handle.read()
    if serial:
        item = {"hosts": "ganeti_masters", "gather_facts": False, "serial": serial,
                "roles": [{"role": "ganeti.rapi.prepare_clusters", "vars": role_vars}]}
        return runner.playbook([item], inventory=inventory, inventory_name="masters.yml", args=args)
    extra = runner.tmp / ("prepare%d.yml" % (runner.count + 1))
    extra.write_text(json.dumps(role_vars))
    if vault:  # as the guide says: the variables file encrypted with Ansible Vault
        vault_password = runner.tmp / "vault-password"
        vault_password.write_text(secrets.token_hex(8) + "\n")
        subprocess.run([os.path.join(BIN, "ansible-vault"), "encrypt", "--vault-password-file", str(vault_password),
                        str(extra)], check=True, capture_output=True, env=runner.env())
        assert PASSWORD not in extra.read_text()
        args = ["--vault-password-file", str(vault_password)] + list(args)
    return runner.run_file("ganeti.rapi.prepare_clusters", inventory, args=["-e", "@%s" % extra] + list(args),
                           inventory_file="masters.yml")


def recap_changed(output):
    """{host: changed count} from the PLAY RECAP."""
    counts = {}
    for line in output.splitlines():
        if " : ok=" in line and "changed=" in line:
            host = line.split()[0]
            counts[host] = int(line.split("changed=")[1].split()[0])
    return counts


def test_an_unprepared_lab_cannot_move(runner, instances, clusters):
    a, b = clusters
    assert secret_digest(a) != secret_digest(b)
    assert " write" not in users_file(a) and " write" not in users_file(b)
    name = instances.create(b)
    read_only = {"username": "labro", "password_file": os.path.join(LAB_DIR, "rapi-ro-password")}
    result = runner.playbook(play(move_task(name, connection(b, **read_only), connection(a, **read_only))))
    move = result.registered["move"]
    assert move["failed"] is True and move["jobs"] == [] and "write" in move["msg"], move


def test_the_checks_flag_the_socat_defect_of_ganeti_3_0(runner, clusters, certificate_dir):
    a, b = clusters
    result = prepare(runner, certificate_dir, args=["--check"], prepare_clusters_instance_names=[a.name])

    assert result.rc != 0, result
    out = result.output
    defects = [line for line in out.splitlines() if "ganeti#1681 on " in line]
    assert len(defects) == len(old_clusters(clusters)), result  # once per pair that starts on 3.0
    blocked = []
    for source, destination in ((a, b), (b, a)):
        pair = "%s (Ganeti %s) -> %s (Ganeti %s)" % (
            source.name, source.ganeti_version, destination.name, destination.ganeti_version)
        if source.version == "3.0":
            blocked.append("%s -> %s" % (source.name, destination.name))
            assert pair + ": NOT READY" in out, result
            defect = [line for line in defects if "upgrade %s to Ganeti 3.1" % source.name in line]
            assert len(defect) == 1 and ": Ganeti 3.0.2 exports tell socat (1.7.3 or later) to expect the name " \
                "ganeti.example.com" in defect[0], result
            assert sorted(defect[0].split("ganeti#1681 on ")[1].split(":")[0].split(", ")) == sorted(source.nodes)
            assert "Fix: prepare_clusters_fix_socat_commonname: true, or upgrade %s" % source.name in defect[0]
        else:
            assert pair + ": ready" in out, result
    assert "%d/%d node connections open on port 47001" % ((len(a.nodes) * len(b.nodes),) * 2) in out
    assert "not ready for moves: %s (see each pair's report above)" % ", ".join(blocked) in out
    for old in old_clusters(clusters):
        assert impexpd_files(old) == stock(old)


def test_check_mode_changes_nothing(runner, clusters, certificate_dir):
    a, b = clusters
    before = [(secret_digest(c), users_file(c)) for c in clusters]

    result = prepare(runner, certificate_dir, args=["--check", "--diff"], **FIX)

    assert result.rc == 0, result
    changed = recap_changed(result.output)
    assert changed[a.name] > 0 and changed[b.name] > 0, result  # reported, not made
    assert "renew-crypto restarts this cluster's Ganeti daemons" in result.output
    assert [(secret_digest(c), users_file(c)) for c in clusters] == before
    assert list(certificate_dir.iterdir()) == []
    assert PASSWORD not in result.output
    assert '+        addr2 += ["openssl-commonname=%s" % expected_cn]' in result.output  # the fix's diff
    assert "check mode, prepare_clusters_fix_socat_commonname would fix it" in result.output
    for old in old_clusters(clusters):
        assert impexpd_files(old) == stock(old)


def test_the_role_makes_the_clusters_move_ready(runner, clusters, certificate_dir):
    a, b = clusters
    result = prepare(runner, certificate_dir, args=["-vvvv"], vault=True, **FIX)

    assert result.rc == 0, result
    assert secret_digest(a) == secret_digest(b)
    for cluster in clusters:
        line = [row for row in users_file(cluster).splitlines() if row.startswith(USER + " ")]
        ha1 = hashlib.md5(("%s:Ganeti Remote API:%s" % (USER, PASSWORD)).encode()).hexdigest()
        assert line == ["%s {HA1}%s write" % (USER, ha1)]
        assert "labro " in users_file(cluster)  # the other user is left alone
        pem = (certificate_dir / ("%s.pem" % cluster.name)).read_text()
        assert pem.startswith("-----BEGIN CERTIFICATE-----") and "PRIVATE KEY" not in pem
        assert pem.strip() == cluster.gnt("openssl", "x509", "-in", "/var/lib/ganeti/rapi.pem").stdout.strip()
    # no secret, password or private key passed through Ansible's output, even at -vvvv
    shared = a.gnt("cat", "/var/lib/ganeti/cluster-domain-secret").stdout.strip()
    assert shared not in result.output and PASSWORD not in result.output
    assert "PRIVATE KEY" not in result.output
    # the second node has the users file too (a new master needs it)
    for cluster in clusters:
        if len(cluster.nodes) > 1:
            assert USER + " {HA1}" in lab_sh("gnt", cluster.key + "2", "cat", "/var/lib/ganeti/rapi/users").stdout
    # the socat fix: the same changed impexpd on every node of the 3.0 cluster, the original kept beside it
    for old in old_clusters(clusters):
        files = impexpd_files(old)
        fixed = files[old.key][IMPEXPD]
        assert fixed != STOCK_IMPEXPD and files == {key: {IMPEXPD: fixed, BACKUP: STOCK_IMPEXPD} for key in files}
        assert "expected_cn" in old.gnt("cat", IMPEXPD).stdout
    with open(IMPEXPD, "rb") as handle:  # the lab's nodes have their own copy: the host's is Ganeti's
        assert hashlib.sha256(handle.read()).hexdigest() == STOCK_IMPEXPD
    for source, destination in ((a, b), (b, a)):
        pair = (source.name, source.ganeti_version, destination.name, destination.ganeti_version)
        assert "%s (Ganeti %s) -> %s (Ganeti %s): ready" % pair in result.output, result


def test_a_second_run_changes_nothing(runner, clusters, certificate_dir):
    # variables from the command line arrive as strings: "true", "a,b"
    names = ",".join(cluster.name for cluster in clusters)
    result = prepare(runner, certificate_dir, args=["-e", "prepare_clusters_fix_socat_commonname=true",
                                                    "-e", "prepare_clusters_instance_names=" + names])
    assert result.rc == 0, result
    assert set(recap_changed(result.output).values()) == {0}, result
    assert "2/2 instance names resolved on" in result.output and "NOT READY" not in result.output
    assert "TASK [ganeti.rapi.prepare_clusters : Read impexpd on every node]" in result.output  # "true" was true


@pytest.mark.parametrize("direction", ["a_to_b", "b_to_a"])
def test_a_move_with_what_the_role_made(runner, instances, clusters, certificate_dir, tmp_path, direction):
    a, b = clusters
    source, destination = (a, b) if direction == "a_to_b" else (b, a)  # out of 3.0: only with the socat fix
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n")
    name = instances.create(source)
    before = source.disk_md5(name)

    def side(cluster):
        return {"host": "127.0.0.1", "port": cluster.port, "username": USER, "password_file": str(password_file),
                "ca_path": str(certificate_dir / ("%s.pem" % cluster.name))}

    result = runner.playbook(play(move_task(name, side(source), side(destination))))
    move = result.registered["move"]
    assert move.get("failed") is not True, result
    assert move["state"] == "moved"
    assert destination.disk_md5(name) == before and name not in source.instances()


def test_the_fix_keeps_moves_inside_the_cluster_working(instances, clusters):
    """Inside a cluster the export verifies against server.pem, whose name is still ganeti.example.com."""
    old = old_clusters(clusters)[0]
    if len(old.nodes) < 2:
        pytest.skip("needs a 3.0 cluster of two nodes")
    name = instances.create(old, options=["--node", old.nodes[0]])
    before = old.disk_md5(name)
    old.gnt("gnt-instance", "move", "-f", "-n", old.nodes[1], name)
    assert old.instances()[name]["pnode"] == old.nodes[1] and old.disk_md5(name) == before


def test_the_checks_find_a_blocked_port_and_an_unresolved_name(runner, clusters, certificate_dir):
    a, b = clusters
    blocked_node, blocked_ip = b.nodes[-1], read_env()["GNT_B_NODE_IPS"].split(",")[-1]
    lab_sh("gnt", "a", "ip", "route", "add", "prohibit", blocked_ip + "/32")  # a firewall on node1 of A
    try:
        result = prepare(runner, certificate_dir, prepare_clusters_instance_names=["no-such-vm.invalid", a.name],
                         **FIX)
    finally:
        lab_sh("gnt", "a", "ip", "route", "del", "prohibit", blocked_ip + "/32")

    assert result.rc != 0, result
    out = result.output
    assert "%s cannot connect to %s (%s) on port 47001: open TCP ports above 1024 from %s's nodes to %s's nodes" \
        % (a.node, blocked_node, blocked_ip, a.name, b.name) in out, result
    assert "%d/%d node connections open" % (len(a.nodes) * len(b.nodes) - 1, len(a.nodes) * len(b.nodes)) in out
    for source, destination in ((a, b), (b, a)):
        name = destination.name
        assert "%s cannot resolve no-such-vm.invalid: put it in DNS or in /etc/hosts of %s's master" % (name, name) \
            in out
        assert "1/2 instance names resolved on %s" % destination.name in out
    assert "not ready for moves: %s -> %s, %s -> %s" % (a.name, b.name, b.name, a.name) in out
    # the listeners are gone from every node
    for cluster in clusters:
        for key in node_keys(cluster):
            assert "-LISTEN:47001" not in lab_sh("gnt", key, "ps", "-eo", "args").stdout


def test_a_given_secret_one_cluster_at_a_time(runner, clusters, certificate_dir, tmp_path):
    given = tmp_path / "cds"
    given.write_text(secrets.token_hex(32) + "\n")
    os.chmod(str(given), 0o600)

    result = prepare(runner, certificate_dir, serial=1, prepare_clusters_domain_secret_file=str(given), **FIX)

    assert result.rc == 0, result
    digest = hashlib.sha256(given.read_bytes()).hexdigest()
    assert [secret_digest(c) for c in clusters] == [digest, digest]
    assert given.read_text().strip() not in result.output


def test_the_secret_most_clusters_share_wins(runner, clusters, certificate_dir):
    """Three masters, two of which share a secret: the third gets theirs, read from one of them; no new one."""
    a, b = clusters
    b.gnt("gnt-cluster", "renew-crypto", "-f", "--new-cluster-domain-secret")
    shared, alone = secret_digest(a), secret_digest(b)
    assert shared != alone
    with open(os.path.join(LAB_DIR, "masters.yml")) as handle:
        inventory = yaml.safe_load(handle)
    hosts = inventory["ganeti_masters"]["hosts"]
    hosts = {a.name: hosts[a.name], "second-name-of-" + a.name: dict(hosts[a.name]), b.name: hosts[b.name]}
    inventory["ganeti_masters"]["hosts"] = hosts  # the first two are one cluster, as two clusters sharing a secret

    result = prepare(runner, certificate_dir, inventory=yaml.safe_dump(inventory), prepare_clusters_check=False)

    assert result.rc == 0, result
    assert secret_digest(a) == shared and secret_digest(b) == shared
    changed = recap_changed(result.output)
    assert changed[a.name] == 0 and changed["second-name-of-" + a.name] == 0 and changed[b.name] > 0, result
    assert a.gnt("cat", "/var/lib/ganeti/cluster-domain-secret").stdout.strip() not in result.output


def test_the_fix_reverted(runner, clusters, certificate_dir):
    result = prepare(runner, certificate_dir, args=["--diff"], prepare_clusters_fix_socat_commonname_state="absent",
                     prepare_clusters_require_ready=False, **FIX)

    assert result.rc == 0, result
    for each in old_clusters(clusters):
        assert impexpd_files(each) == stock(each)  # the original everywhere, the backups gone
    assert "ganeti#1681 on " in result.output and "NOT READY" in result.output
    again = prepare(runner, certificate_dir, prepare_clusters_fix_socat_commonname_state="absent",
                    prepare_clusters_require_ready=False, **FIX)
    assert again.rc == 0 and set(recap_changed(again.output).values()) == {0}, again


def test_an_impexpd_the_fix_does_not_know_is_refused(runner, clusters, certificate_dir):
    old = old_clusters(clusters)[0]
    other = node_keys(old)[-1]
    lab_sh("gnt", other, "sh", "-c", "echo '# changed here' >> %s" % IMPEXPD)
    try:
        changed = impexpd_files(old)
        result = prepare(runner, certificate_dir, **FIX)

        assert result.rc != 0, result
        assert "the impexpd of %s (%s, SHA-256 %s) is not one the fix knows (Ganeti 3.0.2 (Debian bookworm" % (
            old.nodes[-1], IMPEXPD, changed[other][IMPEXPD]) in result.output, result
        assert "nothing was changed" in result.output
        assert impexpd_files(old) == changed
    finally:
        old.gnt("gnt-cluster", "copyfile", "--node=" + old.nodes[-1], IMPEXPD)
    assert impexpd_files(old) == stock(old)
