"""``pgml fold predict``: classify a user's structures with a trained IEConv checkpoint.

The checkpoint holds the classes (its label map), their readable names and the build-graphs settings
of its training samples; the model card beside it (``model.json``, :mod:`pgml.modelcard`) repeats the
settings, and :func:`pgml.modelcard.check_settings` refuses a graph setting given on the command line
that differs from them. Each structure is built with the model's settings (``unit`` entry, chain or
fragment, as in training), and per sample the step writes:

- ``predictions.tsv``: id, structure, predicted class and its name, one probability column per class;
- ``top5.tsv``: the five most probable classes (fewer when the model has fewer) with names;
- ``embeddings.npy`` (samples x widths[-1], float32) and ``embedding_ids.txt`` (one id per row): the
  protein embedding of fig. 5 of [ieconv] before the classifier MLP (the global average of the last
  level's features), for clustering or nearest-neighbour search.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pgml.errors import InputError
from pgml.fileio import atomic_dir
from pgml.fold.params import GraphConfig
from pgml.tables import write_tsv

log = logging.getLogger(__name__)

#: top classes listed per sample
TOP_K = 5
#: network memory per atom of a batch at width w of the first level: about (16 + w) KiB (1.6 GB for
#: 19.9k atoms at the paper's width 64, benchmarks/fold_speed.py)
FORWARD_BASE_BYTES_PER_ATOM = 16 * 1024
FORWARD_BYTES_PER_ATOM_AND_CHANNEL = 1024
GRAPH_KEYS = ("unit", "fragment_length", "hbond_source", "ca_only", "nonstandard")


def checkpoint_path(model: str | Path) -> Path:
    model = Path(model)
    return model / "model.ckpt" if model.is_dir() else model


def load_classifier(model: str | Path, device: str = "cpu"):
    """The :class:`~pgml.fold.module.FoldModule` of a ``pgml fold train`` checkpoint (eval mode);
    anything else is an InputError naming the file."""
    from pgml.fold.module import FoldModule

    path = checkpoint_path(model)
    if not path.is_file():
        raise InputError("model checkpoint not found", path=path)
    try:
        ckpt = torch.load(path, map_location=device, weights_only=False)
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds for a file that is not a checkpoint
        raise InputError(f"not a fold model checkpoint ({type(exc).__name__})", path=path) from None
    hp = ckpt.get("hyper_parameters") if isinstance(ckpt, dict) else None
    if not isinstance(hp, dict) or not {"n_classes", "model", "train"} <= set(hp) or "state_dict" not in ckpt:
        raise InputError("not a fold model checkpoint (no IEConv hyperparameters)", path=path)
    if hp.get("classes") is None:
        raise InputError("checkpoint has no label map (trained by an older pgml); retrain it", path=path)
    try:
        module = FoldModule(**{k: hp[k] for k in ("n_classes", "model", "train", "classes", "class_names", "graph")
                               if k in hp})
        module.load_state_dict(ckpt["state_dict"])
    except (RuntimeError, TypeError, ValueError) as exc:
        raise InputError(f"weights do not fit the stated IEConv architecture ({str(exc).splitlines()[0]})",
                         path=path) from None
    module.eval()
    return module.to(device)


def graph_config(module, card, given: dict, path: Path) -> GraphConfig:
    """The model's build-graphs settings; a setting in ``given`` (not None) must match them."""
    from pgml.modelcard import check_settings

    settings = dict(module.hparams.get("graph") or {})
    check_settings(card, {k: v for k, v in given.items() if v is not None}, path=path)
    for key, value in given.items():
        if value is not None and key in settings and settings[key] != value:
            raise InputError(f"the model was trained with {key}={settings[key]!r}, this input gives {value!r}",
                             path=path, record=key)
    settings.update({k: v for k, v in given.items() if v is not None and k not in settings})
    return GraphConfig(**{k: settings[k] for k in GRAPH_KEYS if k in settings})


def _check_forward_memory(atoms: int, width: int, path: str | Path) -> None:
    from pgml.runtime import check_memory

    check_memory(atoms * (FORWARD_BASE_BYTES_PER_ATOM + FORWARD_BYTES_PER_ATOM_AND_CHANNEL * width),
                 f"the IEConv forward pass over {atoms:,} atoms", lower_with="--batch-size 1 (or give the chains as separate files)",
                 path=path)


@torch.no_grad()
def embed_and_classify(module, samples: list[dict], *, batch_size: int = 8,
                       device: str = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """(probabilities (n, classes), embeddings (n, widths[-1])) of built samples."""
    from pgml.fold.data import FoldDataset, collate

    dataset = FoldDataset(samples, [0] * len(samples), module.model_config)
    probs, embeds = [], []
    for start in range(0, len(samples), batch_size):
        chunk = [dataset[i] for i in range(start, min(start + batch_size, len(samples)))]
        _check_forward_memory(sum(int(samples[i]["n_atoms"]) for i in range(start, start + len(chunk))),
                              module.model_config.widths[0], samples[start]["id"])
        batch = {k: v.to(device) for k, v in collate(chunk).items()}
        emb = module.net.embed_graphs(batch)
        probs.append(torch.softmax(module.net.classify(emb), dim=1).cpu().numpy())
        embeds.append(emb.cpu().numpy())
    return np.concatenate(probs), np.concatenate(embeds).astype(np.float32)


def predict_structures(model: str | Path, structures: list[str | Path], output_dir: str | Path, *,
                       graph: dict | None = None, batch_size: int = 8, device: str = "cpu") -> pd.DataFrame:
    """Classify every sample of ``structures`` (see the module docstring); returns predictions.tsv."""
    from pgml.fold.graph import structure_samples
    from pgml.modelcard import read_card

    path = checkpoint_path(model)
    module = load_classifier(path, device)
    card = read_card(path, "fold")
    if card.inputs.get("classes") not in (None, module.classes):
        raise InputError(f"the card's classes {card.inputs.get('classes')} differ from the checkpoint's "
                         f"{module.classes}", path=path)
    config = graph_config(module, card, dict(graph or {}), path)
    if not structures:
        raise InputError("no structure given")
    samples, origin = [], []
    for structure in structures:
        built = structure_samples(structure, unit=config.unit, fragment_length=config.fragment_length,
                                  hbond_source=config.hbond_source, ca_only=config.ca_only,
                                  nonstandard=config.nonstandard)
        if not built:
            raise InputError(f"no {config.unit} of {config.fragment_length} residues or more to classify"
                             if config.unit == "fragment" else "no protein residues to classify", path=structure)
        samples += built
        origin += [str(structure)] * len(built)
    probs, embeds = embed_and_classify(module, samples, batch_size=batch_size, device=device)
    classes, names = module.classes, module.class_names
    order = np.argsort(-probs, axis=1, kind="stable")
    ids = [s["id"] for s in samples]
    table = pd.DataFrame({"id": ids, "structure": origin, "predicted": [classes[i] for i in order[:, 0]],
                          "predicted_name": [names.get(classes[i], classes[i]) for i in order[:, 0]]})
    for j, c in enumerate(classes):
        table[f"p_{c}"] = probs[:, j]
    top = [{"id": sid, "structure": src, "rank": r + 1, "label": classes[k], "name": names.get(classes[k], classes[k]),
            "probability": float(probs[n, k])}
           for n, (sid, src) in enumerate(zip(ids, origin, strict=True)) for r, k in enumerate(order[n, :TOP_K])]
    with atomic_dir(output_dir) as tmp:
        write_tsv(table, tmp / "predictions.tsv", float_format="%.4f")
        write_tsv(pd.DataFrame(top), tmp / "top5.tsv", float_format="%.4f")
        np.save(tmp / "embeddings.npy", embeds)
        (tmp / "embedding_ids.txt").write_text("".join(f"{i}\n" for i in ids))
    log.info("%d samples of %d structures classified into %d classes", len(ids), len(structures), len(classes))
    return table
