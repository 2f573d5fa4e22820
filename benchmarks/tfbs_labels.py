"""Labelling chr11 for every ENCODE-DREAM TF x cell-type pair of ``../shared/data/tfbs`` vs ``bedtools``.

For every pair with a conservative and a relaxed narrowPeak file, the bins of hg19 chr11 (200 bp
every 50 bp, 2.7 million) are labelled B/A/U twice in the same run:

* ``pgml``: :func:`pgml.tfbs.labels.label_bins` (difference arrays over implicit bins);
* ``bedtools``: the bins written once as a BED file, then ``bedtools intersect -u`` with the
  conservative peaks (B) and ``-u`` relaxed then ``-v`` conservative (A); U = the rest.

It prints the counts of both (they must be identical), bins per second of each (the BED writing is
timed apart) and pgml's peak Python memory (tracemalloc).

    python benchmarks/tfbs_labels.py [--quick] [--data ../shared/data/tfbs]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.tfbs.bins import bin_genome, bin_starts, read_chrom_sizes
from pgml.tfbs.labels import label_bins
from pgml.tfbs.params import BIN_SIZE

ROOT = Path(__file__).resolve().parents[1]


def pairs(data: Path) -> list[tuple[str, str, Path, Path]]:
    out = []
    for cons in sorted((data / "narrowPeak").glob("ChIPseq.*.conservative.train.narrowPeak.gz")):
        m = re.match(r"ChIPseq\.(.+)\.([^.]+)\.conservative\.train\.narrowPeak\.gz", cons.name)
        relax = cons.with_name(f"ChIPseq.{m.group(1)}.{m.group(2)}.relaxed.narrowPeak.gz")
        if relax.exists():
            out.append((m.group(2), m.group(1), cons, relax))
    return out


def bedtools_count(args: list[str]) -> int:
    return int(subprocess.run(args, check=True, capture_output=True, text=True, shell=False).stdout.count("\n"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "tfbs")
    parser.add_argument("--quick", action="store_true", help="two pairs only")
    parser.add_argument("--chrom", default="chr11")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"{args.data}: not found; nothing to benchmark")
        return 0
    if shutil.which("bedtools") is None:
        print("bedtools not on PATH")
        return 1
    sizes = read_chrom_sizes(args.data / "resources" / "hg19.autoX.chrom.sizes")
    bins = bin_genome(sizes, [args.chrom], None)
    n = bins.count(args.chrom)
    todo = pairs(args.data)[: 2 if args.quick else None]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        bed = Path(tmp) / "bins.bed"
        t0 = time.perf_counter()
        starts = bin_starts(sizes[args.chrom])
        pd.DataFrame({"c": args.chrom, "s": starts, "e": starts + BIN_SIZE}).to_csv(bed, sep="\t", header=False, index=False)
        write_s = time.perf_counter() - t0
        for tf, cell, cons, relax in todo:
            tracemalloc.start()
            t0 = time.perf_counter()
            labels = label_bins(bins, tf, [(cell, cons, relax)])
            ours_s = time.perf_counter() - t0
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            col = labels.matrix[args.chrom][:, 0]
            ours = [int((col == 1).sum()), int((col == -1).sum()), int((col == 0).sum())]
            t0 = time.perf_counter()
            b = bedtools_count(["bedtools", "intersect", "-u", "-a", str(bed), "-b", str(cons)])
            in_relax = Path(tmp) / "relax.bed"
            with open(in_relax, "w") as handle:
                subprocess.run(["bedtools", "intersect", "-u", "-a", str(bed), "-b", str(relax)], check=True, stdout=handle)
            a = bedtools_count(["bedtools", "intersect", "-v", "-a", str(in_relax), "-b", str(cons)])
            bt_s = time.perf_counter() - t0
            theirs = [b, a, n - b - a]
            rows.append({"tf": tf, "cell": cell, "B": ours[0], "A": ours[1], "U": ours[2],
                         "B_bedtools": theirs[0], "A_bedtools": theirs[1], "U_bedtools": theirs[2],
                         "identical": ours == theirs, "pgml_bins_per_s": n / ours_s, "bedtools_bins_per_s": n / bt_s,
                         "pgml_peak_MB": peak})
    table = pd.DataFrame(rows)
    print(f"{args.chrom}: {n:,} bins; writing them as BED for bedtools took {write_s:.2f} s (not counted)")
    print(table.to_string(index=False, float_format=lambda v: f"{v:,.0f}"))
    ok = bool(table["identical"].all())
    print(f"counts identical for all {len(table)} pairs: {ok}; median throughput pgml "
          f"{np.median(table['pgml_bins_per_s']):,.0f} vs bedtools {np.median(table['bedtools_bins_per_s']):,.0f} bins/s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
