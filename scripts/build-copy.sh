#!/usr/bin/env bash
# Refresh build/ansible_collections/<namespace>/<name> (or DIR/ansible_collections/... with an argument) as a
# copy of the working tree and print its path.
#
# Copied: tracked files plus untracked files that .gitignore does not ignore, so uncommitted work is
# tested too; files deleted in the work tree are left out. ansible-test resolves symlinks, which is why
# this is a copy and not a link. The copy's tests/output (ansible-test's results and venvs) is kept.
# The copy gets an empty git repository of its own: ansible-test lists content with `git ls-files`
# from the nearest .git above the working directory, and in this checkout's repository build/ is
# ignored, so without it ansible-test would see no files at all ("All targets skipped").
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
namespace=$(sed -n 's/^namespace: *//p' "$root/galaxy.yml" | tr -d "\"' ")
name=$(sed -n 's/^name: *//p' "$root/galaxy.yml" | tr -d "\"' ")
# Optional argument: another collections root (DIR/ansible_collections/<namespace>/<name> is written),
# so that docs and lint get copies of their own and never disturb ansible-test's.
dest=${1:-$root/build}/ansible_collections/$namespace/$name

if [[ -d $dest ]]; then  # wipe everything but tests/output
  find "$dest" -mindepth 1 -maxdepth 1 ! -name tests -exec rm -rf {} +
  if [[ -d $dest/tests ]]; then
    find "$dest/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} +
  fi
fi
mkdir -p "$dest"
cd "$root"
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do
    if [[ -e $f || -L $f ]]; then printf '%s\0' "$f"; fi
  done |
  tar --null -T - -cf - | tar -xf - -C "$dest"
git -c init.defaultBranch=main init -q "$dest"
echo "$dest"
