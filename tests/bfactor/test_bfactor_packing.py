"""bfactor packing switches, per-architecture parameters, the list split and the pretrained model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist
from torch_geometric.data import Data

from pgml.bfactor.edges import add_contact_edges
from pgml.bfactor.features import (
    NODE_FEATURE_DIM,
    PROTEIN_DENSITY,
    WCN_NORM,
    feature_dim,
    feature_names,
    node_features,
)
from pgml.bfactor.graphs import build_graphs, ligand_coords, load_graphs, structure_to_graph
from pgml.bfactor.params import (
    ARCHITECTURE_PARAM_KEYS,
    PAPER_ARCHITECTURE_PARAMS,
    GraphConfig,
    SplitConfig,
    TrainConfig,
    architecture_train_config,
)
from pgml.bfactor.split import list_assignment
from pgml.errors import InputError
from pgml.structure.io import read_structure
from pgml.structure.neighbors import neighbour_counts, weighted_contact_numbers

ROOT = Path(__file__).resolve().parents[2]
SWITCHES = GraphConfig(packing_radii=(8.0, 12.0), wcn_feature=True)


# ---------------------------------------------------------------- packing features
def test_weighted_contact_number_hand_computed() -> None:
    pts = np.array([[0.0, 0, 0], [1.0, 0, 0], [3.0, 0, 0], [40.0, 0, 0]])
    wcn = weighted_contact_numbers(pts, 15.0, pts)
    assert wcn == pytest.approx([1 + 1 / 9, 1 + 1 / 4, 1 / 9 + 1 / 4, 0.0])
    assert neighbour_counts(pts, 2.0, pts).tolist() == [1, 2, 1, 0]  # inclusive: 1 and 3 are 2 Å apart
    # an extra environment point (a ligand atom) is counted, the point itself never
    env = np.vstack([pts, [[0.0, 2.0, 0.0]]])
    assert neighbour_counts(pts[:1], 2.0, env).tolist() == [2]
    assert weighted_contact_numbers(pts[:1], 15.0, env) == pytest.approx([1 + 1 / 9 + 1 / 4])


def test_switch_columns_match_brute_force(demo_dir) -> None:
    atoms = read_structure(demo_dir / "1UBI.pdb.gz").atoms
    atoms = atoms.subset(atoms.protein_mask() & (atoms.element != "H"))
    x = node_features(atoms, config=SWITCHES)
    assert x.shape == (len(atoms), feature_dim(SWITCHES)) == (len(atoms), NODE_FEATURE_DIM + 3)
    assert np.array_equal(x[:, :NODE_FEATURE_DIM], node_features(atoms))  # the paper's columns are unchanged
    d = cdist(atoms.coords, atoms.coords)
    for k, r in enumerate(SWITCHES.packing_radii):
        expected = ((d <= r).sum(1) - 1) / (PROTEIN_DENSITY * 4 / 3 * np.pi * r ** 3)
        assert x[:, NODE_FEATURE_DIM + k] == pytest.approx(expected, rel=1e-5)
    inv = np.where((d > 0) & (d <= 15.0), 1.0 / np.maximum(d, 1e-9) ** 2, 0.0)
    assert x[:, -1] == pytest.approx(inv.sum(1) / WCN_NORM, rel=1e-4)
    assert feature_names(SWITCHES)[-3:] == ["neighbour_count_8A", "neighbour_count_12A", "wcn"]


def test_switch_features_are_rotation_invariant(demo_dir) -> None:
    atoms = read_structure(demo_dir / "1UBI.pdb.gz").atoms
    atoms = atoms.subset(atoms.protein_mask() & (atoms.element != "H"))
    q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))
    moved = atoms.subset(np.ones(len(atoms), bool))
    moved.coords = atoms.coords @ q.T + np.array([5.0, -3.0, 12.0])
    assert node_features(moved, config=SWITCHES) == pytest.approx(node_features(atoms, config=SWITCHES), abs=1e-5)


def test_ligand_counts_add_ligand_atoms(demo_dir) -> None:
    path = demo_dir / "1A7G.cif.gz"
    ligands = ligand_coords(path)
    assert len(ligands) == 10  # heavy atoms of the bound ligands; waters never count
    st = read_structure(path)
    with_lig = structure_to_graph(st, config=GraphConfig(wcn_feature=True, ligand_counts=True))
    without = structure_to_graph(st, config=GraphConfig(wcn_feature=True))
    pos = without.pos.numpy().astype(np.float64)
    near = cdist(pos, ligands) <= 5.0
    assert near.any()
    extra = near.sum(1)
    assert ((with_lig.x[:, 16] - without.x[:, 16]).numpy() * 50 == pytest.approx(extra, abs=1e-3))
    assert bool((with_lig.x[:, -1] >= without.x[:, -1] - 1e-6).all())


# ---------------------------------------------------------------- contact edges
def test_contact_edges_hand_made() -> None:
    pos = torch.tensor([[0.0, 0, 0], [1.5, 0, 0], [0.0, 3.0, 0], [0.0, 9.0, 0]])
    covalent = torch.tensor([[0, 1], [1, 0]])
    attr = torch.tensor([[1.0, 0, 0, 0, 1.5], [1.0, 0, 0, 0, 1.5]])
    data = add_contact_edges(Data(pos=pos, edge_index=covalent, edge_attr=attr), 4.0)
    pairs = {tuple(e) for e in data.edge_index.t().tolist()}
    # 0-1 stays covalent (not doubled); 0-2 (3 Å) and 1-2 (3.35 Å) are new contacts; 3 is 6+ Å away
    assert pairs == {(0, 1), (1, 0), (0, 2), (2, 0), (1, 2), (2, 1)}
    assert data.edge_index.size(1) == 6
    new = data.edge_attr[2:]
    assert torch.all(new[:, :4] == 0)
    assert sorted(new[:, 4].tolist()) == pytest.approx(sorted([3.0, 3.0, 3.3541, 3.3541]), abs=1e-3)


def test_graph_files_record_switches_and_refuse_mixing(demo_dir, tmp_path) -> None:
    from pgml.bfactor.select import select_structures
    from pgml.structure.collection import shard_structures

    listing = tmp_path / "list.txt"
    listing.write_text(f"{demo_dir / '1UBI.pdb.gz'}\n")
    shard_structures([listing], n_shards=1, output_dir=tmp_path / "shards")
    select_structures(tmp_path / "shards" / "shard_0.txt", output=tmp_path / "sel.tsv")
    config = GraphConfig(target="zscore", packing_radii=(12.0,), contact_radius=4.0)
    (g,) = build_graphs(tmp_path / "sel.tsv", tmp_path / "a.pt", config=config)
    build_graphs(tmp_path / "sel.tsv", tmp_path / "b.pt", target="zscore")
    graphs, meta = load_graphs(tmp_path / "a.pt")
    assert meta["features"] == config.features and meta["node_feature_dim"] == NODE_FEATURE_DIM + 1
    covalent = structure_to_graph(read_structure(demo_dir / "1UBI.pdb.gz"), target="zscore")
    assert g.num_edges > 3 * covalent.num_edges  # contacts within 4 Å outnumber bonds
    with pytest.raises(InputError, match="differ from those of the first file"):
        load_graphs([tmp_path / "a.pt", tmp_path / "b.pt"])


def test_bad_switch_values_are_refused() -> None:
    with pytest.raises(InputError, match="packing_radii"):
        GraphConfig(packing_radii=(8.0, -1.0))
    with pytest.raises(InputError, match="contact_radius"):
        GraphConfig(contact_radius=-2.0)


# ---------------------------------------------------------------- per-architecture parameters
def test_architecture_params_override_the_shared_block() -> None:
    train = {"epochs": 5, "hidden": 128, "layers": 4, "lr": 0.001}
    cfg = architecture_train_config(train, {"meta": {"hidden": 68, "lr": 0.0005}}, "meta", seed=3)
    assert (cfg.hidden, cfg.lr, cfg.layers, cfg.epochs, cfg.seed) == (68, 0.0005, 4, 5, 3)
    assert architecture_train_config(train, {"meta": {"hidden": 68}}, "gcn").hidden == 128
    with pytest.raises(InputError, match="architecture_params.gcn: unknown key"):
        architecture_train_config(train, {"gcn": {"hiden": 8}}, "gcn")
    assert set(ARCHITECTURE_PARAM_KEYS) == set(TrainConfig.__dataclass_fields__) - {"architecture", "seed"}


def test_paper_widths_match_the_paper_parameter_counts() -> None:
    from pgml.bfactor.models import build_model
    from pgml.bfactor.params import PAPER_PARAMETER_COUNTS

    for arch, params in PAPER_ARCHITECTURE_PARAMS.items():
        model = build_model(arch, NODE_FEATURE_DIM, 5, hidden=params["hidden"], layers=4)
        n = sum(p.numel() for p in model.parameters())
        assert abs(n - PAPER_PARAMETER_COUNTS[arch]) / PAPER_PARAMETER_COUNTS[arch] < 0.03, (arch, n)


# ---------------------------------------------------------------- list split (the paper's protocol)
def test_list_split_tests_on_the_list_and_splits_the_rest(tmp_path) -> None:
    ids = [f"E{i:02d}" for i in range(21)]
    listing = tmp_path / "test.txt"
    listing.write_text("# separate test set\ne03 test\nE07 test\n")
    config = SplitConfig(method="list", list=str(listing), val_fraction=0.15)
    out = list_assignment(ids, config, seed=0)
    assert {i for i, s in out.items() if s == "test"} == {"E03", "E07"}
    assert sum(s == "val" for s in out.values()) == round(19 * 0.15) == 3
    assert out == list_assignment(ids, config, seed=0)
    listing.write_text("E03 test\nE04 val\n")
    out = list_assignment(ids, config, seed=0)
    assert out["E04"] == "val" and sum(s == "val" for s in out.values()) == 1  # a full list is taken as it is


# ---------------------------------------------------------------- training without gemmi
def test_training_imports_without_gemmi() -> None:
    code = ("import sys; sys.modules['gemmi'] = None\n"
            "import pgml.cli, pgml.bfactor.cli, pgml.bfactor.training, pgml.bfactor.edges, pgml.bfactor.shards\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


# ---------------------------------------------------------------- the shipped pretrained model
def test_pretrained_model_is_small_and_documented() -> None:
    from pgml.bfactor.predict import PRETRAINED_MODEL
    from pgml.bfactor.training import load_model

    assert PRETRAINED_MODEL.is_file() and PRETRAINED_MODEL.stat().st_size < 2 * 1024 ** 2
    assert (PRETRAINED_MODEL.parent / "PROVENANCE.md").is_file()
    _, meta = load_model(PRETRAINED_MODEL)
    assert meta["target"] == "zscore" and meta["graph_config"].wcn_feature


def test_predict_without_model_uses_the_pretrained_one(demo_dir, tmp_path, caplog) -> None:
    import logging

    import pandas as pd

    from pgml.cli import main

    with caplog.at_level(logging.INFO):
        assert main(["bfactor", "predict", "--output-dir", str(tmp_path / "out"), str(demo_dir / "1UBI.pdb.gz")]) == 0
    assert "using the pretrained model" in caplog.text
    table = pd.read_csv(tmp_path / "out" / "1UBI.tsv", sep="\t")
    assert set(table["pred_units"]) == {"zscore"}
    # ubiquitin's flexible C-terminal tail (residues 72-76) is predicted more mobile than its core
    tail = table.loc[table["res_seq"] >= 72, "target_pred"].mean()
    assert tail > table["target_pred"].mean() + 0.5
