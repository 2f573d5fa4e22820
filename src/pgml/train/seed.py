"""Seeding shared by every chain (device choice lives in :mod:`pgml.runtime`).

``seed_everything`` makes CPU runs bit-for-bit repeatable: it seeds Python's ``random``, numpy and
torch, and asks torch for deterministic kernels where they exist (``warn_only`` so a CUDA op without a
deterministic kernel warns instead of crashing a long GPU run).
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int, *, deterministic: bool = True) -> int:
    """Seed python, numpy and torch (all devices) with ``seed``; return the seed.

    With ``deterministic`` torch is asked for deterministic algorithms (warn-only) and cuDNN
    benchmarking is switched off.
    """
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    os.environ["PL_GLOBAL_SEED"] = str(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
    return seed
