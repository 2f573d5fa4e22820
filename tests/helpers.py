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
