"""Model cards: ``model.json`` beside every trained model, written by ``train`` and checked by ``predict``.

A card says what a checkpoint is and what it needs, so that a model is never fed inputs built with
other settings than it was trained on:

- ``chain``: the chain that trained it (``predict`` of another chain refuses it);
- ``inputs``: the input kinds and every feature setting ``predict`` must rebuild (radii, number of
  references, flank, PCA basis, ...); :func:`check_settings` compares them with what a run is about to
  build and names the first setting that differs;
- ``training``: the data and the split (method, counts, list files), ``seed``;
- ``metrics``: the model's figures with the same-run baseline beside them;
- ``source``: where the weights came from (``pgml train``, or an imported published model with its
  repository, commit, file sha256 and licence).

The card is JSON, not part of the checkpoint, so a person can read it and a workflow can diff it.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pgml import __version__
from pgml.errors import InputError
from pgml.fileio import write_text

CARD_NAME = "model.json"
CARD_VERSION = 1


@dataclass
class ModelCard:
    chain: str
    inputs: dict[str, Any]
    training: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=lambda: {"kind": "pgml train"})
    pgml_version: str = __version__
    card_version: int = CARD_VERSION


def card_path(model: str | Path) -> Path:
    """Where the card of ``model`` lives: ``model.json`` in the model's directory (or in ``model`` itself)."""
    model = Path(model)
    return model / CARD_NAME if model.is_dir() else model.with_name(CARD_NAME)


def _clean(value: Any) -> Any:
    """JSON-safe copy: Paths as strings, NaN/Inf as None (JSON has no NaN), tuples as lists."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        return _clean(value.item())
    return value


def write_card(model: str | Path, card: ModelCard, *, path: str | Path | None = None) -> Path:
    """Write ``card`` beside ``model`` (or at ``path``) atomically; return where it went."""
    target = Path(path) if path is not None else card_path(model)
    write_text(target, json.dumps(_clean(asdict(card)), indent=2, sort_keys=True) + "\n")
    return target


def read_card(model: str | Path, chain: str, *, path: str | Path | None = None) -> ModelCard:
    """Read and check the card of ``model``; refuse a missing, unreadable or other chain's card."""
    source = Path(path) if path is not None else card_path(model)
    if not source.is_file():
        raise InputError(f"no model card {CARD_NAME} beside the model; retrain it with this pgml "
                         f"or give the card with --card", path=model)
    try:
        data = json.loads(source.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"model card is not readable JSON ({err})", path=source) from None
    if not isinstance(data, dict) or "chain" not in data or "inputs" not in data:
        raise InputError("not a pgml model card (no 'chain' or 'inputs')", path=source)
    if data["chain"] != chain:
        raise InputError(f"model card is for the {data['chain']!r} chain, not {chain!r}", path=source)
    known = {f for f in ModelCard.__dataclass_fields__}
    return ModelCard(**{k: v for k, v in data.items() if k in known})


def check_settings(card: ModelCard, given: dict[str, Any], *, path: str | Path = CARD_NAME) -> None:
    """Refuse when a setting in ``given`` differs from the card's ``inputs`` (names the first one).

    Settings the card does not record are not checked; a card setting absent from ``given`` is not an
    error (the caller builds it from the card).
    """
    for key, value in given.items():
        if key not in card.inputs:
            continue
        expected = card.inputs[key]
        if _clean(value) != expected:
            raise InputError(f"the model was trained with {key}={expected!r}, this input gives {value!r}",
                             path=path, record=key)
