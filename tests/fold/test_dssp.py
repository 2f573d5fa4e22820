"""Backbone hydrogen bonds: mkdssp against pydssp on real structures (agreement reported)."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest
from conftest import DEMO_STRUCTURES, SHARED_STRUCTURES

from pgml.fold.hbonds import backbone_hbonds, hbond_atom_pairs
from pgml.structure.dssp import (
    DsspUnavailable,
    _cif_text,
    _mkdssp_classic,
    _mkdssp_mmcif,
    _pdb_text,
    fits_pdb_columns,
    parse_dssp,
    run_mkdssp,
)
from pgml.structure.io import read_structure

needs_mkdssp = pytest.mark.skipif(shutil.which("mkdssp") is None, reason="mkdssp not installed")


def _agreement(path) -> tuple[float, float, int]:
    atoms = read_structure(path).atoms
    atoms = atoms.subset(atoms.protein_mask())
    a = backbone_hbonds(atoms, "mkdssp")
    b = backbone_hbonds(atoms, "pydssp")
    sa, sb = set(map(tuple, a.pairs.tolist())), set(map(tuple, b.pairs.tolist()))
    recall = len(sa & sb) / max(len(sa), 1)  # of mkdssp's bonds, found by pydssp
    precision = len(sa & sb) / max(len(sb), 1)
    return recall, precision, len(sa)


@needs_mkdssp
def test_mkdssp_input_starts_with_header_and_keeps_every_residue() -> None:
    atoms = read_structure(DEMO_STRUCTURES / "1UBI.pdb.gz").atoms
    text, order = _pdb_text(atoms)
    assert text.startswith("HEADER")
    result = run_mkdssp(atoms)
    assert len(result.residues) == len(order) == 76
    assert result.ss3().count("H") > 15 and result.ss3().count("E") > 15


def test_parse_dssp_row() -> None:
    header = "  #  RESIDUE AA STRUCTURE BP1 BP2  ACC     N-H-->O    O-->H-N    N-H-->O    O-->H-N"
    row = ("    3    3 A I  E     -A   15   0A   0     12,-2.3    12,-2.4    -2,-0.4     2,-0.5  "
           "-0.907  22.3-128.1-129.9 159.8   26.3   30.1    7.5")
    rows = parse_dssp(header + "\n" + row + "\n")
    assert rows == [(3, "A", 3, "", "E", [(12, -2.3), (-2, -0.4)])]


@needs_mkdssp
@pytest.mark.parametrize("name", ["1UBI.pdb.gz", "1A8O.pdb.gz", "1GBT.cif.gz", "4ZHL.cif.gz"])
def test_mkdssp_and_pydssp_agree_on_demo_structures(name: str) -> None:
    recall, precision, n = _agreement(DEMO_STRUCTURES / name)
    print(f"{name}: {n} mkdssp H-bonds; pydssp finds {recall:.0%} of them, {precision:.0%} of its own are mkdssp's")
    assert n > 10
    assert precision > 0.9 and recall > 0.6


def test_hbond_atom_pairs_join_donor_n_to_acceptor_o() -> None:
    atoms = read_structure(DEMO_STRUCTURES / "1UBI.pdb.gz").atoms
    pairs = hbond_atom_pairs(atoms, np.array([[5, 1]]))
    (i, j), = pairs.tolist()
    names = {atoms.atom_name[i], atoms.atom_name[j]}
    assert names == {"N", "O"} and {atoms.res_index[i], atoms.res_index[j]} == {5, 1}


@needs_mkdssp
@pytest.mark.shared_data
def test_mkdssp_and_pydssp_agree_on_shared_structures() -> None:
    import pandas as pd

    if not SHARED_STRUCTURES.is_dir():
        pytest.skip(f"{SHARED_STRUCTURES} not present")
    index = pd.read_csv(SHARED_STRUCTURES / "index.tsv", sep="\t")
    small = index[(index["n_atoms_model1"] < 3000) & (index["method"] == "X-RAY DIFFRACTION")].head(8)
    recalls, precisions = [], []
    for f in small["file"]:
        r, p, n = _agreement(SHARED_STRUCTURES / f)
        if n >= 10:
            recalls.append(r)
            precisions.append(p)
    print(f"{len(recalls)} structures: mean recall {np.mean(recalls):.2f}, mean precision {np.mean(precisions):.2f}")
    assert np.mean(precisions) > 0.85 and np.mean(recalls) > 0.6


@needs_mkdssp
def test_mkdssp_skips_a_residue_without_backbone_and_is_still_used() -> None:
    atoms = read_structure(DEMO_STRUCTURES / "1UBI.pdb.gz").atoms
    keep = ~((atoms.res_seq == 40) & (atoms.atom_name == "N"))  # residue 40 loses its N
    result = backbone_hbonds(atoms.subset(keep), "auto")
    assert result.source == "mkdssp" and len(result.pairs) > 30


def _per_residue(result) -> tuple[dict[int, str], set[tuple[int, int]]]:
    return dict(zip(result.residues.tolist(), result.ss8, strict=True)), set(map(tuple, result.hbonds.tolist()))


def _copies(atoms, chain_ids: list[str]):
    """``atoms`` repeated, 60 Å apart, one chain per copy with the given IDs."""
    parts = []
    for k, chain in enumerate(chain_ids):
        fields = {f.name: getattr(atoms, f.name).copy() for f in dataclasses.fields(atoms)}
        fields["coords"] = fields["coords"] + 60.0 * k
        fields["chain_id"] = np.full(len(atoms), chain, dtype=object).astype(str)
        fields["res_index"] = fields["res_index"] + k * atoms.n_residues
        parts.append(fields)
    return type(atoms)(**{k: np.concatenate([p[k] for p in parts]) for k in parts[0]})


@needs_mkdssp
@pytest.mark.parametrize("name", ["1UBI.pdb.gz", "4ZHL.cif.gz"])
def test_mmcif_path_gives_the_classic_result(name: str) -> None:
    atoms = read_structure(DEMO_STRUCTURES / name).atoms
    atoms = atoms.subset(atoms.protein_mask())
    text, order = _cif_text(atoms)
    assert "_pdbx_poly_seq_scheme.asym_id" in text and len(order) == atoms.n_residues
    classic = _per_residue(_mkdssp_classic("mkdssp", atoms, 300))
    mmcif = _per_residue(_mkdssp_mmcif("mkdssp", atoms, 300))
    assert classic == mmcif and len(classic[1]) > 30


@needs_mkdssp
def test_structure_with_long_chain_ids_keeps_mkdssp() -> None:
    """Two-character chain IDs do not fit PDB: mkdssp runs on mmCIF, and two far-apart copies of 1UBI
    get each copy's H-bonds and secondary structure exactly."""
    one = read_structure(DEMO_STRUCTURES / "1UBI.pdb.gz").atoms
    one = one.subset(one.protein_mask())
    two = _copies(one, ["AA", "AB"])
    assert not fits_pdb_columns(two)
    single, pair = run_mkdssp(one), run_mkdssp(two)
    ss, bonds = _per_residue(single)
    n = one.n_residues
    expected_ss = {**ss, **{r + n: c for r, c in ss.items()}}
    expected_bonds = bonds | {(a + n, b + n) for a, b in bonds}
    assert _per_residue(pair) == (expected_ss, expected_bonds)
    result = backbone_hbonds(two, "mkdssp")
    assert result.source == "mkdssp" and len(result.pairs) == 2 * len(single.hbonds)


@needs_mkdssp
@pytest.mark.shared_data
@pytest.mark.slow
def test_large_shared_structure_keeps_mkdssp_on_mmcif() -> None:
    """6WG6 (12 chains, 19,958 protein atoms) with two-character chain IDs goes to mkdssp as mmCIF and
    gets the residues, letters and H-bonds of the classic PDB run."""
    path = SHARED_STRUCTURES / "files" / "6WG6.cif.gz"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    atoms = read_structure(path).atoms
    atoms = atoms.subset(atoms.protein_mask())
    renamed = dataclasses.replace(atoms, chain_id=np.char.add(atoms.chain_id.astype(str), "x"))
    assert len(atoms) > 19_000 and fits_pdb_columns(atoms) and not fits_pdb_columns(renamed)
    classic = _per_residue(_mkdssp_classic("mkdssp", atoms, 600))
    result = backbone_hbonds(renamed, "mkdssp")
    assert result.source == "mkdssp"
    assert set(map(tuple, result.pairs.tolist())) == classic[1] and len(classic[1]) > 1500


@needs_mkdssp
@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["11AS.pdb.gz", "1AVG.pdb.gz", "1DIX.pdb.gz"])
def test_mmcif_path_gives_the_classic_result_on_shared_structures(name: str) -> None:
    """Two chains (11AS), insertion codes (1AVG: 437 atoms, 1DIX: 21 atoms)."""
    path = SHARED_STRUCTURES / "files" / name
    if not path.is_file():
        pytest.skip(f"{path} not present")
    atoms = read_structure(path).atoms
    atoms = atoms.subset(atoms.protein_mask())
    classic = _per_residue(_mkdssp_classic("mkdssp", atoms, 300))
    assert _per_residue(_mkdssp_mmcif("mkdssp", atoms, 300)) == classic and len(classic[1]) > 100


@needs_mkdssp
@pytest.mark.shared_data
def test_pdb_route_when_mkdssp_cannot_write_mmcif() -> None:
    """mkdssp 4.2 stops writing 2SRC's mmCIF (duplicate ``_struct_sheet_range`` key); the PDB route
    still gives mkdssp's H-bonds."""
    path = SHARED_STRUCTURES / "files" / "2SRC.pdb.gz"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    atoms = read_structure(path).atoms
    atoms = atoms.subset(atoms.protein_mask())
    result = backbone_hbonds(atoms, "mkdssp")
    assert result.source == "mkdssp"
    assert set(map(tuple, result.pairs.tolist())) == _per_residue(_mkdssp_classic("mkdssp", atoms, 300))[1]


@needs_mkdssp
def test_run_mkdssp_takes_the_pdb_route_when_the_mmcif_run_fails(monkeypatch) -> None:
    import pgml.structure.dssp as dssp

    atoms = read_structure(DEMO_STRUCTURES / "1UBI.pdb.gz").atoms
    expected = _per_residue(_mkdssp_classic("mkdssp", atoms, 300))

    def failing(*_args, **_kwargs):
        raise DsspUnavailable("mkdssp failed (status 1): Duplicate Key violation")

    monkeypatch.setattr(dssp, "_mkdssp_mmcif", failing)
    assert _per_residue(run_mkdssp(atoms)) == expected
    long_ids = _copies(atoms.subset(atoms.protein_mask()), ["AA"])  # does not fit PDB: no second route
    with pytest.raises(DsspUnavailable, match="Duplicate Key"):
        run_mkdssp(long_ids)
