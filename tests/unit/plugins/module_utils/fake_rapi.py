# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Scripted stand-ins for RapiClient, a fake clock, and Ganeti-shaped test data.

Nothing here touches the network.  A :class:`FakeCluster` answers the calls
InstanceMove makes; each job it hands out follows a script of ``/wait``
answers (the last one repeats), and every call is recorded in order, in the
cluster's own ``calls`` and in a log shared by both sides (``events``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.ganeti.rapi.plugins.module_utils.instance_move import LIVE_FIELDS

TS = [1700000000, 250000]


class FakeClock:
    """Monotonic clock and sleep in one; sleeping advances the clock."""

    def __init__(self, start=1000.0):
        self.now = float(start)
        self.sleeps = []

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def log_entry(serial, kind, message, ts=None):
    return [serial, list(ts or TS), kind, message]


def job_info(status, result=None, error=None, opstatus=None):
    """The job_info list for WAIT_FIELDS: status, opstatus, opresult."""
    if opstatus is None:
        opstatus = [status]
    if error is not None:
        opresult = [error]
    elif status == "success":
        opresult = [result]
    else:
        opresult = [None]
    return [status, opstatus, opresult]


def answer(status, logs=(), result=None, error=None, opstatus=None):
    """One /2/jobs/ID/wait answer."""
    return {"job_info": job_info(status, result=result, error=error, opstatus=opstatus),
            "log_entries": [list(entry) for entry in logs]}


class ScriptedJobClient:
    """Only wait_for_job_change, answering from a script (answers, None, or exceptions to raise)."""

    def __init__(self, script, clock=None, advance=0.0, request_timeout=60):
        self.script = list(script)
        self.clock = clock
        self.advance = advance
        self.request_timeout = request_timeout
        self.calls = []

    def wait_for_job_change(self, job_id, fields, previous_job_info, previous_log_serial, timeout=None):
        self.calls.append({"job_id": job_id, "fields": list(fields),
                           "previous_job_info": copy.deepcopy(previous_job_info),
                           "previous_log_serial": previous_log_serial, "timeout": timeout})
        if self.clock is not None:
            self.clock.advance(self.advance)
        if not self.script:
            raise AssertionError("unexpected /wait call number %d" % len(self.calls))
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        return copy.deepcopy(item)


SUBMITTING = ("instance_info_job", "prepare_export", "create_instance", "export_instance", "remove_instance",
              "startup_instance")


class FakeCluster:
    """The RapiClient methods InstanceMove uses, for one cluster, scripted."""

    def __init__(self, side, clock, info=None, events=None, wait_advance=1.0, request_timeout=60):
        self.side = side
        self.clock = clock
        self.info = info if info is not None else {}
        self.events = events if events is not None else []
        self.wait_advance = wait_advance
        self.request_timeout = request_timeout
        self.instances = {}  # name -> list of query_instance results (Exception = raise); the last repeats
        self.seen = {}  # name -> the query_instance result handed out last
        self.fields_asked = []  # the fields of each query_instance, in order
        self.nodes = {}  # name -> node row for query("node", ...)
        self.networks = {}  # name -> network row (name, group_list) for query("network", ...)
        self.groups = ["default"]  # node group names for query("group", ...)
        self.query_errors = {}  # resource -> exception
        self.submit_scripts = {}  # method -> list of (job_id, [answers]) or exceptions
        self.jobs = {}  # job_id -> list of /wait answers (the last repeats)
        self.calls = []
        self.bodies = {}  # method -> [bodies]
        self.cancelled = []
        self.cancel_error = None
        self.job_list = []  # job rows (id, status, summary, ops, opresult) for query("job", ...)
        self.cancel_answer = None  # what cancel_job answers instead of dequeuing, e.g. [False, "reason"]
        self.followed = {}  # job_id -> {"status", "opresult", "oplog"} as the /wait answers so far showed it

    # ---- scripting
    def script(self, method, job_id, answers):
        self.submit_scripts.setdefault(method, []).append((job_id, list(answers)))

    def instance(self, name, *results):
        self.instances[name] = list(results)

    # ---- recording
    def _record(self, name, *args):
        self.calls.append((name,) + args)
        self.events.append((self.side, name) + args)

    def called(self, name):
        return [call for call in self.calls if call[0] == name]

    def submitted(self):
        return [call for call in self.calls if call[0] in SUBMITTING]

    def _submit(self, method, *args):
        scripts = self.submit_scripts.get(method)
        if not scripts:
            raise AssertionError("%s: unexpected %s%r" % (self.side, method, args))
        item = scripts.pop(0)
        if isinstance(item, Exception):
            raise item
        job_id, answers = item
        self.jobs[job_id] = answers
        return job_id

    # ---- RapiClient API
    def query_instance(self, name, fields):
        self._record("query_instance", name)
        self.fields_asked.append(list(fields))
        results = self.instances.get(name, [None])
        if set(fields) <= set(LIVE_FIELDS) and name in self.seen:
            # The run state, read while the move's first jobs run: the instance is as the preflight saw it.
            item = self.seen[name]
        else:
            item = results.pop(0) if len(results) > 1 else results[0]
            self.seen[name] = item
        if isinstance(item, Exception):
            raise item
        return None if item is None else _fields(item, fields)

    def cluster_info(self):
        self._record("cluster_info")
        if isinstance(self.info, Exception):
            raise self.info
        return copy.deepcopy(self.info)

    def query(self, resource, fields, qfilter=None):
        self._record("query", resource, copy.deepcopy(qfilter), list(fields))
        if resource in self.query_errors:
            raise self.query_errors[resource]
        if resource == "job":
            # A job row shows what following the job has shown so far, like the real job list.
            rows = [dict(row, **self.followed.get(row["id"], {})) for row in self.job_list]
            rows = [row for row in rows if _job_matches(row, qfilter)]
        elif resource == "node":
            name = qfilter[2]
            rows = [self.nodes[name]] if name in self.nodes else []
        elif resource == "network":
            rows = [row for name, row in sorted(self.networks.items()) if qfilter is None or _job_matches(row, qfilter)]
        elif resource == "group":
            rows = [{"name": name} for name in self.groups]
        elif resource == "instance" and qfilter[0] == "=~":
            names = [name for name, rows in self.instances.items() if rows and rows[0] is not None]
            rows = [{"name": name} for name in sorted(names) if re.match(qfilter[2], name)]
        else:
            raise AssertionError("unexpected query of %s" % resource)
        return [_fields(row, fields) for row in rows]

    def instance_info_job(self, name):
        self._record("instance_info_job", name)
        return self._submit("instance_info_job", name)

    def prepare_export(self, name):
        self._record("prepare_export", name)
        return self._submit("prepare_export", name)

    def create_instance(self, body):
        self._record("create_instance", body.get("name"))
        self.bodies.setdefault("create_instance", []).append(copy.deepcopy(body))
        return self._submit("create_instance", body)

    def export_instance(self, name, body):
        self._record("export_instance", name)
        self.bodies.setdefault("export_instance", []).append(copy.deepcopy(body))
        return self._submit("export_instance", name)

    def remove_instance(self, name):
        self._record("remove_instance", name)
        return self._submit("remove_instance", name)

    def startup_instance(self, name):
        self._record("startup_instance", name)
        return self._submit("startup_instance", name)

    def get_job(self, job_id, timeout=None):
        """Peeks at the job's next /wait answer (does not consume it), like GET /2/jobs/ID."""
        self._record("get_job", job_id)
        answers = self.jobs.get(job_id) or [None]
        item = answers[0]
        if not isinstance(item, dict) or not item.get("job_info"):
            return {"status": None}
        return {"status": item["job_info"][0]}

    def cancel_job(self, job_id, timeout=None):
        self._record("cancel_job", job_id)
        if self.cancel_error is not None:
            raise self.cancel_error
        if self.cancel_answer is not None:
            return copy.deepcopy(self.cancel_answer)
        self.cancelled.append(job_id)
        return [True, "Dequeued job %s" % job_id]

    def wait_for_job_change(self, job_id, fields, previous_job_info, previous_log_serial, timeout=None):
        self._record("wait", job_id, previous_log_serial)
        self.clock.advance(self.wait_advance)
        answers = self.jobs.get(job_id)
        if answers is None:
            raise AssertionError("%s: /wait for unknown job %r" % (self.side, job_id))
        item = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(item, Exception):
            raise item
        seen = self.followed.setdefault(job_id, {"oplog": [[]]})
        seen.update(status=item["job_info"][0], opresult=copy.deepcopy(item["job_info"][2]))
        known = set(entry[0] for entry in seen["oplog"][0])
        seen["oplog"][0].extend(copy.deepcopy(e) for e in item["log_entries"] if e[0] not in known)
        # Like the server: only entries newer than previous_log_serial.
        item = copy.deepcopy(item)
        if previous_log_serial is not None:
            item["log_entries"] = [e for e in item["log_entries"] if e[0] > previous_log_serial]
        return item


# ------------------------------------------------------------------ test data
def node_row(name, offline=False, drained=False, vm_capable=True, group="default"):
    """A /2/query/node row with the fields the preflight reads."""
    return {"name": name, "offline": offline, "drained": drained, "vm_capable": vm_capable, "group": group}


def network_row(name, *groups, **kwargs):
    """A /2/query/network row: group_list holds (group name, NIC mode, NIC link, vlan) per connected group."""
    return {"name": name, "network": kwargs.get("subnet", "192.0.2.0/24"),
            "group_list": [[group, "bridged", "br-%s" % name, ""] for group in groups]}


SOURCE_INFO = {"name": "cluster-a.test", "uuid": "b039c983-7605-4f29-b38a-c9c3d2358148", "enabled_hypervisors": ["fake"], "enabled_disk_templates": ["file"],
               "compression_tools": ["gzip", "gzip-fast", "gzip-slow", "lzop"], "default_iallocator": "hail"}

DEST_INFO = {
    "name": "cluster-b.test",
    "uuid": "184cf275-d6e9-49b9-aa45-5f04cc0871ad",
    "enabled_hypervisors": ["fake", "kvm"],
    "enabled_disk_templates": ["file", "plain", "drbd"],
    "compression_tools": ["gzip", "gzip-fast", "gzip-slow", "lzop"],
    "default_iallocator": "hail",
    "beparams": {"default": {"maxmem": 128, "minmem": 128, "vcpus": 1, "auto_balance": True,
                             "always_failover": False, "spindle_use": 1}},
    "hvparams": {"fake": {"migration_mode": "live", "kernel_args": "ro"}, "kvm": {"kernel_path": "", "acpi": True}},
}

NAME = "inst1.test"

SOURCE_ROW = {"name": NAME, "admin_state": "up", "oper_state": True, "pnode": "node1.cluster-a.test", "snodes": [],
              "disk_template": "file", "hypervisor": "fake", "os": "noop", "nic.count": 1, "disk.count": 2,
              "disk.sizes": [64, 128], "tags": ["web", "prod"], "status": "running",
              "nic.macs": ["aa:00:00:b3:0a:23"], "nic.ips": [None], "nic.modes": ["bridged"], "nic.links": ["br0"],
              "nic.vlans": [None],
              "nic.networks.names": [None], "nic.names": [None], "custom_beparams": {"maxmem": 256, "vcpus": 2},
              "custom_hvparams": {"kernel_args": "ro quiet"}, "custom_osparams": {"dhcp": "yes"}}

SOURCE_ROW_STOPPED = dict(SOURCE_ROW, oper_state=False, status="ADMIN_down")

DEST_ROW = dict(SOURCE_ROW, pnode="node1.cluster-b.test")

INSTINFO = {
    "name": NAME, "config_state": "up", "run_state": "up", "pnode": "node1.cluster-a.test", "snodes": [],
    "os": "noop", "hypervisor": "fake", "disk_template": "file", "network_port": None,
    "disks": [
        {"iv_name": "disk/0", "dev_type": "file", "mode": "rw", "size": 64, "spindles": None, "name": None},
        {"iv_name": "disk/1", "dev_type": "file", "mode": "ro", "size": 128, "spindles": 2, "name": "data"},
    ],
    "nics": [[None, "nic-uuid-0", None, "aa:00:00:b3:0a:23", "bridged", "br0", "", None, None]],
    "be_instance": {"maxmem": 256, "vcpus": 2},
    "hv_instance": {"kernel_args": "ro quiet"},
    "os_instance": {"dhcp": "yes"},
}

EXPINFO = {
    "handshake": [0, "f6699f02a814d384badbcb4d18714bb51f54af01", "a1b2c3d4e5f60718"],
    "x509_key_name": ["x509-20250101000000-abcd1234", "113f48341875d0671763ccb9dc325030d81878d6",
                      "6d429c7bb6eadfee"],
    "x509_ca": ("X-Ganeti-Signature: 6d429c7bb6eadfee/0f1e2d3c4b5a69788796a5b4c3d2e1f000112233\n\n"
                "-----BEGIN CERTIFICATE-----\nMIIBsource\n-----END CERTIFICATE-----\n"),
}

IMPINFO = {
    "disks": [
        ["198.18.0.21", 40001, "f" * 40, "556af043102b53a04622018a30fb83a26ec17c3b", "b1b2c3d4e5f60718"],
        ["198.18.0.21", 40002, "e" * 40, "0123456789abcdef0123456789abcdef01234567", "b1b2c3d4e5f60718"],
    ],
    "x509_ca": ("X-Ganeti-Signature: b1b2c3d4e5f60718/aa11bb22cc33dd44ee55ff6600778899aabbccdd\n\n"
                "-----BEGIN CERTIFICATE-----\nMIIBdestination\n-----END CERTIFICATE-----\n"),
}

IMPORT_WARNING = (" - WARNING: Some disks for instance %s on node node1.cluster-b.test were not imported "
                  "successfully" % NAME)
HASH_ERROR = ["OpPrereqError", ["Invalid handshake: Hash didn't match, clusters don't share the same domain secret",
                                "wrong_input"]]
TEMP_INSUFFICIENT = ["OpPrereqError", ["Can't compute nodes using iallocator 'hail': not enough memory",
                                       "temp_insufficient_resources"]]

# Job ids: numbers on the source (3.x), strings on the destination (2.x style): both are opaque.
INFO_JOB, PREPARE_JOB, EXPORT_JOB, STARTUP_JOB = 101, 102, 103, 104
CREATE_JOB, CREATE_JOB_2, REMOVE_JOB = "201", "202", "203"


def create_answers(final="success", warning=False, error=None):
    """The destination create job: running, then the remote-import entry, then its end."""
    end_logs = [log_entry(3, "message", "Disk 0 imported"), log_entry(4, "message", "Disk 1 imported")]
    if warning:
        end_logs = [log_entry(3, "message", "Disk 0 failed to receive data: timeout"),
                    log_entry(4, "message", IMPORT_WARNING)]
    return [
        answer("running", logs=[log_entry(1, "message", "creating disks")]),
        answer("running", logs=[log_entry(2, "remote-import", copy.deepcopy(IMPINFO))]),
        answer(final, logs=end_logs, result=["node1.cluster-b.test"], error=error),
    ]


_ALL_DISKS = object()


def export_answers(result=_ALL_DISKS):
    """The source export job as Ganeti 3.0 logs it: each disk's outcome, then removing the source."""
    result = [True, [True, True]] if result is _ALL_DISKS else result
    disks = result[1] if isinstance(result, list) and len(result) == 2 and isinstance(result[1], list) else []
    sent = [log_entry(2 + index, "message", "Disk %d finished sending data" % index if ok else
                      "Disk %d failed to send data: socat: E connection refused (recent output: )" % index)
            for index, ok in enumerate(disks)]
    return [
        answer("running", logs=[log_entry(1, "message", "Shutting down instance")]),
        answer("running", logs=sent),
        # Ganeti removes the source only when every disk was sent.
        answer("success", logs=[log_entry(10, "message", "Removing instance %s" % NAME)] if all(disks) else [],
               result=result),
    ]


class Scenario:
    """Both clusters scripted for a successful move of inst1.test; tests change what they need."""

    def __init__(self, wait_advance=1.0):
        self.clock = FakeClock()
        self.events = []
        self.source = FakeCluster("source", self.clock, copy.deepcopy(SOURCE_INFO), self.events, wait_advance)
        self.destination = FakeCluster("destination", self.clock, copy.deepcopy(DEST_INFO), self.events,
                                       wait_advance)
        self.destination.nodes = {
            "node1.cluster-b.test": node_row("node1.cluster-b.test"),
            "node2.cluster-b.test": node_row("node2.cluster-b.test"),
            "node3.cluster-b.test": node_row("node3.cluster-b.test", offline=True),
        }
        src, dst = self.source, self.destination
        src.instance(NAME, copy.deepcopy(SOURCE_ROW), None)  # preflight, then gone after the export
        dst.instance(NAME, None, copy.deepcopy(DEST_ROW))  # preflight, then there for verify
        src.script("instance_info_job", INFO_JOB, [answer("running"),
                                                   answer("success", result={NAME: copy.deepcopy(INSTINFO)})])
        src.script("prepare_export", PREPARE_JOB, [
            answer("success", logs=[log_entry(1, "message", "Generating X509 certificate on node1")],
                   result=copy.deepcopy(EXPINFO))])
        dst.script("create_instance", CREATE_JOB, create_answers())
        src.script("export_instance", EXPORT_JOB, export_answers())

    def move(self, **spec):
        from ansible_collections.ganeti.rapi.plugins.module_utils.instance_move import InstanceMove
        from ansible_collections.ganeti.rapi.plugins.module_utils.move_model import MoveSpec
        spec.setdefault("name", NAME)
        return InstanceMove(self.source, self.destination, MoveSpec(**spec), sleep=self.clock.sleep,
                            clock=self.clock, wall_clock=lambda: 1800000000.0)

    def submitted(self):
        return self.source.submitted() + self.destination.submitted()

    def create_body(self, index=-1):
        return self.destination.bodies["create_instance"][index]

    def export_body(self, index=-1):
        return self.source.bodies["export_instance"][index]


def _fields(row, fields):
    """Only the fields asked for, None where the row has no value: what RapiClient.query makes of an answer.

    A test then fails when the move reads a field it did not ask for.
    """
    return dict((name, copy.deepcopy(row.get(name))) for name in fields)


def _job_matches(row, qfilter):
    """Evaluates the small subset of Ganeti query filters the move uses (on jobs, networks)."""
    op = qfilter[0]
    if op == "|":
        return any(_job_matches(row, item) for item in qfilter[1:])
    if op == "&":
        return all(_job_matches(row, item) for item in qfilter[1:])
    if op == "=[]":
        return qfilter[2] in (row.get(qfilter[1]) or [])
    if op == "=":
        return row.get(qfilter[1]) == qfilter[2]
    raise AssertionError("unsupported job filter %r" % (qfilter,))


def failure(move, method="run"):
    """The MoveError that ``move.run()`` (or ``check()``) raises; fails the test when none is raised."""
    from ansible_collections.ganeti.rapi.plugins.module_utils.move_model import MoveError
    try:
        getattr(move, method)()
    except MoveError as exc:
        return exc
    raise AssertionError("%s() raised no MoveError" % method)
