"""pgml.fetch is ground floor: it imports no chain and no torch."""

from __future__ import annotations

import subprocess
import sys

CHAINS = ("bfactor", "grn", "contact", "qa", "fold", "tfbs")


def test_fetch_imports_no_chain_and_no_torch() -> None:
    modules = ("annotation", "cache", "cli", "core", "http", "params", "plan", "providers", "sources", "weights")
    code = (f"import sys\nfor m in {modules!r}: __import__('pgml.fetch.' + m)\n"
            f"bad = [m for m in sys.modules if m == 'torch' or m.split('.')[:2] in "
            f"[['pgml', c] for c in {CHAINS!r}]]\nprint(bad)\nsys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
