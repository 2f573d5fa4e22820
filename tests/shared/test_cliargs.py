"""Output paths are checked against inputs in one place: every step of every chain declares what it writes."""

from __future__ import annotations

import argparse
import ast
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


# ---- the workflow passes every output through a declared flag

RULES = Path(__file__).resolve().parents[2] / "workflow" / "rules"


def _rule_commands() -> list[tuple[str, str, set[str]]]:
    """(rule, shell command, params derived from the rule's outputs) for every rule in workflow/rules."""
    found = []
    for smk in sorted(RULES.glob("*.smk")):
        blocks = re.split(r"^rule (\w+):\n", smk.read_text(), flags=re.M)
        for name, body in zip(blocks[1::2], blocks[2::2], strict=True):
            body = re.split(r"^\S", body, maxsplit=1, flags=re.M)[0]  # up to the next top-level statement
            shell = body.split("    shell:\n", 1)
            if len(shell) < 2:
                continue
            literals = re.findall(r"^\s+f?(\"[^\n]*\"|'[^\n]*')\s*$", shell[1], flags=re.M)
            command = "".join(ast.literal_eval(lit) for lit in literals)
            from_outputs = set(re.findall(r"^\s+(\w+)=lambda wc, output\b", body, flags=re.M))
            found.append((name, command, from_outputs))
    return found


RULE_COMMANDS = _rule_commands()
PARSERS = {(chain, step): parser for chain, step, parser in STEPS}


def _is_output(token: str, from_outputs: set[str]) -> bool:
    return bool(re.search(r"\{output\b", token)) or any(f"{{params.{p}}}" in token for p in from_outputs)


def test_rules_are_found():
    assert len(RULE_COMMANDS) >= 30
    assert all("pgml " in command for _, command, _ in RULE_COMMANDS)


@pytest.mark.parametrize(("rule", "command", "from_outputs"), RULE_COMMANDS, ids=[r for r, _, _ in RULE_COMMANDS])
def test_rules_pass_outputs_only_through_declared_flags(rule, command, from_outputs):
    """A rule's output reaches `pgml` only as the value of an option declared with output_file/output_dir,
    and such an option is given only an output: so the check in pgml.cli guards every path a rule writes."""
    tokens = command.split(">")[0].split()  # the log redirection is the shell's, not pgml's
    start = tokens.index("pgml")
    chain, step = tokens[start + 1], tokens[start + 2]
    if step.startswith("{"):  # the step comes from config (e.g. `pgml fetch {params.source}`): every step
        flags = {t for t in tokens[start + 3:] if t.startswith("--")}  # that takes the rule's flags
        parsers = [p for (c, _), p in PARSERS.items()
                   if c == chain and flags <= {f for a in p._actions for f in a.option_strings}]
        assert parsers, f"rule {rule}: no step of pgml {chain} takes {sorted(flags)}"
    else:
        parsers = [PARSERS[(chain, step)]]
    for parser in parsers:
        _check_rule_tokens(rule, tokens[start + 3:], parser, from_outputs)


def _check_rule_tokens(rule: str, tokens: list[str], parser: argparse.ArgumentParser, from_outputs: set[str]) -> None:
    actions = {flag: a for a in parser._actions for flag in a.option_strings}
    flag = None
    wrong = []
    for token in tokens:
        if token.startswith("--"):
            flag = token
            continue
        action = actions.get(flag)
        declared = action is not None and role_of(action) in (OUTPUT_FILE, OUTPUT_DIR)
        if _is_output(token, from_outputs) and not declared:
            wrong.append(f"{flag or '(positional)'} {token}: an output given to an option not declared as one")
        elif declared and not _is_output(token, from_outputs):
            wrong.append(f"{flag} {token}: a declared output option given something else")
        if token.startswith("{params.") or (action is not None and action.nargs not in ("+", "*")):
            flag = None  # a config bundle of flags, or the option's one value: what follows is not its value
    assert not wrong, f"rule {rule}: outputs and declared output flags disagree: {wrong}"
