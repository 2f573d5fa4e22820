"""Predict per-atom B-factors for any readable PDB/mmCIF file with a trained model.

``pgml bfactor predict --model CHECKPOINT --output-dir DIR FILE...`` writes, for every input,
``DIR/<stem>.pdb`` (a copy of the input with the predicted values in the B-factor column, for
colouring in PyMOL/ChimeraX) and ``DIR/<stem>.tsv`` (one row per atom), plus ``DIR/predictions.tsv``
with all atoms of all inputs, which ``pgml bfactor evaluate`` reads.

With a model trained on z-scored targets (``target: zscore``) the written values are z-scores.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.errors import InputError
from pgml.fileio import atomic_dir, check_output_dir
from pgml.structure.collection import structure_stem
from pgml.tables import read_tsv, write_tsv

log = logging.getLogger(__name__)

#: columns of the per-atom tables written by `predict` (and, minus the atom identity, by `baseline`)
ATOM_COLUMNS = [
    "structure", "atom", "chain", "res_seq", "ins_code", "res_name", "atom_name", "element",
    "b_factor", "target_true", "target_pred",
]


def structures_from_split(split_tsv: str | Path, subset: str = "test") -> list[Path]:
    """Files of the rows of a split TSV (from ``pgml bfactor split``) whose ``split`` is ``subset``."""
    split_tsv = Path(split_tsv)
    table = read_tsv(split_tsv, ("id", "file", "split"), dtype=str, what="split file", keep_default_na=False)
    rows = table[table["split"] == subset]
    if rows.empty:
        raise InputError(f"no rows with split == {subset!r}", path=split_tsv)
    files = []
    for i, row in rows.iterrows():
        if not row["file"]:
            raise InputError("empty file column", path=split_tsv, record=f"id {row['id']} (line {i + 2})")
        files.append(Path(row["file"]))
    return files


def check_feature_sizes(meta: dict, model_path: str | Path) -> None:
    """Refuse a model trained on graphs with other feature sizes than this version builds."""
    from pgml.bfactor.features import NODE_FEATURE_DIM
    from pgml.structure.graph import EDGE_FEATURE_DIM

    if (meta["node_dim"], meta["edge_dim"]) != (NODE_FEATURE_DIM, EDGE_FEATURE_DIM):
        raise InputError(f"the model takes {meta['node_dim']} node and {meta['edge_dim']} edge features but "
                         f"this pgml builds graphs with {NODE_FEATURE_DIM} and {EDGE_FEATURE_DIM}: retrain it",
                         path=model_path, record="hyper_parameters")


def check_structure_paths(files: list[str | Path]) -> None:
    """Refuse missing paths and directories before any work is done."""
    for f in files:
        p = Path(f)
        if not p.exists():
            raise InputError("structure file not found", path=p)
        if p.is_dir():
            raise InputError("is a directory, not a structure file", path=p)


def atom_table(structure, data, prediction: np.ndarray) -> pd.DataFrame:
    """One row per graph node with the atom's identity, true target and prediction."""
    atoms = structure.atoms
    index = data.atom_rows.numpy()
    if len(index) != len(prediction):
        raise InputError(
            f"graph has {len(prediction)} nodes but {len(index)} atoms were mapped", path=structure.path
        )
    y = data.y.detach().cpu().numpy() if getattr(data, "y", None) is not None else np.full(len(index), np.nan)
    return pd.DataFrame(
        {
            "structure": structure.id,
            "atom": np.arange(len(index)),
            "chain": atoms.chain_id[index],
            "res_seq": atoms.res_seq[index],
            "ins_code": atoms.ins_code[index],
            "res_name": atoms.res_name[index],
            "atom_name": atoms.atom_name[index],
            "element": atoms.element[index],
            "b_factor": atoms.bfactor[index],
            "target_true": y,
            "target_pred": prediction,
        },
        columns=ATOM_COLUMNS,
    )


def predict_files(
    model_path: str | Path,
    files: list[str | Path],
    output_dir: str | Path,
    device: str = "auto",
) -> pd.DataFrame:
    """Predict every file; write per-file PDB + TSV and ``predictions.tsv``; return all rows.

    Other files already in ``output_dir`` are kept (same-named ones are replaced). An ``output_dir``
    that holds one of the inputs, or is the current directory, is refused (:class:`InputError`).
    """
    import torch
    from tqdm import tqdm

    from pgml.bfactor.graphs import structure_to_graph
    from pgml.bfactor.training import load_model
    from pgml.runtime import pick_device
    from pgml.structure.io import check_full_atom, read_structure, write_bfactors

    if not files:
        raise InputError("no structure files given (pass FILE... or --from-split)")
    check_output_dir(output_dir, inputs=[model_path, *files])
    stems = [structure_stem(f) for f in files]
    duplicates = sorted({s for s in stems if stems.count(s) > 1})
    if duplicates:
        raise InputError(f"several inputs share the output name(s) {duplicates}; rename them")
    check_structure_paths(files)
    dev = pick_device(device)
    model, meta = load_model(model_path)
    check_feature_sizes(meta, model_path)
    model = model.to(dev)
    tables = []
    with atomic_dir(output_dir) as tmp, torch.no_grad():
        for path, stem in tqdm(list(zip(files, stems, strict=True)), desc="predict", unit="structure"):
            structure = read_structure(path)
            check_full_atom(structure)
            if not structure.has_bfactors:
                log.info("%s: no B-factors in the file; target_true is left empty", path)
            data = structure_to_graph(structure, target=meta["target"], radius=meta["radius"])
            prediction = model(data.to(dev)).detach().cpu().numpy().astype(np.float64)
            table = atom_table(structure, data, prediction)
            values = np.zeros(len(structure.atoms.coords))
            values[data.atom_rows.cpu().numpy()] = prediction
            write_bfactors(structure, structure.atoms, values, tmp / f"{stem}.pdb")
            write_tsv(table, tmp / f"{stem}.tsv", float_format="%.4f")
            tables.append(table)
        result = pd.concat(tables, ignore_index=True)
        write_tsv(result, tmp / "predictions.tsv", float_format="%.4f")
    log.info("predicted %d atoms in %d structures -> %s", len(result), len(files), output_dir)
    return result

