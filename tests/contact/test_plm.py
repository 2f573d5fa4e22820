"""PLM couplings: a two-site model with a known coupling, APC on a hand-computed matrix, plmc's DHFR; the fused
objective and gradient against autograd, the fused fit against the first (autograd) implementation."""

from __future__ import annotations

import gzip
import itertools

import numpy as np
import pytest
import torch
from conftest import REPO

from pgml.contact.plm import PseudoLikelihood, apc, fit_plm, fit_plm_autograd, frobenius_scores
from pgml.contact.plm_fused import FusedObjective, fused_plm_bytes

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
    """The fused fit's estimate for 1,500 columns (35.3 GiB) is refused on a 12 GiB machine before any allocation."""
    from pgml.cli import main
    from pgml.contact.plm import max_plm_length, plm_memory

    d, half = 21 * 1500, 21 * 1500 + 1500 * 1499 // 2 * 441  # couplings + gradient, optimiser's half-size vectors
    assert plm_memory(1500, 5) == 4 * (2 * d * d + 15 * half + 3 * 512 * d)
    assert plm_memory(max_plm_length(12 * 1024 ** 3, 1), 1) <= 12 * 1024 ** 3 < plm_memory(
        max_plm_length(12 * 1024 ** 3, 1) + 1, 1)
    monkeypatch.setenv("PGML_MEMORY_LIMIT", "12G")
    path = tmp_path / "long.aln"
    rng = np.random.default_rng(0)
    path.write_text("".join("".join(rng.choice(list("ACDEFGHIKL"), 1500)) + "\n" for _ in range(4)))
    assert main(["contact", "plm", "--alignments", str(path), "--output-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "PLM couplings of 1500 columns need about 35.3 GiB, more than the 12.0 GiB available" in err
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


def test_fused_objective_and_gradient_equal_autograd() -> None:
    # random parameters, random weighted sequences, chunks that do not divide N: the hand-written gradient
    # (plm_fused's docstring) must equal autograd's of the same objective, d/dJ_ij = G_ij + G_ji^T for i < j
    rng = np.random.default_rng(1)
    n, length, q = 50, 6, 21
    x = torch.as_tensor(rng.integers(0, q, size=(n, length)))
    w = torch.as_tensor(rng.random(n) + 0.5, dtype=torch.float32)
    fused = FusedObjective(x, w, q, lambda_single=0.01, lambda_pair=1.0, chunk=16)
    theta = torch.as_tensor(rng.normal(scale=0.1, size=fused.size), dtype=torch.float32)
    grad = torch.empty_like(theta)
    value = fused(theta, grad)
    model = PseudoLikelihood(length, q, lambda_single=0.01, lambda_pair=1.0)
    with torch.no_grad():
        model.h.copy_(fused.split(theta)[0])
        model.w.copy_(fused.couplings)
    loss = model.neg_log_pl(x, w, model.w) + model.penalty(model.w)
    loss.backward()
    assert value == pytest.approx(float(loss.detach()), rel=1e-5)
    i, j = fused.pairs
    full = model.w.grad + model.w.grad.T
    np.testing.assert_allclose(fused.split(grad)[0], model.h.grad, atol=1e-5)
    np.testing.assert_allclose(fused.split(grad)[1], fused.blocks(full)[i, j], atol=1e-5)
    # the symmetric matrix it loads: J_ji = J_ij^T, zero diagonal blocks
    blocks = fused.blocks(fused.couplings)
    np.testing.assert_array_equal(blocks[1, 4], blocks[4, 1].T)
    assert torch.all(blocks[2, 2] == 0)


def simulated_msa(length: int = 24, n: int = 300, seed: int = 0) -> np.ndarray:
    """Gibbs samples of a Potts model with couplings on a random compact chain's contacts."""
    from test_contact_learning import compact_chain

    from pgml.contact.alignment import ALPHABET
    from pgml.contact.contacts import NativeContacts
    from pgml.contact.params import SimulateParams
    from pgml.contact.simulate import simulate_alignment

    rng = np.random.default_rng(seed)
    native = NativeContacts("".join(rng.choice(list(ALPHABET[:20]), length)), compact_chain(rng, length))
    return simulate_alignment(native, SimulateParams(n_sequences=n, burn_in=10, coupling=1.0), seed).msa


def top_pairs(scores: np.ndarray, k: int) -> set[tuple[int, int]]:
    i, j = np.triu_indices(len(scores), 1)
    order = np.argsort(-scores[i, j], kind="stable")[:k]
    return set(zip(i[order].tolist(), j[order].tolist(), strict=True))


@pytest.mark.slow
def test_fused_fit_gives_the_autograd_fits_contacts_and_objective() -> None:
    from pgml.contact.weights import sequence_weights

    msa = simulated_msa()
    length = msa.shape[1]
    w = sequence_weights(msa)
    old = fit_plm_autograd(msa, w, max_iter=100)
    new = fit_plm(msa, w)  # default: stops on the convergence test
    assert new.iterations < 100
    a, b = apc(frobenius_scores(old.J)), apc(frobenius_scores(new.J))
    i, j = np.triu_indices(length, 1)
    assert np.corrcoef(a[i, j], b[i, j])[0, 1] > 0.99
    assert len(top_pairs(a, length) & top_pairs(b, length)) >= 0.9 * length
    # run to the same iteration count, the fused L-BFGS reaches an objective at least as low
    same = fit_plm(msa, w, max_iter=100, tolerance=0.0)
    assert same.objective <= old.objective * (1 + 1e-5)
    # and the convergence test stopped within 0.5 % of it
    assert new.objective <= same.objective * 1.005


def test_fused_fit_is_deterministic_and_chunking_leaves_it_unchanged() -> None:
    msa = simulated_msa(length=12, n=120, seed=2)
    w = np.ones(len(msa))
    a = fit_plm(msa, w, max_iter=10, chunk=512)
    b = fit_plm(msa, w, max_iter=10, chunk=512)
    c = fit_plm(msa, w, max_iter=10, chunk=7)
    np.testing.assert_array_equal(a.J, b.J)
    np.testing.assert_allclose(c.J, a.J, atol=1e-4)
    assert c.objective == pytest.approx(a.objective, rel=1e-5)


def test_fused_memory_model_counts_half_size_optimiser_vectors() -> None:
    # L = 2, q = 2: full matrix (L q)^2 = 16, half = L q + 1 pair x q^2 = 8; history 1 -> 7 half vectors
    assert fused_plm_bytes(2, 2, history=1, chunk=1) == 4 * (2 * 16 + 7 * 8 + 3 * 4)
