"""Intrinsic distances: hop counts along a sparse adjacency, up to ``max_hops`` ([ieconv], sec. 3.1).

A breadth-first search is run from every node at once as sparse matrix products (``scipy.sparse``):
the pattern of (A + I)^h holds the pairs within ``h`` hops, and the distance of a pair is read from how
many of the powers hold it (:func:`hop_pairs`). Only pairs within ``max_hops`` are ever stored, so the memory is the size of
the 6-hop neighbourhoods, never an all-pairs matrix. Written here rather than with
``scipy.sparse.csgraph.shortest_path`` because that returns a dense N x N matrix.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

#: the paper's cap on intrinsic distances (hops), also the normaliser of tau_i
MAX_HOPS = 6


def adjacency(n: int, edges: np.ndarray) -> sp.csr_matrix:
    """Symmetric boolean CSR adjacency of ``n`` nodes from (E, 2) pairs (self-loops dropped)."""
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    edges = edges[edges[:, 0] != edges[:, 1]]
    rows = np.r_[edges[:, 0], edges[:, 1]]
    cols = np.r_[edges[:, 1], edges[:, 0]]
    a = sp.csr_matrix((np.ones(len(rows), dtype=bool), (rows, cols)), shape=(n, n), dtype=bool)
    a.sum_duplicates()
    return a


def hop_pairs(n: int, edges: np.ndarray, max_hops: int = MAX_HOPS) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(P, 2)`` with i < j and their hop distance ``(P,)`` (1..max_hops), sorted by (i, j).

    With S = A + I, the pattern of S^k holds the pairs within k hops; summing the patterns of
    S^0..S^K counts, for a pair at distance d <= K, the K - d + 1 powers that hold it, so
    d = K + 1 - count. The powers stop early when one adds no pair (every component is covered).
    """
    step = (adjacency(n, edges) + sp.identity(n, dtype=bool, format="csr")).astype(np.int32)
    reach = sp.identity(n, dtype=np.int32, format="csr")
    count = reach.copy()
    levels = 0
    for _ in range(max_hops):
        nxt = (reach @ step).tocsr()
        if nxt.nnz == reach.nnz:  # nothing new within one more hop
            break
        nxt.data[:] = 1
        count = count + nxt
        reach = nxt
        levels += 1
    upper = sp.triu(count, k=1, format="csr")
    upper.sort_indices()
    i = np.repeat(np.arange(n, dtype=np.int64), np.diff(upper.indptr))
    pairs = np.stack([i, upper.indices.astype(np.int64)], axis=1)
    hops = (levels + 1 - upper.data).astype(np.int8)
    return pairs, hops


def lookup_hops(n: int, pairs: np.ndarray, hops: np.ndarray, query: np.ndarray,
                missing: int = MAX_HOPS) -> np.ndarray:
    """Hop distance of each query pair (Q, 2) (any order); ``missing`` where none is stored; 0 for i == j."""
    query = np.asarray(query, dtype=np.int64).reshape(-1, 2)
    lo, hi = np.minimum(query[:, 0], query[:, 1]), np.maximum(query[:, 0], query[:, 1])
    keys = pairs[:, 0] * n + pairs[:, 1]
    qk = lo * n + hi
    pos = np.searchsorted(keys, qk)
    pos = np.clip(pos, 0, max(len(keys) - 1, 0))
    found = (len(keys) > 0) & (keys[pos] == qk) if len(keys) else np.zeros(len(qk), dtype=bool)
    out = np.full(len(qk), missing, dtype=np.float32)
    if len(keys):
        out[found] = hops[pos[found]]
    out[lo == hi] = 0
    return out


def normalised(values: np.ndarray, maximum: float) -> np.ndarray:
    """``values / maximum`` clamped to [0, 1] (the paper's normalisation of tau_e and tau_i)."""
    return np.clip(np.asarray(values, dtype=np.float32) / np.float32(maximum), 0.0, 1.0)
