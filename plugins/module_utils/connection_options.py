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
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.ganeti.rapi.plugins.module_utils.rapi_client import (
    DEFAULT_PORT, DEFAULT_REQUEST_TIMEOUT, RapiClient, read_password_file,
)

SETTINGS = ("host", "port", "username", "password", "password_file", "ca_path", "validate_certs",
            "request_timeout")
SHARED_ENV = {"username": "GANETI_USERNAME", "password": "GANETI_PASSWORD"}
DEFAULTS = {"port": DEFAULT_PORT, "validate_certs": True, "request_timeout": DEFAULT_REQUEST_TIMEOUT}
_TRUE = ("1", "true", "yes", "on", "y")
_FALSE = ("0", "false", "no", "off", "n")


class ConnectionOptionError(ValueError):
    """A connection option is missing or invalid; the text names the side and option."""


def connection_argument_spec():
    """Suboptions of ``source`` and ``destination`` (no defaults: see resolve_connections)."""
    return dict(
        host=dict(type="str"),
        port=dict(type="int"),
        username=dict(type="str"),
        password=dict(type="str", no_log=True),
        password_file=dict(type="path", no_log=False),
        ca_path=dict(type="path"),
        validate_certs=dict(type="bool"),
        request_timeout=dict(type="int"),
    )


def env_name(side, setting):
    return "GANETI_%s_%s" % (side.upper(), setting.upper())


def _from_env(side, setting, environ):
    value = environ.get(env_name(side, setting))
    if value in (None, "") and side == "source" and setting in SHARED_ENV:
        value = environ.get(SHARED_ENV[setting])
    return None if value == "" else value


def _coerce(side, setting, value):
    if value is None:
        return None
    if setting in ("port", "request_timeout"):
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConnectionOptionError("%s.%s must be a whole number, got %r" % (side, setting, value))
        if setting == "port" and not 0 < number < 65536:
            raise ConnectionOptionError("%s.port must be between 1 and 65535, got %s" % (side, number))
        if setting == "request_timeout" and number < 1:
            raise ConnectionOptionError("%s.request_timeout must be at least 1 second, got %s" % (side, number))
        return number
    if setting == "validate_certs" and not isinstance(value, bool):
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ConnectionOptionError("%s.validate_certs must be a boolean, got %r" % (side, value))
    if setting == "host":
        value = str(value).strip()
        if not value:
            raise ConnectionOptionError("%s.host is empty" % side)
    return value


def _resolve_side(side, given, environ, inherited):
    given = given or {}
    explicit_secrets = [k for k in ("password", "password_file") if given.get(k) not in (None, "")]
    if len(explicit_secrets) == 2:
        raise ConnectionOptionError("%s: password and password_file are mutually exclusive" % side)
    resolved = {}
    for setting in SETTINGS:
        value = given.get(setting)
        if value is None or (value == "" and setting != "host"):
            value = _from_env(side, setting, environ)
        resolved[setting] = _coerce(side, setting, value)
    # An explicit password or password_file in the task beats the other one from the environment.
    if explicit_secrets:
        other = "password_file" if explicit_secrets[0] == "password" else "password"
        resolved[other] = None
    own_secret = resolved["password"] is not None or resolved["password_file"] is not None
    for setting in SETTINGS:
        if setting == "host" or (own_secret and setting in ("password", "password_file")):
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


def resolve_connections(source, destination, environ=None):
    """Both sides' final settings, passwords read from their files."""
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
            "tls": client.tls_mode, "requests": len(client.requests_made)}
