"""Contact-number baseline for B-factors: the model a user would pick without a GNN.

Atoms that are tightly packed move less, so the number of atoms within a radius (the contact
number, CN) anti-correlates with the B-factor (e.g. [halle2002]). The baseline fits
``target ~ a + b * CN`` by least squares on the training atoms (pooled) and predicts the test
structures of the same split, using the same radius as the graphs' neighbour-count feature.
It writes ``predictions.tsv`` in the format of ``pgml bfactor predict``, so ``evaluate`` treats it
like any other method.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.errors import InputError
from pgml.fileio import atomic_dir
from pgml.tables import write_tsv

log = logging.getLogger(__name__)


def contact_numbers(pos: np.ndarray, radius: float) -> np.ndarray:
    """Number of other atoms within ``radius`` Å of each atom."""
    from pgml.structure.neighbors import neighbour_counts

    return neighbour_counts(np.asarray(pos, dtype=np.float64), radius).astype(np.float64)


def fit_linear(cn: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares intercept and slope of ``y ~ a + b * cn``."""
    design = np.column_stack([np.ones_like(cn), cn])
    (a, b), *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(a), float(b)


def contact_number_baseline(
    graph_files: list[str | Path], split: str | Path, output_dir: str | Path
) -> pd.DataFrame:
    """Fit on the split's train structures, predict its test structures; write predictions.tsv."""
    from pgml.bfactor.graphs import load_graphs

    graphs, meta = load_graphs(graph_files)
    radius = float(meta["radius"])
    table = pd.read_csv(split, sep="\t", dtype=str)
    subset = dict(zip(table["id"], table["split"], strict=True))
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
    cn_train = np.concatenate([contact_numbers(g.pos.numpy(), radius) for g in by_split["train"]])
    y_train = np.concatenate([g.y.numpy().astype(np.float64) for g in by_split["train"]])
    a, b = fit_linear(cn_train, y_train)
    log.info("contact-number baseline (r = %.1f Å): target = %.3f %+.4f * CN", radius, a, b)
    rows = []
    for g in by_split["test"]:
        cn = contact_numbers(g.pos.numpy(), radius)
        y_raw = getattr(g, "y_raw", g.y)
        rows.append(
            pd.DataFrame(
                {
                    "structure": str(g.structure_id),
                    "atom": np.arange(len(cn)),
                    "b_factor": y_raw.numpy().astype(np.float64),
                    "target_true": g.y.numpy().astype(np.float64),
                    "target_pred": a + b * cn,
                }
            )
        )
    result = pd.concat(rows, ignore_index=True)
    with atomic_dir(output_dir) as tmp:
        write_tsv(result, tmp / "predictions.tsv", float_format="%.4f")
        (tmp / "model.tsv").write_text(f"intercept\tslope\tradius\n{a:.6g}\t{b:.6g}\t{radius}\n")
    return result
