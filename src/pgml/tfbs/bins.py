"""The challenge's bins: 200 bp every 50 bp over chosen chromosomes, and interval -> bin overlap.

Bins are never listed one by one: bin ``i`` of a chromosome covers ``[50 i, 50 i + 200)`` (BED half-open
coordinates), so a chromosome of length ``n`` holds ``floor((n - 200) / 50) + 1`` bins (section 2.2.1 of
[deepgrn]). :func:`overlap_mask` turns intervals into a per-bin mask with a difference array
(``np.add.at`` + ``cumsum``): O(bins + intervals) time, one int32 array per chromosome of memory,
no Python loop per bin or interval, so a genome is handled one chromosome at a time. Written here
rather than with ``bedtools intersect`` because bins are implicit (bedtools would need the 51.7
million hg19 bins as a file); ``benchmarks/tfbs_labels.py`` checks the counts against bedtools.
"""

from __future__ import annotations

import gzip
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.errors import InputError
from pgml.fileio import atomic_path
from pgml.tfbs.params import BIN_SIZE, BIN_STEP

log = logging.getLogger(__name__)


def n_bins(length: int, size: int = BIN_SIZE, step: int = BIN_STEP) -> int:
    """Bins of ``size`` bp every ``step`` bp that fit in ``length`` bp."""
    return 0 if length < size else (length - size) // step + 1


def bin_starts(length: int, size: int = BIN_SIZE, step: int = BIN_STEP) -> np.ndarray:
    """0-based start of every bin of a chromosome of ``length`` bp."""
    return np.arange(n_bins(length, size, step), dtype=np.int64) * step


def overlap_mask(starts: np.ndarray, ends: np.ndarray, count: int, size: int = BIN_SIZE,
                 step: int = BIN_STEP) -> np.ndarray:
    """Bool mask of the ``count`` bins overlapping at least one interval ``[start, end)`` by >= 1 bp.

    Bin ``i`` overlaps ``[s, e)`` iff ``step*i < e`` and ``step*i + size > s``, i.e.
    ``floor((s - size) / step) + 1 <= i <= floor((e - 1) / step)``.
    """
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    lo = np.maximum(np.floor_divide(starts - size, step) + 1, 0)
    hi = np.minimum(np.floor_divide(ends - 1, step), count - 1)
    keep = lo <= hi
    diff = np.zeros(count + 1, dtype=np.int32)
    np.add.at(diff, lo[keep], 1)
    np.add.at(diff, hi[keep] + 1, -1)
    return np.cumsum(diff[:-1]) > 0


def _open_text(path: Path):
    return gzip.open(path, "rt") if path.suffix == ".gz" else open(path)


def read_chrom_sizes(path: str | os.PathLike) -> dict[str, int]:
    """``chrom<TAB>length`` per line (a chrom.sizes file or a FASTA ``.fai`` index)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", path=path)
    sizes: dict[str, int] = {}
    with _open_text(path) as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.rstrip("\n").split("\t")
            try:
                length = int(parts[1])
            except (IndexError, ValueError):
                raise InputError("expected chrom<TAB>length", path=path, record=f"line {number}") from None
            if length <= 0:
                raise InputError(f"length {length} must be > 0", path=path, record=f"line {number}")
            sizes[parts[0]] = length
    if not sizes:
        raise InputError("no chromosomes", path=path)
    return sizes


def read_bed(path: str | os.PathLike, columns: int = 3) -> pd.DataFrame:
    """First ``columns`` (>= 3) columns of a BED/narrowPeak file (plain or .gz): chrom, start, end, ..."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", path=path)
    try:
        frame = pd.read_csv(path, sep="\t", header=None, comment="#", usecols=range(columns),
                            dtype={0: str}, compression="infer")
    except pd.errors.EmptyDataError:
        return pd.DataFrame({"chrom": pd.Series(dtype=str), "start": pd.Series(dtype=np.int64),
                             "end": pd.Series(dtype=np.int64)})
    except ValueError as exc:
        raise InputError(f"not a BED file with {columns} tab-separated columns ({exc})", path=path) from None
    frame = frame.rename(columns={0: "chrom", 1: "start", 2: "end"})
    for col in ("start", "end"):
        if not pd.api.types.is_integer_dtype(frame[col]):
            bad = pd.to_numeric(frame[col], errors="coerce").isna() | (
                pd.to_numeric(frame[col], errors="coerce") % 1 != 0)
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 1 if bad.any() else 1
            raise InputError(f"{col} is not an integer", path=path, record=f"record {row}")
    bad = (frame["start"] < 0) | (frame["end"] <= frame["start"])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"needs 0 <= start < end, got {frame['start'].iat[row]}-{frame['end'].iat[row]}",
                         path=path, record=f"record {row + 1}")
    return frame


def match_contigs(frame: pd.DataFrame, sizes: dict[str, int], path: str | os.PathLike, *,
                  what: str = "intervals") -> pd.DataFrame:
    """Rows of ``frame`` on contigs of the genome; other contigs are dropped and reported in the log.

    A contig that names a genome chromosome in another style (``1`` for ``chr1`` or the reverse) is an
    error, since it means every interval of that chromosome would silently be lost.
    """
    contigs = set(frame["chrom"].unique())
    unknown = sorted(contigs - set(sizes))
    for name in unknown:
        other = name[3:] if name.startswith("chr") else f"chr{name}"
        if other in sizes:
            raise InputError(f"chromosome {name!r} is not in the genome, which names it {other!r}; "
                             "use the genome's chromosome names", path=path)
    if unknown:
        dropped = int(frame["chrom"].isin(unknown).sum())
        log.warning("%s: %d %s on %d contigs not in the genome dropped (%s)", path, dropped, what,
                    len(unknown), ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else ""))
        frame = frame[~frame["chrom"].isin(unknown)]
    return frame


@dataclass
class BinSet:
    """Bins over chosen chromosomes: names, lengths and the blacklist mask of each chromosome."""

    chroms: list[str]
    sizes: list[int]
    blacklist: dict[str, np.ndarray] = field(default_factory=dict)

    def count(self, chrom: str) -> int:
        return n_bins(self.sizes[self.chroms.index(chrom)])

    def save(self, path: str | os.PathLike) -> None:
        arrays = {f"blacklist:{c}": self.blacklist[c] for c in self.chroms}
        with atomic_path(path, suffix=".npz") as tmp:
            np.savez_compressed(tmp, chroms=np.array(self.chroms), sizes=np.array(self.sizes, dtype=np.int64),
                                **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> BinSet:
        path = Path(path)
        if not path.is_file():
            raise InputError("bins file not found (run pgml tfbs bin-genome)", path=path)
        with np.load(path) as data:
            chroms = [str(c) for c in data["chroms"]]
            return cls(chroms, [int(s) for s in data["sizes"]],
                       {c: data[f"blacklist:{c}"].astype(bool) for c in chroms})

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame({"chrom": self.chroms, "length": self.sizes,
                             "bins": [n_bins(s) for s in self.sizes],
                             "blacklisted": [int(self.blacklist[c].sum()) for c in self.chroms]})


def bin_genome(sizes: dict[str, int], chroms: list[str] | None, blacklist: str | os.PathLike | None,
               sizes_path: str | os.PathLike = "chrom.sizes") -> BinSet:
    """Bins over ``chroms`` (default: all of ``sizes``) with a blacklist mask (bins overlapping it)."""
    if chroms:
        missing = [c for c in chroms if c not in sizes]
        if missing:
            raise InputError(f"chromosome(s) {', '.join(missing)} not in the genome "
                             f"(it has {', '.join(list(sizes)[:6])}{' ...' if len(sizes) > 6 else ''})",
                             path=sizes_path)
    else:
        chroms = list(sizes)
    short = [c for c in chroms if n_bins(sizes[c]) == 0]
    if short:
        log.warning("%s shorter than one bin: left out", ", ".join(short))
        chroms = [c for c in chroms if c not in short]
    if not chroms:
        raise InputError("no chromosome holds a bin", path=sizes_path)
    bl = None
    if blacklist is not None:
        bl = match_contigs(read_bed(blacklist), sizes, blacklist, what="blacklist regions")
    masks = {}
    for chrom in chroms:
        count = n_bins(sizes[chrom])
        if bl is not None:
            rows = bl[bl["chrom"] == chrom]
            masks[chrom] = overlap_mask(rows["start"].to_numpy(), rows["end"].to_numpy(), count)
        else:
            masks[chrom] = np.zeros(count, dtype=bool)
    return BinSet(list(chroms), [sizes[c] for c in chroms], masks)
