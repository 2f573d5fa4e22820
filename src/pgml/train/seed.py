"""Seeding and device choice shared by every chain.

``seed_everything`` makes CPU runs bit-for-bit repeatable: it seeds Python's ``random``, numpy and
torch, and asks torch for deterministic kernels where they exist (``warn_only`` so a CUDA op without a
deterministic kernel warns instead of crashing a long GPU run).
"""

from __future__ import annotations

import logging
import os
import random

import numpy as np
import torch

log = logging.getLogger(__name__)


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


def cuda_usable() -> bool:
    """True when a CUDA device is visible *and* a tensor can actually be placed on it.

    ``torch.cuda.is_available()`` can be true (or raise) on machines where ``CUDA_VISIBLE_DEVICES`` names
    a device that does not exist or the driver is broken; a tiny allocation settles it.
    """
    try:
        if not torch.cuda.is_available() or torch.cuda.device_count() < 1:
            return False
        torch.zeros(1, device="cuda")
        return True
    except Exception as exc:  # driver/runtime errors differ between versions
        log.warning("CUDA reported as available but unusable (%s)", exc)
        return False


def pick_device(pref: str = "auto") -> torch.device:
    """Return the device to train or predict on.

    ``pref`` is ``auto`` (CUDA when usable, else CPU), ``cpu``, ``cuda`` or ``cuda:<i>``. Asking for
    CUDA when none is usable falls back to CPU with a clear log line instead of crashing.
    """
    pref = (pref or "auto").lower()
    if pref == "cpu":
        return torch.device("cpu")
    if pref != "auto" and not pref.startswith("cuda"):
        raise ValueError(f"device must be auto, cpu or cuda[:i], got {pref!r}")
    if cuda_usable():
        dev = torch.device("cuda" if pref == "auto" else pref)
        log.info("training on %s (%s)", dev, torch.cuda.get_device_name(dev))
        return dev
    log.warning("no usable GPU visible, training on CPU")
    return torch.device("cpu")
