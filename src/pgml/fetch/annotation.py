"""GENCODE GTF -> the six annotation BEDs DeepGRN reads, and UCSC CpG islands -> a BED.

The ENCODE-DREAM and DeepGRN annotation files (``wgEncodeGencodeBasicV19.{cds,intron,promoter,utr5,
utr3}.merged.bed.gz`` and ``.txStart.bed.gz``) were exported from the UCSC table of GENCODE V19 "basic"
transcripts. This step rebuilds them from the GENCODE GTF, reading the files' definitions off the
released copies (checked on ../shared/data/tfbs/resources):

- only transcripts tagged ``basic``;
- ``cds``: CDS plus stop codon (UCSC counts the stop codon as coding; GTF lists it apart);
- ``utr5`` / ``utr3``: GTF ``UTR`` lines on the 5' / 3' side of the transcript's coding span;
  exons of a non-coding transcript count as 3' UTR on the + strand and 5' UTR on the - strand (UCSC's
  genePred gives them cdsStart = cdsEnd = txStart);
- ``intron``: the gaps between consecutive exons of a transcript;
- ``txStart``: the base before the transcript's genomic start (``txStart - 1 .. txStart``), with its
  strand, whatever the strand (as in the released file: on the - strand this is the 3' end);
- ``promoter``: 501 bases before and 100 after that position on the + strand, 101 before and 500 after
  on the - strand (the released windows);
- every file but txStart is merged (overlapping and touching intervals joined, ``bedtools merge``);
  txStart is sorted and de-duplicated.

Written with pandas rather than bedtools (a binary dependency the tfbs env has no other use for); the
merge is the standard sweep over sorted intervals.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.errors import InputError
from pgml.fileio import atomic_dir

GTF_COLUMNS = ["chrom", "source", "feature", "start", "end", "score", "strand", "frame", "attributes"]
MERGED = ("cds", "intron", "promoter", "utr5", "utr3")
PROMOTER = {"+": (501, 100), "-": (101, 500)}


def read_gtf(path: Path) -> pd.DataFrame:
    """The GTF's rows of basic transcripts: chrom, feature, start0, end, strand, transcript."""
    try:
        gtf = pd.read_csv(path, sep="\t", comment="#", header=None, names=GTF_COLUMNS,
                          usecols=["chrom", "feature", "start", "end", "strand", "attributes"],
                          dtype={"chrom": str, "start": np.int64, "end": np.int64})
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise InputError(f"not a GTF file ({str(err)[:120]})", path=path) from None
    if gtf.empty:
        raise InputError("no GTF records", path=path)
    gtf["transcript"] = gtf["attributes"].str.extract(r'transcript_id "([^"]+)"', expand=False)
    tx = gtf["feature"] == "transcript"
    if not tx.any():
        raise InputError("no transcript records (a GENCODE GTF has one per transcript)", path=path)
    basic = set(gtf.loc[tx & gtf["attributes"].str.contains(r'tag "basic"'), "transcript"])
    gtf = gtf[gtf["transcript"].isin(basic)].copy()
    gtf["start0"] = gtf["start"] - 1
    return gtf[["chrom", "feature", "start0", "end", "strand", "transcript"]]


def merge_intervals(frame: pd.DataFrame) -> pd.DataFrame:
    """Join overlapping and touching intervals per chromosome (chrom, start, end; sorted)."""
    if frame.empty:
        return pd.DataFrame({"chrom": [], "start": [], "end": []})
    frame = frame.sort_values(["chrom", "start", "end"])
    out = []
    for chrom, group in frame.groupby("chrom", sort=True):
        starts, ends = group["start"].to_numpy(), group["end"].to_numpy()
        run_end = np.maximum.accumulate(ends)
        new = np.r_[True, starts[1:] > run_end[:-1]]
        idx = np.flatnonzero(new)
        out.append(pd.DataFrame({"chrom": chrom, "start": starts[idx],
                                 "end": np.maximum.reduceat(ends, idx)}))
    return pd.concat(out, ignore_index=True)


def annotation_tables(gtf: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The six tables (module doc) from :func:`read_gtf`'s rows."""
    tx = gtf[gtf["feature"] == "transcript"].set_index("transcript")
    coding = gtf[gtf["feature"].isin(["CDS", "stop_codon"])]
    span = coding.groupby("transcript").agg(cds_start=("start0", "min"), cds_end=("end", "max"))
    exons = gtf[gtf["feature"] == "exon"].sort_values(["transcript", "start0"])

    def bed(rows: pd.DataFrame, start: str = "start0", end: str = "end") -> pd.DataFrame:
        return pd.DataFrame({"chrom": rows["chrom"].to_numpy(), "start": rows[start].to_numpy(),
                             "end": rows[end].to_numpy()})

    utr = gtf[gtf["feature"] == "UTR"].join(span, on="transcript")
    five = np.where(utr["strand"] == "+", utr["end"] <= utr["cds_start"], utr["start0"] >= utr["cds_end"])
    noncoding = exons[~exons["transcript"].isin(span.index)]
    utr5 = pd.concat([bed(utr[five]), bed(noncoding[noncoding["strand"] == "-"])])
    utr3 = pd.concat([bed(utr[~five]), bed(noncoding[noncoding["strand"] == "+"])])

    same = exons["transcript"].to_numpy()[1:] == exons["transcript"].to_numpy()[:-1]
    intron = pd.DataFrame({"chrom": exons["chrom"].to_numpy()[1:][same],
                           "start": exons["end"].to_numpy()[:-1][same],
                           "end": exons["start0"].to_numpy()[1:][same]})
    intron = intron[intron["end"] > intron["start"]]

    left = tx["start0"].to_numpy()
    plus = (tx["strand"] == "+").to_numpy()
    before = np.where(plus, PROMOTER["+"][0], PROMOTER["-"][0])
    after = np.where(plus, PROMOTER["+"][1], PROMOTER["-"][1])
    promoter = pd.DataFrame({"chrom": tx["chrom"].to_numpy(), "start": np.maximum(left - before, 0),
                             "end": left + after})
    tx_start = pd.DataFrame({"chrom": tx["chrom"].to_numpy(), "start": np.maximum(left - 1, 0), "end": left,
                             "name": ".", "score": ".", "strand": tx["strand"].to_numpy()})
    tx_start = tx_start.drop_duplicates().sort_values(["chrom", "start", "strand"], ignore_index=True)
    tables = {"cds": bed(coding), "intron": intron, "promoter": promoter, "utr5": utr5, "utr3": utr3}
    merged = {name: merge_intervals(table) for name, table in tables.items()}
    merged["txStart"] = tx_start
    return merged


def read_cpg_islands(path: Path) -> pd.DataFrame:
    """UCSC ``cpgIslandExt.txt.gz`` (bin, chrom, chromStart, chromEnd, name, ...) -> chrom, start, end."""
    try:
        table = pd.read_csv(path, sep="\t", header=None, usecols=[1, 2, 3], names=["chrom", "start", "end"],
                            dtype={"chrom": str, "start": np.int64, "end": np.int64})
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise InputError(f"not UCSC cpgIslandExt rows (bin, chrom, start, end, ...): {str(err)[:120]}",
                         path=path) from None
    return table.sort_values(["chrom", "start", "end"], ignore_index=True)


def _write_bed_gz(frame: pd.DataFrame, path: Path) -> None:
    """Gzipped BED with mtime 0 in the header, so the same input gives the same bytes."""
    text = frame.to_csv(sep="\t", header=False, index=False)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as fh:
        fh.write(text.encode())


def write_annotation(gtf_path: Path, output_dir: Path, *, prefix: str = "gencode.basic",
                     cpg: Path | None = None) -> dict[str, Path]:
    """Write ``<prefix>.<name>.merged.bed.gz`` (five), ``<prefix>.txStart.bed.gz`` and ``cpgisland.bed.gz``."""
    if not re.match(r"^[\w.-]+$", prefix):
        raise InputError(f"--prefix {prefix!r}: use letters, digits, '.', '_' or '-'")
    tables = annotation_tables(read_gtf(gtf_path))
    names = {n: f"{prefix}.{n}.merged.bed.gz" for n in MERGED} | {"txStart": f"{prefix}.txStart.bed.gz"}
    if cpg is not None:
        tables["cpg"] = read_cpg_islands(cpg)
        names["cpg"] = "cpgisland.bed.gz"
    with atomic_dir(output_dir) as tmp:
        for key, name in names.items():
            _write_bed_gz(tables[key], tmp / name)
    return {k: Path(output_dir) / n for k, n in names.items()}
