"""pgml.split: random, listed and sequence-identity splits, homologue leak counts, split tables;
pgml.structure.sequence: chain sequences."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO, SHARED_STRUCTURES, backbone, pdb_atom

from pgml.errors import InputError
from pgml.split import (
    SPLITS,
    assign_groups,
    cluster_chains,
    count_train_homologues,
    group_entries,
    identity_split,
    list_split,
    random_split,
    read_split_list,
    read_split_table,
    split_by_clusters,
    split_counts,
    split_sizes,
    write_split_table,
)
from pgml.structure.io import read_structure
from pgml.structure.sequence import chain_sequences

needs_mmseqs = pytest.mark.skipif(shutil.which("mmseqs") is None,
                                  reason="mmseqs not on PATH (Debian package mmseqs2)")
# One cascade step instead of three: about three times faster, same clusters for these sequences.
FAST = ("--cluster-steps", "1")

AMINO = np.array(list("ACDEFGHIKLMNPQRSTVWY"))


def random_protein(rng: np.random.Generator, n: int = 120) -> str:
    return "".join(rng.choice(AMINO, size=n))


def mutate(seq: str, positions: tuple[int, ...] = (10, 50, 90)) -> str:
    out = list(seq)
    for p in positions:
        out[p] = "W" if out[p] != "W" else "A"
    return "".join(out)


@pytest.fixture(scope="module")
def family_data() -> dict[str, list[str]]:
    """a1/a2: one family; b1, m1 (two chains: b and c) and c1 joined through m1; u1..u6 unrelated."""
    rng = np.random.default_rng(7)
    a, b, c = (random_protein(rng) for _ in range(3))
    data = {"a1": [a], "a2": [mutate(a)], "b1": [b], "m1": [mutate(b, (5, 60)), c], "c1": [mutate(c)]}
    for k in range(1, 7):
        data[f"u{k}"] = [random_protein(rng)]
    return data


@pytest.fixture(scope="module")
def family_clusters(family_data):
    if shutil.which("mmseqs") is None:
        pytest.skip("mmseqs not on PATH (Debian package mmseqs2)")
    return cluster_chains(family_data, mmseqs_args=FAST)  # once for the module


# ---------------------------------------------------------------- random split


def test_split_sizes_rounding():
    assert split_sizes(2, 0.15, 0.15) == (2, 0, 0)
    assert split_sizes(3, 0.15, 0.15) == (1, 1, 1)
    assert split_sizes(10, 0.15, 0.15) == (6, 2, 2)  # round(1.5) == 2 (banker's rounding)
    assert split_sizes(100, 0.1, 0.2) == (70, 10, 20)
    assert split_sizes(4, 0.5, 0.4) == (1, 1, 2)  # val shrinks first when train would be empty
    for n in range(0, 60):
        for vf, tf in ((0.15, 0.15), (0.0, 0.3), (0.45, 0.45)):
            tr, va, te = split_sizes(n, vf, tf)
            assert tr + va + te == n and (n < 3 or tr >= 1)


def test_random_split_keeps_the_earlier_bfactor_assignment():
    """The rule the bfactor chain used before the shared module (kept so old splits reproduce):
    sorted ids, default_rng(seed).permutation, first n_train train, next n_val val, rest test."""
    ids = [f"{k}X{k * 7 % 5}" for k in range(23, 0, -1)]  # not sorted on input
    for seed in (0, 1, 42):
        ordered = sorted(ids)
        order = np.random.default_rng(seed).permutation(len(ordered))
        n_train, n_val, _ = split_sizes(len(ordered), 0.2, 0.15)
        expected = {}
        for rank, k in enumerate(order):
            expected[ordered[k]] = "train" if rank < n_train else "val" if rank < n_train + n_val else "test"
        assert random_split(reversed(ids), val_fraction=0.2, test_fraction=0.15, seed=seed) == expected
    assert random_split(ids, 0.2, 0.15, 0) != random_split(ids, 0.2, 0.15, 1)


def test_random_split_checks_input():
    with pytest.raises(InputError, match="duplicate id 'a'"):
        random_split(["a", "b", "a"])
    with pytest.raises(InputError, match="sum to less than 1"):
        random_split(["a", "b", "c"], 0.5, 0.5)


# ---------------------------------------------------------------- published list


def test_list_split_reads_aliases_comments_and_header(tmp_path, caplog):
    path = tmp_path / "paper_split.txt"
    path.write_text("# split of the paper\nid split\n\n1abc train\n2DEF\tValid  # a comment\n"
                    "3ghi validation\n4jkl TEST extra columns\n5mno train\n")
    assert read_split_list(path) == {"1abc": "train", "2DEF": "val", "3ghi": "val", "4jkl": "test",
                                     "5mno": "train"}
    with caplog.at_level(logging.WARNING):
        out = list_split(["4jkl", "1abc", "2DEF", "3ghi"], path)
    assert out == {"1abc": "train", "2DEF": "val", "3ghi": "val", "4jkl": "test"}
    assert "5mno" in caplog.text  # listed but not in the data: a warning, not an error


@pytest.mark.parametrize("text, message, line", [
    ("a train\nb training\n", "unknown split 'training'", "line 2"),
    ("a train\nb val\na test\n", "'a' listed twice \\(first on line 1\\)", "line 3"),
    ("a train\nb\n", "single field 'b'", "line 2"),
])
def test_list_split_errors_name_file_and_line(tmp_path, text, message, line):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as err:
        list_split(["a", "b"], path)
    assert str(path) in str(err.value) and line in str(err.value)


def test_list_split_unlisted_ids(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("A1 train\nB2 test\nC3 val\n")
    with pytest.raises(InputError, match="1 id\\(s\\) of the data are not in the split list: D4"):
        list_split(["A1", "B2", "C3", "D4"], path)
    assert list_split(["A1", "B2", "C3", "D4"], path, unlisted_to_train=True)["D4"] == "train"
    with pytest.raises(InputError, match="not in the split list"):
        list_split(["a1", "b2"], path)
    assert list_split(["a1", "b2"], path, ignore_case=True) == {"a1": "train", "b2": "test"}
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    with pytest.raises(InputError, match="names no entry"):
        list_split(["a"], empty)
    with pytest.raises(InputError, match="not found"):
        list_split(["a"], tmp_path / "absent.txt")


# ---------------------------------------------------------------- split table


def test_split_table_round_trip(tmp_path):
    assignment = {"b": "test", "a": "train", "c": "val", "d": "train"}
    path = write_split_table(tmp_path / "out" / "split.tsv", assignment,
                             {"group": {"a": "a", "b": "a", "c": "c"}})
    lines = path.read_text().splitlines()
    assert lines[0] == "id\tsplit\tgroup"
    assert lines[1:] == ["a\ttrain\ta", "d\ttrain\t", "c\tval\tc", "b\ttest\ta"]
    assert read_split_table(path) == assignment
    assert read_split_list(path) == assignment  # a table is also a valid split list
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temporary left
    with pytest.raises(ValueError, match="split 'dev'"):
        write_split_table(tmp_path / "x.tsv", {"a": "dev"})


@pytest.mark.parametrize("text, message", [
    ("", "empty split table"),
    ("name\tsplit\na\ttrain\n", "lacks column\\(s\\) id"),
    ("id\tsplit\na\ttrain\nb\tdev\n", "line 3: id 'b': split 'dev'"),
    ("id\tsplit\na\ttrain\na\ttest\n", "line 3: id 'a' appears twice"),
    ("id\tsplit\tgroup\na\ttrain\n", "line 2: 2 field\\(s\\), the header has 3"),
])
def test_split_table_errors(tmp_path, text, message):
    path = tmp_path / "split.tsv"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as err:
        read_split_table(path)
    assert str(path) in str(err.value)


# ---------------------------------------------------------------- grouping (no mmseqs)


def test_group_entries_unions_through_any_chain():
    clusters = {"e": ("c9",), "a": ("c1", "c2"), "b": ("c3",), "c": ("c2", "c4"), "d": ("c4",), "f": ()}
    assert group_entries(clusters) == {"a": "a", "b": "b", "c": "a", "d": "a", "e": "e", "f": "f"}


def test_assign_groups_keeps_groups_whole_and_sizes():
    groups = {f"e{k:02d}": f"g{k // 3}" for k in range(30)}  # ten groups of three
    for seed in range(5):
        out = assign_groups(groups, 0.2, 0.2, seed)
        for g in set(groups.values()):
            assert len({out[e] for e, gg in groups.items() if gg == g}) == 1
        counts = split_counts(out)
        assert counts == {"train": 18, "val": 6, "test": 6}
        assert out == assign_groups(dict(reversed(groups.items())), 0.2, 0.2, seed)
    big = {**{f"x{k}": "big" for k in range(8)}, "y": "y", "z": "z"}
    out = assign_groups(big, 0.15, 0.15, 0)
    assert {out[f"x{k}"] for k in range(8)} == {"train"} and split_counts(out)["train"] == 8


# ---------------------------------------------------------------- identity split (mmseqs)


@needs_mmseqs
def test_identity_split_keeps_families_together(family_data, family_clusters):
    c = family_clusters
    assert c["a1"] == c["a2"]
    assert c["m1"][0] == c["b1"][0] and c["m1"][1] == c["c1"][0]
    others = [c[f"u{k}"][0] for k in range(1, 7)]
    assert len(set(others) | {c["a1"][0], c["b1"][0], c["c1"][0]}) == 9
    groups = group_entries(c)
    assert groups["b1"] == groups["m1"] == groups["c1"] == "b1" and groups["a2"] == "a1"
    sides: set[str] = set()
    for seed in range(12):
        out = split_by_clusters(c, 0.2, 0.2, seed).assignment
        assert out["a1"] == out["a2"]
        assert out["b1"] == out["m1"] == out["c1"]
        assert split_counts(out) == {"train": 7, "val": 2, "test": 2}
        sides |= {out["a1"], out["u1"]}
        assert count_train_homologues(out, c).count("test") == 0
    assert sides == set(SPLITS)  # families and singletons do move between splits with the seed


@needs_mmseqs
def test_identity_split_is_deterministic(family_data, family_clusters):
    shuffled = dict(reversed(list(family_data.items())))  # input order does not matter either
    result = identity_split(shuffled, 0.2, 0.2, seed=3, mmseqs_args=FAST)
    assert result.clusters == family_clusters
    assert result.assignment == split_by_clusters(family_clusters, 0.2, 0.2, 3).assignment
    assert result.group["c1"] == "b1"
    assert sum(result.counts().values()) == len(family_data)


@needs_mmseqs
def test_count_train_homologues_finds_planted_leak(family_data):
    report = None
    for seed in range(50):  # a random split with a1 in test and a2 in train
        out = random_split(family_data, 0.2, 0.2, seed)
        if out["a1"] == "test" and out["a2"] == "train":
            report = count_train_homologues(out, sequences=family_data, mmseqs_args=FAST)
            break
    assert report is not None, "no seed plants the leak"
    assert "a1" in report.leaked["test"] and "a2" not in report.leaked["test"]
    assert set(report.leaked["test"]) <= {"a1", "a2", "b1", "m1", "c1"}
    assert report.totals["test"] == 2 and report.fraction("test") >= 0.5
    assert "test: " in report.summary()


@needs_mmseqs
def test_short_sequences_cluster_by_exact_match():
    rng = np.random.default_rng(1)
    long = random_protein(rng, 60)
    data = {"p1": ["MKVLA"], "p2": ["MKVLA", long], "p3": ["MKVLG"], "p4": "mkvla", "p5": [long], "p6": [""]}
    c = cluster_chains(data, mmseqs_args=FAST)
    assert c["p1"][0] == c["p2"][0] == c["p4"][0] != c["p3"][0]
    assert c["p2"][1] == c["p5"][0]
    assert c["p6"] == (c["p6"][0],)
    groups = group_entries(c)
    assert groups["p1"] == groups["p2"] == groups["p4"] == groups["p5"] == "p1" and groups["p3"] == "p3"
    # only short sequences: nothing for MMseqs2 to do
    assert len(set(cluster_chains({"a": "ACD", "b": "ACD", "c": "WWW"}).values())) == 2


def test_no_kmer_failure_gives_singletons(tmp_path, caplog):
    # What MMseqs2 does for only low-complexity sequences (e.g. poly-A), faked to keep the test fast.
    fake = tmp_path / "fake-mmseqs"
    fake.write_text("#!/bin/sh\necho 'No k-mer could be extracted for the database x.'\n"
                    "echo 'Error: Prefilter step 0 died' >&2\nexit 1\n")
    fake.chmod(0o755)
    with caplog.at_level(logging.WARNING):
        c = cluster_chains({"a": "A" * 30, "b": "A" * 29 + "G", "c": "A" * 30}, mmseqs=str(fake))
    assert c == {"a": ("c1",), "b": ("c2",), "c": ("c1",)} and "no k-mer" in caplog.text


def test_mmseqs_missing_is_a_clear_error():
    with pytest.raises(InputError, match="install the Debian package mmseqs2"):
        identity_split({"a": "M" * 50, "b": "K" * 50, "c": "W" * 50}, mmseqs="no-such-mmseqs-binary")


@needs_mmseqs
def test_mmseqs_failure_shows_its_messages():
    with pytest.raises(InputError, match="MMseqs2 failed .*\n.*") as err:
        cluster_chains({"a": "ACDEFGHIKLMNPQRSTVWY" * 3}, mmseqs_args=("--cluster-mode", "not-a-number"))
    assert "--cluster-mode" in str(err.value)


def test_bad_residue_characters():
    with pytest.raises(InputError, match="entry 'a' chain 2: .*'\\*-'"):
        cluster_chains({"a": ["ACD", "AC*D-"]}, mmseqs="no-such-mmseqs-binary")


# ---------------------------------------------------------------- chain sequences


def test_chain_sequences_of_a_small_structure(write_pdb):
    lines = (backbone("MET", "A", 1, 0.0, serial=1) + backbone("LYS", "A", 2, 3.8, serial=5)
             + backbone("MSE", "A", 3, 7.6, serial=9, het=True) + backbone("GLY", "B", 1, 20.0, serial=13)
             + [pdb_atom(17, "O", "HOH", "B", 101, (30.0, 0.0, 0.0), het=True)])
    st = read_structure(write_pdb(lines), keep_water=True)
    assert chain_sequences(st) == {"A": "MKM", "B": "G"}
    assert chain_sequences(st.atoms.subset(st.atoms.chain_id == "B")) == {"B": "G"}
    lines = (backbone("ALA", "A", 1, 0.0, serial=1) + backbone("UNK", "A", 2, 3.8, serial=5)
             + [pdb_atom(9, "FE", "HEM", "A", 201, (30.0, 0.0, 0.0), het=True, element="FE")]
             + [pdb_atom(10, "C1", "NAG", "C", 301, (40.0, 0.0, 0.0), het=True)])
    st = read_structure(write_pdb(lines, name="ligands.pdb"), keep_ligands=True)
    assert chain_sequences(st) == {"A": "AX"}  # unknown amino acid -> X; ligands and sugar chain skipped


def test_split_package_imports_no_chain():
    code = ("import sys, pgml.split, pgml.structure.sequence; "
            "print(sorted(m for m in sys.modules if m.startswith('pgml.') and m.split('.')[1] "
            "not in ('split', 'structure', 'errors', 'fileio')))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"),
                                                                   os.environ.get("PYTHONPATH")]))}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "[]"


@pytest.mark.shared_data
def test_chain_sequences_of_real_entries():
    if not SHARED_STRUCTURES.is_dir():
        pytest.skip(f"{SHARED_STRUCTURES} absent")
    expected = {  # first residues modelled in chain A
        "1AKI": "KVFGRCELAAAMKRHGLDNYRGYSLGNWVCAAKF",
        "1CRN": "TTCCPSIVARSNFNVCRLPGTPEA",
        "1UBQ": "MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG",
    }
    files = {p.name.split(".")[0]: p for p in (SHARED_STRUCTURES / "files").iterdir()}
    for pdb_id, start in expected.items():
        if pdb_id not in files:
            pytest.skip(f"{pdb_id} not in {SHARED_STRUCTURES}")
        seqs = chain_sequences(read_structure(files[pdb_id]))
        assert seqs["A"].startswith(start), (pdb_id, seqs["A"][:40])
    hb = chain_sequences(read_structure(files["4HHB"])) if "4HHB" in files else None
    if hb is not None:
        assert list(hb) == ["A", "B", "C", "D"]
        assert hb["A"] == hb["C"] and hb["B"] == hb["D"] and hb["A"].startswith("VLSPADKTNV")
        assert all(140 <= len(s) <= 146 for s in hb.values())
