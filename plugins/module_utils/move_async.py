# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A move started with ``async`` on the controller: a process of its own that writes async_wrapper's job file.

The action plugin forks it from Ansible's worker (``detach``), so that it starts with everything already imported,
and returns at once; the move's process leaves the worker's session and descriptors and outlives it.  It writes
the job file that ``ansible.builtin.async_status`` reads, in the format of Ansible's async_wrapper: while running
``{"started": true, "finished": false, "ansible_job_id": ...}`` (no ``failed`` key: ansible-core 2.16 stops
polling at any), then the task's result without ``started``.  Every write is a ``.tmp`` file renamed into place.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import signal
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


def ended(jid, message, **extra):
    """A failed job's final content."""
    return dict(extra, failed=True, msg=message, ansible_job_id=jid)


# What stops this process before its move ends: async running out (SIGALRM, as async_wrapper), a kill or hang-up.
STOPPED = {signal.SIGALRM: "Timeout exceeded", signal.SIGTERM: "stopped by SIGTERM", signal.SIGHUP: "stopped by SIGHUP"}
AGAIN = ("; the move's Ganeti jobs may still run: run the same task again, it finds them and finishes or repairs "
         "the move")


def run_job(job, environ=None):
    """Run the move described by ``job`` (the action's hand-over) and write its final job file."""
    path, jid = job["path"], job["jid"]
    secrets = set(job.get("no_log_values") or [])

    def stopped(signum, _frame):
        # The move's own deadline comes well before async runs out: this is the backstop async_wrapper also has.
        write_job_file(path, ended(jid, STOPPED[signum] + AGAIN))
        os._exit(1)  # pylint: disable=protected-access

    for signum in STOPPED:
        signal.signal(signum, stopped)
    signal.alarm(int(job["async"]))
    task = MoveTask(job["params"], check_mode=job.get("check_mode", False), diff=job.get("diff", False),
                    environ=os.environ if environ is None else environ)
    try:
        task.run()
        result = task.report(job["params"], invocation=job.get("invocation", True))
    except Exception as exc:  # pylint: disable=broad-except
        # As a module's crash shows: the message, with the traceback under ``exception``.
        result = ended(jid, "unexpected %s: %s" % (type(exc).__name__, exc), exception=traceback.format_exc())
    finally:
        signal.alarm(0)
    result["ansible_job_id"] = jid
    write_job_file(path, remove_values(result, secrets | task.secrets))


def detach(job):
    """Run ``job`` in a process of its own that outlives this one; returns at once, and only here.

    Forked twice, as a daemon is: the middle process ends at once (so this one is left no zombie) and the move's
    process, in a session of its own, survives the worker's end (ansible-core 2.19 and later stop the worker's
    process group).  Raises OSError when no process can be made.
    """
    middle = os.fork()
    if middle:
        os.waitpid(middle, 0)
        return
    try:
        os.setsid()
        if os.fork() == 0:
            _run_detached(job)
    except BaseException:  # pylint: disable=broad-except
        _end(job, "the async move could not start: %s" % traceback.format_exc().splitlines()[-1])
    finally:
        os._exit(0)  # pylint: disable=protected-access  # never back into Ansible's worker


def _run_detached(job):
    """The move's process: nothing of the worker's (its output, its pipes to ansible-playbook) is kept open."""
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.closerange(3, _max_fd())
        run_job(job)
    except BaseException as exc:  # pylint: disable=broad-except  # a job left "running" would be waited for
        _end(job, "unexpected %s: %s" % (type(exc).__name__, exc), exception=traceback.format_exc())
    finally:
        os._exit(0)  # pylint: disable=protected-access


def _end(job, message, **extra):
    try:
        write_job_file(job["path"], remove_values(ended(job["jid"], message, **extra),
                                                  set(job.get("no_log_values") or [])))
    except Exception:  # pylint: disable=broad-except
        pass  # nowhere left to say it


def _max_fd():
    try:
        return os.sysconf("SC_OPEN_MAX")
    except (AttributeError, ValueError, OSError):
        return 1024
