"""pgml.tables: atomic TSV writing and checked reading."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pgml.errors import InputError
from pgml.tables import read_tsv, write_tsv


def test_write_then_read(tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": ["0001", "0002"], "value": [1.234567, float("nan")], "n": [3, 4]})
    path = write_tsv(frame, tmp_path / "sub" / "t.tsv", float_format="%.3f")
    assert path == tmp_path / "sub" / "t.tsv"
    assert path.read_text() == "id\tvalue\tn\n0001\t1.235\t3\n0002\t\t4\n"  # no index, NaN as empty
    assert [p.name for p in path.parent.iterdir()] == ["t.tsv"]  # no temporary left behind
    back = read_tsv(path, required_columns=("id", "n"), dtype={"id": str})
    assert back["id"].tolist() == ["0001", "0002"]
    assert back["value"].iloc[0] == pytest.approx(1.235) and pd.isna(back["value"].iloc[1])


def test_full_precision_by_default(tmp_path: Path) -> None:
    write_tsv(pd.DataFrame({"x": [0.1 + 0.2]}), tmp_path / "t.tsv")
    assert (tmp_path / "t.tsv").read_text() == "x\n0.30000000000000004\n"


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    class Broken(pd.DataFrame):
        def to_csv(self, *args, **kwargs):  # type: ignore[override]
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_tsv(Broken({"a": [1]}), tmp_path / "t.tsv")
    assert list(tmp_path.iterdir()) == []


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.tsv: file not found"):
        read_tsv(tmp_path / "nope.tsv")


def test_missing_columns_named(tmp_path: Path) -> None:
    (tmp_path / "t.tsv").write_text("a\tb\n1\t2\n")
    with pytest.raises(InputError) as err:
        read_tsv(tmp_path / "t.tsv", required_columns=("a", "target", "score"))
    message = str(err.value)
    assert str(tmp_path / "t.tsv") in message
    assert "header: missing column(s) target, score (columns present: a, b)" in message


def test_directory_and_table_name_in_messages(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"is a directory, not a split file"):
        read_tsv(tmp_path, what="split file")
    with pytest.raises(InputError, match=r"absent\.tsv: split file not found"):
        read_tsv(tmp_path / "absent.tsv", what="split file")


@pytest.mark.parametrize(
    ("text", "dtype", "match"),
    [
        ("", None, "empty"),
        ("a\tb\n1\t2\n3\t4\t5\n", None, "cannot parse"),
        ("a\tb\nx\t2\n", {"a": int}, "cannot parse"),
    ],
    ids=["empty", "ragged", "dtype"],
)
def test_parse_errors_name_the_file(tmp_path: Path, text: str, dtype: object, match: str) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text(text)
    with pytest.raises(InputError, match=match) as err:
        read_tsv(path, dtype=dtype)
    assert str(path) in str(err.value)
