#!/usr/bin/env bash
# Build the collection's HTML docs site with antsibull-docs from the INSTALLED collection tarball (make docs).
#
#   scripts/docs.sh [ANSIBLE_CORE_LINE]      (default 2.21)
#
#  1. scripts/venv.sh LINE, plus scripts/docs-requirements.txt (the Sphinx theme) if missing.
#  2. `ansible-galaxy collection build` of a clean copy of the working tree (scripts/build-copy.sh: tracked files
#     plus untracked ones .gitignore does not ignore) into build/docs, and `ansible-galaxy collection install` of
#     that tarball into build/docs/collections: the site documents exactly what a user installs (galaxy.yml's
#     build_ignore applies), so a page, role spec or changelog missing from the tarball fails here.
#     ANSIBLE_COLLECTIONS_PATH points only there: no other copy of the collection is documented by mistake.
#  3. antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs on the installed copy: any finding
#     fails the build (plugin and role docs, docs/docsite/*.yml, extra pages, and every option, return value and
#     plugin the extra pages refer to).
#  4. antsibull-docs sphinx-init + antsibull-docs collection (what sphinx-init's build.sh runs) + sphinx-build into
#     build/docs/html. Pages: the plugins and roles, the extra pages of docs/docsite/extra-docs.yml, and the
#     changelog (docs/docsite/config.yml: changelog.write_changelog, from changelogs/changelog.yaml). A warning
#     printed by antsibull-docs fails the build.
#     Sphinx: with network access every warning fails the build (as sphinx-init's build.sh -W). Offline, Sphinx
#     cannot fetch the intersphinx inventories of docs.python.org and docs.ansible.com that sphinx-init's conf.py
#     names: it warns that it cannot reach them (a warning without a type, which suppress_warnings cannot silence)
#     and that the labels and environment variables of those sites that the generated pages use
#     (common_return_values, ansible_configuration_settings, ansible.builtin's plugins, ansible-core's ANSIBLE_*
#     settings) are undefined; those links stay plain text.
#     Only these two kinds are allowed, and only when the inventories were out of reach; a label of this
#     collection that does not resolve, and any other warning, fails the build. (An offline build without them
#     needs the inventories as local files: conf.py's fallbacks ../python3.inv, ../ansible_devel.inv, ...)
#  5. checks that every page is there (modules, roles, extra pages, changelog) and none shows a rendering error.
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

# 2. the collection as a user installs it
export ANSIBLE_COLLECTIONS_PATH=$out/collections
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
export ANSIBLE_NOCOLOR=1
rm -rf "$out"
mkdir -p "$out"
copy=$(bash "$root/scripts/build-copy.sh" "$out/src")
ansible-galaxy collection build --force --output-path "$out" "$copy" >/dev/null
tarball=$(ls "$out/$namespace-$name-"*.tar.gz)
ansible-galaxy collection install --offline --force -p "$out/collections" "$tarball" >/dev/null
rm -rf "$out/src"
cd "$root"

# build/ is ignored in this checkout's git repository: without a ceiling, antsibull-docs would take the installed
# copy for part of that work tree and list its files with `git ls-files` (none).
export GIT_CEILING_DIRECTORIES=$out
# Reproducible output: dates in the HTML come from the last commit, not from the clock.
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH

# 3. lint; --check-extra-docs-refs: every option, return value and plugin the extra pages name must exist
say "antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs ($(basename "$tarball"), installed)"
if ! (cd "$collection" && antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs \
        --validate-collection-refs dependent --disallow-unknown-collection-refs .); then
  say "FAILED: antsibull-docs lint-collection-docs found problems (above)"
  exit 1
fi

# 4. site
mkdir -m 700 "$site"
antsibull-docs sphinx-init --use-current --squash-hierarchy --dest-dir "$site" \
  --project "$namespace.$name" --copyright "$namespace.$name contributors" \
  --title "$namespace.$name collection documentation" --html-short-title "$namespace.$name" \
  --no-add-antsibull-docs-version \
  "$namespace.$name" >/dev/null
# Offline the intersphinx fetches fail at once (no DNS); where DNS works but the hosts do not answer, give up soon.
echo 'intersphinx_timeout = 10' >>"$site/conf.py"
chmod 700 "$site/rst"  # as sphinx-init's build.sh does: antsibull-docs wants it writable by itself only
if ! antsibull-docs --config-file "$site/antsibull-docs.cfg" collection --cleanup everything --use-current \
    --squash-hierarchy --fail-on-error --dest-dir "$site/rst" "$namespace.$name" >"$site/antsibull-docs.log" 2>&1 \
    || grep -qE '^(WARNING|ERROR|CRITICAL)' "$site/antsibull-docs.log"; then
  cat "$site/antsibull-docs.log" >&2
  say "FAILED: antsibull-docs collection (above)"
  exit 1
fi
say "sphinx-build"
sphinx-build -b html -q -c "$site" -d "$site/doctrees" -w "$site/warnings.log" "$site/rst" "$html" \
  2>"$site/sphinx-stderr.log" || { cat "$site/sphinx-stderr.log" >&2; say "FAILED: sphinx-build"; exit 1; }
unexpected=$("$venv/bin/python" - "$site/warnings.log" "ansible_collections.$namespace.$name." <<'PY'
import re, sys
own = sys.argv[2]
warnings = [line.rstrip() for line in open(sys.argv[1], encoding='utf-8') if re.search(r'WARNING|ERROR|CRITICAL', line)]
offline = any('failed to reach any of the inventories' in line for line in warnings)
for line in warnings:
    if offline and 'failed to reach any of the inventories' in line:
        continue
    label = re.search(r"undefined label: '([^']*)'", line)
    if offline and label and not label.group(1).startswith(own):
        continue
    # ansible-core's configuration (e.g. the inventory cache's ANSIBLE_CACHE_PLUGIN): defined in its docs
    envvar = re.search(r"'envvar' reference target not found: (\S+)", line)
    if offline and envvar and envvar.group(1).startswith('ANSIBLE_'):
        continue
    print(line)
PY
)
if [[ -n $unexpected ]]; then
  printf '%s\n' "$unexpected" >&2
  say "FAILED: Sphinx warnings above (full log: ${site#"$root"/}/warnings.log)"
  exit 1
fi

# 5. every page is there and none carries a rendering error (antsibull's semantic markup errors, docutils messages)
"$venv/bin/python" - "$collection" "$html" <<'PY' || { say "FAILED: pages missing or broken (above)"; exit 1; }
import glob, os, re, sys, yaml
collection, html = sys.argv[1:]
with open(os.path.join(collection, 'docs', 'docsite', 'extra-docs.yml')) as handle:
    index = yaml.safe_load(handle)
pages = ['index.html', 'environment_variables.html', 'changelog.html']
# one page per module and plugin (filter and test plugins, several to a file, are left out of this check)
for kind in sorted(os.listdir(os.path.join(collection, 'plugins'))):
    if kind not in ('action', 'doc_fragments', 'filter', 'module_utils', 'plugin_utils', 'test'):
        pages += ['%s_%s.html' % (os.path.splitext(os.path.basename(path))[0], 'module' if kind == 'modules' else kind)
                  for path in glob.glob(os.path.join(collection, 'plugins', kind, '*.py'))
                  if not os.path.basename(path).startswith('_')]
# antsibull-docs documents a role from its meta/argument_specs.yml
pages += ['%s_role.html' % os.path.basename(os.path.dirname(os.path.dirname(path)))
          for path in glob.glob(os.path.join(collection, 'roles', '*', 'meta', 'argument_specs.yml'))]
pages += ['docsite/%s.html' % ref for section in index['sections'] for ref in section['toctree']]
problems = ['missing: %s' % page for page in pages if not os.path.isfile(os.path.join(html, page))]
for path in glob.glob(os.path.join(html, '**', '*.html'), recursive=True):
    with open(path, encoding='utf-8') as handle:
        text = handle.read()
    if re.search(r'class="[^"]*\b(problematic|system-message)\b|<strong class="error"', text):
        problems.append('rendering error in %s' % os.path.relpath(path, html))
changelog = os.path.join(html, 'changelog.html')
if os.path.isfile(changelog):
    with open(changelog, encoding='utf-8') as handle:
        text = handle.read()
    if 'could not be rendered' in text or 'changelog of' in text and 'is empty' in text:
        problems.append('changelog.html: antsibull-docs found no release in changelogs/changelog.yaml')
if problems:
    sys.exit('\n'.join(problems))
print('%d pages checked' % len(pages), file=sys.stderr)
PY
offline=$(grep -c WARNING "$site/warnings.log" || true)
say "built in $((SECONDS - start)) s from $(basename "$tarball"); Sphinx warnings: ${offline:-0}$([[ ${offline:-0} == 0 ]] \
  || echo ", all from the offline intersphinx inventories (${site#"$root"/}/warnings.log)")"
echo "$html/index.html"
