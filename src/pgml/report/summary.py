"""The report's summary: per chain, the headline metric of the model beside its same-run baseline.

Every chain's evaluation writes a ``metrics.tsv`` with one row per method (model or baseline) and a
column per metric. :data:`HEADLINES` names, per chain, the headline metric, which methods are the
model and which are the baselines a user would pick without it, and the columns that split the
table into separate comparisons (tfbs: one per TF and cell type; fold: one per test set). For each
comparison the best model row is set beside the best baseline row and given a plain verdict. The
verdict is the chain's own where its evaluation states one beyond the headline metric (qa: EnQA must
beat the baseline on per-residue and per-model r, ``enqa_beats_<baseline>``). The
table is written as reStructuredText, which ``workflow/report/workflow.rst`` includes, so the report
opens on it; each chain's name links to its figures (Snakemake defines one link target per report
category, named after the category, i.e. the chain).

No evaluation library is reused here: the comparison is a maximum over rows of plain tables, and the
ground floor may not import the chains that own those tables.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pgml.errors import InputError
from pgml.tables import read_tsv

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Headline:
    """How one chain's ``metrics.tsv`` gives its headline comparison."""

    metric: str  #: column holding the headline metric (higher is better)
    short: str  #: the metric's short name (the table)
    label: str  #: the metric in words (the list under the table)
    models: tuple[str, ...]  #: method names (or ``name_*`` prefixes) that are the chain's model
    baselines: tuple[str, ...]  #: method names of the same-run baselines
    groups: tuple[str, ...] = ()  #: columns that split the table into separate comparisons
    method_column: str = "method"
    #: where the chain's evaluation states its own verdict (``yes``/``no`` in the model's row, column
    #: named with ``{baseline}``), when it is more than the headline metric's comparison
    verdict_column: str | None = None


#: chain -> its headline comparison (columns as the chains' ``evaluate`` steps write them)
HEADLINES: dict[str, Headline] = {
    "tfbs": Headline("auprc", "auPRC", "Davis-Goadrich area under the precision-recall curve, test chromosomes", ("ensemble",),
                     ("dnase_max", "logreg"), groups=("tf", "cell")),
    "grn": Headline("auroc", "AUROC", "area under the ROC curve of the ranked edges against the true network", ("gnet2",),
                    ("clr", "aracne", "mrnet", "genie3", "correlation")),
    "contact": Headline("long_L/5", "long L/5", "precision of the top L/5 long-range pairs, test targets", ("attcontact",), ("apc_plm",)),
    "qa": Headline("residue_pearson", "residue r", "per-residue Pearson r with the true lDDT, per model, averaged",
                   ("enqa",), ("af2_consensus", "af2_plddt"), verdict_column="enqa_beats_{baseline}"),
    "bfactor": Headline("cc_mean", "CC", "Pearson CC of the atoms' B-factors per test protein, averaged",
                        ("gcn", "gat", "mpn", "unet", "transformer", "egnn", "meta"), ("baseline",)),
    "fold": Headline("accuracy", "accuracy", "fraction of test samples classified right", ("ieconv",),
                     ("majority_class", "composition_ss_logreg", "mmseqs2_nearest_neighbour"), groups=("test_set",)),
}

BEATS = "beats the baseline"
DOES_NOT_BEAT = "does not beat the baseline"
UNDEFINED = "no verdict (metric undefined or no row)"


@dataclass(frozen=True)
class Comparison:
    chain: str
    group: str  #: e.g. "CTCF, CellA"; empty when the chain makes one comparison
    short: str
    label: str
    model: str
    model_value: float
    baseline: str
    baseline_value: float
    stated: str = ""  #: the evaluation's own verdict (``yes``/``no``), when it states one

    @property
    def verdict(self) -> str:
        if self.stated in ("yes", "no"):
            return BEATS if self.stated == "yes" else DOES_NOT_BEAT
        if math.isnan(self.model_value) or math.isnan(self.baseline_value):
            return UNDEFINED
        return BEATS if self.model_value > self.baseline_value else DOES_NOT_BEAT


def _matches(method: str, names: Sequence[str]) -> bool:
    return any(method == n or method.startswith(n + "_") for n in names)


def _best(rows: pd.DataFrame, spec: Headline, names: Sequence[str], path: Path, what: str) -> tuple[str, float]:
    """The best row among ``names`` by the headline metric: (method, value); NaN when none is defined."""
    chosen = rows[rows[spec.method_column].astype(str).map(lambda m: _matches(m, names))]
    if chosen.empty:  # e.g. a config that runs no baseline: no verdict rather than no summary
        log.warning("%s: no %s row (methods %s) among %s", path, what, ", ".join(names),
                    ", ".join(map(str, rows[spec.method_column])))
        return "none", float("nan")
    values = pd.to_numeric(chosen[spec.metric], errors="coerce")
    if values.isna().all():
        return str(chosen[spec.method_column].iloc[0]), float("nan")
    best = values.idxmax()
    return str(chosen.loc[best, spec.method_column]), float(values[best])


def compare(chain: str, path: Path) -> list[Comparison]:
    """The headline comparisons of one chain's ``metrics.tsv`` (one per group of rows)."""
    if chain not in HEADLINES:
        raise InputError(f"unknown chain {chain!r} (known: {', '.join(HEADLINES)})", path=path)
    spec = HEADLINES[chain]
    table = read_tsv(path, required_columns=[spec.method_column, spec.metric, *spec.groups],
                     what=f"{chain} metrics table", dtype={spec.method_column: str})
    if spec.groups:
        grouped = [(", ".join(map(str, key if isinstance(key, tuple) else (key,))), rows)
                   for key, rows in table.groupby(list(spec.groups), sort=False)]
    else:
        grouped = [("", table)]
    out = []
    for group, rows in grouped:
        model, model_value = _best(rows, spec, spec.models, path, "model")
        baseline, baseline_value = _best(rows, spec, spec.baselines, path, "baseline")
        stated = ""
        column = spec.verdict_column.format(baseline=baseline) if spec.verdict_column else None
        if column and column in rows.columns:
            stated = str(rows.loc[rows[spec.method_column] == model, column].iloc[0]).strip().lower()
        out.append(Comparison(chain, group, spec.short, spec.label, model, model_value, baseline, baseline_value,
                              stated))
    return out


def _number(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.3f}"


def summary_rst(comparisons: Iterable[Comparison], chains: Sequence[str]) -> str:
    """The summary as reStructuredText: a sentence per chain's verdicts, one table of the comparisons and
    the metrics' names. The report's front page (workflow/report/workflow.rst) introduces it."""
    comparisons = list(comparisons)
    lines = []
    for chain in chains:
        mine = [c for c in comparisons if c.chain == chain]
        wins = sum(c.verdict == BEATS for c in mine)
        if not mine:
            continue
        verdict = (f"the model {BEATS}" if wins == len(mine) else
                   f"the model {DOES_NOT_BEAT}" if wins == 0 else
                   f"the model beats the baseline in {wins} of {len(mine)} comparisons")
        lines.append(f"- {chain}_: {verdict}.")
    lines += ["", ".. list-table::", "   :header-rows: 1", "",
              "   * - chain (metric)", "     - model", "     - baseline", "     - verdict"]
    for c in comparisons:
        where = f", {c.group}" if c.group else ""
        lines += [f"   * - {c.chain}_ ({c.short}{where})", f"     - {c.model} {_number(c.model_value)}",
                  f"     - {c.baseline} {_number(c.baseline_value)}", f"     - {c.verdict}"]
    lines += ["", "Metrics:", ""]
    for chain in chains:
        spec = HEADLINES[chain]
        lines.append(f"- {chain}, {spec.short}: {spec.label}.")
    return "\n".join(lines) + "\n"


def summarise(metrics: Sequence[tuple[str, Path]], output: Path) -> list[Comparison]:
    """Compare every ``(chain, metrics.tsv)`` and write the summary to ``output``."""
    from pgml.fileio import write_text

    if not metrics:
        raise InputError("no metrics tables given (--metrics CHAIN=FILE ...)")
    comparisons = [c for chain, path in metrics for c in compare(chain, Path(path))]
    chains = list(dict.fromkeys(chain for chain, _ in metrics))
    write_text(output, summary_rst(comparisons, chains))
    return comparisons
