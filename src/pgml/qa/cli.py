"""``pgml qa <step>``: the command-line steps of the qa chain (EnQA).

Steps: ``simulate`` (demo targets from native structures), ``build-graphs`` (features and labels of
every model of some targets), ``split`` (targets by sequence identity), ``train``, ``predict``
(per-residue lDDT as TSV and B column), ``score`` (true lDDT, GDT-TS and TM-score of models
against a native, per chain), ``importance`` (feature permutation) and ``evaluate`` (against the true lDDT, with the AF2Consensus
and AF2-pLDDT baselines). Heavy imports happen inside the step functions.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from pgml.cliargs import output_dir, output_file
from pgml.qa.params import (
    ARCHITECTURES,
    REFERENCE_FORMATS,
    RELEASED_FEATURE_METHODS,
    RELEASED_METHOD_NAMES,
    FeatureConfig,
    SimulateConfig,
    SplitConfig,
    TrainConfig,
)
from pgml.runtime import add_device_argument, add_threads_argument
from pgml.train.optim import OPTIMIZERS

log = logging.getLogger(__name__)
OUTPUT_FORMATS = ("auto", "pdb", "cif")


def _simulate(args: argparse.Namespace) -> int:
    from pgml.qa.simulate import simulate_target

    config = SimulateConfig(n_decoys=args.n_decoys, max_perturbation=args.max_perturbation,
                            max_residues=args.max_residues)
    for native in args.natives:
        simulate_target(native, args.output_dir, config, seed=args.seed)
    return 0


def _build_graphs(args: argparse.Namespace) -> int:
    import torch

    from pgml.fileio import atomic_path
    from pgml.qa.samples import target_samples
    from pgml.runtime import n_threads

    config = FeatureConfig(n_references=args.n_references, graph_radius=args.graph_radius,
                           sh_degree=args.sh_degree, reference_format=args.reference_format)
    samples = [s for target in args.targets for s in target_samples(target, config, workers=n_threads())]
    with atomic_path(args.output) as tmp:
        torch.save(samples, tmp)
    log.info("%d models of %d targets -> %s", len(samples), len(args.targets), args.output)
    return 0


def _split(args: argparse.Namespace) -> int:
    from pgml.qa.split import split_targets
    from pgml.runtime import n_threads

    config = SplitConfig(val_fraction=args.val_fraction, test_fraction=args.test_fraction,
                         min_seq_id=args.min_seq_id, coverage=args.coverage)
    lists = {name: path for name, path in (("train", args.train_list), ("val", args.val_list),
                                           ("test", args.test_list)) if path is not None}
    split_targets(args.graphs, args.output, config, seed=args.seed, threads=n_threads(), lists=lists or None)
    return 0


def _train(args: argparse.Namespace) -> int:
    from pgml.qa.training import train_model

    config = TrainConfig(architecture=args.architecture, hidden=args.hidden, resnet_blocks=args.resnet_blocks,
                         resnet_channels=args.resnet_channels, egnn_layers=args.egnn_layers,
                         lddt_weight=args.lddt_weight, optimizer=args.optimizer, lr=args.lr,
                         weight_decay=args.weight_decay, epochs=args.epochs, patience=args.patience, seed=args.seed)
    train_model(args.graphs, args.split, args.output_dir, config, device=args.device)
    return 0


def _predict(args: argparse.Namespace) -> int:
    from pgml.errors import InputError
    from pgml.qa.predict import (
        check_graph_settings,
        feature_config_for,
        load_module,
        model_settings,
        predict_files,
    )
    from pgml.qa.published import is_released, load_released, refuse_chapter_features
    from pgml.qa.samples import target_samples
    from pgml.qa.training import load_samples, read_split, samples_of

    if is_released(args.model):
        refuse_chapter_features(load_released(args.model)[1], args.model)
    module = load_module(args.model, args.device)
    settings = model_settings(module, args.model)
    samples = load_samples(args.graphs or [])
    if args.split:
        samples = samples_of(samples, read_split(args.split), args.subset)
    check_graph_settings(settings, samples)
    if args.targets:
        config, require_distogram = feature_config_for(settings, {
            "n_references": args.n_references, "graph_radius": args.graph_radius, "sh_degree": args.sh_degree,
            "reference_format": args.reference_format})
        samples += [s for target in args.targets
                    for s in target_samples(target, config, require_distogram=require_distogram)]
    if not samples:
        raise InputError("nothing to predict (no --graphs models in the subset, no --targets)")
    predict_files(module, samples, args.output_dir, fmt=args.format)
    return 0


def _import_model(args: argparse.Namespace) -> int:
    from pgml.qa.published import import_enqa

    n_parameters, card = import_enqa(args.enqa, args.method, args.output)
    print(f"{args.method}: {n_parameters} parameters -> {args.output} (card {card})")
    return 0


def _released_features(args: argparse.Namespace) -> int:
    from pgml.qa.released_features import write_released_features

    arrays = write_released_features(args.model, args.alphafold_dir, args.method, args.output)
    print(f"{args.model}: {arrays['pos'].shape[0]} residues, f1d {arrays['f1d'].shape}, f2d {arrays['f2d'].shape}, "
          f"{arrays['edge_index'].shape[1]} edges -> {args.output}")
    return 0


def _predict_released(args: argparse.Namespace) -> int:
    from pgml.errors import InputError
    from pgml.qa.released_predict import predict_released

    if bool(args.features) == bool(args.structures) or bool(args.structures) != bool(args.alphafold_dir):
        raise InputError("give either --features FILE.npz ... or --structures PDB ... with --alphafold-dir DIR")
    table = predict_released(args.model, args.features or [], args.output_dir, structures=args.structures or [],
                             alphafold_dir=args.alphafold_dir)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep="n/a"))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from pgml.qa.evaluate import evaluate_predictions

    evaluate_predictions(args.predictions, args.output_dir)
    return 0


def _importance(args: argparse.Namespace) -> int:
    from pgml.fileio import atomic_dir
    from pgml.qa.importance import permutation_importance, plot_importance
    from pgml.qa.predict import load_module
    from pgml.qa.training import load_samples, read_split, samples_of
    from pgml.tables import write_tsv

    if args.repeats < 1:
        from pgml.errors import InputError

        raise InputError(f"--repeats must be at least 1, got {args.repeats}")
    module = load_module(args.model, "cpu")
    samples = samples_of(load_samples(args.graphs), read_split(args.split), args.subset)
    if not samples:
        from pgml.errors import InputError

        raise InputError(f"no {args.subset} models", path=args.split)
    from pgml.qa.predict import check_feature_sizes

    check_feature_sizes(module, samples)
    table = permutation_importance(module, samples, repeats=args.repeats, seed=args.seed)
    with atomic_dir(args.output_dir) as tmp:
        write_tsv(table, tmp / "feature_importance.tsv", float_format="%.5f")
        plot_importance(table, tmp / "feature_importance.png")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    return 0


def _score(args: argparse.Namespace) -> int:
    from pgml.qa.score import score_models

    table = score_models(args.native, args.models)
    if args.output:
        from pgml.tables import write_tsv

        write_tsv(table, args.output, float_format="%.4f", na_rep="n/a")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep="n/a"))
    return 0


def _add_feature_args(p: argparse.ArgumentParser, *, from_model: bool = False) -> None:
    """Feature flags; with ``from_model`` (predict) they default to the trained model's settings."""
    feat = FeatureConfig()
    default = (lambda value: None) if from_model else (lambda value: value)  # noqa: E731
    note = " (default: the model's setting)" if from_model else ""
    p.add_argument("--n-references", type=int, default=default(feat.n_references),
                   help=f"reference predictions used (fewer on disk are reused in turn){note}")
    p.add_argument("--graph-radius", type=float, default=default(feat.graph_radius),
                   help=f"Cα radius of the residue graph (Å){note}")
    p.add_argument("--sh-degree", type=int, default=default(feat.sh_degree),
                   help=f"highest degree of the spherical harmonics{note}")
    p.add_argument("--reference-format", choices=REFERENCE_FORMATS, default=default(feat.reference_format),
                   help="alphafold: result pkls + PDBs; colabfold: ranked PDBs + scores JSON (+ --save-all "
                        "pickles: distogram channels on); pdb: structures only (pLDDT from the B column, "
                        f"distogram channels off); auto: the layout of the directory{note}")


def register(steps: argparse._SubParsersAction) -> None:
    """Add the qa steps to ``pgml qa`` (defaults from :mod:`pgml.qa.params`)."""
    sim, split, train = SimulateConfig(), SplitConfig(), TrainConfig()
    p = steps.add_parser("simulate", help="demo targets: decoys + simulated AlphaFold outputs from natives")
    p.add_argument("--natives", nargs="+", type=Path, required=True, help="native structure files")
    output_dir(p, "--output-dir", type=Path, required=True, help="writes <native>/{native.pdb,models,alphafold}")
    p.add_argument("--n-decoys", type=int, default=sim.n_decoys)
    p.add_argument("--max-perturbation", type=float, default=sim.max_perturbation,
                   help="RMS displacement of the most perturbed decoy (Å)")
    p.add_argument("--max-residues", type=int, default=sim.max_residues, help="natives are cut to this length")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_simulate)

    p = steps.add_parser("build-graphs", help="features and labels of every model of some targets")
    p.add_argument("--targets", nargs="+", type=Path, required=True,
                   help="target directories: models/, alphafold/ and optionally native.pdb|cif")
    output_file(p, "--output", type=Path, required=True, help=".pt file with a list of torch_geometric Data")
    _add_feature_args(p)
    add_threads_argument(p)
    p.set_defaults(func=_build_graphs)

    p = steps.add_parser("split", help="train/validation/test targets by sequence identity (MMseqs2) or by lists")
    p.add_argument("--graphs", nargs="+", type=Path, required=True, help=".pt files from `build-graphs`")
    output_file(p, "--output", type=Path, required=True, help="TSV: id (target), split, group")
    p.add_argument("--val-fraction", type=float, default=split.val_fraction)
    p.add_argument("--test-fraction", type=float, default=split.test_fraction)
    p.add_argument("--min-seq-id", type=float, default=split.min_seq_id)
    p.add_argument("--coverage", type=float, default=split.coverage)
    p.add_argument("--train-list", type=Path, default=split.train_list,
                   help="list split: training target ids, one per line (e.g. EnQA's af2_train.txt)")
    p.add_argument("--val-list", type=Path, default=split.val_list,
                   help="list split: validation target ids (default: --val-fraction of the training targets)")
    p.add_argument("--test-list", type=Path, default=split.test_list,
                   help="list split: test target ids (e.g. EnQA's af2_test.txt)")
    p.add_argument("--seed", type=int, default=0)
    add_threads_argument(p)
    p.set_defaults(func=_split)

    p = steps.add_parser("train", help="train EnQA (resumes from the last checkpoint)")
    p.add_argument("--graphs", nargs="+", type=Path, required=True, help=".pt files from `build-graphs`")
    p.add_argument("--split", type=Path, required=True, help="TSV from `split`")
    output_dir(p, "--output-dir", type=Path, required=True,
                   help="writes model.ckpt (best), last.ckpt, metrics.tsv, learning_curve.png")
    p.add_argument("--architecture", choices=ARCHITECTURES, default=train.architecture,
                   help="egnn: node-level EGNN; sh: spherical-harmonics graph convolution")
    p.add_argument("--hidden", type=int, default=train.hidden)
    p.add_argument("--resnet-blocks", type=int, default=train.resnet_blocks)
    p.add_argument("--resnet-channels", type=int, default=train.resnet_channels)
    p.add_argument("--egnn-layers", type=int, default=train.egnn_layers)
    p.add_argument("--lddt-weight", type=float, default=train.lddt_weight, help="weight of the lDDT MSE in the loss")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default=train.optimizer)
    p.add_argument("--lr", type=float, default=train.lr)
    p.add_argument("--weight-decay", type=float, default=train.weight_decay)
    p.add_argument("--epochs", type=int, default=train.epochs)
    p.add_argument("--patience", type=int, default=train.patience, help="early stopping on validation loss")
    p.add_argument("--seed", type=int, default=train.seed)
    add_threads_argument(p)
    add_device_argument(p)
    p.set_defaults(func=_train)

    p = steps.add_parser("predict", help="per-residue lDDT of models (TSV + B column)")
    p.add_argument("--model", type=Path, required=True, help="model.ckpt from `train`")
    p.add_argument("--graphs", nargs="*", type=Path, help=".pt files from `build-graphs`")
    p.add_argument("--split", type=Path, help="with --graphs: only the targets of --subset")
    p.add_argument("--subset", choices=("train", "val", "test"), default="test")
    p.add_argument("--targets", nargs="*", type=Path, help="target directories to featurise and score")
    output_dir(p, "--output-dir", type=Path, required=True,
                   help="writes residues.tsv, models.tsv, structures/<target>/<model>.pdb|cif")
    p.add_argument("--format", choices=OUTPUT_FORMATS, default="auto", help="structure format written")
    _add_feature_args(p, from_model=True)
    add_threads_argument(p)
    add_device_argument(p)
    p.set_defaults(func=_predict)

    p = steps.add_parser("import-model", help="import EnQA's published weights as the released network")
    p.add_argument("--enqa", type=Path, required=True,
                   help="the authors' weights file (pgml fetch weights --ids enqa:<method>)")
    p.add_argument("--method", choices=RELEASED_METHOD_NAMES, required=True,
                   help="the EnQA method the file holds (names of the authors' EnQA.py)")
    output_file(p, "--output", type=Path, required=True, help="checkpoint; model.json is written beside it")
    p.set_defaults(func=_import_model)

    p = steps.add_parser("released-features",
                         help="EnQA's released-network inputs from a model PDB and AlphaFold's outputs (.npz)")
    p.add_argument("--model", type=Path, required=True, help="the model structure to score (PDB/mmCIF)")
    p.add_argument("--alphafold-dir", type=Path, required=True,
                   help="AlphaFold's output for the target: result_model_{1..5}.pkl and relaxed_model_{1..5}.pdb")
    p.add_argument("--method", choices=RELEASED_FEATURE_METHODS, required=True,
                   help="the EnQA method whose inputs to build (names of the authors' EnQA.py)")
    output_file(p, "--output", type=Path, required=True,
                help=".npz: f1d, f2d, pos, edge_index, cmap and the named parts (one_hot, plddt, af2_qa, ...)")
    p.set_defaults(func=_released_features)

    p = steps.add_parser("predict-released", help="per-residue lDDT from an imported EnQA model on EnQA's features")
    p.add_argument("--model", type=Path, required=True, help="model.ckpt from `import-model`")
    p.add_argument("--features", type=Path, nargs="+",
                   help=".npz files with f1d, f2d, pos, edge_index, cmap (`released-features` or EnQA's own code)")
    p.add_argument("--structures", type=Path, nargs="+",
                   help="instead of --features: model structures of one target, featurised as `released-features`")
    p.add_argument("--alphafold-dir", type=Path, help="with --structures: AlphaFold's output for the target")
    output_dir(p, "--output-dir", type=Path, required=True, help="writes residues.tsv and models.tsv")
    add_threads_argument(p)
    p.set_defaults(func=_predict_released)

    p = steps.add_parser("importance", help="feature-permutation importance of a trained model (figure 5.5)")
    p.add_argument("--model", type=Path, required=True, help="model.ckpt from `train`")
    p.add_argument("--graphs", nargs="+", type=Path, required=True, help=".pt files from `build-graphs`")
    p.add_argument("--split", type=Path, required=True, help="TSV from `split`")
    p.add_argument("--subset", choices=("train", "val", "test"), default="test")
    p.add_argument("--repeats", type=int, default=3, help="permutations per feature group")
    p.add_argument("--seed", type=int, default=0)
    output_dir(p, "--output-dir", type=Path, required=True, help="writes feature_importance.tsv and .png")
    add_threads_argument(p)
    p.set_defaults(func=_importance)

    p = steps.add_parser("score", help="true Cα-lDDT, GDT-TS and TM-score of models against a native")
    p.add_argument("--native", type=Path, required=True, help="the experimental structure")
    p.add_argument("--models", type=Path, nargs="+", required=True, help="model structures (PDB/mmCIF)")
    output_file(p, "--output", type=Path, help="also write the table as TSV")
    p.set_defaults(func=_score)

    p = steps.add_parser("evaluate", help="metrics against the true lDDT with the AF2 baselines")
    p.add_argument("--predictions", type=Path, required=True, help="output directory of `predict`")
    output_dir(p, "--output-dir", type=Path, required=True, help="writes metrics.tsv, scatter_*.png")
    p.set_defaults(func=_evaluate)
