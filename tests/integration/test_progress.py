# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A long transfer is watched live: over links slowed with LAB_LINK_RATE (lab.sh link-rate), two moves run side by
side, one of more than two minutes through ansible-playbook (its output stamped line by line as it comes) and one
through ansible-runner (its events as they arrive, as AWX gets them). Ganeti's per-disk progress lines, with
their percentage, must arrive while the task still runs, and no minute of the transfer may pass in silence."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import ansible_runner
import yaml

from conftest import BIN, COLLECTIONS, connection, lab

# The two moves share the link between the clusters' nodes, rarely evenly. At 12 Mbit/s (~1.36 MiB/s of payload)
# the playbook's 192 MiB take more than two minutes even with the whole link, and the runner's 64 MiB more than 45 s;
# both together ~190 s.
RATE = "12mbit"
SIZE_PLAYBOOK = "192M"
SIZE_RUNNER = "64M"
PERCENT_LINE = r"^%s: Disk 0 sent [^,]+, [0-9.]+ MiB/s, (\d+)%%, ETA "
HEARTBEAT_LINE = r"^%s: still exporting after (?:\d+m )?\d+s, 0 of 1 disk\(s\) sent$"


def move_play(name, cluster_a, cluster_b):
    task = {"name": "move", "ganeti.rapi.ganeti_move_instance": {
        "name": name, "name_check": False, "source": connection(cluster_a), "destination": connection(cluster_b)}}
    return [{"hosts": "localhost", "gather_facts": False, "tasks": [task]}]


# Runs a command and writes each line of its output as it comes, with the time it came (a process of its own, so
# that the test process has no thread when ansible-runner forks).
STAMPED = """import subprocess, sys, time
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
for line in proc.stdout:
    sys.stdout.write("%.3f %s" % (time.time(), line))
    sys.stdout.flush()
sys.exit(proc.wait())
"""


def test_a_long_transfer_shows_its_progress_while_it_runs(runner, instances, cluster_a, cluster_b, tmp_path):
    by_playbook = instances.create(cluster_a, size=SIZE_PLAYBOOK, prefix="live")
    by_runner = instances.create(cluster_a, size=SIZE_RUNNER, prefix="live")
    before = dict((name, cluster_a.disk_md5(name)) for name in (by_playbook, by_runner))
    lab("link-rate", RATE)
    try:
        book = tmp_path / "play.yml"
        book.write_text(yaml.safe_dump(move_play(by_playbook, cluster_a, cluster_b)))
        stamped = tmp_path / "output"
        with open(str(stamped), "w") as out:
            proc = subprocess.Popen([sys.executable, "-c", STAMPED, os.path.join(BIN, "ansible-playbook"), str(book),
                                     "-i", "localhost,", "-c", "local"], stdout=out, env=runner.env(),
                                    cwd=str(tmp_path))

        arrived = []
        run = None
        pdd = tempfile.mkdtemp(prefix="ganeti-progress-")
        try:
            runner_book = tmp_path / "runner.yml"
            runner_book.write_text(yaml.safe_dump(move_play(by_runner, cluster_a, cluster_b)))
            run = ansible_runner.run(
                private_data_dir=pdd, playbook=str(runner_book), inventory="localhost,", cmdline="-c local",
                quiet=True, timeout=900, envvars={"PATH": BIN + os.pathsep + os.environ.get("PATH", ""),
                                                  "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
                                                  "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
                                                  "ANSIBLE_PYTHON_INTERPRETER": sys.executable},
                event_handler=lambda event: arrived.append((time.time(), event)) or True)
        finally:
            shutil.rmtree(pdd)
            if run is None:
                proc.kill()  # ansible-runner failed: do not leave the other move's playbook behind
        code = proc.wait(timeout=900)
    finally:
        lab("link-rate", "off")

    # ansible-playbook: the progress lines came while the task ran, more than a minute before it ended.
    output = [(float(at), line) for at, line in (row.split(" ", 1) for row in stamped.read_text().splitlines())]
    text = "\n".join(line for _at, line in output)
    print(text)
    assert code == 0, text
    started = [at for at, line in output if line.startswith("TASK [move]")]
    ended = [at for at, line in output if line.startswith("changed: [localhost]")]
    assert len(started) == 1 and len(ended) == 1, text
    assert ended[0] - started[0] > 120, text  # a move of more than two minutes
    percent = [(at, int(match.group(1))) for at, line in output
               for match in [re.match(PERCENT_LINE % re.escape(by_playbook), line)] if match]
    assert len(percent) >= 2, text
    assert all(at < ended[0] for at, _value in percent), text
    assert ended[0] - percent[0][0] > 60, text
    assert [value for _at, value in percent] == sorted(value for _at, value in percent), text
    # No minute in silence while the disk is sent: a line at least every 60 s (Ganeti's own every 60 s, ours between
    # them); at default verbosity no step lines.
    mine = [(at, line) for at, line in output if line.startswith(by_playbook + ": ")]
    finished = [at for at, line in mine if line == "%s: Disk 0 finished sending data" % by_playbook]
    assert len(finished) == 1, text
    during = [at for at, _line in mine if at <= finished[0]]
    assert max(b - a for a, b in zip(during, during[1:])) <= 60, text
    assert any(re.match(HEARTBEAT_LINE % re.escape(by_playbook), line) for _at, line in mine), text
    assert not any(" done in " in line for _at, line in mine), text
    assert mine[-1][1].startswith("%s: moved after " % by_playbook), text

    # ansible-runner: the same lines arrived as events (AWX's job events) before the task's result did.
    assert run.status == "successful"
    done = [at for at, event in arrived if event["event"] == "runner_on_ok"]
    assert len(done) == 1
    progress_events = [at for at, event in arrived if event["event"] == "verbose"
                       and re.match(PERCENT_LINE % re.escape(by_runner), (event.get("stdout") or "").strip())]
    assert progress_events and done[0] - progress_events[0] > 20

    # The clusters: both instances on b only, running, same disk bytes.
    on_a, on_b = cluster_a.instances(), cluster_b.instances()
    for name in (by_playbook, by_runner):
        assert name not in on_a and on_b[name]["status"] == "running"
        assert cluster_b.disk_md5(name) == before[name]
