"""The split table a chain writes and reads back: TSV with header ``id<TAB>split[<TAB>extra...]``.

Rows are ordered train, val, test, then by id. Extra columns (a group id, a file path...) are written
as given and ignored by :func:`read_split_table`, which checks the header, the split names and that no
id appears twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pgml.errors import InputError
from pgml.fileio import atomic_path
from pgml.split.assign import SPLITS


def _cell(value: object, what: str) -> str:
    text = "" if value is None else str(value)
    if any(c in text for c in "\t\n\r"):
        raise ValueError(f"{what}: value {text!r} contains a tab or newline")
    return text


def write_split_table(path: str | Path, assignment: Mapping[str, str],
                      columns: Mapping[str, Mapping[str, object]] | None = None) -> Path:
    """Write ``assignment`` (``{id: split}``) to ``path`` atomically; return the path.

    ``columns`` maps an extra column name to ``{id: value}``; ids without a value get an empty cell.
    Raises ValueError for a split name outside :data:`SPLITS`, a column named ``id`` or ``split``
    (or twice), or a value with a tab or newline.
    """
    columns = dict(columns or {})
    for name in columns:
        _cell(name, "column name")
        if name in ("id", "split") or not name:
            raise ValueError(f"extra column name {name!r} is reserved or empty")
    rank = {s: k for k, s in enumerate(SPLITS)}
    for entry, split in assignment.items():
        if split not in rank:
            raise ValueError(f"id {entry!r}: split {split!r} is not one of {', '.join(SPLITS)}")
    rows = sorted(assignment.items(), key=lambda kv: (rank[kv[1]], str(kv[0])))
    lines = ["\t".join(["id", "split", *columns])]
    for entry, split in rows:
        extra = [_cell(values.get(entry), f"column {name}, id {entry}") for name, values in columns.items()]
        lines.append("\t".join([_cell(entry, "id"), split, *extra]))
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return path


def read_split_table(path: str | Path) -> dict[str, str]:
    """``{id: split}`` from a table written by :func:`write_split_table`, in file order.

    InputError naming the file and the line for a missing file, a header without ``id`` and
    ``split``, a row with the wrong number of fields, an empty id, a split outside :data:`SPLITS` or an
    id seen twice.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("split table not found", path=path)
    lines = path.read_text().splitlines()
    if not lines or not lines[0].strip():
        raise InputError("empty split table (expected a header 'id<TAB>split')", path=path)
    header = lines[0].split("\t")
    missing = [c for c in ("id", "split") if c not in header]
    if missing:
        raise InputError(f"header lacks column(s) {', '.join(missing)} (found: {', '.join(header)})",
                         path=path, record="line 1")
    i_id, i_split = header.index("id"), header.index("split")
    out: dict[str, str] = {}
    first: dict[str, int] = {}
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t")
        record = f"line {lineno}"
        if len(fields) != len(header):
            raise InputError(f"{len(fields)} field(s), the header has {len(header)}", path=path, record=record)
        entry, split = fields[i_id], fields[i_split]
        if not entry:
            raise InputError("empty id", path=path, record=record)
        if split not in SPLITS:
            raise InputError(f"id {entry!r}: split {split!r} is not one of {', '.join(SPLITS)}", path=path,
                             record=record)
        if entry in out:
            raise InputError(f"id {entry!r} appears twice (first on line {first[entry]})", path=path,
                             record=record)
        out[entry] = split
        first[entry] = lineno
    return out
