"""Atom graphs of the bfactor chain (one ``torch_geometric.data.Data`` per protein).

Nodes are the heavy atoms of the protein residues (standard and mapped modified amino acids, model 1,
one altloc), edges the covalent bonds in both directions with bond-order one-hot and length (Meta-GNN
paper's atom graph; node features in :mod:`pgml.bfactor.features`). The target is the B-factor in Å²
(``raw``), as in [metagnn], whose figures and errors are in Å². ``zscore`` ((B - mean) / std within the
protein, population std) is this port's option, not the paper's: it removes the overall B-factor level
of each entry (resolution, refinement), so the model learns relative flexibility; the shipped model
uses it.

Beyond the paper (switches of :class:`~pgml.bfactor.params.GraphConfig`, off by default): packing
node features (:mod:`pgml.bfactor.features`) and non-covalent ``contact`` edges between heavy atoms
within ``contact_radius`` Å that are not bonded (:func:`add_contact_edges`); they carry an all-zero
bond-order one-hot and their length, so every architecture reads them with the same edge features.

Training and evaluation need the target; prediction does not: with ``require_target=False`` a file
whose B column holds no experimental B-factors (missing, constant, or pLDDT; see
:mod:`pgml.bfactor.bcolumn`) gives a graph whose target is NaN.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import Data

from pgml.bfactor.bcolumn import b_column_kind
from pgml.bfactor.edges import add_contact_edges
from pgml.bfactor.features import feature_dim, node_features
from pgml.bfactor.params import TARGETS, GraphConfig
from pgml.bfactor.shards import load_graphs  # noqa: F401 - read without gemmi; re-exported here
from pgml.errors import InputError
from pgml.fileio import atomic_path
from pgml.structure.graph import EDGE_FEATURE_DIM, atom_graph
from pgml.structure.io import Structure, read_structure
from pgml.tables import read_tsv

log = logging.getLogger(__name__)

_G = GraphConfig()


def ligand_coords(path: str | Path) -> np.ndarray:
    """(M, 3) coordinates of the ligand and metal heavy atoms (no water, no protein) of model 1 of ``path``."""
    full = read_structure(path, keep_ligands=True).atoms
    keep = ~full.protein_mask() & (full.element != "H") & (full.element != "D")
    return np.asarray(full.coords[keep], dtype=np.float64).reshape(-1, 3)


def structure_to_graph(structure: Structure, target: str = _G.target, radius: float = _G.neighbour_radius,
                       *, require_target: bool = True, text: str | None = None,
                       config: GraphConfig | None = None) -> Data:
    """Graph of the protein heavy atoms of ``structure``.

    ``require_target=True`` (training): constant B-factors cannot be z-scored (InputError).
    ``require_target=False`` (prediction): the B column is classified (``b_column``, one of
    :data:`pgml.bfactor.bcolumn.B_COLUMN_KINDS`; ``text`` is the file's text if already read) and only
    experimental B-factors give a target; otherwise ``y`` is NaN.

    ``config`` switches the packing features and contact edges on (its target and radius then win over
    the two arguments); the ligand counts read ``structure.path`` again with its ligands.

    Fields: ``x`` (N, feature_dim(config)) float32, ``pos`` (N, 3), ``edge_index`` (2, E), ``edge_attr``
    (E, 5), ``y`` (N,) float32 target, ``y_raw`` (N,) float32 B-factors (Å²), ``b_mean``/``b_std``
    (float, of the raw B-factors), ``structure_id`` (str), ``file`` (str), ``n_atoms`` (int),
    ``b_column`` (str), ``atom_rows`` (N,) int64: each node's row in ``structure.atoms`` (used to write predictions back).
    Not called ``*_index``: torch_geometric would offset such a field when batching.
    """
    if config is not None:
        target, radius = config.target, config.neighbour_radius
    else:
        config = GraphConfig(target=target, neighbour_radius=radius) if target in TARGETS else None
    if target not in TARGETS or config is None:
        raise ValueError(f"target must be one of {TARGETS}, not {target!r}")
    atoms = structure.atoms
    keep = atoms.protein_mask() & (atoms.element != "H") & (atoms.element != "D")
    atoms = atoms.subset(keep)
    b = atoms.bfactor.astype(np.float64)
    b_mean, b_std = float(b.mean()), float(b.std())
    if require_target:
        b_column = "bfactor" if structure.has_bfactors else "missing"
    else:
        b_column = b_column_kind(structure, text=text)
    if b_column != "bfactor":  # nothing to learn from or compare with: the target is unknown (NaN)
        y = np.full(len(b), np.nan)
    elif target == "zscore":
        if b_std < 1e-6:
            raise InputError(f"B-factors constant (all {b_mean:.2f}): cannot z-score (use --target raw)",
                             path=structure.path)
        y = (b - b_mean) / b_std
    else:
        y = b
    ligands = ligand_coords(structure.path) if config.ligand_counts else None
    data = atom_graph(atoms, node_features(atoms, radius=radius, config=config, ligands=ligands), y=y)
    add_contact_edges(data, config.contact_radius)
    data.y_raw = torch.as_tensor(b, dtype=torch.float32)
    data.b_mean = b_mean
    data.b_std = b_std
    data.b_column = b_column
    data.structure_id = structure.id
    data.file = str(structure.path)
    data.n_atoms = len(atoms)
    data.atom_rows = torch.as_tensor(np.flatnonzero(keep), dtype=torch.long)
    return data


def build_graphs(selection_tsv: str | Path, output: str | Path, target: str = _G.target,
                 radius: float = _G.neighbour_radius, config: GraphConfig | None = None) -> list[Data]:
    """Graphs of the kept rows of a selection TSV, saved with their metadata to ``output`` (.pt).

    ``config`` (packing features, contact edges) wins over ``target`` and ``radius`` when given.
    """
    from tqdm import tqdm

    config = config or GraphConfig(target=target, neighbour_radius=radius)
    target, radius = config.target, config.neighbour_radius

    selection_tsv = Path(selection_tsv)
    table = read_selection(selection_tsv)
    kept = table[table["status"] == "kept"]
    graphs = []
    for row in tqdm(kept.itertuples(index=False), total=len(kept), desc=f"graphs {selection_tsv.name}",
                    unit="structure", disable=None):
        try:
            st = read_structure(row.file)
            if not st.has_bfactors:
                raise InputError("no B-factor values (no _atom_site.B_iso_or_equiv column or blank PDB "
                                 "B columns) to train on", path=row.file)
            graphs.append(structure_to_graph(st, config=config))
        except InputError as err:
            raise InputError(f"{err} (listed as kept; rerun `pgml bfactor select` on it)", path=selection_tsv,
                             record=f"id {row.id}") from None
    payload = {"graphs": graphs, "target": target, "radius": radius, "features": config.features,
               "node_feature_dim": feature_dim(config), "edge_feature_dim": EDGE_FEATURE_DIM}
    with atomic_path(output) as tmp:
        torch.save(payload, tmp)
    log.info("%s: %d graphs, %d atoms", output, len(graphs), sum(g.n_atoms for g in graphs))
    return graphs


def read_selection(path: str | Path) -> pd.DataFrame:
    """A selection TSV from :func:`pgml.bfactor.select.select_structures` (all columns as str)."""
    from pgml.bfactor.select import SELECTION_COLUMNS

    table = read_tsv(path, dtype=str, what="selection table", keep_default_na=False)
    if "sequences" not in table.columns:  # written before sequences were recorded: only the identity split needs them
        table["sequences"] = "NA"
    missing = [c for c in SELECTION_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", path=path, record="header")
    return table
