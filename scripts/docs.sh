#!/usr/bin/env bash
# Build the collection's HTML docs site with antsibull-docs, offline (make docs).
#
#   scripts/docs.sh [ANSIBLE_CORE_LINE]      (default 2.21)
#
#  1. scripts/venv.sh LINE, plus scripts/docs-requirements.txt (the Sphinx theme) if missing.
#  2. copies the working tree (tracked files plus untracked ones .gitignore does not ignore) to
#     build/docs/collections/ansible_collections/<namespace>/<name>, a copy of its own, so that the site documents
#     the working tree and a concurrent ansible-test run on build/ansible_collections is not disturbed.
#     ANSIBLE_COLLECTIONS_PATH points only there: no installed copy of the collection is documented by mistake.
#  3. converts docs/failures.md and docs/performance.md (written by `make bench`; a placeholder page without it) to
#     extra docs pages of the copy (scripts/docs-md2rst.py): the Markdown files stay the one source.
#  4. antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs on the copy: any finding fails
#     the build (plugin docs, extra pages, and every option/return value/plugin the extra pages refer to).
#  5. antsibull-docs sphinx-init + antsibull-docs collection + sphinx-build into build/docs/html.
#     Offline, Sphinx cannot fetch the intersphinx inventories of docs.python.org and docs.ansible.com, so links
#     into those sites stay plain text; that is the only kind of warning allowed. Any other Sphinx warning
#     (broken markup, a missing page or label of this collection) fails the build.
# Prints the path of index.html on the last line.
set -euo pipefail

line=${1:-2.21}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
namespace=$(sed -n 's/^namespace: *//p' "$root/galaxy.yml" | tr -d "\"' ")
name=$(sed -n 's/^name: *//p' "$root/galaxy.yml" | tr -d "\"' ")
out=$root/build/docs
collection=$out/collections/ansible_collections/$namespace/$name
site=$out/site
html=$out/html
start=$SECONDS

say() { echo "docs.sh: $*" >&2; }

# 1. tools
venv=$(bash "$root/scripts/venv.sh" "$line" | tail -n 1)
export PATH="$venv/bin:$PATH" VIRTUAL_ENV=$venv
if ! "$venv/bin/python" - "$root/scripts/docs-requirements.txt" <<'PY'
import sys
from importlib.metadata import PackageNotFoundError, version
from packaging.requirements import Requirement
for text in open(sys.argv[1]):
    text = text.split('#', 1)[0].strip()
    if text:
        req = Requirement(text)
        try:
            ok = req.specifier.contains(version(req.name), prereleases=True)
        except PackageNotFoundError:
            ok = False
        if not ok:
            sys.exit(1)
PY
then
  say "installing scripts/docs-requirements.txt into $venv"
  "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$root/scripts/docs-requirements.txt"
fi

# 2. copy of the working tree
# (with a git repository of its own: antsibull-docs lists a collection inside a git work tree with
# `git ls-files`, and in this checkout build/ is ignored, so it would see no file at all)
rm -rf "$out"
collection=$(bash "$root/scripts/build-copy.sh" "$out/collections")
cd "$root"

export ANSIBLE_COLLECTIONS_PATH=$out/collections
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
export ANSIBLE_NOCOLOR=1
# Reproducible output: dates in the HTML come from the last commit, not from the clock.
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH

# 3. pages converted from Markdown
"$venv/bin/python" "$root/scripts/docs-md2rst.py" "$collection" docs/failures.md failures Reference >/dev/null
no_figures=$(cat <<'MD'
No measurements yet: `make bench` measures moves on the two-cluster lab and writes `docs/performance.md`;
`make docs` then shows its figures here.
MD
)
"$venv/bin/python" "$root/scripts/docs-md2rst.py" "$collection" docs/performance.md performance Reference \
  --title 'Performance' --missing "$no_figures" >/dev/null

# 4. lint; --check-extra-docs-refs: every option, return value and plugin the extra pages name must exist
say "antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs"
if ! (cd "$collection" && antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs \
        --validate-collection-refs dependent --disallow-unknown-collection-refs .); then
  say "FAILED: antsibull-docs lint-collection-docs found problems (above)"
  exit 1
fi

# 5. site
mkdir -m 700 "$site"
antsibull-docs sphinx-init --use-current --squash-hierarchy --dest-dir "$site" \
  --project "$namespace.$name" --copyright "$namespace.$name contributors" \
  --title "$namespace.$name collection documentation" --html-short-title "$namespace.$name" \
  --no-add-antsibull-docs-version \
  "$namespace.$name" >/dev/null
# Offline the intersphinx fetches fail at once (no DNS); where DNS works but the hosts do not answer, give up soon.
echo 'intersphinx_timeout = 10' >>"$site/conf.py"
chmod 700 "$site/rst"  # as sphinx-init's build.sh does: antsibull-docs wants it writable by itself only
antsibull-docs --config-file "$site/antsibull-docs.cfg" collection --cleanup everything --use-current \
  --squash-hierarchy --fail-on-error --dest-dir "$site/rst" "$namespace.$name" >/dev/null
say "sphinx-build"
sphinx-build -b html -q -c "$site" -d "$site/doctrees" -w "$site/warnings.log" "$site/rst" "$html" \
  2>"$site/sphinx-stderr.log" || { cat "$site/sphinx-stderr.log" >&2; say "FAILED: sphinx-build"; exit 1; }
# Offline-only warnings: the intersphinx inventories that cannot be fetched, and therefore references to labels of
# other documentation (Python, ansible-core's docs and ansible.builtin's plugins) left unresolved. A label of this
# collection that does not resolve, and any other warning, fails the build.
unexpected=$("$venv/bin/python" - "$site/warnings.log" "ansible_collections.$namespace.$name." <<'PY'
import re, sys
own = sys.argv[2]
for line in open(sys.argv[1], encoding='utf-8'):
    if not re.search(r'WARNING|ERROR|CRITICAL', line) or 'failed to reach any of the inventories' in line:
        continue
    label = re.search(r"undefined label: '([^']*)'", line)
    if label and not label.group(1).startswith(own):
        continue
    print(line.rstrip())
PY
)
if [[ -n $unexpected ]]; then
  printf '%s\n' "$unexpected" >&2
  say "FAILED: Sphinx warnings above (full log: ${site#"$root"/}/warnings.log)"
  exit 1
fi
# Every page is there and none carries a rendering error (antsibull's semantic markup errors, docutils messages).
"$venv/bin/python" - "$collection" "$html" <<'PY' || { say "FAILED: pages missing or broken (above)"; exit 1; }
import glob, os, re, sys, yaml
collection, html = sys.argv[1:]
with open(os.path.join(collection, 'docs', 'docsite', 'extra-docs.yml')) as handle:
    index = yaml.safe_load(handle)
pages = ['index.html', 'environment_variables.html']
pages += ['%s_module.html' % os.path.splitext(os.path.basename(path))[0]
          for path in glob.glob(os.path.join(collection, 'plugins', 'modules', '*.py'))
          if not os.path.basename(path).startswith('_')]
pages += ['docsite/%s.html' % ref for section in index['sections'] for ref in section['toctree']]
problems = ['missing: %s' % page for page in pages if not os.path.isfile(os.path.join(html, page))]
for path in glob.glob(os.path.join(html, '**', '*.html'), recursive=True):
    with open(path, encoding='utf-8') as handle:
        text = handle.read()
    if re.search(r'class="[^"]*\b(problematic|system-message)\b|<strong class="error"', text):
        problems.append('rendering error in %s' % os.path.relpath(path, html))
if problems:
    sys.exit('\n'.join(problems))
PY
say "built in $((SECONDS - start)) s; offline warnings: $(grep -c WARNING "$site/warnings.log" || true) (${site#"$root"/}/warnings.log)"
echo "$html/index.html"
