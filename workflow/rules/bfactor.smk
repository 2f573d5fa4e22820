# bfactor chain: X-ray structure -> atom graph -> per-atom B-factor (Meta-GNN and six other GNNs).
# select structures -> build atom graphs (sharded) -> split -> train (per architecture, per run)
# -> predict (held-out test set) -> evaluate (+ contact-number baseline) -> report.

rule shard_structures:
    output:
        expand(f"{BF_OUT}/shards/shard_{{shard}}.txt", shard=BF_SHARDS),
    params:
        structures=bfactor_structure_args(),
        n_shards=BF["shards"],
        outdir=lambda wc, output: os.path.dirname(output[0]),
    log:
        f"{BF_LOG}/shard_structures.log",
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "pgml bfactor shard --structures {params.structures} --n-shards {params.n_shards}"
        " --output-dir {params.outdir} > {log} 2>&1"


rule select_structures:
    input:
        f"{BF_OUT}/shards/shard_{{shard}}.txt",
    output:
        f"{BF_OUT}/selection/shard_{{shard}}.tsv",
    params:
        methods=" ".join(f"'{m}'" for m in BF["methods"]),
        max_resolution=BF["max_resolution"],
    log:
        f"{BF_LOG}/select_structures/shard_{{shard}}.log",
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "pgml bfactor select --manifest {input} --output {output}"
        " --max-resolution {params.max_resolution} --methods {params.methods} > {log} 2>&1"


rule build_graphs:
    input:
        f"{BF_OUT}/selection/shard_{{shard}}.tsv",
    output:
        f"{BF_OUT}/graphs/shard_{{shard}}.pt",
    params:
        target=BF["target"],
        radius=BF["neighbour_radius"],
    log:
        f"{BF_LOG}/build_graphs/shard_{{shard}}.log",
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "pgml bfactor build-graphs --selection {input} --output {output}"
        " --target {params.target} --radius {params.radius} > {log} 2>&1"


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
    params:
        split=BF["split"],
        seed=SEED,
    log:
        f"{BF_LOG}/split_dataset.log",
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "pgml bfactor split --selection {input} --output {output.split} --report {output.report}"
        " --val-fraction {params.split[val_fraction]} --test-fraction {params.split[test_fraction]}"
        " --seed {params.seed} > {log} 2>&1"


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
        outdir=lambda wc, output: os.path.dirname(output.model),
        seed=lambda wc: SEED + int(wc.run),
        t=BF["train"],
    log:
        f"{BF_LOG}/train_model/{{arch}}_run{{run}}.log",
    resources:
        gpu=1,
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "pgml bfactor train --graphs {input.graphs} --split {input.split} --architecture {wildcards.arch}"
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
        "pgml bfactor predict --model {input.model} --from-split {input.split} --subset test"
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
        "pgml bfactor baseline --graphs {input.graphs} --split {input.split} --output-dir {output}"
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
        outdir=lambda wc, output: os.path.dirname(output.metrics),
    log:
        f"{BF_LOG}/evaluate_models.log",
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "pgml bfactor evaluate --predictions {input.predictions} --baseline {input.baseline}"
        " --output-dir {params.outdir} > {log} 2>&1"


rule explain_atoms:
    input:
        model=f"{BF_OUT}/models/{{arch}}/run0/model.ckpt",
        structure=lambda wc: BF["explain"]["structure"],
    output:
        table=f"{BF_OUT}/explain/{{arch}}/feature_importance.tsv",
        plot=report(
            f"{BF_OUT}/explain/{{arch}}/feature_importance.png",
            category="bfactor",
            subcategory="explanation",
            labels={"architecture": "{arch}"},
            caption="../report/bfactor_explain.rst",
        ),
    params:
        atoms=lambda wc: " ".join(BF["explain"]["atoms"]),
        outdir=lambda wc, output: os.path.dirname(output.table),
        seed=SEED,
    log:
        f"{BF_LOG}/explain_atoms/{{arch}}.log",
    conda:
        f"{ENVS}/pgml.yaml"
    shell:
        "pgml bfactor explain --model {input.model} --structure {input.structure} --atoms {params.atoms}"
        " --output-dir {params.outdir} --seed {params.seed} > {log} 2>&1"
