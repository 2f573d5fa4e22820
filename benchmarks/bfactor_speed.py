"""Throughput of the bfactor chain: graph building and inference, proteins/s and atoms/s.

Proteins of 2,000-6,000 atoms: the demo structures in that range plus, when ../shared/data is
present, its X-ray entries in that range. Graph building (parse + features + bonds) is timed
separately from inference. Inference is timed for every architecture (so Meta's cost is shown next
to the simplest model, GCN, measured in the same run), one protein per forward pass on CPU and, when
a GPU is visible, batched on the GPU too. Goals: Meta >= 15 proteins/s on 2 CPU cores
(the paper's CPU figure), >= 300 proteins/s on one H100 with batching (paper: 37 on a GPU).

    python benchmarks/bfactor_speed.py [--threads 2] [--max-proteins 40] [--model CKPT]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
import torch

from pgml.bfactor.cli import ARCHITECTURES
from pgml.bfactor.graphs import structure_to_graph
from pgml.bfactor.models import build_model
from pgml.structure.io import read_structure

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "structures"
PAPER = {"cpu": 15.0, "gpu": 37.0}
GOAL = {"cpu": 15.0, "gpu": 300.0}


def candidate_files(max_proteins: int) -> list[Path]:
    files = []
    for path in sorted((ROOT / "resources" / "demo" / "structures").glob("*.gz")):
        files.append(path)
    index = SHARED / "index.tsv"
    if index.exists():
        table = pd.read_csv(index, sep="\t")
        table = table[(table["use_for_bfactor"] == "yes") & table["n_atoms_model1"].between(2000, 6000)]
        files += [SHARED / f for f in table["file"]]
    return files[: max_proteins * 3]


def build_graphs(files: list[Path], max_proteins: int) -> tuple[list, float]:
    graphs, seconds = [], 0.0
    for path in files:
        start = time.perf_counter()
        try:
            graph = structure_to_graph(read_structure(path))
        except Exception:  # noqa: BLE001 - skip unusable entries, as `select` would
            continue
        elapsed = time.perf_counter() - start
        if 2000 <= graph.num_nodes <= 6000:
            graphs.append(graph)
            seconds += elapsed
        if len(graphs) == max_proteins:
            break
    return graphs, seconds


def time_inference(model: torch.nn.Module, graphs: list, device: torch.device, batch: int) -> float:
    from torch_geometric.loader import DataLoader

    loader = DataLoader(graphs, batch_size=batch)
    model = model.to(device).eval()
    with torch.no_grad():
        for data in DataLoader(graphs[: min(len(graphs), batch)], batch_size=batch):  # warm-up
            model(data.to(device))
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for data in loader:
            model(data.to(device))
        if device.type == "cuda":
            torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-proteins", type=int, default=40)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--gpu-batch", type=int, default=32)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    graphs, build_seconds = build_graphs(candidate_files(args.max_proteins), args.max_proteins)
    n_atoms = sum(g.num_nodes for g in graphs)
    print(f"{len(graphs)} proteins of 2,000-6,000 heavy atoms ({n_atoms} atoms), torch threads = {args.threads}")
    print(f"graph building (parse + bonds + features): {len(graphs) / build_seconds:.1f} proteins/s, "
          f"{n_atoms / build_seconds:,.0f} atoms/s")

    node_dim, edge_dim = graphs[0].num_node_features, graphs[0].edge_attr.shape[1]
    devices = [("cpu", torch.device("cpu"), 1)]
    if torch.cuda.is_available():
        devices.append(("gpu", torch.device("cuda"), args.gpu_batch))
    rows = []
    for arch in ARCHITECTURES:
        model = build_model(arch, node_dim, edge_dim, hidden=args.hidden, layers=args.layers, dropout=0.0)
        for label, device, batch in devices:
            seconds = time_inference(model, graphs, device, batch)
            rows.append({"architecture": arch, "device": label, "batch": batch,
                         "proteins_per_s": len(graphs) / seconds, "atoms_per_s": n_atoms / seconds})
    table = pd.DataFrame(rows)
    gcn = table[table["architecture"] == "gcn"].set_index("device")["proteins_per_s"]
    table["vs_gcn"] = table["proteins_per_s"] / table["device"].map(gcn)
    table["paper"] = table["device"].map(PAPER)
    table["goal"] = table["device"].map(GOAL)
    is_meta = table["architecture"] == "meta"
    table["meets_goal"] = ""
    table.loc[is_meta, "meets_goal"] = [
        "yes" if p >= g else "NO" for p, g in zip(table.loc[is_meta, "proteins_per_s"], table.loc[is_meta, "goal"], strict=True)
    ]
    pd.set_option("display.width", 160)
    print(table.to_string(index=False, float_format=lambda v: f"{v:,.1f}"))
    if not torch.cuda.is_available():
        print("no GPU visible: GPU rows not measured")


if __name__ == "__main__":
    main()
