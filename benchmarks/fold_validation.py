"""Validate the fold chain on real structures beyond the demo: ../shared/data/structures.

Runs the chain's own steps (the functions behind ``pgml fold ...``) on the X-ray and EM entries of
``../shared/data/structures/index.tsv`` with at most --max-atoms atoms: build graphs (one sample per
entry) -> label (``--labels ec``: enzyme / non-enzyme from the EC numbers in the files' headers;
``dssp``: DSSP class, which the network's H-bond edges partly give away) -> sequence-identity split with
the leakage audit -> train --runs IEConv runs -> accuracy on the held-out entries next to the majority
class, the composition + SS logistic regression and the MMseqs2 nearest training neighbour, and whether
the model beats them.

    python benchmarks/fold_validation.py [--quick] [--labels ec|dssp] [--max-atoms 4000] [--epochs 20] [--runs 2] \
        [--work-dir results/benchmarks/fold_validation]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
import torch

from pgml.fold.params import GraphConfig, ModelConfig, SplitConfig, TrainConfig
from pgml.fold.steps import build_graphs, evaluate, make_split, train_model

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "structures"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="30 entries of <= 2,500 atoms, 4 epochs, 1 run")
    parser.add_argument("--labels", choices=("ec", "dssp"), default="ec")
    parser.add_argument("--max-atoms", type=int, default=4000)
    parser.add_argument("--max-entries", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work-dir", type=Path, default=ROOT / "results" / "benchmarks" / "fold_validation")
    args = parser.parse_args()
    if args.quick:
        args.max_atoms, args.max_entries, args.epochs, args.runs = 2500, 30, 4, 1
    if not (SHARED / "index.tsv").exists():
        print(f"{SHARED} not present: nothing to validate on", file=sys.stderr)
        return 1
    torch.set_num_threads(args.threads)
    index = pd.read_csv(SHARED / "index.tsv", sep="\t")
    keep = index[index["method"].isin(["X-RAY DIFFRACTION", "ELECTRON MICROSCOPY"])
                 & (index["n_atoms_model1"] <= args.max_atoms) & (index["n_protein_residues"] >= 40)
                 & ~index["flags"].astype(str).str.contains("CA_trace_only")].head(args.max_entries)
    work = args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    manifest = work / "structures.txt"
    manifest.write_text("".join(f"{SHARED / f}\n" for f in keep["file"]))
    graphs, records = work / "graphs.pt", work / "graphs.tsv"
    if not graphs.exists():
        build_graphs(manifest, graphs, records, GraphConfig(unit="entry"))
    split, audit = work / "samples.tsv", work / "leakage_audit.txt"
    make_split([records], split, audit, SplitConfig(labels=args.labels, val_fraction=0.15, test_fraction=0.25))
    model = ModelConfig()
    train = TrainConfig(epochs=args.epochs, batch_size=4)
    runs = []
    for r in range(args.runs):
        train_model([graphs], split, work / f"run_{r}", model, train, seed=r, device="auto")
        runs.append(work / f"run_{r}")
    table = evaluate([graphs], split, runs, work / "evaluation", threads=args.threads)
    print(f"\n{len(keep)} entries of {SHARED} (<= {args.max_atoms} atoms), {args.labels} labels")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print((work / "evaluation" / "summary.txt").read_text())
    print(audit.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
