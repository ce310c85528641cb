# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  source:
    description:
      - How to reach the RAPI of the cluster that holds the instance now.
      - An environment variable set to an empty string counts as unset.
      - The RAPI user needs the C(write) option in C(/var/lib/ganeti/rapi/users), because a move submits jobs
        and follows them with C(/2/jobs/ID/wait).
    type: dict
    required: true
    version_added: 0.1.0
    suboptions:
      host:
        description:
          - Host name or IP address of the cluster's master (the cluster name usually works).
          - Falls back to the environment variable E(GANETI_SOURCE_HOST).
        type: str
      port:
        description:
          - RAPI port.
          - Falls back to E(GANETI_SOURCE_PORT).
        type: int
        default: 5080
      username:
        description:
          - RAPI user name.
          - Falls back to E(GANETI_SOURCE_USERNAME), then E(GANETI_USERNAME).
        type: str
      password:
        description:
          - RAPI password. O(source.password) and O(source.password_file) are mutually exclusive in the task;
            one given in the task beats the other from the environment.
          - Falls back to E(GANETI_SOURCE_PASSWORD), then E(GANETI_PASSWORD).
        type: str
      password_file:
        description:
          - File whose only non-empty line is the RAPI password, as C(move-instance --src-password-file) reads it.
            A file with several non-empty lines is refused.
          - Falls back to E(GANETI_SOURCE_PASSWORD_FILE).
        type: path
      ca_path:
        description:
          - PEM file to verify the server's certificate against.
          - When it holds the server's own certificate (Ganeti's self-signed C(rapi.pem), whose CN
            C(ganeti.example.com) matches no host), that exact certificate is pinned and the host name is not
            checked, as C(move-instance) does. A certificate issued by a CA in this file keeps full host-name
            verification.
          - "Extract it on the master with C(openssl x509 -in /var/lib/ganeti/rapi.pem)."
          - Without it the system's CA store is used.
          - Falls back to E(GANETI_SOURCE_CA_PATH).
        type: path
      validate_certs:
        description:
          - Verify the server's TLS certificate. Turn off only for throw-away test clusters.
          - Falls back to E(GANETI_SOURCE_VALIDATE_CERTS).
        type: bool
        default: true
      request_timeout:
        description:
          - Seconds to wait for one HTTP answer. Job waits use at least 15 s, because the server holds them up
            to 10 s.
          - Falls back to E(GANETI_SOURCE_REQUEST_TIMEOUT).
        type: int
        default: 60
  destination:
    description:
      - How to reach the RAPI of the cluster the instance moves to.
      - Every suboption left unset, O(destination.host) excepted, takes the value of the same O(source) suboption
        (after its own E(GANETI_DESTINATION_*) environment variable), as C(move-instance) documents for its
        C(--dest-*) flags. This includes O(destination.port), which C(move-instance) 3.0 forgets.
    type: dict
    required: true
    version_added: 0.1.0
    suboptions:
      host:
        description:
          - Host name or IP address of the destination cluster's master.
          - Falls back to E(GANETI_DESTINATION_HOST).
        type: str
      port:
        description:
          - RAPI port. Falls back to E(GANETI_DESTINATION_PORT), then the source's port.
        type: int
      username:
        description:
          - RAPI user name. Falls back to E(GANETI_DESTINATION_USERNAME), then the source's user.
        type: str
      password:
        description:
          - RAPI password. Falls back to E(GANETI_DESTINATION_PASSWORD), then the source's password.
        type: str
      password_file:
        description:
          - File holding the RAPI password. Falls back to E(GANETI_DESTINATION_PASSWORD_FILE).
        type: path
      ca_path:
        description:
          - PEM file to verify the destination's certificate against (see O(source.ca_path)).
          - Falls back to E(GANETI_DESTINATION_CA_PATH), then the source's O(source.ca_path).
        type: path
      validate_certs:
        description:
          - Verify the server's TLS certificate. Falls back to E(GANETI_DESTINATION_VALIDATE_CERTS), then the
            source's setting.
        type: bool
      request_timeout:
        description:
          - Seconds to wait for one HTTP answer. Falls back to E(GANETI_DESTINATION_REQUEST_TIMEOUT), then the
            source's setting.
        type: int
requirements:
  - requests
'''

    # The module's source as flat options for plugins, with env entries. Generated by
    # scripts/connection-fragment.py from connection_options and DOCUMENTATION above: edit those, then run it.
    PLUGIN = r'''
options:
  host:
    description:
      - Host name or IP address of the cluster's master (the cluster name usually works).
    type: str
    env:
      - name: GANETI_SOURCE_HOST
  port:
    description:
      - RAPI port.
    type: int
    default: 5080
    env:
      - name: GANETI_SOURCE_PORT
  username:
    description:
      - RAPI user name.
      - E(GANETI_SOURCE_USERNAME) wins over E(GANETI_USERNAME).
    type: str
    env:
      - name: GANETI_USERNAME
      - name: GANETI_SOURCE_USERNAME
  password:
    description:
      - RAPI password. O(password) and O(password_file) are mutually exclusive in the same file; one given in the
        same file beats the other from the environment.
      - E(GANETI_SOURCE_PASSWORD) wins over E(GANETI_PASSWORD).
    type: str
    env:
      - name: GANETI_PASSWORD
      - name: GANETI_SOURCE_PASSWORD
  password_file:
    description:
      - File whose only non-empty line is the RAPI password, as C(move-instance --src-password-file) reads it. A
        file with several non-empty lines is refused.
    type: path
    env:
      - name: GANETI_SOURCE_PASSWORD_FILE
  ca_path:
    description:
      - PEM file to verify the server's certificate against.
      - When it holds the server's own certificate (Ganeti's self-signed C(rapi.pem), whose CN C(ganeti.example.com)
        matches no host), that exact certificate is pinned and the host name is not checked, as C(move-instance)
        does. A certificate issued by a CA in this file keeps full host-name verification.
      - Extract it on the master with C(openssl x509 -in /var/lib/ganeti/rapi.pem).
      - Without it the system's CA store is used.
    type: path
    env:
      - name: GANETI_SOURCE_CA_PATH
  validate_certs:
    description:
      - Verify the server's TLS certificate. Turn off only for throw-away test clusters.
    type: bool
    default: true
    env:
      - name: GANETI_SOURCE_VALIDATE_CERTS
  request_timeout:
    description:
      - Seconds to wait for one HTTP answer. Job waits use at least 15 s, because the server holds them up to 10
        s.
    type: int
    default: 60
    env:
      - name: GANETI_SOURCE_REQUEST_TIMEOUT
notes:
  - The connection options and their environment variables are those of the O(ganeti.rapi.ganeti_move_instance#module:source)
    option of M(ganeti.rapi.ganeti_move_instance). An environment variable set to an empty string counts as unset.
requirements:
  - requests
'''
