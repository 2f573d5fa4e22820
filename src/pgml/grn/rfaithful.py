"""The switches of ``mode: r_faithful``: where R GNET2 1.5.5 (``build_module.R``) differs from the port.

Each function reproduces one behaviour of the R package that ``mode: port`` replaces with its own
choice; :func:`pgml.grn.gnet.fit_gnet` calls them when ``GnetParams.mode == "r_faithful"``.

(a) Initial groups (``assign_first_cluster``): R runs k-means for every k in 2..``init_group_num``
    and scores each partition by its within-group correlation, but then keeps the partition of the
    *last* run (k = ``init_group_num``, at most genes - 1) and, treating the ranks of the k values
    as cluster labels (``groups_keep <- o[seq_len(max(kn, max_group))]`` holds 1..k-1), sends
    cluster 0 to -1 (no group). :func:`initial_groups`. The port keeps the best-scoring k instead.
(b) Regulator levels: both modes use the exact 1-D k-means of :mod:`pgml.grn.splits` (never worse
    than R's random-start ``kmeans``).
(c) Regulator-regulator edges (``extract_edges``): the module term 2|q_k| goes to one direction of a
    regulator pair only, the one listed first by igraph, i.e. from the regulator that appears first
    in the edge list (modules in order, regulators in tree order), and the diagonal keeps sum_k |q_k|.
    :func:`pgml.grn.edges.edge_scores` with ``r_faithful=True``. The port puts 2|q_k| in both
    directions and zeroes the diagonal.
(d) Reassignment (``assign_gene`` over ``reg_group_table``): the table has one row per group label
    (max label + 1), trees fill the first rows in the order their groups first appear, and the
    rows left over (groups too small, or whose tree was dropped) are all -1: a one-leaf grouping of
    every sample, which genes may still choose. A gene constant within a leaf of size > 1 gets
    ``dnorm(..., sd = 0, log = TRUE) = +Inf`` there (``calc_likelihood_vec``), so it joins the
    first such module; the port counts such a leaf as 0 (as ``calc_likelihood_score`` does for
    splits). :func:`assign_genes`.
    Force split (``run_gnet``): the largest group's genes in the sub-clustering's dropped cluster 0
    and genes of groups of <= ``min_group_size`` genes are not removed: R's two ``as.factor``
    relabellings turn them into ordinary groups (label 0, or 0 and 1). :func:`force_split`.
    One-split trees: ``assign_regul`` drops them (``group_table_i[...]`` on a one-row matrix gives
    a vector without ``ncol``): :func:`keeps_tree`.
"""

from __future__ import annotations

import numpy as np

from pgml.grn.likelihood import gene_module_loglik_and_constant
from pgml.grn.tree import RegulatoryTree


def initial_groups(features: np.ndarray, init_group_num: int, seed: int = 0) -> np.ndarray:
    """(a) R's ``assign_first_cluster``: k-means with k = min(init_group_num, genes - 1), cluster 0 -> -1.

    One start and at most 10 iterations, as R's ``kmeans()``; labels 1..k-1 are kept as they are.
    """
    from sklearn.cluster import KMeans

    n = features.shape[0]
    k = min(init_group_num, n - 1)
    if k < 2:  # R: kmeans(..., centers = 1) (or none): every gene lands in cluster 0, which is dropped
        return np.full(n, -1, dtype=np.int64)
    labels = KMeans(n_clusters=k, n_init=1, max_iter=10, random_state=seed).fit_predict(features)
    labels = labels.astype(np.int64)
    labels[labels == 0] = -1
    return labels


def keeps_tree(tree: RegulatoryTree) -> bool:
    """(d) R keeps a module's tree only if it has at least two splits."""
    return len(tree.splits) >= 2


def assign_genes(target_expr: np.ndarray, trees: list[RegulatoryTree], n_rows: int) -> np.ndarray:
    """(d) R's ``assign_gene``: argmax over ``n_rows`` groupings, the trees first, then one-leaf rows.

    A gene constant within some leaf (of > 1 samples) of a module scores +inf there. Ties (also
    between infinities) go to the first row, as ``which.max``.
    """
    leaves = [t.leaf_labels for t in trees]
    n = target_expr.shape[1]
    leaves += [np.zeros(n, dtype=np.int64)] * max(0, n_rows - len(trees))
    ll, constant = gene_module_loglik_and_constant(target_expr, leaves)
    ll[constant] = np.inf
    return ll.argmax(axis=1).astype(np.int64)


def force_split(labels: np.ndarray, sub_labels_of, force: float, min_group_size: int) -> np.ndarray:
    """(d) R's force split in ``run_gnet``, step by step.

    ``labels`` are ``assign_gene``'s labels (>= 0); ``sub_labels_of(idx)`` returns the
    :func:`initial_groups` labels (-1 for the dropped cluster) of the genes ``idx``.
    """
    values, counts = np.unique(labels, return_counts=True)
    if values.size == 0 or counts.max() <= round(len(labels) * force):
        return labels
    big = values[counts.argmax()]  # which.max(table(...)): the lowest label among ties
    top = labels.max()
    idx = np.flatnonzero(labels == big)
    sub = np.asarray(sub_labels_of(idx), dtype=np.int64).copy()
    sub[sub == -1] = -1 - top
    out = labels.copy()
    out[idx] = sub + top  # the dropped cluster becomes -1, the others top+1..
    out = np.unique(out, return_inverse=True)[1] + 1  # as.numeric(as.factor(.)): 1..L
    values, counts = np.unique(out, return_counts=True)
    out[np.isin(out, values[counts <= min_group_size])] = -1
    return np.unique(out, return_inverse=True)[1].astype(np.int64)  # as.numeric(as.factor(.)) - 1


def first_appearance(labels: np.ndarray) -> list[int]:
    """Group labels (>= 0) in order of first appearance, as R's ``unique()``."""
    _, first = np.unique(labels, return_index=True)
    seen = labels[np.sort(first)]
    return [int(g) for g in seen if g >= 0]
