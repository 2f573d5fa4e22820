"""Expression matrices, regulator lists and sample labels for the grn chain, with input checks.

The expression matrix is genes x samples (the GNET2 convention, ``input`` of ``gnet()``): a TSV/CSV
(optionally gzipped) whose first column holds gene IDs and whose header holds sample IDs, or samples
in rows with ``samples_in_rows=True``; or an AnnData ``.h5ad`` file (observations = samples, variables
= genes, read with the optional ``anndata`` package). Values are log2 RPKM/TPM, or counts with
``log_transform=True`` (log2(x + 1)).

Bad input raises :class:`pgml.errors.InputError` naming the file and the record: NaN or non-numeric
values (with a hint to impute), duplicate gene or sample IDs, fewer than :data:`MIN_SAMPLES` samples
(the regulatory trees split samples into leaves of at least ``min_divide_size``), and a regulator list
none of whose IDs is in the matrix. Regulator IDs that are not in the matrix are reported (log and
:attr:`Dataset.missing_regulators`), never silently dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.errors import InputError

log = logging.getLogger(__name__)

#: Fewest samples the method accepts: trees need room for leaves of ``min_divide_size`` (3) samples.
MIN_SAMPLES = 10
#: Genes with variance at or below this are dropped before fitting (as ``gnet()`` does: var > 1e-4).
MIN_VARIANCE = 1e-4


@dataclass
class Dataset:
    """Expression of regulators and target genes over the same samples.

    ``regulator_expr`` is regulators x samples and ``target_expr`` targets x samples (GNET2's
    ``regulator_data`` and ``gene_data``): target genes are the genes that are not regulators.
    """

    samples: list[str]
    regulators: list[str]
    regulator_expr: np.ndarray
    targets: list[str]
    target_expr: np.ndarray
    missing_regulators: list[str] = field(default_factory=list)
    dropped_constant: list[str] = field(default_factory=list)

    @property
    def n_samples(self) -> int:
        return len(self.samples)

    def all_genes(self) -> list[str]:
        return list(self.regulators) + list(self.targets)

    def all_expr(self) -> np.ndarray:
        return np.vstack([self.regulator_expr, self.target_expr])


def _separator(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    return "," if suffixes and suffixes[-1] == ".csv" else "\t"


def read_expression(path: str | Path, *, samples_in_rows: bool = False,
                    log_transform: bool = False) -> pd.DataFrame:
    """Read an expression matrix as a genes x samples float DataFrame and check it.

    Raises :class:`InputError` for a missing file, duplicate gene/sample IDs, non-numeric cells,
    NaN/infinite values (suggesting imputation), negative counts under ``log_transform`` and fewer
    than :data:`MIN_SAMPLES` samples.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("expression file not found", path=path)
    if path.suffix.lower() == ".h5ad":
        frame = _read_h5ad(path)
    else:
        try:
            frame = pd.read_csv(path, sep=_separator(path), index_col=0)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
            raise InputError(f"cannot parse as a table: {err}", path=path) from err
        if samples_in_rows:
            frame = frame.T
    frame.index = frame.index.astype(str)
    frame.columns = frame.columns.astype(str)
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise InputError("the expression matrix is empty", path=path)
    dup = frame.index[frame.index.duplicated()].unique().tolist()
    if dup:
        rows = [i + 2 for i, g in enumerate(frame.index) if g == dup[0]]
        raise InputError(f"duplicate gene IDs {dup[:5]} ({len(dup)} in all); gene {dup[0]!r} is on "
                         f"data rows {rows}; merge or rename them", path=path, record=f"gene {dup[0]}")
    dup = frame.columns[frame.columns.duplicated()].unique().tolist()
    if dup:
        raise InputError(f"duplicate sample IDs {dup[:5]}", path=path, record=f"sample {dup[0]}")
    numeric = frame.apply(pd.to_numeric, errors="coerce")
    bad = numeric.isna() & frame.notna()
    if bad.to_numpy().any():
        gi, si = np.argwhere(bad.to_numpy())[0]
        raise InputError(f"non-numeric value {frame.iat[gi, si]!r}", path=path,
                         record=f"gene {frame.index[gi]}, sample {frame.columns[si]}")
    values = numeric.to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        miss = ~np.isfinite(values)
        gi, si = np.argwhere(miss)[0]
        raise InputError(
            f"{int(miss.sum())} missing or infinite values in {int(miss.any(axis=1).sum())} genes; "
            "GNET2 needs a complete matrix: impute them (e.g. k-nearest-neighbour imputation, "
            "sklearn.impute.KNNImputer) or drop those genes",
            path=path, record=f"gene {frame.index[gi]}, sample {frame.columns[si]}")
    if values.shape[1] < MIN_SAMPLES:
        raise InputError(
            f"{values.shape[1]} samples; at least {MIN_SAMPLES} are needed because the regulatory trees "
            "split samples into leaves of several samples each (if samples are in rows, pass "
            "--samples-in-rows)", path=path)
    if log_transform:
        if (values < 0).any():
            gi, si = np.argwhere(values < 0)[0]
            raise InputError("negative value where counts were expected (log transform asked for)",
                             path=path, record=f"gene {frame.index[gi]}, sample {frame.columns[si]}")
        values = np.log2(values + 1.0)
    return pd.DataFrame(values, index=frame.index, columns=frame.columns)


def _read_h5ad(path: Path) -> pd.DataFrame:
    try:
        import anndata
    except ImportError as err:  # optional dependency
        raise InputError("reading .h5ad needs the `anndata` package (pip install anndata), "
                         "or export the matrix as TSV", path=path) from err
    adata = anndata.read_h5ad(path)
    matrix = adata.X.toarray() if hasattr(adata.X, "toarray") else np.asarray(adata.X)
    return pd.DataFrame(matrix.T, index=adata.var_names, columns=adata.obs_names)


def read_regulators(path: str | Path) -> list[str]:
    """Regulator IDs, one per line (blank lines and ``#`` comments ignored; duplicates kept once)."""
    path = Path(path)
    if not path.exists():
        raise InputError("regulator list not found", path=path)
    out: list[str] = []
    seen: set[str] = set()
    for line in path.read_text().splitlines():
        name = line.split("#", 1)[0].strip()
        if not name:
            continue
        if "\t" in name or "," in name:
            name = name.replace(",", "\t").split("\t")[0].strip()
        if name in seen:
            log.warning("%s: regulator %s listed more than once", path, name)
            continue
        seen.add(name)
        out.append(name)
    if not out:
        raise InputError("the regulator list is empty", path=path)
    return out


def read_sample_labels(path: str | Path, samples: list[str]) -> pd.Series:
    """Sample labels from a two-column TSV/CSV (sample, label); every sample must have one."""
    path = Path(path)
    if not path.exists():
        raise InputError("sample label file not found", path=path)
    frame = pd.read_csv(path, sep=_separator(path), dtype=str)
    if frame.shape[1] < 2:
        raise InputError("expected two columns: sample, label", path=path)
    labels = pd.Series(frame.iloc[:, 1].to_numpy(), index=frame.iloc[:, 0].astype(str))
    missing = [s for s in samples if s not in labels.index]
    if missing:
        raise InputError(f"no label for {len(missing)} samples, e.g. {missing[:3]}", path=path,
                         record=f"sample {missing[0]}")
    return labels.loc[samples]


def top_variable(frame: pd.DataFrame, percent: float, keep: set[str]) -> pd.DataFrame:
    """Keep the ``percent`` % most variable genes, plus every gene in ``keep`` (the regulators)."""
    if not 0 < percent <= 100:
        raise InputError(f"top-variable percentage must be in (0, 100], got {percent}")
    var = frame.var(axis=1, ddof=1)
    n_keep = max(1, int(np.ceil(len(var) * percent / 100.0)))
    chosen = set(var.sort_values(ascending=False, kind="stable").index[:n_keep]) | (keep & set(frame.index))
    return frame.loc[[g for g in frame.index if g in chosen]]


def build_dataset(frame: pd.DataFrame, regulators: list[str], *, path: str | Path | None = None,
                  regulator_path: str | Path | None = None, top_percent: float | None = None) -> Dataset:
    """Split a genes x samples matrix into regulators and targets (as ``gnet()`` does).

    Genes with variance <= :data:`MIN_VARIANCE` are dropped first (GNET2 1.5.5 does the same);
    regulators missing from the matrix are reported. Raises :class:`InputError` when no regulator is
    present or no target gene is left.
    """
    if frame.shape[1] < MIN_SAMPLES:
        raise InputError(f"{frame.shape[1]} samples; at least {MIN_SAMPLES} are needed", path=path)
    present = set(frame.index)
    missing = [r for r in regulators if r not in present]
    if missing:
        log.warning("%d of %d regulators are not in the expression matrix: %s%s", len(missing),
                    len(regulators), ", ".join(missing[:10]), " ..." if len(missing) > 10 else "")
    regs = [r for r in regulators if r in present]
    if not regs:
        raise InputError(f"none of the {len(regulators)} regulators (e.g. {regulators[:3]}) is a gene ID "
                         f"of the expression matrix {path} (its IDs look like {list(frame.index[:3])})",
                         path=regulator_path)
    if top_percent is not None and top_percent < 100:
        frame = top_variable(frame, top_percent, set(regs))
    var = frame.var(axis=1, ddof=1)
    constant = var.index[var <= MIN_VARIANCE].tolist()
    if constant:
        log.warning("dropping %d genes with variance <= %g: %s", len(constant), MIN_VARIANCE,
                    ", ".join(constant[:10]))
        frame = frame.loc[var > MIN_VARIANCE]
    regs_kept = [r for r in regs if r in set(frame.index)]
    if not regs_kept:
        raise InputError("every regulator in the matrix has (near) zero variance", path=regulator_path)
    reg_set = set(regs_kept)
    targets = [g for g in frame.index if g not in reg_set and g not in set(regs)]
    if len(targets) < 2:
        raise InputError(f"only {len(targets)} target genes (genes that are not regulators) left", path=path)
    return Dataset(
        samples=list(frame.columns),
        regulators=regs_kept,
        regulator_expr=frame.loc[regs_kept].to_numpy(dtype=np.float64),
        targets=targets,
        target_expr=frame.loc[targets].to_numpy(dtype=np.float64),
        missing_regulators=missing,
        dropped_constant=constant,
    )


def load_dataset(expression: str | Path, regulators: str | Path, *, samples_in_rows: bool = False,
                 log_transform: bool = False, top_percent: float | None = None) -> Dataset:
    """Read and check the expression matrix and the regulator list (see :func:`build_dataset`)."""
    frame = read_expression(expression, samples_in_rows=samples_in_rows, log_transform=log_transform)
    return build_dataset(frame, read_regulators(regulators), path=expression, regulator_path=regulators,
                         top_percent=top_percent)
