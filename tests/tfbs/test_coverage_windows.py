"""DNase coverage through bamCoverage vs 5'-end counts on a small BAM, BAM indexing, and windows."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from pgml.errors import InputError
from pgml.tfbs.coverage import dnase_coverage, indexed_bam

pysam = pytest.importorskip("pysam")
pyBigWig = pytest.importorskip("pyBigWig")
needs_deeptools = pytest.mark.skipif(shutil.which("bamCoverage", path=os.pathsep.join([os.environ.get("PATH", ""), str(Path(sys.executable).parent)])) is None, reason="deeptools bamCoverage not on PATH")

SIZES = {"chr1": 2000, "chrX": 1000}


def write_bam(path: Path, reads: list[tuple[str, int, bool]], *, index: bool = True, order: str = "coordinate") -> Path:
    header = {"HD": {"VN": "1.6", "SO": order}, "SQ": [{"SN": c, "LN": n} for c, n in SIZES.items()]}
    with pysam.AlignmentFile(str(path), "wb", header=header) as bam:
        for k, (chrom, start, reverse) in enumerate(reads):
            r = pysam.AlignedSegment(bam.header)
            r.query_name, r.reference_id, r.reference_start = f"r{k}", list(SIZES).index(chrom), start
            r.cigarstring, r.flag, r.mapping_quality, r.query_sequence = "36M", 16 if reverse else 0, 60, "A" * 36
            bam.write(r)
    if index:
        pysam.index(str(path))
    return path


READS = [("chr1", 100, False), ("chr1", 100, False), ("chr1", 200, True), ("chr1", 1500, False), ("chrX", 10, False)]


@needs_deeptools
def test_cut_counts_equal_five_prime_ends(tmp_path: Path) -> None:
    bam = write_bam(tmp_path / "a.bam", READS)
    out = tmp_path / "cov.bw"
    dnase_coverage([bam], out, sizes=SIZES, chroms=["chr1"], blacklist=None, effective_genome_size=3000,
                   normalize="None")
    bw = pyBigWig.open(str(out))
    values = np.nan_to_num(np.asarray(bw.values("chr1", 0, 2000, numpy=True)))
    # --Offset 1: one count at each read's 5' end (forward: its start; reverse: its last base, 200 + 35)
    expected = np.zeros(2000)
    expected[[100, 235, 1500]] = [2, 1, 1]
    np.testing.assert_array_equal(values, expected)


@needs_deeptools
def test_rpgc_scales_counts_and_merges_replicates(tmp_path: Path) -> None:
    a = write_bam(tmp_path / "a.bam", READS[:2] + READS[4:])
    b = write_bam(tmp_path / "b.bam", READS[2:4], index=False)
    out = tmp_path / "cov.bw"
    dnase_coverage([a, b], out, sizes=SIZES, chroms=["chr1"], blacklist=None, effective_genome_size=3000)
    values = np.nan_to_num(np.asarray(pyBigWig.open(str(out)).values("chr1", 0, 2000, numpy=True)))
    nz = np.flatnonzero(values)
    assert nz.tolist() == [100, 235, 1500]
    # one scale factor for every position: the profile of the merged cut counts
    np.testing.assert_allclose(values[nz] / values[nz].min(), [2, 1, 1], rtol=1e-3)
    assert not (tmp_path / "b.bam.bai").exists()  # the user's directory is left alone


def test_name_sorted_bam_without_index_is_refused(tmp_path: Path) -> None:
    bam = write_bam(tmp_path / "q.bam", READS[:1], index=False, order="queryname")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with pytest.raises(InputError, match="sorted by queryname, not by coordinate"):
        indexed_bam(bam, scratch)


def test_windows_one_hot_mappability_dnase(tmp_path: Path) -> None:
    from pgml.tfbs.bins import bin_genome
    from pgml.tfbs.windows import TfbsWindows, WindowSource

    fasta = tmp_path / "g.fa"
    fasta.write_text(">chr1\n" + "ACGT" * 100 + "\n")
    pysam.faidx(str(fasta))
    tracks = {}
    for name, value in (("map", 0.5), ("dn", 2.0)):
        path = tmp_path / f"{name}.bw"
        bw = pyBigWig.open(str(path), "w")
        bw.addHeader([("chr1", 400)])
        bw.addEntries(["chr1"], [0], ends=[400], values=[value])
        bw.close()
        tracks[name] = path
    bins = bin_genome({"chr1": 400}, None, None)
    source = WindowSource(fasta, tracks["map"], {"c": tracks["dn"]}, flank=100)
    data = TfbsWindows(source, bins, ["c"], {"chr1": np.ones((bins.count("chr1"), 6), np.uint8)}, np.zeros((1, 8)))
    x, z, y = data[0]
    assert x.shape == (6, 400)
    # bin 0 starts at 0: the first 100 positions lie before the chromosome (all zero)
    assert x[:, :100].abs().sum() == 0
    assert x[:4, 100:104].argmax(0).tolist() == [0, 1, 2, 3]
    assert x[4, 100:].unique().tolist() == [0.5] and x[5, 100:].unique().tolist() == [2.0]
    assert z.tolist() == [1.0] * 6 + [0.0] * 8 and y.item() == 0.0


def test_predict_regions_blacklist_and_outputs(tmp_path: Path) -> None:
    import gzip

    import pandas as pd
    import torch

    from pgml.tfbs.bins import bin_genome
    from pgml.tfbs.model import TfbsModule
    from pgml.tfbs.predict import predict_cell, write_predictions
    from pgml.tfbs.windows import TfbsWindows, WindowSource

    fasta = tmp_path / "g.fa"
    fasta.write_text(">chr1\n" + "ACGTTGCA" * 125 + "\n")
    pysam.faidx(str(fasta))
    track = tmp_path / "t.bw"
    bw = pyBigWig.open(str(track), "w")
    bw.addHeader([("chr1", 1000)])
    bw.addEntries(["chr1"], [0], ends=[1000], values=[1.0])
    bw.close()
    black = tmp_path / "black.bed"
    black.write_text("chr1\t0\t10\n")
    bins = bin_genome({"chr1": 1000}, None, black)
    source = WindowSource(fasta, track, {"c": track}, flank=20)
    data = TfbsWindows(source, bins, ["c"], {"chr1": np.zeros((bins.count("chr1"), 6), np.uint8)}, np.zeros((1, 8)))
    torch.manual_seed(0)
    module = TfbsModule(240, {"conv_filters": 4, "conv_kernel": 5, "pool": 4, "lstm_hidden": 3, "d_k": 4,
                              "dense": 4}, 1e-3)
    regions = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [120]})
    frame = predict_cell(module, data, ["chr1"], regions=regions, device="cpu")
    # [0, 120) overlaps bins 0, 1, 2 ([0,200), [50,250), [100,300)); bin 0 is blacklisted -> 0
    assert frame["start"].tolist() == [0, 50, 100]
    assert frame.loc[0, ["single", "pairwise", "ensemble"]].tolist() == [0.0, 0.0, 0.0]
    assert (frame.loc[1:, "ensemble"] > 0).all()
    full = predict_cell(module, data, ["chr1"], device="cpu")
    assert len(full) == bins.count("chr1")
    np.testing.assert_allclose(full["ensemble"].to_numpy()[1:3], frame["ensemble"].to_numpy()[1:], rtol=1e-5)
    out = tmp_path / "pred"
    write_predictions(full, out, {"chr1": 1000})
    with gzip.open(out / "predictions.tsv.gz", "rt") as handle:
        first = handle.readline().split("\t")
    assert first[:3] == ["chr1", "0", "200"] and float(first[3]) == 0.0
    track_out = pyBigWig.open(str(out / "track.bw"))
    # each 50-bp step carries the bin starting there; the last bin covers its 200 bp
    assert track_out.values("chr1", 60, 61)[0] == pytest.approx(full["ensemble"].iloc[1], rel=1e-4)
    assert track_out.values("chr1", 999, 1000)[0] == pytest.approx(full["ensemble"].iloc[-1], rel=1e-4)
