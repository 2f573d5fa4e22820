"""pgml.structure.io: reading PDB/mmCIF with the shared policy (altlocs, insertion codes, MSE, H, ...)."""

from __future__ import annotations

import gzip
import logging

import numpy as np
import pytest
from conftest import backbone, pdb_atom

from pgml.errors import InputError
from pgml.structure.io import check_backbone, read_header, read_structure, write_bfactors


def test_altloc_keeps_a_once(write_pdb):
    lines = backbone("SER", "A", 1, 0.0) + [
        pdb_atom(5, "CB", "SER", "A", 1, (1.9, -1.4, 0.0), altloc="A", occ=0.4),
        pdb_atom(6, "CB", "SER", "A", 1, (1.9, -1.4, 0.5), altloc="B", occ=0.6),
        pdb_atom(7, "OG", "SER", "A", 1, (3.3, -1.4, 0.0), altloc="A", occ=0.4),
        pdb_atom(8, "OG", "SER", "A", 1, (3.3, -1.4, 0.5), altloc="B", occ=0.6),
    ]
    atoms = read_structure(write_pdb(lines)).atoms
    assert atoms.atom_name.tolist() == ["N", "CA", "C", "O", "CB", "OG"]
    assert atoms.coords[4, 2] == pytest.approx(0.0)  # altloc A, not B
    assert atoms.occupancy[5] == pytest.approx(0.4)


def test_altloc_without_a_takes_highest_occupancy(write_pdb):
    lines = backbone("SER", "A", 1, 0.0) + [
        pdb_atom(5, "CB", "SER", "A", 1, (1.9, -1.4, 0.0), altloc="B", occ=0.3),
        pdb_atom(6, "CB", "SER", "A", 1, (1.9, -1.4, 0.7), altloc="C", occ=0.7),
    ]
    atoms = read_structure(write_pdb(lines)).atoms
    assert (atoms.atom_name == "CB").sum() == 1
    assert atoms.coords[atoms.atom_name == "CB"][0, 2] == pytest.approx(0.7)


def test_insertion_codes_are_distinct_residues(write_pdb):
    lines = (backbone("GLY", "A", 52, 0.0, serial=1) + backbone("GLY", "A", 52, 3.8, serial=5, icode="A")
             + backbone("GLY", "A", 53, 7.6, serial=9))
    atoms = read_structure(write_pdb(lines)).atoms
    assert atoms.n_residues == 3
    assert atoms.res_index.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert atoms.ins_code[4:8].tolist() == ["A"] * 4
    assert atoms.ins_code[:4].tolist() == [""] * 4
    assert atoms.res_seq.tolist() == [52] * 8 + [53] * 4


def _mse(serial: int = 1) -> list[str]:
    return backbone("MSE", "A", 1, 0.0, het=True, serial=serial) + [
        pdb_atom(serial + 4, "CB", "MSE", "A", 1, (1.9, -1.4, 0.0), het=True),
        pdb_atom(serial + 5, "CG", "MSE", "A", 1, (3.4, -1.4, 0.0), het=True),
        pdb_atom(serial + 6, "SE", "MSE", "A", 1, (4.0, -3.2, 0.0), het=True, element="SE"),
        pdb_atom(serial + 7, "CE", "MSE", "A", 1, (5.9, -3.0, 0.0), het=True),
    ]


def test_mse_mapped_to_met(write_pdb):
    atoms = read_structure(write_pdb(_mse())).atoms
    assert set(atoms.res_name.tolist()) == {"MET"}
    assert atoms.atom_name.tolist() == ["N", "CA", "C", "O", "CB", "CG", "SD", "CE"]
    assert atoms.element[6] == "SE"
    assert atoms.hetero.all()


def test_nonstandard_error_names_residue(write_pdb):
    with pytest.raises(InputError, match=r"chain A residue MSE 1: non-standard residue MSE \(parent MET\)"):
        read_structure(write_pdb(_mse()), nonstandard="error")


def test_sep_mapped_and_phosphate_dropped(write_pdb):
    lines = backbone("SEP", "A", 1, 0.0, het=True) + [
        pdb_atom(5, "CB", "SEP", "A", 1, (1.9, -1.4, 0.0), het=True),
        pdb_atom(6, "OG", "SEP", "A", 1, (3.3, -1.4, 0.0), het=True),
        pdb_atom(7, "P", "SEP", "A", 1, (4.0, -2.7, 0.0), het=True),
        pdb_atom(8, "O1P", "SEP", "A", 1, (5.4, -2.7, 0.0), het=True),
    ]
    atoms = read_structure(write_pdb(lines)).atoms
    assert atoms.res_name.tolist() == ["SER"] * 6
    assert "P" not in atoms.element.tolist()


def test_unknown_residue_reported(write_pdb, caplog):
    lines = backbone("ALA", "A", 1, 0.0) + backbone("XYZ", "A", 2, 3.8, serial=5)
    path = write_pdb(lines)
    with pytest.raises(InputError, match=r"test.pdb: model 1 chain A residue XYZ 2: unknown residue XYZ"):
        read_structure(path, nonstandard="error")
    with caplog.at_level(logging.WARNING, logger="pgml.structure.io"):
        atoms = read_structure(path).atoms
    assert atoms.res_name.tolist() == ["ALA"] * 4
    assert "residue XYZ 2" in caplog.text


def test_hydrogens_water_ligands(write_pdb):
    lines = backbone("GLY", "A", 1, 0.0) + [
        pdb_atom(5, "H", "GLY", "A", 1, (0.0, -1.0, 0.0), element="H"),
        pdb_atom(6, "HA2", "GLY", "A", 1, (1.46, -1.0, 0.0), element="H"),
        pdb_atom(7, "O", "HOH", "A", 101, (9.0, 9.0, 9.0), het=True),
        pdb_atom(8, "ZN", "ZN", "A", 102, (-9.0, 9.0, 9.0), het=True, element="ZN"),
    ]
    path = write_pdb(lines)
    assert read_structure(path).atoms.atom_name.tolist() == ["N", "CA", "C", "O"]
    assert len(read_structure(path, keep_hydrogens=True).atoms) == 6
    with_water = read_structure(path, keep_water=True).atoms
    assert with_water.res_name.tolist()[-1] == "HOH" and len(with_water) == 5
    with_lig = read_structure(path, keep_ligands=True).atoms
    assert with_lig.res_name.tolist()[-1] == "ZN" and with_lig.element[-1] == "ZN"
    assert with_lig.protein_mask().tolist() == [True] * 4 + [False]


def test_first_model_only(write_pdb):
    m1 = backbone("GLY", "A", 1, 0.0)
    m2 = backbone("GLY", "A", 1, 50.0)
    path = write_pdb(["MODEL        1", *m1, "ENDMDL", "MODEL        2", *m2, "ENDMDL"],
                     header="EXPDTA    SOLUTION NMR")
    st = read_structure(path)
    assert st.n_models == 2 and st.method == "SOLUTION NMR" and st.resolution is None
    assert st.atoms.coords[:, 0].max() < 10


def test_chains_filter(write_pdb):
    path = write_pdb(backbone("GLY", "A", 1, 0.0) + backbone("ALA", "B", 1, 20.0, serial=5))
    atoms = read_structure(path, chains=["B"]).atoms
    assert set(atoms.chain_id.tolist()) == {"B"}
    with pytest.raises(InputError, match="no protein atoms in chains C"):
        read_structure(path, chains=["C"])


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.pdb", "empty file"),
        (gzip.compress(b""), "empty.pdb.gz", "empty file"),
        (b"ATOM      1  N   ALA A   1      11.104   6.134  -6.504  1.00  0.00           N\n"
         b"ATOM      2  CA  ALA A   1      11.639   6.071  -5.1", "cut.pdb", "unparseable file"),
        (b"HEADER    TEST\nEXPDTA    X-RAY DIFFRACTION\nEND\n", "noatoms.pdb", "no protein atoms"),
        (b"HETATM    1  O   HOH A   1       0.000   0.000   0.000  1.00 10.00           O\n",
         "water.pdb", "no protein atoms"),
        (b"\x00\x01\x02binary", "bin.pdb", "binary content"),
    ],
)
def test_bad_input(tmp_path, content, name, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        read_structure(path)
    assert str(path) in str(info.value)


def test_truncated_gzip(tmp_path, demo_dir):
    data = (demo_dir / "1A8O.pdb.gz").read_bytes()
    path = tmp_path / "1A8O.pdb.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated or corrupt gzip"):
        read_structure(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_structure(tmp_path / "nope.pdb")


def test_missing_backbone(write_pdb):
    lines = backbone("GLY", "A", 1, 0.0) + backbone("GLY", "A", 2, 3.8, serial=5)[1:]
    st = read_structure(write_pdb(lines))
    with pytest.raises(InputError, match=r"chain A residue GLY 2: missing backbone atom\(s\) N"):
        check_backbone(st)
    check_backbone(st, required=("CA",))


def test_demo_headers(demo_dir):
    h = read_header(demo_dir / "3P3W.pdb.gz")
    assert (h.id, h.method, h.resolution, h.n_models) == ("3P3W", "X-RAY DIFFRACTION", 4.2, 1)
    h = read_header(demo_dir / "1LCD.pdb.gz")
    assert (h.method, h.resolution, h.n_models) == ("SOLUTION NMR", None, 3)
    h = read_header(demo_dir / "4CUP.cif.gz")
    assert (h.id, h.method, h.resolution) == ("4CUP", "X-RAY DIFFRACTION", 1.88)


def test_demo_matches_gemmi_counts(demo_dir):
    """Heavy protein atoms of 1UBI (no altlocs, no modified residues) = gemmi's own count."""
    import gemmi

    from pgml.structure.residues import STANDARD_RESIDUES

    st = gemmi.read_structure(str(demo_dir / "1UBI.pdb.gz"))
    expected = sum(1 for ch in st[0] for res in ch if res.name in STANDARD_RESIDUES
                   for a in res if not a.is_hydrogen())
    atoms = read_structure(demo_dir / "1UBI.pdb.gz").atoms
    assert len(atoms) == expected
    assert atoms.n_residues == 76  # ubiquitin


def test_mse_in_real_entry(demo_dir):
    atoms = read_structure(demo_dir / "1A8O.pdb.gz").atoms
    se = atoms.element == "SE"
    assert se.any()
    assert set(atoms.res_name[se].tolist()) == {"MET"} and set(atoms.atom_name[se].tolist()) == {"SD"}


@pytest.mark.parametrize("suffix", [".pdb", ".cif", ".pdb.gz"])
def test_write_bfactors_round_trip(tmp_path, demo_dir, suffix):
    st = read_structure(demo_dir / "1A8O.pdb.gz")
    values = np.linspace(5.0, 80.0, len(st.atoms))
    out = tmp_path / f"pred{suffix}"
    write_bfactors(st, st.atoms, values, out)
    again = read_structure(out)
    np.testing.assert_allclose(again.atoms.coords, st.atoms.coords, atol=1e-3)
    np.testing.assert_allclose(again.atoms.bfactor, values, atol=0.01)
    assert not list(tmp_path.glob(".*tmp*"))
