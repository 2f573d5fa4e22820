"""Regulatory tree of one module (GNET2 ``build_moduleR_heuristic``; [dissertation] section 3.2).

A module's tree partitions the samples by regulator expression so that, within each leaf, the
module's target genes are well described by one Gaussian per gene. Starting from all samples, each
step scores every open node x every remaining regulator x both candidate splits (low+neutral | high
and low | neutral+high, from :mod:`pgml.grn.splits`) by the likelihood gain of eq. 3.16 summed over
the module's genes (:func:`pgml.grn.likelihood.split_gains`, one vectorised call per node), and makes
the single best split over all open nodes, as the R package does. A regulator is used at most once per
tree. A new child node stays open only if it holds more than ``min_divide_size`` samples and the mean
absolute correlation between its samples (over the module's genes) is below ``cor_cutoff``. Building
stops after ``max_depth`` splits, or when no node is open or no regulator is left.

Departure from R: the stop rule correlates the samples of a node across the module's genes, and R
does so on the raw expression. On real data every gene has its own level (log2 RPKM/TPM of a highly
expressed gene sits far above that of a weakly expressed one), so any two samples correlate almost
perfectly across genes through these offsets alone, every child node is closed, and each tree has a
single split. Here each gene is standardised over the module's samples (centred, unit standard
deviation) before the stop rule, so the rule sees how samples co-vary in the genes' deviations and
does not change when a gene is shifted or rescaled. The split gains (eq. 3.16) are shift-invariant
already and are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pgml.grn.data import standardise_rows
from pgml.grn.likelihood import split_gains
from pgml.grn.splits import HIGH, LOW, split_threshold

#: split kinds: "high" = low+neutral (left) vs high (right); "low" = low (left) vs neutral+high (right)
SPLIT_KINDS = ("low", "high")


@dataclass
class SplitNode:
    """One split: samples of node ``node`` with regulator ``regulator`` > ``threshold`` go right."""

    node: int
    parent: int
    side: int  # 0 = left child of parent, 1 = right child, -1 = root
    regulator: int
    kind: str
    threshold: float
    gain: float
    left: np.ndarray  # sample indices
    right: np.ndarray


@dataclass
class RegulatoryTree:
    """A module's tree: split nodes in the order they were made, and the leaf of every sample."""

    splits: list[SplitNode] = field(default_factory=list)
    leaf_labels: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def regulators(self) -> list[int]:
        return [s.regulator for s in self.splits]

    @property
    def n_leaves(self) -> int:
        return int(len(np.unique(self.leaf_labels))) if self.leaf_labels.size else 0


def sample_correlation(y: np.ndarray) -> float:
    """Mean absolute Pearson correlation between samples (rows of ``y``) over genes.

    GNET2's ``calc_correlation(t(Y[node, ]))``: samples with zero variance over the genes are left
    out, and a node with <= 2 samples or <= 2 genes returns 1 (it will not be split further).
    """
    keep = y.var(axis=1) > 0
    y = y[keep]
    if y.shape[0] <= 2 or y.shape[1] <= 2:
        return 1.0
    c = np.corrcoef(y)
    iu = np.triu_indices(c.shape[0], k=1)
    return float(np.mean(np.abs(c[iu])))


def _candidate_masks(levels: np.ndarray) -> np.ndarray:
    """Left-side masks for both split kinds of every regulator: (2 * p) x n_node booleans.

    Row 2j: low (left) | neutral+high; row 2j+1: low+neutral (left) | high.
    """
    p = levels.shape[0]
    masks = np.empty((2 * p, levels.shape[1]), dtype=bool)
    masks[0::2] = levels == LOW
    masks[1::2] = levels != HIGH
    return masks


def build_tree(reg_expr: np.ndarray, levels: np.ndarray, y: np.ndarray, *, max_depth: int = 3,
               cor_cutoff: float = 0.9, min_divide_size: int = 3, centre_genes: bool = True) -> RegulatoryTree:
    """Fit one module's regulatory tree.

    Args:
        reg_expr: regulators x samples expression (for split thresholds).
        levels: regulators x samples split table (-1, 0, 1) from :func:`pgml.grn.splits.kmeans3_levels`.
        y: samples x genes expression of the module's target genes.
        centre_genes: standardise each gene before the correlation stop rule (see the module
            docstring); ``False`` reproduces R's rule on the raw expression.
    """
    n = y.shape[0]
    p = levels.shape[0]
    remaining = np.ones(p, dtype=bool)
    y_stop = standardise_rows(y.T).T if centre_genes else y  # samples x genes: standardise each gene
    # open nodes: node id -> sample indices; cached gains (2p,) per node
    nodes: dict[int, np.ndarray] = {0: np.arange(n)}
    parent_of: dict[int, tuple[int, int]] = {0: (-1, -1)}
    open_nodes: list[int] = [0] if n > min_divide_size else []
    gains: dict[int, np.ndarray] = {}
    leaf_of_sample = np.zeros(n, dtype=np.int64)  # node id of the leaf holding each sample
    tree = RegulatoryTree()
    next_id = 1
    while len(tree.splits) < max_depth and open_nodes and remaining.any():
        best = (-np.inf, -1, -1)
        for node in open_nodes:
            if node not in gains:
                idx = nodes[node]
                gains[node] = split_gains(y[idx], _candidate_masks(levels[:, idx]))
            g = gains[node].reshape(p, 2)
            # R picks the "high" split when its score >= the "low" one
            choose_high = g[:, 1] >= g[:, 0]
            per_reg = np.where(choose_high, g[:, 1], g[:, 0])
            per_reg = np.where(remaining, per_reg, -np.inf)
            j = int(np.argmax(per_reg))
            if per_reg[j] > best[0]:
                best = (float(per_reg[j]), node, 2 * j + int(choose_high[j]))
        gain, node, cand = best
        if node < 0 or not np.isfinite(gain):
            break
        reg, kind_idx = divmod(cand, 2)
        idx = nodes[node]
        go_left = levels[reg, idx] == LOW if kind_idx == 0 else levels[reg, idx] != HIGH
        left, right = idx[go_left], idx[~go_left]
        all_right = levels[reg] >= 0 if kind_idx == 0 else levels[reg] == HIGH
        threshold = split_threshold(reg_expr[reg], all_right)
        tree.splits.append(SplitNode(node=node, parent=parent_of[node][0], side=parent_of[node][1],
                                     regulator=int(reg), kind=SPLIT_KINDS[kind_idx], threshold=threshold,
                                     gain=gain, left=left, right=right))
        remaining[reg] = False
        open_nodes.remove(node)
        for side, child in ((0, left), (1, right)):
            cid = next_id
            next_id += 1
            nodes[cid] = child
            parent_of[cid] = (node, side)
            leaf_of_sample[child] = cid
            if child.size > min_divide_size and sample_correlation(y_stop[child]) < cor_cutoff:
                open_nodes.append(cid)
    _, tree.leaf_labels = np.unique(leaf_of_sample, return_inverse=True)
    tree.leaf_labels = tree.leaf_labels.astype(np.int64)
    return tree
