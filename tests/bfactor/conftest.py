"""Shared fixtures of the bfactor tests."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from pgml.bfactor.params import SplitConfig
from pgml.bfactor.select import select_structures
from pgml.bfactor.split import split_dataset
from pgml.structure.collection import shard_structures

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo" / "structures"
#: four small demo structures that a tiny model trains on in seconds
SMALL = ["1A8O.pdb.gz", "1UBI.pdb.gz", "3JQH.cif.gz", "1EJG.pdb.gz"]


@pytest.fixture(scope="session")
def _selection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("small_selection")
    listing = work / "list.txt"
    listing.write_text("".join(f"{DEMO / n}\n" for n in SMALL))
    shard_structures([listing], n_shards=1, output_dir=work)
    select_structures(work / "shard_0.txt", output=work / "sel.tsv", max_resolution=3.0)
    split_dataset([work / "sel.tsv"], output=work / "split.tsv", report=work / "report.tsv",
                  config=SplitConfig(method="random", val_fraction=0.25, test_fraction=0.25), seed=0)
    return work


@pytest.fixture(scope="session")
def small_selection(_selection: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``small_selection(name)``: a new folder holding ``sel.tsv`` (the SMALL structures selected at 3 Å)
    and their random ``split.tsv``, selected and split once for all the tests that train on them."""
    def fresh(name: str) -> Path:
        work = tmp_path_factory.mktemp(name)
        for table in ("sel.tsv", "split.tsv"):
            shutil.copy(_selection / table, work / table)
        return work
    return fresh
