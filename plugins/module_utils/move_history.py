# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the clusters' job lists say about other moves of the same instance.

Two questions, both answered with Ganeti's job query (``PUT /2/query/job``
filtered on the job summary; no job submitted):

- Is anything else acting on the instance right now (:func:`live_jobs_of`)?  Those
  jobs belong to another run (another controller, an AWX job launched twice) or
  to an interrupted one; either way this run must not touch them.
- Which finished move made the destination copy (:func:`find_earlier_move`)?
  Jobs are matched the way Ganeti ties them together: the create job carries
  the certificate the source's prepare-export job returned, and the export job
  carries that job's key name.  Only a create whose certificate comes from the
  source cluster's own prepare-export is evidence that the destination instance
  is this instance's copy.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ganeti.rapi.plugins.module_utils.job_logs import (
    data_sent, flat_oplog, import_failures, import_received,
)
from ansible_collections.ganeti.rapi.plugins.module_utils.job_waiter import decode_error

UNFINISHED_STATUSES = ("queued", "waiting", "running", "canceling")
UNFINISHED = ["|"] + [["=", "status", status] for status in UNFINISHED_STATUSES]
JOB_FIELDS = ["id", "status", "summary", "ops", "opresult", "oplog", "received_ts"]
# Enough to know who acts on an instance: asked on every preflight, and again while waiting.
LIVE_FIELDS = ["id", "status", "summary"]
# Job summaries (OP_DSC_FIELD is the instance name) of everything that changes
# an instance during a move or its recovery.
SOURCE_OPERATIONS = ("BACKUP_PREPARE", "BACKUP_EXPORT", "INSTANCE_STARTUP", "INSTANCE_SHUTDOWN",
                     "INSTANCE_REMOVE")
DESTINATION_OPERATIONS = ("INSTANCE_CREATE", "INSTANCE_REMOVE", "INSTANCE_STARTUP", "INSTANCE_SHUTDOWN")
OPERATION_NAMES = {"BACKUP_PREPARE": "prepare-export", "BACKUP_EXPORT": "export", "INSTANCE_CREATE": "create",
                   "INSTANCE_REMOVE": "remove", "INSTANCE_STARTUP": "startup", "INSTANCE_SHUTDOWN": "shutdown"}


class EarlierMove:
    """One earlier move: its prepare-export, create and export jobs (rows of the job query), as far as found."""

    def __init__(self, create, prepare=None, prepare_result=None, export=None):
        self.create = create
        self.prepare = prepare
        self.prepare_result = prepare_result
        self.export = export

    @property
    def create_op(self):
        return job_op(self.create)

    @property
    def export_op(self):
        return job_op(self.export)

    @property
    def from_source(self):
        """The create's certificate came from the source cluster's prepare-export job."""
        return self.prepare is not None

    @property
    def data_sent(self):
        """The export job sent every disk (Ganeti may still have failed to remove the source)."""
        job = self.export
        return job is not None and data_sent(job.get("status"), _first(job.get("opresult")),
                                             flat_oplog(job.get("oplog")))

    @property
    def data_received(self):
        """The create job ended well and logged no disk that failed to arrive."""
        return import_received(self.create.get("status"), flat_oplog(self.create.get("oplog")))

    @property
    def import_failures(self):
        """The create job's messages saying that a disk did not arrive."""
        return import_failures(flat_oplog(self.create.get("oplog")))

    @property
    def export_error(self):
        """Ganeti's message of a failed export job."""
        return decode_error(_first(self.export.get("opresult")))[1]

    @property
    def kept_source(self):
        return self.export is not None and self.export_op.get("remove_instance") is False

    def job_ids(self):
        ids = []
        for side, operation, job in (("source", "prepare-export", self.prepare), ("destination", "create", self.create),
                                     ("source", "export", self.export)):
            if job is not None:
                ids.append("%s job %s (%s)" % (side, job["id"], operation))
        return ", ".join(ids)


def job_op(job):
    ops = (job or {}).get("ops") or [{}]
    return ops[0] or {}


def _first(values):
    return values[0] if isinstance(values, (list, tuple)) and values else None


def operation(job):
    """``BACKUP_EXPORT(x)`` -> "export"."""
    summary = _first(job.get("summary")) or ""
    return OPERATION_NAMES.get(summary.split("(")[0], summary.split("(")[0].lower() or "job")


def _jobs(client, summaries, only_unfinished=False, fields=None):
    """Jobs whose summary names one of ``summaries`` (e.g. ``INSTANCE_CREATE(x)``), one query, no job."""
    qfilter = ["|"] + [["=[]", "summary", text] for text in summaries]
    if only_unfinished:
        qfilter = ["&", qfilter, UNFINISHED]
    return client.query("job", fields or JOB_FIELDS, qfilter)


def live_jobs_of(side, client, instance):
    """One side's unfinished jobs acting on ``instance``: ``[(side, row), ...]`` in job id order.

    Raises RapiError when the job list cannot be read.
    """
    operations = SOURCE_OPERATIONS if side == "source" else DESTINATION_OPERATIONS
    rows = _jobs(client, ["%s(%s)" % (op, instance) for op in operations], only_unfinished=True, fields=LIVE_FIELDS)
    return [(side, row) for row in sorted(rows, key=lambda job: int(job["id"]))]


def remote_creates(destination, destination_name):
    """Every remote-import create job of ``destination_name`` the destination still lists."""
    return [job for job in _jobs(destination, ["INSTANCE_CREATE(%s)" % destination_name])
            if job_op(job).get("mode") == "remote-import"]


def find_earlier_move(source, destination, name, destination_name):
    """The latest earlier move of ``name`` to ``destination_name``, or None.

    Raises RapiError when a job list cannot be read.
    """
    creates = remote_creates(destination, destination_name)
    if not creates:
        return None
    # The instance there was made by the latest create that succeeded; a later failed one (a run that lost a
    # race, or was refused) made nothing that lasts.
    made = [job for job in creates if job.get("status") == "success"] or creates
    create = max(made, key=lambda job: int(job["id"]))
    certificate = job_op(create).get("source_x509_ca")
    source_jobs = _jobs(source, ["BACKUP_PREPARE(%s)" % name, "BACKUP_EXPORT(%s)" % name])
    prepares = sorted((job for job in source_jobs
                       if job_op(job).get("OP_ID") == "OP_BACKUP_PREPARE" and job_op(job).get("mode") == "remote"),
                      key=lambda job: int(job["id"]), reverse=True)
    for prepare in prepares:
        result = _first(prepare.get("opresult"))
        if isinstance(result, dict) and result.get("x509_ca") == certificate:
            key_name = result.get("x509_key_name")
            exports = [job for job in source_jobs
                       if job_op(job).get("OP_ID") == "OP_BACKUP_EXPORT" and job_op(job).get("mode") == "remote"
                       and job_op(job).get("x509_key_name") == key_name]
            export = max(exports, key=lambda job: int(job["id"])) if exports else None
            return EarlierMove(create, prepare, result, export)
    return EarlierMove(create)
