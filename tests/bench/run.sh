#!/usr/bin/env bash
# make bench: ganeti_move_instance (action path, module path) vs move-instance on the same lab, in one run; writes
# docs/docsite/rst/performance.rst (the performance page of the collection docs, `make docs`).
# Runs with the python/ansible on PATH (make bench puts .venv/<line>/bin first). See tests/bench/bench.py for
# the settings (BENCH_RUNS, BENCH_SCENARIOS, BENCH_TOOLS, BENCH_BIG_SIZE, BENCH_OUT, BENCH_RESULTS); with
# LAB_B_GANETI=3.1 the lab's cluster b runs Ganeti 3.1 and its move-instance is a second anchor.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec python3 "$HERE/bench.py" "$@"
