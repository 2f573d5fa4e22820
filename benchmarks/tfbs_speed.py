"""Throughput of the tfbs chain: labelling (bins/s), window extraction, training and prediction (windows/s).

Runs on a simulated genome (``pgml tfbs simulate``; the demo's by default, a 120-kb one with
``--quick``) with 1,000-bp windows, on the CPU and, where one is visible, on the GPU; prints one row
per device. Model widths: the paper's (``config/paper/tfbs_dream.yaml``) unless ``--small``.
The issue's goal: the hg19 test chromosomes (about 10 million bins) predicted in under 15 minutes on
one GPU, i.e. about 11,000 windows/s; the last column extrapolates.

    python benchmarks/tfbs_speed.py [--quick] [--small] [--batches 5] [--threads 2] [--sim DIR]
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

from pgml.tfbs.annotate import annotate_bins, save_annotation
from pgml.tfbs.bins import bin_genome, read_chrom_sizes
from pgml.tfbs.expression import expression_pca, read_tpm
from pgml.tfbs.labels import label_bins
from pgml.tfbs.model import TfbsModule
from pgml.tfbs.params import ANNOTATIONS, LABEL_BOUND, ModelConfig, SimulateConfig
from pgml.tfbs.predict import predict_keys
from pgml.tfbs.simulate import simulate
from pgml.tfbs.training import build_dataset
from pgml.tfbs.windows import WindowSource, candidate_keys

TEST_BINS = 10_000_000


def _step(module: TfbsModule, dev: str):
    """Loss of one batch on ``dev``."""
    return lambda b: module._loss(module(b[0].to(dev), b[1].to(dev)), b[2].to(dev))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--small", action="store_true", help="the demo's widths instead of the paper's")
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sim", type=Path, default=None,
                        help="a folder written by `pgml tfbs simulate` (skips the simulation: no pyjaspar needed)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = ModelConfig(conv_filters=16, lstm_hidden=8, d_k=16, dense=16) if args.small else ModelConfig()
    sim = SimulateConfig(chroms="chr1:20000,chr2:60000,chr11:20000,chr21:20000") if args.quick else SimulateConfig()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        d = args.sim or Path(tmp) / "sim"
        if args.sim is None:
            simulate(d, sim, seed=0)
        sizes = read_chrom_sizes(d / "chrom.sizes")
        bins = bin_genome(sizes, None, d / "blacklist.bed")
        peaks = [(c, d / "peaks" / f"CTCF.{c}.conservative.narrowPeak.gz", d / "peaks" / f"CTCF.{c}.relaxed.narrowPeak.gz")
                 for c in ("CellA", "CellB")]
        t0 = time.perf_counter()
        labels = label_bins(bins, "CTCF", peaks)
        label_rate = sum(bins.count(c) for c in bins.chroms) * 2 / (time.perf_counter() - t0)
        ann = Path(tmp) / "ann.npz"
        save_annotation(annotate_bins(bins, {a: d / "annotation" / f"{a}.bed" for a in ANNOTATIONS}), ann)
        frame, _ = expression_pca(read_tpm(d / "tpm.tsv"))
        pca = Path(tmp) / "pca.tsv"
        frame.reset_index().to_csv(pca, sep="\t", index=False)
        # the raw cut counts stand in for the DNase track: throughput does not depend on its values
        bw = Path(tmp) / "dnase.bw"
        import pyBigWig

        out = pyBigWig.open(str(bw), "w")
        out.addHeader(list(sizes.items()))
        for chrom, n in sizes.items():
            out.addEntries([chrom], [0], ends=[n], values=[1.0])
        out.close()
        source = WindowSource(d / "genome.fa", d / "mappability.bw", {"CellA": bw, "CellB": bw})
        data = build_dataset(bins, labels, ["CellA", "CellB"], ann, pca, source)
        keys = candidate_keys(data, bins.chroms, [0, 1], 0)
        keys = keys[np.random.default_rng(0).permutation(keys.size)][: args.batches * args.batch_size]
        t0 = time.perf_counter()
        for k in keys:
            data[int(k)]
        extract_rate = keys.size / (time.perf_counter() - t0)
        loader = torch.utils.data.DataLoader(data, batch_size=args.batch_size, sampler=keys.tolist())
        batches = list(loader)
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        for dev in devices:
            module = TfbsModule(source.length, config.__dict__, 1e-3).to(dev)
            opt = module.configure_optimizers()
            step = _step(module, dev)
            step(batches[0]).backward()  # warm-up
            if dev == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            for b in batches:
                opt.zero_grad()
                step(b).backward()
                opt.step()
            if dev == "cuda":
                torch.cuda.synchronize()
            train_rate = keys.size / (time.perf_counter() - t0)
            module.eval()
            with torch.no_grad():
                t0 = time.perf_counter()
                for b in batches:
                    module(b[0].to(dev), b[1].to(dev))
                if dev == "cuda":
                    torch.cuda.synchronize()
                model_rate = keys.size / (time.perf_counter() - t0)
            t0 = time.perf_counter()
            predict_keys(module, data, keys, batch_size=256, device=dev, progress=False)
            predict_rate = keys.size / (time.perf_counter() - t0)
            rows.append({"device": dev, "label_bins_per_s": label_rate, "extract_windows_per_s": extract_rate,
                         "train_windows_per_s": train_rate, "model_only_predict_per_s": model_rate,
                         "predict_windows_per_s": predict_rate,
                         "hg19_test_minutes": TEST_BINS / predict_rate / 60})
        positives = int((labels.matrix[bins.chroms[0]] == LABEL_BOUND).sum())
    print(f"{sum(sizes.values()):,} bp simulated, {keys.size} windows timed ({positives} B bins on {bins.chroms[0]}), "
          f"model: {'demo' if args.small else 'paper'} widths, {args.threads} threads")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:,.1f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
