"""The two baselines every tfbs evaluation reports in the same run (issue: DeepGRN's comparison points).

* ``dnase_max``: the bin's maximal DNase 1x coverage (no model at all), read from the bigWig in chunks
  of 50-bp blocks (a bin is 4 consecutive blocks), vectorised and in bounded memory.
* ``logreg``: scikit-learn logistic regression on the 14 non-sequential features (6 annotation flags
  + 8 expression components), fitted on the training chromosomes and cell types.
"""

from __future__ import annotations

import numpy as np

from pgml.tfbs.params import BIN_SIZE, BIN_STEP, LABEL_AMBIGUOUS

CHUNK_BLOCKS = 200_000


def dnase_bin_max(bigwig: str, chrom: str, length: int, count: int) -> np.ndarray:
    """Max coverage of each of the ``count`` bins of ``chrom`` (NaN read as 0)."""
    import pyBigWig

    per_bin = BIN_SIZE // BIN_STEP
    n_blocks = count + per_bin - 1
    blocks = np.zeros(n_blocks, dtype=np.float32)
    bw = pyBigWig.open(str(bigwig))
    try:
        for lo in range(0, n_blocks, CHUNK_BLOCKS):
            hi = min(n_blocks, lo + CHUNK_BLOCKS)
            end = min(hi * BIN_STEP, length)
            vals = np.nan_to_num(np.asarray(bw.values(chrom, lo * BIN_STEP, end, numpy=True), dtype=np.float32))
            vals = np.pad(vals, (0, (hi - lo) * BIN_STEP - vals.size))
            blocks[lo:hi] = vals.reshape(-1, BIN_STEP).max(axis=1)
    finally:
        bw.close()
    return np.lib.stride_tricks.sliding_window_view(blocks, per_bin).max(axis=1)[:count]


def fit_logreg(annotation: dict[str, np.ndarray], labels: dict[str, np.ndarray], blacklist: dict[str, np.ndarray],
               pca: np.ndarray, chroms: list[str], max_rows: int = 200_000, seed: int = 0):
    """Logistic regression on [annotation, PCs] over ``chroms`` x cell types (columns of ``labels``)."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for chrom in chroms:
        lab, ann = labels[chrom], annotation[chrom].astype(np.float32)
        for j in range(lab.shape[1]):
            keep = np.flatnonzero((lab[:, j] != LABEL_AMBIGUOUS) & ~blacklist[chrom])
            xs.append(np.hstack([ann[keep], np.repeat(pca[j][None, :], keep.size, axis=0)]))
            ys.append(lab[keep, j] == 1)
    x, y = np.vstack(xs), np.concatenate(ys)
    if x.shape[0] > max_rows:
        pick = rng.choice(x.shape[0], size=max_rows, replace=False)
        x, y = x[pick], y[pick]
    return LogisticRegression(max_iter=1000).fit(x, y) if 0 < y.sum() < y.size else None


def logreg_scores(model, annotation: np.ndarray, pca_row: np.ndarray) -> np.ndarray:
    x = np.hstack([annotation.astype(np.float32), np.repeat(pca_row[None, :], annotation.shape[0], axis=0)])
    return model.predict_proba(x)[:, 1] if model is not None else np.zeros(annotation.shape[0])
