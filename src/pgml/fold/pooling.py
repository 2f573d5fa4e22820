"""The pooling hierarchy of [ieconv] (sec. 3.2): atoms -> half residues -> residues (CA) -> two
(or more) backbone poolings -> global average, and pooled adjacencies (eq. 2).

Amino-acid pooling halves the heavy atoms of each residue (``ceil(n / 2)`` clusters) by spectral
clustering of the residue's covalent graph (scikit-learn's ``SpectralClustering`` on the adjacency,
``assign_labels="cluster_qr"``, which is deterministic). The clusters of the 20 standard residues
are computed once and stored in ``resources/fold/aa_pooling.tsv`` (:func:`write_pooling_table`);
residues whose atom set differs (missing side-chain atoms, a terminal OXT) are clustered on the fly
in the same way. Every pooling is a hard assignment (each node to one cluster), so a pooling matrix
P is stored as the cluster index of each node.
"""

from __future__ import annotations

import functools
import math
import os
import warnings
from pathlib import Path

import numpy as np

from pgml.fileio import atomic_path
from pgml.structure.residues import STANDARD_RESIDUES, standard_bonds


def resources_dir() -> Path:
    """``resources/fold`` of the repository (override with ``PGML_FOLD_RESOURCES``)."""
    env = os.environ.get("PGML_FOLD_RESOURCES")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "resources" / "fold"


def spectral_halving(names: list[str], bonds: list[tuple[str, str]]) -> np.ndarray:
    """Cluster index (0..ceil(n/2)-1) per atom: spectral clustering of the covalent graph."""
    n = len(names)
    k = math.ceil(n / 2)
    if n <= 2:
        return np.zeros(n, dtype=np.int64)
    index = {a: i for i, a in enumerate(names)}
    adj = np.zeros((n, n))
    for a, b in bonds:
        if a in index and b in index:
            adj[index[a], index[b]] = adj[index[b], index[a]] = 1.0
    from sklearn.cluster import SpectralClustering

    # a small constant affinity keeps disconnected pieces (missing atoms) clusterable
    affinity = adj + 1e-3 * (1 - np.eye(n))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels = SpectralClustering(n_clusters=k, affinity="precomputed", assign_labels="cluster_qr",
                                    random_state=0).fit_predict(affinity)
    # renumber by first appearance; SpectralClustering can leave a label unused: split the largest
    labels = _ensure_k(labels, k, adj)
    _, first = np.unique(labels, return_index=True)
    remap = {lab: r for r, lab in enumerate(labels[np.sort(first)])}
    return np.asarray([remap[lab] for lab in labels], dtype=np.int64)


def _ensure_k(labels: np.ndarray, k: int, adj: np.ndarray) -> np.ndarray:
    labels = labels.copy()
    while len(np.unique(labels)) < k:
        values, counts = np.unique(labels, return_counts=True)
        big = values[np.argmax(counts)]
        members = np.flatnonzero(labels == big)
        # move the member with the fewest bonds inside the cluster to a new label
        inside = adj[np.ix_(members, members)].sum(axis=1)
        labels[members[np.argmin(inside)]] = labels.max() + 1
    return labels


def residue_atoms_and_bonds(res_name: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Heavy atoms (no OXT) and intra-residue bonds of a standard residue, in the CCD table's order."""
    bonds = [(a, b) for a, b, _ in standard_bonds()[res_name] if "OXT" not in (a, b)]
    names = list(dict.fromkeys(a for bond in bonds for a in bond))
    return names, bonds


def compute_pooling_table() -> dict[str, dict[str, int]]:
    """Residue -> atom -> cluster for the 20 standard residues."""
    table = {}
    for res in STANDARD_RESIDUES:
        names, bonds = residue_atoms_and_bonds(res)
        labels = spectral_halving(names, bonds)
        table[res] = {a: int(c) for a, c in zip(names, labels, strict=True)}
    return table


def write_pooling_table(path: str | Path | None = None) -> Path:
    """Write ``aa_pooling.tsv`` (residue, atom, cluster)."""
    path = Path(path) if path else resources_dir() / "aa_pooling.tsv"
    lines = ["# Amino-acid pooling of pgml.fold.pooling (spectral halving of the covalent graph);",
             "# regenerate with `pgml fold pooling-table`.", "residue\tatom\tcluster"]
    for res, atoms in compute_pooling_table().items():
        lines += [f"{res}\t{a}\t{c}" for a, c in atoms.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return path


@functools.cache
def pooling_table() -> dict[str, dict[str, int]]:
    """The stored table (``resources/fold/aa_pooling.tsv``)."""
    table: dict[str, dict[str, int]] = {}
    for line in (resources_dir() / "aa_pooling.tsv").read_text().splitlines():
        if line.startswith("#") or line.startswith("residue\t") or not line.strip():
            continue
        res, atom, cluster = line.split("\t")
        table.setdefault(res, {})[atom] = int(cluster)
    return table


@functools.lru_cache(maxsize=4096)
def _cached_halving(names: tuple[str, ...], bonds: tuple[tuple[str, str], ...]) -> np.ndarray:
    """:func:`spectral_halving` once per atom set and bond list (incomplete residues of one kind
    repeat across a structure and a collection); the result is read-only."""
    labels = spectral_halving(list(names), list(bonds))
    labels.setflags(write=False)
    return labels


@functools.cache
def _table_arrays() -> tuple[dict[str, int], np.ndarray, np.ndarray, np.ndarray]:
    """The stored table as arrays: ``RES:ATOM`` -> row, and per row its cluster and residue number;
    per residue number its atom count and cluster count."""
    table = pooling_table()
    key_row: dict[str, int] = {}
    cluster, residue = [], []
    for r, (res, atoms) in enumerate(table.items()):
        for atom, c in atoms.items():
            key_row[f"{res}:{atom}"] = len(cluster)
            cluster.append(c)
            residue.append(r)
    n_atoms = np.asarray([len(a) for a in table.values()], dtype=np.int64)
    n_clusters = np.asarray([max(a.values()) + 1 for a in table.values()], dtype=np.int64)
    return key_row, np.asarray(cluster, dtype=np.int64), n_atoms, n_clusters


def atom_clusters(res_index: np.ndarray, res_name: np.ndarray, atom_name: np.ndarray,
                  bonds: np.ndarray) -> np.ndarray:
    """Level-1 cluster of every atom (global numbering, residue after residue).

    A residue whose atom set is a stored residue's takes the stored clusters (looked up for all such
    residues at once); any other residue is clustered on the fly (:func:`_cached_halving`)."""
    key_row, table_cluster, table_atoms, table_clusters = _table_arrays()
    res_index = np.asarray(res_index)
    n = len(res_index)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    row = np.fromiter((key_row.get(f"{r}:{a}", -1) for r, a in zip(res_name.tolist(), atom_name.tolist(),
                                                                  strict=True)), dtype=np.int64, count=n)
    residues, first, inverse = np.unique(res_index, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    # a residue takes the stored clusters when every atom is a stored atom of its residue type and its
    # distinct atoms are as many as the stored ones (the atom sets are equal)
    known = row >= 0
    all_known = np.bincount(inverse, weights=~known, minlength=len(residues)) == 0
    distinct = np.unique(np.stack([inverse[known], row[known]], axis=1), axis=0)[:, 0]
    n_distinct = np.bincount(distinct, minlength=len(residues))
    table_res = _table_residue(res_name[first])
    stored = all_known & (table_res >= 0) & (n_distinct == np.where(table_res >= 0, table_atoms[table_res], -1))
    labels = np.where(known, table_cluster[np.maximum(row, 0)], 0)
    n_clusters = np.where(stored, table_clusters[np.maximum(table_res, 0)], 0)
    bonds = np.asarray(bonds, dtype=np.int64).reshape(-1, 2)
    order = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[order], np.arange(len(residues) + 1))
    for k in np.flatnonzero(~stored):
        rows = order[starts[k]:starts[k + 1]]
        names = [str(a) for a in atom_name[rows]]
        inside = np.isin(bonds[:, 0], rows) & np.isin(bonds[:, 1], rows)
        local = {int(r): a for r, a in zip(rows, names, strict=True)}
        pairs = tuple((local[int(i)], local[int(j)]) for i, j in bonds[inside])
        halves = _cached_halving(tuple(names), pairs)
        labels[rows] = halves
        n_clusters[k] = int(halves.max()) + 1
    offset = np.cumsum(n_clusters) - n_clusters
    return labels + offset[inverse]


def _table_residue(res_name: np.ndarray) -> np.ndarray:
    """Stored residue number of each residue (by its name; -1 when the table has none)."""
    names = list(pooling_table())
    index = {r: k for k, r in enumerate(names)}
    return np.asarray([index.get(str(r), -1) for r in res_name.tolist()], dtype=np.int64)


def consecutive_pairs(chain_of_node: np.ndarray) -> np.ndarray:
    """Backbone pooling: merge nodes 2k and 2k+1 of the same chain (nodes in chain order)."""
    out = np.zeros(len(chain_of_node), dtype=np.int64)
    cluster, i = 0, 0
    n = len(chain_of_node)
    while i < n:
        if i + 1 < n and chain_of_node[i + 1] == chain_of_node[i]:
            out[i] = out[i + 1] = cluster
            i += 2
        else:
            out[i] = cluster
            i += 1
        cluster += 1
    return out


def pooled_edges(edges: np.ndarray, assign: np.ndarray) -> np.ndarray:
    """Eq. 2: the nonzero pattern of P A P^T with the diagonal zeroed and values clamped to 1,
    as unique pairs (i < j) of clusters."""
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if len(edges) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    ci, cj = assign[edges[:, 0]], assign[edges[:, 1]]
    keep = ci != cj
    pairs = np.stack([np.minimum(ci, cj), np.maximum(ci, cj)], axis=1)[keep]
    return np.unique(pairs, axis=0).reshape(-1, 2)


def pooling_matrix(assign: np.ndarray, n_out: int | None = None) -> np.ndarray:
    """Dense 0/1 pooling matrix P (n_out x n_in), P[c, i] = 1 when node i is in cluster c."""
    n_out = int(assign.max()) + 1 if n_out is None else n_out
    p = np.zeros((n_out, len(assign)))
    p[assign, np.arange(len(assign))] = 1.0
    return p
