"""pgml.plots: the Agg backend, and every plot written as a non-empty PNG atomically."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest

import pgml
from pgml import plots
from pgml.metrics import pr_curve_points, roc_curve_points

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _only_png(directory: Path, name: str) -> None:
    """``directory`` holds exactly ``name`` (no temporary left), a non-empty PNG."""
    assert sorted(p.name for p in directory.iterdir()) == [name]
    data = (directory / name).read_bytes()
    assert len(data) > 1000 and data.startswith(PNG_MAGIC)


def test_backend_is_agg() -> None:
    assert matplotlib.get_backend().lower() == "agg"


def test_no_other_module_sets_the_backend() -> None:
    src = Path(pgml.__file__).parent
    callers = [p.relative_to(src).as_posix() for p in src.rglob("*.py")
               if re.search(r"matplotlib\.use\(", p.read_text())]
    assert callers == ["plots.py"]


def test_figure_and_save_figure(tmp_path: Path) -> None:
    fig, axes = plots.figure(2, 3, figsize=(6, 4))
    assert axes.shape == (2, 3)
    axes[0, 0].plot([0, 1], [1, 0])
    plots.save_figure(fig, tmp_path / "f.png", dpi=50)
    _only_png(tmp_path, "f.png")
    fig, ax = plots.figure()
    assert hasattr(ax, "plot")
    with pytest.raises(ValueError):
        plots.save_figure(fig, tmp_path / "bad" / "f.unknownformat")
    assert list((tmp_path / "bad").iterdir()) == []


def test_plot_roc_pr(tmp_path: Path) -> None:
    y = np.array([1, 0, 1, 0, 0, 1])
    curves = {}
    for name, s in {"a": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4], "b": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]}.items():
        roc, pr = roc_curve_points(y, s), pr_curve_points(y, s)
        curves[name] = (roc.fpr, roc.tpr, pr.recall, pr.precision)
    plots.plot_roc_pr(curves, tmp_path / "roc.png", roc_auc={"a": 0.56, "b": 0.44},
                      pr_auc={"a": 0.72, "b": 0.5}, chance_precision=0.5)
    _only_png(tmp_path, "roc.png")
    plots.plot_roc_pr(curves, tmp_path / "plain" / "roc.png")  # no AUCs, no PR chance line
    _only_png(tmp_path / "plain", "roc.png")


def test_plot_scatter(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(size=50)
    plots.plot_scatter({"m1": (y, y + rng.normal(size=50)), "m2": (y, np.full(50, 0.3))}, tmp_path / "s.png",
                       title="{name}: r = {r:.2f}")
    _only_png(tmp_path, "s.png")


def test_plot_learning_curve(tmp_path: Path) -> None:
    rows = [{"epoch": 0.0, "train_loss": 1.0, "val_loss": 1.2, "val_cc": 0.1},
            {"epoch": 1.0, "train_loss": 0.8, "val_cc": 0.3}]
    plots.plot_learning_curve(rows, tmp_path / "lc.png", monitor="val_cc")
    _only_png(tmp_path, "lc.png")


def test_plot_distribution(tmp_path: Path) -> None:
    groups = {"gcn": [0.2, 0.5, float("nan"), 0.4], "meta": np.array([0.6, 0.7, 0.65]), "empty": []}
    plots.plot_distribution(groups, tmp_path / "d.png", ylabel="per-protein CC")
    _only_png(tmp_path, "d.png")
