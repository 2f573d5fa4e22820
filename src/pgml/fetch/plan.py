"""What a fetch would do, before anything is downloaded: files, total size, licence, login.

Sizes come from the cache for cached items, from the provider's metadata when it gave one (ENCODE,
Synapse), and otherwise from ``HEAD`` requests: every item when there are at most
:data:`pgml.fetch.params.PLAN_SAMPLE`, else a sample of that many whose mean is scaled to the whole list
(the total is then marked ``~``). Offline, only the cache is read.
"""

from __future__ import annotations

from collections.abc import Sequence

from pgml.fetch import params
from pgml.fetch.cache import Cache
from pgml.fetch.core import Item
from pgml.fetch.http import Client, FetchError
from pgml.fetch.sources import Source


def human(n: float | None) -> str:
    if n is None:
        return "unknown"
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def plan_lines(source: Source, items: Sequence[Item], *, cache: Cache, client: Client | None,
               offline: bool = False, show: int = 10) -> list[str]:
    """The lines ``--plan`` prints."""
    known, unknown = 0, []
    cached = 0
    for item in items:
        hit = cache.lookup(item.source, item.key, sha256=item.sha256, md5=item.md5)
        if hit is not None:
            cached += 1
            known += hit.stat().st_size
        elif item.size is not None:
            known += item.size
        else:
            unknown.append(item)
    sampled, estimated = [], False
    if unknown and not offline and client is not None:
        sample = unknown[: params.PLAN_SAMPLE]
        for item in sample:
            try:
                sampled.append(client.size(item.urls[0]))
            except FetchError:
                sampled.append(None)
        sizes = [s for s in sampled if s is not None]
        if sizes:
            known += sum(sizes) / len(sizes) * len(unknown)
            estimated = len(sizes) < len(unknown)
        unknown = [] if sizes else unknown
    lines = [f"source: {source.name} ({source.title})",
             f"files: {len(items)} ({cached} in the cache {cache.root})"]
    for item in items[:show]:
        lines.append(f"  {item.name}\t{item.out_name}\t{item.urls[0] if item.urls else ''}")
    if len(items) > show:
        lines.append(f"  ... and {len(items) - show} more")
    total = human(known) if not unknown else f"{human(known)} + {len(unknown)} file(s) of unknown size"
    lines += [f"total size: {'~' if estimated else ''}{total}",
              f"licence: {source.licence}",
              f"login needed: {source.login}"]
    return lines
