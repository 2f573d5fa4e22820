"""Low / neutral / high levels of each regulator: GNET2's heuristic split table.

GNET2 (``build_split_table``, ``heuristic=TRUE``) clusters each regulator's expression over all samples
into three groups with k-means and labels them -1 (low), 0 (neutral) and 1 (high). A tree node then
tries two splits per regulator: low+neutral vs high, and low vs neutral+high (section 3.2).

R runs ``kmeans(x, 3)`` once per regulator from random starts, which can stop in a local optimum.
Here the three clusters are the exact optimum of the k-means objective (the smallest within-cluster
sum of squares), found by dynamic programming over the sorted values as Ckmeans.1d.dp does [ckmeans]:
in one dimension optimal clusters are intervals of the sorted values, so the optimum is the best pair
of cut points, and with prefix sums every pair costs O(1); all pairs are scored (O(n^2) per regulator),
one first cut at a time for all regulators at once, so the arrays stay regulators x n. The result is
deterministic (no seed) and never has a larger within-cluster error than any k-means start; it is used
in both modes. Written here rather than with scikit-learn because KMeans is a local search (and one
call per regulator); no packaged exact 1-D k-means is among the dependencies. Each split is a
threshold on the regulator's expression, which the tree stores.
"""

from __future__ import annotations

import numpy as np

LOW, NEUTRAL, HIGH = -1, 0, 1
#: cells of the (regulators x cut) arrays per chunk of regulators
_CHUNK_CELLS = 2 ** 22


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


def _best_cuts(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The cut points 0 < i < j < n of the smallest three-interval SSE of each sorted row of ``v``.

    Cuts lie only where the sorted values increase. Loops over the first cut i; for each i every row
    and every second cut j is scored at once, ``SSE[0, i) + SSE[i, j) + SSE[j, n)`` from prefix sums,
    and a row's best pair is replaced only by a strictly smaller one, so ties keep the lowest (i, j),
    as an argmin over all pairs in (i, j) order would. The work is that of scoring every pair, in
    arrays of one row of pairs at a time (no regulators x n x n temporaries).
    """
    c, n = v.shape
    s1 = np.concatenate([np.zeros((c, 1)), np.cumsum(v, axis=1)], axis=1)
    s2 = np.concatenate([np.zeros((c, 1)), np.cumsum(v * v, axis=1)], axis=1)
    cuts = np.arange(n + 1)
    ends = np.broadcast_to(cuts, (c, n + 1))
    head = _sse(s1, s2, np.zeros_like(ends), ends)  # SSE of [0, i)
    tail = _sse(s1, s2, ends, np.full_like(ends, n))  # SSE of [j, n)
    ok = np.zeros((c, n + 1), dtype=bool)
    ok[:, 1:n] = v[:, 1:] > v[:, :-1]
    best = np.full(c, np.inf)
    best_i = np.zeros(c, dtype=np.int64)
    best_j = np.zeros(c, dtype=np.int64)
    rows = np.arange(c)
    for i in range(1, n - 1):
        js = slice(i + 1, n)
        d1 = s1[:, js] - s1[:, i:i + 1]
        d2 = s2[:, js] - s2[:, i:i + 1]
        m = (cuts[js] - i).astype(np.float64)
        total = head[:, i:i + 1] + (d2 - d1 * d1 / m) + tail[:, js]
        total = np.where(ok[:, i:i + 1] & ok[:, js], total, np.inf)
        j = total.argmin(axis=1)
        value = total[rows, j]
        better = value < best
        best = np.where(better, value, best)
        best_i = np.where(better, i, best_i)
        best_j = np.where(better, j + i + 1, best_j)
    return best_i, best_j


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
    chunk = max(1, _CHUNK_CELLS // (n + 1))
    for start in range(0, rows.size, chunk):
        r = rows[start:start + chunk]
        i, j = _best_cuts(xs[r])
        pos = np.arange(n)[None, :]
        sorted_levels[r] = np.where(pos < i[:, None], LOW, np.where(pos < j[:, None], NEUTRAL, HIGH))
    np.put_along_axis(levels, order, sorted_levels, axis=1)
    return levels


def split_threshold(x: np.ndarray, go_right: np.ndarray) -> float:
    """Midpoint between the largest value going left and the smallest going right."""
    return float((x[~go_right].max() + x[go_right].min()) / 2.0)
