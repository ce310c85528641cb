# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The options of ganeti_move_instance, written once.

The module's ``AnsibleModule``, the action plugin's validation, the role's
generated argument specs (scripts/role-argument-specs.py) and the move's
:class:`MoveSpec` all derive from :func:`argument_spec` and :data:`RULES`:
every option that is not a connection is handed to the move under its own name.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ganeti.rapi.plugins.module_utils.connection_options import connection_argument_spec
from ansible_collections.ganeti.rapi.plugins.module_utils.move_model import MoveSpec

CONNECTIONS = ("source", "destination")
RULES = dict(
    mutually_exclusive=[("iallocator", "primary_node"), ("iallocator", "secondary_node")],
    required_by={"secondary_node": "primary_node"},
)
# The smallest value each integer option takes.
MINIMUMS = (("timeout", 1), ("shutdown_timeout", 0), ("opportunistic_tries", 0), ("opportunistic_delay", 0))


def argument_spec():
    return dict(
        name=dict(type="str", required=True),
        destination_name=dict(type="str"),
        name_check=dict(type="bool", default=True),
        source=dict(type="dict", required=True, options=connection_argument_spec("source")),
        destination=dict(type="dict", required=True, options=connection_argument_spec("destination")),
        primary_node=dict(type="str"),
        secondary_node=dict(type="str"),
        iallocator=dict(type="str"),
        disk_template=dict(type="str"),
        compress=dict(type="str", default="none"),
        beparams=dict(type="dict"),
        hvparams=dict(type="dict"),
        osparams=dict(type="dict"),
        nics=dict(type="list", elements="dict"),
        keep_source=dict(type="bool", default=False),
        start=dict(type="bool"),
        shutdown_timeout=dict(type="int", default=120),
        opportunistic_tries=dict(type="int", default=0),
        opportunistic_delay=dict(type="int", default=30),
        timeout=dict(type="int", default=3600),
        cleanup=dict(type="bool", default=True),
    )


def out_of_range(params):
    """The message for the first integer option below its minimum, or None."""
    for option, low in MINIMUMS:
        if params[option] < low:
            return "%s must be at least %d, got %d" % (option, low, params[option])
    return None


def move_spec(params):
    """The :class:`MoveSpec` of validated ``params``: every option but the connections, by its own name."""
    return MoveSpec(**dict((key, value) for key, value in params.items() if key not in CONNECTIONS))
