"""Module quality (eq. 3.18) and regulator -> target edge scores (eq. 3.19), as GNET2's ``extract_edges``.

Module quality q_k (eq. 3.18, ``group_score`` in R) is the mean Pearson correlation over all pairs of
the module's target genes. With z_g the gene's expression centred and scaled to unit norm, the sum of
all pairwise correlations is (||sum_g z_g||^2 - G) / 2, so q_k costs O(G n) instead of O(G^2 n).

Edge score (eq. 3.19): for regulator r and gene t,

    s(r, t) = sum_{k : r in R_k, t in T_k or R_k} c_rt |q_k|  -  2 log(1 - rho_rt^2),

where R_k are module k's regulators (its tree's split regulators), T_k its target genes, c_rt = 1 for a
target and 2 for another regulator of the same module, and rho is the Spearman correlation (rho^2
capped at 1 - 1e-6). As in the R package, the correlation term is added for every regulator used by
some module and every gene in some module; the other pairs are not scored. Regulator pairs
(``r_faithful=True``, R's ``extract_edges``): R sums |q_k| over an undirected edge list and reads it
back in igraph's order, so 2|q_k| lands in one direction only, from the regulator that appears first
(modules in order, regulators in tree order) to the later one, and the diagonal (rho set to 0) holds
sum_k |q_k| over the modules of the regulator. The port (``r_faithful=False``) puts 2|q_k| in both
directions and leaves the diagonal out. The chapter prints the correlation term as
max(0, ln(1 - rho^2)), which is always 0 (1 - rho^2 <= 1); the code follows R's -2 ln(1 - rho^2).

``gnet2_rank`` (an edge score of this port, not the R package's; :func:`rank_edge_scores`): eq. 3.19
applied to every regulator x gene pair (the module term is 0 for a regulator in no tree, so such pairs
keep their correlation term), rank-combined with the boosting initialisation's xgboost importances
(section 3.2.1; regulators as targets of the other regulators too): each score is turned into its
average rank among all candidate pairs scaled to (0, 1], and the edge score is the mean of the two.
Eq. 3.19 alone ranks by module membership and |Spearman|; the importances add which regulator
explains each gene given the others, as GENIE3 [genie3] does with many more trees.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata


def module_quality(expr: np.ndarray) -> float:
    """Mean pairwise Pearson correlation of the rows of ``expr`` (eq. 3.18); NaN for < 2 rows."""
    g = expr.shape[0]
    if g < 2:
        return float("nan")
    z = expr - expr.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(z, axis=1, keepdims=True)
    ok = norms[:, 0] > 0
    z = np.where(ok[:, None], z / np.where(norms > 0, norms, 1.0), 0.0)
    s = z.sum(axis=0)
    pair_sum = (float(s @ s) - float(ok.sum())) / 2.0
    return pair_sum / (g * (g - 1) / 2.0)


def spearman_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman correlation between the rows of ``a`` and the rows of ``b`` (ties averaged)."""
    def _std(x: np.ndarray) -> np.ndarray:
        r = rankdata(x, axis=1)
        r = r - r.mean(axis=1, keepdims=True)
        n = np.linalg.norm(r, axis=1, keepdims=True)
        return np.divide(r, n, out=np.zeros_like(r), where=n > 0)
    return _std(a) @ _std(b).T


def edge_scores(reg_expr: np.ndarray, gene_expr: np.ndarray, modules: list[tuple[list[int], list[int], float]],
                *, all_pairs: bool = False, r_faithful: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Edge score matrix (eq. 3.19): regulators x (regulators + targets), and a boolean 'scored' mask.

    ``gene_expr`` holds the target genes (not the regulators); in the returned columns the
    regulators come first, then the targets, as in R's ``extract_edges`` matrix. ``modules`` holds
    (regulator indices, target indices, quality q_k) per module. ``all_pairs`` scores every pair
    but a regulator with itself (``gnet2_rank``), not only those R scores. ``r_faithful`` gives R's
    regulator columns (one direction per pair, the diagonal kept; see the module docstring).
    """
    p = reg_expr.shape[0]
    n_cols = p + gene_expr.shape[0]
    module_term = np.zeros((p, n_cols))
    used_regs = np.zeros(p, dtype=bool)
    in_module = np.zeros(n_cols, dtype=bool)
    appearance: dict[int, int] = {}  # regulator -> position of first appearance (R's igraph vertex order)
    for regs, _, _ in modules:
        for r in regs:
            appearance.setdefault(int(r), len(appearance))
    for regs, targets, q in modules:
        regs = np.unique(np.asarray(regs, dtype=np.int64))
        targets = np.asarray(targets, dtype=np.int64) + p
        if regs.size == 0:
            continue
        used_regs[regs] = True
        in_module[regs] = True
        in_module[targets] = True
        module_term[np.ix_(regs, targets)] += abs(q)
        if r_faithful:
            first = np.array([appearance[int(r)] for r in regs])
            earlier = first[:, None] < first[None, :]
            module_term[np.ix_(regs, regs)] += np.where(earlier, 2.0 * abs(q), 0.0)
            module_term[regs, regs] += abs(q)
        else:
            module_term[np.ix_(regs, regs)] += 2.0 * abs(q)
    if not r_faithful:
        np.fill_diagonal(module_term[:, :p], 0.0)
    rho = spearman_matrix(reg_expr, np.vstack([reg_expr, gene_expr]))
    rho2 = np.minimum(rho * rho, 1.0 - 1e-6)
    np.fill_diagonal(rho2[:, :p], 0.0)
    scores = module_term - 2.0 * np.log1p(-rho2)
    scored = np.ones_like(module_term, dtype=bool) if all_pairs else used_regs[:, None] & in_module[None, :]
    if not r_faithful or all_pairs:
        scored[np.arange(p), np.arange(p)] = False
    return np.where(scored, scores, 0.0), scored


def normalised_ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks of ``values`` (ties share their mean rank) divided by their number: (0, 1]."""
    values = np.asarray(values, dtype=np.float64)
    return rankdata(values) / max(values.size, 1)


def rank_edge_scores(eq319: np.ndarray, importance: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``gnet2_rank``: mean of the normalised ranks of eq. 3.19 and of the importances over ``valid`` pairs.

    All three are regulators x (regulators + targets); invalid pairs (a regulator with itself) get 0.
    """
    out = np.zeros(eq319.shape)
    out[valid] = 0.5 * (normalised_ranks(eq319[valid]) + normalised_ranks(importance[valid]))
    return out
