"""Restarts of GNET2 with different seeds and their consensus (stability of the modules).

``restarts`` = N runs :func:`pgml.grn.gnet.fit_gnet` with seeds ``seed``, ``seed + 1``, ...,
``seed + N - 1`` (the seed drives k-means in the initialisation and xgboost). The first run is the
result that is written (so N = 1 is a plain run); the others only feed the consensus:

- co-membership: C_ij = the fraction of runs in which genes i and j sit in the same module (a gene in
  no module is in no pair), the consensus matrix of consensus clustering [consensus];
- stability of gene i: the mean of C_ij over the other genes j of its module in the first run (NaN for
  a gene in no module, or alone in its module): 1 when every run keeps its module mates with it;
- the adjusted Rand index between every pair of runs' assignments, and its mean.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from itertools import combinations

import numpy as np

from pgml.grn.data import Dataset
from pgml.grn.gnet import GnetFit, GnetParams, fit_gnet
from pgml.metrics import adjusted_rand_index
from pgml.runtime import check_memory

#: bytes per target-gene pair while the consensus is built and written (float32 matrix, its one-hot
#: products and the float64 table written as consensus.tsv)
CONSENSUS_BYTES_PER_PAIR = 16

log = logging.getLogger(__name__)


@dataclass
class Consensus:
    """Co-membership over restarts (genes x genes), per-gene stability and pairwise ARIs between runs."""

    seeds: list[int]
    co_membership: np.ndarray  # targets x targets, fraction of runs
    stability: np.ndarray  # per target gene
    pairwise_ari: list[dict]  # {"a": seed, "b": seed, "ari": value}

    @property
    def mean_pairwise_ari(self) -> float:
        return float(np.mean([p["ari"] for p in self.pairwise_ari])) if self.pairwise_ari else 1.0

    def summary(self) -> dict:
        return {"seeds": self.seeds, "mean_pairwise_ari": self.mean_pairwise_ari, "pairwise_ari": self.pairwise_ari}


def co_membership(assignments: list[np.ndarray]) -> np.ndarray:
    """Fraction of the assignments (module per gene, -1 = none) that put each pair of genes together."""
    n = len(assignments[0])
    out = np.zeros((n, n), dtype=np.float32)
    for a in assignments:
        a = np.asarray(a)
        member = a >= 0
        _, idx = np.unique(a[member], return_inverse=True)
        onehot = np.zeros((n, idx.max(initial=-1) + 1), dtype=np.float32)
        onehot[np.flatnonzero(member), idx] = 1.0
        out += onehot @ onehot.T
    return out / len(assignments)


def gene_stability(co: np.ndarray, assignment: np.ndarray) -> np.ndarray:
    """Mean co-membership of each gene with the other genes of its module in ``assignment``."""
    out = np.full(len(assignment), np.nan)
    for k in np.unique(assignment[assignment >= 0]):
        members = np.flatnonzero(assignment == k)
        if members.size < 2:
            continue
        block = co[np.ix_(members, members)].astype(np.float64)
        out[members] = (block.sum(axis=1) - np.diag(block)) / (members.size - 1)
    return out


def fit_restarts(dataset: Dataset, params: GnetParams, progress: bool = True) -> GnetFit:
    """The first seed's fit, with a :class:`Consensus` over ``params.restarts`` seeds when > 1."""
    if params.restarts <= 1:
        return fit_gnet(dataset, params, progress=progress)
    check_memory(CONSENSUS_BYTES_PER_PAIR * len(dataset.targets) ** 2, "the gene x gene consensus of the restarts",
                 lower_with="--restarts 1 or --top-percent")
    t0 = time.perf_counter()
    seeds = [params.seed + r for r in range(params.restarts)]
    fits = []
    for seed in seeds:
        log.info("restart with seed %d (%d of %d)", seed, len(fits) + 1, len(seeds))
        fits.append(fit_gnet(dataset, replace(params, seed=seed), progress=progress))
    first = fits[0]
    first.params = params
    assignments = [f.assignment for f in fits]
    co = co_membership(assignments)
    pairs = [{"a": seeds[i], "b": seeds[j], "ari": adjusted_rand_index(assignments[i], assignments[j])}
             for i, j in combinations(range(len(seeds)), 2)]
    first.consensus = Consensus(seeds=seeds, co_membership=co, stability=gene_stability(co, first.assignment),
                                pairwise_ari=pairs)
    first.timings["restarts_total"] = time.perf_counter() - t0
    log.info("%d restarts: mean pairwise ARI %.3f, median gene stability %.3f", len(seeds),
             first.consensus.mean_pairwise_ari, float(np.nanmedian(first.consensus.stability))
             if np.isfinite(first.consensus.stability).any() else float("nan"))
    return first
