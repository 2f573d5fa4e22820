"""The conda env files parse, every rule names one, and each lists what the rule's code imports.

Conda channels are not reachable where the tests run, so the envs cannot be solved here; instead
this test keeps them consistent with pyproject.toml and with the imports of the pgml modules each
rule runs (found by walking the import graph from ``pgml.<chain>``).
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
#: conda-forge names that differ from the PyPI distribution name
CONDA_ALIASES = {"pytorch": "torch", "py-xgboost": "xgboost", "xgboost-cpu": "xgboost"}


def normalise(name: str) -> str:
    name = re.split(r"[<>=!~\[ ;@]", name.strip(), maxsplit=1)[0].lower().replace("_", "-")
    return CONDA_ALIASES.get(name, name)


def env_packages(path: Path) -> set[str]:
    spec = yaml.safe_load(path.read_text())
    names: set[str] = set()
    for dep in spec.get("dependencies", []):
        if isinstance(dep, dict):
            names |= {normalise(p) for p in dep.get("pip", []) if not p.startswith("-")}
        else:
            names.add(normalise(dep.split("::")[-1]))
    return names


def rule_envs() -> dict[str, str]:
    """rule name -> env file name, from the rules' ``conda:`` directives."""
    envs: dict[str, str] = {}
    for smk in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        rule = None
        lines = smk.read_text().splitlines()
        for i, line in enumerate(lines):
            m = re.match(r"(?:rule|checkpoint) (\w+):", line)
            if m:
                rule = m.group(1)
            if line.strip() == "conda:" and rule:
                target = lines[i + 1].strip()
                envs[rule] = re.search(r"([\w.-]+\.yaml)", target).group(1)
    return envs


def rules_without_env() -> list[str]:
    rules = []
    for smk in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        text = smk.read_text()
        for block in re.split(r"\n(?=rule \w+:)", text):
            m = re.match(r"rule (\w+):", block)
            if m and m.group(1) != "all" and "conda:" not in block and "shell:" in block:
                rules.append(m.group(1))
    return rules


def _module_level(tree: ast.Module) -> list[ast.AST]:
    """Import statements a module runs when it is imported (not inside functions or TYPE_CHECKING)."""
    out: list[ast.AST] = []
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom | ast.If | ast.Try):
            out.extend(n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom))
    return out


def third_party_imports(package: str) -> set[str]:
    """Top-level third-party modules imported by ``package`` and the pgml modules it imports.

    In the chain's own package every import counts, lazy ones too. In the shared modules it reaches
    (pgml.runtime, pgml.plots, ...) only module-level imports count: a shared function that imports
    torch on use (``pgml.runtime.pick_device``) is called only by code that needs torch anyway.
    """
    seen: set[str] = set()
    external: set[str] = set()
    todo = [package]
    while todo:
        mod = todo.pop()
        if mod in seen:
            continue
        seen.add(mod)
        path = SRC / Path(*mod.split("."))
        files = sorted(path.glob("*.py")) if path.is_dir() else [path.with_suffix(".py")]
        for file in files:
            if not file.exists():
                continue
            tree = ast.parse(file.read_text())
            nodes = ast.walk(tree) if mod.startswith(package) else _module_level(tree)
            for node in nodes:
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                for name in names:
                    top = name.split(".")[0]
                    if top == "pgml":
                        todo.append(".".join(name.split(".")[:2]) if name.count(".") >= 1 else name)
                    elif top not in sys.stdlib_module_names and top != "__future__":
                        external.add(top)
    return external


def distribution(module: str) -> str:
    dists = importlib.metadata.packages_distributions().get(module)
    assert dists, f"module {module} is imported by pgml but no installed distribution provides it"
    return normalise(dists[0])


ENV_FILES = sorted((ROOT / "envs").glob("*.yaml"))


@pytest.mark.parametrize("env_file", ENV_FILES, ids=lambda p: p.name)
def test_env_parses_and_installs_pgml(env_file: Path) -> None:
    spec = yaml.safe_load(env_file.read_text())
    assert spec["name"], env_file
    assert any(str(d).startswith("python") for d in spec["dependencies"]), "env pins no python"
    post = env_file.with_name(env_file.stem + ".post-deploy.sh")
    assert post.exists(), f"{post.name} missing: pgml would not be importable in {env_file.name}"
    assert "pip install" in post.read_text()


def test_every_shell_rule_names_an_existing_env() -> None:
    assert rules_without_env() == []
    envs = rule_envs()
    assert envs, "no rule names a conda env"
    for rule, env in envs.items():
        assert (ROOT / "envs" / env).exists(), f"rule {rule} names missing envs/{env}"


def test_envs_list_what_the_rules_code_imports() -> None:
    rules_by_chain: dict[str, set[str]] = {}
    for smk in (ROOT / "workflow" / "rules").glob("*.smk"):
        if smk.stem != "common":
            rules_by_chain[smk.stem] = set(re.findall(r"^rule (\w+):", smk.read_text(), re.M))
    envs = rule_envs()
    for chain, rules in rules_by_chain.items():
        needed = {distribution(m) for m in third_party_imports(f"pgml.{chain}")}
        for rule in rules - {"all"}:
            listed = env_packages(ROOT / "envs" / envs[rule])
            missing = needed - listed
            assert not missing, f"envs/{envs[rule]} (rule {rule}) lacks {sorted(missing)}"


def test_core_env_matches_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {normalise(d) for d in project["dependencies"]}
    listed = env_packages(ROOT / "envs" / "pgml.yaml")
    assert core <= listed, f"envs/pgml.yaml lacks {sorted(core - listed)}"
    # exact pins in pyproject must be the same pins in the env file
    text = (ROOT / "envs" / "pgml.yaml").read_text()
    for dep in project["dependencies"]:
        if "==" in dep:
            assert dep in text, f"pin {dep} differs in envs/pgml.yaml"
