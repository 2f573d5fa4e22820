"""Packing baselines for B-factors: the models a user would pick without a GNN.

Atoms that are tightly packed move less, so packing anti-correlates with the B-factor [halle2002].
Two packing measures, each turned into a prediction by the same linear fit
``target ~ a + b * x`` by least squares on the training atoms (pooled), then applied to the test
structures of the same split:

- ``cn``: the contact number, the number of other heavy atoms within the graphs' neighbour radius
  (the neighbour-count feature of the graphs, 5 Å by default);
- ``wcn``: the inverse weighted contact number, ``x = 1 / WCN_i`` with
  ``WCN_i = sum_j 1 / d_ij^2`` over the other heavy atoms within :data:`WCN_CUTOFF` Å [lin2008]; Halle found
  the B-factor close to proportional to the inverse local packing density [halle2002].

Each writes ``predictions.tsv`` in the format of ``pgml bfactor predict``, so ``evaluate`` treats it
like any other method, and ``model.tsv`` with the fitted line.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.bfactor.params import BASELINE_KINDS
from pgml.errors import InputError
from pgml.fileio import atomic_dir
from pgml.tables import write_tsv

log = logging.getLogger(__name__)

#: distance cutoff (Å) of the weighted contact number sum [lin2008]
WCN_CUTOFF = 15.0


def contact_numbers(pos: np.ndarray, radius: float) -> np.ndarray:
    """Number of other atoms within ``radius`` Å of each atom."""
    from pgml.structure.neighbors import neighbour_counts

    return neighbour_counts(np.asarray(pos, dtype=np.float64), radius).astype(np.float64)


def weighted_contact_numbers(pos: np.ndarray, cutoff: float = WCN_CUTOFF) -> np.ndarray:
    """``WCN_i = sum_j 1 / d_ij^2`` over the other atoms within ``cutoff`` Å [lin2008]."""
    from pgml.structure.neighbors import weighted_contact_numbers as wcn

    return wcn(pos, cutoff)


def packing(pos: np.ndarray, kind: str, radius: float) -> np.ndarray:
    """The baseline's predictor ``x`` per atom: CN (``cn``) or 1/WCN (``wcn``; 0 for an isolated atom)."""
    if kind == "cn":
        return contact_numbers(pos, radius)
    if kind == "wcn":
        wcn = weighted_contact_numbers(pos)
        return np.divide(1.0, wcn, out=np.zeros_like(wcn), where=wcn > 0)
    raise ValueError(f"kind must be one of {BASELINE_KINDS}, not {kind!r}")


def fit_linear(cn: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares intercept and slope of ``y ~ a + b * cn``."""
    design = np.column_stack([np.ones_like(cn), cn])
    (a, b), *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(a), float(b)


def contact_number_baseline(
    graph_files: list[str | Path], split: str | Path, output_dir: str | Path, kind: str = "cn"
) -> pd.DataFrame:
    """Fit on the split's train structures, predict its test structures; write predictions.tsv."""
    from pgml.bfactor.graphs import load_graphs
    from pgml.bfactor.predict import PRED_UNITS
    from pgml.bfactor.split import read_split

    if kind not in BASELINE_KINDS:
        raise ValueError(f"kind must be one of {BASELINE_KINDS}, not {kind!r}")
    graphs, meta = load_graphs(graph_files)
    radius = float(meta["radius"])
    subset = read_split(split)
    by_split: dict[str, list] = {"train": [], "test": []}
    for g in graphs:
        s = subset.get(str(g.structure_id))
        if s in by_split:
            by_split[s].append(g)
    if not by_split["train"] or not by_split["test"]:
        raise InputError(
            f"need train and test structures, got {len(by_split['train'])} and {len(by_split['test'])}",
            path=split,
        )
    x_train = np.concatenate([packing(g.pos.numpy(), kind, radius) for g in by_split["train"]])
    y_train = np.concatenate([g.y.numpy().astype(np.float64) for g in by_split["train"]])
    a, b = fit_linear(x_train, y_train)
    name = "CN" if kind == "cn" else "1/WCN"
    log.info("%s baseline (%s): target = %.3f %+.4f * %s", kind, f"r = {radius:.1f} Å" if kind == "cn"
             else f"cutoff {WCN_CUTOFF:.0f} Å", a, b, name)
    rows = []
    for g in by_split["test"]:
        x = packing(g.pos.numpy(), kind, radius)
        y_raw = getattr(g, "y_raw", g.y)
        rows.append(
            pd.DataFrame(
                {
                    "structure": str(g.structure_id),
                    "atom": np.arange(len(x)),
                    "b_factor": y_raw.numpy().astype(np.float64),
                    "target_true": g.y.numpy().astype(np.float64),
                    "target_pred": a + b * x,
                    "pred_units": PRED_UNITS.get(str(meta["target"]), ""),
                }
            )
        )
    result = pd.concat(rows, ignore_index=True)
    cutoff = radius if kind == "cn" else WCN_CUTOFF
    with atomic_dir(output_dir) as tmp:
        write_tsv(result, tmp / "predictions.tsv", float_format="%.4f")
        (tmp / "model.tsv").write_text(f"kind\tintercept\tslope\tradius\n{kind}\t{a:.6g}\t{b:.6g}\t{cutoff}\n")
    return result
