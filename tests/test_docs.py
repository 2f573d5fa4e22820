"""The documentation: the MkDocs site builds in strict mode, every step and rule is on its chain's page,
the README stays short and its links resolve, and the configuration page is generated from the schema."""

from __future__ import annotations

import argparse
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pgml.cli import CHAINS, build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def steps_of(group: str) -> list[str]:
    """The steps of ``pgml <group>``, read from the console script's own parser."""
    return sorted(_subparsers(_subparsers(build_parser())[group]))


def rules_of(chain: str) -> list[str]:
    text = (ROOT / "workflow" / "rules" / f"{chain}.smk").read_text()
    return sorted(re.findall(r"^(?:rule|checkpoint) (\w+):", text, re.M))


def test_steps_and_rules_are_discovered() -> None:
    """The discovery below must see real steps and rules, or the page checks would pass on nothing."""
    assert "predict" in steps_of("bfactor") and "sources" in steps_of("fetch")
    assert "bfactor_train_model" in rules_of("bfactor")


@pytest.mark.parametrize("chain", sorted(CHAINS))
def test_every_step_is_named_on_its_chain_page(chain: str) -> None:
    page = (DOCS / "chains" / f"{chain}.md").read_text()
    missing = [step for step in steps_of(chain) if f"pgml {chain} {step}`" not in page]
    assert not missing, f"docs/chains/{chain}.md does not name: " + ", ".join(f"pgml {chain} {s}" for s in missing)


@pytest.mark.parametrize("chain", sorted(CHAINS))
def test_every_rule_is_named_on_its_chain_page(chain: str) -> None:
    page = (DOCS / "chains" / f"{chain}.md").read_text()
    missing = [rule for rule in rules_of(chain) if f"`{rule}`" not in page]
    assert not missing, f"docs/chains/{chain}.md does not name the rules {missing}"


def test_every_fetch_step_is_on_the_fetching_page() -> None:
    page = (DOCS / "fetching.md").read_text()
    missing = [step for step in steps_of("fetch") if f"pgml fetch {step}" not in page]
    assert not missing, f"docs/fetching.md does not name: {missing}"


def test_every_report_step_is_on_the_outputs_page() -> None:
    page = (DOCS / "outputs.md").read_text()
    missing = [step for step in steps_of("report") if f"pgml report {step}" not in page]
    assert not missing, f"docs/outputs.md does not name: {missing}"
    assert "`<chain>_summarise_metrics`" in page


def test_readme_is_short_and_its_links_resolve() -> None:
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 200, "README.md is over 200 lines: move the detail to docs/"
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [link for link in links if not re.match(r"[a-z]+://", link)]
    broken = [link for link in local if not (ROOT / link).exists()]
    assert not broken, f"README.md links to missing files: {broken}"
    for chain in CHAINS:
        assert f"(docs/chains/{chain}.md)" in text, f"README.md does not link the {chain} page"


def test_configuration_page_is_generated_from_the_schema() -> None:
    """Every schema key appears in the generated tables with the schema's default, once."""
    sys.path.insert(0, str(DOCS / "hooks"))
    try:
        import schema_table
    finally:
        sys.path.pop(0)
    page = (DOCS / "configuration.md").read_text()
    assert schema_table.MARKER in page
    table = schema_table.schema_markdown()
    assert "| `seed` | integer | `0` | &gt;= 0 |" in table
    assert "| `bfactor.train.epochs` |" in table
    assert "| `tfbs.train.max_valid_windows` |" in table


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None,
                    reason="mkdocs / mkdocs-material not installed (pip install -e '.[docs]')")
def test_site_builds_in_strict_mode(tmp_path: Path) -> None:
    """Broken links, missing pages and nav entries to missing files fail the build."""
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    for chain in CHAINS:
        assert (tmp_path / "site" / "chains" / chain / "index.html").exists()
    html = (tmp_path / "site" / "configuration" / "index.html").read_text()
    assert "bfactor.train.epochs" in html, "the configuration tables were not generated"


def _nav_pages(node: object) -> set[str]:
    if isinstance(node, str):
        return {node}
    if isinstance(node, dict):
        return set().union(*(_nav_pages(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_nav_pages(v) for v in node))
    return set()


def test_every_page_is_reachable() -> None:
    """A page is in the nav or linked from another page (a new page may join the nav later)."""
    import posixpath

    import yaml

    nav = _nav_pages(yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"])
    linked: set[str] = set()
    for page in DOCS.rglob("*.md"):
        src = page.relative_to(DOCS).as_posix()
        for target in re.findall(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)", page.read_text()):
            linked.add(posixpath.normpath(posixpath.join(posixpath.dirname(src), target)))
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md") if "hooks" not in p.parts}
    assert not pages - nav - linked, f"pages neither in the nav nor linked: {sorted(pages - nav - linked)}"
    assert not nav - pages, f"nav entries without a page: {sorted(nav - pages)}"
