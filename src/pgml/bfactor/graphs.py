"""Atom graphs of the bfactor chain (one ``torch_geometric.data.Data`` per protein).

Nodes are the heavy atoms of the protein residues (standard and mapped modified amino acids, model 1,
one altloc), edges the covalent bonds in both directions with bond-order one-hot and length (Meta-GNN
paper's atom graph; node features in :mod:`pgml.bfactor.features`). The target is the B-factor in Å²
(``raw``) or z-scored within the protein (``zscore``: (B - mean) / std, population std), the
normalisation [metagnn] uses to compare proteins refined at different resolutions.

Training and evaluation need the target; prediction does not: with ``require_target=False`` a file
whose B column holds no experimental B-factors (missing, constant, or pLDDT; see
:mod:`pgml.bfactor.bcolumn`) gives a graph whose target is NaN.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import Data

from pgml.bfactor.bcolumn import b_column_kind
from pgml.bfactor.features import NODE_FEATURE_DIM, node_features
from pgml.bfactor.params import TARGETS, GraphConfig
from pgml.errors import InputError
from pgml.fileio import atomic_path
from pgml.structure.graph import EDGE_FEATURE_DIM, atom_graph
from pgml.structure.io import Structure, read_structure
from pgml.tables import read_tsv

log = logging.getLogger(__name__)

_G = GraphConfig()


def structure_to_graph(structure: Structure, target: str = _G.target, radius: float = _G.neighbour_radius,
                       *, require_target: bool = True, text: str | None = None) -> Data:
    """Graph of the protein heavy atoms of ``structure``.

    ``require_target=True`` (training): constant B-factors cannot be z-scored (InputError).
    ``require_target=False`` (prediction): the B column is classified (``b_column``, one of
    :data:`pgml.bfactor.bcolumn.B_COLUMN_KINDS`; ``text`` is the file's text if already read) and only
    experimental B-factors give a target; otherwise ``y`` is NaN.

    Fields: ``x`` (N, NODE_FEATURE_DIM) float32, ``pos`` (N, 3), ``edge_index`` (2, E), ``edge_attr``
    (E, 5), ``y`` (N,) float32 target, ``y_raw`` (N,) float32 B-factors (Å²), ``b_mean``/``b_std``
    (float, of the raw B-factors), ``structure_id`` (str), ``file`` (str), ``n_atoms`` (int),
    ``b_column`` (str), ``atom_rows`` (N,) int64: each node's row in ``structure.atoms`` (used to write predictions back).
    Not called ``*_index``: torch_geometric would offset such a field when batching.
    """
    if target not in TARGETS:
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
    data = atom_graph(atoms, node_features(atoms, radius=radius), y=y)
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
                 radius: float = _G.neighbour_radius) -> list[Data]:
    """Graphs of the kept rows of a selection TSV, saved with their metadata to ``output`` (.pt)."""
    from tqdm import tqdm

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
            graphs.append(structure_to_graph(st, target=target, radius=radius))
        except InputError as err:
            raise InputError(f"{err} (listed as kept; rerun `pgml bfactor select` on it)", path=selection_tsv,
                             record=f"id {row.id}") from None
    payload = {"graphs": graphs, "target": target, "radius": radius,
               "node_feature_dim": NODE_FEATURE_DIM, "edge_feature_dim": EDGE_FEATURE_DIM}
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


def load_graphs(paths: Sequence[str | Path] | str | Path) -> tuple[list[Data], dict[str, Any]]:
    """Concatenate the graphs of several ``build_graphs`` files; their target/radius/dims must agree."""
    if isinstance(paths, str | Path):
        paths = [paths]
    graphs: list[Data] = []
    meta: dict[str, Any] | None = None
    for p in paths:
        p = Path(p)
        try:
            payload = torch.load(p, weights_only=False, map_location="cpu")
        except FileNotFoundError:
            raise InputError("graph file not found", path=p) from None
        except IsADirectoryError:
            raise InputError("is a directory, not a graph file from build-graphs", path=p) from None
        except Exception as exc:  # noqa: BLE001 - torch raises many types for a corrupt file
            raise InputError(f"not a graph file from build-graphs ({type(exc).__name__}: {exc})", path=p) from None
        if not isinstance(payload, dict) or "graphs" not in payload:
            raise InputError("not a graph file from build-graphs (no 'graphs' key)", path=p)
        if not isinstance(payload["graphs"], list) or not all(isinstance(g, Data) for g in payload["graphs"]):
            raise InputError("not a graph file from build-graphs ('graphs' is not a list of graphs)", path=p)
        this = {k: payload.get(k) for k in ("target", "radius", "node_feature_dim", "edge_feature_dim")}
        if meta is None:
            meta = this
        elif this != meta:
            raise InputError(f"graph settings {this} differ from those of the first file {meta}", path=p)
        graphs.extend(payload["graphs"])
    if meta is None:
        raise InputError("no graph files given")
    meta = dict(meta, n_files=len(paths), n_graphs=len(graphs))
    return graphs, meta
