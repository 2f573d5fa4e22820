"""Evaluate B-factor predictions: per-protein metrics, averaged, mean ± sd over runs, with plots.

Metrics follow the evaluation of [metagnn]: Pearson correlation coefficient (CC), mean absolute
error (MAE), mean absolute percentage error (MAPE, as a fraction: 0.25 is 25 %) and root relative
squared error (RRSE) (formulas in :mod:`pgml.metrics.regression`), each
computed per protein and then averaged over the test proteins; repeated runs (``n_runs``, different
seeds) give mean ± sd of those averages. The contact-number baseline is evaluated on the same atoms
and every model is compared with it (``beats_baseline``).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from pgml import plots
from pgml.errors import InputError
from pgml.metrics import mae, mape, pearson, rrse
from pgml.tables import read_tsv, write_tsv

log = logging.getLogger(__name__)

METRICS = ("cc", "mae", "mape", "rrse")
BASELINE = "baseline"


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
    return read_tsv(table_path, required_columns=("structure", "target_true", "target_pred"),
                    dtype={"structure": str})


def per_protein_metrics(table: pd.DataFrame) -> pd.DataFrame:
    """CC, MAE, MAPE (fraction), RRSE for every structure of a predictions table."""
    rows = []
    for structure, group in table.groupby("structure", sort=True):
        y = group["target_true"].to_numpy(dtype=np.float64)
        p = group["target_pred"].to_numpy(dtype=np.float64)
        rows.append(
            {
                "structure": structure,
                "n_atoms": len(group),
                "cc": pearson(y, p),
                "mae": mae(y, p),
                "mape": mape(y, p),
                "rrse": rrse(y, p),
            }
        )
    return pd.DataFrame(rows)


def summarise(per_protein: pd.DataFrame) -> pd.DataFrame:
    """Average over proteins within a run, then mean ± sd over runs, per method."""
    per_run = per_protein.groupby(["method", "run"], sort=False)[list(METRICS)].mean().reset_index()
    proteins = per_protein.groupby("method")["structure"].nunique()
    rows = []
    for method, group in per_run.groupby("method", sort=False):
        row = {"method": method, "n_runs": len(group), "n_proteins": int(proteins[method])}
        for m in METRICS:
            row[f"{m}_mean"] = group[m].mean()
            row[f"{m}_sd"] = group[m].std(ddof=1) if len(group) > 1 else 0.0
        rows.append(row)
    summary = pd.DataFrame(rows)
    if BASELINE in set(summary["method"]):
        base_cc = float(summary.loc[summary["method"] == BASELINE, "cc_mean"].iloc[0])
        summary["beats_baseline"] = np.where(
            summary["method"] == BASELINE, "", np.where(summary["cc_mean"] > base_cc, "yes", "no")
        )
    # models in the order given, baseline last
    is_base = summary["method"] == BASELINE
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
    prediction_dirs: list[str | Path], baseline: str | Path, output_dir: str | Path
) -> pd.DataFrame:
    """Write metrics.tsv, per_protein.tsv, scatter.png and cc_by_architecture.png; return the summary."""
    output_dir = Path(output_dir)
    per_protein, first_run = [], {}
    sources = [(Path(d), *method_and_run(Path(d))) for d in prediction_dirs]
    sources.append((Path(baseline), BASELINE, 0))
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
    for row in summary.itertuples():
        verdict = "" if row.method == BASELINE else (
            " (beats the contact-number baseline)" if getattr(row, "beats_baseline", "") == "yes"
            else " (does NOT beat the contact-number baseline)"
        )
        log.info("%-12s CC %.3f ± %.3f  MAE %.2f  MAPE %.1f%%  RRSE %.3f%s", row.method, row.cc_mean,
                 row.cc_sd, row.mae_mean, 100 * row.mape_mean, row.rrse_mean, verdict)
    return summary
