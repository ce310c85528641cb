# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The inventory plugin ganeti.rapi.instances against a local HTTPS server that answers like Ganeti's RAPI.

Each test parses a real ``*.ganeti.yml`` through Ansible's plugin loader
and checks the hosts, groups and host variables a play would see, and the
requests the server got.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import os
from unittest.mock import patch

import pytest
import yaml

from ansible.errors import AnsibleOptionsError, AnsibleParserError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

try:
    from ansible.template import trust_as_template as trusted  # ansible-core 2.19+: a playbook's text
except ImportError:  # 2.16: every string is a template unless marked unsafe

    def trusted(text):
        return text

from ansible_collections.ganeti.rapi.tests.unit.plugins.inventory.inventory_helpers import (
    groups_of, load_plugin, parse, write_config,
)
from ansible_collections.ganeti.rapi.tests.unit.plugins.module_utils.local_https import (
    RapiTestServer, free_port, have_openssl, make_certificates,
)

PASSWORD = "inventory-SECRET-pw-7"
SETTING_NAMES = ("HOST", "PORT", "USERNAME", "PASSWORD", "PASSWORD_FILE", "CA_PATH", "VALIDATE_CERTS",
                 "REQUEST_TIMEOUT")
ENV_NAMES = ["GANETI_SOURCE_%s" % name for name in SETTING_NAMES]
ENV_NAMES += ["GANETI_USERNAME", "GANETI_PASSWORD"]


def row(name, pnode="node1.a.test", status="running", admin_state="up", tags=(), os_name="noop", osparams=None,
        **extra):
    """One GET /2/instances?bulk=1 item as Ganeti 3.0 sends it (osparams: add 3.1's custom_osparams)."""
    item = {
        "name": name, "uuid": "uuid-" + name, "admin_state": admin_state, "status": status,
        "oper_state": status == "running", "os": os_name, "pnode": pnode, "snodes": [],
        "disk_template": "file", "disk.sizes": [1024, 256], "disk_usage": 1280,
        "nic.macs": ["aa:00:00:00:00:01"], "nic.ips": ["192.0.2.10"], "nic.networks": ["net-uuid-1"],
        "nic.networks.names": ["net1"], "nic.modes": ["bridged"], "nic.links": ["br0"],
        "beparams": {"maxmem": 2048, "minmem": 2048, "memory": 2048, "vcpus": 2, "auto_balance": True},
        "hvparams": {"kernel_path": "/boot/vmlinuz"}, "custom_beparams": {"maxmem": 2048},
        "custom_hvparams": {}, "custom_nicparams": [{}], "tags": list(tags), "ctime": 1.0, "mtime": 2.0,
        "serial_no": 3, "network_port": None, "oper_ram": 2048, "oper_vcpus": 2,
    }
    if osparams is not None:
        item["custom_osparams"] = osparams
    item.update(extra)
    return item


ROWS = [
    row("web1.a.test", tags=["wave:3", "role:web"]),
    row("web2.a.test", pnode="node2.a.test", tags=["wave:4", "role:web"], os_name="debootstrap+default"),
    row("db1.a.test", status="ADMIN_down", admin_state="down", tags=["role:db", "keep"]),
]


# GET /2/info of a cluster with two hypervisors: the instances' hvparams above are xen-pvm's
INFO = {"name": "cluster-a.test", "enabled_hypervisors": ["kvm", "xen-pvm"], "default_hypervisor": "kvm",
        "hvparams": {"kvm": {"kernel_path": "/boot/vmlinuz", "kvm_flag": "enabled"},
                     "xen-pvm": {"kernel_path": "/boot/vmlinuz-xen"}}}


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    if not have_openssl():
        pytest.skip("the openssl command is needed to make test certificates")
    return make_certificates(str(tmp_path_factory.mktemp("certs")))


@pytest.fixture
def server(certs):
    """The RAPI-like server with Ganeti's kind of self-signed certificate, listing ROWS."""
    crt, key = certs["rapi"]
    rapi = RapiTestServer(crt, key).start()
    rapi.route("GET", "/2/instances", body=ROWS)
    rapi.route("GET", "/2/info", body=INFO)
    yield rapi
    rapi.stop()


@pytest.fixture(autouse=True)
def clean_env():
    """No GANETI_* variable of the test runner's environment leaks in."""
    with patch.dict(os.environ, {}):
        for name in ENV_NAMES:
            os.environ.pop(name, None)
        yield os.environ


@pytest.fixture
def pw_file(tmp_path):
    path = tmp_path / "rapi.password"
    path.write_text(PASSWORD + "\n")
    return str(path)


@pytest.fixture
def config(tmp_path, server, certs, pw_file):
    """write(**options): an inventory file for the server, with credentials and its certificate pinned."""
    def write(name="cluster-a.ganeti.yml", **options):
        settings = {"host": "127.0.0.1", "port": server.port, "username": "lab", "password_file": pw_file,
                    "ca_path": certs["rapi"][0]}
        settings.update(options)
        for key in [key for key, value in settings.items() if value is None]:
            del settings[key]
        return write_config(tmp_path, name=name, **settings)
    return write


def instance_requests(server):
    return [req for req in server.requests if req.path == "/2/instances"]


def hostvars(inventory, name):
    return inventory.get_host(name).get_vars()


# ---------------------------------------------------------------- files, hosts, variables

@pytest.mark.parametrize("name, accepted", [
    ("a.ganeti.yml", True), ("a.ganeti.yaml", True), ("ganeti.yml", False), ("a.yml", False),
    ("a.ganeti.yml.bak", False), ("a-ganeti.yml", False),
])
def test_only_ganeti_yml_files_are_for_the_plugin(tmp_path, name, accepted):
    path = write_config(tmp_path, name=name, host="127.0.0.1")
    assert load_plugin().verify_file(path) is accepted


def test_a_file_for_another_plugin_is_refused(tmp_path):
    path = write_config(tmp_path, plugin="ganeti.rapi.other", host="127.0.0.1")
    with pytest.raises(AnsibleParserError, match="Incorrect plugin name"):
        parse(path)


def test_every_instance_becomes_a_host_from_one_bulk_request(config, server):
    inventory, _plugin = parse(config())
    assert sorted(inventory.hosts) == ["db1.a.test", "web1.a.test", "web2.a.test"]
    info, req = server.requests  # the cluster, then every instance at once
    assert (info.method, info.path) == ("GET", "/2/info")
    assert (req.method, req.path, req.query) == ("GET", "/2/instances", {"bulk": ["1"]})
    expected = "Basic " + base64.b64encode(("lab:%s" % PASSWORD).encode()).decode()
    assert req.headers["authorization"] == expected


def test_host_variables_are_the_instance_facts(config):
    inventory, _plugin = parse(config())
    assert hostvars(inventory, "web2.a.test") == {
        "inventory_file": hostvars(inventory, "web2.a.test")["inventory_file"],
        "inventory_dir": hostvars(inventory, "web2.a.test")["inventory_dir"],
        "inventory_hostname": "web2.a.test", "inventory_hostname_short": "web2",
        "group_names": hostvars(inventory, "web2.a.test")["group_names"],
        "ganeti_name": "web2.a.test", "ganeti_uuid": "uuid-web2.a.test", "ganeti_cluster": "cluster-a.test",
        "ganeti_hypervisor": "xen-pvm",
        "ganeti_primary_node": "node2.a.test", "ganeti_secondary_nodes": [], "ganeti_os": "debootstrap+default",
        "ganeti_disk_template": "file", "ganeti_disk_sizes": [1024, 256], "ganeti_nic_macs": ["aa:00:00:00:00:01"],
        "ganeti_nic_ips": ["192.0.2.10"], "ganeti_nic_networks": ["net1"], "ganeti_nic_modes": ["bridged"],
        "ganeti_nic_links": ["br0"], "ganeti_tags": ["role:web", "wave:4"],
        "ganeti_tag_values": {"role": ["web"], "wave": ["4"]}, "ganeti_admin_state": "up",
        "ganeti_status": "running", "ganeti_oper_state": True, "ganeti_memory": 2048, "ganeti_vcpus": 2,
        "ganeti_beparams": {"maxmem": 2048}, "ganeti_hvparams": {},
    }


@pytest.mark.parametrize("enabled, hvparams, expected", [
    (["kvm"], {"anything": 1}, "kvm"),  # the only hypervisor the cluster has
    (["kvm", "xen-pvm"], {"kernel_path": "x", "kvm_flag": ""}, "kvm"),
    (["kvm", "xen-pvm"], {"kernel_path": "x"}, "xen-pvm"),
    (["kvm", "xen-pvm"], {"other": "x"}, None),  # matches neither: unknown rather than a guess
])
def test_the_hypervisor_comes_from_the_cluster_parameters(config, server, enabled, hvparams, expected):
    server.route("GET", "/2/info", body=dict(INFO, enabled_hypervisors=enabled))
    server.route("GET", "/2/instances", body=[row("x.a.test", hvparams=hvparams)])
    inventory, _plugin = parse(config())
    assert hostvars(inventory, "x.a.test")["ganeti_hypervisor"] == expected
    assert [req.path for req in server.requests] == ["/2/info", "/2/instances"]  # two, however many instances


def test_os_parameters_only_where_ganeti_lists_them(config, server):
    """Ganeti 3.0 has no custom_osparams in the bulk listing: no variable rather than a wrong empty one."""
    server.route("GET", "/2/instances", body=[row("old.a.test"), row("new.a.test", osparams={"dhcp": "yes"})])
    inventory, _plugin = parse(config())
    assert "ganeti_osparams" not in hostvars(inventory, "old.a.test")
    assert hostvars(inventory, "new.a.test")["ganeti_osparams"] == {"dhcp": "yes"}


def test_api_strings_are_never_templated(config, server):
    """A parameter value that looks like a template stays literal when a play uses it (2.16 included)."""
    server.route("GET", "/2/instances", body=[row("x.a.test", custom_hvparams={"kernel_args": "{{ 6 * 7 }}"})])
    inventory, _plugin = parse(config())
    variables = hostvars(inventory, "x.a.test")
    templar = Templar(loader=DataLoader(), variables=variables)
    assert str(templar.template(trusted("{{ 6 * 7 }}"))) == "42"  # a playbook's own template runs
    assert templar.template(trusted("{{ ganeti_hvparams.kernel_args }}")) == "{{ 6 * 7 }}"


# ---------------------------------------------------------------- groups

def test_default_group_and_tag_groups(config):
    inventory, _plugin = parse(config())
    assert groups_of(inventory) == {
        "ganeti_instances": ["db1.a.test", "web1.a.test", "web2.a.test"],
        "wave_3": ["web1.a.test"], "wave_4": ["web2.a.test"],
        "role_web": ["web1.a.test", "web2.a.test"], "role_db": ["db1.a.test"],
    }


def test_tag_group_names_are_sanitised(config, server):
    tags = ["wave:3", "wave-3", "3:x", "a.b:c-d", "site:fra@1", "k:v:w", ":novalue", "nokey:", "plain"]
    server.route("GET", "/2/instances", body=[row("t.a.test", tags=tags)])
    inventory, _plugin = parse(config())
    assert sorted(groups_of(inventory)) == ["__x", "a_b_c_d", "ganeti_instances", "k_v_w", "site_fra_1", "wave_3"]
    assert hostvars(inventory, "t.a.test")["ganeti_tag_values"] == {
        "wave": ["3"], "3": ["x"], "a.b": ["c-d"], "site": ["fra@1"], "k": ["v:w"]}


def test_group_and_tag_groups_can_be_turned_off(config):
    inventory, _plugin = parse(config(group="", tag_groups=False))
    assert groups_of(inventory) == {}
    assert sorted(inventory.hosts) == ["db1.a.test", "web1.a.test", "web2.a.test"]


def test_other_group_name(config):
    inventory, _plugin = parse(config(group="cluster-a", tag_groups=False))
    assert groups_of(inventory) == {"cluster_a": ["db1.a.test", "web1.a.test", "web2.a.test"]}


def test_constructed_options(config):
    inventory, _plugin = parse(config(
        tag_groups=False,
        compose={"ansible_host": "ganeti_nic_ips | first", "wave": "ganeti_tag_values.wave | default(['0']) | first",
                 "short": "inventory_hostname_short"},  # the host's own variables too, not only the facts
        groups={"big": "ganeti_memory >= 2048 and ganeti_status == 'running'"},
        keyed_groups=[{"key": "ganeti_tag_values.wave | default([])", "prefix": "wave"},
                      {"key": "ganeti_primary_node", "prefix": "node"},
                      {"key": "ganeti_tags", "prefix": "tag"}],
    ))
    assert groups_of(inventory) == {
        "ganeti_instances": ["db1.a.test", "web1.a.test", "web2.a.test"],
        "big": ["web1.a.test", "web2.a.test"],
        "wave_3": ["web1.a.test"], "wave_4": ["web2.a.test"],
        "node_node1_a_test": ["db1.a.test", "web1.a.test"], "node_node2_a_test": ["web2.a.test"],
        "tag_wave_3": ["web1.a.test"], "tag_wave_4": ["web2.a.test"], "tag_role_web": ["web1.a.test", "web2.a.test"],
        "tag_role_db": ["db1.a.test"], "tag_keep": ["db1.a.test"],
    }
    assert hostvars(inventory, "web1.a.test")["ansible_host"] == "192.0.2.10"
    assert str(hostvars(inventory, "web1.a.test")["wave"]) == "3"
    assert str(hostvars(inventory, "db1.a.test")["wave"]) == "0"
    assert hostvars(inventory, "web1.a.test")["short"] == "web1"


def test_strict_reports_the_instance_of_a_broken_expression(config):
    with pytest.raises(AnsibleParserError, match="instance db1.a.test"):
        parse(config(strict=True, compose={"wave": "ganeti_tag_values.wave | first"}))
    inventory, _plugin = parse(config(strict=False, compose={"wave": "ganeti_tag_values.wave | first"}))
    assert "wave" not in hostvars(inventory, "db1.a.test")
    assert str(hostvars(inventory, "web1.a.test")["wave"]) == "3"


# ---------------------------------------------------------------- filters

@pytest.mark.parametrize("filters, hosts", [
    ({}, ["db1.a.test", "web1.a.test", "web2.a.test"]),
    ({"tags": ["wave:3"]}, ["web1.a.test"]),
    ({"tags": ["role:web", "wave:4"]}, ["web2.a.test"]),
    ({"tags": ["role:web", "wave:5"]}, []),
    ({"tags": "keep"}, ["db1.a.test"]),
    ({"exclude_tags": ["keep", "wave:4"]}, ["web1.a.test"]),
    ({"states": ["running"]}, ["web1.a.test", "web2.a.test"]),
    ({"states": ["ADMIN_down"]}, ["db1.a.test"]),
    ({"states": ["down", "offline"]}, ["db1.a.test"]),
    ({"nodes": ["node2.a.test"]}, ["web2.a.test"]),
    ({"nodes": ["node1.*"]}, ["db1.a.test", "web1.a.test"]),
    ({"os": ["debootstrap"]}, ["web2.a.test"]),
    ({"os": ["debootstrap+default"]}, ["web2.a.test"]),
    ({"os": ["noop"]}, ["db1.a.test", "web1.a.test"]),
    ({"names": ["web*"]}, ["web1.a.test", "web2.a.test"]),
    ({"names": ["WEB*"]}, []),
    ({"names": ["web*"], "exclude_names": ["*2.a.test"]}, ["web1.a.test"]),
    ({"tags": ["role:web"], "states": ["running"], "nodes": ["node1.a.test"]}, ["web1.a.test"]),
    # an empty list (a template of an empty variable) filters nothing out
    ({"names": [], "states": [], "nodes": [], "os": [], "tags": []}, ["db1.a.test", "web1.a.test", "web2.a.test"]),
])
def test_filters(config, filters, hosts):
    inventory, _plugin = parse(config(filters=filters))
    assert sorted(inventory.hosts) == hosts
    assert groups_of(inventory)["ganeti_instances"] == hosts
    # a filtered-out instance is in no group at all, tag groups included
    assert all(set(members) <= set(hosts) for members in groups_of(inventory).values())


@pytest.mark.parametrize("filters, message", [
    ({"tag": ["wave:3"]}, "unknown filter(s) tag; the filters are: tags, exclude_tags, states"),
    ({"states": ["runing"]}, "unknown state(s) runing in filters.states; the states are: running, ADMIN_down"),
    ({"nodes": {"a": 1}}, "filters.nodes must be a list of strings"),
])
def test_wrong_filters_are_refused_before_any_request(config, server, filters, message):
    with pytest.raises(AnsibleParserError) as info:
        parse(config(filters=filters))
    assert message in str(info.value)
    assert server.requests == []


# ---------------------------------------------------------------- cache

def cached(tmp_path, **options):
    options.update({"cache": True, "cache_plugin": "ansible.builtin.jsonfile",
                    "cache_connection": str(tmp_path / "cache")})
    return options


def test_cache_hit_makes_no_request(config, server, tmp_path):
    path = config(**cached(tmp_path))
    first, _plugin = parse(path)
    assert len(instance_requests(server)) == 1
    assert len(os.listdir(str(tmp_path / "cache"))) == 1
    server.route("GET", "/2/instances", body=[row("new.a.test")])
    second, _plugin = parse(path)  # another run of ansible-inventory: the cache file is read
    assert len(instance_requests(server)) == 1
    assert sorted(second.hosts) == sorted(first.hosts) == ["db1.a.test", "web1.a.test", "web2.a.test"]
    assert groups_of(second) == groups_of(first)
    # the filters apply to the cached listing
    filtered, _plugin = parse(config(filters={"tags": ["wave:3"]}, **cached(tmp_path)))
    assert sorted(filtered.hosts) == ["web1.a.test"]
    assert len(instance_requests(server)) == 1


def test_refresh_makes_one_request_and_replaces_the_cache(config, server, tmp_path):
    path = config(**cached(tmp_path))
    parse(path)
    server.route("GET", "/2/instances", body=[row("new.a.test")])
    refreshed, _plugin = parse(path, cache=False)  # --flush-cache, meta: refresh_inventory
    assert sorted(refreshed.hosts) == ["new.a.test"]
    assert len(instance_requests(server)) == 2
    again, _plugin = parse(path)
    assert sorted(again.hosts) == ["new.a.test"]
    assert len(instance_requests(server)) == 2


def test_no_cache_means_a_request_per_parse(config, server):
    path = config()
    parse(path)
    parse(path)
    assert len(instance_requests(server)) == 2


def test_cache_key_includes_the_cluster(config, server, tmp_path, certs):
    """The same file pointed at another cluster reads that cluster, not the first one's cached listing."""
    path = config(**cached(tmp_path))
    parse(path)
    crt, key = certs["rapi"]
    other = RapiTestServer(crt, key).start()
    try:
        other.route("GET", "/2/instances", body=[row("b1.b.test")])
        other.route("GET", "/2/info", body=dict(INFO, name="cluster-b.test"))
        inventory, _plugin = parse(config(port=other.port, **cached(tmp_path)))
        assert sorted(inventory.hosts) == ["b1.b.test"]
        assert len(instance_requests(other)) == 1
    finally:
        other.stop()
    assert len(os.listdir(str(tmp_path / "cache"))) == 2


# ---------------------------------------------------------------- connection settings and environment

class RecordingClient:
    """Stands in for make_client: records the settings the plugin resolved."""

    def __init__(self):
        self.settings = []

    def __call__(self, side, settings):
        self.settings.append(dict(settings))
        return self

    def cluster_info(self):
        return copy.deepcopy(INFO)

    def instances(self):
        return copy.deepcopy(ROWS)


@pytest.fixture
def recorder():
    client = RecordingClient()
    with patch("ansible_collections.ganeti.rapi.plugins.inventory.instances.make_client", client):
        yield client


def test_settings_from_the_environment(tmp_path, recorder, clean_env, pw_file):
    clean_env.update({"GANETI_SOURCE_HOST": "cluster-a.test", "GANETI_SOURCE_PORT": "5081",
                      "GANETI_USERNAME": "shared", "GANETI_PASSWORD": "shared-pw",
                      "GANETI_SOURCE_VALIDATE_CERTS": "false", "GANETI_SOURCE_REQUEST_TIMEOUT": "7"})
    inventory, _plugin = parse(write_config(tmp_path))
    assert sorted(inventory.hosts) == ["db1.a.test", "web1.a.test", "web2.a.test"]
    [settings] = recorder.settings
    assert settings == {"host": "cluster-a.test", "port": 5081, "username": "shared", "password": "shared-pw",
                        "password_file": None, "ca_path": None, "validate_certs": False, "request_timeout": 7}


def test_defaults(tmp_path, recorder):
    parse(write_config(tmp_path, host="cluster-a.test"))
    [settings] = recorder.settings
    assert settings == {"host": "cluster-a.test", "port": 5080, "username": None, "password": None,
                        "password_file": None, "ca_path": None, "validate_certs": True, "request_timeout": 60}


def test_source_variables_beat_the_shared_ones(tmp_path, recorder, clean_env):
    clean_env.update({"GANETI_USERNAME": "shared", "GANETI_SOURCE_USERNAME": "own",
                      "GANETI_PASSWORD": "shared-pw", "GANETI_SOURCE_PASSWORD": "own-pw"})
    parse(write_config(tmp_path, host="cluster-a.test"))
    assert (recorder.settings[0]["username"], recorder.settings[0]["password"]) == ("own", "own-pw")


def test_an_empty_variable_counts_as_unset(tmp_path, recorder, clean_env):
    clean_env.update({"GANETI_USERNAME": "shared", "GANETI_SOURCE_USERNAME": "", "GANETI_PASSWORD": "shared-pw",
                      "GANETI_SOURCE_PASSWORD": "", "GANETI_SOURCE_PORT": "", "GANETI_SOURCE_VALIDATE_CERTS": "",
                      "GANETI_SOURCE_CA_PATH": "", "GANETI_SOURCE_PASSWORD_FILE": ""})
    parse(write_config(tmp_path, host="cluster-a.test"))
    [settings] = recorder.settings
    assert (settings["username"], settings["password"], settings["port"], settings["validate_certs"],
            settings["ca_path"], settings["password_file"]) == ("shared", "shared-pw", 5080, True, None, None)
    # the environment is as it was
    assert os.environ["GANETI_SOURCE_USERNAME"] == "" and os.environ["GANETI_SOURCE_PORT"] == ""


def test_the_file_beats_the_environment(tmp_path, recorder, clean_env, pw_file):
    clean_env.update({"GANETI_SOURCE_HOST": "env.test", "GANETI_SOURCE_USERNAME": "env-user",
                      "GANETI_SOURCE_PASSWORD": "env-pw", "GANETI_SOURCE_PORT": "1"})
    # password_file in the file beats GANETI_SOURCE_PASSWORD (no "mutually exclusive" error)
    parse(write_config(tmp_path, host="file.test", username="file-user", password_file=pw_file, port=5082))
    [settings] = recorder.settings
    assert (settings["host"], settings["username"], settings["password"], settings["port"]) \
        == ("file.test", "file-user", PASSWORD, 5082)


def test_password_in_the_file_beats_a_password_file_from_the_environment(tmp_path, recorder, clean_env, pw_file):
    clean_env.update({"GANETI_SOURCE_PASSWORD_FILE": pw_file})
    parse(write_config(tmp_path, host="a.test", username="u", password="from-file"))
    assert recorder.settings[0]["password"] == "from-file"


@pytest.mark.parametrize("options, env, message", [
    ({}, {}, "ganeti.rapi.instances: host is required (or set GANETI_SOURCE_HOST)"),
    ({"host": "a.test", "password": PASSWORD}, {},
     "ganeti.rapi.instances: a password is set but no username (set username or GANETI_SOURCE_USERNAME)"),
    ({"host": "a.test", "password": PASSWORD, "password_file": "/nonexistent"}, {},
     "ganeti.rapi.instances: password and password_file are mutually exclusive"),
    ({"host": "a.test", "port": 70000}, {}, "ganeti.rapi.instances: port must be between 1 and 65535, got 70000"),
    ({"host": "a.test", "ca_path": "/nonexistent/ca.pem"}, {}, "ca_path /nonexistent/ca.pem is not a file"),
    ({"host": "a.test", "username": "u"}, {"GANETI_SOURCE_PASSWORD_FILE": "/nonexistent/pw"},
     "cannot read password_file /nonexistent/pw"),
])
def test_option_errors_name_the_option(tmp_path, recorder, clean_env, options, env, message):
    clean_env.update(env)
    with pytest.raises(AnsibleParserError) as info:
        parse(write_config(tmp_path, **options))
    assert message in str(info.value)
    assert PASSWORD not in str(info.value)
    assert recorder.settings == []


def test_wrong_type_from_the_environment_is_refused(tmp_path, recorder, clean_env):
    clean_env.update({"GANETI_SOURCE_PORT": "many"})
    with pytest.raises(AnsibleOptionsError) as info:
        parse(write_config(tmp_path, host="a.test"))
    # Ansible's own words differ between 2.16 and 2.21; both name the option and the variable
    assert "port" in str(info.value) and "GANETI_SOURCE_PORT" in str(info.value)
    assert recorder.settings == []


# ---------------------------------------------------------------- RAPI errors

def test_wrong_password_error_has_the_hint_but_not_the_password(config, server):
    server.route("GET", "/2/instances", status=401, body={"code": 401, "message": "Unauthorized", "explain": None})
    with pytest.raises(AnsibleParserError) as info:
        parse(config())
    text = str(info.value)
    assert "cannot list the instances of 127.0.0.1:%d: GET /2/instances HTTP 401: Unauthorized" % server.port in text
    assert "Check the username and password for this cluster" in text
    assert PASSWORD not in text


def test_unreachable_cluster(config):
    port = free_port()
    with pytest.raises(AnsibleParserError) as info:
        parse(config(port=port, request_timeout=5))
    assert "cannot list the instances of 127.0.0.1:%d" % port in str(info.value)


def test_wrong_certificate_is_refused(config, certs):
    with pytest.raises(AnsibleParserError) as info:
        parse(config(ca_path=certs["other"][0]))
    assert "cannot list the instances of 127.0.0.1" in str(info.value)
    assert PASSWORD not in str(info.value)


@pytest.mark.parametrize("body", [{"name": "x"}, [{"uuid": "x"}], ["x"]])
def test_an_answer_that_is_no_instance_list_is_refused(config, server, body):
    server.route("GET", "/2/instances", body=body)
    with pytest.raises(AnsibleParserError, match="something other than a list of instances"):
        parse(config())


# ---------------------------------------------------------------- the documented examples

def example_configs():
    """The plugin's EXAMPLES: the commented minimal file, then the full one."""
    from ansible_collections.ganeti.rapi.plugins.inventory import instances
    lines = instances.EXAMPLES.splitlines()
    first = lines.index("#   plugin: ganeti.rapi.instances")
    minimal = []
    for line in lines[first:]:
        if not line.startswith("#   "):
            break
        minimal.append(line[4:])
    return yaml.safe_load("\n".join(minimal)), yaml.safe_load(instances.EXAMPLES)


def at_test_server(example, server, certs, pw_file, tmp_path):
    """The example pointed at the test server; everything else as documented."""
    example = dict(example, host="127.0.0.1", port=server.port, ca_path=certs["rapi"][0], password_file=pw_file)
    if "cache_connection" in example:
        example["cache_connection"] = str(tmp_path / "cache")
    return write_config(tmp_path, **example)


def test_minimal_example(server, certs, pw_file, tmp_path):
    minimal, _full = example_configs()
    assert sorted(minimal) == ["ca_path", "host", "plugin", "username"]
    inventory, _plugin = parse(at_test_server(minimal, server, certs, pw_file, tmp_path))
    assert groups_of(inventory)["ganeti_instances"] == ["db1.a.test", "web1.a.test", "web2.a.test"]
    assert groups_of(inventory)["wave_3"] == ["web1.a.test"]


def test_full_example(server, certs, pw_file, tmp_path):
    _minimal, full = example_configs()
    server.route("GET", "/2/instances", body=[
        row("web1.example.org", pnode="node1.example.org", tags=["wave:3"]),
        row("web2.example.org", pnode="node2.example.org", tags=["wave:4"], **{"nic.ips": [None],
                                                                               "beparams": {"maxmem": 8192}}),
        row("web3.example.org", pnode="node3.example.org"),
        row("web4.example.org", pnode="node1.example.org", tags=["keep:yes"]),
        row("web5.example.org", pnode="node1.example.org", status="ADMIN_down", admin_state="down"),
        row("db1.example.org", pnode="node1.example.org"),
    ])
    # tag_groups off: the example's keyed_groups alone make wave_3 and wave_4, as it says
    inventory, _plugin = parse(at_test_server(dict(full, tag_groups=False), server, certs, pw_file, tmp_path))
    assert groups_of(inventory) == {
        "web_servers": ["web1.example.org", "web2.example.org"],
        "wave_3": ["web1.example.org"], "wave_4": ["web2.example.org"],
        "node_node1_example_org": ["web1.example.org"], "node_node2_example_org": ["web2.example.org"],
        "big": ["web2.example.org"],
    }
    assert hostvars(inventory, "web1.example.org")["ansible_host"] == "192.0.2.10"
    assert "ansible_host" not in hostvars(inventory, "web2.example.org")
    assert len(os.listdir(str(tmp_path / "cache"))) == 1


def test_the_getting_started_example(server, certs, pw_file, tmp_path):
    """The guide's cluster-a.ganeti.yml, pointed at the test server, lists what it says."""
    guide = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "docs", "docsite", "rst",
                         "getting_started.rst")
    with open(guide) as handle:
        block = handle.read().split("    # cluster-a.ganeti.yml\n", 1)[1].split("\n\n", 1)[0]
    example = yaml.safe_load("\n".join(line[4:] for line in block.splitlines()))
    assert example["plugin"] == "ganeti.rapi.instances"
    inventory, _plugin = parse(at_test_server(example, server, certs, pw_file, tmp_path))
    assert groups_of(inventory)["ganeti_instances"] == ["db1.a.test", "web1.a.test", "web2.a.test"]
    assert groups_of(inventory)["wave_3"] == ["web1.a.test"]
