#!/usr/bin/env bash
# Integration suite on the real two-cluster Ganeti lab (tests/lab).
#   phase 1: the lab's own RAPI certificates (CN and SANs match)
#   phase 2: LAB_RAPI_CERT=ganeti, Ganeti's self-signed rapi.pem (CN ganeti.example.com)
#   phase 3: LAB_FIX_SOCAT_CN=0, stock socat: transfers fail after the destination listens
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

lab_setting() { sed -n "s/^$1=//p" "$LAB_DIR/lab.env" 2>/dev/null; }
lab_up_with() { # RAPI_CERT FIX_SOCAT_CN: (re)start the lab unless it already runs that way
  if [ -f "$LAB_DIR/lab.env" ] &&
     { [ "$(lab_setting LAB_RAPI_CERT)" != "$1" ] || [ "$(lab_setting LAB_FIX_SOCAT_CN)" != "$2" ]; }; then
    "$LAB" down
  fi
  LAB_RAPI_CERT=$1 LAB_FIX_SOCAT_CN=$2 "$LAB" up > "$LAB_DIR.up.log" 2>&1 || { tail -30 "$LAB_DIR.up.log"; exit 1; }
}

cd "$HERE"
rc=0
echo "== integration phase 1: lab certificates"
lab_up_with lab 1
"$PY" -m pytest -m "not ganeti_cert and not stock_socat" -v "$@" . || rc=1
if [ -n "${SMOKE_VENV:-}" ]; then
  echo "== integration phase 1, smoke: one move on $("$SMOKE_VENV/bin/ansible" --version | head -1)," \
       "$("$SMOKE_VENV/bin/python" -V)"
  ANSIBLE_BIN_DIR=$SMOKE_VENV/bin "$SMOKE_VENV/bin/python" -m pytest -v "$@" \
    "test_move.py::test_plain_move_preserves_disk_bytes_and_rerun_is_unchanged" \
    "test_load.py::test_shipped_playbook_passes_every_option_per_group_and_per_host" || rc=1
fi
echo "== integration phase 2: Ganeti's self-signed rapi.pem (LAB_RAPI_CERT=ganeti)"
lab_up_with ganeti 1
"$PY" -m pytest -m ganeti_cert -v "$@" . || rc=1
echo "== integration phase 3: stock socat, every disk transfer fails (LAB_FIX_SOCAT_CN=0)"
lab_up_with lab 0
"$PY" -m pytest -m stock_socat -v "$@" . || rc=1
[ "${KEEP_LAB:-0}" = 1 ] || "$LAB" down
exit $rc
