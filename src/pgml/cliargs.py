"""Path roles of command-line options, checked in one place before any step runs.

Every ``pgml <chain> <step>`` declares the paths it writes with :func:`output_file` and
:func:`output_dir`; every other option of type :class:`~pathlib.Path` is an input, and options whose
values hold paths in another form (``CELL=FILE``, ``CELL=CONSERVATIVE,RELAXED``) are declared with
:func:`input_paths` and a function that takes the paths out of one value. :func:`pgml.cli.main` calls
:func:`check_paths` after parsing and before the step runs, so no command can write over one of its
inputs (or write two outputs to one path), whatever its library code checks later.

The rules, for each output against every input (files and directories) and every other output:

- an output file may not be an input file, an input directory, or a file inside an input directory;
- an output directory may not be an input (file or directory), nor hold an input file directly
  (:func:`pgml.fileio.check_output_dir`, which also refuses the current, home and root directories);
- two outputs may not share a path.

A refused path is one line naming the option and the input (:class:`pgml.errors.InputError`, exit 2).
``tests/shared/test_cliargs.py`` walks every step of every chain and fails when an option that writes
is not declared here.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from pgml.errors import InputError
from pgml.fileio import check_output_dir, check_output_file

OUTPUT_FILE = "output_file"
OUTPUT_DIR = "output_dir"
INPUT = "input"
#: attribute set on an argparse action to give its role
ROLE = "pgml_role"
#: attribute holding the function that takes the paths out of one value of an INPUT action
PATHS = "pgml_paths"

PathsOf = Callable[[str], Iterable[str]]


def _mark(action: argparse.Action, role: str, paths: PathsOf | None = None) -> argparse.Action:
    setattr(action, ROLE, role)
    if paths is not None:
        setattr(action, PATHS, paths)
    return action


def output_file(parser: argparse.ArgumentParser, *flags: str, **kwargs) -> argparse.Action:
    """``parser.add_argument`` for a file the step writes (type :class:`Path` unless given)."""
    kwargs.setdefault("type", Path)
    return _mark(parser.add_argument(*flags, **kwargs), OUTPUT_FILE)


def output_dir(parser: argparse.ArgumentParser, *flags: str, **kwargs) -> argparse.Action:
    """``parser.add_argument`` for a directory the step writes into (type :class:`Path` unless given)."""
    kwargs.setdefault("type", Path)
    return _mark(parser.add_argument(*flags, **kwargs), OUTPUT_DIR)


def input_paths(parser: argparse.ArgumentParser, *flags: str, paths: PathsOf | None = None,
                **kwargs) -> argparse.Action:
    """``parser.add_argument`` for an input whose values hold paths; ``paths(value)`` lists them.

    Without ``paths`` each value is one path (use this for ``str``-typed options such as
    "files, directories or list files").
    """
    return _mark(parser.add_argument(*flags, **kwargs), INPUT, paths or (lambda value: [value]))


def named_paths(value: str) -> list[str]:
    """The paths of a ``NAME=PATH[,PATH...]`` value (the whole value when it has no ``=``)."""
    _, sep, rest = value.partition("=")
    return [p for p in (rest if sep else value).split(",") if p]


def role_of(action: argparse.Action) -> str | None:
    """The action's declared role; a :class:`Path`-typed option without one is an input."""
    role = getattr(action, ROLE, None)
    if role is None and action.type is Path:
        return INPUT
    return role


def _values(value: object) -> list[object]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [v for v in value if v is not None]
    return [value]


def _option(action: argparse.Action) -> str:
    return action.option_strings[-1] if action.option_strings else action.dest


def declared_paths(parser: argparse.ArgumentParser, args: argparse.Namespace
                   ) -> Iterator[tuple[str, str, Path]]:
    """(role, option, path) for every path given to the step's options."""
    for action in parser._actions:
        role = role_of(action)
        if role is None:
            continue
        for value in _values(getattr(args, action.dest, None)):
            if role == INPUT and hasattr(action, PATHS):
                for item in getattr(action, PATHS)(str(value)):
                    yield role, _option(action), Path(item)
            else:
                yield role, _option(action), Path(value)


def check_paths(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse any output path that would write over an input or another output (see module doc)."""
    entries = list(declared_paths(parser, args))
    inputs = [path for role, _, path in entries if role == INPUT]
    input_dirs = [path.expanduser().resolve() for path in inputs if path.is_dir()]
    seen: dict[Path, str] = {}
    for role, option, path in entries:
        if role == INPUT:
            continue
        resolved = path.expanduser().resolve()
        if resolved in seen:
            raise InputError(f"{option} and {seen[resolved]} are the same path; give each output its own",
                             path=path)
        seen[resolved] = option
        if role == OUTPUT_FILE:
            check_output_file(path, inputs, option=option)
            for folder in input_dirs:
                if resolved.is_relative_to(folder):
                    raise InputError(f"output file lies inside the input directory {folder}; "
                                     f"choose another {option}", path=path)
        else:
            check_output_dir(path, inputs, option=option)
