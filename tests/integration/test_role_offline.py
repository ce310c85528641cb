# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The role move_instances' own logic, without a cluster: every move fails at once (nothing listens on the RAPI
port), which is enough for the summary, the record, check mode, the per-host failures and the checks of its
variables. The moves themselves are proven on the lab (test_load.py, test_runner.py, test_inventory.py)."""

import json
import re

# Nothing listens on port 1: each move fails in its preflight, before any job.
UNREACHABLE = {"host": "127.0.0.1", "port": 1, "request_timeout": 5}
HOSTS = ("web1.test", "web2.test")
INVENTORY = "[ganeti_instances]\n%s\n\n[ganeti_instances:vars]\nansible_connection=local\n" % "\n".join(HOSTS)


def wave(runner, *extra_vars, args=()):
    variables = {"move_instances_source": UNREACHABLE, "move_instances_destination": UNREACHABLE}
    command = ["-e", json.dumps(variables)]
    for item in extra_vars:
        command += ["-e", item if isinstance(item, str) else json.dumps(item)]
    return runner.run_file("ganeti.rapi.move_instances", INVENTORY, command + list(args))


def recap(result):
    """{host: failed count} from the PLAY RECAP."""
    return dict((m.group(1), int(m.group(2))) for m in re.finditer(r"^(\S+) +: .* failed=(\d+) ", result.stdout, re.M))


def test_check_mode_writes_the_record_and_fails_each_failed_host(runner, tmp_path):
    base = tmp_path / "records" / "wave1"
    base.parent.mkdir()
    result = wave(runner, {"move_instances_record_path": str(base) + ".json"}, args=["--check"])

    assert result.rc == 2, result
    assert recap(result) == {"web1.test": 1, "web2.test": 1}, result  # each failed instance, on its own host
    record = json.loads((tmp_path / "records" / "wave1.json").read_text())
    assert [(row["host"], row["instance"], row["outcome"], row["state"]) for row in record] == [
        ("web1.test", "web1.test", "failed", None), ("web2.test", "web2.test", "failed", None)]
    assert all("cannot connect" in row["msg"] and row["jobs"] == [] for row in record), record
    table = (tmp_path / "records" / "wave1.md").read_text()
    assert table.startswith("# Ganeti moves: 0 moved, 0 already there, 2 failed\n")
    assert len([line for line in table.splitlines() if line.startswith("| web")]) == 2, table
    assert sorted(p.name for p in base.parent.iterdir()) == ["wave1.json", "wave1.md"]  # the suffix was dropped
    assert "2 move(s) failed; see above. This one: " in result.stdout


def test_option_dicts_given_as_text_reach_the_module(runner):
    # -e key=value gives strings: JSON text is taken as the dict it is (the module then checks the value) ...
    result = wave(runner, 'move_instances_options={"timeout":0}')
    assert result.rc == 2, result
    assert result.stdout.count("timeout must be at least 1, got 0") >= 2, result
    # ... key=value text, which the argument validation would also take for a dict, is refused with a clear word
    result = wave(runner, "move_instances_instance_options=timeout=30")
    assert result.rc == 2, result
    assert "must be dicts (YAML or JSON text in --extra-vars and INI inventories), not key=value text" in result.stdout
    assert "cannot connect" not in result.stdout  # no move was tried


def test_a_relative_or_directory_record_path_is_refused_before_any_move(runner, tmp_path):
    for path in ("wave1", str(tmp_path) + "/", str(tmp_path)):
        result = wave(runner, {"move_instances_record_path": path})
        assert result.rc == 2, (path, result)
        assert "nothing was moved" in result.stdout, (path, result)
        assert "cannot connect" not in result.stdout, (path, result)  # no move was tried
    assert list(tmp_path.glob("*.json")) == [] and list(tmp_path.glob("run*/wave1*")) == []
