"""Small helpers shared by test modules (importable because pytest puts tests/ on sys.path)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def snakemake_executable() -> str:
    """The snakemake next to this Python (the project venv), else the one on PATH."""
    sibling = Path(sys.executable).with_name("snakemake")
    if sibling.exists():
        return str(sibling)
    found = shutil.which("snakemake")
    if not found:
        raise RuntimeError("snakemake is not installed: run `bash scripts/setup.sh`")
    return found


def venv_env() -> dict[str, str]:
    """The environment with this Python's bin directory first on PATH (rules call `pgml`)."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def rigid_motion(seed: int, dtype=None):
    """A random proper rotation R (3 x 3, det +1) and translation t (3,) as torch tensors (float64)."""
    import torch

    dtype = dtype or torch.float64
    g = torch.Generator().manual_seed(seed)
    q, r = torch.linalg.qr(torch.randn(3, 3, generator=g, dtype=dtype))
    q = q * torch.sign(torch.diagonal(r))  # unique QR: a uniformly random orthogonal matrix
    if torch.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    t = torch.randn(3, generator=g, dtype=dtype) * 10.0
    return q, t


def check_rigid_motion(fn, pos, *, seed: int = 0, equivariant_outputs=(), atol: float = 1e-8):
    """Check ``fn(pos)`` under a rotation + translation of ``pos``.

    ``fn`` returns a tensor or a tuple of tensors. Outputs whose position is in
    ``equivariant_outputs`` are coordinates and must move with the input (x -> x R^T + t); every other
    output must be unchanged (invariant). A non-isometric change (scaling by 1.5) must change at least
    one output, so a layer that ignores ``pos`` cannot pass. Used for every equivariant or invariant
    layer and model of every chain.
    """
    import torch

    R, t = rigid_motion(seed, pos.dtype)
    as_tuple = lambda out: out if isinstance(out, tuple) else (out,)  # noqa: E731
    with torch.no_grad():
        before = as_tuple(fn(pos))
        after = as_tuple(fn(pos @ R.T + t))
        scaled = as_tuple(fn(pos * 1.5))
    for k, (a, b) in enumerate(zip(before, after, strict=True)):
        expected = a @ R.T + t if k in equivariant_outputs else a
        torch.testing.assert_close(b, expected, atol=atol, rtol=atol)
    assert any(not torch.allclose(a, s, atol=1e-6) for a, s in zip(before, scaled, strict=True)), \
        "outputs do not depend on the positions at all"
