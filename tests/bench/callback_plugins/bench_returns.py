# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""make bench only: when each move's module returned, for the "last job end -> module return" figure.

For a task that ran the module directly, the time its result reached the
controller; for a move started with ``async``, the modification time of
its results file, which the async wrapper writes when the module exits
(async_status only looks once a second). One JSON line per move in the
file named by BENCH_RETURNS.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
name: bench_returns
type: aggregate
short_description: records when each ganeti_move_instance call returned (make bench)
description: Writes one JSON line per move to the file named by the BENCH_RETURNS environment variable.
requirements: [enabled in the bench's ansible.cfg environment]
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_returns"
    CALLBACK_NEEDS_ENABLED = True

    def _write(self, instance, returned, source):
        path = os.environ.get("BENCH_RETURNS")
        if path and instance:
            with open(path, "a") as handle:
                handle.write(json.dumps({"instance": instance, "returned": returned, "source": source}) + "\n")

    def _record(self, result, item=None):
        # The time the result reached ansible-playbook (this callback runs then), not a time stamp of the
        # module's: the bench measures from outside, so it needs nothing in the module's result.
        data = result._result
        action = result._task.action
        if action.endswith("ganeti_move_instance") and not data.get("ansible_job_id"):
            self._write(result._host.get_name() if item is None else item, time.time(), "ansible-playbook")
        elif action.endswith("async_status") and data.get("finished") and data.get("results_file"):
            started = item.get("item") if isinstance(item, dict) else None
            self._write(started, os.path.getmtime(data["results_file"]), "async results file")

    def v2_runner_on_ok(self, result):
        if "results" not in result._result:
            self._record(result)

    def v2_runner_item_on_ok(self, result):
        self._record(result, result._result.get("item"))
