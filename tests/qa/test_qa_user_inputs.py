"""A trained model on a user's own inputs: feature settings kept with the model (checkpoint and
``model.json``), ColabFold and ESMFold / AlphaFold DB references, and real AlphaFold2 models."""

from __future__ import annotations

import gzip
import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from pgml.cli import main
from pgml.qa.params import N_ERROR_BINS, FeatureConfig, SimulateConfig
from pgml.qa.references import read_references, reference_layout
from pgml.qa.samples import target_samples
from pgml.qa.simulate import simulate_target

ROOT = Path(__file__).resolve().parents[2]
SHARED_QA = ROOT.parent / "shared" / "data" / "qa"


@pytest.fixture(scope="module")
def target(tmp_path_factory) -> Path:
    return simulate_target(ROOT / "resources" / "demo" / "structures" / "1UBI.pdb.gz",
                           tmp_path_factory.mktemp("qa_user"), SimulateConfig(n_decoys=2, max_residues=24))


def _checkpoint(path: Path, *, distogram: bool, n_references: int = 5) -> Path:
    """An untrained qa checkpoint that stores its feature settings, as `pgml qa train` writes them."""
    import lightning

    from pgml.qa.module import QAModule

    features = {"n_references": n_references, "graph_radius": 15.0, "sh_degree": 2, "reference_format": "auto",
                "distogram": distogram}
    module = QAModule(23 + 2 * n_references, N_ERROR_BINS * n_references + 2, 9, hidden=4, resnet_blocks=1,
                      resnet_channels=4, egnn_layers=1, features=features)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": module.state_dict(), "hyper_parameters": dict(module.hparams),
                "pytorch-lightning_version": lightning.__version__}, path)
    return path


def _as_colabfold(source: Path, dest: Path, *, save_all: bool = True) -> Path:
    """The simulated AlphaFold outputs rewritten in ColabFold's layout (ranks 1-5, scores JSON with
    pLDDT and PAE, and the --save-all pickles)."""
    shutil.copytree(source, dest)
    folder = dest / "alphafold"
    rng = np.random.default_rng(0)
    for k in range(1, 6):
        tag = f"rank_{k:03d}_alphafold2_ptm_model_{k}_seed_000"
        result = pickle.loads((folder / f"result_model_{k}.pkl").read_bytes())
        n = len(result["plddt"])
        scores = {"plddt": result["plddt"].tolist(), "pae": rng.uniform(0, 30, (n, n)).round(2).tolist(),
                  "max_pae": 30.0, "ptm": 0.8}
        (folder / f"job_scores_{tag}.json").write_text(json.dumps(scores))
        (folder / f"relaxed_model_{k}.pdb").rename(folder / f"job_unrelaxed_{tag}.pdb")
        if save_all:
            (folder / f"result_model_{k}.pkl").rename(folder / f"job_all_{tag}.pickle")
        else:
            (folder / f"result_model_{k}.pkl").unlink()
    return dest


def test_colabfold_directory_gives_the_alphafold_features(target: Path, tmp_path: Path) -> None:
    """The same predictions in ColabFold's layout give exactly the features of AlphaFold's layout:
    pLDDT from the scores JSON, distograms from the --save-all pickles, PAE kept."""
    colab = _as_colabfold(target, tmp_path / "1UBI")
    assert reference_layout(colab / "alphafold") == "colabfold"
    refs = read_references(colab / "alphafold", 5)
    original = read_references(target / "alphafold", 5)
    assert [r.name for r in refs] == [f"rank_{k:03d}_alphafold2_ptm_model_{k}_seed_000" for k in range(1, 6)]
    for ours, theirs in zip(refs, original, strict=True):
        np.testing.assert_allclose(ours.plddt, theirs.plddt, atol=0.006)  # JSON keeps 2 decimals as written
        np.testing.assert_array_equal(ours.probs, theirs.probs)
        assert ours.pae is not None and ours.pae.shape == (24, 24)
    a = target_samples(colab, FeatureConfig(), progress=False)[0]
    b = target_samples(target, FeatureConfig(), progress=False)[0]
    assert a.feature_settings["distogram"] and b.feature_settings["distogram"]
    torch.testing.assert_close(a.pair, b.pair)
    torch.testing.assert_close(a.x, b.x, atol=1e-4, rtol=0)


def test_colabfold_without_save_all_turns_distogram_channels_off(target: Path, tmp_path: Path) -> None:
    colab = _as_colabfold(target, tmp_path / "1UBI", save_all=False)
    sample = target_samples(colab, FeatureConfig(), progress=False)[0]
    assert sample.feature_settings["distogram"] is False
    assert float(sample.pair[: 5 * N_ERROR_BINS].abs().sum()) == 0.0
    assert np.isfinite(sample.plddt.numpy()).all()  # pLDDT from the scores JSON


def test_esmfold_fractional_b_column_is_plddt(target: Path, tmp_path: Path) -> None:
    """ESMFold writes pLDDT as 0-1 in the B column; AlphaFold DB as 0-100: both read as 0-100."""
    esm = tmp_path / "esm"
    esm.mkdir()
    source = (target / "alphafold" / "relaxed_model_1.pdb").read_text().splitlines()
    lines = [line[:60] + f"{float(line[60:66]) / 100:6.2f}" + line[66:] if line.startswith("ATOM") else line
             for line in source]
    (esm / "ESMFold_prediction.pdb").write_text("\n".join(lines) + "\n")
    shutil.copy(target / "alphafold" / "relaxed_model_1.pdb", esm / "AF-P0CG48-F1-model_v4.pdb")
    refs = {r.name: r for r in read_references(esm, 2)}
    np.testing.assert_allclose(refs["ESMFold_prediction"].plddt, refs["AF-P0CG48-F1-model_v4"].plddt, atol=0.6)
    assert refs["ESMFold_prediction"].probs is None


def test_predict_takes_the_settings_of_the_model(target: Path, tmp_path: Path) -> None:
    """No feature flag given: the checkpoint's settings build the features (here 3 references)."""
    ckpt = _checkpoint(tmp_path / "m" / "model.ckpt", distogram=True, n_references=3)
    assert main(["qa", "predict", "--model", str(ckpt), "--targets", str(target), "--output-dir",
                 str(tmp_path / "out"), "--device", "cpu"]) == 0
    models = pd.read_csv(tmp_path / "out" / "models.tsv", sep="\t")
    assert len(models) == 2 and models.predicted.between(0, 1).all()


def test_trained_model_stores_settings_and_card(tmp_path: Path, target: Path) -> None:
    """`pgml qa train` keeps the feature settings in the checkpoint and writes model.json with the
    validation figures of EnQA and the same-run baselines."""
    import copy

    from pgml.qa.training import train_model

    samples = target_samples(target, FeatureConfig(n_references=2), progress=False)
    graphs = []
    for name in ("A", "B", "C"):
        renamed = [copy.copy(s) for s in samples]
        for s in renamed:
            s.target = name
        graphs.append(tmp_path / f"{name}.pt")
        torch.save(renamed, graphs[-1])
    split = tmp_path / "split.tsv"
    split.write_text("id\tsplit\nA\ttrain\nB\tval\nC\ttest\n")
    from pgml.qa.params import TrainConfig

    train_model(graphs, split, tmp_path / "model", TrainConfig(hidden=4, resnet_blocks=1, resnet_channels=4,
                                                                egnn_layers=1, epochs=1), device="cpu")
    ckpt = torch.load(tmp_path / "model" / "model.ckpt", map_location="cpu", weights_only=False)
    features = ckpt["hyper_parameters"]["features"]
    assert features == {"n_references": 2, "graph_radius": 15.0, "sh_degree": 2, "reference_format": "auto",
                        "distogram": True}
    card = json.loads((tmp_path / "model" / "model.json").read_text())
    assert card["chain"] == "qa" and card["inputs"]["n_references"] == 2 and card["inputs"]["distogram"] is True
    assert card["inputs"]["variant"] == "chapter"
    assert card["training"]["targets"] == {"train": 1, "val": 1, "test": 1}
    assert set(card["metrics"]) >= {"enqa", "af2_consensus", "af2_plddt", "enqa_beats_af2_consensus"}
    # predict reads them: a target with 2 references' worth of settings, no flag given
    assert main(["qa", "predict", "--model", str(tmp_path / "model" / "model.ckpt"), "--targets", str(target),
                 "--output-dir", str(tmp_path / "out"), "--device", "cpu"]) == 0


@pytest.mark.shared_data
@pytest.mark.skipif(not (SHARED_QA / "EnQA_6KYT").is_dir(), reason="../shared/data/qa not present")
def test_predict_on_enqa_6kyt_with_real_alphafold_models(tmp_path: Path) -> None:
    """EnQA's 6KYT example model with the five real AlphaFold2 relaxed models as references, given as a
    user would: structures only, no distogram; a model trained without distograms scores it, one
    trained with them refuses it in one line."""
    source = SHARED_QA / "EnQA_6KYT"
    user = tmp_path / "6KYT"
    (user / "models").mkdir(parents=True)
    (user / "alphafold").mkdir()
    shutil.copy(source / "models" / "test_model.pdb.gz", user / "models" / "test_model.pdb.gz")
    shutil.copy(source / "native" / "6KYTP.pdb.gz", user / "native.pdb.gz")
    for path in sorted((source / "models").glob("af2_relaxed_model_*.pdb.gz")):
        shutil.copy(path, user / "alphafold" / path.name.removeprefix("af2_"))
    out = tmp_path / "out"
    assert main(["qa", "predict", "--model", str(_checkpoint(tmp_path / "pdb" / "model.ckpt", distogram=False)),
                 "--targets", str(user), "--output-dir", str(out), "--device", "cpu"]) == 0
    residues = pd.read_csv(out / "residues.tsv", sep="\t", keep_default_na=False)
    models = pd.read_csv(out / "models.tsv", sep="\t", keep_default_na=False)
    assert len(residues) == 71 and len(models) == 1
    assert models.af2_plddt.iloc[0] == "n/a"  # these relaxed models carry no pLDDT
    assert float(models.af2_consensus.iloc[0]) == pytest.approx(0.958, abs=0.002)
    assert float(models.true_lddt.iloc[0]) == pytest.approx(0.918, abs=0.002)
    assert main(["qa", "predict", "--model", str(_checkpoint(tmp_path / "dg" / "model.ckpt", distogram=True)),
                 "--targets", str(user), "--output-dir", str(tmp_path / "out2"), "--device", "cpu"]) == 2
    assert not (tmp_path / "out2").exists()


@pytest.mark.shared_data
@pytest.mark.skipif(not (SHARED_QA / "CASP13_T0980s1").is_dir(), reason="../shared/data/qa not present")
def test_predict_on_a_casp13_model(tmp_path: Path) -> None:
    """A CASP13 server model of T0980s1 with three other server models as structure-only references."""
    source = SHARED_QA / "CASP13_T0980s1"
    user = tmp_path / "T0980s1"
    (user / "models").mkdir(parents=True)
    (user / "alphafold").mkdir()
    shutil.copy(source / "models" / "QUARK_TS1.pdb.gz", user / "models")
    shutil.copy(source / "native" / "T0980s1-D1.pdb.gz", user / "native.pdb.gz")
    for name in ("QUARK_TS2", "QUARK_TS3", "RaptorX-Contact_TS1"):
        text = gzip.decompress((source / "models" / f"{name}.pdb.gz").read_bytes()).decode()
        # CASP B columns hold no pLDDT: write 80 so the reference reads as a prediction
        lines = [line[:60] + f"{80.0:6.2f}" + line[66:] if line.startswith("ATOM") else line
                 for line in text.splitlines()]
        (user / "alphafold" / f"{name}.pdb").write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    assert main(["qa", "predict", "--model", str(_checkpoint(tmp_path / "m" / "model.ckpt", distogram=False,
                                                                n_references=3)),
                 "--targets", str(user), "--output-dir", str(out), "--device", "cpu"]) == 0
    models = pd.read_csv(out / "models.tsv", sep="\t")
    assert models.n_residues.iloc[0] == 111
    assert models.gdt_ts.iloc[0] == pytest.approx(0.534, abs=0.002)  # the true score, CASP's convention
    assert 0 < models.af2_consensus.iloc[0] < 1
