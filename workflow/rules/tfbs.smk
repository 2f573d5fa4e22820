# tfbs chain (DeepGRN): genome + DNase-seq + ChIP-seq peaks + RNA-seq -> TF binding per 200-bp bin.
# simulate the demo inputs (or read config tfbs.input) -> bin the genome -> label bins per TF, DNase
# coverage per cell type, expression PCA, bin annotation -> train one model per TF -> predict the
# validation + test chromosomes per TF x cell type -> evaluate against the DNase and logistic-regression
# baselines (with tfbs.noattention, the no-attention ablation is trained, predicted and scored beside
# DeepGRN). Rules mirror `pgml tfbs <step>`; flags come from the config section of the same name.

import gzip
import re

TFBS = config["tfbs"]
TFBS_OUT = "results/tfbs"
TFBS_LOG = "logs/tfbs"
TFBS_INPUT = TFBS.get("input", {})
TFBS_SIM = f"{TFBS_OUT}/data"
TFBS_SIM_CELLS = [c.strip() for c in TFBS["simulate"].get("cells", "CellA,CellB,CellC").split(",")]
TFBS_SIM_TFS = [t.split("=")[0].strip() for t in TFBS["simulate"].get("tfs", "CTCF=MA0139.1,REST=MA0138.2").split(",")]
TFBS_PREDICT_CELLS = list(TFBS.get("predict_cells", []))
TFBS_CELLS = sorted({c for spec in TFBS["tfs"].values() for c in spec["train"] + spec["test"]} | set(TFBS_PREDICT_CELLS))
if TFBS_INPUT:
    TFBS_FASTA = TFBS_INPUT["genome"]
    TFBS_SIZES = TFBS_INPUT.get("chrom_sizes", f"{TFBS_FASTA}.fai")
    TFBS_BLACKLIST = TFBS_INPUT["blacklist"]
    TFBS_MAPPABILITY = TFBS_INPUT["mappability"]
    TFBS_ANNOTATION = TFBS_INPUT["annotation"]
    TFBS_CONSERVATIVE = TFBS_INPUT["conservative_peaks"]
    TFBS_RELAXED = TFBS_INPUT["relaxed_peaks"]
    TFBS_DNASE_IN = {c: list(TFBS_INPUT["dnase"].get(c, [])) for c in TFBS_CELLS}
    TFBS_NO_DNASE = [c for c, files in TFBS_DNASE_IN.items() if not files]
    if TFBS_NO_DNASE and chain_enabled("tfbs"):
        raise WorkflowError(f"tfbs.input.dnase: no BAM or bigWig for cell type(s) {', '.join(TFBS_NO_DNASE)}")
else:
    TFBS_FASTA = f"{TFBS_SIM}/genome.fa"
    TFBS_SIZES = f"{TFBS_SIM}/chrom.sizes"
    TFBS_BLACKLIST = f"{TFBS_SIM}/blacklist.bed"
    TFBS_MAPPABILITY = f"{TFBS_SIM}/mappability.bw"
    TFBS_ANNOTATION = {a: f"{TFBS_SIM}/annotation/{a}.bed" for a in ("cds", "intron", "promoter", "utr5", "utr3", "cpg")}
    TFBS_CONSERVATIVE = f"{TFBS_SIM}/peaks/{{tf}}.{{cell}}.conservative.narrowPeak.gz"
    TFBS_RELAXED = f"{TFBS_SIM}/peaks/{{tf}}.{{cell}}.relaxed.narrowPeak.gz"
    TFBS_DNASE_IN = {
        c: [f"{TFBS_SIM}/dnase/{c}.rep{r}.bam" for r in ([1, 2] if i == 0 else [1])]
        for i, c in enumerate(TFBS_SIM_CELLS)
    }
TFBS_PEAKS = {
    tf: {
        c: [TFBS_CONSERVATIVE.format(tf=tf, cell=c), TFBS_RELAXED.format(tf=tf, cell=c)]
        for c in spec["train"] + spec["test"]
    }
    for tf, spec in TFBS["tfs"].items()
}
TFBS_PEAK_ARGS = {tf: " ".join(f"{c}={p[0]},{p[1]}" for c, p in cells.items()) for tf, cells in TFBS_PEAKS.items()}
# a cell type given as one ready bigWig is checked and used as is; BAM replicates go through bamCoverage
TFBS_DNASE_ARGS = {
    c: (f"--bigwig {files[0]}" if files[0].endswith((".bw", ".bigWig", ".bigwig")) else "--bam " + " ".join(files))
    for c, files in TFBS_DNASE_IN.items()
    if files
}
TFBS_DNASE_PEAKS = TFBS_INPUT.get("dnase_peaks", {})
TFBS_PCA_IN = TFBS_INPUT.get("expression_pca")
TFBS_PCA = TFBS_PCA_IN or f"{TFBS_OUT}/expression/pca.tsv"
TFBS_TPM = TFBS_INPUT.get("tpm", f"{TFBS_SIM}/tpm.tsv")
TFBS_CHROM_ARGS = cli_flags({"chroms": TFBS["chroms"]}) if TFBS.get("chroms") else ""
TFBS_SPLIT_ARGS = cli_flags({"valid_chroms": TFBS["valid_chroms"], "test_chroms": TFBS["test_chroms"]})
TFBS_PREDICT_CHROMS = " ".join(TFBS["valid_chroms"] + TFBS["test_chroms"])
TFBS_ANNOTATION_ARGS = " ".join(f"{a}={p}" for a, p in TFBS_ANNOTATION.items())
TFBS_TRACKS = {c: f"{TFBS_OUT}/dnase/{c}.bw" for c in TFBS_CELLS}
TFBS_DNASE_TRACK_ARGS = " ".join(f"{c}={p}" for c, p in TFBS_TRACKS.items())
TFBS_NOATTENTION = TFBS.get("noattention", True)
TFBS_NOATT_MODEL = f"{TFBS_OUT}/models/{{tfbs_tf}}/noattention/model.ckpt"
TFBS_NOATT_MODULES = f"{TFBS_OUT}/predictions/{{tfbs_tf}}/{{tfbs_cell}}/noattention/modules.tsv.gz"
# the evaluated cell type and the TF's training cell types (the logistic baseline reads their DNase)
TFBS_EVAL_CELLS = lambda wc: list(dict.fromkeys([wc.tfbs_cell] + TFBS["tfs"][wc.tfbs_tf]["train"]))
TFBS_SIM_OUTPUTS = (
    [f"{TFBS_SIM}/{n}" for n in ("genome.fa", "genome.fa.fai", "chrom.sizes", "blacklist.bed", "mappability.bw", "tpm.tsv")]
    + [f"{TFBS_SIM}/annotation/{a}.bed" for a in ("cds", "intron", "promoter", "utr5", "utr3", "cpg")]
    + [f"{TFBS_SIM}/peaks/{t}.{c}.{k}.narrowPeak.gz" for t in TFBS_SIM_TFS for c in TFBS_SIM_CELLS for k in ("conservative", "relaxed")]
    + [p for files in TFBS_DNASE_IN.values() for p in files]
    if not TFBS_INPUT
    else []
)

# stop at parse time (also under -n) when the chain is on and a configured input is missing
if chain_enabled("tfbs") and TFBS_INPUT:
    for path in [TFBS_FASTA, TFBS_SIZES, TFBS_BLACKLIST, TFBS_MAPPABILITY, *TFBS_ANNOTATION.values(),
                 *(p for cells in TFBS_PEAKS.values() for pair in cells.values() for p in pair),
                 *(p for files in TFBS_DNASE_IN.values() for p in files), *TFBS_DNASE_PEAKS.values(),
                 TFBS_PCA_IN or TFBS_TPM]:
        if not Path(path).is_file():
            raise WorkflowError(f"tfbs.input: not found: {path} (working directory {Path.cwd()})")
if chain_enabled("tfbs") and not TFBS_INPUT:
    for tf, spec in TFBS["tfs"].items():
        unknown = [c for c in spec["train"] + spec["test"] if c not in TFBS_SIM_CELLS] + ([tf] if tf not in TFBS_SIM_TFS else [])
        if unknown:
            raise WorkflowError(f"tfbs.tfs.{tf}: {', '.join(unknown)} not simulated (tfbs.simulate.cells / tfs)")
    unknown = [c for c in TFBS_PREDICT_CELLS if c not in TFBS_SIM_CELLS]
    if unknown:
        raise WorkflowError(f"tfbs.predict_cells: {', '.join(unknown)} not simulated (tfbs.simulate.cells)")



# chromosome lists: every list names chromosomes of the genome (and of tfbs.chroms), once, and no
# chromosome is both a validation and a test chromosome (a typo would otherwise move a held-out
# chromosome into training). Checked at parse time (also under -n); pgml tfbs train / evaluate check again.
if not TFBS_INPUT:
    TFBS_GENOME_NAMES = [c.split(":")[0].strip() for c in TFBS["simulate"]["chroms"].split(",")]
elif Path(TFBS_SIZES).is_file():
    with (gzip.open if TFBS_SIZES.endswith(".gz") else open)(TFBS_SIZES, "rt") as _handle:
        TFBS_GENOME_NAMES = [line.split("\t")[0] for line in _handle if line.strip() and not line.startswith("#")]
else:
    TFBS_GENOME_NAMES = []
TFBS_BINNED = TFBS.get("chroms") or TFBS_GENOME_NAMES
TFBS_BINNED_WHERE = "tfbs.chroms" if TFBS.get("chroms") else "the genome"
for _key, _names, _known, _where in [
    ("tfbs.chroms", TFBS.get("chroms") or [], TFBS_GENOME_NAMES, "the genome"),
    ("tfbs.valid_chroms", TFBS["valid_chroms"], TFBS_BINNED, TFBS_BINNED_WHERE),
    ("tfbs.test_chroms", TFBS["test_chroms"], TFBS_BINNED, TFBS_BINNED_WHERE),
]:
    if not chain_enabled("tfbs"):
        break
    for _name in _names:
        if _known and _name not in _known:
            _near = {k.lower(): k for k in _known}.get(_name.lower())
            raise WorkflowError(f"{_key}: {_name} is not a chromosome of {_where}"
                                + (f" (did you mean {_near}?)" if _near else ""))
    _twice = [n for n in dict.fromkeys(_names) if _names.count(n) > 1]
    if _twice:
        raise WorkflowError(f"{_key}: {_twice[0]} is listed twice")
_both = [c for c in TFBS["valid_chroms"] if c in TFBS["test_chroms"]]
if chain_enabled("tfbs") and _both:
    raise WorkflowError(f"tfbs.valid_chroms and tfbs.test_chroms: {_both[0]} is in both; a chromosome belongs to one split")

# genome-wide prediction of tfbs.predict_cells: one job per chromosome of the bins, then one merge
TFBS_GENOME_CHROMS = TFBS_BINNED
TFBS_GENOME = f"{TFBS_OUT}/genome"

wildcard_constraints:
    tfbs_tf="|".join(TFBS["tfs"]) or "NONE",
    tfbs_cell="|".join(TFBS_CELLS) or "NONE",
    tfbs_chrom="|".join(re.escape(c) for c in TFBS_GENOME_CHROMS) or "NONE",


TFBS_TARGETS = [
    f"{TFBS_OUT}/evaluation/{tf}/{cell}/{name}"
    for tf, spec in TFBS["tfs"].items()
    for cell in spec["train"] + spec["test"]
    for name in ("metrics.tsv", f"plots/roc_pr_{cell}.png", f"peaks/{cell}.narrowPeak.gz")
] + [f"{TFBS_OUT}/labels/{tf}_counts.tsv" for tf in TFBS["tfs"]] + [
    f"{TFBS_OUT}/explain/{tf}/{cell}/motif_scan.tsv" for tf, spec in TFBS["tfs"].items() for cell in spec["test"]
] + (
    [] if TFBS_PCA_IN else [f"{TFBS_OUT}/expression/pca.png"]
) + [
    f"{TFBS_GENOME}/{tf}/{cell}/{name}"
    for tf in TFBS["tfs"]
    for cell in TFBS_PREDICT_CELLS
    for name in ("predictions.tsv.gz", "track.bw")
]


rule tfbs_simulate_data:
    output:
        TFBS_SIM_OUTPUTS,
    params:
        seed=SEED,
        simulate=cli_flags(TFBS["simulate"]),
        outdir=lambda wc, output: Path(output[0]).parent,
    log:
        f"{TFBS_LOG}/simulate_data.log",
    conda:
        f"{ENVS}/tfbs.yaml"
    shell:
        "pgml tfbs simulate --output-dir {params.outdir} {params.simulate} --seed {params.seed} > {log} 2>&1"


rule tfbs_bin_genome:
    input:
        sizes=TFBS_SIZES,
        blacklist=TFBS_BLACKLIST,
    output:
        bins=f"{TFBS_OUT}/bins/bins.npz",
        summary=f"{TFBS_OUT}/bins/bins.tsv",
    params:
        chroms=TFBS_CHROM_ARGS,
    log:
        f"{TFBS_LOG}/bin_genome.log",
    conda:
        f"{ENVS}/tfbs.yaml"
    shell:
        "pgml tfbs bin-genome --genome {input.sizes} --blacklist {input.blacklist} {params.chroms}"
        " --output {output.bins} --summary {output.summary} > {log} 2>&1"


rule tfbs_label_bins:
    input:
        bins=f"{TFBS_OUT}/bins/bins.npz",
        peaks=lambda wc: [p for pair in TFBS_PEAKS[wc.tfbs_tf].values() for p in pair],
    output:
        labels=f"{TFBS_OUT}/labels/{{tfbs_tf}}.npz",
        counts=f"{TFBS_OUT}/labels/{{tfbs_tf}}_counts.tsv",
    params:
        peaks=lambda wc: TFBS_PEAK_ARGS[wc.tfbs_tf],
    log:
        f"{TFBS_LOG}/label_bins/{{tfbs_tf}}.log",
    conda:
        f"{ENVS}/tfbs.yaml"
    shell:
        "pgml tfbs label-bins --bins {input.bins} --tf {wildcards.tfbs_tf} --peaks {params.peaks}"
        " --output {output.labels} --counts {output.counts} > {log} 2>&1"


rule tfbs_dnase_coverage:
    input:
        reads=lambda wc: TFBS_DNASE_IN[wc.tfbs_cell],
        sizes=TFBS_SIZES,
        bins=f"{TFBS_OUT}/bins/bins.npz",
        blacklist=TFBS_BLACKLIST,
    output:
        f"{TFBS_OUT}/dnase/{{tfbs_cell}}.bw",
    params:
        reads=lambda wc: TFBS_DNASE_ARGS[wc.tfbs_cell],
        size=TFBS["effective_genome_size"],
    threads: 2
    log:
        f"{TFBS_LOG}/dnase_coverage/{{tfbs_cell}}.log",
    conda:
        f"{ENVS}/tfbs.yaml"
    shell:
        "pgml tfbs dnase-coverage {params.reads} --genome {input.sizes} --bins {input.bins}"
        " --blacklist {input.blacklist} --effective-genome-size {params.size} --output {output}"
        " --threads {threads} > {log} 2>&1"


rule tfbs_expression_pca:
    input:
        TFBS_TPM,
    output:
        pca=f"{TFBS_OUT}/expression/pca.tsv",
        basis=f"{TFBS_OUT}/expression/basis.npz",
        variance=f"{TFBS_OUT}/expression/explained_variance.tsv",
        plot=report(
            f"{TFBS_OUT}/expression/pca.png",
            category="tfbs",
            subcategory="expression",
            caption="../report/tfbs_pca.rst",
        ),
    log:
        f"{TFBS_LOG}/expression_pca.log",
    conda:
        f"{ENVS}/tfbs.yaml"
    shell:
        "pgml tfbs expression-pca --tpm {input} --output {output.pca} --basis {output.basis}"
        " --variance {output.variance} --plot {output.plot} > {log} 2>&1"


rule tfbs_annotate_bins:
    input:
        bins=f"{TFBS_OUT}/bins/bins.npz",
        beds=list(TFBS_ANNOTATION.values()),
    output:
        f"{TFBS_OUT}/bins/annotation.npz",
    params:
        beds=TFBS_ANNOTATION_ARGS,
    log:
        f"{TFBS_LOG}/annotate_bins.log",
    conda:
        f"{ENVS}/tfbs.yaml"
    shell:
        "pgml tfbs annotate-bins --bins {input.bins} --annotation {params.beds} --output {output} > {log} 2>&1"


rule tfbs_train_model:
    input:
        bins=f"{TFBS_OUT}/bins/bins.npz",
        labels=f"{TFBS_OUT}/labels/{{tfbs_tf}}.npz",
        annotation=f"{TFBS_OUT}/bins/annotation.npz",
        pca=TFBS_PCA,
        fasta=TFBS_FASTA,
        mappability=TFBS_MAPPABILITY,
        tracks=list(TFBS_TRACKS.values()),
    output:
        model=f"{TFBS_OUT}/models/{{tfbs_tf}}/model.ckpt",
        card=f"{TFBS_OUT}/models/{{tfbs_tf}}/model.json",
        metrics=f"{TFBS_OUT}/models/{{tfbs_tf}}/metrics.tsv",
        curve=report(
            f"{TFBS_OUT}/models/{{tfbs_tf}}/learning_curve.png",
            category="tfbs",
            subcategory="training",
            labels={"tf": "{tfbs_tf}", "figure": "learning curve"},
            caption="../report/tfbs_learning_curve.rst",
        ),
    params:
        outdir=lambda wc, output: Path(output.model).parent,
        cells=lambda wc: " ".join(TFBS["tfs"][wc.tfbs_tf]["train"]),
        split=TFBS_SPLIT_ARGS,
        model=cli_flags(TFBS["model"]),
        train=cli_flags(TFBS["train"]),
        tracks=TFBS_DNASE_TRACK_ARGS,
        flank=TFBS["flank"],
        seed=SEED,
    threads: 1
    resources:
        gpu=1,
    log:
        f"{TFBS_LOG}/train_model/{{tfbs_tf}}.log",
    conda:
        f"{ENVS}/tfbs.yaml"
    shell:
        "pgml tfbs train --labels {input.labels} --bins {input.bins} --annotation {input.annotation}"
        " --pca {input.pca} --fasta {input.fasta} --mappability {input.mappability} --dnase {params.tracks}"
        " --flank {params.flank} --cells {params.cells} {params.split} {params.model} {params.train}"
        " --output-dir {params.outdir} --seed {params.seed} --threads {threads} > {log} 2>&1"


rule tfbs_predict_bins:
    input:
        model=f"{TFBS_OUT}/models/{{tfbs_tf}}/model.ckpt",
        card=f"{TFBS_OUT}/models/{{tfbs_tf}}/model.json",
        bins=f"{TFBS_OUT}/bins/bins.npz",
        annotation=f"{TFBS_OUT}/bins/annotation.npz",
        pca=TFBS_PCA,
        fasta=TFBS_FASTA,
        mappability=TFBS_MAPPABILITY,
        track=f"{TFBS_OUT}/dnase/{{tfbs_cell}}.bw",
    output:
        submission=f"{TFBS_OUT}/predictions/{{tfbs_tf}}/{{tfbs_cell}}/predictions.tsv.gz",
        modules=f"{TFBS_OUT}/predictions/{{tfbs_tf}}/{{tfbs_cell}}/modules.tsv.gz",
        track=f"{TFBS_OUT}/predictions/{{tfbs_tf}}/{{tfbs_cell}}/track.bw",
    params:
        outdir=lambda wc, output: Path(output.modules).parent,
        chroms=TFBS_PREDICT_CHROMS,
        flank=TFBS["flank"],
        batch=TFBS["predict"]["batch_size"],
        workers=TFBS["predict"]["workers"],
    threads: 1 + TFBS["predict"]["workers"]
    resources:
        gpu=1,
    log:
        f"{TFBS_LOG}/predict_bins/{{tfbs_tf}}_{{tfbs_cell}}.log",
    conda:
        f"{ENVS}/tfbs.yaml"
    shell:
        "pgml tfbs predict --model {input.model} --bins {input.bins} --annotation {input.annotation}"
        " --pca {input.pca} --fasta {input.fasta} --mappability {input.mappability}"
        " --dnase {wildcards.tfbs_cell}={input.track} --flank {params.flank} --cell {wildcards.tfbs_cell}"
        " --chroms {params.chroms} --batch-size {params.batch} --workers {params.workers}"
        " --output-dir {params.outdir}"
        " --threads {threads} > {log} 2>&1"


# the no-attention ablation (figure 2.4 of [deepgrn]): the same training and prediction, --variant noattention
use rule tfbs_train_model as tfbs_train_noattention with:
    output:
        model=TFBS_NOATT_MODEL,
        metrics=f"{TFBS_OUT}/models/{{tfbs_tf}}/noattention/metrics.tsv",
        curve=f"{TFBS_OUT}/models/{{tfbs_tf}}/noattention/learning_curve.png",
    params:
        outdir=lambda wc, output: Path(output.model).parent,
        cells=lambda wc: " ".join(TFBS["tfs"][wc.tfbs_tf]["train"]),
        split=TFBS_SPLIT_ARGS,
        model=cli_flags({**TFBS["model"], "variant": "noattention"}),
        train=cli_flags(TFBS["train"]),
        tracks=TFBS_DNASE_TRACK_ARGS,
        flank=TFBS["flank"],
        seed=SEED,
    log:
        f"{TFBS_LOG}/train_noattention/{{tfbs_tf}}.log",


use rule tfbs_predict_bins as tfbs_predict_noattention with:
    input:
        model=TFBS_NOATT_MODEL,
        bins=f"{TFBS_OUT}/bins/bins.npz",
        annotation=f"{TFBS_OUT}/bins/annotation.npz",
        pca=TFBS_PCA,
        fasta=TFBS_FASTA,
        mappability=TFBS_MAPPABILITY,
        track=f"{TFBS_OUT}/dnase/{{tfbs_cell}}.bw",
    output:
        submission=f"{TFBS_OUT}/predictions/{{tfbs_tf}}/{{tfbs_cell}}/noattention/predictions.tsv.gz",
        modules=TFBS_NOATT_MODULES,
        track=f"{TFBS_OUT}/predictions/{{tfbs_tf}}/{{tfbs_cell}}/noattention/track.bw",
    log:
        f"{TFBS_LOG}/predict_noattention/{{tfbs_tf}}_{{tfbs_cell}}.log",


rule tfbs_predict_chrom:
    input:
        model=f"{TFBS_OUT}/models/{{tfbs_tf}}/model.ckpt",
        card=f"{TFBS_OUT}/models/{{tfbs_tf}}/model.json",
        bins=f"{TFBS_OUT}/bins/bins.npz",
        annotation=f"{TFBS_OUT}/bins/annotation.npz",
        pca=TFBS_PCA,
        fasta=TFBS_FASTA,
        mappability=TFBS_MAPPABILITY,
        track=f"{TFBS_OUT}/dnase/{{tfbs_cell}}.bw",
    output:
        submission=temp(f"{TFBS_GENOME}/{{tfbs_tf}}/{{tfbs_cell}}/chroms/{{tfbs_chrom}}/predictions.tsv.gz"),
        modules=temp(f"{TFBS_GENOME}/{{tfbs_tf}}/{{tfbs_cell}}/chroms/{{tfbs_chrom}}/modules.tsv.gz"),
        track=temp(f"{TFBS_GENOME}/{{tfbs_tf}}/{{tfbs_cell}}/chroms/{{tfbs_chrom}}/track.bw"),
    params:
        outdir=lambda wc, output: Path(output.modules).parent,
        flank=TFBS["flank"],
        batch=TFBS["predict"]["batch_size"],
        workers=TFBS["predict"]["workers"],
    threads: 1 + TFBS["predict"]["workers"]
    resources:
        gpu=1,
    log:
        f"{TFBS_LOG}/predict_chrom/{{tfbs_tf}}_{{tfbs_cell}}_{{tfbs_chrom}}.log",
    conda:
        f"{ENVS}/tfbs.yaml"
    shell:
        "pgml tfbs predict --model {input.model} --card {input.card} --bins {input.bins}"
        " --annotation {input.annotation} --pca {input.pca} --fasta {input.fasta} --mappability {input.mappability}"
        " --dnase {wildcards.tfbs_cell}={input.track} --flank {params.flank} --cell {wildcards.tfbs_cell}"
        " --chroms {wildcards.tfbs_chrom} --batch-size {params.batch} --workers {params.workers}"
        " --output-dir {params.outdir}"
        " --threads {threads} > {log} 2>&1"


rule tfbs_merge_genome:
    input:
        bins=f"{TFBS_OUT}/bins/bins.npz",
        modules=lambda wc: [
            f"{TFBS_GENOME}/{wc.tfbs_tf}/{wc.tfbs_cell}/chroms/{c}/modules.tsv.gz" for c in TFBS_GENOME_CHROMS
        ],
    output:
        submission=f"{TFBS_GENOME}/{{tfbs_tf}}/{{tfbs_cell}}/predictions.tsv.gz",
        modules=f"{TFBS_GENOME}/{{tfbs_tf}}/{{tfbs_cell}}/modules.tsv.gz",
        track=f"{TFBS_GENOME}/{{tfbs_tf}}/{{tfbs_cell}}/track.bw",
    params:
        outdir=lambda wc, output: Path(output.modules).parent,
    log:
        f"{TFBS_LOG}/merge_genome/{{tfbs_tf}}_{{tfbs_cell}}.log",
    conda:
        f"{ENVS}/tfbs.yaml"
    shell:
        "pgml tfbs merge-predictions --bins {input.bins} --predictions {input.modules}"
        " --output-dir {params.outdir} > {log} 2>&1"


rule tfbs_evaluate_predictions:
    input:
        labels=f"{TFBS_OUT}/labels/{{tfbs_tf}}.npz",
        bins=f"{TFBS_OUT}/bins/bins.npz",
        annotation=f"{TFBS_OUT}/bins/annotation.npz",
        pca=TFBS_PCA,
        modules=f"{TFBS_OUT}/predictions/{{tfbs_tf}}/{{tfbs_cell}}/modules.tsv.gz",
        noattention=lambda wc: [TFBS_NOATT_MODULES.format(tfbs_tf=wc.tfbs_tf, tfbs_cell=wc.tfbs_cell)]
        if TFBS_NOATTENTION
        else [],
        tracks=lambda wc: [TFBS_TRACKS[c] for c in TFBS_EVAL_CELLS(wc)],
    output:
        metrics=report(
            f"{TFBS_OUT}/evaluation/{{tfbs_tf}}/{{tfbs_cell}}/metrics.tsv",
            category="tfbs",
            subcategory="evaluation",
            labels={"tf": "{tfbs_tf}", "cell": "{tfbs_cell}", "table": "metrics"},
            caption="../report/tfbs_metrics.rst",
        ),
        verdict=f"{TFBS_OUT}/evaluation/{{tfbs_tf}}/{{tfbs_cell}}/verdict.tsv",
        plot=report(
            f"{TFBS_OUT}/evaluation/{{tfbs_tf}}/{{tfbs_cell}}/plots/roc_pr_{{tfbs_cell}}.png",
            category="tfbs",
            subcategory="evaluation",
            labels={"tf": "{tfbs_tf}", "cell": "{tfbs_cell}", "figure": "ROC and PR"},
            caption="../report/tfbs_roc_pr.rst",
        ),
        peaks=f"{TFBS_OUT}/evaluation/{{tfbs_tf}}/{{tfbs_cell}}/peaks/{{tfbs_cell}}.narrowPeak.gz",
    params:
        outdir=lambda wc, output: Path(output.metrics).parent,
        train=lambda wc: " ".join(TFBS["tfs"][wc.tfbs_tf]["train"]),
        tracks=lambda wc: " ".join(f"{c}={TFBS_TRACKS[c]}" for c in TFBS_EVAL_CELLS(wc)),
        noattention=lambda wc, input: f"--noattention {wc.tfbs_cell}={input.noattention[0]}" if input.noattention else "",
        split=TFBS_SPLIT_ARGS,
        precision=TFBS["precision"],
        seed=SEED,
    log:
        f"{TFBS_LOG}/evaluate_predictions/{{tfbs_tf}}_{{tfbs_cell}}.log",
    conda:
        f"{ENVS}/tfbs.yaml"
    shell:
        "pgml tfbs evaluate --labels {input.labels} --bins {input.bins} --annotation {input.annotation}"
        " --pca {input.pca} --predictions {wildcards.tfbs_cell}={input.modules} {params.noattention}"
        " --dnase {params.tracks} --train-cells {params.train} {params.split}"
        " --precision {params.precision} --seed {params.seed} --output-dir {params.outdir} > {log} 2>&1"


rule tfbs_explain_bins:
    input:
        model=f"{TFBS_OUT}/models/{{tfbs_tf}}/model.ckpt",
        bins=f"{TFBS_OUT}/bins/bins.npz",
        annotation=f"{TFBS_OUT}/bins/annotation.npz",
        pca=TFBS_PCA,
        fasta=TFBS_FASTA,
        mappability=TFBS_MAPPABILITY,
        track=f"{TFBS_OUT}/dnase/{{tfbs_cell}}.bw",
        modules=f"{TFBS_OUT}/predictions/{{tfbs_tf}}/{{tfbs_cell}}/modules.tsv.gz",
        dnase_peaks=lambda wc: [TFBS_DNASE_PEAKS[wc.tfbs_cell]] if wc.tfbs_cell in TFBS_DNASE_PEAKS else [],
    output:
        attention=f"{TFBS_OUT}/explain/{{tfbs_tf}}/{{tfbs_cell}}/attention.npz",
        windows=f"{TFBS_OUT}/explain/{{tfbs_tf}}/{{tfbs_cell}}/windows.tsv",
        scan=report(
            f"{TFBS_OUT}/explain/{{tfbs_tf}}/{{tfbs_cell}}/motif_scan.tsv",
            category="tfbs",
            subcategory="interpretation",
            labels={"tf": "{tfbs_tf}", "cell": "{tfbs_cell}", "table": "motif scan"},
            caption="../report/tfbs_motif_scan.rst",
        ),
        logos=directory(f"{TFBS_OUT}/explain/{{tfbs_tf}}/{{tfbs_cell}}/logos"),
    params:
        outdir=lambda wc, output: Path(output.scan).parent,
        explain=cli_flags(TFBS["explain"]),
        dnase_peaks=lambda wc, input: f"--dnase-peaks {input.dnase_peaks[0]}" if input.dnase_peaks else "",
        flank=TFBS["flank"],
        seed=SEED,
    threads: 1
    log:
        f"{TFBS_LOG}/explain_bins/{{tfbs_tf}}_{{tfbs_cell}}.log",
    conda:
        f"{ENVS}/tfbs.yaml"
    shell:
        "pgml tfbs explain --model {input.model} --bins {input.bins} --annotation {input.annotation}"
        " --pca {input.pca} --fasta {input.fasta} --mappability {input.mappability}"
        " --dnase {wildcards.tfbs_cell}={input.track} --flank {params.flank} --cell {wildcards.tfbs_cell}"
        " --predictions {input.modules} {params.explain} {params.dnase_peaks} --seed {params.seed}"
        " --output-dir {params.outdir}"
        " --threads {threads} > {log} 2>&1"


# ---- fetch: hg19 files, GENCODE annotation BEDs, ENCODE files by accession, Synapse files (tfbs.fetch)
TFBS_FETCH = TFBS["fetch"]
TFBS_FETCH_OUT = f"{TFBS_OUT}/fetch"
#: the provider's file names of the GTF and CpG-island table (pgml.fetch.sources, genome source)
TFBS_FETCH_GTF = "gencode.v19.annotation.gtf.gz"
TFBS_FETCH_CPG = "cpgIslandExt.txt.gz"
if chain_enabled("tfbs") and TFBS_FETCH["enabled"]:
    if TFBS_FETCH["annotation"] and not {"gencode", "cpg"} <= set(TFBS_FETCH["genome"]):
        raise WorkflowError("tfbs.fetch.annotation: needs gencode and cpg in tfbs.fetch.genome")
    if TFBS_FETCH["synapse"] and not FETCH["offline"] and not os.environ.get("SYNAPSE_AUTH_TOKEN"):
        raise WorkflowError(
            f"tfbs.fetch.synapse: {', '.join(TFBS_FETCH['synapse'])} need(s) a Synapse login: create an account at "
            "https://www.synapse.org, accept the challenge's terms of use on its page (ENCODE-DREAM: syn6131484), "
            "create a personal access token (scope 'download') and export SYNAPSE_AUTH_TOKEN=<token>"
        )
TFBS_TARGETS += (
    ([f"{TFBS_FETCH_OUT}/genome"] if TFBS_FETCH["genome"] else [])
    + ([f"{TFBS_FETCH_OUT}/annotation"] if TFBS_FETCH["annotation"] else [])
    + ([f"{TFBS_FETCH_OUT}/encode"] if TFBS_FETCH["encode"] else [])
    + ([f"{TFBS_FETCH_OUT}/synapse"] if TFBS_FETCH["synapse"] else [])
    if TFBS_FETCH["enabled"]
    else []
)


localrules:
    tfbs_fetch_genome,
    tfbs_fetch_encode,
    tfbs_fetch_synapse,


rule tfbs_fetch_genome:
    output:
        files=directory(f"{TFBS_FETCH_OUT}/genome"),
        manifest=f"{TFBS_FETCH_OUT}/genome.tsv",
    params:
        files=cli_flags({"files": TFBS_FETCH["genome"]}),
        net=fetch_flags(),
    log:
        f"{TFBS_LOG}/fetch_genome.log",
    resources:
        net=1,
    conda:
        f"{ENVS}/tfbs.yaml"
    shell:
        "pgml fetch genome {params.files} --output-dir {output.files} --manifest {output.manifest} {params.net}"
        " > {log} 2>&1"


rule tfbs_fetch_annotation:
    input:
        f"{TFBS_FETCH_OUT}/genome",
    output:
        directory(f"{TFBS_FETCH_OUT}/annotation"),
    params:
        gtf=lambda wc, input: f"{input[0]}/{TFBS_FETCH_GTF}",
        cpg=lambda wc, input: f"{input[0]}/{TFBS_FETCH_CPG}",
    log:
        f"{TFBS_LOG}/fetch_annotation.log",
    conda:
        f"{ENVS}/tfbs.yaml"
    shell:
        "pgml fetch annotation --gtf {params.gtf} --cpg {params.cpg} --prefix wgEncodeGencodeBasicV19"
        " --output-dir {output} > {log} 2>&1"


rule tfbs_fetch_encode:
    output:
        files=directory(f"{TFBS_FETCH_OUT}/encode"),
        manifest=f"{TFBS_FETCH_OUT}/encode.tsv",
    params:
        ids=cli_flags({"ids": TFBS_FETCH["encode"]}),
        net=fetch_flags(),
        failures=cli_flags(FETCH, keys=("max_failures",)),
    log:
        f"{TFBS_LOG}/fetch_encode.log",
    resources:
        net=1,
    conda:
        f"{ENVS}/tfbs.yaml"
    shell:
        "pgml fetch encode {params.ids} --output-dir {output.files} --manifest {output.manifest}"
        " {params.net} {params.failures} > {log} 2>&1"


rule tfbs_fetch_synapse:
    output:
        files=directory(f"{TFBS_FETCH_OUT}/synapse"),
        manifest=f"{TFBS_FETCH_OUT}/synapse.tsv",
    params:
        ids=cli_flags({"ids": TFBS_FETCH["synapse"]}),
        net=fetch_flags(),
    log:
        f"{TFBS_LOG}/fetch_synapse.log",
    resources:
        net=1,
    conda:
        f"{ENVS}/tfbs.yaml"
    shell:
        "pgml fetch synapse {params.ids} --output-dir {output.files} --manifest {output.manifest} {params.net}"
        " > {log} 2>&1"
