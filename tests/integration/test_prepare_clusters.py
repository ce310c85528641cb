# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The role ganeti.rapi.prepare_clusters, over SSH on the masters of an unprepared lab (LAB_PREPARED=0).

An unprepared lab is what fresh clusters are: each has the domain secret its init made, the RAPI users file holds
a read-only user only, and no machine has the RAPI certificates. The tests run in order: the role in check mode,
the role, the role again, a move with what the role made, then a given secret installed one cluster at a time.
"""

import hashlib
import os
import secrets

import pytest

from conftest import LAB_DIR, Cluster, connection, move_task, play, read_env
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


def secret_digest(cluster):
    out = cluster.gnt("sha256sum", "/var/lib/ganeti/cluster-domain-secret").stdout
    return out.split()[0]


def users_file(cluster):
    return cluster.gnt("cat", "/var/lib/ganeti/rapi/users").stdout


def prepare(runner, certificate_dir, args=(), serial=None, **variables):
    role_vars = {"prepare_clusters_rapi_user": USER, "prepare_clusters_rapi_password": PASSWORD,
                 "prepare_clusters_certificate_dir": str(certificate_dir)}
    role_vars.update(variables)
    item = {"hosts": "ganeti_masters", "gather_facts": False,
            "roles": [{"role": "ganeti.rapi.prepare_clusters", "vars": role_vars}]}
    if serial:
        item["serial"] = serial
    with open(os.path.join(LAB_DIR, "masters.yml")) as handle:
        inventory = handle.read()
    return runner.playbook([item], inventory=inventory, inventory_name="masters.yml", args=args)


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


def test_check_mode_changes_nothing(runner, clusters, certificate_dir):
    a, b = clusters
    before = [(secret_digest(c), users_file(c)) for c in clusters]

    result = prepare(runner, certificate_dir, args=["--check", "--diff"])

    assert result.rc == 0, result
    changed = recap_changed(result.output)
    assert changed[a.name] > 0 and changed[b.name] > 0, result  # reported, not made
    assert "renew-crypto restarts this cluster's Ganeti daemons" in result.output
    assert [(secret_digest(c), users_file(c)) for c in clusters] == before
    assert list(certificate_dir.iterdir()) == []
    assert PASSWORD not in result.output


def test_the_role_makes_the_clusters_move_ready(runner, clusters, certificate_dir):
    a, b = clusters
    result = prepare(runner, certificate_dir, args=["-vvvv"])

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


def test_a_second_run_changes_nothing(runner, clusters, certificate_dir):
    result = prepare(runner, certificate_dir)
    assert result.rc == 0, result
    assert set(recap_changed(result.output).values()) == {0}, result


def test_a_move_with_what_the_role_made(runner, instances, clusters, certificate_dir, tmp_path):
    a, b = clusters
    source, destination = (b, a) if b.version == "3.1" else (a, b)  # stock socat: 3.0 cannot export (ganeti#1681)
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


def test_a_given_secret_one_cluster_at_a_time(runner, clusters, certificate_dir, tmp_path):
    given = tmp_path / "cds"
    given.write_text(secrets.token_hex(32) + "\n")
    os.chmod(str(given), 0o600)

    result = prepare(runner, certificate_dir, serial=1, prepare_clusters_domain_secret_file=str(given))

    assert result.rc == 0, result
    digest = hashlib.sha256(given.read_bytes()).hexdigest()
    assert [secret_digest(c) for c in clusters] == [digest, digest]
    assert given.read_text().strip() not in result.output
