"""The content cache shared by runs: ``$PGML_CACHE`` (default: the user's cache directory + ``/pgml``).

Layout: ``<cache>/<source>/<key>`` holds one file exactly as the provider served it, and
``<key>.json`` beside it records the URL it came from, its size, its sha256 and the provider's md5 when
one was published. A download in progress lives in ``<cache>/<source>/.<key>.part`` (with the URL it
comes from in ``.<key>.part.url``); it stays after Ctrl-C or a connection that retries could not
recover, so that the next run resumes it with ``Range`` from the same URL, and it is removed when the
body is refused (HTML, wrong checksum, HTTP error). It is never visible under the file's own name. An entry counts only when its record exists and its size matches; an
expected checksum (pinned or the provider's) must equal the recorded one. Items are keyed by source and
file name, not by URL, so every mirror fills and reads the same entry.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import platformdirs

from pgml.fileio import write_text

CACHE_ENV = "PGML_CACHE"


def cache_root(explicit: str | os.PathLike | None = None) -> Path:
    """``explicit``, else ``$PGML_CACHE``, else ``platformdirs.user_cache_dir("pgml")``."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("pgml"))


@dataclass
class Record:
    """What the cache knows about one file."""

    url: str
    size: int
    sha256: str
    md5: str | None = None


def hash_file(path: Path) -> tuple[str, str]:
    """(sha256, md5) of a file, read once."""
    sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
            md5.update(block)
    return sha.hexdigest(), md5.hexdigest()


class Cache:
    """Files under ``root/<source>/<key>`` with a JSON record beside each."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, source: str, key: str) -> Path:
        return self.root / source / key

    def record_path(self, source: str, key: str) -> Path:
        return self.root / source / f"{key}.json"

    def part_path(self, source: str, key: str) -> Path:
        target = self.path(source, key)
        return target.with_name(f".{target.name}.part")

    def lookup(self, source: str, key: str, *, sha256: str | None = None, md5: str | None = None) -> Path | None:
        """The cached file when it is complete and matches the expected checksums, else None."""
        path, rec_path = self.path(source, key), self.record_path(source, key)
        if not (path.is_file() and rec_path.is_file()):
            return None
        try:
            record = Record(**json.loads(rec_path.read_text()))
        except (ValueError, TypeError):
            return None
        if record.size != path.stat().st_size:
            return None
        if sha256 and record.sha256 != sha256.lower():
            return None
        if md5 and record.md5 != md5.lower():
            return None
        return path

    def record(self, source: str, key: str) -> Record | None:
        rec_path = self.record_path(source, key)
        if not rec_path.is_file():
            return None
        return Record(**json.loads(rec_path.read_text()))

    def store(self, source: str, key: str, part: Path, record: Record) -> Path:
        """Rename a checked ``part`` onto the entry and write its record (record last: it marks completion)."""
        target = self.path(source, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(part, target)
        write_text(self.record_path(source, key), json.dumps(asdict(record), indent=1) + "\n")
        return target
