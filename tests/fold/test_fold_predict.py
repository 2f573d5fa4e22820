"""``pgml fold predict`` on a model trained on demo structures: the checkpoint's label map and card,
probabilities, top-5 tables and embeddings that agree with the network, refused setting mismatches,
and a real structure from ../shared/data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import DEMO_STRUCTURES, SHARED_STRUCTURES

from pgml.cli import main
from pgml.errors import InputError
from pgml.fold.params import GraphConfig, ModelConfig, SplitConfig, TrainConfig
from pgml.fold.predict import embed_and_classify, load_classifier, predict_structures
from pgml.fold.steps import build_graphs, load_samples, make_split, predict, train_model

TINY = ModelConfig(widths=(8, 12), radii=(3.0, 6.0), blocks=1, basis=4, kernel_hidden=8, mlp_hidden=16)
NAMES = ["1UBI.pdb.gz", "1A8O.pdb.gz", "1GBT.cif.gz", "4ZHL.cif.gz"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A two-epoch model on demo fragments labelled enzyme / non-enzyme from the files' EC numbers."""
    root = tmp_path_factory.mktemp("fold_predict")
    manifest = root / "list.txt"
    manifest.write_text("".join(f"{DEMO_STRUCTURES / n}\n" for n in NAMES))
    build_graphs(manifest, root / "g.pt", root / "g.tsv", GraphConfig(unit="fragment", fragment_length=30))
    ids = pd.read_csv(root / "g.tsv", sep="\t")["id"].tolist()
    split = {i: ("val" if i.startswith(("1A8O", "4ZHL_U0", "4ZHL_U1")) else "train") for i in ids}
    (root / "split.txt").write_text("".join(f"{i} {s}\n" for i, s in split.items()))
    make_split([root / "g.tsv"], root / "samples.tsv", root / "audit.txt", SplitConfig(labels="ec", method="list"),
               split_list=root / "split.txt")
    train_model([root / "g.pt"], root / "samples.tsv", root / "run", TINY, TrainConfig(epochs=2, batch_size=4),
                seed=0, device="cpu")
    return root / "run" / "model.ckpt", root / "g.pt", root


def test_checkpoint_stores_label_map_names_and_graph_settings(trained) -> None:
    ckpt, _, root = trained
    module = load_classifier(ckpt)
    assert module.classes == ["enzyme", "non_enzyme"] == json.loads((root / "run" / "run.json").read_text())["classes"]
    assert module.class_names["enzyme"].startswith("enzyme")
    card = json.loads((root / "run" / "model.json").read_text())
    assert card["chain"] == "fold" and card["inputs"]["unit"] == "fragment" and card["inputs"]["fragment_length"] == 30
    assert card["inputs"]["classes"] == module.classes
    assert "val_majority_class_accuracy" in card["metrics"]


def test_ec_labels_come_from_the_files(trained) -> None:
    _, _, root = trained
    table = pd.read_csv(root / "samples.tsv", sep="\t")
    label = dict(zip(table["id"], table["label"], strict=True))
    assert {label[i] for i in label if i.startswith(("1GBT", "4ZHL_U"))} == {"enzyme"}  # trypsin, uPA
    assert {label[i] for i in label if i.startswith(("1UBI", "1A8O"))} == {"non_enzyme"}


def test_predict_writes_probabilities_top5_and_embeddings_that_match_the_network(trained, tmp_path: Path) -> None:
    ckpt, graphs, _ = trained
    structures = [DEMO_STRUCTURES / "1UBI.pdb.gz", DEMO_STRUCTURES / "1GBT.cif.gz"]
    table = predict_structures(ckpt, structures, tmp_path / "out")
    probs = table[["p_enzyme", "p_non_enzyme"]].to_numpy()
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-3)
    top = pd.read_csv(tmp_path / "out" / "top5.tsv", sep="\t")
    assert top.groupby("id").size().eq(2).all()  # two classes: the top 5 holds both
    first = top[top["rank"] == 1].set_index("id")["label"]
    assert (first.loc[table["id"]].to_numpy() == table["predicted"].to_numpy()).all()
    assert top.groupby("id")["probability"].apply(lambda p: bool(np.all(np.diff(p.to_numpy()) <= 0))).all()
    emb = np.load(tmp_path / "out" / "embeddings.npy")
    ids = (tmp_path / "out" / "embedding_ids.txt").read_text().split()
    assert ids == table["id"].tolist() and emb.shape == (len(ids), TINY.widths[-1])
    # the same samples through the evaluation's path give the same probabilities
    samples = load_samples([graphs])
    from pgml.fold.data import FoldDataset

    chosen = [samples[i] for i in ids]
    ref = predict(ckpt, FoldDataset(chosen, [0] * len(chosen), TINY))
    np.testing.assert_allclose(probs, ref, atol=1e-3)
    p2, e2 = embed_and_classify(load_classifier(ckpt), chosen)
    np.testing.assert_allclose(e2, emb, atol=1e-5)
    with torch.no_grad():
        np.testing.assert_allclose(p2, ref, atol=1e-5)


def test_predict_refuses_a_graph_setting_the_model_was_not_trained_with(trained, tmp_path: Path) -> None:
    ckpt, _, _ = trained
    with pytest.raises(InputError, match="unit: the model was trained with unit='fragment'"):
        predict_structures(ckpt, [DEMO_STRUCTURES / "1UBI.pdb.gz"], tmp_path / "out", graph={"unit": "chain"})
    assert not (tmp_path / "out").exists()


def test_predict_refuses_a_checkpoint_without_its_card(trained, tmp_path: Path) -> None:
    ckpt, _, _ = trained
    copy = tmp_path / "m" / "model.ckpt"
    copy.parent.mkdir()
    copy.write_bytes(ckpt.read_bytes())
    with pytest.raises(InputError, match="no model card model.json"):
        predict_structures(copy, [DEMO_STRUCTURES / "1UBI.pdb.gz"], tmp_path / "out")


@pytest.mark.shared_data
def test_predict_a_real_structure_from_shared_data(trained, tmp_path: Path, capsys) -> None:
    path = SHARED_STRUCTURES / "files" / "1CRN.pdb.gz"
    if not path.exists():
        pytest.skip("../shared/data/structures absent")
    ckpt, _, _ = trained
    assert main(["fold", "predict", "--model", str(ckpt.parent), "--output-dir", str(tmp_path / "out"), str(path)]) == 0
    table = pd.read_csv(tmp_path / "out" / "predictions.tsv", sep="\t")
    assert table["id"].tolist() == ["1CRN_A0"]  # crambin, 46 residues: one 30-residue fragment
    assert table["predicted"].iloc[0] in ("enzyme", "non_enzyme")
    assert "1CRN_A0" in capsys.readouterr().out


def test_predict_refuses_a_forward_pass_larger_than_memory_before_writing(trained, tmp_path: Path,
                                                                          monkeypatch) -> None:
    """1UBI in two 30-residue fragments: the graphs fit in 5 MiB (about 9 KiB per atom), the forward pass
    of the width-8 model (about 24 KiB per atom) does not."""
    ckpt, _, _ = trained
    monkeypatch.setenv("PGML_MEMORY_LIMIT", "5M")
    with pytest.raises(InputError, match=r"the IEConv forward pass over \d+ atoms need about .* --batch-size 1"):
        predict_structures(ckpt, [DEMO_STRUCTURES / "1UBI.pdb.gz"], tmp_path / "out")
    assert not (tmp_path / "out").exists()
