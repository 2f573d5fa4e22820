"""The anchor of a benchmark: the code of another git revision, unpacked beside this working tree.

Benchmarks that compare the current implementation with an earlier one (``--reference`` / ``--anchor``)
run the earlier code in a fresh process with ``PYTHONPATH`` pointing at the ``src`` folder unpacked here.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def extract(revision: str, dest: Path, paths: tuple[str, ...] = ("src",)) -> Path:
    """``paths`` of ``revision`` (``git archive``) unpacked under ``dest``; returns ``dest / "src"``."""
    dest.mkdir(parents=True, exist_ok=True)
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", revision, *paths], check=True,
                         capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(dest, filter="data")
    return dest / "src"
