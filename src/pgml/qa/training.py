"""Train EnQA on the models of the training targets (``pgml qa train``) through :func:`pgml.train.loop.fit`."""

from __future__ import annotations

import logging
from pathlib import Path

from pgml.errors import InputError
from pgml.qa.params import TrainConfig

log = logging.getLogger(__name__)


#: what every Data of ``pgml qa build-graphs`` carries
SAMPLE_KEYS = ("x", "pair", "pos", "edge_index", "edge_attr", "y", "err_bin", "target", "model")


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
                raise InputError(f"not a qa model graph (no {', '.join(missing)})", path=path, record=f"item {k}")
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
    seed_everything(config.seed)
    module = QAModule(train[0].x.size(1), train[0].pair.size(0), train[0].edge_attr.size(1),
                      architecture=config.architecture, hidden=config.hidden, resnet_blocks=config.resnet_blocks,
                      resnet_channels=config.resnet_channels, egnn_layers=config.egnn_layers,
                      lddt_weight=config.lddt_weight, optimizer=config.optimizer, lr=config.lr,
                      weight_decay=config.weight_decay)
    loader = torch.utils.data.DataLoader
    train_loader = loader(train, batch_size=1, sampler=EpochShuffleSampler(len(train), seed=config.seed),
                          collate_fn=first)
    val_loader = loader(val, batch_size=1, shuffle=False, collate_fn=first)
    return fit(module, train_loader, val_loader, output_dir, max_epochs=config.epochs, monitor="val_loss",
               mode="min", patience=config.patience, seed=config.seed, device=device)
