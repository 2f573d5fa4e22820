"""ATTContact layers: block layout, shapes, attention weights, region stretching, Maxout, initialisation,
the per-module losses and the Adam-to-SGD switch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pgml.contact.model import (
    REGIONAL_CHANNELS,
    ATTContact,
    PlmBranch,
    RegionalAttention,
    ResNet2d,
    SqueezeExcitation,
)
from pgml.contact.training import ContactModule, Target, TargetDataset, features_1d, module_losses

SMALL = {"hidden": 8, "heads": 2, "width": 4, "blocks": (1, 1), "maxout": 4}


def _count(module: torch.nn.Module, kind: type, kernel: int | None = None) -> int:
    return sum(isinstance(m, kind) and (kernel is None or m.kernel_size[0] == kernel) for m in module.modules())


def test_resnet_has_four_blocks_of_3_4_6_3_convolutions_with_one_se_block_each() -> None:
    resnet = ResNet2d(8, 16, (3, 4, 6, 3))
    assert [len(b.convs) for b in resnet.blocks] == [3, 4, 6, 3]
    assert _count(resnet, torch.nn.Conv2d, 3) == 16  # the blocks' 3 x 3 convolutions
    assert _count(resnet, torch.nn.Conv2d) == 17  # and the 7 x 7 stem
    assert _count(resnet, SqueezeExcitation) == 4
    # the SE block follows the block's last convolution, before the block's input is added back
    block = resnet.blocks[0]
    assert list(dict(block.named_children())) == ["norms", "convs", "se"]
    x = torch.randn(1, 16, 6, 6)
    with torch.no_grad():
        block.se.forward = lambda h: 0.0 * h  # SE gates closed: the block passes its input through
        torch.testing.assert_close(block(x), x)


def test_attcontact_at_the_chapters_sizes_has_the_chapters_layout() -> None:
    model = ATTContact()  # defaults: blocks (3, 4, 6, 3), width 64, heads 4
    for net in (model.sequence, model.regional):
        assert [len(b.convs) for b in net.resnet.blocks] == [3, 4, 6, 3]
        assert _count(net.resnet, SqueezeExcitation) == 4
    assert model.regional.attention.heads == 4 and model.regional.attention.region == 5
    assert model.regional.reduce.out_channels == REGIONAL_CHANNELS == 32
    assert model.sequence.attention.attention.num_heads == 4
    # the regional network's PLM branch reads the couplings and the tiled PSSM + one-hot (442 + 2 x 40)
    assert model.regional.plm.conv.in_channels == 442 + 80 and model.sequence.plm.conv.in_channels == 442
    assert isinstance(model.regional.plm.norm, torch.nn.InstanceNorm2d)
    plain = ATTContact(variant="noattention")
    assert plain.noattention.attention is None
    assert [len(b.convs) for b in plain.noattention.resnet.blocks] == [3, 4, 6, 3]


def test_weights_are_drawn_from_he_normal() -> None:
    torch.manual_seed(0)
    resnet = ResNet2d(8, 64, (3, 4, 6, 3))
    w = torch.cat([c.weight.flatten() for b in resnet.blocks for c in b.convs])
    expected = (2.0 / (64 * 9)) ** 0.5  # N(0, 2 / fan_in), fan_in = 64 x 3 x 3
    assert abs(w.std().item() / expected - 1) < 0.02 and abs(w.mean().item()) < 0.002
    assert all(torch.all(c.bias == 0) for b in resnet.blocks for c in b.convs)
    gamma = torch.cat([n.weight for b in resnet.blocks for n in b.norms])
    assert abs(gamma.mean().item() - 1) < 0.01 and 0.01 < gamma.std().item() < 0.03


def test_output_is_a_symmetric_probability_map_per_module_with_attention_weights() -> None:
    torch.manual_seed(0)
    model = ATTContact(**SMALL)
    out = model(torch.randn(1, 40, 12), torch.randn(1, 442, 12, 12))
    assert list(out.maps) == ["attcontact", "sequence_attention", "regional_attention"]
    for prob in out.maps.values():
        assert prob.shape == (1, 12, 12) and torch.all((prob > 0) & (prob < 1))
        torch.testing.assert_close(prob, prob.transpose(1, 2))
    torch.testing.assert_close(out.prob, 0.5 * (out.maps["sequence_attention"] + out.maps["regional_attention"]))
    assert out.sequence_weights.shape == (12, 12) and out.regional_weights.shape == (12, 12, 25)
    torch.testing.assert_close(out.sequence_weights.sum(1), torch.ones(12))
    torch.testing.assert_close(out.regional_weights.sum(2), torch.ones(12, 12))
    plain = ATTContact(**SMALL, variant="noattention")(torch.randn(1, 40, 12), torch.randn(1, 442, 12, 12))
    assert list(plain.maps) == ["noattention"] and plain.sequence_weights is None


def test_zeroing_an_attention_module_changes_the_prediction() -> None:
    torch.manual_seed(0)
    model = ATTContact(**SMALL).eval()
    x, plm = torch.randn(1, 40, 12), torch.randn(1, 442, 12, 12)
    with torch.no_grad():
        full = model(x, plm).maps
        for module in ("sequence_attention", "regional_attention"):
            ablated = model(x, plm, attention_off=(module,)).maps
            assert (full[module] - ablated[module]).abs().max() > 1e-3, module
            other = ({"sequence_attention", "regional_attention"} - {module}).pop()
            torch.testing.assert_close(full[other], ablated[other])  # the other network is untouched


def test_each_module_has_its_own_loss_and_gradient() -> None:
    torch.manual_seed(0)
    model = ATTContact(**SMALL)
    item = TargetDataset([_target(12)])[0]
    out = model(item["x"][None], item["plm"][None])
    losses = module_losses(out, item["y"][None], item["mask"][None])
    assert set(losses) == {"attcontact", "sequence_attention", "regional_attention"}
    losses["regional_attention"].backward()
    assert all(p.grad is None for p in model.sequence.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.regional.parameters())


def test_region_stretching_gathers_the_5x5_neighbourhood() -> None:
    layer = RegionalAttention(2, 2)
    x = torch.arange(36, dtype=torch.float32).view(1, 1, 6, 6)
    stretched = layer.stretch(x)[0, 0]  # (25, 6, 6)
    # slot (di, dj) of pair (i, j) holds x[i + di - 2, j + dj - 2], zero outside the map
    assert stretched[12, 3, 3] == x[0, 0, 3, 3]
    assert stretched[0, 3, 3] == x[0, 0, 1, 1]
    assert stretched[24, 3, 3] == x[0, 0, 5, 5]
    assert stretched[0, 0, 0] == 0.0
    inside = layer.inside(6, torch.device("cpu"))
    assert inside[:, 3, 3].all() and inside[:, 0, 0].sum() == 9  # a corner pair's region: 3 x 3 on the map


def test_regional_attention_gives_no_weight_outside_the_map() -> None:
    torch.manual_seed(0)
    layer = RegionalAttention(4, 2)
    _, weights = layer(torch.randn(1, 4, 7, 7))
    inside = layer.inside(7, torch.device("cpu")).permute(1, 2, 0)
    assert torch.all(weights[~inside] == 0)
    torch.testing.assert_close(weights.sum(2), torch.ones(7, 7))


def test_maxout_takes_the_larger_of_each_channel_pair() -> None:
    branch = PlmBranch(c_in=2, k=1)
    assert branch.maxout(torch.tensor([[[[1.0]], [[-2.0]]]])).item() == 1.0
    branch.norm = torch.nn.Identity()  # Maxout of the 1 x 1 convolution of relu(x)
    with torch.no_grad():
        branch.conv.weight.zero_()
        branch.conv.bias.zero_()
        branch.conv.weight[0, 0] = 1.0  # channel 0 = input 0
        branch.conv.weight[1, 1] = 1.0  # channel 1 = input 1
    x = torch.tensor([[[[1.0, -2.0]], [[0.5, 3.0]]]])  # (1, 2, 1, 2)
    np.testing.assert_allclose(branch(x)[0, 0].detach().numpy(), [[1.0, 3.0]])
    x = torch.tensor([[[[-1.0, -2.0]], [[-0.5, -3.0]]]])  # ReLU before the convolution: all zero
    np.testing.assert_allclose(branch(x)[0, 0].detach().numpy(), [[0.0, 0.0]])


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


def test_regional_attention_treats_border_pairs_like_interior_pairs() -> None:
    """No edge effect from the region stretching: on a position-constant map every pair's output is the same.

    With the slots outside the map left in the softmax as zeros (the published code's zero-padded
    stretching), pairs within two residues of an end put ~40 % of their weight on zeros and come out
    different: the cause of the demo's top-L pairs piling up at the chain's ends.
    """
    torch.manual_seed(0)
    layer = RegionalAttention(4, 2)
    x = torch.randn(1, 4, 1, 1).expand(1, 4, 9, 9).contiguous()
    with torch.no_grad():
        out, weights = layer(x)
    torch.testing.assert_close(out, out[:, :, 4:5, 4:5].expand_as(out))
    assert weights[0, 0].count_nonzero() == 9 and weights[4, 4].count_nonzero() == 25
