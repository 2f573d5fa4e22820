"""`pgml bfactor predict`: outputs per input, values in the B column, rigid-motion invariance."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.spatial.transform import Rotation

from pgml.bfactor.cli import ARCHITECTURES
from pgml.bfactor.graphs import build_graphs, structure_to_graph
from pgml.bfactor.models import build_model
from pgml.bfactor.predict import predict_files
from pgml.bfactor.training import TrainConfig, load_model, train_model
from pgml.cli import main
from pgml.structure.io import Structure, read_structure

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo" / "structures"


@pytest.fixture(scope="module")
def checkpoint(small_selection: Callable[[str], Path]) -> Path:
    """A GCN trained for two epochs on three small demo structures."""
    work = small_selection("train")
    build_graphs(work / "sel.tsv", output=work / "g.pt")
    config = TrainConfig(architecture="gcn", hidden=8, layers=2, dropout=0.0, optimizer="adamw", lr=1e-2,
                         weight_decay=0.0, batch_size=1, epochs=2, patience=5, seed=0)
    train_model([work / "g.pt"], split=work / "split.tsv", output_dir=work / "model", config=config)
    return work / "model" / "model.ckpt"


def rigidly_moved(structure: Structure, seed: int = 1) -> Structure:
    """The same structure rotated and translated in memory (float64: no file rounding, which could
    move an atom across the 5 Å neighbour-count boundary)."""
    rot = Rotation.random(random_state=seed).as_matrix()
    coords = structure.atoms.coords @ rot.T + np.array([12.5, -40.0, 7.25])
    return replace(structure, atoms=replace(structure.atoms, coords=coords))


def test_outputs_per_input_with_predictions_in_b_column(checkpoint: Path, tmp_path: Path) -> None:
    out = tmp_path / "pred"
    table = predict_files(checkpoint, [DEMO / "1UBI.pdb.gz", DEMO / "3JQH.cif.gz"], out)
    assert sorted(p.name for p in out.iterdir()) == ["1UBI.pdb", "1UBI.residues.tsv", "1UBI.tsv", "3JQH.pdb",
                                                     "3JQH.residues.tsv", "3JQH.tsv", "predictions.tsv"]
    per_file = pd.read_csv(out / "1UBI.tsv", sep="\t")
    graph = structure_to_graph(read_structure(DEMO / "1UBI.pdb.gz"))
    assert len(per_file) == graph.num_nodes
    assert len(table) == graph.num_nodes + structure_to_graph(read_structure(DEMO / "3JQH.cif.gz")).num_nodes
    # the written PDB carries the predictions (PDB format: 2 decimals) in the B column
    written = read_structure(out / "1UBI.pdb")
    assert np.allclose(written.atoms.bfactor[: len(per_file)], per_file["target_pred"], atol=0.006)
    assert np.allclose(per_file["target_true"], graph.y.numpy(), atol=1e-3)


def test_trained_model_invariant_to_rotation_and_translation(checkpoint: Path) -> None:
    model, meta = load_model(checkpoint)
    structure = read_structure(DEMO / "1A8O.pdb.gz")
    a = structure_to_graph(structure, target=meta["target"], radius=meta["radius"])
    b = structure_to_graph(rigidly_moved(structure), target=meta["target"], radius=meta["radius"])
    with torch.no_grad():
        assert torch.allclose(model(a), model(b), atol=1e-4)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_every_architecture_is_invariant_to_rigid_motion(arch: str) -> None:
    torch.manual_seed(0)
    structure = read_structure(DEMO / "3JQH.cif.gz")
    a = structure_to_graph(structure)
    b = structure_to_graph(rigidly_moved(structure))
    model = build_model(arch, a.num_node_features, a.edge_attr.shape[1], hidden=16, layers=2, dropout=0.0).eval()
    with torch.no_grad():
        assert torch.allclose(model(a), model(b), atol=1e-4)


def test_unreadable_input_is_one_error_and_no_output(checkpoint: Path, tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty.pdb"
    empty.write_text("")
    code = main(["bfactor", "predict", "--model", str(checkpoint), "--output-dir", str(tmp_path / "out"),
                 str(empty)])
    err = capsys.readouterr().err
    assert code == 2
    assert "empty.pdb" in err
    assert not (tmp_path / "out").exists()


def test_existing_output_dir_keeps_unrelated_files(checkpoint: Path, tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    (out / "1UBI.tsv").write_text("stale")
    assert main(["bfactor", "predict", "--model", str(checkpoint), "--output-dir", str(out),
                 str(DEMO / "1UBI.pdb.gz")]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["1UBI.pdb", "1UBI.residues.tsv", "1UBI.tsv", "notes.txt",
                                                     "predictions.tsv"]
    assert (out / "notes.txt").read_text() == "keep me"
    assert len(pd.read_csv(out / "1UBI.tsv", sep="\t")) > 100
    assert not list(tmp_path.glob(".*tmp*"))


def test_dangerous_output_dirs_are_refused(checkpoint: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    data = tmp_path / "data"
    data.mkdir()
    structure = data / "1UBI.pdb.gz"
    structure.write_bytes((DEMO / "1UBI.pdb.gz").read_bytes())
    (data / "notes.txt").write_text("keep me")
    a_file = data / "file.txt"
    a_file.write_text("x")
    monkeypatch.chdir(tmp_path)
    cases = {
        ".": "output directory is the current directory",
        "data": "output directory holds input file",
        str(a_file): "is an existing file, not a directory",
    }
    for out, message in cases.items():
        code = main(["bfactor", "predict", "--model", str(checkpoint), "--output-dir", out, str(structure)])
        err = capsys.readouterr().err.strip()
        assert code == 2
        assert message in err and out in err and len(err.splitlines()) == 1, err
    assert sorted(p.name for p in data.iterdir()) == ["1UBI.pdb.gz", "file.txt", "notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
