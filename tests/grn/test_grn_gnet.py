"""GNET2 end to end: importances, planted modules, convergence, determinism, R reference outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pgml.grn.coherence import adjusted_rand_index
from pgml.grn.data import build_dataset
from pgml.grn.edges import edge_scores, module_quality
from pgml.grn.gnet import GnetParams, canonical, fit_gnet
from pgml.grn.initialise import choose_initial_groups, importance_matrix
from pgml.grn.result import load_result, write_result
from pgml.grn.simulate import simulate_planted_modules

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "grn_reference"
needs_reference = pytest.mark.skipif(not REFERENCE.is_dir(), reason="../shared/data/grn_reference absent")


def test_importance_matrix_one_regulator_drives_the_target():
    rng = np.random.default_rng(0)
    regs = rng.normal(size=(6, 80))
    targets = np.vstack([
        np.where(regs[4] > 0, 3.0, -3.0) + rng.normal(0, 0.05, 80),  # driven by regulator 4 alone
        2.0 * regs[1] + rng.normal(0, 0.05, 80),  # driven by regulator 1 alone
        np.full(80, 1.5),  # constant: no split, zero row
    ])
    imp = importance_matrix(regs, targets, progress=False)
    assert imp.shape == (3, 6)
    assert int(np.argmax(imp[0])) == 4 and imp[0, 4] > 0.9
    assert int(np.argmax(imp[1])) == 1 and imp[1, 1] > 0.6
    assert np.allclose(imp[:2].sum(axis=1), 1.0)
    assert np.all(imp[2] == 0)


def test_initial_groups_pick_the_correlated_partition():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(3, 30))
    expr = np.vstack([base[k] + rng.normal(0, 0.2, (10, 30)) for k in range(3)])
    labels = choose_initial_groups(expr, expr, init_group_num=3, seed=0)
    assert adjusted_rand_index(labels, np.repeat([0, 1, 2], 10)) == 1.0


def _planted_dataset(seed: int = 0):
    frame, regs, truth = simulate_planted_modules(n_modules=4, genes_per_module=25, n_regulators=10,
                                                  n_samples=60, seed=seed)
    return build_dataset(frame, regs), truth


@pytest.mark.parametrize("init", ["boosting", "kmeans"])
def test_planted_modules_are_recovered(init):
    ds, truth = _planted_dataset()
    fit = fit_gnet(ds, GnetParams(init=init, mode="port", init_group_num=6, seed=0), progress=False)
    true = np.array([truth[g] for g in ds.targets])
    assigned = fit.assignment >= 0
    assert assigned.mean() > 0.9
    # most genes sit in the module that holds most of their true module
    correct = 0
    for k in range(4):
        members = fit.assignment[true == k]
        values, counts = np.unique(members[members >= 0], return_counts=True)
        correct += counts.max() if counts.size else 0
        # and that module's tree splits on the planted regulator
        best = values[counts.argmax()]
        assert fit.modules[best].regulators[0] == k
    assert correct / len(true) > 0.9
    assert adjusted_rand_index(fit.assignment, true) > 0.8


def test_convergence_detection_and_determinism():
    ds, _ = _planted_dataset(seed=1)
    fit = fit_gnet(ds, GnetParams(init="kmeans", mode="port", init_group_num=6, max_iter=10), progress=False)
    assert fit.converged
    assert fit.history[-1]["changed"] == 0 and len(fit.history) < 10
    assert fit.history[-1]["ari"] == 1.0 and all(-1.0 <= h["ari"] <= 1.0 for h in fit.history)
    again = fit_gnet(ds, GnetParams(init="kmeans", mode="port", init_group_num=6, max_iter=10), progress=False)
    np.testing.assert_array_equal(fit.assignment, again.assignment)
    one = fit_gnet(ds, GnetParams(init="kmeans", mode="port", init_group_num=6, max_iter=1), progress=False)
    assert len(one.history) == 1
    assert one.converged == (one.history[0]["changed"] == 0)


def test_canonical_labels():
    np.testing.assert_array_equal(canonical(np.array([5, 5, -1, 2, 5, 2])), [0, 0, -1, 1, 0, 1])


def test_module_quality_is_mean_pairwise_correlation():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 20))
    c = np.corrcoef(x)
    assert np.isclose(module_quality(x), c[np.triu_indices(7, 1)].mean())


def test_result_round_trip(tmp_path):
    ds, _ = _planted_dataset(seed=2)
    fit = fit_gnet(ds, GnetParams(init="kmeans", init_group_num=5), progress=False)
    paths = write_result(fit, tmp_path / "out")
    back = load_result(tmp_path / "out")
    np.testing.assert_array_equal(back.assignment, fit.assignment)
    assert [m.regulators for m in back.modules] == [m.regulators for m in fit.modules]
    edges = pd.read_csv(paths["edges.tsv"], sep="\t")
    assert list(edges.columns) == ["regulator", "target", "score"]
    assert edges.score.is_monotonic_decreasing
    genes = pd.read_csv(paths["gene_modules.tsv"], sep="\t")
    assert len(genes) == int((fit.assignment >= 0).sum())


@needs_reference
def test_edge_scores_reproduce_the_r_package():
    """Eq. 3.19 on R's own modules gives R's extract_edges() regulator -> target scores."""
    exp = pd.read_csv(REFERENCE / "small_exp_data.csv.gz", index_col=0)
    regs = [f"TF{i}" for i in range(1, 21)]
    genes = [g for g in exp.index if g not in regs]
    gene_table = pd.read_csv(REFERENCE / "small_boosting_gene_group_table.csv.gz")
    reg_table = pd.read_csv(REFERENCE / "small_boosting_reg_group_table.csv.gz")
    ref = pd.read_csv(REFERENCE / "small_boosting_edges.csv.gz", index_col=0)
    gi = {g: i for i, g in enumerate(genes)}
    g_expr = exp.loc[genes].to_numpy()
    modules = []
    for k in sorted(gene_table.group.unique()):
        targets = [gi[g] for g in gene_table.gene[gene_table.group == k]]
        modules.append((list(reg_table.feature[reg_table.group == k]), targets, module_quality(g_expr[targets])))
    scores, _ = edge_scores(exp.loc[regs].to_numpy(), g_expr, modules)
    ours = pd.DataFrame(scores, index=regs, columns=regs + genes)
    np.testing.assert_allclose(ours[genes].to_numpy(), ref.loc[regs, genes].to_numpy(), atol=1e-9)


@needs_reference
def test_outputs_hold_the_same_tables_as_the_r_package(tmp_path):
    exp = pd.read_csv(REFERENCE / "small_exp_data.csv.gz", index_col=0)
    ds = build_dataset(exp, [f"TF{i}" for i in range(1, 21)])
    fit = fit_gnet(ds, GnetParams(init="boosting", init_group_num=8), progress=False)
    paths = write_result(fit, tmp_path)
    r_genes = pd.read_csv(REFERENCE / "small_boosting_gene_group_table.csv.gz")
    r_regs = pd.read_csv(REFERENCE / "small_boosting_reg_group_table.csv.gz")
    ours_genes = pd.read_csv(paths["gene_modules.tsv"], sep="\t")
    # gene -> module, like R's gene_group_table (gene, group)
    assert set(ours_genes.gene) <= set(ds.targets) and set(r_genes.gene) <= set(ds.targets)
    assert 2 <= ours_genes.module.nunique() <= 12 and 2 <= r_genes.group.nunique() <= 12
    # regulators per module with their tree position, like R's reg_group_table (group, feature, samples)
    ours_regs = pd.read_csv(paths["module_regulators.tsv"], sep="\t")
    assert set(ours_regs.regulator) <= set(ds.regulators)
    assert ours_regs.groupby("module").size().max() <= 3 and r_regs.groupby("group").size().max() <= 3
    leaves = pd.read_csv(paths["leaf_groups.tsv"], sep="\t")
    assert list(leaves.columns[1:]) == list(r_regs.columns[2:])  # one column per condition
    # regulator x target scores, like R's extract_edges() matrix
    edges = pd.read_csv(paths["edges.tsv"], sep="\t")
    assert set(edges.regulator) <= set(ds.regulators) and (edges.score > 0).all()


def test_force_split_breaks_up_a_dominant_group():
    from pgml.grn.gnet import _force_split

    rng = np.random.default_rng(0)
    base = rng.normal(size=(2, 30))
    # 40 genes in one group made of two correlated halves, 10 genes in another
    expr = np.vstack([base[0] + rng.normal(0, 0.1, (20, 30)), base[1] + rng.normal(0, 0.1, (20, 30)),
                      rng.normal(size=(10, 30))])
    labels = np.array([0] * 40 + [1] * 10)
    params = GnetParams(init="kmeans", init_group_num=2, force_split=0.5)
    out = _force_split(labels, expr, expr, params)
    assert out.max() >= 2  # the 40-gene group became two groups
    assert adjusted_rand_index(out[:40], np.repeat([0, 1], 20)) == 1.0
    assert np.all(out[40:] == out[40])  # the small group is untouched
    # a group at or below the limit is left alone
    np.testing.assert_array_equal(_force_split(np.repeat([0, 1], 25), expr, expr, params), np.repeat([0, 1], 25))


@pytest.mark.parametrize("init", ["boosting", "kmeans"])
def test_per_gene_offsets_leave_modules_and_trees_unchanged(init, caplog):
    """A 200 x 40 simulation with and without per-gene offsets N(5, 3^2) (log2 RPKM-like levels)."""
    from pgml.grn.simulate import simulate_network

    sim = simulate_network(200, 40, seed=1)
    offsets = np.random.default_rng(1).normal(5.0, 3.0, size=len(sim.expression))
    fits = [fit_gnet(build_dataset(e, sim.regulators), GnetParams(init=init), progress=False)
            for e in (sim.expression, sim.expression.add(offsets, axis=0))]
    depths = [sorted(len(m.tree.splits) for m in f.modules) for f in fits]
    assert depths[0] == depths[1] and max(depths[0]) > 1
    assert adjusted_rand_index(fits[0].assignment, fits[1].assignment) == 1.0
    assert "single split" not in caplog.text
    # a stop rule that closes every node leaves one-split trees, and the run says so
    fit_gnet(build_dataset(sim.expression, sim.regulators), GnetParams(init=init, cor_cutoff=0.0),
             progress=False)
    assert "single split" in caplog.text


def test_restarts_write_a_consensus(tmp_path):
    import json

    from pgml.grn.consensus import co_membership, fit_restarts, gene_stability

    ds, _ = _planted_dataset(seed=3)
    fit = fit_restarts(ds, GnetParams(init="kmeans", init_group_num=5, restarts=3), progress=False)
    single = fit_gnet(ds, GnetParams(init="kmeans", init_group_num=5), progress=False)
    np.testing.assert_array_equal(fit.assignment, single.assignment)  # the first seed is the result
    c = fit.consensus
    assert c.seeds == [0, 1, 2] and len(c.pairwise_ari) == 3 and 0.5 < c.mean_pairwise_ari <= 1.0
    n = len(ds.targets)
    assert c.co_membership.shape == (n, n) and np.allclose(c.co_membership, c.co_membership.T)
    assigned = fit.assignment >= 0
    assert np.all(np.diag(c.co_membership)[assigned] == 1.0)
    assert np.all((c.stability[assigned] >= 0) & (c.stability[assigned] <= 1))
    paths = write_result(fit, tmp_path)
    table = pd.read_csv(paths["consensus.tsv"], sep="\t")
    assert list(table.columns[:3]) == ["gene", "module", "stability"] and len(table) == n
    meta = json.loads(paths["result.json"].read_text())
    assert meta["restarts"]["mean_pairwise_ari"] == pytest.approx(c.mean_pairwise_ari)
    assert meta["params"]["restarts"] == 3
    # known answers: two runs that agree on {0, 1} and disagree on gene 2; gene 3 in no module
    co = co_membership([np.array([0, 0, 0, -1]), np.array([1, 1, 0, -1])])
    np.testing.assert_allclose(co, [[1, 1, .5, 0], [1, 1, .5, 0], [.5, .5, 1, 0], [0, 0, 0, 0]])
    np.testing.assert_allclose(gene_stability(co, np.array([0, 0, 0, -1]))[:3], [.75, .75, .5])
    assert np.isnan(gene_stability(co, np.array([0, 0, 0, -1]))[3])


def test_rank_edge_score_covers_every_pair(tmp_path):
    from pgml.grn.edges import rank_edge_scores
    from pgml.grn.initialise import regulator_importances

    ds, _ = _planted_dataset(seed=2)
    fit = fit_gnet(ds, GnetParams(init="kmeans", init_group_num=5), progress=False)
    paths = write_result(fit, tmp_path)
    rank = pd.read_csv(paths["edges_rank.tsv"], sep="\t")
    p, n = len(ds.regulators), len(ds.targets)
    assert list(rank.columns) == ["regulator", "target", "score"] and len(rank) == p * (p + n) - p
    assert not (rank.regulator == rank.target).any() and rank.score.is_monotonic_decreasing
    assert rank.score.between(0, 1).all()
    eq319 = pd.read_csv(paths["edges.tsv"], sep="\t")
    assert len(eq319) < len(rank)  # R's score leaves out regulators in no tree
    imp = regulator_importances(ds.regulator_expr)
    assert np.all(np.diag(imp) == 0) and np.allclose(imp.sum(axis=1)[imp.sum(axis=1) > 0], 1.0)
    # known answer: ranks of two scores that agree give the same order; ties share their rank
    valid = np.ones((1, 3), dtype=bool)
    np.testing.assert_allclose(rank_edge_scores(np.array([[1.0, 2.0, 3.0]]), np.array([[0.0, 0.0, 1.0]]), valid),
                               [[(1 / 3 + 1.5 / 3) / 2, (2 / 3 + 1.5 / 3) / 2, 1.0]])
