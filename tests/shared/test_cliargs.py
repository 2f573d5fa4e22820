"""Output paths are checked against inputs in one place: every step of every chain declares what it writes."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from pgml.cli import build_parser, main
from pgml.cliargs import (
    INPUT,
    OUTPUT_DIR,
    OUTPUT_FILE,
    check_paths,
    named_paths,
    output_dir,
    output_file,
    role_of,
)
from pgml.errors import InputError

#: words in an option's name or help that mean the step writes there
WRITES = re.compile(r"^(output|out|plot|report|audit|summary|variance|figure|png)\b|\bwrites?\b|\bPNG\b")


def steps() -> list[tuple[str, str, argparse.ArgumentParser]]:
    found = []
    for chain_action in build_parser()._subparsers._group_actions:
        for chain, chain_parser in chain_action.choices.items():
            for step_action in chain_parser._subparsers._group_actions:
                found += [(chain, step, parser) for step, parser in step_action.choices.items()]
    return found


STEPS = steps()


def test_every_chain_has_steps():
    assert {chain for chain, _, _ in STEPS} >= {"bfactor", "grn", "contact", "qa", "fold", "tfbs"}


@pytest.mark.parametrize(("chain", "step", "parser"), STEPS, ids=[f"{c}-{s}" for c, s, _ in STEPS])
def test_every_writing_option_is_declared(chain, step, parser):
    """An option whose name or help says it is written must be declared with output_file/output_dir."""
    undeclared = []
    for action in parser._actions:
        if not action.option_strings or role_of(action) in (OUTPUT_FILE, OUTPUT_DIR):
            continue
        name = action.option_strings[-1].lstrip("-")
        text = f"{name} {action.help or ''}"
        if action.type is Path and WRITES.search(text) and not re.search(r"\b(of|from) `", action.help or ""):
            undeclared.append(action.option_strings[-1])
    assert not undeclared, f"pgml {chain} {step}: declare {undeclared} with pgml.cliargs.output_file/output_dir"


@pytest.mark.parametrize(("chain", "step", "parser"), STEPS, ids=[f"{c}-{s}" for c, s, _ in STEPS])
def test_every_output_is_refused_over_an_input(chain, step, parser, tmp_path):
    """Each declared output pointed at each path input is refused before the step runs."""
    actions = [a for a in parser._actions if a.option_strings]
    outputs = [a for a in actions if role_of(a) in (OUTPUT_FILE, OUTPUT_DIR)]
    inputs = [a for a in actions if role_of(a) == INPUT]
    if not outputs or not inputs:
        pytest.skip("no output or no path input")
    victim = tmp_path / "input.txt"
    victim.write_text("precious\n")
    for out in outputs:
        for inp in inputs:
            args = argparse.Namespace(**{a.dest: None for a in actions})
            value = str(victim) if getattr(inp, "pgml_paths", None) else victim
            setattr(args, inp.dest, [value] if inp.nargs in ("+", "*") else value)
            setattr(args, out.dest, [victim] if out.nargs in ("+", "*") else victim)
            with pytest.raises(InputError):
                check_paths(parser, args)
    assert victim.read_text() == "precious\n"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    p.add_argument("--table", type=Path)
    p.add_argument("--folder", type=Path)
    output_file(p, "--output")
    output_file(p, "--plot")
    output_dir(p, "--output-dir")
    return p


def test_check_paths_rules(tmp_path):
    p = _parser()
    table = tmp_path / "t.tsv"
    table.write_text("x\n")
    folder = tmp_path / "in"
    folder.mkdir()
    ok = p.parse_args(["--table", str(table), "--output", str(tmp_path / "o.tsv"), "--plot", str(tmp_path / "o.png")])
    check_paths(p, ok)
    cases = {
        "output is input": ["--table", str(table), "--output", str(table)],
        "two outputs share a path": ["--output", str(tmp_path / "o"), "--plot", str(tmp_path / "o")],
        "output file inside input dir": ["--folder", str(folder), "--output", str(folder / "new.tsv")],
        "output dir is input dir": ["--folder", str(folder), "--output-dir", str(folder)],
        "output dir holds input file": ["--table", str(table), "--output-dir", str(tmp_path)],
    }
    for what, argv in cases.items():
        with pytest.raises(InputError):
            check_paths(p, p.parse_args(argv))
            pytest.fail(what)


def test_named_paths():
    assert named_paths("CellA=p.bed,r.bed") == ["p.bed", "r.bed"]
    assert named_paths("x.bw") == ["x.bw"]


def test_cli_refuses_secondary_output_over_input(tmp_path, capsys):
    tpm = tmp_path / "tpm.tsv"
    tpm.write_text("gene\tA\tB\ng1\t1\t2\n")
    code = main(["tfbs", "expression-pca", "--tpm", str(tpm), "--output", str(tmp_path / "pca.tsv"),
                 "--variance", str(tpm), "--plot", str(tmp_path / "pca.png")])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--variance" in err[0]
    assert tpm.read_text() == "gene\tA\tB\ng1\t1\t2\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tpm.tsv"]
