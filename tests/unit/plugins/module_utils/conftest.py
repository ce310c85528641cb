# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ssl

import pytest

from ansible_collections.ganeti.rapi.tests.unit.plugins.module_utils.fake_rapi import Scenario
from ansible_collections.ganeti.rapi.tests.unit.plugins.module_utils.local_https import (
    RapiTestServer, have_openssl, make_certificates,
)


@pytest.fixture
def sc():
    """Both clusters scripted for a successful move of inst1.test (see fake_rapi.Scenario)."""
    return Scenario()


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    """{name: (certfile, keyfile)}: rapi, other, ca, leaf_ok, leaf_bad (see local_https)."""
    if not have_openssl():
        pytest.skip("the openssl command is needed to make test certificates")
    return make_certificates(str(tmp_path_factory.mktemp("certs")))


def _server(certs, name, **kwargs):
    crt, key = certs[name]
    server = RapiTestServer(crt, key, **kwargs).start()
    return server


@pytest.fixture
def rapi_server(certs):
    """A RAPI-like HTTPS server with Ganeti's kind of self-signed v1 certificate."""
    server = _server(certs, "rapi")
    yield server
    server.stop()


@pytest.fixture
def leaf_ok_server(certs):
    """A server whose CA-issued certificate names 127.0.0.1 in its SAN."""
    server = _server(certs, "leaf_ok")
    yield server
    server.stop()


@pytest.fixture
def leaf_bad_server(certs):
    """A server whose CA-issued certificate names only wrong.example.org."""
    server = _server(certs, "leaf_bad")
    yield server
    server.stop()


@pytest.fixture
def tls13_server(certs):
    """The RAPI-like server behind a proxy that speaks TLS 1.3 only."""
    server = _server(certs, "rapi", minimum_version=ssl.TLSVersion.TLSv1_3)
    yield server
    server.stop()


@pytest.fixture
def tls13_leaf_ok_server(certs):
    """A TLS 1.3-only server with a CA-issued certificate that names 127.0.0.1."""
    server = _server(certs, "leaf_ok", minimum_version=ssl.TLSVersion.TLSv1_3)
    yield server
    server.stop()
