"""The fetch rules end to end, and the schema's fetch defaults against pgml.fetch.params.

A tiny bfactor + fold config whose structures arrive only through the fetch rules: the RCSB search and
the PDB files (bfactor) and the SCOPe domains (fold) are served by the local server from the demo
structures; the snakemake process reaches nothing else (its proxies point at a closed port, with only
the loopback address exempt).
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml
from fetch_server import Reply, fake_server, no_internet, pgml_cache  # noqa: F401 (fixtures)
from helpers import snakemake_executable, venv_env

from pgml.fetch import params
from pgml.fetch.sources import MIRRORS

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "resources" / "demo" / "structures"
SCHEMA = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
BFACTOR_IDS = ["1A8O", "1EJG", "1LCD", "1UBI", "3ENL"]  # 1LCD is NMR: selection drops it
FOLD_SIDS = {"d1ubia_": "1UBI", "d1a8oa_": "1A8O", "d1ejga_": "1EJG", "d3enla_": "3ENL"}


def test_schema_fetch_defaults_equal_params() -> None:
    fetch = SCHEMA["properties"]["fetch"]["properties"]
    for key in ("retries", "backoff", "rate", "connect_timeout", "read_timeout", "max_failures"):
        assert fetch[key]["default"] == getattr(params, key.upper()), key
    assert tuple(fetch["base_urls"]["propertyNames"]["enum"]) == MIRRORS
    bfactor = SCHEMA["properties"]["bfactor"]["properties"]["fetch"]["properties"]
    query = bfactor["query"]["properties"]
    assert query["method"]["default"] == params.RCSB_METHOD
    assert query["max_resolution"]["default"] == params.RCSB_MAX_RESOLUTION
    assert query["polymer_type"]["default"] == params.RCSB_POLYMER_TYPE
    assert tuple(bfactor["mirrors"]["default"]) == params.PDB_MIRRORS
    assert tuple(bfactor["format"]["enum"]) == params.PDB_FORMATS
    fold = SCHEMA["properties"]["fold"]["properties"]["fetch"]["properties"]
    assert fold["version"]["default"] == params.SCOPE_VERSION


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def serve_demo(server) -> None:
    """The RCSB search answer, PDB files (one withdrawn) and SCOPe domains, in each source's layout."""
    answer = {"result_set": [{"identifier": i, "score": 1.0} for i in BFACTOR_IDS]}
    server.add("/rcsbsearch/v2/query", Reply(body=json.dumps(answer).encode(),
                                             headers={"Content-Type": "application/json"}))
    for entry in BFACTOR_IDS:
        server.file(f"/download/{entry}.pdb.gz", (DEMO / f"{entry}.pdb.gz").read_bytes())
    for sid, entry in FOLD_SIDS.items():
        server.file(f"/astral/pdbstyle/ver=1.75&id={sid}&output=text",
                    gzip.decompress((DEMO / f"{entry}.pdb.gz").read_bytes()))


def tiny_config(server, tmp: Path) -> Path:
    sids = tmp / "sids.txt"
    sids.write_text("".join(f"{sid}\ta.1\ta.1\n" for sid in FOLD_SIDS) + "d9zzza_\ta.1\ta.1\n")  # one withdrawn
    config = {
        "chains": ["bfactor", "fold"], "seed": 0,
        "fetch": {"base_urls": {"rcsb": server.url, "rcsb-search": server.url, "scope": server.url},
                  "backoff": 0.01, "rate": 0, "retries": 1, "max_failures": 1},
        "bfactor": {"structures": [], "shards": 1, "max_resolution": 3.0, "architectures": ["gcn"],
                    "fetch": {"enabled": True, "format": "pdb", "mirrors": ["rcsb"],
                              "query": {"max_resolution": 3.0}},
                    "split": {"val_fraction": 0.25, "test_fraction": 0.25},
                    "train": {"epochs": 1, "hidden": 8, "layers": 1}},
        "fold": {"structures": [], "shards": 1,
                 "fetch": {"enabled": True, "source": "scope", "id_lists": [str(sids)]},
                 "graph": {"unit": "fragment", "fragment_length": 30},
                 "split": {"val_fraction": 0.25, "test_fraction": 0.25},
                 "model": {"widths": [8, 16], "radii": [3.0, 6.0], "blocks": 1},
                 "train": {"epochs": 1, "batch_size": 4}},
    }
    path = tmp / "fetch.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.workflow
@pytest.mark.slow
def test_bfactor_and_fold_inputs_arrive_through_the_fetch_rules(server, tmp_path: Path) -> None:
    serve_demo(server)
    wd = tmp_path / "wf"
    wd.mkdir()
    for name in ("Snakefile", "workflow", "config", "envs", "profiles"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, wd / name)
    config = tiny_config(server, tmp_path)
    dead = "http://127.0.0.1:9"  # nothing listens: any non-loopback request fails
    env = {**venv_env(), "PGML_CACHE": str(tmp_path / "cache"), "HTTP_PROXY": dead, "HTTPS_PROXY": dead,
           "http_proxy": dead, "https_proxy": dead, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    result = subprocess.run([snakemake_executable(), "all", "--cores", "2", "--configfile", str(config)], cwd=wd,
                            capture_output=True, text=True, timeout=900, env=env)
    assert result.returncode == 0, result.stderr[-4000:]
    fetched = wd / "results" / "bfactor" / "fetch"
    assert (fetched / "ids.txt").read_text().split() == BFACTOR_IDS
    assert listing(fetched / "structures") == [f"{e}.pdb.gz" for e in BFACTOR_IDS]
    selection = pd.read_csv(wd / "results" / "bfactor" / "selection.tsv", sep="\t")
    assert selection.loc[selection["id"] == "1LCD", "status"].item() == "dropped"
    assert (wd / "results" / "bfactor" / "evaluation" / "metrics.tsv").exists()
    fold_manifest = pd.read_csv(wd / "results" / "fold" / "fetch" / "structures.tsv", sep="\t")
    assert dict(zip(fold_manifest["name"], fold_manifest["status"], strict=True)) == {
        **{sid: "ok" for sid in FOLD_SIDS}, "d9zzza_": "failed"}
    samples = pd.read_csv(wd / "results" / "fold" / "split" / "samples.tsv", sep="\t")
    assert set(samples["entry"].str.lower()) == set(FOLD_SIDS)
    assert (wd / "results" / "fold" / "evaluation" / "metrics.tsv").exists()
    log = (wd / "logs" / "fold" / "fetch_structures.log").read_text()
    assert "d9zzza_" in log and "404" in log and "within --max-failures 1" in log
    # a second run, offline, in a fresh copy of the workflow: everything comes from the cache, no request
    offline = yaml.safe_load(config.read_text())
    offline["fetch"]["offline"] = True
    config.write_text(yaml.safe_dump(offline))
    requests = len(server.requests)
    wd2 = tmp_path / "wf2"
    wd2.mkdir()
    for name in ("Snakefile", "workflow", "config", "envs", "profiles"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, wd2 / name)
    result = subprocess.run([snakemake_executable(), "results/bfactor/fetch/structures", "results/fold/fetch/structures",
                             "--cores", "1", "--configfile", str(config)],
                            cwd=wd2, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(server.requests) == requests
    assert listing(wd2 / "results" / "bfactor" / "fetch" / "structures") == [f"{e}.pdb.gz" for e in BFACTOR_IDS]
    assert len(listing(wd2 / "results" / "fold" / "fetch" / "structures")) == len(FOLD_SIDS)


@pytest.mark.workflow
def test_tfbs_and_qa_fetch_rules_against_the_local_server(server, tmp_path: Path) -> None:
    """hg19 files -> the annotation BEDs (tfbs), a CASP round's target list and server models (qa)."""
    from test_annotation import GTF  # the hand-computed GTF

    files = {"/goldenPath/hg19/bigZips/hg19.chrom.sizes": b"chr1\t5000\nchr2\t3000\n",
             "/goldenPath/hg19/database/cpgIslandExt.txt.gz": gzip.compress(b"585\tchr1\t10\t90\tCpG: 9\n", mtime=0),
             "/pub/databases/gencode/Gencode_human/release_19/gencode.v19.annotation.gtf.gz":
                 gzip.compress(GTF.encode(), mtime=0),
             "/casp14/targetlist.cgi?type=csv": b"Target;Type\nT1024;All groups\n",
             "/download_area/CASP14/server_predictions/T1024.tar.gz": gzip.compress(b"models", mtime=0)}
    for path, body in files.items():
        server.file(path, body)
    wd = tmp_path / "wf"
    wd.mkdir()
    for name in ("Snakefile", "workflow", "config", "envs", "profiles"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, wd / name)
    config = {"chains": [], "fetch": {"base_urls": {"ucsc": server.url, "gencode": server.url, "casp": server.url},
                                      "backoff": 0.01, "rate": 0},
              "tfbs": {"fetch": {"enabled": True, "genome": ["chrom-sizes", "cpg", "gencode"]}},
              "qa": {"fetch": {"enabled": True, "targets": ["T1024"]}}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    dead = "http://127.0.0.1:9"
    env = {**venv_env(), "PGML_CACHE": str(tmp_path / "cache"), "HTTP_PROXY": dead, "HTTPS_PROXY": dead,
           "NO_PROXY": "127.0.0.1,localhost"}
    targets = ["results/tfbs/fetch/annotation", "results/qa/fetch/casp14.targetlist.csv",
               "results/qa/fetch/casp14_server_models"]
    result = subprocess.run([snakemake_executable(), *targets, "--cores", "1", "--configfile", str(tmp_path / "c.yaml")],
                            cwd=wd, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    beds = wd / "results" / "tfbs" / "fetch" / "annotation"
    assert listing(beds) == sorted(["cpgisland.bed.gz", "wgEncodeGencodeBasicV19.txStart.bed.gz"] + [
        f"wgEncodeGencodeBasicV19.{n}.merged.bed.gz" for n in ("cds", "intron", "promoter", "utr3", "utr5")])
    cds = gzip.decompress((beds / "wgEncodeGencodeBasicV19.cds.merged.bed.gz").read_bytes()).decode()
    assert cds == "chr1\t150\t200\nchr1\t300\t353\nchr2\t150\t250\n"
    assert (wd / "results" / "qa" / "fetch" / "casp14.targetlist.csv").read_text().startswith("Target;Type")
    assert listing(wd / "results" / "qa" / "fetch" / "casp14_server_models") == ["T1024.tar.gz"]


def _dry_run(args: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([snakemake_executable(), "-n", "--cores", "1", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env=env or venv_env())


def test_synapse_without_token_stops_the_dry_run_naming_files_and_access(tmp_path: Path) -> None:
    config = tmp_path / "grn.yaml"
    config.write_text(yaml.safe_dump({"chains": ["grn"], "grn": {"fetch": {"enabled": True,
                                                                          "synapse": ["syn2787209"]}}}))
    env = {k: v for k, v in venv_env().items() if k != "SYNAPSE_AUTH_TOKEN"}
    result = _dry_run(["--configfile", str(config)], env)
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "grn.fetch.synapse: syn2787209 need(s) a Synapse login" in out and "SYNAPSE_AUTH_TOKEN" in out


def test_sequence_databases_are_never_part_of_all() -> None:
    result = _dry_run(["all", "--configfile", str(ROOT / "config" / "config.yaml")])
    assert result.returncode == 0, result.stderr[-2000:]
    assert "contact_fetch_database" not in result.stdout
    result = _dry_run(["results/contact/fetch/uniref90"])  # asked for by name: planned
    assert result.returncode == 0 and "contact_fetch_database" in result.stdout
