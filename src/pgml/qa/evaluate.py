"""Evaluation of predicted lDDT against the true lDDT (tables 5.1-5.6 of [enqa]).

For EnQA and the two baselines computed in the same run on the same models, AF2Consensus (mean
Cα-lDDT of the model to the AlphaFold references) and AF2-pLDDT (the references' mean pLDDT at the
aligned residues): per-residue and per-model MSE, MAE and Pearson r, and the ranking loss per target
(true score of the best model minus true score of the model the method ranks first, in lDDT and in
GDT-TS, averaged over targets). ``metrics.tsv`` has one row per method and a column saying whether
EnQA beats each baseline on both the per-residue and the per-model Pearson r (``n/a`` when the
baseline is undefined, e.g. references without pLDDT); the verdict is also logged.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.errors import InputError
from pgml.metrics import mae, pearson
from pgml.plots import plot_scatter
from pgml.tables import read_tsv, write_tsv

log = logging.getLogger(__name__)

METHODS = {"enqa": "predicted", "af2_consensus": "af2_consensus", "af2_plddt": "af2_plddt"}
BASELINES = ("af2_consensus", "af2_plddt")


def _mse(y: np.ndarray, p: np.ndarray) -> float:
    ok = ~(np.isnan(y) | np.isnan(p))
    return float(np.mean((y[ok] - p[ok]) ** 2)) if ok.any() else float("nan")


def ranking_loss(models: pd.DataFrame, score: str, truth: str) -> float:
    """Mean over targets of max(truth) - truth of the model with the highest ``score``."""
    losses = []
    for _, group in models.groupby("target"):
        group = group.dropna(subset=[truth])
        if len(group):
            losses.append(float(group[truth].max() - group.loc[group[score].idxmax(), truth]))
    return float(np.mean(losses)) if losses else float("nan")


def evaluate(residues: pd.DataFrame, models: pd.DataFrame) -> pd.DataFrame:
    """One row per method (see the module docstring)."""
    residues = residues.dropna(subset=["true"])
    models = models.dropna(subset=["true_lddt"])
    if residues.empty:
        raise InputError("no residue has a true lDDT (no native structures)")
    rows = []
    for method, column in METHODS.items():
        y, p = residues["true"].to_numpy(float), residues[column].to_numpy(float)
        my, mp = models["true_lddt"].to_numpy(float), models[column].to_numpy(float)
        rows.append({"method": method, "residues": len(y), "models": len(my), "targets": models["target"].nunique(),
                     "residue_mse": _mse(y, p), "residue_mae": mae(y, p), "residue_pearson": pearson(y, p),
                     "model_mse": _mse(my, mp), "model_mae": mae(my, mp), "model_pearson": pearson(my, mp),
                     "ranking_loss_lddt": ranking_loss(models, column, "true_lddt"),
                     "ranking_loss_gdt_ts": ranking_loss(models, column, "gdt_ts")})
    table = pd.DataFrame(rows)
    enqa = table.set_index("method").loc["enqa"]
    for base in BASELINES:
        other = table.set_index("method").loc[base]
        table[f"enqa_beats_{base}"] = ""
        if np.isnan(other.model_pearson) and np.isnan(other.residue_pearson):
            table.loc[table.method == "enqa", f"enqa_beats_{base}"] = "n/a"
            log.info("%s is undefined on these models (no values); EnQA cannot be compared with it", base)
            continue
        wins = bool(enqa.model_pearson > other.model_pearson and enqa.residue_pearson > other.residue_pearson)
        table.loc[table.method == "enqa", f"enqa_beats_{base}"] = "yes" if wins else "no"
        log.info("EnQA %s %s: per-residue r %.3f vs %.3f, per-model r %.3f vs %.3f", "beats" if wins else
                 "does NOT beat", base, enqa.residue_pearson, other.residue_pearson, enqa.model_pearson,
                 other.model_pearson)
    return table


def evaluate_predictions(prediction_dir: Path, output_dir: Path) -> pd.DataFrame:
    """Read ``residues.tsv`` and ``models.tsv`` of ``pgml qa predict``; write metrics and scatter plots."""
    from pgml.fileio import atomic_dir

    if not prediction_dir.is_dir():
        raise InputError("not an output directory of `pgml qa predict` (expected residues.tsv and models.tsv "
                         "inside)", path=prediction_dir)
    residues = read_tsv(prediction_dir / "residues.tsv", required_columns=["target", "model", "true", *METHODS.values()],
                        dtype={"target": str, "model": str, "chain": str})
    models = read_tsv(prediction_dir / "models.tsv", required_columns=["target", "model", "true_lddt", "gdt_ts",
                                                                       *METHODS.values()],
                     dtype={"target": str, "model": str})
    table = evaluate(residues, models)
    labelled = residues.dropna(subset=["true"])
    with atomic_dir(output_dir) as tmp:
        write_tsv(table, tmp / "metrics.tsv", float_format="%.4f")
        plot_scatter({m: (labelled["true"], labelled[c]) for m, c in METHODS.items()}, tmp / "scatter_residues.png",
                     xlabel="true lDDT", ylabel="predicted lDDT")
        plot_scatter({m: (models["true_lddt"], models[c]) for m, c in METHODS.items()}, tmp / "scatter_models.png",
                     xlabel="true global lDDT", ylabel="predicted global lDDT")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return table
