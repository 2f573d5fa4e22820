"""Validate the bfactor chain on real structures beyond the demo: ../shared/data/structures.

Runs the chain's own steps (the functions behind ``pgml bfactor ...``) on the X-ray entries of
``../shared/data/structures/index.tsv`` marked ``use_for_bfactor = yes``: select (resolution cutoff)
-> build graphs -> split by seed -> train every architecture -> predict the held-out test entries ->
contact-number baseline -> evaluate. Prints CC/MAE/MAPE/RRSE per architecture next to the baseline.

    python benchmarks/bfactor_validation.py [--architectures meta gcn ...] [--epochs 15] \
        [--max-atoms 8000] [--work-dir results/benchmarks/bfactor_validation]

Entries above --max-atoms are left out to keep CPU training time bounded (a few minutes per
architecture on 2 cores with the defaults); the table says how many entries were used.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd
import torch

from pgml.bfactor.baseline import contact_number_baseline
from pgml.bfactor.evaluate import evaluate_predictions
from pgml.bfactor.graphs import build_graphs
from pgml.bfactor.params import ARCHITECTURES, SplitConfig
from pgml.bfactor.predict import predict_files, structures_from_split
from pgml.bfactor.select import select_structures
from pgml.bfactor.split import split_dataset
from pgml.bfactor.training import TrainConfig, train_model
from pgml.structure.collection import shard_structures

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "structures"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--architectures", nargs="+", default=list(ARCHITECTURES), choices=ARCHITECTURES)
    parser.add_argument("--split", choices=("identity", "random"), default="identity",
                        help="identity: no test protein has a homologue in training (mmseqs2); random: by seed")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--max-atoms", type=int, default=8000)
    parser.add_argument("--max-resolution", type=float, default=2.5)
    parser.add_argument("--target", choices=("raw", "zscore"), default="zscore")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work-dir", type=Path, default=ROOT / "results" / "benchmarks" / "bfactor_validation")
    args = parser.parse_args()
    index = SHARED / "index.tsv"
    if not index.exists():
        print(f"{index} not found: nothing to validate on", file=sys.stderr)
        return 1
    torch.set_num_threads(args.threads)
    work = args.work_dir
    work.mkdir(parents=True, exist_ok=True)

    table = pd.read_csv(index, sep="\t")
    table = table[(table["use_for_bfactor"] == "yes") & (table["n_atoms_model1"] <= args.max_atoms)]
    listing = work / "structures.txt"
    listing.write_text("".join(f"{SHARED / f}\n" for f in table["file"]))
    shard_structures([listing], n_shards=1, output_dir=work / "shards")
    select_structures(work / "shards" / "shard_0.txt", output=work / "selection_0.tsv",
                      max_resolution=args.max_resolution, methods=("X-RAY DIFFRACTION",))
    graphs = work / f"graphs_{args.target}.pt"
    if not graphs.exists():
        build_graphs(work / "selection_0.tsv", output=graphs, target=args.target, radius=5.0)
    split_dataset([work / "selection_0.tsv"], output=work / "split.tsv", report=work / "selection.tsv",
                  config=SplitConfig(method=args.split, val_fraction=0.15, test_fraction=0.15), seed=args.seed)
    split = pd.read_csv(work / "split.tsv", sep="\t")
    counts = split["split"].value_counts().to_dict()
    print(f"entries: {len(table)} in index (<= {args.max_atoms} atoms), split {counts}")

    prediction_dirs, timings = [], {}
    for arch in args.architectures:
        start = time.perf_counter()
        config = TrainConfig(architecture=arch, hidden=args.hidden, layers=args.layers, dropout=0.1,
                             optimizer="adamw", lr=args.lr, weight_decay=1e-4, batch_size=1,
                             epochs=args.epochs, patience=10, seed=args.seed)
        model_dir = work / "models" / arch / "run0"
        train_model([graphs], split=work / "split.tsv", output_dir=model_dir, config=config)
        out = work / "predictions" / arch / "run0"
        predict_files(model_dir / "model.ckpt", structures_from_split(work / "split.tsv", "test"), out)
        prediction_dirs.append(out)
        timings[arch] = time.perf_counter() - start
    baselines = {"baseline": "cn", "baseline_wcn": "wcn"}
    for name, kind in baselines.items():
        contact_number_baseline([graphs], split=work / "split.tsv", output_dir=work / "predictions" / name, kind=kind)
    summary = evaluate_predictions(prediction_dirs, [work / "predictions" / n for n in baselines], work / "evaluation")
    summary["train+predict_s"] = summary["method"].map(timings)
    pd.set_option("display.width", 160)
    print(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
