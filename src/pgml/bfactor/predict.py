"""Predict per-atom B-factors for any readable PDB/mmCIF file with a trained model.

``pgml bfactor predict --model CHECKPOINT --output-dir DIR FILE...`` writes, for every input,
``DIR/<stem>.pdb`` or ``DIR/<stem>.cif`` (a copy of the input with the predicted values in the
B-factor column, for colouring in PyMOL/ChimeraX; ``--format auto`` writes mmCIF when the structure
does not fit the PDB format, ``--hydrogens`` gives hydrogens their heavy atom's value instead of 0),
``DIR/<stem>.tsv`` (one row per heavy atom) and ``DIR/<stem>.residues.tsv`` (one row per residue: mean
and max prediction), plus ``DIR/predictions.tsv`` with all atoms of all inputs, which
``pgml bfactor evaluate`` reads.

Any readable protein structure can be predicted: experimental B-factors are not needed. What the
input's B column holds (:mod:`pgml.bfactor.bcolumn`: experimental B-factors, pLDDT of a predicted
model, a constant placeholder, nothing) is logged and written in the ``b_column`` column; only real
B-factors fill ``target_true`` (else it is empty). ``pred_units`` says what the predictions are:
``angstrom2`` (a model trained on raw B-factors) or ``zscore`` (a model trained on per-protein
z-scores: relative flexibility within the protein, mean 0 and sd 1, not Å²).

A file that cannot be predicted (unreadable, CA-only, no protein atoms, ...) is reported on one log
line naming it and skipped; the others are written and the command exits with status 3
(:data:`EXIT_SOME_FAILED`). When every input fails nothing is written and the error is the usual
one-line InputError (exit status 2).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.bfactor.params import OUTPUT_FORMATS, PredictConfig
from pgml.errors import InputError
from pgml.fileio import atomic_dir, check_output_dir
from pgml.structure.collection import structure_stem
from pgml.tables import read_tsv, write_tsv

log = logging.getLogger(__name__)

#: columns of the per-atom tables written by `predict` (and, minus the atom identity, by `baseline`)
ATOM_COLUMNS = [
    "structure", "atom", "chain", "res_seq", "ins_code", "res_name", "atom_name", "element",
    "b_factor", "target_true", "target_pred", "b_column", "pred_units",
]

#: exit status of `pgml bfactor predict` when some inputs failed and the others were written
EXIT_SOME_FAILED = 3
#: ``pred_units`` for each training target
PRED_UNITS = {"raw": "angstrom2", "zscore": "zscore"}


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


#: the pretrained model shipped with the repository (resources/models/bfactor/PROVENANCE.md)
PRETRAINED_MODEL = Path(__file__).resolve().parents[3] / "resources" / "models" / "bfactor" / "model.ckpt"


def default_model() -> Path:
    """The shipped pretrained checkpoint, used by ``pgml bfactor predict`` when no ``--model`` is given."""
    if not PRETRAINED_MODEL.is_file():
        raise InputError("no --model given and no pretrained model shipped with this installation; train one "
                         "(config/pretrain/bfactor.yaml) and pass --model", path=PRETRAINED_MODEL)
    log.info("no --model given: using the pretrained model %s", PRETRAINED_MODEL)
    return PRETRAINED_MODEL


def check_feature_sizes(meta: dict, model_path: str | Path) -> None:
    """Refuse a model trained on graphs with other feature sizes than this version builds."""
    from pgml.bfactor.features import feature_dim
    from pgml.bfactor.training import graph_config
    from pgml.structure.graph import EDGE_FEATURE_DIM

    node_dim = feature_dim(meta.get("graph_config") or graph_config(meta))
    if (meta["node_dim"], meta["edge_dim"]) != (node_dim, EDGE_FEATURE_DIM):
        raise InputError(f"the model takes {meta['node_dim']} node and {meta['edge_dim']} edge features but "
                         f"this pgml builds graphs with {node_dim} and {EDGE_FEATURE_DIM}: retrain it",
                         path=model_path, record="hyper_parameters")


def check_structure_paths(files: list[str | Path]) -> None:
    """Refuse missing paths and directories before any work is done."""
    for f in files:
        p = Path(f)
        if not p.exists():
            raise InputError("structure file not found", path=p)
        if p.is_dir():
            raise InputError("is a directory, not a structure file", path=p)


def atom_table(structure, data, prediction: np.ndarray, pred_units: str = "") -> pd.DataFrame:
    """One row per graph node with the atom's identity, true target and prediction."""
    atoms = structure.atoms
    index = data.atom_rows.cpu().numpy()
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
            "b_column": getattr(data, "b_column", "bfactor"),
            "pred_units": pred_units,
        },
        columns=ATOM_COLUMNS,
    )


#: columns of ``<stem>.residues.tsv``
RESIDUE_COLUMNS = ["structure", "chain", "res_seq", "ins_code", "res_name", "n_atoms", "pred_mean", "pred_max",
                   "pred_units"]


def residue_table(table: pd.DataFrame) -> pd.DataFrame:
    """Per-residue mean and max of ``target_pred`` over the residue's heavy atoms, in file order."""
    keys = ["structure", "chain", "res_seq", "ins_code", "res_name"]
    grouped = table.groupby(keys, sort=False)["target_pred"]
    out = grouped.agg(n_atoms="size", pred_mean="mean", pred_max="max").reset_index()
    out["pred_units"] = table["pred_units"].iloc[0] if len(table) else ""
    return out[RESIDUE_COLUMNS]


def describe_input(path: str | Path, b_column: str, pred_units: str) -> str:
    """The log line saying what the B column of an input held and what the predictions are."""
    held = {
        "bfactor": "experimental B-factors (target_true filled)",
        "plddt": "pLDDT (model confidence of a predicted structure), not B-factors: target_true left empty",
        "constant": "one constant value (a placeholder, not B-factors): target_true left empty",
        "missing": "no B values: target_true left empty",
    }[b_column]
    units = ("z-scores (relative flexibility within this protein, not Å²)" if pred_units == "zscore"
             else "B-factors in Å²")
    return f"{path}: B column holds {held}; predictions are {units}"


def predict_files(
    model_path: str | Path,
    files: list[str | Path],
    output_dir: str | Path,
    device: str = "auto",
    config: PredictConfig | None = None,
    card: str | Path | None = None,
) -> pd.DataFrame:
    """Predict every file; write per-file PDB + TSV and ``predictions.tsv``; return all rows.

    Other files already in ``output_dir`` are kept (same-named ones are replaced). An ``output_dir``
    that holds one of the inputs, or is the current directory, is refused (:class:`InputError`).
    Inputs that fail are logged and skipped; they are listed as ``(file, message)`` pairs in
    ``result.attrs["failed"]``. If all fail, the first failure is raised and nothing is written.
    """
    import torch
    from tqdm import tqdm

    from pgml.bfactor.graphs import structure_to_graph
    from pgml.bfactor.training import check_card, load_model
    from pgml.runtime import pick_device
    from pgml.structure.io import check_full_atom, read_structure, read_text, write_bfactors

    if not files:
        raise InputError("no structure files given (pass FILE... or --from-split)")
    config = config or PredictConfig()
    if config.format not in OUTPUT_FORMATS:
        raise InputError(f"unknown format {config.format!r}; choose one of {', '.join(OUTPUT_FORMATS)}")
    check_output_dir(output_dir, inputs=[model_path, *files])
    stems = [structure_stem(f) for f in files]
    duplicates = sorted({s for s in stems if stems.count(s) > 1})
    if duplicates:
        raise InputError(f"several inputs share the output name(s) {duplicates}; rename them")
    if len(files) == 1:
        check_structure_paths(files)
    dev = pick_device(device)
    model, meta = load_model(model_path)
    check_feature_sizes(meta, model_path)
    check_card(model_path, meta, card)
    model = model.to(dev)
    units = PRED_UNITS.get(meta["target"], "")
    tables, failed = [], []
    first_error: InputError | None = None
    with atomic_dir(output_dir) as tmp, torch.no_grad():
        for path, stem in tqdm(list(zip(files, stems, strict=True)), desc="predict", unit="structure"):
            try:
                check_structure_paths([path])
                text = read_text(path)
                structure = read_structure(path)
                check_full_atom(structure)
                data = structure_to_graph(structure, require_target=False, text=text,
                                          config=meta["graph_config"])
            except InputError as err:
                if len(files) > 1:
                    log.error("skipped: %s", err)
                failed.append((str(path), str(err)))
                first_error = first_error or err
                continue
            log.info(describe_input(path, data.b_column, units))
            prediction = model(data.to(dev)).detach().cpu().numpy().astype(np.float64)
            table = atom_table(structure, data, prediction, pred_units=units)
            values = np.zeros(len(structure.atoms.coords))
            values[data.atom_rows.cpu().numpy()] = prediction
            write_bfactors(structure, structure.atoms, values, tmp / f"{stem}.pdb", fmt=config.format,
                           hydrogens_from_parent=config.hydrogens)
            write_tsv(table, tmp / f"{stem}.tsv", float_format="%.4f")
            write_tsv(residue_table(table), tmp / f"{stem}.residues.tsv", float_format="%.4f")
            tables.append(table)
        if not tables:
            if len(files) == 1 and first_error is not None:
                raise first_error
            raise InputError(f"none of the {len(files)} structures could be predicted (first: {first_error})")
        result = pd.concat(tables, ignore_index=True)
        write_tsv(result, tmp / "predictions.tsv", float_format="%.4f")
    log.info("predicted %d atoms in %d structures -> %s (%s)", len(result), len(tables), output_dir,
             "z-scores, relative within each protein" if units == "zscore" else "Å²")
    if failed:
        log.error("%d of %d structures failed and were skipped: %s", len(failed), len(files),
                  ", ".join(f for f, _ in failed))
    result.attrs["failed"] = failed
    return result
