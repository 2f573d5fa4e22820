"""Config validation and dry runs of the workflow (demo, SLURM profile, paper configs)."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import pytest
import yaml
from helpers import snakemake_executable
from snakemake.utils import validate

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = str(ROOT / "workflow" / "schemas" / "config.schema.yaml")
SNAKEMAKE = snakemake_executable()


def demo_config() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def test_demo_config_is_valid() -> None:
    validate(demo_config(), SCHEMA)


@pytest.mark.parametrize("paper", sorted((ROOT / "config" / "paper").glob("*.yaml")), ids=lambda p: p.name)
def test_paper_configs_are_valid(paper: Path) -> None:
    config = demo_config()
    config.update(yaml.safe_load(paper.read_text()))
    validate(config, SCHEMA)


def test_misspelt_key_names_the_key() -> None:
    config = copy.deepcopy(demo_config())
    config["bfactor"]["max_resolutoin"] = 2.0
    with pytest.raises(Exception, match="max_resolutoin"):
        validate(config, SCHEMA)


def test_wrong_type_names_the_key() -> None:
    config = copy.deepcopy(demo_config())
    config["bfactor"]["train"]["epochs"] = "ten"
    with pytest.raises(Exception, match="epochs"):
        validate(config, SCHEMA)


def dry_run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SNAKEMAKE, "all", "-n", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_dry_run_demo() -> None:
    result = dry_run("--cores", "2")
    assert result.returncode == 0, result.stderr[-2000:]


def test_dry_run_slurm_profile_without_slurm() -> None:
    result = dry_run("--profile", "profiles/slurm")
    assert result.returncode == 0, result.stderr[-2000:]


def test_wrong_key_stops_the_run(tmp_path: Path) -> None:
    config = demo_config()
    config["bfactor"]["architecture"] = ["meta"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    result = dry_run("--cores", "1", "--configfile", str(bad))
    assert result.returncode != 0
    assert "architecture" in result.stderr + result.stdout
