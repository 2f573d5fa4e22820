"""Regression metrics used by the evaluation steps (numpy in, float out).

The bfactor chain reports the Meta-GNN paper's four metrics per protein: Pearson correlation (CC), mean
absolute error (MAE), mean absolute percentage error (MAPE, %) and root relative squared error
(RRSE = sqrt(sum (p - y)^2 / sum (y - mean y)^2)); :func:`per_group` computes any of them per protein.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

ArrayLike = npt.ArrayLike


def _pair(y: ArrayLike, p: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    ya = np.asarray(y, dtype=np.float64).ravel()
    pa = np.asarray(p, dtype=np.float64).ravel()
    if ya.shape != pa.shape:
        raise ValueError(f"targets and predictions differ in length: {ya.size} vs {pa.size}")
    if ya.size == 0:
        raise ValueError("metrics need at least one value")
    return ya, pa


def pearson(y: ArrayLike, p: ArrayLike) -> float:
    """Pearson correlation coefficient; ``nan`` when either side is constant."""
    ya, pa = _pair(y, p)
    dy, dp = ya - ya.mean(), pa - pa.mean()
    denom = np.sqrt((dy * dy).sum() * (dp * dp).sum())
    if denom == 0.0:
        return float("nan")
    return float((dy * dp).sum() / denom)


def mae(y: ArrayLike, p: ArrayLike) -> float:
    """Mean absolute error."""
    ya, pa = _pair(y, p)
    return float(np.abs(pa - ya).mean())


def mape(y: ArrayLike, p: ArrayLike, *, eps: float = 1e-8) -> float:
    """Mean absolute percentage error in percent, over the entries whose target is not (near) zero.

    Entries with ``|y| <= eps`` are skipped (a percentage of zero is undefined); ``nan`` if none remain.
    """
    ya, pa = _pair(y, p)
    keep = np.abs(ya) > eps
    if not keep.any():
        return float("nan")
    return float(100.0 * np.mean(np.abs((pa[keep] - ya[keep]) / ya[keep])))


def rrse(y: ArrayLike, p: ArrayLike) -> float:
    """Root relative squared error sqrt(sum (p - y)^2 / sum (y - mean y)^2); ``nan`` for constant y."""
    ya, pa = _pair(y, p)
    denom = ((ya - ya.mean()) ** 2).sum()
    if denom == 0.0:
        return float("nan")
    return float(np.sqrt(((pa - ya) ** 2).sum() / denom))


def per_group(
    metric: Callable[[ArrayLike, ArrayLike], float], y: ArrayLike, p: ArrayLike, groups: ArrayLike
) -> dict[object, float]:
    """``metric`` computed separately for each distinct value of ``groups`` (e.g. one per protein).

    Returns ``{group: value}`` in order of first appearance.
    """
    ya, pa = _pair(y, p)
    ga = np.asarray(groups).ravel()
    if ga.shape != ya.shape:
        raise ValueError(f"groups has {ga.size} entries, targets {ya.size}")
    _, first, inverse = np.unique(ga, return_index=True, return_inverse=True)
    out: dict[object, float] = {}
    for k in np.argsort(first):
        sel = inverse == k
        key = ga[first[k]]
        out[key.item() if hasattr(key, "item") else key] = metric(ya[sel], pa[sel])
    return out
