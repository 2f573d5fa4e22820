"""Simulated expression data with a known regulatory network, in the spirit of SynTReN.

SynTReN (Van den Bulcke et al. 2006, BMC Bioinformatics 7:43) samples a network topology, gives every
interaction Michaelis-Menten or Hill kinetics, draws the levels of external (background) regulators
per experimental condition, propagates them through the network with biological noise, and adds
measurement noise. :func:`simulate_network` does the same:

1. **Topology.** ``scale-free``: genes are added one at a time (after ``n_external`` external
   regulators with no inputs); a fraction ``tf_fraction`` of genes are transcription factors. Each new
   gene picks 1..``max_in_degree`` regulators among the external regulators and earlier
   transcription factors, with probability proportional to (out-degree + 1) (preferential
   attachment: a few hubs, many regulators with one or two targets). ``seed``: a connected
   sub-network of ``n_genes`` genes sampled from a given seed network (regulator, target TSV) by
   neighbour addition (SynTReN's strategy); feedback edges are dropped so the network is acyclic,
   and regulators without inputs are the external ones.
2. **Kinetics.** Edge r -> g is an activation with probability ``p_activation``; its transfer
   function is Michaelis-Menten, f(x) = x / (K + x) (probability ``p_michaelis``), or Hill,
   f(x) = x^h / (K^h + x^h) with h in {2, 3, 4}; a repression is 1 - f(x). K is the median level of
   the regulator over the samples. A gene's level is V_g * prod_r f_r(x_r) + b_g (V_g ~ U(0.5, 1),
   basal b_g ~ U(0.01, 0.05)), multiplied by log-normal biological noise exp(N(0, bio_noise^2)),
   which propagates to its targets.
3. **Conditions.** Samples come in ``n_conditions`` conditions (written as sample labels); each
   external regulator has a condition mean ~ U(0.05, 1) and per-sample log-normal spread.
4. **Measurement.** Expression = log2(level) + N(0, noise^2).

Outputs: genes x samples expression (log2 scale), the regulator list (external regulators and
transcription factors that regulate something; with ``regulators_without_targets`` also regulators
without a target, as a real list of transcription factors holds many that regulate none of the
measured genes: the transcription factors of a ``scale-free`` network that got no target, topped up
with randomly chosen genes without targets to half as many as the true regulators; the expression
and the true edges stay the same), the true edges (regulator, target, sign, kinetics)
and the sample conditions. Deterministic given ``seed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.errors import InputError
from pgml.fileio import write_text
from pgml.grn.params import SimulateParams
from pgml.tables import write_tsv


@dataclass
class SimulatedNetwork:
    expression: pd.DataFrame  # genes x samples, log2 scale
    regulators: list[str]
    edges: pd.DataFrame  # regulator, target, sign, kinetics
    conditions: pd.Series  # sample -> condition


def _scale_free_topology(n_genes: int, n_external: int, tf_fraction: float, max_in_degree: int,
                         rng: np.random.Generator) -> tuple[list[str], list[tuple[int, int]], np.ndarray]:
    names = [f"EXT{i + 1}" for i in range(n_external)] + [f"G{i + 1}" for i in range(n_genes - n_external)]
    is_tf = np.zeros(n_genes, dtype=bool)
    is_tf[:n_external] = True
    internal = np.arange(n_external, n_genes)
    n_tf = int(round(tf_fraction * len(internal)))
    # transcription factors sit early in the order so that they can have targets
    tf_pool = internal[: max(n_tf * 2, 1)]
    is_tf[rng.choice(tf_pool, size=min(n_tf, len(tf_pool)), replace=False)] = True
    out_degree = np.zeros(n_genes)
    edges: list[tuple[int, int]] = []
    for g in internal:
        candidates = np.flatnonzero(is_tf[:g])
        if candidates.size == 0:
            continue
        k = min(candidates.size, 1 + rng.binomial(max_in_degree - 1, 0.3))
        weights = out_degree[candidates] + 1.0
        chosen = rng.choice(candidates, size=k, replace=False, p=weights / weights.sum())
        for r in chosen:
            edges.append((int(r), int(g)))
            out_degree[r] += 1
    return names, edges, is_tf


def _seed_topology(seed_edges: pd.DataFrame, n_genes: int, rng: np.random.Generator
                   ) -> tuple[list[str], list[tuple[int, int]]]:
    nodes = sorted(set(seed_edges.iloc[:, 0]) | set(seed_edges.iloc[:, 1]))
    if len(nodes) < n_genes:
        raise InputError(f"the seed network has {len(nodes)} genes, fewer than the {n_genes} asked for")
    neighbours: dict[str, set[str]] = {n: set() for n in nodes}
    for a, b in zip(seed_edges.iloc[:, 0], seed_edges.iloc[:, 1], strict=True):
        neighbours[a].add(b)
        neighbours[b].add(a)
    chosen = [nodes[rng.integers(len(nodes))]]
    chosen_set = set(chosen)
    while len(chosen) < n_genes:
        frontier = sorted({n for c in chosen for n in neighbours[c]} - chosen_set)
        pick = frontier[rng.integers(len(frontier))] if frontier else nodes[rng.integers(len(nodes))]
        if pick in chosen_set:
            continue
        chosen.append(pick)
        chosen_set.add(pick)
    index = {n: i for i, n in enumerate(chosen)}
    sub = [(index[a], index[b]) for a, b in zip(seed_edges.iloc[:, 0], seed_edges.iloc[:, 1], strict=True)
           if a in index and b in index and a != b]
    # drop feedback edges: keep an edge only if it goes forward in a DFS order from the roots
    order = _acyclic_order(len(chosen), sub)
    pos = {n: i for i, n in enumerate(order)}
    forward = sorted({(a, b) for a, b in sub if pos[a] < pos[b]})
    # renumber in topological order
    names = [chosen[i] for i in order]
    return names, [(pos[a], pos[b]) for a, b in forward]


def _acyclic_order(n: int, edges: list[tuple[int, int]]) -> list[int]:
    """Reverse post-order of a DFS: edges that go backwards in it close cycles."""
    children: dict[int, list[int]] = {i: [] for i in range(n)}
    indeg = np.zeros(n, dtype=int)
    for a, b in edges:
        children[a].append(b)
        indeg[b] += 1
    seen = np.zeros(n, dtype=bool)
    post: list[int] = []
    roots = [i for i in range(n) if indeg[i] == 0] + list(range(n))
    for root in roots:
        if seen[root]:
            continue
        stack = [(root, iter(children[root]))]
        seen[root] = True
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                post.append(node)
                stack.pop()
            elif not seen[nxt]:
                seen[nxt] = True
                stack.append((nxt, iter(children[nxt])))
    return post[::-1]


_D = SimulateParams()


#: with ``regulators_without_targets``: genes without targets added to the regulator list, per true regulator
IDLE_REGULATOR_RATIO = 0.5


def _add_idle_regulators(regulated_by: list[int], is_tf: np.ndarray | None, n: int, seed: int) -> list[int]:
    """The regulators plus transcription factors without targets, topped up with other genes without
    targets to ``IDLE_REGULATOR_RATIO`` x the true regulators (own random stream: the data do not change)."""
    active = set(regulated_by)
    idle = set(np.flatnonzero(is_tf).tolist()) - active if is_tf is not None else set()
    want = int(np.ceil(IDLE_REGULATOR_RATIO * len(active)))
    pool = np.array(sorted(set(range(n)) - active - idle), dtype=np.int64)
    extra = max(0, min(want - len(idle), pool.size))
    rng = np.random.default_rng([seed, 1])
    idle |= set(rng.choice(pool, size=extra, replace=False).tolist()) if extra else set()
    return sorted(active | idle)


def simulate_network(n_genes: int = _D.n_genes, n_samples: int = _D.n_samples, *, n_external: int = _D.n_external,
                     tf_fraction: float = _D.tf_fraction, max_in_degree: int = _D.max_in_degree,
                     topology: str = _D.topology, seed_network: str | Path | None = None,
                     n_conditions: int = _D.n_conditions, p_activation: float = 0.7, p_michaelis: float = 0.5,
                     bio_noise: float = _D.bio_noise, noise: float = _D.noise,
                     regulators_without_targets: bool = _D.regulators_without_targets,
                     seed: int = 0) -> SimulatedNetwork:
    """Simulate a network and expression data (see the module docstring)."""
    rng = np.random.default_rng(seed)
    if n_samples < 2 or n_genes < 3:
        raise InputError("need at least 3 genes and 2 samples")
    for name, value in (("bio_noise", bio_noise), ("noise", noise)):
        if not 0.0 <= value < np.inf:  # also refuses NaN
            raise InputError(f"{name} must be a finite sd >= 0, got {value}")
    if not 0.0 < tf_fraction < 1.0:
        raise InputError(f"tf_fraction must be in (0, 1), got {tf_fraction}")
    if topology == "scale-free":
        if not 0 < n_external < n_genes:
            raise InputError(f"n_external must be in 1..{n_genes - 1}")
        names, edges, is_tf = _scale_free_topology(n_genes, n_external, tf_fraction, max_in_degree, rng)
    elif topology == "seed":
        if seed_network is None:
            raise InputError("topology 'seed' needs a seed network (regulator<TAB>target file)")
        if not Path(seed_network).is_file():
            raise InputError("seed network not found (a regulator<TAB>target file)", path=seed_network)
        seed_edges = pd.read_csv(seed_network, sep=None, engine="python", header=None, comment="#", dtype=str)
        if seed_edges.shape[1] < 2:
            raise InputError("expected two columns: regulator, target", path=seed_network)
        if not seed_edges.iloc[0, 0] or seed_edges.iloc[0, 0].lower() in ("regulator", "source", "tf"):
            seed_edges = seed_edges.iloc[1:]
        names, edges = _seed_topology(seed_edges, n_genes, rng)
        is_tf = None
    else:
        raise InputError(f"unknown topology {topology!r} (scale-free or seed)")
    n = len(names)
    parents: dict[int, list[int]] = {i: [] for i in range(n)}
    for a, b in edges:
        parents[b].append(a)
    conditions = np.sort(np.arange(n_samples) % n_conditions)
    cond_means = rng.uniform(0.05, 1.0, size=(n, n_conditions))
    level = np.zeros((n, n_samples))
    kinetics: dict[tuple[int, int], tuple[int, str, float]] = {}
    for g in range(n):  # names are in topological order
        if not parents[g]:
            level[g] = cond_means[g, conditions] * np.exp(rng.normal(0.0, 0.25, n_samples))
            continue
        v = rng.uniform(0.5, 1.0)
        basal = rng.uniform(0.01, 0.05)
        prod = np.ones(n_samples)
        for r in parents[g]:
            x = level[r]
            k = float(np.median(x))
            sign = 1 if rng.random() < p_activation else -1
            hill = 1 if rng.random() < p_michaelis else int(rng.integers(2, 5))
            f = x**hill / (k**hill + x**hill)
            prod *= f if sign > 0 else 1.0 - f
            kinetics[(r, g)] = (sign, "michaelis-menten" if hill == 1 else f"hill-{hill}", k)
        level[g] = (v * prod + basal) * np.exp(rng.normal(0.0, bio_noise, n_samples))
    expr = np.log2(level) + rng.normal(0.0, noise, size=level.shape)
    samples = [f"S{i + 1}" for i in range(n_samples)]
    expression = pd.DataFrame(expr, index=names, columns=samples)
    regulated_by = sorted({a for a, _ in edges})
    if regulators_without_targets:
        regulated_by = _add_idle_regulators(regulated_by, is_tf, n, seed)
    regulators = [names[i] for i in regulated_by]
    edge_rows = [{"regulator": names[a], "target": names[b], "sign": "+" if kinetics[(a, b)][0] > 0 else "-",
                  "kinetics": kinetics[(a, b)][1]} for a, b in sorted(edges)]
    return SimulatedNetwork(expression=expression, regulators=regulators,
                            edges=pd.DataFrame(edge_rows, columns=["regulator", "target", "sign", "kinetics"]),
                            conditions=pd.Series([f"C{c + 1}" for c in conditions], index=samples))


def write_simulation(sim: SimulatedNetwork, out_dir: str | Path) -> dict[str, Path]:
    """Write expression.tsv, regulators.txt, true_edges.tsv and sample_labels.tsv into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"expression": out / "expression.tsv", "regulators": out / "regulators.txt",
             "edges": out / "true_edges.tsv", "labels": out / "sample_labels.tsv"}
    write_tsv(sim.expression.rename_axis("gene").reset_index(), paths["expression"], float_format="%.5f")
    write_text(paths["regulators"], "".join(f"{r}\n" for r in sim.regulators))
    write_tsv(sim.edges, paths["edges"])
    write_tsv(sim.conditions.rename("condition").rename_axis("sample").reset_index(), paths["labels"])
    return paths


def simulate_planted_modules(n_modules: int = 4, genes_per_module: int = 25, n_regulators: int = 10,
                             n_samples: int = 60, noise: float = 0.5, seed: int = 0
                             ) -> tuple[pd.DataFrame, list[str], dict[str, int]]:
    """Expression with planted modules: module k's genes follow regulator k's high/low state.

    Regulator k (k < n_modules) is bimodal over the samples; every gene of module k has mean
    +/- 2 (random sign per gene) in the samples where the regulator is high vs low, plus N(0, noise^2).
    Returns (genes x samples frame, regulator names, gene -> true module).
    """
    rng = np.random.default_rng(seed)
    if n_regulators < n_modules:
        raise ValueError("need at least one regulator per module")
    state = rng.random((n_regulators, n_samples)) < 0.5
    reg = np.where(state, 2.0, -2.0) + rng.normal(0, 0.3, (n_regulators, n_samples))
    rows, names, truth = [reg], [f"TF{i + 1}" for i in range(n_regulators)], {}
    for k in range(n_modules):
        sign = rng.choice([-1.0, 1.0], size=(genes_per_module, 1))
        base = np.where(state[k], 2.0, -2.0)[None, :] * sign
        rows.append(base + rng.normal(0, noise, (genes_per_module, n_samples)))
        for j in range(genes_per_module):
            gene = f"M{k + 1}_g{j + 1}"
            names.append(gene)
            truth[gene] = k
    frame = pd.DataFrame(np.vstack(rows), index=names, columns=[f"S{i + 1}" for i in range(n_samples)])
    return frame, [f"TF{i + 1}" for i in range(n_regulators)], truth
