"""Multiple sequence alignments: readers for a3m, a2m, Stockholm, aligned FASTA and PSICOV files.

Every reader returns an :class:`Alignment`: names and an ``(N, L)`` uint8 matrix in the alphabet
:data:`ALPHABET` (CCMpred's order, gap last). The first sequence is the query. Columns are the
query's residues: insertions (lower-case letters and ``.`` in a3m/a2m/Stockholm) are dropped, in an
a2m/Stockholm file whose rows have one length columns where the query has an insertion are dropped
as well (plmc's focus mode), and in every format the columns where the query has a gap are dropped,
so column ``i`` is query residue ``i`` (a PSSM has one row per query residue). The ambiguity codes
``X B Z J U O`` count as gaps (as CCMpred and plmc do) but keep their column. Any other character,
rows of different length after insert removal, a name given twice in one Stockholm block, an empty,
truncated (``.gz``) or unreadable file, or a directory is an :class:`~pgml.errors.InputError`
naming the file and the record.

Written here rather than with Biopython's ``AlignIO``: AlignIO neither knows a3m's insert states nor
PSICOV files and refuses ragged rows without saying which record is ragged.
"""

from __future__ import annotations

import gzip
import logging
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pgml.contact.params import FORMATS
from pgml.errors import InputError

log = logging.getLogger(__name__)

#: amino acids in CCMpred's order, then the gap; index 20 is the gap
ALPHABET = "ARNDCQEGHILKMFPSTWYV-"
GAP = 20
Q = 21
#: one-letter codes read as a gap (unknown or ambiguous residues)
AMBIGUOUS = "XBZJUO"
_SUFFIX_FORMAT = {".a3m": "a3m", ".a2m": "a2m", ".sto": "stockholm", ".sth": "stockholm",
                  ".stk": "stockholm", ".stockholm": "stockholm", ".fasta": "fasta", ".fa": "fasta",
                  ".faa": "fasta", ".afa": "fasta", ".aln": "psicov", ".psicov": "psicov"}

_LUT = np.full(256, 255, dtype=np.uint8)
for _k, _c in enumerate(ALPHABET):
    _LUT[ord(_c)] = _k
for _c in AMBIGUOUS + ".":
    _LUT[ord(_c)] = GAP


@dataclass
class Alignment:
    """Names and an ``(N, L)`` uint8 matrix over :data:`ALPHABET`; row 0 is the query."""

    names: list[str]
    msa: np.ndarray

    @property
    def query(self) -> str:
        return "".join(ALPHABET[k] for k in self.msa[0])

    @property
    def length(self) -> int:
        return int(self.msa.shape[1])

    def __len__(self) -> int:
        return int(self.msa.shape[0])

    def subset(self, keep: np.ndarray) -> Alignment:
        idx = np.flatnonzero(keep) if keep.dtype == bool else np.asarray(keep)
        return Alignment([self.names[i] for i in idx], self.msa[idx])


def detect_format(path: str | Path) -> str:
    """The format named by the file's suffix (``.gz`` ignored)."""
    p = Path(path)
    suffix = Path(p.stem).suffix if p.suffix == ".gz" else p.suffix
    fmt = _SUFFIX_FORMAT.get(suffix.lower())
    if fmt is None:
        raise InputError(f"unknown alignment suffix {suffix!r}; use one of {', '.join(sorted(_SUFFIX_FORMAT))}"
                         " (optionally .gz)", path=path)
    return fmt


def _text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise InputError(f"truncated or corrupt gzip file ({exc})", path=path) from None
    try:
        return data.decode()
    except UnicodeDecodeError:
        raise InputError("not a text file", path=path) from None


def _fasta_records(text: str, path: Path) -> list[tuple[str, str]]:
    records: list[tuple[str, list[str]]] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(">"):
            records.append((line[1:].split()[0] if line[1:].split() else f"seq{len(records) + 1}", []))
        elif not records:
            raise InputError("sequence before the first '>' header", path=path, record=f"line {number}")
        else:
            records[-1][1].append(line)
    return [(name, "".join(parts)) for name, parts in records]


def _stockholm_records(text: str, path: Path) -> list[tuple[str, str]]:
    """Rows of a (multi-block) Stockholm file; a name may appear once per block (blocks end at a blank line)."""
    seqs: dict[str, list[str]] = {}
    block: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line == "//":
            block = {}
            continue
        if line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2:
            raise InputError("expected 'name sequence'", path=path, record=f"line {number}")
        if parts[0] in block:
            raise InputError(f"row given twice in one block (lines {block[parts[0]]} and {number}); "
                             "remove the repeated row", path=path, record=f"sequence {parts[0]}")
        block[parts[0]] = number
        seqs.setdefault(parts[0], []).append(parts[1])
    return [(name, "".join(parts)) for name, parts in seqs.items()]


def _psicov_records(text: str, path: Path) -> list[tuple[str, str]]:
    rows = [line.strip() for line in text.splitlines() if line.strip()]
    return [(f"seq{k + 1}", row) for k, row in enumerate(rows)]


def _encode(name: str, seq: str, path: Path) -> np.ndarray:
    raw = np.frombuffer(seq.upper().encode("ascii", errors="replace"), dtype=np.uint8)
    codes = _LUT[raw]
    bad = np.flatnonzero(codes == 255)
    if bad.size:
        raise InputError(f"unknown letter {seq[bad[0]]!r} at column {bad[0] + 1}", path=path,
                         record=f"sequence {name}")
    return codes


def read_alignment(path: str | Path, fmt: str | None = None) -> Alignment:
    """Read an alignment (format from the suffix unless ``fmt`` is given); row 0 is the query."""
    path = Path(path)
    if path.is_dir():
        raise InputError("is a directory, not an alignment file; give one file per target", path=path)
    if not path.exists():
        raise InputError("alignment file not found", path=path)
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise InputError(f"alignment format must be one of {', '.join(FORMATS)}, got {fmt!r}", path=path)
    text = _text(path)
    if fmt == "stockholm":
        records = _stockholm_records(text, path)
    elif fmt == "psicov":
        records = _psicov_records(text, path)
    else:
        records = _fasta_records(text, path)
    if not records:
        raise InputError("empty alignment: no sequences", path=path)
    seqs = [s for _, s in records]
    if fmt in ("a2m", "stockholm") and len({len(s) for s in seqs}) == 1:
        # focus mode: keep the columns where the query has an upper-case residue
        query = seqs[0]
        keep = np.array([c.isupper() for c in query], dtype=bool)
        seqs = ["".join(np.asarray(list(s))[keep]) for s in seqs]
    elif fmt in ("a3m", "a2m", "stockholm"):
        seqs = ["".join(c for c in s if not (c.islower() or c == ".")) for s in seqs]
    length = len(seqs[0])
    if length == 0:
        raise InputError("empty alignment: the query has no match columns", path=path,
                         record=f"sequence {records[0][0]}")
    rows = []
    for (name, _), seq in zip(records, seqs, strict=True):
        if len(seq) != length:
            raise InputError(f"ragged alignment: {len(seq)} columns where the query has {length}", path=path,
                             record=f"sequence {name}")
        rows.append(_encode(name, seq, path))
    msa = np.stack(rows)
    if (msa[0] == GAP).all():
        raise InputError("the query is all gaps", path=path, record=f"sequence {records[0][0]}")
    residues = np.array([c not in "-." for c in seqs[0]], dtype=bool)
    if not residues.all():
        log.info("%s: dropped %d column(s) where the query %s has a gap", path, int((~residues).sum()),
                 records[0][0])
        msa = np.ascontiguousarray(msa[:, residues])
    return Alignment([n for n, _ in records], msa)


def write_psicov(alignment: Alignment, path: str | Path) -> None:
    """Write one sequence per line (PSICOV/CCMpred ``.aln``), atomically."""
    from pgml.fileio import atomic_path

    lut = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)
    with atomic_path(path) as tmp:
        tmp.write_text("".join(lut[row].tobytes().decode() + "\n" for row in alignment.msa))


def one_hot(msa: np.ndarray, q: int = Q) -> np.ndarray:
    """``(N, L) -> (N, L, q)`` float32 indicator array."""
    return np.eye(q, dtype=np.float32)[msa]
