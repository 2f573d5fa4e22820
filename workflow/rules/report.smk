# The summary the HTML report opens on (`snakemake --report`): for each chain built, rule
# <chain>_summarise_metrics sets the headline metric of the model beside its same-run baseline, with a
# verdict (`pgml report summary`), in results/<chain>/report/summary.rst; workflow/report/workflow.rst
# includes every chain's. Its inputs are the evaluation tables among the chain's targets.
# chain -> the evaluation metrics.tsv files among the targets of every chain built
REPORT_METRICS = {
    chain: files
    for chain in config["chains"]
    if (
        files := [
            t
            for t in globals()[f"{chain.upper()}_TARGETS"]
            if Path(t).name == "metrics.tsv" and "evaluation" in Path(t).parts
        ]
    )
}
REPORT_SUMMARIES = {chain: f"results/{chain}/report/summary.rst" for chain in REPORT_METRICS}
REPORT_TARGETS = list(REPORT_SUMMARIES.values())


for _chain, _files in REPORT_METRICS.items():

    rule:
        name:
            f"{_chain}_summarise_metrics"
        localrule: True
        input:
            _files,
        output:
            report(
                REPORT_SUMMARIES[_chain],
                category="Summary",
                caption="../report/summary.rst",
            ),
        params:
            metrics=f"{_chain}={','.join(_files)}",
        log:
            f"logs/{_chain}/summarise_metrics.log",
        conda:
            f"{ENVS}/pgml.yaml"
        shell:
            "pgml report summary --metrics {params.metrics} --output {output} > {log} 2>&1"
