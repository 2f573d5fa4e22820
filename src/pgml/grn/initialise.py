"""Initial gene groups: ``boosting`` (xgboost importances) or ``kmeans`` (expression), section 3.2.1.

``boosting``: for every target gene, a gradient-boosted regression (xgboost; max_depth 3, eta 0.1, two
rounds, as GNET2's ``assign_first_cluster``) of the gene on all regulators; each regulator's fractional
total gain (its summed split gain / the model's total gain, R's ``xgb.importance()$Gain``) fills one
row of a genes x regulators importance matrix, which k-means then clusters. Genes whose model never
splits get a zero row. All targets share one xgboost model with one tree per target per round
(``multi_strategy="one_output_per_tree"``): the trees are the same as one model per gene, but the
regulator matrix is quantised once and the per-call overhead is paid once per chunk of genes.

``kmeans``: k-means on the genes' expression, each gene centred and scaled to unit standard deviation
(R clusters the raw values, which on data with per-gene levels, such as log2 RPKM, groups genes by
their level rather than by how they vary; :mod:`pgml.grn.gnet` passes the standardised rows).

The number of groups k is chosen among 2..``init_group_num`` by the highest within-group expression
correlation (the mean over genes of the mean absolute Pearson correlation within the gene's group,
R's ``get_correlation_list``), as [dissertation] describes.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from tqdm.auto import tqdm

from pgml.grn.data import standardise_rows
from pgml.runtime import n_threads

log = logging.getLogger(__name__)

#: genes per within-group correlation estimate (groups larger than this are subsampled, seeded)
_COR_SAMPLE = 600


def importance_matrix(reg_expr: np.ndarray, target_expr: np.ndarray, *, max_depth: int = 3, eta: float = 0.1,
                      n_rounds: int = 2, seed: int = 0, chunk: int = 2000, max_bin: int | None = None,
                      progress: bool = True) -> np.ndarray:
    """Fractional total gain of each regulator in each target gene's xgboost model (genes x regulators).

    ``reg_expr`` is regulators x samples, ``target_expr`` targets x samples. Row g sums to 1 unless
    gene g's model has no split (then it is all zeros). Regulators are quantised into at most
    ``max_bin`` bins (xgboost ``hist``; default 64 for up to 64 samples, else 32). With no more samples
    than bins every value has its own bin and the trees are those of the exact greedy algorithm R's
    xgboost uses on such data; the cost of a tree grows with the bins, so larger studies use 32
    quantile bins (the importances only seed the k-means initialisation).

    xgboost works in float32 and ignores splits whose loss reduction is below an absolute 1e-6, so
    every regulator and every target is centred and scaled to unit standard deviation first: the
    trees of squared-error boosting are equivariant under such affine maps (splits on a regulator
    only depend on the order of its values, gains of a target scale by its variance), so the
    fractional gains do not change, while any global scale of the data (1e-10 or 1e38) fits float32
    and clears the epsilon.
    """
    import xgboost as xgb

    x = np.ascontiguousarray(standardise_rows(reg_expr).T, dtype=np.float32)
    target_expr = standardise_rows(target_expr)
    n_targets, p = target_expr.shape[0], reg_expr.shape[0]
    if max_bin is None:
        max_bin = 64 if x.shape[0] <= 64 else 32
    out = np.zeros((n_targets, p), dtype=np.float64)
    # one xgboost thread per model and models in parallel threads (xgboost releases the GIL): OpenMP
    # threads inside tiny models mostly wait on each other
    params = {
        "max_depth": max_depth, "eta": eta, "objective": "reg:squarederror", "tree_method": "hist",
        "multi_strategy": "one_output_per_tree", "nthread": 1, "seed": seed,
        "max_bin": max_bin,
    }
    workers = n_threads()
    size = max(1, min(chunk, -(-n_targets // workers)))
    starts = list(range(0, n_targets, size))

    def fit_chunk(start: int) -> None:
        stop = min(start + size, n_targets)
        y = np.ascontiguousarray(target_expr[start:stop].T, dtype=np.float32)
        dtrain = xgb.QuantileDMatrix(x, label=y, max_bin=max_bin, nthread=1)
        booster = xgb.train(params, dtrain, num_boost_round=n_rounds)
        model = json.loads(booster.save_raw("json"))["learner"]["gradient_booster"]["model"]
        for tree, target in zip(model["trees"], model["tree_info"], strict=True):
            left = np.asarray(tree["left_children"])
            split = left != -1
            if not split.any():
                continue
            feats = np.asarray(tree["split_indices"])[split]
            gain = np.asarray(tree["loss_changes"], dtype=np.float64)[split]
            np.add.at(out[start + int(target)], feats, gain)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        jobs = [pool.submit(fit_chunk, s) for s in starts]
        for job in tqdm(jobs, desc="xgboost importances", unit="chunk",
                        disable=not progress or len(starts) < 4):
            job.result()
    totals = out.sum(axis=1, keepdims=True)
    np.divide(out, totals, out=out, where=totals > 0)
    return out


def regulator_importances(reg_expr: np.ndarray, *, max_depth: int = 3, seed: int = 0) -> np.ndarray:
    """Importances of the regulators for each regulator as a target (regulators x regulators).

    Row j: :func:`importance_matrix` of regulator j on all other regulators (the diagonal is 0).
    """
    p = reg_expr.shape[0]
    out = np.zeros((p, p))
    if p < 2:
        return out

    def fit_one(j: int) -> None:
        others = np.delete(np.arange(p), j)
        out[j, others] = importance_matrix(reg_expr[others], reg_expr[j:j + 1], max_depth=max_depth, seed=seed,
                                           progress=False)[0]

    # one model per regulator (its own feature set); models in parallel threads, as importance_matrix
    with ThreadPoolExecutor(max_workers=n_threads()) as pool:
        for job in [pool.submit(fit_one, j) for j in range(p)]:
            job.result()
    return out


def within_group_correlation(expr: np.ndarray, labels: np.ndarray, seed: int = 0) -> float:
    """Mean over genes of the mean absolute correlation within their group (R ``get_correlation_list``).

    Groups of one gene count 0; groups of <= 2 genes or with <= 2 informative samples count 1 (as in R).
    Groups larger than 600 genes are estimated on a seeded subsample of 600 (180,000 pairs).
    """
    rng = np.random.default_rng(seed)
    total = 0.0
    for lab in np.unique(labels):
        idx = np.flatnonzero(labels == lab)
        if idx.size == 1:
            continue
        sub = idx if idx.size <= _COR_SAMPLE else rng.choice(idx, _COR_SAMPLE, replace=False)
        x = expr[sub][:, expr[sub].var(axis=0) > 0]  # R drops zero-variance columns (samples)
        if sub.size <= 2 or x.shape[1] <= 2:
            value = 1.0
        else:
            c = np.corrcoef(x)
            c = np.nan_to_num(c)
            iu = np.triu_indices(c.shape[0], k=1)
            value = float(np.mean(np.abs(c[iu])))
        total += value * idx.size
    return total / len(labels)


def choose_initial_groups(features: np.ndarray, expr: np.ndarray, init_group_num: int,
                          seed: int = 0) -> np.ndarray:
    """k-means on ``features`` (genes x f) for k = 2..init_group_num; keep the k with the most
    correlated groups (:func:`within_group_correlation` on ``expr``). Returns labels 0..k-1."""
    from sklearn.cluster import KMeans

    n = features.shape[0]
    if n < 3:
        return np.zeros(n, dtype=np.int64)
    best_score, best_labels = -np.inf, np.zeros(n, dtype=np.int64)
    for k in range(2, max(2, min(init_group_num, n - 1)) + 1):
        # one start and at most 10 iterations, as R's kmeans() (iter.max = 10)
        km = KMeans(n_clusters=k, n_init=1, max_iter=10, random_state=seed)
        labels = km.fit_predict(features).astype(np.int64)
        score = within_group_correlation(expr, labels, seed=seed)
        log.debug("initial groups: k=%d, within-group correlation %.4f", k, score)
        if score > best_score + 1e-12:
            best_score, best_labels = score, labels
    return best_labels
