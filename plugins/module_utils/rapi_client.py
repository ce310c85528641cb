# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A small client for Ganeti's Remote API (RAPI, version 2).

It knows HTTP, TLS, authentication and the RAPI resources, and nothing
about instance moves.  Every failure is a :class:`RapiError` whose text
never contains a credential.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import html
import json
import re
import socket
import ssl
import threading
import time

try:
    import requests
    from requests.adapters import HTTPAdapter
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised by the import sanity test
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = exc
    HTTPAdapter = object

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover - Python 2 is not supported, this keeps pylint quiet
    from urllib import quote  # type: ignore

DEFAULT_PORT = 5080
DEFAULT_REQUEST_TIMEOUT = 60
USER_AGENT = "ganeti.rapi Ansible collection"
# A request's handshakes at most: a pin the server's certificate refutes, then a TLS 1.3-only server.
TLS_ATTEMPTS = 3
# urllib3's words when the server's certificate is not the pinned one.
_FINGERPRINT_MISMATCH = "Fingerprints did not match"
# Forward-secret AEAD suites only, for TLS 1.2 (TLS 1.3 suites are all of that kind).
TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"

_PEM_RE = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


class RapiError(Exception):
    """A RAPI request failed.

    ``status`` is the HTTP status (None when no answer arrived), ``message``
    and ``explain`` are Ganeti's own words, ``hint`` says what to do.
    """

    def __init__(self, message, status=None, explain=None, method=None, path=None,
                 side=None, hint=None, kind=None, maybe_sent=False):
        super(RapiError, self).__init__(message)
        # True when the request may have reached the server although it
        # failed (read timeout, dropped connection, 5xx): a job may exist.
        self.maybe_sent = maybe_sent
        self.message = message
        self.status = status
        self.explain = explain
        self.method = method
        self.path = path
        self.side = side
        self.hint = hint
        # "http", "tls", "connection", "timeout", "protocol", "deadline" (not sent)
        self.kind = kind or ("http" if status is not None else "connection")

    def __str__(self):
        text = self.describe()
        if self.hint:
            text = "%s. %s" % (text.rstrip("."), self.hint)
        return text

    def describe(self):
        """The error without the hint (for callers that show the hint on its own)."""
        parts = []
        if self.method and self.path:
            parts.append("%s %s" % (self.method, self.path))
        if self.status is not None:
            parts.append("HTTP %s" % self.status)
        text = self.message
        if self.explain and self.explain not in text:
            text = "%s (%s)" % (text, self.explain)
        return ": ".join([" ".join(parts), text]) if parts else text

    @property
    def ganeti_error_code(self):
        """Ganeti's error class in a 500 answer such as ``('...', 'unknown_entity')``."""
        match = re.search(r"'([a-z_]+)'\)\s*$", self.message or "")
        return match.group(1) if match else None


def _status_hint(status, method):
    if status == 401:
        return ("Check the username and password for this cluster "
                "(they must match /var/lib/ganeti/rapi/users on its master node)")
    if status == 403:
        return ("The RAPI user needs the 'write' option in /var/lib/ganeti/rapi/users "
                "(moves submit jobs and follow them with /wait)")
    if status == 502:
        return "The RAPI daemon cannot reach the master daemon: check the cluster's master node"
    if status == 503:
        return "The job queue is full or drained: see gnt-cluster queue info"
    return None


def read_password_file(path):
    """Return the first non-empty line of ``path``, as move-instance does.

    A file with more than one non-empty line is refused, because it is not
    clear which line is the password.
    """
    try:
        with open(path, "r") as handle:
            lines = [line.strip() for line in handle.read().splitlines()]
    except (IOError, OSError) as exc:
        raise ValueError("cannot read password_file %s: %s" % (path, exc.strerror or exc))
    lines = [line for line in lines if line]
    if not lines:
        raise ValueError("password_file %s is empty" % path)
    if len(lines) > 1:
        raise ValueError("password_file %s has %d non-empty lines; it must hold the password "
                         "alone on one line" % (path, len(lines)))
    return lines[0]


def _pem_certificates(path):
    try:
        with open(path, "r") as handle:
            text = handle.read()
    except (IOError, OSError) as exc:
        raise RapiError("cannot read ca_path %s: %s" % (path, exc.strerror or exc), kind="tls",
                        hint="Point ca_path at the cluster's RAPI certificate in PEM form")
    blocks = _PEM_RE.findall(text)
    if not blocks:
        raise RapiError("ca_path %s holds no PEM certificate" % path, kind="tls",
                        hint="Extract it with: openssl x509 -in /var/lib/ganeti/rapi.pem")
    return [ssl.PEM_cert_to_DER_cert(block + "\n") for block in blocks]


def _ask_version(tls, host):
    """Ask the probed server for /version (no credential) and read the answer to its end.

    A connection closed right after the handshake makes Ganeti's RAPI daemon log an ERROR with a traceback
    ("shutdown while in init"); a complete request does not.  Whatever goes wrong here is ignored: the
    certificate is all the probe is for.
    """
    until = time.monotonic() + min(tls.gettimeout() or 2, 2)  # Ganeti answers at once: the probe waits 2 s at most
    try:
        tls.settimeout(until - time.monotonic())
        tls.sendall(("GET /version HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nConnection: close\r\n\r\n"
                     % (host, USER_AGENT)).encode("ascii"))
        for _chunk in range(16):  # an answer of up to 64 KiB; Ganeti's is a few bytes
            tls.settimeout(max(0.001, until - time.monotonic()))
            if not tls.recv(4096):
                break
    except (OSError, ValueError, UnicodeError):
        pass


def make_ssl_context(ca_path, tls12=True):
    """An SSL context that trusts ``ca_path`` (or the system store).

    VERIFY_X509_STRICT is cleared because Ganeti's own ``rapi.pem`` is an
    X509 v1 certificate, which strict mode refuses as a trust anchor.

    With ``tls12`` the context offers TLS 1.2 at most (forward-secret AEAD
    suites only): Ganeti's RAPI server (3.0.2, pyOpenSSL) answers a TLS 1.3
    request about 40 ms late, apparently Nagle's algorithm holding its
    answer behind the session tickets it sends once the request arrived,
    which the client acknowledges late.  Measured on the lab: 56 ms per
    request under TLS 1.3, 18 ms under TLS 1.2.  A server that refuses TLS
    1.2 gets TLS 1.3 (see RapiClient).
    """
    context = ssl.create_default_context(cafile=ca_path) if ca_path else ssl.create_default_context()
    strict = getattr(ssl, "VERIFY_X509_STRICT", 0)
    context.verify_flags &= ~strict
    if tls12:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers(TLS12_CIPHERS)
    return context


class _TlsAdapter(HTTPAdapter):
    """Hands our SSL context (and an optional certificate pin) to urllib3."""

    def __init__(self, context, fingerprint=None, **kwargs):
        self._context = context
        self._fingerprint = fingerprint
        super(_TlsAdapter, self).__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["ssl_context"] = self._context
        if self._fingerprint:
            # The server must present exactly the pinned certificate; a pin
            # replaces the host-name check (Ganeti's CN never matches).
            kwargs["assert_fingerprint"] = self._fingerprint
            kwargs["assert_hostname"] = False
        return super(_TlsAdapter, self).init_poolmanager(*args, **kwargs)


class RapiClient:
    """One Ganeti cluster's RAPI endpoint."""

    def __init__(self, host, port=DEFAULT_PORT, username=None, password=None, ca_path=None,
                 validate_certs=True, request_timeout=DEFAULT_REQUEST_TIMEOUT, side=None,
                 session=None):
        if not HAS_REQUESTS:
            raise RapiError("the Python library 'requests' is required", kind="protocol")
        if not host or not str(host).strip():
            raise RapiError("host is empty", kind="protocol", side=side)
        self.host = str(host).strip()
        self.port = int(port)
        if not 0 < self.port < 65536:
            raise RapiError("port %s is out of range (1-65535)" % port, kind="protocol", side=side)
        if password is not None and not _is_ascii(password):
            # Ganeti decodes credentials as ASCII; never echo the value.
            raise RapiError("the password contains non-ASCII characters, which Ganeti's RAPI never accepts",
                            kind="protocol", side=side)
        self.username = username
        self._password = password
        self.ca_path = ca_path
        self.validate_certs = validate_certs
        self.request_timeout = request_timeout
        self.side = side
        self.tls_mode = None  # "pinned", "verified", "unverified", once connected
        self._session = session
        self._tls_ready = session is not None
        self._tls_lock = threading.Lock()  # requests may go side by side: the TLS set-up happens once
        self.tls12 = True  # offer TLS 1.2 at most until the server refuses it (make_ssl_context)
        self._pin_refused = False  # the server's certificate is not the one ca_path holds
        self._pin_guessed = False  # pinned from ca_path alone, until a request gets through
        # Anything with remaining() (seconds): no request is sent once it is
        # spent, and none waits longer than what is left of it.
        self.deadline = None

    # ------------------------------------------------------------------ HTTP
    @property
    def base_url(self):
        host = self.host
        if ":" in host and not host.startswith("["):
            host = "[%s]" % host  # IPv6 literal
        return "https://%s:%d" % (host, self.port)

    def _new_session(self):
        session = requests.Session()
        # Proxies, netrc and REQUESTS_CA_BUNDLE from the environment would
        # silently change where we connect and whom we trust.
        session.trust_env = False
        session.headers.update({"Accept": "application/json", "User-Agent": USER_AGENT})
        if self.username is not None and self._password is not None:
            session.auth = (self.username, self._password)
        return session

    def _setup_tls(self):
        session = self._new_session()
        if not self.validate_certs:
            session.verify = False
            self.tls_mode = "unverified"
        else:
            fingerprint = None
            if self.ca_path:
                _pem_certificates(self.ca_path)  # a clear error for an unusable file, before ssl's own
            try:
                context = make_ssl_context(self.ca_path, self.tls12)
            except (ssl.SSLError, IOError, OSError) as exc:
                raise RapiError("cannot load ca_path %s: %s" % (self.ca_path, exc), kind="tls", side=self.side,
                                hint="Point ca_path at the cluster's RAPI certificate in PEM form")
            if self.ca_path:
                session.verify = self.ca_path
                certificates = _pem_certificates(self.ca_path)
                if self._pin_refused:
                    fingerprint = None
                elif len(certificates) == 1:
                    # Pinned without a probe: a server that presents another certificate fails the first
                    # handshake before anything is sent, and is then checked as a CA's (_retry_tls).
                    fingerprint = hashlib.sha256(certificates[0]).hexdigest()
                    self._pin_guessed = True
                else:
                    capped = self.tls12
                    fingerprint = self._pinned_fingerprint()
                    if capped and not self.tls12:
                        context = make_ssl_context(self.ca_path, False)  # the probe met a TLS 1.3-only server
            else:
                session.verify = True
            session.mount("https://", _TlsAdapter(context, fingerprint))
            self.tls_mode = "pinned" if fingerprint else "verified"
        self._session = session
        self._tls_ready = True

    def _retry_tls(self, session, reason):
        """After a failed handshake (nothing was sent): set TLS up again if that can help; True to send again.

        ``session`` is the one the request used: when a request beside it has set TLS up again meanwhile, the
        request is simply sent again.
        """
        refuted = _FINGERPRINT_MISMATCH in reason
        if not (refuted or _protocol_refused(reason)):
            return False  # only these two fail in the handshake itself, before anything is sent
        with self._tls_lock:
            if self._session is not session:
                return True
            if refuted and self._pin_guessed:
                # Not the certificate in ca_path: it may be one a CA in ca_path issued, checked with the host name.
                self._pin_refused, self._pin_guessed = True, False
            elif not (self.validate_certs and self._fall_back_to_tls13(reason)):
                return False
            self._setup_tls()
            return True

    def _pinned_fingerprint(self):
        """SHA-256 of the server's certificate if ``ca_path`` (a bundle) holds that very certificate.

        Only then is the host-name check skipped: the server has to present
        the pinned certificate on every later connection.  A certificate that
        merely chains to a CA in ``ca_path`` keeps full host-name checking.
        (With one certificate in ``ca_path`` no probe is made: see _setup_tls.)
        """
        pinned = _pem_certificates(self.ca_path)
        try:
            try:
                peer = self._peer_certificate()
            except ssl.SSLError as exc:
                if not self._fall_back_to_tls13(str(exc)):
                    raise
                peer = self._peer_certificate()
        except ssl.SSLCertVerificationError as exc:
            raise RapiError("TLS verification of %s failed: %s" % (self.base_url, exc.verify_message or exc),
                            kind="tls", side=self.side,
                            hint="ca_path %s does not match the server's certificate; use that cluster's "
                                 "certificate (openssl x509 -in /var/lib/ganeti/rapi.pem on its master)"
                                 % self.ca_path)
        except ssl.SSLError as exc:
            if _connection_dropped(str(exc)) or isinstance(exc, ssl.SSLEOFError):
                raise RapiError("connection to %s closed during the TLS handshake" % self.base_url,
                                kind="connection", side=self.side, hint="Check that ganeti-rapi runs on the master")
            raise RapiError("TLS handshake with %s failed: %s" % (self.base_url, exc), kind="tls",
                            side=self.side, hint="Check that port %d is Ganeti's RAPI (HTTPS)" % self.port)
        except socket.timeout:
            raise RapiError("connecting to %s timed out" % self.base_url, kind="timeout", side=self.side,
                            hint="Check the host, the port and any firewall between here and the cluster")
        except (OSError, IOError) as exc:
            raise RapiError("cannot connect to %s: %s" % (self.base_url, exc.strerror or exc),
                            kind="connection", side=self.side,
                            hint="Check the host name, the port and that ganeti-rapi runs on the master")
        if peer in pinned:
            return hashlib.sha256(peer).hexdigest()
        return None

    def _fall_back_to_tls13(self, reason):
        """Stop capping at TLS 1.2 if that is why the handshake failed; True when the caller should retry."""
        if self.tls12 and _protocol_refused(reason):
            self.tls12 = False
            return True
        return False

    def _peer_certificate(self):
        probe = make_ssl_context(self.ca_path, self.tls12)
        probe.check_hostname = False
        with socket.create_connection((self.host.strip("[]"), self.port),
                                      timeout=self._time_left(min(self.request_timeout, 30))) as raw:
            with probe.wrap_socket(raw, server_hostname=self.host.strip("[]")) as tls:
                peer = tls.getpeercert(binary_form=True)
                _ask_version(tls, self.host)
                return peer

    def request(self, method, path, query=None, body=None, timeout=None):
        """Send one request and return the decoded JSON answer."""
        if not self._tls_ready:
            with self._tls_lock:
                if not self._tls_ready:
                    self._setup_tls()
        url = self.base_url + path
        kwargs = {"timeout": self._time_left(timeout or self.request_timeout, method, path),
                  "allow_redirects": False}
        if query:
            kwargs["params"] = query
        if body is not None:
            kwargs["data"] = json.dumps(body, sort_keys=True)
            kwargs["headers"] = {"Content-Type": "application/json"}
        try:
            for attempt in range(TLS_ATTEMPTS):
                session = self._session
                if attempt:
                    kwargs["timeout"] = self._time_left(timeout or self.request_timeout, method, path)
                try:
                    response = session.request(method, url, **kwargs)
                    break
                except requests.exceptions.SSLError as exc:
                    if attempt + 1 == TLS_ATTEMPTS or not self._retry_tls(session, _short(exc)):
                        raise
            self._pin_guessed = False  # a pin taken from ca_path alone held: it stays
        except requests.exceptions.SSLError as exc:
            reason = _short(exc)
            if _connection_dropped(reason):
                # The peer closed the connection during the handshake (a
                # restarting daemon behind a proxy): no certificate was judged.
                raise RapiError("connection to %s closed during the TLS handshake: %s" % (self.base_url, reason),
                                method=method, path=path, side=self.side, kind="connection",
                                hint="Check that ganeti-rapi runs on the master")
            raise RapiError("TLS verification of %s failed: %s" % (self.base_url, reason),
                            method=method, path=path, side=self.side, kind="tls",
                            hint=self._tls_hint(reason))
        except requests.exceptions.ConnectTimeout:
            raise RapiError("connecting to %s timed out after %ss" % (self.base_url, kwargs["timeout"]),
                            method=method, path=path, side=self.side, kind="timeout",
                            hint="Check the host, the port and any firewall between here and the cluster")
        except requests.exceptions.Timeout:
            raise RapiError("no answer from %s within %ss" % (self.base_url, kwargs["timeout"]),
                            method=method, path=path, side=self.side, kind="timeout", maybe_sent=True,
                            hint="Raise request_timeout or check the cluster's master node")
        except requests.exceptions.ConnectionError as exc:
            reason = _short(exc)
            raise RapiError("cannot connect to %s: %s" % (self.base_url, reason),
                            method=method, path=path, side=self.side, kind="connection",
                            maybe_sent=not _never_connected(exc),
                            hint="Check the host name, the port and that ganeti-rapi runs on the master")
        except requests.exceptions.RequestException as exc:
            # e.g. an answer cut off mid-body while the daemon restarts
            raise RapiError("request to %s failed: %s" % (self.base_url, _short(exc)), method=method, path=path,
                            side=self.side, kind="connection", maybe_sent=True,
                            hint="Check that ganeti-rapi runs on the master")
        if response.status_code != 200:
            raise self._http_error(response, method, path)
        try:
            return response.json()
        except ValueError:
            # The body is not echoed: a wrong service might reflect our request headers.
            raise RapiError("answer is not JSON (Content-Type %s, %d bytes)"
                            % (response.headers.get("Content-Type"), len(response.content)),
                            status=response.status_code, method=method, path=path, side=self.side,
                            kind="protocol", maybe_sent=True,
                            hint="Check that host and port point at Ganeti's RAPI")

    def _time_left(self, timeout, method=None, path=None):
        """``timeout`` capped by what is left of the deadline; RapiError (nothing sent) once it is spent."""
        if self.deadline is None:
            return timeout
        left = self.deadline.remaining()
        if left <= 0:
            raise RapiError("not sent: the deadline had passed", method=method, path=path, side=self.side,
                            kind="deadline")
        return min(timeout, left)

    def _tls_hint(self, reason=""):
        if "mismatch" in reason or "doesn't match" in reason or "not valid for" in reason:
            return ("the certificate is valid but issued for another name: connect with a host name the "
                    "certificate lists, or put that server's own certificate in ca_path to pin it")
        if self.ca_path:
            return ("ca_path %s does not match the server's certificate; use that cluster's certificate "
                    "(openssl x509 -in /var/lib/ganeti/rapi.pem on its master)" % self.ca_path)
        return ("Ganeti's RAPI certificate is self-signed: set ca_path to it "
                "(openssl x509 -in /var/lib/ganeti/rapi.pem on the master)")

    def _http_error(self, response, method, path):
        message, explain = response.reason or "HTTP error", None
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict):
            message = html.unescape(str(data.get("message") or message))
            explain = data.get("explain")
            explain = html.unescape(str(explain)) if explain else None
        return RapiError(message, status=response.status_code, explain=explain, method=method, path=path,
                         side=self.side, hint=_status_hint(response.status_code, method),
                         maybe_sent=response.status_code in (500, 502, 504))

    def get(self, path, query=None, body=None, timeout=None):
        return self.request("GET", path, query=query, body=body, timeout=timeout)

    def put(self, path, query=None, body=None):
        return self.request("PUT", path, query=query, body=body)

    def post(self, path, query=None, body=None):
        return self.request("POST", path, query=query, body=body)

    def delete(self, path, timeout=None):
        return self.request("DELETE", path, timeout=timeout)

    # ------------------------------------------------------------- resources
    def cluster_info(self):
        return self.get("/2/info")

    def query(self, resource, fields, qfilter=None):
        """Ganeti's query resource, as a list of dicts keyed by field name.

        RAPI only lets users with the ``write`` option use it (observed on
        Ganeti 3.0.2: 403 for a read-only user), which makes it a cheap check
        of that access too.  Values Ganeti marks as unavailable become None.
        """
        body = {"fields": list(fields)}
        if qfilter is not None:
            body["qfilter"] = qfilter
        answer = self.put("/2/query/%s" % quote(resource, safe=""), body=body)
        rows = []
        for row in answer.get("data") or []:
            rows.append(dict((name, cell[1] if cell and cell[0] == 0 else None)
                             for name, cell in zip(fields, row)))
        return rows

    def query_instance(self, name, fields):
        """One instance's fields, or None when the cluster has no such instance."""
        try:
            rows = self.query("instance", fields, ["=", "name", name])
        except RapiError as exc:
            if exc.status in (404, 500) and exc.ganeti_error_code == "unknown_entity":
                return None
            raise
        return rows[0] if rows else None

    def instances(self):
        """Every instance with its fields, in one request (``GET /2/instances?bulk=1``)."""
        return self.get("/2/instances", query={"bulk": 1})

    def instance_info_job(self, name):
        """A job reading the instance's configuration (static: no node is asked)."""
        return self.get("/2/instances/%s/info" % _name(name), query={"static": 1})

    def prepare_export(self, name):
        return self.put("/2/instances/%s/prepare-export" % _name(name), query={"mode": "remote"})

    def create_instance(self, body):
        body = dict(body)
        body["__version__"] = 1
        return self.post("/2/instances", body=body)

    def export_instance(self, name, body):
        return self.put("/2/instances/%s/export" % _name(name), body=body)

    def remove_instance(self, name):
        return self.delete("/2/instances/%s" % _name(name))

    def startup_instance(self, name):
        return self.put("/2/instances/%s/startup" % _name(name))

    def wait_for_job_change(self, job_id, fields, previous_job_info, previous_log_serial, timeout=None):
        body = {"fields": list(fields), "previous_job_info": previous_job_info,
                "previous_log_serial": previous_log_serial}
        return self.get("/2/jobs/%s/wait" % _job(job_id), body=body, timeout=timeout)

    def get_job(self, job_id, timeout=None):
        return self.get("/2/jobs/%s" % _job(job_id), timeout=timeout)

    def cancel_job(self, job_id, timeout=None):
        return self.delete("/2/jobs/%s" % _job(job_id), timeout=timeout)


def _is_ascii(text):
    try:
        text.encode("ascii")
    except UnicodeError:
        return False
    return True


def _name(name):
    return quote(str(name), safe="")


def _job(job_id):
    # 3.x answers job ids as numbers, 2.x as strings: treat them as opaque.
    return quote(str(job_id), safe="")


def _protocol_refused(reason):
    """The server would not speak the TLS version offered (e.g. a TLS 1.3-only proxy)."""
    reason = reason.lower()
    return any(text in reason for text in ("protocol version", "unsupported protocol", "no protocols available",
                                           "version too low"))


def _connection_dropped(reason):
    return any(marker in reason for marker in ("UNEXPECTED_EOF", "EOF occurred", "Connection reset",
                                               "ConnectionResetError"))


def _never_connected(exc):
    """True when a ConnectionError happened before the request could be sent."""
    text = repr(exc)
    return any(marker in text for marker in ("NewConnectionError", "Failed to establish a new connection",
                                             "Name or service not known", "Connection refused",
                                             "No route to host", "ConnectTimeoutError"))


def _short(exc):
    """The innermost reason of a requests/urllib3 exception, without the URL noise."""
    text = str(exc)
    match = re.search(r"\((Caused by [^(]*\((.*)\))\)\s*$", text)
    if match:
        text = match.group(2)
    return text.strip("'\" ")[:300]
