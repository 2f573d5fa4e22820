"""Config validation, one source per parameter, rule names, and dry runs (demo, SLURM, paper configs)."""

from __future__ import annotations

import copy
import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from helpers import snakemake_executable, venv_env
from snakemake.utils import validate

from pgml.bfactor import params as bfactor_params
from pgml.contact import params as contact_params
from pgml.fold import params as fold_params
from pgml.grn import params as grn_params
from pgml.qa import params as qa_params
from pgml.tfbs import params as tfbs_params
from pgml.train.optim import OPTIMIZERS

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "workflow" / "schemas" / "config.schema.yaml"
SCHEMA = yaml.safe_load(SCHEMA_FILE.read_text())
SNAKEMAKE = snakemake_executable()
PAPERS = sorted((ROOT / "config" / "paper").glob("*.yaml"))
PRETRAIN = sorted((ROOT / "config" / "pretrain").glob("*.yaml"))


def demo_config() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def section(*keys: str) -> dict:
    node = SCHEMA
    for key in keys:
        node = node["properties"][key]
    return node["properties"]


def test_demo_and_test_configs_are_valid() -> None:
    for path in [ROOT / "config" / "config.yaml", *sorted((ROOT / "tests" / "configs").glob("*.yaml"))]:
        validate(yaml.safe_load(path.read_text()), str(SCHEMA_FILE))


@pytest.mark.parametrize("paper", PAPERS + PRETRAIN, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_paper_configs_are_valid_on_their_own(paper: Path) -> None:
    validate(yaml.safe_load(paper.read_text()), str(SCHEMA_FILE))


def test_bfactor_architecture_params_one_source() -> None:
    """The override block allows exactly the train keys; the paper config repeats params.py's table."""
    block = section("bfactor")["architecture_params"]
    assert set(block["additionalProperties"]["properties"]) == set(bfactor_params.ARCHITECTURE_PARAM_KEYS)
    assert block["propertyNames"] == {"$ref": "#/$defs/architecture"}
    train = section("bfactor", "train")
    for key, prop in block["additionalProperties"]["properties"].items():
        assert {k: v for k, v in train[key].items() if k not in ("default", "description")} == prop, key
    paper = yaml.safe_load((ROOT / "config" / "paper" / "bfactor.yaml").read_text())
    assert paper["bfactor"]["architecture_params"] == bfactor_params.PAPER_ARCHITECTURE_PARAMS


# ---- one source for each parameter: the schema's defaults and allowed values equal the library's


@pytest.mark.parametrize(("path", "dataclass"), [
    (("bfactor", "train"), bfactor_params.TrainConfig),
    (("bfactor", "split"), bfactor_params.SplitConfig),
    (("bfactor",), bfactor_params.SelectConfig),
    (("bfactor",), bfactor_params.GraphConfig),
    (("grn", "gnet"), grn_params.GnetParams),
    (("grn", "simulate"), grn_params.SimulateParams),
    (("fold", "graph"), fold_params.GraphConfig),
    (("fold", "split"), fold_params.SplitConfig),
    (("fold", "model"), fold_params.ModelConfig),
    (("fold", "train"), fold_params.TrainConfig),
    (("qa", "features"), qa_params.FeatureConfig),
    (("qa", "simulate"), qa_params.SimulateConfig),
    (("qa", "split"), qa_params.SplitConfig),
    (("qa", "train"), qa_params.TrainConfig),
    (("contact",), contact_params.ChainParams),
    (("contact", "simulate"), contact_params.SimulateParams),
    (("contact", "filter"), contact_params.FilterParams),
    (("contact", "plm"), contact_params.PlmParams),
    (("contact", "train"), contact_params.TrainParams),
    (("contact", "split"), contact_params.SplitParams),
    (("contact", "search"), contact_params.SearchParams),
    (("tfbs", "model"), tfbs_params.ModelConfig),
    (("tfbs", "train"), tfbs_params.TrainConfig),
    (("tfbs", "simulate"), tfbs_params.SimulateConfig),
])
def test_schema_defaults_equal_library_defaults(path: tuple[str, ...], dataclass) -> None:
    props = section(*path)
    defaults = {f.name: f.default for f in dataclasses.fields(dataclass)}
    shared = [k for k in props if k in defaults]
    assert shared, f"no shared keys between {'.'.join(path)} and {dataclass.__name__}"
    for key in shared:
        if "default" in props[key]:
            value = defaults[key]
            expected = list(value) if isinstance(value, tuple) else value
            assert props[key]["default"] == expected, f"{'.'.join(path)}.{key}"


def test_schema_allowed_values_equal_library() -> None:
    assert tuple(SCHEMA["$defs"]["architecture"]["enum"]) == bfactor_params.ARCHITECTURES
    assert tuple(section("bfactor")["target"]["enum"]) == bfactor_params.TARGETS
    assert tuple(section("bfactor", "split")["method"]["enum"]) == bfactor_params.SPLIT_METHODS
    assert tuple(section("bfactor", "train")["optimizer"]["enum"]) == OPTIMIZERS
    assert tuple(SCHEMA["$defs"]["grn_init"]["enum"]) == grn_params.INIT_METHODS
    assert tuple(SCHEMA["$defs"]["grn_mode"]["enum"]) == grn_params.MODES
    assert tuple(SCHEMA["$defs"]["grn_baseline"]["enum"]) == grn_params.BASELINES
    assert section("grn")["genie3_trees"]["default"] == grn_params.GENIE3_TREES
    assert section("grn", "coherence")["permutations"]["default"] == grn_params.PERMUTATIONS
    assert tuple(section("fold", "graph")["unit"]["enum"]) == fold_params.UNITS
    assert tuple(section("fold", "graph")["hbond_source"]["enum"]) == fold_params.HBOND_SOURCES
    assert tuple(section("fold", "graph")["ca_only"]["enum"]) == fold_params.CA_ONLY_POLICIES
    assert tuple(section("fold", "split")["labels"]["enum"]) == fold_params.LABEL_SOURCES
    assert tuple(section("fold", "split")["method"]["enum"]) == fold_params.SPLIT_METHODS
    for key, values in (("convolution", fold_params.CONVOLUTIONS), ("neighbourhood", fold_params.NEIGHBOURHOODS),
                        ("pooling", fold_params.POOLINGS), ("representation", fold_params.REPRESENTATIONS)):
        assert tuple(section("fold", "model")[key]["enum"]) == values
    assert tuple(section("fold", "train")["optimizer"]["enum"]) == fold_params.OPTIMIZERS
    assert tuple(section("qa", "features")["reference_format"]["enum"]) == qa_params.REFERENCE_FORMATS
    assert tuple(section("qa", "train")["architecture"]["enum"]) == qa_params.ARCHITECTURES
    assert tuple(section("qa", "train")["optimizer"]["enum"]) == OPTIMIZERS
    assert set(contact_params.FORMATS) == {"a3m", "a2m", "stockholm", "fasta", "psicov"}
    assert tuple(section("contact", "search")["engine"]["enum"]) == contact_params.ENGINES
    assert tuple(section("tfbs", "model")["merge"]["enum"]) == tfbs_params.MERGES
    assert section("tfbs")["flank"]["default"] == tfbs_params.FLANK
    assert section("tfbs", "explain")["top"]["default"] == tfbs_params.EXPLAIN_TOP
    assert section("tfbs", "explain")["motifs"]["default"] == list(tfbs_params.EXPLAIN_MOTIFS)
    assert section("tfbs")["valid_chroms"]["default"] == list(tfbs_params.VALID_CHROMS)
    assert section("tfbs")["test_chroms"]["default"] == list(tfbs_params.TEST_CHROMS)
    assert section("tfbs")["effective_genome_size"]["default"] == tfbs_params.EFFECTIVE_GENOME_SIZE
    assert section("tfbs", "predict")["batch_size"]["default"] == tfbs_params.PREDICT_BATCH_SIZE
    assert section("tfbs", "predict")["workers"]["default"] == tfbs_params.PREDICT_WORKERS


def test_cli_defaults_come_from_the_library() -> None:
    from pgml.cli import build_parser

    parser = build_parser()
    steps = {}
    for action in parser._subparsers._group_actions:  # chains
        for chain, chain_parser in action.choices.items():
            for sub in chain_parser._subparsers._group_actions:
                for step, step_parser in sub.choices.items():
                    steps[(chain, step)] = {a.dest: a.default for a in step_parser._actions}
    train = steps[("bfactor", "train")]
    for field in dataclasses.fields(bfactor_params.TrainConfig):
        if field.name != "architecture":
            assert train[field.name] == field.default, field.name
    build = steps[("bfactor", "build-graphs")]
    for field in dataclasses.fields(bfactor_params.GraphConfig):
        default = list(field.default) if isinstance(field.default, tuple) else field.default
        assert build[field.name] == default, field.name
    infer = steps[("grn", "infer")]
    for field in dataclasses.fields(grn_params.GnetParams):
        assert infer[field.name] == field.default, field.name
    for step, dataclass in ((("fold", "train"), fold_params.ModelConfig), (("fold", "train"), fold_params.TrainConfig),
                            (("fold", "build-graphs"), fold_params.GraphConfig),
                            (("fold", "split"), fold_params.SplitConfig)):
        for field in dataclasses.fields(dataclass):
            value = steps[step][field.name]
            assert (tuple(value) if isinstance(value, list) else value) == field.default, (step, field.name)
    for step, dataclass in ((("qa", "train"), qa_params.TrainConfig), (("qa", "build-graphs"), qa_params.FeatureConfig),
                            (("qa", "simulate"), qa_params.SimulateConfig), (("qa", "split"), qa_params.SplitConfig)):
        for field in dataclasses.fields(dataclass):
            assert steps[step][field.name] == field.default, (step, field.name)
    for step, dataclass in [("plm", contact_params.PlmParams), ("simulate", contact_params.SimulateParams),
                            ("build-msa", contact_params.FilterParams), ("train", contact_params.TrainParams),
                            ("split", contact_params.SplitParams), ("build-msa", contact_params.SearchParams)]:
        for field in dataclasses.fields(dataclass):
            default = field.default
            expected = list(default) if isinstance(default, tuple) else default
            assert steps[("contact", step)][field.name] == expected, (step, field.name)
    for dataclass in (tfbs_params.ModelConfig, tfbs_params.TrainConfig):
        for field in dataclasses.fields(dataclass):
            assert steps[("tfbs", "train")][field.name] == field.default, field.name


def test_config_keys_are_cli_flags() -> None:
    """Every key of the sections rules pass through cli_flags is a flag of the step they call."""
    from pgml.cli import build_parser

    help_text = {}
    parser = build_parser()
    for action in parser._subparsers._group_actions:
        for chain, chain_parser in action.choices.items():
            for sub in chain_parser._subparsers._group_actions:
                for step, step_parser in sub.choices.items():
                    help_text[(chain, step)] = {o for a in step_parser._actions for o in a.option_strings}
    graph_keys = {f.name: None for f in dataclasses.fields(bfactor_params.GraphConfig)}
    passes = {("bfactor", "train"): section("bfactor", "train"), ("bfactor", "split"): section("bfactor", "split"),
              ("bfactor", "build-graphs"): graph_keys,
              ("grn", "infer"): section("grn", "gnet"), ("grn", "simulate"): section("grn", "simulate"),
              ("grn", "coherence"): section("grn", "coherence"),
              ("fold", "build-graphs"): section("fold", "graph"), ("fold", "split"): section("fold", "split"),
              ("fold", "train"): {**section("fold", "model"), **section("fold", "train")},
              ("qa", "simulate"): section("qa", "simulate"), ("qa", "build-graphs"): section("qa", "features"),
              ("qa", "split"): section("qa", "split"), ("qa", "train"): section("qa", "train"),
              ("contact", "simulate"): section("contact", "simulate"), ("contact", "build-msa"): {**section("contact", "filter"), **section("contact", "search")},
              ("contact", "plm"): section("contact", "plm"), ("contact", "train"): section("contact", "train"),
              ("contact", "split"): section("contact", "split"),
              ("tfbs", "train"): {**section("tfbs", "model"), **section("tfbs", "train")},
              ("tfbs", "simulate"): section("tfbs", "simulate"), ("tfbs", "explain"): section("tfbs", "explain")}
    for step, props in passes.items():
        for key in props:
            assert f"--{key.replace('_', '-')}" in help_text[step], (step, key)


# ---- short, precise config errors


def dry_run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([SNAKEMAKE, "all", "-n", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=180, env=venv_env())


@pytest.mark.parametrize(("change", "expected"), [
    (lambda c: c["bfactor"].update(max_resolutoin=2.0), r"bfactor: unknown key\(s\) max_resolutoin; allowed: "),
    (lambda c: c["bfactor"]["train"].update(epochs="ten"), r"bfactor.train.epochs = 'ten': .*integer"),
    (lambda c: c["bfactor"].update(architectures=["resnet"]), r"bfactor.architectures.0 = 'resnet': must be one of gcn"),
    (lambda c: c["grn"].update(inits=["foo"]), r"grn.inits.0 = 'foo': must be one of boosting, kmeans"),
    (lambda c: c["contact"]["plm"].update(max_iter=0), r"contact.plm.max_iter = 0: .*minimum"),
])
def test_config_error_names_key_value_and_allowed_in_a_few_lines(tmp_path: Path, change, expected) -> None:
    config = copy.deepcopy(demo_config())
    change(config)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    result = dry_run("--cores", "1", "--configfile", str(bad))
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert re.search(expected, out), out[-2000:]
    assert len(out.strip().splitlines()) <= 12, out


def test_own_data_config_needs_no_simulate_section(tmp_path: Path) -> None:
    sim = tmp_path / "sim"
    assert subprocess.run(["pgml", "grn", "simulate", "--output-dir", str(sim), "--n-genes", "30",
                           "--n-samples", "20"], env=venv_env(), capture_output=True).returncode == 0
    config = {"chains": ["grn"], "grn": {"input": {"expression": str(sim / "expression.tsv"),
                                                   "regulators": str(sim / "regulators.txt")}}}
    path = tmp_path / "own.yaml"
    path.write_text(yaml.safe_dump(config))
    result = dry_run("--cores", "1", "--configfile", str(path))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "grn_simulate_network" not in result.stdout


def test_contact_database_config_searches_with_jackhmmer_and_psiblast(tmp_path: Path) -> None:
    db = tmp_path / "db.fasta"
    db.write_text(">s\nTTCCPSIVARSNFNVCRLPGTPEALCATYTGCIIIPGATCPGDYAN\n")
    demo = ROOT / "resources" / "demo" / "structures"
    config = {"chains": ["contact"], "contact": {"structures": [str(demo / f) for f in
                                                               ("1EJG.pdb.gz", "1LCD.pdb.gz", "1A8O.pdb.gz")],
                                                "database": str(db), "blast_db": str(tmp_path / "blastdb"),
                                                "search": {"iterations": 2}}}
    path = tmp_path / "db.yaml"
    path.write_text(yaml.safe_dump(config))
    result = dry_run("--cores", "1", "-p", "--configfile", str(path))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "contact_simulate_alignment" not in result.stdout
    assert f"--database {db} --iterations 2" in result.stdout
    assert f"--blast-db {tmp_path / 'blastdb'} --iterations 2" in result.stdout


def test_contact_predict_queries_need_no_structures(tmp_path: Path) -> None:
    """contact.predict: a sequence (searched) and an alignment through a given model; nothing is trained."""
    model = tmp_path / "model" / "model.ckpt"
    model.parent.mkdir()
    model.write_bytes(b"")
    query = tmp_path / "crambin.fasta"
    query.write_text(">crambin\nTTCCPSIVARSNFNVCRLPGTPEALCATYTGCIIIPGATCPGDYAN\n")
    alignment = tmp_path / "q2.a3m"
    alignment.write_text(">q2\nTTCCPSIVARSNFNVCRLPG\n")
    db = tmp_path / "db.fasta"
    db.write_text(">s\nTTCCPSIVARSNFNVCRLPGTPEALCATYTGCIIIPGATCPGDYAN\n")
    config = {"chains": ["contact"], "contact": {"database": str(db), "search": {"engine": "mmseqs", "max_seqs": 500},
                                                "predict": {"sequences": [str(query)], "alignments": [str(alignment)],
                                                            "model": str(model)}}}
    path = tmp_path / "predict.yaml"
    path.write_text(yaml.safe_dump(config))
    result = dry_run("--cores", "1", "-p", "--configfile", str(path))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "contact_train_model" not in result.stdout and "contact_simulate_alignment" not in result.stdout
    assert (f"pgml contact predict --model {model} --sequence {query} --database {db} --engine mmseqs"
            in result.stdout)
    assert "--max-seqs 500" in result.stdout
    assert f"--alignment {alignment} --output-dir results/contact/predict/q2" in result.stdout
    hh = tmp_path / "uniref30"
    for ext in ("ffdata", "ffindex"):
        Path(f"{hh}_a3m.{ext}").write_bytes(b"")
    config["contact"].update(database=str(hh), search={"engine": "hhblits"})
    path.write_text(yaml.safe_dump(config))
    result = dry_run("--cores", "1", "-p", "--configfile", str(path))
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"--sequence {query} --database {hh} --engine hhblits" in result.stdout
    del config["contact"]["database"]
    path.write_text(yaml.safe_dump(config))
    result = dry_run("--cores", "1", "--configfile", str(path))
    assert result.returncode != 0
    assert "contact.predict.sequences: searching a sequence needs contact.database" in result.stdout + result.stderr


def test_missing_structures_directory_stops_a_dry_run(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"chains": ["bfactor"], "bfactor": {"structures": [str(tmp_path / "nope")]}}))
    result = dry_run("--cores", "1", "--configfile", str(path))
    assert result.returncode != 0
    assert f"bfactor.structures: not found: {tmp_path / 'nope'}" in result.stdout + result.stderr


# ---- the workflow: rule names, dry runs


def test_rule_names_are_unique_and_chain_prefixed() -> None:
    result = subprocess.run([SNAKEMAKE, "--list-rules"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env=venv_env())
    assert result.returncode == 0, result.stderr[-2000:]
    rules = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    assert len(rules) == len(set(rules))
    from pgml.cli import CHAINS

    # rules are named <chain>_<verb>_<noun>, also those that run a ground-floor tool (`pgml fetch`,
    # `pgml report`) for a chain: every chain has rules and every rule's prefix is a chain of the schema
    chains = SCHEMA["properties"]["chains"]["items"]["enum"]
    assert [r for r in rules if r != "all" and not any(r.startswith(f"{c}_") for c in chains)] == []
    prefixes = {r.split("_")[0] for r in rules if r != "all"}
    assert prefixes == set(CHAINS)


def test_lint_is_clean() -> None:
    result = subprocess.run([SNAKEMAKE, "--lint"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env=venv_env())
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_dry_run_demo() -> None:
    result = dry_run("--cores", "2")
    assert result.returncode == 0, result.stderr[-2000:]


def test_dry_run_slurm_profile_without_slurm() -> None:
    result = dry_run("--profile", "profiles/slurm")
    assert result.returncode == 0, result.stderr[-2000:]


def _workflow_copy(dest: Path) -> Path:
    for name in ("Snakefile", "workflow", "config", "envs", "profiles"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, dest / name)
    return dest


@pytest.mark.parametrize("paper", PAPERS, ids=lambda p: p.name)
def test_paper_config_dry_run_uses_only_its_own_settings(paper: Path, tmp_path: Path) -> None:
    """A paper config never inherits demo-only entries, and its settings reach the commands."""
    wd = _workflow_copy(tmp_path)
    config = yaml.safe_load(paper.read_text())
    if "bfactor" in config["chains"]:  # the paper's structures are the user's; put two demo files there
        for path in config["bfactor"]["structures"]:
            (wd / path).mkdir(parents=True, exist_ok=True)
            for name in ("1UBI.pdb.gz", "1A8O.pdb.gz"):
                shutil.copy(ROOT / "resources" / "demo" / "structures" / name, wd / path / name)
        if config["bfactor"].get("split", {}).get("method") == "list":  # the user's separate test set
            (wd / config["bfactor"]["split"]["list"]).parent.mkdir(parents=True, exist_ok=True)
            (wd / config["bfactor"]["split"]["list"]).write_text("1UBI test\n")
    if "fold" in config["chains"]:  # the user's structures and label table; the lists beside the repo
        for path in config["fold"]["structures"]:
            (wd / path).mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / "resources" / "demo" / "structures" / "1UBI.pdb.gz", wd / path / "1UBI.pdb.gz")
        for key in ("label_table", "list"):
            path = config["fold"]["split"].get(key)
            if path and not (wd / path).exists():
                target = wd / path
                if key == "list":
                    target.mkdir(parents=True)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text("1UBI\tenzyme\n")
        fetch = config["fold"].get("fetch", {})
        for path in fetch.get("id_lists", []) if fetch.get("enabled") else []:  # the published id lists
            if not (wd / path).exists():
                (wd / path).parent.mkdir(parents=True, exist_ok=True)
                (wd / path).write_text("d1ubia_\ta.1\ta.1\n" if fetch.get("source", "scope") == "scope" else "1ubi.A\n")
    if "qa" in config["chains"]:  # the paper's targets are the user's; empty directories suffice for -n
        for path in config["qa"]["targets"]:
            (wd / path).mkdir(parents=True, exist_ok=True)
    if "contact" in config["chains"]:  # one demo structure and a one-sequence alignment of it
        for name in ("1UBI", "1EJG", "1LCD"):
            for folder, file, text in [(config["contact"]["structures"][0], f"{name}.pdb.gz", None),
                                       (config["contact"]["alignments"][0], f"{name}.a3m", f">{name}\nMQIFV\n")]:
                (wd / folder).mkdir(parents=True, exist_ok=True)
                if text is None:
                    shutil.copy(ROOT / "resources" / "demo" / "structures" / file, wd / folder / file)
                else:
                    (wd / folder / file).write_text(text)
    if "tfbs" in config["chains"]:  # the challenge files are the user's; empty stand-ins suffice for a dry run
        tfbs_in = config["tfbs"]["input"]
        paths = [v for k, v in tfbs_in.items() if isinstance(v, str) and "{" not in v]
        paths += list(tfbs_in["annotation"].values()) + [p for files in tfbs_in["dnase"].values() for p in files]
        paths += list(tfbs_in.get("dnase_peaks", {}).values())
        paths += [tfbs_in[k].format(tf=tf, cell=cell) for k in ("conservative_peaks", "relaxed_peaks")
                  for tf, spec in config["tfbs"]["tfs"].items() for cell in spec["train"] + spec.get("test", [])]
        for path in paths:
            (wd / path).parent.mkdir(parents=True, exist_ok=True)
            (wd / path).touch()
    result = dry_run("--cores", "2", "-p", "--configfile", str(paper), cwd=wd)
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    if "contact" in config["chains"]:
        assert "contact_simulate_alignment" not in out  # the paper's alignments are the user's
        assert f"--max-iter {config['contact']['plm']['max_iter']}" in out
    if "bfactor" in config["chains"]:
        assert "bfactor_explain_atoms" not in out  # the demo's explain entry is not inherited
        train = config["bfactor"]["train"]
        assert f"--epochs {train['epochs']} --hidden {train['hidden']}" in out
        assert out.count("rule bfactor_train_model") == len(config["bfactor"]["architectures"]) * config["bfactor"]["n_runs"]
        for arch, own in config["bfactor"].get("architecture_params", {}).items():  # overrides reach their job
            assert re.search(rf"--architecture {arch} .*--hidden {own['hidden']} ", out), arch
    if "grn" in config["chains"]:
        assert f"--genie3-trees {config['grn']['genie3_trees']}" in out
    if "fold" in config["chains"]:
        assert out.count("rule fold_train_model") == config["fold"]["train"]["n_runs"]
        assert "--widths 64 128 256 512 1024" in out and "--optimizer sgd" in out
    other = {c for c in ("bfactor", "grn", "fold") if c not in config["chains"]}
    if "qa" in config["chains"]:
        assert "rule qa_simulate_target" not in out  # real targets: no demo simulation
        train = config["qa"]["train"]
        assert f"--optimizer {train['optimizer']} --lr {train['lr']}" in out
    other = {c for c in ("bfactor", "grn", "qa") if c not in config["chains"]}
    other = {c for c in ("bfactor", "grn", "contact") if c not in config["chains"]}
    if "tfbs" in config["chains"]:
        assert out.count("rule tfbs_train_model") == len(config["tfbs"]["tfs"])
        assert f"--max-valid-windows {config['tfbs']['train']['max_valid_windows']}" in out
    other = {c for c in ("bfactor", "grn", "tfbs") if c not in config["chains"]}
    for chain in other:
        assert f"rule {chain}_" not in out


def test_schema_has_no_key_cut_off_by_a_comma():
    """An unquoted description with a comma in a YAML flow mapping ({..., description: a, b}) is cut at
    the comma and leaves a stray key ``b`` mapped to null: only ``default`` may be null."""
    stray: list[str] = []

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if value is None and key != "default":
                    stray.append(f"{path}/{key}")
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for item in node:
                walk(item, path)

    walk(SCHEMA, "")
    assert not stray, stray
