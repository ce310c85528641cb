# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The role move_instances takes every option of the module, validated by Ansible, and nothing else."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.ganeti.rapi.plugins.modules import ganeti_move_instance

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
ROLE = os.path.join(ROOT, "roles", "move_instances")
OPTION_DICTS = ("move_instances_options", "move_instances_instance_options")
CONNECTIONS = {"move_instances_source": "source", "move_instances_destination": "destination"}


def _generator():
    path = os.path.join(ROOT, "scripts", "role-argument-specs.py")
    if not os.path.exists(path):  # an installed collection has no scripts/ (galaxy.yml build_ignore)
        pytest.skip("scripts/role-argument-specs.py is only in the source tree")
    spec = importlib.util.spec_from_file_location("role_argument_specs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read(*path):
    with open(os.path.join(ROLE, *path)) as handle:
        return handle.read()


def _options():
    return yaml.safe_load(_read("meta", "argument_specs.yml"))["argument_specs"]["main"]["options"]


def _module_options():
    return dict((name, spec) for name, spec in ganeti_move_instance.argument_spec().items()
                if name not in ("name", "source", "destination"))


def test_the_generated_files_are_what_the_generator_writes_now():
    """Fails after a change of the module's options or docs: run python scripts/role-argument-specs.py."""
    generator = _generator()
    files = generator.render(ganeti_move_instance, _read("meta", "argument_specs.yml"))
    assert yaml.safe_load(files[generator.SPECS]) == yaml.safe_load(_read("meta", "argument_specs.yml"))
    assert files[generator.TASK] == _read("tasks", "move.yml")


@pytest.mark.parametrize("variable", OPTION_DICTS)
def test_every_module_option_is_an_option_of_the_role_with_its_type(variable):
    documented = _options()[variable]["options"]
    assert set(documented) == set(_module_options())
    for name, spec in _module_options().items():
        assert documented[name]["type"] == spec.get("type", "str"), name
        assert documented[name].get("elements") == spec.get("elements"), name
        assert documented[name]["description"], name
        # a default would read as set in every host's dict, over the wave's value
        assert "default" not in documented[name], name


@pytest.mark.parametrize("variable", sorted(CONNECTIONS))
def test_the_connections_take_the_module_connection_options(variable):
    role = _options()[variable]
    module = ganeti_move_instance.argument_spec()[CONNECTIONS[variable]]
    # empty by default: every setting may come from the environment (AWX credentials), as for the module
    assert not role.get("required") and role["default"] == {} and role["type"] == "dict"
    assert dict((name, spec["type"]) for name, spec in role["options"].items()) == \
        dict((name, spec["type"]) for name, spec in module["options"].items())
    assert role["options"]["password"]["no_log"] is True


def test_the_move_task_passes_every_module_option_when_set():
    task = yaml.safe_load(_read("tasks", "move.yml"))[0]
    arguments = task["ganeti.rapi.ganeti_move_instance"]
    assert set(arguments) == set(ganeti_move_instance.argument_spec())
    assert arguments["name"] == "{{ move_instances_instance_name }}"
    assert arguments["source"] == "{{ move_instances_source }}"
    for option in _module_options():
        assert arguments[option] == "{{ _move_instances_options.%s | default(omit) }}" % option
    assert (task["delegate_to"], task["register"]) == ("localhost", "move_instances_result")


def test_no_description_is_a_template():
    """The validation task gets the spec as its arguments, which Ansible templates: '{{' would be evaluated."""
    assert "{{" not in yaml.safe_dump([spec["description"] for spec in _options().values()])


def _validate(**variables):
    options = _options()
    params = dict((name, spec["default"]) for name, spec in options.items() if "default" in spec)
    params.update(move_instances_source={"host": "a.test"}, move_instances_destination={"host": "b.test"},
                  move_instances_instance_name="web1.test")
    params.update(variables)
    return ArgumentSpecValidator(options).validate(params).error_messages


@pytest.mark.parametrize("variable", OPTION_DICTS)
def test_an_unknown_option_is_refused_naming_it(variable):
    errors = _validate(**{variable: {"nic": [{"mac": "generate"}], "keep_source": True}})
    assert len(errors) == 1 and "%s.nic." % variable in errors[0], errors
    assert "Supported parameters include" in errors[0] and "nics" in errors[0]


def test_a_misspelt_connection_option_and_a_wrong_type_are_refused():
    assert "move_instances_source.hots" in _validate(move_instances_source={"hots": "a.test"})[0]
    errors = _validate(move_instances_instance_options={"timeout": "soon"})
    assert len(errors) == 1 and "'timeout'" in errors[0] and "move_instances_instance_options" in errors[0]


def test_valid_options_and_nulls_pass():
    assert _validate(move_instances_options={"beparams": {"maxmem": 256}, "iallocator": "hail",
                                             "secondary_node": None, "timeout": "600"},
                     move_instances_instance_options={"nics": [{"mac": "generate"}], "destination_name": None},
                     move_instances_record_path="/var/log/moves/wave1") == []


def test_the_connections_may_be_empty_but_must_be_dicts():
    assert _validate(move_instances_source={}, move_instances_destination={}) == []
    errors = _validate(move_instances_source=["a.test"])
    assert any("'move_instances_source'" in error for error in errors), errors
    errors = _validate(move_instances_destination={"hots": "b.test"})
    assert any("move_instances_destination.hots" in error for error in errors), errors


def test_the_playbook_is_a_thin_wrapper_that_reads_the_names_of_0_1_0():
    with open(os.path.join(ROOT, "playbooks", "move_instances.yml")) as handle:
        play = yaml.safe_load(handle)[0]
    assert play["hosts"] == "{{ move_instances_hosts | default(ganeti_move_group | default('ganeti_instances')) }}"
    assert play["gather_facts"] is False
    assert play["tasks"] == [{"name": "Move the instances",
                              "ansible.builtin.include_role": {"name": "ganeti.rapi.move_instances"}}]
    aliases = play["pre_tasks"][0]["ansible.builtin.set_fact"]
    assert set(aliases) == set(_options()) - {"move_instances_record_path", "move_instances_fail_on_error"}
    old = ("ganeti_source", "ganeti_destination", "ganeti_move_options", "ganeti_instance_options",
           "ganeti_instance_name", "ganeti_destination_name")
    text = yaml.safe_dump(aliases)
    assert all(name in text and name in play["pre_tasks"][0]["when"] for name in old)
