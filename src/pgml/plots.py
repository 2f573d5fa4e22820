"""Figures shared by every chain, and the one place that chooses the matplotlib backend.

Importing this module selects the non-interactive ``Agg`` backend (jobs run without a display);
no other module calls ``matplotlib.use``. Every figure is written atomically by :func:`save_figure`
(temporary file next to the target, then rename), so a killed job never leaves a torn image.

- :func:`figure`: a new figure and its axes (``plt.subplots``);
- :func:`plot_roc_pr`: ROC and precision-recall curves of several methods, side by side;
- :func:`plot_scatter`: predicted against true values, one panel per method, with the diagonal;
- :func:`plot_learning_curve`: losses and a monitored validation metric against the epoch;
- :func:`plot_distribution`: one box plot per group with the individual values on top.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import numpy as np
import numpy.typing as npt

from pgml.fileio import atomic_path
from pgml.metrics.regression import pearson

matplotlib.use("Agg")

DPI = 120


def pyplot() -> Any:
    """``matplotlib.pyplot``, imported on first use (the backend is already ``Agg``)."""
    import matplotlib.pyplot as plt

    return plt


def figure(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] | None = None,
           squeeze: bool = True, **kwargs: Any) -> tuple[Any, Any]:
    """A new figure and its axes: ``plt.subplots(nrows, ncols, figsize=..., squeeze=..., **kwargs)``."""
    return pyplot().subplots(nrows, ncols, figsize=figsize, squeeze=squeeze, **kwargs)


def save_figure(fig: Any, path: str | os.PathLike, dpi: int = DPI) -> None:
    """Save ``fig`` atomically (format from the suffix: .png, .pdf...), cropped to what it draws (no label
    clipped), and close it."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
    pyplot().close(fig)


def plot_roc_pr(
    curves: Mapping[str, tuple[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike, npt.ArrayLike]],
    path: str | os.PathLike,
    *,
    roc_auc: Mapping[str, float] | None = None,
    pr_auc: Mapping[str, float] | None = None,
    chance_precision: float | None = None,
    figsize: tuple[float, float] = (11, 4.8),
    dpi: int = DPI,
) -> None:
    """ROC (left) and precision-recall (right) curves of every method, in one figure.

    ``curves`` maps a method name to ``(fpr, tpr, recall, precision)`` (see
    :func:`pgml.metrics.roc_curve_points` and :func:`pgml.metrics.pr_curve_points`). A method's
    AUROC / AUPR from ``roc_auc`` / ``pr_auc``, when given, is shown in its legend entry. The ROC
    panel shows the chance diagonal (AUROC 0.5); the PR panel shows chance as the horizontal line at
    ``chance_precision`` (the positive fraction) when given.
    """
    fig, (ax1, ax2) = figure(1, 2, figsize=figsize)
    for name, (fpr, tpr, rec, prec) in curves.items():
        roc_label = f"{name} ({roc_auc[name]:.3f})" if roc_auc is not None else name
        pr_label = f"{name} ({pr_auc[name]:.3f})" if pr_auc is not None else name
        ax1.plot(fpr, tpr, lw=1.5, label=roc_label)
        ax2.plot(rec, prec, lw=1.5, label=pr_label)
    ax1.plot([0, 1], [0, 1], ls="--", color="0.5", label="random (0.500)")
    if chance_precision is not None:
        ax2.axhline(chance_precision, ls="--", color="0.5", label=f"random ({chance_precision:.3f})")
    ax1.set_xlabel("false positive rate")
    ax1.set_ylabel("true positive rate")
    ax1.set_title("ROC (AUROC)")
    ax2.set_xlabel("recall")
    ax2.set_ylabel("precision")
    ax2.set_title("precision-recall (AUPR)")
    ax1.legend(fontsize=8, loc="lower right")
    ax2.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    save_figure(fig, path, dpi=dpi)


def plot_scatter(
    panels: Mapping[str, tuple[npt.ArrayLike, npt.ArrayLike]],
    path: str | os.PathLike,
    *,
    xlabel: str = "true",
    ylabel: str = "predicted",
    title: str = "{name} (r = {r:.2f})",
    dpi: int = DPI,
) -> None:
    """Predicted against true values, one panel per entry of ``panels`` (``name -> (true, predicted)``).

    Each panel shows the points, the diagonal ``predicted = true`` and the title ``title`` formatted
    with ``name`` and ``r``, the Pearson correlation of the panel's points (``nan`` if undefined).
    """
    n = len(panels)
    fig, axes = figure(1, n, figsize=(4 * n, 4), squeeze=False)
    for ax, (name, (true, pred)) in zip(axes[0], panels.items(), strict=True):
        y, p = np.asarray(true, dtype=np.float64), np.asarray(pred, dtype=np.float64)
        ax.scatter(y, p, s=2, alpha=0.3, rasterized=True)
        lo, hi = np.nanmin([y.min(), p.min()]), np.nanmax([y.max(), p.max()])
        ax.plot([lo, hi], [lo, hi], color="grey", lw=1, ls="--")
        ax.set_title(title.format(name=name, r=pearson(y, p)))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    fig.tight_layout()
    save_figure(fig, path, dpi=dpi)


def plot_learning_curve(rows: Sequence[Mapping[str, float]], path: str | os.PathLike, *, monitor: str) -> None:
    """Plot losses (left: ``train_loss``, ``val_loss``) and the metric ``monitor`` (right) against the epoch.

    ``rows`` holds one mapping per epoch with at least ``epoch``; missing values are drawn as gaps.
    """
    plt = pyplot()
    epochs = np.array([r["epoch"] for r in rows])
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    for key in ("train_loss", "val_loss"):
        vals = [r.get(key, math.nan) for r in rows]
        if not all(math.isnan(v) for v in vals):
            ax1.plot(epochs, vals, marker="o", ms=3, label=key)
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("loss")
    ax1.legend()
    vals = [r.get(monitor, math.nan) for r in rows]
    ax2.plot(epochs, vals, marker="o", ms=3, color="C2")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel(monitor)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)


def plot_distribution(
    groups: Mapping[str, npt.ArrayLike],
    path: str | os.PathLike,
    *,
    ylabel: str,
    zero_line: bool = True,
    seed: int = 0,
    dpi: int = DPI,
) -> None:
    """One box plot per group (``name -> values``; outliers not drawn) with the values as jittered points.

    NaN values are dropped. ``zero_line`` draws a thin horizontal line at 0; the horizontal jitter
    is drawn from a generator seeded with ``seed``, so the figure is reproducible.
    """
    names = list(groups)
    data = [np.asarray(v, dtype=np.float64) for v in groups.values()]
    data = [v[~np.isnan(v)] for v in data]
    fig, ax = figure(figsize=(1.2 * len(names) + 2, 4))
    ax.boxplot(data, showfliers=False)
    ax.set_xticks(range(1, len(names) + 1), names)
    rng = np.random.default_rng(seed)
    for i, values in enumerate(data, start=1):
        ax.scatter(i + rng.uniform(-0.12, 0.12, len(values)), values, s=12, alpha=0.7)
    ax.set_ylabel(ylabel)
    if zero_line:
        ax.axhline(0, color="grey", lw=0.5)
    fig.tight_layout()
    save_figure(fig, path, dpi=dpi)
