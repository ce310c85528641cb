# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The lines a person sees while a move runs (ProgressLines), with a fake clock."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.ganeti.rapi.plugins.module_utils.job_waiter import JobResult, JobWatch
from ansible_collections.ganeti.rapi.plugins.module_utils.move_progress import ProgressLines, duration


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def entry(serial, text, kind="message"):
    return [serial, [1800000000, 0], kind, text]


@pytest.fixture
def seen():
    clock = Clock()
    lines = []
    progress = ProgressLines("web1.test", lambda text, verbosity: lines.append((verbosity, text)), clock=clock)
    return progress, clock, lines


def heard(progress, watch, *entries):
    watch.log.extend(entries)
    progress.job(watch, list(entries))


def test_transfer_lines_and_the_outcome_at_default_verbosity_steps_at_v_other_job_lines_at_vv(seen):
    progress, clock, lines = seen
    export = JobWatch(5, "source", "export")
    progress.step("create", 3.94)
    progress.transfer(1)
    heard(progress, export, entry(1, "Shutting down instance web1.test"),
          entry(2, "Disk 0 sent 12M, 2.4 MiB/s, 4%, ETA 1m 44s"))
    heard(progress, export, entry(3, "Disk 0 finished sending data"))
    heard(progress, export, entry(4, {"x509_ca": "..."}, kind="remote-import"))
    assert lines == [
        (1, "web1.test: create done in 3.9s"),
        (2, "web1.test: source job 5 (export): Shutting down instance web1.test"),
        (0, "web1.test: Disk 0 sent 12M, 2.4 MiB/s, 4%, ETA 1m 44s"),
        (0, "web1.test: Disk 0 finished sending data"),
    ]


def test_a_disk_line_of_another_job_is_not_a_transfer_line(seen):
    progress, clock, lines = seen
    heard(progress, JobWatch(2, "destination", "create"), entry(1, "Disk 0 finished receiving data"))
    assert lines == [(2, "web1.test: destination job 2 (create): Disk 0 finished receiving data")]


def test_a_move_still_exporting_says_so_every_heartbeat_with_elapsed_time_and_disks_sent(seen):
    progress, clock, lines = seen
    export = JobWatch(5, "source", "export")
    progress.transfer(2)
    for _poll in range(9):  # a long poll answers every 10 s without news
        clock.now += 10
        heard(progress, export)
    heard(progress, export, entry(1, "Disk 0 finished sending data"))
    for _poll in range(3):
        clock.now += 10
        heard(progress, export)
    assert lines == [
        (0, "web1.test: still exporting after 30s, 0 of 2 disk(s) sent"),
        (0, "web1.test: still exporting after 1m 00s, 0 of 2 disk(s) sent"),
        (0, "web1.test: still exporting after 1m 30s, 0 of 2 disk(s) sent"),
        (0, "web1.test: Disk 0 finished sending data"),
        (0, "web1.test: still exporting after 2m 00s, 1 of 2 disk(s) sent"),
    ]


def test_ganetis_own_lines_reset_the_heartbeat(seen):
    progress, clock, lines = seen
    export = JobWatch(5, "source", "export")
    progress.transfer(1)
    for second in range(25, 250, 25):  # a line every 25 s: nothing of our own is needed
        clock.now = 1000.0 + second
        heard(progress, export, entry(second, "Disk 0 sent %dM, 1.0 MiB/s, %d%%, ETA 1m" % (second, second // 3)))
    assert [text for _level, text in lines if "still exporting" in text] == []
    assert len(lines) == 9


def test_no_heartbeat_before_the_export_nor_after_it_ended(seen):
    progress, clock, lines = seen
    create = JobWatch(2, "destination", "create")
    clock.now += 100
    heard(progress, create)
    export = JobWatch(5, "source", "export")
    progress.transfer(1)
    export.result = JobResult(5, "success", ["success"], [[True, [True]]], export.log)
    clock.now += 100
    heard(progress, export)
    clock.now += 100
    heard(progress, export)
    assert lines == []


@pytest.mark.parametrize("seconds, text", [(0, "0s"), (59.9, "59s"), (60, "1m 00s"), (125, "2m 05s"),
                                           (3725, "1h 02m 05s")])
def test_duration(seconds, text):
    assert duration(seconds) == text


def test_another_runs_export_is_heard_at_vv_only_and_never_as_this_moves_transfer(seen):
    progress, clock, lines = seen
    theirs = JobWatch(7, "source", "export")
    clock.now += 100
    watch_line = entry(1, "Disk 0 sent 50M, 1.0 MiB/s, 50%, ETA 50s")
    theirs.log.append(watch_line)
    progress.job(theirs, [watch_line], ours=False)
    assert lines == [(2, "web1.test: another run's source job 7 (export): Disk 0 sent 50M, 1.0 MiB/s, 50%, ETA 50s")]


def test_a_disk_that_failed_to_send_is_said_at_default_verbosity(seen):
    progress, clock, lines = seen
    progress.transfer(1)
    heard(progress, JobWatch(5, "source", "export"), entry(1, "Disk 0 failed to send data: connection refused"))
    assert lines == [(0, "web1.test: Disk 0 failed to send data: connection refused")]
