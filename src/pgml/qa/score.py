"""True quality of models against a native (``pgml qa score``): Cα-lDDT, GDT-TS and TM-score, for the
whole model (chains concatenated) and per chain. Residues are matched by sequence (:mod:`pgml.qa.align`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pgml.qa.align import align_residues, take
from pgml.qa.inputs import read_coords
from pgml.qa.lddt import lddt
from pgml.qa.scores import gdt_ts, tm_score
from pgml.structure.collection import structure_stem


def score_models(native_path: Path, model_paths: list[Path]) -> pd.DataFrame:
    """One row per model and chain (chain ``all``: every chain together)."""
    native = read_coords(native_path)[1]
    rows = []
    for path in model_paths:
        model = read_coords(path)[1]
        mapping = align_residues(model.sequence, native.sequence, model_name=str(path), other_name=str(native_path))
        nat_ca = take(native.ca, mapping)
        _, per_residue = lddt(nat_ca, model.ca)
        nat_seq = "".join(native.sequence[j] if j >= 0 else model.sequence[i] for i, j in enumerate(mapping))
        chains = [("all", np.ones(len(model), dtype=bool))]
        if len(set(model.chain_id)) > 1:
            chains += [(str(c), model.chain_id == c) for c in dict.fromkeys(model.chain_id)]
        for chain, sel in chains:
            seq = "".join(s for s, k in zip(model.sequence, sel, strict=True) if k)
            nseq = "".join(s for s, k in zip(nat_seq, sel, strict=True) if k)
            rows.append({"model": structure_stem(path), "chain": chain, "residues": int(sel.sum()),
                         "lddt": float(np.nanmean(per_residue[sel])) if chain != "all" else lddt(nat_ca, model.ca)[0],
                         "gdt_ts": gdt_ts(model.ca[sel], nat_ca[sel]),
                         "tm_score": tm_score(model.ca[sel], nat_ca[sel], seq, nseq)})
    return pd.DataFrame(rows)
