"""IEConv layer and network: invariance, every table-2 switch forward/backward, memory-light kernel."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from conftest import DEMO_STRUCTURES
from helpers import check_rigid_motion

from pgml.fold.data import Augment, collate, prepare
from pgml.fold.graph import structure_samples
from pgml.fold.layers import IEConv
from pgml.fold.model import IEConvNet
from pgml.fold.params import CONVOLUTIONS, NEIGHBOURHOODS, POOLINGS, REPRESENTATIONS, ModelConfig

SMALL = ModelConfig(widths=(8, 12, 16), radii=(3.0, 6.0, 8.0), blocks=1, basis=4, kernel_hidden=8, mlp_hidden=16)


@pytest.fixture(scope="module")
def samples() -> list[dict]:
    return structure_samples(DEMO_STRUCTURES / "1UBI.pdb.gz") + structure_samples(DEMO_STRUCTURES / "1A8O.pdb.gz")


def _batch(samples: list[dict], config: ModelConfig, pos: list[np.ndarray] | None = None) -> dict:
    items = []
    for k, s in enumerate(samples):
        if pos is not None:
            s = dict(s, pos=pos[k])
        items.append((prepare(s, config), k % 3))
    return collate(items)


def test_class_probabilities_are_invariant_to_rigid_motion(samples: list[dict]) -> None:
    torch.manual_seed(0)
    net = IEConvNet(3, SMALL).double().eval()
    s = samples[0]

    def probs(pos: torch.Tensor) -> torch.Tensor:
        batch = _batch([s], SMALL, [pos.numpy()])
        batch["x_feat"] = batch["x_feat"].double()
        for k in range(len(SMALL.widths)):
            batch[f"edge_attr_{k}"] = batch[f"edge_attr_{k}"].double()
        return torch.softmax(net(batch), dim=1)

    check_rigid_motion(probs, torch.from_numpy(s["pos"].astype(np.float64)), atol=1e-4)


@pytest.mark.parametrize("field, values", [("convolution", CONVOLUTIONS), ("neighbourhood", NEIGHBOURHOODS),
                                           ("pooling", POOLINGS), ("representation", REPRESENTATIONS)])
def test_every_ablation_switch_runs_forward_and_backward(samples: list[dict], field: str, values: tuple) -> None:
    for value in values:
        config = dataclasses.replace(SMALL, **{field: value})
        torch.manual_seed(0)
        net = IEConvNet(3, config).train()
        batch = _batch(samples, config)
        logits = net(batch)
        assert logits.shape == (2, 3) and torch.isfinite(logits).all()
        torch.nn.functional.cross_entropy(logits, batch["y"]).backward()
        grads = [p.grad for p in net.parameters() if p.requires_grad]
        assert all(g is not None and torch.isfinite(g).all() for g in grads), (field, value)
        conv = net.levels[0][0].conv
        assert conv.lin.weight.grad.abs().sum() > 0, (field, value)
        if field == "convolution" and value != "gcnn":
            assert conv.kernel[0].weight.grad.abs().sum() > 0, value


def test_ieconv_matches_a_dense_kernel_sum() -> None:
    """Eq. 1 written out for one node: sum over neighbours of W (h_j (x) k_ij), averaged."""
    torch.manual_seed(1)
    conv = IEConv(3, 2, basis=4, hidden=5, edge_chunk=2)  # chunking must not change the result
    x = torch.randn(4, 3)
    edge_index = torch.tensor([[0, 1, 2, 3, 1], [1, 1, 1, 1, 0]])
    attr = torch.rand(5, 6)
    out = conv(x, edge_index, attr)
    k = conv.kernel(attr[:, :3])
    expected = torch.zeros(2)
    for e in range(4):
        expected += conv.lin.weight @ torch.outer(x[edge_index[0, e]], k[e]).flatten()
    expected = expected / 4 + conv.lin.bias
    torch.testing.assert_close(out[1], expected)
    conv.reset_parameters()


def test_augmentation_keeps_the_shape_and_changes_coordinates(samples: list[dict]) -> None:
    s = samples[0]
    a = prepare(s, SMALL, Augment(), np.random.default_rng(0))
    b = prepare(s, SMALL)
    assert a["x_type"].shape == b["x_type"].shape
    assert not torch.equal(a["edge_attr_0"], b["edge_attr_0"]) or a["edge_attr_0"].shape != b["edge_attr_0"].shape
    tau = a["edge_attr_0"][:, :3]
    assert float(tau.min()) >= 0.0 and float(tau.max()) <= 1.0


def test_gcnn_is_kipf_and_welling_symmetric_normalisation_with_self_loops() -> None:
    """[kipf2017] eq. 2 by hand on a path 0-1-2 (edges both ways, node 1 given its self loop already):
    H' = D^-1/2 (A + I) D^-1/2 X W^T + b with degrees of A + I = (2, 3, 2)."""
    from pgml.fold.layers import KipfWellingGCN, make_convolution

    torch.manual_seed(2)
    conv = make_convolution("gcnn", 3, 2)
    assert isinstance(conv, KipfWellingGCN)
    x = torch.randn(3, 3)
    edge_index = torch.tensor([[0, 1, 1, 2, 1], [1, 0, 2, 1, 1]])
    a_hat = torch.tensor([[1.0, 1, 0], [1, 1, 1], [0, 1, 1]])
    d = a_hat.sum(1).rsqrt()
    expected = (d[:, None] * a_hat * d[None, :]) @ x @ conv.lin.weight.T + conv.bias
    torch.testing.assert_close(conv(x, edge_index, torch.zeros(5, 6)), expected)


def test_noise_and_atom_dropout_act_before_every_convolution() -> None:
    """Appendix D: the perturbation sits in front of each convolution, only in training."""
    from pgml.fold.model import NodePerturbation

    config = dataclasses.replace(SMALL, atom_dropout=0.5, feature_noise=0.025)
    net = IEConvNet(3, config)
    blocks = [b for level in net.levels for b in level]
    assert len(blocks) == len(SMALL.widths) * SMALL.blocks
    assert all(isinstance(b.perturb, NodePerturbation) and b.perturb.drop == 0.5 and b.perturb.noise == 0.025
               for b in blocks)
    perturb = blocks[-1].perturb
    x = torch.ones(4000, 4)
    torch.manual_seed(0)
    out = perturb.train()(x)
    dropped = (out.abs() < 0.2).all(1).float().mean()
    assert abs(float(dropped) - 0.5) < 0.05  # half of the nodes zeroed
    kept = out[(out.abs() >= 0.2).all(1)]
    assert abs(float((kept - 1).std()) - 0.025) < 0.003  # noise sd
    assert torch.equal(perturb.eval()(x), x)
