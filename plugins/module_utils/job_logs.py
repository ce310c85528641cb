# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the jobs of a move say in their logs and results.

Ganeti's destination job reports success even when no byte arrived, so the
truth of a move is in the log lines: these helpers read them, for a job this
run follows (its log entries) and for a job found in a cluster's job list
(its ``oplog``) alike.  A log entry is ``[serial, [sec, usec], type, message]``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Lines the destination job logs when a disk did not arrive; its status
# stays "success".
IMPORT_FAILURE_MARKERS = ("were not imported successfully", "failed to receive data")
# How Ganeti's LogInfo, LogWarning and hints start in a job log (checks log these before acting).
CHECK_LOG_PREFIXES = (" - INFO:", " - WARNING:", "      Hint:")
# What prepare-export returns for the create request (the handshake, the source's certificate and key name).
HANDSHAKE_KEYS = frozenset(["handshake", "x509_key_name", "x509_ca"])


def messages(log):
    return [str(entry[3]) for entry in log or [] if entry[2] == "message"]


def flat_oplog(oplog):
    """A job-list row's ``oplog`` (one list per opcode) as one list of entries."""
    return [entry for per_op in oplog or [] for entry in per_op or []]


def is_remote_import(entry):
    """The destination job's log entry that publishes its import endpoints."""
    return entry[2] == "remote-import"


def import_endpoints(entry):
    """The endpoints a remote-import entry publishes (``disks`` and ``x509_ca`` for the export); None if malformed."""
    message = entry[3]
    if not isinstance(message, dict) or "disks" not in message or "x509_ca" not in message:
        return None
    return message


def disks_sent(log):
    """The disks the export job logged as "Disk N finished sending data"."""
    sent = set()
    for text in messages(log):
        words = text.split()
        if len(words) == 5 and words[0] == "Disk" and words[2:] == ["finished", "sending", "data"]:
            sent.add(words[1])
    return sent


def every_disk_sent(log, disk_count):
    """True once the export job logged the end of sending each of its ``disk_count`` disks."""
    return disk_count > 0 and len(disks_sent(log)) >= disk_count


def import_failures(log):
    """The destination job's messages saying that a disk did not arrive."""
    return [text for text in messages(log) if any(marker in text for marker in IMPORT_FAILURE_MARKERS)]


def failure_lines(log, limit=2):
    """The last log messages of a failed job that say what failed (socat's own words included)."""
    lines = [text.strip() for text in messages(log) if "fail" in text.lower() or "error" in text.lower()]
    return lines[-limit:]


def export_complete(status, value):
    """True for a successful export whose result is ``[true, [true, ...]]``: every disk was sent."""
    return (status == "success" and isinstance(value, (list, tuple)) and len(value) == 2 and value[0] is True
            and isinstance(value[1], (list, tuple)) and bool(value[1]) and all(d is True for d in value[1]))


def failed_disks(value):
    """The indexes (as text) of the disks an export's result ``[ok, [disk ok, ...]]`` marks as not sent."""
    if isinstance(value, (list, tuple)) and len(value) == 2 and isinstance(value[1], (list, tuple)):
        return [str(index) for index, sent in enumerate(value[1]) if sent is not True]
    return []


def data_sent(status, value, log):
    """True when the export sent every disk, even if removing the source failed afterwards.

    Ganeti logs "Removing instance" only once every disk was sent; a failure
    to remove the source after that makes the job fail, but the destination
    then holds the only complete copy.
    """
    return export_complete(status, value) or any(text.startswith("Removing instance") for text in messages(log))


def import_received(status, log):
    """True for a create job that ended well and logged no disk that failed to arrive."""
    return status == "success" and not import_failures(log)


def shut_down_source(log):
    """True once the export job logged that it shut the source instance down."""
    return any(text.startswith("Shutting down instance") for text in messages(log))


def acted(result):
    """True when a finished job (its JobResult) created, removed, started or stopped something, or may have.

    A successful job acted.  A failed one acted when its log says something,
    except that Ganeti's checks raise OpPrereqError having logged INFO/WARNING
    lines and hints at most; a few raise it after acting (an OS missing on the
    node, after the disks were made), whose log then says what was done.
    """
    if result.succeeded:
        return True
    said = messages(result.log)
    if result.error()[0] == "OpPrereqError":
        said = [line for line in said if not line.startswith(CHECK_LOG_PREFIXES)]
    return bool(said)


def one_instance(result):
    """The instance-info job's result for the one instance it was asked about; None when it is not that."""
    if isinstance(result, dict) and len(result) == 1:
        info = list(result.values())[0]
        if isinstance(info, dict):
            return info
    return None


def has_handshake(result):
    """True when a prepare-export job's result holds what the create request needs."""
    return isinstance(result, dict) and HANDSHAKE_KEYS <= set(result)
