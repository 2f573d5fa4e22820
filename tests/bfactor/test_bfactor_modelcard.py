"""Model cards of the bfactor chain: `train` writes one with the same-run 1/WCN baseline; `predict` checks it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from pgml.bfactor.graphs import build_graphs
from pgml.bfactor.predict import PRETRAINED_MODEL
from pgml.bfactor.split import read_split
from pgml.bfactor.training import TrainConfig, card_inputs, check_card, load_model, train_model
from pgml.errors import InputError
from pgml.modelcard import read_card


@pytest.fixture(scope="module")
def trained(small_selection: Callable[[str], Path]) -> tuple[Path, object, Path]:
    work = small_selection("card")
    build_graphs(work / "sel.tsv", output=work / "g.pt")
    config = TrainConfig(architecture="gcn", hidden=8, layers=2, dropout=0.0, lr=1e-2, weight_decay=0.0,
                         epochs=2, seed=3)
    result = train_model([work / "g.pt"], split=work / "split.tsv", output_dir=work / "model", config=config)
    return result.best_path, result, work


def _wcn_baseline_by_hand(work: Path) -> float:
    """1/WCN fitted on the training atoms with numpy's polyfit, scored by per-protein np.corrcoef."""
    payload = torch.load(work / "g.pt", weights_only=False)
    split = read_split(work / "split.tsv")
    graphs = {s: [g for g in payload["graphs"] if split[str(g.structure_id)] == s] for s in ("train", "val")}

    def inverse_wcn(pos: np.ndarray) -> np.ndarray:
        d2 = ((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1)
        np.fill_diagonal(d2, np.inf)
        wcn = np.where(d2 <= 15.0 ** 2, 1.0 / d2, 0.0).sum(1)
        return 1.0 / wcn

    x = np.concatenate([inverse_wcn(g.pos.double().numpy()) for g in graphs["train"]])
    y = np.concatenate([g.y.double().numpy() for g in graphs["train"]])
    slope, intercept = np.polyfit(x, y, 1)
    ccs = [np.corrcoef(g.y.double().numpy(), intercept + slope * inverse_wcn(g.pos.double().numpy()))[0, 1]
           for g in graphs["val"]]
    return float(np.mean(ccs))


def test_train_writes_the_card_with_the_same_run_baseline(trained):
    best, result, work = trained
    card = read_card(best, "bfactor")
    _, meta = load_model(best)
    assert card.inputs == card_inputs(meta)
    assert card.inputs["target"] == "raw" and card.inputs["radius"] == 5.0
    assert card.seed == 3
    assert card.training["structures"] == {"train": 2, "val": 1, "test": 1}
    assert card.training["split"] == str(work / "split.tsv")
    assert card.metrics["val_cc"] == pytest.approx(result.best_score)
    assert card.metrics["val_cc_baseline_wcn"] == pytest.approx(_wcn_baseline_by_hand(work), abs=1e-6)
    assert card.metrics["beats_baseline"] == (result.best_score > card.metrics["val_cc_baseline_wcn"])


def test_predict_refuses_a_card_that_describes_other_settings(trained, tmp_path):
    best, _, _ = trained
    _, meta = load_model(best)
    check_card(best, meta)
    card = json.loads(best.with_name("model.json").read_text())
    card["inputs"]["radius"] = 6.0
    other = tmp_path / "model.json"
    other.write_text(json.dumps(card))
    with pytest.raises(InputError, match=r"the model was trained with radius=6\.0, this input gives 5\.0"):
        check_card(best, meta, card=other)


def test_shipped_model_has_a_card_that_matches_it():
    card = read_card(PRETRAINED_MODEL, "bfactor")
    _, meta = load_model(PRETRAINED_MODEL)
    check_card(PRETRAINED_MODEL, meta)
    assert card.source["sha256"] == hashlib.sha256(PRETRAINED_MODEL.read_bytes()).hexdigest()
    assert card.metrics["test_cc"] > card.metrics["test_cc_baseline_wcn"]
