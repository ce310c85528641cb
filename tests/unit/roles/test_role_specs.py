# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Each role's variables: documented and validated in meta/argument_specs.yml, defaulted in defaults/main.yml."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

ROLES = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles"))


def _load(role, *path):
    with open(os.path.join(ROLES, role, *path)) as handle:
        return yaml.safe_load(handle)


@pytest.mark.parametrize("role", sorted(os.listdir(ROLES)))
def test_every_variable_is_documented_with_the_default_it_has(role):
    options = _load(role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    defaults = _load(role, "defaults", "main.yml") or {}
    # a required variable has no default; every other one has its default in both places
    assert set(defaults) == set(name for name, spec in options.items() if not spec.get("required"))
    for name, spec in options.items():
        assert name.startswith(role + "_"), name
        assert spec.get("default") == defaults.get(name), name
        assert spec.get("description"), name


def test_the_guide_uses_only_variables_the_role_has():
    """The getting-started guide's prepare.yml: every variable exists, with a value of the documented type."""
    guide = os.path.join(ROLES, "..", "docs", "docsite", "rst", "getting_started.rst")
    with open(guide) as handle:
        text = handle.read()
    block = text.split("    # prepare.yml\n", 1)[1].split("\n\n", 1)[0]
    variables = yaml.safe_load("\n".join(line[4:] for line in block.splitlines()))
    options = _load("prepare_clusters", "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    types = {"str": str, "path": str, "bool": bool, "list": list, "int": int}
    assert variables and set(variables) <= set(options)
    for name, value in variables.items():
        assert isinstance(value, types[options[name].get("type", "str")]), name


def test_the_guide_inventory_passes_the_move_role_validation():
    """The getting-started guide's inventory.yml: group and host variables as the role validates them."""
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    guide = os.path.join(ROLES, "..", "docs", "docsite", "rst", "getting_started.rst")
    with open(guide) as handle:
        text = handle.read()
    block = text.split("    # inventory.yml\n", 1)[1].split("\n\n", 1)[0]
    group = yaml.safe_load("\n".join(line[4:] for line in block.splitlines()))["all"]["children"]["ganeti_instances"]
    options = _load("move_instances", "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    validator = ArgumentSpecValidator(options)
    for host, host_vars in group["hosts"].items():
        merged = dict(group["vars"], **(host_vars or {}))
        result = validator.validate(merged)
        assert not result.error_messages, (host, result.error_messages)
    assert validator.validate(dict(group["vars"], move_instances_options={"compres": "gzip"})).error_messages
