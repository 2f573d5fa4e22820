"""``pgml report <step>``: what the HTML report needs beside the chains' own figures.

Steps: ``summary`` (the table the report opens on: per chain, the headline metric of the model beside
its same-run baseline, with a verdict).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from pgml.cliargs import input_paths, named_paths, output_file
from pgml.errors import InputError

log = logging.getLogger(__name__)


def _pairs(values: list[str]) -> list[tuple[str, Path]]:
    pairs = []
    for value in values:
        chain, sep, files = value.partition("=")
        if not sep or not chain or not files:
            raise InputError(f"--metrics {value!r}: expected CHAIN=FILE[,FILE...]")
        pairs += [(chain, Path(f)) for f in files.split(",") if f]
    return pairs


def _summary(args: argparse.Namespace) -> int:
    from pgml.report.summary import DOES_NOT_BEAT, UNDEFINED, summarise

    comparisons = summarise(_pairs(args.metrics), args.output)
    for c in comparisons:
        where = f" ({c.group})" if c.group else ""
        level = logging.WARNING if c.verdict in (DOES_NOT_BEAT, UNDEFINED) else logging.INFO
        log.log(level, "%s%s: %s %s vs %s %s: %s", c.chain, where, c.model, f"{c.model_value:.3f}",
                c.baseline, f"{c.baseline_value:.3f}", c.verdict)
    return 0


def register(steps: argparse._SubParsersAction) -> None:
    p = steps.add_parser("summary", help="the report's summary: each chain's model beside its same-run baseline",
                         description="Per chain, the headline metric of the model beside the strongest same-run "
                                     "baseline, with a verdict, as reStructuredText for the report's front page.")
    input_paths(p, "--metrics", nargs="+", required=True, paths=named_paths, metavar="CHAIN=FILE",
                help="a chain's evaluation metrics.tsv (repeat a chain for several files, e.g. tfbs per TF and cell)")
    output_file(p, "--output", required=True, help="the summary (.rst)")
    p.set_defaults(func=_summary)
