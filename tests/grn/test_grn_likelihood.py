"""Known answers for the Gaussian likelihood of eqs 3.15-3.17 (pgml.grn.likelihood)."""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

from pgml.grn.likelihood import LOG_2PI, gene_module_loglik, group_loglik, split_gains


def _ll_scipy(x: np.ndarray) -> float:
    """sum log N(x | mean, sd) with R's sd (ddof=1), as GNET2's dnorm(..., log=TRUE)."""
    return float(norm.logpdf(x, loc=x.mean(), scale=x.std(ddof=1)).sum())


def test_hand_computed_two_gene_gain():
    # samples x genes: gene a = 1,2,3 | 10,11,12; gene b = 0,1,2 | 4,6,8
    y = np.array([[1, 0], [2, 1], [3, 2], [10, 4], [11, 6], [12, 8]], dtype=float)
    left = np.array([[True, True, True, False, False, False]])
    # by hand: a-left: mean 2, SS 2, s^2 1  -> -1.5 log 2pi - 1 - 1.5 log 1
    #          a-right: same                 -> -1.5 log 2pi - 1
    #          b-left: mean 1, SS 2, s^2 1   -> -1.5 log 2pi - 1
    #          b-right: mean 6, SS 8, s^2 4  -> -1.5 log 2pi - 1 - 1.5 log 4
    #          a-all: mean 6.5, SS 2 * (5.5^2 + 4.5^2 + 3.5^2) = 125.5; b-all: mean 3.5, SS 47.5
    a_all_ss = sum((v - 6.5) ** 2 for v in [1, 2, 3, 10, 11, 12])  # 125.5
    b_all_ss = sum((v - 3.5) ** 2 for v in [0, 1, 2, 4, 6, 8])  # 47.5
    assert a_all_ss == 125.5 and b_all_ss == 47.5
    ll_children = 4 * (-1.5 * LOG_2PI - 1.0) - 1.5 * math.log(4.0)
    ll_parent = 2 * (-3 * LOG_2PI - 2.5) - 3 * math.log(125.5 / 5) - 3 * math.log(47.5 / 5)
    expected = ll_children - ll_parent
    gain = split_gains(y, left)[0]
    assert math.isclose(gain, expected, rel_tol=1e-12)
    # and the same through scipy's normal density
    via_scipy = (_ll_scipy(y[:3, 0]) + _ll_scipy(y[3:, 0]) + _ll_scipy(y[:3, 1]) + _ll_scipy(y[3:, 1])
                 - _ll_scipy(y[:, 0]) - _ll_scipy(y[:, 1]))
    assert math.isclose(gain, via_scipy, rel_tol=1e-10)


def test_group_loglik_matches_scipy_and_ignores_singletons():
    rng = np.random.default_rng(1)
    y = rng.normal(size=(9, 4))
    labels = np.array([0, 0, 0, 1, 1, 1, 1, 2, -1])  # group 2 has one sample, -1 is excluded
    expected = sum(_ll_scipy(y[labels == g, j]) for g in (0, 1) for j in range(4))
    assert math.isclose(group_loglik(y, labels), expected, rel_tol=1e-12)


def test_constant_gene_in_group_contributes_zero():
    # GNET2 sets the infinite density of a zero-sd group to 0
    y = np.array([[5.0], [5.0], [5.0], [1.0], [2.0], [4.0]])
    labels = np.array([0, 0, 0, 1, 1, 1])
    assert math.isclose(group_loglik(y, labels), _ll_scipy(y[3:, 0]), rel_tol=1e-12)


def test_split_gains_invalid_and_vectorised():
    rng = np.random.default_rng(2)
    y = rng.normal(size=(12, 30))
    masks = rng.random((7, 12)) < 0.5
    masks[0] = True  # nothing goes right: invalid
    gains = split_gains(y, masks)
    assert gains[0] == -np.inf
    for c in range(1, 7):
        lab = masks[c].astype(int)
        expected = group_loglik(y, lab) - group_loglik(y, np.zeros(12, dtype=int))
        assert math.isclose(gains[c], expected, rel_tol=1e-9, abs_tol=1e-9)


def test_gene_module_loglik_equals_per_gene_likelihood():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 15)) + 10.0  # large offset: centring must keep it exact
    leaves = [np.repeat([0, 1, 2], 5), np.tile([0, 1], 8)[:15]]
    out = gene_module_loglik(x, leaves)
    for g in range(5):
        for k, lab in enumerate(leaves):
            assert math.isclose(out[g, k], group_loglik(x[g][:, None], lab), rel_tol=1e-9)
