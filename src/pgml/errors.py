"""User-facing errors.

Anything a user can cause with bad input raises :class:`InputError` (or a subclass) with a message
that names the file, the record and what is wrong. The command line prints the message and exits
with status 2 instead of showing a traceback.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input: the message names the file, the record and the problem."""

    def __init__(self, message: str, *, path: object | None = None, record: str | None = None):
        parts = []
        if path is not None:
            parts.append(str(path))
        if record:
            parts.append(record)
        prefix = ": ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)
        self.path = path
        self.record = record
