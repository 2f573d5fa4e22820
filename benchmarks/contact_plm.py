"""Time and peak memory of the PLM fit (pgml.contact.plm) per alignment (L, N), on CPU and GPU.

    python benchmarks/contact_plm.py --quick          # the shared alignments at 20 L-BFGS iterations
    python benchmarks/contact_plm.py --max-iter 100   # CCMpred-like iteration count

Alignments: CCMpred's 1atzA (L=75, N=3068) and plmc's DHFR (L=159, N=3629) from ../shared/data when
present, otherwise random alignments of the same shapes. Reference point from the issue: CCMpred takes
12 s on one core for 1atzA. The last lines state the memory model of the fit
(:func:`pgml.contact.plm_fused.fused_plm_bytes`) and the largest L that fits 24 GiB with it.
``benchmarks/contact_plm_speed.py`` compares the fit with its first implementation, pydca and CCMpred.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from pgml.contact.alignment import Q, read_alignment  # noqa: E402
from pgml.contact.plm import CHUNK, HISTORY, fit_plm  # noqa: E402
from pgml.contact.plm_fused import fused_plm_bytes  # noqa: E402
from pgml.contact.weights import sequence_weights  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "contact" / "msa"
CASES = [("1atzA", "CCMpred_1atzA/1atzA.aln.gz", 75, 3068), ("DHFR", "plmc_DHFR_ECOLI/DHFR.a2m.gz", 159, 3629)]


def load(name: str, path: Path, length: int, n: int) -> tuple[str, np.ndarray]:
    if path.is_file():
        return name, read_alignment(path).msa
    rng = np.random.default_rng(0)
    return f"{name} (random)", rng.integers(0, Q, size=(n, length)).astype(np.uint8)


def model_bytes(length: int, history: int = HISTORY) -> float:
    """Couplings and gradient accumulator, the optimiser's half-size vectors, one chunk."""
    return float(fused_plm_bytes(length, Q, history, CHUNK))


def largest_length(budget: float, history: int = HISTORY) -> int:
    return max(L for L in range(50, 4001, 10) if model_bytes(L, history) <= budget)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 L-BFGS iterations")
    parser.add_argument("--max-iter", type=int, default=100)
    parser.add_argument("--data", type=Path, default=SHARED, help="folder holding the shared msa/ alignments")
    args = parser.parse_args()
    max_iter = 20 if args.quick else args.max_iter
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"{'alignment':<16}{'L':>5}{'N':>6}{'device':>8}{'iter':>6}{'seconds':>9}{'peak MiB':>10}{'model MiB':>10}")
    for name, path, length, n in CASES:
        label, msa = load(name, args.data / path, length, n)
        w = sequence_weights(msa)
        for device in devices:
            if device == "cuda":
                fit_plm(msa[:50], np.ones(50), max_iter=2, device=device)  # warm-up (kernels, context)
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
            start = time.perf_counter()
            fit = fit_plm(msa, w, max_iter=max_iter, device=device)
            seconds = time.perf_counter() - start
            if device == "cuda":
                peak = torch.cuda.max_memory_allocated() / 2**20
            else:
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # process peak RSS
            print(f"{label:<16}{msa.shape[1]:>5}{msa.shape[0]:>6}{device:>8}{fit.iterations:>6}{seconds:>9.2f}"
                  f"{peak:>10.0f}{model_bytes(msa.shape[1]) / 2**20:>10.0f}")
    print(f"memory model: 4 bytes x (2 (21 L)^2 + (5 + 2 x {HISTORY}) x half-size vectors); largest L in 24 GiB: "
          f"{largest_length(24 * 2**30)} (CPU RAM or one GPU alike); in 139 GiB: {largest_length(139 * 2**30)}")


if __name__ == "__main__":
    main()
