# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""ganeti_move_instance on the controller: the move runs in the Ansible worker and shows its progress live.

A task whose connection is local (the implicit localhost, ``delegate_to: localhost``, ``connection: local``),
without ``become``, runs the move here, in-process, with no module to ship and start, and prints each disk's
transfer lines while it runs (the worker's display is forwarded to ``ansible-playbook`` and, through
ansible-runner, to AWX as events).  A task with ``async`` or ``become``, one whose connection reaches another
host, or a controller Python without requests runs the module as before.  Both paths validate with the module's
argument spec and build the result in plugins/module_utils/move_task.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import random
import subprocess
import sys
from contextlib import contextmanager

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action.normal import ActionModule as NormalAction
from ansible.utils.display import Display

from ansible_collections.ganeti.rapi.plugins.module_utils.move_async import running, write_job_file
from ansible_collections.ganeti.rapi.plugins.module_utils.move_options import MINIMUMS, RULES, argument_spec
from ansible_collections.ganeti.rapi.plugins.module_utils.move_progress import ProgressLines, duration
from ansible_collections.ganeti.rapi.plugins.module_utils.move_task import MoveTask
from ansible_collections.ganeti.rapi.plugins.module_utils.rapi_client import HAS_REQUESTS

display = Display()

# The collections root this plugin was loaded from: the detached process of an async move imports from it.
COLLECTIONS_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *[os.pardir] * 5))
ASYNC_ENTRY = "from ansible_collections.ganeti.rapi.plugins.module_utils.move_async import main; main()"

# Seconds of the task's timeout keyword that the move leaves itself after its deadline: its own return (within
# 5 s of the deadline) plus its start after the task's.
KEYWORD_MARGIN = 10


class ActionModule(NormalAction):

    _supports_check_mode = True
    _supports_async = True
    _secrets = ()  # what _say masks: the task's no_log values and the passwords read from files or the environment

    def run(self, tmp=None, task_vars=None):
        capped = self._within_task_keywords()
        if not self._in_process():
            result = super(ActionModule, self).run(tmp, task_vars)
            if capped:
                result["warnings"] = list(result.get("warnings") or []) + [capped]
            return result
        result = super(NormalAction, self).run(tmp, task_vars)  # ActionBase's checks only: no module
        del tmp
        environment = {}
        self._compute_environment_string(environment)
        # The environment fallbacks of the options and the password variables are read with the task's
        # `environment` in force, as the module would see it.
        with _environment(environment):
            validation = ArgumentSpecValidator(argument_spec(), **RULES).validate(self._task.args)
            if validation.error_messages:
                result.update(failed=True, msg="; ".join(self._error_text(error) for error in validation.errors.errors),
                              side="input", step="arguments")
                return remove_values(result, validation._no_log_values)
            params = validation.validated_parameters
            if self._task.async_val:
                return self._start_detached(result, params, environment, validation._no_log_values,
                                            [capped] if capped else [])
            task = MoveTask(params, check_mode=bool(self._task.check_mode), diff=bool(self._task.diff),
                            environ=os.environ)
            # Filled with the passwords from files or the environment as soon as they are read.
            self._secrets = task.secrets
            self._secrets.update(validation._no_log_values)
            if not self._task.no_log:
                task.progress = ProgressLines(params["name"], self._say)
            task.run()
        if task.progress is not None:
            outcome = "failed" if task.failed else task.result.get("state")
            task.progress.say("%s after %s: %s" % (outcome, duration(task.result.get("duration") or 0),
                                                   task.result.get("msg")))
        result.update(task.report(params, [capped] if capped else []))
        return remove_values(result, self._secrets)

    def _start_detached(self, result, params, environment, no_log_values, warnings):
        """An ``async`` move: a process of its own on the controller, followed with async_status as a module's.

        Its deadline already falls KEYWORD_MARGIN before ``async`` runs out (_within_task_keywords), so that it
        cancels and reports its jobs before the backstop (plugins/module_utils/move_async.py) stops it as
        async_wrapper would.
        """
        jid = "j%d.%d" % (random.randint(0, 999999999999), os.getpid())
        async_dir = os.path.expanduser(self.get_shell_option("async_dir", default="~/.ansible_async"))
        os.makedirs(async_dir, exist_ok=True)
        path = os.path.join(async_dir, jid)
        write_job_file(path, running(jid))  # before the start: async_status never finds the job missing
        env = dict(os.environ)
        env.update((name, str(value)) for name, value in environment.items())
        env["PYTHONPATH"] = os.pathsep.join([COLLECTIONS_ROOT] + [p for p in [env.get("PYTHONPATH")] if p])
        job = {"jid": jid, "path": path, "async": self._task.async_val, "params": params,
               "check_mode": bool(self._task.check_mode), "diff": bool(self._task.diff),
               "no_log_values": sorted(no_log_values), "warnings": warnings}
        # A new session: Ansible's worker may stop its process group when it ends (2.19 and later).
        child = subprocess.Popen([sys.executable, "-c", ASYNC_ENTRY], stdin=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True,
                                 start_new_session=True, env=env)
        child.stdin.write(json.dumps(job).encode("utf-8"))
        child.stdin.close()
        result.update(ansible_job_id=jid, started=True, finished=False, results_file=path, changed=True)
        return result

    def _within_task_keywords(self):
        """Bring the move's deadline inside the task's ``async`` or ``timeout`` keyword; a warning when asked longer.

        Ansible (or async_wrapper) stops a task at either wherever it is: the move would then neither cancel its
        queued jobs nor report them.  Its own deadline, KEYWORD_MARGIN earlier, lets it do both.
        """
        if self._task.async_val:
            keyword, name = self._task.async_val, "async"
        elif self._task.timeout:
            keyword, name = self._task.timeout, "the task's timeout keyword"
        else:
            return None
        limit = max(keyword - KEYWORD_MARGIN, dict(MINIMUMS)["timeout"])
        given = "timeout" in self._task.args
        try:
            asked = int(self._task.args["timeout"] if given else argument_spec()["timeout"]["default"])
        except (TypeError, ValueError):
            return None  # not a number: the validation says so
        if asked <= limit:
            return None
        self._task.args = dict(self._task.args, timeout=limit)
        if not given:
            return None
        return ("%s (%d s) ends the task before the timeout option (%d s): the move's deadline is %d s, so that it "
                "can cancel its jobs and report before Ansible stops the task" % (name, keyword, asked, limit))

    def _say(self, text, verbosity):
        """One progress line, on ansible-playbook's output at ``verbosity`` (0: always, 1: -v, 2: -vv)."""
        if self._secrets:
            text = remove_values(text, self._secrets)
        if verbosity == 0:
            display.display(text)
        elif verbosity == 1:
            display.v(text)
        else:
            display.vv(text)

    def _error_text(self, error):
        """An argument error in the words AnsibleModule would use."""
        if isinstance(error, UnsupportedError):
            return "Unsupported parameters for (%s) module: %s" % (self._task.action, error.msg)
        return error.msg

    def _in_process(self):
        """Whether the move runs here: a local connection, no become, requests in Ansible's own Python.

        With become the module runs as the become user (who may alone read a password file); without requests
        here, the module may find it in the task's python interpreter.
        """
        return (getattr(self._connection, "transport", None) == "local" and not self._play_context.become
                and HAS_REQUESTS)


@contextmanager
def _environment(values):
    """The task's ``environment`` in os.environ while the move reads its settings (this worker runs one task)."""
    saved = dict((name, os.environ.get(name)) for name in values)
    # str() as the module path's env_prefix does (a None value becomes "None" there too).
    os.environ.update(dict((name, str(value)) for name, value in values.items()))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
