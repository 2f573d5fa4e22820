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

The separator of a text table is taken from its header line, not only from its suffix: a ``.tsv`` that
is really comma- or semicolon-separated (or a ``.csv`` with tabs or semicolons) is read with the
separator found there, with a warning.

Near-constant genes are dropped with a scale-free rule: variance at most :data:`MIN_RELATIVE_VARIANCE`
times the median gene variance (GNET2's fixed ``var > 1e-4`` for data whose median gene variance is 1,
such as standardised log2 expression). Multiplying the whole matrix by a constant therefore drops the
same genes.
"""

from __future__ import annotations

import gzip
import logging
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.errors import InputError

log = logging.getLogger(__name__)

#: Fewest samples the method accepts: trees need room for leaves of ``min_divide_size`` (3) samples.
MIN_SAMPLES = 10
#: Genes with variance at or below this fraction of the median gene variance are dropped before
#: fitting (``gnet()`` drops var <= 1e-4 in absolute terms; a relative bound makes it scale-free).
MIN_RELATIVE_VARIANCE = 1e-4
#: Values beyond this magnitude overflow float64 when squared (variances, likelihoods).
MAX_ABS_VALUE = 1e150
#: separators a text table may use, by name for messages
SEPARATORS = {"\t": "tab", ",": "comma", ";": "semicolon"}


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
    """The separator the suffix promises: comma for ``.csv(.gz)``, tab otherwise."""
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    return "," if suffixes and suffixes[-1] == ".csv" else "\t"


def _first_line(path: Path) -> str:
    """The first non-blank line of a text file (gzipped or not); InputError if unreadable."""
    try:
        with path.open("rb") as raw:
            head = raw.read(2)
        opener = gzip.open if head == b"\x1f\x8b" else open
        with opener(path, "rt", encoding="utf-8", newline="") as fh:
            for line in fh:
                if line.strip():
                    return line.rstrip("\r\n")
    except IsADirectoryError:
        raise InputError("is a directory, not a table", path=path) from None
    except (EOFError, OSError, zlib.error) as err:
        raise InputError(f"truncated or corrupt gzip stream ({err})", path=path) from None
    except UnicodeDecodeError:
        raise InputError("binary content, not a text table", path=path) from None
    return ""


def sniff_separator(path: Path) -> str:
    """The separator of a text table: the suffix's (:func:`_separator`) if the header line holds it,
    else the one of tab, comma, semicolon that the header line does hold (with a warning)."""
    expected = _separator(path)
    header = _first_line(path)
    if not header or expected in header:
        return expected
    counts = {sep: header.count(sep) for sep in SEPARATORS if sep != expected}
    found = max(counts, key=lambda k: counts[k])
    if counts[found] == 0:
        return expected
    log.warning("%s: the header has no %s but %d %s(s): reading it as %s-separated", path,
                SEPARATORS[expected], counts[found], SEPARATORS[found], SEPARATORS[found])
    return found


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
    if path.is_dir():
        raise InputError("is a directory, not an expression matrix", path=path)
    sep = None
    if path.suffix.lower() == ".h5ad":
        frame = _read_h5ad(path)
    else:
        sep = sniff_separator(path)
        try:
            frame = pd.read_csv(path, sep=sep, index_col=0)
        except (EOFError, zlib.error, gzip.BadGzipFile) as err:
            raise InputError(f"truncated or corrupt gzip stream ({err})", path=path) from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as err:
            raise InputError(f"cannot parse as a table: {err}", path=path) from None
        header = _first_line(path).split(sep)[1:]
        if len(header) == frame.shape[1]:
            frame.columns = [h.strip().strip('"') for h in header]  # pandas renames duplicates to S.1
        if samples_in_rows:
            frame = frame.T
    frame.index = frame.index.astype(str)
    frame.columns = frame.columns.astype(str)
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        what = "no gene rows" if frame.shape[0] == 0 else "no sample columns"
        hint = ""
        if sep is not None:
            others = [n for c, n in SEPARATORS.items() if c != sep and c in _first_line(path)]
            hint = (f"; read as {SEPARATORS[sep]}-separated" + (f", but the header holds {', '.join(others)}"
                                                                 if others else ""))
        raise InputError(f"the expression matrix is empty ({what}{hint})", path=path)
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
        value = frame.iat[gi, si]
        hint = ""
        if isinstance(value, str) and "," in value and value.replace(",", "", 1).lstrip("-").isdigit():
            hint = " (a decimal comma? write numbers with a decimal point)"
        raise InputError(f"non-numeric value {value!r}{hint}", path=path,
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
    if (np.abs(values) > MAX_ABS_VALUE).any():
        gi, si = np.argwhere(np.abs(values) > MAX_ABS_VALUE)[0]
        raise InputError(f"value {values[gi, si]:.3g} is too large (beyond {MAX_ABS_VALUE:g}, its square "
                         "overflows); rescale the matrix (e.g. log2)", path=path,
                         record=f"gene {frame.index[gi]}, sample {frame.columns[si]}")
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
    try:
        adata = anndata.read_h5ad(path)
    except (OSError, KeyError, ValueError) as err:
        raise InputError(f"not a readable AnnData .h5ad file ({type(err).__name__}: {err})", path=path) from None
    matrix = adata.X.toarray() if hasattr(adata.X, "toarray") else np.asarray(adata.X)
    return pd.DataFrame(matrix.T, index=adata.var_names, columns=adata.obs_names)


def read_regulators(path: str | Path) -> list[str]:
    """Regulator IDs, one per line (blank lines and ``#`` comments ignored; duplicates kept once)."""
    path = Path(path)
    if not path.exists():
        raise InputError("regulator list not found", path=path)
    if path.is_dir():
        raise InputError("is a directory, not a regulator list", path=path)
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise InputError("binary content, not a text list of regulator IDs", path=path) from None
    out: list[str] = []
    seen: set[str] = set()
    for line in text.splitlines():
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
    if path.is_dir():
        raise InputError("is a directory, not a sample label table", path=path)
    try:
        frame = pd.read_csv(path, sep=sniff_separator(path), dtype=str)
    except pd.errors.EmptyDataError:
        raise InputError("empty file; expected two columns: sample, label", path=path) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise InputError(f"cannot parse as a table: {err}", path=path) from None
    if frame.shape[1] < 2:
        raise InputError("expected two columns: sample, label", path=path)
    labels = pd.Series(frame.iloc[:, 1].to_numpy(), index=frame.iloc[:, 0].astype(str))
    dup = labels.index[labels.index.duplicated()].unique().tolist()
    if dup:
        raise InputError(f"sample {dup[0]!r} has more than one label row", path=path, record=f"sample {dup[0]}")
    empty = labels.index[labels.isna()].intersection(samples).tolist()
    if empty:
        raise InputError("empty label", path=path, record=f"sample {empty[0]}")
    missing = [s for s in samples if s not in labels.index]
    if missing:
        raise InputError(f"no label for {len(missing)} samples, e.g. {missing[:3]}", path=path,
                         record=f"sample {missing[0]}")
    labels = labels.loc[samples]
    if labels.nunique() < 2:
        raise InputError(f"every sample has the label {labels.iloc[0]!r}; coherence needs at least two labels",
                         path=path)
    return labels


def top_variable(frame: pd.DataFrame, percent: float, keep: set[str]) -> pd.DataFrame:
    """Keep the ``percent`` % most variable genes, plus every gene in ``keep`` (the regulators)."""
    if not 0 < percent <= 100:
        raise InputError(f"top-variable percentage must be in (0, 100], got {percent}")
    var = frame.var(axis=1, ddof=1)
    n_keep = max(1, int(np.ceil(len(var) * percent / 100.0)))
    chosen = set(var.sort_values(ascending=False, kind="stable").index[:n_keep]) | (keep & set(frame.index))
    return frame.loc[[g for g in frame.index if g in chosen]]


def min_variance(variances: np.ndarray) -> float:
    """Variance at or below which a gene counts as constant: :data:`MIN_RELATIVE_VARIANCE` x the
    median of the non-zero gene variances (0 when every gene is constant). Scale-free: multiplying
    the matrix by c multiplies the bound by c^2."""
    positive = variances[np.isfinite(variances) & (variances > 0)]
    return float(MIN_RELATIVE_VARIANCE * np.median(positive)) if positive.size else 0.0


def build_dataset(frame: pd.DataFrame, regulators: list[str], *, path: str | Path | None = None,
                  regulator_path: str | Path | None = None, top_percent: float | None = None) -> Dataset:
    """Split a genes x samples matrix into regulators and targets (as ``gnet()`` does).

    Near-constant genes (variance <= :data:`MIN_RELATIVE_VARIANCE` x the median gene variance, the
    scale-free form of GNET2 1.5.5's var <= 1e-4) are dropped first; regulators missing from the
    matrix are reported. Raises :class:`InputError` when no regulator is
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
    if top_percent is not None and not top_percent >= 100:  # NaN goes to top_variable, which refuses it
        frame = top_variable(frame, top_percent, set(regs))
    var = frame.var(axis=1, ddof=1)
    bound = min_variance(var.to_numpy())
    constant = var.index[var <= bound].tolist()
    if constant:
        log.warning("dropping %d near-constant genes (variance <= %.3g, %g x the median gene variance): %s",
                    len(constant), bound, MIN_RELATIVE_VARIANCE, ", ".join(constant[:10]))
        frame = frame.loc[var > bound]
    if frame.shape[0] == 0:
        raise InputError("every gene is constant across the samples", path=path)
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


def standardise_rows(a: np.ndarray) -> np.ndarray:
    """Rows centred and scaled to unit standard deviation (constant rows become zeros), in float64."""
    a = np.asarray(a, dtype=np.float64)
    centred = a - a.mean(axis=1, keepdims=True)
    sd = centred.std(axis=1, keepdims=True)
    return np.divide(centred, sd, out=np.zeros_like(centred), where=sd > 0)
