"""Integration: each chain's tiny test config (tests/configs/<chain>.yaml) runs end to end.

Each run happens in a copy of the workflow under tmp_path, so the repository's results/ stays
untouched, with ``snakemake --cores 2``.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
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
    # the report's summary sets the best GNET2 AUROC beside the best baseline's, with the verdict it implies
    summary = (tmp_path / "results" / "grn" / "report" / "summary.rst").read_text()
    models = metrics.loc[[m for m in metrics.index if m.startswith("gnet2")], "auroc"]
    best_base = metrics.loc[["clr", "genie3", "correlation"], "auroc"]
    assert f"{models.idxmax()} {models.max():.3f}" in summary and f"{best_base.idxmax()} {best_base.max():.3f}" in summary
    verdict = "beats the baseline" if models.max() > best_base.max() else "does not beat the baseline"
    assert f"- grn_: the model {verdict}." in summary


def test_fold_chain_end_to_end(tmp_path: Path) -> None:
    out = run_chain("fold", tmp_path)
    samples = pd.read_csv(out / "split" / "samples.tsv", sep="\t")
    assert {"train", "val", "test"} <= set(samples["split"])
    assert set(samples["label"]) <= {"mainly_alpha", "mainly_beta", "mixed"}
    # fragments of one entry never straddle splits
    assert (samples.groupby("entry")["split"].nunique() == 1).all()
    assert "have a training homologue" in (out / "split" / "leakage_audit.txt").read_text()
    metrics = pd.read_csv(out / "evaluation" / "metrics.tsv", sep="\t").set_index("method")
    assert set(metrics.index) == {"ieconv", "majority_class", "composition_ss_logreg", "mmseqs2_nearest_neighbour"}
    assert metrics["accuracy"].between(0, 1).all()
    run = json.loads((out / "runs" / "run_0" / "run.json").read_text())
    assert run["seed"] == 0 and run["model"]["widths"] == [8, 16]
    assert json.loads((out / "runs" / "run_0" / "model.json").read_text())["inputs"]["fragment_length"] == 30
    predicted = pd.read_csv(out / "predict" / "predictions.tsv", sep="\t")
    assert predicted["id"].str.startswith("1UBI_A").all() and len(predicted) == 2  # 76 residues: 2 fragments of 30
    assert (out / "predict" / "embedding_ids.txt").read_text().split() == predicted["id"].tolist()
    assert (out / "evaluation" / "confusion.png").stat().st_size > 0
    assert "does NOT beat" in (out / "evaluation" / "summary.txt").read_text() or \
        "beats both" in (out / "evaluation" / "summary.txt").read_text()
def test_qa_chain_end_to_end(tmp_path: Path) -> None:
    out = run_chain("qa", tmp_path)
    split = pd.read_csv(out / "split.tsv", sep="\t")
    assert sorted(split["split"]) == ["test", "train", "val"]
    metrics = pd.read_csv(out / "evaluation" / "metrics.tsv", sep="\t").set_index("method")
    assert set(metrics.index) == {"enqa", "af2_consensus", "af2_plddt"}
    assert metrics.loc["enqa", "enqa_beats_af2_consensus"] in ("yes", "no")
    assert math.isfinite(metrics.loc["enqa", "residue_mse"])
    models = pd.read_csv(out / "predictions" / "models.tsv", sep="\t")
    assert len(models) == 3 and models["predicted"].between(0, 1).all()
    test_target = split.loc[split["split"] == "test", "id"].item()
    assert len(list((out / "predictions" / "structures" / test_target).glob("*.pdb"))) == 3
    assert (out / "model" / "learning_curve.png").exists()
    importance = pd.read_csv(out / "importance" / "feature_importance.tsv", sep="\t")
    assert len(importance) == 9 and importance["importance"].notna().all()
def test_contact_chain_end_to_end(tmp_path: Path) -> None:
    out = run_chain("contact", tmp_path)
    metrics = pd.read_csv(out / "evaluation" / "metrics.tsv", sep="\t").set_index("method")
    models = ["attcontact", "sequence_attention", "regional_attention", "noattention"]
    assert list(metrics.index) == [*models, "apc_plm"]
    for model in models:
        assert str(metrics.loc[model, "beats_apc_plm_long_L/5"]) in ("True", "False")
    assert metrics[["short_L/10", "medium_L/5", "long_L/5", "long_L/2"]].stack().between(0, 1).all()
    split = pd.read_csv(out / "split.tsv", sep="\t")
    assert sorted(split["split"]) == ["test", "train", "val"]
    test = split.loc[split["split"] == "test", "id"].item()
    per_target = pd.read_csv(out / "evaluation" / "per_target.tsv", sep="\t")
    assert set(per_target["target"]) == {test} and (per_target["neff"] > 1).all()
    assert pd.read_csv(out / "pssm" / "1EJG.tsv", sep="\t").shape == (46, 22)
    for method in (*models, "apc_plm"):
        rr = (out / "evaluation" / "maps" / method / f"{test}.rr").read_text().splitlines()
        assert rr[0] == "PFRMAT RR" and rr[-1] == "END"
        assert (out / "evaluation" / "plots" / f"{test}_{method}.png").stat().st_size > 0
    for variant in ("attcontact", "noattention"):
        assert (out / "model" / variant / "model.ckpt").exists()
        assert (out / "model" / variant / "learning_curve.png").exists()
    assert (out / "predictions" / "attcontact" / "1EJG.attention.png").stat().st_size > 0
    card = json.loads((out / "model" / "attcontact" / "model.json").read_text())
    assert card["chain"] == "contact" and card["inputs"]["max_iter"] == 5
    assert {"val_long_L/2", "baseline_apc_plm_val_long_L/2"} <= set(card["metrics"])
    # a new query (an alignment of 1UBI, no structure), named by its file
    query = np.load(out / "predict" / "contact_query" / "contact_query.npy")
    assert query.shape == (76, 76) and np.isfinite(query).all()


def test_tfbs_chain_end_to_end(tmp_path: Path) -> None:
    out = run_chain("tfbs", tmp_path)
    counts = pd.read_csv(out / "labels" / "CTCF_counts.tsv", sep="\t")
    assert set(counts["cell"]) == {"CellA", "CellB", "CellC"} and counts["B"].sum() > 0
    assert (out / "models" / "CTCF" / "model.ckpt").exists()
    assert (out / "models" / "CTCF" / "learning_curve.png").exists()
    card = json.loads((out / "models" / "CTCF" / "model.json").read_text())
    assert card["chain"] == "tfbs" and card["training"]["cells"] == ["CellA", "CellB"]
    assert not set(card["training"]["train_chroms"]) & set(card["training"]["test_chroms"])
    genome = pd.read_csv(out / "genome" / "CTCF" / "CellC" / "predictions.tsv.gz", sep="\t", header=None)
    assert list(dict.fromkeys(genome[0])) == ["chr1", "chr2", "chr8", "chr11", "chr21"]  # every chromosome, in order
    assert genome[3].between(0, 1).all() and not (out / "genome" / "CTCF" / "CellC" / "chroms").exists()
    assert (out / "models" / "CTCF" / "noattention" / "model.ckpt").exists()
    for cell in ("CellA", "CellB", "CellC"):
        submission = pd.read_csv(out / "predictions" / "CTCF" / cell / "predictions.tsv.gz", sep="\t", header=None)
        assert submission.shape[1] == 4 and submission[3].between(0, 1).all()
        assert set(submission[0]) == {"chr11", "chr1", "chr8", "chr21"}
        assert (out / "predictions" / "CTCF" / cell / "track.bw").stat().st_size > 0
        evaluation = out / "evaluation" / "CTCF" / cell
        metrics = pd.read_csv(evaluation / "metrics.tsv", sep="\t").set_index("method")
        assert set(metrics.index) == {"single", "pairwise", "ensemble", "noattention", "dnase_max", "logreg"}
        assert metrics[["auroc", "auprc", "average_precision"]].stack().between(0, 1).all()
        verdict = pd.read_csv(evaluation / "verdict.tsv", sep="\t")
        assert {f"{m}_beats_{b}" for m in ("ensemble", "noattention") for b in ("dnase_max", "logreg")} | {
            "attention_beats_noattention"} <= set(verdict.columns)
        assert (evaluation / "plots" / f"roc_pr_{cell}.png").stat().st_size > 0
    scan = pd.read_csv(out / "explain" / "CTCF" / "CellC" / "motif_scan.tsv", sep="\t")
    assert scan["windows"].item() > 0 and {"hits_attention", "hits_random"} <= set(scan.columns)
    assert (out / "explain" / "CTCF" / "CellC" / "logos" / "CTCF_MA0139.1.png").stat().st_size > 0
