# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""make bench: ganeti_move_instance against Ganeti's move-instance on the same lab, in one run.

Tools, alternating run by run (each run on fresh instances of the same size):

- ``action``: the collection as it is (build/collections links the work
  tree).  A task on a local connection runs the action plugin in the Ansible
  worker; with ``async`` it forks the move off as a process of its own (move_async).
- ``module``: a copy of the collection without plugins/action
  (build/bench/collections-module), i.e. the module path as 0.1.0 had it.
- ``move-instance``: the host's Ganeti 3.0.2 tool.
- ``move-instance-3.1``: only when a cluster of the lab runs Ganeti 3.1
  (``LAB_B_GANETI=3.1``): that version's tool and Python, run in the hub's
  network with that cluster's (Debian trixie) file system.

Every tool runs in the lab's hub network namespace and talks to the clusters
by name (https://cluster-a.test:5080), so none goes through the host port
forwards.  Writes docs/docsite/rst/performance.rst, the collection docs'
performance page (RST, rendered by ``make docs``); the raw results go to
build/bench-results.json.

Every figure comes from the clusters and the tools' processes, not from the module's result: job times and log
lines from Ganeti's job queue, RAPI requests from the RAPI daemons' logs (``lab.sh rapi-log``), the task's start
and each move's return from when ansible-playbook saw them (callback_plugins/bench_returns.py).

Environment: BENCH_RUNS (5), BENCH_SCENARIOS (comma list of single, parallel8 (= parallel8-forks,parallel8-async),
parallel32 (= parallel32-forks,parallel32-async), big (= big-none,big-gzip-fast; not in the default, it has no
target); default single,parallel8,parallel32), BENCH_TOOLS (comma list, default every tool the lab allows),
BENCH_BIG_SIZE (1G), BENCH_OUT (docs/docsite/rst/performance.rst), BENCH_RESULTS
(build/bench-results.json), BENCH_KEEP (the raw results of an earlier run: its scenarios that this run does not
measure stay in the report, each with the commit and date it was measured at), LAB_DIR and the lab's settings
(LAB_B_GANETI=3.1 for the 3.1 anchor).

    python3 tests/bench/bench.py --report-only [RESULTS.json]

rewrites the page from saved raw results (default build/bench-results.json) without the lab.
"""

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB = os.path.join(ROOT, "tests", "lab", "lab.sh")
LAB_DIR = os.environ.get("LAB_DIR", "/var/tmp/ganeti-lab")
BIN = os.path.dirname(sys.executable)
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
SCENARIOS = os.environ.get("BENCH_SCENARIOS", "single,parallel8,parallel32").split(",")
BIG = os.environ.get("BENCH_BIG_SIZE", "1G")
OUT = os.environ.get("BENCH_OUT", os.path.join(ROOT, "docs", "docsite", "rst", "performance.rst"))
MEASURE = os.path.join(ROOT, "tests", "bench", "measure.py")
WORK = os.path.join(ROOT, "build", "bench")
RESULTS = os.environ.get("BENCH_RESULTS", os.path.join(ROOT, "build", "bench-results.json"))
# Seconds between async_status polls: the 1 s of Ansible's own async examples; see the report's text.
ASYNC_DELAY = 1
sys.path.insert(0, os.path.join(ROOT, "tests", "lab"))
from lab_env import read_lab_env  # noqa: E402  (tests/lab is not a package)

CODE = None  # the commit measured (main)
ACTION, MODULE, MI30, MI31 = "action", "module", "move-instance", "move-instance-3.1"
ANSIBLE_TOOLS = (ACTION, MODULE)
ANCHORS = (MI30, MI31)

PLAN = {"single": ("single", 1, "64M", "playbook", "none"),
        "big-none": ("big", 1, BIG, "playbook", "none"),
        "big-gzip-fast": ("big", 1, BIG, "playbook", "gzip-fast"),
        "parallel8-forks": ("parallel", 8, "32M", "forks", "none"),
        "parallel8-async": ("parallel", 8, "32M", "async", "none"),
        "parallel32-forks": ("parallel", 32, "32M", "forks", "none"),
        "parallel32-async": ("parallel", 32, "32M", "async", "none")}
GROUPS = {"big": ["big-none", "big-gzip-fast"], "parallel8": ["parallel8-forks", "parallel8-async"],
          "parallel32": ["parallel32-forks", "parallel32-async"]}


def lab(*args, timeout=1800):
    proc = subprocess.run([LAB] + list(args), capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError("lab.sh %s: %s %s" % (" ".join(args), proc.stdout[-2000:], proc.stderr[-2000:]))
    return proc.stdout


def log(text):
    sys.stderr.write("[bench %s] %s\n" % (time.strftime("%H:%M:%S"), text))
    sys.stderr.flush()


def env_file():
    return read_lab_env(LAB_DIR)


def counts():
    """RAPI requests answered (with the time of each answer) and jobs known, per cluster."""
    result = {}
    for cluster in ("a", "b"):
        answers = [_answered(line) for line in lab("rapi-log", cluster, "--full").splitlines()]
        result["rapi_" + cluster] = len(answers)
        result["answers_" + cluster] = answers
        result["jobs_" + cluster] = len(lab("gnt", cluster, "gnt-job", "list", "--no-headers", "-o", "id").split())
    return result


def _answered(line):
    """The time of a ``rapi-log --full`` line: "DATE HH:MM:SS,mmm CLIENT METHOD PATH STATUS" (local time)."""
    fields = line.split()
    try:
        clock, millis = fields[1].split(",")
        return time.mktime(time.strptime(fields[0] + " " + clock, "%Y-%m-%d %H:%M:%S")) + int(millis) / 1000.0
    except (IndexError, ValueError):
        return None


def job_times(cluster, since):
    """id -> {summary, received, start, end} for jobs newer than ``since`` ids."""
    out = lab("gnt", cluster, "sh", "-c", "gnt-job list --no-headers -o id | sort -n | tail -n +%d" % (since + 1))
    ids = out.split()
    if not ids:
        return {}
    info = lab("gnt", cluster, "gnt-job", "list", "--no-headers", "--separator=|", "-o",
               "id,summary,received_ts,start_ts,end_ts", *ids)
    jobs = {}
    for line in info.splitlines():
        job_id, summary, received, start, end = line.split("|")
        jobs[job_id] = {"summary": summary, "received": _ts(received), "start": _ts(start), "end": _ts(end)}
    return jobs


def _ts(text):
    """gnt-job prints timestamps as "[seconds, microseconds]"."""
    text = text.strip().strip("[]")
    if not text or "," not in text:
        return None
    seconds, micro = text.split(",")
    return int(seconds) + int(micro) / 1e6


def create_instances(count, size):
    """``count`` fresh instances on cluster A, created side by side.

    Names come from a fixed pool (bench-01.test, ...): every name takes one
    of the lab's 254 host addresses, and a run removes its instances again.
    """
    names = ["bench-%02d.test" % number for number in range(1, count + 1)]
    remove_instances(names)  # left over by an interrupted bench
    for name in names:
        lab("add-host", name)  # one at a time: it appends to the lab's hosts files
    with ThreadPoolExecutor(max_workers=min(count, 8)) as pool:
        list(pool.map(lambda name: lab("create-instance", name, size, "a"), names))
    for name in names:
        fill_disk(lab("disk-path", "a", name).strip())
    return names


def fill_disk(path):
    """Random bytes in the first half of the disk, zeros after: half full, so compression has work to do."""
    half = os.path.getsize(path) // 2
    with open("/dev/urandom", "rb") as source, open(path, "r+b") as disk:
        while half > 0:
            chunk = source.read(min(half, 1 << 20))
            disk.write(chunk)
            half -= len(chunk)


def remove_instances(names):
    for cluster in ("a", "b"):
        present = set(lab("gnt", cluster, "gnt-instance", "list", "--no-headers", "-o", "name").split())
        doomed = [name for name in names if name in present]
        if doomed:
            with ThreadPoolExecutor(max_workers=min(len(doomed), 8)) as pool:
                list(pool.map(lambda name: lab("gnt", cluster, "gnt-instance", "remove", "-f", "--ignore-failures",
                                               name), doomed))


def anchor31(lab_env):
    """The cluster ('A' or 'B') whose root file system holds Ganeti 3.1, or None (b preferred)."""
    for key in ("B", "A"):
        if lab_env.get("GNT_%s_VERSION" % key, "3.0") != "3.0" and lab_env.get("GNT_%s_ROOT" % key):
            return key
    return None


def mixed_namespace(lab_env, key):
    """nsenter into the hub's network with the mount namespace (root file system) of cluster ``key``'s master.

    The tool then runs that root's Python and Ganeti code but reaches the
    clusters as the other tools do; the lab binds LAB_DIR at the same path
    in there, so the CA and password files keep their paths.
    """
    hub, node = lab_env["LAB_HUB_PID"], lab_env["GNT_%s_PID" % key]
    return ["nsenter", "--net=/proc/%s/ns/net" % hub, "--uts=/proc/%s/ns/uts" % hub,
            "--mount=/proc/%s/ns/mnt" % node, "--root=/proc/%s/root" % node, "--wd=/proc/%s/root" % node, "--"]


def measured(command, env=None, inside=None):
    """Run ``command`` under measure.py: in the hub namespace, or with ``inside`` (an nsenter prefix).

    Returns its wall/CPU/peak memory and output.
    """
    assignments = ["%s=%s" % item for item in (env or {}).items()]
    if inside is None:
        prefix = [LAB, "exec", "env"] + assignments + [sys.executable, MEASURE]
    else:
        # that root has no copy of this tree: measure.py goes to LAB_DIR, which it sees at the same path
        copy = os.path.join(LAB_DIR, "overlay", "measure.py")  # lab.sh down removes overlay/
        os.makedirs(os.path.dirname(copy), exist_ok=True)
        shutil.copy(MEASURE, copy)
        prefix = inside + ["env"] + assignments + ["/usr/bin/python3", copy]
    proc = subprocess.run(prefix + command, capture_output=True, text=True, check=False, timeout=7200)
    lines = proc.stderr.strip().splitlines()
    # measure.py's line is its last one, but a process the tool left behind may still write after it
    found = [number for number, line in enumerate(lines) if line.startswith('{"wall"')]
    stats = json.loads(lines.pop(found[-1])) if found else {"wall": None}
    stats["rc"] = proc.returncode
    stats["output"] = proc.stdout[-3000:] + "\n".join(lines)[-3000:]
    return stats


def _side(lab_env, cluster):
    return {"host": lab_env["GNT_%s_CLUSTER" % cluster], "username": "lab",
            "password_file": lab_env["GNT_%s_RAPI_PASSWORD_FILE" % cluster],
            "ca_path": lab_env["GNT_%s_CA_FILE" % cluster]}


def module_plays(names, mode, compress, lab_env, task=None):
    """The bench's plays: forks (one host per instance, delegated to localhost) or an async loop.

    ``task`` replaces the move (forks only): the bench's measure of Ansible's own cost for the same play.
    """
    args = {"source": _side(lab_env, "A"), "destination": _side(lab_env, "B"), "compress": compress}
    if mode == "async":
        args["name"] = "{{ item }}"
        tasks = [{"ganeti.rapi.ganeti_move_instance": args, "loop": names, "async": 3600, "poll": 0,
                  "register": "started"},
                 {"ansible.builtin.async_status": {"jid": "{{ item.ansible_job_id }}"},
                  "loop": "{{ started.results }}", "register": "done", "until": "done.finished",
                  "retries": 3600, "delay": ASYNC_DELAY}]
        return [{"hosts": "localhost", "gather_facts": False, "tasks": tasks}], "localhost,"
    args["name"] = "{{ inventory_hostname }}"
    tasks = [dict(task or {"ganeti.rapi.ganeti_move_instance": args}, delegate_to="localhost")]
    return [{"hosts": "all", "gather_facts": False, "tasks": tasks}], ",".join(names) + ","


def module_collection():
    """A copy of the collection without plugins/action: the module path exactly as 0.1.0 users had it.

    Returns its collections root (for ANSIBLE_COLLECTIONS_PATH).
    """
    base = os.path.join(WORK, "collections-module")
    out = subprocess.run(["bash", os.path.join(ROOT, "scripts", "build-copy.sh"), base], capture_output=True,
                         text=True, check=True).stdout
    dest = out.strip().splitlines()[-1]
    shutil.rmtree(os.path.join(dest, "plugins", "action"), ignore_errors=True)
    return base


def has_action_plugin(collections):
    return os.path.exists(os.path.join(collections, "ansible_collections", "ganeti", "rapi", "plugins", "action",
                                       "ganeti_move_instance.py"))


def read_events(path):
    """The callback's lines: the task's start, each worker's start, each move's return."""
    events = {"task_start": None, "runner_start": {}, "returned": {}, "seen": {}, "return_source": None}
    if not os.path.exists(path):
        return events
    with open(path) as handle:
        for line in handle:
            item = json.loads(line)
            kind = item.get("event", "return")
            if kind == "task_start":
                events["task_start"] = events["task_start"] or item["at"]
            elif kind == "runner_start":
                events["runner_start"][item["instance"]] = item["at"]
            else:
                events["returned"][item["instance"]] = item["returned"]
                events["seen"][item["instance"]] = item.get("seen", item["returned"])
                events["return_source"] = events["return_source"] or item.get("source")
    os.unlink(path)
    return events


def run_ansible(collections, names, mode, compress, lab_env, task=None):
    plays, inventory = module_plays(names, mode, compress, lab_env, task)
    os.makedirs(WORK, exist_ok=True)
    book = os.path.join(WORK, "bench-%s.yml" % uuid.uuid4().hex[:6])
    with open(book, "w") as handle:
        json.dump(plays, handle)
    returns = os.path.join(WORK, "returns-%s.jsonl" % uuid.uuid4().hex[:6])
    env = {"ANSIBLE_COLLECTIONS_PATH": collections,
           "ANSIBLE_PYTHON_INTERPRETER": sys.executable, "ANSIBLE_HOST_KEY_CHECKING": "false",
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_CONNECTION": "local",
           "ANSIBLE_CALLBACK_PLUGINS": os.path.join(ROOT, "tests", "bench", "callback_plugins"),
           "ANSIBLE_CALLBACKS_ENABLED": "bench_returns", "BENCH_RETURNS": returns}
    command = [os.path.join(BIN, "ansible-playbook"), book, "-i", inventory, "-c", "local",
               "-f", str(max(len(names), 5))]
    stats = measured(command, env)
    os.unlink(book)
    stats["events"] = read_events(returns)
    return stats


def move_instance_command(lab_env, names, compress, version_key=None):
    """move-instance's command line: the host's 3.0.2, or that of the 3.1 root of cluster ``version_key``.

    Both tools crash with more than one instance (tests/lab README, pitfall 3): several instances run the
    lab's copy with that one expression fixed (tests/lab/lib/patch-move-instance.py; its other substitution,
    for --opportunistic-tries, changes nothing when the option is given).
    """
    parallel = len(names) > 1
    if version_key is None:
        installed = os.path.realpath(lab_env["MOVE_INSTANCE"])
        code, host_path, python = os.path.dirname(installed), installed, "/usr/bin/python3"
        tool = [lab_env["MOVE_INSTANCE"]]
    else:
        code = "/usr/share/ganeti/%s" % lab_env["GNT_%s_VERSION" % version_key]
        host_path = lab_env["GNT_%s_ROOT" % version_key] + code + "/move-instance"
        python = "/usr/bin/python3"  # that root's
        tool = [python, code + "/move-instance"]
    if parallel:
        fixed = os.path.join(LAB_DIR, "overlay", "move-instance-%s" % ("3.0" if version_key is None else "3.1"))
        os.makedirs(os.path.dirname(fixed), exist_ok=True)
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tests", "lab", "lib", "patch-move-instance.py"),
                        host_path, fixed], check=True)
        tool = ["env", "PYTHONPATH=%s" % code, python, fixed]
    extra = ["--compress=%s" % compress] + (["--parallel=%d" % len(names)] if parallel else [])
    # --opportunistic-tries=0 for both: 3.0.2 crashes without it (pitfall 2), and 3.1 then behaves alike
    return tool + ["--opportunistic-tries=0",
                   "--src-ca-file=%s" % lab_env["GNT_A_CA_FILE"], "--src-username=lab",
                   "--src-password-file=%s" % lab_env["GNT_A_RAPI_PASSWORD_FILE"],
                   "--dest-ca-file=%s" % lab_env["GNT_B_CA_FILE"], "--dest-username=lab",
                   "--dest-password-file=%s" % lab_env["GNT_B_RAPI_PASSWORD_FILE"]] + extra + [
        lab_env["GNT_A_CLUSTER"], lab_env["GNT_B_CLUSTER"]] + names


def run_move_instance(tool, names, compress, lab_env):
    if tool == MI30:
        return measured(move_instance_command(lab_env, names, compress))
    key = anchor31(lab_env)
    return measured(move_instance_command(lab_env, names, compress, key), inside=mixed_namespace(lab_env, key))


# A destination job that ends more than a second after the export: Ganeti
# looked at the finished import up to 5 s late (see the analysis).
LATE_KEY = "destination job ends after the export by"
RETURN_KEY = "last job end -> return"
EXIT_KEY = "last job end -> result in the async job file"
HANDOFF_KEY = "hand-off: remote-import -> export received"
ANSIBLE_KEY = "ansible-playbook start -> task start"
WORKER_KEY = "task start -> worker started"
FIRST_KEY = "start -> prepare-export received"
GAP_KEY = "prepare end -> create received"
FIRST_ANSWER_KEY = "start -> first RAPI answer (one move per run)"
ANSWERS_KEY = "RAPI answers before prepare-export received (count)"
CRIT_KEY = "Ganeti's critical path"
OWN_KEY = "own time above Ganeti's critical path"
AFTER_KEY = "return -> process exit"
PREPARE_KEY = "prepare-export job"
CREATE_KEY = "create received -> remote import prepared"
IMPORT_KEY = "import daemon start (Ganeti polls after 3 s)"
SENT_KEY = "export received -> every disk sent"
REMOVAL_KEY = "every disk sent -> export end (source removal)"
# The parts of the own time, in the order a move passes them (their sum is the own time, see phases()).
OWN_PARTS = (FIRST_KEY, GAP_KEY, HANDOFF_KEY, RETURN_KEY)
PHASE_ORDER = (ANSIBLE_KEY, WORKER_KEY, FIRST_ANSWER_KEY, ANSWERS_KEY, FIRST_KEY, PREPARE_KEY, GAP_KEY, CREATE_KEY,
               IMPORT_KEY, HANDOFF_KEY, SENT_KEY, REMOVAL_KEY, LATE_KEY, RETURN_KEY, EXIT_KEY, AFTER_KEY, CRIT_KEY,
               OWN_KEY)
# What each interval holds (neutral: the figures say how long).
HOLDS = {ANSIBLE_KEY: "ansible-playbook reading its inventory, play and plugins before the task starts",
         WORKER_KEY: "the controller starting a worker process per host",
         FIRST_KEY: "the tool's start (Ansible: a worker, then the action plugin in it or an AnsiballZ module "
                    "process) and its requests before the prepare-export job (with many moves, also their wait "
                    "for a CPU and for the RAPI server)",
         GAP_KEY: "noticing the prepare-export job's end and submitting the create",
         HANDOFF_KEY: "noticing the destination's remote-import entry and submitting the export",
         RETURN_KEY: "noticing the last job's end, the requests after it, and the result reaching the caller",
         AFTER_KEY: "the process finishing after the last result (Ansible: callbacks, stats, exit)"}
# Log lines whose timestamps split a move into Ganeti's phases (masterd/instance.py, cmdlib/backup.py).
MARKS = {"preparing remote import": "import_preparing", "is now listening": "import_listening",
         "finished receiving data": "import_received", "finished sending data": "export_sent",
         "Removing instance": "export_removing"}


def _rapi(cluster):
    sys.path.insert(0, os.path.join(ROOT, "build", "collections"))
    from ansible_collections.ganeti.rapi.plugins.module_utils.rapi_client import RapiClient  # noqa: E402
    lab_env = env_file()
    with open(lab_env["GNT_%s_RAPI_PASSWORD_FILE" % cluster]) as handle:
        password = handle.read().strip()
    return RapiClient("127.0.0.1", port=int(lab_env["GNT_%s_RAPI_LOCAL_PORT" % cluster]), username="lab",
                      password=password, ca_path=lab_env["GNT_%s_CA_FILE" % cluster])


def log_timestamps(jobs, cluster, prefix):
    """Adds the remote-import entry's time ('import_ts') and the MARKS' times to jobs whose summary starts so."""
    client = _rapi(cluster)
    for job_id, job in jobs.items():
        if not job["summary"].startswith(prefix):
            continue
        data = client.get_job(job_id)
        for entries in data.get("oplog") or []:
            for entry in entries:
                when = entry[1][0] + entry[1][1] / 1e6
                if entry[2] == "remote-import":
                    job["import_ts"] = when
                for text, key in MARKS.items():
                    if entry[2] == "message" and text in str(entry[3]):
                        job[key] = max(job.get(key) or 0, when)  # the last disk's


def phases(jobs_a, jobs_b, started, events, exited, answers=None):
    """Per move, seconds spent in each phase, from the jobs' own timestamps (the report's phase tables).

    A move's start is the task's start for Ansible (after ansible-playbook's own start, counted apart) and the
    process start for move-instance; its return is when its result reached ansible-playbook (with async: when
    async_status saw it finished), for move-instance the process exit (one for all its moves).

    Ganeti's critical path of a move is the sum of the job spans no tool can overlap: the prepare-export job
    (received to end; the create needs its key), the create job from received to its remote-import entry (the
    export needs those endpoints), and from the export job's receipt to the end of the later of the export and
    the create.  The tool's own time is (return - start) - critical path, which is the sum of the OWN_PARTS:
    start -> prepare-export received, prepare end -> create received, the hand-off, last job end -> return.
    """
    def by_name(jobs, prefix):
        return dict((j["summary"][len(prefix):-1], j) for j in jobs.values() if j["summary"].startswith(prefix))
    prepares, exports = by_name(jobs_a, "BACKUP_PREPARE("), by_name(jobs_a, "BACKUP_EXPORT(")
    creates = by_name(jobs_b, "INSTANCE_CREATE(")
    task_start = events.get("task_start")
    start = task_start or started
    moves = []
    for name, export in exports.items():
        prepare, create = prepares.get(name), creates.get(name)
        if not (prepare and create and export.get("end") and create.get("end") and create.get("import_ts")):
            continue
        last_end = max(export["end"], create["end"])
        returned = events["seen"].get(name, exited)
        preparing = create.get("import_preparing") or create["import_ts"]
        sent = export.get("export_sent") or export["end"]
        critical = (prepare["end"] - prepare["received"]) + (create["import_ts"] - create["received"]) + (
            last_end - export["received"])
        values = {
            FIRST_KEY: prepare["received"] - start,
            PREPARE_KEY: prepare["end"] - prepare["received"],
            GAP_KEY: create["received"] - prepare["end"],
            CREATE_KEY: preparing - create["received"],
            IMPORT_KEY: create["import_ts"] - preparing,
            HANDOFF_KEY: export["received"] - create["import_ts"],
            SENT_KEY: sent - export["received"],
            REMOVAL_KEY: export["end"] - sent,
            LATE_KEY: create["end"] - export["end"],
            RETURN_KEY: returned - last_end,
            AFTER_KEY: exited - returned,
            CRIT_KEY: critical,
            OWN_KEY: returned - start - critical,
        }
        if task_start:
            values[ANSIBLE_KEY] = task_start - started
        if answers and len(exports) == 1:  # with one move every request is this move's
            values[FIRST_ANSWER_KEY] = min(answers) - start
            values[ANSWERS_KEY] = sum(1 for when in answers if when < prepare["received"])
        if name in events["runner_start"] and task_start:
            values[WORKER_KEY] = events["runner_start"][name] - task_start
        if events.get("return_source") == "async results file" and name in events["returned"]:
            values[EXIT_KEY] = events["returned"][name] - last_end
        moves.append(dict((key, round(value, 3)) for key, value in values.items()))
    return moves


def one_run(tool, names, mode, compress, collections):
    lab_env = env_file()
    before = counts()
    started = time.time()
    if tool in ANSIBLE_TOOLS:
        stats = run_ansible(collections[tool], names, mode, compress, lab_env)
    else:
        stats = run_move_instance(tool, names, compress, lab_env)
    exited = started + stats.get("wall", 0)
    after = counts()
    jobs_a = job_times("a", before["jobs_a"])
    jobs_b = job_times("b", before["jobs_b"])
    log_timestamps(jobs_b, "B", "INSTANCE_CREATE(")
    log_timestamps(jobs_a, "A", "BACKUP_EXPORT(")
    events = stats.pop("events", {"task_start": None, "runner_start": {}, "returned": {}, "seen": {}})
    answers = [when for cluster in ("a", "b") for when in after["answers_" + cluster][before["rapi_" + cluster]:]
               if when is not None]
    moves = phases(jobs_a, jobs_b, started, events, exited, answers)
    all_jobs = list(jobs_a.values()) + list(jobs_b.values())
    ends = [j["end"] for j in all_jobs if j.get("end")]
    receipts = [j["received"] for j in all_jobs if j.get("received")]
    exit_tail = exited - max(ends) if ends else None
    moved = lab("gnt", "b", "gnt-instance", "list", "--no-headers", "-o", "name").split()
    ok = stats["rc"] == 0 and all(name in moved for name in names)
    stats.update({
        "ok": ok, "moves": len(names),
        "rapi_per_move": (after["rapi_a"] - before["rapi_a"] + after["rapi_b"] - before["rapi_b"]) / len(names),
        "jobs_per_move": (after["jobs_a"] - before["jobs_a"] + after["jobs_b"] - before["jobs_b"]) / len(names),
        "handoff_ms": [round(m[HANDOFF_KEY] * 1000, 1) for m in moves],
        "return_ms": [round(m[RETURN_KEY] * 1000, 1) for m in moves] if events["seen"] else (
            [round(exit_tail * 1000, 1)] if exit_tail is not None else []),
        "own_ms": [round(m[OWN_KEY] * 1000, 1) for m in moves],
        "tail_ms": round(exit_tail * 1000, 1) if exit_tail else None, "phases": moves,
        # Ganeti's span of the run: its first job received to its last job's end
        "span": round(max(ends) - min(receipts), 3) if ends and receipts else None,
        "before_first": round(min(receipts) - started, 3) if receipts else None,
    })
    if not ok:
        log("FAILED %s run: rc %s\n%s" % (tool, stats["rc"], stats["output"]))
    stats.pop("output", None)
    return stats


def baseline(names, lab_env, collections):
    """Ansible's own cost for the same forks play, with a trivial in-process task instead of the move."""
    stats = run_ansible(collections, names, "forks", "none", lab_env,
                        task={"ansible.builtin.debug": {"msg": "{{ inventory_hostname }}"}})
    stats.pop("events", None)
    stats.pop("output", None)
    return stats


def scenario(name, tools, collections):
    label, count, size, mode, compress = PLAN[name]
    log("scenario %s: %d x %s, %s, compress %s, %d runs of %s" % (
        name, count, size, mode, compress, RUNS, ", ".join(tools)))
    results = dict((tool, []) for tool in tools)
    base = []
    for run in range(RUNS):
        # each run rotates the order, so that every tool comes first, second, ... equally often
        for tool in tools[run % len(tools):] + tools[:run % len(tools)]:
            names = create_instances(count, size)
            try:
                results[tool].append(one_run(tool, names, mode, compress, collections))
                log("  run %d %s: %.1f s" % (run + 1, tool, results[tool][-1]["wall"]))
                if tool == ACTION and mode != "async":
                    # the instances are on cluster b now: the names only shape the inventory
                    base.append(baseline(names, env_file(), collections[ACTION]))
            finally:
                remove_instances(names)
    return {"name": name, "label": label, "count": count, "size": size, "mode": mode, "compress": compress,
            "results": results, "baseline": base, "commit": CODE, "measured": time.time()}


def commit():
    """The work tree's commit, marked when it has changes: which code a scenario measured (read at the start, before
    the bench writes its report into the tree)."""
    def git(*args):
        return subprocess.run(["git", "-C", ROOT] + list(args), capture_output=True, text=True,
                              check=False).stdout.strip()
    # The bench's own report (OUT, rewritten by an earlier run of a BENCH_KEEP chain) is not a change of the code.
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ".",
                  ":(exclude)%s" % os.path.relpath(os.path.abspath(OUT), ROOT))
    return git("rev-parse", "--short", "HEAD") + (" (with changes)" if changed else "")


# ---------------------------------------------------------------------------------------------------------------
# The report


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summary(values, scale=1.0):
    values = [v * scale for v in values if v is not None]
    if not values:
        return "-"
    return "%.2f (%.2f-%.2f)" % (statistics.median(values), min(values), max(values))


LABEL = "ansible_collections.ganeti.rapi.docsite.performance"
HEADER = ["..",
          "  Copyright (c) 2026, ganeti.rapi contributors",
          "  GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or "
          "https://www.gnu.org/licenses/gpl-3.0.txt)",
          "  SPDX-License-Identifier: GPL-3.0-or-later", "",
          ".. Written by make bench (tests/bench/bench.py): run it again rather than editing the figures by hand.", ""]


def heading(title, char, label=None):
    """An RST section title, with the label other pages link to."""
    lines = [".. _%s:" % label, ""] if label else []
    rule = char * len(title)
    return lines + ([rule] if char == "=" else []) + [title, rule, ""]


def table(header, rows, widths=None):
    """An RST list-table (cells are RST text; an empty cell stays empty)."""
    lines = [".. list-table::", "   :header-rows: 1"]
    if widths:
        lines.append("   :widths: %s" % " ".join(str(width) for width in widths))
    lines.append("")
    for row in [header] + rows:
        for position, cell in enumerate(row):
            lines.append(("   * - " if position == 0 else "     - ") + cell if cell != "" else
                         ("   * -" if position == 0 else "     -"))
    return lines + [""]


def machine():
    return {"platform": platform.platform(), "cpus": os.cpu_count(), "mem_gib": _mem_gib(),
            "python": platform.python_version(), "ansible_core": _ansible_version()}


def lab_versions(lab_env):
    return {"a": lab_env.get("GNT_A_GANETI_VERSION", "3.0.2"), "b": lab_env.get("GNT_B_GANETI_VERSION", "3.0.2"),
            "host": lab_env.get("GNT_A_GANETI_VERSION", "3.0.2") if not lab_env.get("GNT_A_ROOT") else
            lab_env.get("GNT_B_GANETI_VERSION", "3.0.2"),
            "anchor31": (lab_env.get("GNT_%s_GANETI_VERSION" % anchor31(lab_env)) if anchor31(lab_env) else None)}


def tool_name(tool, versions):
    """How the report names a tool."""
    if tool == ACTION:
        return "collection (action path)"
    if tool == MODULE:
        return "collection without action plugin (module path)"
    if tool == MI31:
        return "move-instance %s" % (versions.get("anchor31") or "3.1")
    return "move-instance %s" % versions.get("host", "3.0.2")


def scenario_title(item):
    via = ", Ansible via %s" % item["mode"] if item["count"] > 1 else ""
    return "%s: %d x %s%s, compress %s" % (item["label"], item["count"], item["size"], via, item["compress"])


def scenario_key(item):
    if item.get("name"):
        return item["name"]
    if item["count"] == 1:
        return item["label"] if item["label"] == "single" else "big-%s" % item["compress"]
    return "parallel%d-%s" % (item["count"], item["mode"])


def good_runs(item, tool):
    return [r for r in item["results"].get(tool, []) if r["ok"]]


def wall(item, tool):
    return median([r["wall"] for r in good_runs(item, tool)])


def cpu(item, tool):
    return median([r["user"] + r["sys"] for r in good_runs(item, tool)])


def moves_of(item, tool):
    return [m for r in good_runs(item, tool) for m in r.get("phases", [])]


def phase(item, tool, key):
    return median([m.get(key) for m in moves_of(item, tool)])


def ratio(value, anchor):
    return value / anchor if value is not None and anchor else None


def judged_tool(item):
    """The collection as users run it: with its action plugin when the tree has one."""
    return ACTION if good_runs(item, ACTION) else MODULE


# (scenario, what, limit, the issue's wording); "wall" and "cpu" are ratios to move-instance 3.0.2's medians
TARGETS = [("single", "wall", 1.0, "single 64 MiB move, wall at most 1.0x move-instance"),
           ("parallel8-forks", "wall", 0.9, "8 parallel moves via forks, wall at most 0.9x move-instance"),
           ("parallel32-forks", "wall", 0.9, "32 parallel moves via forks, wall at most 0.9x move-instance"),
           ("parallel8-async", "wall", 1.0, "8 moves, async loop, wall at most 1.0x move-instance"),
           ("parallel32-async", "wall", 1.0, "32 moves, async loop, wall at most 1.0x move-instance"),
           ("parallel32-forks", "cpu", 0.4, "controller CPU at 32 moves (forks) at most 0.4x move-instance's")]
OWN_LIMIT = 0.3


def measured_target(item, what):
    tool = judged_tool(item)
    if what == "wall":
        return tool, ratio(wall(item, tool), wall(item, MI30)), ratio(wall(item, tool), wall(item, MI31))
    if what == "cpu":
        return tool, ratio(cpu(item, tool), cpu(item, MI30)), ratio(cpu(item, tool), cpu(item, MI31))
    return tool, phase(item, tool, OWN_KEY), None


def targets_section(scenarios, versions):
    by_key = dict((scenario_key(item), item) for item in scenarios)
    rows, missed = [], []
    wanted = [(key, what, limit, text) for key, what, limit, text in TARGETS if key in by_key]
    wanted += [(scenario_key(item), "own", OWN_LIMIT, "%s, tool's own time per move under %.1f s" % (
        scenario_title(item), OWN_LIMIT)) for item in scenarios if not scenario_key(item).startswith("big")]
    anchor31_present = any(good_runs(item, MI31) for item in scenarios)
    for key, what, limit, text in wanted:
        item = by_key[key]
        tool, value, value31 = measured_target(item, what)
        if value is None:
            empty = ["-"] * (3 if anchor31_present else 2)
            rows.append([text, tool_name(tool, versions)] + empty + ["not measured"])
            continue
        met = value < limit if what == "own" else value <= limit
        shown = "%.3f s" % value if what == "own" else "%.2fx" % value
        row = [text, tool_name(tool, versions), shown,
               ("< %.1f s" % limit) if what == "own" else "<= %.1fx" % limit]
        if anchor31_present:
            row.append("%.2fx" % value31 if value31 is not None else "-")
        rows.append(row + ["met" if met else "missed"])
        if not met:
            missed.append((item, what, limit, tool, text))
    header = ["target", "tool", "measured (median)", "limit"] + (
        ["against move-instance %s" % (versions.get("anchor31") or "3.1")] if anchor31_present else []) + [
        "status"]
    lines = heading("Targets", "-", LABEL + ".targets") + [
        "Wall and CPU targets are ratios of the medians to those of move-instance %s (the first anchor) in the same "
        "bench run; the own time is defined under \"Own time\" below. The tool judged is the collection as users "
        "run it." % versions.get("host", "3.0.2"), ""]
    lines += table(header, rows)
    if missed:
        lines += ["Where the time goes for each missed target, and what would close it (from this run's figures; "
                  "medians of parts need not add up to the median of a whole):", ""]
        for item, what, limit, tool, text in missed:
            lines += explain(item, what, limit, tool, text, versions) + [""]
    return lines


def _parts(item, tool, keys):
    return ", ".join("%s %.2f s" % (key, phase(item, tool, key)) for key in keys
                     if phase(item, tool, key) is not None)


def _largest(item, tool, keys):
    values = [(phase(item, tool, key), key) for key in keys if phase(item, tool, key) is not None]
    return max(values) if values else (None, None)


def explain(item, what, limit, tool, text, versions):
    anchor = tool_name(MI30, versions)
    name = tool_name(tool, versions)
    if what == "own":
        own = phase(item, tool, OWN_KEY)
        value, key = _largest(item, tool, OWN_PARTS)
        lines = ["- %s: %s's own time per move is %.2f s (%s), %.2f s over the limit; %s: %.2f s (%s)." % (
            text, name, own, _parts(item, tool, OWN_PARTS), own - limit, anchor,
            phase(item, MI30, OWN_KEY) or 0, _parts(item, MI30, OWN_PARTS))]
        if key:
            lines.append("  The largest part is \"%s\" (%.2f s): %s. Closing the target needs the parts together "
                         "%.2f s shorter." % (key, value, HOLDS[key], own - limit))
        if key == FIRST_KEY and phase(item, tool, FIRST_ANSWER_KEY) is not None:
            lines.append("  Of it, %.2f s passed before the first RAPI request was answered (%s%s), and %.0f "
                         "requests were answered before the prepare-export job was received." % (
                             phase(item, tool, FIRST_ANSWER_KEY), "of which the worker's start %.2f s; " % phase(
                                 item, tool, WORKER_KEY) if phase(item, tool, WORKER_KEY) is not None else "",
                             "the rest is the tool's start-up and its first connection",
                             phase(item, tool, ANSWERS_KEY)))
        if item["mode"] == "async":
            lines.append("  With async the loop starts the moves one after the other, so a move's start -> "
                         "prepare-export received holds the starts of the items before it; its return is when "
                         "async_status saw it finished, so it holds up to one poll delay (%d s) and the polls of "
                         "the items before it." % ASYNC_DELAY)
        return lines
    mine, theirs = (wall(item, tool), wall(item, MI30)) if what == "wall" else (cpu(item, tool), cpu(item, MI30))
    allowed = limit * theirs
    over = mine - allowed
    if what == "cpu":
        base = median([b["user"] + b["sys"] for b in item.get("baseline", [])])
        lines = ["- %s: %s used %.2f s of CPU, %s %.2f s; the limit is %.2f s, %.2f s less (%.3f s per move)." % (
            text, name, mine, anchor, theirs, allowed, over, over / item["count"])]
        if base is not None:
            lines.append("  The same play with a trivial in-process task (``ansible.builtin.debug``) instead of "
                         "the move used %.2f s: Ansible's own cost of the play and its %d workers. The moves "
                         "themselves used the rest, %.2f s (%.3f s per move)." % (
                             base, item["count"], mine - base, (mine - base) / item["count"]))
            if base >= allowed:
                lines.append("  Ansible's own cost alone is over the limit, so no change in the move's code "
                             "closes it; fewer worker processes per move would (a play with fewer forks, or "
                             "moves that share a worker).")
            else:
                lines.append("  Closing it needs the moves' share to shrink from %.2f s to %.2f s (%.0f%% less)."
                             % (mine - base, allowed - base, 100.0 * over / (mine - base)))
        return lines
    lines = ["- %s: %s took %.2f s, %s %.2f s; the limit is %.2f s, %.2f s less." % (
        text, name, mine, anchor, theirs, allowed, over)]
    if item["count"] > 1:
        return lines + explain_run(item, tool, name, anchor, over)
    # one move: the run is the move; what the tool adds (Ansible's start, its own time, its exit) against
    # Ganeti's critical path
    whole = [key for key in (ANSIBLE_KEY, OWN_KEY, CRIT_KEY, AFTER_KEY) if phase(item, tool, key) is not None]
    diffs = [(phase(item, tool, key) - (phase(item, MI30, key) or 0.0), key) for key in whole]
    lines.append("  %s against %s (medians, difference): %s." % (name, anchor, ", ".join(
        "%s %.2f s (%+.2f s)" % (key, phase(item, tool, key), value) for value, key in diffs)))
    worst = max(diffs) if diffs else (0.0, None)
    if worst[0] <= 0.005:
        lines.append("  No part is longer than %s's." % anchor)
    elif worst[1] == ANSIBLE_KEY:
        lines.append("  The largest difference is ansible-playbook's own start (%s); a playbook pays it once "
                     "per run, not per move, when it moves several instances." % HOLDS[ANSIBLE_KEY])
    elif worst[1] == OWN_KEY:
        value, key = _largest(item, tool, OWN_PARTS)
        lines.append("  The largest difference is the tool's own time: %s; the largest part is \"%s\" "
                     "(%.2f s): %s." % (_parts(item, tool, OWN_PARTS), key, value, HOLDS[key]))
    elif worst[1] == CRIT_KEY:
        lines.append(critical_path_difference(item, tool, name, anchor))
    else:
        lines.append("  The largest difference is \"%s\": %s." % (worst[1], HOLDS[worst[1]]))
    return lines


def critical_path_difference(item, tool, name, anchor):
    parts = [(phase(item, tool, key) - (phase(item, MI30, key) or 0.0), key)
             for key in (PREPARE_KEY, CREATE_KEY, IMPORT_KEY, SENT_KEY, REMOVAL_KEY)
             if phase(item, tool, key) is not None]
    # the critical path holds the destination job's end only where it came after the export's
    tails = [median([max(0.0, m.get(LATE_KEY) or 0.0) for m in moves_of(item, t)]) for t in (tool, MI30)]
    if tails[0] is not None:
        parts.append((tails[0] - (tails[1] or 0.0), "destination job's end after the export's"))
    late = [sum(1 for m in moves_of(item, t) if m.get(LATE_KEY, 0) > 1.0) for t in (tool, MI30)]
    longer = [(value, key) for value, key in sorted(parts)[::-1][:3] if value > 0.005]
    return ("  The largest difference is Ganeti's critical path, i.e. Ganeti's own time, which no client shortens "
            "but its requests can delay (queued behind other jobs): %s. The destination noticed the import more "
            "than 1 s after the export ended in %d of %s's %d moves and %d of %s's %d (luck of its 5 s poll; see "
            "like for like)." % (", ".join("%s %+.2f s" % (key, value) for value, key in longer) or "no part longer",
                                 late[0], name, len(moves_of(item, tool)), late[1], anchor,
                                 len(moves_of(item, MI30))))


def explain_run(item, tool, name, anchor, over):
    """Several moves: the run's wall is the time before its first job, Ganeti's span, and the time after it."""
    parts = {}
    for who in (tool, MI30):
        runs = good_runs(item, who)
        parts[who] = {"before the first job": median([r.get("before_first") for r in runs]),
                      "Ganeti's span (first job received -> last job end)": median([r.get("span") for r in runs]),
                      "after the last job": median([r.get("tail_ms") / 1000.0 if r.get("tail_ms") is not None
                                                    else None for r in runs])}
    if any(value is None for who in parts for value in parts[who].values()):
        return []
    diffs = sorted(((parts[tool][key] - parts[MI30][key], key) for key in parts[tool]), reverse=True)
    lines = ["  The run, %s against %s (medians, difference): %s." % (name, anchor, ", ".join(
        "%s %.2f s (%+.2f s)" % (key, parts[tool][key], parts[tool][key] - parts[MI30][key])
        for key in parts[tool]))]
    value, key = diffs[0]
    outside = parts[tool]["before the first job"] + parts[tool]["after the last job"]
    if key == "before the first job" and value > 0.005:
        lines.append("  The largest difference is before the first job: ansible-playbook's own start (%.2f s) and "
                     "the start of the first move." % (phase(item, tool, ANSIBLE_KEY) or 0.0))
    elif key == "after the last job" and value > 0.005:
        lines.append("  The largest difference is after the last job: %s, then %s." % (
            HOLDS[RETURN_KEY], HOLDS[AFTER_KEY]))
    elif value > 0.005:
        steps = [(phase(item, tool, step) - (phase(item, MI30, step) or 0.0), step)
                 for step in (FIRST_KEY, PREPARE_KEY, GAP_KEY, CREATE_KEY, IMPORT_KEY, HANDOFF_KEY, SENT_KEY,
                              REMOVAL_KEY) if phase(item, tool, step) is not None]
        longer = [(diff, step) for diff, step in sorted(steps, reverse=True)[:3] if diff > 0.005]
        lines.append("  The largest difference is Ganeti's span, i.e. how long the clusters took for the run's "
                     "jobs as the tool submitted them. Per move, the phases longer than %s's (median difference): "
                     "%s." % (anchor, ", ".join("%s %+.2f s" % (step, diff) for diff, step in longer) or "none"))
        if longer and longer[0][1] == FIRST_KEY:
            lines.append("  The first of these is the tool's, %s%s." % (HOLDS[FIRST_KEY], (
                "; with async the loop starts the moves one after the other" if item["mode"] == "async" else "")))
    if outside >= over:
        lines.append("  The time outside Ganeti's span (%.2f s) is more than the excess (%.2f s): a start and end "
                     "of the run shorter by that much would close it." % (outside, over))
    else:
        lines.append("  The time outside Ganeti's span (%.2f s) is less than the excess (%.2f s): closing it needs "
                     "the span shorter too." % (outside, over))
    return lines


def main_table(scenarios, versions):
    anchor31_present = any(good_runs(item, MI31) for item in scenarios)
    header = ["scenario", "tool", "runs ok", "wall s", "wall / move-instance %s" % versions.get("host", "3.0.2")] + (
        ["wall / move-instance %s" % (versions.get("anchor31") or "3.1")] if anchor31_present else []) + [
        "controller CPU s", "CPU / move-instance %s" % versions.get("host", "3.0.2"), "peak RSS MiB",
        "RAPI requests per move", "jobs per move", "own time per move s",
        "hand-off ms (remote-import -> export received)", "last job end -> return ms",
        "last job end -> tool exit ms", "moves whose import Ganeti noticed late"]
    rows = []
    for item in scenarios:
        for tool in [t for t in (ACTION, MODULE, MI30, MI31) if t in item["results"]]:
            runs = item["results"][tool]
            good = good_runs(item, tool)
            moves = moves_of(item, tool)
            late = sum(1 for m in moves if m.get(LATE_KEY, 0) > 1.0)
            wall_ratio = ratio(wall(item, tool), wall(item, MI30))
            row = [scenario_title(item), tool_name(tool, versions), "%d/%d" % (len(good), len(runs)),
                   summary([r["wall"] for r in good]),
                   "%.2f" % wall_ratio if wall_ratio is not None and tool != MI30 else ""]
            if anchor31_present:
                wall31 = ratio(wall(item, tool), wall(item, MI31))
                row.append("%.2f" % wall31 if wall31 is not None and tool != MI31 else "")
            cpu_ratio = ratio(cpu(item, tool), cpu(item, MI30))
            row += [summary([r["user"] + r["sys"] for r in good]),
                    "%.2f" % cpu_ratio if cpu_ratio is not None and tool != MI30 else "",
                    summary([r["maxrss_kb"] / 1024.0 for r in good]),
                    summary([r["rapi_per_move"] for r in good]), summary([r["jobs_per_move"] for r in good]),
                    summary([m.get(OWN_KEY) for m in moves]),
                    summary([x for r in good for x in r["handoff_ms"]]),
                    summary([x for r in good for x in r.get("return_ms", [])]),
                    summary([r["tail_ms"] for r in good]), "%d/%d" % (late, len(moves))]
            rows.append(row)
    return table(header, rows)


def baseline_lines(scenarios):
    rows = []
    for item in scenarios:
        base = item.get("baseline") or []
        if base:
            rows.append([scenario_title(item), "%d" % len(base), summary([b["wall"] for b in base]),
                         summary([b["user"] + b["sys"] for b in base])])
    if not rows:
        return []
    return ["Ansible's own cost: the same play (one host per instance, the same forks, delegated to localhost) "
            "with ``ansible.builtin.debug`` instead of the move, run after each run of the collection:", ""] + table(
        ["scenario", "runs", "wall s", "controller CPU s"], rows)


def provenance(scenarios):
    """Which code each scenario measured, when they differ (a run that kept an earlier run's scenarios)."""
    groups = {}
    for item in scenarios:
        when = time.strftime("%Y-%m-%d", time.gmtime(item["measured"])) if item.get("measured") else "?"
        groups.setdefault((item.get("commit") or "unknown", when), []).append(scenario_key(item))
    if len(groups) < 2:
        return []
    return ["The scenarios come from %d bench runs on this lab and machine (``BENCH_KEEP``): %s." % (
        len(groups), "; ".join("%s measured %s at commit %s" % (", ".join(keys), when, code)
                               for (code, when), keys in groups.items())), ""]


def render(saved):
    """The report page (RST, an antsibull-docs extra docs page) for the results of one bench run."""
    scenarios, started, finished, host = saved["scenarios"], saved["started"], saved["finished"], saved["machine"]
    versions = saved.get("versions") or {"a": "3.0.2", "b": "3.0.2", "host": "3.0.2", "anchor31": None}
    anchor31_present = any(good_runs(item, MI31) for item in scenarios)
    keys = ",".join(sorted(set(scenario_key(item).split("-")[0] for item in scenarios)))
    lines = HEADER + [".. _%s:" % LABEL, ""] + heading("Performance: ganeti_move_instance vs move-instance", "=") + [
        "Written by ``make bench`` (``tests/bench/run.sh``) on %s. Every tool ran on the same two-cluster lab "
        "(``tests/lab``, cluster a Ganeti %s, cluster b Ganeti %s, fake hypervisor, file disks) in one run, the "
        "tools taking turns in a rotating order, each move on fresh instances of the same size. Every tool ran in "
        "the lab's hub namespace and addressed the clusters by name, so none went through the host port forwards. "
        "Every disk holds random bytes in its first half and zeros after. Figures are medians with (min-max) over "
        "the runs." % (time.strftime("%Y-%m-%d", time.gmtime(started)), versions["a"], versions["b"]), "",
        "The async variant is the pattern of :ansplugin:`ansible.builtin.async_status#module`'s own documentation: "
        "the moves started in a loop with ``poll: 0``, then async_status in a loop with ``until``, ``retries`` and "
        "``delay``. Its examples wait 10 s between polls; the bench waits %d s, as earlier bench runs did: no "
        "documented pattern polls sooner, and every poll is one more async_status run on the controller."
        % saved.get("async_delay", ASYNC_DELAY), "",
        "Machine: %s, %d CPUs, %.1f GiB memory, Python %s, ansible-core %s. Bench wall time: %s." % (
            host["platform"], host["cpus"], host["mem_gib"], host["python"], host["ansible_core"],
            "%.0f s" % (finished - started) if not saved.get("earlier_wall") else
            "%.0f s for the scenarios this run measured, %.0f s for the earlier run the others come from" % (
                finished - started, saved["earlier_wall"])), ""] + provenance(scenarios) + [
        "Reproduce: ``make bench`` (or ``BENCH_RUNS=%d BENCH_SCENARIOS=%s bash tests/bench/run.sh``%s). Every "
        "figure comes from the clusters and the tools' processes, not from the module's result: job times and log "
        "lines from Ganeti's job queue (``gnt-job list``, ``/2/jobs/ID``), RAPI requests from the RAPI daemons' "
        "logs, the task's start and each move's return from the time ``ansible-playbook`` saw them "
        "(``tests/bench/callback_plugins``)." % (
            saved.get("runs", RUNS), keys, ", with ``LAB_B_GANETI=3.1`` for the 3.1 anchor" if anchor31_present
            else ""), "",
        "The tools:", "",
        "- collection (action path): the collection as it is. A task on a local connection runs the move in the "
        "Ansible worker (action plugin); with ``async`` the action plugin forks each move off as a process of its own "
        "on the controller, which writes the job file async_status reads (no module either).",
        "- collection without action plugin (module path): a copy of the collection without ``plugins/action`` "
        "(``build/bench/collections-module``), i.e. the module as 0.1.0 ran it: AnsiballZ, one module process per "
        "move.",
        "- move-instance %s: the host's tool. It crashes with more than one instance (``any() takes exactly one "
        "argument``); the parallel rows use the lab's copy with that one expression fixed "
        "(``tests/lab/lib/patch-move-instance.py``, ``--parallel=N``). Every run passes "
        "``--opportunistic-tries=0``, without which 3.0.2 crashes." % versions.get("host", "3.0.2")]
    if anchor31_present:
        lines.append(
            "- move-instance %s: the tool and Python of the lab's Ganeti 3.1 root file system (Debian trixie), run "
            "with that root as its file system and the hub's network (``nsenter``), so its own code, Python and "
            "libraries do the work, over the same network path as the others; the parallel rows use the same "
            "fixed copy, the same options." % versions["anchor31"])
    lines += [""] + targets_section(scenarios, versions)
    lines += heading("Results", "-", LABEL + ".results") + main_table(scenarios, versions)
    lines += [
        "Controller CPU is that of the whole tool process tree (ansible-playbook with its workers and modules; "
        "move-instance with its threads), from getrusage of the children. Peak RSS is that of the largest single "
        "process in the tree (getrusage reports no sum): with forks each move runs in a process of its own, so the "
        "controller's total is larger than the figure shown.", ""]
    lines += baseline_lines(scenarios) + like_for_like(scenarios, versions) + OWN_TIME + ANALYSIS
    lines += phase_tables(scenarios, versions)
    return "\n".join(wrapped(lines)).rstrip("\n") + "\n"


def wrapped(lines, width=118):
    """Paragraphs and bullets (not table cells or directives) wrapped, so that a new report diffs line by line.

    A line that starts with two spaces continues the bullet above it and keeps that indent.
    """
    out = []
    for line in lines:
        if len(line) <= width or line.startswith(("   ", "..")):
            out.append(line)
        else:
            first = "  " if line.startswith("  ") else ""
            rest = "  " if line.startswith(("- ", "  ")) else ""
            out += textwrap.wrap(line.strip(), width, initial_indent=first, subsequent_indent=rest,
                                 break_long_words=False, break_on_hyphens=False)
    return out


def report(saved, out=OUT):
    text = render(saved)
    with open(out, "w") as handle:
        handle.write(text)
    log("wrote %s" % out)


OWN_TIME = heading("Own time", "-", LABEL + ".own-time") + [
    "A move's own time is the time a tool spends on it beyond Ganeti's critical path, from the jobs' time stamps "
    "(``tests/bench/bench.py``, ``phases()``): (return - start) - critical path. The start is the move task's "
    "start as ``ansible-playbook`` reports it (so ansible-playbook's own start before the task does not count; "
    "it is shown apart) and move-instance's process start. The return is when the move's result reached "
    "``ansible-playbook`` (with async: when async_status saw it finished) and move-instance's exit, one for all "
    "its moves. The critical path is the sum of the job spans that no tool can overlap: the prepare-export job "
    "(received to end: the create needs its key), the create job from received to its remote-import entry (the "
    "export needs those endpoints), and from the export job's receipt to the end of the later of the export and "
    "the create. What is left is the tool's: start -> prepare-export received (with forks it includes the "
    "controller starting that host's worker), prepare end -> create received, the hand-off (remote-import entry "
    "-> export received) and last job end -> return; each includes the RAPI server's and luxid's share of the "
    "requests it makes. With one move per run the phase tables also show when the first RAPI request was "
    "answered and how many were answered before the prepare-export job was received (from the RAPI logs).", ""]

ANALYSIS = heading("Where the time goes", "-", LABEL + ".analysis") + [
    "The phase tables at the end split every move by the jobs' own timestamps. Most of a move is Ganeti's own "
    "timeline, the same for every tool, paced by how Ganeti's master follows its import/export daemons "
    "(``ImportExportLoop`` in ``ganeti/masterd/instance.py``): right after starting a daemon it finds no status "
    "yet and looks again only 3 s later, then every second until the peer connects, then every 5 s while data "
    "flows. Hence the import daemon's start phase, the export's time for disks that cross the lab's network in "
    "well under a second, and a destination job that can end up to 5 s after its data arrived (last column of "
    "the results: such a run takes longer whichever tool runs it). Each job also waits for luxid to start its "
    "process, one job after the other on each cluster, and luxid runs at most 20 jobs per cluster at once. No "
    "RAPI client shortens any of this.", "",
    "What a tool controls is its own time (above) and, with many moves, how soon it submits each move's jobs; "
    "the phase tables show where each tool spends it. Ansible adds its start before the task, a worker process "
    "per host (forks) or a loop that starts one async job after the other, and the handling of each result; the "
    "module path adds an AnsiballZ module process per move, which the action path does without.", ""]


def like_for_like(scenarios, versions):
    """Single-move ratios over the runs in which Ganeti noticed the import in time, for every tool.

    Whether the destination's master sees the end of an import at once or up
    to 5 s later is luck of its polling phase and moves a single run by ~2.5 s,
    more than the tools differ; five runs per tool can split unevenly.
    """
    lines = []
    for item in scenarios:
        if item["count"] != 1:
            continue
        walls = {}
        for tool in item["results"]:
            walls[tool] = [r["wall"] for r in good_runs(item, tool) if r.get("phases")
                           and all(m.get(LATE_KEY, 0) <= 1.0 for m in r["phases"])]
        if not walls.get(MI30):
            continue
        anchor = statistics.median(walls[MI30])
        parts = []
        for tool in [t for t in (ACTION, MODULE, MI31) if walls.get(t)]:
            parts.append("%s %d run(s), median %.2f s, ratio %.2f" % (
                tool_name(tool, versions), len(walls[tool]), statistics.median(walls[tool]),
                statistics.median(walls[tool]) / anchor))
        lines.append("- %s: %s %d run(s), median %.2f s; %s." % (
            scenario_title(item), tool_name(MI30, versions), len(walls[MI30]), anchor, "; ".join(parts)))
    if lines:
        lines = ["Like for like: a single run takes longer when Ganeti's master notices the end of the import "
                 "late (its 5 s poll, last column), whichever tool runs, so the medians above depend on how the "
                 "runs happened to fall. Over the runs where it did not:", ""] + lines + [""]
    return lines


def phase_tables(scenarios, versions):
    """Per scenario, the median seconds of each phase of a move, from the jobs' timestamps, for every tool."""
    lines = heading("Phases of a move, from the jobs' timestamps", "-", LABEL + ".phases") + [
        "Median seconds per move over every move of every successful run (``tests/bench/bench.py``, "
        "``phases()``): the job's received/start/end times and the times of its log lines, as Ganeti's job queue "
        "reports them; the start, return and own time as defined above. Medians of the parts need not add up to "
        "the median of the whole.", ""]
    for item in scenarios:
        tools = [t for t in (ACTION, MODULE, MI30, MI31) if moves_of(item, t)]
        if not tools:
            continue
        present = set(key for tool in tools for m in moves_of(item, tool) for key in m)
        rows = []
        for key in [k for k in PHASE_ORDER if k in present] + sorted(present - set(PHASE_ORDER)):
            cells = [key]
            for tool in tools:
                value = phase(item, tool, key)
                cells.append("%.3f" % value if value is not None else "-")
            rows.append(cells)
        lines += heading(scenario_title(item), "~") + table(
            ["phase"] + ["%s s" % tool_name(tool, versions) for tool in tools], rows,
            widths=[40] + [60 // len(tools)] * len(tools))
    return lines


def _mem_gib():
    with open("/proc/meminfo") as handle:
        return int(handle.readline().split()[1]) / 1048576.0


def _ansible_version():
    out = subprocess.run([os.path.join(BIN, "ansible"), "--version"], capture_output=True, text=True, check=False)
    return out.stdout.split("[core ")[1].split("]")[0] if "[core " in out.stdout else "?"


def prepare_lab():
    """The lab as the tools meet it in production: its own certificates and a socat that checks the peer's name.

    A lab left by the integration suite's last phase has neither; a lab with another Ganeti on b than
    LAB_B_GANETI asks for is brought down too, so that ``lab.sh up`` can make the wanted one.
    """
    wanted = {"LAB_RAPI_CERT": "lab", "LAB_FIX_SOCAT_CN": "1"}
    if os.path.exists(os.path.join(LAB_DIR, "lab.env")):
        current = env_file()
        stale = any(current.get(key) != value for key, value in wanted.items())
        for side in ("A", "B"):
            asked = os.environ.get("LAB_%s_GANETI" % side)
            stale = stale or bool(asked and current.get("GNT_%s_VERSION" % side, "3.0") != asked)
        if stale:
            lab("down")
    os.environ.update(wanted)
    lab("up")


def main():
    global CODE  # pylint: disable=global-statement
    started = time.time()
    CODE = commit()
    prepare_lab()
    lab_env = env_file()
    link = os.path.join(ROOT, "build", "collections", "ansible_collections", "ganeti", "rapi")
    os.makedirs(os.path.dirname(link), exist_ok=True)
    if not os.path.islink(link):
        os.symlink(ROOT, link)
    collections = {ACTION: os.path.join(ROOT, "build", "collections"), MODULE: module_collection()}
    if has_action_plugin(collections[MODULE]):
        raise RuntimeError("the module-path copy still has plugins/action")
    tools = [ACTION, MODULE, MI30] + ([MI31] if anchor31(lab_env) else [])
    if not has_action_plugin(collections[ACTION]):
        log("no plugins/action/ganeti_move_instance.py in the tree: the action path is not measured")
        tools.remove(ACTION)
    if os.environ.get("BENCH_TOOLS"):
        asked = [tool.strip() for tool in os.environ["BENCH_TOOLS"].split(",")]
        tools = [tool for tool in tools if tool in asked]
    saved = {"started": started, "machine": machine(), "versions": lab_versions(lab_env), "runs": RUNS,
             "async_delay": ASYNC_DELAY, "tools": tools, "scenarios": []}
    names = [name for key in SCENARIOS for name in GROUPS.get(key.strip(), [key.strip()])]
    kept = kept_scenarios(os.environ.get("BENCH_KEEP"), names, saved)
    for name in names:
        saved["scenarios"].append(scenario(name, tools, collections))
        saved["finished"] = time.time()
        merged = dict(saved, scenarios=sorted(saved["scenarios"] + kept, key=lambda item: list(PLAN).index(item["name"])))
        report(merged)
        with open(RESULTS, "w") as handle:
            json.dump(merged, handle, indent=1)


def kept_scenarios(path, measuring, saved):
    """The scenarios of an earlier run's raw results that this run does not measure (BENCH_KEEP)."""
    if not path:
        return []
    with open(path) as handle:
        earlier = json.load(handle)
    if earlier["machine"]["cpus"] != saved["machine"]["cpus"] or earlier["versions"] != saved["versions"]:
        raise RuntimeError("BENCH_KEEP: %s ran on another machine or lab" % path)
    if earlier.get("async_delay", ASYNC_DELAY) != ASYNC_DELAY or earlier["runs"] != saved["runs"]:
        raise RuntimeError("BENCH_KEEP: %s polled or repeated differently" % path)
    saved["earlier_wall"] = earlier.get("earlier_wall", 0) + earlier["finished"] - earlier["started"]
    kept = []
    for item in earlier["scenarios"]:
        if item["name"] not in measuring:
            item.setdefault("commit", earlier.get("commit", "unknown"))
            item.setdefault("measured", earlier["started"])
            kept.append(item)
    return kept


def report_only(path=RESULTS):
    """Rewrite the report from a run's raw results (build/bench-results.json by default)."""
    with open(path) as handle:
        saved = json.load(handle)
    report(saved)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--report-only"] and len(sys.argv) <= 3:
        report_only(*sys.argv[2:])
    else:
        main()
