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

Packing features beyond the paper, each switched on in :class:`~pgml.bfactor.params.GraphConfig`
and appended after these 37 columns (:func:`feature_dim` gives the width):

- ``packing_radii``: one neighbour count per radius r, divided by the number of heavy atoms a sphere of
  radius r holds inside a protein (``PROTEIN_DENSITY`` x 4/3 pi r^3, about 1 for a buried atom);
- ``wcn_feature``: the weighted contact number WCN_i = sum_j 1/d_ij^2 over heavy atoms within 15 Å
  ([lin2008]; the quantity behind the 1/WCN baseline), divided by ``WCN_NORM`` = 10;
- ``ligand_counts``: the counts (the 5 Å one included) and the WCN also count ligand and metal heavy
  atoms (waters never), read with ``read_structure(keep_ligands=True)``: a bound ligand packs an
  atom as protein atoms do.

The sums use scipy's k-d tree (:mod:`pgml.structure.neighbors`), never an N x N matrix.
"""

from __future__ import annotations

import numpy as np

from pgml.bfactor.params import GraphConfig
from pgml.structure.io import AtomTable
from pgml.structure.neighbors import neighbour_counts, weighted_contact_numbers
from pgml.structure.residues import STANDARD_RESIDUES

ELEMENTS: tuple[str, ...] = ("C", "N", "O", "S")
LOCANTS: tuple[str, ...] = ("N", "CA", "C", "O", "B", "G", "D", "E", "Z", "H")
NEIGHBOUR_NORM = 50.0
NODE_FEATURE_DIM = (len(ELEMENTS) + 1) + (len(LOCANTS) + 1) + 1 + len(STANDARD_RESIDUES)
#: heavy atoms per Å^3 inside a folded protein (about one per 20 Å^3), the scale of the extra counts
PROTEIN_DENSITY = 0.05
#: distance cutoff (Å) and scale of the WCN feature
WCN_FEATURE_CUTOFF = 15.0
WCN_NORM = 10.0

_BACKBONE = {"N": 0, "CA": 1, "C": 2, "O": 3}
_REMOTENESS = {c: 4 + k for k, c in enumerate("BGDEZH")}


def locant_index(atom_name: str) -> int:
    """Column of the locant one-hot for an atom name (len(LOCANTS) = "other")."""
    if atom_name in _BACKBONE:
        return _BACKBONE[atom_name]
    if len(atom_name) >= 2 and atom_name != "OXT":
        return _REMOTENESS.get(atom_name[1], len(LOCANTS))
    return len(LOCANTS)


def feature_dim(config: GraphConfig | None = None) -> int:
    """Number of node-feature columns built with ``config`` (NODE_FEATURE_DIM without extras)."""
    config = config or GraphConfig()
    return NODE_FEATURE_DIM + len(config.packing_radii) + int(config.wcn_feature)


def node_features(atoms: AtomTable, radius: float = GraphConfig.neighbour_radius,
                  config: GraphConfig | None = None, ligands: np.ndarray | None = None) -> np.ndarray:
    """(N, feature_dim(config)) float32 features of every atom row (see the module docstring).

    ``ligands``: (M, 3) coordinates of ligand and metal heavy atoms, counted when
    ``config.ligand_counts`` is on. ``config=None`` builds the paper's 37 columns.
    """
    config = config or GraphConfig(neighbour_radius=radius)
    n = len(atoms)
    out = np.zeros((n, feature_dim(config)), dtype=np.float32)
    rows = np.arange(n)
    el_col = np.full(n, len(ELEMENTS))
    for k, el in enumerate(ELEMENTS):
        el_col[atoms.element == el] = k
    out[rows, el_col] = 1.0
    off = len(ELEMENTS) + 1
    loc_col = np.fromiter((locant_index(str(a)) for a in atoms.atom_name), dtype=np.int64, count=n)
    out[rows, off + loc_col] = 1.0
    off += len(LOCANTS) + 1
    env = atoms.coords
    if config.ligand_counts and ligands is not None and len(ligands):
        env = np.concatenate([np.asarray(atoms.coords, dtype=np.float64), np.asarray(ligands, dtype=np.float64)])
    out[:, off] = neighbour_counts(atoms.coords, radius, env) / NEIGHBOUR_NORM
    off += 1
    res_lookup = {r: k for k, r in enumerate(STANDARD_RESIDUES)}
    res_col = np.fromiter((res_lookup.get(str(r), -1) for r in atoms.res_name), dtype=np.int64, count=n)
    known = res_col >= 0
    out[rows[known], off + res_col[known]] = 1.0
    off += len(STANDARD_RESIDUES)
    for r in config.packing_radii:
        out[:, off] = neighbour_counts(atoms.coords, r, env) / (PROTEIN_DENSITY * 4.0 / 3.0 * np.pi * r ** 3)
        off += 1
    if config.wcn_feature:
        out[:, off] = weighted_contact_numbers(atoms.coords, WCN_FEATURE_CUTOFF, env) / WCN_NORM
        off += 1
    return out


def feature_names(config: GraphConfig | None = None) -> list[str]:
    """Names of the node-feature columns, in the order of :func:`node_features`."""
    config = config or GraphConfig()
    names = [f"element_{e}" for e in ELEMENTS] + ["element_other"]
    names += [f"locant_{loc}" for loc in LOCANTS] + ["locant_other"]
    names += ["neighbour_count"]
    names += [f"residue_{r}" for r in STANDARD_RESIDUES]
    names += [f"neighbour_count_{r:g}A" for r in config.packing_radii]
    names += ["wcn"] if config.wcn_feature else []
    return names
