#!/usr/bin/env bash
# Create (or reuse) the development venv for one ansible-core line.
#
#   scripts/venv.sh 2.16      ->  .venv/2.16 with the latest ansible-core 2.16.x
#   scripts/venv.sh 2.19      ->  .venv/2.19 with the latest ansible-core 2.19.x
#
# plus the tools in requirements-dev.txt. Prints the venv's path on stdout (last line).
# Idempotent: a stamp file records what was installed; a re-run with the same inputs does nothing.
# Set VENV_PYTHON=/path/to/python3.11 to choose the interpreter; otherwise a working 3.11 is searched.
# pip's chatter goes to .venv/<line>.log; its tail is printed if the install fails.
set -euo pipefail

line=${1:?usage: scripts/venv.sh ANSIBLE_CORE_LINE (e.g. 2.16 or 2.19)}
case $line in
  2.[0-9]|2.[0-9][0-9]) ;;
  *) echo "venv.sh: '$line' is not an ansible-core line like 2.16 or 2.19" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$root/.venv/$line
log=$root/.venv/$line.log
stamp=$venv/.stamp
req=$root/requirements-dev.txt
major=${line%%.*}; minor=${line#*.}
core_spec="ansible-core>=$line.0,<$major.$((minor + 1))"

# A Python 3.11 that really runs (pyenv shims for missing versions exist but fail) and has venv+ensurepip.
find_python() {
  local c
  for c in ${VENV_PYTHON:-} python3.11 python3 /usr/bin/python3.11 /usr/local/bin/python3.11; do
    command -v "$c" >/dev/null 2>&1 || continue
    if "$c" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1; then
      command -v "$c"; return 0
    fi
  done
  return 1
}

want="core=$core_spec;req=$(sha256sum "$req" | cut -c1-16);script=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)"
if [[ -x $venv/bin/python && -x $venv/bin/ansible-test && -f $stamp && $(cat "$stamp") == "$want" ]] \
   && "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
  echo "$venv"; exit 0
fi

py=$(find_python) || {
  echo "venv.sh: no working Python 3.11 with the venv module found (tried \$VENV_PYTHON, python3.11, python3)." >&2
  echo "venv.sh: on Debian: apt-get install python3.11 python3.11-venv" >&2
  exit 1
}

mkdir -p "$root/.venv"
echo "venv.sh: building $venv ($core_spec, $($py -V 2>&1) from $py); log: $log" >&2
rm -rf "$venv"
: >"$log"
run() {
  if ! "$@" >>"$log" 2>&1; then
    echo "venv.sh: FAILED: $*" >&2
    echo "---- last 40 lines of $log ----" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}
run "$py" -m venv "$venv"
run "$venv/bin/python" -m pip install --disable-pip-version-check --upgrade pip
run "$venv/bin/python" -m pip install --disable-pip-version-check "$core_spec" -r "$req"
echo "$want" >"$stamp"
echo "$venv"
