# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The environment file ``lab.sh up`` writes (KEY=VALUE lines), for the Python that drives the lab."""

import os


def read_lab_env(lab_dir):
    """``lab_dir``/lab.env as a dict; comment lines are skipped."""
    values = {}
    with open(os.path.join(lab_dir, "lab.env")) as handle:
        for line in handle:
            if "=" in line and not line.startswith("#"):
                key, value = line.rstrip("\n").split("=", 1)
                values[key] = value
    return values
