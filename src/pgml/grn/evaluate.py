"""Evaluate ranked edge lists against the true network ([dissertation] table 3.1).

Candidate edges are every (regulator, gene) pair with regulator != gene, the regulators being those of
the regulator list and the genes those of the expression matrix. A method's edge list gives scores;
pairs it does not list are tied below all listed pairs. For each method: AUROC and AUPR (average
precision) against the true edges (:func:`pgml.metrics.auroc`, :func:`pgml.metrics.aupr`), the number
of pairs it scores, and precision among its top-k pairs (k = number of true edges; ties at the cut
broken by candidate order). A random ranking is reported alongside (AUROC 0.5, AUPR = fraction of
true pairs). Writes a TSV, a Markdown table like table 3.1, and ROC and precision-recall curves of all
methods in one figure.

True edges that cannot be candidates are never dropped silently: those whose regulator is not in the
regulator list (no method can rank them), whose regulator or target is not a gene of the expression
matrix, or that are self-loops are counted by kind (:func:`truth_coverage`), written to metrics.md
and logged as a warning. The metrics are over the candidate pairs, so they do not charge the methods
for such edges; the counts say how much of the true network that leaves out.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.errors import InputError
from pgml.fileio import write_text
from pgml.metrics import aupr, auroc, pr_curve_points, precision_at_k, roc_curve_points
from pgml.plots import plot_roc_pr
from pgml.tables import read_tsv, write_tsv

log = logging.getLogger(__name__)


def read_edges(path: str | Path) -> pd.DataFrame:
    """Read a regulator/target/score TSV and check its columns."""
    path = Path(path)
    frame = read_tsv(path, required_columns=("regulator", "target"), dtype={"regulator": str, "target": str},
                     what="edge list")
    if "score" in frame:
        score = pd.to_numeric(frame["score"], errors="coerce")
        if score.isna().any():
            i = int(np.flatnonzero(score.isna().to_numpy())[0])
            raise InputError(f"score '{frame['score'].iloc[i]}' is not a number", path=path,
                             record=f"line {i + 2} ({frame['regulator'].iloc[i]} -> {frame['target'].iloc[i]})")
        frame["score"] = score
    return frame


def candidate_scores(edges: pd.DataFrame, regulators: list[str], genes: list[str]) -> np.ndarray:
    """Scores of all regulator x gene candidate pairs (flattened, regulator-major); unlisted = -inf."""
    rindex = {r: i for i, r in enumerate(regulators)}
    gindex = {g: i for i, g in enumerate(genes)}
    scores = np.full((len(regulators), len(genes)), -np.inf)
    ok = edges.regulator.isin(rindex) & edges.target.isin(gindex)
    sub = edges[ok]
    ri = sub.regulator.map(rindex).to_numpy()
    gi = sub.target.map(gindex).to_numpy()
    vals = sub["score"].to_numpy(dtype=np.float64) if "score" in sub else np.ones(len(sub))
    scores[ri, gi] = vals
    return scores


def truth_coverage(truth: pd.DataFrame, listed_regulators: list[str], genes: list[str]) -> dict[str, int]:
    """Counts of the true edges by whether they are candidates, and why not.

    ``listed_regulators`` is the regulator list as given (before keeping those in the matrix).
    Keys: ``true_edges`` (distinct regulator -> target pairs), ``candidates``, ``regulator_not_listed``,
    ``regulator_not_in_matrix`` (listed, but not a gene of the matrix), ``target_not_in_matrix``,
    ``self_loops``; each edge counts under the first reason that applies, in that order.
    """
    pairs = truth[["regulator", "target"]].drop_duplicates()
    listed, in_matrix = set(listed_regulators), set(genes)
    not_listed = ~pairs.regulator.isin(listed)
    reg_missing = ~not_listed & ~pairs.regulator.isin(in_matrix)
    rest = ~not_listed & ~reg_missing
    target_missing = rest & ~pairs.target.isin(in_matrix)
    self_loop = rest & ~target_missing & (pairs.regulator == pairs.target)
    return {"true_edges": len(pairs), "candidates": int((rest & ~target_missing & ~self_loop).sum()),
            "regulator_not_listed": int(not_listed.sum()), "regulator_not_in_matrix": int(reg_missing.sum()),
            "target_not_in_matrix": int(target_missing.sum()), "self_loops": int(self_loop.sum())}


def coverage_note(coverage: dict[str, int]) -> str:
    """One sentence on the true edges that are not candidate pairs (or that all are)."""
    left = coverage["true_edges"] - coverage["candidates"]
    if left == 0:
        return f"All {coverage['true_edges']} true edges are candidate regulator-gene pairs."
    reasons = [(coverage["regulator_not_listed"], "regulator not in the regulator list"),
               (coverage["regulator_not_in_matrix"], "regulator listed but not in the expression matrix"),
               (coverage["target_not_in_matrix"], "target not in the expression matrix"),
               (coverage["self_loops"], "self-loops")]
    detail = "; ".join(f"{n} {why}" for n, why in reasons if n)
    return (f"{left} of {coverage['true_edges']} true edges are not candidate pairs and are not scored "
            f"({detail}).")


def evaluate_methods(truth: pd.DataFrame, methods: dict[str, pd.DataFrame], regulators: list[str],
                     genes: list[str], *, truth_path: str | Path | None = None
                     ) -> tuple[pd.DataFrame, dict[str, tuple[np.ndarray, ...]]]:
    """AUROC/AUPR table and the ROC / PR curve points ``(fpr, tpr, recall, precision)`` of every method."""
    rindex = {r: i for i, r in enumerate(regulators)}
    gindex = {g: i for i, g in enumerate(genes)}
    label = np.zeros((len(regulators), len(genes)), dtype=bool)
    t = truth[truth.regulator.isin(rindex) & truth.target.isin(gindex)]
    label[t.regulator.map(rindex).to_numpy(), t.target.map(gindex).to_numpy()] = True
    valid = np.ones_like(label)
    for r, i in rindex.items():
        if r in gindex:
            valid[i, gindex[r]] = False
    y = label[valid]
    if y.sum() == 0:
        raise InputError("none of the true edges is a regulator -> gene pair of the expression matrix and "
                         "regulator list", path=truth_path)
    rows, curves = [], {}
    k = int(y.sum())
    for name, edges in methods.items():
        s = candidate_scores(edges, regulators, genes)[valid]
        finite = np.isfinite(s)
        floor = (s[finite].min() - 1.0) if finite.any() else 0.0
        s = np.where(finite, s, floor)
        rows.append({"method": name, "auroc": auroc(y, s), "aupr": aupr(y, s),
                     f"precision_at_{k}": precision_at_k(y, s, k), "pairs_scored": int(finite.sum())})
        roc, pr = roc_curve_points(y, s), pr_curve_points(y, s)
        curves[name] = (roc.fpr, roc.tpr, pr.recall, pr.precision)
    rows.append({"method": "random", "auroc": 0.5, "aupr": float(y.mean()), f"precision_at_{k}": float(y.mean()),
                 "pairs_scored": int(y.size)})
    table = pd.DataFrame(rows).sort_values("auroc", ascending=False, kind="stable").reset_index(drop=True)
    table.attrs["n_true"] = k
    table.attrs["n_candidates"] = int(y.size)
    return table, curves


def markdown_table(table: pd.DataFrame) -> str:
    cols = list(table.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in table.iterrows():
        lines.append("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def plot_curves(curves: dict[str, tuple[np.ndarray, ...]], table: pd.DataFrame, output: str | Path) -> None:
    """ROC and precision-recall curves of every method, AUROC / AUPR in the legend, random as reference."""
    aupr_of = dict(zip(table.method, table.aupr, strict=True))
    plot_roc_pr(curves, output, roc_auc=dict(zip(table.method, table.auroc, strict=True)), pr_auc=aupr_of,
                chance_precision=aupr_of["random"])


def verdicts(table: pd.DataFrame, models: list[str], baselines: list[str]) -> list[str]:
    """One sentence per model: does it beat the best baseline (by AUROC)? Plus model vs model."""
    auroc = dict(zip(table.method, table.auroc, strict=True))
    notes = [f"{table.attrs['n_true']} true edges among {table.attrs['n_candidates']} regulator-gene pairs."]
    ranked = sorted((b for b in baselines if b in auroc), key=lambda b: -auroc[b])
    for name in models:
        if ranked:
            best = ranked[0]
            verdict = "beats" if auroc[name] > auroc[best] else "does NOT beat"
            notes.append(f"{name} (AUROC {auroc[name]:.3f}) {verdict} the best baseline {best} "
                         f"(AUROC {auroc[best]:.3f}).")
    for a, b in zip(models, models[1:], strict=False):
        verdict = "beats" if auroc[a] > auroc[b] else "does NOT beat"
        notes.append(f"{a} ({auroc[a]:.3f}) {verdict} {b} ({auroc[b]:.3f}).")
    return notes


def evaluate_networks(truth_path: str | Path, method_paths: dict[str, str | Path], expression: str | Path,
                      regulators_path: str | Path, output_dir: str | Path, *,
                      baseline_paths: dict[str, str | Path] | None = None,
                      samples_in_rows: bool = False) -> pd.DataFrame:
    """Evaluate the methods' and the baselines' edges.tsv; writes metrics.tsv, metrics.md and roc.png.

    ``method_paths`` are the methods under evaluation (e.g. GNET2 with each initialisation),
    ``baseline_paths`` the methods a user would pick without them; metrics.md says whether each method
    beats the best baseline. Names are the caller's (the workflow names GNET2 runs ``gnet2_<init>``).
    """
    from pgml.grn.data import read_expression, read_regulators

    baseline_paths = baseline_paths or {}
    clash = sorted(set(method_paths) & set(baseline_paths))
    if clash:
        raise InputError(f"names used for both a method and a baseline: {', '.join(clash)}")
    truth = read_edges(truth_path)
    if truth.empty:
        raise InputError("the true network lists no edges (only a header)", path=truth_path)
    frame = read_expression(expression, samples_in_rows=samples_in_rows)
    genes = list(frame.index)
    listed = read_regulators(regulators_path)
    regulators = [r for r in listed if r in set(genes)]
    coverage = truth_coverage(truth, listed, genes)
    note = coverage_note(coverage)
    if coverage["candidates"] < coverage["true_edges"]:
        log.warning(note)
    else:
        log.info(note)
    methods = {name: read_edges(p) for name, p in {**method_paths, **baseline_paths}.items()}
    table, curves = evaluate_methods(truth, methods, regulators, genes, truth_path=truth_path)
    table.attrs["truth_coverage"] = coverage
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_tsv(table, out / "metrics.tsv", float_format="%.4f")
    notes = verdicts(table, list(method_paths), list(baseline_paths)) + [note]
    write_text(out / "metrics.md", markdown_table(table) + "\n" + "\n".join(notes) + "\n")
    plot_curves(curves, table, out / "roc.png")
    return table
