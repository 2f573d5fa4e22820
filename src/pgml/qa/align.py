"""Residue correspondence between a model and another structure of the same protein.

:func:`match_residues` matches by residue number when the two number residues the same way (CASP's
convention for models and targets, LGA's sequence-dependent mode): the residues sharing a (chain,
number, insertion code), or a (number, insertion code) when each has one chain, are at least
:data:`MIN_IDENTITY` of the shorter structure and at least :data:`MIN_NUMBERED_IDENTITY` of them carry
the same amino acid. Otherwise (models that number residues their own way, predictions numbered
1..L) residues are matched by a global pairwise alignment of the one-letter sequences
(:func:`align_residues`: Biopython's ``PairwiseAligner``, BLOSUM62, gap open -10, extend -0.5, end
gaps free), chains concatenated in file order. Alignment alone can misplace a residue next to a gap
(a model missing residue 2 of ``MKM...`` may align either M), which numbering avoids. Too few
identical aligned residues means the two do not belong together: :class:`~pgml.errors.InputError`.
"""

from __future__ import annotations

import numpy as np

from pgml.errors import InputError

#: fewest identical residues (fraction of the shorter sequence) for two sequences to count as aligned
MIN_IDENTITY = 0.5
#: fewest residues with the same amino acid, among those sharing a number, to match by numbering
MIN_NUMBERED_IDENTITY = 0.9


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


def _keys(coords, with_chain: bool) -> list[tuple]:  # noqa: ANN001 - ResidueCoords
    return [((str(c),) if with_chain else ()) + (int(n), str(i).strip())
            for c, n, i in zip(coords.chain_id, coords.res_seq, coords.ins_code, strict=True)]


def match_by_number(model, other) -> np.ndarray | None:  # noqa: ANN001 - ResidueCoords
    """Index into ``other`` for each residue of ``model`` by residue numbering, or None when the two
    do not number residues the same way (see the module docstring)."""
    single = len(set(model.chain_id)) == 1 and len(set(other.chain_id)) == 1
    for with_chain in (True, False) if single else (True,):
        other_keys = _keys(other, with_chain)
        index = {k: j for j, k in enumerate(other_keys)}
        if len(index) != len(other_keys):
            return None
        mapping = np.array([index.get(k, -1) for k in _keys(model, with_chain)], dtype=np.int64)
        hit = np.flatnonzero(mapping >= 0)
        shorter = min(len(model), len(other))
        if shorter == 0 or len(hit) < MIN_IDENTITY * shorter:
            continue
        same = sum(model.sequence[i] == other.sequence[mapping[i]] for i in hit)
        if same >= MIN_NUMBERED_IDENTITY * len(hit):
            mapping[[i for i in hit if model.sequence[i] != other.sequence[mapping[i]]]] = -1
            return mapping
    return None


def match_residues(model, other, *, model_name: str = "model", other_name: str = "reference") -> np.ndarray:  # noqa: ANN001
    """Index into ``other`` for each residue of ``model`` (-1 where unmatched): by numbering when the
    two share it, else by sequence alignment (module docstring)."""
    mapping = match_by_number(model, other)
    if mapping is not None:
        return mapping
    return align_residues(model.sequence, other.sequence, model_name=model_name, other_name=other_name)
