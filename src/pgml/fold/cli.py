"""``pgml fold <step>``: shard, build-graphs, split, train, evaluate, predict, pooling-table.

Flag defaults and choices come from :mod:`pgml.fold.params`.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import fields
from pathlib import Path

from pgml.cliargs import output_dir, output_file
from pgml.fold.params import (
    CA_ONLY_POLICIES,
    CONVOLUTIONS,
    HBOND_SOURCES,
    LABEL_SOURCES,
    NEIGHBOURHOODS,
    NONSTANDARD_POLICIES,
    OPTIMIZERS,
    POOLINGS,
    REPRESENTATIONS,
    SPLIT_METHODS,
    UNITS,
    GraphConfig,
    ModelConfig,
    SplitConfig,
    TrainConfig,
)

log = logging.getLogger(__name__)


def _config(step: str, cls, **values):
    """``cls(**values)``; an invalid value is one line naming the setting (exit 2), not a traceback."""
    try:
        return cls(**values)
    except ValueError as exc:
        from pgml.errors import InputError

        raise InputError(f"{exc} (check the {step} settings)") from None


def _shard(args: argparse.Namespace) -> int:
    from pgml.structure.collection import shard_structures

    shard_structures(args.structures, args.shards, args.output_dir)
    return 0


def _build(args: argparse.Namespace) -> int:
    from pgml.fold.steps import build_graphs

    cfg = _config("build-graphs", GraphConfig, unit=args.unit, fragment_length=args.fragment_length,
                  hbond_source=args.hbond_source, ca_only=args.ca_only, nonstandard=args.nonstandard)
    build_graphs(args.manifest, args.output, args.records, cfg)
    return 0


def _split(args: argparse.Namespace) -> int:
    from pgml.fold.steps import make_split
    from pgml.runtime import n_threads

    cfg = _config("split", SplitConfig, **{f.name: getattr(args, f.name) for f in fields(SplitConfig)})
    make_split(args.records, args.output, args.audit, cfg, label_table=args.label_table, split_list=args.list,
               seed=cfg.seed, threads=n_threads())
    return 0


def _model_config(args: argparse.Namespace) -> ModelConfig:
    return _config("train", ModelConfig, **{f.name: (tuple(getattr(args, f.name))
                                                     if isinstance(getattr(args, f.name), list)
                                                     else getattr(args, f.name)) for f in fields(ModelConfig)})


def _train_config(args: argparse.Namespace) -> TrainConfig:
    return _config("train", TrainConfig, **{f.name: getattr(args, f.name) for f in fields(TrainConfig)})


def _train(args: argparse.Namespace) -> int:
    from pgml.fold.steps import train_model

    model, train = _model_config(args), _train_config(args)
    result = train_model(args.graphs, args.split, args.output_dir, model, train, seed=args.seed, device=args.device)
    log.info("best val_acc %.3f after %d epochs: %s", result.best_score, result.epochs_run, result.best_path)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from pgml.fold.steps import evaluate
    from pgml.runtime import n_threads

    table = evaluate(args.graphs, args.split, args.runs, args.output_dir, seed=args.seed, threads=n_threads())
    print(table.to_string(index=False))
    if args.audit:
        print(Path(args.audit).read_text())
    return 0


def _predict(args: argparse.Namespace) -> int:
    from pgml.fold.predict import predict_structures
    from pgml.runtime import pick_device

    if args.batch_size < 1:
        from pgml.errors import InputError

        raise InputError(f"fold predict: batch_size must be >= 1, got {args.batch_size}")
    graph = {"unit": args.unit, "fragment_length": args.fragment_length, "hbond_source": args.hbond_source}
    table = predict_structures(args.model, args.structures, args.output_dir, graph=graph,
                               batch_size=args.batch_size, device=str(pick_device(args.device)))
    print(table[["id", "structure", "predicted", "predicted_name"]].to_string(index=False))
    return 0


def _pooling_table(args: argparse.Namespace) -> int:
    from pgml.fold.pooling import write_pooling_table

    print(write_pooling_table(args.output))
    return 0


def register(steps: argparse._SubParsersAction) -> None:
    """Add the fold steps to ``pgml fold``."""
    from pgml.runtime import add_device_argument, add_threads_argument

    g, s, m, t = GraphConfig(), SplitConfig(), ModelConfig(), TrainConfig()
    p = steps.add_parser("shard", help="cut a structure collection into shard lists")
    p.add_argument("--structures", nargs="+", required=True, help="files, directories or list files")
    p.add_argument("--shards", type=int, default=1)
    output_dir(p, "--output-dir", type=Path, required=True)
    p.set_defaults(func=_shard)

    p = steps.add_parser("build-graphs", help="protein multigraphs (atoms, bonds, H-bonds, hops, pooling)")
    p.add_argument("--manifest", type=Path, required=True, help="shard list: one structure path per line")
    output_file(p, "--output", type=Path, required=True, help="samples (.pt)")
    output_file(p, "--records", type=Path, required=True, help="one TSV row per sample")
    p.add_argument("--unit", choices=UNITS, default=g.unit, help="one sample per entry, chain or fragment")
    p.add_argument("--fragment-length", type=int, default=g.fragment_length, help="residues per fragment")
    p.add_argument("--hbond-source", choices=HBOND_SOURCES, default=g.hbond_source,
                   help="dssp: DSSP's rules computed in pgml (the same pairs and letters as mkdssp, "
                        "faster); mkdssp: the program; auto: mkdssp, then pydssp when mkdssp is missing or fails")
    p.add_argument("--ca-only", choices=CA_ONLY_POLICIES, default=g.ca_only,
                   help="CA-only models: refuse, or build the residue graph")
    p.add_argument("--nonstandard", choices=NONSTANDARD_POLICIES, default=g.nonstandard)
    p.set_defaults(func=_build)

    p = steps.add_parser("split", help="labels, train/val/test split and leakage audit")
    p.add_argument("--records", type=Path, nargs="+", required=True)
    output_file(p, "--output", type=Path, required=True, help="samples.tsv: id, entry, label, split, ...")
    output_file(p, "--audit", type=Path, required=True, help="leakage audit (text)")
    p.add_argument("--labels", choices=LABEL_SOURCES, default=s.labels)
    p.add_argument("--label-table", type=Path, default=None, help="id<TAB>label (labels 'table')")
    p.add_argument("--method", choices=SPLIT_METHODS, default=s.method)
    p.add_argument("--list", type=Path, default=None, help="split list 'id split' (method 'list')")
    for name in ("val_fraction", "test_fraction", "min_seq_id", "coverage", "alpha_min", "beta_min", "other_max"):
        p.add_argument(f"--{name.replace('_', '-')}", type=float, default=getattr(s, name))
    p.add_argument("--seed", type=int, default=s.seed)
    add_threads_argument(p)
    p.set_defaults(func=_split)

    p = steps.add_parser("train", help="train the IEConv network (one run)")
    p.add_argument("--graphs", type=Path, nargs="+", required=True)
    p.add_argument("--split", type=Path, required=True)
    output_dir(p, "--output-dir", type=Path, required=True)
    p.add_argument("--widths", type=int, nargs="+", default=list(m.widths))
    p.add_argument("--radii", type=float, nargs="+", default=list(m.radii))
    for name in ("blocks", "basis", "kernel_hidden", "mlp_hidden", "embedding"):
        p.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(m, name))
    p.add_argument("--convolution", choices=CONVOLUTIONS, default=m.convolution)
    p.add_argument("--neighbourhood", choices=NEIGHBOURHOODS, default=m.neighbourhood)
    p.add_argument("--pooling", choices=POOLINGS, default=m.pooling)
    p.add_argument("--representation", choices=REPRESENTATIONS, default=m.representation)
    for name in ("dropout_conv", "dropout_mlp", "atom_dropout", "feature_noise"):
        p.add_argument(f"--{name.replace('_', '-')}", type=float, default=getattr(m, name))
    for name in ("epochs", "batch_size", "lr_halving_epochs", "patience", "n_runs"):
        p.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(t, name))
    p.add_argument("--optimizer", choices=OPTIMIZERS, default=t.optimizer)
    for name in ("lr", "momentum", "weight_decay", "min_lr", "grad_clip", "coord_noise", "scale_min", "scale_max"):
        p.add_argument(f"--{name.replace('_', '-')}", type=float, default=getattr(t, name))
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=t.augment)
    p.add_argument("--seed", type=int, default=0)
    add_threads_argument(p)
    add_device_argument(p)
    p.set_defaults(func=_train)

    p = steps.add_parser("evaluate", help="test accuracy (mean ± sd over runs) vs the baselines")
    p.add_argument("--graphs", type=Path, nargs="+", required=True)
    p.add_argument("--split", type=Path, required=True)
    p.add_argument("--runs", type=Path, nargs="+", required=True, help="train output directories")
    p.add_argument("--audit", type=Path, default=None, help="leakage audit of `split`, printed with the accuracies")
    output_dir(p, "--output-dir", type=Path, required=True,
                   help="writes metrics.tsv, predictions.tsv, confusion.png, summary.txt")
    p.add_argument("--seed", type=int, default=0)
    add_threads_argument(p)
    p.set_defaults(func=_evaluate)

    p = steps.add_parser("predict", help="classify structures with a trained model (probabilities, top 5, embeddings)")
    p.add_argument("--model", type=Path, required=True, help="model.ckpt of `pgml fold train` (model.json beside it)")
    output_dir(p, "--output-dir", type=Path, required=True,
               help="writes predictions.tsv, top5.tsv, embeddings.npy, embedding_ids.txt")
    p.add_argument("structures", type=Path, nargs="+", help="PDB / mmCIF files (gzipped or not)")
    p.add_argument("--unit", choices=UNITS, default=None, help="default: the model's (refused when it differs)")
    p.add_argument("--fragment-length", type=int, default=None, help="default: the model's")
    p.add_argument("--hbond-source", choices=HBOND_SOURCES, default=None, help="default: the model's")
    p.add_argument("--batch-size", type=int, default=8)
    add_threads_argument(p)
    add_device_argument(p)
    p.set_defaults(func=_predict)

    p = steps.add_parser("pooling-table", help="recompute resources/fold/aa_pooling.tsv")
    output_file(p, "--output", type=Path, default=None)
    p.set_defaults(func=_pooling_table)
