"""Edge scores on simulated networks: GNET2's eq. 3.19, this port's ``gnet2_rank``, GENIE3, |correlation|.

For every size (genes) and seed, ``pgml grn simulate``'s SynTReN-style network (100 samples by
default) is fitted once with GNET2 (boosting initialisation), and the same run scores the true
edges with four edge lists: ``gnet2`` (eq. 3.19 as the R package, :func:`pgml.grn.result.edges_table`),
``gnet2_rank`` (:func:`pgml.grn.result.rank_edges_table`), GENIE3 [genie3] and |Pearson
correlation| (:mod:`pgml.grn.baselines`), all evaluated on the same candidate pairs as ``pgml grn
evaluate`` (:func:`pgml.grn.evaluate.evaluate_methods`). Prints AUROC and AUPR as mean ± sd over
the seeds, and the mean wall-clock seconds of each method (GNET2's fit counts towards ``gnet2``;
``gnet2_rank`` adds only its own scoring).

    .venv/bin/python benchmarks/grn_edge_score.py                              # 500 and 1000 genes, 3 seeds
    .venv/bin/python benchmarks/grn_edge_score.py --genes 200 --seeds 0 --genie3-trees 100
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
import pandas as pd


def run_case(n_genes: int, n_samples: int, seed: int, genie3_trees: int) -> list[dict]:
    from pgml.grn.baselines import edges_from_matrix, score_network
    from pgml.grn.data import build_dataset
    from pgml.grn.evaluate import evaluate_methods
    from pgml.grn.gnet import GnetParams, fit_gnet
    from pgml.grn.result import edges_table, rank_edges_table
    from pgml.grn.simulate import simulate_network

    sim = simulate_network(n_genes, n_samples, seed=seed)
    frame, regs = sim.expression, [r for r in sim.regulators if r in set(sim.expression.index)]
    genes = list(frame.index)
    seconds, methods = {}, {}
    t = time.perf_counter()
    fit = fit_gnet(build_dataset(frame, regs), GnetParams(init="boosting", seed=seed), progress=False)
    methods["gnet2"] = edges_table(fit)
    seconds["gnet2"] = time.perf_counter() - t
    t = time.perf_counter()
    methods["gnet2_rank"] = rank_edges_table(fit)
    seconds["gnet2_rank"] = time.perf_counter() - t
    for name, kwargs in (("genie3", {"n_trees": genie3_trees}), ("correlation", {})):
        t = time.perf_counter()
        scores = score_network(name, frame, regs, seed=seed, progress=False, **kwargs)
        methods[name] = edges_from_matrix(scores, regs, genes)
        seconds[name] = time.perf_counter() - t
    table, _ = evaluate_methods(sim.edges, methods, regs, genes)
    rows = []
    for _, row in table[table.method != "random"].iterrows():
        rows.append({"genes": n_genes, "seed": seed, "method": row.method, "auroc": row.auroc, "aupr": row.aupr,
                     "seconds": seconds[row.method]})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genes", type=int, nargs="+", default=[500, 1000])
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--genie3-trees", type=int, default=300, help="GENIE3 trees per target (pgml's default)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows = []
    for n_genes in args.genes:
        for seed in args.seeds:
            rows.extend(run_case(n_genes, args.samples, seed, args.genie3_trees))
            last = pd.DataFrame(rows[-4:])
            print(f"# {n_genes} genes, seed {seed}: " + ", ".join(
                f"{m} {a:.3f}/{p:.3f}" for m, a, p in zip(last.method, last.auroc, last.aupr, strict=True)),
                flush=True)
    frame = pd.DataFrame(rows)
    order = {m: i for i, m in enumerate(["gnet2", "gnet2_rank", "genie3", "correlation"])}
    out = []
    for (n_genes, method), g in frame.groupby(["genes", "method"]):
        out.append({"genes": n_genes, "method": method, "n_seeds": len(g),
                    "AUROC": f"{g.auroc.mean():.3f} ± {g.auroc.std(ddof=1) if len(g) > 1 else 0.0:.3f}",
                    "AUPR": f"{g.aupr.mean():.3f} ± {g.aupr.std(ddof=1) if len(g) > 1 else 0.0:.3f}",
                    "seconds": f"{g.seconds.mean():.1f}", "_o": order.get(method, 9)})
    table = pd.DataFrame(out).sort_values(["genes", "_o"]).drop(columns="_o")
    print(table.to_string(index=False))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
