# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The connection options: Ansible's argument spec (types, defaults, environment fallbacks) and then
resolve_connections (inheritance, password against password_file, checks), as the module runs them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.ganeti.rapi.plugins.module_utils.connection_options import (
    ConnectionOptionError, connection_argument_spec, make_client, public_summary, resolve_connections,
)
from unittest.mock import patch
from ansible_collections.ganeti.rapi.plugins.module_utils.rapi_client import RapiClient

SRC_PW = "source-SECRET-pw-1"
DST_PW = "destination-SECRET-pw-2"


def side(**values):
    """A side as a task gives it: only the suboptions set."""
    return dict(values)


class SpecError(Exception):
    """Ansible's argument spec refused the options (AnsibleModule would fail with this text)."""


def resolve(source, destination, environ=None):
    """What the module does: validate with the argument spec in ``environ``, then resolve_connections."""
    spec = dict((name, dict(type="dict", options=connection_argument_spec(name))) for name in ("source", "destination"))
    params = dict((name, given) for name, given in (("source", source), ("destination", destination))
                  if given is not None)
    with patch.dict(os.environ, environ or {}, clear=True):
        result = ArgumentSpecValidator(spec).validate(params)
        if result.error_messages:
            raise SpecError(" / ".join(result.error_messages))
        validated = result.validated_parameters
        return resolve_connections(validated.get("source"), validated.get("destination"))


@pytest.fixture
def ca_file(tmp_path):
    path = tmp_path / "cluster-a.pem"
    path.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    return str(path)


@pytest.fixture
def pw_file(tmp_path):
    def make(name, content):
        path = tmp_path / name
        path.write_text(content)
        return str(path)
    return make


def test_defaults():
    src, dst = resolve(side(host="a.test"), side(host="b.test"), environ={})
    for settings in (src, dst):
        assert settings["port"] == 5080
        assert settings["validate_certs"] is True
        assert settings["request_timeout"] == 60
        assert settings["username"] is None and settings["password"] is None and settings["ca_path"] is None
    assert (src["host"], dst["host"]) == ("a.test", "b.test")


def test_destination_inherits_everything_but_the_host(ca_file):
    src, dst = resolve(
        side(host="a.test", port=15080, username="mover", password=SRC_PW, ca_path=ca_file, validate_certs=False,
             request_timeout=33),
        side(host="b.test"), environ={})

    assert dst == {"host": "b.test", "port": 15080, "username": "mover", "password": SRC_PW,
                   "password_file": None, "ca_path": ca_file, "validate_certs": False, "request_timeout": 33}
    assert src["host"] == "a.test"


def test_destination_host_is_never_inherited():
    with pytest.raises(ConnectionOptionError) as info:
        resolve(side(host="a.test"), side(), environ={})
    assert "destination.host is required" in str(info.value)
    assert "GANETI_DESTINATION_HOST" in str(info.value)


def test_destination_own_values_beat_inherited_ones(tmp_path, ca_file):
    other_ca = tmp_path / "b.pem"
    other_ca.write_text("x")
    src, dst = resolve(
        side(host="a.test", port=15080, username="mover", password=SRC_PW, ca_path=ca_file),
        side(host="b.test", port=25080, username="other", password=DST_PW, ca_path=str(other_ca),
             validate_certs=True, request_timeout=5),
        environ={})
    assert (dst["port"], dst["username"], dst["password"], dst["ca_path"], dst["request_timeout"]) == (
        25080, "other", DST_PW, str(other_ca), 5)
    assert (src["port"], src["username"], src["password"]) == (15080, "mover", SRC_PW)


def test_explicit_false_validate_certs_on_destination_is_kept():
    src, dst = resolve(side(host="a.test"), side(host="b.test", validate_certs=False), environ={})
    assert dst["validate_certs"] is False


def test_environment_fallbacks_for_both_sides(ca_file):
    environ = {
        "GANETI_SOURCE_HOST": "env-a.test", "GANETI_SOURCE_PORT": "15080", "GANETI_SOURCE_USERNAME": "srcuser",
        "GANETI_SOURCE_PASSWORD": SRC_PW, "GANETI_SOURCE_CA_PATH": ca_file, "GANETI_SOURCE_VALIDATE_CERTS": "no",
        "GANETI_SOURCE_REQUEST_TIMEOUT": "45",
        "GANETI_DESTINATION_HOST": "env-b.test", "GANETI_DESTINATION_PORT": "25080",
        "GANETI_DESTINATION_USERNAME": "dstuser", "GANETI_DESTINATION_PASSWORD": DST_PW,
        "GANETI_DESTINATION_VALIDATE_CERTS": "yes", "GANETI_DESTINATION_REQUEST_TIMEOUT": "7",
    }
    src, dst = resolve(side(), side(), environ=environ)
    assert src == {"host": "env-a.test", "port": 15080, "username": "srcuser", "password": SRC_PW,
                   "password_file": None, "ca_path": ca_file, "validate_certs": False, "request_timeout": 45}
    assert dst == {"host": "env-b.test", "port": 25080, "username": "dstuser", "password": DST_PW,
                   "password_file": None, "ca_path": ca_file, "validate_certs": True, "request_timeout": 7}


def test_shared_credentials_apply_to_the_source_and_reach_the_destination_by_inheritance():
    environ = {"GANETI_USERNAME": "shared", "GANETI_PASSWORD": SRC_PW}
    src, dst = resolve(side(host="a.test"), side(host="b.test"), environ=environ)
    assert (src["username"], src["password"]) == ("shared", SRC_PW)
    assert (dst["username"], dst["password"]) == ("shared", SRC_PW)


def test_shared_credentials_do_not_beat_the_source_specific_ones():
    environ = {"GANETI_USERNAME": "shared", "GANETI_PASSWORD": "shared-pw", "GANETI_SOURCE_USERNAME": "srcuser",
               "GANETI_SOURCE_PASSWORD": SRC_PW}
    src, dst = resolve(side(host="a.test"), side(host="b.test"), environ=environ)
    assert (src["username"], src["password"]) == ("srcuser", SRC_PW)
    # the destination inherits the source's resolved values, not the shared variables
    assert (dst["username"], dst["password"]) == ("srcuser", SRC_PW)


def test_shared_credentials_are_not_used_directly_for_the_destination():
    environ = {"GANETI_USERNAME": "shared", "GANETI_PASSWORD": "shared-pw"}
    src, dst = resolve(side(host="a.test", username="mover", password=SRC_PW),
                       side(host="b.test"), environ=environ)
    assert (dst["username"], dst["password"]) == ("mover", SRC_PW)


def test_empty_environment_values_are_ignored():
    environ = {"GANETI_SOURCE_PORT": "", "GANETI_SOURCE_USERNAME": "", "GANETI_USERNAME": "shared"}
    src, dst = resolve(side(host="a.test"), side(host="b.test"), environ=environ)
    assert src["port"] == 5080
    assert src["username"] == "shared"


def test_task_values_beat_the_environment():
    environ = {"GANETI_SOURCE_HOST": "env-a.test", "GANETI_SOURCE_PORT": "1111", "GANETI_SOURCE_USERNAME": "envuser",
               "GANETI_SOURCE_PASSWORD": "env-pw", "GANETI_DESTINATION_HOST": "env-b.test",
               "GANETI_DESTINATION_PORT": "2222", "GANETI_DESTINATION_VALIDATE_CERTS": "false"}
    src, dst = resolve(side(host="a.test", port=15080, username="mover", password=SRC_PW),
                       side(host="b.test", port=25080, validate_certs=True), environ=environ)
    assert (src["host"], src["port"], src["username"], src["password"]) == ("a.test", 15080, "mover", SRC_PW)
    assert (dst["host"], dst["port"], dst["validate_certs"]) == ("b.test", 25080, True)


def test_destination_environment_beats_inheritance():
    environ = {"GANETI_DESTINATION_PORT": "25080", "GANETI_DESTINATION_USERNAME": "dstuser"}
    src, dst = resolve(side(host="a.test", port=15080, username="mover", password=SRC_PW),
                       side(host="b.test"), environ=environ)
    assert (dst["port"], dst["username"], dst["password"]) == (25080, "dstuser", SRC_PW)


def test_password_and_password_file_both_explicit_is_an_error(pw_file):
    path = pw_file("pw", SRC_PW)
    with pytest.raises(ConnectionOptionError) as info:
        resolve(side(host="a.test", username="u", password="x", password_file=path),
                side(host="b.test"), environ={})
    assert "source: password and password_file are mutually exclusive" == str(info.value)

    with pytest.raises(ConnectionOptionError) as info:
        resolve(side(host="a.test"), side(host="b.test", username="u", password="x", password_file=path),
                environ={})
    assert str(info.value).startswith("destination:")


def test_password_file_is_read(pw_file):
    path = pw_file("pw", "\n%s\n" % SRC_PW)
    src, dst = resolve(side(host="a.test", username="mover", password_file=path),
                       side(host="b.test"), environ={})
    assert src["password"] == SRC_PW
    assert dst["password"] == SRC_PW


def test_password_file_from_the_environment(pw_file):
    path = pw_file("pw", SRC_PW)
    src, dst = resolve(side(host="a.test", username="mover"), side(host="b.test"),
                       environ={"GANETI_SOURCE_PASSWORD_FILE": path})
    assert src["password"] == SRC_PW


def test_explicit_password_beats_a_password_file_from_the_environment(pw_file):
    path = pw_file("pw", "file-pw")
    src, dst = resolve(side(host="a.test", username="mover", password=SRC_PW), side(host="b.test"),
                       environ={"GANETI_SOURCE_PASSWORD_FILE": path})
    assert src["password"] == SRC_PW
    assert src["password_file"] is None


def test_explicit_password_file_beats_a_password_from_the_environment(pw_file):
    path = pw_file("pw", SRC_PW)
    src, dst = resolve(side(host="a.test", username="mover", password_file=path), side(host="b.test"),
                       environ={"GANETI_SOURCE_PASSWORD": "env-pw", "GANETI_PASSWORD": "shared-pw"})
    assert src["password"] == SRC_PW


@pytest.mark.parametrize("how", ["task", "environment"])
def test_destination_password_file_beats_the_inherited_password(pw_file, how):
    path = pw_file("dst-pw", DST_PW)
    if how == "task":
        destination, environ = side(host="b.test", password_file=path), {}
    else:
        destination, environ = side(host="b.test"), {"GANETI_DESTINATION_PASSWORD_FILE": path}
    src, dst = resolve(side(host="a.test", username="mover", password=SRC_PW), destination,
                       environ=environ)
    assert src["password"] == SRC_PW
    assert dst["password"] == DST_PW


def test_destination_password_beats_the_inherited_password_file(pw_file):
    path = pw_file("src-pw", SRC_PW)
    src, dst = resolve(side(host="a.test", username="mover", password_file=path),
                       side(host="b.test", password=DST_PW), environ={})
    assert (src["password"], dst["password"]) == (SRC_PW, DST_PW)


def test_password_file_errors_name_the_side_and_hide_the_content(pw_file, tmp_path):
    path = pw_file("pw", "line-one-%s\nline-two-%s\n" % (SRC_PW, SRC_PW))
    with pytest.raises(ConnectionOptionError) as info:
        resolve(side(host="a.test", username="mover", password_file=path), side(host="b.test"),
                environ={})
    assert str(info.value).startswith("source: password_file %s has 2 non-empty lines" % path)
    assert SRC_PW not in str(info.value)

    missing = str(tmp_path / "missing")
    with pytest.raises(ConnectionOptionError) as info:
        resolve(side(host="a.test"), side(host="b.test", username="u", password_file=missing),
                environ={})
    assert str(info.value).startswith("destination: cannot read password_file %s" % missing)


@pytest.mark.parametrize("given, environ, expected", [
    ({"port": 0}, {}, "source.port must be between 1 and 65535, got 0"),
    ({"port": 70000}, {}, "source.port must be between 1 and 65535, got 70000"),
    ({"request_timeout": 0}, {}, "source.request_timeout must be at least 1 second"),
    ({}, {"GANETI_SOURCE_REQUEST_TIMEOUT": "-3"}, "source.request_timeout must be at least 1 second, got -3"),
])
def test_bad_source_values(given, environ, expected):
    with pytest.raises(ConnectionOptionError) as info:
        resolve(side(host="a.test", **given), side(host="b.test"), environ=environ)
    assert expected in str(info.value)


@pytest.mark.parametrize("variable, value, words", [
    ("GANETI_SOURCE_PORT", "http", ["'port'", "'source'", "int"]),
    ("GANETI_SOURCE_VALIDATE_CERTS", "maybe", ["'validate_certs'", "'source'", "bool"]),
    ("GANETI_DESTINATION_REQUEST_TIMEOUT", "soon", ["'request_timeout'", "'destination'", "int"]),
])
def test_environment_values_are_typed_by_the_argument_spec(variable, value, words):
    with pytest.raises(SpecError) as info:
        resolve(side(host="a.test"), side(host="b.test"), environ={variable: value})
    assert all(word in str(info.value) for word in words), str(info.value)


def test_bad_destination_port_names_the_destination():
    with pytest.raises(ConnectionOptionError) as info:
        resolve(side(host="a.test"), side(host="b.test"), environ={"GANETI_DESTINATION_PORT": "99999"})
    assert "destination.port must be between 1 and 65535" in str(info.value)


@pytest.mark.parametrize("which", ["source", "destination"])
def test_empty_host(which):
    sides = {"source": side(host="a.test"), "destination": side(host="b.test")}
    sides[which] = side(host="   ")
    with pytest.raises(ConnectionOptionError) as info:
        resolve(sides["source"], sides["destination"], environ={})
    assert str(info.value) == "%s.host is empty" % which


def test_missing_source_host():
    with pytest.raises(ConnectionOptionError) as info:
        resolve(side(), side(host="b.test"), environ={})
    assert "source.host is required (or set GANETI_SOURCE_HOST)" == str(info.value)


def test_host_is_stripped():
    src, dst = resolve(side(host="  a.test "), side(host="b.test"), environ={})
    assert src["host"] == "a.test"


def test_password_without_username():
    with pytest.raises(ConnectionOptionError) as info:
        resolve(side(host="a.test", password=SRC_PW), side(host="b.test"), environ={})
    assert "source: a password is set but no username" in str(info.value)
    assert SRC_PW not in str(info.value)


def test_ca_path_must_be_a_file(tmp_path):
    with pytest.raises(ConnectionOptionError) as info:
        resolve(side(host="a.test", ca_path=str(tmp_path / "nope.pem")), side(host="b.test"), environ={})
    assert "source.ca_path" in str(info.value) and "is not a file" in str(info.value)


def test_secrets_come_from_os_environ_by_default(monkeypatch):
    monkeypatch.setenv("GANETI_SOURCE_PASSWORD", SRC_PW)
    validated = dict((name, None) for name in connection_argument_spec())
    src, dst = resolve_connections(dict(validated, host="a.test", username="mover"), dict(validated, host="b.test"))
    assert (src["password"], dst["password"]) == (SRC_PW, SRC_PW)


def test_argument_spec_defaults_and_fallbacks():
    """ansible-doc shows the source's real defaults; the destination has none (it inherits the source's)."""
    source, destination = connection_argument_spec("source"), connection_argument_spec("destination")
    assert source["password"]["no_log"] is True and destination["password"]["no_log"] is True
    assert dict((k, v["default"]) for k, v in source.items() if "default" in v) == {
        "port": 5080, "validate_certs": True, "request_timeout": 60}
    assert not [k for k, v in destination.items() if "default" in v]
    assert source["username"]["fallback"][1] == ["GANETI_SOURCE_USERNAME", "GANETI_USERNAME"]
    assert destination["username"]["fallback"][1] == ["GANETI_DESTINATION_USERNAME"]
    # resolved by resolve_connections, where the task's one beats the other from the environment
    assert "fallback" not in source["password"] and "fallback" not in source["password_file"]


def test_make_client_and_public_summary(ca_file):
    src, dst = resolve(side(host="a.test", port=15080, username="mover", password=SRC_PW, ca_path=ca_file,
                            request_timeout=9), side(host="b.test"), environ={})
    client = make_client("source", src)
    assert isinstance(client, RapiClient)
    assert (client.host, client.port, client.username, client.ca_path, client.request_timeout, client.side) == (
        "a.test", 15080, "mover", ca_file, 9, "source")

    summary = public_summary("source", src, client)
    assert summary == {"host": "a.test", "port": 15080, "username": "mover", "ca_path": ca_file,
                       "validate_certs": True, "tls": None}
    assert SRC_PW not in repr(summary)


NON_ASCII_PW = "p\u00e4ssw\u00f6rd-\u20ac-SECRET"


def _assert_not_shown(exc, password):
    for text in (str(exc), repr(exc), repr(exc.args)):
        assert password not in text
        assert all(ord(char) < 128 for char in text), text  # not even one of its non-ASCII characters


@pytest.mark.parametrize("which", ["source", "destination"])
@pytest.mark.parametrize("how", ["task", "environment", "password_file"])
def test_non_ascii_password_is_refused_without_showing_it(pw_file, which, how):
    sides = {"source": side(host="a.test", username="mover"), "destination": side(host="b.test")}
    environ = {}
    if how == "task":
        sides[which]["password"] = NON_ASCII_PW
    elif how == "environment":
        environ["GANETI_%s_PASSWORD" % which.upper()] = NON_ASCII_PW
    else:
        sides[which]["password_file"] = pw_file("pw", NON_ASCII_PW + "\n")
    with pytest.raises(ConnectionOptionError) as info:
        resolve(sides["source"], sides["destination"], environ=environ)
    assert str(info.value).startswith("%s: the password contains non-ASCII characters" % which)
    _assert_not_shown(info.value, NON_ASCII_PW)


def test_non_ascii_shared_password_is_refused_without_showing_it():
    with pytest.raises(ConnectionOptionError) as info:
        resolve(side(host="a.test"), side(host="b.test"),
                environ={"GANETI_USERNAME": "mover", "GANETI_PASSWORD": NON_ASCII_PW})
    assert str(info.value).startswith("source:")
    _assert_not_shown(info.value, NON_ASCII_PW)


@pytest.mark.parametrize("setting", ["password", "password_file"])
def test_explicit_empty_destination_secret_inherits_the_source_password(setting):
    src, dst = resolve(side(host="a.test", username="mover", password=SRC_PW),
                       side(host="b.test", **{setting: ""}), environ={})
    assert dst["password"] == SRC_PW
    assert dst["username"] == "mover"


def test_the_doc_fragment_documents_every_default_and_environment_variable():
    """The docs derive from the argument spec: each suboption's type, default and E(...) variables agree."""
    import yaml
    from ansible_collections.ganeti.rapi.plugins.doc_fragments.connection import ModuleDocFragment
    from ansible_collections.ganeti.rapi.plugins.module_utils.connection_options import SECRETS, env_names
    options = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    for side in ("source", "destination"):
        spec = connection_argument_spec(side)
        documented = options[side]["suboptions"]
        assert set(documented) == set(spec), side
        for setting, option in spec.items():
            doc = documented[setting]
            assert doc["type"] == option["type"] and doc.get("default") == option.get("default"), (side, setting)
            text = " ".join(doc["description"])
            names = option["fallback"][1] if setting not in SECRETS else env_names(side, setting)
            assert ["E(%s)" % name in text for name in names] == [True] * len(names), (side, setting, text)
