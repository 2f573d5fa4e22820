"""Low / neutral / high levels of each regulator: GNET2's heuristic split table.

GNET2 (``build_split_table``, ``heuristic=TRUE``) clusters each regulator's expression over all samples
into three groups with k-means and labels them -1 (low), 0 (neutral) and 1 (high). A tree node then
tries two splits per regulator: low+neutral vs high, and low vs neutral+high (section 3.2).

R runs ``kmeans(x, 3)`` once per regulator from random starts, which can stop in a local optimum.
Here the three clusters are the exact optimum of the k-means objective (the smallest within-cluster
sum of squares), found by dynamic programming over the sorted values as Ckmeans.1d.dp does [ckmeans]:
in one dimension optimal clusters are intervals of the sorted values, so the optimum is the best pair
of cut points, and with prefix sums every pair costs O(1); all pairs of all regulators are scored with
a few vectorised array operations (O(n^2) per regulator, chunked to bound memory). The result is
deterministic (no seed) and never has a larger within-cluster error than any k-means start; it is used
in both modes. Written here rather than with scikit-learn because KMeans is a local search (and one
call per regulator); no packaged exact 1-D k-means is among the dependencies. Each split is a
threshold on the regulator's expression, which the tree stores.
"""

from __future__ import annotations

import numpy as np

LOW, NEUTRAL, HIGH = -1, 0, 1
#: cells of the (regulators x cut x cut) cost array per chunk
_CHUNK_CELLS = 2 ** 24


def _sse(s1: np.ndarray, s2: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Within-interval sum of squares of sorted values [a, b) from prefix sums (rows broadcast)."""
    m = np.maximum(b - a, 1)
    d1 = np.take_along_axis(s1, b, axis=-1) - np.take_along_axis(s1, a, axis=-1)
    d2 = np.take_along_axis(s2, b, axis=-1) - np.take_along_axis(s2, a, axis=-1)
    return d2 - d1 * d1 / m


def within_sse(x: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Within-cluster sum of squares of each row of ``x`` under its labels ``levels`` (the k-means objective)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(x.shape[0])
    for k in np.unique(levels):
        mask = levels == k
        cnt = mask.sum(axis=1)
        s = np.where(mask, x, 0.0).sum(axis=1)
        ss = np.where(mask, x * x, 0.0).sum(axis=1)
        out += ss - np.divide(s * s, cnt, out=np.zeros_like(s), where=cnt > 0)
    return out


def kmeans3_levels(x: np.ndarray) -> np.ndarray:
    """Exact three-level 1-D k-means labels (-1, 0, 1 from low to high) for each row of ``x``.

    ``x`` is regulators x samples; returns an int8 array of the same shape. The two cut points
    minimise the within-cluster sum of squares over all splits of the sorted values into three
    non-empty intervals that never separate equal values (ties: the lowest cuts). A row with two
    distinct values gets -1 and 1, a constant row 0 (R's ``kmeans`` refuses both).
    """
    x = np.asarray(x, dtype=np.float64)
    p, n = x.shape
    levels = np.zeros((p, n), dtype=np.int8)
    if n == 0:
        return levels
    order = np.argsort(x, axis=1, kind="stable")
    xs = np.take_along_axis(x, order, axis=1)
    xs = xs - xs.mean(axis=1, keepdims=True)  # centred: prefix sums keep their precision
    distinct = 1 + (np.diff(xs, axis=1) > 0).sum(axis=1)
    sorted_levels = np.zeros((p, n), dtype=np.int8)
    two = np.flatnonzero(distinct == 2)
    if two.size:
        sorted_levels[two] = np.where(xs[two] > xs[two, :1], HIGH, LOW)
    rows = np.flatnonzero(distinct >= 3)
    chunk = max(1, _CHUNK_CELLS // (n * n))
    cuts = np.arange(n + 1)
    for start in range(0, rows.size, chunk):
        r = rows[start:start + chunk]
        v = xs[r]
        c = r.size
        s1 = np.concatenate([np.zeros((c, 1)), np.cumsum(v, axis=1)], axis=1)
        s2 = np.concatenate([np.zeros((c, 1)), np.cumsum(v * v, axis=1)], axis=1)
        ends = np.broadcast_to(cuts, (c, n + 1))
        head = _sse(s1, s2, np.zeros_like(ends), ends)  # SSE of [0, i)
        tail = _sse(s1, s2, ends, np.full_like(ends, n))  # SSE of [j, n)
        # middle[i, j] = SSE of [i, j) for every pair of cuts
        d1 = s1[:, None, :] - s1[:, :, None]
        d2 = s2[:, None, :] - s2[:, :, None]
        m = (cuts[None, :] - cuts[:, None]).astype(np.float64)
        middle = d2 - d1 * d1 / np.where(m > 0, m, 1.0)
        total = head[:, :, None] + middle + tail[:, None, :]
        # a cut i is allowed where v[i-1] < v[i] (never between equal values); 0 < i < j < n
        ok = np.zeros((c, n + 1), dtype=bool)
        ok[:, 1:n] = v[:, 1:] > v[:, :-1]
        valid = ok[:, :, None] & ok[:, None, :] & (m > 0)[None]
        total = np.where(valid, total, np.inf).reshape(c, -1)
        best = total.argmin(axis=1)
        i, j = np.divmod(best, n + 1)
        pos = np.arange(n)[None, :]
        sorted_levels[r] = np.where(pos < i[:, None], LOW, np.where(pos < j[:, None], NEUTRAL, HIGH))
    np.put_along_axis(levels, order, sorted_levels, axis=1)
    return levels


def split_threshold(x: np.ndarray, go_right: np.ndarray) -> float:
    """Midpoint between the largest value going left and the smallest going right."""
    return float((x[~go_right].max() + x[go_right].min()) / 2.0)
