"""Shared structure layer: reading PDB/mmCIF (gemmi), residue chemistry, covalent bonds,
neighbour search and torch_geometric atom graphs. Used by the bfactor, qa, contact and fold chains.

The reading API below is imported on first use, so modules that need no gemmi (``neighbors``) can be
imported on a machine without it (training from prebuilt graph files).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["AtomTable", "Header", "Structure", "read_header", "read_structure", "write_bfactors"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("pgml.structure.io"), name)
    raise AttributeError(f"module 'pgml.structure' has no attribute {name!r}")
