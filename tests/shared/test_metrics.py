"""Known-answer tests for pgml.metrics (values computed by hand) and agreement with scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sklearn.metrics as skm

from pgml.metrics import (
    accuracy,
    aupr,
    aupr_davis_goadrich,
    auroc,
    confusion_matrix,
    mae,
    mape,
    pearson,
    per_group,
    pr_curve_points,
    precision_at_k,
    recall_at_fdr,
    roc_curve_points,
    rrse,
    summarise_groups,
)

Y = [1.0, 2.0, 3.0, 4.0]
P = [2.0, 2.0, 2.0, 6.0]

# ranked best first: labels 1 0 1 0 0 1 (3 positives, 3 negatives)
LABELS = [1, 0, 1, 0, 0, 1]
SCORES = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]


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
    # |p - y| / y = [1, 0, 1/3, 1/2] -> mean 11/24 (a fraction, not a percent)
    assert mape(Y, P) == pytest.approx(11 / 24)
    # sum (p - y)^2 = 6; sum (y - 2.5)^2 = 5
    assert rrse(Y, P) == pytest.approx(math.sqrt(6 / 5))
    assert rrse(Y, [2.5] * 4) == pytest.approx(1.0)  # predicting the mean gives RRSE 1
    assert math.isnan(rrse([3.0, 3.0], [1.0, 2.0]))


def test_mape_skips_zero_targets() -> None:
    assert mape([0.0, 2.0], [1.0, 3.0]) == pytest.approx(0.5)
    assert mape([-2.0, 4.0], [-1.0, 5.0]) == pytest.approx((0.5 + 0.25) / 2)  # |y| in the denominator
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


def test_per_group_nan_policies() -> None:
    # group "x": CC 1; group "c": constant prediction -> CC undefined; group "y": CC -1
    y = [1.0, 2.0, 1.0, 2.0, 1.0, 2.0]
    p = [1.0, 3.0, 5.0, 5.0, 2.0, 0.0]
    g = [0, 0, 1, 1, 2, 2]
    raw = per_group(pearson, y, p, g)
    assert raw[0] == pytest.approx(1.0) and math.isnan(raw[1]) and raw[2] == pytest.approx(-1.0)
    assert per_group(pearson, y, p, g, nan_policy="zero") == pytest.approx({0: 1.0, 1: 0.0, 2: -1.0})
    assert per_group(pearson, y, p, g, nan_policy="omit") == pytest.approx({0: 1.0, 2: -1.0})
    with pytest.raises(ValueError, match="nan_policy"):
        per_group(pearson, y, p, g, nan_policy="ignore")  # type: ignore[arg-type]


def test_summarise_groups() -> None:
    values = {"a": 0.9, "b": float("nan"), "c": 0.3}
    zero = summarise_groups(values, "zero")
    assert zero.mean == pytest.approx((0.9 + 0 + 0.3) / 3)
    assert (zero.n_groups, zero.n_undefined, zero.n_used) == (3, 1, 3)
    omit = summarise_groups(values, "omit")
    assert omit.mean == pytest.approx(0.6)
    assert (omit.n_groups, omit.n_undefined, omit.n_used) == (3, 1, 2)
    prop = summarise_groups(values, "propagate")
    assert math.isnan(prop.mean) and prop.n_undefined == 1
    assert summarise_groups([0.5, 1.0]).mean == pytest.approx(0.75)  # a plain sequence, default "zero"
    assert summarise_groups([1.0, 0.5], "propagate").n_undefined == 0
    assert math.isnan(summarise_groups([float("nan")], "omit").mean)
    empty = summarise_groups([], "zero")
    assert math.isnan(empty.mean) and empty.n_groups == 0
    with pytest.raises(ValueError, match="nan_policy"):
        summarise_groups(values, "drop")  # type: ignore[arg-type]


def test_auroc_aupr_hand_computed() -> None:
    # positive/negative pairs ranked correctly: 3 (first positive) + 2 (second) + 0 (third) of 9
    assert auroc(LABELS, SCORES) == pytest.approx(5 / 9)
    # AP: recall steps of 1/3 at ranks 1, 3, 6 with precision 1, 2/3, 1/2
    assert aupr(LABELS, SCORES) == pytest.approx((1 + 2 / 3 + 1 / 2) / 3)
    assert auroc([0, 1, 1], [0.1, 0.5, 0.9]) == 1.0 and auroc([1, 0], [0.1, 0.9]) == 0.0
    assert aupr([True, False, False, False], [0.1, 0.2, 0.3, 0.4]) == pytest.approx(1 / 4)


def test_aupr_davis_goadrich_without_ties_by_hand() -> None:
    """y = 1 1 0 1 0 0 by decreasing score, P = 3; (TP, FP) after each item: (1,0) (2,0) (2,1) (3,1) (3,2) (3,3).

    Segment (0,0)->(1,0): recall 0 -> 1/3, a rectangle at precision 1: 1/3.
    Segment (1,0)->(2,0): one TP, trapezoid (1 + 1)/2 * 1/3 = 1/3.
    Segment (2,0)->(2,1): no TP, no area.
    Segment (2,1)->(3,1): trapezoid (2/3 + 3/4)/2 * 1/3 = 17/72.
    Remaining segments add no TP.  Total 1/3 + 1/3 + 17/72 = 65/72, below the step-wise
    average precision (1 + 1 + 3/4)/3 = 11/12.
    """
    y = [1, 1, 0, 1, 0, 0]
    s = [6, 5, 4, 3, 2, 1]
    assert aupr_davis_goadrich(y, s) == pytest.approx(65 / 72)
    assert aupr(y, s) == pytest.approx(11 / 12)


def test_aupr_davis_goadrich_interpolates_within_ties_by_hand() -> None:
    """Scores 0.9 (+), 0.5 (+ + -), 0.1 (-); P = 3; thresholds give (TP, FP) = (1,0), (3,1), (3,2).

    (0,0)->(1,0): rectangle 1/3 * 1 = 1/3.
    (1,0)->(3,1): two TPs apart with precision 1 -> 3/4, so Davis-Goadrich interpolates: per added TP
    the FP count grows by 1/2; x = 0, 1, 2 gives precision 1/1, 2/2.5 = 0.8, 3/4 = 0.75, and the
    trapezoids give 1/3 * ((1 + 0.8)/2 + (0.8 + 0.75)/2) = 1.675/3 = 67/120.
    (3,1)->(3,2): no TP.  Total 40/120 + 67/120 = 107/120; a straight line in PR space would give
    1/3 + 2/3 * (1 + 0.75)/2 = 11/12, average precision 1/3 + 2/3 * 3/4 = 5/6.
    """
    y = [1, 1, 1, 0, 0]
    s = [0.9, 0.5, 0.5, 0.5, 0.1]
    assert aupr_davis_goadrich(y, s) == pytest.approx(107 / 120)
    assert aupr(y, s) == pytest.approx(5 / 6)
    # input order does not matter; a perfect ranking scores 1; no positive gives nan
    assert aupr_davis_goadrich(y[::-1], s[::-1]) == pytest.approx(107 / 120)
    assert aupr_davis_goadrich([0, 1, 1], [0.1, 0.5, 0.9]) == pytest.approx(1.0)
    assert math.isnan(aupr_davis_goadrich([0, 0], [0.1, 0.2]))


def _davis_goadrich_by_loops(y: list[int], s: list[float]) -> float:
    """The same area, point by point: thresholds, then the interpolated points of each segment."""
    pos = sum(y)
    points = [(0.0, 0.0)]
    for t in sorted(set(s), reverse=True):
        points.append((float(sum(yi for yi, si in zip(y, s, strict=True) if si >= t)),
                       float(sum(1 - yi for yi, si in zip(y, s, strict=True) if si >= t))))
    area = 0.0
    for k, ((tp_a, fp_a), (tp_b, fp_b)) in enumerate(zip(points, points[1:], strict=False)):
        if tp_b == tp_a:
            continue
        prec_b = tp_b / (tp_b + fp_b)
        if k == 0:
            area += (tp_b - tp_a) / pos * prec_b
            continue
        prec_a = tp_a / (tp_a + fp_a)
        if tp_b - tp_a > 1 and prec_a != prec_b:
            slope = (fp_b - fp_a) / (tp_b - tp_a)
            precs = [(tp_a + x) / (tp_a + x + fp_a + slope * x) for x in range(int(tp_b - tp_a) + 1)]
            area += sum((p + q) / 2 / pos for p, q in zip(precs, precs[1:], strict=False))
        else:
            area += (tp_b - tp_a) / pos * (prec_a + prec_b) / 2
    return area


def test_aupr_davis_goadrich_agrees_with_a_loop_over_points() -> None:
    rng = np.random.default_rng(1)
    for _ in range(30):
        n = int(rng.integers(2, 40))
        y = [int(v) for v in rng.random(n) < 0.4]
        if not any(y):
            y[0] = 1
        s = [float(v) for v in rng.integers(0, 6, size=n)]   # many ties
        assert aupr_davis_goadrich(y, s) == pytest.approx(_davis_goadrich_by_loops(y, s), abs=1e-12)


def test_aupr_davis_goadrich_of_random_scores_is_the_positive_rate() -> None:
    rng = np.random.default_rng(0)
    y = rng.random(20000) < 0.1
    assert aupr_davis_goadrich(y, rng.random(y.size)) == pytest.approx(y.mean(), abs=0.01)
    # all scores tied: one segment from (0,0) to (P, N), a rectangle at the positive rate
    assert aupr_davis_goadrich(y, np.zeros(y.size)) == pytest.approx(y.mean())


def test_ties() -> None:
    y, s = [1, 0, 1, 0], [1.0, 1.0, 0.0, 0.0]
    # tied pairs count 1/2: (0.5 + 1 + 0 + 0.5) / 4
    assert auroc(y, s) == pytest.approx(0.5)
    # two thresholds, each adds recall 1/2 at precision 1/2
    assert aupr(y, s) == pytest.approx(0.5)
    # tied items are called together: FDR 1/2 at both thresholds
    assert recall_at_fdr(y, s, 0.4) == 0.0
    assert recall_at_fdr(y, s, 0.5) == 1.0
    # ties at the cut of precision@k go to the item listed first
    assert precision_at_k([0, 1], [1.0, 1.0], 1) == 0.0
    assert precision_at_k([1, 0], [1.0, 1.0], 1) == 1.0


def test_precision_at_k_hand_computed() -> None:
    assert precision_at_k(LABELS, SCORES, 1) == 1.0
    assert precision_at_k(LABELS, SCORES, 2) == 0.5
    assert precision_at_k(LABELS, SCORES, 3) == pytest.approx(2 / 3)
    assert precision_at_k(LABELS, SCORES, 100) == 0.5  # k beyond n: all items
    # order of the input does not matter, only the scores
    rev = slice(None, None, -1)
    assert precision_at_k(LABELS[rev], SCORES[rev], 3) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="k must"):
        precision_at_k(LABELS, SCORES, 0)


def test_recall_at_fdr_hand_computed() -> None:
    # FDR after 1..6 items: 0, 1/2, 1/3, 1/2, 3/5, 1/2 with recall 1/3, 1/3, 2/3, 2/3, 2/3, 1
    assert recall_at_fdr(LABELS, SCORES, 0.0) == pytest.approx(1 / 3)
    assert recall_at_fdr(LABELS, SCORES, 0.2) == pytest.approx(1 / 3)
    assert recall_at_fdr(LABELS, SCORES, 1 / 3) == pytest.approx(2 / 3)
    assert recall_at_fdr(LABELS, SCORES, 0.5) == 1.0
    assert recall_at_fdr([0, 1], [0.9, 0.1], 0.0) == 0.0  # the best-scored item is a false positive
    with pytest.raises(ValueError, match="fdr"):
        recall_at_fdr(LABELS, SCORES, 1.5)


def test_degenerate_ranking_inputs_are_nan() -> None:
    assert math.isnan(auroc([1, 1], [0.2, 0.3]))
    assert math.isnan(auroc([0, 0], [0.2, 0.3]))
    assert math.isnan(aupr([0, 0], [0.2, 0.3]))
    assert math.isnan(recall_at_fdr([0, 0], [0.2, 0.3], 0.1))
    with pytest.raises(ValueError, match="binary"):
        auroc([0, 2], [0.2, 0.3])
    with pytest.raises(ValueError, match="NaN"):
        aupr([0, 1], [0.2, float("nan")])
    with pytest.raises(ValueError, match="differ in length"):
        precision_at_k([0, 1], [0.2], 1)


def test_accuracy_and_confusion_matrix_hand_computed() -> None:
    y, pred = [0, 1, 1, 0], [0, 1, 0, 0]
    assert accuracy(y, pred) == 0.75
    # [[TN, FP], [FN, TP]]
    np.testing.assert_array_equal(confusion_matrix(y, pred), [[2, 0], [1, 1]])
    np.testing.assert_array_equal(confusion_matrix(y, pred, labels=[1, 0]), [[1, 1], [0, 2]])
    np.testing.assert_array_equal(confusion_matrix(["a", "b", "c"], ["a", "c", "c"]),
                                  [[1, 0, 0], [0, 0, 1], [0, 0, 1]])


def test_curve_points_hand_computed() -> None:
    roc = roc_curve_points([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1])
    assert (roc.fpr[0], roc.tpr[0], roc.fpr[-1], roc.tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    # the corner points (0, 1/2), (1/2, 1/2), (1/2, 1) are on the curve
    points = set(zip(roc.fpr.tolist(), roc.tpr.tolist(), strict=True))
    assert {(0.0, 0.5), (0.5, 0.5), (0.5, 1.0)} <= points
    pr = pr_curve_points([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1])
    # thresholds 0.1, 0.7, 0.8, 0.9 -> precision 1/2, 2/3, 1/2, 1 at recall 1, 1, 1/2, 1/2; then (R 0, P 1)
    np.testing.assert_allclose(pr.precision, [0.5, 2 / 3, 0.5, 1.0, 1.0])
    np.testing.assert_allclose(pr.recall, [1.0, 1.0, 0.5, 0.5, 0.0])
    np.testing.assert_allclose(pr.thresholds, [0.1, 0.7, 0.8, 0.9])


def test_agreement_with_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    y = rng.random(300) < 0.2
    s = np.round(rng.normal(size=300) + y, 1)  # rounded: many ties
    assert auroc(y, s) == pytest.approx(skm.roc_auc_score(y, s), abs=1e-15)
    assert aupr(y, s) == pytest.approx(skm.average_precision_score(y, s), abs=1e-15)
    for ours, theirs in zip(roc_curve_points(y, s), skm.roc_curve(y, s), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    for ours, theirs in zip(pr_curve_points(y, s), skm.precision_recall_curve(y, s), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    prec, rec, _ = skm.precision_recall_curve(y, s)
    for fdr in (0.05, 0.2, 0.35, 0.5, 0.7):
        assert recall_at_fdr(y, s, fdr) == pytest.approx(rec[prec >= 1 - fdr].max())
    pred = s > 0.5
    assert accuracy(y, pred) == skm.accuracy_score(y, pred)
    np.testing.assert_array_equal(confusion_matrix(y, pred), skm.confusion_matrix(y, pred))
    order = np.argsort(-s, kind="stable")
    assert precision_at_k(y, s, 60) == pytest.approx(y[order[:60]].mean())


def test_ground_floor_is_torch_free_and_imports_no_chain() -> None:
    import subprocess
    import sys

    code = ("import sys, pgml.metrics, pgml.plots, pgml.tables, pgml.report.summary, pgml.report.cli; "
            "bad = [m for m in sys.modules if m == 'torch' or m.startswith(('pgml.bfactor', 'pgml.grn', 'pgml.tfbs', "
            "'pgml.contact', 'pgml.qa', 'pgml.fold', "
            "'pgml.train'))]; print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_partition_agreement_ignores_group_names():
    from sklearn.metrics import adjusted_rand_score

    from pgml.metrics import adjusted_rand_index, contingency, matched_changes

    a = np.array([0, 0, 0, 1, 1, 2, 2, 2, -1])
    renamed = np.array([5, 5, 5, 3, 3, 0, 0, 0, 9])  # the same partition, other names
    assert matched_changes(a, renamed) == 0
    assert adjusted_rand_index(a, renamed) == 1.0
    moved = renamed.copy()
    moved[0] = 3  # one item changes group
    assert matched_changes(a, moved) == 1
    assert adjusted_rand_index(a, moved) == pytest.approx(adjusted_rand_score(a, moved))
    assert contingency(a, moved).sum() == len(a)
    # a group split in two: the larger half is matched, the smaller half counts as changed
    assert matched_changes([0, 0, 0, 0, 1, 1], [0, 0, 0, 2, 1, 1]) == 1
    with pytest.raises(ValueError):
        contingency([0, 1], [0, 1, 2])
