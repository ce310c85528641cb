# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""make bench only: when each ganeti_move_instance task started and when each move returned.

One JSON line per event in the file named by BENCH_RETURNS:

- ``task_start``: the move task started (after ansible-playbook's own start,
  which the bench counts apart);
- ``runner_start``: the controller started the worker of one host for it;
- ``return``: a move's result reached ansible-playbook (``seen``).  For a
  move started with ``async`` that is when
  :ansplugin:`ansible.builtin.async_status#module` reported it finished;
  ``returned`` is then the modification time of its results file, which the
  async wrapper writes when the module exits (async_status only looks once
  a second).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
name: bench_returns
type: aggregate
short_description: records when each ganeti_move_instance task started and returned (make bench)
description: Writes one JSON line per event to the file named by the BENCH_RETURNS environment variable.
requirements: [enabled in the bench's ansible.cfg environment]
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


def _is_move(task):
    return task.action.endswith("ganeti_move_instance")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_returns"
    CALLBACK_NEEDS_ENABLED = True

    def _write(self, **record):
        path = os.environ.get("BENCH_RETURNS")
        if path:
            with open(path, "a") as handle:
                handle.write(json.dumps(record) + "\n")

    def _record(self, result, item=None):
        # The time the result reached ansible-playbook (this callback runs then), not a time stamp of the
        # module's: the bench measures from outside, so it needs nothing in the module's result.
        now = time.time()
        data = result._result
        if _is_move(result._task) and not data.get("ansible_job_id"):
            instance = result._host.get_name() if item is None else item
            if instance:
                self._write(event="return", instance=instance, returned=now, seen=now, source="ansible-playbook")
        elif result._task.action.endswith("async_status") and data.get("finished") and data.get("results_file"):
            started = item.get("item") if isinstance(item, dict) else None
            if started:
                self._write(event="return", instance=started, returned=os.path.getmtime(data["results_file"]),
                            seen=now, source="async results file")

    def v2_playbook_on_task_start(self, task, is_conditional):
        if _is_move(task):
            self._write(event="task_start", at=time.time())

    def v2_runner_on_start(self, host, task):
        if _is_move(task):
            self._write(event="runner_start", instance=host.get_name(), at=time.time())

    def v2_runner_on_ok(self, result):
        if "results" not in result._result:
            self._record(result)

    def v2_runner_item_on_ok(self, result):
        self._record(result, result._result.get("item"))
