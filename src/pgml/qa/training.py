"""Train EnQA on the models of the training targets (``pgml qa train``) through :func:`pgml.train.loop.fit`."""

from __future__ import annotations

import logging
from pathlib import Path

from pgml.errors import InputError
from pgml.qa.params import CHAPTER, TrainConfig

log = logging.getLogger(__name__)


#: what every Data of ``pgml qa build-graphs`` carries
SAMPLE_KEYS = ("x", "pair", "pos", "edge_index", "edge_attr", "sh2d", "y", "err_bin", "err", "target", "model")


def load_samples(graph_files: list[Path]) -> list:
    """Every Data of the ``.pt`` files written by ``pgml qa build-graphs``; refuses other files and
    files built with other feature settings than the first (their channels would not line up)."""
    import pickle

    import torch

    samples: list = []
    for path in graph_files:
        if Path(path).is_dir():
            raise InputError("is a directory; give the .pt files of `pgml qa build-graphs`", path=path)
        try:
            loaded = torch.load(path, weights_only=False)
        except (OSError, RuntimeError, EOFError, pickle.UnpicklingError, AttributeError, ModuleNotFoundError,
                UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"not a graph file of `pgml qa build-graphs` ({exc})", path=path) from None
        if not isinstance(loaded, list) or not loaded:
            raise InputError(f"not a graph file of `pgml qa build-graphs` (holds {type(loaded).__name__}"
                             f"{' (empty)' if isinstance(loaded, list) else ''}, not a list of model graphs)",
                             path=path)
        for k, sample in enumerate(loaded):
            missing = [key for key in SAMPLE_KEYS if not hasattr(sample, key)]
            if missing:
                raise InputError(f"not a qa model graph of this pgml (no {', '.join(missing)}); build it with "
                                 "`pgml qa build-graphs`", path=path, record=f"item {k}")
        if samples and (loaded[0].x.size(1), loaded[0].pair.size(0), loaded[0].edge_attr.size(1)) != (
                samples[0].x.size(1), samples[0].pair.size(0), samples[0].edge_attr.size(1)):
            raise InputError("built with other feature settings (number of references, harmonic degree) than "
                             f"{graph_files[0]}; build all graph files with the same settings", path=path)
        samples += loaded
    return samples


def read_split(path: Path) -> dict[str, str]:
    """:func:`pgml.split.read_split_table`, refusing a binary file with one line."""
    from pgml.split import read_split_table

    try:
        return read_split_table(path)
    except UnicodeDecodeError:
        raise InputError("not a text split table (binary content)", path=path) from None


def samples_of(samples: list, split: dict[str, str], subset: str) -> list:
    return [s for s in samples if split.get(s.target) == subset]


#: settings every graph of one training run must share (their channels or geometry differ otherwise)
SHARED_SETTINGS = ("n_references", "graph_radius", "sh_degree")


def training_settings(samples: list, source: Path) -> dict:
    """The feature settings of the training graphs: the shared ones, and ``distogram`` true, false or
    ``"mixed"`` (some targets with distograms, some without)."""
    settings = [getattr(s, "feature_settings", None) for s in samples]
    if any(v is None for v in settings):
        raise InputError("graph files without feature settings (built by an older pgml); rebuild them with "
                         "`pgml qa build-graphs`", path=source)
    first = settings[0]
    for sample, value in zip(samples, settings, strict=True):
        for key in SHARED_SETTINGS:
            if value[key] != first[key]:
                raise InputError(f"{sample.target}/{sample.model} was built with {key}={value[key]}, others with "
                                 f"{first[key]}; build all graphs with the same settings", path=source, record=key)
    distogram = {bool(v["distogram"]) for v in settings}
    formats = sorted({v["reference_format"] for v in settings})
    return {**{key: first[key] for key in SHARED_SETTINGS}, "reference_format": formats[0] if len(formats) == 1
            else "auto", "distogram": distogram.pop() if len(distogram) == 1 else "mixed"}


def validation_metrics(checkpoint: Path, samples: list) -> dict:
    """EnQA and AF2Consensus on the validation models (per-residue r per model averaged, per-model r,
    ranking loss), for the model card: the model's figures with the same-run baseline beside them."""
    from pgml.qa.evaluate import evaluate
    from pgml.qa.predict import load_module, predict_samples

    residues, models = predict_samples(load_module(checkpoint, "cpu"), samples)
    table = evaluate(residues, models).set_index("method")
    keep = ("residue_pearson", "residue_mae", "model_pearson", "ranking_loss_lddt")
    return {"subset": "validation", "models": len(models),
            **{method: {k: float(table.loc[method, k]) for k in keep} for method in ("enqa", "af2_consensus", "af2_plddt")},
            "enqa_beats_af2_consensus": table.loc["enqa", "enqa_beats_af2_consensus"],
            "enqa_beats_af2_plddt": table.loc["enqa", "enqa_beats_af2_plddt"]}


def train_model(graph_files: list[Path], split: Path, output_dir: Path, config: TrainConfig, device: str = "auto"):  # noqa: ANN201
    """Fit one model; returns :class:`pgml.train.loop.FitResult`."""
    import torch

    from pgml.qa.module import QAModule, first
    from pgml.train.loop import EpochShuffleSampler, fit
    from pgml.train.seed import seed_everything

    assignment = read_split(split)
    samples = load_samples(graph_files)
    train, val = samples_of(samples, assignment, "train"), samples_of(samples, assignment, "val")
    if not train or not val:
        raise InputError(f"{len(train)} training and {len(val)} validation models; need both", path=split)
    unlabelled = [f"{s.target}/{s.model}" for s in train + val if torch.isnan(s.y).all()]
    if unlabelled:
        raise InputError(f"models without a native (no labels): {', '.join(unlabelled[:5])}", path=split)
    log.info("%d training and %d validation models", len(train), len(val))
    settings = training_settings(train + val, graph_files[0])
    seed_everything(config.seed)
    module = QAModule(train[0].x.size(1), train[0].pair.size(0), train[0].edge_attr.size(1),
                      architecture=config.architecture, hidden=config.hidden, resnet_blocks=config.resnet_blocks,
                      resnet_channels=config.resnet_channels, egnn_layers=config.egnn_layers,
                      lddt_weight=config.lddt_weight, optimizer=config.optimizer, lr=config.lr,
                      weight_decay=config.weight_decay, features=settings)
    loader = torch.utils.data.DataLoader
    train_loader = loader(train, batch_size=1, sampler=EpochShuffleSampler(len(train), seed=config.seed),
                          collate_fn=first)
    val_loader = loader(val, batch_size=1, shuffle=False, collate_fn=first)
    result = fit(module, train_loader, val_loader, output_dir, max_epochs=config.epochs, monitor="val_loss",
                 mode="min", patience=config.patience, seed=config.seed, device=device)
    write_model_card(output_dir, settings, config, assignment, train, val, split, graph_files, result)
    return result


def write_model_card(output_dir: Path, settings: dict, config: TrainConfig, assignment: dict[str, str],
                     train: list, val: list, split: Path, graph_files: list[Path], result) -> Path:  # noqa: ANN001
    """``model.json`` beside ``model.ckpt`` (:mod:`pgml.modelcard`)."""
    from dataclasses import asdict

    from pgml.modelcard import ModelCard, write_card

    counts = {name: sum(1 for v in assignment.values() if v == name) for name in ("train", "val", "test")}
    card = ModelCard(
        chain="qa",
        inputs={"kind": "model structures + AlphaFold/ColabFold/ESMFold references", "variant": CHAPTER, **settings,
                "node_dim": train[0].x.size(1), "pair_dim": train[0].pair.size(0),
                "edge_dim": train[0].edge_attr.size(1)},
        training={"graphs": [str(g) for g in graph_files], "split": str(split), "targets": counts,
                  "models": {"train": len(train), "val": len(val)}, "hyperparameters": asdict(config),
                  "best_val_loss": result.best_score, "epochs_run": result.epochs_run},
        seed=config.seed, metrics=validation_metrics(result.best_path, val))
    return write_card(result.best_path, card)
