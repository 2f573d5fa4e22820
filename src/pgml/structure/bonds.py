"""Covalent bonds of protein heavy atoms, with bond order.

Intra-residue bonds come from the CCD table (``resources/chem/standard_bonds.tsv``, via
:mod:`pgml.structure.residues`); a bond is made only when both atoms are present. Inter-residue bonds
are added by geometry: the peptide bond C(i)-N(i+1) between consecutive residues of the same chain when
the C-N distance is below ``PEPTIDE_MAX`` (a chain break is not bonded), and disulfides SG-SG below
``DISULFIDE_MAX`` (found with a k-d tree, any two cysteines). Ligand atoms get no bonds.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy.spatial import cKDTree

from pgml.structure.io import AtomTable
from pgml.structure.residues import BondOrder, standard_bonds

__all__ = ["BondOrder", "covalent_bonds", "PEPTIDE_MAX", "DISULFIDE_MAX"]

#: Largest C-N distance (Å) accepted as a peptide bond (ideal 1.33 Å).
PEPTIDE_MAX = 2.0
#: Largest SG-SG distance (Å) accepted as a disulfide (ideal 2.04 Å).
DISULFIDE_MAX = 2.2


@functools.cache
def _templates() -> tuple[dict[str, int], dict[str, int], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The CCD bond table as arrays: ``RES:ATOM`` -> key, residue name -> number; per residue number
    the first of its bonds (CSR pointer); per bond its two atom keys and its order."""
    table = standard_bonds()
    keys: dict[str, int] = {}
    res_number = {r: k for k, r in enumerate(table)}
    ptr, a1, a2, orders = [0], [], [], []
    for res, bonds in table.items():
        for x, y, order in bonds:
            a1.append(keys.setdefault(f"{res}:{x}", len(keys)))
            a2.append(keys.setdefault(f"{res}:{y}", len(keys)))
            orders.append(int(order))
        ptr.append(len(a1))
    return (keys, res_number, np.asarray(ptr, dtype=np.int64), np.asarray(a1, dtype=np.int64),
            np.asarray(a2, dtype=np.int64), np.asarray(orders, dtype=np.int8))


def covalent_bonds(atoms: AtomTable) -> tuple[np.ndarray, np.ndarray]:
    """Bonds as ``(pairs (E, 2) int64 with i < j, order (E,) int8)``, sorted by (i, j), no duplicates.

    Vectorised over residues: each atom gets the key of its ``RES:ATOM`` in the CCD table (the last
    atom of a name counts when a residue repeats one), every residue's template bonds are looked up at
    once, and peptide bonds are tested for all consecutive residues together."""
    keys, res_number, ptr, a1, a2, bond_order = _templates()
    n = len(atoms)
    if n == 0:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int8)
    # residues in res_index order (read_structure's output is ordered, but do not rely on it)
    residues, first, res_of = np.unique(atoms.res_index, return_index=True, return_inverse=True)
    res_of = res_of.reshape(-1)
    n_res = len(residues)
    names = atoms.atom_name.tolist()
    res_names = atoms.res_name.tolist()
    key = np.fromiter((keys.get(f"{r}:{a}", -1) for r, a in zip(res_names, names, strict=True)),
                      dtype=np.int64, count=n)
    n_keys = max(len(keys), 1)
    # (residue, key) -> row of the last such atom
    known = np.flatnonzero(key >= 0)
    cell = res_of[known] * n_keys + key[known]
    order = np.lexsort((known, cell))
    cell, rows = cell[order], known[order]
    last = np.r_[cell[1:] != cell[:-1], True] if len(cell) else np.zeros(0, dtype=bool)
    cell, rows = cell[last], rows[last]

    def row_of(res: np.ndarray, k: np.ndarray) -> np.ndarray:
        want = res * n_keys + k
        pos = np.clip(np.searchsorted(cell, want), 0, max(len(cell) - 1, 0))
        found = (cell[pos] == want) if len(cell) else np.zeros(len(want), dtype=bool)
        return np.where(found, rows[pos] if len(rows) else -1, -1)

    rnum = np.asarray([res_number.get(str(r), -1) for r in atoms.res_name[first].tolist()], dtype=np.int64)
    count = np.where(rnum >= 0, ptr[np.maximum(rnum, 0) + 1] - ptr[np.maximum(rnum, 0)], 0)
    res_rep = np.repeat(np.arange(n_res), count)
    bond = np.repeat(ptr[np.maximum(rnum, 0)], count) + (np.arange(int(count.sum())) - np.repeat(
        np.cumsum(count) - count, count))
    i, j = row_of(res_rep, a1[bond]), row_of(res_rep, a2[bond])
    both = (i >= 0) & (j >= 0)
    intra = np.stack([np.minimum(i, j), np.maximum(i, j)], axis=1)[both]
    intra_order = bond_order[bond][both]
    # peptide bonds: C of residue k to N of residue k + 1 (consecutive res_index, same chain, both standard)
    chain = atoms.chain_id[first]
    nxt = np.flatnonzero((chain[:-1] == chain[1:]) & (residues[1:] == residues[:-1] + 1)
                         & (rnum[:-1] >= 0) & (rnum[1:] >= 0))
    c = _named_row(atoms, res_of, n_res, "C")[nxt]
    nn = _named_row(atoms, res_of, n_res, "N")[nxt + 1]
    ok = (c >= 0) & (nn >= 0)
    c, nn = c[ok], nn[ok]
    close = np.linalg.norm(atoms.coords[c] - atoms.coords[nn], axis=1) < PEPTIDE_MAX
    peptide = np.stack([np.minimum(c, nn), np.maximum(c, nn)], axis=1)[close]
    sg = np.flatnonzero((atoms.res_name == "CYS") & (atoms.atom_name == "SG"))
    ss = np.zeros((0, 2), dtype=np.int64)
    if len(sg) > 1:
        found = cKDTree(atoms.coords[sg]).query_pairs(DISULFIDE_MAX, output_type="ndarray").reshape(-1, 2)
        a, b = sg[found[:, 0]], sg[found[:, 1]]
        ss = np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1)
    arr = np.concatenate([intra, peptide, ss]).astype(np.int64).reshape(-1, 2)
    ords = np.concatenate([intra_order, np.full(len(peptide) + len(ss), int(BondOrder.SINGLE), dtype=np.int8)])
    if len(arr) == 0:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int8)
    arr, first_seen = np.unique(arr, axis=0, return_index=True)
    return arr, ords[first_seen]


def _named_row(atoms: AtomTable, res_of: np.ndarray, n_res: int, name: str) -> np.ndarray:
    """Row of the last atom called ``name`` in each residue (-1 where none)."""
    out = np.full(n_res, -1, dtype=np.int64)
    hit = np.flatnonzero(atoms.atom_name == name)[::-1]
    res, pos = np.unique(res_of[hit], return_index=True)
    out[res] = hit[pos]
    return out
