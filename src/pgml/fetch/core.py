"""Fetch a list of items: cache first, then each mirror in order; check; deliver into an output directory.

An :class:`Item` is one file of one source: its cache key, the name it gets in the output directory,
its URLs (one per mirror, tried in order), and what it is checked against (a pinned sha256, the
provider's md5, the expected leading bytes of its format). :func:`fetch_items` returns one
:class:`Outcome` per item and never stops at the first failure: the items that arrived are written,
each failure is one line naming the item and the URL (``pgml fetch`` then exits 3).

Files reach the output directory from the cache as hard links (a copy across file systems), each by an
atomic rename, so an output is never half written. pgml never writes a file in place, so a link cannot
change the cached copy behind its back.

``offline``: only the cache is read; every miss is reported with its URL and nothing is requested.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pgml.fetch.cache import Cache, Record, hash_file
from pgml.fetch.http import Client, FetchError, download
from pgml.fileio import atomic_path

log = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class Item:
    """One file to fetch."""

    source: str
    #: the item's name in messages (PDB id, SCOPe sid, accession, ...)
    name: str
    #: cache key (a file name, unique within the source)
    key: str
    #: URLs in the order to try them (mirrors)
    urls: Sequence[str]
    #: file name in the output directory (default: the key)
    dest: str | None = None
    sha256: str | None = None
    md5: str | None = None
    size: int | None = None
    #: request headers (Synapse's Authorization)
    headers: dict[str, str] = field(default_factory=dict)
    #: set when the item's metadata could not be read: it fails with this message, the others go on
    error: str | None = None

    @property
    def out_name(self) -> str:
        return self.dest or self.key


@dataclass
class Outcome:
    item: Item
    path: Path | None = None
    url: str | None = None
    error: str | None = None
    cached: bool = False
    sha256: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def check_format(item: Item, path: Path) -> None:
    """A ``.gz`` item must start with the gzip magic bytes (an HTML body was refused while streaming)."""
    if item.key.endswith((".gz", ".tgz")):
        with open(path, "rb") as fh:
            if fh.read(2) != GZIP_MAGIC:
                raise FetchError("not gzip data although the file name ends in .gz")


def verify(item: Item, part: Path, url: str) -> Record:
    """Checksums of the downloaded ``part`` against the item's; raise :class:`FetchError` on a mismatch."""
    sha, md5 = hash_file(part)
    size = part.stat().st_size
    if item.sha256 and sha != item.sha256.lower():
        raise FetchError(f"{url}: sha256 {sha} differs from the expected {item.sha256}")
    if item.md5 and md5 != item.md5.lower():
        raise FetchError(f"{url}: md5 {md5} differs from the provider's {item.md5}")
    if item.size is not None and size != item.size:
        raise FetchError(f"{url}: {size} bytes, the provider says {item.size}")
    try:
        check_format(item, part)
    except FetchError as err:
        raise FetchError(f"{url}: {err}") from None
    return Record(url=url, size=size, sha256=sha, md5=md5 if item.md5 else None)


def fetch_one(client: Client, cache: Cache, item: Item) -> tuple[Path, str]:
    """Download ``item`` into the cache from the first mirror that serves it; return (path, url)."""
    part = cache.part_path(item.source, item.key)
    origin = part.with_name(part.name + ".url")  # the URL a kept part came from
    part.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in item.urls:
        if part.exists() and (not origin.exists() or origin.read_text() != url):
            part.unlink()  # a part is resumed from its own URL only, never from another mirror
        origin.write_text(url)
        try:
            download(client, url, part, headers=item.headers)
            record = verify(item, part, url)
        except FetchError as err:
            errors.append(str(err))
            if not (err.resumable and part.exists()):  # refused or wrong, or nothing arrived: nothing to resume
                _discard(part, origin)
            continue
        path = cache.store(item.source, item.key, part, record)
        _discard(origin)
        return path, url
    raise FetchError("; ".join(errors) if errors else "no URL")


def _discard(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def deliver(cached: Path, target: Path) -> Path:
    """Put the cached file at ``target`` atomically: a hard link where possible, else a copy."""
    with atomic_path(target) as tmp:
        tmp.unlink()
        try:
            os.link(cached, tmp)
        except OSError:
            shutil.copyfile(cached, tmp)
    return target


def fetch_items(items: Iterable[Item], output_dir: Path | None, *, cache: Cache, client: Client | None = None,
                offline: bool = False) -> list[Outcome]:
    """Fetch every item (see the module doc); deliver into ``output_dir`` when given."""
    outcomes = []
    own_client = client is None and not offline
    if own_client:
        client = Client()
    try:
        for item in items:
            outcomes.append(_fetch(item, output_dir, cache=cache, client=client, offline=offline))
    finally:
        if own_client:
            client.close()
    return outcomes


def _fetch(item: Item, output_dir: Path | None, *, cache: Cache, client: Client | None,
           offline: bool) -> Outcome:
    url = item.urls[0] if item.urls else None
    if item.error:
        return Outcome(item, url=url, error=item.error)
    hit = cache.lookup(item.source, item.key, sha256=item.sha256, md5=item.md5)
    if hit is not None:
        record = cache.record(item.source, item.key)
        outcome = Outcome(item, hit, url=record.url, cached=True, sha256=record.sha256)
    elif offline:
        return Outcome(item, url=url, error=f"offline and not in the cache ({cache.root}): {url}")
    else:
        try:
            path, url = fetch_one(client, cache, item)
        except FetchError as err:
            return Outcome(item, url=url, error=str(err))
        outcome = Outcome(item, path, url=url, sha256=cache.record(item.source, item.key).sha256)
    if output_dir is not None:
        outcome.path = deliver(outcome.path, Path(output_dir) / item.out_name)
    log.info("%s %s: %s", item.source, item.name, "cache" if outcome.cached else outcome.url)
    return outcome


def failure_lines(outcomes: Iterable[Outcome]) -> list[str]:
    """One line per failed item: the item's name and what went wrong (with the URL)."""
    return [f"{o.item.source} {o.item.name}: {o.error}" for o in outcomes if not o.ok]
