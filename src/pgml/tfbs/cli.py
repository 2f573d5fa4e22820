"""``pgml tfbs <step>``: the command-line steps of the tfbs chain (DeepGRN [deepgrn]).

Steps: ``simulate`` (demo inputs), ``bin-genome``, ``label-bins``, ``dnase-coverage``,
``expression-pca``, ``annotate-bins`` (preprocessing), ``train``, ``import-model`` (the authors' published
Keras models), ``predict`` and ``evaluate``. Each
step parses arguments and calls library functions; torch-heavy modules are imported inside the steps.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import fields
from pathlib import Path

from pgml.cliargs import input_paths, named_paths, output_dir, output_file
from pgml.errors import InputError
from pgml.fileio import check_output_dir, check_output_file
from pgml.tfbs.params import (
    ANNOTATIONS,
    DNASE_PEAK_FOLD,
    EFFECTIVE_GENOME_SIZE,
    EXPLAIN_MOTIFS,
    EXPLAIN_TOP,
    MERGES,
    MOTIF_PVALUE,
    PREDICT_BATCH_SIZE,
    PREDICT_WORKERS,
    TEST_CHROMS,
    VALID_CHROMS,
    VARIANTS,
    ModelConfig,
    SimulateConfig,
    TrainConfig,
)

log = logging.getLogger(__name__)


def _named(items: list[str], flag: str) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise InputError(f"{flag} expects NAME=FILE, got {item!r}")
        if name in out:
            raise InputError(f"{flag}: {name!r} given twice")
        out[name] = Path(path)
    return out


def _finite_flags(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Run ``func`` only when every float flag is a number (``--lr nan`` or ``--precision inf`` would
    train or threshold on garbage): one line naming the flag otherwise."""
    @functools.wraps(func)
    def checked(args: argparse.Namespace) -> int:
        for name, value in vars(args).items():
            if isinstance(value, float) and not math.isfinite(value):
                raise InputError(f"--{name.replace('_', '-')} must be a finite number, got {value}")
        return func(args)
    return checked


@contextlib.contextmanager
def _new_dirs_removed_on_error(path: Path) -> Iterator[None]:
    """Create ``path``'s parent; on an error remove the folders this created, when still empty."""
    created = [p for p in [path.parent, *path.parent.parents] if not p.exists()]
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        yield
    except BaseException:
        for folder in created:  # deepest first
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _simulate(args: argparse.Namespace) -> int:
    from pgml.tfbs.simulate import simulate

    check_output_dir(args.output_dir)
    config = SimulateConfig(**{f.name: getattr(args, f.name) for f in fields(SimulateConfig)})
    print(json.dumps(simulate(args.output_dir, config, seed=args.seed)))
    return 0


def _bin_genome(args: argparse.Namespace) -> int:
    from pgml.tables import write_tsv
    from pgml.tfbs.bins import bin_genome, read_chrom_sizes

    check_output_file(args.output, inputs=[args.genome])
    sizes = read_chrom_sizes(args.genome)
    bins = bin_genome(sizes, args.chroms, args.blacklist, sizes_path=args.genome)
    bins.save(args.output)
    summary = bins.summary()
    if args.summary:
        write_tsv(summary, args.summary)
    print(summary.to_string(index=False))
    return 0


def _label_bins(args: argparse.Namespace) -> int:
    from pgml.tables import write_tsv
    from pgml.tfbs.bins import BinSet
    from pgml.tfbs.labels import label_bins, label_counts, parse_peak_spec

    peaks = [parse_peak_spec(p) for p in args.peaks]
    check_output_file(args.output, inputs=[args.bins, *(p for _, c, r in peaks for p in (c, r))])
    bins = BinSet.load(args.bins)
    labels = label_bins(bins, args.tf, peaks)
    counts = label_counts(labels, bins)
    labels.save(args.output)
    write_tsv(counts, args.counts)
    print(counts.groupby("cell")[["B", "A", "U"]].sum().to_string())
    return 0


def _dnase_coverage(args: argparse.Namespace) -> int:
    from pgml.runtime import n_threads
    from pgml.tfbs.bins import BinSet, read_chrom_sizes
    from pgml.tfbs.coverage import accept_bigwig, dnase_coverage

    check_output_file(args.output, inputs=[*(args.bam or []), *([args.bigwig] if args.bigwig else [])])
    if bool(args.bam) == bool(args.bigwig):
        raise InputError("give either --bam (one or more replicates) or --bigwig")
    sizes = read_chrom_sizes(args.genome)
    chroms = BinSet.load(args.bins).chroms
    missing = [c for c in chroms if c not in sizes]
    if missing:
        raise InputError(f"chromosome(s) {', '.join(missing[:6])} of the bins are not in the genome",
                         path=args.genome)
    with _new_dirs_removed_on_error(args.output):
        if args.bigwig:
            accept_bigwig(args.bigwig, args.output, sizes=sizes, chroms=chroms)
        else:
            dnase_coverage(list(args.bam), args.output, sizes=sizes, chroms=chroms, blacklist=args.blacklist,
                           effective_genome_size=args.effective_genome_size, threads=n_threads(),
                           normalize="None" if args.raw_counts else "RPGC")
    return 0


def _expression_pca(args: argparse.Namespace) -> int:
    import pandas as pd

    from pgml.tables import write_tsv
    from pgml.tfbs.expression import PcaBasis, fit_basis, plot_pca, read_tpm, write_pca

    if args.project is not None and args.basis is not None:
        raise InputError("give --basis (fit a PCA and keep its basis) or --project (use a basis), not both")
    tpm = read_tpm(args.tpm)
    if args.project is not None:
        basis = PcaBasis.load(args.project)
        frame = basis.transform(tpm, args.tpm)
        log.info("%d cell type(s) projected onto the basis of %s", len(frame), ", ".join(basis.cells))
    else:
        if tpm.shape[1] < 2:
            raise InputError("a PCA needs at least two cell types (columns); project one cell type onto a "
                             "trained basis with --project", path=args.tpm)
        basis = fit_basis(tpm)
        frame = basis.transform(tpm, args.tpm)
        if args.basis is not None:
            basis.save(args.basis)
    ratio = basis.ratio
    write_pca(frame, args.output, basis)
    write_tsv(pd.DataFrame({"component": frame.columns, "explained_variance_ratio": ratio}), args.variance,
              float_format="%.6g")
    plot_pca(frame, ratio, args.plot)
    log.info("%d cell types; explained variance of PC1-PC8: %s", len(frame), " ".join(f"{r:.3f}" for r in ratio))
    return 0


def _annotate_bins(args: argparse.Namespace) -> int:
    from pgml.tfbs.annotate import annotate_bins, save_annotation
    from pgml.tfbs.bins import BinSet

    beds = _named(args.annotation, "--annotation")
    unknown = [k for k in beds if k not in ANNOTATIONS]
    if unknown:
        raise InputError(f"--annotation: unknown name(s) {', '.join(unknown)}; expected {', '.join(ANNOTATIONS)}")
    check_output_file(args.output, inputs=[args.bins, *beds.values()])
    bins = BinSet.load(args.bins)
    matrix = annotate_bins(bins, beds)
    save_annotation(matrix, args.output)
    for k, name in enumerate(ANNOTATIONS):
        log.info("%s: %d bins", name, sum(int(m[:, k].sum()) for m in matrix.values()))
    return 0


def _source(args: argparse.Namespace):
    from pgml.tfbs.windows import open_source

    source = open_source(args.fasta, args.mappability, args.dnase)
    source.flank = args.flank
    return source


def _train(args: argparse.Namespace) -> int:
    from pgml.tfbs.bins import BinSet
    from pgml.tfbs.labels import Labels
    from pgml.tfbs.training import split_chroms, train_tf

    check_output_dir(args.output_dir, inputs=[args.bins, args.labels, args.annotation, args.pca])
    bins = BinSet.load(args.bins)
    split_chroms(bins, args.valid_chroms, args.test_chroms, path=args.bins)
    try:
        model = ModelConfig(**{f.name: getattr(args, f.name) for f in fields(ModelConfig)})
        train = TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)})
    except ValueError as exc:
        raise InputError(f"tfbs train: {exc}") from None
    train_tf(bins, Labels.load(args.labels), args.cells, args.annotation, args.pca,
             _source(args), args.output_dir, valid=args.valid_chroms, test=args.test_chroms,
             model_config=model, train_config=train, seed=args.seed, device=args.device)
    return 0


def _import_model(args: argparse.Namespace) -> int:
    from pgml.modelcard import card_path
    from pgml.tfbs.keras_import import import_keras

    check_output_file(args.output, inputs=[args.keras])
    card = args.card if args.card is not None else card_path(args.output)
    if card.resolve() == args.output.resolve():
        raise InputError(f"the model card would be written over the checkpoint; name --output other than "
                         f"{card.name} or give --card", path=args.output)
    check_output_file(card, inputs=[args.keras])
    print(json.dumps(import_keras(args.keras, args.output, card=card)))
    return 0


def _predict(args: argparse.Namespace) -> int:
    from pgml.tfbs.bins import BinSet
    from pgml.tfbs.predict import load_model, predict_cell, write_predictions
    from pgml.tfbs.training import build_dataset

    check_output_dir(args.output_dir, inputs=[args.model, args.bins])
    if args.workers < 0 or args.batch_size < 1:
        raise InputError(f"--workers must be 0 or more and --batch-size at least 1, got {args.workers} and "
                         f"{args.batch_size}")
    from pgml.modelcard import card_path, check_settings, read_card
    from pgml.tfbs.training import card_inputs, check_chrom_list
    from pgml.tfbs.windows import check_has_bases

    bins = BinSet.load(args.bins)
    check_chrom_list(args.chroms, bins.chroms, "--chroms", path=args.bins)
    module = load_model(args.model, released=True)
    source = _source(args)
    card = read_card(args.model, "tfbs", path=args.card)
    check_settings(card, card_inputs(source, args.pca), path=args.card or card_path(args.model))
    if source.length != module.hparams["length"]:
        raise InputError(f"windows of {source.length} bp, the model was trained on {module.hparams['length']} bp",
                         path=args.model)
    data = build_dataset(bins, None, [args.cell], args.annotation, args.pca, source)
    check_has_bases(source.fasta, args.chroms)
    if args.cell not in card.training.get("cells", []):
        log.info("cell type %s was not among the training cell types (%s)", args.cell,
                 ", ".join(card.training.get("cells", [])))
    regions = None
    if args.regions is not None:
        from pgml.tfbs.bins import match_contigs, read_bed

        sizes = dict(zip(bins.chroms, bins.sizes, strict=True))
        regions = match_contigs(read_bed(args.regions), sizes, args.regions, what="regions")
    frame = predict_cell(module, data, args.chroms, batch_size=args.batch_size, device=args.device, regions=regions,
                         workers=args.workers)
    write_predictions(frame, args.output_dir, dict(zip(bins.chroms, bins.sizes, strict=True)))
    log.info("cell %s: %d bins predicted on %s", args.cell, len(frame), ",".join(args.chroms))
    return 0


def _merge_predictions(args: argparse.Namespace) -> int:
    from pgml.tfbs.bins import BinSet
    from pgml.tfbs.predict import merge_predictions, write_predictions

    bins = BinSet.load(args.bins)
    frame = merge_predictions(list(args.predictions), bins)
    write_predictions(frame, args.output_dir, dict(zip(bins.chroms, bins.sizes, strict=True)))
    log.info("%d bins on %d chromosome(s) merged", len(frame), frame["chrom"].nunique())
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from pgml.tfbs.annotate import load_annotation
    from pgml.tfbs.bins import BinSet
    from pgml.tfbs.evaluate import evaluate_tf
    from pgml.tfbs.expression import read_pca
    from pgml.tfbs.labels import Labels
    from pgml.tfbs.training import split_chroms

    predictions = _named(args.predictions, "--predictions")
    noattention = _named(args.noattention or [], "--noattention")
    dnase = _named(args.dnase, "--dnase")
    check_output_dir(args.output_dir, inputs=[args.bins, args.labels, *predictions.values(), *noattention.values(),
                                              *dnase.values()])
    bins = BinSet.load(args.bins)
    labels = Labels.load(args.labels)
    train, valid, test = split_chroms(bins, args.valid_chroms, args.test_chroms, path=args.bins)
    missing = [c for c in dict.fromkeys([*predictions, *args.train_cells]) if c not in dnase]
    if missing:
        raise InputError(f"--dnase missing for cell type(s) {', '.join(missing)} (the logistic baseline reads the "
                         "training cell types' DNase too)")
    unknown = [c for c in noattention if c not in predictions]
    if unknown:
        raise InputError(f"--noattention given for cell type(s) {', '.join(unknown)} without --predictions")
    pca = read_pca(args.pca, sorted(set(predictions) | set(args.train_cells)))
    metrics = evaluate_tf(labels, bins, predictions, dnase, load_annotation(args.annotation), pca, args.train_cells,
                          train, valid, test, args.output_dir, noattention=noattention, precision=args.precision,
                          seed=args.seed)
    print(metrics.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


def _explain(args: argparse.Namespace) -> int:
    import numpy as np
    import pandas as pd

    from pgml.tfbs.bins import BinSet, match_contigs, read_bed
    from pgml.tfbs.explain import bins_without_dnase_peak, explain_bins
    from pgml.tfbs.predict import load_model
    from pgml.tfbs.training import build_dataset

    check_output_dir(args.output_dir, inputs=[args.model, args.bins, args.predictions,
                                              *([args.dnase_peaks] if args.dnase_peaks else [])])
    bins = BinSet.load(args.bins)
    module = load_model(args.model)
    source = _source(args)
    data = build_dataset(bins, None, [args.cell], args.annotation, args.pca, source)
    if not args.predictions.is_file():
        raise InputError("file not found", path=args.predictions)
    frame = pd.read_csv(args.predictions, sep="\t", dtype={"chrom": str})
    frame = frame[frame["chrom"].isin(bins.chroms)].reset_index(drop=True)
    sizes = dict(zip(bins.chroms, bins.sizes, strict=True))
    peaks = None
    if args.dnase_peaks is not None:
        peaks = match_contigs(read_bed(args.dnase_peaks), sizes, args.dnase_peaks, what="DNase peaks")
    frame = bins_without_dnase_peak(frame, args.top, str(source.dnase[args.cell]), sizes, peaks,
                                    fold=args.dnase_peak_fold)
    if frame.empty:
        raise InputError("no predicted bin without a DNase peak on the chromosomes of the bins", path=args.predictions)
    keys = np.concatenate([data.keys(c, (part["start"].to_numpy() // 50), 0) for c, part in frame.groupby("chrom")])
    table = explain_bins(module, data, keys, args.motifs, args.output_dir, pvalue=args.pvalue, seed=args.seed)
    print(table.to_string(index=False))
    return 0


def _importance(args: argparse.Namespace) -> int:
    from pgml.tables import write_tsv
    from pgml.tfbs.bins import BinSet
    from pgml.tfbs.explain import feature_importance
    from pgml.tfbs.labels import Labels
    from pgml.tfbs.params import LABEL_BOUND
    from pgml.tfbs.predict import load_model
    from pgml.tfbs.training import build_dataset, check_chrom_list
    from pgml.tfbs.windows import validation_keys

    check_output_file(args.output, inputs=[args.model, args.bins, args.labels])
    bins = BinSet.load(args.bins)
    module = load_model(args.model)
    data = build_dataset(bins, Labels.load(args.labels), [args.cell], args.annotation, args.pca, _source(args))
    check_chrom_list(args.chroms, bins.chroms, "--chroms", path=args.bins)
    chroms = list(args.chroms)
    keys = validation_keys(data, chroms, [0], args.max_windows, seed=args.seed)
    y = data.label_of(keys) == LABEL_BOUND
    if not y.any():
        raise InputError(f"no bound bin of cell type {args.cell} on {', '.join(chroms)}", path=args.labels)
    table = feature_importance(module, data, keys, y, seed=args.seed)
    write_tsv(table, args.output, float_format="%.4f")
    print(table.to_string(index=False))
    return 0


def _add_window_args(p: argparse.ArgumentParser) -> None:
    from pgml.tfbs.params import FLANK

    p.add_argument("--bins", type=Path, required=True, help="bins.npz of bin-genome")
    p.add_argument("--annotation", type=Path, required=True, help="annotation.npz of annotate-bins")
    p.add_argument("--pca", type=Path, required=True, help="cell types x PC1..PC8 TSV of expression-pca")
    p.add_argument("--fasta", type=Path, required=True, help="genome FASTA (indexed, .fai)")
    p.add_argument("--mappability", type=Path, required=True, help="35-bp uniqueness bigWig")
    input_paths(p, "--dnase", paths=named_paths, nargs="+", required=True, metavar="CELL=FILE.bw",
                help="DNase 1x coverage per cell type")
    p.add_argument("--flank", type=int, default=FLANK, help="bp added on both sides of a 200-bp bin")


def register(steps: argparse._SubParsersAction) -> None:
    """Add the tfbs steps to ``pgml tfbs`` (defaults from :mod:`pgml.tfbs.params`)."""
    from pgml.runtime import add_device_argument, add_threads_argument

    sim, model, train = SimulateConfig(), ModelConfig(), TrainConfig()
    p = steps.add_parser("simulate", help="demo genome, peaks, DNase BAMs, annotation and TPM from a seed")
    output_dir(p, "--output-dir", type=Path, required=True)
    for f in fields(SimulateConfig):
        p.add_argument(f"--{f.name.replace('_', '-')}", type=type(getattr(sim, f.name)), default=getattr(sim, f.name))
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_simulate)

    p = steps.add_parser("bin-genome", help="200-bp bins every 50 bp with a blacklist mask")
    p.add_argument("--genome", type=Path, required=True, help="chrom.sizes or FASTA .fai")
    p.add_argument("--chroms", nargs="*", default=None, help="chromosomes to bin (default: all)")
    p.add_argument("--blacklist", type=Path, default=None, help="BED of regions excluded from training")
    output_file(p, "--output", type=Path, required=True, help="bins.npz")
    output_file(p, "--summary", type=Path, default=None, help="TSV: chrom, length, bins, blacklisted")
    p.set_defaults(func=_bin_genome)

    p = steps.add_parser("label-bins", help="B/A/U labels per bin and cell type from narrowPeak files")
    p.add_argument("--bins", type=Path, required=True)
    p.add_argument("--tf", required=True)
    input_paths(p, "--peaks", paths=named_paths, nargs="+", required=True, metavar="CELL=CONSERVATIVE,RELAXED")
    output_file(p, "--output", type=Path, required=True, help="labels.npz (int8 bins x cell types per chromosome)")
    output_file(p, "--counts", type=Path, required=True, help="TSV of bins per label, cell type and chromosome")
    p.set_defaults(func=_label_bins)

    p = steps.add_parser("dnase-coverage", help="DNase BAM(s) -> 1x-normalised 1-bp bigWig (bamCoverage)")
    p.add_argument("--bam", type=Path, nargs="+", default=None, help="replicates (merged with samtools merge)")
    p.add_argument("--bigwig", type=Path, default=None, help="a ready coverage bigWig instead of BAMs")
    p.add_argument("--genome", type=Path, required=True, help="chrom.sizes or FASTA .fai")
    p.add_argument("--bins", type=Path, required=True, help="bins.npz (its chromosomes must be covered)")
    p.add_argument("--blacklist", type=Path, default=None)
    p.add_argument("--effective-genome-size", type=int, default=EFFECTIVE_GENOME_SIZE)
    p.add_argument("--raw-counts", action="store_true", help="cut counts without RPGC normalisation")
    output_file(p, "--output", type=Path, required=True, help="bigWig")
    add_threads_argument(p)
    p.set_defaults(func=_dnase_coverage)

    p = steps.add_parser("expression-pca", help="TPM -> log -> PCA: 8 components per cell type")
    p.add_argument("--tpm", type=Path, required=True, help="genes x cell types TSV")
    p.add_argument("--project", type=Path, default=None, metavar="BASIS",
                   help="project the cell types of --tpm onto this basis (of --basis) instead of fitting a PCA")
    output_file(p, "--basis", type=Path, default=None,
                help="write the fitted basis (genes, centring, loadings) here, for --project later")
    output_file(p, "--output", type=Path, required=True, help="TSV: cell, PC1..PC8 (first line names the basis)")
    output_file(p, "--variance", type=Path, required=True, help="TSV of explained variance per component")
    output_file(p, "--plot", type=Path, required=True, help="PNG")
    p.set_defaults(func=_expression_pca)

    p = steps.add_parser("annotate-bins", help="6 binary annotation features per bin")
    p.add_argument("--bins", type=Path, required=True)
    input_paths(p, "--annotation", paths=named_paths, nargs="+", required=True, metavar="NAME=BED",
                help=f"one BED per name: {', '.join(ANNOTATIONS)}")
    output_file(p, "--output", type=Path, required=True, help="annotation.npz")
    p.set_defaults(func=_annotate_bins)

    p = steps.add_parser("train", help="DeepGRN for one TF across its training cell types")
    p.add_argument("--labels", type=Path, required=True)
    _add_window_args(p)
    p.add_argument("--cells", nargs="+", required=True, help="training cell types")
    p.add_argument("--valid-chroms", nargs="+", default=list(VALID_CHROMS))
    p.add_argument("--test-chroms", nargs="+", default=list(TEST_CHROMS))
    output_dir(p, "--output-dir", type=Path, required=True)
    for f in fields(ModelConfig):
        if f.name == "merge":
            p.add_argument("--merge", choices=MERGES, default=model.merge, help="forward/RC merge")
        elif f.name == "variant":
            p.add_argument("--variant", choices=VARIANTS, default=model.variant,
                           help="deepgrn (single + pairwise attention) or noattention (CNN + BiLSTM, figure 2.4)")
        else:
            p.add_argument(f"--{f.name.replace('_', '-')}", type=type(getattr(model, f.name)), default=getattr(model, f.name))
    for f in fields(TrainConfig):
        p.add_argument(f"--{f.name.replace('_', '-')}", type=type(getattr(train, f.name)), default=getattr(train, f.name))
    p.add_argument("--seed", type=int, default=0)
    add_device_argument(p)
    add_threads_argument(p)
    p.set_defaults(func=_train)

    p = steps.add_parser("import-model", help="a DeepGRN model the authors published (Keras 2.2.4 .h5) as a "
                         "checkpoint for predict, with its model card")
    p.add_argument("--keras", type=Path, required=True,
                   help="<TF>_{single,pair}.h5 (pgml fetch weights --ids deepgrn:<TF>_single)")
    output_file(p, "--output", type=Path, required=True, help="model.ckpt")
    output_file(p, "--card", type=Path, default=None, help="model card (default: model.json beside --output)")
    p.set_defaults(func=_import_model)

    p = steps.add_parser("predict", help="probabilities for every bin of chosen chromosomes, one cell type")
    p.add_argument("--model", type=Path, required=True, help="model.ckpt of train or import-model")
    p.add_argument("--card", type=Path, default=None, help="its model card (default: model.json beside the model)")
    _add_window_args(p)
    p.add_argument("--cell", required=True, help="any cell type with a DNase track and expression components")
    p.add_argument("--chroms", nargs="+", required=True)
    p.add_argument("--regions", type=Path, default=None, help="BED: predict only the bins overlapping these regions")
    p.add_argument("--batch-size", type=int, default=PREDICT_BATCH_SIZE)
    p.add_argument("--workers", type=int, default=PREDICT_WORKERS,
                   help="processes reading windows while the model runs, each with its own file handles (0: none)")
    output_dir(p, "--output-dir", type=Path, required=True,
                   help="writes predictions.tsv.gz (chrom, start, end, probability), modules.tsv.gz, track.bw")
    add_device_argument(p)
    add_threads_argument(p)
    p.set_defaults(func=_predict)

    p = steps.add_parser("merge-predictions",
                         help="one genome-wide prediction (challenge TSV, modules, bigWig) from per-chromosome ones")
    p.add_argument("--bins", type=Path, required=True, help="bins.npz (chromosome order and lengths)")
    p.add_argument("--predictions", type=Path, nargs="+", required=True, help="modules.tsv.gz of predict, per chromosome")
    output_dir(p, "--output-dir", type=Path, required=True,
               help="writes predictions.tsv.gz (chrom, start, end, probability), modules.tsv.gz, track.bw")
    p.set_defaults(func=_merge_predictions)

    p = steps.add_parser("explain", help="attention weights, saliency and a FIMO-like JASPAR scan of the most "
                         "attended spans of the best bins without a DNase peak")
    p.add_argument("--model", type=Path, required=True)
    _add_window_args(p)
    p.add_argument("--cell", required=True)
    p.add_argument("--predictions", type=Path, required=True, help="modules.tsv.gz of predict: its best bins are explained")
    p.add_argument("--top", type=int, default=EXPLAIN_TOP, help="explain this many best-scored bins")
    p.add_argument("--motifs", nargs="+", default=list(EXPLAIN_MOTIFS), help="JASPAR matrix IDs to scan for")
    p.add_argument("--pvalue", type=float, default=MOTIF_PVALUE, help="p-value of a motif hit (FIMO's default)")
    p.add_argument("--dnase-peaks", type=Path, default=None,
                   help="BED/narrowPeak of the cell type's DNase peaks: bins overlapping one are not explained")
    p.add_argument("--dnase-peak-fold", type=float, default=DNASE_PEAK_FOLD,
                   help="without --dnase-peaks: a bin whose max DNase reaches this x the chromosome mean has a peak")
    p.add_argument("--seed", type=int, default=0)
    output_dir(p, "--output-dir", type=Path, required=True,
               help="writes attention.npz, windows.tsv, motif_scan.tsv, logos/")
    add_threads_argument(p)
    p.set_defaults(func=_explain)

    p = steps.add_parser("importance", help="drop in auPRC when each feature is zeroed (sequential) or permuted")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--labels", type=Path, required=True)
    _add_window_args(p)
    p.add_argument("--cell", required=True)
    p.add_argument("--chroms", nargs="+", default=list(TEST_CHROMS))
    p.add_argument("--max-windows", type=int, default=20000, help="all B windows plus sampled U windows, at most")
    p.add_argument("--seed", type=int, default=0)
    output_file(p, "--output", type=Path, required=True, help="TSV: feature, kind, auprc, auprc_drop")
    add_threads_argument(p)
    p.set_defaults(func=_importance)

    p = steps.add_parser("evaluate", help="auROC, auPRC (challenge's Davis-Goadrich), average precision, recall at "
                         "50%%/10%% FDR vs the DNase and logistic-regression baselines")
    p.add_argument("--labels", type=Path, required=True)
    p.add_argument("--bins", type=Path, required=True)
    p.add_argument("--annotation", type=Path, required=True)
    p.add_argument("--pca", type=Path, required=True)
    input_paths(p, "--predictions", paths=named_paths, nargs="+", required=True, metavar="CELL=modules.tsv.gz")
    input_paths(p, "--noattention", paths=named_paths, nargs="+", default=None, metavar="CELL=modules.tsv.gz",
                help="predictions of the noattention model (--variant noattention), scored beside DeepGRN")
    input_paths(p, "--dnase", paths=named_paths, nargs="+", required=True, metavar="CELL=FILE.bw",
                help="DNase coverage of every evaluated and every training cell type")
    p.add_argument("--train-cells", nargs="+", required=True)
    p.add_argument("--valid-chroms", nargs="+", default=list(VALID_CHROMS))
    p.add_argument("--test-chroms", nargs="+", default=list(TEST_CHROMS))
    p.add_argument("--precision", type=float, default=0.5, help="narrowPeak threshold: this precision on validation")
    p.add_argument("--seed", type=int, default=0)
    output_dir(p, "--output-dir", type=Path, required=True)
    p.set_defaults(func=_evaluate)
    for step in steps.choices.values():
        step.set_defaults(func=_finite_flags(step.get_default("func")))
