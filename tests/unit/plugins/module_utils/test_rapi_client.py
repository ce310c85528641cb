# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""RapiClient over real HTTP(S) against a local server, read_password_file, RapiError."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import socket

import pytest

from ansible_collections.ganeti.rapi.plugins.module_utils.rapi_client import (
    RapiClient, RapiError, read_password_file,
)
from ansible_collections.ganeti.rapi.tests.unit.plugins.module_utils.local_https import (
    free_port, ganeti_error_body,
)

USERNAME = "mover"
PASSWORD = "Zq8-unit-test-PASSWORD-7Kx"


def assert_no_password(err):
    """The password must not leak through any part of an error."""
    encoded = base64.b64encode(("%s:%s" % (USERNAME, PASSWORD)).encode()).decode()
    for text in (str(err), repr(err), err.hint or "", err.message or "", err.explain or "", repr(err.args)):
        assert PASSWORD not in text
        assert encoded not in text


@pytest.fixture
def client(rapi_server, certs):
    """A client that pins the server's own (Ganeti-like) certificate."""
    return RapiClient("127.0.0.1", rapi_server.port, username=USERNAME, password=PASSWORD,
                      ca_path=certs["rapi"][0], request_timeout=5, side="source")


# --------------------------------------------------------------------- answers
def test_200_json_answer_and_request_basics(rapi_server, client):
    rapi_server.route("GET", "/2/info", body={"name": "cluster-a.test", "default_iallocator": "hail"})

    assert client.cluster_info() == {"name": "cluster-a.test", "default_iallocator": "hail"}

    request = rapi_server.last()
    assert (request.method, request.path) == ("GET", "/2/info")
    assert request.headers["accept"] == "application/json"
    expected_auth = base64.b64encode(("%s:%s" % (USERNAME, PASSWORD)).encode()).decode()
    assert request.headers["authorization"] == "Basic " + expected_auth
    assert request.body == b""
    assert client.tls_mode == "pinned"


def test_no_authorization_header_without_credentials(rapi_server, certs):
    rapi_server.route("GET", "/version", body=2)
    anonymous = RapiClient("127.0.0.1", rapi_server.port, ca_path=certs["rapi"][0])
    assert anonymous.get("/version") == 2
    assert "authorization" not in rapi_server.last().headers


def test_401_uses_ganeti_message_and_explain_and_hints_at_credentials(rapi_server, client):
    rapi_server.route("GET", "/2/info", status=401,
                      body=ganeti_error_body(401, "Unauthorized", "No permission -- see authorization schemes"),
                      headers={"WWW-Authenticate": 'Basic realm="Ganeti Remote API"'})

    with pytest.raises(RapiError) as info:
        client.cluster_info()

    err = info.value
    assert err.status == 401
    assert err.kind == "http"
    assert err.message == "Unauthorized"
    assert err.explain == "No permission -- see authorization schemes"
    assert (err.method, err.path, err.side) == ("GET", "/2/info", "source")
    assert "username" in err.hint and "password" in err.hint
    text = str(err)
    assert text.startswith("GET /2/info HTTP 401: Unauthorized (No permission -- see authorization schemes)")
    assert err.hint in text
    assert_no_password(err)


def test_403_hints_at_the_write_option(rapi_server, client):
    rapi_server.route("PUT", "/2/instances/inst1.test/prepare-export", status=403,
                      body=ganeti_error_body(403, "Forbidden", "Request forbidden -- authorization will not help"))

    with pytest.raises(RapiError) as info:
        client.prepare_export("inst1.test")

    err = info.value
    assert err.status == 403
    assert err.explain == "Request forbidden -- authorization will not help"
    assert "'write'" in err.hint
    assert_no_password(err)


def test_404_elsewhere_is_an_error(rapi_server, client):
    with pytest.raises(RapiError) as info:
        client.get("/2/nonexistent")
    assert info.value.status == 404
    assert info.value.message == "Not Found"


def test_500_message_is_html_unescaped(rapi_server, client):
    rapi_server.route("GET", "/2/jobs/4711/wait", status=500,
                      body=ganeti_error_body(500, "Can't load job file", "Job <4711> isn't there"))

    with pytest.raises(RapiError) as info:
        client.wait_for_job_change(4711, ["status"], None, None)

    err = info.value
    assert err.status == 500
    assert err.message == "Can't load job file"
    assert err.explain == "Job <4711> isn't there"
    assert "&#x27;" not in str(err) and "&lt;" not in str(err)
    assert err.hint is None


def test_non_json_200_answer_is_a_protocol_error(rapi_server, client):
    rapi_server.route("GET", "/2/info", body=b"<html><body>proxy says hi</body></html>", content_type="text/html")

    with pytest.raises(RapiError) as info:
        client.cluster_info()

    err = info.value
    assert err.kind == "protocol"
    assert err.status == 200
    assert "not JSON" in err.message
    # the body is never echoed: a wrong service could reflect the Authorization header
    assert "proxy says hi" not in str(err)
    assert "text/html" in err.message
    assert_no_password(err)


def test_non_json_error_answer_keeps_the_http_reason(rapi_server, client):
    rapi_server.route("GET", "/2/info", status=502, body=b"<html>Bad Gateway</html>", content_type="text/html")

    with pytest.raises(RapiError) as info:
        client.cluster_info()

    err = info.value
    assert err.status == 502
    assert err.kind == "http"
    assert err.message == "Bad Gateway"
    assert "master daemon" in err.hint


def test_503_hints_at_the_job_queue(rapi_server, client):
    rapi_server.route("POST", "/2/instances", status=503, body=ganeti_error_body(503, "Service Unavailable"))
    with pytest.raises(RapiError) as info:
        client.create_instance({"name": "x"})
    assert info.value.status == 503
    assert "queue" in info.value.hint


# ------------------------------------------------------------ network failures
@pytest.mark.parametrize("pinned", [False, True], ids=["unverified", "pinned-probe"])
def test_connection_refused(certs, pinned):
    port = free_port()
    client = RapiClient("127.0.0.1", port, username=USERNAME, password=PASSWORD,
                        ca_path=certs["rapi"][0] if pinned else None, validate_certs=pinned, request_timeout=5,
                        side="destination")

    with pytest.raises(RapiError) as info:
        client.cluster_info()

    err = info.value
    assert err.kind == "connection"
    assert err.status is None
    assert err.side == "destination"
    assert "cannot connect to https://127.0.0.1:%d" % port in err.message
    assert "port" in err.hint and "host" in err.hint
    assert_no_password(err)


def test_read_timeout(rapi_server, client):
    rapi_server.route("GET", "/2/info", hang=True)
    client.request_timeout = 0.4

    with pytest.raises(RapiError) as info:
        client.cluster_info()

    err = info.value
    assert err.kind == "timeout"
    assert err.status is None
    assert "request_timeout" in err.hint
    assert_no_password(err)


def test_explicit_timeout_argument_wins(rapi_server, client):
    rapi_server.route("GET", "/2/jobs/5/wait", hang=True)
    client.request_timeout = 60
    with pytest.raises(RapiError) as info:
        client.wait_for_job_change(5, ["status"], None, None, timeout=0.4)
    assert info.value.kind == "timeout"
    assert "0.4s" in info.value.message


def test_tls_handshake_timeout_while_probing_the_certificate(certs):
    # Something listens but never speaks TLS: the certificate probe must time out, not hang.
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    try:
        client = RapiClient("127.0.0.1", silent.getsockname()[1], username=USERNAME, password=PASSWORD,
                            ca_path=certs["rapi"][0], request_timeout=0.4)
        with pytest.raises(RapiError) as info:
            client.cluster_info()
    finally:
        silent.close()
    assert info.value.kind == "timeout"
    assert_no_password(info.value)


def test_answer_cut_off_mid_body_may_have_been_sent(rapi_server, client):
    # The daemon announced more than it sent, then closed the connection (e.g. it restarted mid-answer):
    # the request was received, so a job may exist.
    body = b'{"partial-body-marker": 4711, '
    rapi_server.route("PUT", "/2/instances/inst1.test/export", body=body, content_length=len(body) + 500)

    with pytest.raises(RapiError) as info:
        client.export_instance("inst1.test", {"mode": "remote"})

    err = info.value
    assert err.kind == "connection"
    assert err.maybe_sent is True
    assert err.status is None
    assert (err.method, err.path) == ("PUT", "/2/instances/inst1.test/export")
    assert rapi_server.last().path == "/2/instances/inst1.test/export"  # it did reach the server
    assert "partial-body-marker" not in str(err)
    assert_no_password(err)


@pytest.mark.parametrize("pinned", [False, True], ids=["unverified", "pinned-probe"])
def test_connection_refused_was_never_sent(certs, pinned):
    client = RapiClient("127.0.0.1", free_port(), username=USERNAME, password=PASSWORD,
                        ca_path=certs["rapi"][0] if pinned else None, validate_certs=pinned, request_timeout=5)
    with pytest.raises(RapiError) as info:
        client.export_instance("inst1.test", {"mode": "remote"})
    assert info.value.kind == "connection"
    assert info.value.maybe_sent is False


def test_non_json_200_answer_reflecting_the_request_is_not_echoed(rapi_server, client):
    # A wrong service that reflects the request (Authorization header included) answers 200.
    auth = base64.b64encode(("%s:%s" % (USERNAME, PASSWORD)).encode()).decode()
    reflected = ("PUT /2/instances/inst1.test/export HTTP/1.1\r\nAuthorization: Basic %s\r\n"
                 "X-Marker: reflected-body-marker\r\n" % auth).encode()
    rapi_server.route("PUT", "/2/instances/inst1.test/export", body=reflected, content_type="message/http")

    with pytest.raises(RapiError) as info:
        client.export_instance("inst1.test", {"mode": "remote"})

    err = info.value
    assert (err.kind, err.status) == ("protocol", 200)
    assert err.maybe_sent is True
    assert "%d bytes" % len(reflected) in err.message
    for text in (str(err), repr(err), err.message, err.hint or ""):
        assert "reflected-body-marker" not in text
        assert auth not in text
    assert_no_password(err)


# ------------------------------------------------------------------ resources
@pytest.mark.parametrize("job_id", [7, "7"], ids=["number", "string"])
def test_job_ids_as_numbers_or_strings(rapi_server, client, job_id):
    rapi_server.route("GET", "/2/jobs/7", body={"id": 7, "status": "success"})
    rapi_server.route("DELETE", "/2/jobs/7", body=[True, "Dequeued job 7"])
    rapi_server.route("GET", "/2/jobs/7/wait", body={"job_info": ["success"], "log_entries": []})

    assert client.get_job(job_id)["status"] == "success"
    assert client.cancel_job(job_id) == [True, "Dequeued job 7"]
    assert client.wait_for_job_change(job_id, ["status"], ["running"], 3) == {"job_info": ["success"],
                                                                              "log_entries": []}
    assert [(r.method, r.path) for r in rapi_server.requests] == [
        ("GET", "/2/jobs/7"), ("DELETE", "/2/jobs/7"), ("GET", "/2/jobs/7/wait")]
    wait = rapi_server.last()
    assert wait.headers["content-type"] == "application/json"
    assert wait.json() == {"fields": ["status"], "previous_job_info": ["running"], "previous_log_serial": 3}


def test_query_decodes_rows_and_unavailable_cells(rapi_server, client):
    rapi_server.route("PUT", "/2/query/instance", body={
        "fields": [{"name": "name"}, {"name": "oper_state"}, {"name": "disk.sizes"}],
        "data": [
            [[0, "inst1.test"], [0, True], [0, [64, 128]]],
            [[0, "inst2.test"], [3, None], [4, None]],  # unavailable / offline cells
            [[0, "inst3.test"], [1], []],  # unknown field, malformed empty cell
        ]})

    rows = client.query("instance", ["name", "oper_state", "disk.sizes"], ["|", ["=", "name", "x"]])

    assert rows == [
        {"name": "inst1.test", "oper_state": True, "disk.sizes": [64, 128]},
        {"name": "inst2.test", "oper_state": None, "disk.sizes": None},
        {"name": "inst3.test", "oper_state": None, "disk.sizes": None},
    ]
    request = rapi_server.last()
    assert (request.method, request.path) == ("PUT", "/2/query/instance")
    assert request.json() == {"fields": ["name", "oper_state", "disk.sizes"], "qfilter": ["|", ["=", "name", "x"]]}


def test_query_without_filter_and_without_data(rapi_server, client):
    rapi_server.route("PUT", "/2/query/node", body={"fields": [], "data": None})
    assert client.query("node", ["name"]) == []
    assert rapi_server.last().json() == {"fields": ["name"]}


def test_query_instance_found(rapi_server, client):
    rapi_server.route("PUT", "/2/query/instance", body={"data": [[[0, "inst1.test"], [0, "up"]]]})
    row = client.query_instance("inst1.test", ["name", "admin_state"])
    assert row == {"name": "inst1.test", "admin_state": "up"}
    assert rapi_server.last().json()["qfilter"] == ["=", "name", "inst1.test"]


def test_query_instance_empty_answer_is_none(rapi_server, client):
    rapi_server.route("PUT", "/2/query/instance", body={"data": []})
    assert client.query_instance("inst1.test", ["name"]) is None


def test_query_instance_unknown_entity_500_is_none(rapi_server, client):
    rapi_server.route("PUT", "/2/query/instance", status=500,
                      body=ganeti_error_body(500, "('Instance name x not found', 'unknown_entity')"))
    assert client.query_instance("x", ["name"]) is None


def test_query_instance_other_500_is_raised(rapi_server, client):
    rapi_server.route("PUT", "/2/query/instance", status=500,
                      body=ganeti_error_body(500, "('Cluster is being upgraded', 'wrong_state')"))
    with pytest.raises(RapiError) as info:
        client.query_instance("x", ["name"])
    assert info.value.ganeti_error_code == "wrong_state"


def test_body_is_sorted_json_with_content_type_and_version(rapi_server, client):
    rapi_server.route("POST", "/2/instances", body=42)
    body = {"name": "inst1.test", "mode": "remote-import", "beparams": {"vcpus": 2, "maxmem": 512},
            "disks": [{"size": 64, "mode": "rw"}]}

    assert client.create_instance(body) == 42

    request = rapi_server.last()
    assert request.headers["content-type"] == "application/json"
    expected = dict(body, __version__=1)
    assert request.body == json.dumps(expected, sort_keys=True).encode()
    assert "__version__" not in body  # the caller's dict is not modified
    assert request.query == {}


def test_create_instance_and_export_body(rapi_server, client):
    rapi_server.route("POST", "/2/instances", body=43)
    rapi_server.route("PUT", "/2/instances/inst1.test/export", body=44)
    export_body = {"mode": "remote", "destination": [["198.18.0.21", 40001, "ab" * 20, "cd" * 20, "ef" * 8]]}

    assert client.create_instance({"name": "x"}) == 43
    assert rapi_server.last().query == {}
    assert client.export_instance("inst1.test", export_body) == 44
    sent = rapi_server.last().json()
    assert sent == export_body
    assert isinstance(sent["destination"][0][1], int)


def test_info_and_prepare_export_query_parameters(rapi_server, client):
    rapi_server.route("GET", "/2/instances/inst1.test/info", body=11)
    rapi_server.route("PUT", "/2/instances/inst1.test/prepare-export", body=12)

    assert client.instance_info_job("inst1.test") == 11
    assert rapi_server.last().query == {"static": ["1"]}  # a boolean as RAPI reads it
    assert client.prepare_export("inst1.test") == 12
    assert rapi_server.last().query == {"mode": ["remote"]}


def test_instance_and_job_names_are_quoted(rapi_server, client):
    rapi_server.route("DELETE", "/2/instances/odd%2Fname", body=3)
    rapi_server.route("PUT", "/2/instances/odd%2Fname/startup", body=4)
    assert client.remove_instance("odd/name") == 3
    assert client.startup_instance("odd/name") == 4
    assert [r.path for r in rapi_server.requests] == ["/2/instances/odd%2Fname", "/2/instances/odd%2Fname/startup"]


# ------------------------------------------------------------- construction
def test_constructor_refuses_empty_host_and_bad_port():
    with pytest.raises(RapiError) as info:
        RapiClient("  ", side="source")
    assert info.value.kind == "protocol"
    assert info.value.side == "source"
    with pytest.raises(RapiError) as info:
        RapiClient("cluster.test", port=70000)
    assert "out of range" in str(info.value)


def test_base_url_brackets_ipv6():
    assert RapiClient("::1", port=5080).base_url == "https://[::1]:5080"
    assert RapiClient(" cluster.test ", port="15080").base_url == "https://cluster.test:15080"


def test_constructor_refuses_a_non_ascii_password_without_showing_it():
    password = "p\u00e4ssw\u00f6rd"
    with pytest.raises(RapiError) as info:
        RapiClient("cluster.test", username=USERNAME, password=password, side="destination")
    err = info.value
    assert (err.kind, err.side) == ("protocol", "destination")
    assert "non-ASCII" in str(err)
    for text in (str(err), repr(err), repr(err.args)):
        assert password not in text
        assert "\u00e4" not in text and "\u00f6" not in text


# ------------------------------------------------------------------ RapiError
def test_rapi_error_text_and_ganeti_error_code():
    err = RapiError("('Instance name x not found', 'unknown_entity')", status=500, method="PUT",
                    path="/2/query/instance", hint="Do something.")
    assert err.ganeti_error_code == "unknown_entity"
    assert str(err) == ("PUT /2/query/instance HTTP 500: ('Instance name x not found', 'unknown_entity'). "
                        "Do something.")
    assert RapiError("plain").kind == "connection"
    assert RapiError("plain", status=400).kind == "http"
    assert RapiError("plain").ganeti_error_code is None
    # explain already part of the message is not repeated
    assert str(RapiError("Unauthorized: nope", status=401, explain="nope")) == "HTTP 401: Unauthorized: nope"


# --------------------------------------------------------- read_password_file
SECRET = "pw-Secret-line-42"


def _write(tmp_path, text):
    path = tmp_path / "password"
    path.write_text(text)
    return str(path)


def test_password_file_first_non_empty_line(tmp_path):
    assert read_password_file(_write(tmp_path, "\n   \n  %s  \n\n" % SECRET)) == SECRET
    assert read_password_file(_write(tmp_path, SECRET)) == SECRET


def test_password_file_empty(tmp_path):
    path = _write(tmp_path, "\n  \n\t\n")
    with pytest.raises(ValueError) as info:
        read_password_file(path)
    assert "is empty" in str(info.value)
    assert path in str(info.value)


def test_password_file_several_lines_refused_without_showing_them(tmp_path):
    path = _write(tmp_path, "%s\nsecond-%s\n" % (SECRET, SECRET))
    with pytest.raises(ValueError) as info:
        read_password_file(path)
    assert "2 non-empty lines" in str(info.value)
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value)


def test_password_file_missing(tmp_path):
    path = str(tmp_path / "nope")
    with pytest.raises(ValueError) as info:
        read_password_file(path)
    assert "cannot read password_file %s" % path in str(info.value)


def test_password_file_unreadable_directory_error_has_no_content(tmp_path):
    with pytest.raises(ValueError) as info:
        read_password_file(str(tmp_path))  # a directory
    assert "cannot read password_file" in str(info.value)


# -------------------------------------------------------------------- deadline
def test_no_request_outlives_the_deadline(rapi_server, client):
    from ansible_collections.ganeti.rapi.plugins.module_utils.job_waiter import Deadline
    import time
    rapi_server.route("GET", "/2/info", hang=True)
    client.deadline = Deadline(0.6)
    started = time.monotonic()
    with pytest.raises(RapiError) as info:
        client.cluster_info()
    assert time.monotonic() - started < 2  # request_timeout is 5 s: the deadline cut it
    assert info.value.kind == "timeout"


def test_nothing_is_sent_once_the_deadline_has_passed(rapi_server, client):
    from ansible_collections.ganeti.rapi.plugins.module_utils.job_waiter import Deadline
    rapi_server.route("POST", "/2/instances", body=17)
    client.deadline = Deadline(0)
    with pytest.raises(RapiError) as info:
        client.create_instance({"name": "x"})
    assert info.value.kind == "deadline"
    assert info.value.maybe_sent is False
    assert rapi_server.requests == []
