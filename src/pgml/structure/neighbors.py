"""Neighbour search with scipy's k-d tree (no N x N distance matrix).

torch_geometric's ``radius_graph``/``knn_graph`` need the optional ``torch-cluster``/``pyg-lib``
extensions, which have no wheels for this torch build, so scipy's ``cKDTree`` is used instead.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


def radius_pairs(coords: np.ndarray, r: float) -> np.ndarray:
    """Pairs ``(E, 2)`` int64 with ``i < j`` and ``|x_i - x_j| <= r``, sorted lexicographically."""
    coords = np.asarray(coords, dtype=np.float64).reshape(-1, 3)
    if len(coords) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = cKDTree(coords).query_pairs(r, output_type="ndarray").astype(np.int64)
    if len(pairs) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def neighbour_counts(coords: np.ndarray, r: float, environment: np.ndarray | None = None) -> np.ndarray:
    """Number of other points within distance ``r`` (inclusive) of each point, self excluded.

    ``environment``: the points to count (default ``coords``); ``coords`` must be among them, so
    that each point finds itself once, at distance 0 (e.g. protein atoms among protein + ligand atoms).
    """
    coords = np.asarray(coords, dtype=np.float64).reshape(-1, 3)
    if len(coords) == 0:
        return np.zeros(0, dtype=np.int64)
    env = coords if environment is None else np.asarray(environment, dtype=np.float64).reshape(-1, 3)
    counts = cKDTree(env).query_ball_point(coords, r, return_length=True)
    return np.asarray(counts, dtype=np.int64) - 1


def weighted_contact_numbers(coords: np.ndarray, cutoff: float,
                             environment: np.ndarray | None = None) -> np.ndarray:
    """``WCN_i = sum_j 1/d_ij^2`` over the ``environment`` points (default ``coords``) within
    ``cutoff`` of each point; pairs closer than 1e-6 Å (the point itself) are skipped [lin2008]."""
    coords = np.asarray(coords, dtype=np.float64).reshape(-1, 3)
    out = np.zeros(len(coords))
    if len(coords) == 0:
        return out
    env = coords if environment is None else np.asarray(environment, dtype=np.float64).reshape(-1, 3)
    pairs = cKDTree(coords).sparse_distance_matrix(cKDTree(env), cutoff, output_type="ndarray")
    d = pairs["v"]
    keep = d > 1e-6
    np.add.at(out, pairs["i"][keep], 1.0 / d[keep] ** 2)
    return out
