"""pgml.fileio: atomic writes keep unrelated files, follow the umask, and refuse dangerous paths."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pgml.errors import InputError
from pgml.fileio import atomic_dir, atomic_path, check_output_dir, check_output_file, write_text


@pytest.fixture(params=[0o022, 0o077], ids=["umask022", "umask077"])
def umask(request: pytest.FixtureRequest):
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob(".*.tmp*"))


def test_atomic_dir_keeps_other_files_and_replaces_its_own(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "a.tsv").write_text("old")
    (out / "sub").mkdir()
    (out / "sub" / "keep.txt").write_text("keep")
    with atomic_dir(out) as tmp:
        (tmp / "a.tsv").write_text("new")
        (tmp / "b.tsv").write_text("b")
        (tmp / "sub").mkdir()
        (tmp / "sub" / "c.tsv").write_text("c")
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "a.tsv").read_text() == "new"
    assert (out / "b.tsv").read_text() == "b"
    assert (out / "sub" / "keep.txt").read_text() == "keep"
    assert (out / "sub" / "c.tsv").read_text() == "c"
    assert leftovers(tmp_path) == []


def test_atomic_dir_creates_target_and_leaves_it_alone_on_error(tmp_path: Path) -> None:
    with atomic_dir(tmp_path / "new" / "deep") as tmp:
        (tmp / "x.txt").write_text("x")
    assert (tmp_path / "new" / "deep" / "x.txt").read_text() == "x"

    out = tmp_path / "kept"
    out.mkdir()
    (out / "x.txt").write_text("before")
    with pytest.raises(RuntimeError), atomic_dir(out) as tmp:
        (tmp / "x.txt").write_text("half")
        raise RuntimeError("killed")
    assert (out / "x.txt").read_text() == "before"
    with pytest.raises(RuntimeError), atomic_dir(tmp_path / "never") as tmp:
        raise RuntimeError("killed")
    assert not (tmp_path / "never").exists()
    assert leftovers(tmp_path) == []


def test_atomic_path_follows_umask(tmp_path: Path, umask: int) -> None:
    write_text(tmp_path / "a.txt", "a")
    assert mode(tmp_path / "a.txt") == 0o666 & ~umask
    with atomic_path(tmp_path / "b.bin") as tmp:
        tmp.write_bytes(b"b")
    assert mode(tmp_path / "b.bin") == 0o666 & ~umask


def test_atomic_dir_follows_umask(tmp_path: Path, umask: int) -> None:
    with atomic_dir(tmp_path / "out") as tmp:
        (tmp / "plain.txt").write_text("p")
        write_text(tmp / "atomic.txt", "a")  # written through mkstemp (0600) inside the temporary
        (tmp / "sub").mkdir()
        (tmp / "sub" / "c.txt").write_text("c")
    out = tmp_path / "out"
    assert mode(out) == 0o777 & ~umask
    assert mode(out / "sub") == 0o777 & ~umask
    for name in ("plain.txt", "atomic.txt", "sub/c.txt"):
        assert mode(out / name) == 0o666 & ~umask, name


def test_existing_output_dir_keeps_its_permissions(tmp_path: Path) -> None:
    out = tmp_path / "shared"
    out.mkdir()
    out.chmod(0o2775)
    with atomic_dir(out) as tmp:
        (tmp / "x.txt").write_text("x")
    assert stat.S_IMODE(out.stat().st_mode) == 0o2775


def test_check_output_dir_refuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    a_file = tmp_path / "a.txt"
    a_file.write_text("a")
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    structure = inputs / "1ABC.pdb"
    structure.write_text("")
    cases = {
        str(a_file): "is an existing file",
        ".": "is the current directory",
        str(tmp_path): "is the current directory",
        "/": "is the filesystem root",
        str(Path.home()): "is your home directory",
    }
    for path, message in cases.items():
        with pytest.raises(InputError, match=message) as err:
            check_output_dir(path)
        assert str(err.value).startswith(f"{path}: ")
        assert "\n" not in str(err.value)
    with pytest.raises(InputError, match=r"inputs: output directory holds input file .*1ABC.pdb; choose another "
                                         r"--output-dir"):
        check_output_dir("inputs", inputs=[structure])
    with pytest.raises(InputError, match="output directory is the input"):
        check_output_dir(inputs, inputs=[inputs])
    with pytest.raises(InputError, match="is the current directory"), atomic_dir("."):
        pass
    # fine: a new directory, a subdirectory of an input directory, a sibling of the inputs
    assert check_output_dir("new", inputs=[structure]) == Path("new")
    check_output_dir(inputs / "out", inputs=[inputs, structure])
    check_output_dir(tmp_path / "out", inputs=[inputs])


def test_check_output_file_refuses(tmp_path: Path) -> None:
    source = tmp_path / "in.tsv"
    source.write_text("x")
    with pytest.raises(InputError, match="is an existing directory, not a file; choose another --output"):
        check_output_file(tmp_path)
    with pytest.raises(InputError, match="output file is the input"):
        check_output_file(tmp_path / "." / "in.tsv", inputs=[source])
    assert check_output_file(tmp_path / "out.tsv", inputs=[source]) == tmp_path / "out.tsv"
