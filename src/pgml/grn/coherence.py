"""Agreement of each module's sample groups (tree leaves) with known sample labels (section 3.3.4).

Categorical labels (treatment / control, tissue): adjusted Rand index (Hubert & Arabie 1985) between
the module's leaf groups and the labels,

    ARI = (sum_ij C(n_ij, 2) - E) / (0.5 (sum_i C(a_i, 2) + sum_j C(b_j, 2)) - E),
    E = sum_i C(a_i, 2) sum_j C(b_j, 2) / C(n, 2),

with n_ij the contingency table and a, b its margins (GNET2's ``ari``;
:func:`pgml.metrics.adjusted_rand_index`, checked against scikit-learn).

Ordinal labels (dose, time point): an SNE-style score. With d the pairwise distances between the
samples' labels (and d' between their leaf indices), P_{j|i} = g(d_ij) / sum_{k != i} g(d_ik) with
g(d) = N(d^2 | 0, max(d)) (GNET2's ``compute_kld``), likewise Q from d'; the score is
KL(P || Q) = sum_{i<j} P_ij log(P_ij / Q_ij): smaller means the tree orders samples like the labels.

p-values come from permutations: the module's leaf assignment is shuffled over the samples ``n_perm``
times (seeded), and p = (1 + #{null at least as good}) / (1 + n_perm).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pgml.metrics import adjusted_rand_index  # noqa: F401 - re-exported


def _sne_conditional(values: np.ndarray) -> np.ndarray:
    d = np.abs(values[:, None] - values[None, :]).astype(np.float64)
    var = max(float(d.max()), 1e-12)
    g = np.exp(-(d * d) ** 2 / (2.0 * var)) / np.sqrt(2.0 * np.pi * var)
    np.fill_diagonal(g, 0.0)
    return g / g.sum(axis=1, keepdims=True)


def kl_score(module_groups: np.ndarray, labels: np.ndarray) -> float:
    """SNE/KL divergence between the ordinal ``labels`` and the module's leaf groups (smaller = closer)."""
    p = _sne_conditional(np.asarray(labels, dtype=np.float64))
    q = _sne_conditional(np.asarray(module_groups, dtype=np.float64))
    iu = np.triu_indices(p.shape[0], k=1)
    p1, q1 = p[iu], np.maximum(q[iu], 1e-300)
    mask = p1 > 0
    return float(np.sum(p1[mask] * np.log(p1[mask] / q1[mask])))


def coherence_table(leaf_labels: list[np.ndarray], labels: np.ndarray, *, ordinal: bool = False,
                    n_perm: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Score every module's leaf groups against ``labels``, with permutation p-values."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    if ordinal:
        try:
            codes = labels.astype(np.float64)
        except ValueError:
            _, codes = np.unique(labels, return_inverse=True)
            codes = codes.astype(np.float64)
    rows = []
    for k, groups in enumerate(leaf_labels):
        groups = np.asarray(groups)
        if ordinal:
            obs = kl_score(groups, codes)
            null = np.array([kl_score(rng.permutation(groups), codes) for _ in range(n_perm)])
            p = (1 + np.sum(null <= obs)) / (1 + n_perm)
            rows.append({"module": k + 1, "statistic": "kl_divergence", "score": obs, "p_value": p})
        else:
            obs = adjusted_rand_index(groups, labels)
            null = np.array([adjusted_rand_index(rng.permutation(groups), labels) for _ in range(n_perm)])
            p = (1 + np.sum(null >= obs)) / (1 + n_perm)
            rows.append({"module": k + 1, "statistic": "adjusted_rand_index", "score": obs, "p_value": p})
    return pd.DataFrame(rows, columns=["module", "statistic", "score", "p_value"])
