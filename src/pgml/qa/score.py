"""True quality of models against a native (``pgml qa score``, and the labels of ``build-graphs``):
Cα-lDDT, GDT-TS and TM-score, for the whole model (chains concatenated) and per chain.

Scores follow CASP's convention: everything is indexed by the native's residues (those with a Cα),
residues are matched by :func:`pgml.qa.align.match_residues` (numbering when model and native share
it, else sequence), GDT-TS and TM-score are normalised by the native's length, and lDDT is computed
over every native pair within the inclusion radius with a pair whose atom the model lacks counted as
not conserved [mariani2013]. A model missing residues therefore scores as if those residues were
wrong, and removing residues can never raise a score. The per-residue labels of a model are the
per-residue lDDT of its native counterpart (NaN for a model residue without one).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.qa.align import match_residues, take
from pgml.qa.inputs import read_coords
from pgml.qa.lddt import lddt
from pgml.qa.scores import gdt_ts, tm_score
from pgml.structure.collection import structure_stem
from pgml.structure.residue_coords import ResidueCoords


@dataclass
class TrueScores:
    """Scores of one model against its native (module docstring)."""

    lddt: float
    gdt_ts: float
    tm_score: float
    per_residue: np.ndarray  # (R_model,) Cα-lDDT of each model residue, NaN without a native counterpart
    per_native: np.ndarray  # (R_native,) Cα-lDDT of each native residue, 0 where the model lacks it
    mapping: np.ndarray  # (R_model,) native index of each model residue, -1 where unmatched
    model_on_native: np.ndarray  # (R_native, 3) the model's Cα at native indices, NaN where absent


def native_residues(native: ResidueCoords) -> np.ndarray:
    """Indices of the native residues that take part in the scores: those with a Cα."""
    return np.flatnonzero(~np.isnan(native.ca).any(axis=1))


def true_scores(model: ResidueCoords, native: ResidueCoords, *, model_name: str = "model",
                native_name: str = "native", mapping: np.ndarray | None = None) -> TrueScores:
    """lDDT, GDT-TS and TM-score of ``model`` against ``native`` by CASP's convention."""
    if mapping is None:
        mapping = match_residues(model, native, model_name=model_name, other_name=native_name)
    keep = native_residues(native)
    position = np.full(len(native), -1)
    position[keep] = np.arange(len(keep))
    on_native = np.where(mapping >= 0, position[np.maximum(mapping, 0)], -1)
    native_ca = native.ca[keep]
    native_seq = "".join(native.sequence[j] for j in keep)
    model_on_native = np.full((len(keep), 3), np.nan)
    hit = on_native >= 0
    model_on_native[on_native[hit]] = model.ca[hit]
    glob, per_native = lddt(native_ca, model_on_native)
    per_residue = take(per_native[:, None], on_native)[:, 0]
    return TrueScores(lddt=glob, gdt_ts=gdt_ts(model_on_native, native_ca),
                      tm_score=tm_score(model_on_native, native_ca, native_seq), per_residue=per_residue,
                      per_native=per_native, mapping=on_native, model_on_native=model_on_native)


def _nanmean(values: np.ndarray) -> float:
    ok = ~np.isnan(values)
    return float(values[ok].mean()) if ok.any() else float("nan")


def _chain_rows(name: str, model: ResidueCoords, native: ResidueCoords, scores: TrueScores) -> list[dict]:
    """Per-chain rows of a multi-chain model: each model chain against the native chains it maps to."""
    keep = native_residues(native)
    native_chain = np.asarray([str(c) for c in native.chain_id[keep]])
    native_ca = native.ca[keep]
    native_seq = "".join(native.sequence[j] for j in keep)
    rows = []
    for chain in dict.fromkeys(str(c) for c in model.chain_id):
        sel = np.asarray([str(c) == chain for c in model.chain_id])
        targets = scores.mapping[sel & (scores.mapping >= 0)]
        subset = np.isin(native_chain, np.unique(native_chain[targets])) if len(targets) else np.zeros(len(keep), bool)
        seq = "".join(s for s, k in zip(native_seq, subset, strict=True) if k)
        mine = np.full(len(keep), False)
        mine[targets] = True
        model_part = np.where(mine[:, None], scores.model_on_native, np.nan)[subset]
        rows.append({"model": name, "chain": chain, "residues": int(sel.sum()),
                     "lddt": _nanmean(scores.per_native[subset]),
                     "gdt_ts": gdt_ts(model_part, native_ca[subset]) if subset.any() else float("nan"),
                     "tm_score": tm_score(model_part, native_ca[subset], seq) if subset.any() else float("nan")})
    return rows


def score_models(native_path: Path, model_paths: list[Path]) -> pd.DataFrame:
    """One row per model and chain (chain ``all``: every chain together)."""
    native = read_coords(native_path, require_backbone=False)[1]
    rows = []
    for path in model_paths:
        model = read_coords(path)[1]
        scores = true_scores(model, native, model_name=str(path), native_name=str(native_path))
        name = structure_stem(path)
        rows.append({"model": name, "chain": "all", "residues": len(model), "lddt": scores.lddt,
                     "gdt_ts": scores.gdt_ts, "tm_score": scores.tm_score})
        if len(set(model.chain_id)) > 1:
            rows += _chain_rows(name, model, native, scores)
    return pd.DataFrame(rows)
