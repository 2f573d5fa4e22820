#!/usr/bin/env bash
# Quick start 1: set up (idempotent) and run the whole built-in demo, then build the HTML report.
# Extra arguments go to snakemake (e.g. `bash scripts/demo.sh --forceall`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
snakemake --profile profiles/local "$@"
snakemake --profile profiles/local --report results/report.html
echo "[demo] done: results/ (metrics, plots, models), report: results/report.html"
