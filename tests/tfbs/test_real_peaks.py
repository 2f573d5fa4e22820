"""Labels of real ENCODE-DREAM peaks (../shared/data/tfbs) against bedtools intersect on the same bins."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pgml.tfbs.bins import bin_genome, bin_starts
from pgml.tfbs.labels import label_bins

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tfbs"
PEAKS = DATA / "narrowPeak"
CONS = PEAKS / "ChIPseq.HepG2.REST.conservative.train.narrowPeak.gz"
RELAX = PEAKS / "ChIPseq.HepG2.REST.relaxed.narrowPeak.gz"


@pytest.mark.shared_data
@pytest.mark.skipif(not CONS.exists() or not RELAX.exists(), reason="../shared/data/tfbs is absent")
@pytest.mark.skipif(shutil.which("bedtools") is None, reason="bedtools not on PATH")
def test_real_labels_equal_bedtools_on_chr11(tmp_path: Path) -> None:
    length = 20_000_000  # the first 20 Mb of chr11 keep the test short
    bins = bin_genome({"chr11": length}, None, None)
    labels = label_bins(bins, "REST", [("HepG2", CONS, RELAX)]).matrix["chr11"][:, 0]
    starts = bin_starts(length)
    bed = tmp_path / "bins.bed"
    pd.DataFrame({"c": "chr11", "s": starts, "e": starts + 200}).to_csv(bed, sep="\t", header=False, index=False)

    def hit(peaks: Path) -> np.ndarray:
        out = subprocess.run(["bedtools", "intersect", "-u", "-a", str(bed), "-b", str(peaks)], check=True,
                             capture_output=True, text=True).stdout
        mask = np.zeros(starts.size, dtype=bool)
        mask[np.array([int(line.split("\t")[1]) // 50 for line in out.splitlines()], dtype=np.int64)] = True
        return mask

    bound, relaxed = hit(CONS), hit(RELAX)
    assert bound.sum() > 100
    np.testing.assert_array_equal(labels == 1, bound)
    np.testing.assert_array_equal(labels == -1, relaxed & ~bound)


@pytest.mark.shared_data
@pytest.mark.skipif(not CONS.exists(), reason="../shared/data/tfbs is absent")
def test_real_peaks_with_a_track_line_label_the_same_and_a_truncated_copy_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import gzip

    from pgml.cli import main

    blob = gzip.decompress(CONS.read_bytes())
    headed = tmp_path / "headed.narrowPeak.gz"
    headed.write_bytes(gzip.compress(b'track type=narrowPeak name="REST HepG2"\nbrowser hide all\n' + blob))
    bins = bin_genome({"chr11": 5_000_000}, None, None)
    plain = label_bins(bins, "REST", [("HepG2", CONS, CONS)]).matrix["chr11"]
    np.testing.assert_array_equal(label_bins(bins, "REST", [("HepG2", headed, headed)]).matrix["chr11"], plain)
    assert (plain == 1).sum() > 10
    truncated = tmp_path / "truncated.narrowPeak.gz"
    truncated.write_bytes(CONS.read_bytes()[: CONS.stat().st_size // 2])
    bins.save(tmp_path / "bins.npz")
    status = main(["tfbs", "label-bins", "--bins", str(tmp_path / "bins.npz"), "--tf", "REST", "--peaks",
                   f"HepG2={truncated},{CONS}", "--output", str(tmp_path / "out" / "l.npz"), "--counts",
                   str(tmp_path / "out" / "c.tsv")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and "truncated.narrowPeak.gz: truncated or corrupt gzip file" in err[0]
    assert not (tmp_path / "out").exists()
