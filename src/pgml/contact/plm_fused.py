"""The PLM objective and its gradient in one fused pass, minimised by L-BFGS with a convergence test.

Same objective as :class:`pgml.contact.plm.PseudoLikelihood` [ekeberg2013] (CCMpred's penalties
[ccmpred]), written out by hand instead of through autograd. For sequences ``x_n`` with weights
``w_n``, conditional probabilities ``P_ni(a) = softmax_a(h_i(a) + sum_j J_ij(a, x_nj))`` and the
residual ``R_n(i, a) = w_n (P_ni(a) - [x_ni = a])``, the gradient is

    df/dh_i(a)    = sum_n R_n(i, a) + 2 lambda_single h_i(a)
    df/dJ_ij(a,b) = sum_n R_n(i, a) [x_nj = b] + sum_n R_n(j, b) [x_ni = a] + 2 lambda_pair J_ij(a, b),  i < j

(ekeberg2013, eq. 9-10 with CCMpred's L2 terms). One pass over a chunk of sequences gathers the
coupling field (the rows of ``J`` picked by the observed states, ``embedding_bag``), takes the
log-softmax once for the objective and the residual, and adds the residual into the rows of the
observed states (``index_add_``): no autograd graph, no second forward.

The optimiser holds only the fields and the ``i < j`` coupling blocks (``L q + L (L - 1) / 2 q^2``
float32 values): half of the full ``(L q)^2`` matrix, so its vectors (position, gradient, direction,
trial point and the ``history`` correction pairs) cost half of what a full-matrix L-BFGS costs. The
fit needs, in bytes, about ``4 (L q)^2 (2 + (5 + 2 history) / 2)`` plus one chunk of sequences
(:func:`fused_plm_bytes`). L-BFGS is written here rather than taken from ``torch.optim.LBFGS``
because that one keeps full-size copies for its line search, evaluates the objective again at the
start of every ``step`` and only stops on an absolute change; this one uses a backtracking Armijo
line search (one evaluation per iteration when the unit step is accepted, as it nearly always is) and
stops, as CCMpred does, when the objective fell by less than ``tolerance`` (relative) over the last
``window`` iterations, or when the gradient norm is below ``1e-5`` of the parameter norm.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import torch

log = logging.getLogger(__name__)

#: iterations over which the relative decrease of the objective is measured (CCMpred's K)
WINDOW = 5
#: Armijo's sufficient-decrease constant
ARMIJO = 1e-4
#: line-search halvings before the fit stops (no descent left at float32 precision)
MAX_BACKTRACK = 30
#: pair blocks gathered at a time when the gradient is read off the accumulator
PAIR_CHUNK = 4096


def fused_plm_bytes(length: int, q: int, history: int, chunk: int) -> int:
    """Bytes the fused fit needs: two ``(L q)^2`` matrices (couplings, gradient accumulator), the
    optimiser's ``5 + 2 history`` half-size vectors, and three ``chunk x L q`` buffers."""
    d = length * q
    half = length * q + length * (length - 1) // 2 * q * q
    return 4 * (2 * d * d + (5 + 2 * history) * half + 3 * chunk * d)


class FusedObjective:
    """``f(theta)`` and ``grad f(theta)`` in one pass, ``theta = [h (L q), J_ij (i < j, q, q)]``."""

    def __init__(self, msa: torch.Tensor, weights: torch.Tensor, q: int, lambda_single: float,
                 lambda_pair: float, chunk: int) -> None:
        self.n, self.length = msa.shape
        self.q, self.chunk = q, chunk
        self.lambda_single, self.lambda_pair = lambda_single, lambda_pair
        device = msa.device
        self.x = msa.long()
        self.index = self.x + torch.arange(self.length, device=device) * q
        self.weights = weights.float()
        self.pairs = torch.triu_indices(self.length, self.length, 1, device=device)
        self.n_fields = self.length * q
        d = self.n_fields
        self.couplings = torch.zeros(d, d, device=device)
        self.accumulator = torch.zeros(d, d, device=device)

    @property
    def size(self) -> int:
        return self.n_fields + self.pairs.shape[1] * self.q * self.q

    def split(self, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Fields ``(L, q)`` and pair blocks ``(P, q, q)`` as views of ``theta``."""
        q = self.q
        return theta[:self.n_fields].view(self.length, q), theta[self.n_fields:].view(-1, q, q)

    def blocks(self, matrix: torch.Tensor) -> torch.Tensor:
        """``(L q, L q)`` as an ``(L, L, q, q)`` view: ``[i, j, a, b] = matrix[i q + a, j q + b]``."""
        return matrix.view(self.length, self.q, self.length, self.q).permute(0, 2, 1, 3)

    def load(self, theta: torch.Tensor) -> None:
        """Write the pair blocks into the symmetric coupling matrix (diagonal blocks stay zero)."""
        _, pair = self.split(theta)
        full = self.blocks(self.couplings)
        for s in range(0, self.pairs.shape[1], PAIR_CHUNK):
            i, j = self.pairs[:, s:s + PAIR_CHUNK]
            full[i, j] = pair[s:s + PAIR_CHUNK]
            full[j, i] = pair[s:s + PAIR_CHUNK].transpose(1, 2)

    def __call__(self, theta: torch.Tensor, grad: torch.Tensor) -> float:
        """Objective at ``theta``; writes its gradient into ``grad`` (module docstring)."""
        h, pair = self.split(theta)
        self.load(theta)
        self.accumulator.zero_()
        grad_h, grad_pair = self.split(grad)
        grad_h.zero_()
        total = 0.0
        q, length = self.q, self.length
        for s in range(0, self.n, self.chunk):
            x, index, w = self.x[s:s + self.chunk], self.index[s:s + self.chunk], self.weights[s:s + self.chunk]
            logits = torch.nn.functional.embedding_bag(index, self.couplings, mode="sum").view(-1, length, q)
            logits += h
            logp = torch.log_softmax(logits, dim=-1)
            observed = logp.gather(-1, x[..., None])[..., 0]
            total -= float((w.double() * observed.double().sum(1)).sum())
            residual = logp.exp_().mul_(w[:, None, None])  # w_n P_ni(a)
            residual.scatter_add_(-1, x[..., None], -w[:, None, None].expand(-1, length, 1))
            grad_h += residual.sum(0)
            flat = residual.view(-1, length * q)
            for j in range(length):  # rows (j, x_nj) of the accumulator gather sum_n R_n [x_nj = b]
                self.accumulator[j * q:(j + 1) * q].index_add_(0, x[:, j], flat)
        acc = self.blocks(self.accumulator)  # acc[j, i, b, a] = sum_n R_n(i, a) [x_nj = b]
        for s in range(0, self.pairs.shape[1], PAIR_CHUNK):  # in chunks of pairs: no full-size temporaries
            i, j = self.pairs[:, s:s + PAIR_CHUNK]
            grad_pair[s:s + PAIR_CHUNK] = acc[i, j] + acc[j, i].transpose(1, 2)
        grad_pair.add_(pair, alpha=2 * self.lambda_pair)
        grad_h.add_(h, alpha=2 * self.lambda_single)
        flat_pair = pair.reshape(-1)
        penalty = self.lambda_single * float(h.double().pow(2).sum()) + self.lambda_pair * float(
            torch.dot(flat_pair, flat_pair))
        return total + penalty


@dataclass
class LbfgsResult:
    theta: torch.Tensor
    objective: float
    iterations: int
    evaluations: int
    converged: str


def _dot(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.dot(a, b))


def lbfgs(objective: FusedObjective, theta: torch.Tensor, *, max_iter: int, history: int,
          tolerance: float, window: int = WINDOW) -> LbfgsResult:
    """Minimise ``objective`` from ``theta`` (modified in place) by L-BFGS (Nocedal & Wright, alg. 7.4/7.5)."""
    grad = torch.empty_like(theta)
    trial, trial_grad = torch.empty_like(theta), torch.empty_like(theta)
    direction = torch.empty_like(theta)
    f = objective(theta, grad)
    evaluations, iterations, converged = 1, 0, "max_iter"
    pairs: deque[tuple[torch.Tensor, torch.Tensor, float]] = deque(maxlen=history)
    recent = deque([f], maxlen=window + 1)
    spare: list[torch.Tensor] = []
    while iterations < max_iter:
        # two-loop recursion: direction = - H grad
        direction.copy_(grad).neg_()
        alphas = []
        for s, y, rho in reversed(pairs):
            alpha = rho * _dot(s, direction)
            direction.add_(y, alpha=-alpha)
            alphas.append(alpha)
        if pairs:
            s, y, rho = pairs[-1]
            direction.mul_(1.0 / (rho * _dot(y, y)))
        for (s, y, rho), alpha in zip(pairs, reversed(alphas), strict=True):
            beta = rho * _dot(y, direction)
            direction.add_(s, alpha=alpha - beta)
        slope = _dot(grad, direction)
        if slope >= 0:  # not a descent direction: restart from steepest descent
            pairs.clear()
            direction.copy_(grad).neg_()
            slope = _dot(grad, direction)
        step = 1.0 if pairs else min(1.0, 1.0 / math.sqrt(max(-slope, 1e-30)))
        for _ in range(MAX_BACKTRACK):
            torch.add(theta, direction, alpha=step, out=trial)
            f_trial = objective(trial, trial_grad)
            evaluations += 1
            if math.isfinite(f_trial) and f_trial <= f + ARMIJO * step * slope:
                break
            # minimiser of the quadratic through f, slope and f_trial, kept within [0.1, 0.5] of the step
            curve = f_trial - f - slope * step
            shrink = -slope * step / (2 * curve) if math.isfinite(curve) and curve > 0 else 0.5
            step *= min(0.5, max(0.1, shrink))
        else:
            converged = "line search"
            break
        iterations += 1
        # correction pair s = theta' - theta, y = grad' - grad, reusing the oldest pair's memory
        if len(pairs) == history:
            old_s, old_y, _ = pairs.popleft()
            spare = [old_s, old_y]
        s = spare.pop() if spare else torch.empty_like(theta)
        y = spare.pop() if spare else torch.empty_like(theta)
        torch.sub(trial, theta, out=s)
        torch.sub(trial_grad, grad, out=y)
        sy = _dot(s, y)
        if sy > 1e-10 * _dot(y, y):
            pairs.append((s, y, 1.0 / sy))
        else:
            spare = [s, y]
        theta.copy_(trial)
        grad.copy_(trial_grad)
        f = f_trial
        recent.append(f)
        if len(recent) > window and (recent[0] - f) <= tolerance * abs(f):
            converged = "objective"
            break
        if float(grad.norm()) <= 1e-5 * max(1.0, float(theta.norm())):
            converged = "gradient"
            break
    return LbfgsResult(theta, f, iterations, evaluations, converged)


def fused_fit(msa: np.ndarray, weights: np.ndarray, h0: torch.Tensor, *, q: int, lambda_single: float,
              lambda_pair: float, max_iter: int, history: int, tolerance: float, chunk: int,
              device: torch.device) -> tuple[np.ndarray, np.ndarray, float, LbfgsResult]:
    """Fit from fields ``h0`` and zero couplings; returns ``h (L, q)``, ``J (L, L, q, q)``, objective, result."""
    x = torch.as_tensor(msa, dtype=torch.long, device=device)
    w = torch.as_tensor(weights, dtype=torch.float32, device=device)
    objective = FusedObjective(x, w, q, lambda_single, lambda_pair, chunk)
    theta = torch.zeros(objective.size, device=device)
    objective.split(theta)[0].copy_(h0)
    result = lbfgs(objective, theta, max_iter=max_iter, history=history, tolerance=tolerance)
    objective.load(result.theta)
    length = msa.shape[1]
    J = objective.blocks(objective.couplings).contiguous().cpu().numpy()
    h = objective.split(result.theta)[0].cpu().numpy().copy()
    del objective
    return h, J.reshape(length, length, q, q), result.objective, result
