"""Tests for pgml.train.loop.fit: determinism, resume after a kill, early stopping, outputs."""

from __future__ import annotations

import math
import os
import signal
from pathlib import Path

import lightning.pytorch as pl
import pandas as pd
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from pgml.train.loop import BEST_STATE_NAME, EpochShuffleSampler, fit
from pgml.train.optim import make_optimizer
from pgml.train.seed import seed_everything

DROP = 0.2


class _Regressor(pl.LightningModule):
    """y = 3 x0 - 2 x1 + noise-free, with dropout so RNG state matters for resume."""

    def __init__(self, lr: float = 0.05) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Dropout(DROP), torch.nn.Linear(16, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self(x), y)
        self.log("train_loss", loss, on_step=False, on_epoch=True, batch_size=len(y))
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self(x), y)
        self.log("val_loss", loss, on_epoch=True, batch_size=len(y))

    def configure_optimizers(self):
        return make_optimizer("adam", self.parameters(), lr=self.hparams.lr)


class _Killed(Exception):
    """Stands for a kill: the job dies during an epoch, after the previous epoch's checkpoints."""


class _Killable(_Regressor):
    """Dies at the start of epoch ``kill_at`` (by ``_Killed``, or by the signal ``kill_with``)."""

    kill_at: int | None = None
    kill_with: int | None = None

    def on_train_epoch_start(self) -> None:
        if self.current_epoch == self.kill_at:
            if self.kill_with is not None:
                os.kill(os.getpid(), self.kill_with)
            else:
                raise _Killed(f"killed in epoch {self.current_epoch}")


#: what the workflow declares as outputs of a training job: Snakemake deletes them before a rerun
DECLARED = ("model.ckpt", "metrics.tsv", "learning_curve.png")


def _data(seed: int = 0) -> tuple[DataLoader, DataLoader]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(96, 4, generator=g)
    y = 3 * x[:, 0] - 2 * x[:, 1]
    train = TensorDataset(x[:64], y[:64])
    val = TensorDataset(x[64:], y[64:])
    return (
        DataLoader(train, batch_size=8, sampler=EpochShuffleSampler(len(train), seed=seed)),
        DataLoader(val, batch_size=32),
    )


def _run(out: Path, epochs: int, *, patience: int = 100, seed: int = 0, mode: str = "min",
         kill_at: int | None = None, kill_with: int | None = None):
    seed_everything(seed)
    module = _Killable()
    module.kill_at, module.kill_with = kill_at, kill_with
    tl, vl = _data()
    res = fit(module, tl, vl, out, max_epochs=epochs, monitor="val_loss", mode=mode, patience=patience,
              seed=seed, device="cpu", progress=False)
    return res


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=False)["state_dict"]


def test_fit_writes_outputs_and_learns(tmp_path: Path) -> None:
    res = _run(tmp_path, 6)
    for name in ("model.ckpt", "last.ckpt", "metrics.tsv", "learning_curve.png"):
        assert (tmp_path / name).exists(), name
    assert not list(tmp_path.glob(".*tmp*")), "temporary files left behind"
    assert not (tmp_path / "lightning_logs").exists()
    m = pd.read_csv(tmp_path / "metrics.tsv", sep="\t")
    assert list(m["epoch"]) == list(range(6))
    assert {"train_loss", "val_loss"} <= set(m.columns)
    assert m["val_loss"].iloc[-1] < 0.5 * m["val_loss"].iloc[0]
    assert res.epochs_run == 6
    assert res.best_path == tmp_path / "model.ckpt"
    assert res.best_score == pytest.approx(m["val_loss"].min(), rel=1e-5)


def test_same_seed_same_trajectory(tmp_path: Path) -> None:
    _run(tmp_path / "a", 3)
    _run(tmp_path / "b", 3)
    a = pd.read_csv(tmp_path / "a" / "metrics.tsv", sep="\t")
    b = pd.read_csv(tmp_path / "b" / "metrics.tsv", sep="\t")
    pd.testing.assert_frame_equal(a, b)
    _run(tmp_path / "c", 3, seed=1)
    c = pd.read_csv(tmp_path / "c" / "metrics.tsv", sep="\t")
    assert not math.isclose(a["train_loss"].iloc[-1], c["train_loss"].iloc[-1])


def test_resume_equals_uninterrupted(tmp_path: Path) -> None:
    full = _run(tmp_path / "full", 4)
    _run(tmp_path / "part", 2)  # the "killed" job: stopped after epoch 2
    assert len(pd.read_csv(tmp_path / "part" / "metrics.tsv", sep="\t")) == 2
    resumed = _run(tmp_path / "part", 4)  # the rerun resumes from last.ckpt
    a = pd.read_csv(tmp_path / "full" / "metrics.tsv", sep="\t")
    b = pd.read_csv(tmp_path / "part" / "metrics.tsv", sep="\t")
    pd.testing.assert_frame_equal(a, b)
    wa, wb = _weights(tmp_path / "full" / "last.ckpt"), _weights(tmp_path / "part" / "last.ckpt")
    for k in wa:
        torch.testing.assert_close(wa[k], wb[k], rtol=0, atol=0)
    assert resumed.epochs_run == full.epochs_run == 4
    assert resumed.best_score == pytest.approx(full.best_score)
    # A rerun of a finished job does nothing and reports the same result.
    again = _run(tmp_path / "part", 4)
    assert again.best_score == pytest.approx(full.best_score)
    assert len(pd.read_csv(tmp_path / "part" / "metrics.tsv", sep="\t")) == 4


def _assert_same_outputs(reference: Path, other: Path) -> None:
    assert (other / "metrics.tsv").read_text() == (reference / "metrics.tsv").read_text()
    wa, wb = _weights(reference / "model.ckpt"), _weights(other / "model.ckpt")
    assert wa.keys() == wb.keys()
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert (other / "learning_curve.png").stat().st_size > 1000
    assert not list(other.glob(".*tmp*")), "temporary files left behind"


# mode "max" on the loss makes epoch 0 the best: no epoch after the kill beats it, so the rerun must
# restore model.ckpt from the kept best state rather than wait for a new best (which never comes)
@pytest.mark.parametrize("mode", ["min", "max"])
def test_rerun_after_kill_with_outputs_deleted_equals_uninterrupted(tmp_path: Path, mode: str) -> None:
    full = _run(tmp_path / "full", 4, mode=mode)
    part = tmp_path / "part"
    with pytest.raises(_Killed):
        _run(part, 4, mode=mode, kill_at=2)
    assert (part / "last.ckpt").exists() and (part / BEST_STATE_NAME).exists()
    assert not (part / "model.ckpt").exists(), "model.ckpt is written when training ends"
    if mode == "max":
        best_epoch = pd.read_csv(tmp_path / "full" / "metrics.tsv", sep="\t")["val_loss"].idxmax()
        assert best_epoch < 2, "the test needs the best epoch before the kill"
    for name in DECLARED:  # what `snakemake --rerun-incomplete` does to the killed job's outputs
        (part / name).unlink(missing_ok=True)
    resumed = _run(part, 4, mode=mode)
    _assert_same_outputs(tmp_path / "full", part)
    assert resumed == type(full)(part / "model.ckpt", full.best_score, full.epochs_run)


def test_rerun_of_finished_run_rewrites_deleted_outputs(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        first = _run(tmp_path / "run", 4, mode="max")
        (tmp_path / "ref").mkdir()
        for name in DECLARED:
            (tmp_path / "ref" / name).write_bytes((tmp_path / "run" / name).read_bytes())
            (tmp_path / "run" / name).unlink()
        again = _run(tmp_path / "run", 4, mode="max")
    finally:
        os.umask(old)
    _assert_same_outputs(tmp_path / "ref", tmp_path / "run")
    assert again == first
    for name in (*DECLARED, "last.ckpt", BEST_STATE_NAME):
        assert (tmp_path / "run" / name).stat().st_mode & 0o777 == 0o640, name
    # a rerun with every output present changes nothing
    mtimes = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "run").iterdir()}
    assert _run(tmp_path / "run", 4, mode="max") == first
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "run").iterdir()} == mtimes


def test_missing_best_state_starts_over(tmp_path: Path, caplog) -> None:
    _run(tmp_path / "full", 3)
    part = tmp_path / "part"
    with pytest.raises(_Killed):
        _run(part, 3, kill_at=2)
    for name in (*DECLARED, BEST_STATE_NAME):
        (part / name).unlink(missing_ok=True)
    with caplog.at_level("WARNING"):
        _run(part, 3)
    assert "training starts over" in caplog.text
    _assert_same_outputs(tmp_path / "full", part)


def test_sigterm_stops_with_status_143_and_resumes(tmp_path: Path) -> None:
    _run(tmp_path / "full", 4)
    part = tmp_path / "part"
    with pytest.raises(SystemExit) as stopped:
        _run(part, 4, kill_at=1, kill_with=signal.SIGTERM)
    assert stopped.value.code == 128 + signal.SIGTERM
    # stopped in epoch 1, at its first batch: epoch 0 is saved
    assert len(pd.read_csv(part / "metrics.tsv", sep="\t")) == 1
    assert torch.load(part / "last.ckpt", weights_only=False)["epoch"] == 0
    for name in DECLARED:
        (part / name).unlink(missing_ok=True)
    _run(part, 4)
    _assert_same_outputs(tmp_path / "full", part)


class _Plateau(_Regressor):
    """Logs a constant validation metric, so early stopping must fire after `patience` epochs."""

    def validation_step(self, batch, batch_idx):
        self.log("val_const", torch.tensor(1.0), on_epoch=True, batch_size=1)


def test_early_stopping(tmp_path: Path) -> None:
    tl, vl = _data()
    res = fit(_Plateau(), tl, vl, tmp_path, max_epochs=20, monitor="val_const", mode="max", patience=2,
              seed=0, device="cpu", progress=False)
    assert res.epochs_run == 3  # epoch 0 sets the best, epochs 1-2 fail to improve
    assert len(pd.read_csv(tmp_path / "metrics.tsv", sep="\t")) == 3


def test_sampler_depends_on_epoch_only() -> None:
    s = EpochShuffleSampler(10, seed=3)
    s.set_epoch(2)
    a = list(s)
    s.set_epoch(0)
    list(s)
    s.set_epoch(2)
    assert list(s) == a and sorted(a) == list(range(10))


def test_make_optimizer() -> None:
    p = [torch.nn.Parameter(torch.zeros(2))]
    assert isinstance(make_optimizer("adamw", p, 1e-3, 1e-4), torch.optim.AdamW)
    assert isinstance(make_optimizer("SGD", p, 1e-2), torch.optim.SGD)
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_optimizer("lbfgs", p, 1e-3)
