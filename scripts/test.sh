#!/usr/bin/env bash
# Quick start 2: set up (idempotent) and run the test suite. Extra arguments go to pytest (one run).
# Without arguments: the suite, then the cluster step (tests marked `cluster`: the workflow under a
# local SLURM started by scripts/slurm_local.sh; they need root and skip with the reason otherwise).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
ruff check src tests benchmarks scripts
if [ $# -gt 0 ]; then exec python -m pytest "$@"; fi
python -m pytest -m "not cluster"
echo "[test] cluster step: the workflow under a local SLURM (tests/test_cluster.py)"
python -m pytest -m cluster
