"""Lightning wrapper of :class:`pgml.fold.model.IEConvNet` with the optimisation of appendix D of
[ieconv]: momentum SGD (0.98) or Adam, L2 weight decay, learning rate halved every
``lr_halving_epochs`` epochs down to ``min_lr``, gradient-norm clipping."""

from __future__ import annotations

from dataclasses import asdict

import lightning.pytorch as pl
import torch
import torch.nn.functional as F

from pgml.fold.model import IEConvNet
from pgml.fold.params import ModelConfig, TrainConfig


class FoldModule(pl.LightningModule):
    """``classes`` (the label of each output, in order), ``class_names`` (label -> readable name) and
    ``graph`` (the build-graphs settings of the training samples) are stored in the checkpoint's
    hyperparameters, so that ``pgml fold predict`` needs nothing but the checkpoint and its card."""

    def __init__(self, n_classes: int, model: dict, train: dict, classes: list[str] | None = None,
                 class_names: dict[str, str] | None = None, graph: dict | None = None) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.classes = list(classes) if classes is not None else [str(i) for i in range(n_classes)]
        self.class_names = dict(class_names or {})
        self.model_config = ModelConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in model.items()})
        self.train_config = TrainConfig(**train)
        self.net = IEConvNet(n_classes, self.model_config)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.net(batch)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = F.cross_entropy(self(batch), batch["y"])
        self.log("train_loss", loss, on_epoch=True, on_step=False, batch_size=len(batch["y"]))
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        logits = self(batch)
        n = len(batch["y"])
        self.log("val_loss", F.cross_entropy(logits, batch["y"]), on_epoch=True, batch_size=n)
        self.log("val_acc", (logits.argmax(1) == batch["y"]).float().mean(), on_epoch=True, batch_size=n)

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None) -> None:
        torch.nn.utils.clip_grad_norm_(self.parameters(), self.train_config.grad_clip)

    def configure_optimizers(self):
        t = self.train_config
        if t.optimizer == "sgd":
            opt = torch.optim.SGD(self.parameters(), lr=t.lr, momentum=t.momentum, weight_decay=t.weight_decay)
        else:
            opt = torch.optim.Adam(self.parameters(), lr=t.lr, weight_decay=t.weight_decay)
        floor = t.min_lr / t.lr
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda epoch: max(0.5 ** (epoch // t.lr_halving_epochs), floor))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}


def config_dicts(model: ModelConfig, train: TrainConfig) -> tuple[dict, dict]:
    return asdict(model), asdict(train)
