"""Evaluation of contact maps against native structures: precision by range and top L/k, by Neff.

Every method's maps are scored on the same targets in one run (table 4.1 of [dissertation]); the
APC-corrected PLM scores are the baseline CCMpred users rank by. Targets are grouped by the
alignment's effective depth (Neff) so accuracy can be read per depth.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pgml.contact.contacts import CONTACT_CUTOFF, RANGES, precision_table

#: Neff bins (upper edges) for the breakdown
NEFF_BINS = (0.0, 64.0, 256.0, 1024.0, np.inf)


def neff_bin(neff: float) -> str:
    for lo, hi in zip(NEFF_BINS[:-1], NEFF_BINS[1:], strict=True):
        if lo <= neff < hi:
            return f"[{lo:g}, {hi:g})"
    return "nan"


def evaluate_target(method: str, target: str, scores: np.ndarray, distances: np.ndarray, neff: float) -> dict:
    row = {"method": method, "target": target, "length": scores.shape[0], "neff": neff,
           "neff_bin": neff_bin(neff)}
    row.update(precision_table(scores, distances))
    return row


def metric_columns(frame: pd.DataFrame) -> list[str]:
    """The precision columns (``short_L/5`` ... ``long_L``)."""
    return [c for c in frame.columns if c.split("_")[0] in RANGES]


def summarise(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean per method, and mean per method and Neff bin (with the number of targets)."""
    metrics = metric_columns(rows)
    mean = rows.groupby("method", sort=False)[metrics].mean().reset_index()
    mean.insert(1, "targets", rows.groupby("method", sort=False).size().to_numpy())
    by_neff = rows.groupby(["method", "neff_bin"], sort=False)[metrics].mean().reset_index()
    by_neff.insert(2, "targets", rows.groupby(["method", "neff_bin"], sort=False).size().to_numpy())
    return mean, by_neff


def plot_map(scores: np.ndarray, distances: np.ndarray, path: Path, title: str) -> None:
    """Top-L predicted pairs (upper triangle) over the native 8 Å contacts (grey, both triangles)."""
    from pgml.plots import figure, save_figure

    length = scores.shape[0]
    with np.errstate(invalid="ignore"):
        truth = distances < CONTACT_CUTOFF
    fig, ax = figure(figsize=(5, 5))
    ti, tj = np.nonzero(truth & (np.abs(np.subtract.outer(np.arange(length), np.arange(length))) >= 6))
    ax.scatter(tj, ti, s=6, c="0.75", marker="s", label="native contact")
    iu, ju = np.triu_indices(length, 6)
    order = np.argsort(-scores[iu, ju], kind="stable")[:length]
    hit = truth[iu[order], ju[order]]
    ax.scatter(ju[order][hit], iu[order][hit], s=8, c="tab:blue", label="top-L predicted, correct")
    ax.scatter(ju[order][~hit], iu[order][~hit], s=8, c="tab:red", label="top-L predicted, wrong")
    ax.set_xlim(-1, length)
    ax.set_ylim(length, -1)
    ax.set_aspect("equal")
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize=6)
    save_figure(fig, path)


def plot_precision(mean: pd.DataFrame, path: Path) -> None:
    """Grouped bars: mean precision per range and top fraction, one colour per method."""
    from pgml.plots import figure, save_figure

    metrics = metric_columns(mean)
    fig, ax = figure(figsize=(8, 3.5))
    width = 0.8 / max(len(mean), 1)
    x = np.arange(len(metrics))
    for k, (_, row) in enumerate(mean.iterrows()):
        ax.bar(x + k * width, row[metrics].to_numpy(dtype=float), width, label=row["method"])
    ax.set_xticks(x + width * (len(mean) - 1) / 2, metrics, rotation=45, ha="right", fontsize=7)
    ax.set_ylim(0, 1)
    ax.set_ylabel("precision")
    ax.legend(fontsize=7)
    save_figure(fig, path)


def plot_attention(seq_weights: np.ndarray, reg_weights: np.ndarray, path: Path, title: str) -> None:
    """Sequence attention (L x L) and the regional attention's weight on the centre of the n x n region."""
    from pgml.plots import figure, save_figure

    fig, axes = figure(1, 2, figsize=(9, 4))
    im = axes[0].imshow(seq_weights, cmap="viridis")
    axes[0].set_title(f"{title}: sequence attention")
    fig.colorbar(im, ax=axes[0], fraction=0.046)
    centre = reg_weights.shape[2] // 2
    im = axes[1].imshow(reg_weights[:, :, centre], cmap="viridis", vmin=0)
    axes[1].set_title("regional attention on the centre")
    fig.colorbar(im, ax=axes[1], fraction=0.046)
    save_figure(fig, path)
