"""Input reading and bad-input errors of the grn chain (pgml.grn.data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pgml.errors import InputError
from pgml.grn.data import build_dataset, load_dataset, read_expression, read_regulators, top_variable


def _write(tmp_path, frame: pd.DataFrame, name: str = "expr.tsv", sep: str = "\t"):
    path = tmp_path / name
    frame.to_csv(path, sep=sep, index_label="gene")
    return path


def _frame(n_genes: int = 8, n_samples: int = 12, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(size=(n_genes, n_samples)),
                        index=[f"TF{i}" for i in range(3)] + [f"g{i}" for i in range(n_genes - 3)],
                        columns=[f"s{i}" for i in range(n_samples)])


def test_nan_gives_clear_error_suggesting_imputation(tmp_path):
    frame = _frame()
    frame.iloc[4, 2] = np.nan
    path = _write(tmp_path, frame)
    with pytest.raises(InputError) as err:
        read_expression(path)
    msg = str(err.value)
    assert "impute" in msg and str(path) in msg and "gene g1" in msg and "sample s2" in msg


def test_too_few_samples(tmp_path):
    path = _write(tmp_path, _frame(n_samples=8))
    with pytest.raises(InputError, match="8 samples; at least 10"):
        read_expression(path)


def test_duplicate_gene_ids(tmp_path):
    frame = _frame()
    frame.index = ["TF0", "TF1", "TF2", "g0", "g1", "g1", "g3", "g4"]
    path = _write(tmp_path, frame)
    with pytest.raises(InputError, match="duplicate gene IDs.*g1"):
        read_expression(path)


def test_no_regulator_present(tmp_path):
    reg = tmp_path / "regs.txt"
    reg.write_text("FOO\nBAR\n")
    path = _write(tmp_path, _frame())
    with pytest.raises(InputError, match="none of the 2 regulators"):
        load_dataset(path, reg)


def test_non_numeric_value(tmp_path):
    path = tmp_path / "bad.csv"
    frame = _frame().astype(object)
    frame.iloc[1, 3] = "n/a?"
    frame.to_csv(path, index_label="gene")
    with pytest.raises(InputError, match="non-numeric value"):
        read_expression(path)


def test_missing_regulators_are_reported_not_dropped_silently(tmp_path, caplog):
    reg = tmp_path / "regs.txt"
    reg.write_text("TF0\nTF1\n# comment\nNOPE\n\nTF1\n")
    assert read_regulators(reg) == ["TF0", "TF1", "NOPE"]
    ds = load_dataset(_write(tmp_path, _frame()), reg)
    assert ds.regulators == ["TF0", "TF1"]
    assert ds.missing_regulators == ["NOPE"]
    assert "TF2" in ds.targets and "TF0" not in ds.targets
    assert "NOPE" in caplog.text


def test_samples_in_rows_csv_and_log_transform(tmp_path):
    frame = _frame().abs() * 100
    path = tmp_path / "t.csv.gz"
    frame.T.to_csv(path, index_label="sample")
    out = read_expression(path, samples_in_rows=True, log_transform=True)
    np.testing.assert_allclose(out.to_numpy(), np.log2(frame.to_numpy() + 1))
    assert list(out.index) == list(frame.index)


def test_top_variable_keeps_regulators():
    frame = _frame(n_genes=13)
    frame.iloc[5:] *= 10  # g2..g9 have high variance
    kept = top_variable(frame, 50, {"TF0"})  # ceil(13 * 50%) = 7 genes, plus the regulator
    assert "TF0" in kept.index and len(kept) == 8
    assert set(kept.index) - {"TF0"} <= {f"g{i}" for i in range(2, 10)}


def test_constant_genes_dropped():
    frame = _frame()
    frame.iloc[5] = 1.0
    ds = build_dataset(frame, ["TF0", "TF1"])
    assert "g2" in ds.dropped_constant and "g2" not in ds.targets


def test_h5ad_is_read_as_genes_by_samples(tmp_path):
    """AnnData stores samples x genes (obs x var); the reader transposes to genes x samples."""
    import anndata

    frame = _frame()
    adata = anndata.AnnData(X=frame.to_numpy().T, obs=pd.DataFrame(index=frame.columns.astype(str)),
                            var=pd.DataFrame(index=frame.index.astype(str)))
    path = tmp_path / "x.h5ad"
    adata.write_h5ad(path)
    out = read_expression(path)
    pd.testing.assert_frame_equal(out, frame, check_names=False)


def test_h5ad_without_anndata_is_a_clear_error(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "anndata", None)  # import fails
    path = tmp_path / "x.h5ad"
    path.write_bytes(b"")
    with pytest.raises(InputError, match="anndata"):
        read_expression(path)
