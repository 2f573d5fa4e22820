"""The one training loop every chain uses: :func:`fit`.

Why Lightning rather than a hand-written loop: it already provides what every chain needs and is easy
to get subtly wrong by hand - checkpoints with optimizer state (``ModelCheckpoint``), resuming a killed
job exactly where it stopped (``Trainer.fit(ckpt_path=...)`` restores weights, optimizer, epoch counter
and callback state), early stopping on a validation metric (``EarlyStopping``), a progress bar, and
placing model and batches on the GPU when one is visible. This module only adds the project's
conventions on top:

* ``output_dir/last.ckpt`` written every epoch and ``output_dir/.best.ckpt`` holding the best epoch by
  ``monitor`` so far; both written atomically (temporary file + rename), so a kill never leaves a torn
  file. When training ends, the best checkpoint is copied to ``output_dir/model.ckpt``.
* A rerun with ``last.ckpt`` present resumes from it and ends with the same outputs as an uninterrupted
  run: every training step reseeds the RNGs from ``(seed, epoch, batch)`` (dropout), and
  :class:`EpochShuffleSampler` draws each epoch's order from ``(seed, epoch)`` alone. The best epoch so
  far lives in ``.best.ckpt``, which is not one of the workflow's declared outputs, so it survives
  Snakemake removing the outputs of an interrupted job (``--rerun-incomplete``): ``model.ckpt``,
  ``metrics.tsv`` and ``learning_curve.png`` are written again at the end even if no later epoch beats
  the best one. A rerun of a finished run only rewrites whichever of them is missing.
* ``metrics.tsv`` (epoch, train_loss, validation metrics) and ``learning_curve.png`` rewritten
  atomically after every epoch; the history is part of the checkpoint so it survives a resume.
* SIGTERM (``scancel``, Snakemake stopping its jobs) stops training at the next batch and exits with
  status 143; SIGINT (Ctrl-C) stops at once with status 1. Either way the rerun resumes from the last
  completed epoch.
* Lightning's own log directories are switched off (``logger=False``); its progress bar stays.
"""

from __future__ import annotations

import contextlib
import logging
import math
import signal
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint
from lightning.pytorch.plugins.environments import LightningEnvironment
from lightning.pytorch.utilities.exceptions import SIGTERMException

from pgml.fileio import atomic_path, copy_file
from pgml.plots import plot_learning_curve
from pgml.runtime import pick_device
from pgml.train.seed import seed_everything

log = logging.getLogger(__name__)

BEST_NAME = "model.ckpt"
LAST_NAME = "last.ckpt"
#: the best epoch so far while training (copied to BEST_NAME at the end); hidden and never a declared
#: workflow output, so Snakemake's cleanup of an interrupted job keeps it
BEST_STATE_NAME = ".best.ckpt"
METRICS_NAME = "metrics.tsv"
CURVE_NAME = "learning_curve.png"


@dataclass(frozen=True)
class FitResult:
    """Outcome of :func:`fit`: the best checkpoint, its monitored score and the epochs trained in total."""

    best_path: Path
    best_score: float
    epochs_run: int


class EpochShuffleSampler(torch.utils.data.Sampler[int]):
    """Random order of ``n`` items that depends only on ``(seed, epoch)``.

    Lightning calls :meth:`set_epoch` before every epoch, so a resumed run sees exactly the orders an
    uninterrupted run would (a stateful ``torch.Generator`` would restart from epoch 0 after a kill).
    """

    def __init__(self, n: int, seed: int = 0) -> None:
        self.n = int(n)
        self.seed = int(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the permutation of ``epoch``."""
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        return iter(torch.randperm(self.n, generator=g).tolist())

    def __len__(self) -> int:
        return self.n


class _AtomicCheckpoint(ModelCheckpoint):
    """``ModelCheckpoint`` that writes through a temporary file and renames it into place.

    Writes ``last.ckpt`` after every epoch: Lightning's own callback (2.5+) writes it only in epochs
    that also wrote a new best checkpoint, so a killed run could lose every epoch since the best one.
    """

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._should_skip_saving_checkpoint(trainer):
            return
        candidates = self._monitor_candidates(trainer)
        self._save_topk_checkpoint(trainer, candidates)
        self._save_last_checkpoint(trainer, candidates)

    def _save_checkpoint(self, trainer: pl.Trainer, filepath: str) -> None:
        with atomic_path(filepath) as tmp:
            trainer.save_checkpoint(str(tmp), self.save_weights_only)
        self._last_global_step_saved = trainer.global_step
        self._last_checkpoint_saved = filepath


def _scalar(value: Any) -> float:
    if isinstance(value, torch.Tensor):
        return float(value.detach().cpu().item())
    return float(value)


class EpochHistory(Callback):
    """Reseeds every training step from ``(seed, epoch, batch)`` and records one metrics row per epoch.

    The rows are part of the checkpoint (``state_dict``), so ``metrics.tsv`` and the learning curve
    stay complete across a resume. Runs before the checkpoint callbacks at the end of an epoch, so the
    saved state already holds that epoch's row.
    """

    def __init__(self, output_dir: Path, seed: int, monitor: str) -> None:
        self.output_dir = Path(output_dir)
        self.seed = int(seed)
        self.monitor = monitor
        self.rows: list[dict[str, float]] = []

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        # Seeding per (epoch, batch) rather than per epoch: when the data-loader iterator draws from the
        # global RNG differs between a fresh and a resumed run, so only a seed set right before the
        # step makes dropout identical in both.
        seed_everything((self.seed * 1_000_003 + trainer.current_epoch) * 100_003 + batch_idx,
                        deterministic=False)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        row: dict[str, float] = {"epoch": float(trainer.current_epoch)}
        for key, value in sorted(trainer.callback_metrics.items()):
            if key.endswith("_step"):
                continue
            name = key[: -len("_epoch")] if key.endswith("_epoch") else key
            row[name] = _scalar(value)
        self.rows = [r for r in self.rows if r["epoch"] < row["epoch"]] + [row]
        write_metrics(self.rows, self.output_dir / METRICS_NAME)
        plot_learning_curve(self.rows, self.output_dir / CURVE_NAME, monitor=self.monitor)

    def state_dict(self) -> dict[str, Any]:
        return {"rows": [dict(r) for r in self.rows]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.rows = [dict(r) for r in state_dict.get("rows", [])]


def write_metrics(rows: list[dict[str, float]], path: Path) -> None:
    """Write ``rows`` as a TSV (epoch first, then train_loss, then the other columns sorted)."""
    cols: list[str] = []
    for r in rows:
        cols += [k for k in r if k not in cols]
    rest = sorted(c for c in cols if c not in ("epoch", "train_loss"))
    ordered = [c for c in ("epoch", "train_loss") if c in cols] + rest
    lines = ["\t".join(ordered)]
    for r in rows:
        vals = []
        for c in ordered:
            v = r.get(c, math.nan)
            vals.append(str(int(v)) if c == "epoch" else f"{v:.6g}")
        lines.append("\t".join(vals))
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")


def _callback_state(ckpt: dict[str, Any], name: str) -> dict[str, Any]:
    """The saved state of the callback class ``name`` (Lightning keys them by class name + settings)."""
    for key, state in ckpt.get("callbacks", {}).items():
        if key.split("{")[0] == name:
            return state
    return {}


def _is_finished(ckpt: dict[str, Any], max_epochs: int) -> bool:
    """Whether the run saved in ``ckpt`` ended: max epochs reached or stopped early."""
    stopper = _callback_state(ckpt, "EarlyStopping")
    stopped = stopper.get("wait_count", 0) >= stopper.get("patience", math.inf)
    return int(ckpt.get("epoch", -1)) + 1 >= max_epochs or stopped


def _recover_best_state(out: Path, ckpt: dict[str, Any]) -> bool:
    """Make sure ``out/.best.ckpt`` exists for the run saved in ``ckpt``; False if it cannot be had.

    A ``last.ckpt`` from a pgml version that kept the best epoch in ``model.ckpt`` itself names that file
    as its best checkpoint: when it is still there, it becomes ``.best.ckpt``.
    """
    best_state = out / BEST_STATE_NAME
    if best_state.exists():
        return True
    recorded = _callback_state(ckpt, "_AtomicCheckpoint").get("best_model_path")
    if recorded and Path(recorded).name == BEST_NAME and (out / BEST_NAME).exists():
        copy_file(out / BEST_NAME, best_state)
        return True
    return False


def _publish(out: Path, rows: list[dict[str, float]], monitor: str, *, model: bool) -> None:
    """Write the declared outputs from the training state.

    ``model.ckpt`` becomes a copy of ``.best.ckpt`` (always when ``model``, else only when missing);
    ``metrics.tsv`` and ``learning_curve.png`` are rewritten from ``rows`` when missing.
    """
    if model or not (out / BEST_NAME).exists():
        copy_file(out / BEST_STATE_NAME, out / BEST_NAME)
    if not (out / METRICS_NAME).exists():
        write_metrics(rows, out / METRICS_NAME)
    if not (out / CURVE_NAME).exists():
        plot_learning_curve(rows, out / CURVE_NAME, monitor=monitor)


@contextlib.contextmanager
def _quiet_lightning() -> Iterator[None]:
    """Hide Lightning's info lines (accelerator summary, product tips); our own log says the device."""
    loggers = [logging.getLogger(name) for name in ("lightning.pytorch", "lightning.fabric")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def fit(
    module: pl.LightningModule,
    train_loader: torch.utils.data.DataLoader,
    val_loader: torch.utils.data.DataLoader,
    output_dir: str | Path,
    *,
    max_epochs: int,
    monitor: str,
    mode: str,
    patience: int,
    seed: int,
    device: str = "auto",
    progress: bool = True,
) -> FitResult:
    """Train ``module``; keep ``model.ckpt`` (best by ``monitor``) and ``last.ckpt`` in ``output_dir``.

    Resumes from ``output_dir/last.ckpt`` when it exists; if that run had finished, only rewrites
    whichever of ``model.ckpt``, ``metrics.tsv`` and ``learning_curve.png`` is missing. Stops early
    after ``patience`` epochs without improvement of ``monitor`` (``mode`` min or max). ``device`` is
    ``auto`` (GPU when usable), ``cpu`` or ``cuda`` (an error without a GPU; see
    :func:`pgml.runtime.pick_device`).
    """
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be min or max, got {mode!r}")
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    last = out / LAST_NAME
    ckpt_path: str | None = None
    if last.exists():
        saved = torch.load(last, map_location="cpu", weights_only=False)
        if not _recover_best_state(out, saved):
            log.warning("%s: the best checkpoint %s is missing; training starts over", last,
                        out / BEST_STATE_NAME)
            last.unlink()
        elif _is_finished(saved, max_epochs):
            epochs = int(saved.get("epoch", -1)) + 1
            log.info("%s: training already finished (%d epochs)", last, epochs)
            _publish(out, _callback_state(saved, "EpochHistory").get("rows", []), monitor, model=False)
            best = _callback_state(saved, "_AtomicCheckpoint").get("best_model_score")
            return FitResult(out / BEST_NAME, _scalar(best) if best is not None else math.nan, epochs)
        else:
            ckpt_path = str(last)
            log.info("resuming from %s", last)

    seed_everything(seed)
    use_gpu = pick_device(device).type == "cuda"

    history = EpochHistory(out, seed, monitor)
    checkpoint = _AtomicCheckpoint(
        dirpath=out, filename=BEST_STATE_NAME.removesuffix(".ckpt"), monitor=monitor, mode=mode,
        save_top_k=1, save_last=True, save_on_train_epoch_end=True, enable_version_counter=False,
        auto_insert_metric_name=False,
    )
    stopper = EarlyStopping(monitor=monitor, mode=mode, patience=patience, check_on_train_epoch_end=True,
                            check_finite=False)
    trainer = pl.Trainer(
        max_epochs=max_epochs,
        accelerator="gpu" if use_gpu else "cpu",
        devices=1,
        logger=False,
        callbacks=[history, stopper, checkpoint],
        deterministic="warn",
        enable_progress_bar=progress,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        default_root_dir=out,
        # One process per job: do not let Lightning reinterpret SLURM's task variables of the job that
        # Snakemake submitted (it would otherwise try to act as a multi-task SLURM launcher).
        plugins=[LightningEnvironment()],
    )
    with warnings.catch_warnings(), _quiet_lightning():
        warnings.filterwarnings("ignore", message=".*does not have many workers.*")
        warnings.filterwarnings("ignore", message=".*Checkpoint directory.*exists and is not empty.*")
        # the job is one process: Lightning's hint to launch it with srun does not apply
        warnings.filterwarnings("ignore", message=".*`srun` command is available.*")
        warnings.filterwarnings("ignore", message=".*LeafSpec.*is deprecated.*")
        try:
            trainer.fit(module, train_dataloaders=train_loader, val_dataloaders=val_loader,
                        ckpt_path=ckpt_path)
        except SIGTERMException:
            # Lightning stops at the next batch and raises a SystemExit without a status, which would
            # exit 0; the job did not finish, so say so
            log.warning("stopped by SIGTERM after %d epochs; run again to resume from %s",
                        trainer.current_epoch, last)
            raise SystemExit(128 + signal.SIGTERM) from None

    _publish(out, history.rows, monitor, model=True)
    score = _scalar(checkpoint.best_model_score) if checkpoint.best_model_score is not None else math.nan
    return FitResult(out / BEST_NAME, score, int(trainer.current_epoch))
