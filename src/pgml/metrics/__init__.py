"""Metrics shared by every chain (numpy, scipy and scikit-learn only; no torch).

- regression (:mod:`pgml.metrics.regression`): :func:`pearson`, :func:`mae`, :func:`mape` (a fraction),
  :func:`rrse`;
- per group (:mod:`pgml.metrics.groups`): :func:`per_group` and :func:`summarise_groups`, with an
  explicit policy for undefined (NaN) group values;
- ranking and classification (:mod:`pgml.metrics.ranking`): :func:`auroc`, :func:`aupr`, :func:`aupr_davis_goadrich`,
  :func:`precision_at_k`, :func:`recall_at_fdr`, :func:`accuracy`, :func:`confusion_matrix`,
  :func:`roc_curve_points`, :func:`pr_curve_points`;
- partitions (:mod:`pgml.metrics.clustering`): :func:`contingency`, :func:`adjusted_rand_index`,
  :func:`matched_changes`.
"""

from __future__ import annotations

from pgml.metrics.clustering import adjusted_rand_index, contingency, matched_changes
from pgml.metrics.groups import NAN_POLICIES, GroupSummary, NanPolicy, per_group, summarise_groups
from pgml.metrics.ranking import (
    PrPoints,
    RocPoints,
    accuracy,
    aupr,
    aupr_davis_goadrich,
    auroc,
    confusion_matrix,
    pr_curve_points,
    precision_at_k,
    recall_at_fdr,
    roc_curve_points,
)
from pgml.metrics.regression import mae, mape, pearson, rrse

__all__ = [
    "NAN_POLICIES",
    "GroupSummary",
    "NanPolicy",
    "PrPoints",
    "RocPoints",
    "accuracy",
    "adjusted_rand_index",
    "aupr",
    "aupr_davis_goadrich",
    "auroc",
    "confusion_matrix",
    "contingency",
    "mae",
    "mape",
    "matched_changes",
    "pearson",
    "per_group",
    "pr_curve_points",
    "precision_at_k",
    "recall_at_fdr",
    "roc_curve_points",
    "rrse",
    "summarise_groups",
]
