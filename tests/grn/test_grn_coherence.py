"""Sample-label coherence (section 3.3.4): ARI against scikit-learn, KL score, permutation p-values."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score

from pgml.grn.coherence import adjusted_rand_index, coherence_table, kl_score


def test_ari_matches_scikit_learn():
    rng = np.random.default_rng(0)
    for _ in range(20):
        a = rng.integers(0, 4, 30)
        b = rng.integers(0, 3, 30)
        assert np.isclose(adjusted_rand_index(a, b), adjusted_rand_score(a, b))
    a = np.array([0, 0, 1, 1, 2, 2])
    assert adjusted_rand_index(a, np.array(["x", "x", "y", "y", "z", "z"])) == 1.0


def test_kl_score_prefers_matching_order():
    labels = np.repeat([0, 1, 2, 3], 5).astype(float)
    same = kl_score(labels, labels)
    assert same < 1e-12
    shuffled = kl_score(np.random.default_rng(1).permutation(labels), labels)
    assert shuffled > same + 0.1


def test_coherence_table_p_values():
    labels = np.repeat(["a", "b"], 10)
    good = np.repeat([0, 1], 10)
    bad = np.tile([0, 1], 10)
    table = coherence_table([good, bad], labels, n_perm=200, seed=0)
    assert table.loc[0, "score"] == 1.0 and table.loc[0, "p_value"] < 0.01
    assert table.loc[1, "p_value"] > 0.05
    ordinal = coherence_table([good, bad], np.repeat([1, 2], 10), ordinal=True, n_perm=200)
    assert ordinal.loc[0, "statistic"] == "kl_divergence"
    assert ordinal.loc[0, "p_value"] < 0.01 < ordinal.loc[1, "p_value"]
