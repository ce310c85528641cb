#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: ganeti_move_instance
short_description: Move a Ganeti instance to another Ganeti cluster over RAPI
version_added: 0.1.0
description:
  - Moves one instance between two Ganeti clusters with Ganeti's inter-cluster move, driven over the Remote API
    of both clusters (HTTPS, port 5080). The disk data flows directly from the source node to the destination
    node; this module only relays the signed handshake and never sees the cluster domain secret or the data.
  - The move is verified. It succeeds only when the source's export job reports every disk transferred, the
    destination's import job ends without a disk import failure, and the instance with the same disk sizes is on
    the destination.
  - "Idempotent: when only the destination has the instance (under O(destination_name)) the task reports
    C(changed=false). When both clusters have it the task fails without touching either, unless O(keep_source) is
    set and the destination instance is shown to be the source's copy (RV(evidence))."
  - "The two clusters are told apart by their UUID (or name) as their RAPI reports it, never by the address given:
    one cluster reached twice (by IP address, by name, through another port) is refused before anything is touched."
  - "Another run's move of the same instance (another controller, an AWX job launched twice) is never acted on: this
    run waits for that move's jobs within its own O(timeout), then reports the outcome or moves the instance."
  - After a failure the module cancels its still queued jobs, removes an instance it created on the destination
    that did not receive its data (see O(cleanup)) and starts the source instance again if the move shut it down.
    It never removes a copy unless the other copy is known to exist.
  - A run that was interrupted (controller killed, O(timeout)) leaves its jobs running. The next run of the same
    task waits for them, then reports the finished move, removes an incomplete copy and moves again, or refuses with
    precise instructions. However many runs a move takes, the instance ends in the admin state it had before the
    first one (or the one O(start) asks for).
  - "Runs on the controller, in Ansible's worker process, when the task's connection is local (the implicit
    localhost, C(connection: local), or C(delegate_to: localhost) where localhost is implicit or has
    C(ansible_connection=local)) and the task has no C(become). It then shows the move while it runs: Ganeti's
    progress line for each disk (every 60 seconds), each disk's end and the outcome, each prefixed with the instance
    name; while a disk is still being sent and nothing else was said for 30 seconds, a line with the elapsed time and
    the disks sent so far. With C(-v) also each step of the move as it completes, with C(-vv) every line of both
    clusters' jobs. ansible-runner and AWX receive these lines as events while the task runs."
  - "With C(async) on such a connection, the move runs in a process of its own on the controller, which writes the
    job file that M(ansible.builtin.async_status) reads (in C(async_dir), as Ansible's own async jobs); it says
    nothing until it ends."
  - With C(become), when the task's connection reaches another host (which must then reach both RAPI endpoints and
    have C(requests)), or when the Python running Ansible lacks C(requests), the module runs as an ordinary module
    (under the become user, on that host, with the task's Python interpreter; with C(async) under Ansible's
    async_wrapper) and says nothing until it ends. The options and the result are the same on every path.
  - For parallel moves use Ansible's forks, several hosts of an inventory (see the P(ganeti.rapi.move_instances#role)
    role), or loops with C(async).
requirements:
  - requests (in the Python that runs Ansible for moves on the controller, else in the task's Python interpreter)
author:
  - ganeti.rapi contributors (@ganeti-rapi)
extends_documentation_fragment:
  - ganeti.rapi.connection
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on
      the controller.
    support: full
    details: The whole move runs in the action plugin when the task's connection is local; otherwise the module runs.
  async:
    description: Supports being used with the C(async) keyword.
    support: full
    details: With C(async) the move runs in a process of its own (on the controller when the connection is local,
      else as a module under async_wrapper) and shows no progress lines; poll it with M(ansible.builtin.async_status).
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: A read-only preflight of both clusters. No job is submitted.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: Shows the instance before (cluster name, node, disk template, disk sizes, admin state, its own backend,
      hypervisor and OS parameters, NICs) and after the move, with every change the options make.
options:
  name:
    description:
      - Name of the instance on the source cluster. A short name that the source cluster expands to one instance
        (C(web1) for C(web1.example.org)) is accepted; the canonical name the source reports is what moves, and is
        the default O(destination_name).
    type: str
    version_added: 0.1.0
    required: true
  destination_name:
    description:
      - New name of the instance on the destination cluster. Defaults to the source instance's canonical name.
      - With O(name_check) the name must be fully qualified (contain a dot), so that the name is settled before
        any job is submitted.
      - With O(name_check) (the default) the destination master resolves this name, so it must be in DNS or in
        that master's C(/etc/hosts).
      - Ganeti stores names in lower case; names are compared that way.
    type: str
    version_added: 0.1.0
  name_check:
    description:
      - Let the destination resolve O(destination_name) and check it against the resolved host name (Ganeti's
        C(--name-check)). It is sent explicitly because Ganeti's default differs between versions (on up to 3.0,
        off from 3.1).
      - With V(true) a short name is expanded to the full name DNS returns.
      - Whatever this option says, a destination on Ganeti 3.0 or 3.1.0~rc2 (Debian trixie) resolves the source
        instance's name on its master (ganeti#1841, fixed in 3.1.0), so that name must be in DNS or in that
        master's C(/etc/hosts).
    type: bool
    version_added: 0.1.0
    default: true
  primary_node:
    description:
      - Destination node for the instance. Mutually exclusive with O(iallocator).
      - It must exist and be online, not drained and vm_capable; the preflight refuses it otherwise, naming the
        Ganeti command that fixes it.
      - With the disk template V(drbd) it needs O(secondary_node).
    type: str
    version_added: 0.1.0
  secondary_node:
    description:
      - Destination secondary node, for the disk template V(drbd) only (refused with any other). Needs
        O(primary_node) and must be another node, online, not drained and vm_capable.
    type: str
    version_added: 0.1.0
  iallocator:
    description:
      - Instance allocator on the destination, for example C(hail).
      - Without O(primary_node) and O(iallocator) the destination's default iallocator places the instance; a
        destination without one is refused before anything is touched.
    type: str
    version_added: 0.1.0
  disk_template:
    description:
      - Disk template on the destination. Defaults to the source's. Disk sizes, names and modes are kept.
      - V(drbd) with O(primary_node) needs O(secondary_node); without nodes the iallocator chooses both.
    type: str
    version_added: 0.1.0
  compress:
    description:
      - Compression of the disk data in transit. Any value other than V(none) must be in the
        C(compression_tools) of both clusters (Ganeti ships V(gzip), V(gzip-fast), V(gzip-slow), V(lzop)).
    type: str
    version_added: 0.1.0
    default: none
  beparams:
    description:
      - Backend parameters (for example C(maxmem), C(vcpus)), merged over the instance's own custom values.
      - Names unknown to the destination are refused before anything is touched.
    type: dict
    version_added: 0.1.0
  hvparams:
    description:
      - Hypervisor parameters, merged over the instance's own custom values.
    type: dict
    version_added: 0.1.0
  osparams:
    description:
      - OS parameters, merged over the instance's own custom values. Private and secret OS parameters are not
        carried by Ganeti's move.
    type: dict
    version_added: 0.1.0
  nics:
    description:
      - NIC overrides. Element I(i) is merged over the source's NIC I(i) (keys C(mac), C(ip), C(mode), C(link),
        C(vlan), C(network), C(name)); an empty value removes the key. There may not be more elements than the
        instance has NICs.
      - Use C(mac=generate) when the source MAC address must not be reused on the destination.
      - A NIC on a Ganeti network is sent with the network's name and gets its mode, link and vlan from that
        network on the destination. The destination must have a network of that name, connected to the node group
        of O(primary_node) (to any node group without O(primary_node)).
      - So C(network) cannot be set together with C(mode), C(link) or C(vlan), and these cannot be set on a NIC
        that stays on its network.
      - 'C({network: net1, ip: pool}) puts a NIC on the network C(net1) with an address from its pool;
        C({network: "", link: br0, ip: ""}) takes a NIC off its network onto the bridge C(br0) without its address.'
      - Ganeti refuses an address of one of its networks on a NIC that is not on that network (when the network is
        connected to the node group of the primary node), and an address outside the network a NIC is on; the
        preflight refuses such a move and names the override that fixes it.
    type: list
    version_added: 0.1.0
    elements: dict
  keep_source:
    description:
      - Keep the source instance after the move instead of removing it.
      - The source instance is shut down for the copy and started again afterwards (Ganeti's C(long_sleep)),
        because file and other storage cannot be snapshotted. Both copies then run, with the same MAC addresses.
    type: bool
    version_added: 0.1.0
    default: false
  start:
    description:
      - Start the instance on the destination. Defaults to the source instance's admin state.
    type: bool
    version_added: 0.1.0
  shutdown_timeout:
    description:
      - Seconds the source gives the instance to shut down before the export. Also extends the time the
        destination waits for the data connection (180 s plus this value).
    type: int
    version_added: 0.1.0
    default: 120
  opportunistic_tries:
    description:
      - Number of creation attempts with opportunistic locking before a last, normal one, retried only when the
        destination answers C(temp_insufficient_resources). Needs an iallocator.
    type: int
    version_added: 0.1.0
    default: 0
  opportunistic_delay:
    description:
      - Seconds between opportunistic attempts, jittered by 15 percent.
    type: int
    version_added: 0.1.0
    default: 30
  timeout:
    description:
      - Overall deadline for the move in seconds, counted from the module's start. No job is submitted after it and
        no request outlives it. When it expires the module cancels its jobs that have not started, names each
        running one with its last status, and returns within 5 more seconds; running the same task again waits for
        those jobs, then finishes or repairs the move.
      - A move runs for as long as its data takes to copy; the source instance is shut down while the export
        runs.
      - With the task's C(async) or C(timeout) keyword (Ansible stops a task wherever it is when either runs out),
        the deadline is at most that keyword less 10 seconds, so that the move can still cancel and report its
        jobs; a warning says so when this option asked for more. With C(async) the C(timeout) keyword does not
        apply.
    type: int
    version_added: 0.1.0
    default: 3600
  cleanup:
    description:
      - After a failed move, remove an instance this run created on the destination that did not receive its
        data. Set to V(false) to keep it for debugging; the failure message then says where it is.
    type: bool
    version_added: 0.1.0
    default: true
notes:
  - Both clusters must share the same cluster domain secret, the source nodes must reach the destination nodes'
    primary IPs on TCP ports above 1024, and the OS definition must exist on the destination.
  - "O(source) and O(destination) are whole dictionaries for C(module_defaults): a task that sets
    O(destination) replaces the default's O(destination) entirely."
  - Verified connections offer TLS 1.2 with forward-secret AEAD cipher suites only, because Ganeti's RAPI server
    answers a TLS 1.3 request about 40 ms late (measured on Ganeti 3.0.2, 56 ms against 18 ms per request). A
    server that refuses TLS 1.2 is spoken to in TLS 1.3.
seealso:
  - ref: ansible_collections.ganeti.rapi.docsite.failures
    description: What each failure means, what the module did about it and what to do next.
  - ref: ansible_collections.ganeti.rapi.docsite.getting_started.preparing
    description: Preparing the clusters (domain secret, RAPI users, certificates) with the role
      P(ganeti.rapi.prepare_clusters#role).
  - ref: ansible_collections.ganeti.rapi.docsite.performance
    description: What C(make bench) measured, against C(move-instance) on the same clusters.
  - plugin: ganeti.rapi.instances
    plugin_type: inventory
  - name: Ganeti RAPI documentation
    description: The Remote API this module uses.
    link: https://docs.ganeti.org/docs/ganeti/3.0/html/rapi.html
  - name: move-instance
    description: Ganeti's own command line tool for the same move.
    link: https://docs.ganeti.org/docs/ganeti/3.0/html/move-instance.html
'''

EXAMPLES = r'''
- name: Move web1 from cluster A to cluster B
  ganeti.rapi.ganeti_move_instance:
    name: web1.example.org
    source:
      host: cluster-a.example.org
      username: mover
      password_file: /etc/ganeti-move/password
      ca_path: /etc/ganeti-move/cluster-a-rapi.pem
    destination:
      host: cluster-b.example.org
      ca_path: /etc/ganeti-move/cluster-b-rapi.pem
  delegate_to: localhost

- name: Move and rename onto a chosen node, keeping the source, with new NIC link and memory
  ganeti.rapi.ganeti_move_instance:
    name: db1.example.org
    destination_name: db1-new.example.org
    primary_node: node3.cluster-b.example.org
    keep_source: true
    beparams:
      maxmem: 2048
      minmem: 2048
    nics:
      - link: br-new
        mac: generate
    compress: gzip-fast
    source:
      host: cluster-a.example.org
      username: mover
      password: "{{ vault_rapi_password }}"
      ca_path: /etc/ganeti-move/cluster-a-rapi.pem
    destination:
      host: cluster-b.example.org
      ca_path: /etc/ganeti-move/cluster-b-rapi.pem
  delegate_to: localhost

- name: Connection settings once for all tasks of the action group
  module_defaults:
    group/ganeti.rapi.ganeti:
      source:
        host: cluster-a.example.org
        username: mover
        password_file: /etc/ganeti-move/password
        ca_path: /etc/ganeti-move/cluster-a-rapi.pem
      destination:
        host: cluster-b.example.org
        ca_path: /etc/ganeti-move/cluster-b-rapi.pem
  block:
    - name: Move the app servers one after the other
      ganeti.rapi.ganeti_move_instance:  # noqa: args[module]
        name: "{{ item }}"
      loop:
        - app1.example.org
        - app2.example.org
      delegate_to: localhost

- name: Move many instances in parallel with async, then wait for all of them
  ganeti.rapi.ganeti_move_instance:
    name: "{{ item }}"
    source: "{{ ganeti_source }}"
    destination: "{{ ganeti_destination }}"
  loop: "{{ instances_to_move }}"
  async: 3600
  poll: 0
  register: moves
  delegate_to: localhost

- name: Wait for every move started above
  ansible.builtin.async_status:
    jid: "{{ item.ansible_job_id }}"
  loop: "{{ moves.results }}"
  register: finished
  until: finished.finished
  retries: 360
  delay: 10
  delegate_to: localhost

# Inventory-driven: every instance is an inventory host of group "to_move";
# run with ansible-playbook -f 8 to move eight at a time.
- name: Move each inventory host's instance
  ganeti.rapi.ganeti_move_instance:
    name: "{{ inventory_hostname }}"
    source: "{{ ganeti_source }}"
    destination: "{{ ganeti_destination }}"
  delegate_to: localhost

- name: Preflight only (read-only; also run as ansible-playbook --check)
  ganeti.rapi.ganeti_move_instance:
    name: web1.example.org
    source: "{{ ganeti_source }}"
    destination: "{{ ganeti_destination }}"
  check_mode: true
  delegate_to: localhost

# Ad-hoc, with credentials from the environment (GANETI_USERNAME, GANETI_PASSWORD, ...):
#   ansible localhost -m ganeti.rapi.ganeti_move_instance \
#     -a 'name=web1.example.org source={"host":"cluster-a.example.org"} destination={"host":"cluster-b.example.org"}'
'''

RETURN = r'''
msg:
  description: What happened, in one sentence.
  returned: always
  type: str
  sample: web1.example.org moved to cluster-b.example.org as web1.example.org
state:
  description:
    - V(moved) this run moved the instance; the destination has it, the source copy is gone.
    - V(copied) this run copied the instance (O(keep_source)); both clusters have it.
    - V(already_moved) only the destination has the instance; nothing to do (see RV(evidence)).
    - V(already_copied) both clusters have the instance, O(keep_source) is set, and the destination instance is
      shown to be its copy (see RV(evidence)).
    - V(would_move) check mode, a run would move the instance.
    - V(would_copy) check mode, a run would copy the instance (O(keep_source)).
    - V(would_resume) check mode, an interrupted run left an incomplete copy that a run would remove before moving.
    - V(would_wait) check mode, another run's jobs are acting on the instance; a run would wait for them.
  returned: success
  type: str
  sample: moved
evidence:
  description:
    - What shows that the destination instance is this instance's copy, for V(moved), V(copied), V(already_moved)
      and V(already_copied).
    - V(jobs) the jobs of this or an earlier run's move of this instance (the create carries the certificate the
      source cluster's prepare-export made).
    - V(shape) the destination instance has the disks (count and sizes) and MAC addresses a move would give it.
    - V(none) nothing; no job of the move is listed any more and the source instance is gone. RV(msg) and the
      warnings then say that the claim is unverified.
  returned: success
  type: str
  sample: jobs
waited_for:
  description: Another run's jobs that acted on the instance and that this run waited for (same keys as RV(jobs)).
  returned: always
  type: list
  elements: dict
  sample: []
instance:
  description: The instance as found on the destination after the move (or before, in check mode when it is
    already there).
  returned: when the instance is on the destination
  type: dict
  contains:
    name:
      description: Instance name on the destination.
      type: str
      sample: web1.example.org
    cluster:
      description: Destination cluster name.
      type: str
      sample: cluster-b.example.org
    primary_node:
      description: Primary node on the destination.
      type: str
      sample: node1.cluster-b.example.org
    secondary_nodes:
      description: Secondary nodes on the destination.
      type: list
      elements: str
      sample: []
    disk_template:
      description: Disk template on the destination.
      type: str
      sample: file
    disk_sizes:
      description: Disk sizes in MiB.
      type: list
      elements: int
      sample: [1024]
    admin_state:
      description: Ganeti's admin state (V(up), V(down), V(offline)).
      type: str
      sample: up
    status:
      description: Ganeti's run status, for example V(running) or V(ADMIN_down).
      type: str
      sample: running
source:
  description: The source side as used (no credential is ever returned).
  returned: always
  type: dict
  contains:
    host:
      description: RAPI host.
      type: str
    cluster:
      description: Cluster name as its RAPI reports it.
      type: str
    port:
      description: RAPI port.
      type: int
    username:
      description: RAPI user.
      type: str
    ca_path:
      description: CA file used.
      type: str
    validate_certs:
      description: Whether the certificate was verified.
      type: bool
    tls:
      description: How the certificate was checked, V(pinned) (the exact certificate in O(source.ca_path)),
        V(verified) (chain and host name) or V(unverified); null when no request reached the side.
      type: str
    instance:
      description: Canonical name of the instance on this side.
      type: str
destination:
  description: The destination side as used, with the same keys as RV(source).
  returned: always
  type: dict
  contains:
    cluster:
      description: Destination cluster name as its RAPI reports it.
      type: str
    instance:
      description: Name of the instance on this side.
      type: str
jobs:
  description: The Ganeti jobs this run submitted, in order.
  returned: always
  type: list
  elements: dict
  contains:
    side:
      description: V(source) or V(destination).
      type: str
    id:
      description: Job id on that cluster.
      type: raw
    operation:
      description: V(instance-info), V(prepare-export), V(create), V(export), V(remove) or V(startup).
      type: str
    status:
      description: Final job status (V(success), V(error), V(canceled)) or the last one seen (V(queued),
        V(waiting), V(running)).
      type: str
steps:
  description: The steps this run went through and how long each took, in order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description:
        - Step name, one of
        - V(preflight) reading both clusters and checking the options against them;
        - V(wait for another run) following another run's jobs on the instance until they end;
        - V(remove earlier copy) removing the incomplete copy an interrupted run left on the destination;
        - V(prepare) the source's prepare-export job;
        - V(create) the destination's remote-import create, until it publishes its endpoints
          (V(create (attempt 2)) and so on for O(opportunistic_tries));
        - V(export) the source's export job sending the disks;
        - V(import) the end of the destination's import;
        - V(verify) comparing the copy with the source and removing or starting instances.
      type: str
      sample: preflight
    seconds:
      description: Duration.
      type: float
start_ts:
  description: When the move started (seconds since the epoch); its deadline is this plus O(timeout), and no job
    of this run is received by a cluster after it (compare with the jobs' own C(received_ts) on the clusters).
  returned: always
  type: float
  sample: 1795477559.25
duration:
  description: Seconds the module ran.
  returned: always
  type: float
  sample: 11.2
side:
  description:
    - On failure, where it failed.
    - V(source) or V(destination) the cluster that failed or refused.
    - V(both) a check of both clusters together (for example the instance exists on both).
    - V(input) the task's options (no cluster was changed).
    - V(controller) this module itself hit an unexpected error; RV(msg) names it and the traceback is in
      C(exception) with C(-vvv).
  returned: failed
  type: str
step:
  description:
    - On failure, the step that failed, one of the RV(steps[].name) values, or V(arguments) when an option is
      invalid.
  returned: failed
  type: str
job_id:
  description: On failure, the Ganeti job that failed, if any.
  returned: failed
  type: raw
ganeti_error:
  description: On failure, Ganeti's own error text, if any.
  returned: failed
  type: str
diff:
  description:
    - In diff mode (C(--diff)), the instance before the move (on the source) and after it (on the destination),
      with the keys the C(diff_mode) attribute lists. Ansible prints it; it is not meant to be read by tasks.
  returned: in diff mode, when the instance moves or would move
  type: dict
  contains:
    before:
      description: The instance on the source cluster.
      type: dict
    after:
      description: The instance as it is (or would be) on the destination cluster.
      type: dict
changed:
  description: True when this run created, removed, started or stopped anything (or left a job running that
    will), also when it failed.
  returned: always
  type: bool
recovery:
  description: On failure, what the module did to leave both clusters clean, and the last status seen of each
    of its jobs that still runs.
  returned: failed
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.ganeti.rapi.plugins.module_utils.move_options import RULES, argument_spec
from ansible_collections.ganeti.rapi.plugins.module_utils.move_task import MoveTask
from ansible_collections.ganeti.rapi.plugins.module_utils.rapi_client import HAS_REQUESTS, REQUESTS_IMPORT_ERROR


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, **RULES)
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=str(REQUESTS_IMPORT_ERROR))
    task = MoveTask(module.params, check_mode=module.check_mode, diff=module._diff)
    task.run()
    # Passwords from files or the environment are unknown to Ansible's no_log: mask them too.
    module.no_log_values.update(task.secrets)
    for warning in task.warnings:
        module.warn(warning)
    if task.failed:
        module.fail_json(**task.result)
    module.exit_json(**task.result)


if __name__ == "__main__":
    main()
