"""``pgml qa split`` by lists: EnQA's own AF2 lists (the chapter's temporal split), validation drawn
from the training list, and test targets homologous to a training target left out."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from pgml.cli import main
from pgml.errors import InputError
from pgml.qa.params import FeatureConfig, SimulateConfig
from pgml.qa.split import assign_from_lists, normalise_id, read_id_list
from pgml.split import read_split_table

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "resources" / "demo" / "structures"
LISTS = ROOT.parent / "shared" / "data" / "qa" / "EnQA_lists"


def test_ids_match_across_spellings(tmp_path: Path) -> None:
    assert normalise_id("7C7F_A") == normalise_id("7c7fA") == normalise_id("7C7F-A") == "7c7fA"
    assert normalise_id("5MDXa") != normalise_id("5MDXA")  # two chains of EnQA's list
    path = tmp_path / "l.txt"
    path.write_text("# EnQA list\n1A5HA\n\n1B79B extra\n")
    assert read_id_list(path) == ["1A5HA", "1B79B"]
    path.write_text("1A5HA\n1a5h_A\n")
    with pytest.raises(InputError, match=r"line 2: id '1a5h_A' listed twice \(first on line 1\)"):
        read_id_list(path)


def test_assignment_from_lists(tmp_path: Path) -> None:
    train, test = tmp_path / "train.txt", tmp_path / "test.txt"
    train.write_text("\n".join(f"T{k}A" for k in range(10)) + "\n")
    test.write_text("X1A\nX2A\n")
    targets = [f"T{k}_A" for k in range(10)] + ["X1_A", "X2_A"]
    got = assign_from_lists(targets, {"train": train, "test": test}, val_fraction=0.2, seed=0)
    assert [t for t, s in got.items() if s == "test"] == ["X1_A", "X2_A"]
    assert sum(s == "val" for s in got.values()) == 2 and sum(s == "train" for s in got.values()) == 8
    assert got == assign_from_lists(targets, {"train": train, "test": test}, val_fraction=0.2, seed=0)
    with pytest.raises(InputError, match=r"1 target\(s\) in no list: Y9"):
        assign_from_lists([*targets, "Y9"], {"train": train, "test": test}, 0.2)
    test.write_text("X1A\nT3A\n")
    with pytest.raises(InputError, match=r"T3A is listed for test and in .*train\.txt for train"):
        assign_from_lists(targets, {"train": train, "test": test}, 0.2)


@pytest.mark.shared_data
@pytest.mark.skipif(not LISTS.is_dir(), reason="../shared/data/qa not present")
def test_enqa_lists_split_simulated_targets(tmp_path: Path, caplog) -> None:
    """Targets named after entries of EnQA's af2_train / af2_test lists land where the lists put them;
    a test target that is a copy of a training protein is left out (the chapter's < 30 % identity)."""
    from pgml.qa.samples import target_samples
    from pgml.qa.simulate import simulate_target

    train_ids = read_id_list(LISTS / "af2_train.txt")[:3]
    test_ids = read_id_list(LISTS / "af2_test.txt")[:2]
    data = tmp_path / "data"
    graphs = []
    natives = ["1UBI", "1A8O", "1EJG", "1LCD", "1UBI"]  # the last test target repeats a training protein
    for name, native in zip([*train_ids, *test_ids], natives, strict=True):
        made = simulate_target(DEMO / f"{native}.pdb.gz", data / native / name,
                               SimulateConfig(n_decoys=1, max_residues=30))
        target = data / name
        shutil.move(made, target)
        graphs.append(tmp_path / f"{name}.pt")
        torch.save(target_samples(target, FeatureConfig(n_references=1), progress=False), graphs[-1])
    out = tmp_path / "split.tsv"
    assert main(["qa", "split", "--graphs", *map(str, graphs), "--output", str(out), "--train-list",
                 str(LISTS / "af2_train.txt"), "--test-list", str(LISTS / "af2_test.txt"), "--val-fraction", "0.34",
                 "--threads", "1"]) == 0
    split = read_split_table(out)
    assert split[test_ids[0]] == "test"
    assert test_ids[1] not in split and "left out" in caplog.text and test_ids[1] in caplog.text
    assert sorted(s for t, s in split.items() if t in train_ids) == ["train", "train", "val"]
