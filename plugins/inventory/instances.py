# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: instances
short_description: Ganeti instances of one cluster, read over its RAPI
version_added: 0.2.0
description:
  - Makes every instance of one Ganeti cluster an inventory host named after the instance, with its facts as
    host variables C(ganeti_*), in the group O(group) and in a group per tag of the form C(KEY:VALUE).
  - Reads, per refresh, the cluster (C(GET /2/info)) and every instance in one bulk request
    (C(GET /2/instances?bulk=1)), two requests however many instances there are; every RAPI user may read both.
  - "The configuration file must be named C(*.ganeti.yml) or C(*.ganeti.yaml) and contain
    C(plugin: ganeti.rapi.instances)."
  - "The hosts are the instances (virtual machines): the plugin sets no connection variables.
    M(ganeti.rapi.ganeti_move_instance) and the playbook C(ganeti.rapi.move_instances) run on the controller (C(delegate_to: localhost)); to reach
    the instances themselves over SSH, set C(ansible_host) with O(compose), for example from C(ganeti_nic_ips)."
  - "Host variables: C(ganeti_name); C(ganeti_uuid); C(ganeti_cluster) (the cluster's name, as its RAPI reports
    it); C(ganeti_hypervisor) (the instance's hypervisor: the cluster's only enabled one, else the enabled one
    whose parameter names the instance's parameters have; V(null) if that is ambiguous); C(ganeti_primary_node);
    C(ganeti_secondary_nodes) (list); C(ganeti_os); C(ganeti_disk_template); C(ganeti_disk_sizes) (MiB, list);
    C(ganeti_nic_macs), C(ganeti_nic_ips), C(ganeti_nic_networks) (network names, V(null) for a NIC outside any
    network), C(ganeti_nic_modes), C(ganeti_nic_links) (lists, one item per NIC); C(ganeti_tags) (sorted list);
    C(ganeti_tag_values) (dict: the tags C(KEY:VALUE) as KEY to the sorted list of its VALUEs, split at the first
    colon); C(ganeti_admin_state) (C(up), C(down) or C(offline)); C(ganeti_status) (Ganeti's status such as
    C(running) or C(ADMIN_down)); C(ganeti_oper_state) (bool: running now); C(ganeti_memory) and C(ganeti_vcpus)
    (the effective C(maxmem) in MiB and C(vcpus)); C(ganeti_beparams), C(ganeti_hvparams), C(ganeti_osparams)
    (the instance's own parameters, without the cluster's defaults; C(ganeti_osparams) only from Ganeti 3.1 on,
    whose RAPI lists them)."
  - Every string the API returns is marked unsafe, so a tag or name that looks like a template is never run.
requirements:
  - requests
extends_documentation_fragment:
  - ganeti.rapi.connection.plugin
  - constructed
  - inventory_cache
options:
  plugin:
    description:
      - The name of this plugin; marks the file as its configuration.
    type: str
    required: true
    choices: [ganeti.rapi.instances]
  group:
    description:
      - Group that every listed instance joins; the default is the group the playbook C(ganeti.rapi.move_instances)
        moves.
      - An empty string adds no such group.
    type: str
    default: ganeti_instances
  tag_groups:
    description:
      - Put an instance with a tag C(KEY:VALUE) into the group C(KEY_VALUE), so that
        C(gnt-instance add-tags web1 wave:3) puts C(web1) into the group C(wave_3).
      - The tag is split at its first colon; a tag without a colon, or with an empty KEY or VALUE, makes no group.
      - Characters not allowed in group names (C(.), C(-), C(+), C(*), C(/), C(@), C(:) and a leading digit) become
        C(_), as Ansible's own sanitising does, so C(wave:3) ends up in C(wave_3), C(web.tier:a-b) in
        C(web_tier_a_b), and C(3:x) in C(__x).
      - For other group names use O(keyed_groups) on C(ganeti_tags) or C(ganeti_tag_values).
    type: bool
    default: true
  filters:
    description:
      - Only instances that match every filter given become hosts; a filter not given (or an empty list)
        matches every instance.
      - The listing is cached unfiltered, so changing the filters needs no refresh.
    type: dict
    default: {}
    suboptions:
      tags:
        description:
          - Tags the instance must all have, for example V(wave:3).
        type: list
        elements: str
      exclude_tags:
        description:
          - Instances with any of these tags are left out.
        type: list
        elements: str
      states:
        description:
          - The instance's C(ganeti_status) or C(ganeti_admin_state) must be one of these.
          - Statuses are C(running), C(ADMIN_down), C(ADMIN_offline), C(ERROR_down), C(ERROR_up), C(ERROR_nodedown),
            C(ERROR_nodeoffline), C(ERROR_wrongnode), C(USER_down); admin states are C(up), C(down), C(offline).
            Any other value is refused.
        type: list
        elements: str
      nodes:
        description:
          - The instance's primary node must match one of these shell-style patterns (Python's C(fnmatch), case
            sensitive), for example V(node1.example.org) or V(node1.*).
        type: list
        elements: str
      os:
        description:
          - The instance's OS must be one of these; V(debootstrap) also matches its variants such as
            C(debootstrap+default).
        type: list
        elements: str
      names:
        description:
          - The instance's name must match one of these shell-style patterns (Python's C(fnmatch), case
            sensitive), for example V(web*).
        type: list
        elements: str
      exclude_names:
        description:
          - Instances whose name matches any of these shell-style patterns are left out.
        type: list
        elements: str
'''

EXAMPLES = r'''
# A file cluster-a.ganeti.yml with only what is needed: every instance of the cluster in the group
# ganeti_instances, tags KEY:VALUE as groups, the password from GANETI_SOURCE_PASSWORD or GANETI_PASSWORD:
#
#   plugin: ganeti.rapi.instances
#   host: cluster-a.example.org
#   username: migration
#   ca_path: /etc/ganeti-migration/cluster-a.pem
#
# Then the third wave is one tag away, and moves with the shipped playbook (clusters.yml sets
# move_instances_source and move_instances_destination):
#
#   gnt-instance add-tags web1.example.org wave:3
#   ansible-inventory -i cluster-a.ganeti.yml --graph wave_3
#   ansible-playbook ganeti.rapi.move_instances -i cluster-a.ganeti.yml -e move_instances_hosts=wave_3 -e @clusters.yml

# A file web.ganeti.yml: running instances on two nodes named web*, without the tag keep:yes, in the group
# web_servers; more groups and variables; the listing cached for ten minutes
plugin: ganeti.rapi.instances
host: cluster-a.example.org
username: migration
password_file: /etc/ganeti-migration/cluster-a.password
ca_path: /etc/ganeti-migration/cluster-a.pem
filters:
  states: [running]
  nodes: [node1.example.org, node2.example.org]
  names: ["web*"]
  exclude_tags: ["keep:yes"]
group: web_servers
keyed_groups:
  # wave_3 from the tag wave:3, also with tag_groups off
  - key: ganeti_tag_values.wave | default([])
    prefix: wave
  # node_node1_example_org
  - key: ganeti_primary_node
    prefix: node
groups:
  big: ganeti_memory >= 4096
compose:
  # left unset for an instance without an IP address
  ansible_host: ganeti_nic_ips | select | first
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/ganeti-inventory
cache_timeout: 600
'''

import fnmatch
import os
from contextlib import contextmanager

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.display import Display
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.ganeti.rapi.plugins.module_utils.connection_options import (
    SECRETS, SETTINGS, ConnectionOptionError, env_names, make_client, resolve_side,
)
from ansible_collections.ganeti.rapi.plugins.module_utils.rapi_client import HAS_REQUESTS, RapiError

display = Display()

SIDE = "source"  # the module's side whose options and environment variables the plugin shares
STATUSES = ("running", "ADMIN_down", "ADMIN_offline", "ERROR_down", "ERROR_up", "ERROR_nodedown",
            "ERROR_nodeoffline", "ERROR_wrongnode", "USER_down")
ADMIN_STATES = ("up", "down", "offline")
FILTERS = ("tags", "exclude_tags", "states", "nodes", "os", "names", "exclude_names")


@contextmanager
def _empty_env_unset(names):
    """Hide environment variables set to "" while Ansible reads the options.

    The module treats an empty variable as unset (AWX injects empty fields
    so); Ansible's configuration would take "" as a value (and fail on it for
    port or validate_certs), or let an empty GANETI_SOURCE_USERNAME hide
    GANETI_USERNAME.
    """
    hidden = dict((name, os.environ[name]) for name in names if os.environ.get(name) == "")
    for name in hidden:
        del os.environ[name]
    try:
        yield
    finally:
        os.environ.update(hidden)


def _option_error(exc):
    """ConnectionOptionError text in this plugin's terms: flat options, not the module's ``source.X``."""
    text = to_native(exc)
    for setting in SETTINGS:
        text = text.replace("%s.%s" % (SIDE, setting), setting)
    if text.startswith(SIDE + ": "):
        text = text[len(SIDE) + 2:]
    return text


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else []


def tag_values(tags):
    """{KEY: sorted VALUEs} of the tags KEY:VALUE (split at the first colon; empty KEY or VALUE skipped)."""
    values = {}
    for tag in tags:
        key, sep, value = tag.partition(":")
        if sep and key and value:
            values.setdefault(key, []).append(value)
    return dict((key, sorted(items)) for key, items in values.items())


def hypervisor_of(row, cluster):
    """The instance's hypervisor, which the bulk listing lacks, from the cluster's ``/2/info``.

    Every hypervisor has its own set of parameters, and the listing has the instance's full set (``hvparams``,
    the cluster's defaults filled in): the enabled hypervisor with exactly those names is the instance's.
    """
    enabled = cluster.get("enabled_hypervisors") or []
    if len(enabled) == 1:
        return enabled[0]
    names = set(row.get("hvparams") or {})
    defaults = cluster.get("hvparams") or {}
    found = [name for name in enabled if set(defaults.get(name) or {}) == names]
    return found[0] if len(found) == 1 else None


def host_vars(row, cluster):
    """The host variables of one /2/instances?bulk=1 row (RAPI field names of Ganeti 3.0 and 3.1); ``cluster``:
    the cluster's /2/info."""
    beparams = row.get("beparams") or {}
    tags = sorted(row.get("tags") or [])
    facts = {
        "ganeti_name": row["name"],
        "ganeti_uuid": row.get("uuid"),
        "ganeti_cluster": cluster.get("name"),
        "ganeti_hypervisor": hypervisor_of(row, cluster),
        "ganeti_primary_node": row.get("pnode"),
        "ganeti_secondary_nodes": _as_list(row.get("snodes")),
        "ganeti_os": row.get("os"),
        "ganeti_disk_template": row.get("disk_template"),
        "ganeti_disk_sizes": _as_list(row.get("disk.sizes")),
        "ganeti_nic_macs": _as_list(row.get("nic.macs")),
        "ganeti_nic_ips": _as_list(row.get("nic.ips")),
        "ganeti_nic_networks": _as_list(row.get("nic.networks.names")),
        "ganeti_nic_modes": _as_list(row.get("nic.modes")),
        "ganeti_nic_links": _as_list(row.get("nic.links")),
        "ganeti_tags": tags,
        "ganeti_tag_values": tag_values(tags),
        "ganeti_admin_state": row.get("admin_state"),
        "ganeti_status": row.get("status"),
        "ganeti_oper_state": row.get("oper_state"),
        "ganeti_memory": beparams.get("maxmem", beparams.get("memory")),
        "ganeti_vcpus": beparams.get("vcpus"),
        "ganeti_beparams": row.get("custom_beparams") or {},
        "ganeti_hvparams": row.get("custom_hvparams") or {},
    }
    if "custom_osparams" in row:  # Ganeti 3.1 and later
        facts["ganeti_osparams"] = row.get("custom_osparams") or {}
    return facts


def check_filters(filters):
    """The filters option, each value a list of strings; unknown keys and states refused."""
    if filters is None:
        return {}
    if not isinstance(filters, dict):
        raise AnsibleParserError("filters must be a dictionary with the keys %s" % ", ".join(FILTERS))
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        raise AnsibleParserError("unknown filter(s) %s; the filters are: %s" % (", ".join(unknown), ", ".join(FILTERS)))
    checked = {}
    for key, value in filters.items():
        if value is None or (isinstance(value, (list, tuple)) and not value):
            continue  # an empty list (say, templated from an empty variable) is a filter not given
        if isinstance(value, (str, int, float)):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise AnsibleParserError("filters.%s must be a list of strings" % key)
        checked[key] = [to_native(item) for item in value]
    bad = [state for state in checked.get("states", []) if state not in STATUSES + ADMIN_STATES]
    if bad:
        raise AnsibleParserError("unknown state(s) %s in filters.states; the states are: %s"
                                 % (", ".join(bad), ", ".join(STATUSES + ADMIN_STATES)))
    return checked


def _matches_any(value, patterns):
    return value is not None and any(fnmatch.fnmatchcase(value, pattern) for pattern in patterns)


def passes(facts, filters):
    """Whether an instance's facts match every filter given."""
    tags = set(facts["ganeti_tags"])
    if "tags" in filters and not set(filters["tags"]) <= tags:
        return False
    if tags & set(filters.get("exclude_tags", ())):
        return False
    if "states" in filters and not ({facts["ganeti_status"], facts["ganeti_admin_state"]} & set(filters["states"])):
        return False
    if "nodes" in filters and not _matches_any(facts["ganeti_primary_node"], filters["nodes"]):
        return False
    if "os" in filters:
        os_name = facts["ganeti_os"] or ""
        if os_name not in filters["os"] and os_name.partition("+")[0] not in filters["os"]:
            return False
    if "names" in filters and not _matches_any(facts["ganeti_name"], filters["names"]):
        return False
    if _matches_any(facts["ganeti_name"], filters.get("exclude_names", ())):
        return False
    return True


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):

    NAME = "ganeti.rapi.instances"

    def verify_file(self, path):
        if super(InventoryModule, self).verify_file(path) and path.endswith((".ganeti.yml", ".ganeti.yaml")):
            return True
        display.vvv("ganeti.rapi.instances: skipping %s, whose name does not end in .ganeti.yml or .ganeti.yaml"
                    % path)
        return False

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        names = set(name for setting in SETTINGS for name in env_names(SIDE, setting))
        with _empty_env_unset(names):
            config = self._read_config_data(path)
        filters = check_filters(self.get_option("filters"))
        settings = self._connection_settings(config)

        use_cache = self.get_option("cache")
        # the cluster in the key: a file pointed at another cluster never reads the old cluster's listing
        key = self.get_cache_key("%s|%s:%s" % (path, settings["host"], settings["port"]))
        listing = None
        update = False
        if use_cache and cache:
            try:
                listing = self._cache[key]
            except KeyError:
                update = True
        elif use_cache:
            update = True  # a refresh (--flush-cache, meta: refresh_inventory) replaces the cached listing
        if listing is None:
            listing = self._fetch(settings)
        if update:
            self._cache[key] = listing
        self._populate(listing["instances"], listing["cluster"], filters)

    def _connection_settings(self, config):
        """The connection settings resolved as the module resolves its source."""
        given = dict((setting, self.get_option(setting)) for setting in SETTINGS)
        for secret in SECRETS:
            if config.get(secret) in (None, ""):
                # from the environment: resolve_side takes it, unless the file gives the other one
                given[secret] = None
        try:
            return resolve_side(SIDE, given)
        except ConnectionOptionError as exc:
            raise AnsibleParserError("ganeti.rapi.instances: %s" % _option_error(exc))

    def _fetch(self, settings):
        if not HAS_REQUESTS:
            raise AnsibleParserError("ganeti.rapi.instances needs the Python library requests on the controller")
        where = "%s:%s" % (settings["host"], settings["port"])
        try:
            client = make_client(SIDE, settings)
            cluster = client.cluster_info()
            rows = client.instances()
        except RapiError as exc:
            # RapiError's text names the request and the hint, never a credential
            raise AnsibleParserError("ganeti.rapi.instances: cannot list the instances of %s: %s"
                                     % (where, to_native(exc)))
        if not isinstance(cluster, dict) or not cluster.get("name"):
            raise AnsibleParserError("ganeti.rapi.instances: %s answered GET /2/info with something other than a "
                                     "cluster's information" % where)
        if not isinstance(rows, list) or not all(isinstance(row, dict) and row.get("name") for row in rows):
            raise AnsibleParserError("ganeti.rapi.instances: %s answered GET /2/instances?bulk=1 with something "
                                     "other than a list of instances" % where)
        return {"cluster": cluster, "instances": rows}

    def _populate(self, rows, cluster, filters):
        strict = self.get_option("strict")
        group = self.get_option("group")
        if group:
            group = self.inventory.add_group(self._sanitize_group_name(group))
        for row in sorted(rows, key=lambda item: item["name"]):
            facts = host_vars(row, cluster)
            if not passes(facts, filters):
                continue
            # API data is untrusted: never templated, on ansible-core 2.16 too
            facts = wrap_var(facts)
            name = facts["ganeti_name"]
            self.inventory.add_host(name)
            if group:
                self.inventory.add_child(group, name)
            for var, value in facts.items():
                self.inventory.set_variable(name, var, value)
            if self.get_option("tag_groups"):
                for key, values in sorted(facts["ganeti_tag_values"].items()):
                    for value in values:
                        tag_group = self.inventory.add_group(self._sanitize_group_name("%s_%s" % (key, value)))
                        self.inventory.add_child(tag_group, name)
            # the expressions see the host's variables so far (inventory_hostname, group_names, the facts)
            variables = self.inventory.get_host(name).get_vars()
            try:
                self._set_composite_vars(self.get_option("compose"), variables, name, strict=strict)
                self._add_host_to_composed_groups(self.get_option("groups"), variables, name, strict=strict)
                self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, name, strict=strict)
            except AnsibleError as exc:
                raise AnsibleParserError("ganeti.rapi.instances: instance %s: %s" % (name, to_native(exc)))
