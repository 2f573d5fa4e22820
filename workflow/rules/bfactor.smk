# bfactor chain: X-ray structure -> atom graph -> per-atom B-factor (Meta-GNN and six other GNNs).
# select structures -> build atom graphs (sharded) -> split -> train (per architecture, per run)
# -> predict (held-out test set) -> evaluate (+ contact-number baseline) -> report.

BF = config["bfactor"]
BF_SHARDS = list(range(BF["shards"]))
BF_RUNS = list(range(BF["n_runs"]))
BF_OUT = "results/bfactor"
BF_LOG = "logs/bfactor"


def bfactor_targets():
    return [
        f"{BF_OUT}/evaluation/metrics.tsv",
        f"{BF_OUT}/evaluation/per_protein.tsv",
    ]


def bfactor_structure_args():
    return " ".join(str(p) for p in BF["structures"])


rule shard_structures:
    output:
        expand(f"{BF_OUT}/shards/shard_{{shard}}.txt", shard=BF_SHARDS),
    params:
        structures=bfactor_structure_args(),
        outdir=f"{BF_OUT}/shards",
    log:
        f"{BF_LOG}/shard_structures.log",
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "{PGML} bfactor shard --structures {params.structures} --n-shards {BF[shards]}"
        " --output-dir {params.outdir} > {log} 2>&1"


rule select_structures:
    input:
        f"{BF_OUT}/shards/shard_{{shard}}.txt",
    output:
        f"{BF_OUT}/selection/shard_{{shard}}.tsv",
    params:
        methods=" ".join(f"'{m}'" for m in BF["methods"]),
    log:
        f"{BF_LOG}/select_structures/shard_{{shard}}.log",
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "{PGML} bfactor select --manifest {input} --output {output}"
        " --max-resolution {BF[max_resolution]} --methods {params.methods} > {log} 2>&1"


rule build_graphs:
    input:
        f"{BF_OUT}/selection/shard_{{shard}}.tsv",
    output:
        f"{BF_OUT}/graphs/shard_{{shard}}.pt",
    log:
        f"{BF_LOG}/build_graphs/shard_{{shard}}.log",
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "{PGML} bfactor build-graphs --selection {input} --output {output}"
        " --target {BF[target]} --radius {BF[neighbour_radius]} > {log} 2>&1"


rule split_dataset:
    input:
        expand(f"{BF_OUT}/selection/shard_{{shard}}.tsv", shard=BF_SHARDS),
    output:
        split=f"{BF_OUT}/split.tsv",
        report=report(
            f"{BF_OUT}/selection.tsv",
            category="bfactor",
            subcategory="data",
            caption="../report/bfactor_selection.rst",
        ),
    log:
        f"{BF_LOG}/split_dataset.log",
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "{PGML} bfactor split --selection {input} --output {output.split} --report {output.report}"
        " --val-fraction {BF[split][val_fraction]} --test-fraction {BF[split][test_fraction]}"
        " --seed {SEED} > {log} 2>&1"


rule train_model:
    input:
        graphs=expand(f"{BF_OUT}/graphs/shard_{{shard}}.pt", shard=BF_SHARDS),
        split=f"{BF_OUT}/split.tsv",
    output:
        model=f"{BF_OUT}/models/{{arch}}/run{{run}}/model.ckpt",
        metrics=f"{BF_OUT}/models/{{arch}}/run{{run}}/metrics.tsv",
        curve=report(
            f"{BF_OUT}/models/{{arch}}/run{{run}}/learning_curve.png",
            category="bfactor",
            subcategory="training",
            labels={"architecture": "{arch}", "run": "{run}"},
            caption="../report/bfactor_learning_curve.rst",
        ),
    params:
        outdir=f"{BF_OUT}/models/{{arch}}/run{{run}}",
        seed=lambda wc: SEED + int(wc.run),
        t=BF["train"],
    log:
        f"{BF_LOG}/train_model/{{arch}}_run{{run}}.log",
    resources:
        gpu=1,
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "{PGML} bfactor train --graphs {input.graphs} --split {input.split} --architecture {wildcards.arch}"
        " --output-dir {params.outdir} --seed {params.seed} --epochs {params.t[epochs]}"
        " --hidden {params.t[hidden]} --layers {params.t[layers]} --dropout {params.t[dropout]}"
        " --optimizer {params.t[optimizer]} --lr {params.t[lr]} --weight-decay {params.t[weight_decay]}"
        " --batch-size {params.t[batch_size]} --patience {params.t[patience]} > {log} 2>&1"


rule predict_bfactors:
    input:
        model=f"{BF_OUT}/models/{{arch}}/run{{run}}/model.ckpt",
        split=f"{BF_OUT}/split.tsv",
    output:
        directory(f"{BF_OUT}/predictions/{{arch}}/run{{run}}"),
    log:
        f"{BF_LOG}/predict_bfactors/{{arch}}_run{{run}}.log",
    resources:
        gpu=1,
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "{PGML} bfactor predict --model {input.model} --from-split {input.split} --subset test"
        " --output-dir {output} > {log} 2>&1"


rule fit_baseline:
    input:
        graphs=expand(f"{BF_OUT}/graphs/shard_{{shard}}.pt", shard=BF_SHARDS),
        split=f"{BF_OUT}/split.tsv",
    output:
        directory(f"{BF_OUT}/predictions/baseline"),
    log:
        f"{BF_LOG}/fit_baseline.log",
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "{PGML} bfactor baseline --graphs {input.graphs} --split {input.split} --output-dir {output}"
        " > {log} 2>&1"


rule evaluate_models:
    input:
        predictions=expand(
            f"{BF_OUT}/predictions/{{arch}}/run{{run}}", arch=BF["architectures"], run=BF_RUNS
        ),
        baseline=f"{BF_OUT}/predictions/baseline",
    output:
        metrics=report(
            f"{BF_OUT}/evaluation/metrics.tsv",
            category="bfactor",
            subcategory="evaluation",
            caption="../report/bfactor_metrics.rst",
        ),
        per_protein=f"{BF_OUT}/evaluation/per_protein.tsv",
        scatter=report(
            f"{BF_OUT}/evaluation/scatter.png",
            category="bfactor",
            subcategory="evaluation",
            caption="../report/bfactor_scatter.rst",
        ),
        cc=report(
            f"{BF_OUT}/evaluation/cc_by_architecture.png",
            category="bfactor",
            subcategory="evaluation",
            caption="../report/bfactor_cc.rst",
        ),
    params:
        outdir=f"{BF_OUT}/evaluation",
    log:
        f"{BF_LOG}/evaluate_models.log",
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "{PGML} bfactor evaluate --predictions {input.predictions} --baseline {input.baseline}"
        " --output-dir {params.outdir} > {log} 2>&1"
