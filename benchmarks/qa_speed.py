"""Speed of the qa chain by protein length: features (models/s, with the seconds of each stage) of this
implementation beside another revision of it (the anchor) in the same run, and the numbers of the two
compared; the same with worker processes; EnQA inference (models/s) with peak memory on CPU and, when one is visible, on the GPU; lDDT
throughput beside biotite's on the same models.

Proteins of 100, 300 and 1,000 residues are made from the real 1UBI chain (resources/demo), copied end to
end (each copy shifted by 45 Å) and cut to length; their decoys and five AlphaFold-format references
(with distograms) come from :mod:`pgml.qa.simulate` (the documented demo simulation). Features are the
graphs of ``pgml qa build-graphs`` with labels (the native is given): each implementation runs in a
fresh process (``git archive <revision> src`` for the anchor, default the revision before the speed-up),
reads the references once, builds the first decoy (untimed: it fills per-target caches) and then times
every other decoy ``--repeats`` times; the fastest call counts (the one least slowed by other jobs on a
shared machine), and each length runs anchor, this, this, anchor, keeping each one's best. Stage seconds
(of that call) come from timing wrappers around the functions :func:`pgml.qa.samples.model_sample`
calls; "other" is the rest. The network is the paper's size (2D
ResNet of 5 blocks × 32 channels, 3 EGNN layers) with random weights: speed does not depend on training.

    python benchmarks/qa_speed.py [--quick] [--lengths 100 300 1000] [--repeats 3] [--reference REV]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from anchor import extract  # noqa: E402 - benchmarks/ is the script's folder

from pgml.qa.lddt import lddt
from pgml.qa.model import EnQA
from pgml.qa.params import FeatureConfig, SimulateConfig
from pgml.qa.references import read_references
from pgml.qa.samples import model_sample, target_samples
from pgml.qa.simulate import simulate_target
from pgml.structure import read_structure
from pgml.structure.residue_coords import residue_coords

ROOT = Path(__file__).resolve().parents[1]
#: the implementation before the features were profiled and sped up
ANCHOR = "c4b5f28"
GOAL_LENGTH, GOAL_RATE = 300, 5.0
STAGES = {  # stage -> names looked up by model_sample in pgml.qa.samples (those absent in a revision are skipped)
    "parsing": ("read_coords",),
    "alignment": ("match_residues",),
    "lDDT to refs": ("lddt",),
    "distogram": ("take_pairs", "distance_error_features", "contact_probability", "error_bin_bounds",
                  "error_features_from_cumulative"),
    "SASA": ("relative_sasa",),
    "Voronoi": ("voronoi_volumes",),
    "buriedness": ("buriedness",),
    "harmonics": ("harmonics_2d", "edge_angles", "local_frames", "real_spherical_harmonics"),
    "labels": ("true_scores", "pair_error_bins", "pair_errors"),
}

#: run in the child process: time model_sample per stage on every decoy of each target, save the features
CHILD = r"""
import json, sys, time, logging
from pathlib import Path
import numpy as np
import pgml.qa.samples as samples
from pgml.qa.inputs import read_coords
from pgml.qa.params import FeatureConfig
from pgml.qa.references import read_references

logging.disable(logging.WARNING)
out, repeats, stages = Path(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
spent, depth = {}, [0]
def timed(stage, fn):
    # stage functions may call each other (harmonics_2d calls edge_angles): only the outermost call counts
    def wrapper(*args, **kwargs):
        depth[0] += 1
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            depth[0] -= 1
            if depth[0] == 0:
                spent[stage] = spent.get(stage, 0.0) + time.perf_counter() - start
    return wrapper
for stage, names in stages.items():
    for name in names:
        if hasattr(samples, name):
            setattr(samples, name, timed(stage, getattr(samples, name)))
result = {}
for target in map(Path, sys.argv[4:]):
    start = time.perf_counter()
    refs = read_references(target / "alphafold", 5)
    native = read_coords(target / "native.pdb", require_backbone=False)[1]
    references_s = time.perf_counter() - start
    models = sorted((target / "models").glob("*.pdb"))
    start = time.perf_counter()
    first = samples.model_sample(models[0], refs, FeatureConfig(), native=native)
    first_s = time.perf_counter() - start
    calls = []  # (seconds, stage seconds) of every timed model
    for _ in range(repeats):
        for path in models[1:]:
            spent.clear()
            start = time.perf_counter()
            sample = samples.model_sample(path, refs, FeatureConfig(), native=native)
            calls.append((time.perf_counter() - start, dict(spent)))
    per_model, stage_s = min(calls, key=lambda c: c[0])  # the fastest call: the least disturbed by other jobs
    keys = ("x", "pair", "edge_index", "edge_attr", "sh2d", "consensus", "plddt", "y", "err_bin", "err")
    for s in (first, sample):
        np.savez(out / f"{target.name}__{s.model}.npz", **{k: getattr(s, k).numpy() for k in keys},
                 scores=np.array([s.lddt, s.gdt_ts, s.tm_score]))
    result[target.name] = {"per_model": per_model, "first": first_s, "references": references_s,
                           "stages": stage_s}
json.dump(result, open(out / "timings.json", "w"))
"""


def tiled_native(length: int, path: Path) -> Path:
    """A single chain of ``length`` residues: copies of 1UBI's 76 residues, each shifted by 45 Å."""
    import gemmi

    st = gemmi.read_structure(str(ROOT / "resources" / "demo" / "structures" / "1UBI.pdb.gz"))
    st.setup_entities()
    st.remove_ligands_and_waters()
    st.remove_hydrogens()
    source = [res for res in st[0][0] if gemmi.find_tabulated_residue(res.name) is not None
              and gemmi.find_tabulated_residue(res.name).is_amino_acid()]
    out = gemmi.Structure()
    model = gemmi.Model("1")
    chain = gemmi.Chain("A")
    for k in range(length):
        res = source[k % len(source)].clone()
        shift = 45.0 * (k // len(source))
        for atom in res:
            atom.pos = gemmi.Position(atom.pos.x + shift, atom.pos.y, atom.pos.z)
        res.seqid = gemmi.SeqId(k + 1, " ")
        chain.add_residue(res)
    model.add_chain(chain)
    out.add_model(model)
    out.setup_entities()
    out.write_pdb(str(path))
    return path




def time_features(src: Path, targets: list[Path], out: Path, repeats: int, threads: int) -> dict:
    """Run :data:`CHILD` with the code under ``src``; per target: seconds per model and per stage."""
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": str(threads),
           "OPENBLAS_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    subprocess.run([sys.executable, "-c", CHILD, str(out), str(repeats), json.dumps(STAGES), *map(str, targets)],
                   env=env, check=True)
    return json.loads((out / "timings.json").read_text())


def max_difference(a_dir: Path, b_dir: Path) -> tuple[float, int, int]:
    """(largest absolute difference over every saved array, arrays bit-identical, arrays compared)."""
    worst, same, total = 0.0, 0, 0
    for path in sorted(a_dir.glob("*.npz")):
        a, b = np.load(path), np.load(b_dir / path.name)
        for key in a.files:
            x, y = np.nan_to_num(a[key].astype(np.float64)), np.nan_to_num(b[key].astype(np.float64))
            if x.shape != y.shape or not np.array_equal(np.isnan(a[key].astype(float)), np.isnan(b[key].astype(float))):
                return float("inf"), same, total + 1
            worst = max(worst, float(np.abs(x - y).max(initial=0.0)))
            same += int(np.array_equal(x, y))
            total += 1
    return worst, same, total


def time_inference(sample, device: str, repeats: int) -> tuple[float, float]:  # noqa: ANN001
    torch.manual_seed(0)
    net = EnQA(sample.x.size(1), sample.pair.size(0), sample.edge_attr.size(1)).to(device).eval()
    data = sample.to(device)
    args = (data.x, data.pair, data.pos, data.edge_index, data.edge_attr, data.sh2d)
    with torch.no_grad():
        net(*args)  # warm-up
        if device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        for _ in range(repeats):
            net(*args)
        if device == "cuda":
            torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / repeats
    peak = torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else float("nan")
    return 1.0 / seconds, peak


def lddt_throughput(target: Path, repeats: int) -> dict[str, float]:
    import biotite.structure as struc

    native = read_structure(target / "native.pdb").atoms
    model = read_structure(target / "models" / "decoy_00.pdb").atoms
    arr = struc.AtomArray(len(native))
    arr.coord = native.coords
    arr.res_id = native.res_seq
    arr.chain_id[:] = "A"
    arr.atom_name = native.atom_name
    _, res = np.unique(native.res_seq, return_inverse=True)
    mod = model.coords.astype(np.float32)
    out = {}
    for label, fn in (("pgml", lambda: lddt(arr.coord, mod, res)),
                      ("biotite", lambda: struc.lddt(arr, mod, aggregation="residue"))):
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        out[label] = repeats / (time.perf_counter() - start)
    return out


def feature_tables(lengths: list[int], targets: list[Path], anchor: dict, this: dict, reference: str) -> None:
    rows, stage_rows = [], []
    for length, target in zip(lengths, targets, strict=True):
        a, b = anchor[target.name], this[target.name]
        rows.append({"residues": length, f"{reference} models/s": 1 / a["per_model"], "this models/s": 1 / b["per_model"],
                     "speed-up": a["per_model"] / b["per_model"], f"{reference} first model s": a["first"],
                     "this first model s": b["first"], "references s (once per target)": b["references"]})
        for label, timing in ((reference, a), ("this", b)):
            stages = {k: timing["stages"].get(k, 0.0) for k in STAGES}
            stages["other"] = timing["per_model"] - sum(stages.values())
            stage_rows.append({"residues": length, "code": label, **stages, "total": timing["per_model"]})
    fmt = lambda v: f"{v:.3f}"  # noqa: E731
    print(pd.DataFrame(rows).to_string(index=False, float_format=fmt))
    print("\nseconds per model by stage:")
    print(pd.DataFrame(stage_rows).to_string(index=False, float_format=fmt))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="lengths 100 and 300, one repeat")
    parser.add_argument("--lengths", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--decoys", type=int, default=4, help="decoys per length (the first one is untimed)")
    parser.add_argument("--reference", default=ANCHOR, help="git revision whose implementation is the anchor")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads of the feature processes")
    parser.add_argument("--workers", type=int, default=2,
                        help="also time a whole target with this many worker processes (1: skip)")
    parser.add_argument("--pool-models", type=int, default=16, help="models of that target")
    parser.add_argument("--features-only", action="store_true", help="skip the inference and lDDT tables")
    args = parser.parse_args()
    lengths = [100, 300] if args.quick else args.lengths
    repeats = 1 if args.quick else args.repeats
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        targets = []
        for length in lengths:
            native = tiled_native(length, work / f"L{length}.pdb")
            targets.append(simulate_target(native, work / "targets", SimulateConfig(
                n_decoys=max(2, args.decoys), max_perturbation=2.0, max_residues=length)))
        anchor_src = extract(args.reference, work / "anchor")
        anchor, this = {}, {}
        for target in targets:  # anchor, this, this, anchor: both see the same load on average
            for label, src, store in (("anchor", anchor_src, anchor), ("this", ROOT / "src", this),
                                      ("this", ROOT / "src", this), ("anchor", anchor_src, anchor)):
                timing = time_features(src, [target], work / f"{label}_out", repeats, args.threads)[target.name]
                if target.name not in store or timing["per_model"] < store[target.name]["per_model"]:
                    store[target.name] = timing
        worst, same, total = max_difference(work / "anchor_out", work / "this_out")
        print(f"# qa features (graphs with labels, 5 references with distograms), {args.threads} BLAS thread(s), "
              f"anchor = {args.reference}\n")
        feature_tables(lengths, targets, anchor, this, args.reference)
        print(f"\nsame numbers: {same}/{total} arrays bit-identical, largest absolute difference {worst:.3g}")
        if GOAL_LENGTH in lengths:
            rate = 1 / this[targets[lengths.index(GOAL_LENGTH)].name]["per_model"]
            print(f"goal (>= {GOAL_RATE:.0f} models/s at {GOAL_LENGTH} residues, one process): "
                  + ("met" if rate >= GOAL_RATE else "not met") + f" ({rate:.2f} models/s)")
        if args.workers > 1:
            (work / "pool").mkdir()
            native = tiled_native(GOAL_LENGTH, work / "pool" / f"L{GOAL_LENGTH}.pdb")
            target = simulate_target(native, work / "pool" / "targets", SimulateConfig(
                n_decoys=args.pool_models, max_perturbation=2.0, max_residues=GOAL_LENGTH))
            print(f"\nthis implementation, a whole target of {GOAL_LENGTH} residues ({args.pool_models} models, "
                  "references read once, as build-graphs does) in N worker processes:")
            for workers in (1, args.workers):
                start = time.perf_counter()
                n = len(target_samples(target, FeatureConfig(), progress=False, workers=workers))
                print(f"  {workers} worker(s): {n / (time.perf_counter() - start):.2f} models/s", flush=True)
        if args.features_only:
            return
        refs_config = FeatureConfig()
        for length, target in zip(lengths, targets, strict=True):
            refs = read_references(target / "alphafold", refs_config.n_references)
            native = residue_coords(read_structure(target / "native.pdb"))
            tracemalloc.start()
            sample = model_sample(target / "models" / "decoy_00.pdb", refs, refs_config, native=native)
            feats_mb = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            lddt_rate = lddt_throughput(target, max(repeats, 3))
            for device in devices:
                infer_per_s, infer_mb = time_inference(sample, device, repeats)
                rows.append({"residues": length, "device": device, "features peak MiB": feats_mb,
                             "inference models/s": infer_per_s, "inference peak MiB (GPU)": infer_mb,
                             "lDDT models/s (pgml, all atoms)": lddt_rate["pgml"],
                             "lDDT models/s (biotite)": lddt_rate["biotite"]})
    print("\ninference and lDDT:")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.2f}"))


if __name__ == "__main__":
    main()
