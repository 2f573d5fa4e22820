"""Evaluation and the contact-number baseline on hand-computed cases."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pgml.bfactor.baseline import fit_linear, packing, weighted_contact_numbers
from pgml.bfactor.evaluate import evaluate_predictions, method_and_run
from pgml.structure.collection import structure_stem


def write(directory: Path, rows: dict[str, tuple[list[float], list[float]]], units: str = "angstrom2") -> Path:
    directory.mkdir(parents=True)
    frames = [
        pd.DataFrame({"structure": s, "atom": range(len(y)), "target_true": y, "target_pred": p,
                      "pred_units": units})
        for s, (y, p) in rows.items()
    ]
    pd.concat(frames).to_csv(directory / "predictions.tsv", sep="\t", index=False)
    return directory


def test_metrics_hand_computed(tmp_path: Path) -> None:
    # protein A predicted exactly; protein B off by +1 everywhere
    a = ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    b = ([1.0, 2.0, 3.0, 4.0], [2.0, 3.0, 4.0, 5.0])
    run0 = write(tmp_path / "pred" / "meta" / "run0", {"A": a, "B": b})
    # run 1: protein B off by +3 -> MAE 3
    run1 = write(tmp_path / "pred" / "meta" / "run1", {"A": a, "B": (b[0], [4.0, 5.0, 6.0, 7.0])})
    base = write(tmp_path / "pred" / "baseline", {"A": (a[0], [3.0, 2.0, 1.0]), "B": (b[0], [4.0, 3.0, 2.0, 1.0])})
    summary = evaluate_predictions([run0, run1], base, tmp_path / "eval").set_index("method")

    per_protein = pd.read_csv(tmp_path / "eval" / "per_protein.tsv", sep="\t")
    row_b = per_protein.query("method == 'meta' and run == 0 and structure == 'B'").iloc[0]
    assert row_b["cc"] == pytest.approx(1.0)
    assert row_b["mae"] == pytest.approx(1.0)
    assert row_b["mape"] == pytest.approx((1 + 1 / 2 + 1 / 3 + 1 / 4) / 4, abs=1e-4)
    assert row_b["rrse"] == pytest.approx(math.sqrt(4 / 5), abs=1e-4)

    # run means: MAE (0+1)/2 = 0.5 and (0+3)/2 = 1.5 -> mean 1.0, sd 0.7071
    assert summary.loc["meta", "mae_mean"] == pytest.approx(1.0)
    assert summary.loc["meta", "mae_sd"] == pytest.approx(math.sqrt(0.5), abs=1e-4)
    assert summary.loc["meta", "n_runs"] == 2
    assert summary.loc["baseline", "cc_mean"] == pytest.approx(-1.0)
    assert summary.loc["meta", "beats_baseline"] == "yes"
    assert list(summary.index)[-1] == "baseline"
    for name in ("metrics.tsv", "scatter.png", "cc_by_architecture.png"):
        assert (tmp_path / "eval" / name).stat().st_size > 0


def test_model_worse_than_baseline_is_said(tmp_path: Path) -> None:
    y = [1.0, 2.0, 3.0, 4.0]
    model = write(tmp_path / "gcn" / "run0", {"A": (y, [4.0, 3.0, 2.0, 1.0])})
    base = write(tmp_path / "baseline", {"A": (y, y)})
    summary = evaluate_predictions([model], base, tmp_path / "eval").set_index("method")
    assert summary.loc["gcn", "beats_baseline"] == "no"


def test_undefined_cc_counts_as_zero_and_is_reported(tmp_path: Path) -> None:
    y = [1.0, 2.0, 3.0, 4.0]
    # protein A: perfect; protein B: constant prediction -> CC undefined -> 0; mean (1 + 0) / 2
    model = write(tmp_path / "gcn" / "run0", {"A": (y, y), "B": (y, [2.0] * 4)})
    base = write(tmp_path / "baseline", {"A": (y, y[::-1]), "B": (y, y[::-1])})
    summary = evaluate_predictions([model], base, tmp_path / "eval").set_index("method")
    assert summary.loc["gcn", "cc_mean"] == pytest.approx(0.5)
    assert summary.loc["gcn", "n_undefined_cc"] == 1
    assert summary.loc["baseline", "n_undefined_cc"] == 0
    per_protein = pd.read_csv(tmp_path / "eval" / "per_protein.tsv", sep="\t")
    assert per_protein.query("method == 'gcn' and structure == 'B'")["cc"].isna().all()


def test_mape_of_zscore_predictions_is_in_angstrom2(tmp_path: Path) -> None:
    # B = 10, 20, 30, 40: mean 25, population sd sqrt(125); z-scores z; prediction z + 0.1 maps to B + 0.1 sd
    b = np.array([10.0, 20.0, 30.0, 40.0])
    sd = math.sqrt(125.0)
    z = (b - 25.0) / sd
    directory = tmp_path / "meta" / "run0"
    directory.mkdir(parents=True)
    pd.DataFrame({"structure": "A", "atom": range(4), "b_factor": b, "target_true": z, "target_pred": z + 0.1,
                  "pred_units": "zscore"}).to_csv(directory / "predictions.tsv", sep="\t", index=False)
    no_b = write(tmp_path / "baseline", {"A": (list(z), list(z))}, units="zscore")
    summary = evaluate_predictions([directory], no_b, tmp_path / "eval").set_index("method")
    expected = np.mean(0.1 * sd / b)  # |B' - B| / B = 0.1 sd / B
    assert summary.loc["meta", "mape_mean"] == pytest.approx(expected, abs=1e-4)
    assert not summary.loc["meta", "note"]
    # z-scores without the inputs' B-factors: no MAPE, and the note says why
    assert math.isnan(summary.loc["baseline", "mape_mean"])
    assert "z-scores" in summary.loc["baseline", "note"]


def test_model_is_compared_with_the_stronger_baseline(tmp_path: Path, caplog) -> None:
    y = [1.0, 2.0, 3.0, 4.0]
    model = write(tmp_path / "gcn" / "run0", {"A": (y, [1.0, 2.0, 4.0, 3.0])})  # CC 0.8
    weak = write(tmp_path / "baseline", {"A": (y, [4.0, 3.0, 2.0, 1.0])})
    strong = write(tmp_path / "baseline_wcn", {"A": (y, y)})
    caplog.set_level("INFO")
    summary = evaluate_predictions([model], [weak, strong], tmp_path / "eval").set_index("method")
    assert list(summary.index) == ["gcn", "baseline", "baseline_wcn"]
    assert summary.loc["gcn", "strongest_baseline"] == "baseline_wcn"
    assert summary.loc["gcn", "beats_baseline"] == "no"
    assert "gcn does not beat the baseline_wcn baseline" in caplog.text


def test_weighted_contact_number_hand_computed() -> None:
    # atoms at 0, 1 and 3 Å on a line, and one 20 Å away (outside the 15 Å cutoff)
    pos = np.array([[0.0, 0, 0], [1.0, 0, 0], [3.0, 0, 0], [23.0, 0, 0]])
    wcn = weighted_contact_numbers(pos)
    assert wcn == pytest.approx([1 + 1 / 9, 1 + 1 / 4, 1 / 9 + 1 / 4, 0.0])
    assert packing(pos, "wcn", 5.0) == pytest.approx([1 / (1 + 1 / 9), 1 / (1 + 1 / 4), 1 / (1 / 9 + 1 / 4), 0.0])


def test_fit_linear_recovers_line() -> None:
    cn = np.array([0.0, 1.0, 2.0, 3.0])
    a, b = fit_linear(cn, 5.0 - 2.0 * cn)
    assert (a, b) == pytest.approx((5.0, -2.0))


@pytest.mark.parametrize(
    "name, stem", [("1ABC.cif.gz", "1ABC"), ("x/2XYZ.pdb", "2XYZ"), ("pdb1ubi.ent.gz", "pdb1ubi")]
)
def test_structure_stem(name: str, stem: str) -> None:
    assert structure_stem(name) == stem


def test_method_and_run() -> None:
    assert method_and_run(Path("p/meta/run3")) == ("meta", 3)
    assert method_and_run(Path("p/baseline")) == ("baseline", 0)
