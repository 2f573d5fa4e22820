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
from pgml.fold.labels import DSSP_CLASSES, EC_CLASSES, class_names, dssp_class, ec_class, read_label_table
from pgml.fold.params import GraphConfig, ModelConfig, SplitConfig, TrainConfig
from pgml.tables import read_tsv, write_tsv

log = logging.getLogger(__name__)

RECORD_COLUMNS = ["id", "entry", "chains", "sequence", "helix", "strand", "n_atoms", "n_residues",
                  "n_hbonds", "hbond_source", "ec"]


def build_graphs(manifest: str | Path, output: str | Path, records: str | Path, config: GraphConfig) -> int:
    """Samples of every structure listed in ``manifest`` -> ``output`` (.pt) and ``records`` (TSV).

    A manifest that is missing, empty or lists no structure with a sample is refused (no empty outputs)."""
    paths = read_manifest(manifest)
    samples: list[dict] = []
    for p in tqdm(paths, desc="fold graphs", unit="structure"):
        samples += structure_samples(p, unit=config.unit, fragment_length=config.fragment_length,
                                     hbond_source=config.hbond_source, ca_only=config.ca_only,
                                     nonstandard=config.nonstandard)
    for sample in samples:
        sample["graph"] = asdict(config)
    if not samples:
        raise InputError(f"no samples: no structure listed has a {config.unit} of at least one residue"
                         + (f" ({config.fragment_length}-residue fragments)" if config.unit == "fragment" else ""),
                         path=manifest)
    with atomic_path(output) as tmp:
        torch.save(samples, tmp)
    table = pd.DataFrame([{k: (",".join(s[k]) if k == "chains" else s[k]) for k in RECORD_COLUMNS} for s in samples],
                         columns=RECORD_COLUMNS)
    write_tsv(table, records, float_format="%.4f")
    sources = table["hbond_source"].value_counts().to_dict() if len(table) else {}
    log.info("%d samples from %d structures; H-bonds from %s", len(samples), len(paths), sources)
    return len(samples)


def read_manifest(manifest: str | Path) -> list[str]:
    """Structure paths of a shard list (one per line; blank lines and ``#`` comments skipped)."""
    manifest = Path(manifest)
    if manifest.is_dir():
        raise InputError("is a directory; give a list file with one structure path per line "
                         "(pgml fold shard writes one)", path=manifest)
    try:
        text = manifest.read_text()
    except FileNotFoundError:
        raise InputError("manifest not found", path=manifest) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot be read as a text list of structure paths ({exc})", path=manifest) from None
    paths = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not paths:
        raise InputError("the manifest lists no structure", path=manifest)
    return paths


def load_samples(paths: list[str | Path]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for p in paths:
        if not Path(p).is_file():
            raise InputError("graph file not found", path=p)
        try:
            samples = torch.load(p, weights_only=False, map_location="cpu")
        except Exception as exc:  # noqa: BLE001 - torch raises many kinds for a file that is not a .pt
            raise InputError(f"not a fold graph file from 'pgml fold build-graphs' ({type(exc).__name__})",
                             path=p) from None
        if not isinstance(samples, list) or not all(isinstance(s, dict) and "id" in s and "assign" in s
                                                    for s in samples):
            raise InputError("not a fold graph file from 'pgml fold build-graphs'", path=p)
        for s in samples:
            out[s["id"]] = s
    return out


def make_split(record_files: list[str | Path], output: str | Path, audit: str | Path, config: SplitConfig, *,
               label_table: str | Path | None = None, split_list: str | Path | None = None, seed: int = 0,
               threads: int = 1) -> pd.DataFrame:
    """Labels and train/val/test per sample; the leakage audit (training homologues per split) is
    written to ``audit`` and logged. Samples of one entry always share a split."""
    from pgml.split.identity import cluster_chains, count_train_homologues, split_by_clusters
    from pgml.split.listfile import read_split_list

    required = [c for c in RECORD_COLUMNS if c != "ec" or config.labels == "ec"]
    rec = pd.concat([read_tsv(p, required_columns=required) for p in record_files], ignore_index=True)
    if rec.empty:
        raise InputError("no samples in " + ", ".join(map(str, record_files)))
    rec["id"] = rec["id"].astype(str)
    rec["entry"] = rec["entry"].astype(str)
    published = None
    if config.method in ("homology", "protfunct"):
        from pgml.fold.labels import read_homology_lists, read_protfunct_lists

        if split_list is None:
            raise InputError(f"split method {config.method!r} needs the list directory (list)")
        published = (read_homology_lists if config.method == "homology" else read_protfunct_lists)(split_list)
        published["key"] = [_key(i) for i in published["id"]]
        rec["key"] = [_key(i) for i in rec["id"]]
        found = rec["key"].isin(set(published["key"]))
        log.info("%d of %d samples are in the published lists (%d listed)", int(found.sum()), len(rec), len(published))
        rec = rec[found].copy()
        if rec.empty:
            raise InputError("no sample id matches an id of the published lists", path=split_list)
        rec["label"] = rec["key"].map(dict(zip(published["key"], published["label"], strict=True)))
    elif config.labels == "dssp":
        rec["label"] = [dssp_class(h, e, config) for h, e in zip(rec["helix"], rec["strand"], strict=True)]
    elif config.labels == "ec":
        rec["label"] = [ec_class(e) for e in rec["ec"].fillna("").astype(str)]
        if rec["label"].nunique() < 2:
            log.warning("labels 'ec': every sample is %s; the structure files carry %s EC number",
                        rec["label"].iloc[0], "an" if rec["label"].iloc[0] == "enzyme" else "no")
    else:
        if label_table is None:
            raise InputError("labels 'table' needs a label table (id<TAB>label)")
        table = read_label_table(label_table)
        missing = [i for i in rec["id"] if i not in table]
        if missing:
            log.warning("%d samples have no label in %s and are left out: %s", len(missing), label_table,
                        ", ".join(missing[:5]))
        rec = rec[rec["id"].isin(table)].copy()
        if rec.empty:
            raise InputError(f"no sample id of the records has a label (ids look like {missing[0]!r})",
                             path=label_table)
        rec["label"] = rec["id"].map(table)
    sequences = {e: tuple(str(s) for s in g["sequence"]) for e, g in rec.groupby("entry")}
    clusters = cluster_chains(sequences, min_seq_id=config.min_seq_id, coverage=config.coverage, threads=threads)
    if published is not None:
        rec["split"] = rec["key"].map(dict(zip(published["key"], published["split"], strict=True)))
        entry_split = {e: g["split"].iloc[0] for e, g in rec.groupby("entry")}
    elif config.method == "identity":
        result = split_by_clusters(clusters, config.val_fraction, config.test_fraction, seed)
        entry_split = dict(result.assignment)
        rec["split"] = rec["entry"].map(entry_split)
    else:
        if split_list is None:
            raise InputError("split method 'list' needs a split list (id split)")
        listed = read_split_list(split_list)
        rec = rec[rec["id"].isin(listed)].copy()
        if rec.empty:
            raise InputError("no sample id of the records is in the split list", path=split_list)
        rec["split"] = rec["id"].map(listed)
        entry_split = {e: g["split"].iloc[0] for e, g in rec.groupby("entry")}
    audit_split = {e: ("test" if v.startswith("test") else v) for e, v in entry_split.items()}
    report = count_train_homologues(audit_split, {e: clusters[e] for e in audit_split})
    counts = rec.groupby(["split", "label"]).size().unstack(fill_value=0)
    text = (f"leakage audit (entries with a chain in a training cluster at {config.min_seq_id:.0%} identity): "
            f"{report.summary()}\n\nsamples per split and label:\n{counts.to_string()}\n")
    write_text(audit, text)
    log.info("%s", text)
    names = class_names(sorted(set(rec["label"].astype(str))), config.method, split_list)
    rec["label_name"] = rec["label"].astype(str).map(names)
    out = rec[["id", "entry", "label", "label_name", "split", "helix", "strand", "sequence"]]
    write_tsv(out, output, float_format="%.4f")
    return out


def _key(sample_id: str) -> str:
    """Case- and separator-insensitive id: ``1ABC.A``, ``1abc_A`` -> ``1abc_a``."""
    return str(sample_id).lower().replace(".", "_")


def _classes(split: pd.DataFrame) -> list[str]:
    labels = sorted(set(split["label"].astype(str)))
    for fixed in (DSSP_CLASSES, EC_CLASSES):
        if set(labels) <= set(fixed):
            return [c for c in fixed if c in labels] if len(labels) > 1 else labels
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
    if len(classes) < 2:
        raise InputError(f"every sample has the label {classes[0]!r}; a classifier needs two classes or more",
                         path=split_file)
    index = {c: i for i, c in enumerate(classes)}
    aug = Augment(train.coord_noise, train.scale_min, train.scale_max) if train.augment else None
    out = {}
    names = ["train", "val"] + sorted(n for n in set(split["split"]) if str(n).startswith("test"))
    for name in names:
        part = split[split["split"] == name]
        out[name] = FoldDataset([samples[i] for i in part["id"]], [index[str(c)] for c in part["label"]], model,
                                aug if name == "train" else None, seed)
    return out, classes, split


def graph_settings(samples: list[dict], path: str | Path | None = None) -> dict:
    """The build-graphs settings shared by ``samples`` (refused when the samples were built differently)."""
    settings = {json.dumps(s.get("graph"), sort_keys=True) for s in samples}
    if len(settings) > 1:
        raise InputError(f"the graph files were built with different settings: {', '.join(sorted(settings))}",
                         path=path)
    found = json.loads(settings.pop()) if settings else None
    return found or {}


def _class_names(split: pd.DataFrame, classes: list[str]) -> dict[str, str]:
    if "label_name" not in split.columns:
        return class_names(classes, "")
    names = dict(zip(split["label"].astype(str), split["label_name"].astype(str), strict=True))
    return {c: names.get(c, c) for c in classes}


def train_model(graph_files: list[str | Path], split_file: str | Path, output_dir: str | Path,
                model: ModelConfig, train: TrainConfig, *, seed: int = 0, device: str = "auto"):
    """Train one run; writes model.ckpt (with the classes, their names and the graph settings in its
    hyperparameters), last.ckpt, metrics.tsv, learning_curve.png, run.json (the resolved config, classes
    and seed) and the model card model.json (:mod:`pgml.modelcard`) beside the checkpoint."""
    from pgml.fold.data import AugmentSampler, collate
    from pgml.fold.module import FoldModule
    from pgml.modelcard import ModelCard, write_card
    from pgml.train.loop import fit
    from pgml.train.seed import seed_everything

    data, classes, split = _datasets(graph_files, split_file, model, train, seed)
    if len(data["train"]) == 0 or len(data["val"]) == 0:
        raise InputError("the split has no training or no validation samples", path=split_file)
    graph = graph_settings(data["train"].samples + data["val"].samples, path=graph_files[0])
    names = _class_names(split, classes)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "run.json", json.dumps({"seed": seed, "classes": classes, "model": asdict(model),
                                             "train": asdict(train)}, indent=1) + "\n")
    seed_everything(seed)
    module = FoldModule(len(classes), asdict(model), asdict(train), classes=classes, class_names=names, graph=graph)
    loader = torch.utils.data.DataLoader(data["train"], batch_size=train.batch_size, collate_fn=collate,
                                         sampler=AugmentSampler(len(data["train"]), seed=seed))
    val = torch.utils.data.DataLoader(data["val"], batch_size=train.batch_size, collate_fn=collate)
    log.info("%d train / %d val samples, classes %s", len(data["train"]), len(data["val"]), classes)
    result = fit(module, loader, val, out, max_epochs=train.epochs, monitor="val_acc", mode="max",
                 patience=train.patience, seed=seed, device=device)
    ytr, yval = np.asarray(data["train"].labels), np.asarray(data["val"].labels)
    majority = int(np.bincount(ytr, minlength=len(classes)).argmax())
    counts = split.groupby("split").size().to_dict()
    card = ModelCard(
        chain="fold",
        inputs={**graph, "representation": model.representation, "neighbourhood": model.neighbourhood,
                "radii": list(model.radii), "classes": classes, "class_names": names},
        training={"graphs": [str(p) for p in graph_files], "split": str(split_file),
                  "samples_per_split": {str(k): int(v) for k, v in counts.items()}, "epochs_run": result.epochs_run,
                  "model": asdict(model), "train": asdict(train)},
        seed=seed,
        metrics={"val_accuracy": float(result.best_score), "val_majority_class_accuracy":
                 float(np.mean(yval == majority)), "baseline": "majority class of the training samples"},
    )
    write_card(out / "model.ckpt", card)
    return result


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


def evaluate(graph_files: list[str | Path], split_file: str | Path, run_dirs: list[str | Path],
             output_dir: str | Path, *, seed: int = 0, threads: int = 1) -> pd.DataFrame:
    """Accuracy on every test set (``test``, or ``test_fold``/``test_superfamily``/``test_family``) of
    every run (mean ± sd) beside three baselines of the same run (:mod:`pgml.fold.baselines`): the
    majority class, a logistic regression on composition + SS fractions, and the label of the nearest
    training sequence (MMseqs2). Writes metrics.tsv, predictions.tsv, confusion.png (all test sets
    together), summary.txt (saying plainly whether the network beats the best baseline)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import confusion_matrix

    from pgml.fold.baselines import composition_features, nearest_neighbour_labels
    from pgml.plots import figure, save_figure

    for d in run_dirs:
        for name in ("run.json", "model.ckpt"):
            if not (Path(d) / name).is_file():
                raise InputError(f"not a finished 'pgml fold train' run: no {name}", path=d)
    run0 = json.loads((Path(run_dirs[0]) / "run.json").read_text())
    model = ModelConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in run0["model"].items()})
    train = TrainConfig(**run0["train"])
    data, classes, split = _datasets(graph_files, split_file, model, train, seed)
    test_sets = [n for n in data if n.startswith("test") and len(data[n])]
    if not test_sets:
        raise InputError("the split has no test samples", path=split_file)
    trn = split[split["split"] == "train"]
    ytr = np.asarray(data["train"].labels)
    majority = np.bincount(ytr, minlength=len(classes)).argmax()
    xtr = composition_features(list(trn["sequence"].astype(str)), trn["helix"].to_numpy(), trn["strand"].to_numpy())
    clf = LogisticRegression(max_iter=2000, random_state=seed).fit(xtr, ytr) if len(set(ytr)) > 1 else None
    train_seqs = dict(zip(trn["id"], trn["sequence"].fillna("").astype(str), strict=True))
    train_labels = dict(zip(trn["id"], trn["label"].astype(str), strict=True))
    index = {c: i for i, c in enumerate(classes)}
    models = [Path(d) / "model.ckpt" for d in run_dirs]
    rows, pred_frames, lines = [], [], []
    all_y, all_pred = [], []
    for name in test_sets:
        test = split[split["split"] == name]
        y = np.asarray(data[name].labels)
        probs_all = [predict(m, data[name]) for m in models]
        accs = [float((p.argmax(1) == y).mean()) for p in probs_all]
        probs = np.mean(probs_all, axis=0)
        pred = probs.argmax(1)
        acc_major = float((y == majority).mean())
        xte = composition_features(list(test["sequence"].astype(str)), test["helix"].to_numpy(),
                                   test["strand"].to_numpy())
        acc_lr = float((clf.predict(xte) == y).mean()) if clf is not None else acc_major
        nn = nearest_neighbour_labels(dict(zip(test["id"], test["sequence"].fillna("").astype(str), strict=True)),
                                      train_seqs, train_labels, classes[majority], threads=threads)
        pred_nn = np.asarray([index[nn.labels[i]] for i in test["id"]])
        acc_nn = float((pred_nn == y).mean())
        mean, sd = float(np.mean(accs)), (float(np.std(accs, ddof=1)) if len(accs) > 1 else 0.0)
        best = max(acc_major, acc_lr, acc_nn)
        base = {"sd": 0.0, "runs": 1, "n_test": len(y), "beats_baselines": "", "no_hit": ""}
        rows += [
            {"test_set": name, "method": "ieconv", "accuracy": mean, "sd": sd, "runs": len(accs), "n_test": len(y),
             "beats_baselines": mean > best, "no_hit": ""},
            {**base, "test_set": name, "method": "majority_class", "accuracy": acc_major},
            {**base, "test_set": name, "method": "composition_ss_logreg", "accuracy": acc_lr},
            {**base, "test_set": name, "method": "mmseqs2_nearest_neighbour", "accuracy": acc_nn,
             "no_hit": nn.n_without_hit},
        ]
        verdict = "beats every baseline" if mean > best else f"does NOT beat the best baseline ({best:.3f})"
        lines.append(f"{name}: accuracy over {len(accs)} run(s) {mean:.3f} ± {sd:.3f}; majority class "
                     f"{acc_major:.3f}; composition + SS logistic regression {acc_lr:.3f}; MMseqs2 nearest "
                     f"training neighbour {acc_nn:.3f} ({nn.n_without_hit} of {len(y)} without a hit); "
                     f"the model {verdict}")
        frame = pd.DataFrame({"id": test["id"].to_numpy(), "test_set": name, "label": [classes[i] for i in y],
                              "predicted": [classes[i] for i in pred],
                              "nearest_neighbour": [classes[i] for i in pred_nn]})
        for j, c in enumerate(classes):
            frame[f"p_{c}"] = probs[:, j]
        pred_frames.append(frame)
        all_y.append(y)
        all_pred.append(pred)
    metrics = pd.DataFrame(rows)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_tsv(metrics, out / "metrics.tsv", float_format="%.4f")
    write_tsv(pd.concat(pred_frames, ignore_index=True), out / "predictions.tsv", float_format="%.4f")
    _plot_confusion(confusion_matrix(np.concatenate(all_y), np.concatenate(all_pred), labels=list(range(len(classes)))),
                    classes, out / "confusion.png", figure, save_figure)
    text = "\n".join(lines) + "\n"
    write_text(out / "summary.txt", text)
    log.info("%s", text.strip())
    return metrics


def _plot_confusion(cm: np.ndarray, classes: list[str], path: Path, figure, save_figure) -> None:
    many = len(classes) > 12
    fig, ax = figure(figsize=(4.5, 4) if not many else (8, 7))
    ax.imshow(cm, cmap="Blues")
    if not many:
        ax.set_xticks(range(len(classes)), classes, rotation=30, ha="right")
        ax.set_yticks(range(len(classes)), classes)
        for i in range(len(classes)):
            for j in range(len(classes)):
                ax.text(j, i, str(cm[i, j]), ha="center", va="center")
    ax.set_xlabel("predicted")
    ax.set_ylabel("label")
    acc = np.trace(cm) / max(cm.sum(), 1)
    ax.set_title(f"IEConv, all test samples: accuracy {acc:.2f}")
    save_figure(fig, path)
