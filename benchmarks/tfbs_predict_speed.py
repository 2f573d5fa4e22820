"""Prediction throughput of the tfbs chain: window extraction per window (the previous reader, the anchor)
against windows cut from chromosome slices, alone and with loader workers, and predict end to end.

Every row is measured in the same run on a simulated genome (``pgml tfbs simulate``, or ``--sim DIR``)
over consecutive bins of its chromosomes, the order ``pgml tfbs predict`` reads them in. The DNase
track is a sparse synthetic bigWig (a value at one base in ``--dnase-every``, no entry elsewhere), as
throughput does not depend on its values. Rows:

* ``extract``: windows read and stacked into batches, no model. ``per-window`` is the reader of
  ``TfbsWindows[key]`` through a DataLoader with ``batch_size`` (one FASTA and two bigWig reads per
  window); ``slices`` is ``pgml.tfbs.windows.batch_loader`` with 0 and ``--workers`` processes.
* ``model``: the network alone on batches already in memory (the first ``--predict-windows``).
* ``predict``: ``pgml.tfbs.predict.predict_keys`` end to end (reading, model, probabilities on the
  host), with the per-window reader (anchor) and the slice reader with 0 and ``--workers`` workers.

CPU rows always; GPU rows when a CUDA device is visible (otherwise a line says they were skipped).
``ratio`` is windows/s over the anchor of the same kind and device (per-window extraction for
``extract`` and ``model``; per-window predict for ``predict``). The last columns extrapolate to the hg19
test chromosomes (about 10 million bins) and the whole genome (about 60 million).

    python benchmarks/tfbs_predict_speed.py [--windows 16384] [--predict-windows 1024] [--workers 2]
        [--threads 1] [--batch-size 256] [--small] [--sim DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pgml.tfbs.bins import bin_genome, read_chrom_sizes
from pgml.tfbs.model import TfbsModule
from pgml.tfbs.params import ModelConfig, SimulateConfig
from pgml.tfbs.predict import NO_SEQUENCE, predict_keys
from pgml.tfbs.simulate import simulate
from pgml.tfbs.windows import TfbsWindows, WindowSource, batch_loader

TEST_BINS = 10_000_000
GENOME_BINS = 60_000_000


def sparse_track(path: Path, sizes: dict[str, int], every: int, seed: int = 0) -> Path:
    """A bigWig with a value at about one base in ``every`` and no entry elsewhere."""
    import pyBigWig

    rng = np.random.default_rng(seed)
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader(list(sizes.items()))
    for chrom, n in sizes.items():
        starts = np.sort(rng.choice(n - 1, n // every, replace=False))
        bw.addEntries([chrom] * starts.size, starts.tolist(), ends=(starts + 1).tolist(),
                      values=rng.gamma(1.0, 2.0, starts.size).tolist())
    bw.close()
    return path


def per_window_loader(data: TfbsWindows, keys: np.ndarray, batch_size: int) -> torch.utils.data.DataLoader:
    """The previous reader: one ``data[key]`` per window, collated into batches."""
    return torch.utils.data.DataLoader(data, batch_size=batch_size, sampler=keys.tolist())


def time_loader(loader, keep: int) -> tuple[float, list]:
    """Seconds to read every batch of ``loader``, and the first ``keep`` batches (the rest are dropped)."""
    kept = []
    t0 = time.perf_counter()
    for batch in loader:
        if len(kept) < keep:
            kept.append(batch)
    return time.perf_counter() - t0, kept


@torch.no_grad()
def predict_per_window(module: TfbsModule, data: TfbsWindows, keys: np.ndarray, batch_size: int, dev: str) -> None:
    """The previous ``predict_keys``: per-window reads in this process, then the model."""
    for x, z, _ in per_window_loader(data, keys, batch_size):
        probs = module(x.to(dev), z.to(dev))
        for value in probs.values():
            value.float().cpu().numpy()
        (x[:, :4].sum(dim=(1, 2)) == 0).numpy()


def synchronize(dev: str) -> None:
    if dev == "cuda":
        torch.cuda.synchronize()


def row(device: str, kind: str, reader: str, workers: int | str, n: int, seconds: float) -> dict:
    return {"device": device, "kind": kind, "reader": reader, "workers": workers, "windows": n,
            "seconds": seconds, "windows_per_s": n / seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=16384, help="windows timed in the extraction rows")
    parser.add_argument("--predict-windows", type=int, default=1024,
                        help="windows timed in the model and CPU predict rows (the GPU predict rows use --windows)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the predicting process")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--dnase-every", type=int, default=5)
    parser.add_argument("--small", action="store_true", help="the demo's widths instead of the paper's")
    parser.add_argument("--sim", type=Path, default=None, help="a folder written by `pgml tfbs simulate`")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = ModelConfig(conv_filters=16, lstm_hidden=8, d_k=16, dense=16) if args.small else ModelConfig()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        d = args.sim or Path(tmp) / "sim"
        if args.sim is None:
            n_bp = (args.windows + 100) * 50
            simulate(d, SimulateConfig(chroms=f"chr1:{n_bp},chr21:40000", n_genes=40), seed=0)
        sizes = read_chrom_sizes(d / "chrom.sizes")
        bins = bin_genome(sizes, None, d / "blacklist.bed")
        track = sparse_track(Path(tmp) / "dnase.bw", sizes, args.dnase_every)
        source = WindowSource(d / "genome.fa", d / "mappability.bw", {"C": track})
        rng = np.random.default_rng(0)
        annotation = {c: rng.integers(0, 2, (bins.count(c), 6)).astype(np.uint8) for c in bins.chroms}
        data = TfbsWindows(source, bins, ["C"], annotation, rng.normal(size=(1, 8)).astype(np.float32))
        chrom = max(bins.chroms, key=bins.count)
        n = min(args.windows, bins.count(chrom))
        keys = data.keys(chrom, np.arange(n), 0)

        keep = -(-min(n, args.predict_windows) // args.batch_size)  # batches kept: model timing, equality
        anchor_s, reference = time_loader(per_window_loader(data, keys, args.batch_size), keep)
        rows.append(row("cpu", "extract", "per-window (anchor)", 0, n, anchor_s))
        for workers in dict.fromkeys([0, args.workers]):
            seconds, batches = time_loader(batch_loader(data, keys, args.batch_size, workers), keep)
            same = all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(batches, reference,
                                                                                        strict=True))
            if not same:
                print(f"slice reader with {workers} workers differs from the per-window reader", file=sys.stderr)
                return 1
            rows.append(row("cpu", "extract", "slices", workers, n, seconds))

        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        for dev in devices:
            torch.manual_seed(0)
            module = TfbsModule(source.length, config.__dict__, 1e-3).to(dev).eval()
            with torch.no_grad():
                module(reference[0][0].to(dev), reference[0][1].to(dev))  # warm-up
                synchronize(dev)
                t0 = time.perf_counter()
                for x, z, _ in reference:
                    module(x.to(dev), z.to(dev))
                synchronize(dev)
            rows.append(row(dev, "model", "in memory", "-", sum(b[0].shape[0] for b in reference),
                            time.perf_counter() - t0))
            m = n if dev == "cuda" else min(n, args.predict_windows)
            part = keys[:m]
            t0 = time.perf_counter()
            predict_per_window(module, data, part, args.batch_size, dev)
            synchronize(dev)
            rows.append(row(dev, "predict", "per-window (anchor)", 0, m, time.perf_counter() - t0))
            for workers in dict.fromkeys([0, args.workers]):
                t0 = time.perf_counter()
                out = predict_keys(module, data, part, batch_size=args.batch_size, device=dev, progress=False,
                                   workers=workers)
                synchronize(dev)
                rows.append(row(dev, "predict", "slices", workers, m, time.perf_counter() - t0))
                assert out[NO_SEQUENCE].size == m
    table = pd.DataFrame(rows)
    anchors = {(r.device, r.kind): r.windows_per_s for r in table.itertuples()
               if r.reader == "per-window (anchor)"}
    cpu_extract = anchors[("cpu", "extract")]
    table["ratio"] = [r.windows_per_s / anchors.get((r.device, "predict" if r.kind == "predict" else "extract"),
                                                     cpu_extract) for r in table.itertuples()]
    table["hg19_test_min"] = TEST_BINS / table["windows_per_s"] / 60
    table["genome_h"] = GENOME_BINS / table["windows_per_s"] / 3600
    print(f"{sum(sizes.values()):,} bp simulated; {n:,} consecutive windows of {chrom} ({source.length} bp); "
          f"model: {'demo' if args.small else 'paper'} widths; batch {args.batch_size}; "
          f"{args.threads} torch thread(s) in the predicting process; {torch.get_num_threads()} set")
    print(table.to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
    if "cuda" not in devices:
        print("GPU rows skipped: no CUDA device visible")
    return 0


if __name__ == "__main__":
    sys.exit(main())
