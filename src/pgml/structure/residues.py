"""Residue chemistry: the 20 standard amino acids, their heavy atoms and intra-residue bonds.

The bond table is ``resources/chem/standard_bonds.tsv`` (wwPDB Chemical Component Dictionary, heavy
atoms plus OXT, with bond order; see the README beside it). Parents of modified residues (MSE -> MET,
SEP -> SER, ...) come from gemmi's tabulated residue table (``gemmi.find_tabulated_residue``).
"""

from __future__ import annotations

import enum
import functools
import os
from pathlib import Path

import gemmi

#: The 20 standard amino acids, in the order used for one-hot residue-type features.
STANDARD_RESIDUES: tuple[str, ...] = (
    "ALA", "ARG", "ASN", "ASP", "CYS", "GLN", "GLU", "GLY", "HIS", "ILE",
    "LEU", "LYS", "MET", "PHE", "PRO", "SER", "THR", "TRP", "TYR", "VAL",
)
ONE_TO_THREE: dict[str, str] = {gemmi.find_tabulated_residue(r).one_letter_code.upper(): r
                                for r in STANDARD_RESIDUES}
BACKBONE_ATOMS: tuple[str, ...] = ("N", "CA", "C", "O")

#: Atom renames applied when a modified residue is mapped to its parent (selenium of MSE takes SD's place).
PARENT_ATOM_RENAMES: dict[str, dict[str, str]] = {"MSE": {"SE": "SD"}}


class BondOrder(enum.IntEnum):
    """Covalent bond order; AROMATIC is the CCD aromatic flag (delocalised ring bonds)."""

    SINGLE = 1
    DOUBLE = 2
    TRIPLE = 3
    AROMATIC = 4


def chem_dir() -> Path:
    """``resources/chem`` of the repository (override with ``PGML_CHEM_DIR``)."""
    env = os.environ.get("PGML_CHEM_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "resources" / "chem"


@functools.cache
def standard_bonds() -> dict[str, tuple[tuple[str, str, BondOrder], ...]]:
    """Residue name -> intra-residue heavy-atom bonds ``(atom1, atom2, order)`` from the CCD table."""
    path = chem_dir() / "standard_bonds.tsv"
    table: dict[str, list[tuple[str, str, BondOrder]]] = {r: [] for r in STANDARD_RESIDUES}
    header_seen = False
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if not header_seen:
            header_seen = True
            continue
        res, a1, a2, order = fields
        table[res].append((a1, a2, BondOrder[order.upper()]))
    return {r: tuple(b) for r, b in table.items()}


@functools.cache
def residue_atoms(res_name: str) -> frozenset[str]:
    """Heavy-atom names of a standard residue (OXT included)."""
    return frozenset(a for bond in standard_bonds().get(res_name, ()) for a in bond[:2])


def parent_residue(name: str) -> str | None:
    """Standard parent of a residue name: itself if standard, the gemmi-tabulated parent for a
    modified amino acid (MSE -> MET, SEP -> SER), or None when unknown / not an amino acid."""
    if name in STANDARD_RESIDUES:
        return name
    info = gemmi.find_tabulated_residue(name)
    if info is None or not info.is_amino_acid():
        return None
    return ONE_TO_THREE.get(info.one_letter_code.upper()) if info.one_letter_code.strip() else None
