"""DSSP's rules in NumPy (pgml.structure.kabsch_sander) against mkdssp on every structure of shared/data.

For each structure of ``--structures-dir`` (default ``../shared/data/structures``, its ``index.tsv``)
the protein atoms are given to mkdssp (:func:`pgml.structure.dssp.run_mkdssp`) and to
:func:`pgml.structure.kabsch_sander.assign`; the table counts the structures whose residues, H-bond
pairs and three-state letters are identical, lists those that differ with the size of the difference,
and gives the CPU seconds of both (mkdssp's own process included).

    python benchmarks/fold_dssp_agreement.py [--every 1] [--max-atoms 100000]
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.errors import InputError
from pgml.structure import kabsch_sander
from pgml.structure.dssp import DsspUnavailable, run_mkdssp
from pgml.structure.io import read_structure

ROOT = Path(__file__).resolve().parents[1]


def cpu_seconds() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structures-dir", type=Path, default=ROOT.parent / "shared" / "data" / "structures")
    parser.add_argument("--every", type=int, default=1, help="take every k-th entry of index.tsv")
    parser.add_argument("--max-atoms", type=int, default=100_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    index = pd.read_csv(args.structures_dir / "index.tsv", sep="\t")
    index = index[index["n_atoms_model1"] <= args.max_atoms].iloc[::args.every]
    rows, skipped = [], []
    for pdb_id, f in zip(index["pdb_id"], index["file"], strict=True):
        try:
            atoms = read_structure(args.structures_dir / f).atoms
        except InputError as exc:
            skipped.append(f"{pdb_id} (pgml: {exc})")
            continue
        atoms = atoms.subset(atoms.protein_mask())
        t = cpu_seconds()
        try:
            mk = run_mkdssp(atoms)
        except DsspUnavailable as exc:
            skipped.append(f"{pdb_id} (mkdssp: {exc})")
            continue
        t_mk = cpu_seconds() - t
        t = cpu_seconds()
        ours = kabsch_sander.assign(atoms)
        t_np = cpu_seconds() - t
        a, b = set(map(tuple, mk.hbonds.tolist())), set(map(tuple, ours.hbonds.tolist()))
        ss_mk = dict(zip(mk.residues.tolist(), mk.ss3(), strict=True))
        ss_np = dict(zip(ours.residues.tolist(), ours.ss3(), strict=True))
        rows.append({"pdb_id": pdb_id, "atoms": len(atoms), "residues_same": np.array_equal(mk.residues, ours.residues),
                     "pairs_mkdssp": len(a), "pairs_only_mkdssp": len(a - b), "pairs_only_numpy": len(b - a),
                     "ss3_differ": sum(ss_mk.get(r) != ss_np.get(r) for r in set(ss_mk) | set(ss_np)),
                     "cpu_mkdssp_s": t_mk, "cpu_numpy_s": t_np})
    table = pd.DataFrame(rows)
    same = (table["residues_same"] & (table["pairs_only_mkdssp"] == 0) & (table["pairs_only_numpy"] == 0)
            & (table["ss3_differ"] == 0))
    summary = pd.DataFrame([{
        "structures": len(table), "identical": int(same.sum()), "share_identical": float(same.mean()),
        "h_bond_pairs": int(table["pairs_mkdssp"].sum()),
        "pairs_differing": int(table["pairs_only_mkdssp"].sum() + table["pairs_only_numpy"].sum()),
        "ss3_residues_differing": int(table["ss3_differ"].sum()),
        "cpu_mkdssp_s": float(table["cpu_mkdssp_s"].sum()), "cpu_numpy_s": float(table["cpu_numpy_s"].sum()),
        "x_faster": float(table["cpu_mkdssp_s"].sum() / table["cpu_numpy_s"].sum())}])
    shown = os.path.relpath(args.structures_dir, ROOT)
    print(f"DSSP in NumPy against mkdssp on {shown} (protein atoms of model 1):")
    print(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if (~same).any():
        print("\nstructures that differ:")
        print(table[~same].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if skipped:
        print(f"\nnot compared ({len(skipped)}): " + "; ".join(skipped))


if __name__ == "__main__":
    main()
