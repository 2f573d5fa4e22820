"""Atom graphs as ``torch_geometric.data.Data``: nodes = atoms, edges = covalent bonds.

Edge features follow the Meta-GNN B-factor paper's atom graph: bond order one-hot (single, double,
triple, aromatic) and bond length in Å, so ``edge_attr`` has 5 columns. Every bond appears in both
directions.
"""

from __future__ import annotations

import numpy as np
import torch
from torch_geometric.data import Data

from pgml.structure.bonds import covalent_bonds
from pgml.structure.io import AtomTable
from pgml.structure.residues import BondOrder

EDGE_FEATURE_DIM = len(BondOrder) + 1


def edge_features(coords: np.ndarray, pairs: np.ndarray, orders: np.ndarray) -> np.ndarray:
    """(E, 5) float32: one-hot of the bond order (SINGLE..AROMATIC) and the bond length (Å)."""
    feats = np.zeros((len(pairs), EDGE_FEATURE_DIM), dtype=np.float32)
    if len(pairs):
        feats[np.arange(len(pairs)), orders.astype(np.int64) - 1] = 1.0
        feats[:, -1] = np.linalg.norm(coords[pairs[:, 0]] - coords[pairs[:, 1]], axis=1)
    return feats


def atom_graph(atoms: AtomTable, node_features: np.ndarray, y: np.ndarray | None = None) -> Data:
    """Graph of ``atoms`` with ``x`` = node_features, ``pos``, bidirectional covalent edges, ``edge_attr``."""
    node_features = np.asarray(node_features)
    if node_features.shape[0] != len(atoms):
        raise ValueError(f"{len(atoms)} atoms but {node_features.shape[0]} feature rows")
    pairs, orders = covalent_bonds(atoms)
    attr = edge_features(atoms.coords, pairs, orders)
    edge_index = np.concatenate([pairs, pairs[:, ::-1]], axis=0).T.copy()
    edge_attr = np.concatenate([attr, attr], axis=0)
    data = Data(
        x=torch.as_tensor(node_features, dtype=torch.float32),
        pos=torch.as_tensor(atoms.coords, dtype=torch.float32),
        edge_index=torch.as_tensor(edge_index, dtype=torch.long).reshape(2, -1),
        edge_attr=torch.as_tensor(edge_attr, dtype=torch.float32).reshape(-1, EDGE_FEATURE_DIM),
    )
    if y is not None:
        data.y = torch.as_tensor(np.asarray(y), dtype=torch.float32)
    return data
