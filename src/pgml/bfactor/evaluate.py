"""Evaluate B-factor predictions: per-protein metrics, averaged, mean ± sd over runs, with plots.

Metrics follow the seed paper's evaluation: Pearson correlation coefficient (CC), mean absolute
error (MAE), mean absolute percentage error (MAPE) and root relative squared error (RRSE), each
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

from pgml.errors import InputError
from pgml.fileio import atomic_path, save_figure

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
    table = pd.read_csv(table_path, sep="\t", dtype={"structure": str})
    missing = {"structure", "target_true", "target_pred"} - set(table.columns)
    if missing:
        raise InputError(f"missing columns {sorted(missing)}", path=table_path)
    return table


def per_protein_metrics(table: pd.DataFrame) -> pd.DataFrame:
    """CC, MAE, MAPE, RRSE for every structure of a predictions table."""
    from pgml.train.metrics import mae, mape, pearson, rrse

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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(tables)
    fig, axes = plt.subplots(1, n, figsize=(4 * n, 4), squeeze=False)
    for ax, (method, table) in zip(axes[0], tables.items(), strict=True):
        y, p = table["target_true"].to_numpy(), table["target_pred"].to_numpy()
        ax.scatter(y, p, s=2, alpha=0.3, rasterized=True)
        lo, hi = np.nanmin([y.min(), p.min()]), np.nanmax([y.max(), p.max()])
        ax.plot([lo, hi], [lo, hi], color="grey", lw=1, ls="--")
        cc = np.corrcoef(y, p)[0, 1] if len(y) > 1 else np.nan
        ax.set_title(f"{method} (all atoms r = {cc:.2f})")
        ax.set_xlabel("true")
        ax.set_ylabel("predicted")
    fig.tight_layout()
    save_figure(fig, output)


def plot_cc_distribution(per_protein: pd.DataFrame, output: Path) -> None:
    """Per-protein CC by method (all runs), as box plots with the points on top."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = list(dict.fromkeys(per_protein["method"]))
    data = [per_protein.loc[per_protein["method"] == m, "cc"].dropna().to_numpy() for m in methods]
    fig, ax = plt.subplots(figsize=(1.2 * len(methods) + 2, 4))
    ax.boxplot(data, showfliers=False)
    ax.set_xticks(range(1, len(methods) + 1), methods)
    rng = np.random.default_rng(0)
    for i, values in enumerate(data, start=1):
        ax.scatter(i + rng.uniform(-0.12, 0.12, len(values)), values, s=12, alpha=0.7)
    ax.set_ylabel("per-protein Pearson CC")
    ax.axhline(0, color="grey", lw=0.5)
    fig.tight_layout()
    save_figure(fig, output)


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
    with atomic_path(output_dir / "per_protein.tsv") as tmp:
        per_protein_table.to_csv(tmp, sep="\t", index=False, float_format="%.4f")
    plot_scatter({m: t for m, (_, t) in first_run.items()}, output_dir / "scatter.png")
    plot_cc_distribution(per_protein_table, output_dir / "cc_by_architecture.png")
    with atomic_path(output_dir / "metrics.tsv") as tmp:
        summary.to_csv(tmp, sep="\t", index=False, float_format="%.4f")
    for row in summary.itertuples():
        verdict = "" if row.method == BASELINE else (
            " (beats the contact-number baseline)" if getattr(row, "beats_baseline", "") == "yes"
            else " (does NOT beat the contact-number baseline)"
        )
        log.info("%-12s CC %.3f ± %.3f  MAE %.2f  MAPE %.1f%%  RRSE %.3f%s", row.method, row.cc_mean,
                 row.cc_sd, row.mae_mean, row.mape_mean, row.rrse_mean, verdict)
    return summary
