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


def test_true_edges_outside_the_candidates_are_reported(tmp_path, caplog):
    from pgml.grn.evaluate import evaluate_networks, truth_coverage

    genes = ["r1", "r2", "a", "b", "c"]
    truth = pd.DataFrame({"regulator": ["r1", "r2", "x9", "r3", "r1", "r1", "r1"],
                          "target": ["a", "c", "b", "a", "zz", "r1", "a"]})  # last: a duplicate
    cov = truth_coverage(truth, ["r1", "r2", "r3"], genes)
    assert cov == {"true_edges": 6, "candidates": 2, "regulator_not_listed": 1, "regulator_not_in_matrix": 1,
                   "target_not_in_matrix": 1, "self_loops": 1}
    rng = np.random.default_rng(0)
    pd.DataFrame(rng.normal(size=(5, 12)), index=genes,
                 columns=[f"S{i}" for i in range(12)]).rename_axis("gene").to_csv(tmp_path / "e.tsv", sep="\t")
    (tmp_path / "regs.txt").write_text("r1\nr2\nr3\n")
    truth.to_csv(tmp_path / "truth.tsv", sep="\t", index=False)
    edges = pd.DataFrame({"regulator": ["r1", "r2"], "target": ["a", "c"], "score": [2.0, 1.0]})
    edges.to_csv(tmp_path / "m.tsv", sep="\t", index=False)
    table = evaluate_networks(tmp_path / "truth.tsv", {"m": tmp_path / "m.tsv"}, tmp_path / "e.tsv",
                              tmp_path / "regs.txt", tmp_path / "out")
    assert table.attrs["n_true"] == cov["candidates"]
    md = (tmp_path / "out" / "metrics.md").read_text()
    assert "4 of 6 true edges are not candidate pairs" in md and "1 regulator not in the regulator list" in md
    assert "not candidate pairs" in caplog.text
