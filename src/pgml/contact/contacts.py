"""True contacts from a structure and precision of the top-ranked predictions by sequence separation.

A contact is a residue pair whose Cβ atoms (Cα for glycine; a virtual Cβ where a residue lacks one,
from :func:`pgml.structure.residue_coords`) are closer than 8 Å (CASP's definition, used by
[attcontact]). Precision of the top L/k pairs is counted per range: short 6-11, medium 12-23 and long
>= 24 residues apart (table 4.1 of [dissertation]); pairs whose distance is unknown (missing
atoms) are left out of the ranking.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pgml.errors import InputError

CONTACT_CUTOFF = 8.0
#: range name -> (smallest, largest) separation |i - j|
RANGES = {"short": (6, 11), "medium": (12, 23), "long": (24, None)}
#: top L/k pairs scored, table 4.1's L/10, L/5 and L/2
TOP_FRACTIONS = (10, 5, 2)


@dataclass
class NativeContacts:
    """The chain's sequence, its ``(L, L)`` Cβ distance map (NaN where unknown) and the 8 Å contact map."""

    sequence: str
    distances: np.ndarray

    @property
    def contacts(self) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return self.distances < CONTACT_CUTOFF


def native_contacts(path: str | Path, chain: str | None = None) -> NativeContacts:
    """Cβ distances of one chain (the first protein chain unless ``chain`` is named)."""
    from pgml.structure.io import read_structure
    from pgml.structure.residue_coords import distance_map, residue_coords

    structure = read_structure(path, chains=[chain] if chain else None)
    coords = residue_coords(structure)
    first = chain or str(coords.chain_id[0])
    keep = coords.chain_id == first
    if not keep.any():
        raise InputError(f"no protein residues in chain {first!r}", path=path)
    seq = "".join(np.asarray(list(coords.sequence))[keep])
    return NativeContacts(seq, distance_map(coords.cb[keep]))


def check_query(query: str, native: NativeContacts, where: str) -> None:
    """The alignment's query must be the structure's chain: same length, residues matching."""
    if len(query) > len(native.sequence):
        raise InputError(f"query has {len(query)} residues, longer than the structure's chain "
                         f"({len(native.sequence)})", path=where)
    if len(query) != len(native.sequence):
        raise InputError(f"query has {len(query)} residues, the structure's chain {len(native.sequence)}",
                         path=where)
    mismatch = [k for k, (a, b) in enumerate(zip(query, native.sequence, strict=True))
                if a != b and "-" not in (a, b) and "X" not in (a, b)]
    if len(mismatch) > len(query) // 10:
        raise InputError(f"query differs from the structure's sequence at {len(mismatch)} positions "
                         f"(first: {mismatch[0] + 1})", path=where)


def range_mask(length: int, name: str) -> np.ndarray:
    """Upper-triangle pairs whose separation lies in range ``name``."""
    lo, hi = RANGES[name]
    sep = np.subtract.outer(np.arange(length), np.arange(length))
    sep = -sep
    mask = sep >= lo
    if hi is not None:
        mask &= sep <= hi
    return mask


def top_precision(scores: np.ndarray, truth: np.ndarray, known: np.ndarray, name: str, k: int) -> float:
    """Precision of the top ``L // k`` pairs (ties by position) of range ``name`` among known pairs."""
    length = scores.shape[0]
    mask = range_mask(length, name) & known
    n_top = max(1, length // k)
    s = scores[mask]
    if s.size == 0:
        return float("nan")
    order = np.argsort(-s, kind="stable")[:n_top]
    return float(truth[mask][order].mean())


def precision_table(scores: np.ndarray, distances: np.ndarray) -> dict[str, float]:
    """``{"short_L/10": ..., "long_L/2": ...}``: precision for every range and top fraction."""
    known = ~np.isnan(distances)
    with np.errstate(invalid="ignore"):
        truth = distances < CONTACT_CUTOFF
    return {f"{name}_L/{k}" if k > 1 else f"{name}_L": top_precision(scores, truth, known, name, k)
            for name in RANGES for k in TOP_FRACTIONS}
