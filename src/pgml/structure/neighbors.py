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


def neighbour_counts(coords: np.ndarray, r: float) -> np.ndarray:
    """Number of other points within distance ``r`` (inclusive) of each point, self excluded."""
    coords = np.asarray(coords, dtype=np.float64).reshape(-1, 3)
    if len(coords) == 0:
        return np.zeros(0, dtype=np.int64)
    tree = cKDTree(coords)
    counts = tree.query_ball_point(coords, r, return_length=True)
    return np.asarray(counts, dtype=np.int64) - 1
