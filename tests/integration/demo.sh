#!/usr/bin/env bash
# make demo: bring up the two lab clusters, create three instances on A,
# move them to B with the collection's playbook (forks 3), and show both
# clusters and the disk checksums before and after.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB=$ROOT/tests/lab/lab.sh
LAB_DIR=${LAB_DIR:-/var/tmp/ganeti-lab}
NAMES=(inst61.test inst62.test inst63.test)
say() { printf '\n== %s\n' "$*"; }

say "bringing up the two Ganeti 3.0.2 clusters (first run installs the Debian packages)"
"$LAB" up > "$LAB_DIR.demo-up.log" 2>&1 || { tail -30 "$LAB_DIR.demo-up.log"; exit 1; }
. "$LAB_DIR/lab.env"

say "creating ${NAMES[*]} on cluster A"
for n in "${NAMES[@]}"; do
  for c in a b; do
    if "$LAB" gnt "$c" gnt-instance list --no-headers -o name | grep -qx "$n"; then
      "$LAB" gnt "$c" gnt-instance remove -f "$n" > /dev/null
    fi
  done
  "$LAB" create-instance "$n" 64M a > /dev/null
  # recognisable bytes in the disk, so the copy can be checked
  printf 'demo data of %s\n' "$n" | dd of="$("$LAB" disk-path a "$n")" conv=notrunc status=none
done
declare -A SUMS
for n in "${NAMES[@]}"; do SUMS[$n]=$(md5sum < "$("$LAB" disk-path a "$n")" | cut -d' ' -f1); done

mkdir -p "$ROOT/build/collections/ansible_collections/ganeti"
ln -sfn "$ROOT" "$ROOT/build/collections/ansible_collections/ganeti/rapi"
INV=$(mktemp -d)/inventory.yml
cat > "$INV" <<INVENTORY
ganeti_instances:
  hosts:
$(for n in "${NAMES[@]}"; do echo "    $n:"; done)
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    move_instances_source:
      host: 127.0.0.1
      port: $GNT_A_RAPI_LOCAL_PORT
      username: $GNT_A_RAPI_USER
      password_file: $GNT_A_RAPI_PASSWORD_FILE
      ca_path: $GNT_A_CA_FILE
    move_instances_destination:
      host: 127.0.0.1
      port: $GNT_B_RAPI_LOCAL_PORT
      ca_path: $GNT_B_CA_FILE
all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: "{{ ansible_playbook_python }}"
INVENTORY

say "moving them A -> B: ansible-playbook ganeti.rapi.move_instances -i $INV -f 3"
start=$(date +%s.%N)
ANSIBLE_COLLECTIONS_PATH=$ROOT/build/collections ANSIBLE_NOCOLOR=1 \
  ansible-playbook ganeti.rapi.move_instances -i "$INV" -f 3
end=$(date +%s.%N)

say "cluster A now"; "$LAB" gnt a gnt-instance list -o name,status,pnode
say "cluster B now"; "$LAB" gnt b gnt-instance list -o name,status,pnode
say "disk checksums (A before -> B after)"
ok=1
for n in "${NAMES[@]}"; do
  after=$(md5sum < "$("$LAB" disk-path b "$n")" | cut -d' ' -f1)
  if [ "$after" = "${SUMS[$n]}" ]; then verdict=identical; else verdict=DIFFERENT; ok=0; fi
  echo "$n  ${SUMS[$n]} -> $after  $verdict"
done
awk -v a="$start" -v b="$end" 'BEGIN{printf "\n3 moves took %.1f s in one playbook run\n", b-a}'
[ "$ok" = 1 ]
