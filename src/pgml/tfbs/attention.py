"""DeepGRN's two attention modules (section 2.2.3 of [deepgrn]).

* :class:`SingleAttention`, equations 2.8-2.11: for every channel ``j`` of the BiLSTM output
  ``H`` (L x d), a dense layer over positions ``e_j = W h_{:,j} + b`` (W: L x L), a softmax over positions
  ``alpha_j = softmax(e_j)``, the average over channels ``alpha = mean_j alpha_j`` (one weight per
  position) and the weighted outputs ``alpha_t h_t``, here summed over positions to ``c = sum_t alpha_t h_t``
  (the authors flatten the L x d weighted outputs instead; a departure listed in the README).
* :class:`PairwiseAttention`, equation 2.12: scaled dot-product self-attention
  ``softmax(Q K^T / sqrt(d_k)) V`` with ``Q, K, V = (H + PE) W_{q,k,v}`` (d_k = d_v = 64), on ``H`` plus
  the sinusoidal positional encoding of equations 2.13-2.14 (:func:`positional_encoding`); the L x d_v
  result is averaged over positions (a departure listed in the README).

Both return the pooled vector and their attention weights (for interpretation). Written as plain
``torch.nn`` modules in the MessagePassing pattern (parameters in the constructor, ``forward`` as the
equation, ``reset_parameters``): the inputs are sequences, not graphs.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def positional_encoding(length: int, dim: int) -> Tensor:
    """Equations 2.13-2.14: ``PE[p, 2i] = sin(p / 10000^(2i/d))``, ``PE[p, 2i+1] = cos(p / 10000^(2i/d))``."""
    pos = torch.arange(length, dtype=torch.float32)[:, None]
    i2 = torch.arange(0, dim, 2, dtype=torch.float32)
    angle = pos / torch.pow(10000.0, i2 / dim)
    pe = torch.zeros(length, dim)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle)[:, : dim // 2]
    return pe


class SingleAttention(nn.Module):
    """Equations 2.8-2.11 over inputs of ``length`` positions."""

    def __init__(self, length: int) -> None:
        super().__init__()
        self.score = nn.Linear(length, length)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.score.reset_parameters()

    def forward(self, h: Tensor) -> tuple[Tensor, Tensor]:
        """``h``: (batch, L, d) -> context (batch, d), weights alpha (batch, L)."""
        e = self.score(h.transpose(1, 2))          # (batch, d, L): e_j = W h_{:,j} + b   (2.8)
        alpha_j = torch.softmax(e, dim=-1)         # softmax over positions               (2.9)
        alpha = alpha_j.mean(dim=1)                # one weight per position              (2.10)
        context = torch.einsum("bl,bld->bd", alpha, h)  # alpha_t h_t (2.11), summed over t
        return context, alpha


class PairwiseAttention(nn.Module):
    """Equation 2.12 with the positional encoding of 2.13-2.14."""

    def __init__(self, dim: int, length: int, d_k: int = 64, d_v: int = 64) -> None:
        super().__init__()
        self.q = nn.Linear(dim, d_k, bias=False)
        self.k = nn.Linear(dim, d_k, bias=False)
        self.v = nn.Linear(dim, d_v, bias=False)
        self.d_k = d_k
        self.register_buffer("pe", positional_encoding(length, dim), persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for layer in (self.q, self.k, self.v):
            layer.reset_parameters()

    def forward(self, h: Tensor) -> tuple[Tensor, Tensor]:
        """``h``: (batch, L, d) -> pooled (batch, d_v), weights (batch, L, L)."""
        x = h + self.pe
        q, k, v = self.q(x), self.k(x), self.v(x)
        weights = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(self.d_k), dim=-1)
        return (weights @ v).mean(dim=1), weights
