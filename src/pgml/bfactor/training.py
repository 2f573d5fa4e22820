"""``pgml bfactor train``: train one architecture on the split's train structures.

Selects the train and validation graphs by the split TSV (columns ``id, file, split``; ``id`` matches
``Data.structure_id``), batches whole proteins with torch_geometric's ``DataLoader`` (shuffled by a
sampler seeded from ``(seed, epoch)``, so resumed runs see the same orders), and runs the shared loop
:func:`pgml.train.loop.fit` with early stopping on the validation CC (per-protein Pearson averaged over
proteins, the main metric of [metagnn]). The output head is scaled by the mean and standard
deviation of the training targets so raw B-factors (tens of A^2) and z-scores train alike.

Beside the best checkpoint it writes the model card ``model.json`` (:mod:`pgml.modelcard`): the graph
settings ``predict`` must rebuild, the data and split, the seed, and the validation CC with the 1/WCN
baseline fitted on the same training atoms and scored on the same validation proteins.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from pgml.bfactor.params import TrainConfig
from pgml.bfactor.split import read_split
from pgml.errors import InputError
from pgml.fileio import write_text
from pgml.modelcard import ModelCard, card_path, check_settings, read_card, write_card
from pgml.train.loop import BEST_NAME, BEST_STATE_NAME, CURVE_NAME, LAST_NAME, METRICS_NAME, FitResult, fit

log = logging.getLogger(__name__)


def _load_graphs(paths: list[str | Path]) -> tuple[list[Any], dict[str, Any]]:
    from pgml.bfactor.shards import load_graphs

    return load_graphs([Path(p) for p in paths])


def select_graphs(graphs: list[Any], split: dict[str, str], split_path: str | Path) -> dict[str, list[Any]]:
    """Group ``graphs`` by the split of their ``structure_id``; check that graphs and split agree."""
    ids = [str(g.structure_id) for g in graphs]
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise InputError("structure present in more than one graph", record=f"id {i}")
        seen.add(i)
    unknown = [i for i in ids if i not in split]
    if unknown:
        raise InputError(f"{len(unknown)} graph(s) have ids not in the split, e.g. {unknown[:5]}; were the "
                         "graphs and the split built from the same selection?", path=split_path)
    needed = [i for i, s in split.items() if s in ("train", "val") and i not in seen]
    if needed:
        raise InputError(f"{len(needed)} train/val structure(s) of the split have no graph, e.g. {needed[:5]}",
                         path=split_path)
    groups: dict[str, list[Any]] = {"train": [], "val": [], "test": []}
    for g, i in zip(graphs, ids, strict=True):
        groups[split[i]].append(g)
    for name in ("train", "val"):
        if not groups[name]:
            raise InputError(f"the split has no {name} structures", path=split_path)
    return groups


def train_model(graph_files: list[str | Path], split: str | Path, output_dir: str | Path,
                config: TrainConfig, device: str = "auto") -> FitResult:
    """Train ``config.architecture``; write model.ckpt, last.ckpt, metrics.tsv, learning_curve.png.

    Reruns resume from ``output_dir/last.ckpt``. Returns the best checkpoint and its validation CC.
    """
    from torch_geometric.loader import DataLoader

    from pgml.bfactor.module import BFactorModule
    from pgml.train.loop import EpochShuffleSampler
    from pgml.train.seed import seed_everything

    graphs, meta = _load_graphs(list(graph_files))
    groups = select_graphs(graphs, read_split(split), split)
    train, val = groups["train"], groups["val"]
    log.info("%s: %d train and %d validation structures", config.architecture, len(train), len(val))

    y = torch.cat([g.y.float() for g in train])
    shift, scale = float(y.mean()), float(y.std()) if y.numel() > 1 else 1.0
    if not scale > 0:
        scale = 1.0
    node_dim = int(meta.get("node_feature_dim") or train[0].x.size(1))
    edge_dim = int(meta.get("edge_feature_dim") or train[0].edge_attr.size(1))

    seed_everything(config.seed)
    module = BFactorModule(
        architecture=config.architecture, node_dim=node_dim, edge_dim=edge_dim, hidden=config.hidden,
        layers=config.layers, dropout=config.dropout, optimizer=config.optimizer, lr=config.lr,
        weight_decay=config.weight_decay, target=str(meta.get("target", "raw")),
        radius=float(meta.get("radius", 5.0)), target_shift=shift, target_scale=scale,
        **meta["features"],
    )
    train_loader = DataLoader(train, batch_size=config.batch_size,
                              sampler=EpochShuffleSampler(len(train), seed=config.seed))
    val_loader = DataLoader(val, batch_size=config.batch_size, shuffle=False)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    _discard_stale_checkpoint(out, dict(module.hparams), config)
    write_text(out / "config.tsv", "".join(f"{k}\t{v}\n" for k, v in asdict(config).items()))
    result = fit(module, train_loader, val_loader, out, max_epochs=config.epochs, monitor="val_cc",
                 mode="max", patience=config.patience, seed=config.seed, device=device)
    baseline = validation_baseline_cc(train, val, float(meta.get("radius", 5.0)))
    card = ModelCard(
        chain="bfactor",
        inputs=card_inputs(dict(module.hparams)),
        training={"graphs": [str(p) for p in graph_files], "split": str(split),
                  "structures": {name: len(group) for name, group in groups.items()},
                  "hyperparameters": asdict(config), "epochs_run": result.epochs_run,
                  "target_shift": shift, "target_scale": scale},
        seed=config.seed,
        metrics={"val_cc": result.best_score, "val_cc_baseline_wcn": baseline,
                 "baseline": "1/WCN: linear fit of the target on 1/WCN over the training atoms [halle2002]",
                 "beats_baseline": bool(result.best_score > baseline)},
    )
    write_card(result.best_path, card)
    verdict = "beats" if result.best_score > baseline else "does NOT beat"
    log.info("validation CC %.3f %s the 1/WCN baseline's %.3f", result.best_score, verdict, baseline)
    return result


#: checkpoint hyperparameters that fix what `predict` must build: the model card's ``inputs``
CARD_INPUTS = ("architecture", "target", "radius", "node_dim", "edge_dim", "packing_radii", "wcn_feature",
               "contact_radius", "ligand_counts")


def card_inputs(hparams: dict[str, Any]) -> dict[str, Any]:
    """The model card's ``inputs`` from a checkpoint's hyperparameters (graph settings and sizes)."""
    g = graph_config(hparams)
    return {"architecture": hparams["architecture"], "target": g.target, "radius": g.neighbour_radius,
            "node_dim": int(hparams["node_dim"]), "edge_dim": int(hparams["edge_dim"]), **g.features}


def validation_baseline_cc(train: list[Any], val: list[Any], radius: float) -> float:
    """Mean per-protein Pearson CC on ``val`` of the 1/WCN baseline fitted on ``train`` (as ``val_cc``)."""
    from pgml.bfactor.baseline import fit_linear, packing
    from pgml.metrics import pearson, summarise_groups

    x = np.concatenate([packing(g.pos.numpy(), "wcn", radius) for g in train])
    y = np.concatenate([g.y.numpy().astype(np.float64) for g in train])
    a, b = fit_linear(x, y)
    ccs = [pearson(g.y.numpy().astype(np.float64), a + b * packing(g.pos.numpy(), "wcn", radius))
           if len(g.y) > 1 else float("nan") for g in val]
    return float(summarise_groups(ccs, nan_policy="zero").mean)


def check_card(model_path: str | Path, hparams: dict[str, Any], card: str | Path | None = None) -> ModelCard:
    """Read the model card beside ``model_path`` (or ``card``) and check it describes this checkpoint."""
    found = read_card(model_path, "bfactor", path=card)
    check_settings(found, card_inputs(hparams), path=card or card_path(model_path))
    return found


#: settings that may change between a killed run and its resumption (training then runs longer)
RESUMABLE_CHANGES = frozenset({"epochs", "patience"})


def _read_config(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    return dict(line.split("\t", 1) for line in path.read_text().splitlines() if "\t" in line)


def _discard_stale_checkpoint(out: Path, hparams: dict[str, Any], config: TrainConfig) -> None:
    """Resume only a run with the same model, data and training settings; start over otherwise.

    A ``last.ckpt`` left by a killed job is resumed. One written with other settings (the config or
    the graphs changed, and Snakemake reruns the job) is stale: it and the files derived from it are
    removed, with a warning, and training starts from scratch.
    """
    last = out / LAST_NAME
    if not last.exists():
        return
    old_hparams = torch.load(last, map_location="cpu", weights_only=False).get("hyper_parameters", {})
    diff = {k: (old_hparams.get(k), v) for k, v in hparams.items() if old_hparams.get(k) != v}
    old_config = _read_config(out / "config.tsv")
    diff |= {k: (old_config.get(k), str(v)) for k, v in asdict(config).items()
             if k not in RESUMABLE_CHANGES and old_config.get(k) != str(v)}
    if diff:
        log.warning("%s was written with other settings %s (old, new): starting over", last, diff)
        for name in (LAST_NAME, BEST_STATE_NAME, BEST_NAME, METRICS_NAME, CURVE_NAME):
            (out / name).unlink(missing_ok=True)


#: hyperparameters a checkpoint must state to rebuild its model
_MODEL_KEYS = ("architecture", "node_dim", "edge_dim", "hidden", "layers", "dropout", "target", "radius")


def _first_mismatch(model: nn.Module, state: dict[str, Any]) -> str:
    """The first parameter whose name or shape differs between ``model`` and a checkpoint's weights."""
    own = model.state_dict()
    for key, value in own.items():
        if key not in state:
            return f"weight {key} missing from the checkpoint"
        shape = tuple(getattr(state[key], "shape", ()))
        if shape != tuple(value.shape):
            return f"{key} has shape {list(shape)} in the checkpoint, {list(value.shape)} in the model"
    extra = [k for k in state if k not in own]
    if extra:
        return f"unexpected weight {extra[0]} in the checkpoint"
    return "no name or shape difference found"


def load_model(path: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """Load a trained model from ``model.ckpt`` (or a directory holding one), in eval mode on CPU.

    Returns ``(model, meta)`` with meta keys target, radius, architecture, node_dim, edge_dim (plus the
    other hyperparameters). Anything that is not a checkpoint written by ``pgml bfactor train`` (another
    file type, a checkpoint without hyperparameters, an unknown architecture, weights that do not fit
    the stated architecture) raises :class:`InputError`.
    """
    from pgml.bfactor.models import ARCHITECTURES, build_model
    from pgml.bfactor.params import TARGETS

    path = Path(path)
    if path.is_dir():
        if not (path / BEST_NAME).exists():
            raise InputError(f"directory holds no {BEST_NAME}", path=path)
        path = path / BEST_NAME
    if not path.exists():
        raise InputError("model checkpoint not found", path=path)

    def refuse(why: str) -> InputError:
        return InputError(f"not a pgml bfactor checkpoint ({why})", path=path)

    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - torch/pickle raise many types for a foreign file
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise refuse(f"torch.load cannot read it: {type(exc).__name__}: {msg[:200]}") from None
    if not isinstance(ckpt, dict):
        raise refuse(f"it holds a {type(ckpt).__name__}, not a checkpoint dictionary")
    if not isinstance(ckpt.get("hyper_parameters"), dict):
        raise refuse("no hyper_parameters")
    if not isinstance(ckpt.get("state_dict"), dict):
        raise refuse("no state_dict")
    hp = dict(ckpt["hyper_parameters"])
    state = ckpt["state_dict"]
    missing = [k for k in _MODEL_KEYS if k not in hp]
    if missing:
        raise refuse(f"hyper_parameters lack {', '.join(missing)}")
    if hp["architecture"] not in ARCHITECTURES:
        raise InputError(f"unknown architecture {hp['architecture']!r} in the checkpoint; this pgml knows "
                         f"{', '.join(ARCHITECTURES)}", path=path, record="hyper_parameters")
    if hp["target"] not in TARGETS:
        raise InputError(f"unknown target {hp['target']!r} in the checkpoint (expected one of "
                         f"{', '.join(TARGETS)})", path=path, record="hyper_parameters")
    try:
        model = build_model(hp["architecture"], hp["node_dim"], hp["edge_dim"], hidden=hp["hidden"],
                            layers=hp["layers"], dropout=hp["dropout"])
    except Exception as exc:  # noqa: BLE001 - nonsense sizes make the layers raise anything
        raise refuse(f"cannot build {hp['architecture']} from its hyper_parameters: {type(exc).__name__}: "
                     f"{exc}") from None
    weights = {k.removeprefix("model."): v for k, v in state.items() if isinstance(k, str) and k.startswith("model.")}
    try:
        model.load_state_dict(weights)
    except (RuntimeError, TypeError, AttributeError):
        raise InputError(f"weights do not match architecture {hp['architecture']} with node_dim {hp['node_dim']} "
                         f"({_first_mismatch(model, weights)})", path=path) from None
    model.eval()
    meta = {k: hp[k] for k in ("target", "radius", "architecture", "node_dim", "edge_dim")}
    meta.update({k: v for k, v in hp.items() if k not in meta})
    meta["graph_config"] = graph_config(meta)
    return model, meta


def graph_config(hp: dict[str, Any]) -> Any:
    """The :class:`~pgml.bfactor.params.GraphConfig` a checkpoint's model was trained on (older
    checkpoints, from before the packing switches, get the switches' defaults)."""
    from pgml.bfactor.params import GraphConfig

    g = GraphConfig()
    return GraphConfig(target=hp["target"], neighbour_radius=float(hp["radius"]),
                       packing_radii=tuple(float(r) for r in (hp.get("packing_radii") or ())),
                       wcn_feature=bool(hp.get("wcn_feature", g.wcn_feature)),
                       contact_radius=float(hp.get("contact_radius", g.contact_radius)),
                       ligand_counts=bool(hp.get("ligand_counts", g.ligand_counts)))
