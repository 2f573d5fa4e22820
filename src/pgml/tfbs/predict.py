"""Predictions of a trained DeepGRN model for one cell type over chosen chromosomes.

Writes the challenge's submission format (gzipped TSV: chrom, start, end, probability of the
ensemble), a table with every module's probability, and a bigWig track (each 50-bp step carries the
probability of the bin starting there; the last bin of a chromosome covers its full 200 bp).
Blacklisted bins are forced to probability 0 (section 2.2.1 of [deepgrn]).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from pgml.fileio import atomic_path
from pgml.runtime import pick_device
from pgml.tfbs.bins import BinSet, bin_starts, overlap_mask
from pgml.tfbs.model import TfbsModule
from pgml.tfbs.params import BIN_SIZE, PREDICT_BATCH_SIZE, PREDICT_WORKERS
from pgml.tfbs.released import ReleasedModule
from pgml.tfbs.windows import TfbsWindows, batch_loader

log = logging.getLogger(__name__)
#: key of :func:`predict_keys`' output flagging windows with no A/C/G/T base (only N)
NO_SEQUENCE = "no_sequence"


HPARAMS = ("length", "config", "lr")


def load_model(path: Path, *, released: bool = False) -> TfbsModule | ReleasedModule:
    """The DeepGRN module of a ``model.ckpt`` written by ``pgml tfbs train``; any other file (another
    chain's checkpoint, a truncated file, weights of other widths) is refused in one line.

    With ``released``, a checkpoint of ``pgml tfbs import-model`` (one of the authors' published networks,
    :class:`pgml.tfbs.released.ReleasedModule`) is accepted too; steps that need the chapter's network
    (its attention modules) leave it False and refuse such a checkpoint."""
    import pickle
    import zipfile

    from pgml.errors import InputError
    from pgml.tfbs.bins import require_file

    path = require_file(path, "model checkpoint (run pgml tfbs train)")
    try:
        ckpt = torch.load(str(path), map_location="cpu", weights_only=False)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile,
            AttributeError, ModuleNotFoundError) as exc:
        raise InputError(f"not a readable torch checkpoint ({type(exc).__name__})", path=path) from None
    if isinstance(ckpt, dict) and "released" in ckpt:
        return _load_released(path, ckpt, released)
    hparams = ckpt.get("hyper_parameters") if isinstance(ckpt, dict) else None
    if not isinstance(hparams, dict) or any(k not in hparams for k in HPARAMS) or "state_dict" not in ckpt:
        raise InputError("not a tfbs (DeepGRN) checkpoint: no length/config/lr hyper-parameters; give the "
                         "model.ckpt of pgml tfbs train", path=path)
    try:
        module = TfbsModule(**hparams)
        module.load_state_dict(ckpt["state_dict"])
    except (RuntimeError, TypeError, ValueError, KeyError) as exc:
        detail = " ".join(str(exc).split())[:160]
        raise InputError(f"weights do not fit a DeepGRN model of the stated widths ({detail})", path=path) from None
    module.eval()
    return module


def _load_released(path: Path, ckpt: dict, allowed: bool) -> ReleasedModule:
    """The released network of an ``import-model`` checkpoint."""
    from pgml.errors import InputError
    from pgml.tfbs.params import ReleasedConfig

    if not allowed:
        raise InputError("an imported published model (pgml tfbs import-model): only predict runs it; this "
                         "step needs a model.ckpt of pgml tfbs train", path=path)
    try:
        module = ReleasedModule(ReleasedConfig(**ckpt["released"]))
        module.model.load_state_dict(ckpt["state_dict"])
    except (RuntimeError, TypeError, ValueError, KeyError) as exc:
        detail = " ".join(str(exc).split())[:160]
        raise InputError(f"weights do not fit the released DeepGRN network they name ({detail})", path=path) from None
    return module.eval()


@torch.no_grad()
def predict_keys(module: TfbsModule, data: TfbsWindows, keys: np.ndarray, *, batch_size: int = PREDICT_BATCH_SIZE,
                 device: str = "auto", progress: bool = True, workers: int = PREDICT_WORKERS) -> dict[str, np.ndarray]:
    """Probability of each module and of the ensemble for the windows ``keys`` (read in batches by
    ``workers`` loader processes, :func:`pgml.tfbs.windows.batch_loader`, while the model runs)."""
    dev = pick_device(device)
    module = module.to(dev).eval()
    loader = batch_loader(data, np.asarray(keys), batch_size, workers)
    columns = module.model.outputs
    out: dict[str, list[np.ndarray]] = {c: [] for c in (*columns, NO_SEQUENCE)}
    for x, z, _ in tqdm(loader, desc="predict", unit="batch", disable=not progress):
        probs = module(x.to(dev, non_blocking=True), z.to(dev, non_blocking=True))
        for c in columns:
            out[c].append(probs[c].float().cpu().numpy())
        out[NO_SEQUENCE].append((x[:, :4].sum(dim=(1, 2)) == 0).numpy())
    return {c: np.concatenate(v) if v else np.zeros(0, dtype=np.float32) for c, v in out.items()}


def predict_cell(module: TfbsModule, data: TfbsWindows, chroms: list[str], *, batch_size: int = PREDICT_BATCH_SIZE,
                 device: str = "auto", regions: pd.DataFrame | None = None,
                 workers: int = PREDICT_WORKERS) -> pd.DataFrame:
    """chrom, start, end and each module's probability for every bin of ``chroms`` (cell 0 of ``data``);
    with ``regions`` (chrom, start, end), only the bins overlapping one of them."""
    frames = []
    bins: BinSet = data.bins
    for chrom in chroms:
        starts = bin_starts(bins.sizes[bins.chroms.index(chrom)])
        index = np.arange(starts.size)
        if regions is not None:
            part = regions[regions["chrom"] == chrom]
            index = np.flatnonzero(overlap_mask(part["start"].to_numpy(), part["end"].to_numpy(), starts.size))
            if index.size == 0:
                continue
        probs = predict_keys(module, data, data.keys(chrom, index, 0), batch_size=batch_size, device=device,
                             workers=workers)
        no_sequence = probs.pop(NO_SEQUENCE)
        if no_sequence.any():
            log.warning("%s: %d of %d bins have only N in their window; their probabilities rest on DNase, "
                        "mappability and the features alone", chrom, int(no_sequence.sum()), no_sequence.size)
        frame = pd.DataFrame({"chrom": chrom, "start": starts[index], "end": starts[index] + BIN_SIZE, **probs})
        frame.loc[bins.blacklist[chrom][index], list(module.model.outputs)] = 0.0
        frames.append(frame)
    if not frames:
        from pgml.errors import InputError

        raise InputError(f"no bin of {', '.join(chroms)} overlaps the regions")
    return pd.concat(frames, ignore_index=True)


def write_predictions(frame: pd.DataFrame, directory: Path, sizes: dict[str, int]) -> None:
    """predictions.tsv.gz (submission format), modules.tsv.gz and track.bw in ``directory``."""
    import pyBigWig

    directory.mkdir(parents=True, exist_ok=True)
    with atomic_path(directory / "predictions.tsv.gz") as tmp:
        frame[["chrom", "start", "end", "ensemble"]].to_csv(tmp, sep="\t", header=False, index=False,
                                                             float_format="%.5f", compression="gzip")
    with atomic_path(directory / "modules.tsv.gz") as tmp:
        frame.to_csv(tmp, sep="\t", index=False, float_format="%.5f", compression="gzip")
    with atomic_path(directory / "track.bw", suffix=".bw") as tmp:
        bw = pyBigWig.open(str(tmp), "w")
        chroms = list(dict.fromkeys(frame["chrom"]))
        bw.addHeader([(c, sizes[c]) for c in chroms])
        for chrom in chroms:
            part = frame[frame["chrom"] == chrom]
            starts = part["start"].to_numpy(dtype=np.int64)
            # each 50-bp step carries the bin starting there, up to the next predicted bin (or the bin's end)
            ends = np.minimum(np.append(starts[1:], starts[-1] + BIN_SIZE), starts + BIN_SIZE)
            bw.addEntries([chrom] * starts.size, starts.tolist(), ends=ends.tolist(),
                          values=part["ensemble"].astype(float).tolist())
        bw.close()


def read_modules(path: Path) -> pd.DataFrame:
    """A ``modules.tsv.gz`` of ``predict``: chrom, start, end and each module's probability (checked)."""
    from pgml.errors import InputError
    from pgml.tfbs.bins import require_file

    path = require_file(path, "modules table of pgml tfbs predict")
    try:
        frame = pd.read_csv(path, sep="\t", dtype={"chrom": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, EOFError, OSError,
            ValueError) as exc:
        raise InputError(f"cannot read as a modules table ({type(exc).__name__})", path=path) from None
    missing = [c for c in ("chrom", "start", "end", "ensemble") if c not in frame.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", path=path, record="header")
    # the model's outputs: single, pairwise and ensemble for DeepGRN, ensemble alone for noattention
    values = frame[[c for c in frame.columns if c not in ("chrom", "start", "end")]].to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0) | (values > 1)
    if bad.any():
        row = int(np.nonzero(bad)[0][0])
        raise InputError("probability not in [0, 1]", path=path, record=f"row {row + 1}")
    return frame


def merge_predictions(paths: list[Path], bins: BinSet) -> pd.DataFrame:
    """One genome-wide table from per-chromosome ``modules`` tables, in the bins' chromosome order.

    A chromosome in two tables, or one that is not among the bins, is refused; chromosomes of the bins
    that no table covers are named in a warning.
    """
    from pgml.errors import InputError

    parts: dict[str, pd.DataFrame] = {}
    source: dict[str, Path] = {}
    for path in paths:
        frame = read_modules(path)
        for chrom, part in frame.groupby("chrom", sort=False):
            if chrom not in bins.chroms:
                raise InputError(f"chromosome {chrom} is not among the bins", path=path)
            if chrom in parts:
                raise InputError(f"chromosome {chrom} is also in {source[chrom]}", path=path)
            parts[chrom], source[chrom] = part.sort_values("start"), path
    if not parts:
        raise InputError("no predicted bin in the tables", path=paths[0] if paths else None)
    left = [c for c in bins.chroms if c not in parts]
    if left:
        log.warning("no prediction for %d chromosome(s) of the bins: %s", len(left),
                    ", ".join(left[:10]) + (" ..." if len(left) > 10 else ""))
    return pd.concat([parts[c] for c in bins.chroms if c in parts], ignore_index=True)
