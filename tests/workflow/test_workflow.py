"""Integration: each chain's tiny test config (tests/configs/<chain>.yaml) runs end to end.

Each run happens in a copy of the workflow under tmp_path, so the repository's results/ stays
untouched, with ``snakemake --cores 2``.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from helpers import snakemake_executable, venv_env

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_PARTS = ("Snakefile", "workflow", "config", "envs", "profiles", "resources", "tests/configs")

pytestmark = [pytest.mark.workflow, pytest.mark.slow]


def copy_workflow(dest: Path) -> Path:
    for name in WORKFLOW_PARTS:
        src, target = ROOT / name, dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, target)
        else:
            shutil.copy(src, target)
    return dest


def run_chain(chain: str, dest: Path) -> Path:
    copy_workflow(dest)
    result = subprocess.run(
        [snakemake_executable(), "all", "--cores", "2", "--configfile", f"tests/configs/{chain}.yaml"],
        cwd=dest, capture_output=True, text=True, timeout=900, env=venv_env(),
    )
    assert result.returncode == 0, result.stderr[-4000:]
    out = dest / "results" / chain
    assert not list(out.rglob(".*.tmp*")), "temporary files of atomic writes left behind"
    return out


def test_bfactor_chain_end_to_end(tmp_path: Path) -> None:
    out = run_chain("bfactor", tmp_path)
    selection = pd.read_csv(out / "selection.tsv", sep="\t")
    assert selection.loc[selection["id"] == "1LCD", "status"].item() == "dropped"
    split = pd.read_csv(out / "split.tsv", sep="\t")
    assert {"train", "val", "test"} <= set(split["split"])
    metrics = pd.read_csv(out / "evaluation" / "metrics.tsv", sep="\t").set_index("method")
    assert set(metrics.index) == {"meta", "gcn", "baseline", "baseline_wcn"}
    assert set(metrics.loc[["meta", "gcn"], "strongest_baseline"]) <= {"baseline", "baseline_wcn"}
    for value in metrics[["cc_mean", "mae_mean", "rrse_mean"]].to_numpy().ravel():
        assert math.isfinite(value)
    for arch in ("meta", "gcn"):
        assert (out / "models" / arch / "run0" / "model.ckpt").exists()
        assert (out / "models" / arch / "run0" / "learning_curve.png").exists()
        predicted = sorted(p.name for p in (out / "predictions" / arch / "run0").glob("*.pdb"))
        assert predicted, f"no predicted PDB for {arch}"
    assert (out / "evaluation" / "scatter.png").exists()
    import torch  # the config's packing switches and per-architecture width reach the checkpoints

    hp = {a: torch.load(out / "models" / a / "run0" / "model.ckpt", weights_only=False)["hyper_parameters"]
          for a in ("meta", "gcn")}
    assert (hp["meta"]["hidden"], hp["gcn"]["hidden"]) == (16, 8)
    assert hp["gcn"]["packing_radii"] == [8.0] and hp["gcn"]["contact_radius"] == 4.0
    assert hp["gcn"]["wcn_feature"] and hp["gcn"]["ligand_counts"]
    importance = pd.read_csv(out / "explain" / "meta" / "feature_importance.tsv", sep="\t")
    assert set(importance["atom"]) == {"A:30:CA", "A:74:CA"}
    assert importance.groupby("atom")["importance"].sum().to_numpy() == pytest.approx([1.0, 1.0], abs=1e-3)


def test_grn_chain_end_to_end(tmp_path: Path) -> None:
    out = run_chain("grn", tmp_path)
    metrics = pd.read_csv(out / "evaluation" / "metrics.tsv", sep="\t").set_index("method")
    assert {"gnet2_boosting", "gnet2_kmeans", "gnet2_rank_boosting", "gnet2_rank_kmeans", "clr", "genie3",
            "correlation", "random"} <= set(metrics.index)
    assert metrics["auroc"].between(0, 1).all()
    for init in ("boosting", "kmeans"):
        assert (out / f"gnet2_{init}" / "plots" / "module_heatmaps.pdf").stat().st_size > 0
        assert (out / f"gnet2_{init}" / "coherence.tsv").exists()
