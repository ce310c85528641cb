# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A disk transfer that fails after the destination started listening.

Runs only on a lab brought up with LAB_FIX_SOCAT_CN=0 (stock Ganeti 3.0.2
socat call, run.sh's third phase): the export fails on socat's name check,
while Ganeti's import job "succeeds" and starts an instance with an empty
disk.  The module must call that a failure, remove the empty copy and start
the source instance again.
"""

import pytest

from conftest import connection, move_task, play, read_env

pytestmark = pytest.mark.stock_socat


@pytest.fixture(autouse=True)
def needs_stock_socat(lab_env):
    if read_env().get("LAB_FIX_SOCAT_CN") != "0":
        pytest.skip("lab runs with its socat fix; run.sh's third phase uses LAB_FIX_SOCAT_CN=0")


@pytest.mark.parametrize("cleanup", [True, False])
def test_failed_transfer_leaves_one_good_copy(runner, instances, cluster_a, cluster_b, cleanup):
    name = instances.create(cluster_a)
    before = cluster_a.disk_md5(name)

    result = runner.playbook(play(move_task(name, connection(cluster_a), connection(cluster_b), cleanup=cleanup)))
    move = result.registered["move"]

    assert move["failed"] is True, result
    assert move["changed"] is True  # it created, shut down, started and (with cleanup) removed
    assert move["side"] == "source" and move["step"] == "export"
    assert move["job_id"] in [j["id"] for j in move["jobs"] if j["operation"] == "export"]
    assert "commonName does not match" in move["msg"] or "disk" in move["msg"]
    assert "Fix:" in move["msg"]
    # the source copy is intact and running again
    on_a = cluster_a.instances()[name]
    assert on_a["status"] == "running", on_a
    assert cluster_a.disk_md5(name) == before
    assert any("started the source instance" in line for line in move["recovery"])
    if cleanup:
        assert name not in cluster_b.instances()
        assert any("removed the incomplete destination instance" in line for line in move["recovery"])
    else:
        assert name in cluster_b.instances()
        assert any("kept the incomplete destination instance" in line and "gnt-instance remove" in line
                   for line in move["recovery"])
        assert "kept the incomplete destination instance" in move["msg"]
