"""Known-answer tests for pgml.train.metrics (values computed by hand)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pgml.train.metrics import mae, mape, pearson, per_group, rrse

Y = [1.0, 2.0, 3.0, 4.0]
P = [2.0, 2.0, 2.0, 6.0]


def test_pearson_hand_computed() -> None:
    # y - 2.5 = [-1.5, -.5, .5, 1.5]; p - 3 = [-1, -1, -1, 3]
    # cov = 1.5 + .5 - .5 + 4.5 = 6; |dy|^2 = 5; |dp|^2 = 12 -> 6 / sqrt(60)
    assert pearson(Y, P) == pytest.approx(6 / math.sqrt(60))
    assert pearson(Y, Y) == pytest.approx(1.0)
    assert pearson(Y, [-v for v in Y]) == pytest.approx(-1.0)
    assert math.isnan(pearson(Y, [5.0] * 4))


def test_mae_mape_rrse_hand_computed() -> None:
    # |p - y| = [1, 0, 1, 2]
    assert mae(Y, P) == pytest.approx(1.0)
    # |p - y| / y = [1, 0, 1/3, 1/2] -> mean 11/24 -> 45.8333 %
    assert mape(Y, P) == pytest.approx(100 * 11 / 24)
    # sum (p - y)^2 = 6; sum (y - 2.5)^2 = 5
    assert rrse(Y, P) == pytest.approx(math.sqrt(6 / 5))
    assert rrse(Y, [2.5] * 4) == pytest.approx(1.0)  # predicting the mean gives RRSE 1


def test_mape_skips_zero_targets() -> None:
    assert mape([0.0, 2.0], [1.0, 3.0]) == pytest.approx(50.0)
    assert math.isnan(mape([0.0, 0.0], [1.0, 3.0]))


def test_length_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        mae([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="at least one"):
        mae([], [])


def test_per_group() -> None:
    y = np.array([1.0, 2.0, 3.0, 10.0, 20.0])
    p = np.array([1.0, 2.0, 4.0, 12.0, 18.0])
    g = np.array(["b", "b", "b", "a", "a"])
    out = per_group(mae, y, p, g)
    assert list(out) == ["b", "a"]  # order of first appearance
    assert out["b"] == pytest.approx(1 / 3)
    assert out["a"] == pytest.approx(2.0)
    cc = per_group(pearson, y, p, g)
    assert cc["a"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="groups"):
        per_group(mae, y, p, g[:2])
