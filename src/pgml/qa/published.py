"""EnQA's published weights in pgml (``pgml qa import-model``): every tensor of the authors' state dict
mapped onto :class:`pgml.qa.released.ReleasedEnQA`, with a model card that ``predict`` checks.

The authors' files (BioinfoMachineLearning/EnQA ``models/``, GPL-3.0; ``pgml fetch weights --ids
enqa:EGNN_Full``) are ``torch.save`` dicts with ``model`` and ``optimizer`` state dicts, or a bare state
dict (EnQA-MSA). A tensor is mapped by its name (:func:`pgml_name`); a file tensor without a
counterpart, a shape that differs, or a pgml tensor the file lacks is refused with one line naming the
first such tensor, so an imported model is exactly the published one.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

from pgml.errors import InputError
from pgml.qa.params import RELEASED, RELEASED_METHODS, ReleasedMethod

log = logging.getLogger(__name__)

#: marks a checkpoint written by :func:`import_enqa`
FORMAT = "pgml-qa-released"

#: layers named one to one: (the authors' module, pgml's module); ``.weight`` / ``.bias`` follow both
_RENAMED = [
    ("conv1d_1", "node_conv"), ("conv2d_1", "pair_in"), ("inorm_1", "pair_norm"), ("conv2d_bin", "error_head"),
    ("EGNN_layers.embedding_in", "egnn.node_in"), ("EGNN_layers.e_embedding_in", "egnn.edge_in"),
    ("EGNN_layers.embedding_out", "egnn.node_out"),
]


def _renaming(pairs: list[tuple[str, str]]) -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile(re.escape(src) + r"\.(weight|bias)"), dst + r".\1") for src, dst in pairs]


_RULES = _renaming(_RENAMED) + [
    (re.compile(r"(base|bin)_resnet\.resnet_\1_resnet_init_proj\.(weight|bias)"), r"\1_resnet.init_proj.\2"),
]
_BLOCK = re.compile(r"(base|bin)_resnet\.resnet_\1_resnet_(\d+)_(\d+)_(conv2d|inorm)_([123])\.(weight|bias)")
_EXTRA = re.compile(r"(base|bin)_resnet\.resnet_\1_resnet_extra(\d+)_(conv2d|inorm)_([123])\.(weight|bias)")
_GCL = re.compile(r"EGNN_layers\.gcl_(e_)?(\d+)\.(edge|node|coord)_mlp\.(\d+)\.(weight|bias)")
_MLP = {"edge": "phi_e", "node": "phi_h", "coord": "phi_x"}
_DILATIONS = {"1": 0, "2": 1, "4": 2, "8": 3}


def pgml_name(name: str) -> str | None:
    """pgml's name of the authors' tensor ``name``; None when it has no counterpart."""
    for pattern, repl in _RULES:
        if pattern.fullmatch(name):
            return pattern.sub(repl, name)
    if m := _BLOCK.fullmatch(name):
        net, cycle, dilation, kind, k, what = m.groups()
        if dilation not in _DILATIONS:
            return None
        part = "conv" if kind == "conv2d" else "norm"
        return f"{net}_resnet.blocks.{4 * int(cycle) + _DILATIONS[dilation]}.{part}{k}.{what}"
    if m := _EXTRA.fullmatch(name):
        net, i, kind, k, what = m.groups()
        return f"{net}_resnet.extra.{i}.{'conv' if kind == 'conv2d' else 'norm'}{k}.{what}"
    if m := _GCL.fullmatch(name):
        line, i, mlp, n, what = m.groups()
        return f"egnn.{'line_layers' if line else 'layers'}.{i}.{_MLP[mlp]}.{n}.{what}"
    return None


_OURS_RULES = _renaming([(dst, src) for src, dst in _RENAMED]) + [
    (re.compile(r"(base|bin)_resnet\.init_proj\.(weight|bias)"), r"\1_resnet.resnet_\1_resnet_init_proj.\2"),
]
_OURS_BLOCK = re.compile(r"(base|bin)_resnet\.blocks\.(\d+)\.(conv|norm)([123])\.(weight|bias)")
_OURS_EXTRA = re.compile(r"(base|bin)_resnet\.extra\.(\d+)\.(conv|norm)([123])\.(weight|bias)")
_OURS_GCL = re.compile(r"egnn\.(layers|line_layers)\.(\d+)\.(phi_e|phi_h|phi_x)\.(\d+)\.(weight|bias)")


def authors_name(ours: str) -> str | None:
    """The authors' name of pgml's tensor ``ours`` (the inverse of :func:`pgml_name`)."""
    for pattern, repl in _OURS_RULES:
        if pattern.fullmatch(ours):
            return pattern.sub(repl, ours)
    kind = {"conv": "conv2d", "norm": "inorm"}
    if m := _OURS_BLOCK.fullmatch(ours):
        net, index, part, k, what = m.groups()
        cycle, d = divmod(int(index), len(_DILATIONS))
        return f"{net}_resnet.resnet_{net}_resnet_{cycle}_{list(_DILATIONS)[d]}_{kind[part]}_{k}.{what}"
    if m := _OURS_EXTRA.fullmatch(ours):
        net, i, part, k, what = m.groups()
        return f"{net}_resnet.resnet_{net}_resnet_extra{i}_{kind[part]}_{k}.{what}"
    if m := _OURS_GCL.fullmatch(ours):
        layers, i, mlp, n, what = m.groups()
        name = {v: k for k, v in _MLP.items()}[mlp]
        return f"EGNN_layers.gcl_{'e_' if layers == 'line_layers' else ''}{i}.{name}_mlp.{n}.{what}"
    return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_state(path: Path) -> dict:
    """The state dict of an EnQA weights file (its ``model`` entry, or the file itself)."""
    import pickle

    import torch

    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError, ValueError) as exc:
        raise InputError(f"not a torch weights file ({str(exc).splitlines()[0]})", path=path) from None
    state = data.get("model", data) if isinstance(data, dict) else None
    if not isinstance(state, dict) or not state:
        raise InputError("holds no state dict (neither a 'model' entry nor tensors)", path=path)
    for name, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise InputError(f"entry is a {type(value).__name__}, not a tensor", path=path, record=str(name))
    return state


def map_state(state: dict, model, method: str, path: Path) -> dict:  # noqa: ANN001 - torch module
    """pgml's state dict from the authors' ``state``; refuses the first tensor without counterpart, of
    another shape, or missing from the file."""
    target = model.state_dict()
    mapped = {}
    for name, tensor in state.items():
        ours = pgml_name(name)
        if ours is None or ours not in target:
            raise InputError(f"tensor has no counterpart in the released {method} network", path=path, record=name)
        if tuple(tensor.shape) != tuple(target[ours].shape):
            raise InputError(f"tensor has shape {tuple(tensor.shape)}, the released {method} network's {ours} has "
                             f"{tuple(target[ours].shape)}", path=path, record=name)
        mapped[ours] = tensor
    for ours in target:
        if ours not in mapped:
            raise InputError(f"the file has no {authors_name(ours)}, which this tensor of the released {method} "
                             f"network needs", path=path, record=ours)
    return mapped


def released_method(name: str) -> ReleasedMethod:
    """The method ``name``; refuses an unknown one and one that cannot be imported (says why)."""
    method = RELEASED_METHODS.get(name)
    if method is None:
        raise InputError(f"unknown EnQA method {name!r}; choose one of {', '.join(RELEASED_METHODS)}", record=name)
    if method.refused:
        raise InputError(f"cannot be imported: {method.refused}", record=name)
    return method


def model_card(method_name: str, path: Path, n_parameters: int):  # noqa: ANN201 - ModelCard
    """The card of an imported model: source (repository, commit, file, sha256, licence) and the inputs
    the released network expects."""
    from pgml.fetch.weights import WEIGHTS
    from pgml.modelcard import ModelCard

    method = RELEASED_METHODS[method_name]
    published = WEIGHTS[f"enqa:{method_name}"]
    sha = sha256_of(path)
    if sha != published.sha256:
        log.warning("%s: sha256 %s differs from the published %s file's %s", path, sha, method_name,
                    published.sha256)
    inputs = {"variant": RELEASED, "method": method_name, "node_channels": method.node_channels,
              "pair_channels": method.pair_channels, "node_features": method.node_features,
              "pair_features": method.pair_features, "line_graph": method.line_graph,
              "structures": "the model PDB and, except EnQA-MSA, AlphaFold outputs with distograms "
                            "(result_model_*.pkl and PDBs of 5 models)"}
    source = {"kind": "imported", "repository": published.repo, "commit": published.commit,
              "path": published.path, "file": path.name, "sha256": sha,
              "published_sha256": published.sha256, "licence": published.licence}
    return ModelCard(chain="qa", inputs=inputs, training={"by": "the authors of EnQA (published weights)"},
                     metrics={"parameters": n_parameters}, source=source)


def build_released(method_name: str):  # noqa: ANN201 - ReleasedEnQA
    from pgml.qa.released import ReleasedEnQA

    return ReleasedEnQA(released_method(method_name))


def import_enqa(path: Path, method_name: str, output: Path) -> tuple[int, Path]:
    """Import the authors' weights ``path`` as ``method_name`` into checkpoint ``output`` (+ model.json
    beside it); returns (parameter count, card path)."""
    import torch

    from pgml.fileio import atomic_path
    from pgml.modelcard import card_path, write_card

    card_file = card_path(output)
    if card_file.exists() and not output.exists():
        raise InputError(f"holds the card of another model; give --output a directory of its own (the card is "
                         f"written beside the checkpoint as {card_file.name})", path=card_file)
    model = build_released(method_name)
    mapped = map_state(read_state(path), model, method_name, path)
    model.load_state_dict(mapped, strict=True)
    n_parameters = sum(p.numel() for p in model.parameters())
    card = model_card(method_name, path, n_parameters)
    with atomic_path(output) as tmp:
        torch.save({"format": FORMAT, "method": method_name, "state_dict": model.state_dict()}, tmp)
    return n_parameters, write_card(output, card, path=card_path(output))


def is_released(checkpoint: Path) -> bool:
    """Whether ``checkpoint`` was written by :func:`import_enqa`."""
    import torch

    try:
        data = torch.load(checkpoint, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - anything unreadable is not ours; the Lightning loader says why
        return False
    return isinstance(data, dict) and data.get("format") == FORMAT


def load_released(checkpoint: Path):  # noqa: ANN201 - (ReleasedEnQA, ModelCard)
    """The imported network and its card, checked against each other (method and variant)."""
    import torch

    from pgml.modelcard import card_path, read_card

    try:
        data = torch.load(checkpoint, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the one line
        raise InputError(f"not a readable checkpoint ({str(exc).splitlines()[0]})", path=checkpoint) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError("not a checkpoint written by `pgml qa import-model`", path=checkpoint)
    card = read_card(checkpoint, "qa")
    for key, value in (("variant", RELEASED), ("method", data["method"])):
        if card.inputs.get(key) != value:
            raise InputError(f"the card gives {key}={card.inputs.get(key)!r}, the checkpoint holds {value!r}",
                             path=card_path(checkpoint), record=key)
    model = build_released(data["method"])
    model.load_state_dict(data["state_dict"], strict=True)
    return model.eval(), card


def refuse_chapter_features(card, checkpoint: Path) -> None:  # noqa: ANN001 - ModelCard
    """``predict`` with an imported model: pgml's ``build-graphs`` makes the chapter's features, not the
    channels the released network was trained on (the card names them), so they are refused."""
    inputs = card.inputs
    raise InputError(f"the released {inputs['method']} network expects EnQA's own features "
                     f"({inputs['node_channels']} node channels: {inputs['node_features']}; "
                     f"{inputs['pair_channels']} pair channels: {inputs['pair_features']}); pgml builds the "
                     f"chapter's features, which it cannot read; score EnQA's features with `pgml qa predict-released`",
                     path=checkpoint,
                     record=f"variant={inputs['variant']}")
