# pgml: one workflow for six machine-learning methods on proteins and protein-genome interactions.
# Run the demo:        snakemake --cores 2
# Run on SLURM:        snakemake --profile profiles/slurm
# Rerun a paper:       snakemake --cores 2 --configfile config/paper/<chain>.yaml
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/bfactor.smk"
include: "workflow/rules/grn.smk"


rule all:
    input:
        all_targets(),
    default_target: True
