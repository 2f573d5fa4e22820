"""Regulatory trees and the low/neutral/high split table (pgml.grn.tree, pgml.grn.splits)."""

from __future__ import annotations

import numpy as np

from pgml.grn.splits import kmeans3_levels
from pgml.grn.tree import build_tree, sample_correlation


def test_kmeans3_levels_known_groups():
    x = np.array([[0.0, 0.1, 0.2, 5.0, 5.1, 5.2, 10.0, 10.1, 9.9, 0.05],
                  [3.0, 3.0, 3.0, 3.0, -7.0, -7.0, 9.0, 9.0, 9.0, 3.0]])
    levels = kmeans3_levels(x)
    np.testing.assert_array_equal(levels[0], [-1, -1, -1, 0, 0, 0, 1, 1, 1, -1])
    np.testing.assert_array_equal(levels[1], [0, 0, 0, 0, -1, -1, 1, 1, 1, 0])


def _planted(seed: int = 0, n: int = 40, genes: int = 20, regs: int = 6, driver: int = 3):
    rng = np.random.default_rng(seed)
    reg_expr = rng.normal(size=(regs, n))
    high = np.zeros(n, dtype=bool)
    high[rng.permutation(n)[: n // 2]] = True
    reg_expr[driver] = np.where(high, 3.0, -3.0) + rng.normal(0, 0.2, n)
    y = np.where(high, 2.0, -2.0)[:, None] + rng.normal(0, 0.5, (n, genes))
    return reg_expr, y, high


def test_tree_splits_on_the_regulator_that_plants_two_groups():
    reg_expr, y, high = _planted()
    levels = kmeans3_levels(reg_expr)
    tree = build_tree(reg_expr, levels, y, max_depth=3, min_divide_size=3)
    first = tree.splits[0]
    assert first.regulator == 3
    assert set(first.right.tolist()) == set(np.flatnonzero(high).tolist())
    # the threshold separates the two groups of the driver
    assert reg_expr[3][high].min() > first.threshold > reg_expr[3][~high].max()
    # every leaf is pure for the planted grouping
    for leaf in np.unique(tree.leaf_labels):
        assert len(set(high[tree.leaf_labels == leaf].tolist())) == 1
    assert len(set(tree.regulators)) == len(tree.regulators)  # a regulator is used once


def test_tree_stops_at_max_depth_and_min_divide_size():
    reg_expr, y, _ = _planted(seed=1)
    levels = kmeans3_levels(reg_expr)
    assert len(build_tree(reg_expr, levels, y, max_depth=1).splits) == 1
    # a node of <= min_divide_size samples is never split
    tree = build_tree(reg_expr, levels, y, max_depth=5, min_divide_size=3)
    for s in tree.splits:
        assert len(s.left) + len(s.right) > 3
    # with min_divide_size >= all samples nothing is split
    assert build_tree(reg_expr, levels, y, min_divide_size=40).splits == []


def test_sample_correlation_small_nodes_are_final():
    assert sample_correlation(np.ones((2, 5))) == 1.0
    rng = np.random.default_rng(0)
    assert 0 <= sample_correlation(rng.normal(size=(10, 50))) < 0.5


def test_stop_rule_ignores_per_gene_offsets():
    """Genes on their own levels (log2 RPKM) make samples correlate through the offsets alone; the stop
    rule standardises each gene, so offsets leave the tree unchanged (R's raw rule stops at one split)."""
    reg_expr, y, _ = _planted(seed=2, genes=30)
    rng = np.random.default_rng(0)
    y = y + rng.normal(0, 0.5, size=y.shape) * (rng.random(y.shape[1]) < 0.5)  # a second structure
    shifted = y + rng.normal(5, 3, size=y.shape[1])
    levels = kmeans3_levels(reg_expr)
    plain = build_tree(reg_expr, levels, y, max_depth=3)
    offset = build_tree(reg_expr, levels, shifted, max_depth=3)
    assert len(plain.splits) > 1
    assert offset.regulators == plain.regulators
    np.testing.assert_array_equal(offset.leaf_labels, plain.leaf_labels)
    assert len(build_tree(reg_expr, levels, shifted, max_depth=3, centre_genes=False).splits) == 1
