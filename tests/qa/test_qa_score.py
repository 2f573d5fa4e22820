"""``pgml qa score``: per-chain scores of a multi-chain model, and the README example's numbers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pgml.cli import main
from pgml.qa.score import score_models

ROOT = Path(__file__).resolve().parents[2]


def test_multichain_model_scored_per_chain(demo_dir) -> None:
    path = demo_dir / "4ZHL.cif.gz"
    table = score_models(path, [path]).set_index("chain")
    assert list(table.index) == ["all", "U", "P"]
    assert table.loc[["U", "P"], "residues"].tolist() == [247, 10]
    for chain in table.index:
        assert table.loc[chain, "lddt"] == pytest.approx(1.0)
        assert table.loc[chain, "gdt_ts"] == pytest.approx(1.0)
        assert table.loc[chain, "tm_score"] == pytest.approx(1.0, abs=1e-3)


def test_readme_example_numbers(tmp_path, monkeypatch, capsys) -> None:
    """The README's qa example, run as written, prints the table the README shows."""
    text = (ROOT / "README.md").read_text()
    block = text[text.index("<!-- qa-example -->"):text.index("<!-- /qa-example -->")]
    commands = re.findall(r"^(pgml qa .+)$", block, re.M)
    expected = re.findall(r"^\s*(\S+)\s+all\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$", block, re.M)
    assert len(commands) == 2 and len(expected) == 5
    monkeypatch.chdir(tmp_path)
    (tmp_path / "resources").symlink_to(ROOT / "resources")
    for command in commands:
        argv = command.split()[1:]
        argv = [str(p) for a in argv for p in (sorted(tmp_path.glob(a)) if "*" in a else [a])]
        capsys.readouterr()
        assert main(argv) == 0
    out = capsys.readouterr().out
    got = re.findall(r"^\s*(\S+)\s+all\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$", out, re.M)
    assert got == expected
