"""EnQA's published weights in pgml: ``pgml qa import-model`` maps every tensor onto the released network
(:mod:`pgml.qa.released`), which reproduces the authors' own network classes on fixed inputs
(``fixtures/enqa_released``, made by ``make_reference.py``; see its README) to 1e-4."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from pgml.cli import main
from pgml.errors import InputError
from pgml.fetch.weights import WEIGHTS
from pgml.qa.params import RELEASED_METHODS
from pgml.qa.published import authors_name, import_enqa, load_released, map_state, pgml_name
from pgml.qa.released import ReleasedEnQA

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures" / "enqa_released"
PUBLISHED = ROOT.parent / "shared" / "data" / "published_models" / "enqa"
IMPORTABLE = [name for name, method in RELEASED_METHODS.items() if method.refused is None]
TOLERANCE = 1e-4


def needs_weights(test):  # noqa: ANN001, ANN201
    """Mark a test that reads the published weights in ../shared/data (skipped when absent)."""
    skip = pytest.mark.skipif(not PUBLISHED.is_dir(), reason="../shared/data/published_models absent")
    return pytest.mark.shared_data(skip(test))


def run(model: ReleasedEnQA, x) -> tuple[torch.Tensor, ...]:  # noqa: ANN001 - npz
    with torch.no_grad():
        return model(torch.from_numpy(x["f1d"]).float(), torch.from_numpy(x["f2d"]).float(),
                     torch.from_numpy(x["pos"]).float(), torch.from_numpy(x["edge_index"]),
                     torch.from_numpy(x["cmap"]).float())


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("imported")
    for name in IMPORTABLE:
        ckpt = out / name / "model.ckpt"
        assert main(["qa", "import-model", "--enqa", str(PUBLISHED / RELEASED_METHODS[name].file), "--method", name,
                     "--output", str(ckpt)]) == 0
    return {name: out / name / "model.ckpt" for name in IMPORTABLE}


def test_method_names_are_the_fetchable_ones() -> None:
    assert {w.name for w in WEIGHTS.values() if w.family == "enqa"} == set(RELEASED_METHODS)
    assert {RELEASED_METHODS[w.name].file for w in WEIGHTS.values() if w.family == "enqa"} == \
        {w.path.rsplit("/", 1)[1] for w in WEIGHTS.values() if w.family == "enqa"}


@pytest.mark.parametrize(("authors", "ours"), [
    ("conv1d_1.weight", "node_conv.weight"),
    ("inorm_1.bias", "pair_norm.bias"),
    ("base_resnet.resnet_base_resnet_init_proj.weight", "base_resnet.init_proj.weight"),
    ("base_resnet.resnet_base_resnet_2_4_inorm_3.weight", "base_resnet.blocks.10.norm3.weight"),  # 4*2 + index(4)
    ("bin_resnet.resnet_bin_resnet_0_8_conv2d_2.bias", "bin_resnet.blocks.3.conv2.bias"),
    ("bin_resnet.resnet_bin_resnet_extra1_conv2d_1.weight", "bin_resnet.extra.1.conv1.weight"),
    ("EGNN_layers.gcl_3.coord_mlp.2.weight", "egnn.layers.3.phi_x.2.weight"),
    ("EGNN_layers.gcl_e_0.edge_mlp.0.bias", "egnn.line_layers.0.phi_e.0.bias"),
    ("EGNN_layers.e_embedding_in.weight", "egnn.edge_in.weight"),
    ("base_resnet.resnet_base_resnet_0_3_conv2d_1.weight", None),  # no dilation 3 in the cycle
    ("se3_layers.Gblock.0.bias.0", None),
])
def test_tensor_names(authors: str, ours: str | None) -> None:
    assert pgml_name(authors) == ours


@pytest.mark.parametrize("name", IMPORTABLE)
def test_names_map_one_to_one(name: str) -> None:
    """Every tensor of pgml's released network has one authors' name, and it maps back."""
    keys = list(ReleasedEnQA(RELEASED_METHODS[name]).state_dict())
    theirs = [authors_name(k) for k in keys]
    assert None not in theirs and len(set(theirs)) == len(keys)
    assert [pgml_name(t) for t in theirs] == keys


def authors_file(path: Path, name: str, seed: int = 0) -> Path:
    """A weights file in the authors' layout from a freshly initialised network (no published weights)."""
    torch.manual_seed(seed)
    state = {authors_name(k): v for k, v in ReleasedEnQA(RELEASED_METHODS[name]).state_dict().items()}
    torch.save({"model": state, "optimizer": {}}, path)
    return path


def test_import_round_trip(tmp_path: Path) -> None:
    """A file in the authors' layout imports to the same network (same outputs) and carries its card."""
    path = authors_file(tmp_path / "w.tar", "EGNN_Full")
    n_parameters, card_path = import_enqa(path, "EGNN_Full", tmp_path / "m" / "model.ckpt")
    model, card = load_released(tmp_path / "m" / "model.ckpt")
    torch.manual_seed(0)
    fresh = ReleasedEnQA(RELEASED_METHODS["EGNN_Full"]).eval()
    x = np.load(FIXTURES / "EGNN_Full.npz")
    for a, b in zip(run(model, x), run(fresh, x), strict=True):
        assert torch.equal(a, b)
    assert n_parameters == sum(p.numel() for p in fresh.parameters()) == card.metrics["parameters"]
    assert card_path == tmp_path / "m" / "model.json" and card.source["licence"] == "GPL-3.0"
    assert card.source["repository"] == "BioinfoMachineLearning/EnQA" and card.inputs["pair_channels"] == 70


def test_initial_lddt_by_hand() -> None:
    """Eq. 5.3 on a 2-residue case: residue 1's credit is the one pair (0, 1) weighted by the contact map."""
    model = ReleasedEnQA(RELEASED_METHODS["EGNN_esto9"])
    logits = torch.full((9, 2, 2), -1e4)
    logits[4, 0, 1] = 0.0  # all mass in the centre bin: credit 1
    logits[2, 1, 0] = 0.0  # bin 2: credit 0.5
    cmap = torch.tensor([[1.0, 0.8], [0.8, 1.0]])  # the diagonal is left out
    assert model.initial_lddt(logits, cmap).tolist() == pytest.approx([0.5, 1.0])
    logits[:, 0, 1] = 0.0  # uniform over the bins: mean credit 4/9
    assert model.initial_lddt(logits, cmap)[1].item() == pytest.approx(4 / 9)


@pytest.mark.parametrize("name", ["EGNN_Full", "EGNN_esto9"])
def test_released_network_is_invariant_and_equivariant(name: str) -> None:
    """The lDDT and bin logits are invariant to a rotation and translation of the coordinates; the
    updated coordinates turn and move with them (any weights: a freshly initialised network; float64,
    and no self-pairs, so that each edge's 3 nearest edges are its twin and one twin pair, without ties)."""
    torch.manual_seed(0)
    method = RELEASED_METHODS[name]
    model = ReleasedEnQA(method).double().eval()
    for layer in (*model.egnn.layers, *model.egnn.line_layers):  # visible coordinate moves
        torch.nn.init.normal_(layer.phi_x[-1].weight, std=0.1)
    n = 12
    f1d = torch.rand(method.node_channels, n, dtype=torch.float64)
    f2d = torch.rand(method.pair_channels, n, n, dtype=torch.float64)
    pos = torch.cumsum(torch.randn(n, 3, dtype=torch.float64) * 0.02, 0)
    edge_index = torch.stack(torch.where((torch.cdist(pos, pos) <= 0.15) & ~torch.eye(n, dtype=torch.bool)))
    cmap = torch.rand(n, n, dtype=torch.float64)
    rot, _ = torch.linalg.qr(torch.randn(3, 3, dtype=torch.float64))
    shift = torch.tensor([0.3, -0.2, 0.5], dtype=torch.float64)
    with torch.no_grad():
        logits, moved, lddt, _ = model(f1d, f2d, pos, edge_index, cmap)
        logits2, moved2, lddt2, _ = model(f1d, f2d, pos @ rot.T + shift, edge_index, cmap)
    assert torch.allclose(lddt, lddt2, atol=1e-9) and torch.allclose(logits, logits2)
    assert torch.allclose(moved @ rot.T + shift, moved2, atol=1e-9)
    assert not torch.allclose(moved, pos, atol=1e-4)  # the coordinates do move


def _weights_file(path: Path, state: dict) -> Path:
    torch.save({"model": state, "optimizer": {}}, path)
    return path


def test_wrong_shape_is_refused(tmp_path: Path) -> None:
    path = _weights_file(tmp_path / "w.tar", {"conv1d_1.weight": torch.zeros(16, 33, 3)})
    with pytest.raises(InputError, match=r"w\.tar: conv1d_1\.weight: tensor has shape \(16, 33, 3\), the released "
                                         r"EGNN_esto9 network's node_conv\.weight has \(16, 33, 1\)"):
        import_enqa(path, "EGNN_esto9", tmp_path / "out" / "model.ckpt")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_tensor_without_counterpart_is_refused(tmp_path: Path) -> None:
    path = _weights_file(tmp_path / "w.tar", {"conv1d_1.weight": torch.zeros(16, 33, 1),
                                              "EGNN_layers.gcl_e_0.edge_mlp.0.bias": torch.zeros(32)})
    with pytest.raises(InputError, match=r"EGNN_layers\.gcl_e_0\.edge_mlp\.0\.bias: tensor has no counterpart in "
                                         r"the released EGNN_esto9 network"):
        import_enqa(path, "EGNN_esto9", tmp_path / "model.ckpt")
    assert not (tmp_path / "model.ckpt").exists()


def test_missing_tensor_is_refused(tmp_path: Path) -> None:
    state = {k: torch.zeros(shape) for k, shape in
             {"conv1d_1.weight": (16, 33, 1), "conv1d_1.bias": (16,)}.items()}
    path = _weights_file(tmp_path / "w.tar", state)
    with pytest.raises(InputError, match=r"w\.tar: pair_in\.weight: the file has no conv2d_1\.weight, which this "
                                         r"tensor of the released EGNN_Full network needs"):
        import_enqa(path, "EGNN_Full", tmp_path / "model.ckpt")


def test_cli_refusals_are_one_line(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    junk = tmp_path / "junk.tar"
    junk.write_text("not torch\n")
    assert main(["qa", "import-model", "--enqa", str(junk), "--method", "EGNN_Full",
                 "--output", str(tmp_path / "m.ckpt")]) == 2
    assert main(["qa", "import-model", "--enqa", str(junk), "--method", "se3_Full",
                 "--output", str(tmp_path / "m.ckpt")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "junk.tar: not a torch weights file" in err[0]
    assert "se3_Full: cannot be imported: its graph layers are the DGL-based SE(3)-Transformer" in err[1]
    assert not (tmp_path / "m.ckpt").exists()


@needs_weights
@pytest.mark.parametrize("name", IMPORTABLE)
def test_imported_model_matches_the_authors_network(name: str, imported: dict[str, Path]) -> None:
    model, card = load_released(imported[name])
    x = np.load(FIXTURES / f"{name}.npz")
    logits, pos, lddt, _ = run(model, x)
    diffs = {key: float(np.abs(ours.numpy() - x[key]).max())
             for ours, key in ((logits, "bin_logits"), (pos, "pos_out"), (lddt, "lddt"))}
    assert max(diffs.values()) <= TOLERANCE, diffs
    state = torch.load(PUBLISHED / RELEASED_METHODS[name].file, map_location="cpu", weights_only=True)
    state = state.get("model", state)
    n_file = sum(t.numel() for t in state.values())
    assert card.metrics["parameters"] == n_file == sum(p.numel() for p in model.parameters())
    assert card.source["sha256"] == WEIGHTS[f"enqa:{name}"].sha256 and card.source["licence"] == "GPL-3.0"
    assert card.inputs["variant"] == "released" and card.inputs["method"] == name


@needs_weights
def test_every_file_tensor_is_used_once() -> None:
    for name in IMPORTABLE:
        state = torch.load(PUBLISHED / RELEASED_METHODS[name].file, map_location="cpu", weights_only=True)
        state = state.get("model", state)
        model = ReleasedEnQA(RELEASED_METHODS[name])
        mapped = map_state(state, model, name, Path(name))
        assert len(mapped) == len(state) == len(model.state_dict())
        assert len({pgml_name(k) for k in state}) == len(state)


@needs_weights
def test_another_method_is_refused_by_shape(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """EGNN_covariance's file read as EGNN_esto9: the first tensor whose shape differs is named."""
    assert main(["qa", "import-model", "--enqa", str(PUBLISHED / "cov25.pth.tar"), "--method", "EGNN_esto9",
                 "--output", str(tmp_path / "m.ckpt")]) == 2
    err = capsys.readouterr().err.strip()
    assert "conv2d_1.weight: tensor has shape (32, 82, 1, 1), the released EGNN_esto9 network's " \
           "pair_in.weight has (32, 102, 1, 1)" in err
    assert not (tmp_path / "m.ckpt").exists() and not (tmp_path / "model.json").exists()


@needs_weights
def test_predict_checks_the_card(imported: dict[str, Path], tmp_path: Path, capsys) -> None:  # noqa: ANN001
    ckpt = imported["EGNN_Full"]
    graphs = tmp_path / "g.pt"
    torch.save([], graphs)
    assert main(["qa", "predict", "--model", str(ckpt), "--graphs", str(graphs),
                 "--output-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert "the released EGNN_Full network expects EnQA's own features (33 node channels" in err
    assert "70 pair channels" in err
    card = ckpt.with_name("model.json")
    text = card.read_text()
    try:
        data = json.loads(text)
        data["inputs"]["method"] = "EGNN_esto9"
        card.write_text(json.dumps(data))
        assert main(["qa", "predict", "--model", str(ckpt), "--graphs", str(graphs),
                     "--output-dir", str(tmp_path / "out")]) == 2
        assert "model.json: method: the card gives method='EGNN_esto9', the checkpoint holds 'EGNN_Full'" in \
            capsys.readouterr().err
    finally:
        card.write_text(text)
    assert not (tmp_path / "out").exists()


@pytest.fixture()
def synthetic_model(tmp_path: Path) -> Path:
    ckpt = tmp_path / "m" / "model.ckpt"
    import_enqa(authors_file(tmp_path / "w.tar", "EGNN_esto9"), "EGNN_esto9", ckpt)
    return ckpt


def _features(tmp_path: Path, change=None) -> Path:  # noqa: ANN001
    x = dict(np.load(FIXTURES / "EGNN_esto9.npz"))
    if change is not None:
        change(x)
    path = tmp_path / "in" / "target.npz"
    path.parent.mkdir(exist_ok=True)
    np.savez(path, **x)
    return path


def test_predict_released_scores_features(synthetic_model: Path, tmp_path: Path) -> None:
    """predict-released writes the network's lDDT clipped to [0, 1] and its initial estimate."""
    features = _features(tmp_path)
    assert main(["qa", "predict-released", "--model", str(synthetic_model), "--features", str(features),
                 "--output-dir", str(tmp_path / "out")]) == 0
    table = pd.read_csv(tmp_path / "out" / "residues.tsv", sep="\t")
    model, _ = load_released(synthetic_model)
    _, _, lddt, initial = run(model, np.load(features))
    assert list(table.residue) == list(range(1, 17))
    assert np.abs(table.predicted.to_numpy() - lddt.clamp(0, 1).numpy()).max() <= 5e-5
    assert np.abs(table.initial.to_numpy() - initial.numpy()).max() <= 5e-5
    models = pd.read_csv(tmp_path / "out" / "models.tsv", sep="\t")
    assert models.predicted.item() == pytest.approx(table.predicted.mean(), abs=1e-4)


@pytest.mark.parametrize(("change", "message"), [
    (lambda x: x.pop("cmap"), r"target\.npz: lacks the array\(s\) cmap"),
    (lambda x: x.__setitem__("f2d", x["f2d"][:50]), r"target\.npz: f2d: has shape \(50, 16, 16\), the model expects "
                                                    r"\(70, 16, 16\)"),
    (lambda x: x["f1d"].__setitem__((0, 2), np.nan), r"target\.npz: f1d: holds values that are not finite"),
    (lambda x: x["edge_index"].__setitem__((1, 0), 16), r"target\.npz: edge_index: residue indices must lie in 0\.\.15"),
    (lambda x: x["cmap"].__setitem__((slice(None), 3), 0), r"target\.npz: cmap: 1 residue\(s\) without contact weight "
                                                           r"\(first: residue 4, 0-based column 3\)"),
])
def test_predict_released_refuses_bad_features(synthetic_model: Path, tmp_path: Path, capsys, change,  # noqa: ANN001
                                               message: str) -> None:
    features = _features(tmp_path, change)
    assert main(["qa", "predict-released", "--model", str(synthetic_model), "--features", str(features),
                 "--output-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and re.search(message, err[0]), err
    assert not (tmp_path / "out").exists()


def test_predict_released_refuses_a_trained_checkpoint(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    ckpt = tmp_path / "model.ckpt"
    torch.save({"state_dict": {}, "hyper_parameters": {}}, ckpt)
    assert main(["qa", "predict-released", "--model", str(ckpt), "--features", str(FIXTURES / "EGNN_Full.npz"),
                 "--output-dir", str(tmp_path / "out")]) == 2
    assert "model.ckpt: not a checkpoint written by `pgml qa import-model`" in capsys.readouterr().err


@needs_weights
def test_predict_released_with_the_published_model(imported: dict[str, Path], tmp_path: Path) -> None:
    """The authors' EGNN_Full through the command: their lDDT, clipped as their EnQA.py does."""
    assert main(["qa", "predict-released", "--model", str(imported["EGNN_Full"]), "--features",
                 str(FIXTURES / "EGNN_Full.npz"), "--output-dir", str(tmp_path / "out")]) == 0
    table = pd.read_csv(tmp_path / "out" / "residues.tsv", sep="\t")
    reference = np.clip(np.load(FIXTURES / "EGNN_Full.npz")["lddt"], 0, 1)
    assert np.abs(table.predicted.to_numpy() - reference).max() <= 1e-4
