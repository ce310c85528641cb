# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One ganeti_move_instance task, from validated options to its result.

Shared by the module (``AnsibleModule`` validates, this runs, ``exit_json``
reports) and the action plugin (Ansible's validator, this, the worker's
display for progress), so both paths give the same result for the same
options.  Knows the result's shape, nothing of how it reaches Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.ganeti.rapi.plugins.module_utils.connection_options import (
    ConnectionOptionError, make_client, public_summary, resolve_connections,
)
from ansible_collections.ganeti.rapi.plugins.module_utils.instance_move import InstanceMove
from ansible_collections.ganeti.rapi.plugins.module_utils.move_model import MoveError
from ansible_collections.ganeti.rapi.plugins.module_utils.move_options import move_spec, out_of_range
from ansible_collections.ganeti.rapi.plugins.module_utils.rapi_client import RapiError


class MoveTask:
    """Runs one task; afterwards ``result`` (a dict), ``failed``, ``warnings`` and ``secrets``.

    ``secrets`` holds the passwords read from files or the environment, which
    Ansible's ``no_log`` does not know: the caller masks them in whatever it
    prints or returns.
    """

    def __init__(self, params, check_mode=False, diff=False, progress=None, environ=None):
        self.params = params
        self.check_mode = check_mode
        self.diff = diff
        self.progress = progress
        self.environ = environ
        self.result = {}
        self.failed = False
        self.warnings = []
        self.secrets = set()

    def run(self):
        started = time.monotonic()
        params = self.params
        problem = out_of_range(params)
        if problem:
            return self._fail(dict(msg=problem, side="input", step="arguments"))
        try:
            src_settings, dst_settings = resolve_connections(params["source"], params["destination"], self.environ)
            self.secrets.update(s["password"] for s in (src_settings, dst_settings) if s["password"])
            source = make_client("source", src_settings)
            destination = make_client("destination", dst_settings)
        except (ConnectionOptionError, RapiError) as exc:
            return self._fail(dict(msg=str(exc), side="input", step="arguments"))
        spec = move_spec(params)
        move = InstanceMove(source, destination, spec, progress=self.progress)

        def common(outcome):
            """What every result has: both sides (no credential), the jobs, the timings."""
            self.warnings.extend(outcome.warnings)
            src = public_summary("source", src_settings, source)
            src.update(instance=spec.name, cluster=outcome.source_cluster)
            dst = public_summary("destination", dst_settings, destination)
            dst.update(instance=(outcome.instance or {}).get("name") or spec.destination_name,
                       cluster=outcome.destination_cluster)
            return dict(source=src, destination=dst, jobs=outcome.jobs, waited_for=outcome.waited_for,
                        steps=outcome.steps, start_ts=outcome.started,
                        duration=round(time.monotonic() - started, 3))

        try:
            outcome = move.check() if self.check_mode else move.run()
        except MoveError as exc:
            outcome = exc.outcome or move.outcome
            result = dict(msg=str(exc), changed=exc.changed, side=exc.side, step=exc.step, job_id=exc.job_id,
                          ganeti_error=exc.ganeti_error, recovery=exc.recovery, **common(outcome))
            if exc.traceback:
                result["exception"] = exc.traceback
            return self._fail(result)
        self.result = dict(changed=outcome.changed, msg=outcome.message, state=outcome.state,
                           evidence=outcome.evidence,
                           instance=instance_summary(outcome.instance, outcome.destination_cluster), **common(outcome))
        if self.diff and outcome.diff:
            self.result["diff"] = outcome.diff
        return self.result

    def report(self, params, warnings=(), invocation=True):
        """The result as Ansible shows a module's: ``failed``, ``warnings`` and, if asked, ``invocation`` (not masked)."""
        result = dict(self.result)
        if invocation:
            result["invocation"] = {"module_args": params}
        if self.failed:
            result["failed"] = True
        warnings = list(warnings) + self.warnings
        if warnings:
            result["warnings"] = warnings
        return result

    def _fail(self, result):
        self.failed = True
        self.result = result
        return result


def instance_summary(row, cluster):
    if not row:
        return None
    return {"name": row.get("name"), "cluster": cluster, "primary_node": row.get("pnode"),
            "secondary_nodes": row.get("snodes") or [], "disk_template": row.get("disk_template"),
            "disk_sizes": row.get("disk.sizes") or [], "admin_state": row.get("admin_state"),
            "status": row.get("status")}
