# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""RapiClient's TLS modes against local HTTPS servers: pinned, verified, unverified."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ssl

import pytest

from ansible_collections.ganeti.rapi.plugins.module_utils.rapi_client import (
    RapiClient, RapiError, make_ssl_context,
)

PASSWORD = "tls-unit-PASSWORD-9Qw"


def _client(server, ca_path=None, validate_certs=True):
    return RapiClient("127.0.0.1", server.port, username="mover", password=PASSWORD, ca_path=ca_path,
                      validate_certs=validate_certs, request_timeout=5, side="source")


def test_pinned_self_signed_certificate_with_foreign_cn(rapi_server, certs):
    # Ganeti's rapi.pem: X509 v1, CN=ganeti.example.com, which does not match 127.0.0.1.
    rapi_server.route("GET", "/2/info", body={"name": "cluster-a.test"})
    client = _client(rapi_server, ca_path=certs["rapi"][0])

    assert client.cluster_info() == {"name": "cluster-a.test"}
    assert client.tls_mode == "pinned"
    # the session is reused for later requests
    assert client.cluster_info() == {"name": "cluster-a.test"}
    assert len(rapi_server.requests) == 2


def test_one_certificate_in_ca_path_is_pinned_without_a_probe(rapi_server, certs):
    rapi_server.route("GET", "/2/info", body={"name": "cluster-a.test"})
    client = _client(rapi_server, ca_path=certs["rapi"][0])

    assert client.cluster_info() == {"name": "cluster-a.test"}
    assert client.tls_mode == "pinned"
    assert rapi_server.probes == [] and len(rapi_server.requests) == 1


def test_a_bundle_in_ca_path_is_probed_with_a_whole_request_without_credentials(rapi_server, certs, tmp_path):
    # Which certificate of the bundle the server has takes a probe. A connection closed right after the
    # handshake would make Ganeti's RAPI daemon log an ERROR with a traceback: the probe asks for /version.
    bundle = tmp_path / "bundle.pem"
    with open(certs["other"][0]) as other, open(certs["rapi"][0]) as rapi:
        bundle.write_text(other.read() + rapi.read())
    rapi_server.route("GET", "/2/info", body={"name": "cluster-a.test"})
    client = _client(rapi_server, ca_path=str(bundle))

    client.cluster_info()
    client.cluster_info()

    assert client.tls_mode == "pinned"
    assert [(probe.method, probe.path) for probe in rapi_server.probes] == [("GET", "/version")]
    assert "authorization" not in rapi_server.probes[0].headers
    assert PASSWORD not in repr(rapi_server.probes[0].headers)
    assert len(rapi_server.requests) == 2


def test_pinned_with_key_and_certificate_in_one_file(rapi_server, certs, tmp_path):
    # /var/lib/ganeti/rapi.pem holds the key and the certificate: the certificate part is what counts.
    crt, key = certs["rapi"]
    combined = tmp_path / "rapi.pem"
    with open(key) as k, open(crt) as c:
        combined.write_text(k.read() + c.read())
    rapi_server.route("GET", "/version", body=2)
    client = _client(rapi_server, ca_path=str(combined))
    assert client.get("/version") == 2
    assert client.tls_mode == "pinned"


def test_a_different_certificate_is_refused_with_a_ca_path_hint(rapi_server, certs):
    rapi_server.route("GET", "/2/info", body={"name": "cluster-a.test"})
    other = certs["other"][0]
    client = _client(rapi_server, ca_path=other)

    with pytest.raises(RapiError) as info:
        client.cluster_info()

    err = info.value
    assert err.kind == "tls"
    assert err.status is None
    assert "ca_path" in err.hint
    assert other in err.hint
    assert rapi_server.requests == []  # no request got through
    assert PASSWORD not in str(err) and PASSWORD not in repr(err)


def test_system_trust_store_refuses_a_self_signed_certificate(rapi_server):
    rapi_server.route("GET", "/2/info", body={})
    client = _client(rapi_server)

    with pytest.raises(RapiError) as info:
        client.cluster_info()

    assert info.value.kind == "tls"
    assert "ca_path" in info.value.hint
    assert client.tls_mode == "verified"
    assert rapi_server.requests == []


def test_ca_issued_certificate_with_wrong_san_is_rejected(leaf_bad_server, certs):
    # A certificate that merely chains to the CA in ca_path keeps the host-name check.
    leaf_bad_server.route("GET", "/2/info", body={"name": "cluster-b.test"})
    client = _client(leaf_bad_server, ca_path=certs["ca"][0])

    with pytest.raises(RapiError) as info:
        client.cluster_info()

    err = info.value
    assert err.kind == "tls"
    assert "mismatch" in err.message.lower()  # the host-name check, not the chain, refused it
    assert client.tls_mode == "verified"
    assert leaf_bad_server.requests == []
    assert PASSWORD not in str(err)


def test_ca_issued_certificate_with_matching_san_is_verified(leaf_ok_server, certs):
    leaf_ok_server.route("GET", "/2/info", body={"name": "cluster-b.test"})
    client = _client(leaf_ok_server, ca_path=certs["ca"][0])

    assert client.cluster_info() == {"name": "cluster-b.test"}
    assert client.tls_mode == "verified"
    # The CA's certificate was tried as a pin first: that handshake failed before anything was sent.
    assert len(leaf_ok_server.requests) == 1 and leaf_ok_server.probes == []


def test_a_pin_that_held_is_never_traded_for_a_ca_check(rapi_server, certs):
    # Once a request got through under the pin from ca_path, a server presenting another certificate is
    # refused, as a pin found by a probe always was: no second try with the CA check.
    rapi_server.route("GET", "/2/info", body={"name": "cluster-a.test"})
    client = _client(rapi_server, ca_path=certs["rapi"][0])
    assert client.cluster_info() == {"name": "cluster-a.test"}
    session = client._session

    assert client._retry_tls(session, 'Fingerprints did not match. Expected "aa", got "bb"') is False
    assert client._session is session and client.tls_mode == "pinned"


def test_a_tls_1_3_only_server_with_a_ca_issued_certificate_takes_three_handshakes(tls13_leaf_ok_server, certs):
    # The CA's certificate tried as a pin (TLS 1.2 refused), then as a pin over TLS 1.3 (another certificate),
    # then the CA check with the host name over TLS 1.3: one request reaches the server.
    tls13_leaf_ok_server.route("GET", "/2/info", body={"name": "cluster-b.test"})
    client = _client(tls13_leaf_ok_server, ca_path=certs["ca"][0])

    assert client.cluster_info() == {"name": "cluster-b.test"}
    assert (client.tls_mode, client.tls12) == ("verified", False)
    assert len(tls13_leaf_ok_server.requests) == 1


def test_ca_issued_certificate_with_a_foreign_ca_is_rejected(leaf_ok_server, certs):
    client = _client(leaf_ok_server, ca_path=certs["rapi"][0])
    with pytest.raises(RapiError) as info:
        client.cluster_info()
    assert info.value.kind == "tls"
    assert "ca_path" in info.value.hint


@pytest.mark.filterwarnings("ignore:Unverified HTTPS request")
@pytest.mark.parametrize("fixture", ["rapi_server", "leaf_bad_server"])
def test_validate_certs_false_is_unverified(request, fixture):
    server = request.getfixturevalue(fixture)
    server.route("GET", "/version", body=2)
    client = _client(server, validate_certs=False)

    assert client.get("/version") == 2
    assert client.tls_mode == "unverified"


def test_ca_path_without_a_certificate_is_a_tls_rapi_error(rapi_server, tmp_path):
    not_a_cert = tmp_path / "not-a-cert.pem"
    not_a_cert.write_text("this is not a PEM certificate\n")
    client = _client(rapi_server, ca_path=str(not_a_cert))

    with pytest.raises(RapiError) as info:
        client.cluster_info()

    assert info.value.kind == "tls"
    assert "no PEM certificate" in info.value.message


def test_tls_1_2_is_offered_at_most_with_forward_secret_aead_suites(rapi_server, certs):
    # Ganeti's RAPI server answers TLS 1.3 requests ~40 ms late (see make_ssl_context).
    rapi_server.route("GET", "/2/info", body={"name": "cluster-a.test"})
    client = _client(rapi_server, ca_path=certs["rapi"][0])

    assert client.cluster_info() == {"name": "cluster-a.test"}
    assert rapi_server.versions == ["TLSv1.2"]
    context = make_ssl_context(certs["rapi"][0])
    assert context.maximum_version == ssl.TLSVersion.TLSv1_2
    assert all(c["name"].startswith(("ECDHE-", "TLS_")) and ("GCM" in c["name"] or "CHACHA20" in c["name"])
               for c in context.get_ciphers())


@pytest.mark.parametrize("fixture,ca,mode", [
    ("tls13_server", "rapi", "pinned"),
    ("tls13_leaf_ok_server", "ca", "verified"),
])
def test_a_server_that_refuses_tls_1_2_gets_tls_1_3(request, certs, fixture, ca, mode):
    server = request.getfixturevalue(fixture)
    server.route("GET", "/2/info", body={"name": "cluster-a.test"})
    client = _client(server, ca_path=certs[ca][0])

    assert client.cluster_info() == {"name": "cluster-a.test"}
    assert client.cluster_info() == {"name": "cluster-a.test"}
    assert (client.tls_mode, client.tls12) == (mode, False)
    assert server.versions == ["TLSv1.3", "TLSv1.3"]


def test_a_tls_1_3_server_still_needs_the_right_certificate(tls13_server, certs):
    client = _client(tls13_server, ca_path=certs["other"][0])
    with pytest.raises(RapiError) as info:
        client.cluster_info()
    assert info.value.kind == "tls"
    assert tls13_server.requests == []


def test_the_first_request_falls_back_to_tls_1_3_without_a_probe(tls13_leaf_ok_server, certs, monkeypatch):
    # No probe handshake happens without ca_path (system trust store): the
    # first request meets the refusal and is sent again over TLS 1.3.
    monkeypatch.setenv("SSL_CERT_FILE", certs["ca"][0])  # the test CA in the system trust store
    tls13_leaf_ok_server.route("GET", "/2/info", body={"name": "cluster-b.test"})
    client = _client(tls13_leaf_ok_server)

    assert client.cluster_info() == {"name": "cluster-b.test"}
    assert client.tls12 is False
    assert tls13_leaf_ok_server.versions == ["TLSv1.3"]
