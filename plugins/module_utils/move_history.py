# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Find the jobs an earlier, interrupted move of the same instance left behind.

When a run dies mid-move (the controller killed, the network gone), both
clusters keep running its jobs.  The next run finds them with Ganeti's job
query (``PUT /2/query/job`` filtered on the job summary; no job submitted)
and matches them the way Ganeti ties them together: the create job carries
the certificate the prepare-export job returned, and the export job carries
that job's key name.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class EarlierMove:
    """One earlier move: its prepare-export, create and export jobs (rows of the job query), as far as found."""

    def __init__(self, create, prepare=None, prepare_result=None, export=None):
        self.create = create
        self.prepare = prepare
        self.prepare_result = prepare_result
        self.export = export

    @property
    def create_op(self):
        return _op(self.create)

    @property
    def export_op(self):
        return _op(self.export)


def _op(job):
    ops = (job or {}).get("ops") or [{}]
    return ops[0] or {}


def _name(value):
    return str(value or "").strip().rstrip(".").lower()


UNFINISHED = ["|", ["=", "status", "queued"], ["=", "status", "waiting"], ["=", "status", "running"]]
JOB_FIELDS = ["id", "status", "ops", "opresult"]


def _jobs(client, summaries, only_unfinished=False):
    """Jobs whose summary names one of ``summaries`` (e.g. ``INSTANCE_CREATE(x)``), one query, no job."""
    qfilter = ["|"] + [["=[]", "summary", text] for text in summaries]
    if only_unfinished:
        qfilter = ["&", qfilter, UNFINISHED]
    return client.query("job", JOB_FIELDS, qfilter)


def earlier_create_running(destination, destination_name):
    """True when a remote-import create of ``destination_name`` is still queued or running."""
    return any(_op(job).get("mode") == "remote-import"
               for job in _jobs(destination, ["INSTANCE_CREATE(%s)" % destination_name], only_unfinished=True))


def find_earlier_move(source, destination, name, destination_name):
    """The latest earlier move of ``name`` to ``destination_name``, or None.

    Raises RapiError when a job list cannot be read.
    """
    creates = [job for job in _jobs(destination, ["INSTANCE_CREATE(%s)" % destination_name])
               if _op(job).get("mode") == "remote-import"]
    if not creates:
        return None
    create = max(creates, key=lambda job: int(job["id"]))
    certificate = _op(create).get("source_x509_ca")
    source_jobs = _jobs(source, ["BACKUP_PREPARE(%s)" % name, "BACKUP_EXPORT(%s)" % name])
    prepares = sorted((job for job in source_jobs
                       if _op(job).get("OP_ID") == "OP_BACKUP_PREPARE" and _op(job).get("mode") == "remote"),
                      key=lambda job: int(job["id"]), reverse=True)
    for prepare in prepares:
        result = (prepare.get("opresult") or [None])[0]
        if isinstance(result, dict) and result.get("x509_ca") == certificate:
            key_name = result.get("x509_key_name")
            exports = [job for job in source_jobs
                       if _op(job).get("OP_ID") == "OP_BACKUP_EXPORT" and _op(job).get("mode") == "remote"
                       and _op(job).get("x509_key_name") == key_name]
            export = max(exports, key=lambda job: int(job["id"])) if exports else None
            return EarlierMove(create, prepare, result, export)
    return EarlierMove(create)
