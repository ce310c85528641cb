# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A move started with ``async`` on the controller: a process of its own that writes async_wrapper's job file.

The action plugin starts ``python -c 'from ...move_async import main; main()'`` in a new session, hands it the
validated options on stdin (never in argv or the environment) and returns at once.  This process writes the
job file that ``ansible.builtin.async_status`` reads, in the format of Ansible's async_wrapper: while running
``{"started": true, "finished": false, "ansible_job_id": ...}`` (no ``failed`` key: ansible-core 2.16 stops
polling at any), then the task's result without ``started``.  Every write is a ``.tmp`` file renamed into place.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import signal
import sys
import traceback

from ansible.module_utils.common.parameters import remove_values

from ansible_collections.ganeti.rapi.plugins.module_utils.move_task import MoveTask


def running(jid):
    return {"started": True, "finished": False, "ansible_job_id": jid}


def write_job_file(path, data):
    """``data`` as JSON at ``path``, all at once: async_status reads a partial file as a running job."""
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(data, handle)
    os.rename(tmp, path)


def run_job(job, environ=None):
    """Run the move described by ``job`` (the action's hand-over) and write its final job file."""
    path, jid = job["path"], job["jid"]
    secrets = set(job.get("no_log_values") or [])

    def out_of_time(_signum, _frame):
        # The move's own deadline comes well before: this is the backstop async_wrapper also has.
        write_job_file(path, {"failed": True, "msg": "Timeout exceeded", "ansible_job_id": jid})
        os._exit(1)  # pylint: disable=protected-access

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(int(job["async"]))
    task = MoveTask(job["params"], check_mode=job.get("check_mode", False), diff=job.get("diff", False),
                    environ=os.environ if environ is None else environ)
    try:
        task.run()
        result = task.report(job["params"], job.get("warnings") or [])
    except Exception as exc:  # pylint: disable=broad-except
        # As a module's crash shows: the message, with the traceback under ``exception``.
        result = {"failed": True, "msg": "unexpected %s: %s" % (type(exc).__name__, exc),
                  "exception": traceback.format_exc()}
    finally:
        signal.alarm(0)
    result["ansible_job_id"] = jid
    write_job_file(path, remove_values(result, secrets | task.secrets))


def main():
    """The detached process's entry: the job on stdin, then nothing on stdout or stderr."""
    job = json.load(sys.stdin)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    run_job(job)
