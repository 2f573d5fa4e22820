"""Challenge metrics per TF x cell type on the test chromosomes (section 2.3 of [deepgrn]).

For each module of DeepGRN (single, pairwise), their ensemble, the ``noattention`` ablation (CNN +
BiLSTM without attention, figure 2.4, when its predictions are given) and the two baselines of
:mod:`pgml.tfbs.baselines` (DNase max; logistic regression on DNase + annotation + expression):
auROC; auPRC as the challenge's scorer computes it (PRROC's Davis-Goadrich interpolated area,
:func:`pgml.metrics.aupr_davis_goadrich`, the figures of table 2.4) with scikit-learn's average
precision beside it; recall at 50% and at 10% FDR. Every bin of the test chromosomes counts except A
(ambiguous) bins; blacklisted bins stay in with score 0 for every method. Also writes ROC and PR
curves (PNG) per cell type, a verdict line per cell type (does each model beat both baselines on
auPRC? does attention beat ``noattention``?) and narrowPeak files of the validation chromosomes at the
threshold where the ensemble reaches the chosen precision there.
"""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.errors import InputError
from pgml.fileio import atomic_path
from pgml.metrics import aupr, aupr_davis_goadrich, auroc, pr_curve_points, recall_at_fdr, roc_curve_points
from pgml.plots import plot_roc_pr
from pgml.tables import write_tsv
from pgml.tfbs.baselines import dnase_bin_max, fit_logreg, logreg_scores
from pgml.tfbs.bins import BinSet
from pgml.tfbs.labels import Labels
from pgml.tfbs.params import LABEL_AMBIGUOUS, LABEL_BOUND

log = logging.getLogger(__name__)
MODEL_METHODS = ("single", "pairwise", "ensemble")
#: the method name of the no-attention ablation (its predictions' ``ensemble`` column)
NOATTENTION = "noattention"
BASELINES = ("dnase_max", "logreg")


def challenge_metrics(y: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """auROC, the challenge's auPRC (Davis-Goadrich), average precision, recall at 50% and 10% FDR."""
    return {"auroc": auroc(y, score), "auprc": aupr_davis_goadrich(y, score),
            "average_precision": aupr(y, score), "recall_at_50fdr": recall_at_fdr(y, score, 0.5),
            "recall_at_10fdr": recall_at_fdr(y, score, 0.1)}


def precision_threshold(y: np.ndarray, score: np.ndarray, precision: float) -> float:
    """Lowest score threshold at which precision (of ``score >= t``) is at least ``precision``; inf if none."""
    prec, _, thr = pr_curve_points(y, score)
    ok = np.flatnonzero(prec[:-1] >= precision)
    return float(thr[ok].min()) if ok.size else float("inf")


def peaks_from_bins(frame: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Runs of overlapping bins with probability >= ``threshold`` merged into peaks (narrowPeak rows)."""
    rows = []
    hit = frame[frame["ensemble"] >= threshold]
    for chrom, part in hit.groupby("chrom", sort=False):
        starts, ends, p = part["start"].to_numpy(), part["end"].to_numpy(), part["ensemble"].to_numpy()
        new = np.r_[True, starts[1:] >= ends[:-1]]
        group = np.cumsum(new) - 1
        for g in range(group.max() + 1 if group.size else 0):
            sel = group == g
            best = int(np.argmax(p[sel]))
            s, e = int(starts[sel][0]), int(ends[sel][-1])
            rows.append((chrom, s, e, f"peak{len(rows)}", int(1000 * p[sel].max()), ".", float(p[sel].max()),
                         -1, -1, int(starts[sel][best] - s + 100)))
    return pd.DataFrame(rows, columns=["chrom", "start", "end", "name", "score", "strand", "signal", "p", "q", "summit"])


def _read_predictions(path: Path, test: list[str], bins: BinSet, columns: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.read_csv(path, sep="\t", dtype={"chrom": str})
    missing = [c for c in ("chrom", *columns) if c not in frame.columns]
    if missing:
        raise InputError(f"no column {', '.join(missing)} (expected modules.tsv.gz of pgml tfbs predict)", path=path)
    for chrom in test:
        n, count = int((frame["chrom"] == chrom).sum()), bins.count(chrom)
        if n != count:
            raise InputError(f"{n} predictions on {chrom}, expected {count} bins", path=path)
    return frame


def _verdict(table: pd.DataFrame, tf: str, cell: str, positive_rate: float) -> dict:
    """Does each model beat both baselines on the challenge's auPRC; does attention beat noattention."""
    auprc = table["auprc"]
    row: dict = {"tf": tf, "cell": cell, "positive_rate": positive_rate}
    models = [m for m in ("ensemble", NOATTENTION) if m in auprc.index]
    for m in (*models, *BASELINES):
        row[f"{m}_auprc"] = auprc[m]
    for m in models:
        for b in BASELINES:
            row[f"{m}_beats_{b}"] = bool(auprc[m] > auprc[b])
    if NOATTENTION in auprc.index:
        row["attention_beats_noattention"] = bool(auprc["ensemble"] > auprc[NOATTENTION])
    for m in models:
        best = max(BASELINES, key=lambda b: auprc[b])
        log.info("TF %s, cell %s: %s auPRC %.3f vs DNase max %.3f, logistic regression (DNase + annotation + "
                 "expression) %.3f: %s", tf, cell, m, auprc[m], auprc["dnase_max"], auprc["logreg"],
                 "beats both baselines" if all(row[f"{m}_beats_{b}"] for b in BASELINES)
                 else f"does NOT beat the {best} baseline")
    if NOATTENTION in auprc.index:
        log.info("TF %s, cell %s: attention (ensemble) %.3f vs noattention %.3f", tf, cell, auprc["ensemble"],
                 auprc[NOATTENTION])
    return row


def evaluate_tf(labels: Labels, bins: BinSet, predictions: dict[str, Path], dnase: dict[str, Path],
                annotation: dict[str, np.ndarray], pca: pd.DataFrame, train_cells: list[str],
                train_chroms: list[str], valid_chroms: list[str], test_chroms: list[str], output_dir: Path, *,
                noattention: dict[str, Path] | None = None, precision: float = 0.5, seed: int = 0) -> pd.DataFrame:
    """Write metrics.tsv, verdict.tsv, plots/roc_pr_<cell>.png and peaks/<cell>.narrowPeak.gz; return metrics.

    ``dnase`` holds the DNase bigWig of every training and evaluated cell type (the logistic baseline
    reads the training ones); ``noattention`` the ``modules.tsv.gz`` of the no-attention model per cell.
    """
    noattention = noattention or {}
    test = [c for c in test_chroms if c in bins.chroms]
    valid = [c for c in valid_chroms if c in bins.chroms]
    if not test:
        raise InputError(f"none of the test chromosomes {', '.join(test_chroms)} is among the bins")
    sizes = dict(zip(bins.chroms, bins.sizes, strict=True))
    cols = [labels.cells.index(c) for c in train_cells]
    logreg = fit_logreg(annotation, {c: labels.matrix[c][:, cols] for c in train_chroms}, bins.blacklist,
                        pca.loc[train_cells].to_numpy(), train_chroms, [str(dnase[c]) for c in train_cells], sizes,
                        seed=seed)
    rows, verdicts = [], []
    (output_dir / "plots").mkdir(parents=True, exist_ok=True)
    (output_dir / "peaks").mkdir(parents=True, exist_ok=True)
    for cell, path in predictions.items():
        if cell not in labels.cells:
            log.warning("no labels of TF %s for cell type %s: not evaluated", labels.tf, cell)
            continue
        frame = _read_predictions(path, test, bins, MODEL_METHODS)
        ablation = _read_predictions(noattention[cell], test, bins, ("ensemble",)) if cell in noattention else None
        j = labels.cells.index(cell)
        methods = (*MODEL_METHODS, *((NOATTENTION,) if ablation is not None else ()), *BASELINES)
        scores: dict[str, list[np.ndarray]] = {m: [] for m in methods}
        ys = []
        for chrom in test:
            part = frame[frame["chrom"] == chrom]
            lab = labels.matrix[chrom][:, j]
            keep = lab != LABEL_AMBIGUOUS
            black = bins.blacklist[chrom]
            ys.append(lab[keep] == LABEL_BOUND)
            for m in MODEL_METHODS:
                scores[m].append(part[m].to_numpy()[keep])
            if ablation is not None:
                scores[NOATTENTION].append(ablation.loc[ablation["chrom"] == chrom, "ensemble"].to_numpy()[keep])
            dn = dnase_bin_max(str(dnase[cell]), chrom, sizes[chrom], bins.count(chrom))
            scores["dnase_max"].append(np.where(black, 0.0, dn)[keep])
            lr = logreg_scores(logreg, dn, annotation[chrom], pca.loc[cell].to_numpy())
            scores["logreg"].append(np.where(black, 0.0, lr)[keep])
        y = np.concatenate(ys)
        curves, roc_auc, pr_auc = {}, {}, {}
        for method, parts in scores.items():
            s = np.concatenate(parts)
            m = challenge_metrics(y, s)
            rows.append({"tf": labels.tf, "cell": cell, "held_out_cell": cell not in train_cells, "method": method,
                         **m, "bins": int(y.size), "positives": int(y.sum())})
            if y.any() and not y.all():
                roc, pr = roc_curve_points(y, s), pr_curve_points(y, s)
                curves[method] = (roc.fpr, roc.tpr, pr.recall, pr.precision)
                roc_auc[method], pr_auc[method] = m["auroc"], m["auprc"]
        if curves:
            plot_roc_pr(curves, output_dir / "plots" / f"roc_pr_{cell}.png", roc_auc=roc_auc, pr_auc=pr_auc,
                        chance_precision=float(y.mean()))
        table = pd.DataFrame([r for r in rows if r["cell"] == cell]).set_index("method")
        verdicts.append(_verdict(table, labels.tf, cell, float(y.mean())))
        vframe = frame[frame["chrom"].isin(valid)]
        threshold = float("inf")
        if len(vframe):
            vy = np.concatenate([labels.matrix[c][:, j] for c in valid])
            keep = vy != LABEL_AMBIGUOUS
            if (vy[keep] == LABEL_BOUND).any():
                threshold = precision_threshold(vy[keep] == LABEL_BOUND, vframe["ensemble"].to_numpy()[keep], precision)
        peaks = peaks_from_bins(vframe, threshold)
        log.info("cell %s: %d peaks on %s at precision %.2f (threshold %.4f)", cell, len(peaks), ",".join(valid),
                 precision, threshold)
        with atomic_path(output_dir / "peaks" / f"{cell}.narrowPeak.gz") as tmp, gzip.open(tmp, "wt") as handle:
            peaks.to_csv(handle, sep="\t", header=False, index=False)
    if not rows:
        raise InputError(f"no cell type of TF {labels.tf} has both predictions and labels")
    metrics = pd.DataFrame(rows)
    write_tsv(metrics, output_dir / "metrics.tsv", float_format="%.4f")
    write_tsv(pd.DataFrame(verdicts), output_dir / "verdict.tsv", float_format="%.4f")
    return metrics
