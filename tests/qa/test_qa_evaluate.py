"""``pgml qa evaluate``: per-residue metrics per model then averaged (tables 5.1-5.6 of [enqa]), pooled
beside them, and undefined baselines that stay ``n/a`` instead of crashing or turning a verdict."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from pgml.cli import main
from pgml.qa.evaluate import evaluate, ranking_loss, regression_metrics
from pgml.qa.predict import nanmean


def _residues() -> pd.DataFrame:
    # model p (3 residues): EnQA exact; model q (2 residues): EnQA reversed
    return pd.DataFrame({"target": ["a"] * 5, "model": ["p", "p", "p", "q", "q"],
                         "true": [0.1, 0.2, 0.3, 0.7, 0.9], "predicted": [0.1, 0.2, 0.3, 0.9, 0.7],
                         "af2_consensus": [0.2, 0.3, 0.4, 0.6, 0.8], "af2_plddt": [0.5, np.nan, 0.7, 0.6, 0.8]})


def _models() -> pd.DataFrame:
    return pd.DataFrame({"target": ["a", "a", "b", "b"], "model": ["p", "q", "r", "s"],
                         "predicted": [0.2, 0.8, 0.4, 0.6], "af2_consensus": [0.3, 0.7, 0.5, 0.4],
                         "af2_plddt": [0.6, 0.7, np.nan, np.nan], "true_lddt": [0.2, 0.8, 0.3, 0.6],
                         "gdt_ts": [0.1, 0.9, 0.2, 0.5]})


def test_residue_metrics_per_model_then_averaged_and_pooled() -> None:
    table = evaluate(_residues(), _models()).set_index("method")
    enqa = table.loc["enqa"]
    # per model: p r = 1, MSE 0; q r = -1, MSE (0.04 + 0.04) / 2 = 0.04 -> means 0 and 0.02
    assert enqa.residue_pearson == pytest.approx(0.0)
    assert enqa.residue_mse == pytest.approx(0.02)
    assert enqa.residue_mae == pytest.approx(0.1)
    # pooled over the 5 residues: MSE 0.08 / 5
    assert enqa.residue_mse_pooled == pytest.approx(0.016)
    y, p = np.array([0.1, 0.2, 0.3, 0.7, 0.9]), np.array([0.1, 0.2, 0.3, 0.9, 0.7])
    assert enqa.residue_pearson_pooled == pytest.approx(np.corrcoef(y, p)[0, 1])
    # AF2Consensus: +0.1 on p, -0.1 on q, r = 1 in both
    cons = table.loc["af2_consensus"]
    assert cons.residue_pearson == pytest.approx(1.0) and cons.residue_mae == pytest.approx(0.1)
    # per target: a r(EnQA) = 1 (two models), b r = 1 -> 1
    assert enqa.model_pearson_per_target == pytest.approx(1.0)


def test_one_nan_plddt_residue_leaves_the_baseline_defined() -> None:
    residues = _residues()
    assert nanmean(residues.loc[residues.model == "p", "af2_plddt"].to_numpy()) == pytest.approx(0.6)
    table = evaluate(residues, _models()).set_index("method")
    plddt = table.loc["af2_plddt"]
    assert plddt.residues == 4 and plddt.models == 2 and plddt.targets == 1
    # per model: p has two defined residues (0.5, 0.7 against 0.1, 0.3: r = 1), q two (r = 1)
    assert plddt.residue_pearson == pytest.approx(1.0)
    assert plddt.residue_mae == pytest.approx(np.mean([0.4, 0.4, 0.1, 0.1]))
    assert table.loc["enqa", "enqa_beats_af2_plddt"] in ("yes", "no")


def test_target_without_any_plddt_does_not_crash_the_ranking_loss() -> None:
    models = _models()
    # target b has no pLDDT at all: only target a counts (AF2-pLDDT picks q, the best: loss 0)
    assert ranking_loss(models, "af2_plddt", "true_lddt") == pytest.approx(0.0)
    # EnQA: a picks q (best, 0), b picks s (best, 0); consensus: a q (0), b r (0.6 - 0.3)
    assert ranking_loss(models, "predicted", "true_lddt") == pytest.approx(0.0)
    assert ranking_loss(models, "af2_consensus", "true_lddt") == pytest.approx(0.15)
    assert np.isnan(ranking_loss(models.assign(af2_plddt=np.nan), "af2_plddt", "true_lddt"))


def test_every_model_without_plddt_gives_n_a(tmp_path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="pgml.qa.evaluate")
    residues, models = _residues().assign(af2_plddt=np.nan), _models().assign(af2_plddt=np.nan)
    table = evaluate(residues, models).set_index("method")
    assert table.loc["enqa", "enqa_beats_af2_plddt"] == "n/a"
    assert np.isnan(table.loc["af2_plddt", "residue_pearson"]) and np.isnan(table.loc["af2_plddt", "ranking_loss_lddt"])
    assert table.loc["enqa", "enqa_beats_af2_consensus"] in ("yes", "no")
    # through the command: the TSVs say n/a, metrics.tsv too
    pred = tmp_path / "pred"
    pred.mkdir()
    residues.to_csv(pred / "residues.tsv", sep="\t", index=False, na_rep="n/a")
    models.to_csv(pred / "models.tsv", sep="\t", index=False, na_rep="n/a")
    assert main(["qa", "evaluate", "--predictions", str(pred), "--output-dir", str(tmp_path / "out")]) == 0
    metrics = (tmp_path / "out" / "metrics.tsv").read_text()
    row = next(line for line in metrics.splitlines() if line.startswith("af2_plddt"))
    assert "n/a" in row and "nan" not in metrics.lower().replace("n/a", "")
    assert "af2_plddt is undefined on every model" in caplog.text


def test_regression_metrics_skip_undefined_pairs() -> None:
    got = regression_metrics(np.array([0.1, np.nan, 0.5, 0.9]), np.array([0.2, 0.3, np.nan, 0.8]))
    assert got["mse"] == pytest.approx(0.01) and got["mae"] == pytest.approx(0.1)
    assert got["pearson"] == pytest.approx(1.0)
    assert all(np.isnan(v) for v in regression_metrics(np.array([np.nan]), np.array([0.1])).values())
