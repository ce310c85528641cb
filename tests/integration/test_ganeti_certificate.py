# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TLS with Ganeti's own self-signed rapi.pem (X509 v1, CN ganeti.example.com).

Runs only on a lab brought up with LAB_RAPI_CERT=ganeti (tests/integration/run.sh
does that in its second phase): the certificate's name matches no host, so
only pinning the exact certificate makes verification pass.
"""

import pytest

from conftest import connection, move_task, play, read_env

pytestmark = pytest.mark.ganeti_cert


@pytest.fixture(autouse=True)
def needs_ganeti_certificate(lab_env):
    if read_env().get("LAB_RAPI_CERT") != "ganeti":
        pytest.skip("lab runs with its own certificates; run.sh's second phase uses LAB_RAPI_CERT=ganeti")


def certificate_subject(cluster):
    import subprocess
    return subprocess.run(["openssl", "x509", "-noout", "-subject", "-in", cluster.ca_file], capture_output=True,
                          text=True, check=True).stdout


def test_pinned_ganeti_certificate_moves(runner, instances, cluster_a, cluster_b):
    assert "ganeti.example.com" in certificate_subject(cluster_a)
    name = instances.create(cluster_a)
    before = cluster_a.disk_md5(name)
    result = runner.playbook(play(move_task(name, connection(cluster_a), connection(cluster_b))))
    move = result.registered["move"]
    assert move.get("failed") is not True, result
    assert move["source"]["tls"] == "pinned" and move["destination"]["tls"] == "pinned"
    assert name in cluster_b.instances() and name not in cluster_a.instances()
    assert cluster_b.disk_md5(name) == before


def test_other_clusters_certificate_is_rejected(runner, instances, cluster_a, cluster_b):
    name = instances.create(cluster_a)
    jobs = cluster_a.job_count()
    result = runner.playbook(play(move_task(name, connection(cluster_a, ca_path=cluster_b.ca_file),
                                            connection(cluster_b))))
    move = result.registered["move"]
    assert move["failed"] is True and move["side"] == "source"
    assert "TLS verification" in move["msg"] and cluster_b.ca_file in move["msg"]
    assert cluster_a.job_count() == jobs and name in cluster_a.instances()


def test_no_ca_path_with_self_signed_certificate_is_rejected(runner, instances, cluster_a, cluster_b):
    name = instances.create(cluster_a)
    source = connection(cluster_a)
    del source["ca_path"]
    result = runner.playbook(play(move_task(name, source, connection(cluster_b))))
    move = result.registered["move"]
    assert move["failed"] is True and move["side"] == "source"
    assert "self-signed" in move["msg"] and "ca_path" in move["msg"]
    assert name in cluster_a.instances() and name not in cluster_b.instances()
