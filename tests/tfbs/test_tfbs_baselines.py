"""The logistic baseline reads DNase, annotation and expression, and learns from the DNase of its cells."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pgml.metrics import auroc
from pgml.tfbs.baselines import dnase_bin_max, dnase_max_at, fit_logreg, logreg_features, logreg_scores
from pgml.tfbs.params import BIN_STEP, LABEL_AMBIGUOUS, LABEL_BOUND, LABEL_UNBOUND

N_BINS = 200
LENGTH = (N_BINS - 1) * BIN_STEP + 200


def write_track(path: Path, bound: np.ndarray) -> None:
    """Coverage 1 everywhere and 10 over the 50-bp block at the centre of each bound bin."""
    import pyBigWig

    values = np.ones(LENGTH // BIN_STEP)
    values[np.flatnonzero(bound) + 2] = 10.0
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader([("chr1", LENGTH)])
    starts = np.arange(values.size) * BIN_STEP
    bw.addEntries(["chr1"] * values.size, starts.tolist(), ends=(starts + BIN_STEP).tolist(), values=values.tolist())
    bw.close()


def test_features_are_dnase_annotation_expression() -> None:
    x = logreg_features(np.array([0.0, np.e - 1]), np.array([[1, 0, 0, 0, 0, 1], [0] * 6]), np.arange(8))
    assert x.shape == (2, 15)
    np.testing.assert_allclose(x[:, 0], [0.0, 1.0], rtol=1e-6)   # log(1 + DNase max)
    np.testing.assert_array_equal(x[0, 1:7], [1, 0, 0, 0, 0, 1])
    np.testing.assert_array_equal(x[1, 7:], np.arange(8))


def test_logistic_baseline_learns_from_dnase(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    labels = np.full((N_BINS, 2), LABEL_UNBOUND, dtype=np.int8)
    for j in range(2):
        # bound bins 5 apart; their neighbours share the DNase block, so they are ambiguous (as next to a peak)
        bound = np.flatnonzero((np.arange(N_BINS) % 5 == 2) & (rng.random(N_BINS) < 0.6))
        labels[np.r_[bound - 1, bound + 1], j] = LABEL_AMBIGUOUS
        labels[bound, j] = LABEL_BOUND
    tracks = []
    for j in range(2):
        tracks.append(str(tmp_path / f"c{j}.bw"))
        write_track(tmp_path / f"c{j}.bw", labels[:, j] == LABEL_BOUND)
    dn = dnase_bin_max(tracks[0], "chr1", LENGTH, N_BINS)
    np.testing.assert_array_equal(dnase_max_at(tracks[0], "chr1", LENGTH, np.arange(N_BINS)), dn)
    assert dn[labels[:, 0] == LABEL_BOUND].min() == 10.0
    annotation = {"chr1": rng.random((N_BINS, 6)) < 0.3}
    model = fit_logreg(annotation, {"chr1": labels}, {"chr1": np.zeros(N_BINS, dtype=bool)}, rng.normal(size=(2, 8)),
                       ["chr1"], tracks, {"chr1": LENGTH}, max_rows=150, seed=0)
    assert model is not None
    scores = logreg_scores(model, dn, annotation["chr1"], np.zeros(8))
    keep = labels[:, 0] != LABEL_AMBIGUOUS
    assert auroc(labels[keep, 0] == LABEL_BOUND, scores[keep]) > 0.95
