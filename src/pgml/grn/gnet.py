"""GNET2's main loop ([dissertation] section 3.2, Bioconductor GNET2 1.5.5 ``gnet()`` / ``run_gnet()``).

1. Initial groups of target genes (:mod:`pgml.grn.initialise`, ``boosting`` or ``kmeans``): the best
   k in 2..``init_group_num``, or in 2..(genes / ``init_group_size``) when that is set (the chapter's
   average group size is 25 genes); re-splitting a large group (c.) uses its own size.
2. Repeat up to ``max_iter`` times:
   a. fit one regulatory tree per group of at least ``min_group_size`` genes (:mod:`pgml.grn.tree`);
   b. re-assign every target gene to the module whose tree leaves give it the highest Gaussian
      likelihood (eq. 3.17, :func:`pgml.grn.likelihood.gene_module_loglik`; genes x modules at once);
   c. if the largest module holds more than ``force_split`` of all genes, split it again with the
      initialisation method (GNET2's ``force_split``), and drop groups of <= ``min_group_size`` genes;
   d. stop when the assignment is unchanged between two consecutive iterations (converged).
   Each iteration's history entry holds the adjusted Rand index between the previous and the new
   assignment (``ari``) and the genes that changed module (``changed``), counted after matching the
   modules of the two iterations one to one by their overlap (:func:`pgml.metrics.matched_changes`),
   so that a module that only got a new number does not count as moved genes.
3. Fit the final trees, re-assign the genes once more (as R does), keep modules of at least
   ``min_group_size`` genes, and score them (eq. 3.18) and their edges (eq. 3.19).

Departure from R in both modes, for real data where every gene has its own level (log2 RPKM/TPM): ``kmeans``
clusters each gene's expression centred and scaled to unit standard deviation, not the raw values
(R), which group genes by their level; the trees' stop rule standardises genes too
(:mod:`pgml.grn.tree`). Modules then do not change when a gene is shifted by a constant.

The boosting importances depend only on each gene, so they are computed once and reused when the
largest group is re-split (R recomputes them).

Scale: the fit works on the expression divided by one number, the median standard deviation of the
target genes (and the regulators by theirs), so multiplying the whole matrix by a constant gives the
same modules and trees. Without it the result would depend on the units: a leaf of one sample adds
nothing to the likelihood (as in R) while the other leaves shift by log(scale), so the best split
and the best module can change with the scale. Split thresholds stay in the input's units; split
gains are those of the scaled data.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace

import numpy as np
from tqdm.auto import tqdm

from pgml.grn import rfaithful
from pgml.grn.data import Dataset, standardise_rows
from pgml.grn.edges import module_quality
from pgml.grn.initialise import choose_initial_groups, importance_matrix
from pgml.grn.likelihood import gene_module_loglik
from pgml.grn.params import INIT_METHODS, GnetParams  # noqa: F401 - re-exported
from pgml.grn.splits import kmeans3_levels
from pgml.grn.tree import RegulatoryTree, build_tree
from pgml.metrics import adjusted_rand_index, matched_changes
from pgml.runtime import n_threads

log = logging.getLogger(__name__)

@dataclass
class Module:
    """One regulatory module: target genes, its tree, and its quality score (eq. 3.18)."""

    targets: list[int]
    tree: RegulatoryTree
    score: float

    @property
    def regulators(self) -> list[int]:
        return self.tree.regulators


@dataclass
class GnetFit:
    """The outcome of :func:`fit_gnet` (indices refer to ``dataset.regulators`` / ``dataset.targets``)."""

    dataset: Dataset
    params: GnetParams
    modules: list[Module]
    assignment: np.ndarray  # module index per target gene, -1 = in no module
    levels: np.ndarray  # regulators x samples split table
    history: list[dict] = field(default_factory=list)
    converged: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    consensus: object | None = None  # pgml.grn.consensus.Consensus when run with restarts > 1
    importances: np.ndarray | None = None  # targets x regulators xgboost importances (boosting init)

    def params_dict(self) -> dict:
        return asdict(self.params)


def canonical(labels: np.ndarray) -> np.ndarray:
    """Relabel groups 0..k-1 in order of first appearance (-1 stays -1), to compare partitions."""
    out = np.full(labels.shape, -1, dtype=np.int64)
    mapping: dict[int, int] = {}
    for i, lab in enumerate(labels.tolist()):
        if lab == -1:
            continue
        if lab not in mapping:
            mapping[lab] = len(mapping)
        out[i] = mapping[lab]
    return out


def fit_trees(dataset: Dataset, labels: np.ndarray, levels: np.ndarray, params: GnetParams,
              progress: bool = False, counts: dict[str, int] | None = None,
              cache: dict[bytes, RegulatoryTree] | None = None) -> list[tuple[int, RegulatoryTree]]:
    """One tree per group with >= min_group_size genes; returns (group label, tree) pairs.

    Trees without any split are left out; ``r_faithful`` also leaves out one-split trees and takes
    the groups in order of first appearance (R's ``assign_regul``), ``port`` in label order.
    ``counts`` (when given) adds the trees built (``built``) and those with a single split (``single``).

    A tree depends only on its group's genes (in index order), the regulators and their levels, so
    ``cache`` (when given) maps each group's gene indices to its tree and a group that is unchanged
    since an earlier call reuses it. The trees of different groups are independent and are built in
    :func:`pgml.runtime.n_threads` threads, largest group first, with single-threaded BLAS when
    more than one is built (numpy releases the GIL in its matrix products and array arithmetic);
    the result is in group order whatever the threads' timing.
    """
    from threadpoolctl import threadpool_limits

    r_faithful = params.mode == "r_faithful"
    order = rfaithful.first_appearance(labels) if r_faithful else [int(g) for g in np.unique(labels) if g >= 0]
    members = {g: np.flatnonzero(labels == g) for g in order}
    groups = [g for g in order if members[g].size >= params.min_group_size]
    cache = {} if cache is None else cache
    keys = {g: members[g].tobytes() for g in groups}
    todo = sorted({keys[g]: g for g in groups if keys[g] not in cache}.values(), key=lambda g: -members[g].size)

    def build(g: int) -> RegulatoryTree:
        y = dataset.target_expr[members[g]].T
        return build_tree(dataset.regulator_expr, levels, y, max_depth=params.max_depth,
                          cor_cutoff=params.cor_cutoff, min_divide_size=params.min_divide_size)

    workers = max(1, min(n_threads(), len(todo)))
    with threadpool_limits(limits=1 if workers > 1 else None), ThreadPoolExecutor(max_workers=workers) as pool:
        jobs = {g: pool.submit(build, g) for g in todo}
        for g in tqdm(todo, desc="trees", unit="module", disable=not progress, leave=False):
            cache[keys[g]] = jobs[g].result()
    out = []
    for g in groups:
        tree = cache[keys[g]]
        if counts is not None:
            counts["built"] = counts.get("built", 0) + 1
            counts["single"] = counts.get("single", 0) + int(len(tree.splits) == 1)
        if rfaithful.keeps_tree(tree) if r_faithful else tree.splits:
            out.append((int(g), tree))
    return out


def assign_genes(target_expr: np.ndarray, trees: list[RegulatoryTree]) -> np.ndarray:
    """Eq. 3.17: each gene goes to the tree (module) under which its likelihood is highest."""
    ll = gene_module_loglik(target_expr, [t.leaf_labels for t in trees])
    return ll.argmax(axis=1).astype(np.int64)


def _force_split(labels: np.ndarray, features: np.ndarray, expr: np.ndarray, params: GnetParams) -> np.ndarray:
    """Split the largest group again if it holds more than ``force_split`` of the genes (GNET2).

    ``r_faithful``: R's relabelling (:func:`pgml.grn.rfaithful.force_split`); ``port``: the new groups
    join the others, groups of <= ``min_group_size`` genes go to -1, and labels are made canonical.
    """
    if params.mode == "r_faithful":
        return rfaithful.force_split(
            labels, lambda idx: rfaithful.initial_groups(features[idx], params.group_num(idx.size), params.seed),
            params.force_split, params.min_group_size)
    values, counts = np.unique(labels[labels >= 0], return_counts=True)
    if values.size == 0 or counts.max() <= round(len(labels) * params.force_split):
        return labels
    big = values[counts.argmax()]
    idx = np.flatnonzero(labels == big)
    sub = choose_initial_groups(features[idx], expr[idx], params.group_num(idx.size), seed=params.seed)
    out = labels.copy()
    top = labels.max() + 1
    out[idx] = sub + top
    values, counts = np.unique(out[out >= 0], return_counts=True)
    out[np.isin(out, values[counts <= params.min_group_size])] = -1
    return canonical(out)


def fit_gnet(dataset: Dataset, params: GnetParams | None = None, progress: bool = True) -> GnetFit:
    """Run GNET2 on ``dataset`` (see the module docstring for the steps).

    Small problems run BLAS/OpenMP single-threaded: their matrix products are too small for threads to
    pay, and on a busy machine waiting threads cost several times the work.
    """
    from threadpoolctl import threadpool_limits

    params = params or GnetParams()
    small = dataset.target_expr.size * max(1, dataset.regulator_expr.shape[0]) < 5e8
    with threadpool_limits(limits=1 if small else None):
        return _fit_gnet(dataset, params, progress)


def expression_scale(expr: np.ndarray) -> float:
    """The median over rows of the standard deviation (1 when every row is constant)."""
    sd = np.asarray(expr, dtype=np.float64).std(axis=1, ddof=1) if expr.shape[1] > 1 else np.zeros(1)
    sd = sd[np.isfinite(sd) & (sd > 0)]
    return float(np.median(sd)) if sd.size else 1.0


def _fit_gnet(dataset: Dataset, params: GnetParams, progress: bool) -> GnetFit:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    original = dataset
    # the fit sees unit-scale targets (see the module docstring); thresholds use the input's regulators
    dataset = replace(dataset, target_expr=dataset.target_expr / expression_scale(dataset.target_expr))
    reg_scaled = dataset.regulator_expr / expression_scale(dataset.regulator_expr)
    x = dataset.target_expr
    if params.init == "boosting":
        features = importance_matrix(reg_scaled, x, max_depth=params.max_depth,
                                     seed=params.seed, progress=progress)
    else:  # k-means on each gene standardised, not on its level (see the module docstring)
        features = standardise_rows(x)
    importances = features if params.init == "boosting" else None
    timings["importance"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    r_faithful = params.mode == "r_faithful"
    if r_faithful:
        labels = rfaithful.initial_groups(features, params.group_num(len(x)), seed=params.seed)
    else:
        labels = canonical(choose_initial_groups(features, x, params.group_num(len(x)), seed=params.seed))
    levels = kmeans3_levels(reg_scaled)
    timings["initial_groups"] = time.perf_counter() - t1
    log.info("initial groups (%s, %s, %s%d): %d", params.init, params.mode,
             "k = " if r_faithful else "best of 2..", params.group_num(len(x)),
             len(np.unique(labels[labels >= 0])))
    counts: dict[str, int] = {}  # trees of the final fit
    history: list[dict] = []
    converged = False
    t2 = time.perf_counter()
    trees: dict[bytes, RegulatoryTree] = {}  # group's gene indices -> its tree, shared by every fit_trees call
    bar = tqdm(range(1, params.max_iter + 1), desc="GNET2 iterations", unit="it", disable=not progress)
    for it in bar:
        fitted = fit_trees(dataset, labels, levels, params, cache=trees)
        if not fitted:
            log.warning("iteration %d: no group could be split%s; stopping", it,
                        " into a tree of >= 2 splits (R drops one-split trees)" if r_faithful else "")
            break
        if r_faithful:
            new = rfaithful.assign_genes(x, [t for _, t in fitted], n_rows=int(labels.max()) + 1)
        else:
            new = canonical(assign_genes(x, [t for _, t in fitted]))
        new = _force_split(new, features, x, params)
        changed = matched_changes(labels, new)
        ari = adjusted_rand_index(labels, new)
        same = np.array_equal(new, labels)
        history.append({"iteration": it, "modules": len(fitted), "changed": changed, "ari": ari})
        log.info("iteration %d: %d modules, %d genes changed module, ARI with the previous %.3f",
                 it, len(fitted), changed, ari)
        bar.set_postfix(modules=len(fitted), changed=changed)
        if same:
            converged = True
            log.info("converged after %d iterations", it)
            break
        labels = new
    timings["iterations"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    fitted = fit_trees(dataset, labels, levels, params, counts=counts, cache=trees)
    if r_faithful and counts.get("built", 0) and counts["single"] == counts["built"]:
        log.warning("all %d final trees have a single split and R drops such trees, so no module is "
                    "left: the samples of each node correlate above cor_cutoff %.2f (or max_depth is 1); "
                    "check the data (e.g. batch effects) or raise cor_cutoff", counts["built"], params.cor_cutoff)
    if not fitted:
        return GnetFit(original, params, [], np.full(len(x), -1), levels, history, converged, timings,
                       importances=importances)
    if r_faithful:
        final = rfaithful.assign_genes(x, [t for _, t in fitted], n_rows=max(int(labels.max()) + 1, len(fitted)))
    else:
        final = assign_genes(x, [t for _, t in fitted])
    modules: list[Module] = []
    assignment = np.full(len(x), -1, dtype=np.int64)
    for k, (_, tree) in enumerate(fitted):
        members = np.flatnonzero(final == k)
        if members.size < params.min_group_size:
            continue
        assignment[members] = len(modules)
        modules.append(Module(targets=members.tolist(), tree=tree, score=module_quality(x[members])))
    if modules and params.max_depth > 1 and all(len(m.tree.splits) == 1 for m in modules):
        log.warning("every module's tree has a single split (max_depth %d): the samples of each node "
                    "correlate above cor_cutoff %.2f; check the data (e.g. batch effects) or raise cor_cutoff",
                    params.max_depth, params.cor_cutoff)
    timings["final"] = time.perf_counter() - t3
    timings["total"] = time.perf_counter() - t0
    return GnetFit(original, params, modules, assignment, levels, history, converged, timings,
                   importances=importances)
