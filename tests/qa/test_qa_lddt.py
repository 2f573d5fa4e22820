"""lDDT against biotite (hand-made and real CASP models), GDT-TS and TM-score on known cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pgml.qa.lddt import lddt, pair_error_bins
from pgml.qa.scores import gdt_ts, kabsch, tm_score

QA_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "qa"


def test_lddt_hand_computed() -> None:
    # three atoms on a line, 1 residue each; the model stretches the 0-2 pair by 0.7 Å:
    # pairs (0,1) d=3 dev 0 -> 1; (0,2) d=6 dev 0.7 -> 3/4 thresholds; (1,2) d=3 dev 0.7 -> 3/4
    ref = np.array([[0.0, 0, 0], [3, 0, 0], [6, 0, 0]])
    model = np.array([[0.0, 0, 0], [3, 0, 0], [6.7, 0, 0]])
    glob, per = lddt(ref, model)
    assert per == pytest.approx([(1 + 0.75) / 2, (1 + 0.75) / 2, 0.75])
    assert glob == pytest.approx((1 + 0.75 + 0.75) * 2 / 6)
    # beyond the 15 Å radius a pair does not count: atom 2 has no partner
    far = ref.copy()
    far[2, 0] = 30.0
    _, per = lddt(far, far)
    assert np.isnan(per[2]) and per[0] == 1.0


def test_lddt_same_residue_pairs_excluded_and_nan_atoms() -> None:
    ref = np.array([[0.0, 0, 0], [1.5, 0, 0], [5, 0, 0]])
    model = ref + np.array([[0, 0, 0], [0.9, 0, 0], [0, 0, 0]])
    glob, per = lddt(ref, model, np.array([0, 0, 1]))
    # only pairs across residues: (0,2) dev 0 -> 1 and (1,2) dev 0.9 -> 0.75, both directions
    assert per == pytest.approx([(1 + 0.75) / 2, (1 + 0.75) / 2])
    assert glob == pytest.approx(0.875)
    missing = model.copy()
    missing[2] = np.nan
    _, per = lddt(ref, missing, np.array([0, 0, 1]))
    assert per == pytest.approx([0.0, 0.0])


def test_lddt_agrees_with_biotite_on_random_coordinates() -> None:
    struc = pytest.importorskip("biotite.structure")
    rng = np.random.default_rng(0)
    n = 60
    ref = rng.normal(scale=8, size=(n, 3))
    model = ref + rng.normal(scale=1.5, size=(n, 3))
    res = np.repeat(np.arange(20), 3)
    atoms = struc.AtomArray(n)
    atoms.coord = ref
    atoms.res_id = res + 1
    atoms.chain_id[:] = "A"
    atoms.atom_name[:] = ["N", "CA", "C"] * 20
    glob, per = lddt(ref, model, res)
    assert glob == pytest.approx(float(struc.lddt(atoms, model)), abs=1e-6)
    np.testing.assert_allclose(per, struc.lddt(atoms, model, aggregation="residue"), atol=1e-6)


@pytest.mark.shared_data
@pytest.mark.parametrize("atoms", ["all", "CA"])
def test_lddt_equals_biotite_on_casp_models(atoms: str) -> None:
    struc = pytest.importorskip("biotite.structure")
    from pgml.structure import read_structure

    target = QA_DATA / "CASP13_T0980s1"
    if not target.is_dir():
        pytest.skip("../shared/data/qa absent")
    native = read_structure(target / "native" / "T0980s1-D1.pdb.gz").atoms
    for path in sorted((target / "models").glob("*.pdb.gz"))[::20]:
        model = read_structure(path).atoms
        index = {(s, a): k for k, (s, a) in enumerate(zip(model.res_seq, model.atom_name, strict=True))}
        pairs = [(i, index[(s, a)]) for i, (s, a) in enumerate(zip(native.res_seq, native.atom_name, strict=True))
                 if (s, a) in index and (atoms == "all" or a == "CA")]
        ni, mi = (np.array(x) for x in zip(*pairs, strict=True))
        arr = struc.AtomArray(len(ni))
        arr.coord = native.coords[ni]
        arr.res_id = native.res_seq[ni]
        arr.chain_id[:] = "A"
        arr.atom_name = native.atom_name[ni]
        _, res = np.unique(native.res_seq[ni], return_inverse=True)
        # biotite holds coordinates as float32: give both the same float32 values (PDB has 3 decimals)
        mod = model.coords[mi].astype(np.float32)
        glob, per = lddt(arr.coord, mod, res)
        assert glob == pytest.approx(float(struc.lddt(arr, mod)), abs=1e-6), path.name
        np.testing.assert_allclose(per, struc.lddt(arr, mod, aggregation="residue"), atol=1e-6)


def test_error_bins_of_pairs() -> None:
    ref = np.array([[0.0, 0, 0], [5, 0, 0], [40, 0, 0]])
    model = np.array([[0.0, 0, 0], [5.7, 0, 0], [40, 0, 0]])
    bins = pair_error_bins(ref, model)
    assert bins[0, 1] == 3  # d_ref - d_model = -0.7 in (-1, -0.5]
    assert bins[0, 0] == -1 and bins[0, 2] == -1  # diagonal and beyond 15 Å


def _helix(n: int) -> np.ndarray:
    t = np.arange(n) * 100 / 180 * np.pi
    return np.stack([2.3 * np.cos(t), 2.3 * np.sin(t), 1.5 * np.arange(n)], 1)


def test_gdt_and_tm_of_identical_and_moved_structures() -> None:
    from helpers import rigid_motion

    native = _helix(40)
    r, t = (x.numpy() for x in rigid_motion(3))
    moved = native @ r.T + t
    assert gdt_ts(moved, native) == pytest.approx(1.0)
    assert tm_score(moved, native, "A" * 40) == pytest.approx(1.0, abs=1e-4)
    # half the residues displaced by 20 Å: those are beyond every GDT cutoff -> GDT-TS 0.5
    bad = moved.copy()
    bad[20:] += 20.0
    assert gdt_ts(bad, native) == pytest.approx(0.5)
    assert 0.3 < tm_score(bad, native, "A" * 40) < 0.6
    # residues the model lacks (NaN rows) count against it: native length in the denominator
    cut = moved.copy()
    cut[:10] = np.nan
    assert gdt_ts(cut, native) == pytest.approx(30 / 40)
    assert tm_score(cut, native, "A" * 40) == pytest.approx(30 / 40, abs=1e-4)
    rot, shift = kabsch(moved, native)
    np.testing.assert_allclose(moved @ rot.T + shift, native, atol=1e-8)
