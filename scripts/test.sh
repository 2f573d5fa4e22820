#!/usr/bin/env bash
# Quick start 2: set up (idempotent) and run the checks. Extra arguments go to pytest (one run).
# Without arguments: ruff, snakemake --lint, the test suite, then the cluster step (tests marked
# `cluster`: the workflow under a local SLURM started by scripts/slurm_local.sh; they need root and
# skip with the reason otherwise). Each step prints how long it took.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() {  # step NAME COMMAND...: run a step and print its wall time
    local name=$1 start=$SECONDS
    shift
    echo "[test] ${name}"
    "$@"
    echo "[test] ${name}: $((SECONDS - start)) s"
}

step "setup" bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
step "ruff" ruff check src tests benchmarks scripts
step "snakemake --lint" snakemake --lint
if [ $# -gt 0 ]; then exec python -m pytest "$@"; fi
step "pytest (all but the cluster step)" python -m pytest -m "not cluster"
step "cluster step: the workflow under a local SLURM (tests/workflow/test_cluster.py)" python -m pytest -m cluster
