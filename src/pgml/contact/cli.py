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

from pgml.contact.params import FORMATS, FilterParams, PlmParams, SimulateParams
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

    check_output_file(args.output, inputs=[args.alignment])
    aln = read_alignment(args.alignment, args.format)
    kept = filter_alignment(aln, min_coverage=args.min_coverage, max_identity=args.max_identity)
    w = sequence_weights(kept.msa, args.weight_identity)
    write_psicov(kept, args.output)
    log.info("%s: L=%d, %d of %d sequences kept, Neff %.1f", args.alignment, kept.length, len(kept), len(aln),
             neff(w))
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
                      max_iter=args.max_iter, history=args.history, chunk=args.chunk, device=device)
        scores = apc(frobenius_scores(fit.J))
        length = aln.length
        with atomic_path(out / f"{target_name(path)}.npz") as tmp, open(tmp, "wb") as handle:
            np.savez_compressed(handle, apc=scores.astype(np.float32), query=aln.query, neff=neff(w),
                                n_sequences=len(aln), couplings=fit.J.reshape(length, length, -1).astype(np.float16),
                                objective=fit.objective, seconds=fit.seconds)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    import numpy as np
    import pandas as pd

    from pgml.contact.contacts import check_query, native_contacts
    from pgml.contact.evaluate import evaluate_target, plot_map, plot_precision, summarise
    from pgml.contact.maps import write_maps
    from pgml.tables import write_tsv

    structures = {target_name(p): p for p in args.structures}
    plm_files = sorted(p for d in args.plm_dir for p in Path(d).glob("*.npz"))
    out = check_output_dir(args.output_dir, inputs=[*args.structures])
    if not plm_files:
        raise InputError("no <target>.npz files in the --plm-dir directories")
    rows = []
    for path in plm_files:
        target = target_name(path)
        if target not in structures:
            raise InputError(f"no structure for target {target} among --structures", path=path)
        with np.load(path) as data:
            scores, query, neff = data["apc"], str(data["query"]), float(data["neff"])
        native = native_contacts(structures[target])
        check_query(query, native, str(path))
        rows.append(evaluate_target("apc_plm", target, scores, native.distances, neff))
        write_maps(target, query, scores, out / "maps" / "apc_plm", probabilities=False, method="APC-PLM")
        plot_map(scores, native.distances, out / "plots" / f"{target}_apc_plm.png",
                 f"{target}: APC-PLM top-L over native (Neff {neff:.0f})")
    table = pd.DataFrame(rows)
    mean, by_neff = summarise(table)
    write_tsv(table, out / "per_target.tsv", float_format="%.4f")
    write_tsv(mean, out / "metrics.tsv", float_format="%.4f")
    write_tsv(by_neff, out / "by_neff.tsv", float_format="%.4f")
    plot_precision(mean, out / "precision.png")
    print(mean.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    log.info("baseline only: the ATTContact model is not part of this run, so no model-vs-PLM verdict")
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
    p.add_argument("--output", type=Path, required=True, help="a3m file (query first)")
    p.add_argument("--n-sequences", type=int, default=sim.n_sequences)
    p.add_argument("--coupling", type=float, default=sim.coupling, help="scale of the contact couplings")
    p.add_argument("--field", type=float, default=sim.field, help="field bonus of the native residue")
    p.add_argument("--burn-in", type=int, default=sim.burn_in, help="Gibbs sweeps")
    p.add_argument("--min-separation", type=int, default=sim.min_separation,
                   help="couple contacts at least this far apart in sequence")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_simulate)

    p = steps.add_parser("build-msa", help="read a ready alignment, filter it (hhfilter-like), write PSICOV")
    p.add_argument("--alignment", type=Path, required=True, help="a3m, a2m, Stockholm, aligned FASTA or PSICOV (.gz)")
    p.add_argument("--output", type=Path, required=True, help="PSICOV .aln (one sequence per line, query first)")
    _add_filter(p, with_filters=True)
    p.set_defaults(func=_build_msa)

    p = steps.add_parser("pssm", help="L x 20 PSSM from a weighted alignment or a PSI-BLAST ASCII PSSM")
    p.add_argument("--alignment", type=Path, default=None)
    p.add_argument("--psiblast-pssm", type=Path, default=None, help="psiblast -out_ascii_pssm output")
    p.add_argument("--output", type=Path, required=True, help="TSV: position, residue, 20 scores in bits")
    _add_filter(p, with_filters=False)
    p.set_defaults(func=_pssm)

    p = steps.add_parser("plm", help="pseudo-likelihood Potts couplings + APC scores for a shard of alignments")
    p.add_argument("--alignments", type=Path, nargs="+", required=True)
    p.add_argument("--output-dir", type=Path, required=True,
                   help="writes <target>.npz: apc (L, L), couplings (L, L, 441, float16), query, neff")
    _add_filter(p, with_filters=False)
    p.add_argument("--lambda-single", type=float, default=plm.lambda_single)
    p.add_argument("--lambda-pair-factor", type=float, default=plm.lambda_pair_factor,
                   help="coupling penalty = this x (L - 1)")
    p.add_argument("--max-iter", type=int, default=plm.max_iter, help="L-BFGS iterations")
    p.add_argument("--history", type=int, default=plm.history, help="L-BFGS correction pairs")
    p.add_argument("--chunk", type=int, default=plm.chunk, help="sequences per chunk (bounds memory)")
    p.add_argument("--seed", type=int, default=0)
    add_device_argument(p)
    add_threads_argument(p)
    p.set_defaults(func=_plm)

    p = steps.add_parser("evaluate", help="precision by range vs native structures; maps, RR, figures")
    p.add_argument("--plm-dir", type=Path, nargs="+", required=True, help="output directories of `plm`")
    p.add_argument("--structures", type=Path, nargs="+", required=True, help="native structures, named <target>.*")
    p.add_argument("--output-dir", type=Path, required=True,
                   help="writes metrics.tsv, per_target.tsv, by_neff.tsv, precision.png, maps/, plots/")
    p.set_defaults(func=_evaluate)
