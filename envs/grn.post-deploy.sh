#!/usr/bin/env bash
# Snakemake runs this inside a freshly created grn env, from the workflow's working directory (the
# project root): install the pgml package itself (without its torch/structure dependencies, which
# the grn chain does not import) so `pgml` is on PATH in every grn rule.
set -euo pipefail
python -m pip install --no-deps --no-build-isolation -e .
