"""The grn chain's workflow files: conda env in step with pyproject.toml, config valid against the schema."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _name_and_bound(spec: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
    assert m, spec
    return m.group(1).lower(), m.group(2).replace(" ", "")


def test_grn_env_matches_pyproject():
    env = yaml.safe_load((ROOT / "envs" / "grn.yaml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = dict(_name_and_bound(d) for d in project["dependencies"])
    pins.update(_name_and_bound(d) for d in project["optional-dependencies"]["grn-cpu"])
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    for spec in conda[2:] + pip:  # python=3.11 and pip come first
        name, bound = _name_and_bound(spec)
        assert name in pins, f"{name} is in envs/grn.yaml but not in pyproject.toml"
        assert bound == pins[name], f"{name}: envs/grn.yaml {bound} vs pyproject.toml {pins[name]}"
    needed = {"numpy", "scipy", "pandas", "scikit-learn", "matplotlib", "xgboost-cpu"}
    assert needed <= {_name_and_bound(s)[0] for s in conda + pip}
    assert (ROOT / "envs" / "grn.post-deploy.sh").read_text().count("pip install") == 1


def test_configs_validate_against_schema():
    from snakemake.utils import validate

    for path in (ROOT / "config" / "config.yaml", ROOT / "config" / "paper" / "grn.yaml"):
        config = yaml.safe_load(path.read_text())
        validate(config, str(ROOT / "workflow" / "schemas" / "config.schema.yaml"))
        assert "grn" in config["chains"] and "grn" in config
