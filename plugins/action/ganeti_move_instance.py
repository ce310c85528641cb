# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""ganeti_move_instance on the controller: the move runs in the Ansible worker and shows its progress live.

A task whose connection is local (the implicit localhost, ``delegate_to: localhost``, ``connection: local``),
without ``become``, runs the move here, in-process, with no module to ship and start, and prints each disk's
transfer lines while it runs (the worker's display is forwarded to ``ansible-playbook`` and, through
ansible-runner, to AWX as events); with ``async`` it forks the move off as a process of its own
(plugins/module_utils/move_async.py).  A task with ``become``, one whose connection reaches another host, or a
controller Python without requests runs the module as before.  Both paths validate with the module's
argument spec and build the result in plugins/module_utils/move_task.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import random
from contextlib import contextmanager

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action.normal import ActionModule as NormalAction
from ansible.utils.display import Display

try:  # ansible-core 2.19 and later
    from ansible.module_utils.common.json import Direction, get_module_encoder
    MODULE_ENCODING = {"cls": get_module_encoder("legacy", Direction.CONTROLLER_TO_MODULE)}
except ImportError:
    from ansible.module_utils.common.json import AnsibleJSONEncoder
    MODULE_ENCODING = {"cls": AnsibleJSONEncoder, "vault_to_text": True}

from ansible_collections.ganeti.rapi.plugins.module_utils.move_async import detach, running, write_job_file
from ansible_collections.ganeti.rapi.plugins.module_utils.move_model import MoveError
from ansible_collections.ganeti.rapi.plugins.module_utils.move_options import MINIMUMS, RULES, argument_spec
from ansible_collections.ganeti.rapi.plugins.module_utils.move_progress import ProgressLines, duration
from ansible_collections.ganeti.rapi.plugins.module_utils.move_task import MoveTask
from ansible_collections.ganeti.rapi.plugins.module_utils.rapi_client import HAS_REQUESTS

display = Display()

# async_dir as this worker expanded it, by setting and user.
_EXPANDED = {}

# Seconds of the task's timeout keyword that the move leaves itself after its deadline: its own return (within
# 5 s of the deadline) plus its start after the task's.
KEYWORD_MARGIN = 10


class ActionModule(NormalAction):

    _supports_check_mode = True
    _supports_async = True
    _secrets = ()  # what _say masks: the task's no_log values and the passwords read from files or the environment

    def run(self, tmp=None, task_vars=None):
        capped = self._within_task_keywords()
        if capped and self._task.async_val:
            # An async task's result comes from async_status, or from the executor's polling, which drops the
            # start's warnings on some versions: say it now.
            display.warning(capped)
            capped = None
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
            validation = ArgumentSpecValidator(argument_spec(), **RULES).validate(as_module_args(self._task.args))
            if validation.error_messages:
                result.update(failed=True, msg="; ".join(self._error_text(error) for error in validation.errors.errors),
                              side="input", step="arguments")
                return remove_values(result, validation._no_log_values)
            params = validation.validated_parameters
            if self._task.async_val:
                return self._start_detached(result, params, validation._no_log_values,
                                            self._invocation_wanted(task_vars))
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
        result.update(task.report(params, [capped] if capped else [], invocation=self._invocation_wanted(task_vars)))
        return remove_values(result, self._secrets)

    def _start_detached(self, result, params, no_log_values, invocation):
        """An ``async`` move: a process of its own on the controller, followed with async_status as a module's.

        Its deadline already falls KEYWORD_MARGIN before ``async`` runs out (_within_task_keywords), so that it
        cancels and reports its jobs before the backstop (plugins/module_utils/move_async.py) stops it as
        async_wrapper would.  It is forked from here, with the task's ``environment`` in force.
        """
        jid = "j%d.%d" % (random.randint(0, 999999999999), os.getpid())
        async_dir = self._async_dir()
        path = os.path.join(async_dir, jid)
        job = {"jid": jid, "path": path, "async": self._task.async_val, "params": params,
               "check_mode": bool(self._task.check_mode), "diff": bool(self._task.diff),
               "no_log_values": no_log_values, "invocation": invocation}
        try:
            os.makedirs(async_dir, exist_ok=True)
            write_job_file(path, running(jid))  # before the start: async_status never finds the job missing
            try:
                detach(job)
            except OSError:
                os.unlink(path)  # nothing runs: no job to wait for
                raise
        except OSError as exc:
            error = MoveError("controller", "async", "cannot start the move (job file %s): %s"
                              % (path, exc.strerror or exc), hint="set async_dir (ANSIBLE_ASYNC_DIR, "
                              "ansible_async_dir) to a directory this user can write; nothing was started")
            result.update(failed=True, changed=False, msg=str(error), side=error.side, step=error.step)
            return result
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

    def _async_dir(self):
        """async_dir as async_status finds it (~: the home in the user database, not $HOME), once per user.

        The expansion is a shell command: a loop's items, which one worker runs, share it.
        """
        setting = self.get_shell_option("async_dir", default="~/.ansible_async")
        key = (setting, self._get_remote_user())
        if key not in _EXPANDED:
            _EXPANDED[key] = self._remote_expand_user(setting)
        return _EXPANDED[key]

    @staticmethod
    def _invocation_wanted(task_vars):
        """Whether a module's result would carry ``invocation``: INJECT_INVOCATION where it exists, else always."""
        try:
            return bool(C.config.get_config_value("INJECT_INVOCATION", variables=task_vars))
        except AnsibleError:  # an ansible-core before the setting: AnsibleModule always adds it
            return True

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


def as_module_args(args):
    """The task's arguments as Ansible encodes them for a module: JSON types only, vaulted text decrypted."""
    return json.loads(json.dumps(args, **MODULE_ENCODING))


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
