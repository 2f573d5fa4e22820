"""Model cards round-trip, refuse another chain's or a missing card, and name the differing setting."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from pgml.errors import InputError
from pgml.modelcard import ModelCard, card_path, check_settings, read_card, write_card


def test_round_trip_and_json_safety(tmp_path: Path):
    model = tmp_path / "run" / "model.ckpt"
    card = ModelCard(chain="qa", inputs={"n_references": 5, "path": Path("/x"), "radii": (8.0, 12.0)},
                     seed=3, metrics={"model": 0.7, "baseline": math.nan})
    written = write_card(model, card)
    assert written == card_path(model) == tmp_path / "run" / "model.json"
    back = read_card(model, "qa")
    assert back.inputs == {"n_references": 5, "path": "/x", "radii": [8.0, 12.0]}
    assert back.metrics["baseline"] is None and back.seed == 3


def test_refusals(tmp_path: Path):
    model = tmp_path / "model.ckpt"
    with pytest.raises(InputError, match="no model card"):
        read_card(model, "qa")
    write_card(model, ModelCard(chain="fold", inputs={}))
    with pytest.raises(InputError, match="'fold' chain, not 'qa'"):
        read_card(model, "qa")
    (tmp_path / "model.json").write_text("{not json")
    with pytest.raises(InputError, match="not readable JSON"):
        read_card(model, "fold")


def test_check_settings_names_the_setting():
    card = ModelCard(chain="qa", inputs={"n_references": 5, "degree": 4})
    check_settings(card, {"n_references": 5, "unknown": 1})
    with pytest.raises(InputError, match="n_references"):
        check_settings(card, {"n_references": 3})
