# fold chain: structures -> protein multigraphs (atoms, covalent + H-bond adjacency, hops, pooling)
# -> labels + sequence-identity split (leakage audit) -> IEConv training (n_runs seeds) -> test
# accuracy (mean ± sd) vs majority-class, composition + SS and MMseqs2 nearest-neighbour baselines,
# confusion matrix; classes, top 5 and embeddings of the user's structures (fold.predict).
# Rules mirror `pgml fold <step>`; flags come from the config section of the same name.

FOLD = config["fold"]
FOLD_OUT = "results/fold"
FOLD_LOG = "logs/fold"
FOLD_SHARDS = list(range(FOLD["shards"]))
FOLD_RUNS = list(range(FOLD["train"]["n_runs"]))
FOLD_SPLIT = FOLD["split"]
FOLD_SPLIT_INPUTS = [p for p in (FOLD_SPLIT.get("label_table"), FOLD_SPLIT.get("list")) if p]


# fold.fetch: SCOPe domains or PDB entries fetched by fold_fetch_structures join the configured structures
FOLD_FETCH = FOLD["fetch"]
FOLD_FETCHED = [f"{FOLD_OUT}/fetch/structures"] if FOLD_FETCH["enabled"] else []
FOLD_STRUCTURES = [str(p) for p in FOLD["structures"]] + FOLD_FETCHED


if chain_enabled("fold"):
    if not FOLD_STRUCTURES:
        raise WorkflowError("fold.structures: empty; list structure files, directories or list files")
    if FOLD_FETCH["enabled"] and not FOLD_FETCH["id_lists"]:
        raise WorkflowError("fold.fetch.id_lists: empty; list the files of SCOPe sids or PDB chains to fetch")
    for path in FOLD["structures"] + FOLD_SPLIT_INPUTS + FOLD_FETCH["id_lists"]:
        if not Path(path).exists():
            raise WorkflowError(f"fold: not found: {path} (working directory {Path.cwd()})")


wildcard_constraints:
    fold_shard=r"\d+",
    fold_run=r"\d+",


FOLD_PREDICT = FOLD.get("predict", {})
FOLD_PREDICT_STRUCTURES = [str(p) for p in FOLD_PREDICT.get("structures", [])]
FOLD_PREDICT_MODEL = FOLD_PREDICT.get("model") or f"{FOLD_OUT}/runs/run_0/model.ckpt"

if chain_enabled("fold"):
    for path in FOLD_PREDICT_STRUCTURES + ([FOLD_PREDICT["model"]] if FOLD_PREDICT.get("model") else []):
        if not Path(path).exists():
            raise WorkflowError(f"fold.predict: not found: {path} (working directory {Path.cwd()})")

FOLD_TARGETS = [f"{FOLD_OUT}/evaluation/metrics.tsv", f"{FOLD_OUT}/evaluation/confusion.png"]
if FOLD_PREDICT_STRUCTURES:
    FOLD_TARGETS.append(f"{FOLD_OUT}/predict/predictions.tsv")


rule fold_shard_structures:
    input:
        FOLD_FETCHED,
    output:
        expand(f"{FOLD_OUT}/shards/shard_{{fold_shard}}.txt", fold_shard=FOLD_SHARDS),
    params:
        structures=" ".join(shlex.quote(p) for p in FOLD_STRUCTURES),
        shards=cli_flags(FOLD, keys=("shards",)),
        outdir=lambda wc, output: Path(output[0]).parent,
    log:
        f"{FOLD_LOG}/shard_structures.log",
    conda:
        f"{ENVS}/fold.yaml"
    shell:
        "pgml fold shard --structures {params.structures} {params.shards} --output-dir {params.outdir} > {log} 2>&1"


rule fold_build_graphs:
    input:
        f"{FOLD_OUT}/shards/shard_{{fold_shard}}.txt",
    output:
        graphs=f"{FOLD_OUT}/graphs/shard_{{fold_shard}}.pt",
        records=f"{FOLD_OUT}/graphs/shard_{{fold_shard}}.tsv",
    params:
        graph=cli_flags(FOLD["graph"]),
    threads: 1
    log:
        f"{FOLD_LOG}/build_graphs/shard_{{fold_shard}}.log",
    conda:
        f"{ENVS}/fold.yaml"
    shell:
        "pgml fold build-graphs --manifest {input} --output {output.graphs} --records {output.records}"
        " {params.graph} > {log} 2>&1"


rule fold_split_samples:
    input:
        records=expand(f"{FOLD_OUT}/graphs/shard_{{fold_shard}}.tsv", fold_shard=FOLD_SHARDS),
        extra=FOLD_SPLIT_INPUTS,
    output:
        samples=report(
            f"{FOLD_OUT}/split/samples.tsv",
            category="fold",
            subcategory="data",
            caption="../report/fold_split.rst",
        ),
        audit=f"{FOLD_OUT}/split/leakage_audit.txt",
    params:
        split=cli_flags(FOLD_SPLIT),
    threads: 1
    log:
        f"{FOLD_LOG}/split_samples.log",
    conda:
        f"{ENVS}/fold.yaml"
    shell:
        "pgml fold split --records {input.records} --output {output.samples} --audit {output.audit}"
        " {params.split} --threads {threads} > {log} 2>&1"


rule fold_train_model:
    input:
        graphs=expand(f"{FOLD_OUT}/graphs/shard_{{fold_shard}}.pt", fold_shard=FOLD_SHARDS),
        split=f"{FOLD_OUT}/split/samples.tsv",
    output:
        model=f"{FOLD_OUT}/runs/run_{{fold_run}}/model.ckpt",
        config=f"{FOLD_OUT}/runs/run_{{fold_run}}/run.json",
        curve=report(
            f"{FOLD_OUT}/runs/run_{{fold_run}}/learning_curve.png",
            category="fold",
            subcategory="training",
            labels={"run": "{fold_run}"},
            caption="../report/fold_learning_curve.rst",
        ),
    params:
        model=cli_flags(FOLD["model"]),
        train=cli_flags({k: v for k, v in FOLD["train"].items() if k != "augment"}),
        augment="--augment" if FOLD["train"]["augment"] else "--no-augment",
        seed=lambda wc: SEED + int(wc.fold_run),
        outdir=lambda wc, output: Path(output.model).parent,
    threads: 1
    resources:
        gpu=1,
    log:
        f"{FOLD_LOG}/train_model/run_{{fold_run}}.log",
    conda:
        f"{ENVS}/fold.yaml"
    shell:
        "pgml fold train --graphs {input.graphs} --split {input.split} --output-dir {params.outdir}"
        " {params.model} {params.train} {params.augment} --seed {params.seed} --threads {threads} > {log} 2>&1"


rule fold_evaluate_model:
    input:
        graphs=expand(f"{FOLD_OUT}/graphs/shard_{{fold_shard}}.pt", fold_shard=FOLD_SHARDS),
        split=f"{FOLD_OUT}/split/samples.tsv",
        audit=f"{FOLD_OUT}/split/leakage_audit.txt",
        models=expand(f"{FOLD_OUT}/runs/run_{{fold_run}}/model.ckpt", fold_run=FOLD_RUNS),
    output:
        metrics=report(
            f"{FOLD_OUT}/evaluation/metrics.tsv",
            category="fold",
            subcategory="evaluation",
            caption="../report/fold_metrics.rst",
        ),
        confusion=report(
            f"{FOLD_OUT}/evaluation/confusion.png",
            category="fold",
            subcategory="evaluation",
            caption="../report/fold_confusion.rst",
        ),
        predictions=f"{FOLD_OUT}/evaluation/predictions.tsv",
        summary=f"{FOLD_OUT}/evaluation/summary.txt",
    params:
        runs=lambda wc, input: " ".join(str(Path(m).parent) for m in input.models),
        outdir=lambda wc, output: Path(output.metrics).parent,
        seed=SEED,
    threads: 1
    log:
        f"{FOLD_LOG}/evaluate_model.log",
    conda:
        f"{ENVS}/fold.yaml"
    shell:
        "pgml fold evaluate --graphs {input.graphs} --split {input.split} --runs {params.runs}"
        " --audit {input.audit} --output-dir {params.outdir} --seed {params.seed} --threads {threads} > {log} 2>&1"


rule fold_predict_structures:
    input:
        model=FOLD_PREDICT_MODEL,
        structures=FOLD_PREDICT_STRUCTURES,
    output:
        predictions=report(
            f"{FOLD_OUT}/predict/predictions.tsv",
            category="fold",
            subcategory="prediction",
            caption="../report/fold_predict.rst",
        ),
        top=f"{FOLD_OUT}/predict/top5.tsv",
        embeddings=f"{FOLD_OUT}/predict/embeddings.npy",
        ids=f"{FOLD_OUT}/predict/embedding_ids.txt",
    params:
        outdir=lambda wc, output: Path(output.predictions).parent,
    threads: 1
    resources:
        gpu=1,
    log:
        f"{FOLD_LOG}/predict_structures.log",
    conda:
        f"{ENVS}/fold.yaml"
    shell:
        "pgml fold predict --model {input.model} --output-dir {params.outdir} {input.structures}"
        " --threads {threads} > {log} 2>&1"


# ---- fetch: SCOPe domains by sid (HomologyTAPE) or the PDB entries of chains (ProtFunct)
FOLD_FETCH_FLAGS = {
    "scope": cli_flags(FOLD_FETCH, keys=("version",)),
    "pdb": cli_flags(FOLD_FETCH, keys=("format", "mirrors")),
}


localrules:
    fold_fetch_structures,


rule fold_fetch_structures:
    input:
        FOLD_FETCH["id_lists"],
    output:
        structures=directory(f"{FOLD_OUT}/fetch/structures"),
        manifest=f"{FOLD_OUT}/fetch/structures.tsv",
    params:
        source=FOLD_FETCH["source"],
        flags=FOLD_FETCH_FLAGS[FOLD_FETCH["source"]],
        net=fetch_flags(),
        failures=cli_flags(FETCH, keys=("max_failures",)),
    log:
        f"{FOLD_LOG}/fetch_structures.log",
    resources:
        net=1,
    conda:
        f"{ENVS}/fold.yaml"
    shell:
        "pgml fetch {params.source} --id-list {input} --output-dir {output.structures} --manifest {output.manifest}"
        " {params.flags} {params.net} {params.failures} > {log} 2>&1"
