# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""move_model: names, MoveError's words and the hints for Ganeti's errors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.ganeti.rapi.plugins.module_utils.move_model import (
    MoveError, MoveSpec, ganeti_hint, normalize_name,
)


@pytest.mark.parametrize("text, code, expected", [
    ("Invalid handshake: Hash didn't match, clusters don't share the same domain secret", "wrong_input",
     "cluster domain secret"),
    ("The given name (x) does not resolve", None, "resolve"),
    ("socat: E certificate is valid but its commonName does not match hostname", None, "1681"),
    ("Disk 0 failed to receive data", None, "did not arrive"),
    ("Can't compute nodes", "temp_insufficient_resources", "opportunistic_tries"),
    ("Can't compute nodes using iallocator 'hail'", "insufficient_resources", "cannot place"),
    ("MAC address aa:00:00:00:00:01 already in use", "resource_not_unique", "mac: generate"),
    ("Instance 'x' already exists", "already_exists", "destination_name"),
    ("Hypervisor kvm is not enabled", None, "enable it"),
])
def test_ganeti_hint(text, code, expected):
    assert expected in ganeti_hint(text, code)


def test_an_unresolvable_destination_name_may_skip_the_check():
    hint = ganeti_hint("The given name (new.example.com) does not resolve", "resolver_error",
                       source_name="old.example.com")
    assert "set name_check: false" in hint


def test_ganeti_hint_unknown():
    assert ganeti_hint("something else entirely") is None
    assert ganeti_hint(None) is None


def test_move_error_text():
    err = MoveError("destination", "create", "OpPrereqError: boom.", job_id=7, hint="do this")
    err.recovery = ["cancelled x", "removed y"]
    assert str(err) == ("destination, step 'create', job 7: OpPrereqError: boom. Fix: do this. "
                        "Recovery: cancelled x; removed y")


def test_names_are_normalised():
    spec = MoveSpec(name="Web1.Test.", destination_name=None)
    assert (spec.name, spec.destination_name) == ("web1.test", "web1.test")
    spec = MoveSpec(name=" Web1.Test. ", destination_name="New.Example.")
    assert (spec.name, spec.destination_name) == ("web1.test", "new.example")
    assert normalize_name(None) is None
