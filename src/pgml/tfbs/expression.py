"""Cell-type expression features: log TPM -> PCA -> the first 8 components per cell type.

As in the ENCODE-DREAM features DeepGRN uses (section 2.2.1 of [deepgrn]): genes x cell types TPM,
``log2(TPM + 1)``, genes centred, principal components over the cell types (scikit-learn ``PCA``).
With fewer than nine cell types there are fewer than eight components; the missing ones are 0.
A ready table (cell type + 8 values, e.g. the challenge's ``meta.txt`` GEPC1..GEPC8) can be used instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.errors import InputError
from pgml.tfbs.params import N_PCS

PC_COLUMNS = [f"PC{i + 1}" for i in range(N_PCS)]


def read_tpm(path: str | os.PathLike) -> pd.DataFrame:
    """Genes x cell types TPM table (first column gene IDs, header of cell types)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", path=path)
    frame = pd.read_csv(path, sep="\t", index_col=0)
    if frame.shape[1] < 2 or frame.empty:
        raise InputError("expected genes x cell types with at least two cell types", path=path)
    numeric = frame.apply(pd.to_numeric, errors="coerce")
    if numeric.isna().any().any():
        bad = numeric.isna().stack()
        gene, cell = bad[bad].index[0]
        raise InputError(f"TPM of {cell} is not a number", path=path, record=f"gene {gene}")
    if (numeric < 0).any().any():
        raise InputError("TPM values must be >= 0", path=path)
    return numeric


def expression_pca(tpm: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """(cell types x PC1..PC8, explained variance ratio of each component)."""
    from sklearn.decomposition import PCA

    x = np.log2(tpm.to_numpy(dtype=float).T + 1.0)
    x = x[:, x.std(axis=0) > 0]
    k = min(N_PCS, x.shape[0] - 1, x.shape[1])
    scores = np.zeros((x.shape[0], N_PCS))
    ratio = np.zeros(N_PCS)
    if k >= 1:
        pca = PCA(n_components=k, svd_solver="full").fit(x)
        scores[:, :k] = pca.transform(x)
        ratio[:k] = pca.explained_variance_ratio_
    frame = pd.DataFrame(scores, index=pd.Index(tpm.columns, name="cell"), columns=PC_COLUMNS)
    return frame, ratio


def read_pca(path: str | os.PathLike, cells: list[str]) -> pd.DataFrame:
    """The cells x PC1..PC8 table written by ``expression-pca``; every cell type of ``cells`` must be in it."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", path=path)
    frame = pd.read_csv(path, sep="\t", index_col=0)
    if list(frame.columns) != PC_COLUMNS:
        raise InputError(f"expected columns cell, {', '.join(PC_COLUMNS)}", path=path)
    missing = [c for c in cells if c not in frame.index]
    if missing:
        raise InputError(f"cell type(s) {', '.join(missing)} missing", path=path)
    return frame


def plot_pca(frame: pd.DataFrame, ratio: np.ndarray, path: str | os.PathLike) -> None:
    """Cell types on PC1/PC2 and the explained variance of each component."""
    from pgml.plots import figure, save_figure

    fig, (ax1, ax2) = figure(1, 2, figsize=(9, 4))
    ax1.scatter(frame["PC1"], frame["PC2"])
    for cell, row in frame.iterrows():
        ax1.annotate(str(cell), (row["PC1"], row["PC2"]), fontsize=8)
    ax1.set_xlabel(f"PC1 ({100 * ratio[0]:.1f}%)")
    ax1.set_ylabel(f"PC2 ({100 * ratio[1]:.1f}%)")
    ax2.bar(range(1, N_PCS + 1), 100 * ratio)
    ax2.set_xlabel("component")
    ax2.set_ylabel("explained variance (%)")
    save_figure(fig, path)
