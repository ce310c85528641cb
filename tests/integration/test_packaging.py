# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The built collection installs into an empty collections path and its module runs from there."""

import os
import subprocess
import tarfile

from conftest import BIN, ROOT, connection, move_task, play


def test_built_tarball_installs_and_runs(runner, instances, cluster_a, cluster_b, tmp_path):
    out = tmp_path / "dist"
    built = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(out),
                            ROOT], capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stderr
    tarball = next(out.glob("ganeti-rapi-*.tar.gz"))
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert "plugins/modules/ganeti_move_instance.py" in names
    assert {"meta/runtime.yml", "playbooks/move_instances.yml", "meta/execution-environment.yml",
            "meta/ee-requirements.txt", "meta/ee-bindep.txt", "extensions/awx/credential_types.yml",
            "examples/execution-environment/execution-environment.yml", "docs/docsite/rst/awx.rst"} <= set(names), names
    assert not [n for n in names if n.startswith((".venv", "build/", "tests/output", ".git/"))], names

    target = tmp_path / "collections"
    installed = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "-p", str(target),
                                str(tarball)], capture_output=True, text=True, check=False)
    assert installed.returncode == 0, installed.stderr
    home = target / "ansible_collections" / "ganeti" / "rapi"
    assert (home / "plugins" / "modules" / "ganeti_move_instance.py").is_file()

    env = {"ANSIBLE_COLLECTIONS_PATH": str(target)}
    doc = subprocess.run([os.path.join(BIN, "ansible-doc"), "ganeti.rapi.ganeti_move_instance"],
                         capture_output=True, text=True, env=runner.env(env), check=False)
    assert doc.returncode == 0 and str(home) in doc.stdout

    name = instances.create(cluster_a)
    result = runner.playbook(play(move_task(name, connection(cluster_a), connection(cluster_b))), args=["--check"],
                             env=env)
    move = result.registered["move"]
    assert move.get("failed") is not True, result
    assert move["state"] == "would_move"
    assert name in cluster_a.instances() and name not in cluster_b.instances()
