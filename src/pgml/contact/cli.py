"""``pgml contact <step>``: the command-line steps of the contact chain.

Steps: ``simulate`` (demo alignment from a Potts model on a structure's contacts), ``build-msa``
(read a ready alignment in any supported format, filter it, write PSICOV), ``pssm`` (L x 20 scores
from the weighted alignment or a PSI-BLAST ASCII PSSM), ``plm`` (pseudo-likelihood couplings and
APC scores for a shard of alignments) and ``evaluate`` (precision by range against native
structures, with the APC-PLM baseline, maps, CASP RR and figures). Heavy modules are imported inside
the step functions.
"""

from __future__ import annotations

import argparse
import functools
import logging
import math
from collections.abc import Callable
from pathlib import Path

from pgml.cliargs import input_paths, output_dir, output_file
from pgml.contact.params import (
    BOUNDS,
    ENGINES,
    FORMATS,
    SHALLOW_NEFF,
    VARIANTS,
    FilterParams,
    PlmParams,
    SearchParams,
    SimulateParams,
    SplitParams,
    TrainParams,
)
from pgml.errors import InputError
from pgml.fileio import check_output_dir, check_output_file

log = logging.getLogger(__name__)


def check_numbers(args: argparse.Namespace) -> None:
    """Refuse NaN, infinite or out-of-range numeric flags (:data:`pgml.contact.params.BOUNDS`), naming the flag."""
    for dest, (low, high, open_low) in BOUNDS.items():
        values = getattr(args, dest, None)
        for value in values if isinstance(values, list) else [values]:
            if value is None or isinstance(value, bool) or not isinstance(value, int | float):
                continue
            flag = "--" + dest.replace("_", "-")
            if not math.isfinite(value):
                raise InputError(f"{flag} must be a finite number, got {value}")
            if low is not None and (value <= low if open_low else value < low):
                raise InputError(f"{flag} must be {'above' if open_low else 'at least'} {low:g}, got {value:g}")
            if high is not None and value > high:
                raise InputError(f"{flag} must be at most {high:g}, got {value:g}")


def _checked(step: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """The step, run after :func:`check_numbers`."""
    @functools.wraps(step)
    def run(args: argparse.Namespace) -> int:
        check_numbers(args)
        return step(args)
    return run


def target_name(path: str | Path) -> str:
    """The target's name: the file name up to its first dot (``1UBI.pdb.gz`` -> ``1UBI``), as the workflow names it."""
    return Path(path).name.split(".")[0]


def _simulate(args: argparse.Namespace) -> int:
    from pgml.contact.alignment import ALPHABET
    from pgml.contact.contacts import native_contacts
    from pgml.contact.simulate import simulate_alignment
    from pgml.fileio import atomic_path

    check_output_file(args.output, inputs=[args.structure])
    params = SimulateParams(n_sequences=args.n_sequences, coupling=args.coupling, field=args.field,
                            burn_in=args.burn_in, min_separation=args.min_separation)
    native = native_contacts(args.structure, args.chain)
    name = target_name(args.structure)
    aln = simulate_alignment(native, params, args.seed, name=name)
    with atomic_path(args.output) as tmp:
        tmp.write_text("".join(f">{n}\n{''.join(ALPHABET[k] for k in row)}\n"
                               for n, row in zip(aln.names, aln.msa, strict=True)))
    log.info("%s: L=%d, %d sampled sequences, %d contacts", name, aln.length, len(aln) - 1,
             int(native.contacts.sum() - len(native.sequence)) // 2)
    return 0


def _search(args: argparse.Namespace, query: str, name: str):
    """The alignment of ``query`` from ``--engine`` against ``--database`` (the ``search`` settings)."""
    from pgml.contact.search import search_alignment

    return search_alignment(query, args.database, engine=args.engine, iterations=args.iterations,
                            evalue=args.evalue, max_seqs=args.max_seqs, sensitivity=args.sensitivity,
                            threads=args.threads or 1, name=name)


def _build_msa(args: argparse.Namespace) -> int:
    from pgml.contact.alignment import read_alignment, write_psicov
    from pgml.contact.features import warn_shallow
    from pgml.contact.weights import filter_alignment, neff, sequence_weights

    if (args.alignment is None) == (args.database is None):
        raise InputError("give either --alignment or --database (with --sequence or --structure)")
    if args.alignment is not None:
        aln = read_alignment(args.alignment, args.format)
    else:
        if (args.sequence is None) == (args.structure is None):
            raise InputError("--database needs the query: --sequence (FASTA, one record) or --structure "
                             "(its first protein chain)")
        if args.sequence is not None:
            from pgml.contact.search import read_queries

            records = read_queries(args.sequence)
            if len(records) != 1:
                raise InputError(f"{len(records)} records; build-msa searches one query (predict takes several)",
                                 path=args.sequence)
            name, query = records[0]
        else:
            from pgml.contact.contacts import native_contacts

            name, query = target_name(args.structure), native_contacts(args.structure).sequence
        aln = _search(args, query, name)
    kept = filter_alignment(aln, min_coverage=args.min_coverage, max_identity=args.max_identity)
    w = sequence_weights(kept.msa, args.weight_identity)
    write_psicov(kept, args.output)
    log.info("%s: L=%d, %d of %d sequences kept, Neff %.1f", args.alignment or args.database, kept.length, len(kept),
             len(aln), neff(w))
    warn_shallow(args.alignment or args.database, len(kept), neff(w))
    return 0


def _pssm(args: argparse.Namespace) -> int:
    from pgml.contact.alignment import read_alignment
    from pgml.contact.features import warn_shallow
    from pgml.contact.pssm import pssm_frame, pssm_from_msa, read_psiblast_pssm
    from pgml.contact.weights import sequence_weights
    from pgml.tables import write_tsv

    source = args.psiblast_pssm or args.alignment
    if source is None:
        raise InputError("give --alignment or --psiblast-pssm")
    check_output_file(args.output, inputs=[source])
    if args.psiblast_pssm:
        query, scores = read_psiblast_pssm(args.psiblast_pssm)
    elif args.blast_db:
        from pgml.contact.pssm import run_psiblast

        aln = read_alignment(args.alignment, args.format)
        query = aln.query
        found = run_psiblast(query, args.blast_db, iterations=args.iterations, evalue=args.evalue,
                             threads=args.threads or 1)
        if found is None:
            log.warning("psiblast found no hit in %s (and wrote no PSSM): using the alignment's PSSM", args.blast_db)
            scores = pssm_from_msa(aln.msa, sequence_weights(aln.msa, args.weight_identity))
        elif len(found[0]) != len(query) or "-" in query:
            raise InputError(f"psiblast's PSSM has {len(found[0])} rows for a query of {len(query)} columns "
                             "(the query must have no gaps)", path=args.alignment)
        else:
            scores = found[1]
    else:
        aln = read_alignment(args.alignment, args.format)
        w = sequence_weights(aln.msa, args.weight_identity)
        query, scores = aln.query, pssm_from_msa(aln.msa, w)
        warn_shallow(args.alignment, len(aln), float(w.sum()))
    write_tsv(pssm_frame(query, scores), args.output, float_format="%.4f")
    return 0


def _plm(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from pgml.contact.alignment import read_alignment
    from pgml.contact.features import FeatureSettings, check_plm_alignment, plm_features, write_plm_file
    from pgml.contact.weights import sequence_weights
    from pgml.fileio import atomic_dir
    from pgml.runtime import pick_device
    from pgml.train.seed import seed_everything

    settings = FeatureSettings(weight_identity=args.weight_identity, lambda_single=args.lambda_single,
                               lambda_pair_factor=args.lambda_pair_factor, max_iter=args.max_iter)
    # the whole shard is checked before any fit
    for path in args.alignments:
        aln = read_alignment(path, args.format)
        check_plm_alignment(aln, sequence_weights(aln.msa, args.weight_identity), path, history=args.history,
                            chunk=args.chunk, min_neff=args.min_neff)
    device = pick_device(args.device)
    with atomic_dir(args.output_dir) as out:
        for path in tqdm(args.alignments, desc="PLM", unit="alignment"):
            seed_everything(args.seed)
            aln = read_alignment(path, args.format)
            w = sequence_weights(aln.msa, args.weight_identity)
            write_plm_file(out / f"{target_name(path)}.npz", plm_features(aln, w, settings, path, history=args.history,
                                                                          chunk=args.chunk, tolerance=args.tolerance,
                                                                          device=device))
    return 0


def _plm_files(dirs: list[Path]) -> dict[str, Path]:
    files = {target_name(p): p for d in dirs for p in sorted(Path(d).glob("*.npz"))}
    if not files:
        raise InputError("no <target>.npz files in the --plm-dir directories")
    return files


def _load_targets(args: argparse.Namespace, names: list[str], *, with_structures: bool) -> list:
    from pgml.contact.training import load_target

    plm = _plm_files(args.plm_dir)
    structures = {target_name(p): p for p in getattr(args, "structures", None) or []}
    targets = []
    for name in names:
        if name not in plm:
            raise InputError(f"target {name} has no PLM file in --plm-dir")
        structure = structures.get(name) if with_structures else None
        if with_structures and structure is None:
            raise InputError(f"no structure for target {name} among --structures")
        targets.append(load_target(plm[name], Path(args.pssm_dir) / f"{name}.tsv", structure))
    return targets


def _split(args: argparse.Namespace) -> int:
    from pgml.contact.plm import load_plm
    from pgml.split.identity import identity_split
    from pgml.split.table import write_split_table

    check_output_file(args.output)
    sequences = {}
    for name, path in _plm_files(args.plm_dir).items():
        sequences[name] = [load_plm(path, couplings=False).query]
    result = identity_split(sequences, args.val_fraction, args.test_fraction, seed=args.seed)
    write_split_table(args.output, result.assignment, {"group": result.group})
    log.info("split by sequence identity: %s", result.counts())
    return 0


def _train(args: argparse.Namespace) -> int:
    from pgml.split.table import read_split_table

    out = check_output_dir(args.output_dir, inputs=[args.split, *args.structures])
    split = read_split_table(args.split)
    train_names = sorted(t for t, s in split.items() if s == "train")
    val_names = sorted(t for t, s in split.items() if s == "val")
    if not train_names or not val_names:
        raise InputError("the split needs at least one train and one val target", path=args.split)
    from pgml.contact.model import REGIONAL_CHANNELS

    if args.variant == "attcontact" and (REGIONAL_CHANNELS % args.heads or (args.hidden // 2 * 2) % args.heads):
        raise InputError(f"--heads {args.heads}: must divide the regional attention's {REGIONAL_CHANNELS} channels "
                         f"and the sequence attention's {args.hidden // 2 * 2} (--hidden {args.hidden})")
    params = TrainParams(variant=args.variant, hidden=args.hidden, heads=args.heads, width=args.width,
                         blocks=tuple(args.blocks), maxout=args.maxout, lr_adam=args.lr_adam, lr_sgd=args.lr_sgd,
                         sgd_epoch=args.sgd_epoch, epochs=args.epochs, patience=args.patience)
    from dataclasses import asdict

    from pgml.contact.card import contact_card, training_settings, validation_metrics
    from pgml.contact.training import load_module, train_model
    from pgml.modelcard import write_card
    from pgml.runtime import pick_device

    plm = _plm_files(args.plm_dir)
    settings = training_settings([plm[t] for t in [*train_names, *val_names] if t in plm])
    val = _load_targets(args, val_names, with_structures=True)
    best = train_model(_load_targets(args, train_names, with_structures=True), val, out, params, args.seed,
                       args.device)
    metrics = validation_metrics(load_module(best), val, pick_device(args.device))
    write_card(best, contact_card(settings, split=args.split, train=train_names, val=val_names, seed=args.seed,
                                  metrics=metrics, hyperparameters=asdict(params)))
    log.info("model.json: validation long-range top-L/2 %.3f, APC-PLM %.3f (%s)", metrics["val_long_L/2"],
             metrics["baseline_apc_plm_val_long_L/2"],
             "beats the baseline" if metrics["beats_baseline"] else "does NOT beat the baseline")
    return 0


def _query_features(args: argparse.Namespace, settings, out: Path, device) -> list[tuple[Path, Path]]:
    """Build each query's alignment, PSSM and PLM file under ``out/features`` with the card's settings.

    The queries are the records of ``--sequence`` (searched against ``--database``) or the
    ``--alignment`` files; every one is checked (length, depth, memory) before its fit.
    """
    from pgml.contact.alignment import read_alignment, write_psicov
    from pgml.contact.features import check_plm_alignment, plm_features, write_plm_file
    from pgml.contact.pssm import pssm_frame, pssm_from_msa
    from pgml.contact.weights import filter_alignment, sequence_weights
    from pgml.tables import write_tsv
    from pgml.train.seed import seed_everything

    if args.sequence is not None:
        from pgml.contact.search import read_queries

        queries = [(name, lambda q=query, n=name: _search(args, q, n)) for name, query in read_queries(args.sequence)]
    else:
        queries = [(target_name(path), lambda p=path: read_alignment(p, args.format)) for path in args.alignment]
    names = [name for name, _ in queries]
    if len(set(names)) != len(names):
        raise InputError(f"two queries named {next(n for n in names if names.count(n) > 1)}; names must differ")
    folder = out / "features"
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for name, build in queries:
        aln = filter_alignment(build(), min_coverage=args.min_coverage, max_identity=args.max_identity)
        w = sequence_weights(aln.msa, settings.weight_identity)
        check_plm_alignment(aln, w, f"query {name}", history=args.history, chunk=args.chunk, min_neff=args.min_neff)
        write_psicov(aln, folder / f"{name}.aln")
        write_tsv(pssm_frame(aln.query, pssm_from_msa(aln.msa, w)), folder / f"{name}.tsv", float_format="%.4f")
        seed_everything(args.seed)
        write_plm_file(folder / f"{name}.npz", plm_features(aln, w, settings, f"query {name}", history=args.history,
                                                            chunk=args.chunk, device=device))
        files.append((folder / f"{name}.npz", folder / f"{name}.tsv"))
    return files


def _predict(args: argparse.Namespace) -> int:
    """Contact maps of new queries (a sequence, an alignment) or of ready features, with a trained model."""
    from pgml.fileio import atomic_dir

    modes = [args.sequence is not None, bool(args.alignment), bool(args.plm_dir)]
    if sum(modes) != 1:
        raise InputError("give one of --sequence (with --database), --alignment, or --plm-dir with --pssm-dir")
    if args.plm_dir and args.pssm_dir is None:
        raise InputError("--plm-dir needs --pssm-dir (the PSSMs of the same targets)")
    if args.sequence is not None and args.database is None:
        raise InputError("--sequence needs --database (a one-sequence alignment gives no couplings)",
                         path=args.sequence)
    with atomic_dir(args.output_dir) as out:
        return _predict_into(args, out)


def _predict_into(args: argparse.Namespace, out: Path) -> int:
    import numpy as np
    from tqdm import tqdm

    from pgml.contact.card import check_plm_file, read_contact_card
    from pgml.contact.evaluate import plot_attention
    from pgml.contact.maps import write_maps
    from pgml.contact.training import load_module, load_target, predict
    from pgml.runtime import pick_device

    module = load_module(args.model)
    card, settings = read_contact_card(args.model, args.card)
    device = pick_device(args.device)
    variant = module.hparams.variant
    if args.plm_dir:
        plm = _plm_files(args.plm_dir)
        for path in plm.values():
            check_plm_file(card, path)
        files = [(plm[name], Path(args.pssm_dir) / f"{name}.tsv") for name in sorted(plm)]
    else:
        files = _query_features(args, settings, out, device)
    for plm_path, pssm_path in tqdm(files, desc="predict", unit="target"):
        target = load_target(plm_path, pssm_path, None)
        pred = predict(module, target, device)
        # the variant's own map at the top, every module's map (sequence_attention, regional_attention) below;
        # rows and columns are the query's residues 1..L
        for name, prob in pred.maps.items():
            if not np.isfinite(prob).all():
                raise InputError(f"the model gave NaN probabilities ({name}) for this target", path=plm_path)
            write_maps(target.name, target.sequence, prob, out if name == variant else out / name,
                       probabilities=True, method=name)
        if pred.sequence_weights is not None:
            with open(out / f"{target.name}.attention.npz", "wb") as handle:
                np.savez_compressed(handle, sequence=pred.sequence_weights.astype(np.float32),
                                    regional=pred.regional_weights.astype(np.float16))
            plot_attention(pred.sequence_weights, pred.regional_weights, out / f"{target.name}.attention.png",
                           target.name)
    log.info("%d contact map(s) in %s (rows and columns: query residues 1..L)", len(files), args.output_dir)
    return 0



def _evaluate(args: argparse.Namespace) -> int:
    """Score into a temporary folder moved into place at the end: a refused target leaves nothing behind."""
    from pgml.fileio import atomic_dir

    with atomic_dir(check_output_dir(args.output_dir, inputs=[*args.structures])) as out:
        return _evaluate_into(args, out)


def _evaluate_into(args: argparse.Namespace, out: Path) -> int:
    import pandas as pd

    from pgml.contact.contacts import check_query, native_contacts
    from pgml.contact.evaluate import (
        add_verdicts,
        evaluate_target,
        model_maps,
        plot_map,
        plot_precision,
        summarise,
    )
    from pgml.contact.maps import write_maps
    from pgml.contact.plm import load_plm
    from pgml.split.table import read_split_table
    from pgml.tables import write_tsv

    structures = {target_name(p): p for p in args.structures}
    plm_files = _plm_files(args.plm_dir)
    split = read_split_table(args.split) if args.split else None
    names = sorted(t for t in plm_files if split is None or split.get(t) == "test")
    if not names:
        raise InputError("no test target in the split", path=args.split)
    rows = []
    for target in names:
        path = plm_files[target]
        if target not in structures:
            raise InputError(f"no structure for target {target} among --structures", path=path)
        plm_file = load_plm(path, couplings=False)
        scores, query, neff = plm_file.apc, plm_file.query, plm_file.neff
        native = native_contacts(structures[target])
        distances = check_query(query, native, str(path))  # in the query's numbering
        methods = {**model_maps(target, len(query), args.predictions, args.noattention), "apc_plm": scores}
        for method, values in methods.items():
            rows.append(evaluate_target(method, target, values, distances, neff))
            write_maps(target, query, values, out / "maps" / method, probabilities=method != "apc_plm",
                       method=method)
            plot_map(values, distances, out / "plots" / f"{target}_{method}.png",
                     f"{target}: {method} top-L over native (Neff {neff:.0f})")
    table = pd.DataFrame(rows)
    mean, by_neff = summarise(table)
    mean = add_verdicts(mean, len(names))
    write_tsv(table, out / "per_target.tsv", float_format="%.4f")
    write_tsv(mean, out / "metrics.tsv", float_format="%.4f")
    write_tsv(by_neff, out / "by_neff.tsv", float_format="%.4f")
    plot_precision(mean, out / "precision.png")
    print(mean.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if not args.predictions and not args.noattention:
        log.info("baseline only: no model predictions given, so no model-vs-PLM verdict")
    return 0


def _add_search(p: argparse.ArgumentParser) -> None:
    """``--database`` and the search settings (:class:`SearchParams`)."""
    from pgml.runtime import add_threads_argument

    search = SearchParams()
    p.add_argument("--database", type=Path, default=None,
                   help="FASTA sequence database (jackhmmer, mmseqs; streamed) or HH-suite database prefix (hhblits)")
    p.add_argument("--engine", choices=ENGINES, default=search.engine,
                   help="jackhmmer (pyhmmer), mmseqs (easy-search, one pass) or hhblits (when installed)")
    p.add_argument("--iterations", type=int, default=search.iterations, help="jackhmmer/hhblits iterations")
    p.add_argument("--evalue", type=float, default=search.evalue, help="inclusion E-value")
    p.add_argument("--max-seqs", type=int, default=search.max_seqs,
                   help="mmseqs --max-seqs / hhblits -maxseq: hits kept per query")
    p.add_argument("--sensitivity", type=float, default=search.sensitivity, help="mmseqs -s (1 fast ... 7.5 sensitive)")
    add_threads_argument(p)


def _add_filter(p: argparse.ArgumentParser, with_filters: bool, with_weights: bool = True) -> None:
    f = FilterParams()
    p.add_argument("--format", choices=FORMATS, default=None, help="alignment format (default: from the suffix)")
    if with_weights:
        p.add_argument("--weight-identity", type=float, default=f.weight_identity,
                       help="identity at which sequences share their weight")
    if with_filters:
        p.add_argument("--min-coverage", type=float, default=f.min_coverage,
                       help="drop sequences covering less than this fraction of the query columns")
        p.add_argument("--max-identity", type=float, default=f.max_identity,
                       help="drop sequences more identical than this to one already kept (hhfilter -id)")


def register(steps: argparse._SubParsersAction) -> None:
    """Add the contact steps to ``pgml contact`` (defaults from :mod:`pgml.contact.params`)."""
    from pgml.runtime import add_device_argument, add_threads_argument

    sim, plm = SimulateParams(), PlmParams()
    p = steps.add_parser("simulate", help="demo alignment: Gibbs samples of a Potts model on a structure's contacts")
    p.add_argument("--structure", type=Path, required=True, help="PDB/mmCIF file")
    p.add_argument("--chain", default=None, help="chain ID (default: the first protein chain)")
    output_file(p, "--output", type=Path, required=True, help="a3m file (query first)")
    p.add_argument("--n-sequences", type=int, default=sim.n_sequences)
    p.add_argument("--coupling", type=float, default=sim.coupling, help="scale of the contact couplings")
    p.add_argument("--field", type=float, default=sim.field, help="field bonus of the native residue")
    p.add_argument("--burn-in", type=int, default=sim.burn_in, help="Gibbs sweeps")
    p.add_argument("--min-separation", type=int, default=sim.min_separation,
                   help="couple contacts at least this far apart in sequence")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_checked(_simulate))

    p = steps.add_parser("build-msa", help="read a ready alignment or search a database (jackhmmer), filter "
                                           "(hhfilter-like), write PSICOV")
    p.add_argument("--alignment", type=Path, default=None, help="a3m, a2m, Stockholm, aligned FASTA or PSICOV (.gz)")
    p.add_argument("--sequence", type=Path, default=None, help="with --database: FASTA file of the query (one record)")
    p.add_argument("--structure", type=Path, default=None, help="with --database: the query is its first chain")
    _add_search(p)
    output_file(p, "--output", type=Path, required=True, help="PSICOV .aln (one sequence per line, query first)")
    _add_filter(p, with_filters=True)
    p.set_defaults(func=_checked(_build_msa))

    p = steps.add_parser("pssm", help="L x 20 PSSM from a weighted alignment or a PSI-BLAST ASCII PSSM")
    p.add_argument("--alignment", type=Path, default=None)
    p.add_argument("--psiblast-pssm", type=Path, default=None, help="psiblast -out_ascii_pssm output")
    input_paths(p, "--blast-db", default=None,
                   help="BLAST protein database: run psiblast for the alignment's query instead of using the alignment")
    p.add_argument("--iterations", type=int, default=SearchParams().iterations, help="psiblast iterations")
    p.add_argument("--evalue", type=float, default=SearchParams().evalue, help="psiblast inclusion E-value")
    add_threads_argument(p)
    output_file(p, "--output", type=Path, required=True, help="TSV: position, residue, 20 scores in bits")
    _add_filter(p, with_filters=False)
    p.set_defaults(func=_checked(_pssm))

    p = steps.add_parser("plm", help="pseudo-likelihood Potts couplings + APC scores for a shard of alignments")
    p.add_argument("--alignments", type=Path, nargs="+", required=True)
    output_dir(p, "--output-dir", type=Path, required=True,
                   help="writes <target>.npz: apc (L, L), couplings (L, L, 441, float16), query, neff")
    _add_filter(p, with_filters=False)
    p.add_argument("--lambda-single", type=float, default=plm.lambda_single)
    p.add_argument("--lambda-pair-factor", type=float, default=plm.lambda_pair_factor,
                   help="coupling penalty = this x (L - 1)")
    p.add_argument("--max-iter", type=int, default=plm.max_iter, help="L-BFGS iterations at most")
    p.add_argument("--tolerance", type=float, default=plm.tolerance,
                   help="stop when the objective fell by less than this (relative) over the last 5 iterations")
    p.add_argument("--history", type=int, default=plm.history, help="L-BFGS correction pairs")
    p.add_argument("--chunk", type=int, default=plm.chunk, help="sequences per chunk (bounds memory)")
    p.add_argument("--min-neff", type=float, default=plm.min_neff,
                   help=f"refuse alignments with fewer effective sequences; below {SHALLOW_NEFF:g} a warning")
    p.add_argument("--seed", type=int, default=0)
    add_device_argument(p)
    add_threads_argument(p)
    p.set_defaults(func=_checked(_plm))

    p = steps.add_parser("evaluate", help="precision by range vs native structures; maps, RR, figures")
    p.add_argument("--plm-dir", type=Path, nargs="+", required=True, help="output directories of `plm`")
    p.add_argument("--structures", type=Path, nargs="+", required=True, help="native structures, named <target>.*")
    p.add_argument("--predictions", type=Path, default=None,
                   help="output directory of `predict` with an attcontact model: <target>.npy (the ensemble), "
                        "sequence_attention/ and regional_attention/ (each network's maps)")
    p.add_argument("--noattention", type=Path, default=None,
                   help="output directory of `predict` with a noattention model (<target>.npy)")
    p.add_argument("--split", type=Path, default=None, help="split TSV: score the test targets only")
    output_dir(p, "--output-dir", type=Path, required=True,
                   help="writes metrics.tsv, per_target.tsv, by_neff.tsv, precision.png, maps/, plots/")
    p.set_defaults(func=_checked(_evaluate))

    tp = TrainParams()
    p = steps.add_parser("split", help="train/val/test split of the targets by sequence identity (MMseqs2)")
    p.add_argument("--plm-dir", type=Path, nargs="+", required=True)
    output_file(p, "--output", type=Path, required=True, help="split TSV (id, split, group)")
    p.add_argument("--val-fraction", type=float, default=SplitParams().val_fraction)
    p.add_argument("--test-fraction", type=float, default=SplitParams().test_fraction)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_checked(_split))

    p = steps.add_parser("train", help="train ATTContact (Adam then SGD; selection on val long-range top-L/2)")
    p.add_argument("--plm-dir", type=Path, nargs="+", required=True)
    p.add_argument("--pssm-dir", type=Path, required=True, help="folder of <target>.tsv PSSMs")
    p.add_argument("--structures", type=Path, nargs="+", required=True)
    p.add_argument("--split", type=Path, required=True)
    output_dir(p, "--output-dir", type=Path, required=True, help="model.ckpt, last.ckpt, metrics.tsv, learning_curve.png")
    p.add_argument("--variant", choices=VARIANTS, default=tp.variant,
                   help="attcontact (sequence + regional attention networks, ensembled) or noattention "
                        "(the same ResNet without attention)")
    p.add_argument("--hidden", type=int, default=tp.hidden, help="sequence attention width")
    p.add_argument("--heads", type=int, default=tp.heads, help="heads of the sequence and regional attention")
    p.add_argument("--width", type=int, default=tp.width, help="ResNet filters")
    p.add_argument("--blocks", type=int, nargs="+", default=list(tp.blocks),
                   help="convolution layers of each residual block (one SE block after each)")
    p.add_argument("--maxout", type=int, default=tp.maxout, help="PLM branch channels after Maxout")
    p.add_argument("--lr-adam", type=float, default=tp.lr_adam)
    p.add_argument("--lr-sgd", type=float, default=tp.lr_sgd)
    p.add_argument("--sgd-epoch", type=int, default=tp.sgd_epoch, help="switch from Adam to SGD at this epoch")
    p.add_argument("--epochs", type=int, default=tp.epochs)
    p.add_argument("--patience", type=int, default=tp.patience)
    p.add_argument("--seed", type=int, default=0)
    add_device_argument(p)
    add_threads_argument(p)
    p.set_defaults(func=_checked(_train))

    p = steps.add_parser("predict", help="contact map of a new sequence (searched), a ready alignment, or ready "
                                         "features, with a trained model; no structure needed")
    p.add_argument("--model", type=Path, required=True, help="model.ckpt from train (model.json beside it)")
    p.add_argument("--card", type=Path, default=None, help="the model card (default: model.json beside --model)")
    p.add_argument("--sequence", type=Path, default=None,
                   help="FASTA of query sequences: each is searched against --database, filtered, then PSSM and PLM")
    p.add_argument("--alignment", type=Path, nargs="+", default=None,
                   help="ready alignments (query first), one per target, named by file name")
    p.add_argument("--plm-dir", type=Path, nargs="+", default=None, help="ready features: output folders of `plm`")
    p.add_argument("--pssm-dir", type=Path, default=None, help="with --plm-dir: folder of <target>.tsv PSSMs")
    output_dir(p, "--output-dir", type=Path, required=True,
               help="<target>.npy/.tsv/.rr/.binary.txt (query residues 1..L), <target>.attention.npz and .png; "
                    "with --sequence/--alignment also features/<target>.aln, .tsv (PSSM) and .npz (PLM)")
    _add_search(p)
    _add_filter(p, with_filters=True, with_weights=False)  # weights and PLM penalties: the model card's
    p.add_argument("--history", type=int, default=plm.history, help="L-BFGS correction pairs of the PLM fit")
    p.add_argument("--chunk", type=int, default=plm.chunk, help="sequences per chunk of the PLM fit")
    p.add_argument("--min-neff", type=float, default=plm.min_neff, help="refuse queries with a shallower alignment")
    p.add_argument("--seed", type=int, default=0)
    add_device_argument(p)
    p.set_defaults(func=_checked(_predict))
