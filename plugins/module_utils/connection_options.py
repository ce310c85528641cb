# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ``source``/``destination`` connection options: argument spec and resolution.

Precedence for each setting (as move-instance documents it, with its
``--dest-rapi-port`` bug fixed): the task's value, then the side's
environment variable (``GANETI_SOURCE_*`` / ``GANETI_DESTINATION_*``), then
for the source the shared ``GANETI_USERNAME`` / ``GANETI_PASSWORD`` and the
built-in default, and for the destination the source's resolved value
(``host`` excepted).

Ansible's argument spec does what it can express (types, the source's
defaults, environment fallbacks), so ``ansible-doc`` shows the real defaults.
What it cannot express is resolved here: the destination inheriting the
source, and ``password`` against ``password_file``, where the one the task
gives beats the other from the environment.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.module_utils.errors import AnsibleFallbackNotFound

from ansible_collections.ganeti.rapi.plugins.module_utils.rapi_client import (
    DEFAULT_PORT, DEFAULT_REQUEST_TIMEOUT, RapiClient, read_password_file,
)

TYPES = {"host": "str", "port": "int", "username": "str", "password": "str", "password_file": "path",
         "ca_path": "path", "validate_certs": "bool", "request_timeout": "int"}
SETTINGS = tuple(TYPES)
# The source's built-in defaults; the destination inherits the source's values instead.
DEFAULTS = {"port": DEFAULT_PORT, "validate_certs": True, "request_timeout": DEFAULT_REQUEST_TIMEOUT}
SHARED_ENV = {"username": "GANETI_USERNAME", "password": "GANETI_PASSWORD"}
# Resolved here rather than by the argument spec's fallback (see the module docstring).
SECRETS = ("password", "password_file")


class ConnectionOptionError(ValueError):
    """A connection option is missing or invalid; the text names the side and option."""


def env_name(side, setting):
    return "GANETI_%s_%s" % (side.upper(), setting.upper())


def env_names(side, setting):
    """The environment variables a side's setting falls back to, the first set one winning."""
    names = [env_name(side, setting)]
    if side == "source" and setting in SHARED_ENV:
        names.append(SHARED_ENV[setting])
    return names


def _first_set(names, environ):
    """The value of the first variable of ``names`` set in ``environ``, one set to "" counting as unset (AWX
    injects empty fields so); None if there is none."""
    for name in names:
        if environ.get(name, "") != "":
            return environ[name]
    return None


def non_empty_env_fallback(*names):
    """Ansible's env_fallback, with _first_set's rule for empty variables."""
    value = _first_set(names, os.environ)
    if value is None:
        raise AnsibleFallbackNotFound
    return value


def connection_argument_spec(side="source"):
    """Suboptions of ``source`` or ``destination``: types, the source's defaults, environment fallbacks."""
    spec = {}
    for setting in SETTINGS:
        option = {"type": TYPES[setting]}
        if setting in SECRETS:
            option["no_log"] = setting == "password"
        else:
            option["fallback"] = (non_empty_env_fallback, env_names(side, setting))
        if side == "source" and setting in DEFAULTS:
            option["default"] = DEFAULTS[setting]
        spec[setting] = option
    return spec


def _check(side, resolved):
    for setting, low, text in (("port", 1, "between 1 and 65535"), ("request_timeout", 1, "at least 1 second")):
        value = resolved[setting]
        if value is not None and (value < low or (setting == "port" and value > 65535)):
            raise ConnectionOptionError("%s.%s must be %s, got %s" % (side, setting, text, value))
    if resolved["host"] is not None:
        resolved["host"] = str(resolved["host"]).strip()
        if not resolved["host"]:
            raise ConnectionOptionError("%s.host is empty" % side)


def _resolve_side(side, given, environ, inherited):
    """``given``: the side's options after Ansible's argument spec (fallbacks and defaults applied)."""
    given = given or {}
    resolved = dict((setting, given.get(setting)) for setting in SETTINGS)
    explicit = [k for k in SECRETS if resolved[k] not in (None, "")]
    if len(explicit) == 2:
        raise ConnectionOptionError("%s: password and password_file are mutually exclusive" % side)
    if explicit:
        # the one the task gives beats the other from the environment
        other = "password_file" if explicit[0] == "password" else "password"
        resolved[other] = None
    else:
        for setting in SECRETS:
            resolved[setting] = _first_set(env_names(side, setting), environ)
    _check(side, resolved)
    own_secret = resolved["password"] is not None or resolved["password_file"] is not None
    for setting in SETTINGS:
        if setting == "host" or (own_secret and setting in SECRETS):
            continue  # a side with its own password (or file) never takes the other side's
        if resolved[setting] is None and inherited is not None:
            resolved[setting] = inherited.get(setting)
        if resolved[setting] is None and setting in DEFAULTS:
            resolved[setting] = DEFAULTS[setting]
    if not resolved["host"]:
        raise ConnectionOptionError("%s.host is required (or set %s)" % (side, env_name(side, "host")))
    if resolved["password_file"] and resolved["password"] is None:
        try:
            resolved["password"] = read_password_file(resolved["password_file"])
        except ValueError as exc:
            raise ConnectionOptionError("%s: %s" % (side, exc))
    for secret in ("username", "password"):
        try:
            (resolved[secret] or "").encode("ascii")
        except UnicodeError:
            # Ganeti decodes credentials as ASCII; the value is never echoed.
            raise ConnectionOptionError("%s: the %s contains non-ASCII characters, which Ganeti's RAPI never "
                                        "accepts" % (side, secret))
    if resolved["password"] is not None and not resolved["username"]:
        raise ConnectionOptionError("%s: a password is set but no username (set %s.username or %s)"
                                    % (side, side, env_name(side, "username")))
    if resolved["ca_path"] and not os.path.isfile(resolved["ca_path"]):
        raise ConnectionOptionError("%s.ca_path %s is not a file" % (side, resolved["ca_path"]))
    return resolved


def resolve_side(side, given, environ=None, inherited=None):
    """One side's final settings, its password read from its file; ``inherited``: the other side's."""
    return _resolve_side(side, given, os.environ if environ is None else environ, inherited)


def resolve_connections(source, destination, environ=None):
    """Both sides' final settings from the validated options, passwords read from their files."""
    environ = os.environ if environ is None else environ
    src = _resolve_side("source", source, environ, None)
    dst = _resolve_side("destination", destination, environ, src)
    return src, dst


def make_client(side, settings):
    return RapiClient(settings["host"], port=settings["port"], username=settings["username"],
                      password=settings["password"], ca_path=settings["ca_path"],
                      validate_certs=settings["validate_certs"], request_timeout=settings["request_timeout"],
                      side=side)


def public_summary(side, settings, client):
    """What the results may show of one side: never a credential."""
    return {"host": settings["host"], "port": settings["port"], "username": settings["username"],
            "ca_path": settings["ca_path"], "validate_certs": settings["validate_certs"],
            "tls": client.tls_mode}
