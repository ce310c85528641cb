# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How far past its timeout a cut move returns, on the lab: one instance per timeout, one run after the other.

    python3 tests/bench/deadline_overshoot.py [TIMEOUT ...]      (default 1 to 12 s)

Prints, per run, the step the timeout cut, the module's own duration and the
ansible command's wall time against the timeout, and whether any job of the
run reached a cluster after its deadline.  Needs the lab up (make lab-up) and
ansible on PATH (make bench's venv); removes the instances it made once their
jobs have ended.
"""

import json
import os
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lab"))
from lab_env import read_lab_env  # noqa: E402

LAB = os.path.join(ROOT, "tests", "lab", "lab.sh")
LAB_DIR = os.environ.get("LAB_DIR", "/var/tmp/ganeti-lab")


def lab(*args):
    return subprocess.run([LAB] + list(args), capture_output=True, text=True, check=True).stdout


def side(env, key):
    return {"host": "127.0.0.1", "port": int(env["GNT_%s_RAPI_LOCAL_PORT" % key]), "username": "lab",
            "password_file": os.path.join(LAB_DIR, "rapi-password"), "ca_path": env["GNT_%s_CA_FILE" % key]}


def job_received(env, key, job_id):
    import requests
    with open(os.path.join(LAB_DIR, "rapi-password")) as handle:
        password = handle.read().strip()
    answer = requests.get("https://127.0.0.1:%s/2/jobs/%s" % (env["GNT_%s_RAPI_LOCAL_PORT" % key], job_id),
                          verify=env["GNT_%s_CA_FILE" % key], auth=("lab", password), timeout=30).json()
    seconds, micros = answer["received_ts"]
    return seconds + micros / 1e6


def busy(key, name):
    out = lab("gnt", key, "gnt-job", "list", "--no-headers", "--separator=|", "-o", "status,summary")
    return any("(%s)" % name in line and line.split("|")[0] in ("queued", "waiting", "running")
               for line in out.splitlines())


def main(timeouts):
    env = read_lab_env(LAB_DIR)
    collections = os.path.join(ROOT, "build", "collections")
    link = os.path.join(collections, "ansible_collections", "ganeti", "rapi")
    os.makedirs(os.path.dirname(link), exist_ok=True)
    if not os.path.islink(link):
        os.symlink(ROOT, link)
    run_env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_PYTHON_INTERPRETER=sys.executable,
                   ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    names = []
    print("| timeout | cut in step | module duration | over | wall (ansible) | late jobs |")
    print("| --- | --- | --- | --- | --- | --- |")
    overs = []
    try:
        for seconds in timeouts:
            name = "dl-%s.test" % uuid.uuid4().hex[:8]
            lab("add-host", name)
            lab("create-instance", name, "32M", "a")
            names.append(name)
            args = {"name": name, "source": side(env, "A"), "destination": side(env, "B"), "timeout": seconds,
                    "shutdown_timeout": 0}
            started = time.monotonic()
            proc = subprocess.run(["ansible", "localhost", "-c", "local", "-i", "localhost,", "-m",
                                   "ganeti.rapi.ganeti_move_instance", "-a", json.dumps(args)],
                                  capture_output=True, text=True, env=run_env, check=False)
            wall = time.monotonic() - started
            result = json.loads(proc.stdout[proc.stdout.index("=> {") + 3:])
            late = [j["id"] for j in result.get("jobs") or []
                    if job_received(env, "A" if j["side"] == "source" else "B", j["id"]) > result["start_ts"] + seconds]
            over = result["duration"] - seconds
            overs.append(over)
            print("| %d s | %s | %.3f s | %+.3f s | %.2f s | %s |" % (
                seconds, result.get("step") or result.get("state"), result["duration"], over, wall,
                ", ".join(str(j) for j in late) or "none"))
    finally:
        for name in names:
            while busy("a", name) or busy("b", name):
                time.sleep(3)
            for key in ("a", "b"):
                subprocess.run([LAB, "gnt", key, "gnt-instance", "remove", "-f", "--ignore-failures", name],
                               capture_output=True, check=False)
    if overs:
        print("\nmax overshoot %.3f s over %d runs" % (max(overs), len(overs)))


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or list(range(1, 13)))
