"""The faster paths of GNET2 give the same numbers as the direct ones (benchmarks/grn_scale.py times them)."""

from __future__ import annotations

import numpy as np
import pytest

from pgml import runtime
from pgml.grn import splits
from pgml.grn.data import build_dataset
from pgml.grn.gnet import GnetParams, fit_gnet, fit_trees
from pgml.grn.likelihood import (
    constant_leaf_mask,
    gene_module_loglik,
    gene_module_loglik_and_constant,
    group_loglik,
)
from pgml.grn.simulate import simulate_network
from pgml.grn.splits import HIGH, LOW, NEUTRAL, kmeans3_levels
from pgml.grn.tree import build_tree


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


def test_leaf_likelihoods_equal_one_gene_and_one_module_at_a_time() -> None:
    """The leaves-as-columns products give eq. 3.15 of each gene under each module's grouping, and a
    leaf shared by several modules (R's one-leaf rows) counts for each of them."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(40, 30)) * rng.uniform(0.1, 10, size=(40, 1)) + rng.normal(0, 50, size=(40, 1))
    x[7, rng.permutation(30)[:10]] = 1.25
    leaves = [rng.integers(0, 3, 30), np.zeros(30, dtype=np.int64), np.repeat([0, 1, 2], 10),
              np.zeros(30, dtype=np.int64), np.r_[np.zeros(29, dtype=np.int64), 1]]
    ll, constant = gene_module_loglik_and_constant(x, leaves)
    for g in range(len(x)):
        for k, labels in enumerate(leaves):
            assert ll[g, k] == pytest.approx(group_loglik(x[g][:, None], labels), rel=1e-10, abs=1e-10)
            expected = any((labels == lab).sum() > 1 and np.ptp(x[g, labels == lab]) == 0 for lab in np.unique(labels))
            assert constant[g, k] == expected
    np.testing.assert_array_equal(ll[:, 1], ll[:, 3])
    assert gene_module_loglik(x, []).shape == (40, 0)


def _network(genes: int = 300, samples: int = 60):
    sim = simulate_network(genes, samples, n_external=5, tf_fraction=0.1, seed=2)
    return build_dataset(sim.expression, sim.regulators)


@pytest.mark.parametrize("threads", [1, 2])
def test_fit_trees_in_threads_and_from_the_cache_equal_one_tree_per_group(threads: int,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    ds = _network()
    levels = kmeans3_levels(ds.regulator_expr)
    labels = np.random.default_rng(0).integers(-1, 6, len(ds.targets))
    labels[labels == 4] = 1  # no group 4; group 5 appears, groups are not numbered in order
    labels[:1] = 7  # a group of one gene, below min_group_size
    params = GnetParams(mode="port")
    monkeypatch.setattr(runtime, "_threads", threads)
    cache: dict = {}
    counts: dict[str, int] = {}
    fitted = fit_trees(ds, labels, levels, params, cache=cache, counts=counts)
    again = fit_trees(ds, labels, levels, params, cache=cache)
    direct = []
    for g in [int(g) for g in np.unique(labels) if g >= 0 and (labels == g).sum() >= params.min_group_size]:
        tree = build_tree(ds.regulator_expr, levels, ds.target_expr[labels == g].T)
        direct.append((g, tree))
    assert [g for g, _ in fitted] == [g for g, _ in direct] == [0, 1, 2, 3, 5]
    assert counts["built"] == 5
    for (_, a), (_, b), (_, c) in zip(fitted, again, direct, strict=True):
        assert a is b  # unchanged groups come from the cache
        assert a.regulators == c.regulators and [s.kind for s in a.splits] == [s.kind for s in c.splits]
        np.testing.assert_array_equal(a.leaf_labels, c.leaf_labels)
        np.testing.assert_array_equal([s.gain for s in a.splits], [s.gain for s in c.splits])


@pytest.mark.parametrize("mode", ["r_faithful", "port"])
def test_gnet_gives_the_same_modules_on_one_thread_and_two(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ds = _network()
    params = GnetParams(init="boosting", mode=mode, init_group_num=6)
    fits = []
    for threads in (1, 2):
        monkeypatch.setattr(runtime, "_threads", threads)
        fits.append(fit_gnet(ds, params, progress=False))
    one, two = fits
    assert len(one.modules) >= 2
    np.testing.assert_array_equal(one.assignment, two.assignment)
    assert [m.regulators for m in one.modules] == [m.regulators for m in two.modules]
    assert [m.score for m in one.modules] == [m.score for m in two.modules]
