"""``pgml grn <step>``: the command-line steps of the grn chain (GNET2).

Steps: ``simulate`` (SynTReN-style network + expression), ``infer`` (GNET2 modules and edges),
``baseline`` (CLR, ARACNE, MRNET, GENIE3, |correlation|), ``evaluate`` (AUROC/AUPR vs the true
network), ``plot`` (module heatmaps, trees, correlation summary) and ``coherence`` (module sample groups
vs sample labels). Each step parses arguments and calls one library function; numpy-heavy modules
are imported inside the step functions.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from pgml.cliargs import output_dir, output_file
from pgml.errors import InputError
from pgml.fileio import check_output_dir, check_output_file
from pgml.grn.params import (
    BASELINES,
    GENIE3_TREES,
    INIT_METHODS,
    MODES,
    PERMUTATIONS,
    GnetParams,
    SimulateParams,
)

log = logging.getLogger(__name__)


def _result_files(result: Path) -> list[Path]:
    """The files ``load_result`` reads for ``--result`` (the directory of `infer`, or its result.json)."""
    directory = result if result.is_dir() else result.parent
    return [directory / "result.json", directory / "result.npz"]


def _infer(args: argparse.Namespace) -> int:
    from pgml.grn.card import write_result_card
    from pgml.grn.consensus import fit_restarts
    from pgml.grn.data import load_dataset
    from pgml.grn.result import write_result

    try:
        params = GnetParams(init=args.init, mode=args.mode, init_group_num=args.init_group_num,
                            init_group_size=args.init_group_size, max_depth=args.max_depth,
                            cor_cutoff=args.cor_cutoff, min_divide_size=args.min_divide_size,
                            min_group_size=args.min_group_size, max_iter=args.max_iter,
                            force_split=args.force_split, seed=args.seed, restarts=args.restarts)
    except ValueError as exc:
        raise InputError(f"grn infer: {exc}") from None
    if args.max_edges is not None and args.max_edges < 1:
        raise InputError(f"--max-edges must be >= 1 (leave it out for every edge), got {args.max_edges}")
    check_output_dir(args.output_dir, inputs=[args.expression, args.regulators])
    dataset = load_dataset(args.expression, args.regulators, samples_in_rows=args.samples_in_rows,
                           log_transform=args.log_transform, top_percent=args.top_percent)
    log.info("%d regulators, %d target genes, %d samples", len(dataset.regulators), len(dataset.targets),
             dataset.n_samples)
    fit = fit_restarts(dataset, params)
    write_result(fit, args.output_dir, max_edges=args.max_edges)
    card = write_result_card(fit, args.output_dir, {
        "expression": str(args.expression), "regulators": str(args.regulators),
        "samples_in_rows": args.samples_in_rows, "log_transform": args.log_transform, "top_percent": args.top_percent})
    verdict = "beats" if card.metrics["beats_baseline"] else "does NOT beat"
    log.info("module coherence %.3f %s random modules of the same sizes (%.3f)", card.metrics["module_coherence"],
             verdict, card.metrics["module_coherence_random"])
    log.info("%d modules (converged: %s) in %.1f s; results in %s", len(fit.modules), fit.converged,
             fit.timings.get("total", 0.0), args.output_dir)
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from pgml.grn.simulate import simulate_network, write_simulation

    check_output_dir(args.output_dir, inputs=[args.seed_network] if args.seed_network else [])
    sim = simulate_network(args.n_genes, args.n_samples, n_external=args.n_external, tf_fraction=args.tf_fraction,
                           max_in_degree=args.max_in_degree, topology=args.topology,
                           seed_network=args.seed_network, n_conditions=args.n_conditions,
                           bio_noise=args.bio_noise, noise=args.noise,
                           regulators_without_targets=args.regulators_without_targets, seed=args.seed)
    write_simulation(sim, args.output_dir)
    log.info("%d genes, %d regulators, %d true edges, %d samples", sim.expression.shape[0],
             len(sim.regulators), len(sim.edges), sim.expression.shape[1])
    return 0


def _baseline(args: argparse.Namespace) -> int:
    from pgml.grn.baselines import edges_from_matrix, score_network
    from pgml.grn.data import read_expression, read_regulators
    from pgml.tables import write_tsv

    check_output_file(args.output, inputs=[args.expression, args.regulators])
    if args.genie3_trees < 1:
        raise InputError(f"--genie3-trees must be >= 1, got {args.genie3_trees}")
    frame = read_expression(args.expression, samples_in_rows=args.samples_in_rows, log_transform=args.log_transform)
    regs_all = read_regulators(args.regulators)
    regs = [r for r in regs_all if r in set(frame.index)]
    missing = [r for r in regs_all if r not in set(frame.index)]
    if missing:
        log.warning("%d regulators not in the matrix: %s", len(missing), ", ".join(missing[:10]))
    if not regs:
        raise InputError("none of the regulators is a gene of the expression matrix", path=args.regulators)
    scores = score_network(args.method, frame, regs, n_trees=args.genie3_trees, seed=args.seed)
    edges = edges_from_matrix(scores, regs, list(frame.index))
    write_tsv(edges, args.output, float_format="%.6g")
    return 0


def _named_paths(items: list[str], flag: str) -> dict[str, Path]:
    out = {}
    for item in items:
        if "=" not in item:
            raise InputError(f"{flag} expects NAME=EDGES.tsv, got {item!r}")
        name, path = item.split("=", 1)
        if name in out:
            raise InputError(f"{flag}: name {name!r} given twice")
        out[name] = Path(path)
    return out


def _evaluate(args: argparse.Namespace) -> int:
    from pgml.grn.evaluate import evaluate_networks

    methods = _named_paths(args.method, "--method")
    baselines = _named_paths(args.baseline or [], "--baseline")
    check_output_dir(args.output_dir, inputs=[args.truth, args.expression, args.regulators, *methods.values(),
                                              *baselines.values()])
    table = evaluate_networks(args.truth, methods, args.expression, args.regulators, args.output_dir,
                              baseline_paths=baselines,
                              samples_in_rows=args.samples_in_rows)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


def _plot(args: argparse.Namespace) -> int:
    from pgml.grn.plots import plot_module_correlation, plot_module_heatmaps, plot_module_trees
    from pgml.grn.result import load_result

    out = check_output_dir(args.output_dir, inputs=_result_files(args.result))
    fit = load_result(args.result)
    out.mkdir(parents=True, exist_ok=True)
    plot_module_heatmaps(fit, out / "module_heatmaps.pdf")
    plot_module_heatmaps(fit, out / "module_heatmap.png")
    plot_module_trees(fit, out / "module_trees.pdf")
    plot_module_correlation(fit, out / "module_correlation.png")
    return 0


def _coherence(args: argparse.Namespace) -> int:
    from pgml.grn.coherence import coherence_table
    from pgml.grn.data import read_sample_labels
    from pgml.grn.result import load_result
    from pgml.tables import write_tsv

    check_output_file(args.output, inputs=[*_result_files(args.result), args.labels])
    if args.permutations < 1:
        raise InputError(f"--permutations must be >= 1, got {args.permutations}")
    fit = load_result(args.result)
    labels = read_sample_labels(args.labels, fit.dataset.samples)
    table = coherence_table([m.tree.leaf_labels for m in fit.modules], labels.to_numpy(), ordinal=args.ordinal,
                            n_perm=args.permutations, seed=args.seed)
    write_tsv(table, args.output, float_format="%.6g")
    print(table.to_string(index=False))
    return 0


def register(steps: argparse._SubParsersAction) -> None:
    """Add the grn steps to ``pgml grn`` (defaults and choices from :mod:`pgml.grn.params`)."""
    from pgml.runtime import add_threads_argument

    gnet, sim = GnetParams(), SimulateParams()
    p = steps.add_parser("infer", help="GNET2: regulatory modules, trees and scored edges")
    p.add_argument("--expression", type=Path, required=True,
                   help="genes x samples TSV/CSV(.gz) (first column gene IDs) or AnnData .h5ad")
    p.add_argument("--regulators", type=Path, required=True, help="regulator IDs, one per line")
    output_dir(p, "--output-dir", type=Path, required=True,
                   help="writes edges.tsv, edges_rank.tsv, gene_modules.tsv, modules.tsv, module_regulators.tsv, "
                        "leaf_groups.tsv, result.json/.npz, missing_regulators.txt, model.json[, consensus.tsv]")
    p.add_argument("--init", choices=INIT_METHODS, default=gnet.init, help="initial grouping")
    p.add_argument("--mode", choices=MODES, default=gnet.mode,
                   help="r_faithful: follow R GNET2 1.5.5 (initial groups, one-leaf groups, edges); port: this "
                        "port's own choices (see the README's grn section)")
    p.add_argument("--samples-in-rows", action="store_true", help="the text matrix has samples in rows")
    p.add_argument("--log-transform", action="store_true", help="values are counts: use log2(x + 1)")
    p.add_argument("--top-percent", type=float, default=None,
                   help="keep only this %% of most variable genes (regulators are always kept)")
    p.add_argument("--init-group-num", type=int, default=gnet.init_group_num,
                   help="initial groups: k = this (r_faithful) or the best k in 2..this (port)")
    p.add_argument("--init-group-size", type=int, default=gnet.init_group_size,
                   help="instead of --init-group-num: k = target genes / this (port: best k in 2..that); the chapter's "
                        "average group size is 25")
    p.add_argument("--max-depth", type=int, default=gnet.max_depth, help="splits per tree")
    p.add_argument("--cor-cutoff", type=float, default=gnet.cor_cutoff,
                   help="a node whose samples correlate at least this much is not split")
    p.add_argument("--min-divide-size", type=int, default=gnet.min_divide_size,
                   help="a node of <= this many samples is a leaf")
    p.add_argument("--min-group-size", type=int, default=gnet.min_group_size, help="fewest genes in a module")
    p.add_argument("--max-iter", type=int, default=gnet.max_iter)
    p.add_argument("--force-split", type=float, default=gnet.force_split,
                   help="re-split the largest group when it holds more than this fraction of genes")
    p.add_argument("--max-edges", type=int, default=None, help="write only the best N edges (edges.tsv and edges_rank.tsv)")
    p.add_argument("--seed", type=int, default=gnet.seed)
    p.add_argument("--restarts", type=int, default=gnet.restarts,
                   help="runs with seeds seed..seed+N-1; the first is the result, N > 1 adds consensus.tsv "
                        "(gene x gene co-membership, per-gene stability) and the mean pairwise ARI")
    add_threads_argument(p)
    p.set_defaults(func=_infer)

    p = steps.add_parser("simulate", help="SynTReN-style network with Michaelis-Menten/Hill kinetics")
    output_dir(p, "--output-dir", type=Path, required=True,
                   help="writes expression.tsv, regulators.txt, true_edges.tsv, sample_labels.tsv")
    p.add_argument("--n-genes", type=int, default=sim.n_genes)
    p.add_argument("--n-samples", type=int, default=sim.n_samples)
    p.add_argument("--n-external", type=int, default=sim.n_external, help="external regulators (no inputs)")
    p.add_argument("--tf-fraction", type=float, default=sim.tf_fraction, help="fraction of genes that are TFs")
    p.add_argument("--max-in-degree", type=int, default=sim.max_in_degree)
    p.add_argument("--topology", choices=("scale-free", "seed"), default=sim.topology)
    p.add_argument("--seed-network", type=Path, default=None, help="regulator<TAB>target file for 'seed'")
    p.add_argument("--n-conditions", type=int, default=sim.n_conditions)
    p.add_argument("--bio-noise", type=float, default=sim.bio_noise, help="sd of log-normal biological noise")
    p.add_argument("--noise", type=float, default=sim.noise, help="sd of measurement noise (log2 scale)")
    p.add_argument("--regulators-without-targets", action="store_true", default=sim.regulators_without_targets,
                   help="regulators.txt also lists regulators without targets (half as many as the true ones)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_simulate)

    p = steps.add_parser("baseline", help="baseline network: " + ", ".join(BASELINES))
    p.add_argument("--method", choices=BASELINES, required=True)
    p.add_argument("--expression", type=Path, required=True)
    p.add_argument("--regulators", type=Path, required=True)
    output_file(p, "--output", type=Path, required=True, help="edges TSV: regulator, target, score")
    p.add_argument("--samples-in-rows", action="store_true")
    p.add_argument("--log-transform", action="store_true")
    p.add_argument("--genie3-trees", type=int, default=GENIE3_TREES, help="GENIE3 trees per target")
    p.add_argument("--seed", type=int, default=0)
    add_threads_argument(p)
    p.set_defaults(func=_baseline)

    p = steps.add_parser("evaluate", help="AUROC/AUPR of ranked edges vs the true network")
    p.add_argument("--truth", type=Path, required=True, help="true edges TSV (regulator, target)")
    p.add_argument("--expression", type=Path, required=True, help="the matrix the methods ran on")
    p.add_argument("--regulators", type=Path, required=True)
    p.add_argument("--method", nargs="+", required=True, metavar="NAME=EDGES.tsv",
                   help="the methods under evaluation (edges TSV: regulator, target, score)")
    p.add_argument("--baseline", nargs="+", default=[], metavar="NAME=EDGES.tsv",
                   help="baselines; metrics.md says whether each method beats the best of them")
    output_dir(p, "--output-dir", type=Path, required=True, help="writes metrics.tsv, metrics.md, roc.png")
    p.add_argument("--samples-in-rows", action="store_true")
    p.add_argument("--log-transform", action="store_true", help="accepted for symmetry; not needed here")
    p.set_defaults(func=_evaluate)

    p = steps.add_parser("plot", help="module heatmaps, trees and correlation summary")
    p.add_argument("--result", type=Path, required=True, help="output directory of `infer`, or its result.json")
    output_dir(p, "--output-dir", type=Path, required=True,
                   help="writes module_heatmaps.pdf, module_heatmap.png, module_trees.pdf, module_correlation.png")
    p.set_defaults(func=_plot)

    p = steps.add_parser("coherence", help="module sample groups vs sample labels (ARI or KL score)")
    p.add_argument("--result", type=Path, required=True, help="output directory of `infer`, or its result.json")
    p.add_argument("--labels", type=Path, required=True, help="TSV: sample, label")
    p.add_argument("--ordinal", action="store_true", help="labels are ordered (dose, time): KL score")
    p.add_argument("--permutations", type=int, default=PERMUTATIONS, help="permutations for the p-values")
    output_file(p, "--output", type=Path, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_coherence)
