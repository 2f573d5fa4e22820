"""The released networks' inputs built in pgml (:mod:`pgml.qa.released_features`): each array against the
authors' own feature functions on a simulated target (``fixtures/enqa_released/features``, see its
README), hand-computed cases for each function, and ``predict-released`` on a model PDB + AlphaFold dir."""

from __future__ import annotations

import pickle
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import pdb_atom

from pgml.cli import main
from pgml.errors import InputError
from pgml.qa.params import RELEASED_METHODS, SimulateConfig
from pgml.qa.released_features import (
    RESIDUE_TYPES,
    af2_lddt,
    atom_volumes,
    bin_centres,
    contact_map,
    cov25,
    edge_list,
    esto9_single,
    featurizer_harmonics,
    one_hot,
    released_arrays,
)
from pgml.qa.simulate import simulate_target
from pgml.structure import read_structure

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = Path(__file__).parent / "fixtures" / "enqa_released" / "features" / "reference.npz"
PUBLISHED = ROOT.parent / "shared" / "data" / "published_models" / "enqa"
#: largest absolute difference allowed against the authors' arrays (float32 softmax in theirs, float64 here)
TOLERANCE = {"plddt": 0.0, "pos": 0.0, "one_hot": 0.0, "cmap": 1e-6, "esto9": 1e-6, "cov25": 1e-7}


@pytest.fixture(scope="module")
def target(tmp_path_factory) -> Path:
    """The target the fixture was made from: `pgml qa simulate` of 24 residues of 1UBI, seed 0."""
    return simulate_target(ROOT / "resources" / "demo" / "structures" / "1UBI.pdb.gz",
                           tmp_path_factory.mktemp("released"), SimulateConfig(n_decoys=2, max_residues=24))


@pytest.fixture(scope="module")
def reference(target: Path) -> dict[str, np.ndarray]:
    ref = dict(np.load(REFERENCE))
    sums = [pickle.loads((target / "alphafold" / f"result_model_{k}.pkl").read_bytes())["distogram"]["logits"].sum()
            for k in range(1, 6)]
    np.testing.assert_allclose(sums, ref["input_logits_sum"], rtol=1e-6,
                               err_msg="the simulated target is not the one the fixture was made from; remake it")
    return ref


@pytest.mark.parametrize("method", ["EGNN_Full", "EGNN_covariance"])
def test_arrays_agree_with_the_authors_feature_code(target: Path, reference: dict, method: str) -> None:
    arrays = released_arrays(target / "models" / "decoy_01.pdb", target / "alphafold", method)
    kind = "esto9" if method == "EGNN_Full" else "cov25"
    for name in ("plddt", "pos", "one_hot", "cmap", kind):
        assert arrays[name].shape == reference[name].shape, name
        assert np.abs(arrays[name] - reference[name]).max() <= TOLERANCE[name], name
    np.testing.assert_array_equal(arrays["edge_index"], reference["edge_index"])
    node, pair = RELEASED_METHODS[method].node_channels, RELEASED_METHODS[method].pair_channels
    assert arrays["f1d"].shape == (node, 24) and arrays["f2d"].shape == (pair, 24, 24)
    assert arrays["af2_qa"].shape == (5, 24) and ((arrays["af2_qa"] > 0) & (arrays["af2_qa"] <= 1)).all()


def test_harmonics_agree_with_the_authors_featurizer(target: Path, reference: dict) -> None:
    """The S-GCN featurizer's output (4 decimals) on the Voronota contact pairs: pgml's pairs are a subset
    and carry the same 25 values."""
    arrays = released_arrays(target / "models" / "decoy_01.pdb", target / "alphafold", "EGNN_Full")
    adj = reference["sh_adj"]
    theirs = np.zeros((25, 24, 24), dtype=np.float32)
    theirs[:, adj[:, 0].astype(int), adj[:, 1].astype(int)] = adj[:, 2:].T
    ours_pairs, their_pairs = np.abs(arrays["sh"]).sum(0) > 0, np.abs(theirs).sum(0) > 0
    assert not (ours_pairs & ~their_pairs).any()
    assert ours_pairs.sum() == 114 and their_pairs.sum() == 128
    assert np.abs(arrays["sh"][:, ours_pairs] - theirs[:, ours_pairs]).max() <= 5.1e-5


def test_residue_features_are_close_to_voronotas(target: Path, reference: dict) -> None:
    """Volume and SASA (each divided by its sum) within 2e-3 of Voronota's, depth (buriedness) equal."""
    ours = released_arrays(target / "models" / "decoy_01.pdb", target / "alphafold", "EGNN_Full")["features"]
    theirs = reference["features"]
    for k in (0, 2):
        assert np.abs(ours[k] - theirs[k]).max() < 2e-3 and np.corrcoef(ours[k], theirs[k])[0, 1] > 0.99
    np.testing.assert_array_equal(ours[1], theirs[1])


def test_atom_volumes_of_a_lone_atom_fill_its_solvent_ball() -> None:
    radius = 1.6
    volume = atom_volumes(np.zeros((1, 3)), np.array([radius]), step=0.2)[0]
    assert volume == pytest.approx(4 / 3 * np.pi * (radius + 1.4) ** 3, rel=0.02)
    # two atoms 3 A apart, equal radii: the cells split the union of the balls in half
    two = atom_volumes(np.array([[0.0, 0, 0], [3.0, 0, 0]]), np.array([radius, radius]), step=0.2)
    assert two[0] == pytest.approx(two[1], rel=0.01)


def test_featurizer_harmonics_hand_computed() -> None:
    # along z: only the m = 0 slots, sqrt((2l+1)/4pi); along x (theta = pi/2, phi = 0), l = 1:
    # slot 1 (m=1) = 2 N_11 P_1^1(0) = -2 sqrt(3/8pi), slot -1 = -2 N_11 P_1^1(0) sin 0 = 0
    z = featurizer_harmonics(2, np.array([0.0]), np.array([0.0]))[0]
    np.testing.assert_allclose(z, [np.sqrt(1 / (4 * np.pi)), 0, np.sqrt(3 / (4 * np.pi)), 0, 0, 0,
                                   np.sqrt(5 / (4 * np.pi)), 0, 0], atol=1e-12)
    x = featurizer_harmonics(1, np.array([np.pi / 2]), np.array([0.0]))[0]
    np.testing.assert_allclose(x, [np.sqrt(1 / (4 * np.pi)), 0, 0, -2 * np.sqrt(3 / (8 * np.pi))], atol=1e-12)
    y = featurizer_harmonics(1, np.array([np.pi / 2]), np.array([np.pi / 2]))[0]
    np.testing.assert_allclose(y, [np.sqrt(1 / (4 * np.pi)), 2 * np.sqrt(3 / (8 * np.pi)), 0, 0], atol=1e-12)


def test_bin_centres_start_at_zero_and_end_on_the_last_edge() -> None:
    np.testing.assert_allclose(bin_centres(np.array([2.0, 4.0, 6.0])), [1.0, 3.0, 5.0, 6.0])


def test_esto9_bins_of_a_toy_distogram() -> None:
    # centres 1, 3, 5, 6; model distance 5 -> errors 4, 2, 0, -1: bins [4, inf), [2, 4), [-0.5, 0.5), [-1, -0.5)
    probs = np.array([0.1, 0.2, 0.3, 0.4]).reshape(1, 1, 4)
    out = esto9_single(probs, np.array([2.0, 4.0, 6.0]), np.array([[5.0]]))
    expected = np.zeros(9)
    expected[[8, 7, 4, 3]] = [0.1, 0.2, 0.3, 0.4]
    np.testing.assert_allclose(out[:, 0, 0], expected)


def test_contact_map_is_the_mean_mass_of_the_first_bins() -> None:
    a = np.zeros((1, 1, 4))
    a[..., 0], a[..., 3] = 0.5, 0.5
    b = np.zeros((1, 1, 4))
    b[..., 1] = 1.0
    assert contact_map([a, b], n_bins=2)[0, 0] == pytest.approx(0.75)


def test_cov25_of_identical_models_is_the_variance_everywhere() -> None:
    p = np.random.default_rng(0).dirichlet(np.ones(64), size=(3, 3))
    out = cov25([p] * 5)
    assert out.shape == (25, 3, 3)
    np.testing.assert_allclose(out, np.broadcast_to(p.var(axis=-1, ddof=1), (25, 3, 3)), atol=1e-9)


def test_one_hot_uses_the_authors_sorted_order() -> None:
    out = one_hot(np.array(["ALA", "VAL", "TRP", "ARG"]), "m.pdb")
    assert RESIDUE_TYPES[:2] == ("ALA", "ARG") and RESIDUE_TYPES[-1] == "VAL"
    np.testing.assert_array_equal(out.argmax(0), [0, 19, 17, 1])
    with pytest.raises(InputError, match=r"m\.pdb: residue 2: residue type UNK"):
        one_hot(np.array(["ALA", "UNK"]), "m.pdb")


def test_edge_list_has_self_pairs_and_includes_the_cutoff() -> None:
    pos = np.array([[0.0, 0, 0], [0.125, 0, 0], [0.375, 0, 0]], dtype=np.float32)
    np.testing.assert_array_equal(edge_list(pos), [[0, 0, 1, 1, 2], [0, 1, 0, 1, 2]])


def _ca_chain(path: Path, xs: list[float]) -> Path:
    path.write_text("\n".join(pdb_atom(i + 1, "CA", "ALA", "A", i + 1, (x, 0.0, 0.0)) for i, x in enumerate(xs))
                    + "\nEND\n")
    return path


def test_af2_lddt_hand_computed(tmp_path: Path) -> None:
    # residue 3 moved 3 A: pairs (1,3), (2,3) keep only the 4 A threshold (1/4), (1,2) keeps all four
    reference = read_structure(_ca_chain(tmp_path / "ref.pdb", [0.0, 3.8, 7.6, 30.0])).atoms
    model = read_structure(_ca_chain(tmp_path / "model.pdb", [0.0, 3.8, 10.6, 30.0])).atoms
    np.testing.assert_allclose(af2_lddt(model, reference, 4), [0.625, 0.625, 0.25, -1.0])
    assert (af2_lddt(reference, reference, 4)[:3] == 1).all()


def test_af2_lddt_of_a_model_against_itself_moved_is_one(target: Path) -> None:
    atoms = read_structure(target / "models" / "decoy_01.pdb").atoms
    moved = read_structure(target / "models" / "decoy_01.pdb").atoms
    rot = np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))[0]
    moved.coords = moved.coords @ rot.T + 5.0
    np.testing.assert_allclose(af2_lddt(atoms, moved, 24), 1.0, atol=1e-6)


@pytest.mark.shared_data
@pytest.mark.skipif(not PUBLISHED.is_dir(), reason="../shared/data/published_models absent")
def test_one_command_scores_a_model_as_its_features_file(target: Path, tmp_path: Path) -> None:
    ckpt = tmp_path / "full" / "model.ckpt"
    assert main(["qa", "import-model", "--enqa", str(PUBLISHED / "egnn_ne.tar"), "--method", "EGNN_Full",
                 "--output", str(ckpt)]) == 0
    model, af2 = target / "models" / "decoy_01.pdb", target / "alphafold"
    assert main(["qa", "released-features", "--model", str(model), "--alphafold-dir", str(af2), "--method",
                 "EGNN_Full", "--output", str(tmp_path / "decoy_01.npz")]) == 0
    assert main(["qa", "predict-released", "--model", str(ckpt), "--features", str(tmp_path / "decoy_01.npz"),
                 "--output-dir", str(tmp_path / "a")]) == 0
    assert main(["qa", "predict-released", "--model", str(ckpt), "--structures", str(model), "--alphafold-dir",
                 str(af2), "--output-dir", str(tmp_path / "b")]) == 0
    a, b = (pd.read_csv(tmp_path / d / "residues.tsv", sep="\t") for d in "ab")
    assert len(a) == 24 and a["predicted"].between(0, 1).all()
    np.testing.assert_allclose(a["predicted"], b["predicted"], atol=1e-4)


def _without_distogram(af2: Path) -> None:
    result = pickle.loads((af2 / "result_model_2.pkl").read_bytes())
    del result["distogram"]
    (af2 / "result_model_2.pkl").write_bytes(pickle.dumps(result))


def _short_plddt(af2: Path) -> None:
    result = pickle.loads((af2 / "result_model_3.pkl").read_bytes())
    result["plddt"], result["distogram"]["logits"] = result["plddt"][:-1], result["distogram"]["logits"][:-1, :-1]
    (af2 / "result_model_3.pkl").write_bytes(pickle.dumps(result))


def _nan_logits(af2: Path) -> None:
    result = pickle.loads((af2 / "result_model_1.pkl").read_bytes())
    result["distogram"]["logits"][0, 1, 2] = np.nan
    (af2 / "result_model_1.pkl").write_bytes(pickle.dumps(result))


@pytest.mark.parametrize(("change", "message"), [
    (_without_distogram, r"result_model_2\.pkl: no distogram"),
    (_short_plddt, r"result_model_3\.pkl: AlphaFold predicted 23 residues, the model .* has 24"),
    (_nan_logits, r"result_model_1\.pkl: distogram\.logits: 1 NaN or infinite value"),
    (lambda af2: (af2 / "relaxed_model_4.pdb").unlink(), r"alphafold: lacks relaxed_model_4\.pdb"),
])
def test_bad_alphafold_outputs_get_one_line_and_no_file(target: Path, tmp_path: Path, capsys, change,
                                                        message: str) -> None:  # noqa: ANN001
    af2 = tmp_path / "alphafold"
    shutil.copytree(target / "alphafold", af2)
    change(af2)
    out = tmp_path / "out" / "x.npz"
    assert main(["qa", "released-features", "--model", str(target / "models" / "decoy_01.pdb"), "--alphafold-dir",
                 str(af2), "--method", "EGNN_esto9", "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and re.search(message, err[0]), err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_refuses_before_reading_when_the_features_would_not_fit(target: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("PGML_MEMORY_LIMIT", "1M")
    with pytest.raises(InputError, match=r"decoy_01\.pdb: the released features of 24 residues need about 4\.5 MiB, more than the 1\.0 MiB"):
        released_arrays(target / "models" / "decoy_01.pdb", target / "alphafold", "EGNN_Full")
