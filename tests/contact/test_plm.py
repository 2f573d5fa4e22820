"""PLM couplings: a two-site model with a known coupling, APC on a hand-computed matrix, plmc's DHFR."""

from __future__ import annotations

import gzip
import itertools

import numpy as np
import pytest
from conftest import REPO

from pgml.contact.plm import apc, fit_plm, frobenius_scores

SHARED_MSA = REPO.parent / "shared" / "data" / "contact" / "msa"


def test_apc_on_a_hand_computed_matrix() -> None:
    s = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.0, 3.0, 0.0]])
    # off-diagonal row means 1.5, 2, 2.5; overall mean 2
    expected = np.array([[0.0, 1.0 - 1.5 * 2 / 2, 2.0 - 1.5 * 2.5 / 2],
                         [1.0 - 2 * 1.5 / 2, 0.0, 3.0 - 2 * 2.5 / 2],
                         [2.0 - 2.5 * 1.5 / 2, 3.0 - 2.5 * 2 / 2, 0.0]])
    np.testing.assert_allclose(apc(s), expected)


def test_two_site_model_recovers_its_coupling() -> None:
    # P(x1, x2) ∝ exp(J(x1, x2)) over states A (0) and R (1): J(A,A) = J(R,R) = 0.5, J(A,R) = J(R,A) = -0.5;
    # the gauge-free coupling J_AA + J_RR - J_AR - J_RA is the log odds ratio, 2.0. The four states are
    # weighted by their exact probabilities (x 20,000), so the pseudo-likelihood optimum is the truth.
    states = np.array(list(itertools.product([0, 1], repeat=2)), dtype=np.uint8)
    energy = np.where(states[:, 0] == states[:, 1], 0.5, -0.5)
    p = np.exp(energy) / np.exp(energy).sum()
    fit = fit_plm(states, 20000 * p, max_iter=200)
    J = fit.J[0, 1]
    assert J[0, 0] + J[1, 1] - J[0, 1] - J[1, 0] == pytest.approx(2.0, abs=0.05)
    np.testing.assert_allclose(fit.J[1, 0], fit.J[0, 1].T, atol=1e-6)
    assert np.all(fit.J[0, 0] == 0)


def test_plm_finds_the_coupled_pair_among_independent_sites() -> None:
    rng = np.random.default_rng(0)
    n = 600
    msa = rng.integers(0, 4, size=(n, 6)).astype(np.uint8)
    msa[:, 4] = np.where(rng.random(n) < 0.9, msa[:, 1], rng.integers(0, 4, n))
    scores = apc(frobenius_scores(fit_plm(msa, np.ones(n), max_iter=50).J))
    i, j = np.unravel_index(np.argmax(np.triu(scores, 1)), scores.shape)
    assert (i, j) == (1, 4)


@pytest.mark.shared_data
@pytest.mark.slow
def test_agrees_with_plmc_on_dhfr() -> None:
    from pgml.contact.alignment import read_alignment
    from pgml.contact.weights import sequence_weights

    folder = SHARED_MSA / "plmc_DHFR_ECOLI"
    if not folder.is_dir():
        pytest.skip(f"{folder} absent")
    aln = read_alignment(folder / "DHFR.a2m.gz")
    fit = fit_plm(aln.msa, sequence_weights(aln.msa), max_iter=30)
    scores = apc(frobenius_scores(fit.J))
    # plmc numbers the a2m's columns; ours are the query's upper-case columns
    text = gzip.decompress((folder / "DHFR.a2m.gz").read_bytes()).decode()
    query = "".join(text.split(">")[1].splitlines()[1:])
    column = {k + 1: m for m, k in enumerate(k for k, c in enumerate(query) if c.isupper())}
    ref = np.loadtxt(folder / "DHFR.couplings.reference.gz", usecols=(0, 2, 5))
    i = np.array([column[int(v)] for v in ref[:, 0]])
    j = np.array([column[int(v)] for v in ref[:, 1]])
    assert np.corrcoef(scores[i, j], ref[:, 2])[0, 1] > 0.95


def _homologues(n: int, length: int = 30, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    query = rng.choice(list("ARNDCQEGHILKMFPSTWYV"), length)
    rows = [query] + [np.where(rng.random(length) < 0.4, rng.choice(list("ARNDCQEGHILKMFPSTWYV"), length), query)
                      for _ in range(n)]
    return "".join(f">s{k}\n{''.join(row)}\n" for k, row in enumerate(rows))


def test_memory_estimate_refuses_a_1500_column_alignment(tmp_path, monkeypatch, capsys) -> None:
    """(5 + 2 x 5) x 4 x (21 x 1500)^2 bytes = 55.4 GiB, refused on a 12 GiB machine before any allocation."""
    from pgml.cli import main
    from pgml.contact.plm import max_plm_length, plm_memory

    assert plm_memory(1500, 5) == 15 * 4 * (21 * 1500) ** 2
    assert plm_memory(max_plm_length(12 * 1024 ** 3, 1), 1) <= 12 * 1024 ** 3 < plm_memory(
        max_plm_length(12 * 1024 ** 3, 1) + 1, 1)
    monkeypatch.setenv("PGML_MEMORY_LIMIT", "12G")
    path = tmp_path / "long.aln"
    rng = np.random.default_rng(0)
    path.write_text("".join("".join(rng.choice(list("ACDEFGHIKL"), 1500)) + "\n" for _ in range(4)))
    assert main(["contact", "plm", "--alignments", str(path), "--output-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "PLM couplings of 1500 columns need about 55.4 GiB, more than the 12.0 GiB available" in err
    assert "--history" in err and not (tmp_path / "out").exists()


def test_a_refused_alignment_in_a_shard_leaves_no_output(tmp_path, caplog) -> None:
    """The shard is checked before any fit: a one-sequence alignment after a good one writes nothing."""
    from pgml.cli import main

    good, bad = tmp_path / "good.a3m", tmp_path / "bad.a3m"
    good.write_text(_homologues(20))
    bad.write_text(_homologues(0))
    argv = ["contact", "plm", "--alignments", str(good), str(bad), "--output-dir", str(tmp_path / "out"),
            "--max-iter", "2", "--device", "cpu"]
    assert main(argv) == 2
    assert not (tmp_path / "out").exists()
    assert main(argv[:4] + argv[5:]) == 0
    assert "good.a3m: shallow alignment, 21 sequences, Neff" in caplog.text
    with np.load(tmp_path / "out" / "good.npz") as data:
        assert np.isfinite(data["apc"]).all() and data["apc"].shape == (30, 30)
