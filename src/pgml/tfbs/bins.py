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

import contextlib
import gzip
import io
import logging
import os
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


#: leading lines of a BED file that are not records: UCSC track and browser lines, comments
BED_HEADER_PREFIXES = ("#", "track", "browser")
#: bytes per bin while binning: the kept bool mask, plus the int32 difference array, its int64 cumsum
#: and the bool result of :func:`overlap_mask` for the chromosome being masked
BYTES_PER_BIN, BYTES_PER_BIN_WORK = 1, 13


def require_file(path: str | os.PathLike, what: str = "file") -> Path:
    """``path`` as a Path when it is a regular file; one clear line when it is missing, a directory or
    a special file (a FIFO or a device would block or be read as nothing)."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"is a directory, not {'an' if what[:1] in 'aeiou' else 'a'} {what}", path=path)
    if not path.exists():
        raise InputError(f"{what} not found", path=path)
    if not path.is_file():
        raise InputError(f"is not a regular file (a pipe or device?); give the {what} itself", path=path)
    if not os.access(path, os.R_OK):
        raise InputError(f"{what} is not readable (permission denied)", path=path)
    return path


def _open_text(path: Path):
    return gzip.open(path, "rt") if path.suffix == ".gz" else open(path)


def read_lines(path: Path) -> list[str]:
    """All lines of a plain or gzipped text file; a truncated or corrupt file is one clear line."""
    try:
        with _open_text(path) as handle:
            return handle.readlines()
    except (EOFError, OSError, UnicodeDecodeError, zlib.error) as exc:
        kind = "truncated or corrupt gzip file" if path.suffix == ".gz" else "unreadable text file"
        raise InputError(f"{kind} ({type(exc).__name__}: {exc})", path=path) from None


def read_chrom_sizes(path: str | os.PathLike) -> dict[str, int]:
    """``chrom<TAB>length`` per line (a chrom.sizes file or a FASTA ``.fai`` index)."""
    path = require_file(path, "chrom.sizes file")
    sizes: dict[str, int] = {}
    for number, line in enumerate(read_lines(path), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.rstrip("\n").split("\t")
        try:
            length = int(parts[1])
        except (IndexError, ValueError):
            raise InputError("expected chrom<TAB>length", path=path, record=f"line {number}") from None
        if length <= 0:
            raise InputError(f"length {length} must be > 0", path=path, record=f"line {number}")
        if parts[0] in sizes:
            raise InputError(f"chromosome {parts[0]} is listed twice", path=path, record=f"line {number}")
        sizes[parts[0]] = length
    if not sizes:
        raise InputError("no chromosomes", path=path)
    return sizes


def read_bed(path: str | os.PathLike, columns: int = 3) -> pd.DataFrame:
    """First ``columns`` (>= 3) columns of a BED/narrowPeak file (plain or .gz): chrom, start, end, ...

    Leading UCSC ``track`` / ``browser`` lines and comments are skipped; record numbers count records.
    """
    path = require_file(path, "BED file")
    lines = read_lines(path)
    skip = 0
    while skip < len(lines) and (not lines[skip].strip() or lines[skip].startswith(BED_HEADER_PREFIXES)):
        skip += 1
    try:
        frame = pd.read_csv(io.StringIO("".join(lines[skip:])), sep="\t", header=None, comment="#",
                            usecols=range(columns), dtype={0: str})
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


def check_contigs(have: dict[str, int], want: dict[str, int], path: str | os.PathLike, *, where: str,
                  advice: str, length_in: str = "", reference: str = "the bins say") -> None:
    """Refuse a file whose contigs (``have``: name -> length) lack, misname (``1`` for ``chr1``) or give
    another length to a chromosome of ``want``; ``where`` names the file's contig list in the message."""
    missing = [c for c in want if c not in have]
    if missing:
        other = missing[0][3:] if missing[0].startswith("chr") else f"chr{missing[0]}"
        hint = f" (it names them like {other!r}: {advice})" if other in have else ""
        raise InputError(f"chromosome(s) {', '.join(missing[:6])} of the bins missing from {where}{hint}", path=path)
    wrong = [c for c in want if have[c] != want[c]]
    if wrong:
        raise InputError(f"length of {wrong[0]} is {have[wrong[0]]}{length_in}, {reference} {want[wrong[0]]} "
                         "(another assembly?)", path=path)


@contextlib.contextmanager
def load_npz(path: Path, what: str) -> Iterator[Any]:
    """``np.load`` of an ``.npz`` written by a tfbs step; any other file (or a missing key) is one line."""
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"not a {what} ({type(exc).__name__})", path=path) from None
    if not hasattr(data, "files"):
        raise InputError(f"not a {what} (a single array, not an .npz archive)", path=path)
    try:
        with data:
            yield data
    except KeyError as exc:
        raise InputError(f"not a {what} (no entry {exc})", path=path) from None


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
        path = require_file(path, "bins file (run pgml tfbs bin-genome)")
        with load_npz(path, "bins file of pgml tfbs bin-genome") as data:
            chroms = [str(c) for c in data["chroms"]]
            return cls(chroms, [int(s) for s in data["sizes"]],
                       {c: data[f"blacklist:{c}"].astype(bool) for c in chroms})

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame({"chrom": self.chroms, "length": self.sizes,
                             "bins": [n_bins(s) for s in self.sizes],
                             "blacklisted": [int(self.blacklist[c].sum()) for c in self.chroms]})


def check_bin_memory(lengths: list[int], path: str | os.PathLike) -> None:
    """Refuse, before any allocation, bins that would not fit in memory (``pgml.runtime.check_memory``)."""
    from pgml.runtime import check_memory

    counts = [n_bins(n) for n in lengths]
    estimate = BYTES_PER_BIN * sum(counts) + BYTES_PER_BIN_WORK * max(counts)
    check_memory(estimate, f"{sum(counts):,} bins", lower_with="--chroms (fewer or shorter chromosomes)",
                 path=path)


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
    check_bin_memory([sizes[c] for c in chroms], sizes_path)
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
