"""Node features of the bfactor atom graph.

Implements the atom features of the Meta-GNN B-factor paper (atom graphs of heavy atoms with
covalent-bond edges; node features: element, locant, number of neighbouring atoms, residue type;
edge features: bond order and bond length -- the latter are built in :mod:`pgml.structure.graph`):

- element one-hot: C, N, O, S, other (5)
- locant one-hot: backbone N, CA, C, O; side-chain remoteness B, G, D, E, Z, H read from the second
  character of the atom name (CB -> B, OG1 -> G, NE2 -> E, OH/CH2/NH1 -> H); other (OXT, ...) (11)
- neighbour count: heavy atoms of the protein within ``radius`` Å (self excluded), divided by
  ``NEIGHBOUR_NORM`` = 50 so typical values lie in [0, 1] (a buried atom has about 35-45 heavy
  atoms within 5 Å) (1)
- residue type one-hot over the 20 standard amino acids (:data:`STANDARD_RESIDUES` order) (20)
"""

from __future__ import annotations

import numpy as np

from pgml.bfactor.params import GraphConfig
from pgml.structure.io import AtomTable
from pgml.structure.neighbors import neighbour_counts
from pgml.structure.residues import STANDARD_RESIDUES

ELEMENTS: tuple[str, ...] = ("C", "N", "O", "S")
LOCANTS: tuple[str, ...] = ("N", "CA", "C", "O", "B", "G", "D", "E", "Z", "H")
NEIGHBOUR_NORM = 50.0
NODE_FEATURE_DIM = (len(ELEMENTS) + 1) + (len(LOCANTS) + 1) + 1 + len(STANDARD_RESIDUES)

_BACKBONE = {"N": 0, "CA": 1, "C": 2, "O": 3}
_REMOTENESS = {c: 4 + k for k, c in enumerate("BGDEZH")}


def locant_index(atom_name: str) -> int:
    """Column of the locant one-hot for an atom name (len(LOCANTS) = "other")."""
    if atom_name in _BACKBONE:
        return _BACKBONE[atom_name]
    if len(atom_name) >= 2 and atom_name != "OXT":
        return _REMOTENESS.get(atom_name[1], len(LOCANTS))
    return len(LOCANTS)


def node_features(atoms: AtomTable, radius: float = GraphConfig.neighbour_radius) -> np.ndarray:
    """(N, NODE_FEATURE_DIM) float32 features of every atom row (see the module docstring)."""
    n = len(atoms)
    out = np.zeros((n, NODE_FEATURE_DIM), dtype=np.float32)
    rows = np.arange(n)
    el_col = np.full(n, len(ELEMENTS))
    for k, el in enumerate(ELEMENTS):
        el_col[atoms.element == el] = k
    out[rows, el_col] = 1.0
    off = len(ELEMENTS) + 1
    loc_col = np.fromiter((locant_index(str(a)) for a in atoms.atom_name), dtype=np.int64, count=n)
    out[rows, off + loc_col] = 1.0
    off += len(LOCANTS) + 1
    out[:, off] = neighbour_counts(atoms.coords, radius) / NEIGHBOUR_NORM
    off += 1
    res_lookup = {r: k for k, r in enumerate(STANDARD_RESIDUES)}
    res_col = np.fromiter((res_lookup.get(str(r), -1) for r in atoms.res_name), dtype=np.int64, count=n)
    known = res_col >= 0
    out[rows[known], off + res_col[known]] = 1.0
    return out


def feature_names() -> list[str]:
    """Names of the node-feature columns, in the order of :func:`node_features`."""
    names = [f"element_{e}" for e in ELEMENTS] + ["element_other"]
    names += [f"locant_{loc}" for loc in LOCANTS] + ["locant_other"]
    names += ["neighbour_count"]
    names += [f"residue_{r}" for r in STANDARD_RESIDUES]
    return names
