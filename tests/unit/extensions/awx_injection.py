# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What AWX does with a credential of a custom type when it launches a job, for the unit tests of the shipped
types and for the integration test that runs a wave through ansible-runner (which imports this file by path):
plain Python, no import of the collection."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import tempfile

from jinja2.sandbox import ImmutableSandboxedEnvironment


class Namespace:
    pass


def awx_inject(credential_type, inputs, private_data_dir):
    """CredentialType.inject_credential: unset string inputs are undefined, unset booleans False; each file
    template is written to a 0600 file in env/; returns the environment variables the job gets."""
    namespace = dict((key, value) for key, value in inputs.items() if isinstance(value, bool) or len(value))
    for field in credential_type["inputs"]["fields"]:
        if field.get("type") == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = False
    tower = Namespace()
    tower.filename = Namespace()
    namespace["tower"] = tower
    sandbox = ImmutableSandboxedEnvironment()
    os.makedirs(os.path.join(private_data_dir, "env"), exist_ok=True)
    for key, template in credential_type["injectors"].get("file", {}).items():
        handle, path = tempfile.mkstemp(dir=os.path.join(private_data_dir, "env"))
        with os.fdopen(handle, "w") as out:
            out.write(sandbox.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        setattr(tower.filename, key.split(".")[1], path)
    return dict((name, sandbox.from_string(template).render(**namespace))
                for name, template in credential_type["injectors"].get("env", {}).items())
