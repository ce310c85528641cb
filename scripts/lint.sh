#!/usr/bin/env bash
# ansible-lint (production profile, offline) on the shipped playbook, the roles and on the
# module's EXAMPLES, extracted into a playbook so that every example task is linted.
# Runs on a copy of the tree of its own (build/lint/ansible_collections/ganeti/rapi), so that it never
# disturbs ansible-test's copy.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rm -rf "$root/build/lint"
dest=$(bash "$root/scripts/build-copy.sh" "$root/build/lint")
cd "$dest"
mkdir -p build-lint
python3 - "$dest" <<'PY'
import ast, sys, yaml
root = sys.argv[1]
path = root + "/plugins/modules/ganeti_move_instance.py"
tree = ast.parse(open(path).read())
examples = next(node.value.value for node in tree.body if isinstance(node, ast.Assign)
                and node.targets[0].id == "EXAMPLES")
tasks = yaml.safe_load(examples)
play = [{"name": "Module examples", "hosts": "localhost", "gather_facts": False,
         "vars": {"ganeti_source": {"host": "a"}, "ganeti_destination": {"host": "b"},
                  "instances_to_move": [], "vault_rapi_password": "x"},
         "tasks": tasks}]
class Indented(yaml.SafeDumper):
    def increase_indent(self, flow=False, indentless=False):  # lists indented under their key, as yamllint wants
        return super().increase_indent(flow, False)
with open(root + "/build-lint/module_examples.yml", "w") as handle:
    handle.write("---\n" + yaml.dump(play, Dumper=Indented, sort_keys=False, width=120))
PY
ANSIBLE_COLLECTIONS_PATH=$root/build/lint \
  ansible-lint --offline --profile production playbooks/move_instances.yml playbooks/prepare_clusters.yml \
  build-lint/module_examples.yml roles/prepare_clusters roles/move_instances
