"""One table: AUROC/AUPR of R-faithful GNET2, ``gnet2_rank``, GENIE3, CLR and |correlation| on simulated networks.

For every network size (genes) and seed, ``pgml grn simulate``'s SynTReN-style network is generated
with the paper's settings (regulators without targets stay in the regulator list, so the list is not
oracle knowledge) and scored in the same run by:

- ``gnet2_boosting`` / ``gnet2_kmeans``: GNET2 in ``mode: r_faithful`` (R GNET2 1.5.5's behaviour,
  :mod:`pgml.grn.rfaithful`) with the boosting or k-means initialisation; eq. 3.19 as the R package
  (:func:`pgml.grn.result.edges_table`);
- ``gnet2_rank``: this port's edge score from the boosting fit (:func:`pgml.grn.result.rank_edges_table`);
- ``genie3``, ``clr`` and ``correlation`` (|Pearson|) from :mod:`pgml.grn.baselines`;

all evaluated on the same candidate pairs as ``pgml grn evaluate`` (:func:`pgml.grn.evaluate.evaluate_methods`;
a pair no method scores counts as a score of 0). Initial groups: ``--init-group-size`` genes per
group on average (the chapter's 25), or ``--init-group-num``. Prints one line per run and then the
table: AUROC and AUPR as mean ± sd over the seeds, the mean seconds of each method, and whether the
best GNET2 score beats the strongest baseline.

    python benchmarks/grn_table.py                 # 100, 1000 and 2000 genes, seeds 0 1 2 (about 30 min on 1 core)
    python benchmarks/grn_table.py --quick         # 100 and 1000 genes, 2 seeds, 100 GENIE3 trees
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings

import numpy as np
import pandas as pd

METHODS = ["gnet2_boosting", "gnet2_kmeans", "gnet2_rank", "genie3", "clr", "correlation"]
BASELINES = ["genie3", "clr", "correlation"]


def run_case(n_genes: int, n_samples: int, seed: int, genie3_trees: int, group_size: int | None,
             group_num: int) -> list[dict]:
    from pgml.grn.baselines import edges_from_matrix, score_network
    from pgml.grn.data import build_dataset
    from pgml.grn.evaluate import evaluate_methods
    from pgml.grn.gnet import GnetParams, fit_gnet
    from pgml.grn.result import edges_table, rank_edges_table
    from pgml.grn.simulate import simulate_network

    sim = simulate_network(n_genes, n_samples, regulators_without_targets=True, seed=seed)
    frame, regs = sim.expression, [r for r in sim.regulators if r in set(sim.expression.index)]
    genes = list(frame.index)
    ds = build_dataset(frame, regs)
    seconds, methods = {}, {}
    for init in ("boosting", "kmeans"):
        t = time.perf_counter()
        params = GnetParams(init=init, mode="r_faithful", init_group_num=group_num, init_group_size=group_size,
                            seed=seed)
        fit = fit_gnet(ds, params, progress=False)
        methods[f"gnet2_{init}"] = edges_table(fit)
        seconds[f"gnet2_{init}"] = time.perf_counter() - t
        if init == "boosting":
            t = time.perf_counter()
            methods["gnet2_rank"] = rank_edges_table(fit)
            seconds["gnet2_rank"] = time.perf_counter() - t
    for name in BASELINES:
        t = time.perf_counter()
        kwargs = {"n_trees": genie3_trees} if name == "genie3" else {}
        scores = score_network(name, frame, regs, seed=seed, progress=False, **kwargs)
        methods[name] = edges_from_matrix(scores, regs, genes)
        seconds[name] = time.perf_counter() - t
    table, _ = evaluate_methods(sim.edges, methods, regs, genes)
    return [{"genes": n_genes, "seed": seed, "method": row.method, "auroc": row.auroc, "aupr": row.aupr,
             "seconds": seconds[row.method]} for _, row in table[table.method != "random"].iterrows()]


def _sd(values: pd.Series) -> float:
    return float(values.std(ddof=1)) if len(values) > 1 else 0.0


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean ± sd over seeds per (genes, method), and whether the best GNET2 score beats every baseline."""
    order = {m: i for i, m in enumerate(METHODS)}
    out = []
    for (n_genes, method), g in frame.groupby(["genes", "method"]):
        out.append({"genes": n_genes, "method": method, "seeds": len(g),
                    "AUROC": f"{g.auroc.mean():.3f} ± {_sd(g.auroc):.3f}",
                    "AUPR": f"{g.aupr.mean():.3f} ± {_sd(g.aupr):.3f}",
                    "seconds": f"{g.seconds.mean():.1f}", "_o": order.get(method, 99)})
    table = pd.DataFrame(out).sort_values(["genes", "_o"]).drop(columns="_o").reset_index(drop=True)
    means = frame.groupby(["genes", "method"]).auroc.mean().unstack()
    verdict = []
    for n_genes, row in means.iterrows():
        ours = row[[m for m in METHODS[:3] if m in row]]
        base = row[[m for m in BASELINES if m in row]]
        verdict.append(f"{n_genes} genes: best GNET2 score {ours.idxmax()} AUROC {ours.max():.3f} "
                       f"{'beats' if ours.max() > base.max() else 'does not beat'} the strongest baseline "
                       f"{base.idxmax()} {base.max():.3f}")
    table.attrs["verdict"] = verdict
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genes", type=int, nargs="+", default=None, help="network sizes (default 100 1000 2000)")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="default 0 1 2")
    parser.add_argument("--genie3-trees", type=int, default=None, help="GENIE3 trees per target (default 300)")
    parser.add_argument("--init-group-size", type=int, default=25, help="genes per initial group (0: use --init-group-num)")
    parser.add_argument("--init-group-num", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="100 and 1000 genes, seeds 0 1, 100 GENIE3 trees")
    parser.add_argument("--output", help="also write the per-run rows to this TSV")
    args = parser.parse_args()
    genes = args.genes or ([100, 1000] if args.quick else [100, 1000, 2000])
    seeds = args.seeds or ([0, 1] if args.quick else [0, 1, 2])
    trees = args.genie3_trees or (100 if args.quick else 300)
    logging.basicConfig(level=logging.ERROR)
    # scikit-learn's per-tree joblib warning (GENIE3's forests), once per tree otherwise
    warnings.filterwarnings("ignore", message=".*sklearn.utils.parallel.delayed.*")
    rows = []
    for n_genes in genes:
        for seed in seeds:
            new = run_case(n_genes, args.samples, seed, trees, args.init_group_size or None, args.init_group_num)
            rows.extend(new)
            print(f"# {n_genes} genes, seed {seed}: " + ", ".join(
                f"{r['method']} {r['auroc']:.3f}/{r['aupr']:.3f} ({r['seconds']:.0f} s)" for r in new), flush=True)
    frame = pd.DataFrame(rows)
    if args.output:
        frame.to_csv(args.output, sep="\t", index=False)
    table = summarise(frame)
    print(f"\nAUROC / AUPR, mean ± sd over seeds {seeds}; {args.samples} samples; GENIE3 {trees} trees; "
          "initial groups: " + (f"{args.init_group_size} genes each" if args.init_group_size else f"k = {args.init_group_num}"))
    print(table.to_string(index=False))
    for line in table.attrs["verdict"]:
        print(line)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
