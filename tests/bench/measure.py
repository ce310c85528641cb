# -*- coding: utf-8 -*-
# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""measure.py CMD...: run CMD, then print its wall time, CPU seconds and peak RSS (whole process tree) as JSON on stderr."""

import json
import resource
import subprocess
import sys
import time


def main():
    started = time.monotonic()
    proc = subprocess.run(sys.argv[1:], check=False)
    wall = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    sys.stderr.write("\n" + json.dumps({"wall": round(wall, 3), "user": usage.ru_utime, "sys": usage.ru_stime,
                                        "maxrss_kb": usage.ru_maxrss}) + "\n")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
