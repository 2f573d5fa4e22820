"""Training one DeepGRN model per TF across its training cell types (section 2.2.4 of [deepgrn]).

Training chromosomes are all chosen ones except the validation and test chromosomes (challenge split:
validate on chr11, test on chr1, chr8, chr21). Every epoch sees all B windows of the training cell
types plus a fresh sample of U windows (``negative_ratio`` per positive); A and blacklisted bins are
never used. Adam + binary cross-entropy, early stop when the validation auPRC of the ensemble has not
improved for ``patience`` epochs, all through :func:`pgml.train.loop.fit` (checkpoints, resume).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from pgml.errors import InputError
from pgml.fileio import write_text
from pgml.modelcard import ModelCard, write_card
from pgml.tfbs.annotate import load_annotation
from pgml.tfbs.bins import BinSet
from pgml.tfbs.expression import read_pca
from pgml.tfbs.labels import Labels
from pgml.tfbs.model import TfbsModule
from pgml.tfbs.params import LABEL_BOUND, ModelConfig, TrainConfig
from pgml.tfbs.windows import EpochNegativeSampler, TfbsWindows, WindowSource, candidate_keys, validation_keys

log = logging.getLogger(__name__)


def check_chrom_list(chroms: list[str], known: list[str], option: str, *, path: object | None = None) -> None:
    """Refuse a chromosome of ``chroms`` that is not in ``known`` (naming ``option``, the value and the
    closest known name: ``Chr8`` -> ``chr8``) or that is listed twice."""
    import difflib

    for chrom in chroms:
        if chrom not in known:
            lower = {k.lower(): k for k in known}
            near = lower.get(chrom.lower()) or next(iter(difflib.get_close_matches(chrom, known, n=1)), None)
            hint = f" (did you mean {near}?)" if near else ""
            shown = ", ".join(known[:8]) + (" ..." if len(known) > 8 else "")
            raise InputError(f"{option}: {chrom} is not among the chromosomes of the bins ({shown}){hint}",
                             path=path)
    twice = [c for c in dict.fromkeys(chroms) if chroms.count(c) > 1]
    if twice:
        raise InputError(f"{option}: {twice[0]} is listed twice", path=path)


def split_chroms(bins: BinSet, valid: list[str], test: list[str], *, path: object | None = None
                 ) -> tuple[list[str], list[str], list[str]]:
    """(training, validation, test) chromosomes of ``bins``: every validation and test chromosome must be
    one of the bins (a typo would silently move it into training) and none may be in both lists."""
    check_chrom_list(valid, bins.chroms, "--valid-chroms", path=path)
    check_chrom_list(test, bins.chroms, "--test-chroms", path=path)
    both = [c for c in valid if c in test]
    if both:
        raise InputError(f"{both[0]} is in both --valid-chroms and --test-chroms; a chromosome belongs to one "
                         "split", path=path)
    train = [c for c in bins.chroms if c not in valid and c not in test]
    if not train or not valid:
        raise InputError(f"the split leaves no training or no validation chromosome among {', '.join(bins.chroms)}")
    return train, valid, test


def build_dataset(bins: BinSet, labels: Labels | None, cells: list[str], annotation_path: Path, pca_path: Path,
                  source: WindowSource) -> TfbsWindows:
    """Windows of ``cells`` (each needs a DNase track and expression components)."""
    missing = [c for c in cells if c not in source.dnase]
    if missing:
        raise InputError(f"no DNase track for cell type(s) {', '.join(missing)} (give --dnase CELL=FILE.bw)")
    twice = [c for c in dict.fromkeys(cells) if cells.count(c) > 1]
    if twice:
        raise InputError(f"cell type {twice[0]} is given twice")
    source.check(bins, cells)
    pca = read_pca(pca_path, cells).loc[cells].to_numpy()
    lab = None
    if labels is not None:
        unknown = [c for c in cells if c not in labels.cells]
        if unknown:
            raise InputError(f"no labels for cell type(s) {', '.join(unknown)} of TF {labels.tf}")
        cols = [labels.cells.index(c) for c in cells]
        lab = {c: labels.matrix[c][:, cols] for c in bins.chroms}
    return TfbsWindows(source, bins, cells, load_annotation(annotation_path), pca, lab)


def train_tf(bins: BinSet, labels: Labels, cells: list[str], annotation_path: Path, pca_path: Path,
             source: WindowSource, output_dir: Path, *, valid: list[str], test: list[str],
             model_config: ModelConfig, train_config: TrainConfig, seed: int, device: str = "auto") -> float:
    """Train; writes model.ckpt, last.ckpt, metrics.tsv, learning_curve.png and setup.json in ``output_dir``."""
    from pgml.train.loop import fit
    from pgml.train.seed import seed_everything

    train, val, _ = split_chroms(bins, valid, test)
    data = build_dataset(bins, labels, cells, annotation_path, pca_path, source)
    idx = list(range(len(cells)))
    pos = candidate_keys(data, train, idx, LABEL_BOUND)
    sampler = EpochNegativeSampler(data, pos, train, idx, train_config.negative_ratio, seed=seed)
    vkeys = validation_keys(data, val, idx, train_config.max_valid_windows, seed=seed)
    if not (data.label_of(vkeys) == LABEL_BOUND).any():
        raise InputError(f"no bound (B) bin of TF {labels.tf} on the validation chromosomes {', '.join(val)}")
    log.info("TF %s: %d cell types, training %s (%d positives + %d negatives per epoch), validation %s (%d windows)",
             labels.tf, len(cells), ",".join(train), pos.size, sampler.n_neg, ",".join(val), vkeys.size)
    train_loader = torch.utils.data.DataLoader(data, batch_size=train_config.batch_size, sampler=sampler)
    val_loader = torch.utils.data.DataLoader(data, batch_size=4 * train_config.batch_size, sampler=vkeys.tolist())
    seed_everything(seed)  # the initial weights come from the seed too
    module = TfbsModule(source.length, asdict(model_config), train_config.lr)
    output_dir.mkdir(parents=True, exist_ok=True)
    write_text(output_dir / "setup.json", json.dumps({
        "tf": labels.tf, "cells": cells, "train_chroms": train, "valid_chroms": val, "test_chroms": test,
        "flank": source.flank, "model": asdict(model_config), "train": asdict(train_config), "seed": seed,
        "positives": int(pos.size), "valid_windows": int(vkeys.size),
        "valid_positive_rate": float(np.mean(data.label_of(vkeys) == LABEL_BOUND))}, indent=2) + "\n")
    result = fit(module, train_loader, val_loader, output_dir, max_epochs=train_config.epochs,
                 monitor="val_auprc", mode="max", patience=train_config.patience, seed=seed, device=device)
    log.info("TF %s: best validation auPRC %.3f after %d epochs", labels.tf, result.best_score, result.epochs_run)
    baseline = dnase_baseline_auprc(data, vkeys)
    if not result.best_score > baseline:
        log.warning("TF %s: the model's validation auPRC %.3f does not beat the DNase-max baseline's %.3f",
                    labels.tf, result.best_score, baseline)
    write_card(output_dir / "model.ckpt", ModelCard(
        chain="tfbs",
        inputs=card_inputs(source, pca_path, model_config),
        training={"tf": labels.tf, "cells": list(cells), "train_chroms": train, "valid_chroms": val,
                  "test_chroms": list(test), "positives": int(pos.size), "valid_windows": int(vkeys.size),
                  "epochs_run": result.epochs_run, "train": asdict(train_config)},
        seed=seed,
        metrics={"valid_auprc": result.best_score, "valid_auprc_dnase_max": baseline,
                 "valid_positive_rate": float(np.mean(data.label_of(vkeys) == LABEL_BOUND)),
                 "beats_baseline": bool(result.best_score > baseline)}))
    return result.best_score


def card_inputs(source: WindowSource, pca_path: Path, model_config: ModelConfig | None = None) -> dict:
    """The feature settings a model needs from its inputs (the model card's ``inputs``; ``predict`` compares)."""
    from pgml.tfbs.expression import pca_basis_id
    from pgml.tfbs.params import ANNOTATIONS, BIN_SIZE, BIN_STEP, N_PCS

    inputs = {"flank": source.flank, "window_length": source.length, "bin_size": BIN_SIZE, "bin_step": BIN_STEP,
              "sequential": ["A", "C", "G", "T", "mappability", "dnase"], "annotations": list(ANNOTATIONS),
              "n_pcs": N_PCS, "pca_basis": pca_basis_id(pca_path)}
    if model_config is not None:
        inputs["model"] = asdict(model_config)
    return inputs


def dnase_baseline_auprc(data: TfbsWindows, keys: np.ndarray) -> float:
    """auPRC of the DNase-max baseline (the bin's maximal DNase coverage) on the windows ``keys``."""
    from pgml.metrics import aupr
    from pgml.tfbs.baselines import dnase_bin_max

    chrom, b, cell = data.decode(keys)
    score = np.zeros(keys.size, dtype=np.float32)
    for k in np.unique(chrom):
        name = data.bins.chroms[k]
        for j in np.unique(cell[chrom == k]):
            sel = (chrom == k) & (cell == j)
            track = dnase_bin_max(str(data.source.dnase[data.cells[j]]), name, data.bins.sizes[k], data.bins.count(name))
            score[sel] = track[b[sel]]
    y = data.label_of(keys) == LABEL_BOUND
    return float(aupr(y, score)) if y.any() else float("nan")
