"""Evaluation of predicted lDDT against the true lDDT (tables 5.1-5.6 of [enqa]).

For EnQA and the two baselines computed in the same run on the same models, AF2Consensus (mean
Cα-lDDT of the model to the AlphaFold references) and AF2-pLDDT (the references' mean pLDDT at the
aligned residues):

* per-residue MSE, MAE and Pearson r computed **per model and then averaged over models**, as the
  chapter's tables do (``residue_*``), with the same metrics over all residues pooled beside them
  (``residue_*_pooled``; pooling mixes the spread between models into a per-residue figure);
* per-model MSE, MAE and Pearson r of the global scores over all models (``model_*``) and the Pearson r
  per target averaged over targets (``model_pearson_per_target``);
* the ranking loss per target (true score of the best model minus true score of the model the method
  ranks first, in lDDT and in GDT-TS, averaged over targets).

Every metric skips the values a method leaves undefined (``n/a``: a residue without a reference, a
reference without pLDDT) and is ``n/a`` itself when nothing is left; a target none of whose models has
a value does not enter the ranking loss. ``metrics.tsv`` has one row per method and a column saying
whether EnQA beats each baseline on both the per-residue and the per-model Pearson r, each computed on
the models and residues where the baseline is defined; ``n/a`` when the baseline is undefined on every
model (e.g. references without pLDDT). The verdict is also logged.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.errors import InputError
from pgml.metrics import pearson
from pgml.plots import plot_scatter
from pgml.tables import read_tsv, write_tsv

log = logging.getLogger(__name__)

METHODS = {"enqa": "predicted", "af2_consensus": "af2_consensus", "af2_plddt": "af2_plddt"}
BASELINES = ("af2_consensus", "af2_plddt")
NA = "n/a"


def _defined(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y, p = np.asarray(y, dtype=np.float64), np.asarray(p, dtype=np.float64)
    ok = ~(np.isnan(y) | np.isnan(p))
    return y[ok], p[ok]


def regression_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """MSE, MAE and Pearson r over the pairs where both are defined (NaN when none / r undefined)."""
    y, p = _defined(y, p)
    if len(y) == 0:
        return {"mse": float("nan"), "mae": float("nan"), "pearson": float("nan")}
    return {"mse": float(np.mean((y - p) ** 2)), "mae": float(np.mean(np.abs(y - p))),
            "pearson": pearson(y, p) if len(y) > 1 else float("nan")}


def _mean_defined(values: list[float]) -> float:
    values = [v for v in values if not np.isnan(v)]
    return float(np.mean(values)) if values else float("nan")


def per_group_metrics(frame: pd.DataFrame, keys: list[str], truth: str, column: str) -> dict[str, float]:
    """:func:`regression_metrics` within each group of ``keys``, averaged over the groups that define it."""
    groups = [regression_metrics(g[truth].to_numpy(), g[column].to_numpy()) for _, g in frame.groupby(keys)]
    return {name: _mean_defined([g[name] for g in groups]) for name in ("mse", "mae", "pearson")}


def ranking_loss(models: pd.DataFrame, score: str, truth: str) -> float:
    """Mean over targets of max(truth) - truth of the model with the highest ``score``; models without
    a ``score`` cannot be picked, targets where none has one (or none has a truth) are left out."""
    losses = []
    for _, group in models.groupby("target"):
        group = group.dropna(subset=[truth])
        scored = group.dropna(subset=[score])
        if len(scored):
            losses.append(float(group[truth].max() - scored.loc[scored[score].idxmax(), truth]))
    return float(np.mean(losses)) if losses else float("nan")


def method_row(residues: pd.DataFrame, models: pd.DataFrame, column: str) -> dict[str, float]:
    """Every metric of one method's ``column`` (module docstring)."""
    res = residues.dropna(subset=[column])
    mod = models.dropna(subset=[column])
    per_model = per_group_metrics(res, ["target", "model"], "true", column)
    pooled = regression_metrics(res["true"].to_numpy(), res[column].to_numpy())
    glob = regression_metrics(mod["true_lddt"].to_numpy(), mod[column].to_numpy())
    per_target = per_group_metrics(mod, ["target"], "true_lddt", column)
    return {"residues": len(res), "models": len(mod), "targets": mod["target"].nunique(),
            **{f"residue_{k}": v for k, v in per_model.items()},
            **{f"residue_{k}_pooled": v for k, v in pooled.items()},
            **{f"model_{k}": v for k, v in glob.items()},
            "model_pearson_per_target": per_target["pearson"],
            "ranking_loss_lddt": ranking_loss(models, column, "true_lddt"),
            "ranking_loss_gdt_ts": ranking_loss(models, column, "gdt_ts")}


def verdict(residues: pd.DataFrame, models: pd.DataFrame, base: str) -> tuple[str, str]:
    """("yes" | "no" | "n/a", reason): does EnQA beat ``base`` on per-residue (per model, averaged) and
    per-model Pearson r, both computed where ``base`` is defined?"""
    res = residues.dropna(subset=[METHODS[base]])
    mod = models.dropna(subset=[METHODS[base]])
    if res.empty and mod.empty:
        return NA, f"{base} is undefined on every model (no values); EnQA cannot be compared with it"
    ours = (per_group_metrics(res, ["target", "model"], "true", "predicted")["pearson"],
            regression_metrics(mod["true_lddt"].to_numpy(), mod["predicted"].to_numpy())["pearson"])
    theirs = (per_group_metrics(res, ["target", "model"], "true", METHODS[base])["pearson"],
              regression_metrics(mod["true_lddt"].to_numpy(), mod[METHODS[base]].to_numpy())["pearson"])
    pairs = [(a, b) for a, b in zip(ours, theirs, strict=True) if not (np.isnan(a) or np.isnan(b))]
    detail = (f"per-residue r {ours[0]:.3f} vs {theirs[0]:.3f}, per-model r {ours[1]:.3f} vs {theirs[1]:.3f} "
              f"on the {len(mod)} models where {base} is defined")
    if not pairs:
        return NA, f"{base}: no Pearson r defined on both sides ({detail})"
    wins = all(a > b for a, b in pairs)
    return ("yes" if wins else "no"), f"EnQA {'beats' if wins else 'does NOT beat'} {base}: {detail}"


def evaluate(residues: pd.DataFrame, models: pd.DataFrame) -> pd.DataFrame:
    """One row per method (see the module docstring)."""
    residues = residues.dropna(subset=["true"])
    models = models.dropna(subset=["true_lddt"])
    if residues.empty:
        raise InputError("no residue has a true lDDT (no native structures)")
    table = pd.DataFrame([{"method": method, **method_row(residues, models, column)}
                          for method, column in METHODS.items()])
    for base in BASELINES:
        answer, reason = verdict(residues, models, base)
        table[f"enqa_beats_{base}"] = ""
        table.loc[table.method == "enqa", f"enqa_beats_{base}"] = answer
        log.info("%s", reason)
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
    for name, frame, columns in (("residues.tsv", residues, ["true", *METHODS.values()]),
                                 ("models.tsv", models, ["true_lddt", "gdt_ts", *METHODS.values()])):
        for column in columns:
            values = pd.to_numeric(frame[column], errors="coerce")
            bad = values.isna() & frame[column].notna()
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise InputError(f"column {column}: {frame[column].iloc[row]!r} is not a number or n/a",
                                 path=prediction_dir / name, record=f"line {row + 2}")
            if np.isinf(values).any():
                raise InputError(f"column {column}: infinite value", path=prediction_dir / name)
            frame[column] = values
    table = evaluate(residues, models)

    def panel(frame: pd.DataFrame, truth: str, column: str) -> tuple[np.ndarray, np.ndarray]:
        y, p = _defined(frame[truth].to_numpy(), frame[column].to_numpy())
        return (y, p) if len(y) else (np.array([np.nan]), np.array([np.nan]))

    with atomic_dir(output_dir) as tmp:
        write_tsv(table, tmp / "metrics.tsv", float_format="%.4f", na_rep=NA)
        plot_scatter({m: panel(residues, "true", c) for m, c in METHODS.items()}, tmp / "scatter_residues.png",
                     xlabel="true lDDT", ylabel="predicted lDDT")
        plot_scatter({m: panel(models, "true_lddt", c) for m, c in METHODS.items()}, tmp / "scatter_models.png",
                     xlabel="true global lDDT", ylabel="predicted global lDDT")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep=NA))
    return table
