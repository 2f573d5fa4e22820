"""Gaussian log-likelihoods of sample groups ([dissertation] eqs 3.15-3.17), vectorised with numpy.

For one gene with values x_1..x_m in a group of m > 1 samples, with the group mean mu and the sample
standard deviation s (denominator m - 1, R's ``sd``), the log-likelihood (eq. 3.15) is

    L = sum_i log N(x_i | mu, s^2) = -m/2 log(2 pi) - m log s - SS / (2 s^2)
      = -m/2 log(2 pi) - (m - 1)/2 - m/2 log(SS / (m - 1)),       SS = sum_i (x_i - mu)^2,

so it needs only the counts, sums and sums of squares of each group: every split candidate of a tree
is scored for all genes at once with two matrix products (candidate masks @ Y and @ Y^2). A group of
one sample contributes 0, and so does a gene that is constant within the group (GNET2 sets the
infinite density of a zero-sd group to 0). The gain of splitting a node into left and right
(eq. 3.16) is L(left) + L(right) - L(node), summed over the module's genes. A target gene is assigned
to the module whose tree leaves give it the largest summed likelihood (eq. 3.17).
"""

from __future__ import annotations

import numpy as np

LOG_2PI = float(np.log(2.0 * np.pi))
#: A group whose sum of squares is below this fraction of its raw sum of squares is constant.
_REL_TOL = 1e-10
_GENE_CHUNK = 1024


def loglik_from_moments(m: np.ndarray, ss: np.ndarray, raw: np.ndarray | None = None) -> np.ndarray:
    """Eq. 3.15 from group size ``m`` and centred sum of squares ``ss`` (broadcast together).

    ``raw`` (the uncentred sum of squares) sets the tolerance under which ``ss`` counts as zero;
    groups with m <= 1 or ss ~ 0 give 0.
    """
    m = np.asarray(m, dtype=np.float64)
    ss = np.asarray(ss, dtype=np.float64)
    tol = _REL_TOL * (np.abs(raw) if raw is not None else 1.0) + 1e-300
    valid = (m > 1) & (ss > tol)
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = -0.5 * m * LOG_2PI - 0.5 * (m - 1.0) - 0.5 * m * np.log(ss / np.maximum(m - 1.0, 1.0))
    return np.where(valid, ll, 0.0)


def group_loglik(y: np.ndarray, labels: np.ndarray) -> float:
    """Summed log-likelihood of samples x genes ``y`` under the sample grouping ``labels`` (eq. 3.15).

    Samples labelled -1 are left out. Equivalent to GNET2's ``calc_likelihood_score``.
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    total = 0.0
    for lab in np.unique(labels):
        if lab == -1:
            continue
        g = y[labels == lab]
        m = g.shape[0]
        centred = g - g.mean(axis=0)
        total += float(loglik_from_moments(m, (centred**2).sum(axis=0), (g**2).sum(axis=0)).sum())
    return total


def _summed_loglik(m: np.ndarray, ss: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """sum over genes (columns of ``ss``) of eq. 3.15, for each row (group size ``m`` per row).

    sum_g L = n_valid * (-m/2 log 2pi - (m-1)/2 + m/2 log(m-1)) - m/2 sum_{valid g} log SS_g,
    where a gene is valid when SS_g > tol_g (not constant in the group); rows with m <= 1 give 0.
    ``ss`` is overwritten.
    """
    valid = ss > tol
    n_valid = valid.sum(axis=1)
    np.copyto(ss, 1.0, where=~valid)
    np.log(ss, out=ss)
    sum_log = ss.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        const = -0.5 * m * LOG_2PI - 0.5 * (m - 1.0) + 0.5 * m * np.log(np.maximum(m - 1.0, 1.0))
    return np.where(m > 1, n_valid * const - 0.5 * m * sum_log, 0.0)


def split_gains(y: np.ndarray, left: np.ndarray) -> np.ndarray:
    """Likelihood gain (eq. 3.16) of every candidate split of one node, summed over genes.

    ``y`` is node samples x genes, ``left`` a candidates x node-samples boolean matrix (True = the
    sample goes left; the rest go right). Returns one gain per candidate; candidates that leave one
    side empty get -inf. No Python loop over genes or candidates: per chunk of genes, one matrix
    product gives every candidate's left sums and sums of squares (the right side's follow by
    subtraction from the node totals), and the per-gene logs are summed in place.
    """
    y = np.asarray(y, dtype=np.float64)
    n, q = y.shape
    masks = np.asarray(left, dtype=np.float64)
    m_left = masks.sum(axis=1)
    m_right = n - m_left
    inv_left = (1.0 / np.maximum(m_left, 1.0))[:, None]
    inv_right = (1.0 / np.maximum(m_right, 1.0))[:, None]
    gains = np.zeros(masks.shape[0])
    for start in range(0, q, _GENE_CHUNK):
        yc = y[:, start:start + _GENE_CHUNK]
        k = yc.shape[1]
        both = np.empty((n, 2 * k))
        np.subtract(yc, yc.mean(axis=0), out=both[:, :k])
        yc = both[:, :k]
        sq = np.multiply(yc, yc, out=both[:, k:])
        tot2 = sq.sum(axis=0)
        tol = _REL_TOL * tot2[None, :] + 1e-300
        sums = masks @ both  # one product: left sums | left sums of squares
        s1 = sums[:, :k]  # left sums (right sums are -s1: the node is centred)
        s2 = sums[:, k:]  # left sums of squares
        np.multiply(s1, s1, out=s1)  # s1^2, shared by both sides
        ss_right = tot2[None, :] - s2
        ss_right -= s1 * inv_right
        s1 *= inv_left
        s2 -= s1  # ss_left
        ll_node = loglik_from_moments(float(n), tot2, tot2).sum()
        gains += (_summed_loglik(m_left, s2, tol) + _summed_loglik(m_right, ss_right, tol) - ll_node)
    gains[(m_left == 0) | (m_right == 0)] = -np.inf
    return gains


def gene_module_loglik(x: np.ndarray, leaf_labels: list[np.ndarray] | np.ndarray) -> np.ndarray:
    """Log-likelihood of each gene under each module's leaf grouping of the samples (eq. 3.17).

    ``x`` is genes x samples; ``leaf_labels`` holds one length-n vector of leaf IDs per module.
    Returns genes x modules; the assignment is the argmax over modules.
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros((x.shape[0], len(leaf_labels)))
    for k, m, ss, raw in _leaf_moments(x, leaf_labels):
        out[:, k] += loglik_from_moments(m, ss, raw)
    return out


def _leaf_moments(x: np.ndarray, leaf_labels: list[np.ndarray] | np.ndarray):  # noqa: ANN202
    """Per module k and leaf of more than one sample: ``(k, m, ss, raw)`` with the leaf's size m and,
    per gene, the sum of squared deviations ss and the raw sum of squares of the gene-centred values
    (the likelihood is shift invariant; centring avoids cancellation).

    Every leaf of every module is one column of a samples x leaves 0/1 matrix (a leaf that several
    modules share, such as R's one-leaf rows, is one column), so all genes' sums and sums of squares
    come from two matrix products rather than one copy of the genes' values per leaf.
    """
    x = x - x.mean(axis=1, keepdims=True)
    column: dict[bytes, int] = {}
    members: list[np.ndarray] = []
    leaves: list[tuple[int, int, int]] = []  # (module, leaf size, column)
    for k, labels in enumerate(leaf_labels):
        labels = np.asarray(labels)
        for lab in np.unique(labels):
            idx = labels == lab
            m = int(idx.sum())
            if m < 2:
                continue
            key = np.packbits(idx).tobytes()
            if key not in column:
                column[key] = len(members)
                members.append(idx)
            leaves.append((k, m, column[key]))
    if not leaves:
        return
    indicator = np.stack(members, axis=1).astype(np.float64)
    s1 = x @ indicator
    raw = (x * x) @ indicator
    for k, m, c in leaves:
        yield k, m, raw[:, c] - s1[:, c] * s1[:, c] / m, raw[:, c]


def gene_module_loglik_and_constant(x: np.ndarray, leaf_labels: list[np.ndarray] | np.ndarray
                                    ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`gene_module_loglik` and :func:`constant_leaf_mask` from one pass over the leaves."""
    x = np.asarray(x, dtype=np.float64)
    ll = np.zeros((x.shape[0], len(leaf_labels)))
    constant = np.zeros((x.shape[0], len(leaf_labels)), dtype=bool)
    for k, m, ss, raw in _leaf_moments(x, leaf_labels):
        ll[:, k] += loglik_from_moments(m, ss, raw)
        constant[:, k] |= ss <= _REL_TOL * raw + 1e-300
    return ll, constant


def constant_leaf_mask(x: np.ndarray, leaf_labels: list[np.ndarray] | np.ndarray) -> np.ndarray:
    """Genes x modules: True where the gene is constant within some leaf of more than one sample.

    R's ``calc_likelihood_vec`` gives such a gene +inf under that module (``dnorm`` with sd 0);
    :func:`gene_module_loglik` counts the leaf as 0 (see :mod:`pgml.grn.rfaithful`).
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros((x.shape[0], len(leaf_labels)), dtype=bool)
    for k, _m, ss, raw in _leaf_moments(x, leaf_labels):
        out[:, k] |= ss <= _REL_TOL * raw + 1e-300
    return out
