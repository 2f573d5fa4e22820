"""Shared fixtures: the demo structures, a writer for small hand-made PDB files and a tiny bfactor training set."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO_STRUCTURES = REPO / "resources" / "demo" / "structures"
SHARED_STRUCTURES = REPO.parent / "shared" / "data" / "structures"


def pdb_atom(serial: int, name: str, res: str, chain: str, seq: int, xyz: Sequence[float], *,
             icode: str = " ", altloc: str = " ", occ: float = 1.0, b: float = 10.0,
             element: str | None = None, het: bool = False) -> str:
    """One fixed-column PDB ATOM/HETATM record (PDB format v3.3)."""
    element = element or name[0]
    field = f"{name:<4}" if len(element) == 2 or len(name) == 4 else f" {name:<3}"
    rec = "HETATM" if het else "ATOM  "
    x, y, z = xyz
    return (f"{rec}{serial:5d} {field}{altloc}{res:>3} {chain}{seq:4d}{icode}   "
            f"{x:8.3f}{y:8.3f}{z:8.3f}{occ:6.2f}{b:6.2f}          {element:>2}")


def backbone(res: str, chain: str, seq: int, x0: float, *, serial: int = 1, icode: str = " ",
             b: float = 10.0, het: bool = False) -> list[str]:
    """N, CA, C, O of one residue along x starting at ``x0`` (C(i)-N(i+1) = 1.39 Å when x0 steps by 3.8)."""
    atoms = [("N", (x0, 0.0, 0.0)), ("CA", (x0 + 1.46, 0.0, 0.0)), ("C", (x0 + 2.5, 0.5, 0.0)),
             ("O", (x0 + 2.5, 1.73, 0.0))]
    return [pdb_atom(serial + k, n, res, chain, seq, xyz, icode=icode, b=b + k, het=het)
            for k, (n, xyz) in enumerate(atoms)]


@pytest.fixture
def write_pdb(tmp_path: Path) -> Callable[..., Path]:
    """``write_pdb(lines, name="x.pdb", header=...)`` writes a PDB file under tmp_path."""

    def _write(lines: Sequence[str], name: str = "test.pdb",
               header: str = "EXPDTA    X-RAY DIFFRACTION\nREMARK   2 RESOLUTION.    1.50 ANGSTROMS.") -> Path:
        path = tmp_path / name
        text = (header + "\n" if header else "") + "\n".join(lines) + "\nEND\n"
        if name.endswith(".gz"):
            import gzip

            path.write_bytes(gzip.compress(text.encode()))
        else:
            path.write_text(text)
        return path

    return _write


@pytest.fixture
def demo_dir() -> Path:
    assert DEMO_STRUCTURES.is_dir(), f"{DEMO_STRUCTURES} is part of the repository but missing"
    return DEMO_STRUCTURES


# ---------------------------------------------------------------- bfactor: a tiny training set

#: four small demo structures that a tiny model trains on in seconds
SMALL = ["1A8O.pdb.gz", "1UBI.pdb.gz", "3JQH.cif.gz", "1EJG.pdb.gz"]


@pytest.fixture(scope="session")
def _selection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pgml.bfactor.params import SplitConfig
    from pgml.bfactor.select import select_structures
    from pgml.bfactor.split import split_dataset
    from pgml.structure.collection import shard_structures

    work = tmp_path_factory.mktemp("small_selection")
    listing = work / "list.txt"
    listing.write_text("".join(f"{DEMO_STRUCTURES / n}\n" for n in SMALL))
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
