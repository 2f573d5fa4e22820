"""Prediction on a user's own cell type: expression projected onto the training basis, the model card
written by train and checked by predict, no peaks needed, and a genome-wide prediction merged from
per-chromosome shards that equals the one-job prediction."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pgml.cli import main
from pgml.tfbs.expression import PcaBasis, expression_pca, fit_basis, pca_basis_id, read_pca

needs_deeptools = pytest.mark.skipif(
    shutil.which("bamCoverage", path=os.pathsep.join([os.environ.get("PATH", ""), str(Path(sys.executable).parent)]))
    is None, reason="deeptools bamCoverage not on PATH")


def tpm_table(n_genes: int = 60, cells: tuple[str, ...] = ("A", "B", "C", "D", "E"), seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values = rng.gamma(0.6, 40.0, size=(n_genes, len(cells)))
    values[3] = 5.0  # a gene constant across cell types: left out of the basis
    return pd.DataFrame(values, index=pd.Index([f"g{i}" for i in range(n_genes)], name="gene"), columns=list(cells))


def test_projection_of_a_training_cell_equals_its_fitted_components() -> None:
    tpm = tpm_table()
    basis = fit_basis(tpm)
    fitted, ratio = expression_pca(tpm)
    assert "g3" not in basis.genes and len(basis.genes) == 59
    assert ratio[:4].sum() == pytest.approx(1.0) and not ratio[4:].any()  # 5 cell types: 4 components
    for cell in tpm.columns:
        alone = basis.transform(tpm[[cell]])
        np.testing.assert_allclose(alone.loc[cell].to_numpy(), fitted.loc[cell].to_numpy(), atol=1e-10)
    # a new cell type does not move the training cells: their components are those of the fit
    new = tpm_table(seed=5, cells=("F",))
    both = basis.transform(pd.concat([tpm, new], axis=1))
    np.testing.assert_allclose(both.loc[list(tpm.columns)].to_numpy(), fitted.to_numpy(), atol=1e-10)
    # sklearn agrees on the new cell
    from sklearn.decomposition import PCA

    x = np.log2(tpm.loc[basis.genes].to_numpy().T + 1)
    pca = PCA(n_components=4, svd_solver="full").fit(x)
    np.testing.assert_allclose(both.loc["F"].to_numpy()[:4],
                               pca.transform(np.log2(new.loc[basis.genes].to_numpy().T + 1))[0], atol=1e-10)


def test_expression_pca_cli_fits_saves_and_projects(tmp_path: Path) -> None:
    tpm = tpm_table()
    tpm.to_csv(tmp_path / "tpm.tsv", sep="\t")
    out = tmp_path / "out"
    assert main(["tfbs", "expression-pca", "--tpm", str(tmp_path / "tpm.tsv"), "--basis", str(out / "basis.npz"),
                 "--output", str(out / "pca.tsv"), "--variance", str(out / "v.tsv"), "--plot", str(out / "p.png")]) == 0
    basis = PcaBasis.load(out / "basis.npz")
    assert pca_basis_id(out / "pca.tsv") == basis.checksum()
    new = tpm[["C"]].rename(columns={"C": "C_again"}).sample(frac=1.0, random_state=1)  # genes in another order
    new.to_csv(tmp_path / "new.tsv", sep="\t")
    assert main(["tfbs", "expression-pca", "--tpm", str(tmp_path / "new.tsv"), "--project", str(out / "basis.npz"),
                 "--output", str(out / "new.tsv"), "--variance", str(out / "v2.tsv"), "--plot", str(out / "p2.png")]) == 0
    assert pca_basis_id(out / "new.tsv") == basis.checksum()
    fitted, projected = read_pca(out / "pca.tsv", ["C"]), read_pca(out / "new.tsv", ["C_again"])
    np.testing.assert_allclose(projected.loc["C_again"].to_numpy(), fitted.loc["C"].to_numpy(), rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- end to end on a simulated genome


def run(*argv: str) -> None:
    assert main([*argv]) == 0, argv


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny model trained on CellA and CellB; CellC (never trained on) has DNase and expression only."""
    root = tmp_path_factory.mktemp("tfbs_new_cell")
    sim = root / "sim"
    run("tfbs", "simulate", "--output-dir", str(sim), "--chroms", "chr1:6000,chr2:20000,chr11:8000",
        "--tfs", "CTCF=MA0139.1", "--site-density", "8.0", "--n-genes", "12", "--seed", "1")
    paths = {"sim": sim, "bins": root / "bins.npz", "labels": root / "labels.npz", "ann": root / "ann.npz",
             "basis": root / "basis.npz", "pca": root / "pca.tsv", "model": root / "model"}
    run("tfbs", "bin-genome", "--genome", str(sim / "chrom.sizes"), "--blacklist", str(sim / "blacklist.bed"),
        "--output", str(paths["bins"]))
    peaks = [f"{c}={sim}/peaks/CTCF.{c}.conservative.narrowPeak.gz,{sim}/peaks/CTCF.{c}.relaxed.narrowPeak.gz"
             for c in ("CellA", "CellB")]
    run("tfbs", "label-bins", "--bins", str(paths["bins"]), "--tf", "CTCF", "--peaks", *peaks,
        "--output", str(paths["labels"]), "--counts", str(root / "counts.tsv"))
    run("tfbs", "annotate-bins", "--bins", str(paths["bins"]), "--annotation",
        *[f"{a}={sim}/annotation/{a}.bed" for a in ("cds", "intron", "promoter", "utr5", "utr3", "cpg")],
        "--output", str(paths["ann"]))
    tpm = pd.read_csv(sim / "tpm.tsv", sep="\t", index_col=0)
    tpm[["CellA", "CellB"]].to_csv(root / "tpm_train.tsv", sep="\t")
    run("tfbs", "expression-pca", "--tpm", str(root / "tpm_train.tsv"), "--basis", str(paths["basis"]),
        "--output", str(root / "pca_train.tsv"), "--variance", str(root / "v.tsv"), "--plot", str(root / "p.png"))
    # CellC arrives later: projected onto the training basis, the training cells' rows do not change
    run("tfbs", "expression-pca", "--tpm", str(sim / "tpm.tsv"), "--project", str(paths["basis"]),
        "--output", str(paths["pca"]), "--variance", str(root / "v2.tsv"), "--plot", str(root / "p2.png"))
    for cell in ("CellA", "CellB", "CellC"):
        bams = sorted(str(p) for p in (sim / "dnase").glob(f"{cell}.rep*.bam"))
        paths[cell] = root / f"{cell}.bw"
        run("tfbs", "dnase-coverage", "--bam", *bams, "--genome", str(sim / "chrom.sizes"), "--bins",
            str(paths["bins"]), "--effective-genome-size", "34000", "--output", str(paths[cell]))
    run("tfbs", "train", "--labels", str(paths["labels"]), "--bins", str(paths["bins"]), "--annotation",
        str(paths["ann"]), "--pca", str(root / "pca_train.tsv"), "--fasta", str(sim / "genome.fa"), "--mappability",
        str(sim / "mappability.bw"), "--dnase", f"CellA={paths['CellA']}", f"CellB={paths['CellB']}",
        "--flank", "20", "--cells", "CellA", "CellB", "--valid-chroms", "chr11", "--test-chroms", "chr1",
        "--conv-filters", "4", "--conv-kernel", "5", "--pool", "4", "--lstm-hidden", "3", "--d-k", "4", "--dense", "4",
        "--epochs", "1", "--batch-size", "16", "--max-valid-windows", "60", "--output-dir", str(paths["model"]),
        "--seed", "3", "--device", "cpu", "--threads", "1")
    return paths


def predict(p: dict[str, Path], out: Path, *chroms: str, cell: str = "CellC", pca: Path | None = None) -> pd.DataFrame:
    run("tfbs", "predict", "--model", str(p["model"] / "model.ckpt"), "--bins", str(p["bins"]), "--annotation",
        str(p["ann"]), "--pca", str(pca or p["pca"]), "--fasta", str(p["sim"] / "genome.fa"), "--mappability",
        str(p["sim"] / "mappability.bw"), "--dnase", f"{cell}={p[cell]}", "--flank", "20", "--cell", cell,
        "--chroms", *chroms, "--output-dir", str(out), "--device", "cpu", "--threads", "1")
    return pd.read_csv(out / "modules.tsv.gz", sep="\t")


@needs_deeptools
def test_train_writes_a_model_card_with_split_basis_and_baseline(trained: dict[str, Path]) -> None:
    card = json.loads((trained["model"] / "model.json").read_text())
    assert card["chain"] == "tfbs" and card["seed"] == 3
    assert card["inputs"]["flank"] == 20 and card["inputs"]["window_length"] == 240
    assert card["inputs"]["pca_basis"] == PcaBasis.load(trained["basis"]).checksum()
    assert card["inputs"]["model"]["conv_filters"] == 4
    training = card["training"]
    assert training["cells"] == ["CellA", "CellB"]
    assert (training["train_chroms"], training["valid_chroms"], training["test_chroms"]) == (["chr2"], ["chr11"], ["chr1"])
    metrics = card["metrics"]
    assert 0 <= metrics["valid_auprc"] <= 1 and 0 <= metrics["valid_auprc_dnase_max"] <= 1
    assert metrics["beats_baseline"] == (metrics["valid_auprc"] > metrics["valid_auprc_dnase_max"])
    # the simulated DNase marks bound sites, so the baseline is far above the positive rate
    assert metrics["valid_auprc_dnase_max"] > metrics["valid_positive_rate"]


@needs_deeptools
def test_a_cell_type_absent_from_training_is_predicted_the_same_with_or_without_its_peaks(
        trained: dict[str, Path], tmp_path: Path) -> None:
    with_peaks = predict(trained, tmp_path / "with", "chr1", "chr2")
    peaks = sorted((trained["sim"] / "peaks").glob("CTCF.CellC.*"))
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    for path in peaks:
        shutil.move(path, hidden / path.name)
    try:
        without = predict(trained, tmp_path / "without", "chr1", "chr2")
    finally:
        for path in peaks:
            shutil.move(hidden / path.name, path)
    pd.testing.assert_frame_equal(with_peaks, without)
    assert with_peaks["ensemble"].between(0, 1).all() and len(with_peaks) == (6000 - 200) // 50 + 1 + (20000 - 200) // 50 + 1


@needs_deeptools
def test_genome_wide_prediction_merged_from_chromosome_shards_equals_one_job(trained: dict[str, Path],
                                                                             tmp_path: Path) -> None:
    import pyBigWig

    whole = predict(trained, tmp_path / "whole", "chr1", "chr2", "chr11")
    shards = [tmp_path / "shards" / c for c in ("chr11", "chr2", "chr1")]
    for shard in shards:
        predict(trained, shard, shard.name)
    run("tfbs", "merge-predictions", "--bins", str(trained["bins"]), "--predictions",
        *[str(s / "modules.tsv.gz") for s in shards], "--output-dir", str(tmp_path / "merged"))
    merged = pd.read_csv(tmp_path / "merged" / "modules.tsv.gz", sep="\t")
    pd.testing.assert_frame_equal(merged, whole)
    with gzip.open(tmp_path / "merged" / "predictions.tsv.gz", "rt") as handle:
        first = handle.readline().rstrip("\n").split("\t")
    assert first[:3] == ["chr1", "0", "200"] and float(first[3]) == pytest.approx(whole["ensemble"].iat[0], abs=1e-5)
    a, b = pyBigWig.open(str(tmp_path / "merged" / "track.bw")), pyBigWig.open(str(tmp_path / "whole" / "track.bw"))
    assert a.chroms() == b.chroms()
    for chrom, size in a.chroms().items():
        # the merge reads the 5-decimal tables, the one job its own floats
        np.testing.assert_allclose(a.values(chrom, 0, size, numpy=True), b.values(chrom, 0, size, numpy=True),
                                   atol=1e-5)
    # one shard given twice is refused
    assert main(["tfbs", "merge-predictions", "--bins", str(trained["bins"]), "--predictions",
                 str(shards[0] / "modules.tsv.gz"), str(shards[0] / "modules.tsv.gz"),
                 "--output-dir", str(tmp_path / "twice")]) == 2


@needs_deeptools
def test_predict_refuses_components_of_another_basis(trained: dict[str, Path], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture) -> None:
    tpm = pd.read_csv(trained["sim"] / "tpm.tsv", sep="\t", index_col=0)
    fit_basis(tpm).save(tmp_path / "other.npz")  # refitted with CellC: another basis
    assert main(["tfbs", "expression-pca", "--tpm", str(trained["sim"] / "tpm.tsv"), "--project",
                 str(tmp_path / "other.npz"), "--output", str(tmp_path / "pca.tsv"), "--variance",
                 str(tmp_path / "v.tsv"), "--plot", str(tmp_path / "p.png")]) == 0
    capsys.readouterr()
    with pytest.raises(AssertionError):
        predict(trained, tmp_path / "out", "chr1", pca=tmp_path / "pca.tsv")
    assert "pca_basis: the model was trained with pca_basis=" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
