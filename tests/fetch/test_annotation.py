"""GENCODE GTF -> annotation BEDs: a hand-computed GTF, the merge against brute force, the command."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
from fetch_server import no_internet  # noqa: F401 (the autouse guard)

from pgml.cli import main
from pgml.fetch.annotation import merge_intervals

ATTR = 'gene_id "g{n}"; transcript_id "T{n}";{tag}'


def gtf_line(chrom: str, feature: str, start: int, end: int, strand: str, n: int, basic: bool = True) -> str:
    tag = ' tag "basic";' if basic else ""
    return "\t".join([chrom, "HAVANA", feature, str(start), str(end), ".", strand, ".",
                      ATTR.format(n=n, tag=tag)])


GTF = "\n".join([
    "##description: hand-made",
    # T1, + strand, coding: exons 101-200, 301-400; CDS 151-200, 301-350; stop codon 351-353
    gtf_line("chr1", "transcript", 101, 400, "+", 1),
    gtf_line("chr1", "exon", 101, 200, "+", 1), gtf_line("chr1", "exon", 301, 400, "+", 1),
    gtf_line("chr1", "CDS", 151, 200, "+", 1), gtf_line("chr1", "CDS", 301, 350, "+", 1),
    gtf_line("chr1", "stop_codon", 351, 353, "+", 1),
    gtf_line("chr1", "UTR", 101, 150, "+", 1), gtf_line("chr1", "UTR", 354, 400, "+", 1),
    # T2, - strand, non-coding: two exons
    gtf_line("chr1", "transcript", 1001, 1300, "-", 2),
    gtf_line("chr1", "exon", 1001, 1100, "-", 2), gtf_line("chr1", "exon", 1201, 1300, "-", 2),
    # T3: not basic, ignored
    gtf_line("chr1", "transcript", 5001, 5100, "+", 3, basic=False),
    gtf_line("chr1", "exon", 5001, 5100, "+", 3, basic=False),
    # T4, - strand, coding: one exon 101-300, CDS 151-250, UTRs on both sides
    gtf_line("chr2", "transcript", 101, 300, "-", 4),
    gtf_line("chr2", "exon", 101, 300, "-", 4), gtf_line("chr2", "CDS", 151, 250, "-", 4),
    gtf_line("chr2", "UTR", 101, 150, "-", 4), gtf_line("chr2", "UTR", 251, 300, "-", 4),
]) + "\n"

EXPECTED = {
    "cds": [("chr1", 150, 200), ("chr1", 300, 353), ("chr2", 150, 250)],
    "utr5": [("chr1", 100, 150), ("chr1", 1000, 1100), ("chr1", 1200, 1300), ("chr2", 250, 300)],
    "utr3": [("chr1", 353, 400), ("chr2", 100, 150)],
    "intron": [("chr1", 200, 300), ("chr1", 1100, 1200)],
    "promoter": [("chr1", 0, 200), ("chr1", 899, 1500), ("chr2", 0, 600)],
}


def read_bed(path: Path) -> list[tuple]:
    rows = []
    for line in gzip.decompress(path.read_bytes()).decode().splitlines():
        parts = line.split("\t")
        rows.append((parts[0], int(parts[1]), int(parts[2]), *parts[3:]))
    return rows


def test_gtf_to_the_six_beds_by_hand(tmp_path: Path) -> None:
    gtf = tmp_path / "gencode.gtf.gz"
    gtf.write_bytes(gzip.compress(GTF.encode()))
    cpg = tmp_path / "cpgIslandExt.txt.gz"
    cpg.write_bytes(gzip.compress(b"585\tchr1\t28735\t29810\tCpG: 116\n585\tchr1\t10468\t11240\tCpG: 361\n"))
    out = tmp_path / "beds"
    assert main(["fetch", "annotation", "--gtf", str(gtf), "--cpg", str(cpg), "--output-dir", str(out)]) == 0
    for name, rows in EXPECTED.items():
        assert read_bed(out / f"gencode.basic.{name}.merged.bed.gz") == rows, name
    assert read_bed(out / "gencode.basic.txStart.bed.gz") == [
        ("chr1", 99, 100, ".", ".", "+"), ("chr1", 999, 1000, ".", ".", "-"), ("chr2", 99, 100, ".", ".", "-")]
    assert read_bed(out / "cpgisland.bed.gz") == [("chr1", 10468, 11240), ("chr1", 28735, 29810)]
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["fetch", "annotation", "--gtf", str(gtf), "--cpg", str(cpg), "--output-dir", str(out)]) == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first  # same bytes: deterministic gzip


def test_gtf_without_transcripts_is_one_line(tmp_path: Path, capsys) -> None:
    gtf = tmp_path / "bad.gtf"
    gtf.write_text("chr1\tx\texon\t1\t10\t.\t+\t.\tgene_id \"g\";\n")
    assert main(["fetch", "annotation", "--gtf", str(gtf), "--output-dir", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert str(gtf) in err and "no transcript records" in err and not (tmp_path / "o").exists()


def test_merge_equals_brute_force() -> None:
    rng = np.random.default_rng(0)
    starts = rng.integers(0, 500, 200)
    frame = pd.DataFrame({"chrom": rng.choice(["chr1", "chr2"], 200), "start": starts,
                          "end": starts + rng.integers(1, 20, 200)})
    merged = merge_intervals(frame)
    for chrom in ("chr1", "chr2"):
        covered = np.zeros(600, bool)
        for s, e in frame.loc[frame["chrom"] == chrom, ["start", "end"]].to_numpy():
            covered[s:e] = True
        edges = np.flatnonzero(np.diff(np.r_[0, covered.astype(int), 0]))
        expected = list(zip(edges[::2], edges[1::2], strict=True))
        got = merged.loc[merged["chrom"] == chrom, ["start", "end"]].to_numpy().tolist()
        assert got == [list(map(int, pair)) for pair in expected]
