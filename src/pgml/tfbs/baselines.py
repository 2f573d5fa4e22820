"""The two baselines every tfbs evaluation reports in the same run (what a user would try without DeepGRN).

* ``dnase_max``: the bin's maximal DNase 1x coverage (no model at all), read from the bigWig in chunks
  of 50-bp blocks (a bin is 4 consecutive blocks), vectorised and in bounded memory.
* ``logreg``: one scikit-learn logistic regression on the features a user has without a sequence
  model: ``log(1 + DNase max)`` of the bin, its 6 annotation flags and the cell type's 8 expression
  components (standardised), fitted on a uniform sample of the non-ambiguous, non-blacklisted bins of
  the training chromosomes x training cell types (:func:`fit_logreg`).
"""

from __future__ import annotations

import numpy as np

from pgml.tfbs.params import BIN_SIZE, BIN_STEP, LABEL_AMBIGUOUS, LABEL_BOUND

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


def dnase_max_at(bigwig: str, chrom: str, length: int, bins: np.ndarray) -> np.ndarray:
    """Max coverage of the bins with indices ``bins`` of ``chrom`` (exact bigWig statistics; no data -> 0)."""
    import pyBigWig

    out = np.zeros(len(bins), dtype=np.float32)
    bw = pyBigWig.open(str(bigwig))
    try:
        for i, b in enumerate(np.asarray(bins, dtype=np.int64).tolist()):
            start = b * BIN_STEP
            value = bw.stats(chrom, start, min(start + BIN_SIZE, length), type="max", exact=True)[0]
            out[i] = 0.0 if value is None or np.isnan(value) else value
    finally:
        bw.close()
    return out


def logreg_features(dnase_max: np.ndarray, annotation: np.ndarray, pca_row: np.ndarray) -> np.ndarray:
    """Rows ``[log(1 + DNase max), 6 annotation flags, 8 expression components]`` of one cell type's bins."""
    n = annotation.shape[0]
    return np.hstack([np.log1p(np.asarray(dnase_max, dtype=np.float32))[:, None], annotation.astype(np.float32),
                      np.repeat(np.asarray(pca_row, dtype=np.float32)[None, :], n, axis=0)])


def fit_logreg(annotation: dict[str, np.ndarray], labels: dict[str, np.ndarray], blacklist: dict[str, np.ndarray],
               pca: np.ndarray, chroms: list[str], dnase: list[str], sizes: dict[str, int], *,
               max_rows: int = 200_000, seed: int = 0):
    """Logistic regression on :func:`logreg_features` over ``chroms`` x the cell types (columns of ``labels``).

    ``pca`` and ``dnase`` (bigWig paths) follow the columns of ``labels``. At most ``max_rows`` bins,
    drawn uniformly, are used (their DNase is read bin by bin); ``None`` when the sample holds a
    single class.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(seed)
    groups = [(chrom, j) for chrom in chroms for j in range(labels[chrom].shape[1])]

    def eligible(chrom: str, j: int) -> np.ndarray:
        return np.flatnonzero((labels[chrom][:, j] != LABEL_AMBIGUOUS) & ~blacklist[chrom])

    counts = np.array([eligible(c, j).size for c, j in groups], dtype=np.int64)
    # a uniform sample of max_rows bins over all groups without listing them all at once
    take = counts if counts.sum() <= max_rows else rng.multivariate_hypergeometric(counts, max_rows)
    xs, ys = [], []
    for (chrom, j), k in zip(groups, take, strict=True):
        if k == 0:
            continue
        b = eligible(chrom, j)
        if k < b.size:
            b = np.sort(rng.choice(b, size=int(k), replace=False))
        dn = dnase_max_at(dnase[j], chrom, sizes[chrom], b)
        xs.append(logreg_features(dn, annotation[chrom][b], pca[j]))
        ys.append(labels[chrom][b, j] == LABEL_BOUND)
    if not xs:
        return None
    x, y = np.vstack(xs), np.concatenate(ys)
    if not 0 < y.sum() < y.size:
        return None
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)


def logreg_scores(model, dnase_max: np.ndarray, annotation: np.ndarray, pca_row: np.ndarray) -> np.ndarray:
    """Probability of binding of each bin from :func:`fit_logreg`'s model (zeros without a model)."""
    if model is None:
        return np.zeros(annotation.shape[0])
    return model.predict_proba(logreg_features(dnase_max, annotation, pca_row))[:, 1]
