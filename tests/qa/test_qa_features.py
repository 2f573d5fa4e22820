"""Distance-error features (eqs. 5.1-5.2) on a hand-made distogram, spherical harmonics against scipy,
local frames, node features, reference reading and residue alignment."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from pgml.errors import InputError
from pgml.qa.align import align_residues, take_pairs
from pgml.qa.features import (
    bin_midpoints,
    buriedness,
    contact_probability,
    distance_error_features,
    voronoi_volumes,
)
from pgml.qa.geometry import edge_angles, local_frames, real_spherical_harmonics
from pgml.qa.references import read_references


def test_distance_error_features_hand_made_distogram() -> None:
    # bins: (<4), [4,6), [6,8), [8,10), (>=10) -> midpoints 3, 5, 7, 9, 11
    edges = np.array([4.0, 6.0, 8.0, 10.0])
    assert bin_midpoints(edges) == pytest.approx([3, 5, 7, 9, 11])
    probs = np.zeros((2, 2, 5))
    probs[0, 1] = [0.1, 0.2, 0.3, 0.4, 0.0]
    probs[1, 0] = [0.0, 0.0, 0.0, 0.5, 0.5]
    d_model = np.array([[0.0, 6.8], [9.2, 0.0]])
    feats = distance_error_features(probs, edges, d_model)
    # pair (0,1), d = 6.8: errors mid - d = -3.8, -1.8, 0.2, 2.2, 4.2
    # -> bins (-4,-2] #1 gets 0.1, (-2,-1] #2 gets 0.2, (-0.5,0.5] #4 gets 0.3, (2,4] #7 gets 0.4
    assert feats[0, 1] == pytest.approx([0, 0.1, 0.2, 0, 0.3, 0, 0, 0.4, 0])
    # pair (1,0), d = 9.2: errors -0.2 (bin 4) and 1.8 (bin 6, (1,2])
    assert feats[1, 0] == pytest.approx([0, 0, 0, 0, 0.5, 0, 0.5, 0, 0])
    assert feats.sum(-1)[0, 1] == pytest.approx(1.0)
    # contact probability: bins with midpoint <= 8 (3, 5, 7)
    assert contact_probability(probs, edges, cutoff=8.0)[0, 1] == pytest.approx(0.6)


def test_distance_error_features_equal_the_direct_sum() -> None:
    """The cumulative-sum form equals eq. 5.1 summed bin by bin on a random AlphaFold-shaped distogram."""
    from pgml.qa.params import ERROR_BIN_EDGES

    rng = np.random.default_rng(4)
    edges = np.linspace(2.3125, 21.6875, 63)
    probs = rng.dirichlet(np.ones(64), size=(12, 12))
    d_model = rng.uniform(2, 25, size=(12, 12))
    mids = bin_midpoints(edges)
    direct = np.zeros((12, 12, 9))
    for i in range(12):
        for j in range(12):
            for b in range(64):
                k = np.digitize(mids[b] - d_model[i, j], ERROR_BIN_EDGES, right=True)
                direct[i, j, k] += probs[i, j, b]
    np.testing.assert_allclose(distance_error_features(probs, edges, d_model), direct, atol=1e-12)


def test_real_spherical_harmonics_against_scipy() -> None:
    special = pytest.importorskip("scipy.special")
    rng = np.random.default_rng(1)
    theta, phi = rng.uniform(0, np.pi, 200), rng.uniform(-np.pi, np.pi, 200)
    ours = real_spherical_harmonics(4, theta, phi)
    col = 0
    for l in range(5):  # noqa: E741
        for m in range(-l, l + 1):
            c = special.sph_harm_y(l, abs(m), theta, phi)
            expected = c.real if m == 0 else np.sqrt(2) * (-1) ** m * (c.real if m > 0 else c.imag)
            np.testing.assert_allclose(ours[:, col], expected, atol=1e-10, err_msg=f"l={l} m={m}")
            col += 1
    # orthonormal on the sphere: Monte-Carlo Gram matrix of uniformly drawn directions is ~ I / (4 pi)
    u = rng.normal(size=(200000, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    y = real_spherical_harmonics(2, np.arccos(u[:, 2]), np.arctan2(u[:, 1], u[:, 0]))
    np.testing.assert_allclose(4 * np.pi * y.T @ y / len(u), np.eye(9), atol=0.03)


def test_local_frames_orthonormal_and_angles_invariant() -> None:
    from helpers import rigid_motion

    rng = np.random.default_rng(2)
    ca = rng.normal(scale=5, size=(10, 3))
    n = ca + rng.normal(size=(10, 3))
    c = ca + rng.normal(size=(10, 3))
    frames = local_frames(n, ca, c)
    for f in frames:
        np.testing.assert_allclose(f @ f.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(f) == pytest.approx(1.0)
    # x along CA->N; y in the C-CA-N plane
    x = (n - ca) / np.linalg.norm(n - ca, axis=1, keepdims=True)
    np.testing.assert_allclose(frames[:, 0], x, atol=1e-12)
    np.testing.assert_allclose(np.einsum("ij,ij->i", frames[:, 2], c - ca), 0, atol=1e-10)
    src, dst = np.array([0, 1, 2]), np.array([3, 4, 5])
    theta, phi = edge_angles(frames, ca, src, dst)
    r, t = (v.numpy() for v in rigid_motion(5))
    moved = [a @ r.T + t for a in (n, ca, c)]
    theta2, phi2 = edge_angles(local_frames(*moved), moved[1], src, dst)
    np.testing.assert_allclose(theta2, theta, atol=1e-10)
    np.testing.assert_allclose(phi2, phi, atol=1e-10)


def test_buriedness_and_voronoi() -> None:
    cb = np.array([[0.0, 0, 0], [5, 0, 0], [10, 0, 0], [15, 0, 0]])
    rsa = np.array([0.5, 0.1, 0.1, 0.1])
    assert buriedness(cb, rsa).tolist() == [0, 1, 2, 3]
    rng = np.random.default_rng(3)
    pts = rng.uniform(0, 20, size=(60, 3))
    vol = voronoi_volumes(pts)
    assert (vol > 0).all()
    centre = np.argmin(np.linalg.norm(pts - 10, axis=1))
    assert vol[centre] < np.median(vol)  # an inner cell is smaller than surface cells


def test_alignment_partial_and_unalignable() -> None:
    ref = "MKTAYIAKQRQISFVKSHFSRQ"
    model = ref[3:15]
    mapping = align_residues(model, ref)
    assert mapping.tolist() == list(range(3, 15))
    mutated = model[:5] + "W" + model[6:]
    assert align_residues(mutated, ref).tolist() == list(range(3, 15))
    with pytest.raises(InputError, match="cannot be aligned"):
        align_residues("GGGGGGGGGGGG", ref, model_name="m.pdb")
    pair = np.arange(16.0).reshape(4, 4)
    np.testing.assert_allclose(take_pairs(pair, np.array([2, -1, 0])), [[10, 0, 8], [0, 0, 0], [2, 0, 0]])


def test_references_from_pkl_and_pdb(tmp_path, demo_dir) -> None:
    from pgml.qa.params import SimulateConfig
    from pgml.qa.simulate import simulate_target

    target = simulate_target(demo_dir / "1UBI.pdb.gz", tmp_path, SimulateConfig(n_decoys=1, max_residues=30))
    refs = read_references(target / "alphafold", 5)
    assert len(refs) == 5 and refs[0].probs.shape == (30, 30, 64)
    np.testing.assert_allclose(refs[0].probs.sum(-1), 1.0, atol=1e-6)
    pdb_only = read_references(target / "alphafold", 2, fmt="pdb")
    assert len(pdb_only) == 2 and pdb_only[0].probs is None
    np.testing.assert_allclose(pdb_only[0].plddt, refs[0].plddt, atol=0.01)  # B column = pkl pLDDT
    # a pkl without a distogram is refused with the file named
    (target / "alphafold" / "result_model_1.pkl").write_bytes(pickle.dumps({"plddt": refs[0].plddt}))
    with pytest.raises(InputError, match="result_model_1.pkl.*no distogram"):
        read_references(target / "alphafold", 5)


def test_references_from_mmcif_with_fractional_plddt(tmp_path, demo_dir) -> None:
    """AlphaFold DB mmCIF (pLDDT in B_iso_or_equiv) and ESMFold-style pLDDT in 0-1 are read as 0-100."""
    import gemmi

    from pgml.qa.params import SimulateConfig
    from pgml.qa.simulate import simulate_target

    target = simulate_target(demo_dir / "1UBI.pdb.gz", tmp_path, SimulateConfig(n_decoys=1, max_residues=25))
    st = gemmi.read_structure(str(target / "alphafold" / "relaxed_model_1.pdb"))
    expected = np.array([res[0].b_iso for res in st[0][0]])
    for res in st[0][0]:
        for atom in res:
            atom.b_iso = atom.b_iso / 100.0
    afdb = tmp_path / "afdb"
    afdb.mkdir()
    st.setup_entities()
    st.make_mmcif_document().write_file(str(afdb / "AF-P0CG48-F1-model_v4.cif"))
    (ref,) = read_references(afdb, 5)
    assert ref.probs is None and len(ref.coords) == 25
    np.testing.assert_allclose(ref.plddt, expected, atol=0.01)
