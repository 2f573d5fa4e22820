"""Alignment readers (each format), filters, weights and Neff on hand-made alignments."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from pgml.contact.alignment import ALPHABET, GAP, read_alignment
from pgml.contact.weights import filter_alignment, identity_matrix, neff, sequence_weights
from pgml.errors import InputError

ROWS = ["ACDEF", "ACDEY", "-CDEF"]
SHARED_MSA = REPO.parent / "shared" / "data" / "contact" / "msa"


def decode(msa: np.ndarray) -> list[str]:
    return ["".join(ALPHABET[k] for k in row) for row in msa]


@pytest.mark.parametrize(("name", "text"), [
    ("x.a3m", ">q desc\nACDEF\n>s1\nACkkDEY\n>s2\n-CD.EF\n"),
    ("x.a2m", ">q\nAC.DEF\n>s1\nACkDEY\n>s2\n-C.DEF\n"),
    ("x.sto", "# STOCKHOLM 1.0\n#=GF ID x\nq  AC.\ns1 ACk\ns2 -C.\n\nq  DEF\ns1 DEY\ns2 DEF\n//\n"),
    ("x.fasta", ">q\nACD\nEF\n>s1\nACDEY\n>s2\n-CDEF\n"),
    ("x.aln", "ACDEF\nACDEY\n-CDEF\n"),
])
def test_each_format_gives_the_same_alignment(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    aln = read_alignment(path)
    assert decode(aln.msa) == ROWS
    assert aln.query == "ACDEF"
    gz = tmp_path / (name + ".gz")
    gz.write_bytes(gzip.compress(text.encode()))
    assert decode(read_alignment(gz).msa) == ROWS


def test_a2m_focus_mode_drops_query_gap_columns(tmp_path: Path) -> None:
    path = tmp_path / "x.a2m"
    path.write_text(">q\nAC-DE\n>s\nACWDE\n")
    assert decode(read_alignment(path).msa) == ["ACDE", "ACDE"]


def test_ambiguous_letters_are_gaps(tmp_path: Path) -> None:
    path = tmp_path / "x.aln"
    path.write_text("ACXBZ\n")
    assert read_alignment(path).msa[0].tolist() == [0, 4, GAP, GAP, GAP]


@pytest.mark.parametrize(("text", "message"), [
    (">q\nACDE\n>s\nACD\n", r"sequence s: ragged alignment: 3 columns where the query has 4"),
    (">q\nACDE\n>s\nAC1E\n", r"sequence s: unknown letter '1' at column 3"),
    ("", r"empty alignment"),
    (">q\n----\n", r"the query is all gaps"),
])
def test_bad_alignments(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "x.fasta"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_alignment(path)


def test_identity_and_weights_on_a_hand_made_alignment() -> None:
    # rows 0 and 1 share 4 of 5 columns (0.8), row 2 shares 4 with row 0 and 3 with row 1, row 3 is unrelated
    msa = np.array([[0, 1, 2, 3, 4], [0, 1, 2, 3, 5], [GAP, 1, 2, 3, 4], [6, 7, 8, 9, 10]], dtype=np.uint8)
    ident = identity_matrix(msa)
    assert ident[0, 1] == pytest.approx(0.8) and ident[1, 2] == pytest.approx(0.6)
    w = sequence_weights(msa, 0.8)
    # neighbours at >= 80 %: {0,1,2}, {0,1}, {0,2}, {3}
    assert w.tolist() == pytest.approx([1 / 3, 1 / 2, 1 / 2, 1.0])
    assert neff(w) == pytest.approx(1 / 3 + 1 / 2 + 1 / 2 + 1)


def test_filter_by_coverage_and_identity(tmp_path: Path) -> None:
    path = tmp_path / "x.aln"
    path.write_text("ACDEFGHIKL\nACDEFGHIKM\n---EFGHI--\nWWWWWWWWWW\nACDEFGHIKL\n")
    aln = read_alignment(path)
    assert len(filter_alignment(aln, min_coverage=0.7)) == 4
    kept = filter_alignment(aln, max_identity=0.85)
    # row 1 (90 % to row 0) and row 4 (a duplicate of row 0) go; row 2 is 60 % identical to row 0
    assert kept.names == ["seq1", "seq3", "seq4"]


@pytest.mark.parametrize("engine", ["jackhmmer", "mmseqs"])
def test_search_rows_sit_on_the_query_columns(tmp_path: Path, engine: str) -> None:
    import shutil

    from pgml.contact.search import jackhmmer_alignment, mmseqs_alignment

    if engine == "mmseqs" and shutil.which("mmseqs") is None:
        pytest.skip("mmseqs not installed")

    query = "MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG"  # ubiquitin
    # homologues: point mutants, one with a 5-residue deletion (positions 31-35) and one with an insertion
    mutant = query[:10] + "A" + query[11:]
    deleted = query[:30] + query[35:]
    inserted = query[:40] + "WWW" + query[40:]
    db = tmp_path / "db.fasta"
    db.write_text(f">mut\n{mutant}\n>del\n{deleted}\n>ins\n{inserted}\n>other\n{'ACDEFGHIKL' * 6}\n")
    if engine == "jackhmmer":
        aln = jackhmmer_alignment(query, db, iterations=1, evalue=1e-3)
    else:
        aln = mmseqs_alignment(query, db, evalue=1e-3)
    rows = dict(zip(aln.names, ["".join(ALPHABET[k] for k in r) for r in aln.msa], strict=True))
    assert set(rows) == {"query", "mut/1", "del/1", "ins/1"}
    assert rows["mut/1"] == mutant
    assert rows["ins/1"] == query
    assert rows["del/1"][:30] == query[:30] and rows["del/1"][35:] == query[35:]
    assert rows["del/1"][30:35].count("-") >= 4


@pytest.mark.parametrize(("name", "text"), [
    ("x.fasta", ">q\n--ACDE-F\n>s\nWWACDEYF\n"),
    ("x.aln", "--ACDE-F\nWWACDEYF\n"),
    ("x.a3m", ">q\n--ACDE-F\n>s\nWWACDEYF\n"),
])
def test_query_gap_columns_are_dropped(tmp_path: Path, name: str, text: str) -> None:
    """Column i is query residue i in every format: the columns where the query has a gap go."""
    path = tmp_path / name
    path.write_text(text)
    aln = read_alignment(path)
    assert decode(aln.msa) == ["ACDEF", "ACDEF"]


def test_pssm_has_one_row_per_query_residue(tmp_path: Path) -> None:
    from pgml.cli import main

    query = "MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG"
    path = tmp_path / "gapped.fasta"
    path.write_text(f">q\n----{query}\n>s\nAAAA{query}\n>t\nCCCC{query[:-3]}WWW\n")
    assert main(["contact", "pssm", "--alignment", str(path), "--output", str(tmp_path / "q.tsv")]) == 0
    table = pd.read_csv(tmp_path / "q.tsv", sep="\t")
    assert len(table) == len(query) == 76
    assert "".join(table["residue"]) == query


def test_stockholm_row_twice_in_a_block_is_named(tmp_path: Path) -> None:
    path = tmp_path / "x.sto"
    path.write_text("# STOCKHOLM 1.0\nq ACDE\ns ACDF\nq ACDE\n\nq GH\ns GH\n//\n")
    with pytest.raises(InputError, match=r"sequence q: row given twice in one block \(lines 2 and 4\)"):
        read_alignment(path)
    # one row per name and block is a multi-block file
    path.write_text("# STOCKHOLM 1.0\nq ACDE\ns ACDF\n\nq GH\ns GY\n//\n")
    assert decode(read_alignment(path).msa) == ["ACDEGH", "ACDFGY"]


@pytest.mark.shared_data
def test_real_files_query_gaps_and_a_repeated_pfam_row() -> None:
    """ProDy's 3HSY/3O21 FASTA starts with query gaps; its Pfam Cys-knot Stockholm repeats its first row."""
    folder = SHARED_MSA / "prody_msa"
    if not folder.is_dir():
        pytest.skip(f"{folder} absent")
    text = (folder / "msa_3hsyA_3o21A.fasta").read_text()
    query = "".join(text.split(">")[1].splitlines()[1:])
    aln = read_alignment(folder / "msa_3hsyA_3o21A.fasta")
    assert aln.query == query.replace("-", "")
    with pytest.raises(InputError, match=r"msa_Cys_knot\.sth\.gz: sequence GTHB2_ONCKE/26-130: row given twice"):
        read_alignment(folder / "msa_Cys_knot.sth.gz")


def test_truncated_gzip_and_directory_are_named(tmp_path: Path) -> None:
    data = gzip.compress(b">q\nACDEFGHIK\n" * 200)
    (tmp_path / "x.a3m.gz").write_bytes(data[:40])
    with pytest.raises(InputError, match=r"x\.a3m\.gz: truncated or corrupt gzip file"):
        read_alignment(tmp_path / "x.a3m.gz")
    with pytest.raises(InputError, match=r"is a directory, not an alignment file"):
        read_alignment(tmp_path)


UBIQUITIN = "MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG"


def _database(tmp_path: Path, n: int = 6) -> Path:
    rng = np.random.default_rng(1)
    rows = []
    for _ in range(n):
        row = np.array(list(UBIQUITIN))
        hit = rng.random(len(row)) < 0.15
        row[hit] = rng.choice(list("ARNDCQEGHILKMFPSTWYV"), int(hit.sum()))
        rows.append("".join(row))
    db = tmp_path / "db.fasta"
    db.write_text("".join(f">h{k}\n{row}\n" for k, row in enumerate(rows)) + f">other\n{'ACDEFGHIKL' * 6}\n")
    return db


def test_build_msa_searches_a_fasta_query_without_a_structure(tmp_path: Path) -> None:
    from pgml.cli import main

    query = tmp_path / "ubq.fasta"
    query.write_text(f">ubq\n{UBIQUITIN}\n")
    out = tmp_path / "ubq.aln"
    assert main(["contact", "build-msa", "--sequence", str(query), "--database", str(_database(tmp_path)),
                 "--iterations", "1", "--output", str(out)]) == 0
    rows = out.read_text().split()
    assert rows[0] == UBIQUITIN and len(rows) == 7 and all(len(r) == 76 for r in rows)


def test_mmseqs_max_seqs_is_passed_on(tmp_path: Path) -> None:
    import shutil

    from pgml.contact.search import mmseqs_alignment

    if shutil.which("mmseqs") is None:
        pytest.skip("mmseqs not installed")
    db = _database(tmp_path)
    assert len(mmseqs_alignment(UBIQUITIN, db, max_seqs=300)) == 7
    assert len(mmseqs_alignment(UBIQUITIN, db, max_seqs=2, sensitivity=1.0)) <= 3


def test_hhblits_is_optional(tmp_path: Path) -> None:
    import shutil

    from pgml.contact.search import hhblits_alignment

    if shutil.which("hhblits") is not None:
        with pytest.raises(InputError, match="not an HH-suite database prefix"):
            hhblits_alignment(UBIQUITIN, tmp_path / "uniref30")
    else:
        with pytest.raises(InputError, match="hhblits not found on PATH .*use --engine jackhmmer or mmseqs"):
            hhblits_alignment(UBIQUITIN, tmp_path / "uniref30")


@pytest.mark.parametrize(("text", "message"), [
    (">a\nMQIF\n>a\nMQIV\n", r"sequence a: sequence name given twice"),
    (">a\nMQ1F\n", r"sequence a: unknown letter '1' at position 3"),
    ("MQIF\n", r"no FASTA record"),
])
def test_bad_query_files(tmp_path: Path, text: str, message: str) -> None:
    from pgml.contact.search import read_queries

    path = tmp_path / "q.fasta"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_queries(path)
