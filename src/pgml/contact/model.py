"""ATTContact [attcontact]: sequence and regional attention modules, each feeding a residual network.

Layers follow the pattern of torch_geometric's ``MessagePassing`` modules: the constructor holds the
parameters, ``forward`` reads like the chapter's equations and ``reset_parameters`` exists. Inputs
of one target (batch size 1, as in the chapter): 1D features ``x (1, C1, L)`` (PSSM scores through a
sigmoid and the query one-hot) and the PLM couplings with the APC map, ``plm (1, 442, L, L)``.

- Sequence attention module (section 4.2.2 of [dissertation]): instance norm -> 1D convolution ->
  BiLSTM -> multi-head scaled dot-product attention ``softmax(Q K^T / sqrt(d)) V`` -> outer tiling
  ``[f_i, f_j]`` to ``L x L``; the attention weights (heads averaged) are the exported ``L x L`` map.
- Regional attention module: region stretching gathers, for every pair (i, j), the ``n x n`` (n = 5)
  neighbourhood of a 2D feature map into ``n^2`` slots — the chapter's fixed-weight 3D convolution
  with one-hot kernels, written as ``torch.nn.functional.unfold`` (the same numbers without a
  convolution over zeros) — then attention of the centre over its ``n^2`` slots; the ``L x L x n^2``
  weights are exported.
- PLM branch: 1 x 1 convolution 442 -> 2k (the 441 couplings and the APC score) and Maxout to k channels.
- Each module's features, concatenated with the PLM branch, pass a ResNet of blocks (3, 4, 6, 3
  layers in the chapter; instance norm, 3 x 3 convolutions, 1 x 1 shortcut, squeeze-and-excitation)
  and a 1 x 1 convolution with a sigmoid; the prediction is the mean of the two modules' maps.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

REGION = 5


class SqueezeExcitation(nn.Module):
    """Channel gates ``s = sigmoid(W2 relu(W1 mean_ij(x)))``; output ``x * s`` (Hu et al.'s SE block)."""

    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels, max(1, channels // reduction))
        self.fc2 = nn.Linear(max(1, channels // reduction), channels)

    def reset_parameters(self) -> None:
        self.fc1.reset_parameters()
        self.fc2.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        s = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean(dim=(2, 3))))))
        return x * s[:, :, None, None]


class ResidualBlock(nn.Module):
    """``y = SE(conv3(relu(IN(conv3(relu(IN(x))))))) + conv1(x)``."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.norm1 = nn.InstanceNorm2d(c_in, affine=True)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm2 = nn.InstanceNorm2d(c_out, affine=True)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.se = SqueezeExcitation(c_out)
        self.shortcut = nn.Conv2d(c_in, c_out, 1)

    def reset_parameters(self) -> None:
        for m in (self.norm1, self.conv1, self.norm2, self.conv2, self.se, self.shortcut):
            m.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv1(torch.relu(self.norm1(x)))
        h = self.conv2(torch.relu(self.norm2(h)))
        return self.se(h) + self.shortcut(x)


class ResNet2d(nn.Module):
    """Stages of residual blocks (``blocks`` per stage, ``width`` channels) and a sigmoid 1 x 1 head."""

    def __init__(self, c_in: int, width: int, blocks: tuple[int, ...]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = c_in
        for n in blocks:
            for _ in range(n):
                layers.append(ResidualBlock(c, width))
                c = width
        self.blocks = nn.Sequential(*layers)
        self.head = nn.Conv2d(c, 1, 1)

    def reset_parameters(self) -> None:
        for m in self.blocks:
            m.reset_parameters()
        self.head.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        """Contact probability ``(1, L, L)``, symmetrised."""
        logits = self.head(self.blocks(x))[:, 0]
        return torch.sigmoid(0.5 * (logits + logits.transpose(1, 2)))


class SequenceAttention(nn.Module):
    """Instance norm -> Conv1d -> BiLSTM -> multi-head attention -> ``[f_i, f_j]`` tiled to L x L."""

    def __init__(self, c_in: int, hidden: int, heads: int) -> None:
        super().__init__()
        self.norm = nn.InstanceNorm1d(c_in, affine=True)
        self.conv = nn.Conv1d(c_in, hidden, 5, padding=2)
        self.lstm = nn.LSTM(hidden, hidden // 2, batch_first=True, bidirectional=True)
        self.attention = nn.MultiheadAttention(hidden, heads, batch_first=True)
        self.out_channels = 2 * hidden

    def reset_parameters(self) -> None:
        self.norm.reset_parameters()
        self.conv.reset_parameters()
        self.lstm.reset_parameters()
        self.attention._reset_parameters()

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = torch.relu(self.conv(self.norm(x))).transpose(1, 2)  # (1, L, hidden)
        h, _ = self.lstm(h)
        # softmax(Q K^T / sqrt(d)) V over the sequence, heads averaged in the returned weights
        f, weights = self.attention(h, h, h, need_weights=True, average_attn_weights=True)
        length = f.shape[1]
        fi = f.transpose(1, 2)[:, :, :, None].expand(-1, -1, -1, length)
        fj = f.transpose(1, 2)[:, :, None, :].expand(-1, -1, length, -1)
        return torch.cat([fi, fj], dim=1), weights[0]


class RegionalAttention(nn.Module):
    """Attention of each pair (i, j) over its n x n neighbourhood of a 2D feature map."""

    def __init__(self, c_in: int, hidden: int, region: int = REGION) -> None:
        super().__init__()
        self.region = region
        self.query = nn.Conv2d(c_in, hidden, 1)
        self.key = nn.Conv2d(c_in, hidden, 1)
        self.value = nn.Conv2d(c_in, hidden, 1)
        self.out_channels = hidden

    def reset_parameters(self) -> None:
        for m in (self.query, self.key, self.value):
            m.reset_parameters()

    def stretch(self, x: Tensor) -> Tensor:
        """Region stretching: ``(1, C, L, L) -> (1, C, n^2, L, L)`` (zero padding at the borders)."""
        _, c, length, _ = x.shape
        n = self.region
        return nn.functional.unfold(x, n, padding=n // 2).view(1, c, n * n, length, length)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        q = self.query(x)  # (1, d, L, L)
        k = self.stretch(self.key(x))  # (1, d, n^2, L, L)
        v = self.stretch(self.value(x))
        scores = (q[:, :, None] * k).sum(1) / math.sqrt(q.shape[1])  # (1, n^2, L, L)
        weights = torch.softmax(scores, dim=1)
        out = (weights[:, None] * v).sum(2)  # (1, d, L, L)
        return out, weights[0].permute(1, 2, 0)


class PlmBranch(nn.Module):
    """1 x 1 convolution 442 -> 2 k, Maxout over channel pairs to k."""

    def __init__(self, c_in: int = 442, k: int = 64) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, 2 * k, 1)
        self.k = k

    def reset_parameters(self) -> None:
        self.conv.reset_parameters()

    def forward(self, plm: Tensor) -> Tensor:
        h = self.conv(plm)
        return h.view(h.shape[0], self.k, 2, *h.shape[2:]).amax(dim=2)


class ATTContact(nn.Module):
    """Mean of the sequence-attention and regional-attention ResNets' contact maps (module docstring)."""

    def __init__(self, c1d: int = 40, plm_channels: int = 442, *, hidden: int = 64, heads: int = 4,
                 width: int = 64, blocks: tuple[int, ...] = (3, 4, 6, 3), maxout: int = 64,
                 region: int = REGION) -> None:
        super().__init__()
        self.sequence = SequenceAttention(c1d, hidden, heads)
        self.plm_seq = PlmBranch(plm_channels, maxout)
        self.plm_reg = PlmBranch(plm_channels, maxout)
        self.regional = RegionalAttention(2 * c1d, hidden, region)
        self.resnet_seq = ResNet2d(self.sequence.out_channels + maxout, width, blocks)
        self.resnet_reg = ResNet2d(self.regional.out_channels + maxout, width, blocks)

    def reset_parameters(self) -> None:
        for m in (self.sequence, self.plm_seq, self.plm_reg, self.regional, self.resnet_seq, self.resnet_reg):
            m.reset_parameters()

    def forward(self, x: Tensor, plm: Tensor, *, attention: bool = False
                ) -> Tensor | tuple[Tensor, Tensor, Tensor]:
        seq2d, seq_weights = self.sequence(x)
        length = x.shape[2]
        tiled = torch.cat([x[:, :, :, None].expand(-1, -1, -1, length),
                           x[:, :, None, :].expand(-1, -1, length, -1)], dim=1)
        reg2d, reg_weights = self.regional(tiled)
        p_seq = self.resnet_seq(torch.cat([seq2d, self.plm_seq(plm)], dim=1))
        p_reg = self.resnet_reg(torch.cat([reg2d, self.plm_reg(plm)], dim=1))
        prob = 0.5 * (p_seq + p_reg)
        if attention:
            return prob, seq_weights, reg_weights
        return prob
