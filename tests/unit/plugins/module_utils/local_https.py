# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A local, in-process HTTPS server that answers like Ganeti's RAPI, and test certificates.

Only 127.0.0.1 is used.  Certificates are made with the ``openssl`` command
(EC P-256 keys, so that making them takes milliseconds):

* ``rapi``: self-signed X509 v1, CN=ganeti.example.com, like Ganeti's own
  ``rapi.pem`` (the CN matches no host);
* ``other``: another self-signed certificate;
* ``ca``: a CA; ``leaf_ok`` is issued by it with SAN IP:127.0.0.1 and
  DNS:localhost, ``leaf_bad`` with SAN DNS:wrong.example.org only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import socket
import ssl
import subprocess
import threading

try:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
except ImportError:  # pragma: no cover - Python < 3.7
    ThreadingHTTPServer = None
    BaseHTTPRequestHandler = object

try:
    from urllib.parse import parse_qs, urlsplit
except ImportError:  # pragma: no cover
    from urlparse import parse_qs, urlsplit  # type: ignore


def have_openssl():
    return shutil.which("openssl") is not None


def _openssl(*args, **kwargs):
    subprocess.run(("openssl",) + args, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                   cwd=kwargs.get("cwd"))


def _ec_key_and_csr(directory, name, cn):
    key = os.path.join(directory, name + ".key")
    csr = os.path.join(directory, name + ".csr")
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", key, "-subj", "/CN=%s" % cn, "-out", csr)
    return key, csr


def make_certificates(directory):
    """Create the test certificates in ``directory``; return {name: (certfile, keyfile)}."""
    result = {}
    # Ganeti-like: X509 v1 (no extensions), self-signed, CN that matches nothing.
    for name, cn in (("rapi", "ganeti.example.com"), ("other", "other.example.com")):
        key, csr = _ec_key_and_csr(directory, name, cn)
        crt = os.path.join(directory, name + ".crt")
        _openssl("x509", "-req", "-in", csr, "-signkey", key, "-days", "2", "-out", crt)
        result[name] = (crt, key)
    # A CA and two leaves.
    ca_key = os.path.join(directory, "ca.key")
    ca_crt = os.path.join(directory, "ca.crt")
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", ca_key, "-out", ca_crt, "-days", "2", "-subj", "/CN=Unit Test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-addext", "subjectKeyIdentifier=hash")
    result["ca"] = (ca_crt, ca_key)
    for name, san in (("leaf_ok", "IP:127.0.0.1,DNS:localhost"), ("leaf_bad", "DNS:wrong.example.org")):
        key, csr = _ec_key_and_csr(directory, name, "rapi.cluster.test")
        ext = os.path.join(directory, name + ".ext")
        with open(ext, "w") as handle:
            handle.write("basicConstraints=critical,CA:FALSE\n"
                         "keyUsage=critical,digitalSignature\n"
                         "extendedKeyUsage=serverAuth\n"
                         "subjectKeyIdentifier=hash\n"
                         "authorityKeyIdentifier=keyid\n"
                         "subjectAltName=%s\n" % san)
        crt = os.path.join(directory, name + ".crt")
        _openssl("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
                 "-days", "2", "-extfile", ext, "-out", crt, cwd=directory)
        result[name] = (crt, key)
    return result


class RecordedRequest:
    def __init__(self, method, path, query, headers, body):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))


class _Route:
    def __init__(self, status, body, content_type, headers, hang, content_length=None):
        self.status = status
        self.content_length = content_length
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}
        self.hang = hang


def ganeti_error_body(code, message, explain=None):
    """The JSON body of a Ganeti RAPI error, with the message HTML-escaped as Ganeti does."""
    escaped = (message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
               .replace('"', "&quot;").replace("'", "&#x27;"))
    return {"code": code, "message": escaped, "explain": explain}


class _Handler(BaseHTTPRequestHandler):
    server_version = "Ganeti 3.0.2"
    sys_version = ""

    def log_message(self, *args):  # keep test output quiet
        pass

    def _serve(self):
        rapi = self.server.rapi
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        recorded = RecordedRequest(self.command, split.path, parse_qs(split.query, keep_blank_values=True),
                                   dict((k.lower(), v) for k, v in self.headers.items()), body)
        if ((self.command, split.path) == ("GET", "/version") and "authorization" not in recorded.headers
                and recorded.headers.get("connection") == "close"):
            rapi.probes.append(recorded)  # RapiClient's certificate probe, apart from the requests a test scripts
        else:
            rapi.versions.append(self.connection.version())
            rapi.requests.append(recorded)
        route = rapi.routes.get((self.command, split.path))
        if route is None:
            route = _Route(404, ganeti_error_body(404, "Not Found", "Nothing matches the given URI"),
                           "application/json", None, False)
        if route.hang:
            rapi.stopping.wait(10)
            return
        payload = route.body
        if not isinstance(payload, bytes):
            payload = json.dumps(payload).encode("utf-8")
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        # content_length larger than the body: the answer is cut off mid-body (then the connection closes)
        self.send_header("Content-Length", str(route.content_length if route.content_length is not None
                                               else len(payload)))
        self.send_header("Connection", "close")
        for name, value in route.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_DELETE = _serve


class RapiTestServer:
    """An HTTPS server on 127.0.0.1 with scripted answers per (method, path)."""

    def __init__(self, certfile, keyfile, minimum_version=None):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certfile, keyfile)
        if minimum_version is not None:
            context.minimum_version = minimum_version
        self.versions = []  # the TLS version of each request
        self.routes = {}
        self.requests = []
        self.probes = []  # the certificate probe's unauthenticated GET /version
        self.stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.rapi = self
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    def route(self, method, path, status=200, body=None, content_type="application/json", headers=None,
              hang=False, content_length=None):
        self.routes[(method, path)] = _Route(status, body, content_type, headers, hang, content_length)

    def last(self):
        return self.requests[-1]


def free_port():
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port
