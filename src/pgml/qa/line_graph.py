"""The line graph of the residue graph for EnQA's edge-level EGNN [enqa] (section 5.2.3).

Nodes of the line graph are the residue pairs {i, j} joined in the residue graph (both directions of
an edge are one pair: the distance error of a pair does not depend on its direction); each pair's
coordinate is the midpoint (x_i + x_j) / 2 of its two residues, and each pair receives messages
from its ``k`` nearest other pairs by midpoint distance. torch_geometric's ``knn_graph`` needs
``torch_cluster``/``pyg-lib``, which the environment does not carry, so the k nearest are found here
with ``torch.cdist`` and ``topk`` over chunks of rows (memory O(chunk × pairs)).
"""

from __future__ import annotations

import torch
from torch import Tensor


def residue_pairs(edge_index: Tensor) -> tuple[Tensor, Tensor]:
    """``(pairs, pair_of_edge)``: the (2, P) unique pairs (i < j) of a residue graph's ``edge_index``,
    sorted by (i, j), and for every edge the index of its pair (-1 for a self-loop)."""
    lo = torch.minimum(edge_index[0], edge_index[1])
    hi = torch.maximum(edge_index[0], edge_index[1])
    keep = lo != hi
    pairs, inverse = torch.unique(torch.stack([lo[keep], hi[keep]]), dim=1, return_inverse=True)
    pair_of_edge = torch.full_like(lo, -1)
    pair_of_edge[keep] = inverse
    return pairs, pair_of_edge


def midpoints(pos: Tensor, pairs: Tensor) -> Tensor:
    """(P, 3) midpoints of the pairs: the line graph's coordinates (equivariant with ``pos``)."""
    return 0.5 * (pos[pairs[0]] + pos[pairs[1]])


def knn_line_graph(mid: Tensor, k: int = 3, chunk: int = 4096) -> Tensor:
    """(2, P·k') edges of the line graph: row 0 the neighbour pair (source), row 1 the pair it
    messages (target), for the k' = min(k, P - 1) nearest other pairs of every pair by midpoint."""
    n = mid.size(0)
    k = min(k, n - 1)
    if k < 1:
        return torch.empty(2, 0, dtype=torch.long, device=mid.device)
    sources = []
    with torch.no_grad():
        for start in range(0, n, chunk):
            d = torch.cdist(mid[start:start + chunk], mid)
            rows = torch.arange(start, min(start + chunk, n), device=mid.device)
            d[rows - start, rows] = float("inf")  # not its own neighbour
            sources.append(d.topk(k, dim=1, largest=False).indices)
    src = torch.cat(sources).reshape(-1)
    dst = torch.arange(n, device=mid.device).repeat_interleave(k)
    return torch.stack([src, dst])
