"""``QAModule``: the Lightning wrapper that trains EnQA [enqa].

Loss (section 5.3): cross-entropy of the initial 9-bin distance errors against the true error bins
(pairs within 15 Å in the native), plus ``lddt_weight`` (5) times the MSE of the per-residue lDDT
(residues with a native counterpart), plus the MSE of the final (edge-level EGNN) distance errors of
the graph's residue pairs against the true signed errors d_native - d_model in Å. One model per batch
(pair features differ in size).
Validation logs ``val_loss`` (the same loss) and ``val_pearson`` (per-residue Pearson over all
validation residues).
"""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from torch import Tensor

from pgml.metrics import pearson
from pgml.qa.model import EnQA
from pgml.qa.params import TrainConfig
from pgml.train.optim import make_optimizer

_T = TrainConfig()


def first(batch: list[Any]) -> Any:
    """Collate for batches of one model."""
    return batch[0]


class QAModule(pl.LightningModule):
    """Per-residue lDDT regression with :class:`pgml.qa.model.EnQA`."""

    def __init__(self, node_dim: int, pair_dim: int, edge_dim: int, architecture: str = _T.architecture,
                 hidden: int = _T.hidden, resnet_blocks: int = _T.resnet_blocks,
                 resnet_channels: int = _T.resnet_channels, egnn_layers: int = _T.egnn_layers,
                 lddt_weight: float = _T.lddt_weight, optimizer: str = _T.optimizer, lr: float = _T.lr,
                 weight_decay: float = _T.weight_decay, features: dict | None = None) -> None:
        """``features``: the feature settings of the training graphs (:func:`pgml.qa.samples.feature_settings`),
        kept in the checkpoint so that ``predict`` builds its inputs the same way."""
        super().__init__()
        self.save_hyperparameters()
        self.model = EnQA(node_dim, pair_dim, edge_dim, hidden=hidden, resnet_blocks=resnet_blocks,
                          resnet_channels=resnet_channels, egnn_layers=egnn_layers, architecture=architecture)
        self._val: list[tuple[np.ndarray, np.ndarray, float]] = []

    def forward(self, data: Any) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
        return self.model(data.x, data.pair, data.pos, data.edge_index, data.edge_attr, data.sh2d)

    def loss(self, data: Any) -> tuple[Tensor, Tensor]:
        lddt, logits, _, _, final, pairs = self(data)
        cross_entropy = torch.nn.functional.cross_entropy
        valid = data.err_bin >= 0
        ce = cross_entropy(logits[valid], data.err_bin[valid]) if valid.any() else lddt.sum() * 0
        target = data.err[pairs[0], pairs[1]]
        valid_pairs = ~torch.isnan(target)
        final_loss = (torch.nn.functional.mse_loss(final[valid_pairs], target[valid_pairs])
                      if valid_pairs.any() else final.sum() * 0)
        known = ~torch.isnan(data.y)
        mse = torch.nn.functional.mse_loss(lddt[known], data.y[known])
        return ce + self.hparams.lddt_weight * mse + final_loss, lddt

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        loss, _ = self.loss(batch)
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=1)
        return loss

    def on_validation_epoch_start(self) -> None:
        self._val = []

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        loss, lddt = self.loss(batch)
        known = ~torch.isnan(batch.y)
        self._val.append((batch.y[known].cpu().numpy(), lddt[known].detach().cpu().numpy(), float(loss)))

    def on_validation_epoch_end(self) -> None:
        if not self._val:
            return
        y = np.concatenate([v[0] for v in self._val])
        p = np.concatenate([v[1] for v in self._val])
        self.log("val_loss", float(np.mean([v[2] for v in self._val])), prog_bar=True)
        self.log("val_pearson", pearson(y, p) if len(y) > 1 else float("nan"))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return make_optimizer(self.hparams.optimizer, self.parameters(), lr=self.hparams.lr,
                              weight_decay=self.hparams.weight_decay)
