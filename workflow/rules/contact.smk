# contact chain: alignment -> filtered PSICOV alignment -> PSSM + pseudo-likelihood couplings (sharded)
# -> identity split -> ATTContact and noattention training -> contact maps (ensemble, each network) +
# attention -> evaluation of ATTContact, its networks, noattention and the APC-PLM baseline on the
# test targets (table 4.1's precision by range, and by Neff).
# Targets are named by their file names up to the first dot (1UBI.pdb.gz -> 1UBI). Without
# contact.alignments the demo simulates one alignment per structure (pgml contact simulate).
# Alignments: contact.alignments (ready files), else jackhmmer against contact.database, else simulated.
# PSSMs: from the weighted alignment, or from psiblast when contact.blast_db names a BLAST database.
# Rules mirror `pgml contact <step>`; flags come from the config section of the same name.

CONTACT = config["contact"]
CONTACT_OUT = "results/contact"
CONTACT_LOG = "logs/contact"
# each entry of contact.structures / contact.alignments is a file or a folder of such files
CONTACT_STRUCTURE_SUFFIXES = (".pdb", ".cif", ".ent", ".mmcif")
CONTACT_ALIGNMENT_SUFFIXES = (".a3m", ".a2m", ".sto", ".sth", ".stk", ".stockholm", ".fasta", ".fa", ".faa", ".afa", ".aln", ".psicov")
CONTACT_STRUCT = {
    f.name.split(".")[0]: str(f)
    for p in CONTACT["structures"]
    for f in (sorted(Path(p).iterdir()) if Path(p).is_dir() else [Path(p)])
    if not Path(p).is_dir() or f.name.removesuffix(".gz").endswith(CONTACT_STRUCTURE_SUFFIXES)
}
# contact.database (FASTA) without contact.alignments: jackhmmer (pyhmmer) with each structure's sequence
CONTACT_DB = CONTACT.get("database")
# hhblits reads an HH-suite database prefix (<prefix>_a3m.ffdata ...), the other engines a FASTA file
CONTACT_DB_FILES = (
    [f"{CONTACT_DB}_a3m.ffdata", f"{CONTACT_DB}_a3m.ffindex"]
    if CONTACT_DB and CONTACT["search"]["engine"] == "hhblits"
    else [CONTACT_DB] if CONTACT_DB else []
)
CONTACT_SEARCH = bool(CONTACT_DB) and not CONTACT["alignments"]
CONTACT_ALN = (
    {
        f.name.split(".")[0]: str(f)
        for p in CONTACT["alignments"]
        for f in (sorted(Path(p).iterdir()) if Path(p).is_dir() else [Path(p)])
        if not Path(p).is_dir() or f.name.removesuffix(".gz").endswith(CONTACT_ALIGNMENT_SUFFIXES)
    }
    if CONTACT["alignments"]
    else {t: [CONTACT_STRUCT[t], *CONTACT_DB_FILES] for t in CONTACT_STRUCT}
    if CONTACT_SEARCH
    else {t: f"{CONTACT_OUT}/simulated/{t}.a3m" for t in CONTACT_STRUCT}
)
CONTACT_IDS = sorted(CONTACT_ALN)
# contact.predict: new queries (sequences or alignments, no structures) through a trained model; with
# contact.predict.model and no contact.structures nothing is trained
CONTACT_PREDICT = CONTACT["predict"]
CONTACT_SEQUENCE_SUFFIXES = (".fasta", ".fa", ".faa")
CONTACT_QUERIES = {
    **{
        f.name.split(".")[0]: ("sequence", str(f))
        for p in CONTACT_PREDICT["sequences"]
        for f in (sorted(Path(p).iterdir()) if Path(p).is_dir() else [Path(p)])
        if not Path(p).is_dir() or f.name.removesuffix(".gz").endswith(CONTACT_SEQUENCE_SUFFIXES)
    },
    **{
        f.name.split(".")[0]: ("alignment", str(f))
        for p in CONTACT_PREDICT["alignments"]
        for f in (sorted(Path(p).iterdir()) if Path(p).is_dir() else [Path(p)])
        if not Path(p).is_dir() or f.name.removesuffix(".gz").endswith(CONTACT_ALIGNMENT_SUFFIXES)
    },
}
CONTACT_TRAIN = bool(CONTACT["structures"]) or not CONTACT_PREDICT.get("model")
CONTACT_MODEL = CONTACT_PREDICT.get("model") or f"{CONTACT_OUT}/model/attcontact/model.ckpt"
CONTACT_N_SHARDS = max(1, min(CONTACT["shards"], len(CONTACT_IDS)))
CONTACT_SHARDS = {str(k): CONTACT_IDS[k::CONTACT_N_SHARDS] for k in range(CONTACT_N_SHARDS)}

# stop at parse time (also under -n) when the chain is on and a configured input is missing
if chain_enabled("contact"):
    for path in CONTACT_DB_FILES:
        if not Path(path).is_file():
            raise WorkflowError(f"contact.database: not found: {path} (working directory {Path.cwd()})")
    for key in ("structures", "alignments"):
        for path in CONTACT[key]:
            if not Path(path).exists():
                raise WorkflowError(f"contact.{key}: not found: {path} (working directory {Path.cwd()})")
    for key in ("sequences", "alignments"):
        for path in CONTACT_PREDICT[key]:
            if not Path(path).exists():
                raise WorkflowError(f"contact.predict.{key}: not found: {path} (working directory {Path.cwd()})")
    if CONTACT_PREDICT.get("model") and not Path(CONTACT_PREDICT["model"]).is_file():
        raise WorkflowError(f"contact.predict.model: not found: {CONTACT_PREDICT['model']}")
    if CONTACT_PREDICT["sequences"] and not CONTACT_DB:
        raise WorkflowError("contact.predict.sequences: searching a sequence needs contact.database")
    if CONTACT_TRAIN and len(CONTACT_IDS) < 3:
        raise WorkflowError(
            f"contact: {len(CONTACT_IDS)} target(s); the train/val/test split needs at least 3 (contact.structures)"
        )
    for target in CONTACT_IDS:
        if target not in CONTACT_STRUCT:
            raise WorkflowError(f"contact.alignments: no structure named {target}.* in contact.structures")


wildcard_constraints:
    contact_target="|".join(CONTACT_IDS) or "none",
    contact_variant="attcontact|noattention",
    contact_shard="|".join(CONTACT_SHARDS) or "none",
    contact_query="|".join(CONTACT_QUERIES) or "none",


# the networks of an attcontact model whose maps `pgml contact predict` writes in subfolders
CONTACT_MODULES = ["sequence_attention", "regional_attention"]
CONTACT_PLM_DIRS = expand(f"{CONTACT_OUT}/plm/shard{{shard}}", shard=sorted(CONTACT_SHARDS))
CONTACT_TARGETS = (
    [f"{CONTACT_OUT}/evaluation/metrics.tsv", f"{CONTACT_OUT}/evaluation/precision.png"]
    + [f"{CONTACT_OUT}/pssm/{t}.tsv" for t in CONTACT_IDS]
    if CONTACT_TRAIN
    else []
) + [f"{CONTACT_OUT}/predict/{q}" for q in sorted(CONTACT_QUERIES)]


rule contact_simulate_alignment:
    input:
        lambda wc: CONTACT_STRUCT[wc.contact_target],
    output:
        f"{CONTACT_OUT}/simulated/{{contact_target}}.a3m",
    params:
        seed=SEED,
        simulate=cli_flags(CONTACT["simulate"]),
    log:
        f"{CONTACT_LOG}/simulate_alignment/{{contact_target}}.log",
    conda:
        f"{ENVS}/contact.yaml"
    shell:
        "pgml contact simulate --structure {input} --output {output} {params.simulate} --seed {params.seed} > {log} 2>&1"


rule contact_build_msa:
    input:
        lambda wc: CONTACT_ALN[wc.contact_target],
    output:
        f"{CONTACT_OUT}/msa/{{contact_target}}.aln",
    params:
        filters=cli_flags(CONTACT["filter"]),
        source=lambda wc, input: (
            f"--structure {input[0]} --database {shlex.quote(str(CONTACT_DB))} {cli_flags(CONTACT['search'])}"
            if CONTACT_SEARCH
            else f"--alignment {input[0]}"
        ),
    threads: 2 if CONTACT_SEARCH else 1
    log:
        f"{CONTACT_LOG}/build_msa/{{contact_target}}.log",
    conda:
        f"{ENVS}/contact.yaml"
    shell:
        "pgml contact build-msa {params.source} --output {output} {params.filters} --threads {threads} > {log} 2>&1"


rule contact_msa_pssm:
    input:
        f"{CONTACT_OUT}/msa/{{contact_target}}.aln",
    output:
        f"{CONTACT_OUT}/pssm/{{contact_target}}.tsv",
    params:
        weights=cli_flags(CONTACT["filter"], keys=("weight_identity",)),
        blast=(
            f"--blast-db {shlex.quote(CONTACT['blast_db'])} {cli_flags(CONTACT['search'], keys=('iterations', 'evalue'))}"
            if CONTACT.get("blast_db")
            else ""
        ),
    log:
        f"{CONTACT_LOG}/msa_pssm/{{contact_target}}.log",
    conda:
        f"{ENVS}/contact.yaml"
    shell:
        "pgml contact pssm --alignment {input} --output {output} {params.weights} {params.blast} > {log} 2>&1"


rule contact_msa_plm:
    input:
        lambda wc: [f"{CONTACT_OUT}/msa/{t}.aln" for t in CONTACT_SHARDS[wc.contact_shard]],
    output:
        directory(f"{CONTACT_OUT}/plm/shard{{contact_shard}}"),
    params:
        seed=SEED,
        plm=cli_flags(CONTACT["plm"]),
        weights=cli_flags(CONTACT["filter"], keys=("weight_identity",)),
    threads: 2
    resources:
        gpu=1,
    log:
        f"{CONTACT_LOG}/msa_plm/shard{{contact_shard}}.log",
    conda:
        f"{ENVS}/contact.yaml"
    shell:
        "pgml contact plm --alignments {input} --output-dir {output} {params.plm} {params.weights}"
        " --seed {params.seed} --threads {threads} > {log} 2>&1"


rule contact_split_targets:
    input:
        CONTACT_PLM_DIRS,
    output:
        f"{CONTACT_OUT}/split.tsv",
    params:
        seed=SEED,
        split=cli_flags(CONTACT["split"]),
    log:
        f"{CONTACT_LOG}/split_targets.log",
    conda:
        f"{ENVS}/contact.yaml"
    shell:
        "pgml contact split --plm-dir {input} --output {output} {params.split} --seed {params.seed} > {log} 2>&1"


rule contact_train_model:
    input:
        plm=CONTACT_PLM_DIRS,
        pssm=[f"{CONTACT_OUT}/pssm/{t}.tsv" for t in CONTACT_IDS],
        structures=[CONTACT_STRUCT[t] for t in CONTACT_IDS],
        split=f"{CONTACT_OUT}/split.tsv",
    output:
        model=f"{CONTACT_OUT}/model/{{contact_variant}}/model.ckpt",
        card=f"{CONTACT_OUT}/model/{{contact_variant}}/model.json",
        curve=report(
            f"{CONTACT_OUT}/model/{{contact_variant}}/learning_curve.png",
            category="contact",
            subcategory="training",
            labels={"model": "{contact_variant}"},
            caption="../report/contact_learning_curve.rst",
        ),
    params:
        seed=SEED,
        train=cli_flags(CONTACT["train"]),
        pssm_dir=lambda wc, input: Path(input.pssm[0]).parent,
        outdir=lambda wc, output: Path(output.model).parent,
    threads: 2
    resources:
        gpu=1,
    log:
        f"{CONTACT_LOG}/train_model/{{contact_variant}}.log",
    conda:
        f"{ENVS}/contact.yaml"
    shell:
        "pgml contact train --plm-dir {input.plm} --pssm-dir {params.pssm_dir} --structures {input.structures}"
        " --split {input.split} --output-dir {params.outdir} --variant {wildcards.contact_variant} {params.train}"
        " --seed {params.seed} --threads {threads} > {log} 2>&1"


# ATTContact: the ensemble's maps, each network's maps (sequence_attention/, regional_attention/) and
# the attention weights
rule contact_predict_maps:
    input:
        model=f"{CONTACT_OUT}/model/attcontact/model.ckpt",
        plm=CONTACT_PLM_DIRS,
        pssm=[f"{CONTACT_OUT}/pssm/{t}.tsv" for t in CONTACT_IDS],
    output:
        maps=[f"{CONTACT_OUT}/predictions/attcontact/{t}.npy" for t in CONTACT_IDS],
        modules=[f"{CONTACT_OUT}/predictions/attcontact/{m}/{t}.npy" for m in CONTACT_MODULES for t in CONTACT_IDS],
        attention=[
            report(
                f"{CONTACT_OUT}/predictions/attcontact/{t}.attention.png",
                category="contact",
                subcategory="attention",
                labels={"target": t},
                caption="../report/contact_attention.rst",
            )
            for t in CONTACT_IDS
        ],
    params:
        pssm_dir=lambda wc, input: Path(input.pssm[0]).parent,
        outdir=lambda wc, output: Path(output.maps[0]).parent,
    threads: 2
    resources:
        gpu=1,
    log:
        f"{CONTACT_LOG}/predict_maps.log",
    conda:
        f"{ENVS}/contact.yaml"
    shell:
        "pgml contact predict --model {input.model} --plm-dir {input.plm} --pssm-dir {params.pssm_dir}"
        " --output-dir {params.outdir} --threads {threads} > {log} 2>&1"


# the chapter's baseline network (the same ResNet without attention), scored beside ATTContact
rule contact_predict_ablation:
    input:
        model=f"{CONTACT_OUT}/model/noattention/model.ckpt",
        plm=CONTACT_PLM_DIRS,
        pssm=[f"{CONTACT_OUT}/pssm/{t}.tsv" for t in CONTACT_IDS],
    output:
        maps=[f"{CONTACT_OUT}/predictions/noattention/{t}.npy" for t in CONTACT_IDS],
    params:
        pssm_dir=lambda wc, input: Path(input.pssm[0]).parent,
        outdir=lambda wc, output: Path(output.maps[0]).parent,
    threads: 2
    resources:
        gpu=1,
    log:
        f"{CONTACT_LOG}/predict_ablation.log",
    conda:
        f"{ENVS}/contact.yaml"
    shell:
        "pgml contact predict --model {input.model} --plm-dir {input.plm} --pssm-dir {params.pssm_dir}"
        " --output-dir {params.outdir} --threads {threads} > {log} 2>&1"


rule contact_evaluate_maps:
    input:
        plm=CONTACT_PLM_DIRS,
        structures=[CONTACT_STRUCT[t] for t in CONTACT_IDS],
        predictions=[f"{CONTACT_OUT}/predictions/attcontact/{t}.npy" for t in CONTACT_IDS],
        modules=[f"{CONTACT_OUT}/predictions/attcontact/{m}/{t}.npy" for m in CONTACT_MODULES for t in CONTACT_IDS],
        noattention=[f"{CONTACT_OUT}/predictions/noattention/{t}.npy" for t in CONTACT_IDS],
        split=f"{CONTACT_OUT}/split.tsv",
    output:
        metrics=report(
            f"{CONTACT_OUT}/evaluation/metrics.tsv",
            category="contact",
            subcategory="evaluation",
            caption="../report/contact_metrics.rst",
        ),
        precision=report(
            f"{CONTACT_OUT}/evaluation/precision.png",
            category="contact",
            subcategory="evaluation",
            caption="../report/contact_precision.rst",
        ),
        per_target=f"{CONTACT_OUT}/evaluation/per_target.tsv",
        by_neff=f"{CONTACT_OUT}/evaluation/by_neff.tsv",
    params:
        outdir=lambda wc, output: Path(output.metrics).parent,
        predictions=lambda wc, input: Path(input.predictions[0]).parent,
        noattention=lambda wc, input: Path(input.noattention[0]).parent,
    log:
        f"{CONTACT_LOG}/evaluate_maps.log",
    conda:
        f"{ENVS}/contact.yaml"
    shell:
        "pgml contact evaluate --plm-dir {input.plm} --structures {input.structures} --split {input.split}"
        " --predictions {params.predictions} --noattention {params.noattention} --output-dir {params.outdir}"
        " > {log} 2>&1"


rule contact_predict_query:
    input:
        model=CONTACT_MODEL,
        query=lambda wc: CONTACT_QUERIES[wc.contact_query][1],
        database=lambda wc: CONTACT_DB_FILES if CONTACT_QUERIES[wc.contact_query][0] == "sequence" else [],
    output:
        directory(f"{CONTACT_OUT}/predict/{{contact_query}}"),
    params:
        source=lambda wc, input: (
            f"--sequence {input.query} --database {shlex.quote(str(CONTACT_DB))} {cli_flags(CONTACT['search'])}"
            if CONTACT_QUERIES[wc.contact_query][0] == "sequence"
            else f"--alignment {input.query}"
        ),
        filters=cli_flags(CONTACT["filter"], keys=("min_coverage", "max_identity")),
        plm=cli_flags(CONTACT["plm"], keys=("history", "chunk", "min_neff")),
        seed=SEED,
    threads: 2
    resources:
        gpu=1,
    log:
        f"{CONTACT_LOG}/predict_query/{{contact_query}}.log",
    conda:
        f"{ENVS}/contact.yaml"
    shell:
        "pgml contact predict --model {input.model} {params.source} --output-dir {output} {params.filters}"
        " {params.plm} --seed {params.seed} --threads {threads} > {log} 2>&1"


# ---- fetch: UniRef90 / UniRef30 for MSA search, opt-in only: never part of `all`; built only when
# asked for by name, e.g. `snakemake results/contact/fetch/uniref90` (tens to hundreds of GB: run
# `pgml fetch uniref --database uniref90` first to see the size).


wildcard_constraints:
    contact_db="uniref90|uniref30",


localrules:
    contact_fetch_database,


rule contact_fetch_database:
    output:
        directory(f"{CONTACT_OUT}/fetch/{{contact_db}}"),
    params:
        net=fetch_flags(),
    log:
        f"{CONTACT_LOG}/fetch_database/{{contact_db}}.log",
    resources:
        net=1,
    conda:
        f"{ENVS}/contact.yaml"
    shell:
        "pgml fetch uniref --database {wildcards.contact_db} --yes --output-dir {output} {params.net} > {log} 2>&1"
