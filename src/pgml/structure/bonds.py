"""Covalent bonds of protein heavy atoms, with bond order.

Intra-residue bonds come from the CCD table (``resources/chem/standard_bonds.tsv``, via
:mod:`pgml.structure.residues`); a bond is made only when both atoms are present. Inter-residue bonds
are added by geometry: the peptide bond C(i)-N(i+1) between consecutive residues of the same chain when
the C-N distance is below ``PEPTIDE_MAX`` (a chain break is not bonded), and disulfides SG-SG below
``DISULFIDE_MAX`` (found with a k-d tree, any two cysteines). Ligand atoms get no bonds.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from pgml.structure.io import AtomTable
from pgml.structure.residues import BondOrder, standard_bonds

__all__ = ["BondOrder", "covalent_bonds", "PEPTIDE_MAX", "DISULFIDE_MAX"]

#: Largest C-N distance (Å) accepted as a peptide bond (ideal 1.33 Å).
PEPTIDE_MAX = 2.0
#: Largest SG-SG distance (Å) accepted as a disulfide (ideal 2.04 Å).
DISULFIDE_MAX = 2.2


def covalent_bonds(atoms: AtomTable) -> tuple[np.ndarray, np.ndarray]:
    """Bonds as ``(pairs (E, 2) int64 with i < j, order (E,) int8)``, sorted by (i, j), no duplicates."""
    table = standard_bonds()
    pairs: list[tuple[int, int]] = []
    orders: list[int] = []
    # Residue boundaries: res_index is non-decreasing within read_structure output, but do not rely on it.
    order_idx = np.argsort(atoms.res_index, kind="stable")
    res_sorted = atoms.res_index[order_idx]
    starts = np.flatnonzero(np.r_[True, res_sorted[1:] != res_sorted[:-1]])
    ends = np.r_[starts[1:], len(res_sorted)]
    # per residue: name -> row, used for both intra- and inter-residue bonds
    residues: list[tuple[int, str, str, dict[str, int]]] = []
    for s, e in zip(starts, ends, strict=True):
        rows = order_idx[s:e]
        first = rows[0]
        name_to_row = {str(atoms.atom_name[r]): int(r) for r in rows}
        res_name = str(atoms.res_name[first])
        residues.append((int(res_sorted[s]), res_name, str(atoms.chain_id[first]), name_to_row))
        for a1, a2, order in table.get(res_name, ()):
            i, j = name_to_row.get(a1), name_to_row.get(a2)
            if i is not None and j is not None:
                pairs.append((min(i, j), max(i, j)))
                orders.append(int(order))
    coords = atoms.coords
    for (ri, _name_i, chain_i, rows_i), (rj, name_j, chain_j, rows_j) in zip(residues, residues[1:], strict=False):
        if chain_i != chain_j or rj != ri + 1:
            continue
        c, n = rows_i.get("C"), rows_j.get("N")
        if c is None or n is None or name_j not in table or _name_i not in table:
            continue
        if np.linalg.norm(coords[c] - coords[n]) < PEPTIDE_MAX:
            pairs.append((min(c, n), max(c, n)))
            orders.append(int(BondOrder.SINGLE))
    sg = np.flatnonzero((atoms.res_name == "CYS") & (atoms.atom_name == "SG"))
    if len(sg) > 1:
        for a, b in cKDTree(coords[sg]).query_pairs(DISULFIDE_MAX, output_type="ndarray"):
            i, j = int(sg[a]), int(sg[b])
            pairs.append((min(i, j), max(i, j)))
            orders.append(int(BondOrder.SINGLE))
    if not pairs:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int8)
    arr = np.asarray(pairs, dtype=np.int64)
    ords = np.asarray(orders, dtype=np.int8)
    arr, first = np.unique(arr, axis=0, return_index=True)
    return arr, ords[first]
