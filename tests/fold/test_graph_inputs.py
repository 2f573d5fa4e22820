"""build-graphs on awkward structures: the mkdssp fallback is announced, a residue number used twice
and an atom graph larger than the machine are refused before anything is written."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import gemmi
import pytest
from conftest import DEMO_STRUCTURES

from pgml.cli import main
from pgml.errors import InputError
from pgml.fold.graph import residues_numbered_twice, structure_samples

UBI = DEMO_STRUCTURES / "1UBI.pdb.gz"


def _out_of_pdb_range(tmp_path: Path) -> Path:
    st = gemmi.read_structure(str(UBI))
    for chain in st[0]:
        for res in chain:
            res.seqid.num += 20000
    st.setup_entities()
    path = tmp_path / "big.cif"
    st.make_mmcif_document().write_file(str(path))
    return path


def _backbone_o_missing(tmp_path: Path) -> Path:
    """1UBI without the backbone O of every fourth residue: mkdssp reports too few residues (75 %)."""
    text = gzip.decompress(UBI.read_bytes()).decode()
    lines = [ln for ln in text.splitlines()
             if not (ln.startswith("ATOM") and ln[12:16] == " O  " and int(ln[22:26]) % 4 == 0)]
    path = tmp_path / "no_o.pdb"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_structure_out_of_pdb_range_keeps_mkdssp(tmp_path: Path, caplog) -> None:
    """Residue numbers beyond 9999 do not fit PDB: mkdssp runs on mmCIF, no fallback, and the
    H-bonds are those of the same structure with its own numbers."""
    with caplog.at_level(logging.WARNING):
        (big,) = structure_samples(_out_of_pdb_range(tmp_path), hbond_source="mkdssp")
    (ubi,) = structure_samples(UBI, hbond_source="mkdssp")
    assert big["hbond_source"] == "mkdssp" and not [r for r in caplog.records if r.levelno == logging.WARNING]
    assert big["ss3"] == ubi["ss3"] and big["n_hbonds"] == ubi["n_hbonds"] > 30
    for a, b in zip(big["hops_hb"], ubi["hops_hb"], strict=True):
        assert all((x == y).all() for x, y in zip(a, b, strict=True))


def test_mkdssp_fallback_warns_with_file_and_what_pydssp_found(tmp_path: Path, caplog) -> None:
    path = _backbone_o_missing(tmp_path)
    with caplog.at_level(logging.WARNING):
        (sample,) = structure_samples(path, hbond_source="auto")
    assert sample["hbond_source"] == "pydssp"
    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert str(path) in record.getMessage() and "pydssp instead" in record.getMessage()
    assert f"{sample['n_hbonds']} backbone H-bonds" in record.getMessage()


def test_mkdssp_asked_for_is_refused_not_replaced(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no_o\.pdb: mkdssp cannot assign H-bonds \(mkdssp reported 57 residues"):
        structure_samples(_backbone_o_missing(tmp_path), hbond_source="mkdssp")


def test_residue_numbered_twice_is_found_and_microheterogeneity_is_not(tmp_path: Path) -> None:
    text = gzip.decompress(UBI.read_bytes()).decode()
    dup = "\n".join(line[:22] + "   5" + line[26:] if line.startswith("ATOM") and line[22:26] == "  10" else line
                    for line in text.splitlines())
    assert residues_numbered_twice(gemmi.read_pdb_string(dup)) == [("A:5", "VAL", "GLY")]
    assert residues_numbered_twice(gemmi.read_pdb_string(text)) == []
    # a point mutation given as two residues at one position with alternative locations is kept as one
    lines = [ln for ln in text.splitlines() if ln.startswith("ATOM") and ln[22:26] == "   3"]
    alt_a = [ln[:16] + "A" + ln[17:] for ln in lines]
    alt_b = [ln[:16] + "B" + "ALA" + ln[20:] for ln in lines if ln[12:16].strip() in ("N", "CA", "C", "O", "CB")]
    micro = text.replace("\n".join(lines), "\n".join(alt_a + alt_b))
    assert residues_numbered_twice(gemmi.read_pdb_string(micro)) == []


def test_atom_graph_larger_than_memory_is_refused_before_building(tmp_path: Path, monkeypatch, capsys) -> None:
    manifest = tmp_path / "m.txt"
    manifest.write_text(f"{UBI}\n")
    monkeypatch.setenv("PGML_MEMORY_LIMIT", "1M")
    argv = ["fold", "build-graphs", "--manifest", str(manifest), "--output", str(tmp_path / "out" / "g.pt"),
            "--records", str(tmp_path / "out" / "r.tsv")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "atom graphs of 602 atoms" in err and "more than the 1.0 MiB available" in err
    assert "--unit chain or --unit fragment" in err
    assert not (tmp_path / "out").exists()
    monkeypatch.setenv("PGML_MEMORY_LIMIT", "1G")
    assert main(argv) == 0
