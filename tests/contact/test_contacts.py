"""Top-L/k precision by range on a hand-made map, PSSM of a one-sequence alignment, the simulator, maps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import DEMO_STRUCTURES

from pgml.contact.alignment import ALPHABET
from pgml.contact.contacts import check_query, native_contacts, precision_table, top_precision
from pgml.contact.maps import write_maps
from pgml.contact.pssm import BACKGROUND, pssm_from_msa, substitution_probabilities
from pgml.errors import InputError


def test_top_precision_by_range_on_a_hand_made_map() -> None:
    length = 30  # L/5 = 6, L/2 = 15, L = 30
    scores = np.zeros((length, length))
    distances = np.full((length, length), 20.0)
    # long range (>= 24): pairs (0,24)..(5,29) exist; score all six, make 3 of them contacts
    for k in range(6):
        scores[k, k + 24] = 10 - k
        if k % 2 == 0:
            distances[k, k + 24] = 5.0
    # short range (6-11): one contact, scored best
    scores[0, 7] = 5.0
    distances[0, 7] = 4.0
    table = precision_table(scores, distances)
    assert table["long_L/5"] == pytest.approx(3 / 6)
    # short L/5: the contact first, then 5 non-contacts (score 0)
    assert table["short_L/5"] == pytest.approx(1 / 6)
    assert table["medium_L/5"] == 0.0
    known = np.ones_like(scores, dtype=bool)
    assert top_precision(scores, distances < 8, known, "long", 30) == 1.0  # top 1


def test_pssm_of_a_one_sequence_alignment_is_the_blosum_row() -> None:
    query = "ACW"
    msa = np.array([[ALPHABET.index(a) for a in query]], dtype=np.uint8)
    scores = pssm_from_msa(msa, np.ones(1))
    cond = substitution_probabilities()
    np.testing.assert_allclose(cond.sum(axis=1), 1.0)
    for i, a in enumerate(query):
        k = ALPHABET.index(a)
        np.testing.assert_allclose(scores[i], np.log2(cond[k] / BACKGROUND))
        assert np.argmax(scores[i]) == k


def test_native_contacts_and_query_check() -> None:
    native = native_contacts(DEMO_STRUCTURES / "1EJG.pdb.gz")
    assert len(native.sequence) == 46
    assert native.distances[0, 1] < 8 and np.allclose(native.distances, native.distances.T, equal_nan=True)
    np.testing.assert_array_equal(check_query(native.sequence, native, "q"), native.distances)
    # a longer (full-length) query keeps its numbering: the extra residue has no distance
    longer = check_query("M" + native.sequence, native, "q")
    np.testing.assert_array_equal(longer[1:, 1:], native.distances)
    assert np.isnan(longer[0]).all()
    with pytest.raises(InputError, match="query does not match the structure's chain"):
        check_query("W" * 46, native, "q")


def _without_loop(tmp_path: Path, first: int, last: int) -> Path:
    """1UBI with residues ``first..last`` deleted (an unresolved loop), numbering kept."""
    import gzip

    lines = gzip.decompress((DEMO_STRUCTURES / "1UBI.pdb.gz").read_bytes()).decode().splitlines()
    kept = [line for line in lines if not (line.startswith(("ATOM", "HETATM")) and first <= int(line[22:26]) <= last)]
    path = tmp_path / "1UBI_loop.pdb"
    path.write_text("\n".join(kept) + "\n")
    return path


def test_full_length_query_with_a_missing_loop_is_scored_in_query_numbering(tmp_path: Path) -> None:
    """A full-length query against a structure missing residues 30-39 gives the same precision as the
    intact structure with the loop's pairs scored as absent; numbering the observed residues 1..66
    instead (the cut query) moves pairs between ranges."""
    intact = native_contacts(DEMO_STRUCTURES / "1UBI.pdb.gz")
    gapped = native_contacts(_without_loop(tmp_path, 30, 39))
    query = intact.sequence
    assert len(query) == 76 and len(gapped.sequence) == 66
    rng = np.random.default_rng(0)
    scores = rng.random((76, 76))
    scores = scores + scores.T + 2.0 * (np.nan_to_num(intact.distances, nan=99.0) < 8)  # informative
    mapped = check_query(query, gapped, "q")
    loop = np.zeros(76, dtype=bool)
    loop[29:39] = True
    absent = intact.distances.copy()
    absent[loop, :] = np.nan
    absent[:, loop] = np.nan
    np.testing.assert_array_equal(np.isnan(mapped), np.isnan(absent))
    np.testing.assert_allclose(mapped[~np.isnan(mapped)], absent[~np.isnan(absent)])
    full = precision_table(scores, mapped)
    assert full == precision_table(scores, absent)
    assert 0 < full["long_L/5"] <= 1
    # the old way: the 66 observed residues numbered 1..66 shift every pair across the loop by 10
    observed = ~loop
    cut = precision_table(scores[np.ix_(observed, observed)], gapped.distances)
    sep = np.abs(np.subtract.outer(np.flatnonzero(observed), np.flatnonzero(observed)))
    cut_sep = np.abs(np.subtract.outer(np.arange(66), np.arange(66)))
    assert ((sep >= 24) != (cut_sep >= 24)).any()
    assert cut != full


def test_simulated_alignment_is_seeded_and_keeps_the_query() -> None:
    from pgml.contact.params import SimulateParams
    from pgml.contact.simulate import simulate_alignment

    native = native_contacts(DEMO_STRUCTURES / "1EJG.pdb.gz")
    params = SimulateParams(n_sequences=20, burn_in=2)
    a = simulate_alignment(native, params, seed=3)
    b = simulate_alignment(native, params, seed=3)
    assert a.query == native.sequence and a.msa.shape == (21, 46)
    np.testing.assert_array_equal(a.msa, b.msa)
    assert not np.array_equal(a.msa, simulate_alignment(native, params, seed=4).msa)


def test_maps_rr_and_binary(tmp_path: Path) -> None:
    scores = np.zeros((10, 10))
    scores[0, 9] = scores[9, 0] = 3.0
    scores[1, 8] = scores[8, 1] = 2.0
    write_maps("t", "ACDEFGHIKL", scores, tmp_path, probabilities=False, method="test")
    rr = (tmp_path / "t.rr").read_text().splitlines()
    assert rr[0] == "PFRMAT RR" and rr[4] == "ACDEFGHIKL"
    assert rr[5].split()[:4] == ["1", "10", "0", "8"] and rr[-1] == "END"
    binary = np.loadtxt(tmp_path / "t.binary.txt")
    assert binary[0, 9] == binary[9, 0] == 1 and binary.sum() == 2 * 10
    np.testing.assert_allclose(np.load(tmp_path / "t.npy"), scores)


def test_psiblast_pssm(tmp_path: Path) -> None:
    import shutil
    import subprocess

    from pgml.contact.pssm import AMINO, run_psiblast

    if shutil.which("psiblast") is None or shutil.which("makeblastdb") is None:
        pytest.skip("ncbi-blast+ not installed")
    query = "MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG"  # ubiquitin
    (tmp_path / "db.fasta").write_text(f">mut\n{query[:10]}A{query[11:]}\n>other\n{'WWWWHHHH' * 3}\n")
    (tmp_path / "none.fasta").write_text(">other\nWWWWHHHHWWWWHHHHWWWW\n")
    for name in ("db", "none"):
        subprocess.run(["makeblastdb", "-in", str(tmp_path / f"{name}.fasta"), "-dbtype", "prot", "-out",
                        str(tmp_path / name)], check=True, capture_output=True)
    found, scores = run_psiblast(query, str(tmp_path / "db"), iterations=2)
    assert found == query and scores.shape == (76, 20)
    # a homologue identical but for one residue: every row still scores its query residue best
    assert sum(np.argmax(scores[i]) == AMINO.index(a) for i, a in enumerate(query)) >= 70
    assert run_psiblast(query, str(tmp_path / "none"), iterations=2) is None  # no hit: psiblast writes no PSSM
