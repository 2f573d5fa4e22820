"""Published weights by name, pinned by sha256: the real files (../shared/data) served in GitHub's layout."""

from __future__ import annotations

from pathlib import Path

import pytest
from fetch_server import FAST, fake_server, no_internet, pgml_cache  # noqa: F401 (fixtures)

from pgml.cli import main
from pgml.fetch.weights import WEIGHTS

PUBLISHED = Path(__file__).resolve().parents[3] / "shared" / "data" / "published_models"


def test_every_published_file_is_named_with_its_sha256() -> None:
    assert {w.family for w in WEIGHTS.values()} == {"deepgrn", "enqa"}
    assert len(WEIGHTS) == 13 and all(len(w.sha256) == 64 for w in WEIGHTS.values())
    sums = PUBLISHED / "SHA256SUMS"
    if sums.exists():  # the pins are the shared copies' sums
        listed = dict(reversed(line.split()) for line in sums.read_text().splitlines() if line.strip())
        assert {w.key: w.sha256 for w in WEIGHTS.values()} == listed


def test_unknown_name_lists_the_known_ones(cache, tmp_path: Path, capsys) -> None:
    assert main(["fetch", "weights", "--ids", "deepgrn:CTCF_single", "--output-dir", str(tmp_path / "w")]) == 2
    err = capsys.readouterr().err
    assert "deepgrn:CTCF_single" in err and "deepgrn:MAX_single" in err and "enqa:EGNN_Full" in err


def test_a_file_that_is_not_the_published_one_is_refused(server, cache, tmp_path: Path, capsys) -> None:
    w = WEIGHTS["enqa:EGNN_Full"]
    server.file(f"/{w.repo}/{w.commit}/{w.path}", b"PK\x03\x04 not the authors' weights")
    code = main(["fetch", "weights", "--ids", "enqa:EGNN_Full", "--output-dir", str(tmp_path / "w"),
                 "--base-url", server.url, *FAST])
    assert code == 3 and "sha256" in capsys.readouterr().err and not (tmp_path / "w").exists()


@pytest.mark.shared_data
@pytest.mark.skipif(not PUBLISHED.is_dir(), reason="../shared/data/published_models absent")
def test_published_weights_arrive_by_name(server, cache, tmp_path: Path) -> None:
    for w in WEIGHTS.values():
        server.file(f"/{w.repo}/{w.commit}/{w.path}", (PUBLISHED / w.key).read_bytes())
    code = main(["fetch", "weights", "--ids", *WEIGHTS, "--output-dir", str(tmp_path / "w"),
                 "--base-url", server.url, *FAST])
    assert code == 0
    for w in WEIGHTS.values():
        assert (tmp_path / "w" / Path(w.path).name).read_bytes() == (PUBLISHED / w.key).read_bytes()
    gets = sorted(r[1] for r in server.gets())
    assert "/jianlin-cheng/DeepGRN/ac8d98d51258d1db5e2b2aa02d3b9ae2964f46c3/example/models/MAX_single.h5" in gets
    assert "/BioinfoMachineLearning/EnQA/b540a46022a143ab73719e9fd55152e6c1a09dec/models/egnn_ne.tar" in gets
