#!/usr/bin/env bash
# Create (or reuse) the development venv for one ansible-core line.
#
#   scripts/venv.sh 2.16      ->  .venv/2.16: the latest ansible-core 2.16.x on Python 3.11
#   scripts/venv.sh 2.21      ->  .venv/2.21: the latest ansible-core 2.21.x on Python 3.13
#   scripts/venv.sh --python-version 2.21   ->  prints 3.13 (the Python the line's venv runs on)
#
# plus the tools in requirements-dev.txt. Prints the venv's path on stdout (last line).
# Idempotent: a stamp file records what was installed; a re-run with the same inputs does nothing.
# Each line's Python is chosen here, explicitly (PYTHON_OF below), and looked up as a real interpreter:
# Debian's /usr/bin/python3.X, or pyenv's own $PYENV_ROOT/versions/3.X.*/bin/python3.X, never a pyenv shim
# found on PATH by chance. Set VENV_PYTHON=/path/to/python3.X to use another interpreter of that version.
# pip's chatter goes to .venv/<line>.log; its tail is printed if the install fails.
set -euo pipefail

# The controller Python each ansible-core line is built and tested with (ansible-core 2.16 to 2.19 run on
# 3.11; 2.20 needs 3.12 or newer; 2.21 runs on 3.13, Debian trixie's Python).
python_of() {
  case $1 in
    2.16|2.17|2.18|2.19) echo 3.11 ;;
    2.20) echo 3.12 ;;
    2.21) echo 3.13 ;;
    *) return 1 ;;
  esac
}

if [[ ${1:-} == --python-version ]]; then
  python_of "${2:?usage: scripts/venv.sh --python-version LINE}" || {
    echo "venv.sh: no Python is set for ansible-core '$2'" >&2; exit 2; }
  exit 0
fi

line=${1:?usage: scripts/venv.sh ANSIBLE_CORE_LINE (e.g. 2.16 or 2.21)}
pyver=$(python_of "$line") || {
  echo "venv.sh: '$line' is not a supported ansible-core line (2.16 to 2.21)" >&2; exit 2; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$root/.venv/$line
log=$root/.venv/$line.log
stamp=$venv/.stamp
req=$root/requirements-dev.txt
major=${line%%.*}; minor=${line#*.}
core_spec="ansible-core>=$line.0,<$major.$((minor + 1))"

# A real Python $pyver interpreter with venv and ensurepip; never a pyenv shim (they pick a version by the
# directory they run in, and fail for missing ones).
is_python() {
  [[ -x $1 && $(readlink -f "$1") != */shims/* ]] &&
    "$1" -c "import sys, venv, ensurepip; sys.exit(sys.version_info[:2] != tuple(map(int, '$pyver'.split('.'))))" \
      >/dev/null 2>&1
}
find_python() {
  local c pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
  for c in ${VENV_PYTHON:-} /usr/bin/python$pyver /usr/local/bin/python$pyver \
           $(find "$pyenv_root/versions" -mindepth 3 -maxdepth 3 -path "*/versions/$pyver.*/bin/python$pyver" \
               2>/dev/null | sort -V -r); do
    if is_python "$c"; then
      echo "$c"; return 0
    fi
  done
  return 1
}

want="core=$core_spec;python=$pyver;req=$(sha256sum "$req" | cut -c1-16);script=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)"
if [[ -x $venv/bin/python && -x $venv/bin/ansible-test && -f $stamp && $(cat "$stamp") == "$want" ]] \
   && is_python "$venv/bin/python"; then
  echo "$venv"; exit 0
fi

py=$(find_python) || {
  echo "venv.sh: no working Python $pyver with the venv module found for ansible-core $line (tried" \
       "\$VENV_PYTHON, /usr/bin/python$pyver, /usr/local/bin/python$pyver, pyenv's versions/$pyver.*)." >&2
  echo "venv.sh: on Debian: apt-get install python$pyver python$pyver-venv" >&2
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
