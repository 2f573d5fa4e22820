"""Streaming 1,000-bp windows: one-hot DNA, mappability and DNase -> an L x 6 input per (bin, cell type).

Section 2.2.1 of [deepgrn]: each 200-bp bin is widened by 400 bp on both sides; channels A, C, G, T
(one-hot from the FASTA through pyfaidx; N and positions past the chromosome ends are all zeros), 35-bp
uniqueness (mappability bigWig) and DNase 1x coverage (bigWig), both read with pyBigWig. The
non-sequential features of a window are the bin's 6 annotation flags and the cell type's 8 expression
components. Nothing is materialised: a window is read when the loader asks for it, and the files are
opened lazily in each loader worker. Prediction reads a batch at a time (:class:`WindowBatches`): the
windows of nearby bins are cut as strided views from one chromosome slice, read once.

A window is addressed by one integer key ``(offset[chrom] + bin) * n_cells + cell`` over the chosen
chromosomes, so training draws keys: every positive (B) bin plus, each epoch, a fresh sample of
negative (U) bins found by vectorised rejection sampling over the key space (A and blacklisted bins
never enter training or validation), in a ``(seed, epoch)``-determined order
(:class:`EpochNegativeSampler`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pgml.errors import InputError
from pgml.fileio import atomic_path
from pgml.tfbs.bins import BinSet, check_contigs, require_file
from pgml.tfbs.params import BIN_SIZE, BIN_STEP, FLANK, LABEL_BOUND, LABEL_UNBOUND, SLICE_MAX_GAP

#: byte -> channel (A, C, G, T); anything else (N, IUPAC codes) -> 4 = all zeros
_LOOKUP = np.full(256, 4, dtype=np.int64)
for _i, _b in enumerate("ACGT"):
    _LOOKUP[ord(_b)] = _i
    _LOOKUP[ord(_b.lower())] = _i


def one_hot(seq: str) -> np.ndarray:
    """4 x L float32 one-hot of ``seq`` (A, C, G, T rows; other letters all zero)."""
    idx = _LOOKUP[np.frombuffer(seq.encode("ascii"), dtype=np.uint8)]
    out = np.zeros((5, idx.size), dtype=np.float32)
    out[idx, np.arange(idx.size)] = 1.0
    return out[:4]


def reverse_complement(x: torch.Tensor) -> torch.Tensor:
    """Reverse complement of ``(..., 6, L)`` inputs: positions reversed, A<->T and C<->G swapped."""
    return torch.cat([x[..., :4, :].flip(-2), x[..., 4:, :]], dim=-2).flip(-1)


@dataclass
class WindowSource:
    """Where the sequential inputs live: FASTA, mappability bigWig and one DNase bigWig per cell type."""

    fasta: Path
    mappability: Path
    dnase: dict[str, Path]
    flank: int = FLANK
    _handles: dict[str, Any] = field(default_factory=dict, repr=False)

    def _open(self) -> None:
        import pyBigWig

        self._handles["fasta"] = open_fasta(self.fasta)
        self._handles["map"] = pyBigWig.open(str(self.mappability))
        self._handles["dnase"] = {c: pyBigWig.open(str(p)) for c, p in self.dnase.items()}

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_handles"] = {}
        return state

    @property
    def length(self) -> int:
        return BIN_SIZE + 2 * self.flank

    def window(self, chrom: str, chrom_len: int, start: int, cell: str) -> np.ndarray:
        """6 x L input of the window starting ``flank`` bp before the bin at ``start``."""
        if not self._handles:
            self._open()
        lo, hi = start - self.flank, start + BIN_SIZE + self.flank
        a, b = max(lo, 0), min(hi, chrom_len)
        x = np.zeros((6, hi - lo), dtype=np.float32)
        x[:4, a - lo:b - lo] = one_hot(self._handles["fasta"][chrom][a:b])
        for row, bw in ((4, self._handles["map"]), (5, self._handles["dnase"][cell])):
            vals = np.asarray(bw.values(chrom, a, b, numpy=True), dtype=np.float32)
            x[row, a - lo:b - lo] = np.nan_to_num(vals, nan=0.0)
        return x

    def windows(self, chrom: str, chrom_len: int, starts: np.ndarray, cell: str) -> np.ndarray:
        """n x 6 x L inputs of the bins starting at ``starts`` (increasing), cut from one slice.

        The same numbers as :meth:`window` for each start: the slice spanning all the windows is read
        once (sequence through pyfaidx, one-hot in numpy; mappability and DNase with one pyBigWig
        ``values(..., numpy=True)`` call each), zero outside the chromosome, and the windows are strided
        views of it (consecutive 200-bp bins overlap by 950 of their 1,000 bp, so a per-window read
        fetches every base about 20 times).
        """
        block, offsets = self.slice_of(chrom, chrom_len, starts, cell)
        view = np.lib.stride_tricks.sliding_window_view(block, self.length, axis=1).transpose(1, 0, 2)
        return view[offsets]  # positions x 6 x L view -> one copy: n contiguous 6 x L windows

    def slice_of(self, chrom: str, chrom_len: int, starts: np.ndarray, cell: str) -> tuple[np.ndarray, np.ndarray]:
        """The 6 x span slice holding the windows of the bins at ``starts`` (increasing), and where each
        window begins in it."""
        if not self._handles:
            self._open()
        starts = np.asarray(starts, dtype=np.int64)
        lo, hi = int(starts[0]) - self.flank, int(starts[-1]) + BIN_SIZE + self.flank
        return self._slice(chrom, chrom_len, lo, hi, cell), starts - starts[0]

    def _slice(self, chrom: str, chrom_len: int, lo: int, hi: int, cell: str) -> np.ndarray:
        """6 x (hi - lo) inputs of ``[lo, hi)``: one-hot, mappability, DNase (zero outside the chromosome)."""
        a, b = max(lo, 0), min(hi, chrom_len)
        x = np.zeros((6, hi - lo), dtype=np.float32)
        if b <= a:
            return x
        x[:4, a - lo:b - lo] = one_hot(self._handles["fasta"][chrom][a:b])
        for row, bw in ((4, self._handles["map"]), (5, self._handles["dnase"][cell])):
            vals = np.asarray(bw.values(chrom, a, b, numpy=True), dtype=np.float32)
            x[row, a - lo:b - lo] = np.nan_to_num(vals, nan=0.0)
        return x

    def check(self, bins: BinSet, cells: list[str]) -> None:
        """Refuse inputs that do not cover the bins: FASTA and mappability contigs (names and lengths)
        and, for each of ``cells``, a DNase track with signal (never a KeyError inside a loader)."""
        from pgml.tfbs.coverage import check_bigwig

        sizes = dict(zip(bins.chroms, bins.sizes, strict=True))
        check_fasta_contigs(self.fasta, sizes)
        check_bigwig(self.mappability, sizes, bins.chroms, signal=False)
        for cell in cells:
            check_bigwig(self.dnase[cell], sizes, bins.chroms)


def fasta_index_path(fasta: Path) -> Path:
    """Where the ``.fai`` of ``fasta`` is read from: its own ``FASTA.fai`` when present and not older than the
    FASTA, else one in pgml's cache (``$XDG_CACHE_HOME/pgml/fai``, or the temporary directory), keyed by
    the FASTA's path, size and time, so the user's folder is never written to (it may be read-only)."""
    own = Path(f"{fasta}.fai")
    if own.is_file() and own.stat().st_mtime >= fasta.stat().st_mtime:
        return own
    stat = fasta.stat()
    key = hashlib.sha1(f"{fasta.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:20]
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    for folder in (base / "pgml" / "fai", Path(tempfile.gettempdir()) / "pgml_fai"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return folder / f"{key}.fai"
    raise InputError("has no .fai index and no cache directory is writable to build one; "
                     "run samtools faidx on it", path=fasta)


def open_fasta(fasta: str | os.PathLike) -> Any:
    """``pyfaidx.Fasta`` (raw upper-case strings) with its index from :func:`fasta_index_path`."""
    import pyfaidx

    fasta = require_file(fasta, "FASTA file")
    index = fasta_index_path(fasta)
    try:
        if not index.is_file():
            with atomic_path(index) as tmp:  # no half-written index when two jobs build it at once
                tmp.unlink()
                pyfaidx.Fasta(str(fasta), indexname=str(tmp)).close()
        return pyfaidx.Fasta(str(fasta), indexname=str(index), as_raw=True, sequence_always_upper=True,
                             rebuild=False, build_index=False)
    except (pyfaidx.FastaIndexingError, pyfaidx.FetchError, ValueError, UnicodeDecodeError, OSError) as exc:
        detail = " ".join(str(exc).split())
        raise InputError(f"not a readable FASTA file ({type(exc).__name__}: {detail})", path=fasta) from None


def fasta_sizes(fasta: str | os.PathLike) -> dict[str, int]:
    """Contig -> length of ``fasta`` (from its index)."""
    handle = open_fasta(fasta)
    try:
        return {name: int(record.rlen) for name, record in handle.faidx.index.items()}
    finally:
        handle.close()


def check_fasta_contigs(fasta: str | os.PathLike, sizes: dict[str, int]) -> None:
    """Refuse a FASTA that lacks (or misnames, ``>1`` for ``chr1``) a chromosome of the bins, or gives it
    another length."""
    check_contigs(fasta_sizes(fasta), sizes, fasta, where="the FASTA",
                  advice="use the FASTA the bins were made from")


def check_has_bases(fasta: str | os.PathLike, chroms: list[str], chunk: int = 1_000_000) -> None:
    """Refuse a chromosome without a single A, C, G or T (all N): the model would score it from DNase and
    features alone, a number no one should trust. Reads ``chunk`` bp at a time and stops at the first base."""
    handle = open_fasta(fasta)
    try:
        for chrom in chroms:
            record = handle[chrom]
            length = len(record)
            if not any(_LOOKUP[np.frombuffer(record[lo:lo + chunk].encode("ascii"), dtype=np.uint8)].min() < 4
                       for lo in range(0, length, chunk)):
                raise InputError(f"chromosome {chrom} has no A, C, G or T (all N); it cannot be predicted from "
                                 "sequence: leave it out of --chroms", path=fasta, record=chrom)
    finally:
        handle.close()


class TfbsWindows(torch.utils.data.Dataset):
    """Windows of every (bin, cell type) of ``bins``; item = (6 x L input, 14 features, label)."""

    def __init__(self, source: WindowSource, bins: BinSet, cells: list[str], annotation: dict[str, np.ndarray],
                 pca: np.ndarray, labels: dict[str, np.ndarray] | None = None) -> None:
        self.source, self.bins, self.cells = source, bins, list(cells)
        self.annotation, self.pca = annotation, np.asarray(pca, dtype=np.float32)
        self.labels = labels
        counts = np.array([bins.count(c) for c in bins.chroms], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(counts)])
        for c in bins.chroms:
            if c not in annotation or annotation[c].shape[0] != bins.count(c):
                raise InputError(f"annotation has no matching bins for {c} (rerun annotate-bins on these bins)")
            if labels is not None and (c not in labels or labels[c].shape != (bins.count(c), len(cells))):
                raise InputError(f"labels have no matching bins for {c} (rerun label-bins on these bins)")

    def __len__(self) -> int:
        return int(self.offsets[-1]) * len(self.cells)

    def decode(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """keys -> (chromosome index, bin index, cell index)."""
        keys = np.asarray(keys, dtype=np.int64)
        flat, cell = np.divmod(keys, len(self.cells))
        chrom = np.searchsorted(self.offsets, flat, side="right") - 1
        return chrom, flat - self.offsets[chrom], cell

    def keys(self, chrom: str, bins: np.ndarray, cell: int) -> np.ndarray:
        k = self.bins.chroms.index(chrom)
        return (self.offsets[k] + np.asarray(bins, dtype=np.int64)) * len(self.cells) + cell

    def label_of(self, keys: np.ndarray) -> np.ndarray:
        """Label codes of ``keys`` (vectorised over chromosomes)."""
        assert self.labels is not None
        chrom, b, cell = self.decode(keys)
        out = np.empty(len(chrom), dtype=np.int8)
        for k in np.unique(chrom):
            sel = chrom == k
            out[sel] = self.labels[self.bins.chroms[k]][b[sel], cell[sel]]
        return out

    def blacklisted(self, keys: np.ndarray) -> np.ndarray:
        chrom, b, _ = self.decode(keys)
        out = np.zeros(len(chrom), dtype=bool)
        for k in np.unique(chrom):
            sel = chrom == k
            out[sel] = self.bins.blacklist[self.bins.chroms[k]][b[sel]]
        return out

    def __getitem__(self, key: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        chrom_i, b, cell = (int(v[0]) for v in self.decode(np.array([key])))
        chrom = self.bins.chroms[chrom_i]
        x = self.source.window(chrom, self.bins.sizes[chrom_i], b * BIN_STEP, self.cells[cell])
        z = np.concatenate([self.annotation[chrom][b].astype(np.float32), self.pca[cell]])
        y = 0.0 if self.labels is None else float(self.labels[chrom][b, cell] == LABEL_BOUND)
        return torch.from_numpy(x), torch.from_numpy(z), torch.tensor(y)


def candidate_keys(data: TfbsWindows, chroms: list[str], cells: list[int], code: int) -> np.ndarray:
    """Keys of the non-blacklisted bins of ``chroms`` x ``cells`` with label ``code``."""
    assert data.labels is not None
    out = []
    for chrom in chroms:
        lab = data.labels[chrom]
        black = data.bins.blacklist[chrom]
        for cell in cells:
            out.append(data.keys(chrom, np.flatnonzero((lab[:, cell] == code) & ~black), cell))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


class EpochNegativeSampler(torch.utils.data.Sampler[int]):
    """All ``positives`` plus ``ratio`` x as many U windows drawn afresh each epoch, shuffled.

    Negatives are drawn uniformly from the (chromosome, bin, cell) space of ``chroms`` x ``cells`` and
    kept when unbound and not blacklisted (vectorised rejection sampling; no list of negatives is
    built). The draw and the order depend only on ``(seed, epoch)``, so a resumed run repeats them.
    """

    def __init__(self, data: TfbsWindows, positives: np.ndarray, chroms: list[str], cells: list[int],
                 ratio: float, seed: int = 0) -> None:
        if positives.size == 0:
            raise InputError("no bound (B) training bins: check the peaks and the training chromosomes")
        self.data, self.positives = data, np.asarray(positives, dtype=np.int64)
        self.chroms, self.cells = list(chroms), np.asarray(cells, dtype=np.int64)
        self.n_neg = max(1, int(round(ratio * positives.size)))
        self.seed, self.epoch = int(seed), 0
        idx = [data.bins.chroms.index(c) for c in chroms]
        self._starts = data.offsets[idx]
        self._counts = data.offsets[np.array(idx) + 1] - self._starts

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def negatives(self, rng: np.random.Generator) -> np.ndarray:
        total = int(self._counts.sum())
        cum = np.concatenate([[0], np.cumsum(self._counts)])
        found: list[np.ndarray] = []
        need = self.n_neg
        for _ in range(100):
            flat = rng.integers(0, total, size=2 * need + 16)
            k = np.searchsorted(cum, flat, side="right") - 1
            cell = self.cells[rng.integers(0, self.cells.size, size=flat.size)]
            keys = (self._starts[k] + flat - cum[k]) * len(self.data.cells) + cell
            ok = (self.data.label_of(keys) == LABEL_UNBOUND) & ~self.data.blacklisted(keys)
            found.append(keys[ok][:need])
            need -= found[-1].size
            if need <= 0:
                break
        else:
            raise InputError("too few unbound (U) training bins to sample negatives from")
        return np.concatenate(found)

    def __iter__(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        keys = np.concatenate([self.positives, self.negatives(rng)])
        return iter(keys[rng.permutation(keys.size)].tolist())

    def __len__(self) -> int:
        return self.positives.size + self.n_neg


def validation_keys(data: TfbsWindows, chroms: list[str], cells: list[int], max_windows: int,
                    seed: int = 0) -> np.ndarray:
    """All B windows of ``chroms`` x ``cells`` plus a fixed random sample of U windows (at most
    ``max_windows`` in all; sorted)."""
    pos = candidate_keys(data, chroms, cells, LABEL_BOUND)
    neg = candidate_keys(data, chroms, cells, LABEL_UNBOUND)
    rng = np.random.default_rng([seed, 7])
    if pos.size > max_windows // 2:
        pos = rng.choice(pos, size=max_windows // 2, replace=False)
    keep = min(neg.size, max_windows - pos.size)
    neg = rng.choice(neg, size=keep, replace=False)
    return np.sort(np.concatenate([pos, neg]))


def open_source(fasta: str | os.PathLike, mappability: str | os.PathLike, dnase: list[str]) -> WindowSource:
    """``dnase`` items are ``CELL=FILE.bw``."""
    tracks = {}
    for item in dnase:
        cell, sep, path = item.partition("=")
        if not sep:
            raise InputError(f"--dnase expects CELL=FILE.bw, got {item!r}")
        tracks[cell] = Path(path)
    require_file(fasta, "FASTA file")
    require_file(mappability, "mappability bigWig")
    for path in tracks.values():
        require_file(path, "DNase bigWig")
    return WindowSource(Path(fasta), Path(mappability), tracks)


class WindowBatches(torch.utils.data.Dataset):
    """Batches of the windows ``keys`` of ``data`` (in the given order), each read by slices.

    Item ``i`` covers keys ``[i * batch_size, (i + 1) * batch_size)``: keys of the same chromosome and
    cell type with increasing bins at most ``max_gap`` bins apart form one run, read as one chromosome
    slice (:meth:`WindowSource.slice_of`). An item is compact, ``(slices, offsets, z, y)``: the slices
    (about 20 times fewer bytes than the windows of consecutive bins, which is what a loader worker sends
    to the predicting process), where each window begins in its slice, and the stacked features and
    labels; :func:`assemble` cuts the windows. The numbers equal those of ``data[key]`` stacked. Used with
    ``DataLoader(batch_size=None, num_workers=...)`` (:func:`batch_loader`): each worker gets its own copy
    of the source and opens its own FASTA and bigWig handles (:func:`fresh_handles`).
    """

    def __init__(self, data: TfbsWindows, keys: np.ndarray, batch_size: int,
                 max_gap: int = SLICE_MAX_GAP) -> None:
        if batch_size < 1:
            raise InputError(f"--batch-size must be at least 1, got {batch_size}")
        self.data, self.keys = data, np.asarray(keys, dtype=np.int64)
        self.batch_size, self.max_gap = int(batch_size), int(max_gap)

    def __len__(self) -> int:
        return -(-self.keys.size // self.batch_size)

    def runs(self, keys: np.ndarray) -> list[tuple[int, int, int]]:
        """``(chromosome index, cell index, end)`` of each run of ``keys`` (runs end where the chromosome
        or the cell type changes, or the next bin is not 1 to ``max_gap`` bins further on)."""
        chrom, b, cell = self.data.decode(keys)
        step = np.diff(b)
        cut = (np.diff(chrom) != 0) | (np.diff(cell) != 0) | (step < 1) | (step > self.max_gap)
        ends = np.append(np.flatnonzero(cut) + 1, keys.size)
        return [(int(chrom[e - 1]), int(cell[e - 1]), int(e)) for e in ends]

    def __getitem__(self, i: int) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray, np.ndarray]:
        data = self.data
        keys = self.keys[i * self.batch_size:(i + 1) * self.batch_size]
        _, bins, cells = data.decode(keys)
        slices, offsets = [], []
        z = np.empty((keys.size, 6 + data.pca.shape[1]), dtype=np.float32)
        y = np.zeros(keys.size, dtype=np.float32)
        start = 0
        for chrom_i, cell, end in self.runs(keys):
            chrom = data.bins.chroms[chrom_i]
            b = bins[start:end]
            block, where = data.source.slice_of(chrom, data.bins.sizes[chrom_i], b * BIN_STEP, data.cells[cell])
            slices.append(block)
            offsets.append(where)
            z[start:end, :6] = data.annotation[chrom][b]
            z[start:end, 6:] = data.pca[cell]
            if data.labels is not None:
                y[start:end] = data.labels[chrom][b, cell] == LABEL_BOUND
            start = end
        return slices, offsets, z, y


def assemble(item: tuple, length: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(x, z, y)`` tensors of a :class:`WindowBatches` item: the windows (n x 6 x ``length``) cut from
    its slices as strided views, copied once (numpy's fancy indexing; several times faster here than
    torch's ``index_select`` on an unfolded view)."""
    slices, offsets, z, y = item
    parts = [np.lib.stride_tricks.sliding_window_view(np.asarray(block), length, axis=1).transpose(1, 0, 2)
             [np.asarray(where)] for block, where in zip(slices, offsets, strict=True)]
    x = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return torch.from_numpy(x), torch.as_tensor(z), torch.as_tensor(y)


def fresh_handles(worker_id: int) -> None:
    """DataLoader ``worker_init_fn``: drop file handles inherited from the parent (a forked process
    sharing a file offset with it would read the wrong bytes); the worker opens its own on first use."""
    info = torch.utils.data.get_worker_info()
    dataset = info.dataset if info is not None else None
    if dataset is not None:
        dataset.data.source._handles = {}


class BatchLoader:
    """Iterable of ``(x, z, y)`` batches over ``keys`` (in order): :class:`WindowBatches` items read by
    ``workers`` loader processes (0: this one), assembled in this one."""

    def __init__(self, data: TfbsWindows, keys: np.ndarray, batch_size: int, workers: int) -> None:
        if workers < 0:
            raise InputError(f"--workers must be 0 or more, got {workers}")
        self.length = data.source.length
        self.loader = torch.utils.data.DataLoader(
            WindowBatches(data, keys, batch_size), batch_size=None, num_workers=workers,
            worker_init_fn=fresh_handles if workers else None, prefetch_factor=4 if workers else None)

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        return (assemble(item, self.length) for item in self.loader)


def batch_loader(data: TfbsWindows, keys: np.ndarray, batch_size: int, workers: int) -> BatchLoader:
    """:class:`BatchLoader` over ``keys``."""
    return BatchLoader(data, keys, batch_size, workers)
