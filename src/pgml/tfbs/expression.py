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
from pgml.tfbs.bins import require_file
from pgml.tfbs.params import N_PCS

PC_COLUMNS = [f"PC{i + 1}" for i in range(N_PCS)]


def read_tpm(path: str | os.PathLike) -> pd.DataFrame:
    """Genes x cell types TPM table (first column gene IDs, header of cell types)."""
    path = require_file(path, "TPM table")
    frame = _read_table(path, "TPM table")
    if frame.shape[1] < 1 or frame.empty:
        raise InputError("expected genes x cell types (a gene ID column and one column per cell type)", path=path)
    return _finite(frame, path, "TPM", record="gene", minimum=0.0)


def _read_table(path: Path, what: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path, sep="\t", index_col=0, comment="#")
    except pd.errors.EmptyDataError:
        raise InputError(f"{what} is empty", path=path) from None
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError, ValueError) as exc:
        detail = " ".join(str(exc).split())
        raise InputError(f"cannot read the {what} as a tab-separated table ({detail})", path=path) from None


def _finite(frame: pd.DataFrame, path: Path, what: str, *, record: str, minimum: float | None = None
            ) -> pd.DataFrame:
    """Numeric copy of ``frame``; the first non-number, NaN, infinity or value below ``minimum`` is refused."""
    numeric = frame.apply(pd.to_numeric, errors="coerce")
    values = numeric.to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if minimum is not None:
        bad |= np.nan_to_num(values, nan=minimum) < minimum
    if bad.any():
        i, j = (int(v[0]) for v in np.nonzero(bad))
        raw = frame.iat[i, j]
        problem = "is not a number" if pd.isna(numeric.iat[i, j]) else (
            "is not finite" if not np.isfinite(values[i, j]) else f"must be >= {minimum:g}")
        raise InputError(f"{what} of {frame.columns[j]} {problem} ({raw!r})", path=path,
                         record=f"{record} {frame.index[i]}")
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
    path = require_file(path, "expression PCA table")
    frame = _read_table(path, "expression PCA table")
    if list(frame.columns) != PC_COLUMNS:
        raise InputError(f"expected columns cell, {', '.join(PC_COLUMNS)}", path=path)
    frame = _finite(frame, path, "expression component", record="cell")
    frame.index = frame.index.astype(str)
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
