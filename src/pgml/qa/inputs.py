"""Checked reading of the qa chain's inputs: structures with finite coordinates, target directories,
and the memory the L x L pair features of a model will take.

Every structure the chain reads (models, references, natives) goes through :func:`read_coords`, which
refuses a NaN or infinite coordinate by naming the atom (``residue_coords`` alone would report it as a
missing backbone atom) and a residue without N, CA or C. :func:`pair_feature_bytes` is the estimate
:func:`pgml.runtime.check_memory` compares with what the machine has before the pair features of a
model are built.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pgml.errors import InputError
from pgml.qa.params import N_ERROR_BINS
from pgml.structure import read_structure
from pgml.structure.io import Structure
from pgml.structure.residue_coords import ResidueCoords, residue_coords

#: distogram bins assumed when a reference's distogram size is not known yet (AlphaFold2's 64)
DEFAULT_DISTOGRAM_BINS = 64


def check_finite_coords(structure: Structure, path: Path | str) -> None:
    """Refuse a structure with a NaN or infinite coordinate, naming the first such atom (for structures
    built in memory; files are checked by :func:`pgml.structure.read_structure`)."""
    atoms = structure.atoms
    bad = ~np.isfinite(atoms.coords).all(axis=1)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        record = f"{atoms.chain_id[k]}:{atoms.res_seq[k]}:{atoms.res_name[k]}:{atoms.atom_name[k]}"
        raise InputError(f"{int(bad.sum())} atom(s) with a NaN or infinite coordinate (first shown)",
                         path=path, record=record)


def read_coords(path: Path | str, *, require_backbone: bool = True) -> tuple[Structure, ResidueCoords]:
    """(structure, residue coordinates) of a model, reference or native, checked (module docstring).

    Natives are read with ``require_backbone=False``: an experimental structure may lack a terminal N
    or C, and a residue without Cα simply takes no part in the scores.
    """
    structure = read_structure(path)  # refuses a NaN or infinite coordinate, naming the atom
    return structure, residue_coords(structure, require_backbone=require_backbone)


def check_target_dir(target: Path) -> Path:
    """Refuse a target that is missing or not a directory, before anything inside it is looked for."""
    target = Path(target)
    if not target.exists():
        raise InputError("target directory not found", path=target)
    if not target.is_dir():
        raise InputError("a target is a directory holding models/, alphafold/ and optionally native.pdb, "
                         "not a file", path=target)
    return target


def pair_feature_bytes(n_residues: int, n_references: int, distogram_bins: int = DEFAULT_DISTOGRAM_BINS) -> int:
    """Peak bytes of one model's pair features with ``n_references`` distogram references of L residues.

    Per residue pair: the references' distogram probabilities held in memory (8 B n bytes) with their
    cumulative sums (8 (B + 1) n, kept for every model of the target) and contact probabilities (8 n),
    three transient (L, L, B) float64 arrays while one is read (logits, shifted logits, their exponential),
    one model's error-bin bounds and cumulative masses (8 (2 x 9)), the 9 error channels of every reference
    with the contact probabilities and the model distances (float64) and their float32 copy:
    ``L^2 (8 B n + 8 (B + 1) n + 8 n + 24 B + 144 + 8 (10 n + 2) + 4 (9 n + 2))``.
    """
    n, b = n_references, distogram_bins
    per_pair = (8 * b * n + 8 * (b + 1) * n + 8 * n + 24 * b + 8 * 2 * N_ERROR_BINS
                + 8 * (10 * n + 2) + 4 * (N_ERROR_BINS * n + 2))
    return int(n_residues) ** 2 * per_pair


def check_pair_memory(n_residues: int, n_references: int, distogram_bins: int, path: Path | str) -> None:
    """Refuse before allocating when the pair features of ``n_residues`` would not fit in memory."""
    from pgml.runtime import check_memory

    check_memory(pair_feature_bytes(n_residues, n_references, distogram_bins),
                 f"pair features of {n_residues} residues x {n_references} references",
                 lower_with="--n-references (fewer references) or by splitting the model into domains",
                 path=path)
