# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""move_evidence: which cluster is which, and what a run makes of an instance already on the destination.

The verdicts get an earlier move as move_history finds it (rows of /2/query/job);
the same cases against two scripted clusters are in test_interrupted_move.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.ganeti.rapi.plugins.module_utils.move_evidence import (
    on_both_clusters, only_on_destination, same_cluster, shape_mismatches,
)
from ansible_collections.ganeti.rapi.plugins.module_utils.move_history import EarlierMove
from ansible_collections.ganeti.rapi.plugins.module_utils.move_model import MoveError, MoveSpec
from ansible_collections.ganeti.rapi.tests.unit.plugins.module_utils.fake_rapi import (
    DEST_INFO, DEST_ROW, IMPORT_WARNING, NAME, SOURCE_INFO, SOURCE_ROW, log_entry,
)

CLUSTER = DEST_INFO["name"]
SENT = [[log_entry(1, "message", "Shutting down instance %s" % NAME),
         log_entry(2, "message", "Removing instance %s" % NAME)]]


def _earlier(create="success", warning=False, prepare=True, export="success", sent=True, remove_instance=True,
             start=True):
    create_row = {"id": "201", "status": create, "ops": [{"start": start}],
                  "oplog": [[log_entry(1, "message", IMPORT_WARNING)]] if warning else [[]]}
    prepare_row = {"id": 102} if prepare else None
    export_row = None
    if export:
        export_row = {"id": 103, "status": export, "ops": [{"remove_instance": remove_instance}],
                      "opresult": [[True, [True, True]] if export == "success" and sent
                                   else ["OpExecError", ["Could not remove instance"]]],
                      "oplog": SENT if sent else [[]]}
    return EarlierMove(create_row, prepare_row, {} if prepare else None, export_row)


def _spec(**spec):
    return MoveSpec(name=NAME, **spec)


# ================================================================ identity
def test_clusters_with_the_same_name_but_different_uuids_are_two():
    assert not same_cluster(dict(SOURCE_INFO), dict(SOURCE_INFO, uuid="another"))
    assert same_cluster({"name": "a.test"}, {"name": "A.test"})
    assert not same_cluster(dict(SOURCE_INFO), dict(DEST_INFO))


def test_shape_compares_expected_macs():
    row = dict(SOURCE_ROW)
    assert shape_mismatches(row, dict(row)) == []
    assert shape_mismatches(row, dict(row, **{"nic.macs": ["AA:00:00:B3:0A:23"]})) == []  # case
    assert shape_mismatches(row, dict(row, **{"nic.macs": ["aa:00:00:00:00:09"]}), [{"mac": "aa:00:00:00:00:09"}]) == []
    assert shape_mismatches(row, dict(row), [{"mac": "aa:00:00:00:00:09"}]) != []


# ================================================================ only on the destination
def test_only_on_the_destination_with_the_moves_jobs_is_already_moved():
    verdict = only_on_destination(_spec(), CLUSTER, _earlier())
    assert (verdict.state, verdict.evidence, verdict.warning) == ("already_moved", "jobs", None)
    assert verdict.message == ("%s is already on the destination cluster cluster-b.test as %s (moved by source job "
                               "102 (prepare-export), destination job 201 (create), source job 103 (export))"
                               % (NAME, NAME))


@pytest.mark.parametrize("earlier", [None, _earlier(prepare=False)], ids=["no-jobs", "create-of-another-source"])
def test_only_on_the_destination_without_evidence_is_unverified(earlier):
    verdict = only_on_destination(_spec(), CLUSTER, earlier)
    assert (verdict.state, verdict.evidence) == ("already_moved", "none")
    assert "(unverified: no job of the move was found and the source instance is gone)" in verdict.message
    assert verdict.warning.startswith("unverified: %s on cluster-b.test is taken to be the moved %s" % (NAME, NAME))


def test_only_on_the_destination_after_a_move_that_lost_data_is_refused():
    with pytest.raises(MoveError) as info:
        only_on_destination(_spec(), CLUSTER, _earlier(warning=True))
    err = info.value
    assert (err.side, err.step, err.job_id) == ("destination", "preflight", "201")
    assert err.message.endswith("reports: %s" % IMPORT_WARNING)


# ================================================================ on both clusters
def test_on_both_without_jobs_and_the_same_shape_is_a_copy_only_with_keep_source():
    verdict = on_both_clusters(_spec(keep_source=True), CLUSTER, SOURCE_ROW, DEST_ROW, None)
    assert (verdict.state, verdict.evidence) == ("already_copied", "shape")
    with pytest.raises(MoveError) as info:
        on_both_clusters(_spec(), CLUSTER, SOURCE_ROW, DEST_ROW, None)
    assert info.value.side == "both" and "neither was touched" in info.value.message


def test_on_both_with_another_shape_is_not_the_copy():
    other = dict(DEST_ROW, **{"disk.sizes": [64, 256]})
    with pytest.raises(MoveError) as info:
        on_both_clusters(_spec(keep_source=True), CLUSTER, SOURCE_ROW, other, None)
    assert info.value.message == ("%s on the destination cluster cluster-b.test is not a copy of %s: disk sizes "
                                  "[64, 128] MiB on the source, [64, 256] MiB on the destination; neither instance "
                                  "was touched" % (NAME, NAME))


def test_on_both_after_an_earlier_copy_with_keep_source_is_already_copied():
    verdict = on_both_clusters(_spec(keep_source=True), CLUSTER, SOURCE_ROW, DEST_ROW,
                               _earlier(remove_instance=False))
    assert (verdict.state, verdict.evidence) == ("already_copied", "jobs")


@pytest.mark.parametrize("earlier, job_id, words", [
    (_earlier(remove_instance=False), 103, "an earlier run copied %s to cluster-b.test with keep_source" % NAME),
    (_earlier(export="error"), 103, "but the source copy is still there: removing it failed (Could not remove "
                                    "instance)"),
    (_earlier(export=None), "201", "received every disk, and the source copy %s still exists" % NAME),
], ids=["kept-source", "removal-failed", "received-without-export"])
def test_on_both_after_an_earlier_move_that_sent_the_data_touches_nothing(earlier, job_id, words):
    with pytest.raises(MoveError) as info:
        on_both_clusters(_spec(), CLUSTER, SOURCE_ROW, DEST_ROW, earlier)
    assert (info.value.side, info.value.job_id) == ("both", job_id)
    assert words in info.value.message


def test_an_earlier_runs_empty_copy_of_the_same_shape_is_for_removal():
    earlier = _earlier(warning=True, export="error", sent=False)
    assert on_both_clusters(_spec(), CLUSTER, SOURCE_ROW, DEST_ROW, earlier) is None
    with pytest.raises(MoveError) as info:
        on_both_clusters(_spec(), CLUSTER, SOURCE_ROW, dict(DEST_ROW, **{"nic.macs": ["aa:00:00:00:00:09"]}),
                         earlier)
    assert "is not the incomplete copy an earlier run made" in info.value.message
