"""True contacts from a structure and precision of the top-ranked predictions by sequence separation.

A contact is a residue pair whose Cβ atoms (Cα for glycine; a virtual Cβ where a residue lacks one,
from :func:`pgml.structure.residue_coords`) are closer than 8 Å (CASP's definition, used by
[attcontact]). Precision of the top L/k pairs is counted per range: short 6-11, medium 12-23 and long
>= 24 residues apart (table 4.1 of [dissertation]), in the numbering of the query: the structure's
observed residues are aligned onto the query (:func:`check_query`), so a full-length query keeps its
separations and ranges, and pairs whose distance is unknown (unresolved residues, missing atoms) are
left out of the ranking.
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
    # a NaN or infinite coordinate is refused by read_structure, naming the atom
    coords = residue_coords(structure)
    first = chain or str(coords.chain_id[0])
    keep = coords.chain_id == first
    if not keep.any():
        raise InputError(f"no protein residues in chain {first!r}", path=path)
    seq = "".join(np.asarray(list(coords.sequence))[keep])
    return NativeContacts(seq, distance_map(coords.cb[keep]))


#: fraction of the shorter of query and chain that must align identically
MIN_IDENTITY = 0.9


def map_to_query(query: str, native: NativeContacts) -> np.ndarray:
    """For each query residue, the index of the native residue aligned to it (-1 where none).

    A global alignment (Biopython's ``PairwiseAligner``: BLOSUM62, gap open -10, extend -0.5, end gaps
    free) of the structure's observed residues onto the query, so a full-length query (SEQRES,
    UniProt) keeps its own numbering and unresolved residues (loops, termini) map to nothing.
    """
    from Bio.Align import PairwiseAligner, substitution_matrices

    aligner = PairwiseAligner(mode="global", substitution_matrix=substitution_matrices.load("BLOSUM62"),
                              open_gap_score=-10.0, extend_gap_score=-0.5)
    aligner.end_gap_score = 0.0
    clean = lambda s: "".join(c if c in "ACDEFGHIKLMNPQRSTVWY" else "X" for c in s.upper())  # noqa: E731
    alignment = aligner.align(clean(query), clean(native.sequence))[0]
    mapping = np.full(len(query), -1, dtype=np.int64)
    for (q0, q1), (n0, n1) in zip(*alignment.aligned, strict=True):
        mapping[q0:q1] = np.arange(n0, n1)
    return mapping


def check_query(query: str, native: NativeContacts, where: str) -> np.ndarray:
    """The ``(Lq, Lq)`` native distances in the query's numbering (NaN for unresolved query residues).

    Native residues are placed on the query by :func:`map_to_query`; the query must be the
    structure's chain: at least :data:`MIN_IDENTITY` of the shorter sequence aligned identically
    (``X`` counts as identical).
    """
    mapping = map_to_query(query, native)
    placed = mapping >= 0
    same = sum(a == native.sequence[m] or "X" in (a, native.sequence[m]) or a == "-"
               for a, m in zip(query, mapping, strict=True) if m >= 0)
    shorter = min(len(query), len(native.sequence))
    if same < MIN_IDENTITY * shorter:
        raise InputError(f"query does not match the structure's chain: {same} of {shorter} residues align "
                         f"identically (at least {MIN_IDENTITY:.0%} needed; query {len(query)}, chain "
                         f"{len(native.sequence)} observed residues)", path=where)
    distances = np.full((len(query), len(query)), np.nan)
    index = np.flatnonzero(placed)
    distances[np.ix_(index, index)] = native.distances[np.ix_(mapping[index], mapping[index])]
    return distances


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
