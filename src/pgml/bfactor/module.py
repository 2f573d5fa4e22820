"""``BFactorModule``: the Lightning wrapper that trains one bfactor architecture.

Loss is the mean absolute error over atoms (L1), as in [metagnn]. Validation reports
``val_loss`` (L1 over all validation atoms), ``val_mae`` (the same MAE, named as in the paper's tables)
and ``val_cc``: the Pearson correlation computed per protein and then averaged over the validation
proteins - the paper's headline metric. A protein whose predictions are constant has an undefined CC;
it counts as 0 (no correlation) so a collapsed model cannot look good by skipping proteins
(:func:`pgml.metrics.summarise_groups` with ``nan_policy="zero"``, as in :mod:`pgml.bfactor.evaluate`).
"""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from torch import Tensor

from pgml.bfactor.models import build_model
from pgml.bfactor.params import GraphConfig, TrainConfig
from pgml.metrics import pearson, summarise_groups
from pgml.train.optim import make_optimizer

_T, _G = TrainConfig(), GraphConfig()


class BFactorModule(pl.LightningModule):
    """Per-atom B-factor regression with one of :data:`pgml.bfactor.models.ARCHITECTURES`."""

    def __init__(
        self,
        architecture: str,
        node_dim: int,
        edge_dim: int,
        hidden: int = _T.hidden,
        layers: int = _T.layers,
        dropout: float = _T.dropout,
        optimizer: str = _T.optimizer,
        lr: float = _T.lr,
        weight_decay: float = _T.weight_decay,
        target: str = _G.target,
        radius: float = _G.neighbour_radius,
        target_shift: float = 0.0,
        target_scale: float = 1.0,
        packing_radii: list[float] | None = None,
        wcn_feature: bool = _G.wcn_feature,
        contact_radius: float = _G.contact_radius,
        ligand_counts: bool = _G.ligand_counts,
    ) -> None:
        """``packing_radii`` .. ``ligand_counts``: the graph settings the model was trained on, stored so that
        ``predict`` builds the same features (:meth:`pgml.bfactor.params.GraphConfig.features`)."""
        super().__init__()
        self.save_hyperparameters()
        self.model = build_model(architecture, node_dim, edge_dim, hidden=hidden, layers=layers, dropout=dropout)
        self.model.set_target_scaling(target_shift, target_scale)
        self._val: list[tuple[float, float, int]] = []

    def forward(self, data: Any) -> Tensor:
        return self.model(data)

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        pred = self(batch)
        loss = torch.nn.functional.l1_loss(pred, batch.y)
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=batch.num_graphs)
        return loss

    def on_validation_epoch_start(self) -> None:
        self._val = []

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        pred = self(batch).detach().float().cpu().numpy()
        y = batch.y.detach().float().cpu().numpy()
        graph = batch.batch.cpu().numpy() if getattr(batch, "batch", None) is not None else np.zeros(len(y), int)
        for g in np.unique(graph):
            sel = graph == g
            cc = pearson(y[sel], pred[sel]) if sel.sum() > 1 else float("nan")
            self._val.append((cc, float(np.abs(pred[sel] - y[sel]).sum()), int(sel.sum())))

    def on_validation_epoch_end(self) -> None:
        if not self._val:
            return
        ccs, abs_sums, counts = zip(*self._val, strict=True)
        mae = sum(abs_sums) / max(sum(counts), 1)
        self.log("val_cc", summarise_groups(ccs, nan_policy="zero").mean, prog_bar=True)
        self.log("val_loss", mae)
        self.log("val_mae", mae, prog_bar=True)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        hp = self.hparams
        return make_optimizer(hp.optimizer, self.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)
