"""The ``pgml`` console script: ``pgml <chain> <step> [options]``.

Each chain registers its steps from ``pgml.<chain>.cli.register``; so do the ground-floor tools of
:data:`TOOLS` (``pgml fetch <source>``). Step functions import their
heavy dependencies (torch, ...) lazily, so ``pgml --help`` is fast. Steps with ``--threads`` get
their thread budget set (:mod:`pgml.runtime`) before they run. Errors caused by input
(:class:`pgml.errors.InputError`) are printed as one line and exit with status 2. Before a step runs,
its output paths are checked against its inputs (:func:`pgml.cliargs.check_paths`).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from pgml import __version__
from pgml.cliargs import check_paths
from pgml.errors import InputError

#: chain name -> one-line description. A chain appears here once its subpackage has a ``cli`` module.
CHAINS: dict[str, str] = {
    "bfactor": "per-atom B-factors from X-ray structures with Meta-GNN and six other GNNs",
    "fold": "fold and function classification from atom multigraphs with IEConv (intrinsic-extrinsic convolution)",
    "grn": "gene regulatory modules and edges from expression data with GNET2 (+ CLR, ARACNE, MRNET, GENIE3)",
    "qa": "per-residue lDDT of protein models from AlphaFold2 features with an equivariant graph network (EnQA)",
    "contact": "residue contact maps from alignments: PSSM, pseudo-likelihood Potts couplings (APC-PLM)",
    "tfbs": "transcription-factor binding sites from genome, DNase-seq, ChIP-seq and RNA-seq with DeepGRN",
}
#: command groups that are not chains (ground-floor tools with steps): name -> description
TOOLS: dict[str, str] = {
    "fetch": "public data (PDB, SCOPe, CASP, AlphaFold DB, UCSC, ENCODE, Synapse, UniRef) through a shared cache",
    "report": "the summary the HTML report opens on: each chain's model beside its same-run baseline",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pgml",
        description="Machine-learning methods for proteins and their interactions with the genome.",
    )
    parser.add_argument("--version", action="version", version=f"pgml {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    chains = parser.add_subparsers(dest="chain", metavar="CHAIN", title="chains")
    chains.required = True
    for name, description in {**CHAINS, **TOOLS}.items():
        module = importlib.import_module(f"pgml.{name}.cli")
        chain_parser = chains.add_parser(name, help=description, description=description)
        steps = chain_parser.add_subparsers(dest="step", metavar="STEP", title="steps")
        steps.required = True
        module.register(steps)
        for step_parser in steps.choices.values():
            step_parser.set_defaults(_step_parser=step_parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        check_paths(args._step_parser, args)
        if hasattr(args, "threads"):
            from pgml.runtime import configure_threads

            configure_threads(args.threads)
        result = args.func(args)
    except InputError as err:
        print(f"pgml {args.chain} {args.step}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"pgml {args.chain} {args.step}: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
