"""Baselines on small hand-worked cases (pgml.grn.baselines)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pgml.grn.baselines import (
    aracne,
    clr,
    discretize_equalfreq,
    edges_from_matrix,
    genie3,
    mrnet,
    mutual_information_matrix,
    score_network,
)


def test_mutual_information_known_values():
    # two bins each; x and y identical -> MI = log 2; x and z independent (balanced 2x2) -> 0
    x = np.array([0, 0, 1, 1, 0, 0, 1, 1], dtype=float)
    z = np.array([0, 1, 0, 1, 0, 1, 0, 1], dtype=float)
    d = discretize_equalfreq(np.vstack([x, z]), n_bins=2)
    assert set(d[0].tolist()) == {0, 1}
    mi = mutual_information_matrix(np.vstack([x + np.arange(8) * 1e-6, x + np.arange(8) * 1e-6, z]), n_bins=2)
    assert np.isclose(mi[0, 1], np.log(2))
    assert np.isclose(mi[0, 2], 0.0, atol=1e-12)
    assert np.allclose(mi, mi.T) and np.all(np.diag(mi) == 0)


def test_clr_hand_computed():
    mi = np.array([[0.0, 0.9, 0.3], [0.9, 0.0, 0.6], [0.3, 0.6, 0.0]])
    # row 0: mean 0.4, sd sqrt(((0.4)^2 + 0.5^2 + 0.1^2)/3) = sqrt(0.14)
    sd0 = np.sqrt(0.14)
    z01 = (0.9 - 0.4) / sd0
    # row 1: mean 0.5, sd sqrt((0.25 + 0.16 + 0.01)/3) = sqrt(0.14)
    z10 = (0.9 - 0.5) / np.sqrt(0.14)
    out = clr(mi)
    assert np.isclose(out[0, 1], np.sqrt(z01**2 + z10**2))
    # z02 = (0.3 - 0.4)/sd < 0 -> 0; z20: row 2 mean 0.3, sd sqrt((0.09+0.09+0)/3)=sqrt(0.06): (0.3-0.3)=0
    assert np.isclose(out[0, 2], 0.0)
    assert np.allclose(out, out.T)


def test_aracne_removes_weakest_edge_of_a_triangle():
    mi = np.array([[0.0, 0.9, 0.3], [0.9, 0.0, 0.6], [0.3, 0.6, 0.0]])
    out = aracne(mi)
    assert out[0, 2] == 0 and out[2, 0] == 0
    assert out[0, 1] == 0.9 and out[1, 2] == 0.6
    # with a tolerance larger than the gap nothing is removed
    assert aracne(mi, eps=0.5)[0, 2] == 0.3


def test_mrnet_hand_computed():
    # target 0: relevance 0.9 (gene 1), 0.5 (gene 2), 0.1 (gene 3)
    mi = np.array([[0.0, 0.9, 0.5, 0.1],
                   [0.9, 0.0, 0.7, 0.0],
                   [0.5, 0.7, 0.0, 0.0],
                   [0.1, 0.0, 0.0, 0.0]])
    net = mrnet(mi)
    # for Y = 0: pick 1 (0.9); then gene 2: 0.5 - 0.7 < 0, gene 3: 0.1 - 0 = 0.1 -> picked with 0.1;
    # then gene 2: 0.5 - (0.7 + 0)/2 = 0.15 -> picked with 0.15
    assert np.isclose(net[1, 0], 0.9)
    assert net[2, 0] >= 0.15 - 1e-12
    assert np.isclose(net[3, 0], 0.1)
    assert np.allclose(net, net.T)


def test_genie3_ranks_the_driving_regulator_first():
    rng = np.random.default_rng(0)
    regs = rng.normal(size=(4, 60))
    target = np.sin(regs[2]) * 3 + rng.normal(0, 0.1, 60)
    all_expr = np.vstack([regs, target])
    scores = genie3(regs, all_expr, np.arange(4), n_trees=50, progress=False)
    assert int(np.argmax(scores[:, 4])) == 2
    assert np.all(scores[np.arange(4), np.arange(4)] == 0)  # a regulator never predicts itself


def test_score_network_and_edge_list():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 40))
    x[3] = x[0] * 2 + rng.normal(0, 0.05, 40)
    frame = pd.DataFrame(x, index=[f"g{i}" for i in range(6)])
    for method in ("clr", "mrnet", "correlation"):
        s = score_network(method, frame, ["g0", "g1"])
        edges = edges_from_matrix(s, ["g0", "g1"], list(frame.index))
        assert len(edges) == 2 * 6 - 2  # no self pairs
        assert (edges.iloc[0].regulator, edges.iloc[0].target) == ("g0", "g3")
