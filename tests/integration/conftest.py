# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Integration tests: real ansible-playbook runs against the two-cluster Ganeti lab (tests/lab).

Every test asserts the end state of both clusters (instance lists, states,
disk bytes), read with Ganeti's own commands inside the lab, not only what
the module returned.
"""

import hashlib
import json
import os
import subprocess
import sys
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB = os.path.join(ROOT, "tests", "lab", "lab.sh")
LAB_DIR = os.environ.get("LAB_DIR", "/var/tmp/ganeti-lab")
COLLECTIONS = os.path.join(ROOT, "build", "collections")
sys.path.insert(0, os.path.join(ROOT, "tests", "lab"))
from lab_env import read_lab_env  # noqa: E402  (tests/lab is not a package)
BIN = os.environ.get("ANSIBLE_BIN_DIR") or os.path.dirname(sys.executable)
# The lab cluster the tests move from (fixture cluster_a) and the one they move to (cluster_b): LAB_SOURCE=b runs
# the same tests the other way, e.g. from Ganeti 3.1 to 3.0 on a mixed lab (run.sh).
SOURCE_KEY = os.environ.get("LAB_SOURCE", "a")
DESTINATION_KEY = {"a": "b", "b": "a"}[SOURCE_KEY]


def lab(*args, check=True, timeout=600):
    proc = subprocess.run([LAB] + list(args), capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError("lab.sh %s failed (%d): %s%s" % (" ".join(args), proc.returncode, proc.stdout,
                                                              proc.stderr))
    return proc


def read_env():
    return read_lab_env(LAB_DIR)


class Cluster:
    """One lab cluster, read with Ganeti's own tools inside its namespace."""

    def __init__(self, key, env):
        self.key = key
        self.name = env["GNT_%s_CLUSTER" % key.upper()]
        self.node = env["GNT_%s_NODE" % key.upper()]  # the master
        self.nodes = (env.get("GNT_%s_NODES" % key.upper()) or self.node).split(",")  # the master first
        self.version = env.get("GNT_%s_VERSION" % key.upper(), "3.0")  # 3.0 or 3.1
        self.ganeti_version = env.get("GNT_%s_GANETI_VERSION" % key.upper(), "")  # e.g. 3.1.0~rc2
        self.port = int(env["GNT_%s_RAPI_LOCAL_PORT" % key.upper()])
        self.ca_file = env["GNT_%s_CA_FILE" % key.upper()]
        self.rapi_log = env.get("GNT_%s_RAPI_LOG" % key.upper())

    def rapi_log_size(self):
        return os.path.getsize(self.rapi_log) if self.rapi_log and os.path.exists(self.rapi_log) else 0

    def rapi_connection_errors(self, since):
        """The connections the cluster's RAPI daemon logged as failed ("Error while handling request", with a
        traceback) after byte ``since`` of its log.  (It also logs an ERROR for each query of an instance it
        does not have: that is its answer, not a failure.)"""
        if not self.rapi_log or not os.path.exists(self.rapi_log):
            return []
        with open(self.rapi_log, "rb") as handle:
            handle.seek(since)
            text = handle.read().decode("utf-8", "replace")
        return [line for line in text.splitlines() if "Error while handling request" in line]

    def gnt(self, *args, check=True):
        return lab("gnt", self.key, *args, check=check)

    def instances(self):
        """{name: {"status", "admin_state", "pnode", "disk_template"}}"""
        out = self.gnt("gnt-instance", "list", "--no-headers", "--separator=|",
                       "-o", "name,status,admin_state,pnode,disk_template").stdout
        rows = {}
        for line in out.splitlines():
            name, status, admin, pnode, template = line.split("|")
            rows[name] = {"status": status, "admin_state": admin, "pnode": pnode, "disk_template": template}
        return rows

    def instance_field(self, name, field):
        return self.gnt("gnt-instance", "list", "--no-headers", "-o", field, name).stdout.strip()

    def disk_path(self, name):
        return lab("disk-path", self.key, name).stdout.strip()

    def disk_md5(self, name):
        digest = hashlib.md5()
        with open(self.disk_path(name), "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()

    def job_count(self):
        return len(self.gnt("gnt-job", "list", "--no-headers", "-o", "id").stdout.split())

    def jobs(self):
        """[(id, status, summary)] of every job the cluster lists."""
        out = self.gnt("gnt-job", "list", "--no-headers", "--separator=|", "-o", "id,status,summary").stdout
        return [tuple(line.split("|", 2)) for line in out.splitlines() if line.strip()]

    def job(self, job_id):
        """GET /2/jobs/ID over the RAPI: status, received_ts ([sec, usec]), oplog, ..."""
        import requests
        with open(os.path.join(LAB_DIR, "rapi-password")) as handle:
            password = handle.read().strip()
        answer = requests.get("https://127.0.0.1:%d/2/jobs/%s" % (self.port, job_id), verify=self.ca_file,
                              auth=("lab", password), timeout=30)
        answer.raise_for_status()
        return answer.json()

    def wait_for_jobs_of(self, name, timeout=600):
        """Until no job whose summary names ``name`` is queued, waiting or running."""
        import time
        deadline = time.time() + timeout
        while time.time() < deadline:
            busy = [job for job in self.jobs() if "(%s)" % name in job[2]
                    and job[1] in ("queued", "waiting", "running", "canceling")]
            if not busy:
                return
            time.sleep(2)
        raise AssertionError("jobs of %s still running on %s after %ss: %s" % (name, self.key, timeout, busy))

    def remove(self, name):
        if name in self.instances():
            self.gnt("gnt-instance", "remove", "-f", "--ignore-failures", name)


@pytest.fixture(scope="session")
def lab_env():
    lab("up", timeout=1800)
    env = read_env()
    os.makedirs(os.path.join(COLLECTIONS, "ansible_collections", "ganeti"), exist_ok=True)
    link = os.path.join(COLLECTIONS, "ansible_collections", "ganeti", "rapi")
    if not os.path.islink(link):
        os.symlink(ROOT, link)
    return env


@pytest.fixture(scope="session")
def cluster_a(lab_env):
    """The source cluster of the tests (lab cluster a, or b with LAB_SOURCE=b)."""
    return Cluster(SOURCE_KEY, lab_env)


@pytest.fixture(scope="session")
def cluster_b(lab_env):
    """The destination cluster of the tests."""
    return Cluster(DESTINATION_KEY, lab_env)


class Instances:
    """Makes instances with known disk contents, and removes them afterwards from both clusters."""

    def __init__(self, clusters):
        self.clusters = clusters
        self.made = []

    def name(self, prefix="t"):
        name = "%s-%s.test" % (prefix, uuid.uuid4().hex[:8])
        lab("add-host", name)
        self.made.append(name)
        return name

    def create(self, cluster, size="32M", start=True, prefix="t", options=()):
        """A new instance with known bytes; ``options``: more create-instance options (--node, --net, --tag)."""
        name = self.name(prefix)
        args = ["create-instance", name, size, cluster.key] + ([] if start else ["--no-start"]) + list(options)
        lab(*args)
        # Known, non-zero bytes at the start, the middle and the end of the disk.
        path = cluster.disk_path(name)
        size_bytes = os.path.getsize(path)
        with open(path, "r+b") as handle:
            for offset in (0, size_bytes // 2, size_bytes - 4096):
                handle.seek(offset)
                handle.write(os.urandom(4096))
        return name

    def create_named(self, cluster, name, size="32M", start=True):
        """Another instance under a name already made (e.g. an unrelated namesake on the other cluster)."""
        lab(*(["create-instance", name, size, cluster.key] + ([] if start else ["--no-start"])))
        return name

    def cleanup(self):
        for cluster in self.clusters:
            present = cluster.instances()
            for name in self.made:
                if name in present:
                    cluster.remove(name)


@pytest.fixture
def instances(cluster_a, cluster_b):
    made = Instances([cluster_a, cluster_b])
    yield made
    made.cleanup()


def connection(cluster, **extra):
    side = {"host": "127.0.0.1", "port": cluster.port, "username": "lab",
            "password_file": os.path.join(LAB_DIR, "rapi-password"), "ca_path": cluster.ca_file}
    side.update(extra)
    return side


class Runner:
    """Writes a playbook, runs ansible-playbook on it, returns rc, output and registered results."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.count = 0

    def env(self, extra=None):
        env = dict(os.environ)
        env.update({
            "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_HOST_KEY_CHECKING": "false",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        })
        env.update(extra or {})
        return env

    def playbook(self, plays, inventory=None, args=(), env=None, timeout=1800, inventory_name="inventory.ini"):
        self.count += 1
        base = self.tmp / ("run%d" % self.count)
        base.mkdir()
        results = base / "results"
        results.mkdir()
        book = base / "play.yml"
        book.write_text(json.dumps(plays, indent=1).replace("@RESULTS@", str(results)))
        command = [os.path.join(BIN, "ansible-playbook"), str(book)]
        if inventory is None:
            command += ["-i", "localhost,", "-c", "local"]
        else:
            inv = base / inventory_name  # the name tells Ansible the format (.ini, .yml)
            inv.write_text(inventory)
            command += ["-i", str(inv)]
        command += list(args)
        proc = subprocess.run(command, capture_output=True, text=True, env=self.env(env), timeout=timeout,
                              cwd=str(base), check=False)
        registered = {}
        for item in results.iterdir():
            registered[item.stem] = json.loads(item.read_text())
        return RunResult(proc, registered)

    def run_file(self, book, inventory, args=(), env=None, timeout=3600, inventory_file="inventory.ini"):
        """ansible-playbook on an existing playbook file with an INI (or, by file name, YAML) inventory."""
        self.count += 1
        base = self.tmp / ("run%d" % self.count)
        base.mkdir()
        inv = base / inventory_file
        inv.write_text(inventory)
        command = [os.path.join(BIN, "ansible-playbook"), book, "-i", str(inv)] + list(args)
        proc = subprocess.run(command, capture_output=True, text=True, env=self.env(env), timeout=timeout,
                              cwd=str(base), check=False)
        return RunResult(proc, {})

    def adhoc(self, module_args, env=None, args=(), timeout=1800):
        command = [os.path.join(BIN, "ansible"), "localhost", "-c", "local", "-i", "localhost,",
                   "-m", "ganeti.rapi.ganeti_move_instance", "-a", module_args] + list(args)
        proc = subprocess.run(command, capture_output=True, text=True, env=self.env(env), timeout=timeout,
                              check=False)
        return RunResult(proc, {})


class RunResult:
    def __init__(self, proc, registered):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.registered = registered

    @property
    def output(self):
        return self.stdout + self.stderr

    def __repr__(self):
        return "rc=%s\n%s\n%s" % (self.rc, self.stdout[-6000:], self.stderr[-3000:])


@pytest.fixture
def runner(tmp_path):
    return Runner(tmp_path)


def move_task(name, source, destination, register="move", **options):
    args = {"name": name, "source": source, "destination": destination}
    args.update(options)
    return [
        {"name": "move %s" % name, "ganeti.rapi.ganeti_move_instance": args, "register": register,
         "ignore_errors": True},
        save_task(register),
    ]


def save_task(register):
    return {"name": "save %s" % register,
            "ansible.builtin.copy": {"content": "{{ %s | to_json }}" % register, "dest": "@RESULTS@/%s.json" % register},
            "check_mode": False, "diff": False}


def play(tasks, hosts="localhost", **extra):
    item = {"hosts": hosts, "gather_facts": False, "tasks": tasks}
    item.update(extra)
    return [item]
