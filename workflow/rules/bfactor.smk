# bfactor chain: X-ray structure -> atom graph -> per-atom B-factor (Meta-GNN and six other GNNs).
# shard -> select + build atom graphs (one job per shard) -> split -> train (per architecture, per run)
# -> predict (held-out test set) -> evaluate (+ contact-number and 1/WCN baselines) -> report.
# Rules mirror `pgml bfactor <step>`; flags come from the config section of the same name.

BFACTOR = config["bfactor"]
BFACTOR_OUT = "results/bfactor"
BFACTOR_LOG = "logs/bfactor"
BFACTOR_SHARDS = list(range(BFACTOR["shards"]))
BFACTOR_RUNS = list(range(BFACTOR["n_runs"]))
BFACTOR_EXPLAIN = BFACTOR.get("explain")


# bfactor.fetch: PDB entries fetched by bfactor_fetch_structures join the configured structures
BFACTOR_FETCH = BFACTOR["fetch"]
BFACTOR_FETCHED = [f"{BFACTOR_OUT}/fetch/structures"] if BFACTOR_FETCH["enabled"] else []
BFACTOR_STRUCTURES = [str(p) for p in BFACTOR["structures"]] + BFACTOR_FETCHED


# stop at parse time (also under -n) when the chain is on and its inputs are missing
if chain_enabled("bfactor"):
    if not BFACTOR_STRUCTURES:
        raise WorkflowError("bfactor.structures: empty; list structure files, directories or list files")
    for path in BFACTOR["structures"]:
        if not Path(path).exists():
            raise WorkflowError(f"bfactor.structures: not found: {path} (working directory {Path.cwd()})")
    if BFACTOR["split"]["method"] == "list" and not Path(BFACTOR["split"].get("list", "")).is_file():
        raise WorkflowError("bfactor.split.list: a list split needs an existing list file, got "
                            f"{BFACTOR['split'].get('list')!r}")
    if BFACTOR_EXPLAIN and not Path(BFACTOR_EXPLAIN["structure"]).exists():
        raise WorkflowError(f"bfactor.explain.structure: not found: {BFACTOR_EXPLAIN['structure']}")

BFACTOR_TARGETS = [f"{BFACTOR_OUT}/evaluation/metrics.tsv", f"{BFACTOR_OUT}/evaluation/per_protein.tsv"] + (
    [f"{BFACTOR_OUT}/explain/{BFACTOR_EXPLAIN['architecture']}/feature_importance.tsv"] if BFACTOR_EXPLAIN else []
)


wildcard_constraints:
    bfactor_arch="|".join(CONFIG_SCHEMA["$defs"]["architecture"]["enum"]),
    bfactor_run=r"\d+",
    bfactor_shard=r"\d+",
    bfactor_baseline="baseline|baseline_wcn",

rule bfactor_shard_structures:
    input:
        BFACTOR_FETCHED,
    output:
        expand(f"{BFACTOR_OUT}/shards/shard_{{bfactor_shard}}.txt", bfactor_shard=BFACTOR_SHARDS),
    params:
        structures=" ".join(shlex.quote(p) for p in BFACTOR_STRUCTURES),
        shards=cli_flags(BFACTOR, keys=("shards",)),
        outdir=lambda wc, output: Path(output[0]).parent,
    log:
        f"{BFACTOR_LOG}/shard_structures.log",
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "pgml bfactor shard --structures {params.structures} {params.shards}"
        " --output-dir {params.outdir} > {log} 2>&1"


rule bfactor_select_structures:
    input:
        f"{BFACTOR_OUT}/shards/shard_{{bfactor_shard}}.txt",
    output:
        f"{BFACTOR_OUT}/selection/shard_{{bfactor_shard}}.tsv",
    params:
        select=cli_flags(BFACTOR, keys=("max_resolution", "methods")),
    log:
        f"{BFACTOR_LOG}/select_structures/shard_{{bfactor_shard}}.log",
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "pgml bfactor select --manifest {input} --output {output}"
        " {params.select} > {log} 2>&1"


rule bfactor_build_graphs:
    input:
        f"{BFACTOR_OUT}/selection/shard_{{bfactor_shard}}.tsv",
    output:
        f"{BFACTOR_OUT}/graphs/shard_{{bfactor_shard}}.pt",
    params:
        graph=cli_flags(BFACTOR, keys=("target", "neighbour_radius", "packing_radii", "wcn_feature",
                                       "contact_radius", "ligand_counts")),
    threads: 1
    log:
        f"{BFACTOR_LOG}/build_graphs/shard_{{bfactor_shard}}.log",
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "pgml bfactor build-graphs --selection {input} --output {output}"
        " {params.graph} --threads {threads} > {log} 2>&1"


rule bfactor_split_dataset:
    input:
        selection=expand(f"{BFACTOR_OUT}/selection/shard_{{bfactor_shard}}.tsv", bfactor_shard=BFACTOR_SHARDS),
        listed=BFACTOR["split"].get("list", []),
    output:
        split=f"{BFACTOR_OUT}/split.tsv",
        report=report(
            f"{BFACTOR_OUT}/selection.tsv",
            category="bfactor",
            subcategory="data",
            caption="../report/bfactor_selection.rst",
        ),
    params:
        split=cli_flags(BFACTOR["split"]),
        seed=SEED,
    threads: 2
    log:
        f"{BFACTOR_LOG}/split_dataset.log",
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "pgml bfactor split --selection {input.selection} --output {output.split} --report {output.report}"
        " {params.split} --seed {params.seed} --threads {threads} > {log} 2>&1"


rule bfactor_train_model:
    input:
        graphs=expand(f"{BFACTOR_OUT}/graphs/shard_{{bfactor_shard}}.pt", bfactor_shard=BFACTOR_SHARDS),
        split=f"{BFACTOR_OUT}/split.tsv",
    output:
        model=f"{BFACTOR_OUT}/models/{{bfactor_arch}}/run{{bfactor_run}}/model.ckpt",
        card=f"{BFACTOR_OUT}/models/{{bfactor_arch}}/run{{bfactor_run}}/model.json",
        metrics=f"{BFACTOR_OUT}/models/{{bfactor_arch}}/run{{bfactor_run}}/metrics.tsv",
        curve=report(
            f"{BFACTOR_OUT}/models/{{bfactor_arch}}/run{{bfactor_run}}/learning_curve.png",
            category="bfactor",
            subcategory="training",
            labels={"architecture": "{bfactor_arch}", "run": "{bfactor_run}"},
            caption="../report/bfactor_learning_curve.rst",
        ),
    params:
        outdir=lambda wc, output: Path(output.model).parent,
        seed=lambda wc: SEED + int(wc.bfactor_run),
        # the shared train block, then the architecture's own overrides (bfactor.architecture_params)
        train=lambda wc: cli_flags({**BFACTOR["train"], **BFACTOR["architecture_params"].get(wc.bfactor_arch, {})}),
    threads: 2
    log:
        f"{BFACTOR_LOG}/train_model/{{bfactor_arch}}_run{{bfactor_run}}.log",
    resources:
        gpu=1,
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "pgml bfactor train --graphs {input.graphs} --split {input.split} --architecture {wildcards.bfactor_arch}"
        " --output-dir {params.outdir} --seed {params.seed} {params.train} --threads {threads}"
        " > {log} 2>&1"


rule bfactor_predict_bfactors:
    input:
        model=f"{BFACTOR_OUT}/models/{{bfactor_arch}}/run{{bfactor_run}}/model.ckpt",
        card=f"{BFACTOR_OUT}/models/{{bfactor_arch}}/run{{bfactor_run}}/model.json",
        split=f"{BFACTOR_OUT}/split.tsv",
    output:
        directory(f"{BFACTOR_OUT}/predictions/{{bfactor_arch}}/run{{bfactor_run}}"),
    log:
        f"{BFACTOR_LOG}/predict_bfactors/{{bfactor_arch}}_run{{bfactor_run}}.log",
    threads: 1
    resources:
        gpu=1,
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "pgml bfactor predict --model {input.model} --card {input.card} --from-split {input.split} --subset test"
        " --output-dir {output} --threads {threads} > {log} 2>&1"


# packing baselines, one directory each: baseline (contact number), baseline_wcn (1/WCN)
BFACTOR_BASELINES = {"baseline": "cn", "baseline_wcn": "wcn"}


rule bfactor_fit_baseline:
    input:
        graphs=expand(f"{BFACTOR_OUT}/graphs/shard_{{bfactor_shard}}.pt", bfactor_shard=BFACTOR_SHARDS),
        split=f"{BFACTOR_OUT}/split.tsv",
    output:
        directory(f"{BFACTOR_OUT}/predictions/{{bfactor_baseline}}"),
    params:
        kind=lambda wc: BFACTOR_BASELINES[wc.bfactor_baseline],
    log:
        f"{BFACTOR_LOG}/fit_baseline/{{bfactor_baseline}}.log",
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "pgml bfactor baseline --graphs {input.graphs} --split {input.split} --kind {params.kind}"
        " --output-dir {output} > {log} 2>&1"


rule bfactor_evaluate_models:
    input:
        predictions=expand(
            f"{BFACTOR_OUT}/predictions/{{bfactor_arch}}/run{{bfactor_run}}", bfactor_arch=BFACTOR["architectures"], bfactor_run=BFACTOR_RUNS
        ),
        baseline=expand(f"{BFACTOR_OUT}/predictions/{{bfactor_baseline}}", bfactor_baseline=BFACTOR_BASELINES),
    output:
        metrics=report(
            f"{BFACTOR_OUT}/evaluation/metrics.tsv",
            category="bfactor",
            subcategory="evaluation",
            caption="../report/bfactor_metrics.rst",
        ),
        per_protein=f"{BFACTOR_OUT}/evaluation/per_protein.tsv",
        scatter=report(
            f"{BFACTOR_OUT}/evaluation/scatter.png",
            category="bfactor",
            subcategory="evaluation",
            caption="../report/bfactor_scatter.rst",
        ),
        cc=report(
            f"{BFACTOR_OUT}/evaluation/cc_by_architecture.png",
            category="bfactor",
            subcategory="evaluation",
            caption="../report/bfactor_cc.rst",
        ),
    params:
        outdir=lambda wc, output: Path(output.metrics).parent,
    log:
        f"{BFACTOR_LOG}/evaluate_models.log",
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "pgml bfactor evaluate --predictions {input.predictions} --baseline {input.baseline}"
        " --output-dir {params.outdir} > {log} 2>&1"


rule bfactor_explain_atoms:
    input:
        model=f"{BFACTOR_OUT}/models/{{bfactor_arch}}/run0/model.ckpt",
        structure=lambda wc: BFACTOR_EXPLAIN["structure"],
    output:
        table=f"{BFACTOR_OUT}/explain/{{bfactor_arch}}/feature_importance.tsv",
        plot=report(
            f"{BFACTOR_OUT}/explain/{{bfactor_arch}}/feature_importance.png",
            category="bfactor",
            subcategory="explanation",
            labels={"architecture": "{bfactor_arch}"},
            caption="../report/bfactor_explain.rst",
        ),
    params:
        atoms=lambda wc: " ".join(BFACTOR_EXPLAIN["atoms"]),
        outdir=lambda wc, output: Path(output.table).parent,
        seed=SEED,
    log:
        f"{BFACTOR_LOG}/explain_atoms/{{bfactor_arch}}.log",
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "pgml bfactor explain --model {input.model} --structure {input.structure} --atoms {params.atoms}"
        " --output-dir {params.outdir} --seed {params.seed} > {log} 2>&1"


# ---- fetch: PDB entries for bfactor.fetch (ids, an id list, or the RCSB search query)
BFACTOR_FETCH_IDS = BFACTOR_FETCH["id_list"] or (None if BFACTOR_FETCH["ids"] else f"{BFACTOR_OUT}/fetch/ids.txt")


localrules:
    bfactor_fetch_ids,
    bfactor_fetch_structures,


rule bfactor_fetch_ids:
    output:
        f"{BFACTOR_OUT}/fetch/ids.txt",
    params:
        query=cli_flags(BFACTOR_FETCH["query"]),
        net=fetch_flags(),
    log:
        f"{BFACTOR_LOG}/fetch_ids.log",
    resources:
        net=1,
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "pgml fetch pdb-query --output {output} {params.query} {params.net} > {log} 2>&1"


rule bfactor_fetch_structures:
    input:
        ids=[BFACTOR_FETCH_IDS] if BFACTOR_FETCH_IDS else [],
    output:
        structures=directory(f"{BFACTOR_OUT}/fetch/structures"),
        manifest=f"{BFACTOR_OUT}/fetch/structures.tsv",
    params:
        ids=lambda wc, input: f"--id-list {input.ids}" if input.ids else cli_flags(BFACTOR_FETCH, keys=("ids",)),
        pdb=cli_flags(BFACTOR_FETCH, keys=("format", "mirrors")),
        net=fetch_flags(),
        failures=cli_flags(FETCH, keys=("max_failures",)),
    log:
        f"{BFACTOR_LOG}/fetch_structures.log",
    resources:
        net=1,
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "pgml fetch pdb {params.ids} --output-dir {output.structures} --manifest {output.manifest}"
        " {params.pdb} {params.net} {params.failures} > {log} 2>&1"
