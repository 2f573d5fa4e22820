"""The networks the DeepGRN authors published (jianlin-cheng/DeepGRN, ``example/models/*.h5``), in torch.

The chapter's network (:mod:`pgml.tfbs.model`) is what section 2.2.3 of [deepgrn] describes; the released
Keras models differ from it, and from each other, in where the attention sits and in a few layers. This
module is exactly the released network, so that ``pgml tfbs import-model`` can run the authors' weights
(:mod:`pgml.tfbs.keras_import`); the chain's docs list the differences. One branch, shared by the forward
window and its reverse complement (the Siamese pass of section 2.2.3):

1. Conv1D (ReLU, valid) -> a dense ReLU layer on every position (their ``TimeDistributed(Dense)``) ->
   max-pool (pool = stride).
2. One of three attention placements (``ReleasedConfig.attention``):

   * ``attention1d`` (their ``Attention1D`` after the BiLSTM): ``alpha = softmax_t(H)`` taken over
     positions for every channel of the BiLSTM output ``H`` itself (no score layer),
     ``c = sum_t alpha_t * h_t``, then ``relu(c W)`` (``W`` without bias);
   * ``single_before_lstm``: equations 2.8-2.11 on the pooled convolution output, *before* the BiLSTM:
     ``alpha = mean_j softmax(W h_{:,j} + b)``, the weighted outputs ``alpha_t h_t`` go into the BiLSTM,
     whose output is flattened;
   * ``pairwise_before_lstm``: equation 2.12 before the BiLSTM, with a *trained* positional embedding
     ``E`` (keras-pos-embd, add mode) instead of the sinusoid of 2.13-2.14 and a residual connection:
     ``h + softmax(Q K^T / sqrt(d_k)) V`` with ``Q, K = (H + E) W_{q,k}`` (d_k = d/2),
     ``V = (H + E) W_v`` (d_v = d); the BiLSTM output is flattened.

3. BiLSTM of Keras 2.2.4's ``LSTM``: gates i, f, c, o with ``recurrent_activation = hard_sigmoid``
   (``clip(0.2 x + 0.5, 0, 1)``), which torch's ``nn.LSTM`` (logistic gates) cannot express; hence
   :class:`KerasLSTM` below.
4. A dense ReLU layer, the 14 features appended (when the model reads them), a dense ReLU layer,
   ``extra_dense`` more, a dense sigmoid output; forward and reverse-complement probabilities merged by
   mean or max.

Dropout layers are left out: the released networks are only run for inference here.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from pgml.tfbs.params import ReleasedConfig
from pgml.tfbs.windows import reverse_complement

N_CHANNELS = 6
N_FEATURES = 14


def hard_sigmoid(x: Tensor) -> Tensor:
    """Keras 2.2.4's ``hard_sigmoid``: ``clip(0.2 x + 0.5, 0, 1)``."""
    return torch.clamp(0.2 * x + 0.5, 0.0, 1.0)


class KerasLSTM(nn.Module):
    """One direction of Keras' ``LSTM`` (gates i, f, c, o; tanh; hard-sigmoid recurrent activation)."""

    def __init__(self, in_dim: int, hidden: int, reverse: bool = False) -> None:
        super().__init__()
        self.hidden, self.reverse = hidden, reverse
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden, in_dim))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden, hidden))
        self.bias = nn.Parameter(torch.empty(4 * hidden))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.weight_ih)
        nn.init.orthogonal_(self.weight_hh)
        nn.init.zeros_(self.bias)
        with torch.no_grad():
            self.bias[self.hidden:2 * self.hidden] = 1.0  # unit_forget_bias

    def forward(self, x: Tensor) -> Tensor:
        """``x``: (batch, L, in) -> (batch, L, hidden), in the input's position order."""
        u = x @ self.weight_ih.T + self.bias  # every position's input part at once
        h = x.new_zeros(x.shape[0], self.hidden)
        c = torch.zeros_like(h)
        steps = range(x.shape[1] - 1, -1, -1) if self.reverse else range(x.shape[1])
        out: list[Tensor] = [h] * x.shape[1]
        for t in steps:
            i, f, g, o = (u[:, t] + h @ self.weight_hh.T).chunk(4, dim=-1)
            c = hard_sigmoid(f) * c + hard_sigmoid(i) * torch.tanh(g)
            h = hard_sigmoid(o) * torch.tanh(c)
            out[t] = h
        return torch.stack(out, dim=1)


class KerasBiLSTM(nn.Module):
    """Keras' ``Bidirectional(LSTM, merge_mode='concat')``: [forward, backward] at every position."""

    def __init__(self, in_dim: int, hidden: int) -> None:
        super().__init__()
        self.forward_lstm = KerasLSTM(in_dim, hidden)
        self.backward_lstm = KerasLSTM(in_dim, hidden, reverse=True)

    def reset_parameters(self) -> None:
        self.forward_lstm.reset_parameters()
        self.backward_lstm.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([self.forward_lstm(x), self.backward_lstm(x)], dim=-1)


class ChannelSoftmaxAttention(nn.Module):
    """Their ``Attention1D``: ``relu((sum_t softmax_t(H) * H) W)``, the softmax over positions of H itself."""

    def __init__(self, dim: int, out: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out, dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_normal_(self.weight)

    def forward(self, h: Tensor) -> tuple[Tensor, Tensor]:
        """``h``: (batch, L, d) -> (batch, out), weights alpha (batch, L, d)."""
        alpha = torch.softmax(h, dim=1)
        context = (alpha * h).sum(dim=1)
        return torch.relu(context @ self.weight.T), alpha


class PositionAttention(nn.Module):
    """Equations 2.8-2.11 with one attention vector, returning the weighted positions ``alpha_t h_t``."""

    def __init__(self, length: int) -> None:
        super().__init__()
        self.score = nn.Linear(length, length)

    def reset_parameters(self) -> None:
        self.score.reset_parameters()

    def forward(self, h: Tensor) -> tuple[Tensor, Tensor]:
        """``h``: (batch, L, d) -> (batch, L, d), weights alpha (batch, L)."""
        alpha = torch.softmax(self.score(h.transpose(1, 2)), dim=-1).mean(dim=1)  # (2.8)-(2.10)
        return h * alpha[:, :, None], alpha                                     # (2.11), per position


class EmbeddedPairwiseAttention(nn.Module):
    """Equation 2.12 on ``H + E`` (``E`` a trained position embedding) with a residual: ``H + A V``."""

    def __init__(self, length: int, dim: int) -> None:
        super().__init__()
        self.embedding = nn.Parameter(torch.empty(length, dim))
        self.q = nn.Linear(dim, dim // 2, bias=False)
        self.k = nn.Linear(dim, dim // 2, bias=False)
        self.v = nn.Linear(dim, dim, bias=False)
        self.d_k = dim // 2
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.uniform_(self.embedding, -0.05, 0.05)
        for layer in (self.q, self.k, self.v):
            layer.reset_parameters()

    def forward(self, h: Tensor) -> tuple[Tensor, Tensor]:
        """``h``: (batch, L, d) -> (batch, L, d), weights (batch, L, L)."""
        x = h + self.embedding
        weights = torch.softmax(self.q(x) @ self.k(x).transpose(1, 2) / math.sqrt(self.d_k), dim=-1)
        return h + weights @ self.v(x), weights


class ReleasedBranch(nn.Module):
    """One released network's branch: the window (or its reverse complement) -> logit."""

    def __init__(self, config: ReleasedConfig) -> None:
        super().__init__()
        c = config
        self.config = c
        self.conv = nn.Conv1d(N_CHANNELS, c.conv_filters, c.conv_kernel)
        self.position_dense = nn.Linear(c.conv_filters, c.conv_filters)
        self.pool = nn.MaxPool1d(c.pool)
        steps = (c.length - c.conv_kernel + 1) // c.pool
        dim = 2 * c.lstm_hidden
        self.before: nn.Module | None = None
        self.after: nn.Module | None = None
        if c.attention == "single_before_lstm":
            self.before = PositionAttention(steps)
        elif c.attention == "pairwise_before_lstm":
            self.before = EmbeddedPairwiseAttention(steps, c.conv_filters)
        self.lstm = KerasBiLSTM(c.conv_filters, c.lstm_hidden)
        if c.attention == "attention1d":
            self.after = ChannelSoftmaxAttention(dim, c.dense)
            self.to_features = nn.Linear(c.dense, c.dense)
        else:
            self.to_features = nn.Linear(steps * dim, c.dense)
        self.dense = nn.Linear(c.dense + (N_FEATURES if c.features else 0), c.dense)
        self.extra = nn.ModuleList(nn.Linear(c.dense, c.dense) for _ in range(c.extra_dense))
        self.out = nn.Linear(c.dense, 1)

    def reset_parameters(self) -> None:
        for m in self.modules():
            if m is not self and hasattr(m, "reset_parameters"):
                m.reset_parameters()

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        """``x``: (batch, 6, L) in pgml's channel order, ``z``: (batch, 14) -> logit (batch,)."""
        return self.out(self.penultimate(x, z)).squeeze(-1)

    def penultimate(self, x: Tensor, z: Tensor) -> Tensor:
        """The input of the output layer (batch, dense): everything but the last layer."""
        h = torch.relu(self.position_dense(torch.relu(self.conv(x)).transpose(1, 2)))
        h = self.pool(h.transpose(1, 2)).transpose(1, 2)
        if self.before is not None:
            h, _ = self.before(h)
        h = self.lstm(h)
        if self.after is not None:
            h, _ = self.after(h)
        h = torch.relu(self.to_features(h.flatten(1)))
        if self.config.features:
            h = torch.cat([h, z], dim=1)
        h = torch.relu(self.dense(h))
        for layer in self.extra:
            h = torch.relu(layer(h))
        return h


class ReleasedDeepGRN(nn.Module):
    """A released network on the window and its reverse complement, probabilities merged (mean or max).

    Outputs like :class:`pgml.tfbs.model.DeepGRN`: ``released`` and ``ensemble`` (the same probability).
    """

    module_names = ("released",)
    outputs = ("released", "ensemble")

    def __init__(self, config: ReleasedConfig) -> None:
        super().__init__()
        self.config = config
        self.branch = ReleasedBranch(config)

    def reset_parameters(self) -> None:
        self.branch.reset_parameters()

    def strands(self, x: Tensor, z: Tensor) -> Tensor:
        """Sigmoid probability of the window and of its reverse complement: (2, batch)."""
        return torch.sigmoid(torch.stack([self.branch(x, z), self.branch(reverse_complement(x), z)]))

    def forward(self, x: Tensor, z: Tensor) -> dict[str, Tensor]:
        p = self.strands(x, z)
        merged = p.mean(0) if self.config.merge == "mean" else p.amax(0)
        return {"released": merged, "ensemble": merged}


class ReleasedModule(nn.Module):
    """What ``pgml tfbs predict`` runs for an imported model: the network and its window length."""

    def __init__(self, config: ReleasedConfig) -> None:
        super().__init__()
        self.model = ReleasedDeepGRN(config)
        self.hparams = {"length": config.length}

    def forward(self, x: Tensor, z: Tensor) -> dict[str, Tensor]:
        return self.model(x, z)
