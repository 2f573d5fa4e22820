"""Training through pgml.train.loop.fit: resolved config beside the checkpoint, determinism, evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import DEMO_STRUCTURES

from pgml.fold.params import GraphConfig, ModelConfig, SplitConfig, TrainConfig
from pgml.fold.steps import build_graphs, evaluate, make_split, train_model

TINY = ModelConfig(widths=(8, 12), radii=(3.0, 6.0), blocks=1, basis=4, kernel_hidden=8, mlp_hidden=16)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("fold")
    names = ["1UBI.pdb.gz", "1A8O.pdb.gz", "1EJG.pdb.gz", "4ZHL.cif.gz"]
    manifest = root / "list.txt"
    manifest.write_text("".join(f"{DEMO_STRUCTURES / n}\n" for n in names))
    build_graphs(manifest, root / "g.pt", root / "g.tsv", GraphConfig(unit="fragment", fragment_length=30))
    split_list = root / "split.txt"
    split_list.write_text("".join(f"{i} {s}\n" for i, s in zip(
        pd.read_csv(root / "g.tsv", sep="\t")["id"], ["train"] * 6 + ["val"] * 2 + ["test"] * 20, strict=False)))
    make_split([root / "g.tsv"], root / "samples.tsv", root / "audit.txt", SplitConfig(method="list"),
               split_list=split_list)
    return root / "g.pt", root / "samples.tsv"


def test_training_is_deterministic_and_records_its_config(data: tuple[Path, Path], tmp_path: Path) -> None:
    graphs, split = data
    train = TrainConfig(epochs=2, batch_size=3)
    for name in ("a", "b"):
        train_model([graphs], split, tmp_path / name, TINY, train, seed=3, device="cpu")
    run = json.loads((tmp_path / "a" / "run.json").read_text())
    assert run["seed"] == 3 and run["model"]["widths"] == [8, 12] and run["train"]["epochs"] == 2
    assert (tmp_path / "a" / "model.ckpt").exists()
    assert (tmp_path / "a" / "metrics.tsv").read_text() == (tmp_path / "b" / "metrics.tsv").read_text()
    table = evaluate([graphs], split, [tmp_path / "a", tmp_path / "b"], tmp_path / "eval")
    ieconv = table[table["method"] == "ieconv"].iloc[0]
    assert ieconv["runs"] == 2 and ieconv["sd"] == 0.0  # identical runs
    assert set(table["method"]) == {"ieconv", "majority_class", "composition_ss_logreg", "mmseqs2_nearest_neighbour"}
    assert "the model" in (tmp_path / "eval" / "summary.txt").read_text()
