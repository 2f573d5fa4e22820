"""Writing and reloading a GNET2 result directory.

``pgml grn infer`` writes, into ``DIR`` (each file atomically):

- ``edges.tsv``: regulator, target, score (eq. 3.19), every scored pair, best first;
- ``edges_rank.tsv``: regulator, target, score of this port's ``gnet2_rank`` edge score (eq. 3.19 on
  every pair rank-combined with the xgboost importances, :func:`pgml.grn.edges.rank_edge_scores`),
  every regulator x gene pair, best first;
- ``gene_modules.tsv``: gene, module (modules numbered from 1; genes in no module are left out, as in
  R's ``gene_group_table``);
- ``modules.tsv``: module, n_targets, n_regulators, n_leaves, score (eq. 3.18), regulators;
- ``module_regulators.tsv``: the trees, one split per row: module, node, parent, side, regulator,
  split (``high``: low+neutral | high, ``low``: low | neutral+high), threshold (samples with the
  regulator above it go right), gain (eq. 3.16), n_left, n_right (R's ``reg_group_table``);
- ``leaf_groups.tsv``: module x samples leaf index of every sample (the sample groups of each tree);
- ``result.json`` + ``result.npz``: the whole result (names, parameters, trees, iteration history,
  timings; expression, split table and assignment arrays), reloaded by :func:`load_result`;
- ``missing_regulators.txt``: regulator IDs that were not in the expression matrix;
- ``model.json`` (written by ``pgml grn infer``, :mod:`pgml.grn.card`): the model card, with the inputs,
  parameters, seed and the module coherence beside that of random modules of the same sizes;
- ``consensus.tsv`` (with ``restarts`` > 1, :mod:`pgml.grn.consensus`): one row per target gene: gene,
  module (of the first run, 0 = none), stability, then one column per target gene holding the
  fraction of runs that put the two genes in one module. ``result.json`` then holds ``restarts``
  (seeds, pairwise adjusted Rand indices and their mean).

Each entry of the iteration ``history`` in ``result.json`` holds the number of modules, the genes
that changed module (groups matched between iterations) and the ARI with the previous iteration.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.errors import InputError
from pgml.fileio import atomic_path, write_text
from pgml.grn.data import Dataset
from pgml.grn.edges import edge_scores, rank_edge_scores
from pgml.grn.gnet import GnetFit, GnetParams, Module
from pgml.grn.tree import RegulatoryTree, SplitNode
from pgml.tables import write_tsv

FORMAT_VERSION = 1


def edges_table(fit: GnetFit, max_edges: int | None = None) -> pd.DataFrame:
    """Scored regulator -> target pairs with eq. 3.19 scores, best first (all, or the best ``max_edges``)."""
    ds = fit.dataset
    modules = [(m.regulators, m.targets, m.score) for m in fit.modules]
    scores, scored = edge_scores(ds.regulator_expr, ds.target_expr, modules,
                                 r_faithful=fit.params.mode == "r_faithful")
    # R keeps the diagonal in its matrix, and its edge list drops self-edges as here
    scored[np.arange(len(ds.regulators)), np.arange(len(ds.regulators))] = False
    return _ranked(ds, scores, scored, max_edges)


def rank_edges_table(fit: GnetFit, max_edges: int | None = None) -> pd.DataFrame:
    """``gnet2_rank`` scores of every regulator -> gene pair, best first (all, or the best ``max_edges``)."""
    from pgml.grn.initialise import importance_matrix, regulator_importances

    ds = fit.dataset
    modules = [(m.regulators, m.targets, m.score) for m in fit.modules]
    eq319, valid = edge_scores(ds.regulator_expr, ds.target_expr, modules, all_pairs=True)
    targets = fit.importances
    if targets is None:  # k-means initialisation: the importances were not needed for the fit
        targets = importance_matrix(ds.regulator_expr, ds.target_expr, max_depth=fit.params.max_depth,
                                    seed=fit.params.seed, progress=False)
    importance = np.hstack([regulator_importances(ds.regulator_expr, max_depth=fit.params.max_depth,
                                                  seed=fit.params.seed), targets.T])
    return _ranked(ds, rank_edge_scores(eq319, importance, valid), valid, max_edges)


def _ranked(ds: Dataset, scores: np.ndarray, scored: np.ndarray, max_edges: int | None) -> pd.DataFrame:
    cols = ds.regulators + ds.targets
    ri, ci = np.nonzero(scored)
    if max_edges is not None and ri.size > max_edges:
        keep = np.argpartition(-scores[ri, ci], max_edges - 1)[:max_edges]
        ri, ci = ri[keep], ci[keep]
    table = pd.DataFrame({
        "regulator": np.asarray(ds.regulators, dtype=object)[ri],
        "target": np.asarray(cols, dtype=object)[ci],
        "score": scores[ri, ci],
    })
    return table.sort_values(["score", "regulator", "target"], ascending=[False, True, True],
                             kind="stable").reset_index(drop=True)


def _write_tsv(frame: pd.DataFrame, path: Path) -> None:
    write_tsv(frame, path, float_format="%.6g")


def write_result(fit: GnetFit, out_dir: str | Path, *, max_edges: int | None = None) -> dict[str, Path]:
    """Write every output file of a fit into ``out_dir``; returns name -> path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ds = fit.dataset
    paths = {name: out / name for name in (
        "edges.tsv", "edges_rank.tsv", "gene_modules.tsv", "modules.tsv", "module_regulators.tsv", "leaf_groups.tsv",
        "result.json", "result.npz", "missing_regulators.txt")}
    edges = edges_table(fit, max_edges)
    _write_tsv(edges, paths["edges.tsv"])
    _write_tsv(rank_edges_table(fit, max_edges), paths["edges_rank.tsv"])
    genes = [(ds.targets[g], k + 1) for k, m in enumerate(fit.modules) for g in m.targets]
    _write_tsv(pd.DataFrame(genes, columns=["gene", "module"]), paths["gene_modules.tsv"])
    _write_tsv(pd.DataFrame([{
        "module": k + 1, "n_targets": len(m.targets), "n_regulators": len(m.regulators),
        "n_leaves": m.tree.n_leaves, "score": m.score,
        "regulators": ",".join(ds.regulators[r] for r in m.regulators)} for k, m in enumerate(fit.modules)],
        columns=["module", "n_targets", "n_regulators", "n_leaves", "score", "regulators"]), paths["modules.tsv"])
    rows = []
    for k, m in enumerate(fit.modules):
        for s in m.tree.splits:
            rows.append({"module": k + 1, "node": s.node, "parent": s.parent, "side": s.side,
                         "regulator": ds.regulators[s.regulator], "split": s.kind, "threshold": s.threshold,
                         "gain": s.gain, "n_left": len(s.left), "n_right": len(s.right)})
    _write_tsv(pd.DataFrame(rows, columns=["module", "node", "parent", "side", "regulator", "split", "threshold",
                                           "gain", "n_left", "n_right"]), paths["module_regulators.tsv"])
    leaves = pd.DataFrame([m.tree.leaf_labels for m in fit.modules], columns=ds.samples)
    leaves.insert(0, "module", np.arange(1, len(fit.modules) + 1))
    _write_tsv(leaves, paths["leaf_groups.tsv"])
    meta = {
        "format_version": FORMAT_VERSION,
        "params": fit.params_dict(),
        "samples": ds.samples, "regulators": ds.regulators, "targets": ds.targets,
        "missing_regulators": ds.missing_regulators, "dropped_constant": ds.dropped_constant,
        "converged": fit.converged, "history": fit.history, "timings": fit.timings,
        **({"restarts": fit.consensus.summary()} if fit.consensus is not None else {}),
        "modules": [{
            "targets": m.targets, "score": m.score,
            "splits": [{"node": s.node, "parent": s.parent, "side": s.side, "regulator": s.regulator,
                        "kind": s.kind, "threshold": s.threshold, "gain": s.gain,
                        "left": s.left.tolist(), "right": s.right.tolist()} for s in m.tree.splits],
        } for m in fit.modules],
    }
    with atomic_path(paths["result.json"]) as tmp:
        tmp.write_text(json.dumps(meta, indent=1))
    with atomic_path(paths["result.npz"]) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, regulator_expr=ds.regulator_expr, target_expr=ds.target_expr,
                                levels=fit.levels, assignment=fit.assignment,
                                leaf_labels=np.array([m.tree.leaf_labels for m in fit.modules]).reshape(
                                    len(fit.modules), len(ds.samples)))
    write_text(paths["missing_regulators.txt"], "".join(f"{r}\n" for r in ds.missing_regulators))
    if fit.consensus is not None:
        paths["consensus.tsv"] = out / "consensus.tsv"
        co = pd.DataFrame(fit.consensus.co_membership, columns=ds.targets)
        head = pd.DataFrame({"gene": ds.targets, "module": fit.assignment + 1,
                             "stability": fit.consensus.stability})
        write_tsv(pd.concat([head, co], axis=1), paths["consensus.tsv"], float_format="%.4g")
    return paths


def load_result(path: str | Path) -> GnetFit:
    """Reload a result written by :func:`write_result` (``path`` is the directory or its result.json)."""
    path = Path(path)
    directory = path if path.is_dir() else path.parent
    for name in ("result.json", "result.npz"):
        if not (directory / name).is_file():
            raise InputError(f"no {name}: not a result directory of `pgml grn infer`", path=directory)
    try:
        meta = json.loads((directory / "result.json").read_text())
        arrays = np.load(directory / "result.npz")
        if meta.get("format_version", FORMAT_VERSION) != FORMAT_VERSION:
            raise InputError(f"result format {meta.get('format_version')} is not {FORMAT_VERSION}; rerun "
                             "`pgml grn infer`", path=directory)
        fit = _fit_from(meta, arrays)
    except (json.JSONDecodeError, KeyError, ValueError, OSError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"unreadable result.json/result.npz ({type(exc).__name__}: {exc}); rerun "
                         "`pgml grn infer`", path=directory) from None
    from pgml.grn.card import check_result_card

    check_result_card(directory, fit)
    return fit


def _fit_from(meta: dict, arrays) -> GnetFit:
    """The :class:`GnetFit` stored in ``result.json`` (``meta``) and ``result.npz`` (``arrays``)."""
    ds = Dataset(samples=meta["samples"], regulators=meta["regulators"], regulator_expr=arrays["regulator_expr"],
                 targets=meta["targets"], target_expr=arrays["target_expr"],
                 missing_regulators=meta["missing_regulators"], dropped_constant=meta["dropped_constant"])
    modules = []
    for k, m in enumerate(meta["modules"]):
        splits = [SplitNode(node=s["node"], parent=s["parent"], side=s["side"], regulator=s["regulator"],
                            kind=s["kind"], threshold=s["threshold"], gain=s["gain"],
                            left=np.asarray(s["left"], dtype=np.int64), right=np.asarray(s["right"], dtype=np.int64))
                  for s in m["splits"]]
        tree = RegulatoryTree(splits=splits, leaf_labels=arrays["leaf_labels"][k].astype(np.int64))
        modules.append(Module(targets=list(m["targets"]), tree=tree, score=m["score"]))
    return GnetFit(dataset=ds, params=GnetParams(**{"mode": "port", **meta["params"]}), modules=modules,
                   assignment=arrays["assignment"], levels=arrays["levels"], history=meta["history"],
                   converged=meta["converged"], timings=meta["timings"])
