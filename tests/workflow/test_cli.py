"""The console script: chains and steps are listed, input errors are one line with exit 2."""

from __future__ import annotations

import subprocess
import sys

from pgml.bfactor.cli import ARCHITECTURES
from pgml.cli import CHAINS, main


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pgml.cli", *args], capture_output=True, text=True, timeout=60)


def test_help_lists_chains() -> None:
    out = run("--help")
    assert out.returncode == 0
    for chain in CHAINS:
        assert chain in out.stdout


def test_bfactor_help_lists_steps() -> None:
    out = run("bfactor", "--help")
    assert out.returncode == 0
    for step in ("shard", "select", "build-graphs", "split", "train", "predict", "baseline", "evaluate"):
        assert step in out.stdout


def test_train_help_lists_architectures() -> None:
    out = run("bfactor", "train", "--help")
    for arch in ARCHITECTURES:
        assert arch in out.stdout


def test_input_error_is_one_line_with_exit_2(tmp_path, capsys) -> None:
    missing = tmp_path / "nothing.tsv"
    missing.write_text("id\tfile\n")
    code = main(["bfactor", "predict", "--model", str(tmp_path / "m.ckpt"), "--output-dir",
                 str(tmp_path / "out"), "--from-split", str(missing)])
    err = capsys.readouterr().err
    assert code == 2
    assert "nothing.tsv" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
