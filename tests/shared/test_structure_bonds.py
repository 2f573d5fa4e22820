"""pgml.structure.bonds / residues / graph: CCD bond table, peptide bonds, disulfides, atom graphs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import backbone, pdb_atom

from pgml.structure.bonds import covalent_bonds
from pgml.structure.graph import EDGE_FEATURE_DIM, atom_graph
from pgml.structure.io import read_structure
from pgml.structure.residues import STANDARD_RESIDUES, BondOrder, residue_atoms, standard_bonds

# CCD heavy-atom bonds incl. C-OXT: (total, double, aromatic) per residue, and ring count.
EXPECTED = {
    "ALA": (5, 1, 0, 0), "ARG": (11, 2, 0, 0), "ASN": (8, 2, 0, 0), "ASP": (8, 2, 0, 0),
    "CYS": (6, 1, 0, 0), "GLN": (9, 2, 0, 0), "GLU": (9, 2, 0, 0), "GLY": (4, 1, 0, 0),
    "HIS": (11, 1, 5, 1), "ILE": (8, 1, 0, 0), "LEU": (8, 1, 0, 0), "LYS": (9, 1, 0, 0),
    "MET": (8, 1, 0, 0), "PHE": (12, 1, 6, 1), "PRO": (8, 1, 0, 1), "SER": (6, 1, 0, 0),
    "THR": (7, 1, 0, 0), "TRP": (16, 1, 10, 2), "TYR": (13, 1, 6, 1), "VAL": (7, 1, 0, 0),
}
HEAVY_ATOMS = {  # heavy atoms incl. OXT (CCD)
    "ALA": 6, "ARG": 12, "ASN": 9, "ASP": 9, "CYS": 7, "GLN": 10, "GLU": 10, "GLY": 5, "HIS": 11,
    "ILE": 9, "LEU": 9, "LYS": 10, "MET": 9, "PHE": 12, "PRO": 8, "SER": 7, "THR": 8, "TRP": 15,
    "TYR": 13, "VAL": 8,
}


def test_bond_order_values():
    assert [int(b) for b in BondOrder] == [1, 2, 3, 4]
    assert BondOrder.AROMATIC.name == "AROMATIC"


@pytest.mark.parametrize("res", STANDARD_RESIDUES)
def test_table_matches_ccd_counts(res):
    bonds = standard_bonds()[res]
    orders = [o for _, _, o in bonds]
    total, double, aromatic, rings = EXPECTED[res]
    assert len(bonds) == total
    assert orders.count(BondOrder.DOUBLE) == double
    assert orders.count(BondOrder.AROMATIC) == aromatic
    assert len(residue_atoms(res)) == HEAVY_ATOMS[res]
    assert len(bonds) == HEAVY_ATOMS[res] - 1 + rings  # connected: E = V - 1 + rings
    assert ("C", "O", BondOrder.DOUBLE) in bonds and ("C", "OXT", BondOrder.SINGLE) in bonds
    assert len({frozenset(b[:2]) for b in bonds}) == len(bonds)


def test_arg_guanidinium():
    bonds = {frozenset((a, b)): o for a, b, o in standard_bonds()["ARG"]}
    assert bonds[frozenset(("CZ", "NH2"))] == BondOrder.DOUBLE
    assert bonds[frozenset(("CZ", "NH1"))] == BondOrder.SINGLE
    assert bonds[frozenset(("NE", "CZ"))] == BondOrder.SINGLE


def _names(atoms, pairs):
    return {frozenset((atoms.atom_name[i] + str(atoms.res_seq[i]), atoms.atom_name[j] + str(atoms.res_seq[j])))
            for i, j in pairs}


def test_gly_with_and_without_oxt(write_pdb):
    atoms = read_structure(write_pdb(backbone("GLY", "A", 1, 0.0))).atoms
    pairs, orders = covalent_bonds(atoms)
    assert len(pairs) == 3 and sorted(orders.tolist()) == [1, 1, 2]
    lines = backbone("GLY", "A", 1, 0.0) + [pdb_atom(5, "OXT", "GLY", "A", 1, (3.3, -0.4, 0.0), element="O")]
    atoms = read_structure(write_pdb(lines, name="oxt.pdb")).atoms
    pairs, orders = covalent_bonds(atoms)
    assert len(pairs) == 4 and frozenset(("C1", "OXT1")) in _names(atoms, pairs)
    assert (pairs[:, 0] < pairs[:, 1]).all()
    assert pairs.dtype == np.int64 and orders.dtype == np.int8


def test_peptide_bond_skipped_across_chain_break(write_pdb):
    lines = (backbone("GLY", "A", 1, 0.0, serial=1) + backbone("GLY", "A", 2, 3.8, serial=5)
             + backbone("GLY", "A", 3, 20.0, serial=9)  # 16 Å gap: chain break
             + backbone("GLY", "B", 4, 23.8, serial=13))  # close, but another chain
    atoms = read_structure(write_pdb(lines)).atoms
    pairs, _ = covalent_bonds(atoms)
    names = _names(atoms, pairs)
    assert frozenset(("C1", "N2")) in names
    assert frozenset(("C2", "N3")) not in names
    assert frozenset(("C3", "N4")) not in names
    assert len(pairs) == 4 * 3 + 1


def _cys(chain: str, seq: int, z: float, sg: tuple[float, float, float], serial: int) -> list[str]:
    lines = backbone("CYS", chain, seq, 0.0, serial=serial) + [
        pdb_atom(serial + 4, "CB", "CYS", chain, seq, (1.9, -1.4, 0.0))]
    lines = [line[:46] + f"{float(line[46:54]) + z:8.3f}" + line[54:] for line in lines]  # shift in z
    return lines + [pdb_atom(serial + 5, "SG", "CYS", chain, seq, sg)]


@pytest.mark.parametrize(("gap", "bonded"), [(2.04, True), (3.0, False)])
def test_disulfide(write_pdb, gap, bonded):
    lines = _cys("A", 10, 0.0, (2.0, -3.0, 0.0), 1) + _cys("B", 20, 10.0, (2.0, -3.0, gap), 7)
    atoms = read_structure(write_pdb(lines)).atoms
    pairs, orders = covalent_bonds(atoms)
    sg = np.flatnonzero(atoms.atom_name == "SG")
    has = any(set(p) == set(sg.tolist()) for p in pairs.tolist())
    assert has == bonded
    assert len(pairs) == 2 * 5 + int(bonded)
    assert (orders == BondOrder.SINGLE).sum() == 2 * 4 + int(bonded)


def test_crambin_three_disulfides_and_lengths(demo_dir):
    atoms = read_structure(demo_dir / "1EJG.pdb.gz").atoms
    pairs, orders = covalent_bonds(atoms)
    sg = (atoms.atom_name == "SG")
    assert int((sg[pairs[:, 0]] & sg[pairs[:, 1]]).sum()) == 3  # crambin: 3-40, 4-32, 16-26
    d = np.linalg.norm(atoms.coords[pairs[:, 0]] - atoms.coords[pairs[:, 1]], axis=1)
    assert d.min() > 1.1 and d.max() < 2.2
    assert np.bincount(pairs.ravel(), minlength=len(atoms)).min() >= 1  # no isolated heavy atom


def test_ubiquitin_peptide_bonds(demo_dir):
    atoms = read_structure(demo_dir / "1UBI.pdb.gz").atoms
    pairs, _ = covalent_bonds(atoms)
    names = atoms.atom_name
    peptide = ((names[pairs[:, 0]] == "C") & (names[pairs[:, 1]] == "N")) | (
        (names[pairs[:, 0]] == "N") & (names[pairs[:, 1]] == "C"))
    inter = atoms.res_index[pairs[:, 0]] != atoms.res_index[pairs[:, 1]]
    assert int((peptide & inter).sum()) == 75  # 76 residues, one unbroken chain
    # PRO N-CD is intra-residue, never counted above
    assert int((peptide & ~inter).sum()) == 0


def test_atom_graph_fields_and_invariance(write_pdb):
    lines = backbone("GLY", "A", 1, 0.0) + backbone("ALA", "A", 2, 3.8, serial=5) + [
        pdb_atom(9, "CB", "ALA", "A", 2, (5.26, -1.5, 0.0))]
    atoms = read_structure(write_pdb(lines)).atoms
    feats = np.arange(len(atoms) * 2, dtype=np.float64).reshape(len(atoms), 2)
    data = atom_graph(atoms, feats, y=atoms.bfactor)
    pairs, orders = covalent_bonds(atoms)
    assert data.x.dtype == torch.float32 and data.pos.dtype == torch.float32
    assert data.edge_index.shape == (2, 2 * len(pairs))
    assert data.edge_attr.shape == (2 * len(pairs), EDGE_FEATURE_DIM) == (2 * 8, 5)
    ei = data.edge_index.T.tolist()
    assert all([j, i] in ei for i, j in ei)
    onehot = data.edge_attr[:, :4]
    assert torch.all(onehot.sum(1) == 1)
    assert int(onehot[:, 1].sum()) == 4  # two C=O, each in both directions
    src, dst = data.edge_index
    np.testing.assert_allclose(data.edge_attr[:, 4], (data.pos[src] - data.pos[dst]).norm(dim=1), rtol=1e-5)
    torch.testing.assert_close(data.y, torch.as_tensor(atoms.bfactor, dtype=torch.float32))
    # rigid motion leaves edges and edge features unchanged
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    atoms.coords = atoms.coords @ q.T + np.array([3.0, -7.0, 1.0])
    moved = atom_graph(atoms, feats)
    assert torch.equal(moved.edge_index, data.edge_index)
    torch.testing.assert_close(moved.edge_attr, data.edge_attr, atol=1e-4, rtol=0)
