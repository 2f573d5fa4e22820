"""Residue-level coordinates of a protein: N, CA, C and CB per residue, and residue distance maps.

Used by the chains that work on residues rather than atoms (contact maps, model quality, residue
graphs). ``cb`` follows the convention of contact prediction (CASP): Cβ, or Cα for glycine. When a
non-glycine residue has no Cβ in the file, ``cb`` is the ideal virtual Cβ built from N, CA and C
(the coefficients of Dauparas et al.'s ProteinMPNN, the usual choice), and ``cb_virtual`` marks it.
A residue without one of N, CA or C has NaN for the missing atoms; ``require_backbone`` turns that
into an :class:`~pgml.errors.InputError` naming the residue.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pgml.errors import InputError
from pgml.structure.io import AtomTable, Structure
from pgml.structure.sequence import one_letter

BACKBONE = ("N", "CA", "C")


@dataclass
class ResidueCoords:
    """One row per residue (in the order of the atom table); coordinates in Å, NaN where absent."""

    chain_id: np.ndarray  # (R,) str
    res_seq: np.ndarray  # (R,) int
    ins_code: np.ndarray  # (R,) str
    res_name: np.ndarray  # (R,) str
    sequence: str  # one letter per residue ("X" for residues without a code)
    n: np.ndarray  # (R, 3)
    ca: np.ndarray  # (R, 3)
    c: np.ndarray  # (R, 3)
    cb: np.ndarray  # (R, 3): Cβ, Cα for glycine, virtual Cβ where the file has none
    cb_virtual: np.ndarray  # (R,) bool

    def __len__(self) -> int:
        return len(self.sequence)

    def labels(self) -> list[str]:
        """``chain:number[insertion]:name`` per residue, for messages and tables."""
        return [f"{c}:{n}{i}:{r}" for c, n, i, r in zip(self.chain_id, self.res_seq, self.ins_code,
                                                        self.res_name, strict=True)]

    def chain_sequences(self) -> dict[str, str]:
        out: dict[str, list[str]] = {}
        for chain, letter in zip(self.chain_id, self.sequence, strict=True):
            out.setdefault(str(chain), []).append(letter)
        return {c: "".join(s) for c, s in out.items()}


def virtual_cb(n: np.ndarray, ca: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Ideal Cβ from backbone atoms: ``-0.58273431 a + 0.56802827 b - 0.54067466 c + CA`` with
    b = CA - N, c = C - CA, a = b × c (ProteinMPNN's coefficients); rows broadcast."""
    b = ca - n
    cc = c - ca
    a = np.cross(b, cc)
    return -0.58273431 * a + 0.56802827 * b - 0.54067466 * cc + ca


def residue_coords(structure: Structure | AtomTable, *, require_backbone: bool = False,
                   source: str = "structure") -> ResidueCoords:
    """Per-residue N/CA/C/CB of the amino-acid residues of ``structure`` (see the module docstring)."""
    atoms = structure.atoms if isinstance(structure, Structure) else structure
    if isinstance(structure, Structure):
        source = str(structure.path)
    letters_all = np.array([one_letter(str(r)) or "" for r in atoms.res_name])
    keep = letters_all != ""
    if not keep.any():
        raise InputError(f"{source}: no amino-acid residues")
    atoms = atoms.subset(keep)
    n_res = atoms.n_residues
    _, first = np.unique(atoms.res_index, return_index=True)
    coords = {name: np.full((n_res, 3), np.nan) for name in (*BACKBONE, "CB")}
    for name in coords:
        rows = np.flatnonzero(atoms.atom_name == name)
        coords[name][atoms.res_index[rows]] = atoms.coords[rows]
    res_name = atoms.res_name[first]
    seq = "".join(one_letter(str(r)) or "X" for r in res_name)
    result = ResidueCoords(
        chain_id=atoms.chain_id[first], res_seq=atoms.res_seq[first], ins_code=atoms.ins_code[first],
        res_name=res_name, sequence=seq, n=coords["N"], ca=coords["CA"], c=coords["C"],
        cb=coords["CB"].copy(), cb_virtual=np.zeros(n_res, dtype=bool),
    )
    if require_backbone:
        missing = np.isnan(np.stack([result.n, result.ca, result.c], axis=1)).any(axis=(1, 2))
        if missing.any():
            labels = result.labels()
            bad = [labels[i] for i in np.flatnonzero(missing)[:5]]
            raise InputError(f"{source}: {int(missing.sum())} residue(s) lack one of N, CA, C "
                             f"(first: {', '.join(bad)})")
    glycine = res_name == "GLY"
    result.cb[glycine] = result.ca[glycine]
    absent = np.isnan(result.cb).any(axis=1) & ~glycine
    if absent.any():
        result.cb[absent] = virtual_cb(result.n[absent], result.ca[absent], result.c[absent])
        result.cb_virtual[absent] = ~np.isnan(result.cb[absent]).any(axis=1)
    return result


def distance_map(points: np.ndarray) -> np.ndarray:
    """(R, R) Euclidean distances between rows of ``points`` (NaN rows give NaN rows/columns)."""
    diff = points[:, None, :] - points[None, :, :]
    return np.sqrt((diff ** 2).sum(-1))
