"""The network-inference baselines GNET2 is compared with ([dissertation] table 3.1).

Mutual-information networks, as in the R package minet (Meyer et al. 2008), on an MI matrix
estimated from equal-frequency discretised expression (minet's defaults: ``disc="equalfreq"``,
``nbins = sqrt(n_samples)``, ``estimator="mi.empirical"``):

- **CLR** (Faith et al. 2007): z_ij = max(0, (MI_ij - mean_i) / sd_i) with mean_i, sd_i over gene i's
  row; CLR_ij = sqrt(z_ij^2 + z_ji^2).
- **ARACNE** (Margolin et al. 2006): for every triangle (i, j, k) the weakest edge is removed when
  MI_ij < min(MI_ik, MI_kj) - eps (data processing inequality); the others keep their MI.
- **MRNET** (Meyer et al. 2007): for each gene Y, maximum-relevance / minimum-redundancy forward
  selection: first argmax_X MI(X, Y), then argmax_X [MI(X, Y) - mean_{S in selected} MI(X, S)] while
  positive; the edge score is the selection score, symmetrised by the maximum of both directions.

Tree ensemble:

- **GENIE3** (Huynh-Thu et al. 2010): for every target gene, a random forest (scikit-learn) on the
  regulators, with the target scaled to unit variance, ``max_features = sqrt(p)``; the score of
  regulator -> target is the regulator's impurity-decrease importance (un-normalised, as in GENIE3).

Plus the one-line baseline a user would try first: **|Pearson correlation|**.

Why these are written here: minet is an R package, ARACNE-AP a Java tool, and the Python ports
(arboreto for GENIE3) pull in dask/distributed; scikit-learn supplies the trees. Every function returns
a regulators x genes score matrix; :func:`edges_from_matrix` turns it into a ranked edge list.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from pgml.grn.params import BASELINES, GENIE3_TREES

METHODS = BASELINES


def discretize_equalfreq(x: np.ndarray, n_bins: int | None = None) -> np.ndarray:
    """Equal-frequency bins per row of genes x samples ``x`` (ranks // (n / n_bins)), minet style."""
    n = x.shape[1]
    n_bins = n_bins or max(2, int(np.sqrt(n)))
    ranks = np.argsort(np.argsort(x, axis=1, kind="stable"), axis=1, kind="stable")
    return np.minimum((ranks * n_bins) // n, n_bins - 1).astype(np.int64)


def mutual_information_matrix(x: np.ndarray, n_bins: int | None = None) -> np.ndarray:
    """Empirical MI (nats) between all pairs of rows of genes x samples ``x`` after discretisation.

    MI(i, j) = sum_ab p_ab log(p_ab / (p_a p_b)) over the joint bin frequencies; computed for all
    pairs with one-hot matrix products (no loop over pairs).
    """
    d = discretize_equalfreq(x, n_bins)
    g, n = d.shape
    b = int(d.max()) + 1
    onehot = np.zeros((g, b, n))
    onehot[np.arange(g)[:, None], d, np.arange(n)[None, :]] = 1.0
    flat = onehot.reshape(g * b, n)
    marg = onehot.sum(axis=2) / n  # g x b
    mi = np.zeros((g, g))
    step = max(1, int(2e7 // max(1, g * b * b)))
    for start in range(0, g, step):
        stop = min(g, start + step)
        joint = (flat[start * b:stop * b] @ flat.T).reshape(stop - start, b, g, b) / n  # p(i=a, j=c)
        outer = np.einsum("ia,jc->iajc", marg[start:stop], marg)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(joint > 0, joint * np.log(joint / outer), 0.0)
        mi[start:stop] = terms.sum(axis=(1, 3))
    np.fill_diagonal(mi, 0.0)
    return np.maximum((mi + mi.T) / 2.0, 0.0)


def clr(mi: np.ndarray) -> np.ndarray:
    """Context likelihood of relatedness on a symmetric MI matrix (zero diagonal)."""
    mean = mi.mean(axis=1, keepdims=True)
    sd = mi.std(axis=1, keepdims=True)
    z = np.maximum(0.0, np.divide(mi - mean, sd, out=np.zeros_like(mi), where=sd > 0))
    out = np.sqrt(z**2 + z.T**2)
    np.fill_diagonal(out, 0.0)
    return out


def aracne(mi: np.ndarray, eps: float = 0.0) -> np.ndarray:
    """ARACNE's data-processing-inequality pruning of a symmetric MI matrix."""
    g = mi.shape[0]
    remove = np.zeros_like(mi, dtype=bool)
    for k in range(g):
        weaker = mi < np.minimum(mi[:, k][:, None], mi[k, :][None, :]) - eps
        weaker[k, :] = False
        weaker[:, k] = False
        remove |= weaker
    out = np.where(remove, 0.0, mi)
    np.fill_diagonal(out, 0.0)
    return out


def mrnet(mi: np.ndarray) -> np.ndarray:
    """MRNET: mRMR forward selection for every gene, scores symmetrised by the maximum."""
    g = mi.shape[0]
    net = np.zeros_like(mi)
    for y in range(g):
        relevance = mi[:, y].copy()
        relevance[y] = -np.inf
        selected: list[int] = []
        redundancy = np.zeros(g)
        first = int(np.argmax(relevance))
        if relevance[first] <= 0:
            continue
        net[first, y] = relevance[first]
        selected.append(first)
        redundancy += mi[:, first]
        available = np.ones(g, dtype=bool)
        available[[y, first]] = False
        while available.any():
            score = np.where(available, relevance - redundancy / len(selected), -np.inf)
            best = int(np.argmax(score))
            if score[best] <= 0:
                break
            net[best, y] = score[best]
            selected.append(best)
            redundancy += mi[:, best]
            available[best] = False
    return np.maximum(net, net.T)


def genie3(reg_expr: np.ndarray, all_expr: np.ndarray, reg_index: np.ndarray, *, n_trees: int = GENIE3_TREES,
           seed: int = 0, n_jobs: int | None = None, progress: bool = True) -> np.ndarray:
    """GENIE3 scores: regulators x genes (random forest per target gene on the regulators).

    ``reg_index[i]`` is regulator i's row in ``all_expr`` (so that a regulator is not used to
    predict itself), -1 if it is not among the genes.
    """
    from sklearn.ensemble import RandomForestRegressor

    from pgml.runtime import n_threads

    p, g = reg_expr.shape[0], all_expr.shape[0]
    out = np.zeros((p, g))
    x_all = reg_expr.T
    for t in tqdm(range(g), desc="GENIE3", unit="gene", disable=not progress):
        y = all_expr[t]
        sd = y.std()
        if sd == 0:
            continue
        inputs = np.flatnonzero(reg_index != t)
        if inputs.size == 0:
            continue
        forest = RandomForestRegressor(n_estimators=n_trees, max_features="sqrt", random_state=seed + t,
                                       n_jobs=n_jobs or n_threads())
        forest.fit(x_all[:, inputs], y / sd)
        imp = np.mean([e.tree_.compute_feature_importances(normalize=False) for e in forest.estimators_], axis=0)
        out[inputs, t] = imp
    return out


def correlation(reg_expr: np.ndarray, all_expr: np.ndarray) -> np.ndarray:
    """|Pearson correlation| between every regulator and every gene."""
    def _std(x: np.ndarray) -> np.ndarray:
        z = x - x.mean(axis=1, keepdims=True)
        n = np.linalg.norm(z, axis=1, keepdims=True)
        return np.divide(z, n, out=np.zeros_like(z), where=n > 0)
    return np.abs(_std(reg_expr) @ _std(all_expr).T)


def score_network(method: str, expression: pd.DataFrame, regulators: list[str], *, n_trees: int = GENIE3_TREES,
                  seed: int = 0, progress: bool = True) -> np.ndarray:
    """Regulators x genes score matrix of a baseline on a genes x samples frame."""
    genes = list(expression.index)
    index = {g: i for i, g in enumerate(genes)}
    reg_rows = np.array([index[r] for r in regulators])
    x = expression.to_numpy(dtype=np.float64)
    if method in ("clr", "aracne", "mrnet"):
        mi = mutual_information_matrix(x)
        full = {"clr": clr, "aracne": aracne, "mrnet": mrnet}[method](mi)
        return full[reg_rows]
    if method == "genie3":
        return genie3(x[reg_rows], x, reg_rows, n_trees=n_trees, seed=seed, progress=progress)
    if method == "correlation":
        return correlation(x[reg_rows], x)
    raise ValueError(f"unknown baseline {method!r}; choose from {METHODS}")


def edges_from_matrix(scores: np.ndarray, regulators: list[str], genes: list[str]) -> pd.DataFrame:
    """Ranked edge list (regulator, target, score) of all regulator != target pairs, best first."""
    ri, ci = np.meshgrid(np.arange(len(regulators)), np.arange(len(genes)), indexing="ij")
    frame = pd.DataFrame({"regulator": np.asarray(regulators, dtype=object)[ri.ravel()],
                          "target": np.asarray(genes, dtype=object)[ci.ravel()],
                          "score": scores.ravel()})
    frame = frame[frame.regulator != frame.target]
    return frame.sort_values(["score", "regulator", "target"], ascending=[False, True, True],
                             kind="stable").reset_index(drop=True)
