"""The GNET2 model card: module coherence against random modules of the same sizes, checked on reload."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pgml.cli import main
from pgml.errors import InputError
from pgml.grn.card import grouping_coherence, module_coherence
from pgml.grn.data import build_dataset
from pgml.grn.gnet import GnetParams, fit_gnet
from pgml.grn.result import load_result
from pgml.grn.simulate import simulate_planted_modules
from pgml.modelcard import read_card


def test_grouping_coherence_by_hand():
    """Two groups of two genes: |r| of each pair, weighted by group size; a lone gene is skipped."""
    x = np.array([[1.0, 2.0, 3.0, 4.0], [2.0, 4.1, 5.9, 8.2], [1.0, -1.0, 1.0, -1.0], [4.0, 3.0, 2.0, 1.0],
                  [0.0, 1.0, 0.0, 5.0]])
    z = x - x.mean(1, keepdims=True)
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    r01 = abs(np.corrcoef(x[0], x[1])[0, 1])
    r23 = abs(np.corrcoef(x[2], x[3])[0, 1])
    assert grouping_coherence(z, np.array([0, 0, 1, 1, 2])) == pytest.approx((r01 + r23) / 2)
    assert np.isnan(grouping_coherence(z, np.array([0, 1, 2, -1, -1])))


def test_planted_modules_beat_random_modules():
    frame, regs, _ = simulate_planted_modules(n_modules=4, genes_per_module=25, n_regulators=10, n_samples=60, seed=0)
    fit = fit_gnet(build_dataset(frame, regs), GnetParams(init="kmeans", mode="port", init_group_num=6),
                   progress=False)
    assert len(fit.modules) >= 2
    figures = module_coherence(fit, seed=0)
    assert figures["module_coherence"] > figures["module_coherence_random"] + 0.2


def test_infer_writes_the_card_and_reload_checks_it(tmp_path: Path):
    frame, regs, _ = simulate_planted_modules(n_modules=2, genes_per_module=12, n_regulators=4, n_samples=30, seed=1)
    expr = tmp_path / "expr.tsv"
    frame.to_csv(expr, sep="\t")
    (tmp_path / "regs.txt").write_text("".join(f"{r}\n" for r in regs))
    out = tmp_path / "out"
    assert main(["grn", "infer", "--expression", str(expr), "--regulators", str(tmp_path / "regs.txt"),
                 "--output-dir", str(out), "--init", "kmeans", "--mode", "port", "--seed", "4"]) == 0
    card = read_card(out, "grn")
    assert card.seed == 4 and card.inputs["expression"] == str(expr)
    assert card.inputs["n_targets"] == 24 and card.inputs["n_samples"] == 30
    assert card.metrics["beats_baseline"] is True
    load_result(out)
    data = json.loads((out / "model.json").read_text())
    data["inputs"]["n_targets"] = 13
    (out / "model.json").write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"the card counts n_targets=13, the result holds 24"):
        load_result(out)
