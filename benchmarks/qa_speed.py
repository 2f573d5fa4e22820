"""Speed of the qa chain by protein length: features (models/s), EnQA inference (models/s) with peak
memory, on CPU and, when one is visible, on the GPU; lDDT throughput beside biotite's on the same models.

Proteins of 100, 300 and 1,000 residues are made from the real 1UBI chain (resources/demo), copied end to
end (each copy shifted by 45 Å) and cut to length; its decoy and five AlphaFold-format references come
from :mod:`pgml.qa.simulate` (the documented demo simulation). The network is the paper's size (2D ResNet
of 5 blocks × 32 channels, 3 EGNN layers) with random weights: speed does not depend on training.

    python benchmarks/qa_speed.py [--quick] [--lengths 100 300 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pgml.qa.lddt import lddt
from pgml.qa.model import EnQA
from pgml.qa.params import FeatureConfig, SimulateConfig
from pgml.qa.references import read_references
from pgml.qa.samples import model_sample
from pgml.qa.simulate import simulate_target
from pgml.structure import read_structure
from pgml.structure.residue_coords import residue_coords

ROOT = Path(__file__).resolve().parents[1]


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


def time_features(target: Path, repeats: int) -> tuple[float, float, object]:
    refs = read_references(target / "alphafold", 5)
    native = residue_coords(read_structure(target / "native.pdb"))
    model = target / "models" / "decoy_00.pdb"
    config = FeatureConfig()
    tracemalloc.start()
    start = time.perf_counter()
    for _ in range(repeats):
        sample = model_sample(model, refs, config, native=native)
    seconds = (time.perf_counter() - start) / repeats
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return 1.0 / seconds, peak, sample


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="lengths 100 and 300, one repeat")
    parser.add_argument("--lengths", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    lengths = [100, 300] if args.quick else args.lengths
    repeats = 1 if args.quick else args.repeats
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for length in lengths:
            native = tiled_native(length, Path(tmp) / f"L{length}.pdb")
            target = simulate_target(native, Path(tmp) / "targets",
                                     SimulateConfig(n_decoys=1, max_perturbation=2.0, max_residues=length))
            feats_per_s, feats_mb, sample = time_features(target, repeats)
            lddt_rate = lddt_throughput(target, max(repeats, 3))
            for device in devices:
                infer_per_s, infer_mb = time_inference(sample, device, repeats)
                rows.append({"residues": length, "device": device, "features models/s": feats_per_s,
                             "features peak MiB": feats_mb, "inference models/s": infer_per_s,
                             "inference peak MiB (GPU)": infer_mb, "lDDT models/s (pgml, all atoms)": lddt_rate["pgml"],
                             "lDDT models/s (biotite)": lddt_rate["biotite"]})
            print(pd.DataFrame(rows[-len(devices):]).to_string(index=False, float_format=lambda v: f"{v:.2f}"),
                  flush=True)
    print("\nall lengths:")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.2f}"))


if __name__ == "__main__":
    main()
