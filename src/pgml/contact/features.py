"""One query's features, built the same way for training and for prediction: alignment -> PSSM + PLM.

A target's features are its PSSM (``L x 20``, :mod:`pgml.contact.pssm`) and its pseudo-likelihood
couplings with the APC map (:mod:`pgml.contact.plm`), both from the weighted, filtered alignment.
The settings that change those numbers (:class:`FeatureSettings`) are stored in every PLM file and in
the model card (``model.json``) that ``train`` writes, so ``predict`` builds a new query's features
with the settings the model was trained on and refuses PLM files built otherwise.

:func:`check_plm_alignment` refuses, before any fit, an alignment whose map no one should trust: a
query shorter than :data:`~pgml.contact.params.MIN_QUERY_LENGTH`, fewer than 2 distinct sequences,
an effective depth below ``min_neff``, or a fit larger than the memory this machine or job has.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pgml.contact.alignment import Alignment
from pgml.contact.params import MIN_QUERY_LENGTH, SHALLOW_NEFF, FilterParams, PlmParams
from pgml.errors import InputError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeatureSettings:
    """The settings that change a target's PSSM and couplings (stored in PLM files and model cards)."""

    weight_identity: float = FilterParams.weight_identity
    lambda_single: float = PlmParams.lambda_single
    lambda_pair_factor: float = PlmParams.lambda_pair_factor
    max_iter: int = PlmParams.max_iter

    def as_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> FeatureSettings:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


def warn_shallow(where: object, n_sequences: int, depth: float) -> None:
    """Log a warning for an alignment too shallow to trust (the query alone, or Neff below :data:`SHALLOW_NEFF`)."""
    if n_sequences < 2:
        log.warning("%s: the alignment holds the query only: its PSSM is the query's BLOSUM62 rows and "
                    "pgml contact plm will refuse it", where)
    elif depth < SHALLOW_NEFF:
        log.warning("%s: shallow alignment, %d sequences, Neff %.1f < %g: expect few correct contacts", where,
                    n_sequences, depth, SHALLOW_NEFF)


def check_plm_alignment(aln: Alignment, weights: np.ndarray, where: object, *, history: int = PlmParams.history,
                        chunk: int = PlmParams.chunk, min_neff: float = PlmParams.min_neff) -> float:
    """Refuse an alignment whose couplings could not be trusted or would not fit in memory; return its Neff."""
    from pgml.contact.plm import max_plm_length, plm_memory
    from pgml.runtime import available_memory, check_memory

    if aln.length < MIN_QUERY_LENGTH:
        raise InputError(f"query has {aln.length} residue(s); a contact map needs pairs at least 6 apart, "
                         f"so at least {MIN_QUERY_LENGTH} residues", path=where)
    check_memory(plm_memory(aln.length, history, chunk=chunk), f"PLM couplings of {aln.length} columns",
                 lower_with=f"--history (now {history}; about {max_plm_length(available_memory(), 1, chunk=chunk)} "
                            "columns fit with --history 1) or cut the query into domains", path=where)
    distinct = len(np.unique(aln.msa, axis=0))
    depth = float(np.sum(weights))
    if distinct < 2 or depth < min_neff:
        raise InputError(f"{len(aln)} sequence(s), {distinct} distinct, Neff {depth:.1f} (below --min-neff "
                         f"{min_neff:g}): couplings need an alignment of homologues; search a database "
                         "(build-msa --database)", path=where)
    warn_shallow(where, len(aln), depth)
    return depth


def plm_features(aln: Alignment, weights: np.ndarray, settings: FeatureSettings, where: object, *,
                 history: int = PlmParams.history, chunk: int = PlmParams.chunk, tolerance: float = PlmParams.tolerance,
                 device: object = "cpu") -> dict:
    """The arrays of a PLM file: ``apc (L, L)``, ``couplings (L, L, 441)`` float16, the query, Neff, settings."""
    from pgml.contact.plm import apc, fit_plm, frobenius_scores

    fit = fit_plm(aln.msa, weights, lambda_single=settings.lambda_single,
                  lambda_pair_factor=settings.lambda_pair_factor, max_iter=settings.max_iter, history=history,
                  chunk=chunk, tolerance=tolerance, device=device)
    scores = apc(frobenius_scores(fit.J))
    if not (np.isfinite(scores).all() and np.isfinite(fit.objective)):
        raise InputError(f"the pseudo-likelihood fit diverged (objective {fit.objective:.4g})", path=where)
    length = aln.length
    return {"apc": scores.astype(np.float32), "query": aln.query, "neff": float(np.sum(weights)),
            "n_sequences": len(aln), "couplings": fit.J.reshape(length, length, -1).astype(np.float16),
            "objective": fit.objective, "seconds": fit.seconds, "settings": json.dumps(settings.as_dict())}


def write_plm_file(path: Path, arrays: dict) -> None:
    """Write a PLM ``.npz`` (into a folder that :func:`pgml.fileio.atomic_dir` moves into place)."""
    with open(path, "wb") as handle:
        np.savez_compressed(handle, **arrays)


def plm_settings(path: Path) -> FeatureSettings | None:
    """The feature settings stored in a PLM file (None for files written before settings were stored)."""
    with np.load(path) as data:
        if "settings" not in data:
            return None
        return FeatureSettings.from_dict(json.loads(str(data["settings"])))
