# qa chain: protein models + AlphaFold2 references -> per-residue lDDT with EnQA (E(n)-equivariant GNN).
# simulate demo targets (or read qa.targets) -> features + labels per shard of targets -> split targets by
# sequence identity -> train -> predict (test targets; TSV + B column) -> evaluate (+ AF2Consensus and
# AF2-pLDDT baselines) + feature-permutation importance. Rules mirror `pgml qa <step>`; flags come from the config section of the same name.

QA = config["qa"]
QA_OUT = "results/qa"
QA_LOG = "logs/qa"
# demo: natives -> simulated targets under results/qa/data/<native stem>; else the configured target dirs
QA_NATIVES = {Path(p).name.split(".")[0]: p for p in QA["natives"]} if not QA["targets"] else {}
QA_TARGET_DIRS = [str(p) for p in QA["targets"]] or [f"{QA_OUT}/data/{name}" for name in QA_NATIVES]
QA_SHARDS = list(range(min(QA["shards"], max(len(QA_TARGET_DIRS), 1))))


# stop at parse time (also under -n) when the chain is on and its inputs are missing
if chain_enabled("qa"):
    if not QA["targets"] and not QA["natives"]:
        raise WorkflowError("qa: give qa.targets (target directories) or qa.natives (demo: simulated targets)")
    for path in QA["targets"] or QA["natives"]:
        if not Path(path).exists():
            raise WorkflowError(f"qa: not found: {path} (working directory {Path.cwd()})")
    if len(QA_TARGET_DIRS) < 3:
        raise WorkflowError(f"qa: {len(QA_TARGET_DIRS)} target(s); a train/validation/test split needs at least 3")

QA_TARGETS = [f"{QA_OUT}/evaluation/metrics.tsv", f"{QA_OUT}/importance/feature_importance.tsv"]


wildcard_constraints:
    qa_target=r"[A-Za-z0-9_.-]+",
    qa_shard=r"\d+",


rule qa_simulate_target:
    input:
        lambda wc: QA_NATIVES[wc.qa_target],
    output:
        directory(f"{QA_OUT}/data/{{qa_target}}"),
    params:
        simulate=cli_flags(QA["simulate"]),
        outdir=lambda wc, output: Path(output[0]).parent,
        seed=SEED,
    log:
        f"{QA_LOG}/simulate_target/{{qa_target}}.log",
    conda:
        f"{ENVS}/qa.yaml"
    shell:
        "pgml qa simulate --natives {input} --output-dir {params.outdir} {params.simulate}"
        " --seed {params.seed} > {log} 2>&1"


rule qa_build_graphs:
    input:
        lambda wc: QA_TARGET_DIRS[int(wc.qa_shard)::len(QA_SHARDS)],
    output:
        f"{QA_OUT}/graphs/shard_{{qa_shard}}.pt",
    params:
        features=cli_flags(QA["features"]),
    threads: 1
    log:
        f"{QA_LOG}/build_graphs/shard_{{qa_shard}}.log",
    conda:
        f"{ENVS}/qa.yaml"
    shell:
        "pgml qa build-graphs --targets {input} --output {output} {params.features}"
        " --threads {threads} > {log} 2>&1"


rule qa_split_targets:
    input:
        expand(f"{QA_OUT}/graphs/shard_{{qa_shard}}.pt", qa_shard=QA_SHARDS),
    output:
        f"{QA_OUT}/split.tsv",
    params:
        split=cli_flags(QA["split"]),
        seed=SEED,
    threads: 1
    log:
        f"{QA_LOG}/split_targets.log",
    conda:
        f"{ENVS}/qa.yaml"
    shell:
        "pgml qa split --graphs {input} --output {output} {params.split} --seed {params.seed}"
        " --threads {threads} > {log} 2>&1"


rule qa_train_model:
    input:
        graphs=expand(f"{QA_OUT}/graphs/shard_{{qa_shard}}.pt", qa_shard=QA_SHARDS),
        split=f"{QA_OUT}/split.tsv",
    output:
        model=f"{QA_OUT}/model/model.ckpt",
        metrics=f"{QA_OUT}/model/metrics.tsv",
        curve=report(
            f"{QA_OUT}/model/learning_curve.png",
            category="qa",
            subcategory="training",
            caption="../report/qa_learning_curve.rst",
        ),
    params:
        outdir=lambda wc, output: Path(output.model).parent,
        train=cli_flags(QA["train"]),
        seed=SEED,
    # one thread: EnQA's per-model steps are small, and two torch threads on a busy 2-core machine spin
    # against each other (10-30x slower per step than one)
    threads: 1
    resources:
        gpu=1,
    log:
        f"{QA_LOG}/train_model.log",
    conda:
        f"{ENVS}/qa.yaml"
    shell:
        "pgml qa train --graphs {input.graphs} --split {input.split} --output-dir {params.outdir}"
        " {params.train} --seed {params.seed} --threads {threads} > {log} 2>&1"


rule qa_predict_lddt:
    input:
        model=f"{QA_OUT}/model/model.ckpt",
        graphs=expand(f"{QA_OUT}/graphs/shard_{{qa_shard}}.pt", qa_shard=QA_SHARDS),
        split=f"{QA_OUT}/split.tsv",
    output:
        directory(f"{QA_OUT}/predictions"),
    threads: 1
    resources:
        gpu=1,
    log:
        f"{QA_LOG}/predict_lddt.log",
    conda:
        f"{ENVS}/qa.yaml"
    shell:
        "pgml qa predict --model {input.model} --graphs {input.graphs} --split {input.split} --subset test"
        " --output-dir {output} --threads {threads} > {log} 2>&1"


rule qa_evaluate_predictions:
    input:
        f"{QA_OUT}/predictions",
    output:
        metrics=report(
            f"{QA_OUT}/evaluation/metrics.tsv",
            category="qa",
            subcategory="evaluation",
            caption="../report/qa_metrics.rst",
        ),
        residues=report(
            f"{QA_OUT}/evaluation/scatter_residues.png",
            category="qa",
            subcategory="evaluation",
            caption="../report/qa_scatter.rst",
        ),
        models=report(
            f"{QA_OUT}/evaluation/scatter_models.png",
            category="qa",
            subcategory="evaluation",
            caption="../report/qa_scatter.rst",
        ),
    params:
        outdir=lambda wc, output: Path(output.metrics).parent,
    log:
        f"{QA_LOG}/evaluate_predictions.log",
    conda:
        f"{ENVS}/qa.yaml"
    shell:
        "pgml qa evaluate --predictions {input} --output-dir {params.outdir} > {log} 2>&1"


rule qa_explain_features:
    input:
        model=f"{QA_OUT}/model/model.ckpt",
        graphs=expand(f"{QA_OUT}/graphs/shard_{{qa_shard}}.pt", qa_shard=QA_SHARDS),
        split=f"{QA_OUT}/split.tsv",
    output:
        table=f"{QA_OUT}/importance/feature_importance.tsv",
        plot=report(
            f"{QA_OUT}/importance/feature_importance.png",
            category="qa",
            subcategory="explanation",
            caption="../report/qa_importance.rst",
        ),
    params:
        outdir=lambda wc, output: Path(output.table).parent,
        seed=SEED,
    threads: 1
    log:
        f"{QA_LOG}/explain_features.log",
    conda:
        f"{ENVS}/qa.yaml"
    shell:
        "pgml qa importance --model {input.model} --graphs {input.graphs} --split {input.split} --subset test"
        " --output-dir {params.outdir} --seed {params.seed} --threads {threads} > {log} 2>&1"


# ---- fetch: a CASP round's target list and server models, AlphaFold DB models (qa.fetch)
QA_FETCH = QA["fetch"]
QA_FETCH_OUT = f"{QA_OUT}/fetch"
QA_FETCH_TARGETS = (
    [f"{QA_FETCH_OUT}/casp{QA_FETCH['round']}.targetlist.csv"]
    + ([f"{QA_FETCH_OUT}/casp{QA_FETCH['round']}_server_models"] if QA_FETCH["targets"] else [])
    + ([f"{QA_FETCH_OUT}/alphafold"] if QA_FETCH["alphafold"] else [])
    if QA_FETCH["enabled"]
    else []
)
QA_TARGETS += QA_FETCH_TARGETS


localrules:
    qa_fetch_target_list,
    qa_fetch_models,
    qa_fetch_alphafold,


rule qa_fetch_target_list:
    output:
        f"{QA_FETCH_OUT}/casp{QA_FETCH['round']}.targetlist.csv",
    params:
        round=QA_FETCH["round"],
        outdir=lambda wc, output: Path(output[0]).parent,
        net=fetch_flags(),
    log:
        f"{QA_LOG}/fetch_target_list.log",
    resources:
        net=1,
    conda:
        f"{ENVS}/qa.yaml"
    shell:
        "pgml fetch casp --kind target-list --round {params.round} --output-dir {params.outdir} {params.net} > {log} 2>&1"


rule qa_fetch_models:
    output:
        models=directory(f"{QA_FETCH_OUT}/casp{QA_FETCH['round']}_server_models"),
        manifest=f"{QA_FETCH_OUT}/casp{QA_FETCH['round']}_server_models.tsv",
    params:
        round=QA_FETCH["round"],
        targets=cli_flags({"ids": QA_FETCH["targets"]}),
        net=fetch_flags(),
        failures=cli_flags(FETCH, keys=("max_failures",)),
    log:
        f"{QA_LOG}/fetch_models.log",
    resources:
        net=1,
    conda:
        f"{ENVS}/qa.yaml"
    shell:
        "pgml fetch casp --kind server-models --round {params.round} {params.targets} --output-dir {output.models}"
        " --manifest {output.manifest} {params.net} {params.failures} > {log} 2>&1"


rule qa_fetch_alphafold:
    output:
        models=directory(f"{QA_FETCH_OUT}/alphafold"),
        manifest=f"{QA_FETCH_OUT}/alphafold.tsv",
    params:
        ids=cli_flags({"ids": QA_FETCH["alphafold"]}),
        net=fetch_flags(),
        failures=cli_flags(FETCH, keys=("max_failures",)),
    log:
        f"{QA_LOG}/fetch_alphafold.log",
    resources:
        net=1,
    conda:
        f"{ENVS}/qa.yaml"
    shell:
        "pgml fetch alphafold {params.ids} --output-dir {output.models} --manifest {output.manifest}"
        " {params.net} {params.failures} > {log} 2>&1"
