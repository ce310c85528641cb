#!/usr/bin/env bash
# Integration suite on the real two-cluster Ganeti lab (tests/lab).
#   phase 1: the lab's own RAPI certificates (CN and SANs match)
#   phase 2: LAB_RAPI_CERT=ganeti, Ganeti's self-signed rapi.pem (CN ganeti.example.com)
#   phase 3: LAB_FIX_SOCAT_CN=0, stock socat: transfers fail after the destination listens
#   phase 4: the mixed lab, cluster a on Ganeti 3.0 and b on 3.1 (Debian trixie), two nodes each: the mixed_lab
#            tests (both directions, nodes, networks) and the main cases of the suite from 3.0 to 3.1 and from
#            3.1 to 3.0 (LAB_SOURCE=b)
#   phase 5: the mixed lab with stock socat: a failed transfer out of 3.0 is cleaned up; 3.1 exports to 3.0
#   phase 6: the mixed lab unprepared (LAB_PREPARED=0): the prepare_clusters role over SSH, then moves
#   phase 7: the default lab unprepared (3.0 on both sides, one node each): the role, then moves both ways
# Runs with the python/ansible found on PATH (make integration puts .venv/<line>/bin first: the newest line,
# whose Python is then controller and module interpreter). With SMOKE_VENV=.venv/<oldest line>, phase 1 ends
# with one real move (and its re-run) and one shipped-playbook run on that venv's ansible-core and Python.
# KEEP_LAB=1 leaves the last lab running; extra arguments go to pytest.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB=$HERE/../lab/lab.sh
LAB_DIR=${LAB_DIR:-/var/tmp/ganeti-lab}
PY=${PYTHON:-python3}
export ANSIBLE_BIN_DIR=${ANSIBLE_BIN_DIR:-$(dirname "$(command -v ansible-playbook)")}

# Ganeti waits 180 s for the other cluster's connection before a remote import or export gives up; the tests of
# a transfer nobody sends (a controller cut off while the destination listens) wait that out, so the suite's labs
# shorten it (tests/lab/README.md). Moves under load (test_load.py) still connect within it.
export LAB_RIE_CONNECT_TIMEOUT=${LAB_RIE_CONNECT_TIMEOUT:-60}

lab_setting() { sed -n "s/^$1=//p" "$LAB_DIR/lab.env" 2>/dev/null; }
lab_up_with() { # RAPI_CERT FIX_SOCAT_CN [B_GANETI NODES PREPARED]: (re)start the lab unless it runs that way
  local b_ganeti=${3:-3.0} nodes=${4:-1} prepared=${5:-1}
  if [ -f "$LAB_DIR/lab.env" ] &&
     { [ "$(lab_setting LAB_RAPI_CERT)" != "$1" ] || [ "$(lab_setting LAB_FIX_SOCAT_CN)" != "$2" ] ||
       [ "$(lab_setting GNT_B_VERSION)" != "$b_ganeti" ] || [ "$(lab_setting LAB_NODES)" != "$nodes" ] ||
       [ "$(lab_setting LAB_PREPARED)" != "$prepared" ] ||
       [ "$(lab_setting LAB_RIE_CONNECT_TIMEOUT)" != "$LAB_RIE_CONNECT_TIMEOUT" ]; }; then
    "$LAB" down
  fi
  local t0=$SECONDS
  LAB_RAPI_CERT=$1 LAB_FIX_SOCAT_CN=$2 LAB_A_GANETI=3.0 LAB_B_GANETI=$b_ganeti LAB_NODES=$nodes \
    LAB_PREPARED=$prepared "$LAB" up > "$LAB_DIR.up.log" 2>&1 || { tail -30 "$LAB_DIR.up.log"; exit 1; }
  echo "lab up in $((SECONDS - t0)) s: Ganeti $(lab_setting GNT_A_GANETI_VERSION) and" \
       "$(lab_setting GNT_B_GANETI_VERSION), $nodes node(s) each ($(grep -E '^(build_root|up_total) ' \
       "$LAB_DIR/timings" | tr '\n' ' '))"
}

# The main cases of the suite, run again on the mixed lab in both directions.
MAIN_CASES=(
  "test_move.py::test_plain_move_preserves_disk_bytes_and_rerun_is_unchanged"
  "test_move.py::test_rename_with_explicit_primary_node_and_module_defaults"
  "test_move.py::test_keep_source_leaves_both_copies"
  "test_move.py::test_check_mode_touches_nothing"
  "test_failures.py::test_controller_killed_mid_move_then_rerun_finishes[export]"
)
# The role on the default lab unprepared (Ganeti 3.0 on both sides, one node each): both need the socat fix.
PREPARE_CASES=(
  "test_prepare_clusters.py::test_the_checks_flag_the_socat_defect_of_ganeti_3_0"
  "test_prepare_clusters.py::test_the_role_makes_the_clusters_move_ready"
  "test_prepare_clusters.py::test_a_move_with_what_the_role_made"
)
# a run cut while the destination listens, resumed: to 3.1 here (to 3.0 in phase 1); its rerun waits 180 s
RESUME_CASE="test_failures.py::test_controller_killed_mid_move_then_rerun_finishes[create]"

cd "$HERE"
rc=0
echo "== integration phase 1: lab certificates"
lab_up_with lab 1
"$PY" -m pytest -m "not ganeti_cert and not stock_socat and not mixed_lab and not unprepared" -v --durations=10 "$@" . || rc=1
if [ -n "${SMOKE_VENV:-}" ]; then
  echo "== integration phase 1, smoke: one move on $("$SMOKE_VENV/bin/ansible" --version | head -1)," \
       "$("$SMOKE_VENV/bin/python" -V)"
  ANSIBLE_BIN_DIR=$SMOKE_VENV/bin "$SMOKE_VENV/bin/python" -m pytest -v "$@" \
    "test_move.py::test_plain_move_preserves_disk_bytes_and_rerun_is_unchanged" \
    "test_load.py::test_every_option_per_wave_and_per_host_and_a_bad_host_fails_alone" || rc=1
fi
echo "== integration phase 2: Ganeti's self-signed rapi.pem (LAB_RAPI_CERT=ganeti)"
lab_up_with ganeti 1
"$PY" -m pytest -m ganeti_cert -v "$@" . || rc=1
echo "== integration phase 3: stock socat, every disk transfer fails (LAB_FIX_SOCAT_CN=0)"
lab_up_with lab 0
"$PY" -m pytest -m stock_socat -v "$@" . || rc=1
echo "== integration phase 4: Ganeti 3.0 and 3.1, two nodes each (LAB_B_GANETI=3.1 LAB_NODES=2)"
lab_up_with lab 1 3.1 2
"$PY" -m pytest -m mixed_lab -v "$@" . || rc=1
echo "== integration phase 4: main cases from 3.0 to 3.1"
"$PY" -m pytest -v "$@" "${MAIN_CASES[@]}" "$RESUME_CASE" || rc=1
echo "== integration phase 4: main cases from 3.1 to 3.0 (LAB_SOURCE=b)"
LAB_SOURCE=b "$PY" -m pytest -v "$@" "${MAIN_CASES[@]}" || rc=1
echo "== integration phase 5: the mixed lab with stock socat (LAB_FIX_SOCAT_CN=0)"
lab_up_with lab 0 3.1 2
"$PY" -m pytest -m stock_socat -v "$@" . || rc=1
echo "== integration phase 6: the mixed lab unprepared (LAB_PREPARED=0): the prepare_clusters role"
lab_up_with lab 0 3.1 2 0
"$PY" -m pytest -m unprepared -v --durations=5 "$@" . || rc=1
echo "== integration phase 7: the default lab unprepared (Ganeti 3.0 both, one node each): the role, then moves"
lab_up_with lab 0 3.0 1 0
"$PY" -m pytest -v "$@" "${PREPARE_CASES[@]}" || rc=1
[ "${KEEP_LAB:-0}" = 1 ] || "$LAB" down
exit $rc
