# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The plugins' connection options (doc fragment ganeti.rapi.connection.plugin) equal the module's source.

connection_options and the module's DOCUMENTATION are the one definition;
scripts/connection-fragment.py derives the fragment from them in the form
Ansible's configuration needs (env entries). These tests fail when the
fragment is not what the script writes now, and check that Ansible itself
resolves it in the module's precedence.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os
from unittest.mock import patch

import pytest
import yaml

from ansible.plugins.loader import fragment_loader

from ansible_collections.ganeti.rapi.tests.unit.plugins.inventory.inventory_helpers import (
    ensure_collection_loader, load_plugin,
)
from ansible_collections.ganeti.rapi.plugins.module_utils import connection_options
from ansible_collections.ganeti.rapi.plugins.module_utils.connection_options import (
    DEFAULTS, SETTINGS, TYPES, connection_argument_spec, env_names,
)

ensure_collection_loader()
# as ansible-doc and the plugin loader read it
FRAGMENT = fragment_loader.get("ganeti.rapi.connection")
PLUGIN_OPTIONS = yaml.safe_load(FRAGMENT.PLUGIN)["options"]
MODULE_SOURCE = yaml.safe_load(FRAGMENT.DOCUMENTATION)["options"]["source"]["suboptions"]


def test_the_fragment_is_what_the_script_derives_now():
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
    path = os.path.join(root, "scripts", "connection-fragment.py")
    if not os.path.isfile(path):
        pytest.skip("scripts/connection-fragment.py is only in the source tree")
    spec = importlib.util.spec_from_file_location("connection_fragment", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    expected = script.render(connection_options, FRAGMENT.DOCUMENTATION)
    assert FRAGMENT.PLUGIN == expected, "run scripts/connection-fragment.py"


def test_the_same_settings_as_the_module_source():
    assert sorted(PLUGIN_OPTIONS) == sorted(SETTINGS) == sorted(connection_argument_spec("source"))


@pytest.mark.parametrize("setting", SETTINGS)
def test_type_and_default(setting):
    spec = connection_argument_spec("source")[setting]
    assert PLUGIN_OPTIONS[setting]["type"] == spec["type"] == TYPES[setting]
    assert PLUGIN_OPTIONS[setting].get("default") == spec.get("default") == DEFAULTS.get(setting)
    assert PLUGIN_OPTIONS[setting].get("default") == MODULE_SOURCE[setting].get("default")


@pytest.mark.parametrize("setting", SETTINGS)
def test_environment_variables_in_the_module_precedence(setting):
    """Ansible takes the LAST env entry that is set; env_names lists the winner first."""
    listed = [entry["name"] for entry in PLUGIN_OPTIONS[setting]["env"]]
    assert list(reversed(listed)) == env_names("source", setting)
    fallback = connection_argument_spec("source")[setting].get("fallback")
    if fallback is not None:  # the secrets are resolved by resolve_side from env_names instead
        assert list(fallback[1]) == env_names("source", setting)


@pytest.mark.parametrize("setting, values, expected", [
    ("username", {"GANETI_USERNAME": "shared", "GANETI_SOURCE_USERNAME": "own"}, "own"),
    ("username", {"GANETI_USERNAME": "shared"}, "shared"),
    ("password", {"GANETI_PASSWORD": "shared", "GANETI_SOURCE_PASSWORD": "own"}, "own"),
    ("port", {"GANETI_SOURCE_PORT": "5099"}, 5099),
    ("validate_certs", {"GANETI_SOURCE_VALIDATE_CERTS": "no"}, False),
    ("request_timeout", {}, 60),
])
def test_ansible_resolves_the_fragment_as_the_module_does(setting, values, expected):
    """The precedence as this ansible-core's configuration system applies it to the inventory plugin."""
    plugin = load_plugin()
    with patch.dict(os.environ, values):
        for name in set(env_names("source", setting)) - set(values):
            os.environ.pop(name, None)
        plugin.set_options(direct={"plugin": "ganeti.rapi.instances"})
        assert plugin.get_option(setting) == expected
