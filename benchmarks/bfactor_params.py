"""Parameter counts of the bfactor architectures and the peak memory of ``mpn``, NNConv vs MLP message.

Parameter counts are printed at the paper config's sizes (``config/paper/bfactor.yaml``, train
``hidden``/``layers``) and at the demo's (``config/config.yaml``), for comparison with [metagnn]'s
models. ``mpn (NNConv)`` is the edge-network ``mpn`` that :class:`pgml.nn.MPNNConv` replaced.

Peak memory is that of one forward + backward pass of ``mpn`` at the paper's sizes on a synthetic
chain graph (a random walk of atoms, bonds between neighbours, random bond orders): on a GPU the
peak of ``torch.cuda.max_memory_allocated``, on CPU the peak resident-set growth of a fresh process
(``ru_maxrss``). Default size: 50,000 atoms on a GPU, 10,000 on CPU (NNConv's per-edge 128 x 128
matrices need tens of GB at 50,000 atoms).

    python benchmarks/bfactor_params.py [--atoms N] [--device auto|cpu|cuda] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch
import yaml

from pgml.bfactor.features import NODE_FEATURE_DIM
from pgml.bfactor.models import BFactorGNN, build_model
from pgml.bfactor.params import ARCHITECTURES
from pgml.structure.graph import EDGE_FEATURE_DIM

ROOT = Path(__file__).resolve().parents[1]


def sizes(config: Path) -> tuple[int, int]:
    train = yaml.safe_load(config.read_text())["bfactor"]["train"]
    return int(train["hidden"]), int(train["layers"])


def nnconv_mpn(hidden: int, layers: int) -> BFactorGNN:
    """The former ``mpn``: NNConv edge network, a hidden x hidden matrix per edge."""
    from torch import nn
    from torch_geometric.nn import NNConv

    model = build_model("mpn", NODE_FEATURE_DIM, EDGE_FEATURE_DIM, hidden=hidden, layers=layers)
    for i in range(layers):
        edge_net = nn.Sequential(nn.Linear(EDGE_FEATURE_DIM, hidden), nn.ReLU(), nn.Linear(hidden, hidden * hidden))
        model.convs[i] = NNConv(hidden, hidden, edge_net, aggr="mean")
    return model


def model_for(name: str, hidden: int, layers: int) -> BFactorGNN:
    if name == "mpn (NNConv)":
        return nnconv_mpn(hidden, layers)
    return build_model(name, NODE_FEATURE_DIM, EDGE_FEATURE_DIM, hidden=hidden, layers=layers)


def count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def chain_graph(n: int, seed: int = 0):
    from torch_geometric.data import Data

    g = torch.Generator().manual_seed(seed)
    src = torch.arange(n - 1)
    edge_index = torch.cat([torch.stack([src, src + 1]), torch.stack([src + 1, src])], dim=1)
    step = torch.nn.functional.normalize(torch.randn(n, 3, generator=g), dim=1) * 1.5
    pos = torch.cumsum(step, dim=0)
    length = (pos[edge_index[0]] - pos[edge_index[1]]).norm(dim=-1, keepdim=True)
    order = torch.nn.functional.one_hot(torch.randint(0, 4, (n - 1,), generator=g), 4).float()
    edge_attr = torch.cat([torch.cat([order, order]), length], dim=1)
    return Data(x=torch.randn(n, NODE_FEATURE_DIM, generator=g), pos=pos, edge_index=edge_index,
                edge_attr=edge_attr, y=torch.randn(n, generator=g))


def measure_one(name: str, hidden: int, layers: int, atoms: int, device: str) -> dict:
    """One forward + backward pass in this process; peak memory in MiB."""
    torch.manual_seed(0)
    data = chain_graph(atoms).to(device)
    model = model_for(name, hidden, layers).to(device)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.perf_counter()
    torch.nn.functional.l1_loss(model(data), data.y).backward()
    if device == "cuda":
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - base
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base
    return {"peak_mib": peak / 2**20, "seconds": time.perf_counter() - start}


def measure(name: str, hidden: int, layers: int, atoms: int, device: str, threads: int) -> str:
    """Run :func:`measure_one` in a fresh process so that CPU peaks do not carry over."""
    cmd = [sys.executable, __file__, "--one", name, "--hidden", str(hidden), "--layers", str(layers),
           "--atoms", str(atoms), "--device", device, "--threads", str(threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        return f"failed: {last[:80]}"
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return f"{result['peak_mib']:,.0f} MiB ({result['seconds']:.1f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--atoms", type=int, default=None, help="atoms in the synthetic chain (default: 50,000 "
                        "on a GPU, 10,000 on CPU)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--hidden", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--layers", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    if args.one:
        print(json.dumps(measure_one(args.one, args.hidden, args.layers, args.atoms, device)))
        return

    paper = sizes(ROOT / "config" / "paper" / "bfactor.yaml")
    demo = sizes(ROOT / "config" / "config.yaml")
    names = [*ARCHITECTURES, "mpn (NNConv)"]
    print(f"Parameters (node features {NODE_FEATURE_DIM}, edge features {EDGE_FEATURE_DIM})\n")
    from pgml.bfactor.params import PAPER_ARCHITECTURE_PARAMS, PAPER_PARAMETER_COUNTS

    print(f"| architecture | paper config (hidden {paper[0]}, layers {paper[1]}, per-architecture widths) "
          f"| the paper's table | demo (hidden {demo[0]}, layers {demo[1]}) |")
    print("|---|---:|---:|---:|")
    for name in names:
        own = PAPER_ARCHITECTURE_PARAMS.get(name, {})
        width = own.get("hidden", paper[0])
        quoted = f"{PAPER_PARAMETER_COUNTS[name]:,}" if name in PAPER_PARAMETER_COUNTS else "-"
        print(f"| {name}{f' (hidden {width})' if own else ''} | {count(model_for(name, width, paper[1])):,} "
              f"| {quoted} | {count(model_for(name, *demo)):,} |")

    atoms = args.atoms or (50_000 if device == "cuda" else 10_000)
    print(f"\nPeak memory of one forward + backward pass, {atoms:,}-atom chain, paper sizes, {device}"
          + (" (50,000 atoms needs a GPU with tens of GB for NNConv; --atoms to change)" if device == "cpu" else ""))
    print("\n| mpn layer | peak memory (time) |\n|---|---:|")
    for name in ("mpn", "mpn (NNConv)"):
        print(f"| {name} | {measure(name, *paper, atoms, device, args.threads)} |", flush=True)


if __name__ == "__main__":
    main()
