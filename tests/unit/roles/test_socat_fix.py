# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The socat certificate-name fix of prepare_clusters (ganeti#1681) against the Ganeti 3.0 impexpd it knows."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import re

import jinja2
import pytest
import yaml

ROLE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "prepare_clusters"))
IMPEXPD = "/usr/share/ganeti/3.0/ganeti/impexpd/__init__.py"


@pytest.fixture(scope="module")
def fix():
    with open(os.path.join(ROLE, "vars", "main.yml")) as handle:
        data = yaml.safe_load(handle)
    lines = jinja2.Template(data["_prepare_clusters_impexpd_fixed_lines"]).render(data)
    return data, "\n".join(" " * 8 + line if line else line for line in lines.split("\n"))  # indent(8, first=true)


@pytest.fixture(scope="module")
def stock():
    if not os.path.exists(IMPEXPD):
        pytest.skip("Ganeti 3.0 is not installed here")
    with open(IMPEXPD, "rb") as handle:
        return handle.read()


def test_the_installed_impexpd_is_one_the_fix_knows(fix, stock):
    data, _block = fix
    assert hashlib.sha256(stock).hexdigest() in data["_prepare_clusters_impexpd_known"]


def test_the_fix_changes_exactly_the_one_line_and_still_compiles(fix, stock):
    data, block = fix
    source = stock.decode()
    fixed, count = re.subn(data["_prepare_clusters_impexpd_stock_line"], lambda match: block, source, flags=re.M)
    assert count == 1
    compile(fixed, IMPEXPD, "exec")
    assert fixed.count(data["_prepare_clusters_impexpd_marker"]) == 1
    assert "constants.X509_CERT_CN]" not in fixed  # what the role's check reads as "not fixed"
    assert "constants.X509_CERT_CN]" in source
    # everything else is Ganeti's
    assert fixed.replace(block, "") == re.sub(data["_prepare_clusters_impexpd_stock_line"], "", source, flags=re.M)
    # the fixed file is not matched again: a second run changes nothing
    assert re.search(data["_prepare_clusters_impexpd_stock_line"], fixed, flags=re.M) is None
