# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What a running move tells whoever watches it.

:class:`InstanceMove` calls a progress object at each step's end, when the
export starts, and after every answer of a job's long poll (at least every
~10 s while a job runs).  :class:`MoveProgress` ignores all of it (the module's
path, which can only speak at its end).  :class:`ProgressLines` turns it into
lines for a person, each prefixed with the instance's name so that many
parallel moves stay readable, and hands them to ``emit(text, verbosity)``:

- verbosity 0: Ganeti's per-disk transfer lines ("Disk 0 sent 1.2G, 45.3 MiB/s,
  23%, ETA 2m 13s", every 60 s from this run's export job), each disk's end, and a
  line of the move's own while it still transfers and nothing else was said
  for HEARTBEAT seconds (elapsed time, disks done);
- verbosity 1: each step of the move as it completes;
- verbosity 2: every other line this run's jobs log, and those of another run's
  jobs this run waits for.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time

from ansible_collections.ganeti.rapi.plugins.module_utils.job_logs import disks_sent

# Ganeti reports a transfer every 60 s; a line of our own fills each gap long before that.
HEARTBEAT = 30
# "Disk 0 sent 1.2G, 45.3 MiB/s, 23%, ETA 2m 13s" (Ganeti's remote export), "Disk 0 finished sending data",
# "Disk 0 failed to send data: ...".
TRANSFER_LINE = re.compile(r"^Disk \d+ (sent |finished sending data|failed to send data)")


class MoveProgress:
    """The silent watcher: the interface :class:`InstanceMove` calls."""

    def step(self, name, seconds):
        """Step ``name`` completed in ``seconds``."""

    def transfer(self, disk_count):
        """The export job was submitted: ``disk_count`` disks are to be sent."""

    def job(self, watch, entries, ours=True):
        """A long poll of ``watch`` answered; ``entries`` are its new log entries (often none).

        ``ours`` is False for another run's job this run waits for.
        """


def duration(seconds):
    """12 -> "12s", 125 -> "2m 05s", 3725 -> "1h 02m 05s"."""
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return "%dh %02dm %02ds" % (hours, minutes, seconds)
    if minutes:
        return "%dm %02ds" % (minutes, seconds)
    return "%ds" % seconds


class ProgressLines(MoveProgress):
    """Lines for a person watching ``name`` move, handed to ``emit(text, verbosity)``."""

    def __init__(self, name, emit, clock=time.monotonic, heartbeat=HEARTBEAT):
        self.name = name
        self._emit = emit
        self._clock = clock
        self._heartbeat = heartbeat
        self._disks = None
        self._transfer_started = None
        self._last_said = None

    def say(self, text, verbosity=0):
        if verbosity == 0:
            self._last_said = self._clock()
        self._emit("%s: %s" % (self.name, text), verbosity)

    def step(self, name, seconds):
        self.say("%s done in %.1fs" % (name, seconds), 1)

    def transfer(self, disk_count):
        self._disks = disk_count
        self._transfer_started = self._last_said = self._clock()

    def job(self, watch, entries, ours=True):
        whose = "" if ours else "another run's "
        for entry in entries:
            if entry[2] != "message":
                continue
            text = str(entry[3]).strip()
            if ours and watch.operation == "export" and TRANSFER_LINE.match(text):
                self.say(text)
            else:
                self.say("%s%s job %s (%s): %s" % (whose, watch.side, watch.job_id, watch.operation, text), 2)
        if not ours or watch.operation != "export" or self._transfer_started is None:
            return
        if watch.finished:
            self._transfer_started = None
        elif self._clock() - self._last_said >= self._heartbeat:
            self.say("still exporting after %s, %d of %d disk(s) sent"
                     % (duration(self._clock() - self._transfer_started), len(disks_sent(watch.log)), self._disks))
