"""Evaluation of contact maps against native structures: precision by range and top L/k, by Neff.

Every method's maps are scored on the same targets in one run, in the layout of table 4.1 of
[dissertation] (top L/10, L/5 and L/2 precision for short, medium and long range): ATTContact (the
ensemble), each of its networks (sequence attention, regional attention), the ``noattention``
network and the APC-corrected PLM scores, the baseline CCMpred users rank by. Every model gets a
verdict against APC-PLM on long-range top-L/5 precision; whether attention beats ``noattention``
is reported, not assumed. ``ends_top_L`` checks for an edge effect: the fraction of the top-L pairs
that touch the first or last two residues, beside ``ends_chance``, the fraction of all pairs that do.
Targets are grouped by the alignment's effective depth (Neff) so accuracy can be read per depth.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.contact.contacts import CONTACT_CUTOFF, RANGES, precision_table
from pgml.errors import InputError

log = logging.getLogger(__name__)

#: Neff bins (upper edges) for the breakdown
NEFF_BINS = (0.0, 64.0, 256.0, 1024.0, np.inf)
#: the maps of the networks an attcontact model's ``predict`` writes in subfolders of its output
MODULES = ("sequence_attention", "regional_attention")
#: residues at each end of the chain counted by the edge-effect check (:func:`ends_fraction`)
ENDS = 2
#: the metric every model is judged on against APC-PLM
VERDICT_METRIC = "long_L/5"


def read_map(path: Path, length: int) -> np.ndarray:
    """One predicted ``(L, L)`` map; :class:`InputError` naming the file when missing or of another size."""
    if not path.is_file():
        raise InputError("prediction not found", path=path)
    values = np.load(path)
    if values.shape != (length, length):
        raise InputError(f"map of shape {values.shape}, the target has {length} residues", path=path)
    return values


def model_maps(target: str, length: int, predictions: Path | None, noattention: Path | None) -> dict[str, np.ndarray]:
    """ATTContact's ensemble and per-network maps, and the ``noattention`` map, of one target (those given)."""
    maps = {}
    if predictions is not None:
        maps["attcontact"] = read_map(Path(predictions) / f"{target}.npy", length)
        for module in MODULES:
            path = Path(predictions) / module / f"{target}.npy"
            if path.is_file():
                maps[module] = read_map(path, length)
    if noattention is not None:
        maps["noattention"] = read_map(Path(noattention) / f"{target}.npy", length)
    return maps


def add_verdicts(mean: pd.DataFrame, n_targets: int) -> pd.DataFrame:
    """``beats_apc_plm_long_L/5`` for every model row (empty for APC-PLM), with a log line each."""
    by = mean.set_index("method")[VERDICT_METRIC]
    baseline = by.get("apc_plm", np.nan)
    verdict = []
    for method, value in by.items():
        if method == "apc_plm":
            verdict.append("")
            continue
        verdict.append(bool(value > baseline))
        log.info("%s %s APC-PLM on long-range top-L/5 precision (%.3f vs %.3f, %d test targets)", method,
                 "beats" if value > baseline else "does NOT beat", value, baseline, n_targets)
    if "attcontact" in by and "noattention" in by:
        log.info("attention %s: ATTContact %.3f, noattention %.3f long-range top-L/5 precision",
                 "helps" if by["attcontact"] > by["noattention"] else "does NOT help", by["attcontact"],
                 by["noattention"])
    mean = mean.copy()
    mean[f"beats_apc_plm_{VERDICT_METRIC}"] = verdict
    return mean


def neff_bin(neff: float) -> str:
    for lo, hi in zip(NEFF_BINS[:-1], NEFF_BINS[1:], strict=True):
        if lo <= neff < hi:
            return f"[{lo:g}, {hi:g})"
    return "nan"


def ends_fraction(scores: np.ndarray, ends: int = ENDS, min_separation: int = 6) -> tuple[float, float]:
    """Fraction of the top-L pairs (separation >= 6) that touch the first or last ``ends`` residues, and
    the fraction of all such pairs that do (what a map without an edge effect gives on average)."""
    length = scores.shape[0]
    i, j = np.triu_indices(length, min_separation)
    if i.size == 0:
        return float("nan"), float("nan")
    touches = (i < ends) | (j < ends) | (i >= length - ends) | (j >= length - ends)
    top = np.argsort(-scores[i, j], kind="stable")[:length]
    return float(touches[top].mean()), float(touches.mean())


def evaluate_target(method: str, target: str, scores: np.ndarray, distances: np.ndarray, neff: float) -> dict:
    row = {"method": method, "target": target, "length": scores.shape[0], "neff": neff,
           "neff_bin": neff_bin(neff)}
    row.update(precision_table(scores, distances))
    row["ends_top_L"], row["ends_chance"] = ends_fraction(scores)
    return row


def metric_columns(frame: pd.DataFrame) -> list[str]:
    """The precision columns (``short_L/10`` ... ``long_L/2``)."""
    return [c for c in frame.columns if c.split("_")[0] in RANGES]


def summary_columns(frame: pd.DataFrame) -> list[str]:
    """The precision columns and the edge-effect check (top-L pairs at the chain's ends, and by chance)."""
    return metric_columns(frame) + [c for c in ("ends_top_L", "ends_chance") if c in frame.columns]


def summarise(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean per method, and mean per method and Neff bin (with the number of targets)."""
    metrics = summary_columns(rows)
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
