"""DNase coverage through bamCoverage vs 5'-end counts on a small BAM, BAM indexing, and windows."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from pgml.errors import InputError
from pgml.tfbs.coverage import dnase_coverage, indexed_bam

pysam = pytest.importorskip("pysam")
pyBigWig = pytest.importorskip("pyBigWig")
needs_deeptools = pytest.mark.skipif(shutil.which("bamCoverage") is None, reason="deeptools bamCoverage not on PATH")

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
