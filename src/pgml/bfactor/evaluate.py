"""Evaluate B-factor predictions: per-protein metrics, averaged, mean ± sd over runs, with plots.

Metrics follow the evaluation of [metagnn]: Pearson correlation coefficient (CC), mean absolute
error (MAE), mean absolute percentage error (MAPE, as a fraction: 0.25 is 25 %) and root relative
squared error (RRSE) (formulas in :mod:`pgml.metrics.regression`), each computed per protein and then
averaged over the test proteins; repeated runs (``n_runs``, different seeds) give mean ± sd of those
averages.

- A protein whose CC is undefined (constant prediction or target) counts as CC 0, as in validation
  (:mod:`pgml.bfactor.module`; :func:`pgml.metrics.summarise_groups` with ``nan_policy="zero"``), and
  is counted in ``n_undefined_cc`` (protein-runs); undefined MAE/MAPE/RRSE values are left out of
  their means.
- MAPE is a relative error of B-factors, so it is computed in Å² only: on the targets of a raw model,
  or for a z-score model on its predictions mapped back to Å² with each input's B mean and population
  sd (``b_factor`` column: ``B = mean + sd * z``). Without Å² values it is NaN and ``note`` says why.
- The baselines (``baseline``: contact number, ``baseline_wcn``: inverse weighted contact number;
  :mod:`pgml.bfactor.baseline`) are evaluated on the same atoms, and every model is compared with the
  stronger of them by mean CC (``beats_baseline``, ``strongest_baseline``).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from pgml import plots
from pgml.errors import InputError
from pgml.metrics import mae, mape, pearson, rrse, summarise_groups
from pgml.tables import read_tsv, write_tsv

log = logging.getLogger(__name__)

METRICS = ("cc", "mae", "mape", "rrse")
#: method names of baselines start with this (``baseline``, ``baseline_wcn``)
BASELINE = "baseline"
NO_MAPE = "MAPE not computed: predictions are z-scores and the inputs' B-factors (b_factor) are unknown"


def is_baseline(method: str) -> bool:
    return method == BASELINE or method.startswith(BASELINE + "_")


def method_and_run(path: Path) -> tuple[str, int]:
    """``.../predictions/meta/run2`` -> ("meta", 2); a directory not named run<r> is run 0."""
    match = re.fullmatch(r"run(\d+)", path.name)
    if match:
        return path.parent.name, int(match.group(1))
    return path.name, 0


def read_predictions(directory: Path) -> pd.DataFrame:
    table_path = directory / "predictions.tsv"
    if not table_path.exists():
        raise InputError("no predictions.tsv (run `pgml bfactor predict` first)", path=directory)
    table = read_tsv(table_path, required_columns=("structure", "target_true", "target_pred"),
                     dtype={"structure": str})
    pred = pd.to_numeric(table["target_pred"], errors="coerce")
    bad = np.flatnonzero(~np.isfinite(pred.to_numpy(dtype=np.float64)))
    if bad.size:
        i = int(bad[0])
        raise InputError(f"{bad.size} prediction(s) are not finite numbers (first: {table['target_pred'].iloc[i]})"
                         "; the model or its inputs are broken", path=table_path,
                         record=f"line {i + 2} (structure {table['structure'].iloc[i]})")
    return table


def prediction_units(table: pd.DataFrame) -> str:
    """``angstrom2`` or ``zscore`` from the ``pred_units`` column; without it, ``angstrom2`` when the
    targets equal the ``b_factor`` column, ``zscore`` when they differ, ``""`` when there is none."""
    if "pred_units" in table.columns:
        units = set(table["pred_units"].dropna().astype(str))
        if len(units) == 1:
            return units.pop()
        return ""
    if "b_factor" not in table.columns:
        return ""
    same = np.allclose(table["target_true"], table["b_factor"], atol=1e-3, equal_nan=True)
    return "angstrom2" if same else "zscore"


def mape_in_angstrom2(y: np.ndarray, p: np.ndarray, b: np.ndarray | None, units: str) -> float:
    """MAPE of one protein in Å² (see the module docstring); NaN when no Å² values exist."""
    if units == "angstrom2":
        return mape(y, p)
    if units == "zscore" and b is not None and np.isfinite(b).all():
        mean, sd = float(b.mean()), float(b.std())
        return mape(b, mean + sd * p)
    return float("nan")


def per_protein_metrics(table: pd.DataFrame) -> pd.DataFrame:
    """CC, MAE, MAPE (fraction, in Å²), RRSE for every structure of a predictions table."""
    units = prediction_units(table)
    rows = []
    for structure, group in table.groupby("structure", sort=True):
        y = group["target_true"].to_numpy(dtype=np.float64)
        p = group["target_pred"].to_numpy(dtype=np.float64)
        b = group["b_factor"].to_numpy(dtype=np.float64) if "b_factor" in group.columns else None
        rows.append(
            {
                "structure": structure,
                "n_atoms": len(group),
                "cc": pearson(y, p),
                "mae": mae(y, p),
                "mape": mape_in_angstrom2(y, p, b, units),
                "rrse": rrse(y, p),
            }
        )
    return pd.DataFrame(rows)


def summarise(per_protein: pd.DataFrame) -> pd.DataFrame:
    """Average over proteins within a run (CC: undefined as 0), then mean ± sd over runs, per method."""
    run_rows = []
    for (method, run), group in per_protein.groupby(["method", "run"], sort=False):
        cc = summarise_groups(group["cc"].to_numpy(), nan_policy="zero")
        row = {"method": method, "run": run, "cc": cc.mean, "n_undefined_cc": cc.n_undefined}
        for m in METRICS[1:]:
            row[m] = summarise_groups(group[m].to_numpy(), nan_policy="omit").mean
        run_rows.append(row)
    per_run = pd.DataFrame(run_rows)
    proteins = per_protein.groupby("method")["structure"].nunique()
    rows = []
    for method, group in per_run.groupby("method", sort=False):
        row = {"method": method, "n_runs": len(group), "n_proteins": int(proteins[method]),
               "n_undefined_cc": int(group["n_undefined_cc"].sum())}
        for m in METRICS:
            row[f"{m}_mean"] = group[m].mean()
            row[f"{m}_sd"] = group[m].std(ddof=1) if len(group) > 1 else 0.0
        row["note"] = NO_MAPE if np.isnan(row["mape_mean"]) else ""
        rows.append(row)
    summary = pd.DataFrame(rows)
    is_base = summary["method"].map(is_baseline)
    if is_base.any():
        bases = summary[is_base]
        best = bases.loc[bases["cc_mean"].fillna(-np.inf).idxmax()]
        summary["strongest_baseline"] = np.where(is_base, "", best["method"])
        summary["beats_baseline"] = np.where(
            is_base, "", np.where(summary["cc_mean"] > best["cc_mean"], "yes", "no")
        )
    # models in the order given, baselines last
    return pd.concat([summary[~is_base], summary[is_base]], ignore_index=True)


def plot_scatter(tables: dict[str, pd.DataFrame], output: Path) -> None:
    """Predicted vs true target, one panel per method (first run)."""
    plots.plot_scatter({method: (table["target_true"].to_numpy(), table["target_pred"].to_numpy())
                        for method, table in tables.items()}, output, title="{name} (all atoms r = {r:.2f})")


def plot_cc_distribution(per_protein: pd.DataFrame, output: Path) -> None:
    """Per-protein CC by method (all runs), as box plots with the points on top."""
    methods = list(dict.fromkeys(per_protein["method"]))
    plots.plot_distribution({m: per_protein.loc[per_protein["method"] == m, "cc"].to_numpy() for m in methods},
                            output, ylabel="per-protein Pearson CC")


def evaluate_predictions(
    prediction_dirs: list[str | Path], baseline: str | Path | list[str | Path], output_dir: str | Path
) -> pd.DataFrame:
    """Write metrics.tsv, per_protein.tsv, scatter.png and cc_by_architecture.png; return the summary.

    ``baseline``: one or more directories from ``pgml bfactor baseline``; each is a method named after
    its directory (``baseline``, ``baseline_wcn``).
    """
    output_dir = Path(output_dir)
    baselines = [baseline] if isinstance(baseline, str | Path) else list(baseline)
    per_protein, first_run = [], {}
    sources = [(Path(d), *method_and_run(Path(d))) for d in prediction_dirs]
    for b in baselines:
        name = Path(b).name
        sources.append((Path(b), name if is_baseline(name) else BASELINE, 0))
    for directory, method, run in sources:
        table = read_predictions(directory)
        metrics = per_protein_metrics(table)
        metrics.insert(0, "run", run)
        metrics.insert(0, "method", method)
        per_protein.append(metrics)
        if method not in first_run or run < first_run[method][0]:
            first_run[method] = (run, table)
    per_protein_table = pd.concat(per_protein, ignore_index=True)
    summary = summarise(per_protein_table)
    write_tsv(per_protein_table, output_dir / "per_protein.tsv", float_format="%.4f")
    plot_scatter({m: t for m, (_, t) in first_run.items()}, output_dir / "scatter.png")
    plot_cc_distribution(per_protein_table, output_dir / "cc_by_architecture.png")
    write_tsv(summary, output_dir / "metrics.tsv", float_format="%.4f")
    cc_of = dict(zip(summary["method"], summary["cc_mean"], strict=True))
    for row in summary.itertuples():
        log.info("%-12s CC %.3f ± %.3f  MAE %.2f  MAPE %.1f%%  RRSE %.3f", row.method, row.cc_mean,
                 row.cc_sd, row.mae_mean, 100 * row.mape_mean, row.rrse_mean)
        verdict = getattr(row, "beats_baseline", "")
        if verdict == "yes":
            log.info("%s beats the strongest baseline, %s", row.method, row.strongest_baseline)
        elif verdict == "no":
            log.warning("%s does not beat the %s baseline (CC %.3f vs %.3f): prefer the baseline for this data",
                        row.method, row.strongest_baseline, row.cc_mean, cc_of[row.strongest_baseline])
        if row.n_undefined_cc:
            log.warning("%s: CC undefined (constant prediction or target) for %d protein-run(s); counted as 0",
                        row.method, row.n_undefined_cc)
        if row.note:
            log.info("%s: %s", row.method, row.note)
    return summary
