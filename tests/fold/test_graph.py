"""Hop distances, clamping, pooling matrices and pooled adjacencies of the fold multigraph."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import DEMO_STRUCTURES

from pgml.fold.graph import LEVELS, structure_samples
from pgml.fold.hops import hop_pairs, lookup_hops, normalised
from pgml.fold.pooling import (
    compute_pooling_table,
    consecutive_pairs,
    pooled_edges,
    pooling_matrix,
    pooling_table,
    residue_atoms_and_bonds,
    spectral_halving,
)
from pgml.structure.residues import STANDARD_RESIDUES


def test_hops_on_a_hand_made_chain() -> None:
    # path 0-1-2-3-4-5-6-7 plus a branch 2-8: hops are path lengths, capped at 3
    edges = np.array([[i, i + 1] for i in range(7)] + [[2, 8]])
    pairs, hops = hop_pairs(9, edges, max_hops=3)
    got = {(int(i), int(j)): int(h) for (i, j), h in zip(pairs, hops, strict=True)}
    assert got[(0, 1)] == 1 and got[(0, 3)] == 3 and got[(1, 8)] == 2 and got[(0, 8)] == 3
    assert got[(4, 8)] == 3 and got[(3, 8)] == 2
    assert (0, 4) not in got and (5, 8) not in got  # 4 hops apart: beyond the cap
    assert all(i < j for i, j in got)
    q = np.array([[4, 0], [0, 4], [8, 1], [5, 5]])
    assert lookup_hops(9, pairs, hops, q, missing=3).tolist() == [3.0, 3.0, 2.0, 0.0]


def test_hops_match_breadth_first_search_on_a_ring() -> None:
    n = 12
    edges = np.array([[i, (i + 1) % n] for i in range(n)])
    pairs, hops = hop_pairs(n, edges, max_hops=6)
    for (i, j), h in zip(pairs, hops, strict=True):
        assert h == min(j - i, n - (j - i))
    assert len(pairs) == n * (n - 1) // 2  # every pair is within 6 hops on a 12-ring


def test_normalisation_clamps_to_unit_interval() -> None:
    out = normalised(np.array([-1.0, 0.0, 3.0, 6.0, 9.0]), 6.0)
    assert out.tolist() == [0.0, 0.0, 0.5, 1.0, 1.0]


@pytest.mark.parametrize("res", STANDARD_RESIDUES)
def test_amino_acid_pooling_halves_each_residue(res: str) -> None:
    names, _ = residue_atoms_and_bonds(res)
    table = pooling_table()[res]
    assert set(table) == set(names)  # every atom assigned exactly once
    clusters = set(table.values())
    assert clusters == set(range(math.ceil(len(names) / 2)))


def test_stored_pooling_table_matches_recomputation() -> None:
    assert compute_pooling_table() == pooling_table()


def test_spectral_halving_splits_a_path_into_pairs() -> None:
    names = list("abcdef")
    bonds = [(a, b) for a, b in zip(names, names[1:], strict=False)]
    labels = spectral_halving(names, bonds)
    assert len(set(labels)) == 3
    groups = sorted(sorted(np.flatnonzero(labels == c).tolist()) for c in set(labels))
    assert groups == [[0, 1], [2, 3], [4, 5]]


def test_backbone_pooling_merges_consecutive_residues_within_chains() -> None:
    assert consecutive_pairs(np.array(list("AAAAABB"))).tolist() == [0, 0, 1, 1, 2, 3, 3]


def test_pooled_adjacency_is_eq2() -> None:
    rng = np.random.default_rng(0)
    n = 12
    a = np.triu(rng.random((n, n)) < 0.3, 1)
    edges = np.argwhere(a)
    assign = np.array([0, 0, 1, 1, 1, 2, 3, 3, 4, 4, 5, 5])
    p = pooling_matrix(assign)
    dense = p @ (a + a.T).astype(float) @ p.T
    np.fill_diagonal(dense, 0)
    dense = np.minimum(dense, 1)
    got = pooled_edges(edges, assign)
    expected = np.argwhere(np.triu(dense, 1) > 0)
    assert got.tolist() == expected.tolist()
    assert (p.sum(axis=0) == 1).all()  # every node in exactly one cluster


@pytest.fixture(scope="module")
def ubiquitin() -> dict:
    return structure_samples(DEMO_STRUCTURES / "1UBI.pdb.gz")[0]


def test_sample_levels(ubiquitin: dict) -> None:
    s = ubiquitin
    assert len(s["sizes"]) == LEVELS and len(s["assign"]) == LEVELS - 1
    assert s["sizes"][0] == s["n_atoms"] and s["sizes"][2] == s["n_residues"] == 76
    for lev, a in enumerate(s["assign"]):
        assert len(a) == s["sizes"][lev] and set(a.tolist()) == set(range(s["sizes"][lev + 1]))
    # amino-acid pooling about halves the atoms; backbone poolings halve the residues
    assert s["sizes"][1] == pytest.approx(s["sizes"][0] / 2, rel=0.1)
    assert s["sizes"][3] == 38 and s["sizes"][4] == 19
    # hydrogen-bond adjacency B contains A: every covalent 1-hop pair is a 1-hop pair of B
    cov = {tuple(p) for p, h in zip(*s["hops_cov"][0], strict=True) if h == 1}
    hb = {tuple(p) for p, h in zip(*s["hops_hb"][0], strict=True) if h == 1}
    assert cov < hb
    assert s["hbond_source"] == "dssp" and s["n_hbonds"] > 30


def test_missing_side_chains_are_pooled_on_the_fly(write_pdb) -> None:
    from conftest import backbone

    lines = []
    for i in range(6):
        lines += backbone("LYS", "A", i + 1, 3.8 * i, serial=4 * i + 1)  # lysines without side chains
    s = structure_samples(write_pdb(lines), hbond_source="pydssp")[0]
    assert s["sizes"][0] == 24 and s["sizes"][1] == 12 and s["sizes"][2] == 6


def test_ca_only_builds_the_residue_graph_by_option(write_pdb) -> None:
    from conftest import pdb_atom

    from pgml.errors import InputError

    path = write_pdb([pdb_atom(i + 1, "CA", "ALA", "A", i + 1, (3.8 * i, 0.0, 0.0)) for i in range(8)])
    with pytest.raises(InputError, match="CA-only"):
        structure_samples(path)
    s = structure_samples(path, ca_only="residue")[0]
    assert s["sizes"][:3] == [8, 8, 8] and s["hbond_source"] == "none"
    assert sorted(h for h in s["hops_cov"][0][1].tolist() if h == 1) == [1] * 7  # consecutive CAs bonded


# --- the fast paths equal slow reference functions on real structures --------------------------------


def _reference_hops(n: int, edges: np.ndarray, max_hops: int) -> dict[tuple[int, int], int]:
    """Hop distances <= max_hops of every pair i < j by one breadth-first search per node."""
    neighbours: list[set[int]] = [set() for _ in range(n)]
    for i, j in np.asarray(edges, dtype=np.int64).reshape(-1, 2).tolist():
        if i != j:
            neighbours[i].add(j)
            neighbours[j].add(i)
    out = {}
    for start in range(n):
        seen, frontier = {start}, {start}
        for h in range(1, max_hops + 1):
            frontier = {k for f in frontier for k in neighbours[f]} - seen
            seen |= frontier
            out.update({(start, k): h for k in frontier if k > start})
    return out


@pytest.mark.parametrize("block_cells", [7, 50, 4_000_000])
def test_hops_equal_breadth_first_search_on_random_graphs_in_any_block_size(monkeypatch, block_cells: int) -> None:
    import pgml.fold.hops as hops_module

    monkeypatch.setattr(hops_module, "BLOCK_CELLS", block_cells)  # 1 or a few sources per block, or all
    rng = np.random.default_rng(block_cells)
    for _ in range(40):
        n = int(rng.integers(1, 40))
        edges = rng.integers(0, n, size=(int(rng.integers(0, 60)), 2))
        max_hops = int(rng.integers(1, 8))
        pairs, hops = hop_pairs(n, edges, max_hops)
        assert dict(zip(map(tuple, pairs.tolist()), hops.tolist(), strict=True)) == _reference_hops(n, edges, max_hops)
        assert pairs.shape[1] == 2 and np.all(np.diff(pairs[:, 0] * n + pairs[:, 1]) > 0)


@pytest.mark.parametrize("name", ["1UBI.pdb.gz", "4ZHL.cif.gz"])
def test_sample_hops_equal_breadth_first_search_at_every_level(name: str) -> None:
    from pgml.fold.pooling import pooled_edges
    from pgml.structure.bonds import covalent_bonds
    from pgml.structure.io import read_structure

    sample = structure_samples(DEMO_STRUCTURES / name)[0]
    atoms = read_structure(DEMO_STRUCTURES / name).atoms
    atoms = atoms.subset(atoms.protein_mask())
    edges = covalent_bonds(atoms)[0]
    for level, size in enumerate(sample["sizes"]):
        pairs, hops = sample["hops_cov"][level]
        got = dict(zip(map(tuple, pairs.tolist()), hops.tolist(), strict=True))
        assert got == _reference_hops(size, edges, sample["max_hops"]), f"level {level}"
        assert pairs.dtype == np.int64 and hops.dtype == np.int8
        assert np.all(np.diff(pairs[:, 0] * size + pairs[:, 1]) > 0)  # sorted by (i, j)
        if level < len(sample["assign"]):
            edges = pooled_edges(edges, sample["assign"][level])


def _reference_bonds(atoms) -> dict[tuple[int, int], int]:
    """Covalent bonds by a loop over residues: CCD template bonds of atoms present (the last atom of a
    name), C-N between consecutive residues of a chain below PEPTIDE_MAX, SG-SG below DISULFIDE_MAX."""
    from pgml.structure.bonds import DISULFIDE_MAX, PEPTIDE_MAX
    from pgml.structure.residues import standard_bonds

    table = standard_bonds()
    by_res: dict[int, dict[str, int]] = {}
    for r in range(len(atoms)):
        by_res.setdefault(int(atoms.res_index[r]), {})[str(atoms.atom_name[r])] = r
    out: dict[tuple[int, int], int] = {}
    keys = sorted(by_res)
    for k in keys:
        rows = by_res[k]
        name = str(atoms.res_name[next(iter(rows.values()))])
        for a1, a2, order in table.get(name, ()):
            if a1 in rows and a2 in rows:
                out.setdefault((min(rows[a1], rows[a2]), max(rows[a1], rows[a2])), int(order))
    for k, m in zip(keys, keys[1:], strict=False):
        c, n = by_res[k].get("C"), by_res[m].get("N")
        if (m == k + 1 and c is not None and n is not None and atoms.chain_id[c] == atoms.chain_id[n]
                and str(atoms.res_name[c]) in table and str(atoms.res_name[n]) in table
                and np.linalg.norm(atoms.coords[c] - atoms.coords[n]) < PEPTIDE_MAX):
            out.setdefault((min(c, n), max(c, n)), 1)
    sg = [r for r in range(len(atoms)) if atoms.res_name[r] == "CYS" and atoms.atom_name[r] == "SG"]
    for x in sg:
        for y in sg:
            if x < y and np.linalg.norm(atoms.coords[x] - atoms.coords[y]) < DISULFIDE_MAX:
                out.setdefault((x, y), 1)
    return out


@pytest.mark.parametrize("name", ["1UBI.pdb.gz", "4ZHL.cif.gz", "1GBT.cif.gz"])
def test_covalent_bonds_equal_a_loop_over_residues(name: str) -> None:
    from pgml.structure.bonds import covalent_bonds
    from pgml.structure.io import read_structure

    atoms = read_structure(DEMO_STRUCTURES / name, keep_ligands=True).atoms
    pairs, orders = covalent_bonds(atoms)
    assert dict(zip(map(tuple, pairs.tolist()), orders.tolist(), strict=True)) == _reference_bonds(atoms)
    assert pairs.dtype == np.int64 and orders.dtype == np.int8 and np.all(np.diff(pairs[:, 0] * len(atoms) + pairs[:, 1]) > 0)


def test_atom_level_arrays_equal_per_atom_loops() -> None:
    import gemmi

    from pgml.fold.graph import FEATURE_SCALE, atom_type_vocabulary
    from pgml.fold.hbonds import hbond_atom_pairs
    from pgml.structure.io import read_structure

    atoms = read_structure(DEMO_STRUCTURES / "4ZHL.cif.gz").atoms
    atoms = atoms.subset(atoms.protein_mask())
    sample = structure_samples(DEMO_STRUCTURES / "4ZHL.cif.gz")[0]
    vocab = {k: i for i, k in enumerate(atom_type_vocabulary())}
    types = [vocab["OXT"] if a == "OXT" else vocab.get(f"{r}:{a}", vocab["OTHER"])
             for r, a in zip(atoms.res_name, atoms.atom_name, strict=True)]
    assert sample["atom_type"].tolist() == types
    feats = [[gemmi.Element(e).covalent_r, gemmi.Element(e).vdw_r, gemmi.Element(e).weight] for e in atoms.element]
    np.testing.assert_array_equal(sample["atom_feat"], np.asarray(feats, dtype=np.float32) / FEATURE_SCALE)
    ca = np.full(atoms.n_residues, -1)
    for i in range(len(atoms)):
        if atoms.atom_name[i] == "CA":
            ca[atoms.res_index[i]] = i
    assert sample["ca"].tolist() == ca.tolist()
    residue_pairs = np.array([[5, 1], [9, 5], [5, 1], [2, 40]])
    n_of, o_of = {}, {}
    for i in range(len(atoms)):
        (n_of if atoms.atom_name[i] == "N" else o_of if atoms.atom_name[i] == "O" else {}).setdefault(
            int(atoms.res_index[i]), i)
    expected = sorted({(min(n_of[d], o_of[a]), max(n_of[d], o_of[a])) for d, a in residue_pairs.tolist()})
    assert hbond_atom_pairs(atoms, residue_pairs).tolist() == [list(p) for p in expected]
