#!/bin/bash
# Integration suite on the real two-cluster Ganeti lab (tests/lab).
#   phase 1: the lab's own RAPI certificates (CN and SANs match)
#   phase 2: LAB_RAPI_CERT=ganeti, Ganeti's self-signed rapi.pem (CN ganeti.example.com)
# Runs with the python/ansible found on PATH (make integration puts .venv/<line>/bin first).
# KEEP_LAB=1 leaves the last lab running; extra arguments go to pytest.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB=$HERE/../lab/lab.sh
LAB_DIR=${LAB_DIR:-/var/tmp/ganeti-lab}
PY=${PYTHON:-python3}
export ANSIBLE_BIN_DIR=${ANSIBLE_BIN_DIR:-$(dirname "$(command -v ansible-playbook)")}

lab_cert() { sed -n 's/^LAB_RAPI_CERT=//p' "$LAB_DIR/lab.env" 2>/dev/null; }
lab_up_with() { # lab | ganeti
  if [ -f "$LAB_DIR/lab.env" ] && [ "$(lab_cert)" != "$1" ]; then "$LAB" down; fi
  LAB_RAPI_CERT=$1 "$LAB" up > "$LAB_DIR.up.log" 2>&1 || { tail -30 "$LAB_DIR.up.log"; exit 1; }
}

cd "$HERE"
rc=0
echo "== integration phase 1: lab certificates"
lab_up_with lab
"$PY" -m pytest -m "not ganeti_cert" -v "$@" . || rc=1
echo "== integration phase 2: Ganeti's self-signed rapi.pem (LAB_RAPI_CERT=ganeti)"
lab_up_with ganeti
"$PY" -m pytest -m ganeti_cert -v "$@" . || rc=1
[ "${KEEP_LAB:-0}" = 1 ] || "$LAB" down
exit $rc
