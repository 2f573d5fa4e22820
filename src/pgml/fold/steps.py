"""The library functions behind ``pgml fold <step>``: build graphs, split, train, evaluate."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from pgml.errors import InputError
from pgml.fileio import atomic_path, write_text
from pgml.fold.graph import structure_samples
from pgml.fold.labels import DSSP_CLASSES, dssp_class, read_label_table
from pgml.fold.params import GraphConfig, ModelConfig, SplitConfig, TrainConfig
from pgml.tables import read_tsv, write_tsv

log = logging.getLogger(__name__)

RECORD_COLUMNS = ["id", "entry", "chains", "sequence", "helix", "strand", "n_atoms", "n_residues",
                  "n_hbonds", "hbond_source"]


def build_graphs(manifest: str | Path, output: str | Path, records: str | Path, config: GraphConfig) -> int:
    """Samples of every structure listed in ``manifest`` -> ``output`` (.pt) and ``records`` (TSV)."""
    paths = [line.strip() for line in Path(manifest).read_text().splitlines() if line.strip()]
    samples: list[dict] = []
    for p in tqdm(paths, desc="fold graphs", unit="structure"):
        samples += structure_samples(p, unit=config.unit, fragment_length=config.fragment_length,
                                     hbond_source=config.hbond_source, ca_only=config.ca_only,
                                     nonstandard=config.nonstandard)
    with atomic_path(output) as tmp:
        torch.save(samples, tmp)
    table = pd.DataFrame([{k: (",".join(s[k]) if k == "chains" else s[k]) for k in RECORD_COLUMNS} for s in samples],
                         columns=RECORD_COLUMNS)
    write_tsv(table, records, float_format="%.4f")
    sources = table["hbond_source"].value_counts().to_dict() if len(table) else {}
    log.info("%d samples from %d structures; H-bonds from %s", len(samples), len(paths), sources)
    return len(samples)


def load_samples(paths: list[str | Path]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for p in paths:
        for s in torch.load(p, weights_only=False):
            out[s["id"]] = s
    return out


def make_split(record_files: list[str | Path], output: str | Path, audit: str | Path, config: SplitConfig, *,
               label_table: str | Path | None = None, split_list: str | Path | None = None, seed: int = 0,
               threads: int = 1) -> pd.DataFrame:
    """Labels and train/val/test per sample; the leakage audit (training homologues per split) is
    written to ``audit`` and logged. Samples of one entry always share a split."""
    from pgml.split.identity import cluster_chains, count_train_homologues, split_by_clusters
    from pgml.split.listfile import read_split_list

    rec = pd.concat([read_tsv(p, required_columns=RECORD_COLUMNS) for p in record_files], ignore_index=True)
    if rec.empty:
        raise InputError("no samples in " + ", ".join(map(str, record_files)))
    rec["id"] = rec["id"].astype(str)
    rec["entry"] = rec["entry"].astype(str)
    if config.labels == "dssp":
        rec["label"] = [dssp_class(h, e, config) for h, e in zip(rec["helix"], rec["strand"], strict=True)]
    else:
        if label_table is None:
            raise InputError("labels 'table' needs a label table (id<TAB>label)")
        table = read_label_table(label_table)
        missing = [i for i in rec["id"] if i not in table]
        if missing:
            log.warning("%d samples have no label in %s and are left out: %s", len(missing), label_table,
                        ", ".join(missing[:5]))
        rec = rec[rec["id"].isin(table)].copy()
        rec["label"] = rec["id"].map(table)
    sequences = {e: tuple(str(s) for s in g["sequence"]) for e, g in rec.groupby("entry")}
    clusters = cluster_chains(sequences, min_seq_id=config.min_seq_id, coverage=config.coverage, threads=threads)
    if config.method == "identity":
        result = split_by_clusters(clusters, config.val_fraction, config.test_fraction, seed)
        entry_split = dict(result.assignment)
        rec["split"] = rec["entry"].map(entry_split)
    else:
        if split_list is None:
            raise InputError("split method 'list' needs a split list (id split)")
        listed = read_split_list(split_list)
        rec = rec[rec["id"].isin(listed)].copy()
        rec["split"] = rec["id"].map(listed)
        entry_split = {e: g["split"].iloc[0] for e, g in rec.groupby("entry")}
    report = count_train_homologues(entry_split, {e: clusters[e] for e in entry_split})
    counts = rec.groupby(["split", "label"]).size().unstack(fill_value=0)
    text = (f"leakage audit (entries with a chain in a training cluster at {config.min_seq_id:.0%} identity): "
            f"{report.summary()}\n\nsamples per split and label:\n{counts.to_string()}\n")
    write_text(audit, text)
    log.info("%s", text)
    out = rec[["id", "entry", "label", "split", "helix", "strand", "sequence"]]
    write_tsv(out, output, float_format="%.4f")
    return out


def _classes(split: pd.DataFrame) -> list[str]:
    labels = sorted(set(split["label"].astype(str)))
    if set(labels) <= set(DSSP_CLASSES):
        return [c for c in DSSP_CLASSES if c in labels] if len(labels) > 1 else labels
    return labels


def _datasets(graph_files, split_file, model: ModelConfig, train: TrainConfig, seed: int):
    from pgml.fold.data import Augment, FoldDataset

    split = read_tsv(split_file, required_columns=["id", "label", "split"])
    split["id"] = split["id"].astype(str)
    samples = load_samples(graph_files)
    missing = [i for i in split["id"] if i not in samples]
    if missing:
        raise InputError(f"{len(missing)} ids of the split have no graph: {', '.join(missing[:5])}", path=split_file)
    classes = _classes(split)
    index = {c: i for i, c in enumerate(classes)}
    aug = Augment(train.coord_noise, train.scale_min, train.scale_max) if train.augment else None
    out = {}
    for name in ("train", "val", "test"):
        part = split[split["split"] == name]
        out[name] = FoldDataset([samples[i] for i in part["id"]], [index[str(c)] for c in part["label"]], model,
                                aug if name == "train" else None, seed)
    return out, classes, split


def train_model(graph_files: list[str | Path], split_file: str | Path, output_dir: str | Path,
                model: ModelConfig, train: TrainConfig, *, seed: int = 0, device: str = "auto"):
    """Train one run; writes model.ckpt, last.ckpt, metrics.tsv, learning_curve.png and run.json
    (the resolved config, classes and seed) beside the checkpoint."""
    from pgml.fold.data import AugmentSampler, collate
    from pgml.fold.module import FoldModule
    from pgml.train.loop import fit
    from pgml.train.seed import seed_everything

    data, classes, _ = _datasets(graph_files, split_file, model, train, seed)
    if len(data["train"]) == 0 or len(data["val"]) == 0:
        raise InputError("the split has no training or no validation samples", path=split_file)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "run.json", json.dumps({"seed": seed, "classes": classes, "model": asdict(model),
                                             "train": asdict(train)}, indent=1) + "\n")
    seed_everything(seed)
    module = FoldModule(len(classes), asdict(model), asdict(train))
    loader = torch.utils.data.DataLoader(data["train"], batch_size=train.batch_size, collate_fn=collate,
                                         sampler=AugmentSampler(len(data["train"]), seed=seed))
    val = torch.utils.data.DataLoader(data["val"], batch_size=train.batch_size, collate_fn=collate)
    log.info("%d train / %d val samples, classes %s", len(data["train"]), len(data["val"]), classes)
    return fit(module, loader, val, out, max_epochs=train.epochs, monitor="val_acc", mode="max",
               patience=train.patience, seed=seed, device=device)


def predict(checkpoint: str | Path, dataset, device: str = "cpu") -> np.ndarray:
    """Class probabilities (n, classes) of a dataset."""
    from pgml.fold.data import collate
    from pgml.fold.module import FoldModule

    module = FoldModule.load_from_checkpoint(str(checkpoint), map_location=device)
    module.eval()
    loader = torch.utils.data.DataLoader(dataset, batch_size=8, collate_fn=collate)
    probs = []
    with torch.no_grad():
        for batch in loader:
            probs.append(torch.softmax(module(batch), dim=1).numpy())
    return np.concatenate(probs) if probs else np.zeros((0, 0))


def composition_features(sequences: list[str], helix: np.ndarray, strand: np.ndarray) -> np.ndarray:
    """Amino-acid composition (20) + DSSP helix, strand and coil fractions."""
    aa = "ACDEFGHIKLMNPQRSTVWY"
    comp = np.asarray([[s.count(a) / max(len(s), 1) for a in aa] for s in sequences])
    return np.c_[comp, helix, strand, 1 - helix - strand]


def evaluate(graph_files: list[str | Path], split_file: str | Path, run_dirs: list[str | Path],
             output_dir: str | Path, *, seed: int = 0) -> pd.DataFrame:
    """Test accuracy of every run (mean ± sd), the majority class and a logistic regression on
    composition + SS fractions; writes metrics.tsv, predictions.tsv, confusion.png, summary.txt."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import confusion_matrix

    from pgml.plots import figure, save_figure

    run0 = json.loads((Path(run_dirs[0]) / "run.json").read_text())
    model = ModelConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in run0["model"].items()})
    train = TrainConfig(**run0["train"])
    data, classes, split = _datasets(graph_files, split_file, model, train, seed)
    test = split[split["split"] == "test"]
    trn = split[split["split"] == "train"]
    y = np.asarray(data["test"].labels)
    if len(y) == 0:
        raise InputError("the split has no test samples", path=split_file)
    accs, probs_all = [], []
    for d in run_dirs:
        p = predict(Path(d) / "model.ckpt", data["test"])
        probs_all.append(p)
        accs.append(float((p.argmax(1) == y).mean()))
    probs = np.mean(probs_all, axis=0)
    pred = probs.argmax(1)
    ytr = np.asarray(data["train"].labels)
    majority = np.bincount(ytr, minlength=len(classes)).argmax()
    acc_major = float((y == majority).mean())
    xtr = composition_features(list(trn["sequence"].astype(str)), trn["helix"].to_numpy(), trn["strand"].to_numpy())
    xte = composition_features(list(test["sequence"].astype(str)), test["helix"].to_numpy(), test["strand"].to_numpy())
    if len(set(ytr)) > 1:
        clf = LogisticRegression(max_iter=2000, random_state=seed).fit(xtr, ytr)
        acc_lr = float((clf.predict(xte) == y).mean())
    else:
        acc_lr = acc_major
    mean, sd = float(np.mean(accs)), float(np.std(accs, ddof=1)) if len(accs) > 1 else 0.0
    metrics = pd.DataFrame([
        {"method": "ieconv", "accuracy": mean, "sd": sd, "runs": len(accs), "n_test": len(y)},
        {"method": "majority_class", "accuracy": acc_major, "sd": 0.0, "runs": 1, "n_test": len(y)},
        {"method": "composition_ss_logreg", "accuracy": acc_lr, "sd": 0.0, "runs": 1, "n_test": len(y)},
    ])
    best_base = max(acc_major, acc_lr)
    metrics["beats_baselines"] = [mean > best_base, "", ""]
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_tsv(metrics, out / "metrics.tsv", float_format="%.4f")
    preds = pd.DataFrame({"id": test["id"].to_numpy(), "label": [classes[i] for i in y],
                          "predicted": [classes[i] for i in pred]})
    for j, c in enumerate(classes):
        preds[f"p_{c}"] = probs[:, j]
    write_tsv(preds, out / "predictions.tsv", float_format="%.4f")
    cm = confusion_matrix(y, pred, labels=list(range(len(classes))))
    fig, ax = figure(figsize=(4.5, 4))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=30, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center")
    ax.set_xlabel("predicted")
    ax.set_ylabel("DSSP / given label")
    ax.set_title(f"IEConv test accuracy {mean:.2f}")
    save_figure(fig, out / "confusion.png")
    verdict = ("beats both baselines" if mean > best_base else
               f"does NOT beat the best baseline ({best_base:.3f})")
    text = (f"test accuracy over {len(accs)} run(s): {mean:.3f} ± {sd:.3f}; majority class {acc_major:.3f}; "
            f"composition + SS logistic regression {acc_lr:.3f}; the model {verdict}\n")
    write_text(out / "summary.txt", text)
    log.info("%s", text.strip())
    return metrics
