"""Regression metrics: arrays of targets ``y`` and predictions ``p`` in, one float out.

The four regression metrics the chains report (per protein, as in [metagnn], or per item):

- Pearson correlation (CC): ``sum (y - ȳ)(p - p̄) / sqrt(sum (y - ȳ)^2 · sum (p - p̄)^2)``;
- mean absolute error: ``MAE = mean |p - y|``;
- mean absolute percentage error as a fraction: ``MAPE = mean |p - y| / |y|`` over the entries with
  ``|y| > eps`` (multiply by 100 for percent);
- root relative squared error: ``RRSE = sqrt(sum (p - y)^2 / sum (y - ȳ)^2)`` (1 for predicting the mean).

CC and RRSE are undefined (``nan``) when a side is constant, MAPE when every target is (near) zero.
:func:`pgml.metrics.per_group` computes any of them per group (e.g. per protein).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

ArrayLike = npt.ArrayLike


def _pair(y: ArrayLike, p: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """``y`` and ``p`` as flat float64 arrays of equal, non-zero length."""
    ya = np.asarray(y, dtype=np.float64).ravel()
    pa = np.asarray(p, dtype=np.float64).ravel()
    if ya.shape != pa.shape:
        raise ValueError(f"targets and predictions differ in length: {ya.size} vs {pa.size}")
    if ya.size == 0:
        raise ValueError("metrics need at least one value")
    return ya, pa


def pearson(y: ArrayLike, p: ArrayLike) -> float:
    """Pearson correlation coefficient; ``nan`` when either side is constant (or has one value)."""
    ya, pa = _pair(y, p)
    dy, dp = ya - ya.mean(), pa - pa.mean()
    denom = np.sqrt((dy * dy).sum() * (dp * dp).sum())
    if denom == 0.0:
        return float("nan")
    return float((dy * dp).sum() / denom)


def mae(y: ArrayLike, p: ArrayLike) -> float:
    """Mean absolute error ``mean |p - y|``."""
    ya, pa = _pair(y, p)
    return float(np.abs(pa - ya).mean())


def mape(y: ArrayLike, p: ArrayLike, *, eps: float = 1e-8) -> float:
    """Mean absolute percentage error as a fraction: ``mean |p - y| / |y|`` over entries with ``|y| > eps``.

    A fraction, not a percent (0.25 means 25 %). Entries with ``|y| <= eps`` are skipped (a relative
    error of a zero target is undefined); ``nan`` if none remain.
    """
    ya, pa = _pair(y, p)
    keep = np.abs(ya) > eps
    if not keep.any():
        return float("nan")
    return float(np.mean(np.abs((pa[keep] - ya[keep]) / ya[keep])))


def rrse(y: ArrayLike, p: ArrayLike) -> float:
    """Root relative squared error ``sqrt(sum (p - y)^2 / sum (y - ȳ)^2)``; ``nan`` for constant ``y``."""
    ya, pa = _pair(y, p)
    denom = ((ya - ya.mean()) ** 2).sum()
    if denom == 0.0:
        return float("nan")
    return float(np.sqrt(((pa - ya) ** 2).sum() / denom))
