"""Cell-type expression features: log TPM -> PCA -> the first 8 components per cell type.

As in the ENCODE-DREAM features DeepGRN uses (section 2.2.1 of [deepgrn]): genes x cell types TPM,
``log2(TPM + 1)``, genes centred, principal components over the cell types (scikit-learn ``PCA``).
With fewer than nine cell types there are fewer than eight components; the missing ones are 0.
A ready table (cell type + 8 values, e.g. the challenge's ``meta.txt`` GEPC1..GEPC8) can be used instead.

The fit is kept as a :class:`PcaBasis` (genes, centring, loadings; ``expression-pca --basis``) so that
a new cell type is *projected* onto the training basis (``expression-pca --project``) instead of
re-fitting the PCA, which would change the inputs of a model already trained. Projection is sklearn's
own ``transform``: ``(log2(TPM + 1) - mean) @ components.T``. Every PCA table written here starts with a
``# basis sha256:...`` line naming its basis; the model card records it and ``predict`` checks it.

The PCA is on ``log2(TPM + 1)``, not on TPM: TPM is heavy-tailed, so on the raw scale a handful of
very highly expressed genes carry almost all the variance and the components follow them alone.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.errors import InputError
from pgml.fileio import atomic_path, write_text
from pgml.tfbs.bins import load_npz, require_file
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


BASIS_PREFIX = "# basis sha256:"


@dataclass
class PcaBasis:
    """A fitted expression PCA: the genes it uses, their centring and the loadings of each component."""

    genes: list[str]
    mean: np.ndarray  # (genes,) mean log2(TPM + 1) over the fitted cell types
    components: np.ndarray  # (k, genes) loadings, k <= 8
    ratio: np.ndarray  # (8,) explained variance ratio (0 past k)
    cells: list[str]  # the fitted cell types

    def transform(self, tpm: pd.DataFrame, path: str | os.PathLike = "TPM table") -> pd.DataFrame:
        """Cell types of ``tpm`` x PC1..PC8 on this basis; every basis gene must be in ``tpm``."""
        index = pd.Index(tpm.index.astype(str))
        missing = [g for g in self.genes if g not in index]
        if missing:
            raise InputError(f"{len(missing)} gene(s) of the PCA basis missing (first: {missing[0]}); the "
                             "TPM table needs the genes the basis was fitted on", path=path)
        frame = tpm.set_axis(index, axis=0).loc[self.genes]
        x = np.log2(frame.to_numpy(dtype=float).T + 1.0)
        scores = np.zeros((x.shape[0], N_PCS))
        scores[:, :self.components.shape[0]] = (x - self.mean) @ self.components.T
        return pd.DataFrame(scores, index=pd.Index(tpm.columns.astype(str), name="cell"), columns=PC_COLUMNS)

    def checksum(self) -> str:
        """sha256 of the genes, centring and loadings (what a projection depends on)."""
        digest = hashlib.sha256("\n".join(self.genes).encode())
        for array in (self.mean, self.components):
            digest.update(np.ascontiguousarray(array, dtype="<f8").tobytes())
        return digest.hexdigest()

    def save(self, path: str | os.PathLike) -> None:
        with atomic_path(path, suffix=".npz") as tmp:
            np.savez_compressed(tmp, genes=np.array(self.genes), mean=self.mean, components=self.components,
                                ratio=self.ratio, cells=np.array(self.cells), sha256=np.array(self.checksum()))

    @classmethod
    def load(cls, path: str | os.PathLike) -> PcaBasis:
        path = require_file(path, "PCA basis (expression-pca --basis)")
        with load_npz(path, "PCA basis of pgml tfbs expression-pca --basis") as data:
            basis = cls([str(g) for g in data["genes"]], data["mean"].astype(float),
                        data["components"].astype(float), data["ratio"].astype(float),
                        [str(c) for c in data["cells"]])
            stored = str(data["sha256"])
        if basis.checksum() != stored:
            raise InputError("PCA basis does not match its checksum (altered or damaged)", path=path)
        return basis


def fit_basis(tpm: pd.DataFrame) -> PcaBasis:
    """PCA of ``log2(TPM + 1)`` over the cell types (columns), genes constant across them left out."""
    from sklearn.decomposition import PCA

    x = np.log2(tpm.to_numpy(dtype=float).T + 1.0)
    keep = x.std(axis=0) > 0
    x = x[:, keep]
    genes = [str(g) for g in tpm.index[keep]]
    k = min(N_PCS, x.shape[0] - 1, x.shape[1])
    ratio = np.zeros(N_PCS)
    mean, components = x.mean(axis=0), np.zeros((0, x.shape[1]))
    if k >= 1:
        pca = PCA(n_components=k, svd_solver="full").fit(x)
        mean, components = pca.mean_, pca.components_
        ratio[:k] = pca.explained_variance_ratio_
    return PcaBasis(genes, mean, components, ratio, [str(c) for c in tpm.columns])


def expression_pca(tpm: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """(cell types x PC1..PC8, explained variance ratio of each component)."""
    basis = fit_basis(tpm)
    return basis.transform(tpm), basis.ratio


def write_pca(frame: pd.DataFrame, path: str | os.PathLike, basis: PcaBasis | None) -> None:
    """The cells x PC1..PC8 TSV, its first line naming the basis (``# basis sha256:...``)."""
    header = f"{BASIS_PREFIX}{basis.checksum()}\n" if basis is not None else ""
    body = frame.reset_index().to_csv(sep="\t", index=False, float_format="%.6g")
    write_text(path, header + body)


def pca_basis_id(path: str | os.PathLike) -> str | None:
    """The basis checksum a PCA table names in its first line (None for a ready table without one)."""
    path = require_file(path, "expression PCA table")
    with open(path, errors="replace") as handle:
        first = handle.readline().strip()
    return first[len(BASIS_PREFIX):].strip() if first.startswith(BASIS_PREFIX) else None


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
