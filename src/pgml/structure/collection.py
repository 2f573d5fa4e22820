"""Collections of structure files: finding them, naming them, and cutting them into shards.

A collection is given as structure files, directories of them, or text files listing one path per
line (relative paths are relative to the list file). Large collections are processed one shard per
job (100,000 files make a job graph of a few hundred shard jobs, not 100,000), so sharding depends
only on the sorted absolute paths and the number of shards. Used by every structure chain.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from pgml.errors import InputError
from pgml.fileio import atomic_path

log = logging.getLogger(__name__)

#: structure file suffixes, each also accepted gzipped (``.gz``)
STRUCTURE_SUFFIXES = (".pdb", ".cif", ".ent", ".mmcif")


def is_structure_file(path: Path) -> bool:
    """True for ``*.pdb|cif|ent|mmcif`` and their ``.gz`` versions."""
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return name.endswith(STRUCTURE_SUFFIXES)


def _read_list(path: Path) -> list[Path]:
    out = []
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        p = Path(line)
        if not p.is_absolute():
            p = path.parent / p
        if not p.exists():
            raise InputError(f"listed path {line} does not exist", path=path, record=f"line {lineno}")
        out.append(p)
    return out


def collect_structures(inputs: Iterable[str | Path]) -> list[Path]:
    """Absolute, sorted, unique structure paths from files, directories and list files."""
    found: set[Path] = set()
    for item in inputs:
        item = Path(item)
        if item.is_dir():
            found.update(p.resolve() for p in item.iterdir() if p.is_file() and is_structure_file(p))
        elif not item.exists():
            raise InputError("no such file or directory", path=item)
        elif is_structure_file(item):
            found.add(item.resolve())
        else:
            for p in _read_list(item):
                if p.is_dir():
                    found.update(q.resolve() for q in p.iterdir() if q.is_file() and is_structure_file(q))
                else:
                    found.add(p.resolve())
    return sorted(found)


def shard_structures(paths: Sequence[str | Path], n_shards: int, output_dir: str | Path) -> list[Path]:
    """Write ``shard_<i>.txt`` (i = 0..n_shards-1, possibly empty), structure k going to shard k mod n."""
    if n_shards < 1:
        raise InputError(f"n_shards must be >= 1, got {n_shards}")
    files = collect_structures(paths)
    if not files:
        raise InputError("no structure files (*.pdb, *.cif, *.ent, *.mmcif, optionally .gz) found in "
                         + ", ".join(str(p) for p in paths))
    output_dir = Path(output_dir)
    written = []
    for i in range(n_shards):
        target = output_dir / f"shard_{i}.txt"
        lines = [str(p) + "\n" for p in files[i::n_shards]]
        with atomic_path(target) as tmp:
            tmp.write_text("".join(lines))
        written.append(target)
    log.info("%d structures in %d shards under %s", len(files), n_shards, output_dir)
    return written


def structure_stem(path: str | Path) -> str:
    """``/x/1ABC.cif.gz`` -> ``1ABC``: the name without ``.gz`` and the structure suffix."""
    name = Path(path).name
    for suffix in (".gz", *STRUCTURE_SUFFIXES):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name
