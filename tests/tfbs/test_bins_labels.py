"""Binning and labelling on hand-made chromosomes and peaks (known answers), and overlap vs brute force."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from pgml.errors import InputError
from pgml.tfbs.annotate import annotate_bins
from pgml.tfbs.bins import bin_genome, n_bins, overlap_mask
from pgml.tfbs.labels import label_bins, label_counts
from pgml.tfbs.params import ANNOTATIONS


def write(path: Path, rows: list[str]) -> Path:
    text = "".join(r + "\n" for r in rows)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def test_bin_count_of_known_chromosome_lengths() -> None:
    # bins [50 i, 50 i + 200) inside the chromosome: floor((n - 200) / 50) + 1
    assert n_bins(1000) == 17
    assert n_bins(200) == 1
    assert n_bins(199) == 0
    assert n_bins(249) == 1 and n_bins(250) == 2
    # hg19 chr21 (48,129,895 bp): 962,594 bins
    assert n_bins(48_129_895) == 962_594


def test_overlap_mask_equals_brute_force() -> None:
    rng = np.random.default_rng(1)
    length = 5000
    count = n_bins(length)
    starts = rng.integers(0, length - 1, size=40)
    ends = starts + rng.integers(1, 400, size=40)
    got = overlap_mask(starts, ends, count)
    bs = np.arange(count) * 50
    want = ((bs[:, None] < ends[None, :]) & (bs[:, None] + 200 > starts[None, :])).any(axis=1)
    np.testing.assert_array_equal(got, want)


def test_labels_on_hand_made_peaks(tmp_path: Path) -> None:
    sizes = {"chr1": 1000}
    black = write(tmp_path / "black.bed", ["chr1\t0\t10", "chrUn_x\t0\t100"])
    bins = bin_genome(sizes, None, black)
    # only bin 0 = [0, 200) overlaps the blacklist; the unknown contig is dropped
    assert np.flatnonzero(bins.blacklist["chr1"]).tolist() == [0]
    # conservative [449, 450): bins 5..8; bin 5 = [250, 450) touches it by its last base, bin 9 = [450, 650) not
    cons = write(tmp_path / "c.narrowPeak.gz", ["chr1\t449\t450\tp\t0\t.\t1\t1\t1\t0"])
    relax = write(tmp_path / "r.narrowPeak", ["chr1\t440\t460\tp\t0\t.\t1\t1\t1\t0",
                                              "chr1\t600\t700\tp\t0\t.\t1\t1\t1\t0"])
    labels = label_bins(bins, "TF", [("cellX", cons, relax)])
    col = labels.matrix["chr1"][:, 0]
    assert np.flatnonzero(col == 1).tolist() == [5, 6, 7, 8]
    assert np.flatnonzero(col == -1).tolist() == [9, 10, 11, 12, 13]
    assert np.flatnonzero(col == 0).tolist() == [0, 1, 2, 3, 4, 14, 15, 16]
    counts = label_counts(labels, bins).iloc[0]
    assert (counts["B"], counts["A"], counts["U"], counts["blacklisted"]) == (4, 5, 8, 1)


def test_peaks_in_another_chromosome_style_are_an_error(tmp_path: Path) -> None:
    bins = bin_genome({"chr1": 1000}, None, None)
    cons = write(tmp_path / "c.bed", ["1\t100\t300"])
    with pytest.raises(InputError, match="chromosome '1' is not in the genome, which names it 'chr1'"):
        label_bins(bins, "TF", [("cellX", cons, cons)])


def test_unknown_chromosome_requested_is_an_error() -> None:
    with pytest.raises(InputError, match="chrZ"):
        bin_genome({"chr1": 1000}, ["chr1", "chrZ"], None)


def test_annotation_flags(tmp_path: Path) -> None:
    bins = bin_genome({"chr1": 1000, "chr2": 400}, None, None)
    beds = {a: write(tmp_path / f"{a}.bed", []) for a in ANNOTATIONS}
    beds["promoter"] = write(tmp_path / "promoter.bed", ["chr1\t0\t1", "chr2\t399\t400"])
    out = annotate_bins(bins, beds)
    k = ANNOTATIONS.index("promoter")
    assert np.flatnonzero(out["chr1"][:, k]).tolist() == [0]
    assert np.flatnonzero(out["chr2"][:, k]).tolist() == [4]
    assert out["chr1"].sum() == 1 and out["chr1"].dtype == np.uint8
