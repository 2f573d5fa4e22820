"""Low / neutral / high levels of each regulator: GNET2's heuristic split table.

GNET2 (``build_split_table``, ``heuristic=TRUE``) clusters each regulator's expression over all samples
into three groups with k-means and labels them -1 (low), 0 (neutral) and 1 (high). A tree node then
tries two splits per regulator: low+neutral vs high, and low vs neutral+high (section 3.2).

R runs ``kmeans(x, 3)`` once per regulator with random starts. Here all regulators are clustered at
once with a vectorised one-dimensional Lloyd iteration started from the 1/6, 1/2 and 5/6 quantiles
(deterministic, no seed needed); in one dimension k-means clusters are intervals, so each split is a
threshold on the regulator's expression, which the tree stores. scikit-learn's KMeans would need one
call per regulator (1,500 calls for a realistic study), hence the few lines here.
"""

from __future__ import annotations

import numpy as np

LOW, NEUTRAL, HIGH = -1, 0, 1


def kmeans3_levels(x: np.ndarray, max_iter: int = 100) -> np.ndarray:
    """Three-level k-means labels (-1, 0, 1 by increasing centre) for each row of ``x``.

    ``x`` is regulators x samples; returns an int8 array of the same shape. Rows with fewer than three
    distinct values get as many levels as they have values.
    """
    x = np.asarray(x, dtype=np.float64)
    centres = np.quantile(x, [1 / 6, 0.5, 5 / 6], axis=1).T  # p x 3
    labels = np.zeros(x.shape, dtype=np.int64)
    for _ in range(max_iter):
        dist = np.abs(x[:, :, None] - centres[:, None, :])  # p x n x 3
        new = dist.argmin(axis=2)
        counts = np.stack([(new == k).sum(axis=1) for k in range(3)], axis=1)
        sums = np.stack([np.where(new == k, x, 0.0).sum(axis=1) for k in range(3)], axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            upd = sums / counts
        # an emptied cluster keeps its centre
        upd = np.where(counts > 0, upd, centres)
        if np.array_equal(new, labels) and np.allclose(upd, centres):
            break
        labels, centres = new, upd
    # order clusters by centre: -1 low, 0 neutral, 1 high
    order = np.argsort(centres, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(3)[None, :].repeat(x.shape[0], axis=0), axis=1)
    levels = np.take_along_axis(rank, labels, axis=1) - 1
    return levels.astype(np.int8)


def split_threshold(x: np.ndarray, go_right: np.ndarray) -> float:
    """Midpoint between the largest value going left and the smallest going right."""
    return float((x[~go_right].max() + x[go_right].min()) / 2.0)
