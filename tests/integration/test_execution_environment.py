# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Execution environments: what ansible-builder learns from the built collection, and the build context the
example definition gives. No lab and no container engine: ``introspect`` and ``create`` only write files, and the
galaxy and introspection steps of the Containerfile are replayed here on the context's own files."""

import ast
import os
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

from conftest import BIN, ROOT

EXAMPLE = os.path.join(ROOT, "examples", "execution-environment")
REQUESTS_LINE = "requests>=2.28  # from collection ganeti.rapi"
CA_LINE = "ca-certificates [platform:rpm platform:dpkg]  # from collection ganeti.rapi"


def run(*command, cwd=None):
    proc = subprocess.run(list(command), capture_output=True, text=True, cwd=cwd, check=False,
                          env=dict(os.environ, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false", ANSIBLE_NOCOLOR="1"))
    assert proc.returncode == 0, "%s failed (%d):\n%s\n%s" % (" ".join(command), proc.returncode, proc.stdout,
                                                              proc.stderr)
    return proc.stdout


def tool(name):
    return os.path.join(BIN, name)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The collection's tarball, as ansible-galaxy builds it from the tree."""
    out = tmp_path_factory.mktemp("dist")
    run(tool("ansible-galaxy"), "collection", "build", "--output-path", str(out), ROOT)
    return next(out.glob("ganeti-rapi-*.tar.gz"))


def version():
    with open(os.path.join(ROOT, "galaxy.yml")) as handle:
        return yaml.safe_load(handle)["version"]


def read_lines(path):
    with open(path) as handle:
        return [line.strip() for line in handle if line.strip() and not line.lstrip().startswith("#")]


def third_party_imports():
    """Top-level modules the plugins import that are neither Python's own nor Ansible's."""
    names = set()
    for folder, _dirs, files in os.walk(os.path.join(ROOT, "plugins")):
        for file_name in files:
            if not file_name.endswith(".py"):
                continue
            with open(os.path.join(folder, file_name)) as handle:
                tree = ast.parse(handle.read())
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    names.add(node.module.split(".")[0])
    return {name for name in names
            if name not in sys.stdlib_module_names and name not in ("ansible", "ansible_collections", "__future__")}


def test_ee_metadata_lists_what_the_plugins_import():
    with open(os.path.join(ROOT, "meta", "execution-environment.yml")) as handle:
        meta = yaml.safe_load(handle)
    assert meta["dependencies"] == {"python": "meta/ee-requirements.txt", "system": "meta/ee-bindep.txt"}
    python = read_lines(os.path.join(ROOT, meta["dependencies"]["python"]))
    # One requirement per third-party import (the import name is the distribution's name for all we use).
    assert sorted(line.split(">")[0].split("=")[0].split("<")[0] for line in python) == sorted(third_party_imports())
    assert python == ["requests>=2.28"]
    # bindep parses the system file and selects the CA store on this (dpkg) platform.
    listed = run(tool("bindep"), "-f", os.path.join(ROOT, meta["dependencies"]["system"]), "-l", "newline")
    assert listed.split() == ["ca-certificates"]


def test_introspect_of_the_installed_collection(built, tmp_path):
    with tarfile.open(built) as archive:
        names = archive.getnames()
    assert {"meta/execution-environment.yml", "meta/ee-requirements.txt", "meta/ee-bindep.txt",
            "examples/execution-environment/execution-environment.yml"} <= set(names)
    target = tmp_path / "collections"
    run(tool("ansible-galaxy"), "collection", "install", "-p", str(target), str(built))
    out = run(tool("ansible-builder"), "introspect", str(target))
    found = yaml.safe_load(out)
    assert found == {"python": [REQUESTS_LINE], "system": [CA_LINE]}, out


def test_example_definition_gives_a_build_context(built, tmp_path):
    with open(os.path.join(EXAMPLE, "execution-environment.yml")) as handle:
        definition = yaml.safe_load(handle)
    tarball_name = "ganeti-rapi-%s.tar.gz" % version()
    # The example names the tarball with the collection's current version, in both files.
    assert definition["additional_build_files"] == [{"src": tarball_name, "dest": "collections"}]
    with open(os.path.join(EXAMPLE, "requirements.yml")) as handle:
        assert yaml.safe_load(handle) == {"collections": [{"name": "collections/" + tarball_name, "type": "file"}]}

    # As the guide says: a copy of the example directory with the tarball built into it.
    work = tmp_path / "ee"
    shutil.copytree(EXAMPLE, work)
    shutil.copy(built, work / tarball_name)
    run(tool("ansible-builder"), "create", "--output-filename", "Containerfile", cwd=str(work))
    context = work / "context"
    assert (context / "_build" / "collections" / tarball_name).read_bytes() == built.read_bytes()
    containerfile = (context / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="%s"' % definition["images"]["base_image"]["name"] in containerfile
    for step in ("COPY _build /build",
                 "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml",
                 "/output/scripts/introspect.py introspect --write-bindep=/tmp/src/bindep.txt "
                 "--write-pip=/tmp/src/requirements.txt",
                 "/output/scripts/install-from-bindep"):
        assert step in containerfile, containerfile

    # The galaxy stage (in /build) and the builder stage's introspection, replayed on the context's files:
    # the image gets the collection, requests and the CA store.
    installed = tmp_path / "usr-share-ansible-collections"
    run(tool("ansible-galaxy"), "collection", "install", "-r", "requirements.yml", "--collections-path",
        str(installed), cwd=str(context / "_build"))
    assert (installed / "ansible_collections" / "ganeti" / "rapi" / "plugins" / "modules"
            / "ganeti_move_instance.py").is_file()
    pip, bindep = tmp_path / "requirements.txt", tmp_path / "bindep.txt"
    run(sys.executable, str(context / "_build" / "scripts" / "introspect.py"), "introspect", str(installed),
        "--write-pip", str(pip), "--write-bindep", str(bindep))
    assert pip.read_text().splitlines() == [REQUESTS_LINE]
    assert bindep.read_text().splitlines() == [CA_LINE]
