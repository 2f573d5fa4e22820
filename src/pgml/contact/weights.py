"""Sequence filters and weights: hhfilter-like coverage/identity filtering, 80 % identity weights, Neff.

Identity between two aligned sequences is the fraction of the L query columns where both carry the
same symbol, gaps included (CCMpred's and plmc's convention). The weight of sequence n is
``1 / #{m : identity(n, m) >= 0.8}`` (itself included), and the alignment's effective depth is
``Neff = sum_n w_n`` ([attcontact] reports accuracy by Neff). Identities come from one-hot matrix
products in row chunks, so memory stays ``O(chunk * N)``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from pgml.contact.alignment import GAP, Alignment, one_hot

#: identity at which two sequences count as one when weighting (plmc -t 0.2, CCMpred 0.8)
WEIGHT_IDENTITY = 0.8


def _identity_chunks(msa: np.ndarray, chunk: int = 2048) -> Iterator[tuple[int, np.ndarray]]:
    n, length = msa.shape
    flat = one_hot(msa).reshape(n, -1)
    for start in range(0, n, chunk):
        yield start, flat[start:start + chunk] @ flat.T / length


def identity_matrix(msa: np.ndarray) -> np.ndarray:
    """``(N, N)`` pairwise identity (fraction of identical columns, gaps included)."""
    return np.concatenate([block for _, block in _identity_chunks(msa)], axis=0)


def sequence_weights(msa: np.ndarray, identity: float = WEIGHT_IDENTITY, chunk: int = 2048) -> np.ndarray:
    """``w_n = 1 / #{m: identity(n, m) >= identity}``; with ``identity >= 1`` only duplicates are merged."""
    n, length = msa.shape
    counts = np.zeros(n, dtype=np.float64)
    # compare integer match counts to avoid rounding at the threshold
    need = np.ceil(identity * length - 1e-9)
    for start, block in _identity_chunks(msa, chunk):
        counts[start:start + block.shape[0]] = (np.rint(block * length) >= need).sum(axis=1)
    return 1.0 / counts


def neff(weights: np.ndarray) -> float:
    """Effective number of sequences: the sum of the weights."""
    return float(np.sum(weights))


def filter_alignment(alignment: Alignment, *, min_coverage: float = 0.0, max_identity: float = 1.0,
                     chunk: int = 2048) -> Alignment:
    """hhfilter-like: drop rows covering < ``min_coverage`` of the columns, then, in file order, each row
    more than ``max_identity`` identical to a row already kept. The query (row 0) is always kept."""
    msa = alignment.msa
    n, length = msa.shape
    coverage = (msa != GAP).mean(axis=1)
    keep = coverage >= min_coverage
    keep[0] = True
    sub = alignment.subset(keep)
    if max_identity >= 1.0 or len(sub) < 2:
        return sub
    ident = identity_matrix(sub.msa)
    m = len(sub)
    kept = np.zeros(m, dtype=bool)
    redundant = np.zeros(m, dtype=bool)
    for i in range(m):
        if redundant[i] and i > 0:
            continue
        kept[i] = True
        redundant |= ident[i] > max_identity
    return sub.subset(kept)
