"""Residue coordinates: Cβ (Cα for Gly), virtual Cβ close to the real one, clear error without backbone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pgml.errors import InputError
from pgml.structure import read_structure
from pgml.structure.residue_coords import distance_map, residue_coords, virtual_cb

UBIQUITIN = Path(__file__).resolve().parents[2] / "resources" / "demo" / "structures" / "1UBI.pdb.gz"


def test_ubiquitin_residues_and_glycine_cb() -> None:
    res = residue_coords(read_structure(UBIQUITIN))
    assert len(res) == 76
    assert res.sequence.startswith("MQIFVKTLTGK")
    gly = np.flatnonzero(res.res_name == "GLY")
    assert len(gly) > 0
    np.testing.assert_array_equal(res.cb[gly], res.ca[gly])
    assert not res.cb_virtual.any()
    d = distance_map(res.ca)
    assert d.shape == (76, 76) and np.allclose(np.diag(d), 0)
    consecutive = np.diag(d, 1)
    assert np.all((consecutive > 3.6) & (consecutive < 4.0))


def test_virtual_cb_is_within_a_few_tenths_of_the_real_cb() -> None:
    res = residue_coords(read_structure(UBIQUITIN))
    real = res.res_name != "GLY"
    built = virtual_cb(res.n[real], res.ca[real], res.c[real])
    err = np.linalg.norm(built - res.cb[real], axis=1)
    assert np.median(err) < 0.1 and err.max() < 0.5


def test_missing_cb_is_built_and_missing_backbone_is_an_error() -> None:
    st = read_structure(UBIQUITIN)
    atoms = st.atoms
    no_cb = atoms.subset(~((atoms.res_index == 0) & (atoms.atom_name == "CB")))
    res = residue_coords(no_cb)
    assert res.cb_virtual[0] and not res.cb_virtual[1:].any()
    no_n = atoms.subset(~((atoms.res_index == 3) & (atoms.atom_name == "N")))
    with pytest.raises(InputError, match="lack one of N, CA, C.*A:4"):
        residue_coords(no_n, require_backbone=True)
