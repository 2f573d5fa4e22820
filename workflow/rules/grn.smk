# grn chain: expression matrix + regulator list -> GNET2 regulatory modules, trees and scored edges.
# simulate a network (demo; or read config grn.input) -> infer modules (per init method)
# -> plot modules + score label coherence; baselines (CLR, ARACNE, MRNET, GENIE3, |correlation|)
# -> evaluate all ranked edge lists against the true network (when one is known).
# Rules mirror `pgml grn <step>`; flags come from the config section of the same name.

GRN = config["grn"]
GRN_OUT = "results/grn"
GRN_LOG = "logs/grn"
GRN_INPUT = GRN.get("input", {})
GRN_SIM = f"{GRN_OUT}/data"
GRN_EXPR = GRN_INPUT.get("expression", f"{GRN_SIM}/expression.tsv")
GRN_REGS = GRN_INPUT.get("regulators", f"{GRN_SIM}/regulators.txt")
GRN_TRUTH = GRN_INPUT.get("truth", None if GRN_INPUT else f"{GRN_SIM}/true_edges.tsv")
GRN_LABELS = GRN_INPUT.get("sample_labels", None if GRN_INPUT else f"{GRN_SIM}/sample_labels.tsv")
GRN_READ_ARGS = cli_flags(GRN_INPUT, keys=("samples_in_rows", "log_transform"))


# stop at parse time (also under -n) when the chain is on and a configured input is missing
if chain_enabled("grn"):
    for key in ("expression", "regulators", "truth", "sample_labels"):
        if key in GRN_INPUT and not Path(GRN_INPUT[key]).is_file():
            raise WorkflowError(f"grn.input.{key}: not found: {GRN_INPUT[key]} (working directory {Path.cwd()})")


wildcard_constraints:
    grn_init="|".join(CONFIG_SCHEMA["$defs"]["grn_init"]["enum"]),
    grn_method="|".join(CONFIG_SCHEMA["$defs"]["grn_baseline"]["enum"]),


GRN_TARGETS = [
    f"{GRN_OUT}/gnet2_{init}/{name}"
    for init in GRN["inits"]
    for name in ["plots/module_correlation.png", "plots/module_heatmaps.pdf"]
    + (["coherence.tsv"] if GRN_LABELS else [])
] + ([f"{GRN_OUT}/evaluation/metrics.tsv"] if GRN_TRUTH else [])
# gnet2_<init>: eq. 3.19 as the R package; gnet2_rank_<init>: this port's edge score (edges_rank.tsv)
GRN_METHOD_ARGS = " ".join(
    f"gnet2_{init}={GRN_OUT}/gnet2_{init}/edges.tsv gnet2_rank_{init}={GRN_OUT}/gnet2_{init}/edges_rank.tsv"
    for init in GRN["inits"]
)
GRN_BASELINE_ARGS = " ".join(f"{m}={GRN_OUT}/baselines/{m}.tsv" for m in GRN["baselines"])


rule grn_simulate_network:
    output:
        expression=f"{GRN_SIM}/expression.tsv",
        regulators=f"{GRN_SIM}/regulators.txt",
        truth=f"{GRN_SIM}/true_edges.tsv",
        labels=f"{GRN_SIM}/sample_labels.tsv",
    params:
        seed=SEED,
        simulate=cli_flags(GRN["simulate"]),
        outdir=lambda wc, output: Path(output.expression).parent,
    log:
        f"{GRN_LOG}/simulate_network.log",
    conda:
        f"{ENVS}/grn.yaml"
    shell:
        "pgml grn simulate --output-dir {params.outdir} {params.simulate} --seed {params.seed} > {log} 2>&1"


rule grn_infer_modules:
    input:
        expression=GRN_EXPR,
        regulators=GRN_REGS,
    output:
        edges=f"{GRN_OUT}/gnet2_{{grn_init}}/edges.tsv",
        edges_rank=f"{GRN_OUT}/gnet2_{{grn_init}}/edges_rank.tsv",
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
        card=f"{GRN_OUT}/gnet2_{{grn_init}}/model.json",
    params:
        seed=SEED,
        outdir=lambda wc, output: Path(output.edges).parent,
        gnet=cli_flags(GRN["gnet"]),
        read=GRN_READ_ARGS,
    threads: 2
    log:
        f"{GRN_LOG}/infer_modules/{{grn_init}}.log",
    conda:
        f"{ENVS}/grn.yaml"
    shell:
        "pgml grn infer --expression {input.expression} --regulators {input.regulators}"
        " --output-dir {params.outdir} --init {wildcards.grn_init} {params.gnet} {params.read}"
        " --seed {params.seed} --threads {threads} > {log} 2>&1"


rule grn_plot_modules:
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
        outdir=lambda wc, output: Path(output.correlation).parent,
    log:
        f"{GRN_LOG}/plot_modules/{{grn_init}}.log",
    conda:
        f"{ENVS}/grn.yaml"
    shell:
        "pgml grn plot --result {input.result} --output-dir {params.outdir} > {log} 2>&1"


rule grn_score_label_coherence:
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
        ordinal="--ordinal" if GRN_INPUT.get("labels_ordinal", False) else "",
        coherence=cli_flags(GRN["coherence"]),
    log:
        f"{GRN_LOG}/score_label_coherence/{{grn_init}}.log",
    conda:
        f"{ENVS}/grn.yaml"
    shell:
        "pgml grn coherence --result {input.result} --labels {input.labels} {params.ordinal}"
        " {params.coherence} --seed {params.seed} --output {output} > {log} 2>&1"


rule grn_infer_baseline_network:
    input:
        expression=GRN_EXPR,
        regulators=GRN_REGS,
    output:
        f"{GRN_OUT}/baselines/{{grn_method}}.tsv",
    params:
        seed=SEED,
        genie3=cli_flags(GRN, keys=("genie3_trees",)),
        read=GRN_READ_ARGS,
    threads: 2
    log:
        f"{GRN_LOG}/infer_baseline_network/{{grn_method}}.log",
    conda:
        f"{ENVS}/grn.yaml"
    shell:
        "pgml grn baseline --method {wildcards.grn_method}"
        " --expression {input.expression} --regulators {input.regulators} --output {output}"
        " {params.genie3} {params.read} --seed {params.seed} --threads {threads} > {log} 2>&1"


rule grn_evaluate_networks:
    input:
        truth=GRN_TRUTH or [],
        expression=GRN_EXPR,
        regulators=GRN_REGS,
        gnet=expand(f"{GRN_OUT}/gnet2_{{init}}/{{name}}", init=GRN["inits"], name=["edges.tsv", "edges_rank.tsv"]),
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
        baselines=f"--baseline {GRN_BASELINE_ARGS}" if GRN["baselines"] else "",
        outdir=lambda wc, output: Path(output.metrics).parent,
        read=GRN_READ_ARGS,
    log:
        f"{GRN_LOG}/evaluate_networks.log",
    conda:
        f"{ENVS}/grn.yaml"
    shell:
        "pgml grn evaluate --truth {input.truth} --expression {input.expression}"
        " --regulators {input.regulators} --method {params.methods} {params.baselines} --output-dir {params.outdir}"
        " {params.read} > {log} 2>&1"


# ---- fetch: Synapse files (the DREAM5 network-inference data, syn2787209) for grn.input (grn.fetch)
GRN_FETCH = GRN["fetch"]
if chain_enabled("grn") and GRN_FETCH["enabled"] and GRN_FETCH["synapse"]:
    GRN_TARGETS += [f"{GRN_OUT}/fetch/synapse"]
    if not FETCH["offline"] and not os.environ.get("SYNAPSE_AUTH_TOKEN"):
        raise WorkflowError(
            f"grn.fetch.synapse: {', '.join(GRN_FETCH['synapse'])} need(s) a Synapse login: create an account at "
            "https://www.synapse.org, accept the challenge's terms of use on its page (DREAM5: syn2787209), create "
            "a personal access token (scope 'download') and export SYNAPSE_AUTH_TOKEN=<token>"
        )


localrules:
    grn_fetch_synapse,


rule grn_fetch_synapse:
    output:
        files=directory(f"{GRN_OUT}/fetch/synapse"),
        manifest=f"{GRN_OUT}/fetch/synapse.tsv",
    params:
        ids=cli_flags({"ids": GRN_FETCH["synapse"]}),
        net=fetch_flags(),
    log:
        f"{GRN_LOG}/fetch_synapse.log",
    resources:
        net=1,
    conda:
        f"{ENVS}/grn.yaml"
    shell:
        "pgml fetch synapse {params.ids} --output-dir {output.files} --manifest {output.manifest} {params.net}"
        " > {log} 2>&1"
