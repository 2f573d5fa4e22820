"""Tests for the bfactor GNNs (pgml.bfactor.models) and their training (module, training).

The shared layers (EGNN, Meta blocks) are tested in tests/shared/test_nn.py."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import torch
from helpers import check_rigid_motion
from torch_geometric.data import Batch, Data

from pgml.bfactor.models import ARCHITECTURES, MIN_BOND_LENGTH, bond_weight, build_model
from pgml.errors import InputError

NODE_DIM, EDGE_DIM = 6, 5


def _graph(n: int, seed: int, name: str = "g") -> Data:
    """A chain of n atoms plus a few ring closures; target = 2 * x[:, 0] + 1 (learnable, linear)."""
    g = torch.Generator().manual_seed(seed)
    src = torch.arange(n - 1)
    pairs = torch.stack([src, src + 1])
    extra = torch.tensor([[0, 2], [n // 2, n - 1]]).T if n > 4 else torch.empty(2, 0, dtype=torch.long)
    pairs = torch.cat([pairs, extra], dim=1)
    edge_index = torch.cat([pairs, pairs.flip(0)], dim=1)
    x = torch.randn(n, NODE_DIM, generator=g)
    pos = torch.cumsum(torch.randn(n, 3, generator=g), dim=0)
    length = (pos[edge_index[0]] - pos[edge_index[1]]).norm(dim=-1, keepdim=True)
    order = torch.nn.functional.one_hot(torch.randint(0, 4, (pairs.size(1),), generator=g), 4).float()
    edge_attr = torch.cat([torch.cat([order, order]), length], dim=1)
    y = 2.0 * x[:, 0] + 1.0
    return Data(x=x, pos=pos, edge_index=edge_index, edge_attr=edge_attr, y=y, y_raw=y.clone(),
                b_mean=torch.tensor(0.0), b_std=torch.tensor(1.0), structure_id=f"{name}{seed}")


def _batch() -> Batch:
    return Batch.from_data_list([_graph(12, 0), _graph(9, 1), _graph(15, 2)])


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_forward_backward_every_architecture(name: str) -> None:
    torch.manual_seed(0)
    model = build_model(name, NODE_DIM, EDGE_DIM, hidden=16, layers=2, dropout=0.1)
    batch = _batch()
    out = model(batch)
    assert out.shape == (batch.num_nodes,)
    assert torch.isfinite(out).all()
    torch.nn.functional.l1_loss(out, batch.y).backward()
    no_grad = [n for n, p in model.named_parameters()
               if p.grad is None or not torch.isfinite(p.grad).all() or p.grad.abs().sum() == 0]
    assert no_grad == [], f"{name}: parameters without gradient: {no_grad}"


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_batched_prediction_equals_single(name: str) -> None:
    """A protein's prediction must not depend on the other proteins in its batch (eval mode)."""
    torch.manual_seed(0)
    model = build_model(name, NODE_DIM, EDGE_DIM, hidden=16, layers=2).eval()
    graphs = [_graph(12, 0), _graph(9, 1)]
    with torch.no_grad():
        together = model(Batch.from_data_list(graphs))
        alone = torch.cat([model(g) for g in graphs])
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=1e-4)


def test_reset_parameters_reinitialises() -> None:
    model = build_model("meta", NODE_DIM, EDGE_DIM, hidden=16, layers=2)
    before = [p.detach().clone() for p in model.parameters()]
    model.reset_parameters()
    changed = sum(not torch.equal(a, p) for a, p in zip(before, model.parameters(), strict=True))
    assert changed > len(before) // 2


@pytest.mark.parametrize(("name", "columns"), [("gcn", [4]), ("mpn", [0, 4]), ("unet", [0, 4])])
def test_bond_features_enter(name: str, columns: list[int]) -> None:
    """gcn reads the bond length (edge weight 1 / length); mpn and unet also read the bond order."""
    torch.manual_seed(0)
    model = build_model(name, NODE_DIM, EDGE_DIM, hidden=16, layers=2).eval()
    data = _graph(12, 0)
    with torch.no_grad():
        before = model(data)
        for col in columns:
            changed = data.clone()
            changed.edge_attr[:, col] = changed.edge_attr[:, col] * 2.0 + 0.5
            assert not torch.allclose(model(changed), before, atol=1e-6), (name, col)


def test_gcn_edge_weight_is_inverse_bond_length() -> None:
    attr = torch.tensor([[1.0, 0, 0, 0, 1.5], [0, 1.0, 0, 0, 2.0], [1.0, 0, 0, 0, 0.0]])
    torch.testing.assert_close(bond_weight(attr), torch.tensor([1 / 1.5, 0.5, 1 / MIN_BOND_LENGTH]))
    assert bond_weight(None) is None


def test_unknown_architecture() -> None:
    with pytest.raises(ValueError, match="unknown architecture"):
        build_model("resnet", NODE_DIM, EDGE_DIM)


def test_egnn_predictions_invariant_to_rotation_translation() -> None:
    torch.manual_seed(0)
    model = build_model("egnn", NODE_DIM, EDGE_DIM, hidden=16, layers=3).double().eval()
    for conv in model.convs:  # make the coordinate updates large enough to matter
        if conv.phi_x is not None:
            torch.nn.init.normal_(conv.phi_x[-1].weight, std=0.5)
    data = _graph(14, 3)
    data.x, data.pos, data.edge_attr = data.x.double(), data.pos.double(), data.edge_attr.double()

    def predict(pos: torch.Tensor) -> torch.Tensor:
        moved = data.clone()
        moved.pos = pos
        return model(moved)

    check_rigid_motion(predict, data.pos, seed=1, atol=1e-9)


# ---------------------------------------------------------------------------------------------
# training (pgml.bfactor.module / pgml.bfactor.training)


def _dataset(tmp: Path, n_train: int = 8, n_val: int = 3) -> tuple[list[Path], Path]:
    graphs = [_graph(10 + (i % 4), i, "p") for i in range(n_train + n_val + 1)]
    files = []
    for k, part in enumerate((graphs[: len(graphs) // 2], graphs[len(graphs) // 2:])):
        f = tmp / f"graphs_{k}.pt"
        torch.save({"graphs": part, "target": "raw", "radius": 5.0, "node_feature_dim": NODE_DIM,
                    "edge_feature_dim": EDGE_DIM}, f)
        files.append(f)
    splits = ["train"] * n_train + ["val"] * n_val + ["test"]
    table = pd.DataFrame({"id": [g.structure_id for g in graphs],
                          "file": [f"{g.structure_id}.pdb" for g in graphs], "split": splits})
    split = tmp / "split.tsv"
    table.to_csv(split, sep="\t", index=False)
    return files, split


def _config(**kw):
    from pgml.bfactor.training import TrainConfig

    base = dict(architecture="gcn", hidden=16, layers=2, dropout=0.0, lr=1e-2, epochs=8, patience=20,
                batch_size=2, seed=0)
    base.update(kw)
    return TrainConfig(**base)


def test_train_model_learns_linear_target(tmp_path: Path) -> None:
    from pgml.bfactor.training import load_model, train_model

    files, split = _dataset(tmp_path)
    res = train_model(files, split=split, output_dir=tmp_path / "run", config=_config(epochs=10))
    out = tmp_path / "run"
    for name in ("model.ckpt", "last.ckpt", "metrics.tsv", "learning_curve.png"):
        assert (out / name).exists()
    m = pd.read_csv(out / "metrics.tsv", sep="\t")
    assert {"epoch", "train_loss", "val_loss", "val_cc", "val_mae"} <= set(m.columns)
    assert m["train_loss"].iloc[-1] < 0.5 * m["train_loss"].iloc[0]
    assert m["val_mae"].min() < 0.5 * m["val_mae"].iloc[0]
    assert res.best_score == pytest.approx(m["val_cc"].max(), rel=1e-5)
    assert res.best_score > 0.9
    model, meta = load_model(out)
    assert not model.training
    assert meta["architecture"] == "gcn" and meta["target"] == "raw" and meta["radius"] == 5.0
    assert (meta["node_dim"], meta["edge_dim"]) == (NODE_DIM, EDGE_DIM)
    val = _graph(10 + (9 % 4), 9, "p")  # a validation protein
    with torch.no_grad():
        pred = model(val)
    cc = torch.corrcoef(torch.stack([pred, val.y]))[0, 1].item()
    assert cc > 0.9


def test_bfactor_training_deterministic_and_resumable(tmp_path: Path) -> None:
    from pgml.bfactor.training import train_model

    files, split = _dataset(tmp_path, n_train=4, n_val=2)
    cfg = _config(architecture="meta", dropout=0.2, epochs=4)
    train_model(files, split=split, output_dir=tmp_path / "a", config=cfg)
    train_model(files, split=split, output_dir=tmp_path / "b", config=_config(architecture="meta", dropout=0.2,
                                                                              epochs=2))
    train_model(files, split=split, output_dir=tmp_path / "b", config=cfg)  # resumes from last.ckpt
    a = pd.read_csv(tmp_path / "a" / "metrics.tsv", sep="\t")
    b = pd.read_csv(tmp_path / "b" / "metrics.tsv", sep="\t")
    assert len(a) == 4
    pd.testing.assert_frame_equal(a, b)
    wa = torch.load(tmp_path / "a" / "last.ckpt", weights_only=False)["state_dict"]
    wb = torch.load(tmp_path / "b" / "last.ckpt", weights_only=False)["state_dict"]
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k
    # other settings (here the architecture and the seed): the stale checkpoint is dropped, training
    # starts over and ends as a fresh run in an empty directory does
    other = _config(architecture="gcn", epochs=2, seed=7)
    train_model(files, split=split, output_dir=tmp_path / "b", config=other)
    train_model(files, split=split, output_dir=tmp_path / "c", config=other)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "b" / "metrics.tsv", sep="\t"),
                                  pd.read_csv(tmp_path / "c" / "metrics.tsv", sep="\t"))


def test_train_model_input_errors(tmp_path: Path) -> None:
    from pgml.bfactor.training import train_model

    files, split = _dataset(tmp_path, n_train=3, n_val=1)
    table = pd.read_csv(split, sep="\t")
    no_val = tmp_path / "no_val.tsv"
    table.assign(split=table["split"].replace("val", "test")).to_csv(no_val, sep="\t", index=False)
    with pytest.raises(InputError, match="no val structures"):
        train_model(files, split=no_val, output_dir=tmp_path / "x", config=_config())
    renamed = tmp_path / "renamed.tsv"
    table.assign(id=table["id"] + "_other").to_csv(renamed, sep="\t", index=False)
    with pytest.raises(InputError, match="not in the split"):
        train_model(files, split=renamed, output_dir=tmp_path / "x", config=_config())
    bad = tmp_path / "bad.tsv"
    table.assign(split="training").to_csv(bad, sep="\t", index=False)
    with pytest.raises(InputError, match="train, val or test"):
        train_model(files, split=bad, output_dir=tmp_path / "x", config=_config())
    with pytest.raises(InputError, match="unknown architecture"):
        _config(architecture="cnn")
    from pgml.bfactor.training import load_model
    with pytest.raises(InputError, match="not found"):
        load_model(tmp_path / "nowhere")


def test_val_cc_is_mean_of_per_protein_cc() -> None:
    from pgml.bfactor.module import BFactorModule

    module = BFactorModule("gcn", NODE_DIM, EDGE_DIM, hidden=8, layers=1)
    logged: dict[str, float] = {}
    module.log = lambda name, value, **kw: logged.__setitem__(name, float(value))  # type: ignore[method-assign]
    # Two proteins: predictions perfectly correlated in one, anti-correlated in the other.
    module._val = [(1.0, 2.0, 4), (-1.0, 6.0, 4)]
    module.on_validation_epoch_end()
    assert logged["val_cc"] == pytest.approx(0.0)
    assert logged["val_mae"] == pytest.approx(1.0) and logged["val_loss"] == pytest.approx(1.0)
    assert not math.isnan(logged["val_cc"])
