"""Safe output files: atomic writes, umask-respecting permissions, and checks on output paths.

Every output is written to a temporary path next to its target and renamed into place, so a killed
job never leaves a half-written output that Snakemake (or a user) could take for a finished one.
Renamed outputs get the permissions a plain ``open()``/``mkdir()`` would give them (``0666`` or
``0777`` minus the umask), not the private ``0600``/``0700`` of the temporary.

Commands never delete what they did not write: :func:`atomic_dir` moves only this run's files into an
output directory and keeps the others, and :func:`check_output_dir` / :func:`check_output_file`
refuse output paths where a run could overwrite its own inputs or clutter a directory that is not
meant for outputs (the current directory, the filesystem root, the home directory).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from pgml.errors import InputError


def current_umask() -> int:
    """The process's umask (read from /proc where possible, so no other thread sees it change)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """Permissions of a newly created regular file: ``0666 & ~umask``."""
    return 0o666 & ~current_umask()


def _protected_dirs() -> dict[Path, str]:
    dirs = {Path.cwd().resolve(): "the current directory"}
    with contextlib.suppress(RuntimeError, KeyError, OSError):
        dirs.setdefault(Path.home().resolve(), "your home directory")
    return dirs


def check_output_dir(path: str | os.PathLike, inputs: Iterable[str | os.PathLike] = (), *,
                     option: str = "--output-dir") -> Path:
    """Refuse an output directory where writing could clobber something; return it as a Path.

    Raises :class:`InputError` when ``path`` is an existing file, the current directory, the
    filesystem root or the home directory, one of the ``inputs`` (a directory read as input), or the
    directory holding one of the ``inputs`` (an output could overwrite that file).
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"is an existing file, not a directory; choose another {option}", path=path)
    resolved = path.expanduser().resolve()
    if resolved == Path(resolved.anchor):
        raise InputError(f"output directory is the filesystem root; choose another {option}", path=path)
    what = _protected_dirs().get(resolved)
    if what:
        raise InputError(f"output directory is {what}; choose a new or dedicated {option}", path=path)
    for item in inputs:
        source = Path(item).expanduser().resolve()
        if source == resolved:
            raise InputError(f"output directory is the input {item}; choose another {option}", path=path)
        if source.parent == resolved and not source.is_dir():
            raise InputError(f"output directory holds input file {item}; choose another {option}", path=path)
    return path


def check_output_file(path: str | os.PathLike, inputs: Iterable[str | os.PathLike] = (), *,
                      option: str = "--output") -> Path:
    """Refuse an output file path that is an existing directory or one of the ``inputs``."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"is an existing directory, not a file; choose another {option}", path=path)
    resolved = path.expanduser().resolve()
    for item in inputs:
        if Path(item).expanduser().resolve() == resolved:
            raise InputError(f"output file is the input {item}; choose another {option}", path=path)
    return path


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path in the target's directory; rename it onto ``target`` on success.

    The temporary keeps the target's suffix (``.png``, ``.pt``...) so libraries that infer the
    format from the name keep working. The renamed file gets the umask's permissions. On an
    exception the temporary is removed and ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    sfx = suffix if suffix is not None else "".join(target.suffixes)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".tmp{sfx}", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, file_mode())
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary directory next to ``target``; on success move its files into ``target``.

    ``target`` is created if needed. Only the files written into the temporary directory are moved,
    each with :func:`os.replace` (replacing a same-named file), so an existing ``target`` keeps its
    other files. On an exception ``target`` is left as it was. The temporary directory is always
    removed. ``target`` is checked with :func:`check_output_dir` first.
    """
    check_output_dir(target)
    # resolved, so the temporary sits on the same filesystem as the real target even via symlinks
    target = Path(target).expanduser().resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        _move_files(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _move_files(source: Path, target: Path) -> None:
    """Move every file under ``source`` to the same relative path under ``target``."""
    mode = file_mode()
    target.mkdir(parents=True, exist_ok=True)
    for root, _dirs, files in os.walk(source):
        rel = Path(root).relative_to(source)
        dest = target / rel
        dest.mkdir(exist_ok=True)
        for name in sorted(files):
            os.chmod(Path(root) / name, mode)
            os.replace(Path(root) / name, dest / name)


def write_text(target: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text)


def copy_file(source: str | os.PathLike, target: str | os.PathLike) -> None:
    """Copy ``source`` onto ``target`` atomically (contents only; permissions from the umask)."""
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
