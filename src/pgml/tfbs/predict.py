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
from pgml.tfbs.params import BIN_SIZE
from pgml.tfbs.windows import TfbsWindows

log = logging.getLogger(__name__)


def load_model(path: Path) -> TfbsModule:
    from pgml.errors import InputError

    if not Path(path).is_file():
        raise InputError("model checkpoint not found (run pgml tfbs train)", path=path)
    module = TfbsModule.load_from_checkpoint(str(path), map_location="cpu", weights_only=False)
    module.eval()
    return module


@torch.no_grad()
def predict_keys(module: TfbsModule, data: TfbsWindows, keys: np.ndarray, *, batch_size: int = 256,
                 device: str = "auto", progress: bool = True) -> dict[str, np.ndarray]:
    """Probability of each module and of the ensemble for the windows ``keys``."""
    dev = pick_device(device)
    module = module.to(dev).eval()
    loader = torch.utils.data.DataLoader(data, batch_size=batch_size, sampler=np.asarray(keys).tolist())
    columns = module.model.outputs
    out: dict[str, list[np.ndarray]] = {c: [] for c in columns}
    for x, z, _ in tqdm(loader, desc="predict", unit="batch", disable=not progress):
        probs = module(x.to(dev), z.to(dev))
        for c in columns:
            out[c].append(probs[c].float().cpu().numpy())
    return {c: np.concatenate(v) if v else np.zeros(0, dtype=np.float32) for c, v in out.items()}


def predict_cell(module: TfbsModule, data: TfbsWindows, chroms: list[str], *, batch_size: int = 256,
                 device: str = "auto", regions: pd.DataFrame | None = None) -> pd.DataFrame:
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
        probs = predict_keys(module, data, data.keys(chrom, index, 0), batch_size=batch_size, device=device)
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
