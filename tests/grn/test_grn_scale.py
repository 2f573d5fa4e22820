"""The faster paths of GNET2 give the same numbers as the direct ones (benchmarks/grn_scale.py times them)."""

from __future__ import annotations

import numpy as np
import pytest

from pgml.grn import splits
from pgml.grn.likelihood import constant_leaf_mask, gene_module_loglik, gene_module_loglik_and_constant
from pgml.grn.splits import HIGH, LOW, NEUTRAL, kmeans3_levels


def _levels_from_all_pairs(x: np.ndarray) -> np.ndarray:
    """Every (i, j) cut pair of every sorted row scored at once in an n x n array, first argmin kept."""
    out = np.zeros(x.shape, dtype=np.int8)
    for r, row in enumerate(np.asarray(x, dtype=np.float64)):
        order = np.argsort(row, kind="stable")
        v = row[order] - row.mean()
        n = v.size
        if len(np.unique(v)) < 3:
            continue
        s1 = np.concatenate([[0.0], np.cumsum(v)])
        s2 = np.concatenate([[0.0], np.cumsum(v * v)])
        cuts = np.arange(n + 1)
        head = s2 - s1 * s1 / np.maximum(cuts, 1)
        tail = (s2[n] - s2) - (s1[n] - s1) ** 2 / np.maximum(n - cuts, 1)
        m = (cuts[None, :] - cuts[:, None]).astype(np.float64)
        d1 = s1[None, :] - s1[:, None]
        middle = (s2[None, :] - s2[:, None]) - d1 * d1 / np.where(m > 0, m, 1.0)
        total = head[:, None] + middle + tail[None, :]
        ok = np.zeros(n + 1, dtype=bool)
        ok[1:n] = v[1:] > v[:-1]
        total = np.where(ok[:, None] & ok[None, :] & (m > 0), total, np.inf)
        i, j = np.divmod(int(total.argmin()), n + 1)
        pos = np.arange(n)
        out[r, order] = np.where(pos < i, LOW, np.where(pos < j, NEUTRAL, HIGH))
    return out


@pytest.mark.parametrize("kind", ["normal", "integer ties", "lognormal", "few samples"])
def test_levels_equal_scoring_every_pair_at_once(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    x = {"normal": rng.normal(size=(30, 80)), "integer ties": rng.integers(0, 5, size=(30, 40)).astype(float),
         "lognormal": np.exp(2 * rng.normal(size=(30, 60))), "few samples": rng.normal(size=(30, 4))}[kind]
    expected = _levels_from_all_pairs(x)
    np.testing.assert_array_equal(kmeans3_levels(x), expected)
    monkeypatch.setattr(splits, "_CHUNK_CELLS", 3 * (x.shape[1] + 1))  # chunks of 3 regulators
    np.testing.assert_array_equal(kmeans3_levels(x), expected)


def test_one_pass_loglik_and_constant_mask_equal_the_two_passes() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(50, 24))
    x[3, :12] = 2.0  # constant within a leaf of the first grouping
    leaves = [np.repeat([0, 1], 12), np.tile([0, 1, 2, 3], 6), np.zeros(24, dtype=np.int64)]
    ll, constant = gene_module_loglik_and_constant(x, leaves)
    np.testing.assert_array_equal(ll, gene_module_loglik(x, leaves))
    np.testing.assert_array_equal(constant, constant_leaf_mask(x, leaves))
    assert constant[3, 0] and not constant[3, 1]
