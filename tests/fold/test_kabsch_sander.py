"""DSSP's rules in NumPy (pgml.structure.kabsch_sander): hand-computed energies and letters, and the
same H-bond pairs and three-state letters as mkdssp 4.2 on real structures."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import DEMO_STRUCTURES, SHARED_STRUCTURES

from pgml.fold.graph import structure_samples
from pgml.fold.hbonds import backbone_hbonds
from pgml.structure import kabsch_sander as ks
from pgml.structure.io import AtomTable, read_structure

needs_mkdssp = pytest.mark.skipif(shutil.which("mkdssp") is None, reason="mkdssp not installed")


def _table(residues: list[tuple[str, dict[str, tuple[float, float, float]]]], chains: list[str] | None = None):
    """An AtomTable of residues given as (name, {atom: xyz})."""
    rows = [(k, name, atom, xyz) for k, (name, atoms) in enumerate(residues) for atom, xyz in atoms.items()]
    n = len(rows)
    chains = chains or ["A"] * len(residues)
    return AtomTable(
        coords=np.asarray([r[3] for r in rows], dtype=np.float64),
        element=np.asarray([r[2][0] for r in rows]), atom_name=np.asarray([r[2] for r in rows]),
        res_name=np.asarray([r[1] for r in rows]), res_seq=np.asarray([r[0] + 1 for r in rows]),
        ins_code=np.full(n, ""), chain_id=np.asarray([chains[r[0]] for r in rows]),
        res_index=np.asarray([r[0] for r in rows], dtype=np.int64), bfactor=np.zeros(n), occupancy=np.ones(n),
        hetero=np.zeros(n, dtype=bool))


def _far(x: float) -> dict[str, tuple[float, float, float]]:
    return {"N": (x, 50.0, 0.0), "CA": (x + 1.0, 50.0, 0.0), "C": (x + 2.0, 50.0, 0.0), "O": (x + 2.0, 51.0, 0.0)}


def _donor_acceptor(donor_name: str = "GLY"):
    """Residue 0 (C=O along -x, |C-O| 1.2 Å) puts the H of residue 1 at N + (1, 0, 0); residue 3's O
    and C lie on the x axis 3 and 4.2 Å from residue 1's N; residue 2 is out of reach."""
    r0 = {"N": (-3.0, -1.0, 0.0), "CA": (-2.0, -1.0, 0.0), "C": (-1.0, 2.0, 0.0), "O": (-2.2, 2.0, 0.0)}
    r1 = {"N": (0.0, 0.0, 0.0), "CA": (0.0, -1.4, 0.0), "C": (0.0, -2.4, 1.0), "O": (0.0, -2.4, 2.2)}
    r3 = {"N": (6.0, 1.0, 0.0), "CA": (5.5, 1.0, 0.0), "C": (4.2, 0.0, 0.0), "O": (3.0, 0.0, 0.0)}
    return _table([("GLY", r0), (donor_name, r1), ("GLY", _far(40.0)), ("GLY", r3)])


def test_hydrogen_and_energy_by_hand() -> None:
    bb = ks.Backbone(_donor_acceptor())
    assert np.allclose(bb.h[1], [1.0, 0.0, 0.0]) and np.allclose(bb.h[0], bb.n[0])  # first residue: H = N
    donor, acceptor, energy = ks.hbond_energies(bb)
    got = {(int(d), int(a)): e for d, a, e in zip(donor, acceptor, energy, strict=True)}
    # E = 27.888 (1/r_ON + 1/r_CH - 1/r_OH - 1/r_CN) kcal/mol with r_ON 3, r_CH 3.2, r_OH 2, r_CN 4.2 Å
    expected = 27.888 * (1 / 3 + 1 / 3.2 - 1 / 2 - 1 / 4.2)
    assert got[(1, 3)] == pytest.approx(expected, abs=1e-3) and got[(1, 3)] < -2.5
    assert (1, 2) not in got and (2, 1) not in got  # CA atoms 40 Å apart: never evaluated
    assert (1, 0) not in got  # the next residue is never a donor to the one before it
    result = ks.assign(_donor_acceptor())
    assert result.hbonds.tolist() == [[1, 3]]


def test_proline_donates_no_bond() -> None:
    donor, _, _ = ks.hbond_energies(ks.Backbone(_donor_acceptor("PRO")))
    assert 1 not in donor.tolist()
    assert ks.assign(_donor_acceptor("PRO")).hbonds.tolist() == []


def test_two_best_acceptors_kept_ties_to_the_earlier() -> None:
    donor = np.array([0, 0, 0, 0, 1])
    acceptor = np.array([5, 3, 4, 2, 0])
    energy = np.array([-1.0, -2.0, -1.0, 0.5, -0.3])
    acc, en = ks.best_acceptors(6, donor, acceptor, energy)
    assert acc[0].tolist() == [3, 4] and en[0].tolist() == [-2.0, -1.0]  # -1.0 twice: residue 4 before 5
    assert acc[1].tolist() == [0, -1] and acc[2].tolist() == [-1, -1]  # positive energies never count


def test_round_half_away_from_zero_as_c() -> None:
    assert ks._round_half_away(np.array([2.5, -2.5, 0.5, -1.4999])).tolist() == [3.0, -3.0, 1.0, -1.0]


def _chain(n: int):
    """A stand-in Backbone: ``n`` residues of one unbroken chain."""
    bb = ks.Backbone.__new__(ks.Backbone)
    bb.residues = np.arange(n)
    bb.chain = np.full(n, "A")
    bb._segment = np.zeros(n, dtype=np.int64)
    return bb


def _bonds(n: int, pairs: list[tuple[int, int]]):
    acc, en = np.full((n, 2), -1), np.zeros((n, 2))
    for d, a in pairs:
        slot = 0 if acc[d, 0] < 0 else 1
        acc[d, slot], en[d, slot] = a, -2.0
    return ks._Bonds(acc, en)


def test_alpha_helix_letters_by_hand() -> None:
    # bonds k+4 -> k for k = 0..5: n-turns start at 0..5, consecutive starts at 1..5 -> H on 1..8
    n = 12
    ss = ks.three_state(_chain(n), _bonds(n, [(k + 4, k) for k in range(6)]))
    assert "".join(ss) == " HHHHHHHH   "


def test_antiparallel_ladder_letters_by_hand() -> None:
    # (2, 13) and (4, 11) bonded both ways: antiparallel bridges at (2, 13) and (4, 11) and, from
    # 4 -> 11 with 13 -> 2, at (3, 12): one ladder, E on 2..4 and 11..13
    n = 16
    bonds = [(2, 13), (13, 2), (4, 11), (11, 4)]
    ss = ks.three_state(_chain(n), _bonds(n, bonds))
    assert "".join(ss) == "  EEE      EEE  "
    # a lone bridge is B
    ss = ks.three_state(_chain(n), _bonds(n, [(2, 13), (13, 2)]))
    assert "".join(ss) == "  B          B  "


def test_chain_break_stops_a_helix() -> None:
    n = 12
    bb = _chain(n)
    bb._segment = np.r_[np.zeros(6, dtype=np.int64), np.ones(6, dtype=np.int64)]
    ss = ks.three_state(bb, _bonds(n, [(k + 4, k) for k in range(6)]))
    assert "".join(ss) == " HHHH       "  # only the turns at 0 and 1 lie inside one piece


def test_missing_backbones_are_named_in_a_warning(caplog) -> None:
    import logging

    atoms = read_structure(DEMO_STRUCTURES / "1UBI.pdb.gz").atoms
    keep = ~((atoms.res_seq % 4 == 0) & (atoms.atom_name == "O"))  # every fourth residue loses its O
    with caplog.at_level(logging.WARNING):
        result = backbone_hbonds(atoms.subset(keep), "dssp", path="no_o.pdb")
    assert result.source == "dssp" and len(result.pairs) > 0
    assert any("no_o.pdb: only 57 of 76 residues have a complete backbone" in r.getMessage() for r in caplog.records)


def test_libstdcxx_sort_orders_like_sorted_for_distinct_keys() -> None:
    rng = np.random.default_rng(0)
    values = rng.permutation(200).tolist()
    assert ks._libstdcxx_sort(values, lambda p, q: p < q) == sorted(values)


@needs_mkdssp
@pytest.mark.parametrize("name", ["1UBI.pdb.gz", "1A8O.pdb.gz", "1GBT.cif.gz", "4ZHL.cif.gz"])
def test_same_pairs_letters_and_graph_as_mkdssp_on_demo_structures(name: str) -> None:
    atoms = read_structure(DEMO_STRUCTURES / name).atoms
    atoms = atoms.subset(atoms.protein_mask())
    ours, theirs = backbone_hbonds(atoms, "dssp"), backbone_hbonds(atoms, "mkdssp")
    assert ours.source == "dssp" and theirs.source == "mkdssp"
    assert np.array_equal(ours.pairs, theirs.pairs) and np.array_equal(ours.ss3, theirs.ss3)
    assert len(ours.pairs) > 10
    (a,), (b,) = structure_samples(DEMO_STRUCTURES / name), structure_samples(DEMO_STRUCTURES / name,
                                                                                hbond_source="mkdssp")
    for key in ("hops_cov", "hops_hb", "assign", "sizes", "ss3", "helix", "strand", "n_hbonds"):
        assert repr(a[key]) == repr(b[key]), key


@needs_mkdssp
@pytest.mark.shared_data
def test_same_pairs_and_letters_as_mkdssp_on_shared_structures() -> None:
    import pandas as pd

    from pgml.errors import InputError
    from pgml.structure.dssp import DsspUnavailable, run_mkdssp

    if not SHARED_STRUCTURES.is_dir():
        pytest.skip(f"{SHARED_STRUCTURES} not present")
    index = pd.read_csv(SHARED_STRUCTURES / "index.tsv", sep="\t")
    index = index[index["n_atoms_model1"] < 15000].iloc[::4]  # every fourth entry, sizes up to 15k atoms
    tested, differ = 0, []
    for pdb_id, f in zip(index["pdb_id"], index["file"], strict=True):
        try:
            atoms = read_structure(SHARED_STRUCTURES / f).atoms
            mk = run_mkdssp(atoms.subset(atoms.protein_mask()))
        except (InputError, DsspUnavailable):  # unreadable for pgml or for mkdssp: nothing to compare
            continue
        ours = ks.assign(atoms.subset(atoms.protein_mask()))
        tested += 1
        same = (np.array_equal(ours.residues, mk.residues) and ours.ss3() == mk.ss3()
                and np.array_equal(ours.hbonds, mk.hbonds))
        if not same:
            differ.append(pdb_id)
    print(f"{tested} structures compared with mkdssp; differing: {differ}")
    assert tested >= 40
    assert len(differ) <= 0.05 * tested, differ
