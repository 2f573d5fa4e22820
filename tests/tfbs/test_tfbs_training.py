"""Training end to end on a tiny simulated genome: same seed, same model and metrics."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from pgml.tfbs.annotate import annotate_bins, save_annotation
from pgml.tfbs.bins import bin_genome, read_chrom_sizes
from pgml.tfbs.expression import expression_pca, read_tpm
from pgml.tfbs.labels import label_bins
from pgml.tfbs.params import ANNOTATIONS, ModelConfig, SimulateConfig, TrainConfig
from pgml.tfbs.simulate import simulate
from pgml.tfbs.training import train_tf
from pgml.tfbs.windows import WindowSource

pytestmark = pytest.mark.skipif(shutil.which("bamCoverage", path=os.pathsep.join([os.environ.get("PATH", ""), str(Path(sys.executable).parent)])) is None, reason="deeptools bamCoverage not on PATH")


def test_training_is_deterministic(tmp_path: Path) -> None:
    from pgml.tfbs.coverage import dnase_coverage

    d = tmp_path / "sim"
    simulate(d, SimulateConfig(chroms="chr1:6000,chr2:20000,chr11:8000", tfs="CTCF=MA0139.1", site_density=8.0,
                               n_genes=10), seed=1)
    sizes = read_chrom_sizes(d / "chrom.sizes")
    bins = bin_genome(sizes, None, d / "blacklist.bed")
    cells = ["CellA", "CellB"]
    labels = label_bins(bins, "CTCF", [(c, d / "peaks" / f"CTCF.{c}.conservative.narrowPeak.gz",
                                        d / "peaks" / f"CTCF.{c}.relaxed.narrowPeak.gz") for c in cells])
    ann = tmp_path / "ann.npz"
    save_annotation(annotate_bins(bins, {a: d / "annotation" / f"{a}.bed" for a in ANNOTATIONS}), ann)
    pca = tmp_path / "pca.tsv"
    expression_pca(read_tpm(d / "tpm.tsv"))[0].reset_index().to_csv(pca, sep="\t", index=False)
    tracks = {}
    for c in cells:
        tracks[c] = tmp_path / f"{c}.bw"
        dnase_coverage(sorted((d / "dnase").glob(f"{c}.rep*.bam")), tracks[c], sizes=sizes, chroms=bins.chroms,
                       blacklist=None, effective_genome_size=34000)
    source = WindowSource(d / "genome.fa", d / "mappability.bw", tracks, flank=20)
    model = ModelConfig(conv_filters=4, conv_kernel=5, pool=4, lstm_hidden=3, d_k=4, dense=4)
    train = TrainConfig(epochs=2, patience=2, batch_size=16, max_valid_windows=60)
    runs = []
    for name in ("a", "b"):
        out = tmp_path / name
        train_tf(bins, labels, cells, ann, pca, source, out, valid=["chr11"], test=["chr1"], model_config=model,
                 train_config=train, seed=3, device="cpu")
        runs.append(out)
    assert (runs[0] / "metrics.tsv").read_text() == (runs[1] / "metrics.tsv").read_text()
    w0 = torch.load(runs[0] / "model.ckpt", weights_only=False)["state_dict"]
    w1 = torch.load(runs[1] / "model.ckpt", weights_only=False)["state_dict"]
    for key in w0:
        np.testing.assert_array_equal(w0[key].numpy(), w1[key].numpy(), err_msg=key)
