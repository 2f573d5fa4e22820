"""Ablation of the bfactor packing switches: model CC vs 1/WCN vs contact number on the same test set.

Each row trains one architecture on graphs built with one set of
:class:`~pgml.bfactor.params.GraphConfig` switches (extra neighbour counts at 8/12/15 Å, WCN as a node
feature, non-covalent contact edges, ligands and metals counted) and evaluates it on the test
structures of one identity split (mmseqs2 clusters: no test entry shares a cluster with training),
beside the two packing baselines fitted on the same training atoms:

    cc_model  mean per-protein Pearson CC of the model (undefined CC counts as 0, as in evaluate)
    cc_wcn    the same for the 1/WCN baseline (linear in 1/sum 1/d^2 within 15 Å)
    cc_cn     the same for the contact-number baseline (atoms within the 5 Å neighbour radius)

Two phases, so that training can run on a machine without gemmi (graph files carry everything):

    python benchmarks/bfactor_ablation.py --build [--structures DIR] [--max-atoms 20000]
        select (X-ray, < 2.5 Å) -> identity split -> graph files      (needs gemmi, mmseqs)
    python benchmarks/bfactor_ablation.py [--rows paper radii ...] [--epochs 30] [--jobs 4] [--device auto]
        train each row from the prebuilt graphs and print the table    (torch, torch_geometric, scipy)
    python benchmarks/bfactor_ablation.py --quick
        both phases on the 16 demo structures, 2 epochs, three rows (a smoke test of the script)

``--structures`` defaults to ../shared/data/structures (its index.tsv keeps the entries marked
use_for_bfactor); any directory of PDB/mmCIF files works. Results go to --work-dir
(results/benchmarks/bfactor_ablation): graphs/<row>.pt, split.tsv, models/<row>/, ablation.tsv.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "structures"
DEMO = ROOT / "resources" / "demo" / "structures"

RADII = (8.0, 12.0, 15.0)
CONTACT = 4.5
#: rows of the ablation: name -> GraphConfig switches (target and 5 Å radius as in the chain's default)
ROWS: dict[str, dict] = {
    "paper": {},
    "radii": {"packing_radii": RADII},
    "wcn": {"wcn_feature": True},
    "radii+wcn": {"packing_radii": RADII, "wcn_feature": True},
    "radii+wcn+ligands": {"packing_radii": RADII, "wcn_feature": True, "ligand_counts": True},
    "contact": {"contact_radius": CONTACT},
    "radii+wcn+contact": {"packing_radii": RADII, "wcn_feature": True, "contact_radius": CONTACT},
    "all": {"packing_radii": RADII, "wcn_feature": True, "ligand_counts": True, "contact_radius": CONTACT},
}
#: a row with contact edges is derived from its covalent-only twin by pgml.bfactor.edges.add_contact_edges
#: (what build-graphs does; the graph files to carry to a GPU machine stay small)
TWINS = {"contact": "paper", "radii+wcn+contact": "radii+wcn", "all": "radii+wcn+ligands"}
QUICK_ROWS = ("paper", "radii+wcn", "all")


def derive_contact_rows(work: Path, rows: list[str]) -> None:
    """Write graphs/<row>.pt for contact rows from their twin's graphs (no gemmi needed)."""
    from pgml.bfactor.edges import add_contact_edges
    from pgml.fileio import atomic_path

    for row in rows:
        out = work / "graphs" / f"{row}.pt"
        if row not in TWINS or out.exists():
            continue
        payload = torch.load(work / "graphs" / f"{TWINS[row]}.pt", weights_only=False, map_location="cpu")
        radius = ROWS[row]["contact_radius"]
        for g in payload["graphs"]:
            add_contact_edges(g, radius)
        payload["features"] = dict(payload["features"], contact_radius=float(radius))
        with atomic_path(out) as tmp:
            torch.save(payload, tmp)
        print(f"derived {row} from {TWINS[row]} (contact edges within {radius} Å)", flush=True)


def build(structures: Path, work: Path, rows: list[str], max_atoms: int, target: str, seed: int,
          limit: int | None = None) -> None:
    """Select, split by sequence identity and build one graph file per row (the chain's own steps)."""
    from pgml.bfactor.graphs import build_graphs
    from pgml.bfactor.params import GraphConfig, SplitConfig
    from pgml.bfactor.select import select_structures
    from pgml.bfactor.split import split_dataset
    from pgml.structure.collection import shard_structures

    work.mkdir(parents=True, exist_ok=True)
    index = structures / "index.tsv"
    if index.exists():
        table = pd.read_csv(index, sep="\t")
        table = table[(table["use_for_bfactor"] == "yes") & (table["n_atoms_model1"] <= max_atoms)]
        files = [structures / f for f in table["file"]]
    else:
        files = sorted(p for p in structures.iterdir() if p.is_file() and not p.name.startswith("."))
    files = files[:limit] if limit else files
    listing = work / "structures.txt"
    listing.write_text("".join(f"{f}\n" for f in files))
    shard_structures([listing], n_shards=1, output_dir=work / "shards")
    select_structures(work / "shards" / "shard_0.txt", output=work / "selection_0.tsv", max_resolution=2.5,
                      methods=("X-RAY DIFFRACTION",))
    selection = pd.read_csv(work / "selection_0.tsv", sep="\t", dtype=str)
    kept = selection[selection["status"] == "kept"]
    too_big = kept[pd.to_numeric(kept["n_atoms"]) > max_atoms]
    if len(too_big):  # directories without an index: apply the atom cap after selection
        selection.loc[too_big.index, ["status", "reason"]] = ["dropped", f"more than {max_atoms} atoms"]
        selection.to_csv(work / "selection_0.tsv", sep="\t", index=False)
    split_dataset([work / "selection_0.tsv"], output=work / "split.tsv", report=work / "selection.tsv",
                  config=SplitConfig(method="identity", val_fraction=0.15, test_fraction=0.15), seed=seed)
    (work / "graphs").mkdir(exist_ok=True)
    for row in dict.fromkeys(TWINS.get(r, r) for r in rows):
        config = GraphConfig(target=target, **ROWS[row])
        start = time.perf_counter()
        build_graphs(work / "selection_0.tsv", output=work / "graphs" / f"{row}.pt", config=config)
        print(f"built {row}: {time.perf_counter() - start:.0f} s", flush=True)


def per_protein_cc(pairs: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Mean per-protein Pearson CC, undefined CC counted as 0 (:func:`pgml.metrics.summarise_groups`)."""
    from pgml.metrics import pearson, summarise_groups

    return float(summarise_groups([pearson(y, p) for y, p in pairs], nan_policy="zero").mean)


def baseline_cc(train: list, test: list, kind: str, radius: float) -> float:
    """CC of the packing baseline ``kind`` fitted on the training atoms (:mod:`pgml.bfactor.baseline`)."""
    from pgml.bfactor.baseline import fit_linear, packing

    x = np.concatenate([packing(g.pos.numpy(), kind, radius) for g in train])
    y = np.concatenate([g.y.numpy() for g in train])
    a, b = fit_linear(x, y)
    return per_protein_cc([(g.y.numpy(), a + b * packing(g.pos.numpy(), kind, radius)) for g in test])


def run_row(row: str, work: str, arch: str, epochs: int, hidden: int, layers: int, lr: float, batch_size: int,
            seed: int, device: str, threads: int) -> dict:
    """Train ``arch`` on the row's graphs and score it and both baselines on the test structures."""
    from pgml.bfactor.params import TrainConfig
    from pgml.bfactor.shards import load_graphs
    from pgml.bfactor.split import read_split
    from pgml.bfactor.training import load_model, select_graphs, train_model
    from pgml.runtime import pick_device

    torch.set_num_threads(threads)
    work_dir = Path(work)
    graph_file = work_dir / "graphs" / f"{row}.pt"
    split = work_dir / "split.tsv"
    config = TrainConfig(architecture=arch, hidden=hidden, layers=layers, lr=lr, batch_size=batch_size,
                         epochs=epochs, patience=max(5, epochs // 3), seed=seed)
    out = work_dir / "models" / row
    start = time.perf_counter()
    result = train_model([graph_file], split=split, output_dir=out, config=config, device=device)
    seconds = time.perf_counter() - start
    graphs, meta = load_graphs([graph_file])
    groups = select_graphs(graphs, read_split(split), split)
    model, _ = load_model(out / "model.ckpt")
    dev = pick_device(device)
    model = model.to(dev)
    with torch.no_grad():
        pairs = [(g.y.numpy(), model(g.to(dev)).cpu().numpy()) for g in groups["test"]]
    for g in groups["test"]:
        g.to("cpu")
    radius = float(meta["radius"])
    return {
        "row": row, "architecture": arch, "node_features": int(meta["node_feature_dim"]),
        "edges_per_atom": round(sum(g.num_edges for g in graphs) / max(sum(g.num_nodes for g in graphs), 1), 1),
        "n_train": len(groups["train"]), "n_val": len(groups["val"]), "n_test": len(groups["test"]),
        "val_cc": float(result.best_score), "epochs": result.epochs_run,
        "cc_model": per_protein_cc(pairs),
        "cc_wcn": baseline_cc(groups["train"], groups["test"], "wcn", radius),
        "cc_cn": baseline_cc(groups["train"], groups["test"], "cn", radius),
        "train_s": round(seconds),
        "switches": json.dumps(meta["features"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", action="store_true", help="build split and graphs (needs gemmi and mmseqs)")
    parser.add_argument("--quick", action="store_true", help="demo structures, 2 epochs, three rows")
    parser.add_argument("--structures", type=Path, default=SHARED)
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--rows", nargs="+", choices=list(ROWS), default=None)
    parser.add_argument("--architecture", default="meta")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=4, help="proteins per batch")
    parser.add_argument("--max-atoms", type=int, default=20000)
    parser.add_argument("--target", choices=("raw", "zscore"), default="zscore")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1, help="rows trained in parallel (one process each)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads per job")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:0, ...")
    args = parser.parse_args()
    rows = args.rows or (list(QUICK_ROWS) if args.quick else list(ROWS))
    work = args.work_dir or ROOT / "results" / "benchmarks" / ("bfactor_ablation_quick" if args.quick else "bfactor_ablation")
    if args.quick:
        args.structures, args.epochs = DEMO, min(args.epochs, 2)
    if args.build or (args.quick and not all((work / "graphs" / f"{TWINS.get(r, r)}.pt").exists() for r in rows)):
        if not args.structures.is_dir():
            print(f"{args.structures}: not a directory: nothing to build from", file=sys.stderr)
            return 1
        build(args.structures, work, rows, args.max_atoms, args.target, args.seed)
        if args.build:
            return 0
    derive_contact_rows(work, rows)
    missing = [r for r in rows if not (work / "graphs" / f"{r}.pt").exists()]
    if missing:
        print(f"no graphs for {missing} in {work / 'graphs'}: run with --build first", file=sys.stderr)
        return 1
    jobs = [(r, str(work), args.architecture, args.epochs, args.hidden, args.layers, args.lr, args.batch_size,
             args.seed, args.device, args.threads) for r in rows]
    if args.jobs > 1:
        with ProcessPoolExecutor(max_workers=args.jobs, mp_context=get_context("spawn")) as pool:
            results = list(pool.map(run_row, *zip(*jobs, strict=True)))
    else:
        results = [run_row(*j) for j in jobs]
    table = pd.DataFrame(results)
    table["model_minus_wcn"] = table["cc_model"] - table["cc_wcn"]
    table["beats_wcn"] = np.where(table["model_minus_wcn"] > 0, "yes", "no")
    table.to_csv(work / "ablation.tsv", sep="\t", index=False, float_format="%.4f")
    pd.set_option("display.width", 200)
    print(table.drop(columns=["switches"]).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"\n{work / 'ablation.tsv'}; device {args.device}, {args.epochs} epochs, {args.architecture} "
          f"hidden {args.hidden} layers {args.layers}; CC: mean per-protein Pearson on the test structures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
