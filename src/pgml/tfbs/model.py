"""The DeepGRN network (section 2.2.3 and figure 2.1 of [deepgrn]) and its Lightning module.

One branch: Conv1D (ReLU) over the L x 6 input -> max-pool -> BiLSTM -> attention (single or
pairwise, :mod:`pgml.tfbs.attention`) -> the pooled vector concatenated with the 14 non-sequential
features (6 annotation + 8 expression PCs) -> dense (ReLU) -> dense -> sigmoid. Each branch is
Siamese: the same weights score the window and its reverse complement and the two probabilities are
merged by mean (or max). :class:`DeepGRN` holds one branch per attention module, trained together
(independent parameters, summed losses), and its final score is the mean of the two (the paper's
ensemble). The max-pool before the BiLSTM (as in [factornet] and the authors' code) keeps the recurrent part short.

``ModelConfig.variant = "noattention"`` builds the ablation of figure 2.4: one branch whose attention
module is replaced by :class:`FlattenDense` (the BiLSTM output flattened into a dense ReLU layer, the
"no attention" network of the authors' code), everything else unchanged.
"""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from torch import Tensor, nn

from pgml.tfbs.attention import PairwiseAttention, SingleAttention
from pgml.tfbs.params import ANNOTATIONS, N_PCS, ModelConfig
from pgml.tfbs.windows import reverse_complement

N_CHANNELS = 6
N_NONSEQ = len(ANNOTATIONS) + N_PCS


def pooled_length(length: int, config: ModelConfig) -> int:
    return (length - config.conv_kernel + 1) // config.pool


class FlattenDense(nn.Module):
    """No attention: the (L' x d) BiLSTM output flattened and passed through a dense ReLU layer."""

    def __init__(self, steps: int, dim: int, out: int) -> None:
        super().__init__()
        self.dense = nn.Linear(steps * dim, out)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.dense.reset_parameters()

    def forward(self, h: Tensor) -> tuple[Tensor, None]:
        """``h``: (batch, L', d) -> (batch, out); no attention weights."""
        return torch.relu(self.dense(h.flatten(1))), None


class Branch(nn.Module):
    """Conv1D -> BiLSTM -> one attention module (or none) -> dense layers fused with the non-sequential features."""

    def __init__(self, length: int, config: ModelConfig, attention: str) -> None:
        super().__init__()
        self.conv = nn.Conv1d(N_CHANNELS, config.conv_filters, config.conv_kernel)
        self.pool = nn.MaxPool1d(config.pool)
        self.lstm = nn.LSTM(config.conv_filters, config.lstm_hidden, batch_first=True, bidirectional=True)
        steps = pooled_length(length, config)
        if steps < 1:
            raise ValueError(f"window of {length} bp too short for kernel {config.conv_kernel} and pool {config.pool}")
        dim = 2 * config.lstm_hidden
        if attention == "single":
            self.attention: nn.Module = SingleAttention(steps)
            out = dim
        elif attention == "noattention":
            self.attention = FlattenDense(steps, dim, config.dense)
            out = config.dense
        else:
            self.attention = PairwiseAttention(dim, steps, config.d_k, config.d_k)
            out = config.d_k
        self.dropout = nn.Dropout(config.dropout)
        self.dense = nn.Linear(out + N_NONSEQ, config.dense)
        self.out = nn.Linear(config.dense, 1)

    def reset_parameters(self) -> None:
        for m in (self.conv, self.lstm, self.attention, self.dense, self.out):
            m.reset_parameters()

    def forward(self, x: Tensor, z: Tensor) -> tuple[Tensor, Tensor | None]:
        """``x``: (batch, 6, L), ``z``: (batch, 14) -> logit (batch,), attention weights (None without)."""
        h = self.pool(torch.relu(self.conv(x)))
        h, _ = self.lstm(self.dropout(h.transpose(1, 2)))
        pooled, weights = self.attention(h)
        hidden = torch.relu(self.dense(torch.cat([self.dropout(pooled), z], dim=1)))
        return self.out(self.dropout(hidden)).squeeze(-1), weights


class DeepGRN(nn.Module):
    """Siamese branches, one per module, and their ensemble; outputs probabilities per module.

    ``variant`` deepgrn: branches ``single`` and ``pairwise``; noattention: one branch ``noattention``.
    """

    MODULES = ("single", "pairwise")

    def __init__(self, length: int, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.module_names = self.MODULES if config.variant == "deepgrn" else ("noattention",)
        self.branches = nn.ModuleDict({m: Branch(length, config, m) for m in self.module_names})

    @property
    def outputs(self) -> tuple[str, ...]:
        """Keys of :meth:`forward`'s result: each module, then ``ensemble``."""
        return (*self.module_names, "ensemble")

    def reset_parameters(self) -> None:
        for b in self.branches.values():
            b.reset_parameters()

    def forward(self, x: Tensor, z: Tensor) -> dict[str, Tensor]:
        """Merged forward/reverse-complement probability of each module and their mean ("ensemble")."""
        rc = reverse_complement(x)
        out = {}
        for name, branch in self.branches.items():
            p = torch.sigmoid(torch.stack([branch(x, z)[0], branch(rc, z)[0]]))
            out[name] = p.mean(0) if self.config.merge == "mean" else p.amax(0)
        out["ensemble"] = torch.stack([out[m] for m in self.module_names]).mean(0)
        return out


class TfbsModule(pl.LightningModule):
    """Adam + binary cross-entropy summed over the modules; validation average precision of the ensemble
    (``val_auprc``)."""

    def __init__(self, length: int, config: dict[str, Any], lr: float) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.model = DeepGRN(length, ModelConfig(**config))
        self.lr = lr
        self._val: list[tuple[Tensor, Tensor]] = []

    def forward(self, x: Tensor, z: Tensor) -> dict[str, Tensor]:
        return self.model(x, z)

    def _loss(self, out: dict[str, Tensor], y: Tensor) -> Tensor:
        eps = 1e-6
        return sum(nn.functional.binary_cross_entropy(out[m].clamp(eps, 1 - eps), y) for m in self.model.module_names)

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        x, z, y = batch
        loss = self._loss(self(x, z), y)
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=y.numel())
        return loss

    def on_validation_epoch_start(self) -> None:
        self._val = []

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        x, z, y = batch
        out = self(x, z)
        self.log("val_loss", self._loss(out, y), on_step=False, on_epoch=True, batch_size=y.numel())
        self._val.append((out["ensemble"].detach().cpu(), y.detach().cpu()))

    def on_validation_epoch_end(self) -> None:
        from pgml.metrics import aupr, auroc

        p = torch.cat([v[0] for v in self._val]).numpy()
        y = torch.cat([v[1] for v in self._val]).numpy().astype(bool)
        score = aupr(y, p) if y.any() else float("nan")
        self.log("val_auprc", float(np.nan_to_num(score, nan=0.0)), prog_bar=True)
        self.log("val_auroc", float(np.nan_to_num(auroc(y, p), nan=0.5)))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.lr)
