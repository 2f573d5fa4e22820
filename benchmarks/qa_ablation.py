"""Ablation of the chapter-5 choices of EnQA on the simulated demo targets: each variant is the default
with one choice switched back to what the chain did before it followed the chapter.

Variants: ``chapter`` (eq. 5.3 weighted by the contact probability over all residues, MSE on the final
distance errors, spherical harmonics as 2-D ResNet input); ``neighbours`` (eq. 5.3 as an unweighted
mean over the 15 Å graph neighbours); ``final-ce`` (cross-entropy on 9-bin final errors);
``no-harmonics-2d`` (harmonics on the EGNN edges only). Every variant trains on the same graphs and
split with the same seeds and is scored on the test targets: per-residue Pearson r per model then
averaged, per-model r, per-residue MAE and the ranking loss, with AF2Consensus beside them. A default
keeps its old alternative as an option only where the alternative is better here.

    python benchmarks/qa_ablation.py [--seeds 0 1] [--epochs 8] [--natives N]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd

from pgml.cli import main as pgml

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "resources" / "demo" / "structures"
VARIANTS = {"chapter": [], "neighbours": ["--initial-weighting", "neighbours"],
            "final-ce": ["--final-loss", "ce"], "no-harmonics-2d": ["--no-harmonics-2d"]}


def run(natives: int, seeds: list[int], epochs: int, decoys: int, residues: int) -> pd.DataFrame:
    from pgml.qa.evaluate import evaluate
    from pgml.qa.predict import load_module, predict_samples
    from pgml.qa.training import load_samples, read_split, samples_of

    files = sorted(p for p in DEMO.iterdir() if p.name.endswith((".pdb.gz", ".cif.gz")) and "4ZHL" not in p.name)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        assert pgml(["qa", "simulate", "--natives", *map(str, files[:natives]), "--output-dir", str(work / "data"),
                     "--n-decoys", str(decoys), "--max-residues", str(residues)]) == 0
        graphs = work / "graphs.pt"
        assert pgml(["qa", "build-graphs", "--targets", *map(str, sorted((work / "data").iterdir())),
                     "--output", str(graphs), "--threads", "1"]) == 0
        split = work / "split.tsv"
        assert pgml(["qa", "split", "--graphs", str(graphs), "--output", str(split), "--val-fraction", "0.25",
                     "--test-fraction", "0.25", "--threads", "1"]) == 0
        test = samples_of(load_samples([graphs]), read_split(split), "test")
        for name, flags in VARIANTS.items():
            for seed in seeds:
                out = work / f"{name}_{seed}"
                assert pgml(["qa", "train", "--graphs", str(graphs), "--split", str(split), "--output-dir", str(out),
                             "--epochs", str(epochs), "--patience", str(epochs), "--hidden", "16",
                             "--resnet-blocks", "2", "--resnet-channels", "16", "--egnn-layers", "2",
                             "--seed", str(seed), "--device", "cpu", "--threads", "1", *flags]) == 0
                residues_, models = predict_samples(load_module(out / "model.ckpt", "cpu"), test)
                table = evaluate(residues_, models).set_index("method")
                for method in ("enqa", "af2_consensus"):
                    row = table.loc[method]
                    rows.append({"variant": name if method == "enqa" else "AF2Consensus", "seed": seed,
                                 "residue_pearson": row.residue_pearson, "model_pearson": row.model_pearson,
                                 "residue_mae": row.residue_mae, "ranking_loss": row.ranking_loss_lddt})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--natives", type=int, default=12)
    parser.add_argument("--decoys", type=int, default=4)
    parser.add_argument("--residues", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    table = run(args.natives, args.seeds, args.epochs, args.decoys, args.residues)
    summary = table.groupby("variant", sort=False)[["residue_pearson", "model_pearson", "residue_mae",
                                                    "ranking_loss"]].mean()
    print(summary.to_string(float_format=lambda v: f"{v:.3f}"))
    chapter = summary.loc["chapter"]
    for name in VARIANTS:
        if name == "chapter":
            continue
        other = summary.loc[name]
        better = other.residue_pearson > chapter.residue_pearson and other.model_pearson > chapter.model_pearson
        print(f"{name}: {'better than' if better else 'not better than'} the chapter's choice "
              f"(per-residue r {other.residue_pearson:.3f} vs {chapter.residue_pearson:.3f}, per-model r "
              f"{other.model_pearson:.3f} vs {chapter.model_pearson:.3f})")


if __name__ == "__main__":
    main()
