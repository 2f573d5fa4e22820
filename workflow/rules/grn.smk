# grn chain: expression matrix + regulator list -> GNET2 regulatory modules, trees and scored edges.
# simulate a network (demo; or read config grn.input) -> infer modules (per init method)
# -> plot modules + score label coherence; baselines (CLR, ARACNE, MRNET, GENIE3, |correlation|)
# -> evaluate all ranked edge lists against the true network (when one is known).

# defaults (the demo's values) so that a config without a grn section still parses this file
GRN_DEFAULTS = {
    "simulate": {"n_genes": 100, "n_samples": 100, "n_external": 5, "tf_fraction": 0.12, "n_conditions": 4,
                 "bio_noise": 0.1, "noise": 0.1},
    "inits": ["boosting", "kmeans"],
    "gnet": {"init_group_num": 8, "max_depth": 3, "cor_cutoff": 0.9, "min_divide_size": 3, "min_group_size": 2,
             "max_iter": 5, "force_split": 0.5, "top_percent": 100},
    "baselines": ["clr", "aracne", "mrnet", "genie3", "correlation"],
    "genie3_trees": 200,
    "coherence_permutations": 1000,
}
GRN = config.get("grn", GRN_DEFAULTS)
GRN_OUT = "results/grn"
GRN_LOG = "logs/grn"
GRN_INPUT = GRN.get("input", {})
GRN_SIM = f"{GRN_OUT}/data"
GRN_EXPR = GRN_INPUT.get("expression", f"{GRN_SIM}/expression.tsv")
GRN_REGS = GRN_INPUT.get("regulators", f"{GRN_SIM}/regulators.txt")
GRN_TRUTH = GRN_INPUT.get("truth", None if "expression" in GRN_INPUT else f"{GRN_SIM}/true_edges.tsv")
GRN_LABELS = GRN_INPUT.get("sample_labels", None if "expression" in GRN_INPUT else f"{GRN_SIM}/sample_labels.tsv")
GRN_READ_ARGS = " ".join(
    flag
    for flag, on in (
        ("--samples-in-rows", GRN_INPUT.get("samples_in_rows", False)),
        ("--log-transform", GRN_INPUT.get("log_transform", False)),
    )
    if on
)


wildcard_constraints:
    grn_init="boosting|kmeans",
    grn_method="clr|aracne|mrnet|genie3|correlation",


GRN_TARGETS = [
    f"{GRN_OUT}/gnet2_{init}/{name}"
    for init in GRN["inits"]
    for name in ["plots/module_correlation.png", "plots/module_heatmaps.pdf"]
    + (["coherence.tsv"] if GRN_LABELS else [])
] + ([f"{GRN_OUT}/evaluation/metrics.tsv"] if GRN_TRUTH else [])
GRN_GNET_ARGS = (
    "--init-group-num {init_group_num} --max-depth {max_depth} --cor-cutoff {cor_cutoff}"
    " --min-divide-size {min_divide_size} --min-group-size {min_group_size} --max-iter {max_iter}"
    " --force-split {force_split}".format(**GRN["gnet"])
    + (f" --top-percent {GRN['gnet']['top_percent']}" if GRN["gnet"].get("top_percent", 100) < 100 else "")
)
GRN_METHOD_ARGS = " ".join(
    [f"gnet2_{init}={GRN_OUT}/gnet2_{init}/edges.tsv" for init in GRN["inits"]]
    + [f"{m}={GRN_OUT}/baselines/{m}.tsv" for m in GRN["baselines"]]
)


rule simulate_network:
    output:
        expression=f"{GRN_SIM}/expression.tsv",
        regulators=f"{GRN_SIM}/regulators.txt",
        truth=f"{GRN_SIM}/true_edges.tsv",
        labels=f"{GRN_SIM}/sample_labels.tsv",
    params:
        seed=SEED,
        s=GRN["simulate"],
        outdir=lambda wc, output: os.path.dirname(output.expression),
    log:
        f"{GRN_LOG}/simulate_network.log",
    conda:
        f"{ENVS}/grn.yaml"
    shell:
        "pgml grn simulate --output-dir {params.outdir} --n-genes {params.s[n_genes]}"
        " --n-samples {params.s[n_samples]} --n-external {params.s[n_external]}"
        " --tf-fraction {params.s[tf_fraction]} --n-conditions {params.s[n_conditions]}"
        " --bio-noise {params.s[bio_noise]} --noise {params.s[noise]} --seed {params.seed} > {log} 2>&1"


rule infer_modules:
    input:
        expression=GRN_EXPR,
        regulators=GRN_REGS,
    output:
        edges=f"{GRN_OUT}/gnet2_{{grn_init}}/edges.tsv",
        modules=report(
            f"{GRN_OUT}/gnet2_{{grn_init}}/modules.tsv",
            category="grn",
            subcategory="modules",
            labels={"init": "{grn_init}", "table": "modules"},
            caption="../report/grn_modules.rst",
        ),
        genes=f"{GRN_OUT}/gnet2_{{grn_init}}/gene_modules.tsv",
        trees=f"{GRN_OUT}/gnet2_{{grn_init}}/module_regulators.tsv",
        leaves=f"{GRN_OUT}/gnet2_{{grn_init}}/leaf_groups.tsv",
        result=f"{GRN_OUT}/gnet2_{{grn_init}}/result.json",
        arrays=f"{GRN_OUT}/gnet2_{{grn_init}}/result.npz",
    params:
        seed=SEED,
        outdir=lambda wc, output: os.path.dirname(output.edges),
        gnet=GRN_GNET_ARGS,
        read=GRN_READ_ARGS,
    threads: 2
    log:
        f"{GRN_LOG}/infer_modules/{{grn_init}}.log",
    conda:
        f"{ENVS}/grn.yaml"
    shell:
        "PGML_THREADS={threads} pgml grn infer --expression {input.expression} --regulators {input.regulators}"
        " --output-dir {params.outdir} --init {wildcards.grn_init} {params.gnet} {params.read}"
        " --seed {params.seed} > {log} 2>&1"


rule plot_modules:
    input:
        result=f"{GRN_OUT}/gnet2_{{grn_init}}/result.json",
        arrays=f"{GRN_OUT}/gnet2_{{grn_init}}/result.npz",
    output:
        heatmaps=report(
            f"{GRN_OUT}/gnet2_{{grn_init}}/plots/module_heatmaps.pdf",
            category="grn",
            subcategory="modules",
            labels={"init": "{grn_init}", "figure": "heatmaps"},
            caption="../report/grn_heatmaps.rst",
        ),
        heatmap=f"{GRN_OUT}/gnet2_{{grn_init}}/plots/module_heatmap.png",
        trees=report(
            f"{GRN_OUT}/gnet2_{{grn_init}}/plots/module_trees.pdf",
            category="grn",
            subcategory="modules",
            labels={"init": "{grn_init}", "figure": "trees"},
            caption="../report/grn_trees.rst",
        ),
        correlation=report(
            f"{GRN_OUT}/gnet2_{{grn_init}}/plots/module_correlation.png",
            category="grn",
            subcategory="modules",
            labels={"init": "{grn_init}", "figure": "correlation"},
            caption="../report/grn_correlation.rst",
        ),
    params:
        result=lambda wc, input: os.path.dirname(input.result),
        outdir=lambda wc, output: os.path.dirname(output.correlation),
    log:
        f"{GRN_LOG}/plot_modules/{{grn_init}}.log",
    conda:
        f"{ENVS}/grn.yaml"
    shell:
        "pgml grn plot --result {params.result} --output-dir {params.outdir} > {log} 2>&1"


rule score_label_coherence:
    input:
        result=f"{GRN_OUT}/gnet2_{{grn_init}}/result.json",
        arrays=f"{GRN_OUT}/gnet2_{{grn_init}}/result.npz",
        labels=GRN_LABELS or [],
    output:
        report(
            f"{GRN_OUT}/gnet2_{{grn_init}}/coherence.tsv",
            category="grn",
            subcategory="modules",
            labels={"init": "{grn_init}", "table": "label coherence"},
            caption="../report/grn_coherence.rst",
        ),
    params:
        seed=SEED,
        result=lambda wc, input: os.path.dirname(input.result),
        ordinal="--ordinal" if GRN_INPUT.get("labels_ordinal", False) else "",
        n_perm=GRN["coherence_permutations"],
    log:
        f"{GRN_LOG}/score_label_coherence/{{grn_init}}.log",
    conda:
        f"{ENVS}/grn.yaml"
    shell:
        "pgml grn coherence --result {params.result} --labels {input.labels} {params.ordinal}"
        " --n-perm {params.n_perm} --seed {params.seed} --output {output} > {log} 2>&1"


rule infer_baseline_network:
    input:
        expression=GRN_EXPR,
        regulators=GRN_REGS,
    output:
        f"{GRN_OUT}/baselines/{{grn_method}}.tsv",
    params:
        seed=SEED,
        n_trees=GRN["genie3_trees"],
        read=GRN_READ_ARGS,
    threads: 2
    log:
        f"{GRN_LOG}/infer_baseline_network/{{grn_method}}.log",
    conda:
        f"{ENVS}/grn.yaml"
    shell:
        "PGML_THREADS={threads} pgml grn baseline --method {wildcards.grn_method}"
        " --expression {input.expression} --regulators {input.regulators} --output {output}"
        " --n-trees {params.n_trees} {params.read} --seed {params.seed} > {log} 2>&1"


rule evaluate_networks:
    input:
        truth=GRN_TRUTH or [],
        expression=GRN_EXPR,
        regulators=GRN_REGS,
        gnet=expand(f"{GRN_OUT}/gnet2_{{init}}/edges.tsv", init=GRN["inits"]),
        baselines=expand(f"{GRN_OUT}/baselines/{{method}}.tsv", method=GRN["baselines"]),
    output:
        metrics=report(
            f"{GRN_OUT}/evaluation/metrics.tsv",
            category="grn",
            subcategory="evaluation",
            caption="../report/grn_metrics.rst",
        ),
        table=f"{GRN_OUT}/evaluation/metrics.md",
        roc=report(
            f"{GRN_OUT}/evaluation/roc.png",
            category="grn",
            subcategory="evaluation",
            caption="../report/grn_roc.rst",
        ),
    params:
        methods=GRN_METHOD_ARGS,
        outdir=lambda wc, output: os.path.dirname(output.metrics),
        read=GRN_READ_ARGS,
    log:
        f"{GRN_LOG}/evaluate_networks.log",
    conda:
        f"{ENVS}/grn.yaml"
    shell:
        "pgml grn evaluate --truth {input.truth} --expression {input.expression}"
        " --regulators {input.regulators} --method {params.methods} --output-dir {params.outdir}"
        " {params.read} > {log} 2>&1"
