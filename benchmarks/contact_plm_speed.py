"""PLM fit speed on CCMpred's 1atzA at equal accuracy: the fused fit against the first implementation, pydca, CCMpred.

    python benchmarks/contact_plm_speed.py                 # 1 thread, both pgml fits, pydca if importable
    python benchmarks/contact_plm_speed.py --threads 2
    python benchmarks/contact_plm_speed.py --memory 250 500  # peak RSS of one objective + gradient pass

Rows: pgml's first implementation (autograd, ``torch.optim.LBFGS``, 100 iterations) is the anchor,
measured in the same run; pgml's fused fit (:mod:`pgml.contact.plm_fused`, default convergence test
and at 100 iterations); pydca's plmDCA when the package imports; CCMpred 0.3.3's single-thread time
on this alignment (8.1 s, quoted, not run here). Each row gives the ratio of its time to the anchor's
(below 1 is faster), the objective, and the agreement of its APC map with the anchor's: the overlap of
the top-L pairs at separation >= 6 and the Pearson correlation over all pairs. GPU rows run when a
GPU is usable and are skipped with a message otherwise.

``--memory`` measures, in a fresh process per length, the peak RSS of building the fused fit's
state for a random alignment of that length (100 sequences) and ``history + 1`` L-BFGS iterations (so
every correction pair is held), beside :func:`pgml.contact.plm_fused.fused_plm_bytes` for the full fit.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from pgml.contact.alignment import Q, read_alignment  # noqa: E402
from pgml.contact.plm import HISTORY, apc, fit_plm, fit_plm_autograd, frobenius_scores  # noqa: E402
from pgml.contact.plm_fused import fused_plm_bytes  # noqa: E402
from pgml.contact.weights import sequence_weights  # noqa: E402

ALIGNMENT = ROOT.parent / "shared" / "data" / "contact" / "msa" / "CCMpred_1atzA" / "1atzA.aln.gz"
#: CCMpred 0.3.3, 1 thread, default settings, on 1atzA (seconds; measured beside the first implementation)
CCMPRED_SECONDS = 8.1
MIN_SEPARATION = 6


def top_pairs(scores: np.ndarray, k: int) -> set[tuple[int, int]]:
    i, j = np.triu_indices(len(scores), MIN_SEPARATION)
    order = np.argsort(-scores[i, j], kind="stable")[:k]
    return set(zip(i[order].tolist(), j[order].tolist(), strict=True))


def agreement(scores: np.ndarray, anchor: np.ndarray) -> tuple[float, float]:
    length = len(anchor)
    i, j = np.triu_indices(length, 1)
    overlap = len(top_pairs(scores, length) & top_pairs(anchor, length)) / length
    return overlap, float(np.corrcoef(scores[i, j], anchor[i, j])[0, 1])


def pydca_scores(path: Path, length: int) -> tuple[np.ndarray | None, float, str]:
    """pydca's plmDCA APC scores on the same alignment, or why it could not run."""
    try:
        from pydca.plmdca import plmdca  # type: ignore[import-not-found]
    except ImportError as error:
        return None, float("nan"), f"pydca not importable ({error})"
    import gzip
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        fasta = Path(tmp) / "aln.fasta"
        lines = gzip.decompress(path.read_bytes()).decode().split()
        fasta.write_text("".join(f">s{k}\n{s}\n" for k, s in enumerate(lines)))
        start = time.perf_counter()
        model = plmdca.PlmDCA(str(fasta), "protein", seqid=0.8, lambda_h=0.01, lambda_J=0.2 * (length - 1),
                              num_threads=torch.get_num_threads(), max_iterations=100)
        ranked = model.compute_sorted_FN_APC()
        seconds = time.perf_counter() - start
    scores = np.zeros((length, length))
    for (i, j), value in ranked:
        scores[i, j] = scores[j, i] = value
    return scores, seconds, ""


def speed(args: argparse.Namespace) -> None:
    if not ALIGNMENT.is_file():
        print(f"{ALIGNMENT} absent: nothing to measure")
        return
    msa = read_alignment(ALIGNMENT).msa
    n, length = msa.shape
    w = sequence_weights(msa)
    print(f"1atzA: L {length}, N {n}, threads {torch.get_num_threads()}")
    start = time.perf_counter()
    anchor = fit_plm_autograd(msa, w, max_iter=100)
    anchor_s = time.perf_counter() - start
    anchor_map = apc(frobenius_scores(anchor.J))
    rows = [("pgml autograd, 100 it (anchor)", "cpu", anchor_s, anchor.iterations, anchor.objective, anchor_map)]
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        for label, kwargs in (("pgml fused, converged", {}), ("pgml fused, 100 it", {"tolerance": 0.0})):
            if device == "cuda":
                fit_plm(msa[:50], np.ones(50), max_iter=2, device=device)  # warm-up
            start = time.perf_counter()
            fit = fit_plm(msa, w, device=device, **kwargs)
            rows.append((label, device, time.perf_counter() - start, fit.iterations, fit.objective,
                         apc(frobenius_scores(fit.J))))
    scores, seconds, why = pydca_scores(ALIGNMENT, length)
    print(f"{'method':<32}{'device':>7}{'seconds':>9}{'x anchor':>10}{'iter':>6}{'objective':>12}"
          f"{'top-L same':>11}{'corr':>8}")
    for label, device, secs, iterations, objective, scores_ in rows:
        overlap, corr = agreement(scores_, anchor_map)
        print(f"{label:<32}{device:>7}{secs:>9.2f}{secs / anchor_s:>10.2f}{iterations:>6}{objective:>12.1f}"
              f"{overlap:>11.3f}{corr:>8.4f}")
    if scores is None:
        print(f"{'pydca plmDCA':<32}{'cpu':>7}  skipped: {why}")
    else:
        overlap, corr = agreement(scores, anchor_map)
        print(f"{'pydca plmDCA':<32}{'cpu':>7}{seconds:>9.2f}{seconds / anchor_s:>10.2f}{'':>6}{'':>12}"
              f"{overlap:>11.3f}{corr:>8.4f}")
    print(f"{'CCMpred 0.3.3 (quoted)':<32}{'cpu':>7}{CCMPRED_SECONDS:>9.2f}{'':>10}  1 thread, not run here")
    if "cuda" not in devices:
        print("GPU rows skipped: no usable GPU on this machine")


def memory_one(length: int) -> None:
    """Peak RSS (MiB) of the fused fit's state and ``history + 1`` L-BFGS iterations at ``length``."""
    from pgml.contact.plm_fused import FusedObjective, lbfgs

    rng = np.random.default_rng(0)
    x = torch.as_tensor(rng.integers(0, Q, size=(100, length)))
    objective = FusedObjective(x, torch.ones(100), Q, 0.01, 0.2 * (length - 1), chunk=64)
    theta = torch.zeros(objective.size)
    start = time.perf_counter()
    lbfgs(objective, theta, max_iter=HISTORY + 1, history=HISTORY, tolerance=0.0)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    model = fused_plm_bytes(length, Q, HISTORY, 64) / 2**20
    full = fused_plm_bytes(length, Q, HISTORY, 512) / 2**20
    print(f"{length:>6}{peak:>12.0f}{model:>12.0f}{full:>14.0f}{seconds:>9.1f}")


def memory(lengths: list[int]) -> None:
    print(f"peak RSS: a fresh process per L, 100 random sequences, chunk 64, {HISTORY + 1} L-BFGS iterations")
    print(f"{'L':>6}{'peak MiB':>12}{'model MiB':>12}{'model, 512':>14}{'seconds':>9}")
    for length in lengths:
        subprocess.run([sys.executable, __file__, "--memory-one", str(length)], check=True)
    budget = 24 * 2**30
    fits = max(L for L in range(50, 3001, 10) if fused_plm_bytes(L, Q, HISTORY, 512) <= budget)
    print(f"largest L whose modelled fit (history {HISTORY}, chunk 512) fits 24 GiB: {fits}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--memory", type=int, nargs="*", metavar="L", help="measure peak RSS at these lengths")
    parser.add_argument("--memory-one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.memory_one:
        memory_one(args.memory_one)
    elif args.memory:
        memory(args.memory)
    else:
        speed(args)


if __name__ == "__main__":
    main()
