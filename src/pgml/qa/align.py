"""Residue correspondence between a model and another structure of the same protein, by sequence.

Models often cover only part of the sequence and number residues their own way, so residues are
matched by a global pairwise alignment of the one-letter sequences (Biopython's ``PairwiseAligner``,
BLOSUM62, gap open -10, extend -0.5, end gaps free). Chains are concatenated in file order. Too few
identical aligned residues means the two do not belong together: :class:`~pgml.errors.InputError`.
"""

from __future__ import annotations

import numpy as np

from pgml.errors import InputError

#: fewest identical residues (fraction of the shorter sequence) for two sequences to count as aligned
MIN_IDENTITY = 0.5


def _aligner():  # noqa: ANN202 - Bio type
    from Bio import Align
    from Bio.Align import substitution_matrices

    aligner = Align.PairwiseAligner()
    aligner.mode = "global"
    aligner.substitution_matrix = substitution_matrices.load("BLOSUM62")
    aligner.open_gap_score = -10.0
    aligner.extend_gap_score = -0.5
    aligner.end_gap_score = 0.0
    return aligner


def align_residues(model_seq: str, other_seq: str, *, model_name: str = "model",
                   other_name: str = "reference", min_identity: float = MIN_IDENTITY) -> np.ndarray:
    """Index into ``other_seq`` for each residue of ``model_seq`` (-1 where unaligned).

    Raises InputError naming both when fewer than ``min_identity`` of the shorter sequence's residues
    are aligned to an identical residue.
    """
    if model_seq == other_seq:
        return np.arange(len(model_seq))
    clean = lambda s: s.replace("X", "A")  # noqa: E731 - BLOSUM62 has X, but keep the scores plain
    alignment = _aligner().align(clean(model_seq), clean(other_seq))[0]
    mapping = np.full(len(model_seq), -1, dtype=np.int64)
    for (a0, a1), (b0, b1) in zip(*alignment.aligned, strict=True):
        mapping[a0:a1] = np.arange(b0, b1)
    hit = mapping >= 0
    identical = sum(model_seq[i] == other_seq[j] for i, j in zip(np.flatnonzero(hit), mapping[hit], strict=True))
    shorter = min(len(model_seq), len(other_seq))
    if shorter == 0 or identical < min_identity * shorter:
        raise InputError(f"sequence cannot be aligned to {other_name} ({identical} identical residues of "
                         f"{shorter}; need {min_identity:.0%})", path=model_name)
    return mapping


def take(values: np.ndarray, mapping: np.ndarray, fill: float = np.nan) -> np.ndarray:
    """Rows of ``values`` picked by ``mapping`` (-1 gives ``fill``)."""
    out = np.full((len(mapping), *values.shape[1:]), fill, dtype=np.float64)
    hit = mapping >= 0
    out[hit] = values[mapping[hit]]
    return out


def take_pairs(values: np.ndarray, mapping: np.ndarray, fill: float = 0.0) -> np.ndarray:
    """(R, R, ...) block of a pair array ``values`` picked by ``mapping`` on both axes."""
    out = np.full((len(mapping), len(mapping), *values.shape[2:]), fill, dtype=np.float64)
    hit = np.flatnonzero(mapping >= 0)
    out[np.ix_(hit, hit)] = values[np.ix_(mapping[hit], mapping[hit])]
    return out
