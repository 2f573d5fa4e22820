"""Tab-separated tables: one atomic writer and one checked reader for every chain.

:func:`write_tsv` writes a data frame without its index, tab-separated, to a temporary file next to
the target and renames it (a killed job never leaves a torn table). :func:`read_tsv` reads one back
and turns every problem a user can cause - a missing or unparsable file, missing columns - into
:class:`pgml.errors.InputError` naming the file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from pgml.errors import InputError
from pgml.fileio import atomic_path


def write_tsv(frame: pd.DataFrame, path: str | os.PathLike, *, float_format: str | None = None,
              na_rep: str = "") -> Path:
    """Write ``frame`` to ``path`` atomically as TSV (header row, no index); returns the path.

    ``float_format`` is a printf-style format for float columns (e.g. ``"%.4f"``, ``"%.6g"``);
    ``None`` writes floats at full precision. Missing values are written as ``na_rep``.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, sep="\t", index=False, float_format=float_format, na_rep=na_rep)
    return path


def read_tsv(path: str | os.PathLike, required_columns: Iterable[str] = (),
             dtype: Any | Mapping[str, Any] | None = None, *, what: str = "file",
             keep_default_na: bool = True) -> pd.DataFrame:
    """Read a TSV with a header row; check that ``required_columns`` are present.

    ``dtype`` is passed to pandas (e.g. ``{"structure": str}`` keeps IDs like ``"0001"`` as text);
    ``what`` names the table in messages (``"split TSV"``). Raises :class:`~pgml.errors.InputError`
    naming the file when it does not exist or is a directory, cannot be parsed (empty, ragged rows, a
    value that does not fit ``dtype``) or lacks required columns (record ``header``; the message lists
    the missing columns and those present).
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"is a directory, not {'an' if what[:1] in 'aeiou' else 'a'} {what}", path=path)
    if not path.is_file():
        raise InputError(f"{what} not found", path=path)
    try:
        frame = pd.read_csv(path, sep="\t", dtype=dtype, keep_default_na=keep_default_na)
    except pd.errors.EmptyDataError:
        raise InputError(f"{what} is empty (expected a tab-separated table with a header row)", path=path) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, TypeError) as exc:
        detail = " ".join(str(exc).split())
        raise InputError(f"cannot parse as a tab-separated table: {detail}", path=path) from None
    missing = [c for c in dict.fromkeys(required_columns) if c not in frame.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)} (columns present: "
                         f"{', '.join(map(str, frame.columns))})", path=path, record="header")
    return frame
