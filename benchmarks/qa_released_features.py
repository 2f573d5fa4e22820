"""EnQA's released-network inputs built by pgml against the authors' own feature functions, and how far
the predicted lDDT moves.

For a model PDB, an AlphaFold directory and the authors' arrays for them (``reference.npz`` as
``tests/qa/fixtures/enqa_released/features/make_reference.py`` writes it), prints per array the largest
absolute difference between pgml's ``released-features`` and the authors' code. Then, for each imported
model given, the largest difference in predicted lDDT (clipped, per residue) between

* pgml's arrays and pgml's arrays with every array the authors' code made substituted (the agreement);
* pgml's arrays and the same with the Voronota residue features (3 channels) or the contact-map
  spherical harmonics (25), the two parts pgml builds differently, set to 0 (the scale of those parts).

    python benchmarks/qa_released_features.py --model M.pdb --alphafold-dir AF --reference reference.npz \\
        --checkpoints EGNN_Full/model.ckpt EGNN_covariance/model.ckpt

Without arguments: the simulated target of the test fixture (``pgml qa simulate``, 24 residues of 1UBI)
and the published weights in ../shared/data, imported into a temporary directory.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "qa" / "fixtures" / "enqa_released" / "features" / "reference.npz"
PUBLISHED = ROOT.parent / "shared" / "data" / "published_models" / "enqa"
COMPARED = ("plddt", "cmap", "esto9", "cov25", "pos", "one_hot")


def _predict(model, arrays: dict) -> np.ndarray:  # noqa: ANN001 - ReleasedEnQA
    from pgml.qa.released_predict import predict_file

    return predict_file(model, arrays)[0]


def _with(arrays: dict, kind: str, **parts: np.ndarray) -> dict:
    """The network inputs rebuilt from ``arrays`` with some named parts replaced."""
    a = {**arrays, **parts}
    a["f1d"] = np.concatenate([a[k] for k in ("one_hot", "features", "plddt", "af2_qa")])
    a["f2d"] = np.concatenate([a["sh"], a[kind]])
    return a


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", type=Path)
    ap.add_argument("--alphafold-dir", type=Path)
    ap.add_argument("--reference", type=Path, default=FIXTURE)
    ap.add_argument("--checkpoints", type=Path, nargs="*")
    ap.add_argument("--basic", type=Path,
                    help="the authors' create_basic_features arrays (features, sh_data or sh_adj) for --model, "
                         "from their Voronota + S-GCN featurizer run (default: those in --reference, if any)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="qa_released_features_") as tmp:
        run(args, Path(tmp))


def run(args: argparse.Namespace, tmp: Path) -> None:
    from pgml.cli import main as pgml
    from pgml.qa.params import RELEASED_PAIR_KIND, SimulateConfig
    from pgml.qa.published import load_released
    from pgml.qa.released_features import released_arrays
    from pgml.qa.simulate import simulate_target

    if args.model is None:
        target = simulate_target(ROOT / "resources" / "demo" / "structures" / "1UBI.pdb.gz", tmp,
                                 SimulateConfig(n_decoys=2, max_residues=24))
        args.model, args.alphafold_dir = target / "models" / "decoy_01.pdb", target / "alphafold"
    if not args.checkpoints:
        args.checkpoints = []
        for method, file in (("EGNN_Full", "egnn_ne.tar"), ("EGNN_esto9", "egnn_esto9.tar"),
                             ("EGNN_covariance", "cov25.pth.tar")):
            ckpt = tmp / method / "model.ckpt"
            with contextlib.redirect_stdout(io.StringIO()):
                pgml(["qa", "import-model", "--enqa", str(PUBLISHED / file), "--method", method, "--output", str(ckpt)])
            args.checkpoints.append(ckpt)
    ref = dict(np.load(args.reference))
    ref["edge_index"] = ref.get("edge_index", ref.get("el"))
    print(f"{args.model} ({len(ref['pos'])} residues) against {args.reference}")
    print("| array | shape | largest absolute difference |\n|---|---|---|")
    ours = {m: released_arrays(args.model, args.alphafold_dir, m) for m in ("EGNN_Full", "EGNN_covariance")}
    for name in COMPARED:
        a = ours["EGNN_covariance" if name == "cov25" else "EGNN_Full"][name]
        print(f"| {name} | {a.shape} | {np.abs(a - ref[name]).max():.1e} |")
    same = np.array_equal(ours["EGNN_Full"]["edge_index"], ref["edge_index"])
    print(f"| edge_index | {ours['EGNN_Full']['edge_index'].shape} | {'identical' if same else 'DIFFERENT'} |")

    basic = dict(np.load(args.basic)) if args.basic else (ref if "sh_adj" in ref else None)
    if basic is not None and "sh_data" not in basic:
        n, adj = len(ref["pos"]), basic["sh_adj"]
        basic["sh_data"] = np.zeros((adj.shape[1] - 2, n, n), dtype=np.float32)
        basic["sh_data"][:, adj[:, 0].astype(int), adj[:, 1].astype(int)] = adj[:, 2:].T
    if basic is not None:
        a = ours["EGNN_Full"]
        for name, theirs, mine in (("features", basic["features"], a["features"]), ("sh", basic["sh_data"], a["sh"])):
            r = [np.corrcoef(x, y)[0, 1] if x.std() > 0 and y.std() > 0 else 1.0 for x, y in zip(theirs.reshape(len(theirs), -1), mine.reshape(len(mine), -1),
                                                         strict=True)]
            print(f"| {name} (Voronota) | {mine.shape} | {np.abs(mine - theirs).max():.1e} (Pearson r per channel "
                  f"{min(r):.2f}..{max(r):.2f}) |")
    extra = " | authors' residue features and harmonics substituted" if basic is not None else ""
    print(f"\n| method | mean predicted lDDT | authors' arrays substituted | residue features set to 0 | "
          f"spherical harmonics set to 0{extra} |\n|---|---|---|---|---|" + ("---|" if extra else ""))
    for ckpt in args.checkpoints:
        model, card = load_released(ckpt)
        method = card.inputs["method"]
        kind = RELEASED_PAIR_KIND[method]
        arrays = released_arrays(args.model, args.alphafold_dir, method)
        base = _predict(model, arrays)
        authors = _with(arrays, kind, **{k: ref[k] for k in ("plddt", "cmap", "pos", "one_hot", kind, "edge_index")})
        rows = [_predict(model, authors),
                _predict(model, _with(arrays, kind, features=np.zeros_like(arrays["features"]))),
                _predict(model, _with(arrays, kind, sh=np.zeros_like(arrays["sh"])))]
        if basic is not None:
            full = _with(authors, kind, features=basic["features"], sh=basic["sh_data"])
            rows.append(_predict(model, full))
        print(f"| {method} | {base.mean():.4f} | " + " | ".join(f"{np.abs(r - base).max():.1e}" for r in rows) + " |")


if __name__ == "__main__":
    main()
