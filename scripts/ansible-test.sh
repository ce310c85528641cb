#!/usr/bin/env bash
# Run ansible-test of one ansible-core line against a fresh copy of the working tree.
#
#   scripts/ansible-test.sh 2.21 sanity
#   scripts/ansible-test.sh 2.16 units --venv
#
# The line's own Python (scripts/venv.sh --python-version LINE: 3.11 for 2.16, 3.13 for 2.21) is passed
# as --python: without it ansible-test tries every Python it finds, pyenv shims included.
#
# What it does, every time:
#  1. scripts/venv.sh LINE  (fast when the venv is up to date)
#  2. puts the offline get-pip stand-in into ~/.ansible/test/cache/get_pip_<pip version>.py, for the
#     pip version this ansible-test bootstraps (ansible-test cannot download it here)
#  3. copies the tracked files plus untracked-but-not-ignored files (uncommitted work is tested) to
#     build/ansible_collections/ganeti/rapi: ansible-test resolves symlinks, so it must be a copy.
#     tests/output of the copy is kept between runs of the same line and deleted when the line changes.
#  4. runs ansible-test there with the remaining arguments.
set -euo pipefail

line=${1:?usage: scripts/ansible-test.sh ANSIBLE_CORE_LINE ansible-test-args...}
shift

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
namespace=$(sed -n 's/^namespace: *//p' "$root/galaxy.yml" | tr -d "\"' ")
name=$(sed -n 's/^name: *//p' "$root/galaxy.yml" | tr -d "\"' ")
dest=$root/build/ansible_collections/$namespace/$name   # must match scripts/build-copy.sh

venv=$(bash "$root/scripts/venv.sh" "$line" | tail -n 1)
export PATH="$venv/bin:$PATH"
export VIRTUAL_ENV=$venv

# 2. get-pip stand-in for the pip version this ansible-test bootstraps into its venvs.
pyver=$(bash "$root/scripts/venv.sh" --python-version "$line")
pip_version=$(PYVER=$pyver "$venv/bin/python" - <<'PY'
import os
from ansible_test._internal.python_requirements import get_venv_packages
class Python:  # get_venv_packages() only reads .version
    version = os.environ["PYVER"]
print(get_venv_packages(Python())['pip'])
PY
)
cache=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
if [[ ! -f $cache ]] || grep -q '^# ganeti.rapi get-pip stand-in' "$cache"; then
  if ! cmp -s "$root/scripts/get-pip-standin.py" "$cache" 2>/dev/null; then
    mkdir -p "$(dirname "$cache")"
    cp "$root/scripts/get-pip-standin.py" "$cache"
  fi
fi  # else: a real get-pip.py downloaded earlier: leave it

# 3. copy of the working tree; another line's tests/output confuses sanity (see docs), so drop it.
stamp=$root/build/.ansible-test-line
if [[ ! -f $stamp || $(cat "$stamp") != "$line" ]]; then
  rm -rf "$dest/tests/output"
fi
dest=$(bash "$root/scripts/build-copy.sh")
echo "$line" >"$stamp"

# 4. run it.
cd "$dest"
core=$("$venv/bin/python" -c 'from ansible.release import __version__; print(__version__)')
echo "== ansible-test $* (ansible-core $core, in ${dest#"$root"/})"
command=$1; shift
exec ansible-test "$command" --python "$pyver" "$@"
