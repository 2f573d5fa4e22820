"""Six binary annotation features per bin (section 2.2.1 of [deepgrn]): overlap (>= 1 bp) with coding
regions, introns, promoters, 5'UTRs, 3'UTRs and CpG islands, from BED files.

Stored as one bins x 6 uint8 matrix per chromosome (columns in :data:`pgml.tfbs.params.ANNOTATIONS`
order), computed with :func:`pgml.tfbs.bins.overlap_mask`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from pgml.errors import InputError
from pgml.fileio import atomic_path
from pgml.tfbs.bins import BinSet, load_npz, match_contigs, overlap_mask, read_bed, require_file
from pgml.tfbs.params import ANNOTATIONS


def annotate_bins(bins: BinSet, beds: dict[str, Path]) -> dict[str, np.ndarray]:
    """Per chromosome, a bins x 6 uint8 matrix: 1 where the bin overlaps that annotation."""
    missing = [a for a in ANNOTATIONS if a not in beds]
    if missing:
        raise InputError(f"annotation BED(s) missing for {', '.join(missing)}")
    sizes = dict(zip(bins.chroms, bins.sizes, strict=True))
    frames = [match_contigs(read_bed(beds[a]), sizes, beds[a], what="regions") for a in ANNOTATIONS]
    out = {}
    for chrom in bins.chroms:
        count = bins.count(chrom)
        mat = np.zeros((count, len(ANNOTATIONS)), dtype=np.uint8)
        for j, frame in enumerate(frames):
            rows = frame[frame["chrom"] == chrom]
            mat[:, j] = overlap_mask(rows["start"].to_numpy(), rows["end"].to_numpy(), count)
        out[chrom] = mat
    return out


def save_annotation(matrix: dict[str, np.ndarray], path: str | os.PathLike) -> None:
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, chroms=np.array(list(matrix)), **{f"annotation:{c}": m for c, m in matrix.items()})


def load_annotation(path: str | os.PathLike) -> dict[str, np.ndarray]:
    path = require_file(path, "annotation file (run pgml tfbs annotate-bins)")
    with load_npz(path, "annotation file of pgml tfbs annotate-bins") as data:
        return {str(c): data[f"annotation:{c}"] for c in data["chroms"]}
