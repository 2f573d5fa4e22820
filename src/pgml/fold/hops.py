"""Intrinsic distances: hop counts along a sparse adjacency, up to ``max_hops`` ([ieconv], sec. 3.1).

A breadth-first search is run from a block of source nodes at once, level by level, in NumPy
(:func:`hop_pairs`): the frontier's neighbours are gathered from the CSR adjacency, those already seen
from the same source are dropped with a dense (block x N) mark, and each new (source, node) pair is
kept once. Only pairs within ``max_hops`` are ever stored, and the block is sized so that the marks
stay within ``BLOCK_CELLS`` cells, so the memory is the size of the 6-hop neighbourhoods, never an
all-pairs matrix. Written here rather than with ``scipy.sparse.csgraph.shortest_path`` because that
returns a dense N x N matrix; it replaces sparse matrix powers ((A + I)^h, one product and one sum of
the growing reach per hop), which cost 3 to 4 times as much on 5,000-atom proteins
(benchmarks/fold_speed.py; tests/fold/test_graph.py checks the two give the same pairs).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

#: the paper's cap on intrinsic distances (hops), also the normaliser of tau_i
MAX_HOPS = 6
#: cells of the (sources x N) marks of one block of the search (1 byte each, plus 4 for the slot table)
BLOCK_CELLS = 4_000_000


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

    Breadth-first search from blocks of sources (see the module docstring); a pair is recorded from
    its smaller node, at the level where the search from that node first reaches the other.
    """
    a = adjacency(n, edges)
    indptr, indices = a.indptr.astype(np.int64), a.indices.astype(np.int64)
    degree = np.diff(indptr)
    block = max(1, min(n, BLOCK_CELLS // max(n, 1)))
    seen = np.zeros(block * n, dtype=bool)  # reused by every block; only touched cells are reset
    slot = np.zeros(block * n, dtype=np.int32)
    pairs, hops = [], []
    for start in range(0, n, block):
        sources = np.arange(start, min(n, start + block), dtype=np.int64)
        local = np.arange(len(sources), dtype=np.int64)
        touched = [local * n + sources]
        seen[touched[0]] = True
        f_src, f_node = local, sources
        keys, levels = [], []
        for level in range(1, max_hops + 1):
            reach = degree[f_node]
            total = int(reach.sum())
            if total == 0:
                break
            first = np.repeat(indptr[f_node] - (np.cumsum(reach) - reach), reach)
            flat = np.repeat(f_src, reach) * n + indices[first + np.arange(total)]
            flat = flat[~seen[flat]]
            if len(flat) == 0:
                break
            order = np.arange(len(flat), dtype=np.int32)
            slot[flat] = order  # one writer per cell survives: keep each new (source, node) once
            flat = flat[slot[flat] == order]
            seen[flat] = True
            touched.append(flat)
            f_src, f_node = flat // n, flat % n
            upper = f_node > f_src + start
            keys.append(flat[upper])
            levels.append(np.full(int(upper.sum()), level, dtype=np.int8))
        seen[np.concatenate(touched)] = False
        if keys:  # sources ascend block by block: sorting each block sorts the whole
            key = np.concatenate(keys)
            order = np.argsort(key, kind="stable")
            key = key[order]
            pairs.append(np.stack([key // n + start, key % n], axis=1))
            hops.append(np.concatenate(levels)[order])
    if not pairs:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int8)
    return np.concatenate(pairs), np.concatenate(hops)


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
