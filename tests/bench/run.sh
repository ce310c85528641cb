#!/usr/bin/env bash
# make bench: ganeti_move_instance vs move-instance on the same lab, in one run; writes docs/docsite/rst/performance.rst
# (the performance page of the collection docs, `make docs`).
# Runs with the python/ansible on PATH (make bench puts .venv/<line>/bin first). See tests/bench/bench.py for
# the settings (BENCH_RUNS, BENCH_SCENARIOS, BENCH_BIG_SIZE).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec python3 "$HERE/bench.py" "$@"
