"""``mode: r_faithful``: each switch against R GNET2 1.5.5's behaviour, by hand and on R's own outputs."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pgml.grn import rfaithful
from pgml.grn.data import build_dataset
from pgml.grn.edges import edge_scores, module_quality
from pgml.grn.gnet import GnetParams, fit_gnet
from pgml.grn.simulate import simulate_planted_modules
from pgml.grn.splits import HIGH, LOW, kmeans3_levels, within_sse
from pgml.grn.tree import RegulatoryTree

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "grn_reference"


def test_initial_groups_keep_the_last_kmeans_run_and_drop_cluster_0():
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(0)
    features = rng.normal(size=(40, 5))
    labels = rfaithful.initial_groups(features, 6, seed=3)
    km = KMeans(n_clusters=6, n_init=1, max_iter=10, random_state=3).fit_predict(features)
    np.testing.assert_array_equal(labels == -1, km == 0)
    np.testing.assert_array_equal(labels[km != 0], km[km != 0])
    assert set(labels.tolist()) == {-1, 1, 2, 3, 4, 5}  # k = init_group_num, not the best-correlated k
    # k is capped at genes - 1; fewer than 3 genes: nothing is kept
    assert rfaithful.initial_groups(features[:4], 6).max() == 2
    assert (rfaithful.initial_groups(features[:2], 6) == -1).all()


def test_exact_levels_are_the_kmeans_optimum():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 7))
    x[:, 3] = x[:, 2]  # ties stay in one level
    sse = within_sse(x, kmeans3_levels(x))
    for r in range(x.shape[0]):
        best = min(within_sse(x[r:r + 1], np.array(lab)[None])[0]
                   for lab in itertools.product(range(3), repeat=7) if len(set(lab)) == 3)
        assert sse[r] == pytest.approx(best, abs=1e-9)
    lv = kmeans3_levels(x)
    assert (lv[:, 2] == lv[:, 3]).all()
    # ordered: every low value is below every neutral value, below every high one
    assert all(x[r, lv[r] == LOW].max() < x[r, lv[r] == HIGH].min() for r in range(40))
    np.testing.assert_array_equal(kmeans3_levels(np.array([[0.0, 0.1, 5.0, 5.1, 10.0, 10.2]])),
                                  [[-1, -1, 0, 0, 1, 1]])
    np.testing.assert_array_equal(kmeans3_levels(np.array([[2.0, 1.0, 2.0], [3.0, 3.0, 3.0]])),
                                  [[1, -1, 1], [0, 0, 0]])


def test_exact_levels_never_lose_to_kmeans_restarts():
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(2)
    x = np.vstack([rng.gamma(1.0, size=(10, 30)), rng.normal(size=(10, 30))])
    ours = within_sse(x, kmeans3_levels(x))
    for r in range(x.shape[0]):
        km = KMeans(n_clusters=3, n_init=20, random_state=0).fit(x[r][:, None])
        assert ours[r] <= km.inertia_ + 1e-9


def _r_calc_likelihood_vec(x: np.ndarray, labels: np.ndarray) -> float:
    """R's calc_likelihood_vec, written out: sum of dnorm(log = TRUE) per leaf of > 1 sample."""
    total = 0.0
    for lab in np.unique(labels):
        v = x[labels == lab]
        if v.size > 1:
            sd = v.std(ddof=1)
            if sd == 0:
                return np.inf
            total += float(np.sum(-0.5 * np.log(2 * np.pi) - np.log(sd) - (v - v.mean()) ** 2 / (2 * sd * sd)))
    return total


def test_reassignment_offers_one_leaf_rows_and_constant_leaves_win():
    rng = np.random.default_rng(4)
    n = 10
    trees = [RegulatoryTree(leaf_labels=rng.integers(0, 3, n)) for _ in range(2)]
    x = rng.normal(size=(60, n)) * rng.uniform(0.01, 3, size=(60, 1))
    x[0, trees[1].leaf_labels == trees[1].leaf_labels[0]] = 1.5  # constant in one leaf of tree 1
    got = rfaithful.assign_genes(x, trees, n_rows=4)
    rows = [t.leaf_labels for t in trees] + [np.zeros(n, dtype=np.int64)] * 2
    want = [int(np.argmax([_r_calc_likelihood_vec(g, r) for r in rows])) for g in x]
    np.testing.assert_array_equal(got, want)
    assert got[0] == 1
    # a leaf of one sample adds nothing while the one-leaf row counts it: some gene prefers "no tree"
    singles = RegulatoryTree(leaf_labels=np.array([0, 1, 2, 3, 4, 5, 5, 5, 5, 5]))
    tight = np.array([[0.0, 0.01, -0.01, 0.02, -0.02, 0.0, 0.01, -0.01, 0.02, 0.0]])
    assert rfaithful.assign_genes(tight, [singles], n_rows=2)[0] == 1
    assert rfaithful.assign_genes(tight, [singles], n_rows=1)[0] == 0


def test_force_split_relabels_as_r():
    # 6 of 9 genes in group 0 (> round(9 * 0.5)); the sub-clustering drops its cluster 0 (-1)
    labels = np.array([0, 0, 0, 0, 0, 0, 1, 1, 2])
    out = rfaithful.force_split(labels, lambda idx: np.array([-1, -1, 1, 1, 2, 2]), 0.5, min_group_size=1)
    # by hand, following run_gnet: [-1,-1,3,3,4,4,1,1,2] -> factor 1..5 -> group of one (2) to -1
    # -> factor - 1: the removed gene is group 0, the dropped cluster group 1
    np.testing.assert_array_equal(out, [1, 1, 3, 3, 4, 4, 2, 2, 0])
    assert (out >= 0).all()
    np.testing.assert_array_equal(rfaithful.force_split(np.repeat([0, 1], 5), None, 0.5, 2), np.repeat([0, 1], 5))


def test_one_split_trees_are_dropped(caplog):
    frame, regs, _ = simulate_planted_modules(n_modules=4, genes_per_module=25, n_regulators=10, n_samples=60,
                                              seed=0)
    ds = build_dataset(frame, regs)
    port = fit_gnet(ds, GnetParams(init="kmeans", mode="port", init_group_num=6), progress=False)
    assert port.modules and all(len(m.tree.splits) == 1 for m in port.modules)
    with caplog.at_level(logging.WARNING):
        faithful = fit_gnet(ds, GnetParams(init="kmeans", init_group_num=6), progress=False)
    assert faithful.modules == [] and (faithful.assignment == -1).all()
    assert "R drops such trees" in caplog.text


def test_r_faithful_fit_is_deterministic_and_keeps_trees_of_two_splits():
    from pgml.grn.simulate import simulate_network

    sim = simulate_network(150, 40, seed=2)
    ds = build_dataset(sim.expression, sim.regulators)
    fits = [fit_gnet(ds, GnetParams(init="boosting", init_group_num=6), progress=False) for _ in range(2)]
    np.testing.assert_array_equal(fits[0].assignment, fits[1].assignment)
    assert fits[0].modules and all(len(m.tree.splits) >= 2 for m in fits[0].modules)


def test_regulator_pairs_go_one_way_and_the_diagonal_stays():
    rng = np.random.default_rng(5)
    regs, genes = rng.normal(size=(4, 12)), rng.normal(size=(6, 12))
    modules = [([2, 0], [0, 1, 2], 0.3), ([1, 0], [3, 4], -0.2)]
    ours, scored = edge_scores(regs, genes, modules, r_faithful=True)
    port, _ = edge_scores(regs, genes, modules)
    corr = edge_scores(regs, genes, [([0, 1, 2], [], 0.0)], all_pairs=True)[0]
    module = ours[:, :4] - np.where(scored[:, :4], corr[:, :4], 0.0)
    # appearance order 2, 0, 1: 2 -> 0 and 0 -> 1 get 2|q|; the diagonal sums |q| of the regulator's modules
    expected = np.zeros((4, 4))
    expected[2, 0], expected[0, 1] = 0.6, 0.4
    expected[0, 0], expected[1, 1], expected[2, 2] = 0.5, 0.2, 0.3
    np.testing.assert_allclose(module, expected, atol=1e-12)
    assert scored[0, 0] and not scored[3, 3]
    np.testing.assert_allclose(ours[:, 4:], port[:, 4:])  # target columns are the same in both modes
    np.testing.assert_allclose(port[:, :4] - np.where(scored[:, :4], corr[:, :4], 0.0),
                               np.array([[0, .4, .6, 0], [.4, 0, 0, 0], [.6, 0, 0, 0], [0, 0, 0, 0]]), atol=1e-12)


@pytest.mark.shared_data
@pytest.mark.skipif(not REFERENCE.is_dir(), reason="../shared/data/grn_reference absent")
def test_whole_edge_matrix_equals_r_extract_edges():
    """Eq. 3.19 on R's modules reproduces R's extract_edges() matrix, regulator columns included."""
    exp = pd.read_csv(REFERENCE / "small_exp_data.csv.gz", index_col=0)
    regs = [f"TF{i}" for i in range(1, 21)]
    genes = [g for g in exp.index if g not in regs]
    gene_table = pd.read_csv(REFERENCE / "small_boosting_gene_group_table.csv.gz")
    reg_table = pd.read_csv(REFERENCE / "small_boosting_reg_group_table.csv.gz")
    ref = pd.read_csv(REFERENCE / "small_boosting_edges.csv.gz", index_col=0).loc[regs, regs + genes]
    gi = {g: i for i, g in enumerate(genes)}
    g_expr = exp.loc[genes].to_numpy()
    modules = []
    for k in sorted(gene_table.group.unique()):
        targets = [gi[g] for g in gene_table.gene[gene_table.group == k]]
        modules.append((list(reg_table.feature[reg_table.group == k]), targets, module_quality(g_expr[targets])))
    scores, _ = edge_scores(exp.loc[regs].to_numpy(), g_expr, modules, r_faithful=True)
    np.testing.assert_allclose(scores, ref.to_numpy(), atol=1e-9)
    assert np.abs(np.diag(scores[:, :20])).max() > 0
    port, _ = edge_scores(exp.loc[regs].to_numpy(), g_expr, modules)
    assert np.abs(port[:, :20] - ref.to_numpy()[:, :20]).max() > 0.04  # the port's drift (up to 0.052)


def test_mode_is_checked_and_r_faithful_is_the_default():
    assert GnetParams().mode == "r_faithful"
    with pytest.raises(ValueError, match="mode must be one of"):
        GnetParams(mode="R")
