"""Agreement between two partitions of the same items (clusterings, module assignments).

- :func:`contingency` : the table n_ij of items in group i of ``a`` and group j of ``b``;
- :func:`adjusted_rand_index` : the ARI of [hubert1985],

      ARI = (sum_ij C(n_ij, 2) - E) / (0.5 (sum_i C(a_i, 2) + sum_j C(b_j, 2)) - E),
      E = sum_i C(a_i, 2) sum_j C(b_j, 2) / C(n, 2),

  with a, b the margins of the contingency table (1 for identical partitions, ~0 for random ones);
- :func:`matched_changes` : items outside the best one-to-one matching of the groups (the Hungarian
  algorithm [kuhn1955] on the contingency table, maximising the matched items), i.e. how many items changed
  group once group names are ignored: relabelling the groups of ``b`` changes nothing.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import comb


def contingency(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """Counts of items per (group of ``a``, group of ``b``), groups in sorted order of their labels."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"partitions of different lengths: {a.shape} and {b.shape}")
    _, ai = np.unique(a, return_inverse=True)
    _, bi = np.unique(b, return_inverse=True)
    table = np.zeros((ai.max(initial=-1) + 1, bi.max(initial=-1) + 1), dtype=np.int64)
    np.add.at(table, (ai.ravel(), bi.ravel()), 1)
    return table


def adjusted_rand_index(a: ArrayLike, b: ArrayLike) -> float:
    """ARI between two labelings of the same items (1 for identical partitions, ~0 for random)."""
    table = contingency(a, b)
    n = int(table.sum())
    if n < 2:
        return 1.0
    sum_ij = comb(table, 2).sum()
    sum_a = comb(table.sum(axis=1), 2).sum()
    sum_b = comb(table.sum(axis=0), 2).sum()
    expected = sum_a * sum_b / comb(n, 2)
    denom = 0.5 * (sum_a + sum_b) - expected
    if denom == 0:
        return 1.0
    return float((sum_ij - expected) / denom)


def matched_changes(a: ArrayLike, b: ArrayLike) -> int:
    """Items whose group in ``b`` is not the one matched to their group in ``a`` (0 for equal partitions)."""
    from scipy.optimize import linear_sum_assignment

    table = contingency(a, b)
    if table.size == 0:
        return 0
    rows, cols = linear_sum_assignment(table, maximize=True)
    return int(table.sum() - table[rows, cols].sum())
