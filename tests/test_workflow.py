"""Integration: the bfactor chain of the workflow runs end to end with snakemake --cores 2.

A tiny config (five small demo structures plus one NMR entry that must be dropped, two
architectures, two epochs) in a copy of the workflow, so the repo's results/ stays untouched.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import snakemake_executable, venv_env

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "resources" / "demo" / "structures"
SMALL = ["1A8O.pdb.gz", "1UBI.pdb.gz", "3JQH.cif.gz", "1EJG.pdb.gz", "4CUP.cif.gz", "1A7G.cif.gz", "1LCD.pdb.gz"]

pytestmark = [pytest.mark.workflow, pytest.mark.slow]


def copy_workflow(dest: Path) -> None:
    for name in ("Snakefile", "workflow", "config", "envs", "profiles"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name)
        else:
            shutil.copy(src, dest / name)


def tiny_config(dest: Path) -> Path:
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["chains"] = ["bfactor"]
    listing = dest / "structures.txt"
    listing.write_text("".join(f"{DEMO / name}\n" for name in SMALL))
    config["bfactor"].update(
        structures=[str(listing)], shards=2, architectures=["meta", "gcn"], n_runs=1,
        split={"val_fraction": 0.2, "test_fraction": 0.3},
    )
    config["bfactor"]["train"].update(epochs=2, hidden=16, layers=2)
    config["bfactor"]["explain"] = {"architecture": "meta", "structure": str(DEMO / "1UBI.pdb.gz"),
                                    "atoms": ["A:30:CA", "A:74:CA"]}
    path = dest / "config" / "tiny.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_bfactor_chain_end_to_end(tmp_path: Path) -> None:
    snakemake = snakemake_executable()
    copy_workflow(tmp_path)
    config = tiny_config(tmp_path)
    result = subprocess.run(
        [snakemake, "all", "--cores", "2", "--configfile", str(config)],
        cwd=tmp_path, capture_output=True, text=True, timeout=900, env=venv_env(),
    )
    assert result.returncode == 0, result.stderr[-4000:]

    out = tmp_path / "results" / "bfactor"
    selection = pd.read_csv(out / "selection.tsv", sep="\t")
    assert selection.loc[selection["id"] == "1LCD", "status"].item() == "dropped"
    metrics = pd.read_csv(out / "evaluation" / "metrics.tsv", sep="\t").set_index("method")
    assert set(metrics.index) == {"meta", "gcn", "baseline"}
    for value in metrics[["cc_mean", "mae_mean", "rrse_mean"]].to_numpy().ravel():
        assert math.isfinite(value)
    for arch in ("meta", "gcn"):
        assert (out / "models" / arch / "run0" / "model.ckpt").exists()
        assert (out / "models" / arch / "run0" / "learning_curve.png").exists()
        predicted = sorted(p.name for p in (out / "predictions" / arch / "run0").glob("*.pdb"))
        assert predicted, f"no predicted PDB for {arch}"
    assert (out / "evaluation" / "scatter.png").exists()
    importance = pd.read_csv(out / "explain" / "meta" / "feature_importance.tsv", sep="\t")
    assert set(importance["atom"]) == {"A:30:CA", "A:74:CA"}
    assert importance.groupby("atom")["importance"].sum().to_numpy() == pytest.approx([1.0, 1.0], abs=1e-3)
    # no temporary leftovers from atomic writes
    assert not list(out.rglob("*.tmp*"))
