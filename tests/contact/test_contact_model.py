"""ATTContact layers: shapes, attention weights, region stretching, Maxout, and the Adam-to-SGD switch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pgml.contact.model import ATTContact, PlmBranch, RegionalAttention
from pgml.contact.training import ContactModule, Target, TargetDataset, features_1d

SMALL = {"hidden": 8, "heads": 2, "width": 4, "blocks": (1, 1), "maxout": 4}


def test_output_is_a_symmetric_probability_map_with_attention_weights() -> None:
    torch.manual_seed(0)
    model = ATTContact(**SMALL)
    prob, seq_w, reg_w = model(torch.randn(1, 40, 12), torch.randn(1, 442, 12, 12), attention=True)
    assert prob.shape == (1, 12, 12) and seq_w.shape == (12, 12) and reg_w.shape == (12, 12, 25)
    assert torch.all((prob > 0) & (prob < 1))
    torch.testing.assert_close(prob, prob.transpose(1, 2))
    torch.testing.assert_close(seq_w.sum(1), torch.ones(12))
    torch.testing.assert_close(reg_w.sum(2), torch.ones(12, 12))


def test_region_stretching_gathers_the_5x5_neighbourhood() -> None:
    layer = RegionalAttention(1, 2)
    x = torch.arange(36, dtype=torch.float32).view(1, 1, 6, 6)
    stretched = layer.stretch(x)[0, 0]  # (25, 6, 6)
    # slot (di, dj) of pair (i, j) holds x[i + di - 2, j + dj - 2], zero outside the map
    assert stretched[12, 3, 3] == x[0, 0, 3, 3]
    assert stretched[0, 3, 3] == x[0, 0, 1, 1]
    assert stretched[24, 3, 3] == x[0, 0, 5, 5]
    assert stretched[0, 0, 0] == 0.0


def test_maxout_takes_the_larger_of_each_channel_pair() -> None:
    branch = PlmBranch(c_in=2, k=1)
    with torch.no_grad():
        branch.conv.weight.zero_()
        branch.conv.bias.zero_()
        branch.conv.weight[0, 0] = 1.0  # channel 0 = input 0
        branch.conv.weight[1, 1] = 1.0  # channel 1 = input 1
    x = torch.tensor([[[[1.0, -2.0]], [[0.5, 3.0]]]])  # (1, 2, 1, 2)
    np.testing.assert_allclose(branch(x)[0, 0].detach().numpy(), [[1.0, 3.0]])


def test_reset_parameters_restores_a_fresh_model() -> None:
    model = ATTContact(**SMALL)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(7.0)
    model.reset_parameters()
    assert not all(torch.all(p == 7.0) for p in model.parameters())


def _target(length: int = 14, seed: int = 0) -> Target:
    rng = np.random.default_rng(seed)
    seq = "".join(rng.choice(list("ACDEFGHIKLMNPQRSTVWY"), length))
    coords = np.cumsum(rng.normal(0, 2.5, size=(length, 3)), axis=0)
    dist = np.sqrt(((coords[:, None] - coords[None]) ** 2).sum(-1))
    plm = rng.normal(size=(442, length, length)).astype(np.float16)
    return Target("t", seq, features_1d(seq, rng.normal(size=(length, 20))), plm, np.zeros((length, length)),
                  10.0, dist)


def test_optimiser_switches_from_adam_to_sgd_at_sgd_epoch() -> None:
    module = ContactModule(hidden=8, heads=2, width=4, blocks=(1,), maxout=4, sgd_epoch=1)
    adam, sgd = module.configure_optimizers()
    assert isinstance(adam, torch.optim.Adam) and isinstance(sgd, torch.optim.SGD)
    assert sgd.defaults["momentum"] == 0.9 and sgd.defaults["lr"] == 0.01 and adam.defaults["lr"] == 1e-3
    item = TargetDataset([_target()])[0]
    assert item["mask"].dtype == torch.bool and not item["mask"][0, :6].any()
    assert features_1d("AC", np.zeros((2, 20)))[:20].max() == pytest.approx(0.5)
