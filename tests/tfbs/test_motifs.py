"""The FIMO-like motif scan: scores, p-values from the exact score distribution, strands, logos."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from pgml.tfbs.motifs import best_site, load_motif, motif_from_counts, plot_logos, pvalue, site_scores

#: a 2-bp motif: A at position 1, C at position 2 (10 sites each)
TWO = np.array([[10, 0], [0, 10], [0, 0], [0, 0]])


def test_pvalues_of_a_two_column_motif_by_hand() -> None:
    """Counts 10 / 0 with pseudocount 0.1 x 0.25: p(A at 1) = 10.025 / 10.1, other bases 0.025 / 10.1.

    The log-odds entries are then two values only, log2(0.9926 / 0.25) = 1.99 and
    log2(0.002475 / 0.25) = -6.66; scaled to [0, 1000], the consensus base scores 1000 and any other 0.
    So AC scores 2000, the 6 dimers with one consensus base (A. or .C) 1000 and the other 9 dimers 0.
    Under the uniform background: P(S >= 2000) = 1/16, P(S >= 1000) = 7/16, P(S >= 0) = 1.
    """
    motif = motif_from_counts("X", "two", TWO)
    np.testing.assert_array_equal(motif.scaled, [[1000, 0], [0, 1000], [0, 0], [0, 0]])
    assert pvalue(motif, 2000) == pytest.approx(1 / 16)
    assert pvalue(motif, 1000) == pytest.approx(7 / 16)
    assert pvalue(motif, 1) == pytest.approx(7 / 16)
    assert pvalue(motif, 0) == pytest.approx(1.0)
    # against enumeration of all 16 dimers
    for a, b in itertools.product("ACGT", repeat=2):
        fwd, _ = site_scores(motif, a + b)
        n_ge = sum(site_scores(motif, c + d)[0][0] >= fwd[0] for c, d in itertools.product("ACGT", repeat=2))
        assert pvalue(motif, int(fwd[0])) == pytest.approx(n_ge / 16)


def test_best_site_reads_both_strands() -> None:
    motif = motif_from_counts("X", "two", TWO)
    # GT is the reverse complement of AC: the hit is on the minus strand, written as AC
    p, start, strand, site = best_site(motif, "TTGTTT")
    assert (start, strand, site) == (2, "-", "AC") and p == pytest.approx(1 / 16)
    assert best_site(motif, "TTACTT")[1:3] == (2, "+")
    # sites with N never score
    fwd, rev = site_scores(motif, "ANC")
    assert list(fwd) == [-1, -1] and pvalue(motif, -1) == 1.0
    # a window restricted to starts 3..4 misses the site at 2
    assert best_site(motif, "TTACTT", 3, 5)[0] > 0.4


def test_ctcf_consensus_is_a_hit_and_random_sequence_rarely() -> None:
    motif = load_motif("MA0139.1")
    assert motif.name == "CTCF" and motif.width == 19
    consensus = "".join("ACGT"[i] for i in motif.counts.argmax(0))
    p, start, strand, _ = best_site(motif, "A" * 10 + consensus + "A" * 10)
    assert start == 10 and strand == "+" and p < 1e-8
    # p-values are calibrated: sites of random sequence reach p < 1e-3 about 1 time in 1,000
    rng = np.random.default_rng(0)
    seq = "".join(rng.choice(list("ACGT"), size=200_000))
    fwd, _ = site_scores(motif, seq)
    p_all = motif.tail[fwd]
    assert np.mean(p_all < 1e-3) == pytest.approx(1e-3, rel=0.3)
    assert math.isclose(float(motif.tail[0]), 1.0)


def test_logos_are_written(tmp_path: Path) -> None:
    motif = motif_from_counts("X", "two", TWO)
    plot_logos(motif, ["AC", "AC", "AG"], tmp_path / "logos" / "two.png")
    plot_logos(motif, [], tmp_path / "logos" / "none.png")
    assert (tmp_path / "logos" / "two.png").stat().st_size > 1000
    assert (tmp_path / "logos" / "none.png").stat().st_size > 1000
    assert sorted(p.name for p in (tmp_path / "logos").iterdir()) == ["none.png", "two.png"]


def test_bins_with_a_dnase_peak(tmp_path: Path) -> None:
    import pandas as pd
    import pyBigWig

    from pgml.tfbs.explain import bins_without_dnase_peak, dnase_peak_bins

    # 1 x coverage everywhere, 10 x on [1000, 1050): bins starting at 850..1000 (step 50) reach it
    path = tmp_path / "d.bw"
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader([("chr1", 5000)])
    bw.addEntries(["chr1", "chr1", "chr1"], [0, 1000, 1050], ends=[1000, 1050, 5000], values=[1.0, 10.0, 1.0])
    bw.close()
    frame = pd.DataFrame({"chrom": "chr1", "start": [800, 850, 1000, 1050, 3000], "ensemble": [0.9, 0.8, 0.7, 0.6, 0.5]})
    sizes = {"chr1": 5000}
    # mean coverage (1000 x 1 + 50 x 10 + 3950 x 1) / 5000 = 1.09; a peak needs 5 x 1.09 = 5.45
    assert dnase_peak_bins(frame, str(path), sizes).tolist() == [False, True, True, False, False]
    peaks = pd.DataFrame({"chrom": ["chr1"], "start": [2950], "end": [3001]})
    assert dnase_peak_bins(frame, str(path), sizes, peaks).tolist() == [False, False, False, False, True]
    top = bins_without_dnase_peak(frame, 2, str(path), sizes)
    assert top["start"].tolist() == [800, 1050]
