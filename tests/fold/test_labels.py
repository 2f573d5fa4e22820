"""Labels and the published split lists of [ieconv]."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO

from pgml.errors import InputError
from pgml.fold.labels import dssp_class, read_homology_lists, read_label_table, read_protfunct_lists
from pgml.fold.params import SplitConfig

SPLITS = REPO.parent / "shared" / "data" / "splits"


def test_dssp_classes() -> None:
    assert dssp_class(0.6, 0.0) == "mainly_alpha"
    assert dssp_class(0.05, 0.5) == "mainly_beta"
    assert dssp_class(0.4, 0.3) == "mixed"
    assert dssp_class(0.3, 0.0) == "mixed"  # below alpha_min
    assert dssp_class(0.3, 0.0, SplitConfig(alpha_min=0.25)) == "mainly_alpha"


def test_label_table(tmp_path: Path) -> None:
    path = tmp_path / "labels.tsv"
    path.write_text("id\tlabel\nA\tenzyme\nB\tnon_enzyme\n")
    assert read_label_table(path) == {"A": "enzyme", "B": "non_enzyme"}
    path.write_text("A\tx\nA\ty\n")
    with pytest.raises(InputError, match="line 2: id 'A' listed twice"):
        read_label_table(path)


def test_homology_lists_format(tmp_path: Path) -> None:
    for stem in ("training", "validation", "test_family"):
        (tmp_path / f"{stem}.txt").write_text(f"d1{stem[:3]}a_\ta.1\ta.1\n")
    for stem in ("test_fold", "test_superfamily"):
        (tmp_path / f"{stem}.txt").write_text(f"d2{stem[5:8]}b1\t138\tb.2\tb.2\n")
    table = read_homology_lists(tmp_path)
    assert dict(zip(table["id"], table["split"], strict=True)) == {
        "d1traa_": "train", "d1vala_": "val", "d1tesa_": "test_family", "d2folb1": "test_fold",
        "d2supb1": "test_superfamily"}
    assert set(table["label"]) == {"a.1", "b.2"}
    (tmp_path / "training.txt").write_text("d1 a.1\n")
    with pytest.raises(InputError, match="training.txt: line 1: expected 3 or 4 fields"):
        read_homology_lists(tmp_path)


@pytest.mark.shared_data
def test_published_lists_read_in_full() -> None:
    if not SPLITS.is_dir():
        pytest.skip(f"{SPLITS} not present")
    homology = read_homology_lists(SPLITS / "IEConv_HomologyTAPE")
    counts = homology["split"].value_counts().to_dict()
    assert counts == {"train": 12312, "val": 736, "test_fold": 718, "test_superfamily": 1254,
                      "test_family": 1272}
    assert homology["label"].nunique() == 1195
    assert homology["id"].is_unique
    protfunct = read_protfunct_lists(SPLITS / "IEConv_ProtFunct")
    assert protfunct["label"].nunique() == 384
    assert set(protfunct["split"]) == {"train", "val", "test"}


def test_ec_numbers_are_read_from_pdb_and_mmcif_headers() -> None:
    from conftest import DEMO_STRUCTURES

    from pgml.fold.annotations import ec_numbers
    from pgml.fold.labels import ec_class

    assert ec_numbers(DEMO_STRUCTURES / "3ENL.pdb.gz") == {"A": ("4.2.1.11",)}  # enolase, COMPND EC
    assert ec_numbers(DEMO_STRUCTURES / "4ZHL.cif.gz") == {"U": ("3.4.21.73",), "P": ()}  # uPA + peptide
    assert ec_numbers(DEMO_STRUCTURES / "1UBI.pdb.gz") == {"A": ()}
    assert ec_class("3.4.21.73") == "enzyme" and ec_class("") == "non_enzyme"


def test_protfunct_classes_are_named_by_their_ec_numbers(tmp_path) -> None:
    from pgml.fold.labels import class_names

    (tmp_path / "unique_functions.txt").write_text("4.2.1.10\n6.5.1.1\n")
    assert class_names(["0", "1"], "protfunct", tmp_path) == {"0": "EC 4.2.1.10", "1": "EC 6.5.1.1"}
    assert class_names(["a.1"], "homology", tmp_path) == {"a.1": "a.1"}
