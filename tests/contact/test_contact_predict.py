"""Prediction without a structure: a trained model, its card, and new queries (a sequence, an alignment)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO_STRUCTURES, REPO

from pgml.cli import main

SHARED_MSA = REPO.parent / "shared" / "data" / "contact" / "msa"
TINY = ["--hidden", "4", "--heads", "1", "--width", "4", "--blocks", "1", "--maxout", "2", "--epochs", "1",
        "--sgd-epoch", "1", "--device", "cpu", "--threads", "1"]


def run(*argv: str) -> None:
    assert main([str(a) for a in argv]) == 0, argv


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two simulated targets (1EJG train, 1LCD val) and a tiny ATTContact trained on them."""
    root = tmp_path_factory.mktemp("contact")
    for name in ("1EJG", "1LCD"):
        structure = DEMO_STRUCTURES / f"{name}.pdb.gz"
        run("contact", "simulate", "--structure", structure, "--output", root / "msa" / f"{name}.a3m",
            "--n-sequences", "40", "--burn-in", "3")
        run("contact", "pssm", "--alignment", root / "msa" / f"{name}.a3m", "--output", root / "pssm" / f"{name}.tsv")
    run("contact", "plm", "--alignments", root / "msa" / "1EJG.a3m", root / "msa" / "1LCD.a3m", "--output-dir",
        root / "plm", "--max-iter", "5", "--device", "cpu")
    (root / "split.tsv").write_text("id\tsplit\n1EJG\ttrain\n1LCD\tval\n")
    run("contact", "train", "--plm-dir", root / "plm", "--pssm-dir", root / "pssm", "--structures",
        DEMO_STRUCTURES / "1EJG.pdb.gz", DEMO_STRUCTURES / "1LCD.pdb.gz", "--split", root / "split.tsv",
        "--output-dir", root / "model", *TINY)
    return root


def test_train_writes_a_card_with_settings_and_the_baseline(trained: Path) -> None:
    card = json.loads((trained / "model" / "model.json").read_text())
    assert card["chain"] == "contact" and card["seed"] == 0
    assert card["inputs"]["max_iter"] == 5 and card["inputs"]["lambda_single"] == 0.01
    assert card["inputs"]["features_1d"] == 40 and card["inputs"]["plm_channels"] == 442
    assert card["training"]["train"] == ["1EJG"] and card["training"]["val"] == ["1LCD"]
    assert {"val_long_L/2", "baseline_apc_plm_val_long_L/2", "beats_baseline"} <= set(card["metrics"])


def test_predict_from_a_ready_alignment_without_structure(trained: Path) -> None:
    """The map has one row per query residue, and the features are built with the card's settings."""
    out = trained / "pred_aln"
    run("contact", "predict", "--model", trained / "model" / "model.ckpt", "--alignment",
        trained / "msa" / "1EJG.a3m", "--output-dir", out, "--device", "cpu")
    query = "".join((trained / "msa" / "1EJG.a3m").read_text().split("\n")[1])
    prob = np.load(out / "1EJG.npy")
    assert prob.shape == (len(query), len(query)) == (46, 46)
    assert np.isfinite(prob).all() and ((prob >= 0) & (prob <= 1)).all()
    rr = (out / "1EJG.rr").read_text().splitlines()
    assert "".join(line for line in rr[4:-1] if line.isalpha()) == query
    pssm = pd.read_csv(out / "features" / "1EJG.tsv", sep="\t")
    assert "".join(pssm["residue"]) == query
    with np.load(out / "features" / "1EJG.npz") as data:
        assert json.loads(str(data["settings"]))["max_iter"] == 5


def test_predict_from_a_sequence_searches_the_database(trained: Path) -> None:
    """search (jackhmmer, streamed) -> filter -> PSSM -> PLM -> map, indexed by the FASTA query's residues."""
    text = (trained / "msa" / "1EJG.a3m").read_text().split()
    query = text[1]
    fasta = trained / "query.fasta"
    fasta.write_text(f">crambin\n{query}\n")
    database = trained / "db.fasta"
    database.write_text("".join(f">hit{k}\n{seq.replace('-', '')}\n" for k, seq in enumerate(text[3::2])))
    out = trained / "pred_seq"
    run("contact", "predict", "--model", trained / "model" / "model.ckpt", "--sequence", fasta, "--database",
        database, "--iterations", "1", "--output-dir", out, "--device", "cpu")
    assert np.load(out / "crambin.npy").shape == (len(query), len(query))
    assert (out / "features" / "crambin.aln").read_text().split()[0] == query


def test_predict_refuses_features_built_with_other_settings(trained: Path, capsys) -> None:
    other = trained / "plm_other"
    run("contact", "plm", "--alignments", trained / "msa" / "1EJG.a3m", "--output-dir", other, "--max-iter", "3",
        "--device", "cpu")
    status = main(["contact", "predict", "--model", str(trained / "model" / "model.ckpt"), "--plm-dir", str(other),
                   "--pssm-dir", str(trained / "pssm"), "--output-dir", str(trained / "pred_other")])
    assert status == 2
    assert "1EJG.npz: max_iter: the model was trained with max_iter=5, this input gives 3" in capsys.readouterr().err
    assert not (trained / "pred_other").exists()


def test_predict_without_a_card_is_refused(trained: Path, tmp_path: Path, capsys) -> None:
    shutil.copy(trained / "model" / "model.ckpt", tmp_path / "model.ckpt")
    status = main(["contact", "predict", "--model", str(tmp_path / "model.ckpt"), "--alignment",
                   str(trained / "msa" / "1EJG.a3m"), "--output-dir", str(tmp_path / "out")])
    assert status == 2 and "no model card model.json beside the model" in capsys.readouterr().err


@pytest.mark.shared_data
def test_predict_an_esm_example_alignment_without_its_structure(trained: Path) -> None:
    """A real HHblits alignment (ESM's 1XCR_A example, 588 sequences) through the trained model."""
    path = SHARED_MSA / "esm_examples" / "1xcr_1_A.a3m.gz"
    if not path.is_file():
        pytest.skip(f"{path} absent")
    from pgml.contact.alignment import read_alignment

    query = read_alignment(path).query
    out = trained / "pred_esm"
    run("contact", "predict", "--model", trained / "model" / "model.ckpt", "--alignment", path,
        "--output-dir", out, "--device", "cpu", "--max-identity", "0.9")
    prob = np.load(out / "1xcr_1_A.npy")
    assert prob.shape == (len(query), len(query)) and np.isfinite(prob).all()
    assert len(pd.read_csv(out / "1xcr_1_A.tsv", sep="\t")) > 0
