"""ATTContact [attcontact]: a sequence-attention and a regional-attention network, and their ensemble.

Layers follow the pattern of torch_geometric's ``MessagePassing`` modules: the constructor holds the
parameters, ``forward`` reads like the chapter's equations and ``reset_parameters`` exists. Inputs
of one target (batch size 1, as in the chapter): 1D features ``x (1, C1, L)`` (PSSM scores through a
sigmoid and the query one-hot) and the PLM couplings with the APC map, ``plm (1, 442, L, L)``.

Chapter 4 of [dissertation] (fig. 4.1-4.3):

- PLM branch: instance norm -> ReLU -> 1 x 1 convolution to ``2 k`` channels -> Maxout over channel
  pairs to ``k``.
- ResNet: a 7 x 7 stem convolution (the published code's; instance norm, ReLU), then 4 residual blocks of 3, 4, 6 and 3
  convolution layers (each layer: instance norm -> ReLU -> 3 x 3 convolution), a squeeze-and-excitation
  block after the last layer of each block, and the block's input added back; a final instance norm
  and ReLU.
- Sequence attention network: instance norm -> 1D convolution -> ReLU -> BiLSTM -> multi-head scaled
  dot-product attention ``softmax(Q K^T / sqrt(d_k)) V`` -> outer tiling ``[f_i, f_j]``
  to ``L x L`` -> 3 x 3 convolution, instance norm, ReLU; concatenated with the PLM branch, through
  the ResNet and a 1 x 1 convolution with a sigmoid. The attention weights (heads averaged) are the
  exported ``L x L`` map.
- Regional attention network: the PLM branch reads the couplings and the tiled 1D features (PLM +
  PSSM), the ResNet follows, a 3 x 3 convolution reduces the features to 32 channels, and
  multi-head attention of every pair (i, j) over its ``n x n`` (n = 5) neighbourhood (region
  stretching, :class:`RegionalAttention`) is added to them before the 1 x 1 sigmoid head. The
  ``L x L x n^2`` weights (heads averaged) are exported.
- ATTContact: the mean of the two networks' maps (the chapter's ensemble). ``noattention``: the
  regional network without its attention (the chapter's baseline: same ResNet, no attention).

Weights are drawn from a normal distribution, He et al.'s ``N(0, 2 / fan_in)`` (the published code's
``he_normal``, which Keras truncates at two standard deviations); biases are zero, instance-norm
scales ``N(1, 0.02)`` as in the published code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from pgml.contact.params import VARIANTS

REGION = 5
#: channels the ResNet's features are reduced to before the regional attention (the chapter's 32)
REGIONAL_CHANNELS = 32


def init_normal(module: nn.Module) -> None:
    """The chapter's normal initialisation for every layer below ``module`` (module docstring)."""
    for m in module.modules():
        if isinstance(m, nn.Conv1d | nn.Conv2d | nn.Linear):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.InstanceNorm1d | nn.InstanceNorm2d) and m.affine:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LSTM):
            for name, p in m.named_parameters():
                if name.startswith("weight"):
                    nn.init.kaiming_normal_(p, nonlinearity="relu")
                else:
                    nn.init.zeros_(p)
        elif isinstance(m, nn.MultiheadAttention):
            nn.init.kaiming_normal_(m.in_proj_weight, nonlinearity="relu")
            nn.init.zeros_(m.in_proj_bias)


class SqueezeExcitation(nn.Module):
    """Channel gates ``s = sigmoid(W2 relu(W1 mean_ij(x)))``; output ``x * s`` (Hu et al.'s SE block, ratio 16)."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels, max(1, channels // reduction), bias=False)
        self.fc2 = nn.Linear(max(1, channels // reduction), channels, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init_normal(self)

    def forward(self, x: Tensor) -> Tensor:
        s = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean(dim=(2, 3))))))
        return x * s[:, :, None, None]


class ResidualBlock(nn.Module):
    """``y = x + SE(f_n(...f_1(x)))`` with ``f_k = conv3(relu(IN(.)))``: one block of ``layers`` convolutions."""

    def __init__(self, channels: int, layers: int) -> None:
        super().__init__()
        self.norms = nn.ModuleList(nn.InstanceNorm2d(channels, affine=True) for _ in range(layers))
        self.convs = nn.ModuleList(nn.Conv2d(channels, channels, 3, padding=1) for _ in range(layers))
        self.se = SqueezeExcitation(channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init_normal(self)

    def forward(self, x: Tensor) -> Tensor:
        h = x
        for norm, conv in zip(self.norms, self.convs, strict=True):
            h = conv(torch.relu(norm(h)))
        return x + self.se(h)


class ResNet2d(nn.Module):
    """7 x 7 stem, residual blocks of ``blocks`` convolution layers each, final instance norm and ReLU."""

    def __init__(self, c_in: int, width: int, blocks: tuple[int, ...]) -> None:
        super().__init__()
        self.stem = nn.Conv2d(c_in, width, 7, padding=3)
        self.stem_norm = nn.InstanceNorm2d(width, affine=True)
        self.blocks = nn.ModuleList(ResidualBlock(width, n) for n in blocks)
        self.norm = nn.InstanceNorm2d(width, affine=True)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init_normal(self)

    def forward(self, x: Tensor) -> Tensor:
        h = torch.relu(self.stem_norm(self.stem(x)))
        for block in self.blocks:
            h = block(h)
        return torch.relu(self.norm(h))


class PlmBranch(nn.Module):
    """Instance norm -> ReLU -> 1 x 1 convolution ``c_in -> 2 k`` -> Maxout over channel pairs to ``k``."""

    def __init__(self, c_in: int = 442, k: int = 64) -> None:
        super().__init__()
        self.norm = nn.InstanceNorm2d(c_in, affine=True)
        self.conv = nn.Conv2d(c_in, 2 * k, 1)
        self.k = k
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init_normal(self)

    def maxout(self, h: Tensor) -> Tensor:
        return h.view(h.shape[0], self.k, 2, *h.shape[2:]).amax(dim=2)

    def forward(self, plm: Tensor) -> Tensor:
        return self.maxout(self.conv(torch.relu(self.norm(plm))))


def tile(f: Tensor) -> Tensor:
    """Outer tiling ``(1, C, L) -> (1, 2 C, L, L)``: channel ``c`` of pair (i, j) is ``f_i``, ``C + c`` is ``f_j``."""
    length = f.shape[2]
    return torch.cat([f[:, :, :, None].expand(-1, -1, -1, length), f[:, :, None, :].expand(-1, -1, length, -1)], dim=1)


class SequenceAttention(nn.Module):
    """Instance norm -> Conv1d -> ReLU -> BiLSTM -> multi-head attention -> ``[f_i, f_j]`` tiled to L x L."""

    def __init__(self, c_in: int, hidden: int, heads: int) -> None:
        super().__init__()
        self.norm = nn.InstanceNorm1d(c_in, affine=True)
        self.conv = nn.Conv1d(c_in, hidden, 3, padding=1)
        self.lstm = nn.LSTM(hidden, hidden // 2, batch_first=True, bidirectional=True)
        self.attention = nn.MultiheadAttention(2 * (hidden // 2), heads, batch_first=True)
        self.out_channels = 4 * (hidden // 2)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init_normal(self)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = torch.relu(self.conv(self.norm(x))).transpose(1, 2)  # (1, L, hidden)
        h, _ = self.lstm(h)
        # softmax(Q K^T / sqrt(d_k)) V over the sequence, heads averaged in the returned weights
        f, weights = self.attention(h, h, h, need_weights=True, average_attn_weights=True)
        return tile(f.transpose(1, 2)), weights[0]


class RegionalAttention(nn.Module):
    """Multi-head attention of each pair (i, j) over its n x n neighbourhood.

    ``a_ij,s = softmax_s(q_ij . k_s / sqrt(d_k))`` over the slots ``s`` of the region around (i, j),
    ``out_ij = W_o concat_heads(sum_s a_ij,s v_s)``. Slots outside the map are masked (weight 0), so
    pairs at the borders attend over the part of their region that exists.
    """

    def __init__(self, channels: int, heads: int, region: int = REGION) -> None:
        super().__init__()
        if channels % heads:
            raise ValueError(f"regional attention: {channels} channels do not split into {heads} heads")
        self.region, self.heads = region, heads
        self.query = nn.Conv2d(channels, channels, 1, bias=False)
        self.key = nn.Conv2d(channels, channels, 1, bias=False)
        self.value = nn.Conv2d(channels, channels, 1, bias=False)
        self.out = nn.Conv2d(channels, channels, 1)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init_normal(self)

    def stretch(self, x: Tensor) -> Tensor:
        """Region stretching: ``(1, C, L, L) -> (1, C, n^2, L, L)``, slot ``n di + dj`` holds ``x[i+di-n//2, j+dj-n//2]``.

        The chapter's fixed-weight 3D convolution with one-hot kernels, written as
        ``torch.nn.functional.unfold`` (zero outside the map).
        """
        _, c, length, _ = x.shape
        n = self.region
        return nn.functional.unfold(x, n, padding=n // 2).view(1, c, n * n, length, length)

    def inside(self, length: int, device: torch.device) -> Tensor:
        """``(n^2, L, L)``: True where slot s of pair (i, j) lies on the map."""
        return self.stretch(torch.ones(1, 1, length, length, device=device))[0, 0] > 0

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        _, c, length, _ = x.shape
        d = c // self.heads
        q = self.query(x).view(self.heads, d, length, length)
        k = self.stretch(self.key(x)).view(self.heads, d, -1, length, length)
        v = self.stretch(self.value(x)).view(self.heads, d, -1, length, length)
        scores = (q[:, :, None] * k).sum(1) / math.sqrt(d)  # (heads, n^2, L, L)
        scores = scores.masked_fill(~self.inside(length, x.device)[None], float("-inf"))
        weights = torch.softmax(scores, dim=1)
        heads = (weights[:, None] * v).sum(2)  # (heads, d, L, L)
        return self.out(heads.reshape(1, c, length, length)), weights.mean(0).permute(1, 2, 0)


@dataclass
class ContactOutput:
    """The variant's map (``prob``), every module's map by name, and the attention weights (when any)."""

    prob: Tensor
    maps: dict[str, Tensor]
    sequence_weights: Tensor | None = None
    regional_weights: Tensor | None = None


def symmetric_sigmoid(logits: Tensor) -> Tensor:
    """Contact probability ``(1, L, L)`` from ``(1, 1, L, L)`` logits, symmetrised."""
    logits = logits[:, 0]
    return torch.sigmoid(0.5 * (logits + logits.transpose(1, 2)))


class SequenceAttentionNet(nn.Module):
    """Sequence attention -> 3 x 3 convolution; with the PLM branch through the ResNet and a sigmoid head."""

    def __init__(self, c1d: int, plm_channels: int, *, hidden: int, heads: int, width: int,
                 blocks: tuple[int, ...], maxout: int) -> None:
        super().__init__()
        self.attention = SequenceAttention(c1d, hidden, heads)
        self.conv = nn.Conv2d(self.attention.out_channels, width, 3, padding=1)
        self.norm = nn.InstanceNorm2d(width, affine=True)
        self.plm = PlmBranch(plm_channels, maxout)
        self.resnet = ResNet2d(width + maxout, width, blocks)
        self.head = nn.Conv2d(width, 1, 1)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init_normal(self)

    def forward(self, x: Tensor, plm: Tensor, *, attention_off: bool = False) -> tuple[Tensor, Tensor]:
        seq2d, weights = self.attention(x)
        if attention_off:
            seq2d = torch.zeros_like(seq2d)
        h = torch.relu(self.norm(self.conv(seq2d)))
        return symmetric_sigmoid(self.head(self.resnet(torch.cat([h, self.plm(plm)], dim=1)))), weights


class RegionalAttentionNet(nn.Module):
    """PLM branch on couplings + tiled 1D features -> ResNet -> 32 channels -> (+ regional attention) -> sigmoid."""

    def __init__(self, c1d: int, plm_channels: int, *, heads: int, width: int, blocks: tuple[int, ...],
                 maxout: int, region: int = REGION, attention: bool = True) -> None:
        super().__init__()
        self.plm = PlmBranch(plm_channels + 2 * c1d, maxout)
        self.resnet = ResNet2d(maxout, width, blocks)
        self.reduce = nn.Conv2d(width, REGIONAL_CHANNELS, 3, padding=1)
        self.norm = nn.InstanceNorm2d(REGIONAL_CHANNELS, affine=True)
        self.attention = RegionalAttention(REGIONAL_CHANNELS, heads, region) if attention else None
        self.head = nn.Conv2d(REGIONAL_CHANNELS, 1, 1)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init_normal(self)

    def forward(self, x: Tensor, plm: Tensor, *, attention_off: bool = False) -> tuple[Tensor, Tensor | None]:
        h = self.resnet(self.plm(torch.cat([plm, tile(x)], dim=1)))
        h = torch.relu(self.norm(self.reduce(h)))
        weights = None
        if self.attention is not None:
            att, weights = self.attention(h)
            if not attention_off:
                h = h + att
        return symmetric_sigmoid(self.head(h)), weights


class ATTContact(nn.Module):
    """The two attention networks and their mean (``attcontact``), or the ResNet alone (``noattention``)."""

    def __init__(self, c1d: int = 40, plm_channels: int = 442, *, hidden: int = 64, heads: int = 4,
                 width: int = 64, blocks: tuple[int, ...] = (3, 4, 6, 3), maxout: int = 64,
                 region: int = REGION, variant: str = "attcontact") -> None:
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"variant {variant!r}: not one of {', '.join(VARIANTS)}")
        self.variant = variant
        sizes = {"heads": heads, "width": width, "blocks": tuple(blocks), "maxout": maxout}
        if variant == "attcontact":
            self.sequence = SequenceAttentionNet(c1d, plm_channels, hidden=hidden, **sizes)
            self.regional = RegionalAttentionNet(c1d, plm_channels, region=region, **sizes)
        else:
            self.noattention = RegionalAttentionNet(c1d, plm_channels, region=region, attention=False, **sizes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init_normal(self)

    def forward(self, x: Tensor, plm: Tensor, *, attention_off: tuple[str, ...] = ()) -> ContactOutput:
        """Maps of every module; ``attention_off`` names modules whose attention output is zeroed (ablation)."""
        if self.variant == "noattention":
            prob, _ = self.noattention(x, plm)
            return ContactOutput(prob, {"noattention": prob})
        p_seq, seq_w = self.sequence(x, plm, attention_off="sequence_attention" in attention_off)
        p_reg, reg_w = self.regional(x, plm, attention_off="regional_attention" in attention_off)
        prob = 0.5 * (p_seq + p_reg)
        return ContactOutput(prob, {"attcontact": prob, "sequence_attention": p_seq, "regional_attention": p_reg},
                             seq_w, reg_w)
