"""AUROC/AUPR evaluation of ranked edges (pgml.grn.evaluate)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pgml.grn.evaluate import evaluate_methods


def test_perfect_reversed_and_partial_rankings():
    regs = ["r1", "r2"]
    genes = ["r1", "r2", "a", "b", "c"]
    truth = pd.DataFrame({"regulator": ["r1", "r2"], "target": ["a", "c"]})
    pairs = [(r, g) for r in regs for g in genes if r != g]
    good = pd.DataFrame([(r, g, 1.0 if (r, g) in {("r1", "a"), ("r2", "c")} else 0.0) for r, g in pairs],
                        columns=["regulator", "target", "score"])
    bad = good.assign(score=-good.score)
    partial = good[good.score > 0].head(1)  # lists one true edge only; the rest tie at the bottom
    table, curves = evaluate_methods(truth, {"good": good, "bad": bad, "partial": partial}, regs, genes)
    auc = dict(zip(table.method, table.auroc, strict=True))
    assert auc["good"] == 1.0 and auc["bad"] == 0.0 and auc["random"] == 0.5
    # partial: 1 positive above all 6 negatives, 1 positive tied with 6 negatives -> (6 + 3) / 12
    assert np.isclose(auc["partial"], 9 / 12)
    assert table.attrs["n_true"] == 2 and table.attrs["n_candidates"] == 8
    assert set(curves) == {"good", "bad", "partial"}
