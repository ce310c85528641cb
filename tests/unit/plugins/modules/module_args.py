# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Hand module arguments to AnsibleModule in unit tests, on ansible-core 2.16 as on 2.19+.

ansible-core 2.19 has ``ansible.module_utils.testing.patch_module_args``,
which patches ``basic._ANSIBLE_ARGS`` (the JSON-encoded
``{"ANSIBLE_MODULE_ARGS": ...}``, as bytes) and ``basic._ANSIBLE_PROFILE``
(the serialization profile, ``"legacy"``).  2.16 has neither the helper nor
the profile.  This does what 2.19's helper does, and skips the profile where
it does not exist.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json

from ansible.module_utils import basic

try:
    from unittest import mock
except ImportError:  # pragma: no cover
    import mock  # type: ignore

PROFILE = "legacy"
# The password the tests' tasks give; no output may ever show it.
TASK_PW = "task-PW-never-printed-1"


@contextlib.contextmanager
def patch_module_args(args=None):
    """Expose ``args`` to AnsibleModule instances created within this context."""
    if not isinstance(args, (dict, type(None))):
        raise TypeError("The `args` arg must be a dict or None.")
    payload = json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}).encode("utf-8")
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(basic, "_ANSIBLE_ARGS", payload))
        if hasattr(basic, "_ANSIBLE_PROFILE"):  # ansible-core 2.19+
            stack.enter_context(mock.patch.object(basic, "_ANSIBLE_PROFILE", PROFILE))
        yield


def run_module(main, args, capsys):
    """Run a module's ``main()`` with ``args``; return (exit code, the JSON it printed, the raw output)."""
    code = None
    with patch_module_args(args):
        try:
            main()
        except SystemExit as exc:
            code = exc.code
    if code is None:  # pragma: no cover - modules always exit through exit_json or fail_json
        raise AssertionError("the module returned without exit_json or fail_json")
    out = capsys.readouterr().out
    return code, json.loads(out), out


def task_args(**extra):
    """A ganeti_move_instance task's arguments (web1.test from cluster-a.test to cluster-b.test), ``extra`` over them."""
    base = {"name": "web1.test",
            "source": {"host": "cluster-a.test", "username": "mover", "password": TASK_PW},
            "destination": {"host": "cluster-b.test"}}
    base.update(extra)
    return base
