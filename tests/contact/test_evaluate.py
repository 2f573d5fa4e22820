"""Evaluation helpers: the edge-effect count on a hand-made map, map reading, the verdict per model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pgml.contact.evaluate import add_verdicts, ends_fraction, model_maps, read_map
from pgml.errors import InputError


def test_ends_fraction_counts_top_l_pairs_touching_the_first_or_last_two_residues() -> None:
    length = 14  # 36 pairs at separation >= 6; 10 of them touch neither residues 0-1 nor 12-13
    i, j = np.triu_indices(length, 6)
    interior = (i >= 2) & (j <= 11)
    assert interior.sum() == 10
    scores = np.zeros((length, length))
    scores[i[interior], j[interior]] = 2.0  # the 10 interior pairs first,
    scores[i[~interior][:4], j[~interior][:4]] = 1.0  # then 4 touching pairs fill the top L = 14
    top, chance = ends_fraction(scores)
    assert top == pytest.approx(4 / 14) and chance == pytest.approx(26 / 36)


def test_model_maps_reads_the_ensemble_each_network_and_noattention(tmp_path: Path) -> None:
    att, plain = tmp_path / "att", tmp_path / "plain"
    for folder in (att, att / "sequence_attention", att / "regional_attention", plain):
        folder.mkdir(parents=True)
        np.save(folder / "T.npy", np.full((5, 5), len(folder.name), dtype=np.float32))
    maps = model_maps("T", 5, att, plain)
    assert list(maps) == ["attcontact", "sequence_attention", "regional_attention", "noattention"]
    with pytest.raises(InputError, match="prediction not found"):
        model_maps("U", 5, att, None)
    with pytest.raises(InputError, match=r"shape \(5, 5\), the target has 6 residues"):
        read_map(att / "T.npy", 6)


def test_every_model_gets_a_verdict_against_apc_plm() -> None:
    mean = pd.DataFrame({"method": ["attcontact", "noattention", "apc_plm"], "long_L/5": [0.5, 0.2, 0.3]})
    verdict = add_verdicts(mean, 1).set_index("method")["beats_apc_plm_long_L/5"]
    assert verdict.to_dict() == {"attcontact": True, "noattention": False, "apc_plm": ""}
