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
import logging
from pathlib import Path

from pgml.cliargs import output_dir, output_file
from pgml.contact.params import (
    ENGINES,
    FORMATS,
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


def _build_msa(args: argparse.Namespace) -> int:
    from pgml.contact.alignment import read_alignment, write_psicov
    from pgml.contact.weights import filter_alignment, neff, sequence_weights

    if (args.alignment is None) == (args.database is None):
        raise InputError("give either --alignment or --database (with --structure)")
    if args.alignment is not None:
        check_output_file(args.output, inputs=[args.alignment])
        aln = read_alignment(args.alignment, args.format)
    else:
        from pgml.contact.contacts import native_contacts
        from pgml.contact.search import jackhmmer_alignment, mmseqs_alignment

        if args.structure is None:
            raise InputError("--database needs --structure (the query is its first protein chain)")
        check_output_file(args.output, inputs=[args.database, args.structure])
        query = native_contacts(args.structure).sequence
        if args.engine == "mmseqs":
            aln = mmseqs_alignment(query, args.database, evalue=args.evalue, threads=args.threads or 1,
                                   name=target_name(args.structure))
        else:
            aln = jackhmmer_alignment(query, args.database, iterations=args.iterations, evalue=args.evalue,
                                      threads=args.threads or 1, name=target_name(args.structure))
    kept = filter_alignment(aln, min_coverage=args.min_coverage, max_identity=args.max_identity)
    w = sequence_weights(kept.msa, args.weight_identity)
    write_psicov(kept, args.output)
    log.info("%s: L=%d, %d of %d sequences kept, Neff %.1f", args.alignment or args.database, kept.length, len(kept),
             len(aln), neff(w))
    return 0


def _pssm(args: argparse.Namespace) -> int:
    from pgml.contact.alignment import read_alignment
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
        query, scores = aln.query, pssm_from_msa(aln.msa, sequence_weights(aln.msa, args.weight_identity))
    write_tsv(pssm_frame(query, scores), args.output, float_format="%.4f")
    return 0


def _plm(args: argparse.Namespace) -> int:
    import numpy as np
    from tqdm import tqdm

    from pgml.contact.alignment import read_alignment
    from pgml.contact.plm import apc, fit_plm, frobenius_scores
    from pgml.contact.weights import neff, sequence_weights
    from pgml.fileio import atomic_path
    from pgml.runtime import pick_device
    from pgml.train.seed import seed_everything

    out = check_output_dir(args.output_dir, inputs=args.alignments)
    device = pick_device(args.device)
    out.mkdir(parents=True, exist_ok=True)
    for path in tqdm(args.alignments, desc="PLM", unit="alignment"):
        seed_everything(args.seed)
        aln = read_alignment(path, args.format)
        w = sequence_weights(aln.msa, args.weight_identity)
        fit = fit_plm(aln.msa, w, lambda_single=args.lambda_single, lambda_pair_factor=args.lambda_pair_factor,
                      max_iter=args.max_iter, history=args.history, chunk=args.chunk, tolerance=args.tolerance,
                      device=device)
        scores = apc(frobenius_scores(fit.J))
        length = aln.length
        with atomic_path(out / f"{target_name(path)}.npz") as tmp, open(tmp, "wb") as handle:
            np.savez_compressed(handle, apc=scores.astype(np.float32), query=aln.query, neff=neff(w),
                                n_sequences=len(aln), couplings=fit.J.reshape(length, length, -1).astype(np.float16),
                                objective=fit.objective, seconds=fit.seconds)
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
    import numpy as np

    from pgml.split.identity import identity_split
    from pgml.split.table import write_split_table

    check_output_file(args.output)
    sequences = {}
    for name, path in _plm_files(args.plm_dir).items():
        with np.load(path) as data:
            sequences[name] = [str(data["query"])]
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
    from pgml.contact.training import train_model

    train_model(_load_targets(args, train_names, with_structures=True),
                _load_targets(args, val_names, with_structures=True), out, params, args.seed, args.device)
    return 0


def _predict(args: argparse.Namespace) -> int:
    import numpy as np
    from tqdm import tqdm

    from pgml.contact.evaluate import plot_attention
    from pgml.contact.maps import write_maps
    from pgml.contact.training import load_module, predict
    from pgml.fileio import atomic_path
    from pgml.runtime import pick_device

    out = check_output_dir(args.output_dir, inputs=[args.model])
    module = load_module(args.model)
    device = pick_device(args.device)
    names = sorted(_plm_files(args.plm_dir))
    variant = module.hparams.variant
    for target in tqdm(_load_targets(args, names, with_structures=False), desc="predict", unit="target"):
        pred = predict(module, target, device)
        # the variant's own map at the top, every module's map (sequence_attention, regional_attention) below
        for name, prob in pred.maps.items():
            write_maps(target.name, target.sequence, prob, out if name == variant else out / name,
                       probabilities=True, method=name)
        if pred.sequence_weights is not None:
            with atomic_path(out / f"{target.name}.attention.npz") as tmp, open(tmp, "wb") as handle:
                np.savez_compressed(handle, sequence=pred.sequence_weights.astype(np.float32),
                                    regional=pred.regional_weights.astype(np.float16))
            plot_attention(pred.sequence_weights, pred.regional_weights, out / f"{target.name}.attention.png",
                           target.name)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    import numpy as np
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
    from pgml.split.table import read_split_table
    from pgml.tables import write_tsv

    structures = {target_name(p): p for p in args.structures}
    out = check_output_dir(args.output_dir, inputs=[*args.structures])
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
        with np.load(path) as data:
            scores, query, neff = data["apc"], str(data["query"]), float(data["neff"])
        native = native_contacts(structures[target])
        check_query(query, native, str(path))
        methods = {**model_maps(target, len(query), args.predictions, args.noattention), "apc_plm": scores}
        for method, values in methods.items():
            rows.append(evaluate_target(method, target, values, native.distances, neff))
            write_maps(target, query, values, out / "maps" / method, probabilities=method != "apc_plm",
                       method=method)
            plot_map(values, native.distances, out / "plots" / f"{target}_{method}.png",
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


def _add_filter(p: argparse.ArgumentParser, with_filters: bool) -> None:
    f = FilterParams()
    p.add_argument("--format", choices=FORMATS, default=None, help="alignment format (default: from the suffix)")
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
    p.set_defaults(func=_simulate)

    p = steps.add_parser("build-msa", help="read a ready alignment or search a database (jackhmmer), filter "
                                           "(hhfilter-like), write PSICOV")
    p.add_argument("--alignment", type=Path, default=None, help="a3m, a2m, Stockholm, aligned FASTA or PSICOV (.gz)")
    p.add_argument("--database", type=Path, default=None, help="FASTA sequence database for jackhmmer (pyhmmer)")
    p.add_argument("--structure", type=Path, default=None, help="with --database: the query is its first chain")
    p.add_argument("--engine", choices=ENGINES, default=SearchParams().engine,
                   help="jackhmmer (pyhmmer) or mmseqs (easy-search, one pass)")
    p.add_argument("--iterations", type=int, default=SearchParams().iterations, help="jackhmmer iterations")
    p.add_argument("--evalue", type=float, default=SearchParams().evalue, help="inclusion E-value")
    add_threads_argument(p)
    output_file(p, "--output", type=Path, required=True, help="PSICOV .aln (one sequence per line, query first)")
    _add_filter(p, with_filters=True)
    p.set_defaults(func=_build_msa)

    p = steps.add_parser("pssm", help="L x 20 PSSM from a weighted alignment or a PSI-BLAST ASCII PSSM")
    p.add_argument("--alignment", type=Path, default=None)
    p.add_argument("--psiblast-pssm", type=Path, default=None, help="psiblast -out_ascii_pssm output")
    p.add_argument("--blast-db", default=None,
                   help="BLAST protein database: run psiblast for the alignment's query instead of using the alignment")
    p.add_argument("--iterations", type=int, default=SearchParams().iterations, help="psiblast iterations")
    p.add_argument("--evalue", type=float, default=SearchParams().evalue, help="psiblast inclusion E-value")
    add_threads_argument(p)
    output_file(p, "--output", type=Path, required=True, help="TSV: position, residue, 20 scores in bits")
    _add_filter(p, with_filters=False)
    p.set_defaults(func=_pssm)

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
    p.add_argument("--seed", type=int, default=0)
    add_device_argument(p)
    add_threads_argument(p)
    p.set_defaults(func=_plm)

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
    p.set_defaults(func=_evaluate)

    tp = TrainParams()
    p = steps.add_parser("split", help="train/val/test split of the targets by sequence identity (MMseqs2)")
    p.add_argument("--plm-dir", type=Path, nargs="+", required=True)
    output_file(p, "--output", type=Path, required=True, help="split TSV (id, split, group)")
    p.add_argument("--val-fraction", type=float, default=SplitParams().val_fraction)
    p.add_argument("--test-fraction", type=float, default=SplitParams().test_fraction)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_split)

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
    p.set_defaults(func=_train)

    p = steps.add_parser("predict", help="contact probabilities and attention weights with a trained model")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--plm-dir", type=Path, nargs="+", required=True)
    p.add_argument("--pssm-dir", type=Path, required=True)
    output_dir(p, "--output-dir", type=Path, required=True,
                   help="<target>.npy/.tsv/.rr/.binary.txt, <target>.attention.npz and .attention.png")
    add_device_argument(p)
    add_threads_argument(p)
    p.set_defaults(func=_predict)
