"""Labels, baselines and a trained EnQA on real CASP models (../shared/data/qa).

1. CASP13 T0980s1 (163 server models + native): true Cα-lDDT, GDT-TS and TM-score of every model,
   the largest difference between this chain's lDDT and biotite's (all heavy atoms and Cα), and the
   time per model.
2. Baselines on T0980s1. No AlphaFold prediction of T0980s1 is stored, so AF2Consensus cannot be
   computed there; the stand-in printed is the *model consensus* (mean Cα-lDDT of a model to every
   other server model, the classic single-target consensus), per model and per residue.
3. EnQA's 6KYT example: the example model's true lDDT next to AF2Consensus (mean lDDT to the five
   real AlphaFold2 relaxed models) and AF2-pLDDT (their B column), as the chain computes them.
4. A trained EnQA (``--model CKPT`` from ``pgml qa train``, else one trained here on the simulated
   demo targets) scoring T0980s1's models with the five highest-consensus server models as PDB-only
   references (distogram channels off; their per-residue consensus lDDT × 100 written as pLDDT, since
   CASP B columns hold no pLDDT): per-model and per-residue Pearson r against the truth, next to the
   model consensus, per-residue metrics computed per model and averaged over models (as tables 5.1-5.6
   of the chapter do) with the pooled figure beside them. A model trained on simulated decoys meets real
   CASP models here: a domain shift. EnQA's own figures (tables 5.1-5.6) are for models trained on
   CASP8-12 + AF2 models with real AlphaFold2 distograms, which are not stored with the shared data; the
   comparison with them needs ``config/paper/qa_casp14.yaml`` run on those data.

    python benchmarks/qa_validation.py [--model CKPT] [--quick]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.metrics import pearson
from pgml.qa.align import align_residues, take
from pgml.qa.lddt import lddt
from pgml.qa.score import true_scores
from pgml.structure import read_structure
from pgml.structure.residue_coords import residue_coords

ROOT = Path(__file__).resolve().parents[1]
QA = ROOT.parent / "shared" / "data" / "qa"
DEMO = ["1UBI", "1A8O", "1EJG", "1LCD", "1PWC", "3HSY"]


def labels(target: Path, limit: int | None) -> tuple[pd.DataFrame, dict, list]:
    native_path = next((target / "native").glob("*.pdb.gz"))
    native_st = read_structure(native_path)
    native = residue_coords(native_st)
    rows, per_res, coords = [], {}, []
    worst = {"all": 0.0, "ca": 0.0}
    files = sorted((target / "models").glob("*.pdb.gz"))[:limit]
    start = time.perf_counter()
    for path in files:
        st = read_structure(path)
        res = residue_coords(st)
        scores = true_scores(res, native, model_name=path.name)
        rows.append({"model": path.name.split(".")[0], "lddt": scores.lddt, "gdt_ts": scores.gdt_ts,
                     "tm_score": scores.tm_score})
        per_res[rows[-1]["model"]] = (scores.per_residue, res.ca, scores.mapping)
        coords.append((path, st))
        worst_model = _biotite_check(native_st, st)
        worst = {k: max(worst[k], worst_model[k]) for k in worst}
    elapsed = time.perf_counter() - start
    return pd.DataFrame(rows), {"per_residue": per_res, "seconds_per_model": elapsed / len(files), **worst}, coords


def _biotite_check(native_st, model_st) -> dict:  # noqa: ANN001
    import biotite.structure as struc

    native, model = native_st.atoms, model_st.atoms
    index = {(s, a): k for k, (s, a) in enumerate(zip(model.res_seq, model.atom_name, strict=True))}
    out = {}
    for key, only_ca in (("all", False), ("ca", True)):
        pairs = [(i, index[(s, a)]) for i, (s, a) in enumerate(zip(native.res_seq, native.atom_name, strict=True))
                 if (s, a) in index and (not only_ca or a == "CA")]
        ni, mi = (np.array(x) for x in zip(*pairs, strict=True))
        arr = struc.AtomArray(len(ni))
        arr.coord = native.coords[ni]
        arr.res_id = native.res_seq[ni]
        arr.chain_id[:] = "A"
        arr.atom_name = native.atom_name[ni]
        mod = model.coords[mi].astype(np.float32)
        _, res = np.unique(native.res_seq[ni], return_inverse=True)
        glob, per = lddt(arr.coord, mod, res)
        ref_per = struc.lddt(arr, mod, aggregation="residue")
        out[key] = max(abs(glob - float(struc.lddt(arr, mod))), float(np.nanmax(np.abs(per - ref_per))))
    return out


def model_consensus(info: dict) -> tuple[pd.Series, dict]:
    """Mean Cα-lDDT of each model to every other model (models cover the same residues here)."""
    names = list(info["per_residue"])
    cas = [info["per_residue"][n][1] for n in names]
    glob, per = {}, {}
    for i, name in enumerate(names):
        scores = [lddt(cas[j], cas[i]) for j in range(len(names)) if j != i]
        glob[name] = float(np.mean([s[0] for s in scores]))
        per[name] = np.nanmean([s[1] for s in scores], axis=0)
    return pd.Series(glob), per


def enqa_6kyt() -> pd.DataFrame:
    from pgml.qa.references import read_references

    target = QA / "EnQA_6KYT"
    with tempfile.TemporaryDirectory() as tmp:
        refs_dir = Path(tmp) / "alphafold"
        refs_dir.mkdir()
        for path in sorted((target / "models").glob("af2_relaxed_model_*.pdb.gz")):
            shutil.copy(path, refs_dir / path.name.removeprefix("af2_"))
        refs = read_references(refs_dir, 5, fmt="pdb")
    native = residue_coords(read_structure(target / "native" / "6KYTP.pdb.gz"))
    model = residue_coords(read_structure(target / "models" / "test_model.pdb.gz"))
    truth = true_scores(model, native)
    true_glob, true_per = truth.lddt, truth.per_residue
    cons, plddt = [], []
    for ref in refs:
        mapping = align_residues(model.sequence, ref.coords.sequence)
        cons.append(np.nan_to_num(lddt(take(ref.coords.ca, mapping), model.ca)[1]))
        plddt.append(take(ref.plddt[:, None], mapping)[:, 0] / 100)
    cons, plddt = np.mean(cons, axis=0), np.mean(plddt, axis=0)  # NaN: these relaxed models carry no pLDDT
    known = ~np.isnan(true_per)
    return pd.DataFrame([
        {"method": "AF2Consensus", "global": cons.mean(), "residue_pearson": pearson(true_per[known], cons[known])},
        {"method": "AF2-pLDDT", "global": plddt.mean(), "residue_pearson": pearson(true_per[known], plddt[known])},
        {"method": "true lDDT", "global": true_glob, "residue_pearson": 1.0},
    ])


def train_demo_model(workdir: Path, quick: bool) -> Path:
    from pgml.cli import main

    natives = [str(ROOT / "resources" / "demo" / "structures" / f"{name}.pdb.gz") for name in DEMO]
    data = workdir / "data"
    assert main(["qa", "simulate", "--natives", *natives, "--output-dir", str(data), "--n-decoys",
                 "4" if quick else "8", "--max-residues", "80"]) == 0
    graphs = workdir / "graphs.pt"
    assert main(["qa", "build-graphs", "--targets", *map(str, sorted(data.iterdir())), "--output", str(graphs)]) == 0
    assert main(["qa", "split", "--graphs", str(graphs), "--output", str(workdir / "split.tsv")]) == 0
    assert main(["qa", "train", "--graphs", str(graphs), "--split", str(workdir / "split.tsv"), "--output-dir",
                 str(workdir / "model"), "--epochs", "3" if quick else "15", "--hidden", "16", "--resnet-blocks",
                 "2", "--resnet-channels", "16", "--egnn-layers", "2", "--device", "cpu",
                 "--threads", "1"]) == 0
    return workdir / "model" / "model.ckpt"


def enqa_on_casp(checkpoint: Path, coords: list, consensus: pd.Series, per_consensus: dict, workdir: Path,
                 table: pd.DataFrame, per_true: dict) -> pd.DataFrame:
    from pgml.qa.evaluate import per_group_metrics, regression_metrics
    from pgml.qa.params import FeatureConfig
    from pgml.qa.predict import load_module, predict_samples
    from pgml.qa.references import read_references
    from pgml.qa.samples import model_sample
    from pgml.structure import write_bfactors

    refs_dir = workdir / "casp_refs"
    refs_dir.mkdir(exist_ok=True)
    by_name = {path.name.split(".")[0]: (path, st) for path, st in coords}
    for name in consensus.sort_values(ascending=False).index[:5]:
        path, st = by_name[name]
        per = np.nan_to_num(per_consensus[name])
        values = 100 * per[st.atoms.res_index]
        write_bfactors(st, st.atoms, values, refs_dir / f"{name}.pdb")
    refs = read_references(refs_dir, 5, fmt="pdb")
    module = load_module(checkpoint, "cpu")
    n_ref = module.hparams.node_dim - 23
    samples = [model_sample(path, refs, FeatureConfig(n_references=n_ref // 2, reference_format="pdb"), structure=st,
                            target="T0980s1") for path, st in coords]
    residues, models = predict_samples(module, samples)
    models = models.drop(columns=["gdt_ts", "tm_score"]).set_index("model").join(table.set_index("model"))
    residues["true"] = np.concatenate([per_true[m][0] for m in models.index])
    residues["consensus"] = np.concatenate([per_consensus[m] for m in models.index])
    rows = []
    for method, column, glob in (("EnQA (trained on simulated demo targets)", "predicted", models.predicted),
                                 ("model consensus", "consensus", consensus[models.index])):
        per_model = per_group_metrics(residues, ["target", "model"], "true", column)
        pooled = regression_metrics(residues["true"].to_numpy(), residues[column].to_numpy())
        rows.append({"method": method, "model_pearson": pearson(models.lddt, glob),
                     "residue_pearson": per_model["pearson"], "residue_mae": per_model["mae"],
                     "residue_pearson_pooled": pooled["pearson"]})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="a model.ckpt of `pgml qa train` (default: train one here)")
    parser.add_argument("--quick", action="store_true", help="40 models, a 3-epoch demo model")
    args = parser.parse_args()
    target = QA / "CASP13_T0980s1"
    if not target.is_dir():
        raise SystemExit(f"{target} absent: this benchmark needs ../shared/data/qa")
    limit = 40 if args.quick else None
    table, info, coords = labels(target, limit)
    print(f"T0980s1: {len(table)} models; labels {info['seconds_per_model'] * 1000:.0f} ms/model "
          f"(lDDT, GDT-TS, TM-score, biotite check); largest |lDDT - biotite| all atoms {info['all']:.1e}, "
          f"Cα {info['ca']:.1e}")
    print(table.describe().loc[["mean", "min", "max"]].to_string(float_format=lambda v: f"{v:.3f}"))
    consensus, per_consensus = model_consensus(info)
    t = table.set_index("model")
    print(f"\nmodel consensus vs truth on T0980s1: per-model r (lDDT) {pearson(t.lddt, consensus[t.index]):.3f}, "
          f"r (GDT-TS) {pearson(t.gdt_ts, consensus[t.index]):.3f}")
    print("\n6KYT (EnQA's example model, five real AlphaFold2 relaxed models as references):")
    print(enqa_6kyt().to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        checkpoint = args.model or train_demo_model(workdir, args.quick)
        result = enqa_on_casp(checkpoint, coords, consensus, per_consensus, workdir, table, info["per_residue"])
    print("\nT0980s1, trained EnQA vs model consensus (references: the five highest-consensus models):")
    print(result.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    enqa, base = result.iloc[0], result.iloc[1]
    for name, column in (("per-model", "model_pearson"), ("per-residue (per model, averaged)", "residue_pearson")):
        verdict = "beats" if enqa[column] > base[column] else "does NOT beat"
        print(f"EnQA {verdict} the model consensus on {name} Pearson r ({enqa[column]:.3f} vs {base[column]:.3f})")


if __name__ == "__main__":
    main()
