"""Pseudo-likelihood maximisation (PLM) of a Potts model [ekeberg2013], as CCMpred [ccmpred] and plmc [plmc] fit it, in torch.

The model over an aligned sequence x of length L with q = 21 states has fields h_i(a) and couplings
J_ij(a, b) = J_ji(b, a). Its negative pseudo-log-likelihood with CCMpred's L2 penalty is

    f(h, J) = - sum_n w_n sum_i log P(x_ni | x_n,-i) + lambda_single ||h||^2 + lambda_pair sum_{i<j} ||J_ij||^2,
    P(x_i = a | x_-i) = exp(h_i(a) + sum_{j != i} J_ij(a, x_j)) / Z_i,

with sequence weights w_n at 80 % identity, lambda_single = 0.01 and lambda_pair = 0.2 (L - 1)
(CCMpred's defaults; [attcontact] ranks by CCMpred's scores). :func:`fit_plm` minimises it with the
objective and gradient fused in one pass and L-BFGS with CCMpred's convergence test
(:mod:`pgml.contact.plm_fused`). :func:`fit_plm_autograd`, the first implementation, is kept as the
reference the fused gradient is tested against: the same objective through autograd, minimised by
``torch.optim.LBFGS`` (strong-Wolfe line search) for a fixed iteration count. In both, the coupling
sum is an ``embedding_bag`` over the L observed states of each sequence (the one-hot product without
its zeros), computed in chunks of sequences; the autograd fit needs ``(5 + 2 * history) * 4 * (L q)^2``
bytes, the fused one about half (:func:`pgml.contact.plm_fused.fused_plm_bytes`, checked against
the memory available before the fit starts). Identical sequences are merged first (their weights
summed), which leaves the objective unchanged.

The contact score is the Frobenius norm of the 20 x 20 amino-acid block of J_ij in the zero-sum
gauge (gaps excluded), then the average product correction (APC) [dunn2008]:
``S_ij - S_i. S_.j / S_..`` with means over the off-diagonal entries (plmc's convention).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import torch

from pgml.contact.alignment import Q
from pgml.contact.params import PlmParams

log = logging.getLogger(__name__)

#: CCMpred's L2 penalty on the fields
LAMBDA_SINGLE = 0.01
#: CCMpred's L2 penalty on the couplings is this times (L - 1)
LAMBDA_PAIR_FACTOR = 0.2
#: L-BFGS iterations at most
MAX_ITER = 100
#: stop when the objective fell by less than this (relative) over the last 5 iterations
TOLERANCE = PlmParams.tolerance
#: L-BFGS correction pairs kept
HISTORY = 5
#: sequences per chunk of the pseudo-likelihood
CHUNK = 512


@dataclass
class PlmResult:
    """Fitted fields ``h (L, q)`` and couplings ``J (L, L, q, q)`` (zero on the diagonal blocks)."""

    h: np.ndarray
    J: np.ndarray
    objective: float
    iterations: int
    seconds: float


def _init_fields(msa: torch.Tensor, weights: torch.Tensor, q: int, pseudo: float = 1.0) -> torch.Tensor:
    """Log of the weighted column frequencies with a pseudocount (CCMpred's starting point), centred."""
    counts = torch.zeros(msa.shape[1], q, dtype=torch.float64, device=msa.device)
    counts.scatter_add_(1, msa.T.long(), weights[None, :].expand(msa.shape[1], -1).double())
    freq = (counts + pseudo / q) / (counts.sum(1, keepdim=True) + pseudo)
    logf = torch.log(freq)
    return (logf - logf.mean(1, keepdim=True)).float()


class PseudoLikelihood(torch.nn.Module):
    """The Potts model's parameters and its regularised negative pseudo-log-likelihood (module docstring)."""

    def __init__(self, length: int, q: int = Q, lambda_single: float = LAMBDA_SINGLE,
                 lambda_pair: float | None = None) -> None:
        super().__init__()
        self.length, self.q = length, q
        self.lambda_single = lambda_single
        self.lambda_pair = LAMBDA_PAIR_FACTOR * (length - 1) if lambda_pair is None else lambda_pair
        self.h = torch.nn.Parameter(torch.zeros(length, q))
        self.w = torch.nn.Parameter(torch.zeros(length * q, length * q))
        self.register_buffer("offsets", torch.arange(length) * q, persistent=False)

    def reset_parameters(self) -> None:
        torch.nn.init.zeros_(self.h)
        torch.nn.init.zeros_(self.w)

    def couplings(self) -> torch.Tensor:
        """``J`` as an ``(L q, L q)`` matrix: symmetric, zero on the diagonal blocks (kept so by
        :meth:`symmetrise_grad`, since L-BFGS steps are combinations of gradients)."""
        return self.w

    @torch.no_grad()
    def symmetrise_grad(self) -> None:
        """Project ``w.grad`` onto symmetric matrices with zero diagonal blocks."""
        g = self.w.grad
        g.copy_(0.5 * (g + g.T))
        q = self.q
        for i in range(self.length):
            g[i * q:(i + 1) * q, i * q:(i + 1) * q] = 0.0

    def neg_log_pl(self, x: torch.Tensor, weights: torch.Tensor, couplings: torch.Tensor) -> torch.Tensor:
        """``- sum_n w_n sum_i log P(x_ni | x_n,-i)`` for one chunk ``x (B, L)``."""
        index = x.long() + self.offsets
        # sum_j J_ij(a, x_j) for every i, a: the rows of J picked by the observed states
        field = torch.nn.functional.embedding_bag(index, couplings, mode="sum")
        logits = field.view(-1, self.length, self.q) + self.h
        logp = torch.log_softmax(logits, dim=-1).gather(-1, x.long()[..., None])[..., 0]
        return -(weights[:, None] * logp).sum()

    def penalty(self, couplings: torch.Tensor) -> torch.Tensor:
        # 0.5 * sum over ordered pairs i != j = sum over i < j
        return self.lambda_single * self.h.pow(2).sum() + 0.5 * self.lambda_pair * couplings.pow(2).sum()


def _merge_identical(msa: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Identical rows enter the pseudo-likelihood with the sum of their weights: the same objective, fewer rows."""
    unique, inverse = np.unique(msa, axis=0, return_inverse=True)
    summed = np.bincount(inverse.ravel(), weights=np.asarray(weights, dtype=np.float64), minlength=len(unique))
    return unique, summed


def plm_memory(length: int, history: int = HISTORY, q: int = Q, chunk: int = CHUNK) -> int:
    """Bytes the fit of an ``L``-column alignment needs (:func:`pgml.contact.plm_fused.fused_plm_bytes`)."""
    from pgml.contact.plm_fused import fused_plm_bytes

    return fused_plm_bytes(length, q, history, chunk)


def max_plm_length(available: int, history: int = HISTORY, q: int = Q, chunk: int = CHUNK) -> int:
    """The longest alignment whose fit fits in ``available`` bytes (inverse of :func:`plm_memory`)."""
    low, high = 0, 1
    while plm_memory(high, history, q, chunk) <= available:
        low, high = high, high * 2
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if plm_memory(mid, history, q, chunk) <= available else (low, mid)
    return low


def fit_plm(msa: np.ndarray, weights: np.ndarray, *, lambda_single: float = LAMBDA_SINGLE,
            lambda_pair_factor: float = LAMBDA_PAIR_FACTOR, max_iter: int = MAX_ITER, history: int = HISTORY,
            chunk: int = CHUNK, tolerance: float = TOLERANCE, device: torch.device | str = "cpu") -> PlmResult:
    """Minimise the regularised negative pseudo-log-likelihood of ``msa (N, L)`` (module docstring):
    fused objective and gradient, L-BFGS until the objective stops falling (:mod:`pgml.contact.plm_fused`)."""
    from pgml.contact.plm_fused import fused_fit

    if msa.ndim != 2 or msa.shape[1] < 2:
        raise ValueError(f"the pseudo-likelihood needs at least 2 columns, got an alignment of shape {msa.shape}")

    device = torch.device(device)
    start = time.perf_counter()
    msa, weights = _merge_identical(msa, weights)
    n, length = msa.shape
    # memory is checked before any fit by pgml.contact.features.check_plm_alignment (plm_memory)
    x = torch.as_tensor(msa, dtype=torch.long, device=device)
    h0 = _init_fields(x, torch.as_tensor(weights, dtype=torch.float32, device=device), Q)
    h, J, objective, result = fused_fit(msa, weights, h0, q=Q, lambda_single=lambda_single,
                                        lambda_pair=lambda_pair_factor * (length - 1), max_iter=max_iter,
                                        history=history, tolerance=tolerance, chunk=chunk, device=device)
    seconds = time.perf_counter() - start
    log.info("PLM L=%d N=%d: %d iterations, %d evaluations (stopped on %s), objective %.6g, %.1f s on %s",
             length, n, result.iterations, result.evaluations, result.converged, objective, seconds, device)
    if not np.isfinite(objective):
        log.warning("PLM L=%d N=%d: the objective is not finite; the couplings are not to be trusted", length, n)
    return PlmResult(h, J, objective, result.iterations, seconds)


def fit_plm_autograd(msa: np.ndarray, weights: np.ndarray, *, lambda_single: float = LAMBDA_SINGLE,
                     lambda_pair_factor: float = LAMBDA_PAIR_FACTOR, max_iter: int = MAX_ITER,
                     history: int = HISTORY, chunk: int = CHUNK, device: torch.device | str = "cpu") -> PlmResult:
    """The first implementation (module docstring): autograd, ``torch.optim.LBFGS``, ``max_iter`` iterations."""
    device = torch.device(device)
    start = time.perf_counter()
    msa, weights = _merge_identical(msa, weights)
    n, length = msa.shape
    x = torch.as_tensor(msa, dtype=torch.long, device=device)
    w = torch.as_tensor(weights, dtype=torch.float32, device=device)
    model = PseudoLikelihood(length, Q, lambda_single, lambda_pair_factor * (length - 1)).to(device)
    with torch.no_grad():
        model.h.copy_(_init_fields(x, w, Q))
    optimiser = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=max_iter, history_size=history,
                                  line_search_fn="strong_wolfe", tolerance_grad=1e-5, tolerance_change=1e-9)
    evaluations = 0

    def closure(backward: bool = True) -> torch.Tensor:
        nonlocal evaluations
        evaluations += 1
        optimiser.zero_grad(set_to_none=False)
        total = 0.0
        for s in range(0, n, chunk):
            loss = model.neg_log_pl(x[s:s + chunk], w[s:s + chunk], model.couplings())
            if backward:
                loss.backward()
            total += float(loss.detach())
        reg = model.penalty(model.couplings())
        if backward:
            reg.backward()
            model.symmetrise_grad()
        return torch.tensor(total + float(reg.detach()))

    optimiser.step(closure)
    state = optimiser.state[optimiser._params[0]]
    iterations = int(state.get("n_iter", 0))
    with torch.no_grad():
        objective = float(closure(backward=False))
        J = model.couplings().view(length, Q, length, Q).permute(0, 2, 1, 3).contiguous()
    seconds = time.perf_counter() - start
    log.info("PLM L=%d N=%d: %d iterations, %d evaluations, objective %.4g, %.1f s on %s", length, n,
             iterations, evaluations, objective, seconds, device)
    return PlmResult(model.h.detach().cpu().numpy(), J.detach().cpu().numpy(), objective, iterations, seconds)


@dataclass
class PlmFile:
    """One target's ``plm`` output: the query, Neff, APC scores ``(L, L)`` and couplings ``(L, L, q^2)`` float16."""

    query: str
    neff: float
    apc: np.ndarray
    couplings: np.ndarray | None


def load_plm(path, *, couplings: bool = True) -> PlmFile:
    """Read a ``<target>.npz`` written by ``pgml contact plm``; refuse a foreign, inconsistent or non-finite one."""
    import zipfile

    from pgml.errors import InputError

    try:
        with np.load(path) as data:
            missing = [k for k in ("apc", "query", "neff", *(("couplings",) if couplings else ())) if k not in data]
            if missing:
                raise InputError(f"not a PLM file of pgml contact plm (no {', '.join(missing)})", path=path)
            result = PlmFile(str(data["query"]), float(data["neff"]), data["apc"],
                             data["couplings"] if couplings else None)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"cannot read as a PLM .npz: {exc}", path=path) from None
    length = len(result.query)
    if result.apc.shape != (length, length):
        raise InputError(f"APC map of shape {result.apc.shape} for a query of {length} residues", path=path)
    for name, values in (("apc", result.apc), ("couplings", result.couplings)):
        if values is not None and not np.isfinite(values).all():
            raise InputError(f"{name} holds NaN or infinite values; rerun pgml contact plm", path=path)
    return result


def frobenius_scores(J: np.ndarray, n_aa: int = 20) -> np.ndarray:
    """``(L, L)`` Frobenius norms of the amino-acid blocks of ``J (L, L, q, q)`` in the zero-sum gauge."""
    block = J[:, :, :n_aa, :n_aa].astype(np.float64)
    # in place: one float64 copy of the blocks at most (8 L^2 n_aa^2 bytes beside J)
    row = block.mean(axis=2, keepdims=True)
    col = block.mean(axis=3, keepdims=True)
    both = block.mean(axis=(2, 3), keepdims=True)
    block -= row
    block -= col
    block += both
    np.square(block, out=block)
    scores = np.sqrt(block.sum(axis=(2, 3)))
    np.fill_diagonal(scores, 0.0)
    return scores


def apc(scores: np.ndarray) -> np.ndarray:
    """Average product correction: ``S_ij - S_i. S_.j / S_..`` over off-diagonal means; diagonal 0."""
    s = np.asarray(scores, dtype=np.float64)
    length = s.shape[0]
    off = ~np.eye(length, dtype=bool)
    row = np.where(off, s, 0.0).sum(axis=1) / (length - 1)
    overall = s[off].mean()
    corrected = s - np.outer(row, row) / overall
    np.fill_diagonal(corrected, 0.0)
    return corrected
