"""``pgml tfbs import-model``: DeepGRN's published Keras 2.2.4 models as pgml checkpoints.

A Keras HDF5 model file holds its architecture as JSON (``model_config``) and one group of tensors per
layer (``model_weights``). The architecture is read into a :class:`~pgml.tfbs.params.ReleasedConfig`
(:func:`read_architecture`), every tensor of the file is mapped onto :class:`~pgml.tfbs.released.ReleasedDeepGRN`
(:func:`map_tensors`) and the checkpoint is written with a model card (:func:`import_keras`). The file is
read with h5py, not TensorFlow: no current Keras builds these files' Lambda layers (Python 3.6 bytecode),
and pgml need not depend on TensorFlow to run them.

Layouts: a Keras ``Dense`` kernel is (in, out) and torch's ``Linear`` weight (out, in); a ``Conv1D``
kernel (k, in, out) and torch's (out, in, k); an ``LSTM`` kernel (in, 4h) with gates i, f, c, o, the
order :class:`~pgml.tfbs.released.KerasLSTM` keeps. The authors' channel order (A, T, G, C, Duke
uniqueness, DNase) and feature order (8 expression PCs, then cpg, cds, intron, promoter, utr5, utr3) are
permuted at import into pgml's (A, C, G, T, mappability, DNase; cds, intron, promoter, utr5, utr3, cpg,
8 PCs), so the imported model reads pgml's windows as they are. A model without the mappability channel
gets zero weights on it; one without features ignores them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from pgml.errors import InputError
from pgml.tfbs.params import (
    ANNOTATIONS,
    BIN_SIZE,
    BIN_STEP,
    N_PCS,
    RELEASED_ANNOTATIONS,
    RELEASED_SEQUENTIAL,
    ReleasedConfig,
)

#: layers without tensors that the released networks use (anything else has no counterpart)
PLAIN_LAYERS = {"InputLayer", "Dropout", "Concatenate", "Permute", "Lambda", "Softmax", "Add", "Multiply",
                "RepeatVector", "Flatten", "Average", "Maximum", "MaxPooling1D"}
#: pgml's sequential channels, in the order its windows carry them
PGML_SEQUENTIAL = ("A", "C", "G", "T", "mappability", "dnase")
#: key of the checkpoint dict that marks an imported released network
CHECKPOINT_KEY = "released"


class Layer:
    """One layer of the Keras graph: class, config, the layers feeding it (first call) and its tensors."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.name: str = spec["name"]
        self.kind: str = spec["class_name"]
        self.config: dict[str, Any] = spec.get("config", {})
        nodes = spec.get("inbound_nodes") or []
        self.inbound: list[str] = [n[0] for n in nodes[0]] if nodes else []

    @property
    def units(self) -> int:
        return int(self.config.get("units", 0))


def _fail(path: Path, message: str, record: str | None = None) -> InputError:
    return InputError(message, path=path, record=record)


def read_layers(path: Path) -> tuple[list[Layer], dict[str, np.ndarray], str]:
    """The file's layers, its tensors by ``layer/tensor`` name and its Keras version."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            if "model_config" not in f.attrs or "model_weights" not in f:
                raise _fail(path, "not a Keras model file (no model_config or model_weights)")
            config = json.loads(f.attrs["model_config"])
            version = f.attrs.get("keras_version", b"unknown")
            tensors: dict[str, np.ndarray] = {}

            def visit(name: str, obj: Any) -> None:
                if isinstance(obj, h5py.Dataset):
                    tensors[name] = np.asarray(obj[()], dtype=np.float32)

            f["model_weights"].visititems(visit)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, InputError):
            raise
        raise _fail(path, f"not a readable Keras HDF5 model file ({type(exc).__name__})") from None
    layers = config.get("config", {}).get("layers") if isinstance(config, dict) else None
    if not isinstance(layers, list):
        raise _fail(path, "model_config has no layer list")
    version = version.decode() if isinstance(version, bytes) else str(version)
    try:
        return [Layer(spec) for spec in layers], tensors, version
    except (KeyError, TypeError, IndexError, AttributeError):
        raise _fail(path, "model_config has a layer without name, class or inbound nodes") from None


def _consumers(layers: list[Layer]) -> dict[str, list[Layer]]:
    out: dict[str, list[Layer]] = {layer.name: [] for layer in layers}
    for layer in layers:
        for name in layer.inbound:
            out.setdefault(name, []).append(layer)
    return out


def _one(path: Path, layers: list[Layer], kind: str) -> Layer:
    found = [layer for layer in layers if layer.kind == kind]
    if len(found) != 1:
        raise _fail(path, f"expected one {kind} layer, found {len(found)}; not a released DeepGRN network")
    return found[0]


def read_architecture(path: Path, layers: list[Layer]) -> tuple[ReleasedConfig, dict[str, Layer]]:
    """The released network a Keras graph describes, and the Keras layer of each pgml role.

    Roles: ``conv``, ``position_dense``, ``lstm``, attention layers (``score``; ``embedding``, ``q``,
    ``k``, ``v``; ``attention1d``), ``to_features``, ``dense``, ``extra.<i>`` and ``out``.
    """
    for layer in layers:
        if layer.kind not in PLAIN_LAYERS | {"Conv1D", "TimeDistributed", "Bidirectional", "Dense",
                                             "Attention1D", "PositionEmbedding"}:
            raise _fail(path, f"layer {layer.name} ({layer.kind}) has no counterpart in pgml's released network",
                        record=layer.name)
    inputs = [layer for layer in layers if layer.kind == "InputLayer"]
    shapes = [layer.config.get("batch_input_shape") for layer in inputs]
    seq = [s for s in shapes if s is not None and len(s) == 3]
    feats = [s for s in shapes if s is not None and len(s) == 2]
    if len(seq) != 2 or seq[0] != seq[1] or seq[0][2] not in (5, 6) or len(feats) > 1 or \
            (feats and feats[0][1] != len(ANNOTATIONS) + N_PCS):
        raise _fail(path, f"inputs {shapes}: expected two (length, 5 or 6) windows and at most one "
                          f"({len(ANNOTATIONS) + N_PCS},) feature vector")
    roles: dict[str, Layer] = {"conv": _one(path, layers, "Conv1D"), "position_dense": _one(path, layers, "TimeDistributed"),
                               "lstm": _one(path, layers, "Bidirectional")}
    cell = roles["lstm"].config.get("layer", {})
    if cell.get("class_name") != "LSTM" or cell.get("config", {}).get("recurrent_activation") != "hard_sigmoid" \
            or roles["lstm"].config.get("merge_mode") != "concat":
        raise _fail(path, "the recurrent layer is not Bidirectional(LSTM, hard_sigmoid, concat)",
                    record=roles["lstm"].name)
    pool = _one(path, layers, "MaxPooling1D")
    if pool.config.get("pool_size") != pool.config.get("strides"):
        raise _fail(path, "max-pooling with stride other than its size", record=pool.name)
    merge = {"Average": "mean", "Maximum": "max"}.get(layers[-1].kind)
    if merge is None:
        raise _fail(path, f"last layer {layers[-1].name} ({layers[-1].kind}) is not an Average or Maximum merge")
    kinds = {layer.kind for layer in layers}
    consumers = _consumers(layers)
    dense = [layer for layer in layers if layer.kind == "Dense"]
    if "Attention1D" in kinds:
        attention = "attention1d"
        roles["attention1d"] = _one(path, layers, "Attention1D")
    elif "PositionEmbedding" in kinds:
        attention = "pairwise_before_lstm"
        roles["embedding"] = _one(path, layers, "PositionEmbedding")
        for layer in consumers[roles["embedding"].name]:
            after = {c.kind for c in consumers[layer.name]}
            role = "k" if "Permute" in after else "v" if layer.units == int(roles["conv"].config["filters"]) else "q"
            if layer.kind != "Dense" or role in roles:
                raise _fail(path, "the pairwise attention is not Q, K, V dense layers", record=layer.name)
            roles[role] = layer
    elif any(layer.name == "dim_reduction" for layer in layers):
        attention = "single_before_lstm"
        scores = [layer for layer in dense if layer.config.get("activation") == "softmax"]
        if len(scores) != 1:
            raise _fail(path, "the attention before the LSTM has no single softmax score layer")
        roles["score"] = scores[0]
    else:
        raise _fail(path, "no attention layer (Attention1D, PositionEmbedding or dim_reduction) found")
    _chain_dense(path, layers, consumers, roles)
    conv = roles["conv"].config
    config = ReleasedConfig(
        attention=attention, conv_filters=int(conv["filters"]), conv_kernel=int(conv["kernel_size"][0]),
        pool=int(pool.config["pool_size"][0]), lstm_hidden=int(cell["config"]["units"]),
        dense=roles["to_features"].units, extra_dense=sum(r.startswith("extra.") for r in roles), merge=merge,
        length=int(seq[0][1]), mappability=seq[0][2] == 6, features=bool(feats))
    return config, roles


def _chain_dense(path: Path, layers: list[Layer], consumers: dict[str, list[Layer]], roles: dict[str, Layer]) -> None:
    """The dense layers after the BiLSTM (or Attention1D), in the order the graph runs them."""
    start = roles.get("attention1d")
    if start is None:
        flatten = [layer for layer in layers if layer.kind == "Flatten"]
        if len(flatten) != 1:
            raise _fail(path, "no Flatten layer after the BiLSTM")
        start = flatten[0]
    chain: list[Layer] = []
    current = start
    while consumers.get(current.name):
        nxt = consumers[current.name][0]
        if nxt.kind == "Dense":
            chain.append(nxt)
        current = nxt
    if len(chain) < 3 or chain[-1].units != 1 or chain[-1].config.get("activation") != "sigmoid":
        raise _fail(path, "the dense layers after the BiLSTM do not end in one sigmoid unit")
    roles["to_features"], roles["dense"], roles["out"] = chain[0], chain[1], chain[-1]
    for i, layer in enumerate(chain[2:-1]):
        roles[f"extra.{i}"] = layer


def _tensor(tensors: dict[str, np.ndarray], layer: Layer, suffix: str) -> tuple[str, np.ndarray | None]:
    """The tensor of ``layer`` whose name ends with ``suffix`` (``kernel:0``, ...), by its file name."""
    found = [k for k in tensors if k.startswith(f"{layer.name}/") and k.rsplit("/", 1)[1] == suffix
             and (suffix != "kernel:0" or "recurrent" not in k)]
    return (found[0], tensors[found[0]]) if len(found) == 1 else (f"{layer.name}/.../{suffix}", None)


def _conv_kernel(config: ReleasedConfig) -> Callable[[np.ndarray], np.ndarray]:
    order = RELEASED_SEQUENTIAL if config.mappability else tuple(c for c in RELEASED_SEQUENTIAL if c != "mappability")

    def convert(k: np.ndarray) -> np.ndarray:          # (k, in, out) -> (out, 6, k) in pgml's channel order
        out = np.zeros((k.shape[2], len(PGML_SEQUENTIAL), k.shape[0]), dtype=np.float32)
        for j, channel in enumerate(PGML_SEQUENTIAL):
            if channel in order:
                out[:, j, :] = k[:, order.index(channel), :].T
        return out
    return convert


def _feature_dense(config: ReleasedConfig) -> Callable[[np.ndarray], np.ndarray]:
    """The dense layer after the features: rows [sequence part, their 14 features] -> pgml's order."""
    theirs = [f"PC{i + 1}" for i in range(N_PCS)] + list(RELEASED_ANNOTATIONS)
    ours = list(ANNOTATIONS) + [f"PC{i + 1}" for i in range(N_PCS)]

    def convert(k: np.ndarray) -> np.ndarray:
        if not config.features:
            return k.T
        rows = list(range(config.dense)) + [config.dense + theirs.index(name) for name in ours]
        return k[rows].T
    return convert


def _transpose(k: np.ndarray) -> np.ndarray:
    return k.T


def _same(k: np.ndarray) -> np.ndarray:
    return k


def _keras_shape(name: str, shape: tuple[int, ...], config: ReleasedConfig) -> tuple[int, ...]:
    """The shape a file tensor must have to become pgml's tensor ``name`` of ``shape``."""
    if name == "branch.conv.weight":
        return (shape[2], 6 if config.mappability else 5, shape[0])
    return tuple(reversed(shape)) if len(shape) == 2 and not name.endswith("embedding") else shape


def tensor_plan(config: ReleasedConfig, roles: dict[str, Layer]) -> dict[str, tuple[Layer, str, Callable]]:
    """pgml tensor -> (Keras layer, tensor name ending, conversion)."""
    plan: dict[str, tuple[Layer, str, Callable]] = {
        "branch.conv.weight": (roles["conv"], "kernel:0", _conv_kernel(config)),
        "branch.conv.bias": (roles["conv"], "bias:0", _same),
        "branch.position_dense.weight": (roles["position_dense"], "kernel:0", _transpose),
        "branch.position_dense.bias": (roles["position_dense"], "bias:0", _same),
        "branch.to_features.weight": (roles["to_features"], "kernel:0", _transpose),
        "branch.to_features.bias": (roles["to_features"], "bias:0", _same),
        "branch.dense.weight": (roles["dense"], "kernel:0", _feature_dense(config)),
        "branch.dense.bias": (roles["dense"], "bias:0", _same),
        "branch.out.weight": (roles["out"], "kernel:0", _transpose),
        "branch.out.bias": (roles["out"], "bias:0", _same),
    }
    for i in range(config.extra_dense):
        plan[f"branch.extra.{i}.weight"] = (roles[f"extra.{i}"], "kernel:0", _transpose)
        plan[f"branch.extra.{i}.bias"] = (roles[f"extra.{i}"], "bias:0", _same)
    for direction in ("forward", "backward"):
        lstm = roles["lstm"]
        plan[f"branch.lstm.{direction}_lstm.weight_ih"] = (lstm, f"{direction}:kernel:0", _transpose)
        plan[f"branch.lstm.{direction}_lstm.weight_hh"] = (lstm, f"{direction}:recurrent_kernel:0", _transpose)
        plan[f"branch.lstm.{direction}_lstm.bias"] = (lstm, f"{direction}:bias:0", _same)
    if config.attention == "attention1d":
        plan["branch.after.weight"] = (roles["attention1d"], "kernel:0", _transpose)
    elif config.attention == "single_before_lstm":
        plan["branch.before.score.weight"] = (roles["score"], "kernel:0", _transpose)
        plan["branch.before.score.bias"] = (roles["score"], "bias:0", _same)
    else:
        plan["branch.before.embedding"] = (roles["embedding"], "embeddings:0", _same)
        for role in ("q", "k", "v"):
            plan[f"branch.before.{role}.weight"] = (roles[role], "kernel:0", _transpose)
    return plan


def _find(tensors: dict[str, np.ndarray], layer: Layer, ending: str) -> tuple[str, np.ndarray | None]:
    if ending.count(":") == 2:      # "forward:kernel:0": one direction of the BiLSTM
        direction, suffix = ending.split(":", 1)
        found = [k for k in tensors if k.startswith(f"{layer.name}/") and f"/{direction}_" in k
                 and k.rsplit("/", 1)[1] == suffix]
        return (found[0], tensors[found[0]]) if len(found) == 1 else (f"{layer.name}/{direction}_.../{suffix}", None)
    return _tensor(tensors, layer, ending)


def map_tensors(path: Path, tensors: dict[str, np.ndarray], config: ReleasedConfig, roles: dict[str, Layer],
                state: dict[str, Any]) -> dict[str, np.ndarray]:
    """Every tensor of the file onto pgml's ``state`` (a state dict of the released network).

    Refuses, naming the tensor, a pgml tensor without a file tensor, a shape that differs and a file
    tensor that nothing uses.
    """
    plan = tensor_plan(config, roles)
    missing = [k for k in state if k not in plan]
    if missing:
        raise _fail(path, f"pgml's tensor {missing[0]} has no counterpart in the file", record=missing[0])
    out: dict[str, np.ndarray] = {}
    used: set[str] = set()
    for name, (layer, ending, convert) in plan.items():
        key, value = _find(tensors, layer, ending)
        if value is None:
            raise _fail(path, f"no tensor {key} for pgml's {name}", record=key)
        want = _keras_shape(name, tuple(state[name].shape), config)
        if value.shape != want:
            raise _fail(path, f"tensor {key} has shape {value.shape}, pgml's {name} needs {want}", record=key)
        out[name] = convert(value)
        used.add(key)
    left = sorted(set(tensors) - used)
    if left:
        raise _fail(path, f"tensor {left[0]} has no counterpart in pgml's released network", record=left[0])
    return out


def card_inputs(config: ReleasedConfig) -> dict[str, Any]:
    """The feature settings an imported model needs (same keys as :func:`pgml.tfbs.training.card_inputs`)."""
    return {"flank": (config.length - BIN_SIZE) // 2, "window_length": config.length, "bin_size": BIN_SIZE,
            "bin_step": BIN_STEP, "sequential": list(PGML_SEQUENTIAL), "annotations": list(ANNOTATIONS),
            "n_pcs": N_PCS, "uses_mappability": config.mappability, "uses_features": config.features,
            "model": {CHECKPOINT_KEY: asdict(config)}}


def import_keras(keras_file: Path, output: Path, card: Path | None = None) -> dict[str, Any]:
    """Read ``keras_file``, write the checkpoint ``output`` and its model card; return a summary."""
    import torch

    from pgml.fetch.weights import WEIGHTS
    from pgml.fileio import atomic_path
    from pgml.modelcard import ModelCard, card_path, write_card
    from pgml.tfbs.bins import require_file
    from pgml.tfbs.released import ReleasedDeepGRN

    keras_file = require_file(keras_file, "Keras model file (.h5)")
    layers, tensors, version = read_layers(keras_file)
    try:
        config, roles = read_architecture(keras_file, layers)
    except (KeyError, TypeError, IndexError, AttributeError) as exc:
        raise _fail(keras_file, f"model_config is not an architecture pgml reads ({type(exc).__name__}: {exc})") from None
    except ValueError as exc:
        if isinstance(exc, InputError):
            raise
        raise _fail(keras_file, f"model_config describes no released network ({exc})") from None
    model = ReleasedDeepGRN(config)
    state = dict(model.state_dict())
    mapped = map_tensors(keras_file, tensors, config, roles, state)
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in mapped.items()})
    sha = hashlib.sha256(keras_file.read_bytes()).hexdigest()
    known = next((w for w in WEIGHTS.values() if w.family == "deepgrn" and w.sha256 == sha), None)
    source: dict[str, Any] = {"kind": "imported", "format": f"Keras {version} HDF5", "file": keras_file.name,
                              "sha256": sha}
    if known is not None:
        source.update({"name": f"deepgrn:{known.name}", "repository": known.repo, "commit": known.commit,
                       "path": known.path, "licence": known.licence})
    tf_name, _, kind = keras_file.stem.rpartition("_")
    n_params = int(sum(v.size for v in tensors.values()))
    with atomic_path(output) as tmp:
        torch.save({CHECKPOINT_KEY: asdict(config), "state_dict": model.state_dict(), "source": source}, tmp)
    write_card(output, ModelCard(
        chain="tfbs", inputs=card_inputs(config), seed=None, source=source,
        training={"tf": tf_name or keras_file.stem, "variant": kind if kind in ("single", "pair") else None,
                  "cells": [], "by": "the DeepGRN authors (ENCODE-DREAM challenge data, hg19)"},
        metrics={"parameters": n_params}), path=card or card_path(output))
    return {"model": str(output), "released": asdict(config), "parameters": n_params, "source": source}
