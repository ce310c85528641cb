# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Running the inventory plugin as ansible-inventory does, without a subprocess.

The plugin is loaded by its FQCN through Ansible's plugin loader (its
options, cache key and name checks need what the loader sets), and parses
a real ``*.ganeti.yml`` file into a real InventoryData.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import yaml

from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader, inventory_loader
from ansible.utils.collection_loader import AnsibleCollectionConfig

import ansible_collections.ganeti.rapi as _collection

PLUGIN = "ganeti.rapi.instances"


def ensure_collection_loader():
    """ansible-test units installs Ansible's collection finder; a plain pytest run needs it done here."""
    if AnsibleCollectionConfig.collection_finder is None:
        root = os.path.dirname(os.path.dirname(os.path.dirname(list(_collection.__path__)[0])))
        init_plugin_loader([root])
        if getattr(_collection, "_collection_meta", None) is None:
            # imported from PYTHONPATH before the finder existed, so nobody read meta/runtime.yml; the plugin
            # loader only needs routing metadata, and this collection redirects nothing
            _collection._collection_meta = {}


def write_config(directory, name="cluster-a.ganeti.yml", **options):
    """An inventory file for the plugin with ``options``; returns its path."""
    config = {"plugin": PLUGIN}
    config.update(options)
    path = os.path.join(str(directory), name)
    with open(path, "w") as handle:
        handle.write(yaml.safe_dump(config))
    return path


def load_plugin():
    ensure_collection_loader()
    plugin = inventory_loader.get(PLUGIN)
    assert plugin is not None, "the plugin %s is not found" % PLUGIN
    return plugin


def parse(path, cache=True, plugin=None):
    """Parse ``path`` as ansible-inventory does (then persist the cache); returns (inventory, plugin)."""
    plugin = plugin or load_plugin()
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), path, cache=cache)
    try:
        plugin.update_cache_if_changed()
    except AttributeError:  # no cache configured (ansible-core 2.19+ has no _cache then)
        pass
    inventory.reconcile_inventory()
    return inventory, plugin


def groups_of(inventory):
    """{group: sorted host names}, without the implicit all/ungrouped."""
    return dict((name, sorted(host.name for host in group.get_hosts()))
                for name, group in inventory.groups.items() if name not in ("all", "ungrouped"))
