"""Intrinsic distances: hop counts along a sparse adjacency, up to ``max_hops`` ([ieconv], sec. 3.1).

A breadth-first search is run from every node at once, one frontier per hop, as sparse matrix
products (``scipy.sparse``): after ``h`` steps the frontier of node ``i`` is the set of nodes first
reached in ``h`` hops. Only pairs within ``max_hops`` are ever stored, so the memory is the size of
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
    """Pairs ``(P, 2)`` with i < j and their hop distance ``(P,)`` (1..max_hops), sorted by (i, j)."""
    a = adjacency(n, edges)
    visited = sp.identity(n, dtype=bool, format="csr")
    frontier = visited
    out_i, out_j, out_h = [], [], []
    for h in range(1, max_hops + 1):
        reached = (frontier @ a).astype(bool)
        new = (reached > visited).tocsr()  # reached now and not before
        new.eliminate_zeros()
        if new.nnz == 0:
            break
        i, j = new.nonzero()
        keep = i < j
        out_i.append(i[keep])
        out_j.append(j[keep])
        out_h.append(np.full(int(keep.sum()), h, dtype=np.int8))
        visited = (visited + new).astype(bool)
        frontier = new
    if not out_i:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int8)
    pairs = np.stack([np.concatenate(out_i), np.concatenate(out_j)], axis=1).astype(np.int64)
    hops = np.concatenate(out_h)
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))
    return pairs[order], hops[order]


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
