# The summary the HTML report opens on (`snakemake --report`): per chain built, the headline metric of
# the model beside its same-run baseline and a verdict (`pgml report summary`). workflow/report/workflow.rst
# includes the summary it writes. Its inputs are the evaluation tables among the chains' targets.
REPORT_OUT = "results/report"
REPORT_SUMMARY = f"{REPORT_OUT}/summary.rst"
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
REPORT_TARGETS = [REPORT_SUMMARY] if REPORT_METRICS else []


localrules:
    report_summarise_metrics,


rule report_summarise_metrics:
    input:
        [f for files in REPORT_METRICS.values() for f in files],
    output:
        report(
            REPORT_SUMMARY,
            category="Summary",
            caption="../report/summary.rst",
        ),
    params:
        metrics=" ".join(f"{chain}={','.join(files)}" for chain, files in REPORT_METRICS.items()),
    log:
        "logs/report/summarise_metrics.log",
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "pgml report summary --metrics {params.metrics} --output {output} > {log} 2>&1"
