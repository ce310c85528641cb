# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The AWX/AAP credential types shipped in extensions/awx/credential_types.yml: AWX's own checks of a custom
type (schemas, and templates that refer only to defined inputs), every variable they set being one the module
reads, passwords only in files, and what the module makes of what a job gets (rendered as AWX's
CredentialType.inject_credential does, then the module's argument spec and resolve_connections)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import stat

import pytest
import yaml

from jinja2 import StrictUndefined, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.ganeti.rapi.plugins.module_utils.connection_options import (
    SETTINGS, SHARED_ENV, env_name, resolve_connections,
)
from ansible_collections.ganeti.rapi.plugins.modules.ganeti_move_instance import argument_spec
from ansible_collections.ganeti.rapi.tests.unit.extensions.awx_injection import Namespace, awx_inject

PATH = os.path.join(os.path.dirname(__file__), "..", "..", "..", "extensions", "awx", "credential_types.yml")
SIDES = {"Ganeti RAPI source": "source", "Ganeti RAPI destination": "destination"}
FILE_KEY = re.compile(r"^template(\.[a-zA-Z_]+[a-zA-Z0-9_]*)?$")  # awx/main/fields.py
ENV_KEY = re.compile(r"^[a-zA-Z_]+[a-zA-Z0-9_]*$")
INPUT_ID = re.compile(r"^[a-zA-Z_]+[a-zA-Z0-9_]*$")
SRC_PW = "src-SECRET-pw-1"
DST_PW = "dst-SECRET-pw-2"


def load():
    with open(PATH) as handle:
        return dict((item["name"], item) for item in yaml.safe_load(handle)["credential_types"])


TYPES = load()


def awx_validate(credential_type):
    """CredentialTypeInjectorField.validate: every template renders with each input set to a stand-in and the
    tower.filename.<name> of each file template; a reference to anything else raises UndefinedError."""
    names = dict((field["id"], "EXAMPLE") for field in credential_type["inputs"]["fields"])
    tower = Namespace()
    tower.filename = Namespace()
    for key in credential_type["injectors"].get("file", {}):
        setattr(tower.filename, key.split(".")[1], "EXAMPLE_FILENAME")
    names["tower"] = tower
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    for kind in ("file", "env"):
        for template in credential_type["injectors"].get(kind, {}).values():
            env.from_string(template).render(names)


def module_connections(environ, monkeypatch):
    """What the module resolves for source and destination left empty in the task, in ``environ``."""
    for name in list(os.environ):
        if name.startswith("GANETI_"):
            monkeypatch.delenv(name)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    result = ArgumentSpecValidator(argument_spec()).validate({"name": "web1", "source": {}, "destination": {}})
    assert not result.error_messages
    params = result.validated_parameters
    return resolve_connections(params["source"], params["destination"], dict(os.environ))


def test_both_sides_are_shipped():
    assert sorted(SIDES) == sorted(TYPES)
    for name, item in TYPES.items():
        assert item["kind"] == "cloud"  # the only kinds AWX allows for custom types: cloud and net
        assert item["natural_key"] == {"type": "credential_type", "name": name, "kind": "cloud"}  # for awx import


@pytest.mark.parametrize("name", sorted(SIDES))
def test_schemas_as_awx_checks_them(name):
    item = TYPES[name]
    assert set(item["inputs"]) <= {"fields", "required"}
    ids = [field["id"] for field in item["inputs"]["fields"]]
    assert len(ids) == len(set(ids))
    for field in item["inputs"]["fields"]:
        assert INPUT_ID.match(field["id"]) and field["label"]
        assert field.get("type", "string") in ("string", "boolean")
        assert set(field) <= {"id", "label", "type", "help_text", "secret", "multiline", "format", "choices",
                              "ask_at_runtime", "default"}
    assert set(item["inputs"]["required"]) <= set(ids)
    assert set(item["injectors"]) <= {"file", "env"}  # no extra_vars: nothing of a credential in the play's vars
    files = list(item["injectors"]["file"])
    assert all(FILE_KEY.match(key) and "." in key for key in files)  # the multi-file form only
    for env in item["injectors"]["env"]:
        assert ENV_KEY.match(env) and not env.startswith("ANSIBLE_")
        item["injectors"]["env"][env].encode("ascii")


@pytest.mark.parametrize("name", sorted(SIDES))
def test_templates_refer_only_to_defined_inputs(name):
    awx_validate(TYPES[name])


def test_the_template_check_can_fail():
    broken = yaml.safe_load(yaml.safe_dump(TYPES["Ganeti RAPI source"]))
    broken["injectors"]["env"]["GANETI_SOURCE_HOST"] = "{{ hostname }}"
    with pytest.raises(UndefinedError):
        awx_validate(broken)
    broken = yaml.safe_load(yaml.safe_dump(TYPES["Ganeti RAPI source"]))
    broken["injectors"]["env"]["GANETI_SOURCE_CA_PATH"] = "{{ tower.filename.cert }}"
    with pytest.raises(UndefinedError):
        awx_validate(broken)


@pytest.mark.parametrize("name", sorted(SIDES))
def test_every_variable_is_one_the_module_reads(name):
    side = SIDES[name]
    read = set(env_name(side, setting) for setting in SETTINGS)
    assert set(TYPES[name]["injectors"]["env"]) <= read
    # Every setting a credential holds, and none the other side's or shared (a job has one credential per side).
    assert set(TYPES[name]["injectors"]["env"]) == set(env_name(side, setting) for setting in (
        "host", "port", "username", "password_file", "ca_path", "validate_certs"))
    assert not set(TYPES[name]["injectors"]["env"]) & set(SHARED_ENV.values())


@pytest.mark.parametrize("name", sorted(SIDES))
def test_secrets_reach_the_module_only_in_files(name, tmp_path):
    item = TYPES[name]
    secrets = [field["id"] for field in item["inputs"]["fields"] if field.get("secret")]
    assert secrets == ["password"]
    inputs = dict((field["id"], "VALUE-OF-%s" % field["id"]) for field in item["inputs"]["fields"]
                  if field.get("type", "string") == "string")
    environ = awx_inject(item, inputs, str(tmp_path))
    assert "VALUE-OF-password" not in repr(environ)
    files = [os.path.join(str(tmp_path), "env", name) for name in os.listdir(str(tmp_path / "env"))]
    holding = []
    for path in files:
        with open(path) as handle:
            if handle.read() == "VALUE-OF-password":
                holding.append(path)
    assert holding == [environ[env_name(SIDES[name], "password_file")]]


def test_a_job_with_both_credentials_connects_as_given(tmp_path, monkeypatch):
    pdd = str(tmp_path)
    environ = awx_inject(TYPES["Ganeti RAPI source"],
                         {"host": "cluster-a.example.org", "port": "15080", "username": "mover", "password": SRC_PW,
                          "ca_certificate": "-----BEGIN CERTIFICATE-----\nMIIA\n-----END CERTIFICATE-----\n"}, pdd)
    environ.update(awx_inject(TYPES["Ganeti RAPI destination"],
                              {"host": "cluster-b.example.org", "port": "", "username": "mover-b", "password": DST_PW,
                               "ca_certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"},
                              pdd))
    assert SRC_PW not in repr(environ) and DST_PW not in repr(environ)
    src, dst = module_connections(environ, monkeypatch)
    assert (src["host"], src["port"], src["username"], src["password"]) == (
        "cluster-a.example.org", 15080, "mover", SRC_PW)
    # An empty port is 5080, not the source's port.
    assert (dst["host"], dst["port"], dst["username"], dst["password"]) == (
        "cluster-b.example.org", 5080, "mover-b", DST_PW)
    assert src["validate_certs"] is True and dst["validate_certs"] is True
    with open(src["ca_path"]) as handle:
        assert "MIIA" in handle.read()
    with open(dst["ca_path"]) as handle:
        assert "MIIB" in handle.read()
    for path in (src["ca_path"], dst["ca_path"], src["password_file"], dst["password_file"]):
        assert os.path.dirname(path) == os.path.join(pdd, "env")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_without_certificate_or_with_the_check_off(tmp_path, monkeypatch):
    pdd = str(tmp_path)
    environ = awx_inject(TYPES["Ganeti RAPI source"],
                         {"host": "a.test", "username": "mover", "password": SRC_PW, "skip_tls_verify": True}, pdd)
    environ.update(awx_inject(TYPES["Ganeti RAPI destination"],
                              {"host": "b.test", "username": "mover", "password": DST_PW}, pdd))
    # No certificate: the variable is empty, which the module reads as unset (the system's CA store).
    assert environ["GANETI_SOURCE_CA_PATH"] == "" and environ["GANETI_DESTINATION_CA_PATH"] == ""
    src, dst = module_connections(environ, monkeypatch)
    assert src["ca_path"] is None and dst["ca_path"] is None
    # The check is off only where asked; an unset boolean (False in AWX) keeps it on.
    assert src["validate_certs"] is False and dst["validate_certs"] is True
    assert (src["password"], dst["password"]) == (SRC_PW, DST_PW)
