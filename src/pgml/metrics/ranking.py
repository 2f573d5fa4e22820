"""Ranking and classification metrics: binary labels ``y`` (0/1 or bool) and real ``score``.

Thin wrappers on scikit-learn where it has the metric, so every chain reports the same definitions:

- :func:`auroc`: area under the ROC curve (``roc_auc_score``), the probability that a random positive
  scores above a random negative, ties counting 1/2;
- :func:`aupr`: average precision (``average_precision_score``), ``AP = sum_n (R_n - R_{n-1}) P_n`` over
  the distinct score thresholds in decreasing order (a step function, no interpolation);
- :func:`aupr_davis_goadrich`: area under the PR curve with Davis and Goadrich's interpolation between
  the points of the distinct thresholds (what R's PRROC reports as ``pr.curve(...)$auc.davis.goadrich``,
  the auPRC of the ENCODE-DREAM challenge's scorer); written here because scikit-learn has no such
  interpolation;
- :func:`precision_at_k`: fraction of positives among the ``k`` best-scored items;
- :func:`recall_at_fdr`: the largest recall ``TP / P`` at a threshold whose false discovery rate
  ``FP / (TP + FP)`` is at most ``fdr``;
- :func:`accuracy`, :func:`confusion_matrix` (``accuracy_score``, ``confusion_matrix``) on predicted labels;
- :func:`roc_curve_points`, :func:`pr_curve_points`: the curves behind AUROC and AUPR.

Degenerate inputs give ``nan`` instead of an exception: AUROC needs both classes, AUPR and
recall at FDR need at least one positive.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

ArrayLike = npt.ArrayLike


class RocPoints(NamedTuple):
    """ROC curve: false positive rate, true positive rate, and the score threshold of each point."""

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray


class PrPoints(NamedTuple):
    """Precision-recall curve as scikit-learn returns it (recall decreasing; last point (R 0, P 1))."""

    precision: np.ndarray
    recall: np.ndarray
    thresholds: np.ndarray


def _labels_scores(y: ArrayLike, score: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """``y`` as a flat bool array and ``score`` as flat float64 of the same non-zero length."""
    ya = np.asarray(y).ravel()
    sa = np.asarray(score, dtype=np.float64).ravel()
    if ya.shape != sa.shape:
        raise ValueError(f"labels and scores differ in length: {ya.size} vs {sa.size}")
    if ya.size == 0:
        raise ValueError("metrics need at least one value")
    if ya.dtype != bool:
        if not np.isin(ya, (0, 1)).all():
            raise ValueError("labels must be binary (0/1 or bool)")
        ya = ya.astype(bool)
    if np.isnan(sa).any():
        raise ValueError("scores contain NaN")
    return ya, sa


def auroc(y: ArrayLike, score: ArrayLike) -> float:
    """Area under the ROC curve (scikit-learn ``roc_auc_score``); ``nan`` unless both classes occur.

    Equals ``P(score+ > score-) + P(score+ = score-) / 2`` over positive/negative pairs.
    """
    from sklearn.metrics import roc_auc_score

    ya, sa = _labels_scores(y, score)
    if ya.all() or not ya.any():
        return float("nan")
    return float(roc_auc_score(ya, sa))


def aupr(y: ArrayLike, score: ArrayLike) -> float:
    """Average precision (scikit-learn ``average_precision_score``); ``nan`` without positives.

    ``AP = sum_n (R_n - R_{n-1}) P_n``, ``P_n`` and ``R_n`` being precision and recall at the n-th
    distinct score threshold taken in decreasing order. A random ranking scores the positive fraction.
    """
    from sklearn.metrics import average_precision_score

    ya, sa = _labels_scores(y, score)
    if not ya.any():
        return float("nan")
    return float(average_precision_score(ya, sa))


def _tied_counts(ya: np.ndarray, sa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True positives and items called at each distinct score threshold, best first (ties never split)."""
    order = np.argsort(-sa, kind="stable")
    s_sorted, y_sorted = sa[order], ya[order]
    # last index of each block of tied scores: the cut points of the distinct thresholds
    ends = np.r_[np.nonzero(np.diff(s_sorted))[0], s_sorted.size - 1]
    return np.cumsum(y_sorted)[ends], ends + 1


def aupr_davis_goadrich(y: ArrayLike, score: ArrayLike) -> float:
    """Area under the precision-recall curve, interpolated as Davis and Goadrich ([davisgoadrich], section 4).

    Items are grouped by distinct score (decreasing); ``(TP_k, FP_k)`` are the counts called at the
    k-th threshold, ``(TP_0, FP_0) = (0, 0)`` and ``P`` the number of positives. Between consecutive
    points A and B with ``d = TP_B - TP_A > 1`` true positives apart and different precisions, the curve
    passes through ``TP_A + x`` true positives and ``FP_A + x (FP_B - FP_A) / d`` false positives for
    ``x = 0, 1, ..., d`` (precision interpolated in TP/FP space, not linearly in PR space); the area
    is the trapezoid rule over all these points, each step ``1 / P`` wide in recall. Other segments
    are one trapezoid ``(TP_B - TP_A) / P * (prec_A + prec_B) / 2``; the first segment, which starts
    at recall 0 where precision is undefined, counts as a rectangle at the precision of its end.
    These are the conventions of PRROC's ``auc.davis.goadrich`` (Keilwagen et al. 2014) for
    hard labels. ``nan`` without positives.
    """
    ya, sa = _labels_scores(y, score)
    n_pos = int(ya.sum())
    if n_pos == 0:
        return float("nan")
    tp, called = _tied_counts(ya, sa)
    tp = tp.astype(np.float64)
    fp = called - tp
    tp_a, fp_a = np.r_[0.0, tp[:-1]], np.r_[0.0, fp[:-1]]
    d = tp - tp_a
    with np.errstate(invalid="ignore", divide="ignore"):
        prec_b = tp / (tp + fp)
        prec_a = tp_a / (tp_a + fp_a)
    first = np.zeros(tp.size, dtype=bool)
    first[0] = True
    interpolate = (d > 1) & (prec_a != prec_b) & ~first
    area = np.where(first, d / n_pos * prec_b, d / n_pos * (prec_a + prec_b) / 2)
    area[interpolate] = 0.0
    seg = np.flatnonzero(interpolate)
    if seg.size:
        steps = d[seg].astype(np.int64)
        owner = np.repeat(np.arange(seg.size), steps + 1)
        x = np.arange(owner.size) - np.repeat(np.r_[0, np.cumsum(steps + 1)[:-1]], steps + 1)
        a_tp, a_fp = tp_a[seg][owner], fp_a[seg][owner]
        slope = ((fp[seg] - fp_a[seg]) / d[seg])[owner]
        prec = (a_tp + x) / (a_tp + x + a_fp + slope * x)
        same = owner[1:] == owner[:-1]
        area[seg] = np.bincount(owner[1:][same], weights=(prec[1:] + prec[:-1])[same] / 2 / n_pos,
                                minlength=seg.size)
    return float(area.sum())


def precision_at_k(y: ArrayLike, score: ArrayLike, k: int) -> float:
    """Fraction of positives among the ``min(k, n)`` best-scored items.

    Items are ranked by decreasing score; ties at the cut are broken by input order (the item listed
    first ranks first), so the result is deterministic.
    """
    ya, sa = _labels_scores(y, score)
    k = int(k)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    top = np.argsort(-sa, kind="stable")[:k]
    return float(ya[top].mean())


def recall_at_fdr(y: ArrayLike, score: ArrayLike, fdr: float) -> float:
    """Largest recall ``TP / P`` over score thresholds whose FDR ``FP / (TP + FP)`` is at most ``fdr``.

    Thresholds are the distinct scores (tied items are called together, never split). Returns 0.0
    when no threshold reaches the FDR, ``nan`` without positives.
    """
    ya, sa = _labels_scores(y, score)
    if not 0.0 <= fdr <= 1.0:
        raise ValueError(f"fdr must lie in [0, 1], got {fdr}")
    n_pos = int(ya.sum())
    if n_pos == 0:
        return float("nan")
    tp, called = _tied_counts(ya, sa)
    ok = (called - tp) <= fdr * called + 1e-12
    return float(tp[ok].max() / n_pos) if ok.any() else 0.0


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Fraction of predicted labels equal to the true ones (scikit-learn ``accuracy_score``)."""
    from sklearn.metrics import accuracy_score

    return float(accuracy_score(np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()))


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, labels: ArrayLike | None = None) -> np.ndarray:
    """Counts ``C[i, j]`` of items of true class ``labels[i]`` predicted as ``labels[j]``.

    Rows are true classes, columns predicted ones, both in the order of ``labels`` (default: the sorted
    union of the classes present); for binary 0/1 labels ``[[TN, FP], [FN, TP]]``. Scikit-learn's
    ``confusion_matrix``.
    """
    from sklearn.metrics import confusion_matrix as sk_confusion_matrix

    return sk_confusion_matrix(np.asarray(y_true).ravel(), np.asarray(y_pred).ravel(),
                               labels=None if labels is None else np.asarray(labels))


def roc_curve_points(y: ArrayLike, score: ArrayLike) -> RocPoints:
    """ROC curve points (scikit-learn ``roc_curve``, collinear points dropped), from (0, 0) to (1, 1)."""
    from sklearn.metrics import roc_curve

    ya, sa = _labels_scores(y, score)
    fpr, tpr, thresholds = roc_curve(ya, sa)
    return RocPoints(fpr, tpr, thresholds)


def pr_curve_points(y: ArrayLike, score: ArrayLike) -> PrPoints:
    """Precision-recall curve points (scikit-learn ``precision_recall_curve``), one per distinct threshold."""
    from sklearn.metrics import precision_recall_curve

    ya, sa = _labels_scores(y, score)
    precision, recall, thresholds = precision_recall_curve(ya, sa)
    return PrPoints(precision, recall, thresholds)
