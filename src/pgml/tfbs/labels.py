"""Bin labels per TF and cell type from ChIP-seq narrowPeak files (section 2.2.1 of [deepgrn]).

A bin is B (bound, 1) when it overlaps a conservative (IDR-thresholded) peak by at least 1 bp, A
(ambiguous, -1) when it overlaps only a relaxed peak, and U (unbound, 0) otherwise. The result is one
int8 bins x cell-types matrix per chromosome, built one chromosome at a time with
:func:`pgml.tfbs.bins.overlap_mask` (no loop per bin). Blacklisted bins keep their label here; the
dataset leaves them out of training and prediction forces them to 0.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.errors import InputError
from pgml.fileio import atomic_path
from pgml.tfbs.bins import BinSet, load_npz, match_contigs, overlap_mask, read_bed, require_file
from pgml.tfbs.params import LABEL_AMBIGUOUS, LABEL_BOUND, LABEL_UNBOUND


@dataclass
class Labels:
    """Labels of one TF: cell types and an int8 bins x cells matrix per chromosome."""

    tf: str
    cells: list[str]
    matrix: dict[str, np.ndarray]

    def save(self, path: str | os.PathLike) -> None:
        with atomic_path(path, suffix=".npz") as tmp:
            np.savez_compressed(tmp, tf=np.array(self.tf), cells=np.array(self.cells),
                                chroms=np.array(list(self.matrix)),
                                **{f"labels:{c}": m for c, m in self.matrix.items()})

    @classmethod
    def load(cls, path: str | os.PathLike) -> Labels:
        path = require_file(path, "labels file (run pgml tfbs label-bins)")
        with load_npz(path, "labels file of pgml tfbs label-bins") as data:
            chroms = [str(c) for c in data["chroms"]]
            return cls(str(data["tf"]), [str(c) for c in data["cells"]],
                       {c: data[f"labels:{c}"] for c in chroms})


def parse_peak_spec(spec: str) -> tuple[str, Path, Path]:
    """``CELL=CONSERVATIVE.narrowPeak[.gz],RELAXED.narrowPeak[.gz]`` -> (cell, conservative, relaxed)."""
    cell, sep, files = spec.partition("=")
    parts = files.split(",")
    if not sep or not cell or len(parts) != 2 or not all(parts):
        raise InputError(f"--peaks expects CELL=CONSERVATIVE,RELAXED, got {spec!r}")
    return cell, Path(parts[0]), Path(parts[1])


def label_bins(bins: BinSet, tf: str, peaks: list[tuple[str, Path, Path]]) -> Labels:
    """Label every bin of ``bins`` for each (cell, conservative, relaxed) peak pair of ``tf``."""
    cells = [p[0] for p in peaks]
    if len(set(cells)) != len(cells):
        raise InputError(f"tf {tf}: a cell type is given twice: {', '.join(cells)}")
    sizes = dict(zip(bins.chroms, bins.sizes, strict=True))
    tables = []
    for _cell, cons_path, relax_path in peaks:
        cons = match_contigs(read_bed(cons_path), sizes, cons_path, what="peaks")
        relax = match_contigs(read_bed(relax_path), sizes, relax_path, what="peaks")
        if cons.empty:
            raise InputError(f"no conservative peak on the chosen chromosomes ({', '.join(bins.chroms[:6])})",
                             path=cons_path)
        tables.append((cons, relax))
    matrix = {}
    for chrom in bins.chroms:
        count = bins.count(chrom)
        out = np.full((count, len(cells)), LABEL_UNBOUND, dtype=np.int8)
        for j, (cons, relax) in enumerate(tables):
            r = relax[relax["chrom"] == chrom]
            c = cons[cons["chrom"] == chrom]
            out[overlap_mask(r["start"].to_numpy(), r["end"].to_numpy(), count), j] = LABEL_AMBIGUOUS
            out[overlap_mask(c["start"].to_numpy(), c["end"].to_numpy(), count), j] = LABEL_BOUND
        matrix[chrom] = out
    return Labels(tf, cells, matrix)


def label_counts(labels: Labels, bins: BinSet) -> pd.DataFrame:
    """Bins per label (B, A, U) and blacklisted bins, per cell type and chromosome."""
    rows = []
    for chrom, mat in labels.matrix.items():
        black = bins.blacklist[chrom]
        for j, cell in enumerate(labels.cells):
            col = mat[:, j]
            rows.append({"tf": labels.tf, "cell": cell, "chrom": chrom,
                         "B": int((col == LABEL_BOUND).sum()), "A": int((col == LABEL_AMBIGUOUS).sum()),
                         "U": int((col == LABEL_UNBOUND).sum()), "blacklisted": int(black.sum()),
                         "B_blacklisted": int(((col == LABEL_BOUND) & black).sum())})
    return pd.DataFrame(rows)
