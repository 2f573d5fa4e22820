# pgml: one workflow for six machine-learning methods on proteins and protein-genome interactions.
# Run the demo:        snakemake --cores 2
# Run on SLURM:        snakemake --profile profiles/slurm
# Rerun a paper:       snakemake --cores 2 --configfile config/paper/<chain>.yaml
# The demo config is read only when no --configfile is given, so a paper config or your own config
# never inherits demo-only entries; left-out keys take the defaults of workflow/schemas.
from snakemake.utils import min_version

min_version("9.0")


if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/bfactor.smk"
include: "workflow/rules/grn.smk"
include: "workflow/rules/fold.smk"
include: "workflow/rules/qa.smk"
include: "workflow/rules/contact.smk"
include: "workflow/rules/tfbs.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        all_targets(),
        REPORT_TARGETS,
    default_target: True
