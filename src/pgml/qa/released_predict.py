"""Per-residue lDDT from an imported EnQA model (``pgml qa predict-released``) on EnQA's own features.

The released networks read the features the authors' ``feature.py`` builds (Voronota / S-GCN residue
features and spherical harmonics, AlphaFold pLDDT, lDDT and distance-error channels; the model card
names them), which pgml's ``build-graphs`` does not make. They come either from features files or from
model structures and AlphaFold's outputs, featurised by :mod:`pgml.qa.released_features` (the same
arrays ``pgml qa released-features`` writes). A features file is an ``.npz`` with the five arrays the
authors' ``EnQA.py`` hands to the network:

- ``f1d`` (D1, L): node features; ``f2d`` (D2, L, L): pair features (D1, D2: the card's channel counts);
- ``pos`` (L, 3): Cα coordinates in Å × 0.01; ``edge_index`` (2, E): residue pairs (0-based) within
  15 Å; ``cmap`` (L, L): the contact weights of eq. 5.3 (AlphaFold's contact probability).

The predicted lDDT is clipped to [0, 1] as the authors' ``EnQA.py`` does. A residue without contact
weight has no initial estimate (eq. 5.3 divides by zero) and the EGNN would carry the undefined value to
every residue, so such a file is refused; any other non-finite output is written ``n/a`` with a warning.
Writes ``residues.tsv`` (model, residue, predicted, initial) and ``models.tsv`` (model, n_residues,
predicted = mean over the defined residues, undefined).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.errors import InputError

log = logging.getLogger(__name__)
ARRAYS = ("f1d", "f2d", "pos", "edge_index", "cmap")


def read_features(path: Path, node_channels: int, pair_channels: int) -> dict[str, np.ndarray]:
    """The five arrays of a features file, checked (names the array and what is wrong)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError) as exc:
        raise InputError(f"not a readable .npz features file ({exc})", path=path) from None
    return checked_arrays(arrays, path, node_channels, pair_channels)


def checked_arrays(arrays: dict[str, np.ndarray], path: Path, node_channels: int,
                   pair_channels: int) -> dict[str, np.ndarray]:
    """The five arrays, checked against the model's channel counts (names the array and what is wrong)."""
    missing = [name for name in ARRAYS if name not in arrays]
    if missing:
        raise InputError(f"lacks the array(s) {', '.join(missing)} (needs {', '.join(ARRAYS)})", path=path)
    n = arrays["f1d"].shape[-1] if arrays["f1d"].ndim == 2 else -1
    want = {"f1d": (node_channels, n), "f2d": (pair_channels, n, n), "pos": (n, 3), "cmap": (n, n)}
    for name, shape in want.items():
        if arrays[name].shape != shape:
            raise InputError(f"has shape {arrays[name].shape}, the model expects {shape} (channels from the model "
                             "card, L from f1d)", path=path, record=name)
        if not np.issubdtype(arrays[name].dtype, np.floating) or not np.isfinite(arrays[name]).all():
            raise InputError("holds values that are not finite numbers", path=path, record=name)
    index = arrays["edge_index"]
    if index.ndim != 2 or index.shape[0] != 2 or not np.issubdtype(index.dtype, np.integer):
        raise InputError(f"must be an integer array of shape (2, E), got {index.dtype} {index.shape}", path=path,
                         record="edge_index")
    if index.size and (index.min() < 0 or index.max() >= n):
        raise InputError(f"residue indices must lie in 0..{n - 1}", path=path, record="edge_index")
    if n < 2 or index.shape[1] == 0:
        raise InputError(f"{n} residue(s) and {index.shape[1]} edge(s): nothing the network can score", path=path)
    weight = (arrays["cmap"] * (1 - np.eye(n))).sum(0)
    if (weight <= 0).any():
        first = int(np.flatnonzero(weight <= 0)[0])
        raise InputError(f"{int((weight <= 0).sum())} residue(s) without contact weight (first: residue {first + 1}, "
                         f"0-based column {first}); eq. 5.3 divides by their weight and the EGNN spreads the "
                         "undefined value to every residue", path=path, record="cmap")
    return arrays


def predict_file(model, arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """(clipped lDDT, initial lDDT) of one features file; NaN where a residue has no contact weight."""
    import torch

    with torch.no_grad():
        _, _, lddt, initial = model(*(torch.from_numpy(np.ascontiguousarray(arrays[k])).float() for k in ARRAYS[:3]),
                                    torch.from_numpy(arrays["edge_index"]).long(),
                                    torch.from_numpy(arrays["cmap"]).float())
    return lddt.clamp(0, 1).numpy().astype(np.float64), initial.numpy().astype(np.float64)


def _inputs(features: list[Path], structures: list[Path], alphafold_dir: Path | None, method: str,
            node_channels: int, pair_channels: int):  # noqa: ANN202 - generator of (name, path, arrays)
    """(name, path, arrays) of every features file, then of every structure featurised against
    ``alphafold_dir`` (:mod:`pgml.qa.released_features`), checked the same way."""
    for path in features:
        yield path.name.removesuffix(".npz"), path, read_features(path, node_channels, pair_channels)
    if structures:
        from pgml.qa.released_features import released_arrays

        for path in structures:
            arrays = released_arrays(path, alphafold_dir, method)
            yield path.name.removesuffix(".gz").rsplit(".", 1)[0], path, checked_arrays(arrays, path, node_channels,
                                                                                       pair_channels)


def predict_released(checkpoint: Path, features: list[Path], output_dir: Path, *, structures: list[Path] = (),
                     alphafold_dir: Path | None = None) -> pd.DataFrame:
    """Score every features file, and every structure in ``structures`` featurised against the AlphaFold
    outputs in ``alphafold_dir``, with the imported model ``checkpoint``; returns the model table."""
    from pgml.fileio import atomic_dir
    from pgml.qa.published import load_released
    from pgml.tables import write_tsv

    model, card = load_released(checkpoint)
    node_channels, pair_channels = card.inputs["node_channels"], card.inputs["pair_channels"]
    residues, models = [], []
    for name, path, arrays in _inputs(list(features), list(structures), alphafold_dir, card.inputs["method"],
                                      node_channels, pair_channels):
        lddt, initial = predict_file(model, arrays)
        undefined = int(np.isnan(lddt).sum())
        if undefined:
            log.warning("%s: the network gave %d of %d residues a non-finite lDDT (written n/a)", path, undefined,
                        len(lddt))
        residues.append(pd.DataFrame({"model": name, "residue": np.arange(1, len(lddt) + 1), "predicted": lddt,
                                      "initial": initial}))
        defined = lddt[~np.isnan(lddt)]
        models.append({"model": name, "n_residues": len(lddt),
                       "predicted": float(defined.mean()) if defined.size else float("nan"),
                       "undefined": undefined})
    table = pd.DataFrame(models)
    with atomic_dir(output_dir) as tmp:
        write_tsv(pd.concat(residues, ignore_index=True), tmp / "residues.tsv", float_format="%.4f", na_rep="n/a")
        write_tsv(table, tmp / "models.tsv", float_format="%.4f", na_rep="n/a")
    log.info("%d models scored with the released %s network into %s", len(table), card.inputs["method"], output_dir)
    return table
