"""``pgml tfbs import-model``: the DeepGRN authors' Keras models in pgml's released network.

With ``../shared/data/published_models/deepgrn`` (skipped when absent), every published model is imported
and must give the outputs of the authors' own network (tests/tfbs/fixtures/deepgrn_released, made by
make_reference.py there) to 1e-4. Without it, small Keras files written here check the tensor mapping
by hand, the refusals (a shape that differs, a layer or tensor without counterpart, a missing tensor) and
that predict refuses windows built with other settings than the model's.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from pgml.cli import main
from pgml.errors import InputError
from pgml.tfbs.bins import bin_starts
from pgml.tfbs.keras_import import PGML_SEQUENTIAL, import_keras
from pgml.tfbs.params import ANNOTATIONS, N_PCS, RELEASED_ANNOTATIONS, RELEASED_SEQUENTIAL
from pgml.tfbs.predict import load_model
from pgml.tfbs.released import KerasLSTM
from pgml.tfbs.windows import reverse_complement

FIXTURES = Path(__file__).parent / "fixtures" / "deepgrn_released"
MODELS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "published_models" / "deepgrn"
PUBLISHED = ("EGR1_pair", "EGR1_single", "FOXA1_single", "FOXA2_single", "HNF4A_single", "MAX_single",
             "NANOG_single", "REST_single")


# ---------------------------------------------------------------- small Keras files written here


def _layer(name: str, kind: str, inbound: list[str], **config) -> dict:
    return {"name": name, "class_name": kind, "config": {"name": name, **config},
            "inbound_nodes": [[[i, 0, 0, {}] for i in inbound]] if inbound else []}


def keras_file(path: Path, *, length: int = 240, filters: int = 4, kernel: int = 5, pool: int = 4, hidden: int = 3,
               dense: int = 4, seed: int = 0, extra_layer: str | None = None, extra_tensor: bool = False,
               drop: str | None = None, reshape: str | None = None) -> Path:
    """A Keras 2.2.4-style file of the Attention1D network (the layout of the authors' ``_single`` files)."""
    rng = np.random.default_rng(seed)
    steps_in = length - kernel + 1
    layers = [
        _layer("input_1", "InputLayer", [], batch_input_shape=[None, length, 6]),
        _layer("input_2", "InputLayer", [], batch_input_shape=[None, length, 6]),
        _layer("conv1d_1", "Conv1D", ["input_1"], filters=filters, kernel_size=[kernel], activation="relu"),
        _layer("dropout_1", "Dropout", ["conv1d_1"], rate=0.1),
        _layer("time_distributed_1", "TimeDistributed", ["dropout_1"],
               layer={"class_name": "Dense", "config": {"units": filters, "activation": "relu"}}),
        _layer("max_pooling1d_1", "MaxPooling1D", ["time_distributed_1"], pool_size=[pool], strides=[pool]),
        _layer("bidirectional_1", "Bidirectional", ["max_pooling1d_1"], merge_mode="concat",
               layer={"class_name": "LSTM", "config": {"units": hidden, "recurrent_activation": "hard_sigmoid"}}),
        _layer("dropout_2", "Dropout", ["bidirectional_1"], rate=0.1),
        _layer("attention1d_1", "Attention1D", ["dropout_2"], output_dim=dense),
        _layer("dense_2", "Dense", ["attention1d_1"], units=dense, activation="relu", use_bias=True),
        _layer("input_3", "InputLayer", [], batch_input_shape=[None, 14]),
        _layer("concatenate_1", "Concatenate", ["dense_2", "input_3"]),
        _layer("dropout_3", "Dropout", ["concatenate_1"], rate=0.1),
        _layer("dense_4", "Dense", ["dropout_3"], units=dense, activation="relu", use_bias=True),
        _layer("dropout_4", "Dropout", ["dense_4"], rate=0.1),
        _layer("dense_3", "Dense", ["dropout_4"], units=1, activation="sigmoid", use_bias=True),
        _layer("maximum_1", "Maximum", ["dense_3"]),
    ]
    tensors = {
        "conv1d_1/kernel:0": (kernel, 6, filters), "conv1d_1/bias:0": (filters,),
        "time_distributed_1/kernel:0": (filters, filters), "time_distributed_1/bias:0": (filters,),
        "bidirectional_1/forward_lstm_1/kernel:0": (filters, 4 * hidden),
        "bidirectional_1/forward_lstm_1/recurrent_kernel:0": (hidden, 4 * hidden),
        "bidirectional_1/forward_lstm_1/bias:0": (4 * hidden,),
        "bidirectional_1/backward_lstm_1/kernel:0": (filters, 4 * hidden),
        "bidirectional_1/backward_lstm_1/recurrent_kernel:0": (hidden, 4 * hidden),
        "bidirectional_1/backward_lstm_1/bias:0": (4 * hidden,),
        "attention1d_1/kernel:0": (2 * hidden, dense),
        "dense_2/kernel:0": (dense, dense), "dense_2/bias:0": (dense,),
        "dense_4/kernel:0": (dense + 14, dense), "dense_4/bias:0": (dense,),
        "dense_3/kernel:0": (dense, 1), "dense_3/bias:0": (1,),
    }
    assert steps_in // pool >= 1
    if extra_layer:
        layers.insert(-1, _layer("batch_normalization_1", extra_layer, ["dense_3"]))
        tensors["batch_normalization_1/gamma:0"] = (1,)
    if extra_tensor:
        tensors["dense_4/kernel_extra:0"] = (dense,)
    if drop:
        del tensors[drop]
    if reshape:
        tensors[reshape] = tuple(s + 1 for s in tensors[reshape])
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.2.4"
        f.attrs["model_config"] = json.dumps({"class_name": "Model", "config": {"name": "model_1", "layers": layers}})
        group = f.create_group("model_weights")
        for name, shape in tensors.items():
            layer = name.split("/", 1)[0]
            group.create_dataset(f"{layer}/{name}", data=rng.normal(0, 0.5, shape).astype(np.float32))
    return path


def test_tensors_land_where_the_layouts_say(tmp_path: Path) -> None:
    src = keras_file(tmp_path / "TOY_single.h5")
    summary = import_keras(src, tmp_path / "model.ckpt")
    assert summary["released"]["attention"] == "attention1d" and summary["released"]["merge"] == "max"
    assert summary["parameters"] == 5 * 6 * 4 + 4 + 4 * 4 + 4 + 2 * (4 * 12 + 3 * 12 + 12) + 6 * 4 + 4 * 4 + 4 \
        + 18 * 4 + 4 + 4 + 1
    state = torch.load(tmp_path / "model.ckpt", weights_only=False)["state_dict"]
    with h5py.File(src) as f:
        w = f["model_weights"]
        conv = w["conv1d_1/conv1d_1/kernel:0"][()]            # (k, in, out) in A, T, G, C, map, DNase
        for j, channel in enumerate(PGML_SEQUENTIAL):         # torch (out, in, k) in A, C, G, T, map, DNase
            np.testing.assert_array_equal(state["branch.conv.weight"][:, j, :].numpy(),
                                          conv[:, RELEASED_SEQUENTIAL.index(channel), :].T)
        lstm = w["bidirectional_1/bidirectional_1/backward_lstm_1/recurrent_kernel:0"][()]
        np.testing.assert_array_equal(state["branch.lstm.backward_lstm.weight_hh"].numpy(), lstm.T)
        feat = w["dense_4/dense_4/kernel:0"][()]             # rows: 4 sequence, 8 PCs, cpg, cds, ... utr3
        theirs = [f"PC{i + 1}" for i in range(N_PCS)] + list(RELEASED_ANNOTATIONS)
        for j, name in enumerate([*ANNOTATIONS, *[f"PC{i + 1}" for i in range(N_PCS)]]):
            np.testing.assert_array_equal(state["branch.dense.weight"][:, 4 + j].numpy(), feat[4 + theirs.index(name)])
        np.testing.assert_array_equal(state["branch.dense.weight"][:, :4].numpy(), feat[:4].T)
    card = json.loads((tmp_path / "model.json").read_text())
    assert card["chain"] == "tfbs" and card["inputs"]["flank"] == 20 and card["inputs"]["window_length"] == 240
    assert card["source"]["sha256"] and card["training"]["variant"] == "single"


def test_keras_lstm_is_the_hard_sigmoid_cell_by_hand() -> None:
    """Gates i, f, c, o with hard_sigmoid = clip(0.2 x + 0.5, 0, 1), on inputs [1, 0], both directions."""
    lstm = KerasLSTM(1, 1)
    with torch.no_grad():
        lstm.weight_ih.copy_(torch.tensor([[1.0], [2.0], [3.0], [1.0]]))
        lstm.weight_hh.zero_()
        lstm.bias.copy_(torch.tensor([0.5, 0.0, 0.0, 0.0]))
    x = torch.tensor([[[1.0], [0.0]]])
    # t = 0: i = clip(0.2 * 1.5 + 0.5) = 0.8, g = tanh(3), o = 0.7; t = 1: i = 0.6, f = 0.5, g = 0, o = 0.5
    c1 = 0.8 * np.tanh(3.0)
    np.testing.assert_allclose(lstm(x)[0, :, 0].detach().numpy(), [0.7 * np.tanh(c1), 0.5 * np.tanh(0.5 * c1)], atol=1e-6)
    # backward: position 1 first (c = 0.6 * tanh(0) = 0, h = 0), then position 0 with c = 0.8 tanh(3) + 0.9 * 0
    lstm.reverse = True
    np.testing.assert_allclose(lstm(x)[0, :, 0].detach().numpy(), [0.7 * np.tanh(c1), 0.0], atol=1e-6)


@pytest.mark.parametrize(("kwargs", "named"), [
    ({"reshape": "dense_4/kernel:0"}, "dense_4/dense_4/kernel:0 has shape (19, 5)"),
    ({"extra_layer": "BatchNormalization"}, "layer batch_normalization_1 (BatchNormalization) has no counterpart"),
    ({"extra_tensor": True}, "tensor dense_4/dense_4/kernel_extra:0 has no counterpart"),
    ({"drop": "dense_2/bias:0"}, "no tensor dense_2/.../bias:0 for pgml's branch.to_features.bias"),
    ({"drop": "bidirectional_1/backward_lstm_1/bias:0"}, "for pgml's branch.lstm.backward_lstm.bias"),
])
def test_a_file_that_does_not_fit_is_refused_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                         kwargs: dict, named: str) -> None:
    src = keras_file(tmp_path / "BAD_single.h5", **kwargs)
    assert main(["tfbs", "import-model", "--keras", str(src), "--output", str(tmp_path / "out" / "model.ckpt")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and named in err[0] and str(src) in err[0], err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_not_a_keras_file_and_an_imported_model_outside_predict_are_refused(tmp_path: Path) -> None:
    (tmp_path / "x.h5").write_bytes(b"not hdf5")
    with pytest.raises(InputError, match="not a readable Keras HDF5 model file"):
        import_keras(tmp_path / "x.h5", tmp_path / "m.ckpt")
    import_keras(keras_file(tmp_path / "TOY_single.h5"), tmp_path / "m.ckpt")
    with pytest.raises(InputError, match="only predict runs it"):
        load_model(tmp_path / "m.ckpt")
    assert load_model(tmp_path / "m.ckpt", released=True).hparams["length"] == 240


def test_predict_runs_an_imported_model_and_refuses_windows_of_other_settings(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    sim = tmp_path / "sim"
    assert main(["tfbs", "simulate", "--output-dir", str(sim), "--chroms", "chr1:6000,chr2:8000",
                 "--tfs", "CTCF=MA0139.1", "--site-density", "8.0", "--n-genes", "12", "--seed", "2"]) == 0
    bins, ann, pca = tmp_path / "bins.npz", tmp_path / "ann.npz", tmp_path / "pca.tsv"
    assert main(["tfbs", "bin-genome", "--genome", str(sim / "chrom.sizes"), "--blacklist", str(sim / "blacklist.bed"),
                 "--output", str(bins)]) == 0
    assert main(["tfbs", "annotate-bins", "--bins", str(bins), "--annotation",
                 *[f"{a}={sim}/annotation/{a}.bed" for a in ANNOTATIONS], "--output", str(ann)]) == 0
    assert main(["tfbs", "expression-pca", "--tpm", str(sim / "tpm.tsv"), "--output", str(pca), "--variance",
                 str(tmp_path / "v.tsv"), "--plot", str(tmp_path / "v.png")]) == 0
    assert main(["tfbs", "import-model", "--keras", str(keras_file(tmp_path / "TOY_single.h5")),
                 "--output", str(tmp_path / "model" / "model.ckpt")]) == 0
    capsys.readouterr()

    def predict(flank: int, out: str) -> int:
        return main(["tfbs", "predict", "--model", str(tmp_path / "model" / "model.ckpt"), "--bins", str(bins),
                     "--annotation", str(ann), "--pca", str(pca), "--fasta", str(sim / "genome.fa"),
                     "--mappability", str(sim / "mappability.bw"), "--dnase", f"CellA={sim / 'mappability.bw'}",
                     "--flank", str(flank), "--cell", "CellA", "--chroms", "chr1", "--output-dir",
                     str(tmp_path / out), "--device", "cpu", "--threads", "1"])

    assert predict(400, "wrong") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "trained with flank=20, this input gives 400" in err[0], err
    assert not (tmp_path / "wrong").exists() or not any((tmp_path / "wrong").iterdir())
    assert predict(20, "right") == 0
    import pandas as pd

    frame = pd.read_csv(tmp_path / "right" / "modules.tsv.gz", sep="\t")
    assert list(frame.columns) == ["chrom", "start", "end", "released", "ensemble"] and len(frame) == bin_starts(6000).size
    assert frame["ensemble"].between(0, 1).all() and frame["ensemble"].nunique() > 1


# ---------------------------------------------------------------- the published models (shared data)


def fixture_inputs() -> tuple[torch.Tensor, torch.Tensor]:
    """The reference windows and features, from the authors' order into pgml's."""
    data = np.load(FIXTURES / "inputs.npz")
    x = data["x"][:, :, [RELEASED_SEQUENTIAL.index(c) for c in PGML_SEQUENTIAL]].transpose(0, 2, 1)
    theirs = [f"PC{i + 1}" for i in range(N_PCS)] + list(RELEASED_ANNOTATIONS)
    ours = [*ANNOTATIONS, *[f"PC{i + 1}" for i in range(N_PCS)]]
    z = data["meta"][:, [theirs.index(name) for name in ours]]
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(z))


@pytest.mark.shared_data
@pytest.mark.parametrize("name", PUBLISHED)
def test_published_model_matches_the_authors_network(name: str, tmp_path: Path) -> None:
    src = MODELS / f"{name}.h5"
    if not src.exists():
        pytest.skip(f"{src} is absent")
    assert main(["tfbs", "import-model", "--keras", str(src), "--output", str(tmp_path / "model.ckpt")]) == 0
    module = load_model(tmp_path / "model.ckpt", released=True)
    ref = np.load(FIXTURES / f"{name}.npz")
    meta = json.loads((FIXTURES / "reference.json").read_text())["models"][name]
    card = json.loads((tmp_path / "model.json").read_text())
    assert card["source"]["sha256"] == meta["sha256"] and card["source"]["name"] == f"deepgrn:{name}"
    assert card["source"]["commit"].startswith("ac8d98d") and card["source"]["licence"] == "Apache-2.0"
    assert card["metrics"]["parameters"] == meta["parameters"]
    assert card["inputs"]["flank"] == 401 and card["inputs"]["uses_mappability"] == (meta["input_channels"] == 6)
    x, z = fixture_inputs()
    net = module.model
    with torch.no_grad():
        prob = net(x, z)["ensemble"].numpy()
        swapped = net(reverse_complement(x), z)["ensemble"].numpy()
        strands = net.strands(x, z).numpy()
        hidden = np.stack([net.branch.penultimate(x, z).numpy(),
                           net.branch.penultimate(reverse_complement(x), z).numpy()])
    assert np.abs(prob - ref["prob"]).max() < 1e-4
    assert np.abs(swapped - ref["prob_swapped"]).max() < 1e-4
    assert np.abs(strands - ref["strands"]).max() < 1e-4
    assert np.abs(hidden - ref["hidden"]).max() < 1e-4
