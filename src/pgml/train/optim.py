"""Optimiser factory shared by every chain (torch is imported on use, so ``OPTIMIZERS`` is cheap)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import torch

OPTIMIZERS = ("adamw", "adam", "sgd")


def make_optimizer(
    name: str, params: Iterable[torch.nn.Parameter], lr: float, weight_decay: float = 0.0
) -> torch.optim.Optimizer:
    """Return an ``adamw``, ``adam`` or ``sgd`` (momentum 0.9) optimiser over ``params``."""
    import torch

    key = name.lower()
    if lr <= 0:
        raise ValueError(f"learning rate must be positive, got {lr}")
    if key == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if key == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if key == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
