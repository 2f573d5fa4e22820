"""``pgml bfactor <step>``: the command-line steps of the bfactor chain.

Each step is a thin wrapper: it parses arguments and calls one library function. Heavy imports
(torch, torch_geometric) happen inside the step functions.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pgml.bfactor.params import (
    ARCHITECTURES,
    BASELINE_KINDS,
    OUTPUT_FORMATS,
    SPLIT_METHODS,
    TARGETS,
    GraphConfig,
    PredictConfig,
    SelectConfig,
    SplitConfig,
    TrainConfig,
)
from pgml.cliargs import output_dir, output_file
from pgml.fileio import check_output_dir, check_output_file
from pgml.runtime import add_device_argument, add_threads_argument
from pgml.train.optim import OPTIMIZERS


def _shard(args: argparse.Namespace) -> int:
    from pgml.structure.collection import shard_structures

    check_output_dir(args.output_dir, inputs=args.structures)
    shard_structures(args.structures, n_shards=args.shards, output_dir=args.output_dir)
    return 0


def _select(args: argparse.Namespace) -> int:
    from pgml.bfactor.select import select_structures

    check_output_file(args.output, inputs=[args.manifest])
    select_structures(
        args.manifest,
        output=args.output,
        max_resolution=args.max_resolution,
        methods=tuple(args.methods),
    )
    return 0


def _build_graphs(args: argparse.Namespace) -> int:
    from pgml.bfactor.graphs import build_graphs

    check_output_file(args.output, inputs=[args.selection])
    config = GraphConfig(target=args.target, neighbour_radius=args.neighbour_radius,
                         packing_radii=tuple(args.packing_radii), wcn_feature=args.wcn_feature,
                         contact_radius=args.contact_radius, ligand_counts=args.ligand_counts)
    build_graphs(args.selection, output=args.output, config=config)
    return 0


def _split(args: argparse.Namespace) -> int:
    from pgml.bfactor.split import split_dataset

    check_output_file(args.output, inputs=args.selection)
    check_output_file(args.report, inputs=[*args.selection, args.output], option="--report")
    config = SplitConfig(method=args.method, val_fraction=args.val_fraction, test_fraction=args.test_fraction,
                         min_seq_id=args.min_seq_id, coverage=args.coverage,
                         list=str(args.list) if args.list else None)
    split_dataset(args.selection, output=args.output, report=args.report, config=config, seed=args.seed)
    return 0


def _train(args: argparse.Namespace) -> int:
    from pgml.bfactor.training import train_model

    config = TrainConfig(
        architecture=args.architecture,
        hidden=args.hidden,
        layers=args.layers,
        dropout=args.dropout,
        optimizer=args.optimizer,
        lr=args.lr,
        weight_decay=args.weight_decay,
        batch_size=args.batch_size,
        epochs=args.epochs,
        patience=args.patience,
        seed=args.seed,
    )
    check_output_dir(args.output_dir, inputs=[*args.graphs, args.split])
    train_model(args.graphs, split=args.split, output_dir=args.output_dir, config=config, device=args.device)
    return 0


def _predict(args: argparse.Namespace) -> int:
    from pgml.bfactor.predict import EXIT_SOME_FAILED, default_model, predict_files, structures_from_split

    if args.model is None:
        args.model = default_model()
    files = list(args.files)
    if args.from_split:
        files += structures_from_split(args.from_split, subset=args.subset)
    inputs = [args.model, *files, *([args.from_split] if args.from_split else []), *([args.card] if args.card else [])]
    check_output_dir(args.output_dir, inputs=inputs)
    config = PredictConfig(format=args.format, hydrogens=args.hydrogens)
    result = predict_files(args.model, files, output_dir=args.output_dir, device=args.device, config=config,
                           card=args.card)
    return EXIT_SOME_FAILED if result.attrs.get("failed") else 0


def _baseline(args: argparse.Namespace) -> int:
    from pgml.bfactor.baseline import contact_number_baseline

    check_output_dir(args.output_dir, inputs=[*args.graphs, args.split])
    contact_number_baseline(args.graphs, split=args.split, output_dir=args.output_dir, kind=args.kind)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from pgml.bfactor.evaluate import evaluate_predictions

    check_output_dir(args.output_dir, inputs=[*args.predictions, *args.baseline])
    evaluate_predictions(args.predictions, baseline=args.baseline, output_dir=args.output_dir)
    return 0


def _explain(args: argparse.Namespace) -> int:
    from pgml.bfactor.explain import explain_atoms

    check_output_dir(args.output_dir, inputs=[args.model, args.structure])
    explain_atoms(args.model, args.structure, args.atoms, output_dir=args.output_dir, epochs=args.epochs,
                  seed=args.seed)
    return 0


def register(steps: argparse._SubParsersAction) -> None:
    """Add the bfactor steps to ``pgml bfactor`` (defaults and choices from :mod:`pgml.bfactor.params`)."""
    sel, graph, split, train = SelectConfig(), GraphConfig(), SplitConfig(), TrainConfig()
    predict = PredictConfig()
    p = steps.add_parser("shard", help="split a structure collection into N manifest files")
    p.add_argument("--structures", nargs="+", required=True, type=Path,
                   help="structure files, directories of them, or text files listing one path per line")
    p.add_argument("--shards", type=int, required=True, help="number of manifest files (one job each)")
    output_dir(p, "--output-dir", type=Path, required=True, help="writes shard_<i>.txt, i = 0..N-1")
    p.set_defaults(func=_shard)

    p = steps.add_parser("select", help="keep X-ray entries under a resolution cutoff with varying B-factors")
    p.add_argument("--manifest", type=Path, required=True, help="shard_<i>.txt from `shard`")
    output_file(p, "--output", type=Path, required=True,
                   help="TSV: id, file, method, resolution, n_atoms, status (kept|dropped), reason")
    p.add_argument("--max-resolution", type=float, default=sel.max_resolution,
                   help="keep entries with resolution < this (Å)")
    p.add_argument("--methods", nargs="+", default=list(sel.methods), help="accepted experimental methods")
    p.set_defaults(func=_select)

    p = steps.add_parser("build-graphs", help="atom graphs (heavy atoms, covalent bonds) for one shard")
    p.add_argument("--selection", type=Path, required=True, help="TSV from `select`")
    output_file(p, "--output", type=Path, required=True, help=".pt file with a list of torch_geometric Data")
    p.add_argument("--target", choices=TARGETS, default=graph.target, help="raw B-factor (Å²) or z-scored per protein")
    p.add_argument("--neighbour-radius", type=float, default=graph.neighbour_radius,
                   help="radius for the neighbour-count feature (Å)")
    p.add_argument("--packing-radii", nargs="*", type=float, default=list(graph.packing_radii),
                   help="extra neighbour-count features, one per radius (Å), e.g. 8 12 15")
    p.add_argument("--wcn-feature", action="store_true", default=graph.wcn_feature,
                   help="weighted contact number (sum 1/d² within 15 Å) as a node feature")
    p.add_argument("--contact-radius", type=float, default=graph.contact_radius,
                   help="non-covalent edges between heavy atoms within this distance (Å); 0: covalent bonds only")
    p.add_argument("--ligand-counts", action="store_true", default=graph.ligand_counts,
                   help="ligand and metal heavy atoms (not water) count in the packing features")
    add_threads_argument(p)
    p.set_defaults(func=_build_graphs)

    p = steps.add_parser("split", help="train/validation/test split of the kept structures")
    p.add_argument("--selection", nargs="+", type=Path, required=True, help="TSVs from `select`")
    output_file(p, "--output", type=Path, required=True, help="TSV: id, file, split, group")
    output_file(p, "--report", type=Path, required=True, help="merged selection report (kept and dropped)")
    p.add_argument("--method", choices=SPLIT_METHODS, default=split.method,
                   help="identity: no test entry shares a sequence cluster with training (mmseqs2); "
                        "random: by seed; list: from --list")
    p.add_argument("--val-fraction", type=float, default=split.val_fraction)
    p.add_argument("--test-fraction", type=float, default=split.test_fraction)
    p.add_argument("--min-seq-id", type=float, default=split.min_seq_id,
                   help="identity: chains at or above this sequence identity are clustered together")
    p.add_argument("--coverage", type=float, default=split.coverage,
                   help="identity: alignment coverage for clustering (mmseqs -c)")
    p.add_argument("--list", type=Path, default=None, help="list: file with one `id split` per line")
    p.add_argument("--seed", type=int, default=0)
    add_threads_argument(p)
    p.set_defaults(func=_split)

    p = steps.add_parser("train", help="train one architecture (resumes from the last checkpoint)")
    p.add_argument("--graphs", nargs="+", type=Path, required=True, help=".pt files from `build-graphs`")
    p.add_argument("--split", type=Path, required=True, help="TSV from `split`")
    p.add_argument("--architecture", choices=ARCHITECTURES, required=True)
    output_dir(p, "--output-dir", type=Path, required=True,
                   help="writes model.ckpt (best), last.ckpt, metrics.tsv, learning_curve.png")
    p.add_argument("--hidden", type=int, default=train.hidden)
    p.add_argument("--layers", type=int, default=train.layers)
    p.add_argument("--dropout", type=float, default=train.dropout)
    p.add_argument("--optimizer", choices=OPTIMIZERS, default=train.optimizer)
    p.add_argument("--lr", type=float, default=train.lr)
    p.add_argument("--weight-decay", type=float, default=train.weight_decay)
    p.add_argument("--batch-size", type=int, default=train.batch_size, help="proteins per batch")
    p.add_argument("--epochs", type=int, default=train.epochs)
    p.add_argument("--patience", type=int, default=train.patience, help="early stopping on validation CC")
    p.add_argument("--seed", type=int, default=train.seed)
    add_threads_argument(p)
    add_device_argument(p)
    p.set_defaults(func=_train)

    p = steps.add_parser("predict", help="predict B-factors for structures with a trained model",
                         description="Predict per-atom B-factors of any protein structure (experimental "
                                     "B-factors are not needed). Exit status 0: all written; 2: nothing "
                                     "written (bad model, options or every input); 3: some inputs failed "
                                     "(each named on one log line) and the others were written.")
    p.add_argument("--model", type=Path, default=None,
                   help="model.ckpt, or a directory holding one (default: the pretrained model in "
                        "resources/models/bfactor, a z-score GCN trained on X-ray structures)")
    output_dir(p, "--output-dir", type=Path, required=True,
                   help="writes <stem>.pdb or .cif (predicted B in the B column), <stem>.tsv (per atom) and "
                        "<stem>.residues.tsv (per residue) per input, plus predictions.tsv with all atoms")
    p.add_argument("--card", type=Path, default=None,
                   help="the model card (default: model.json beside the model); predict refuses a model whose "
                        "card is missing or describes other settings")
    p.add_argument("--from-split", type=Path, help="also predict the structures of a split TSV")
    p.add_argument("--format", choices=OUTPUT_FORMATS, default=predict.format,
                   help="written structure: pdb, cif (mmCIF), or auto (mmCIF when chain IDs or the atom count "
                        "do not fit the PDB format)")
    p.add_argument("--hydrogens", action="store_true", default=predict.hydrogens,
                   help="hydrogens in the written structure take their heavy atom's prediction (else 0)")
    p.add_argument("--subset", default="test", help="which split rows to take with --from-split")
    add_threads_argument(p)
    add_device_argument(p)
    p.add_argument("files", nargs="*", type=Path, help="PDB/mmCIF files, gzipped or not")
    p.set_defaults(func=_predict)

    p = steps.add_parser("baseline", help="packing baseline: linear model of B on contact number or 1/WCN")
    p.add_argument("--graphs", nargs="+", type=Path, required=True)
    p.add_argument("--kind", choices=BASELINE_KINDS, default="cn",
                   help="cn: atoms within the neighbour radius; wcn: inverse weighted contact number "
                        "(1/sum 1/d^2 within 15 Å)")
    p.add_argument("--split", type=Path, required=True)
    output_dir(p, "--output-dir", type=Path, required=True, help="writes predictions.tsv like `predict`")
    p.set_defaults(func=_baseline)

    p = steps.add_parser("evaluate", help="CC, MAE, MAPE, RRSE per protein and per architecture, with plots")
    p.add_argument("--predictions", nargs="+", type=Path, required=True,
                   help="prediction directories, named <arch>/run<r> (from `predict`)")
    p.add_argument("--baseline", nargs="+", type=Path, required=True,
                   help="directories from `baseline`, one per kind; the method is the directory name "
                        "(baseline, baseline_wcn)")
    output_dir(p, "--output-dir", type=Path, required=True)
    p.set_defaults(func=_evaluate)

    p = steps.add_parser("explain", help="GNNExplainer feature importance for chosen atoms ([ying2019])")
    p.add_argument("--model", type=Path, required=True, help="model.ckpt, or a directory holding one")
    p.add_argument("--structure", type=Path, required=True, help="PDB/mmCIF file")
    p.add_argument("--atoms", nargs="+", required=True, help="CHAIN:RESSEQ[INS]:ATOM, e.g. A:45:CA")
    output_dir(p, "--output-dir", type=Path, required=True,
                   help="writes feature_importance.tsv and feature_importance.png")
    p.add_argument("--epochs", type=int, default=200, help="GNNExplainer optimisation steps")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_explain)
