"""Speed of the fold chain (IEConv): graph building, forward+backward by protein size, peak memory.

Graph building on real structures (``--structures-dir``, default ``../shared/data/structures``): the
structures of about 5k and 20k atoms listed in ``SETS`` are built one at a time on one thread by the
current implementation and by the anchor (the source of ``--anchor``, a commit before the graph-building
speed-up, unpacked with ``git archive``), each in its own process (``benchmarks/fold_build_worker.py``),
in the same run, each with its default settings (the anchor: mkdssp, the current code: DSSP's rules in
NumPy). The table gives structures/s per size and implementation (wall clock; CPU seconds per structure
beside it, which a busy machine inflates less), the seconds per stage (parse, DSSP, bonds, hops,
pooling, other, save), the share of structures whose samples are identical to the current ones (every
array and value but the ``hbond_source`` label) and, where some differ, which keys differ and the
largest difference in H-bond count. The 2-core rows are measured, not doubled: the 5k structures are
split into two shards, two worker processes (one per core) build their shard ``--rounds`` times, both
starting at the same moment after their imports, and the rate is all structures built over the wall-clock
window. On a shared machine the wall clock counts other jobs' time too, so the CPU seconds per structure
(worker and mkdssp) of the same run are printed beside it, with the rate they allow on two cores that
run nothing else. The goal: >= 10 structures/s at 5k atoms on 2 cores.

Synthetic proteins of about 1k, 5k and 20k heavy atoms are made by placing copies of ubiquitin
(1UBI, 602 atoms) 60 Å apart as separate chains; graph building (DSSP, bonds, hops, pooling) is
timed per protein. For each size the full network (fig. 5; paper widths, or the demo's with
--quick) runs one forward+backward pass, and one learned-kernel IEConv layer is compared with a plain
GCN layer of the same width on the same atom neighbourhood (3 Å). CPU rows always; GPU rows when a
GPU is visible. Peak memory: the process's max RSS so far on CPU, ``torch.cuda.max_memory_allocated`` on GPU.

    python benchmarks/fold_speed.py [--quick] [--threads 2] [--build-only] [--anchor COMMIT] [--rounds 5]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from anchor import extract  # noqa: E402 - benchmarks/ is the script's folder

from pgml.fold.data import collate, prepare
from pgml.fold.layers import IEConv, KipfWellingGCN
from pgml.fold.model import IEConvNet
from pgml.fold.params import ModelConfig

ROOT = Path(__file__).resolve().parents[1]
#: the commit before the graph-building speed-ups (mkdssp on mmCIF input, hop distances from matrix powers)
ANCHOR = "0a7914d"
#: real structures near 5k and 20k protein atoms (../shared/data/structures/index.tsv: n_atoms_model1)
SETS = {"5k": ["1EVE", "11AS", "1AFS", "2REG", "1F2N", "1RB8"], "20k": ["6WG6", "3NIG", "4JSV"]}
GOAL_5K_PER_S = 10.0
CHAINS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def synthetic(copies: int):
    """An AtomTable of ``copies`` ubiquitins (gemmi is imported here, so that ``--samples`` runs
    without it)."""
    from pgml.structure.io import AtomTable, read_structure

    base = read_structure(ROOT / "resources" / "demo" / "structures" / "1UBI.pdb.gz").atoms
    base = base.subset(base.protein_mask())
    parts = []
    side = int(np.ceil(copies ** (1 / 3)))
    for k in range(copies):
        shift = 60.0 * np.array([k % side, (k // side) % side, k // (side * side)])
        fields = {f.name: getattr(base, f.name).copy() for f in dataclasses.fields(base)}
        fields["coords"] = fields["coords"] + shift
        fields["chain_id"] = np.full(len(base), CHAINS[k % len(CHAINS)])
        fields["res_index"] = fields["res_index"] + k * base.n_residues
        parts.append(fields)
    return AtomTable(**{k: np.concatenate([p[k] for p in parts]) for k in parts[0]})


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, device: torch.device, repeats: int = 2) -> tuple[float, float]:
    fn()  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    for _ in range(repeats):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = rss_mb()  # the process peak so far (CPU allocations are not tracked per call)
    return (time.perf_counter() - t) / repeats, peak


def net_step(net: IEConvNet, batch: dict) -> None:
    net.zero_grad()
    torch.nn.functional.cross_entropy(net(batch), batch["y"]).backward()


def layer_step(layer: torch.nn.Module, *inputs: torch.Tensor) -> None:
    layer(*inputs).sum().backward()


def to(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device) for k, v in batch.items()}


def anchor_tree(commit: str, into: Path) -> Path:
    """``src`` and the resources of ``commit`` unpacked under ``into`` (its ``src`` path)."""
    return extract(commit, into, ("src", "resources/chem", "resources/fold"))


def _env(src: Path, threads: int) -> dict:
    return {**os.environ, "PYTHONPATH": str(src), "PGML_FOLD_RESOURCES": str(src.parent / "resources" / "fold"),
            "OMP_NUM_THREADS": str(threads)}


def _worker_command(paths: list[Path], threads: int, *extra: str) -> list[str]:
    return [sys.executable, str(ROOT / "benchmarks" / "fold_build_worker.py"), "--threads", str(threads),
            *extra, *map(str, paths)]


def _lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def run_worker(src: Path, paths: list[Path], threads: int) -> list[dict]:
    proc = subprocess.run(_worker_command(paths, threads), env=_env(src, threads), capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise SystemExit(f"worker on {src} failed:\n{proc.stderr[-2000:]}")
    return [r for r in _lines(proc.stdout) if "path" in r]


def two_process_rate(src: Path, paths: list[Path], rounds: int) -> tuple[float, int, float, float]:
    """Structures/s of two workers building halves of ``paths`` ``rounds`` times at the same time
    (one thread each), the structures built, the wall-clock window (s) and the CPU seconds per structure."""
    shards = [paths[0::2], paths[1::2]]
    start_at = time.time() + 30.0  # both import torch, pgml and warm up before this moment
    procs = [subprocess.Popen(_worker_command(shard, 1, "--rounds", str(rounds), "--start-at", f"{start_at:.3f}"),
                              env=_env(src, 1), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for shard in shards]
    outs = [p.communicate() for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        if p.returncode != 0:
            raise SystemExit(f"2-process worker on {src} failed:\n{err[-2000:]}")
    rows = [_lines(out) for out, _ in outs]
    built = sum(1 for r in rows for x in r if "path" in x)
    begin = min(x["window"][0] for r in rows for x in r if "window" in x)
    end = max(x["window"][1] for r in rows for x in r if "window" in x)
    if begin < start_at - 0.5:
        raise SystemExit("a worker started before the agreed moment; raise the 30 s allowance")
    cpu = sum(x["cpu"] for r in rows for x in r if "window" in x)
    return built / (end - begin), built, end - begin, cpu / built


def _differences(got: list[dict], ref: list[dict]) -> str:
    keys = sorted({k for g, r in zip(got, ref, strict=True) for k in g["keys"] if g["keys"][k] != r["keys"].get(k)})
    if not keys:
        return ""
    worst = max(abs(g["n_hbonds"] - r["n_hbonds"]) for g, r in zip(got, ref, strict=True))
    return f"{','.join(keys)}; H-bonds differ by <= {worst}"


def build_table(structures_dir: Path, anchor: str, threads: int, rounds: int) -> None:
    index = pd.read_csv(structures_dir / "index.tsv", sep="\t").set_index("pdb_id")
    paths = {label: [structures_dir / index.loc[i, "file"] for i in ids if i in index.index]
             for label, ids in SETS.items()}
    names = {"anchor": "anchor " + anchor, "current": "current"}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="pgml-anchor-") as tmp:
        trees = {names["anchor"]: anchor_tree(anchor, Path(tmp)), names["current"]: ROOT / "src"}
        results = {name: run_worker(src, [p for ps in paths.values() for p in ps], threads)
                   for name, src in trees.items()}
        load_two = os.getloadavg()
        two = {name: two_process_rate(src, paths["5k"], rounds) for name, src in trees.items()}
    stages = ["parse", "dssp", "bonds", "hops", "pooling", "other", "save"]
    rows = []
    by_path = {name: {r["path"]: r for r in res} for name, res in results.items()}
    current = by_path["current"]
    for label, ps in paths.items():
        for name, res in by_path.items():
            got = [res[str(p)] for p in ps]
            ref = [current[str(p)] for p in ps]
            total = sum(r["total"] for r in got)
            row = {"size": label, "implementation": name, "structures": len(got),
                   "mean_atoms": int(np.mean([r["atoms"] for r in got])), "structures_per_s": len(got) / total,
                   "cpu_s": float(np.mean([r["cpu"] for r in got]))}
            row.update({f"{k}_s": np.mean([r.get(k, 0.0) for r in got]) for k in stages})
            row["dssp_from"] = ",".join(sorted({r["hbond_source"] for r in got}))
            same = [g["sha256"] == r["sha256"] for g, r in zip(got, ref, strict=True)]
            row["identical"] = f"{sum(same)}/{len(same)}"
            row["differ_in"] = _differences(got, ref)
            rows.append(row)
    table = pd.DataFrame(rows)
    base = table.set_index(["size", "implementation"])["structures_per_s"]
    table.insert(5, "x_anchor", [r.structures_per_s / base[(r.size, names["anchor"])] for r in table.itertuples()])
    print(f"graph building on real structures (pgml.fold.graph.structure_samples, one process, {threads} "
          f"thread(s); this machine: {os.cpu_count()} CPU cores shared with other jobs, load average "
          f"{load_before[0]:.1f} before); seconds per structure by stage:")
    with pd.option_context("display.max_colwidth", 60, "display.width", 250):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"\n2 cores, measured: two worker processes (1 thread each) build the two halves of the 5k set "
          f"{rounds} times at the same time (load average {load_two[0]:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after):")
    two_rows = [{"implementation": name, "structures_built": n, "window_s": w, "structures_per_s": rate,
                 "x_anchor": rate / two[names["anchor"]][0], "cpu_s_per_structure": cpu,
                 "cpu_bound_per_s_2_cores": 2 / cpu} for name, (rate, n, w, cpu) in two.items()]
    print(pd.DataFrame(two_rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    one = float(base[("5k", "current")])
    rate, cpu = two[names["current"]][0], two[names["current"]][3]
    print(f"\ngoal: >= {GOAL_5K_PER_S:.0f} structures/s at 5k atoms on 2 cores; current {one:.2f}/s in one "
          f"process, {rate:.2f}/s measured with two: " + ("met" if rate >= GOAL_5K_PER_S else "NOT met")
          + f" (wall clock, load average {load_two[0]:.1f} on {os.cpu_count()} cores). CPU: {cpu:.3f} s per "
          f"structure, so two cores that run nothing else would build {2 / cpu:.1f}/s: "
          + ("met" if 2 / cpu >= GOAL_5K_PER_S else "NOT met") + " on CPU time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="demo widths; sizes 1k and 5k only")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--save-samples", type=Path, default=None,
                        help="write the built samples here (a .pt file) for a later --samples run")
    parser.add_argument("--samples", type=Path, default=None,
                        help="samples written by --save-samples: skip graph building (no gemmi/mkdssp needed)")
    parser.add_argument("--build-only", action="store_true",
                        help="only the graph-building table on real structures (no network timing)")
    parser.add_argument("--structures-dir", type=Path, default=ROOT.parent / "shared" / "data" / "structures")
    parser.add_argument("--anchor", default=ANCHOR, help="commit whose graph building is the anchor")
    parser.add_argument("--build-threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5,
                        help="times each of the two 2-core workers builds its half of the 5k set")
    args = parser.parse_args()
    if (args.structures_dir / "index.tsv").is_file() and not args.samples:
        build_table(args.structures_dir, args.anchor, args.build_threads, args.rounds)
    elif args.build_only:
        raise SystemExit(f"{args.structures_dir}/index.tsv not found")
    if args.build_only:
        return
    torch.set_num_threads(args.threads)
    config = ModelConfig() if args.quick else ModelConfig(widths=(64, 128, 256, 512, 1024), mlp_hidden=1024)
    sizes = {"1k": 2, "5k": 8} if args.quick else {"1k": 2, "5k": 8, "20k": 33}
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    rows, build_rows = [], []
    prebuilt = torch.load(args.samples, weights_only=False) if args.samples else {}
    built = {}
    for label, copies in sizes.items():
        if label in prebuilt:
            sample = prebuilt[label]
        else:
            from pgml.fold.graph import build_sample

            atoms = synthetic(copies)
            t = time.perf_counter()
            sample = build_sample(atoms, f"syn{label}", f"syn{label}")
            build_s = time.perf_counter() - t
            build_rows.append({"size": label, "atoms": len(atoms), "build_s": build_s,
                               "proteins_per_s": 1 / build_s, "hbonds_from": sample["hbond_source"]})
        built[label] = sample
        atoms = sample["pos"]
        batch = collate([(prepare(sample, config), 0)])
        width = config.widths[0]
        for device in devices:
            torch.manual_seed(0)
            net = IEConvNet(2, config, n_types=int(sample["atom_type"].max()) + 1 if args.samples else None)
            net = net.to(device).train()
            b = to(batch, device)

            sec, mem = timed(partial(net_step, net, b), device)
            rows.append({"size": label, "atoms": len(atoms), "device": device.type, "what": "IEConvNet fwd+bwd",
                         "seconds": sec, "peak_mb": mem})
            x = torch.randn(len(atoms), width, device=device, requires_grad=True)
            ei, ea = b["edge_index_0"], b["edge_attr_0"]
            ie, gcn = IEConv(width, width, basis=config.basis).to(device), KipfWellingGCN(width, width).to(device)
            for name, fn in (("IEConv layer fwd+bwd", partial(layer_step, ie, x, ei, ea)),
                             ("GCN layer fwd+bwd", partial(layer_step, gcn, x, ei))):
                sec, mem = timed(fn, device)
                rows.append({"size": label, "atoms": len(atoms), "device": device.type, "what": name,
                             "seconds": sec, "peak_mb": mem})
    if args.save_samples:
        args.save_samples.parent.mkdir(parents=True, exist_ok=True)
        torch.save(built, args.save_samples)
    if build_rows:
        print("graph building (DSSP + bonds + hops + pooling), one protein at a time, CPU:")
        print(pd.DataFrame(build_rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"\nforward+backward (widths {list(config.widths)}; layer rows at width {config.widths[0]}, radius "
          f"{config.radii[0]} Å):")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
