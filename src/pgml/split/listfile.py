"""A published split: a text file that lists each entry id with its split.

Format: one ``id<whitespace>split`` per line; ``#`` starts a comment, blank lines are skipped, a first
line ``id split`` is taken as a header, further columns are ignored (so a table written by
:func:`pgml.split.write_split_table` reads back). Split names are ``train``, ``val`` and ``test``,
case-insensitive; ``valid`` and ``validation`` mean ``val``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from pgml.errors import InputError

log = logging.getLogger(__name__)

SPLIT_ALIASES: dict[str, str] = {
    "train": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "test": "test",
}


def read_split_list(path: str | Path) -> dict[str, str]:
    """``{id: split}`` from a split list file, in file order (see the module docstring).

    InputError naming the file and line for a line with a single field, an unknown split name or an
    id listed twice, and for a file that lists nothing.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("split list not found", path=path)
    out: dict[str, str] = {}
    first_line: dict[str, int] = {}
    header_possible = True
    for lineno, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if header_possible and len(fields) >= 2 and fields[0].lower() == "id" and fields[1].lower() == "split":
            header_possible = False
            continue
        header_possible = False
        record = f"line {lineno}"
        if len(fields) < 2:
            raise InputError(f"expected 'id split', found a single field {fields[0]!r}", path=path,
                             record=record)
        entry, name = fields[0], fields[1]
        split = SPLIT_ALIASES.get(name.lower())
        if split is None:
            raise InputError(f"unknown split {name!r} for {entry!r}; expected one of "
                             f"{', '.join(SPLIT_ALIASES)}", path=path, record=record)
        if entry in out:
            raise InputError(f"id {entry!r} listed twice (first on line {first_line[entry]})", path=path,
                             record=record)
        out[entry] = split
        first_line[entry] = lineno
    if not out:
        raise InputError("the split list names no entry", path=path)
    return out


def list_split(ids: Iterable[str], path: str | Path, *, unlisted_to_train: bool = False,
               ignore_case: bool = False) -> dict[str, str]:
    """Assign each of ``ids`` the split a published list gives it.

    Listed ids that are absent from ``ids`` are logged as a warning (the data set may lack some of the
    paper's entries). An id of ``ids`` that the list does not name raises InputError, unless
    ``unlisted_to_train`` puts such ids in train (with a warning). ``ignore_case`` matches ids
    case-insensitively (PDB codes are often written in either case). Returns ``{id: split}`` for the
    ids of the data, in sorted order.
    """
    path = Path(path)
    listed = read_split_list(path)
    key = str.casefold if ignore_case else str
    lookup: dict[str, str] = {}
    for entry, split in listed.items():
        k = key(entry)
        if k in lookup:
            raise InputError(f"id {entry!r} listed twice when case is ignored", path=path)
        lookup[k] = split
    ids = sorted({str(i) for i in ids})
    out: dict[str, str] = {}
    unlisted: list[str] = []
    for entry in ids:
        split = lookup.get(key(entry))
        if split is None:
            unlisted.append(entry)
            split = "train"
        out[entry] = split
    if unlisted:
        shown = ", ".join(unlisted[:10]) + (" ..." if len(unlisted) > 10 else "")
        if not unlisted_to_train:
            raise InputError(f"{len(unlisted)} id(s) of the data are not in the split list: {shown} "
                             "(put them in train with unlisted_to_train)", path=path)
        log.warning("%s: %d id(s) not in the split list go to train: %s", path, len(unlisted), shown)
    present = {key(i) for i in ids}
    missing = [e for e in listed if key(e) not in present]
    if missing:
        log.warning("%s: %d of %d listed id(s) are not in the data: %s%s", path, len(missing), len(listed),
                    ", ".join(missing[:10]), " ..." if len(missing) > 10 else "")
    return out
