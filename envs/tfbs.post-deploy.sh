#!/usr/bin/env bash
# Snakemake runs this inside a freshly created tfbs env, from the workflow's working directory (the
# project root): install the pgml package itself so `pgml` is on PATH in every tfbs rule.
set -euo pipefail
python -m pip install --no-deps --no-build-isolation -e .
