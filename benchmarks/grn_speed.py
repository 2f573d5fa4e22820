"""Speed and memory of pgml's GNET2 against the R package (GNET2 1.5.5, heuristic=TRUE).

Prints one table:

- ``reference`` cases: the inputs of ``../shared/data/grn_reference`` (300 genes incl. 20 regulators x 12
  samples, boosting; 1,000 genes incl. 100 regulators x 50 samples, k-means and boosting), timed next
  to the R package's ``gnet()`` time on a 2-core machine (from that folder's README), with the module
  quality (eq. 3.18, mean over modules) of this implementation and of R's own modules (recomputed from
  R's gene -> module tables), and a check that the output files hold the same kinds of tables;
- ``grid`` cases: simulated networks (``pgml grn simulate``) over a grid of genes x samples (10 %
  regulators), boosting, with GNET2's AUROC on the true edges next to |correlation|'s; the R column
  quotes the dissertation's table 3.5 range (8-64 min per run, before the heuristic splits);
- ``large``: 20,000 genes (about 1,500 regulators) x 500 samples, boosting, with peak memory.

Every case runs in a fresh process (so peak RSS is per case) after a small warm-up fit (imports and
thread pools are not timed; R's figures also time ``gnet()`` only). ``pgml s`` is the wall-clock time
of ``fit_gnet`` (initialisation, iterations, final modules) plus the eq. 3.19 edge table, the work of
R's ``gnet()`` and ``extract_edges()``; ``all files s`` adds writing every result file, including
``edges_rank.tsv`` (this port's ``gnet2_rank``, which R does not compute and which needs xgboost
importances of every regulator, and of every gene after a k-means fit).

    .venv/bin/python benchmarks/grn_speed.py                       # all cases
    .venv/bin/python benchmarks/grn_speed.py --cases reference grid
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "data" / "grn_reference"
R_SECONDS = {("small", "boosting"): 9.0, ("big", "kmeans"): 19.2, ("big", "boosting"): 31.7}
GRID = [(1000, 50), (1000, 100), (2000, 100), (5000, 100), (5000, 200)]


def _warm_up() -> None:
    import numpy as np

    from pgml.grn.data import build_dataset
    from pgml.grn.gnet import GnetParams, fit_gnet
    from pgml.grn.simulate import simulate_planted_modules

    frame, regs, _ = simulate_planted_modules(n_modules=2, genes_per_module=10, n_regulators=4, n_samples=20)
    fit_gnet(build_dataset(frame, regs), GnetParams(init="boosting"), progress=False)
    np.zeros(1)


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB -> GiB


def _run_reference(case: str, init: str) -> dict:
    import numpy as np
    import pandas as pd

    from pgml.grn.data import build_dataset, read_expression
    from pgml.grn.edges import module_quality
    from pgml.grn.gnet import GnetParams, fit_gnet
    from pgml.grn.result import edges_table, write_result

    _warm_up()
    n_regs = 20 if case == "small" else 100
    ds = build_dataset(read_expression(REFERENCE / f"{case}_exp_data.csv.gz"), [f"TF{i}" for i in range(1, n_regs + 1)])
    t0 = time.perf_counter()
    fit = fit_gnet(ds, GnetParams(init=init, init_group_num=8), progress=False)
    edges_table(fit)
    seconds = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_result(fit, tmp)
        all_seconds = time.perf_counter() - t0
        ours_genes = pd.read_csv(paths["gene_modules.tsv"], sep="\t")
        kinds = {"gene->module": list(ours_genes.columns),
                 "regulators per module": list(pd.read_csv(paths["module_regulators.tsv"], sep="\t").columns[:5]),
                 "regulator x target scores": list(pd.read_csv(paths["edges.tsv"], sep="\t").columns)}
    r_table = pd.read_csv(REFERENCE / f"{case}_{init}_gene_group_table.csv.gz")
    index = {g: i for i, g in enumerate(ds.targets)}
    r_scores = [module_quality(ds.target_expr[[index[g] for g in r_table.gene[r_table.group == k]]])
                for k in sorted(r_table.group.unique())]
    return {"case": f"{case} (R reference)", "genes": len(ds.targets) + len(ds.regulators),
            "regulators": len(ds.regulators), "samples": ds.n_samples, "init": init, "seconds": seconds,
            "all_seconds": all_seconds, "r_seconds": R_SECONDS[(case, init)], "modules": len(fit.modules), "r_modules": r_table.group.nunique(),
            "quality": float(np.mean([m.score for m in fit.modules])), "r_quality": float(np.mean(r_scores)),
            "peak_gb": _peak_gb(), "kinds": kinds, "timings": fit.timings}


def _auroc(scores, regulators: list[str], genes: list[str], truth) -> float:
    import numpy as np
    from sklearn.metrics import roc_auc_score

    rindex = {r: i for i, r in enumerate(regulators)}
    gindex = {g: i for i, g in enumerate(genes)}
    label = np.zeros((len(regulators), len(genes)), dtype=bool)
    label[truth.regulator.map(rindex).to_numpy(), truth.target.map(gindex).to_numpy()] = True
    valid = np.ones_like(label)
    valid[np.arange(len(regulators)), [gindex[r] for r in regulators]] = False
    return float(roc_auc_score(label[valid], scores[valid]))


def _run_simulated(n_genes: int, n_samples: int, tf_fraction: float, case: str, with_auroc: bool,
                   max_edges: int | None) -> dict:
    import numpy as np

    from pgml.grn.baselines import correlation
    from pgml.grn.data import build_dataset
    from pgml.grn.edges import edge_scores
    from pgml.grn.gnet import GnetParams, fit_gnet
    from pgml.grn.result import edges_table, write_result
    from pgml.grn.simulate import simulate_network

    _warm_up()
    sim = simulate_network(n_genes, n_samples, n_external=max(5, n_genes // 400), tf_fraction=tf_fraction, seed=0)
    ds = build_dataset(sim.expression, sim.regulators)
    t0 = time.perf_counter()
    fit = fit_gnet(ds, GnetParams(init="boosting", init_group_num=8), progress=False)
    edges_table(fit)
    seconds = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        write_result(fit, tmp, max_edges=max_edges)
    all_seconds = time.perf_counter() - t0
    row = {"case": case, "genes": n_genes, "regulators": len(ds.regulators), "samples": n_samples,
           "init": "boosting", "seconds": seconds, "all_seconds": all_seconds, "r_seconds": None, "modules": len(fit.modules), "r_modules": None,
           "quality": float(np.mean([m.score for m in fit.modules])) if fit.modules else float("nan"),
           "r_quality": None, "timings": fit.timings}
    if with_auroc:
        scores, _ = edge_scores(ds.regulator_expr, ds.target_expr, [(m.regulators, m.targets, m.score)
                                                                    for m in fit.modules])
        genes = ds.regulators + ds.targets
        row["auroc"] = _auroc(scores, ds.regulators, genes, sim.edges)
        row["auroc_correlation"] = _auroc(correlation(ds.regulator_expr, np.vstack([ds.regulator_expr,
                                                                                    ds.target_expr])),
                                          ds.regulators, genes, sim.edges)
    row["peak_gb"] = _peak_gb()
    return row


def _in_child(func, *args) -> dict:
    ctx = mp.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(func, *args).result()


def _fmt(value, spec: str = ".2f", missing: str = "-") -> str:
    return missing if value is None else format(value, spec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", choices=("reference", "grid", "large"),
                        default=["reference", "grid", "large"])
    parser.add_argument("--large-genes", type=int, default=20000)
    parser.add_argument("--large-samples", type=int, default=500)
    args = parser.parse_args(argv)
    rows = []
    print(f"# pgml GNET2 speed, {os.cpu_count()} CPUs visible, threads={os.environ.get('PGML_THREADS', 'all')}",
          flush=True)
    if "reference" in args.cases:
        if not REFERENCE.is_dir():
            print(f"# {REFERENCE} absent: reference cases skipped")
        else:
            for case, init in R_SECONDS:
                rows.append(_in_child(_run_reference, case, init))
                print(f"  done {case}/{init}: {rows[-1]['seconds']:.2f} s", flush=True)
    if "grid" in args.cases:
        for n_genes, n_samples in GRID:
            rows.append(_in_child(_run_simulated, n_genes, n_samples, 0.1, "grid (simulated)", True, None))
            print(f"  done grid {n_genes}x{n_samples}: {rows[-1]['seconds']:.2f} s", flush=True)
    if "large" in args.cases:
        rows.append(_in_child(_run_simulated, args.large_genes, args.large_samples, 0.08, "large (simulated)",
                              False, 1_000_000))
        print(f"  done large: {rows[-1]['seconds']:.1f} s", flush=True)
    header = ("case", "genes", "regs", "samples", "init", "pgml s", "all files s", "R s", "speed-up", "modules pgml/R",
              "quality pgml/R", "AUROC gnet2/|cor|", "peak GiB")
    print("\n| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for r in rows:
        if r["r_seconds"] is not None:
            r_s, speed = f"{r['r_seconds']:.1f}", f"{r['r_seconds'] / r['seconds']:.1f}x"
        elif r["case"].startswith("grid"):
            r_s, speed = "480-3840*", f">= {480 / r['seconds']:.0f}x*"
        else:
            r_s, speed = "-", "-"
        auroc = (f"{r['auroc']:.3f}/{r['auroc_correlation']:.3f}" if "auroc" in r else "-")
        print(f"| {r['case']} | {r['genes']} | {r['regulators']} | {r['samples']} | {r['init']} | "
              f"{r['seconds']:.2f} | {r['all_seconds']:.2f} | {r_s} | {speed} | {r['modules']}/{_fmt(r['r_modules'], 'd')} | "
              f"{r['quality']:.4f}/{_fmt(r['r_quality'], '.4f')} | {auroc} | {r['peak_gb']:.2f} |")
    print("\n* R column for the grid: the dissertation's table 3.5 range (8-64 min per run on its table 3.4 "
          "grid, before heuristic splits); per-case R times for these exact inputs are not available.")
    print("quality = mean module score (eq. 3.18, mean pairwise correlation of target genes); for R it is "
          "recomputed on R's own modules of the same input.")
    for r in rows:
        if "kinds" in r:
            print(f"tables ({r['case']}, {r['init']}): " + "; ".join(f"{k}: {v}" for k, v in r["kinds"].items()))
            break
    for r in rows:
        print(f"timings {r['case']} {r['genes']}x{r['samples']} {r['init']}: "
              + ", ".join(f"{k} {v:.2f}" for k, v in r["timings"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
