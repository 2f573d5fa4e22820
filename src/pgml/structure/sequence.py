"""One-letter sequences of the protein chains of a structure, as observed in its model.

The sequence is that of the residues present in the atom table (gaps in the model are not filled
from SEQRES). Residue names are mapped with gemmi's table of residues (standard and modified amino
acids to their parent's letter); a residue gemmi knows as an amino acid without a one-letter code
becomes ``X``. Waters and non-amino-acid ligands are skipped.
"""

from __future__ import annotations

import functools

import gemmi
import numpy as np

from pgml.structure.io import AtomTable, Structure
from pgml.structure.residues import STANDARD_RESIDUES


@functools.cache
def one_letter(res_name: str) -> str | None:
    """One-letter code of an amino-acid residue name (``MSE`` -> ``M``, ``UNK`` -> ``X``); None for
    anything gemmi does not know as an amino acid (water, ligands, nucleotides)."""
    info = gemmi.find_tabulated_residue(res_name)
    if info is None or not info.is_amino_acid():
        return None
    code = info.one_letter_code.strip().upper()
    return code if len(code) == 1 and code.isalpha() else "X"


def chain_sequences(structure: Structure | AtomTable) -> dict[str, str]:
    """``{chain id: one-letter sequence}`` of the chains with at least one standard amino acid, in
    order of appearance; see the module docstring for what the sequence holds."""
    atoms = structure.atoms if isinstance(structure, Structure) else structure
    if len(atoms) == 0:
        return {}
    # first row of each residue, in table order
    _, first = np.unique(atoms.res_index, return_index=True)
    first = np.sort(first)
    letters: dict[str, list[str]] = {}
    has_protein: set[str] = set()
    standard = frozenset(STANDARD_RESIDUES)
    for i in first:
        chain, name = str(atoms.chain_id[i]), str(atoms.res_name[i])
        code = one_letter(name)
        letters.setdefault(chain, [])
        if code is None:
            continue
        letters[chain].append(code)
        if name in standard:
            has_protein.add(chain)
    return {c: "".join(seq) for c, seq in letters.items() if c in has_protein}
