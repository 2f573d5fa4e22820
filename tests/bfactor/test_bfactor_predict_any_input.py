"""`pgml bfactor predict` on inputs without experimental B-factors, and batches with a bad file."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import gemmi
import numpy as np
import pandas as pd
import pytest

from pgml.bfactor.bcolumn import b_column_kind
from pgml.bfactor.graphs import build_graphs
from pgml.bfactor.params import PredictConfig
from pgml.bfactor.predict import EXIT_SOME_FAILED, predict_files, residue_table
from pgml.bfactor.training import TrainConfig, train_model
from pgml.cli import main
from pgml.structure.io import read_structure

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo" / "structures"


@pytest.fixture(scope="module")
def models(small_selection: Callable[[str], Path]) -> dict[str, Path]:
    """Tiny GCNs (one epoch) trained on raw and on z-scored B-factors of four small demo structures."""
    work = small_selection("models")
    config = TrainConfig(architecture="gcn", hidden=8, layers=1, dropout=0.0, lr=1e-2, weight_decay=0.0,
                         epochs=1, patience=1, seed=0)
    out = {}
    for target in ("raw", "zscore"):
        build_graphs(work / "sel.tsv", output=work / f"{target}.pt", target=target)
        train_model([work / f"{target}.pt"], split=work / "split.tsv", output_dir=work / target, config=config)
        out[target] = work / target / "model.ckpt"
    return out


def model_file(tmp: Path, name: str, b_of_residue, header: bool = False) -> Path:
    """1UBI's atoms only (no EXPDTA: a model, not an experiment) with B set per residue."""
    st = gemmi.read_structure(str(DEMO / "1UBI.pdb.gz"))
    for i, res in enumerate(st[0][0]):
        for atom in res:
            atom.b_iso = b_of_residue(i)
    lines = [ln for ln in st.make_pdb_string().splitlines() if ln.startswith(("ATOM", "HETATM", "TER", "END"))]
    if header:
        lines.insert(0, "TITLE     ALPHAFOLD MONOMER V2.0 PREDICTION FOR UBIQUITIN")
    path = tmp / name
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    return {
        "constant": model_file(tmp_path, "zeros.pdb", lambda i: 0.0),
        "plddt": model_file(tmp_path, "af.pdb", lambda i: 40.0 + (i * 7) % 55),
    }


def test_b_column_kinds(inputs: dict[str, Path], tmp_path: Path) -> None:
    assert b_column_kind(read_structure(inputs["constant"])) == "constant"
    assert b_column_kind(read_structure(inputs["plddt"])) == "plddt"
    marked = model_file(tmp_path, "marked.pdb", lambda i: 0.5 + i, header=True)  # per-residue, but > 100 too
    assert b_column_kind(read_structure(marked)) == "plddt"
    assert b_column_kind(read_structure(DEMO / "1UBI.pdb.gz")) == "bfactor"
    # an X-ray entry that names AlphaFold (e.g. its molecular-replacement model) keeps its B-factors
    text = gzip.decompress((DEMO / "1UBI.pdb.gz").read_bytes()).decode()
    mentioned = tmp_path / "mr.pdb"
    mentioned.write_text("REMARK 200 STARTING MODEL: ALPHAFOLD\n" + text)
    assert b_column_kind(read_structure(mentioned)) == "bfactor"


@pytest.mark.parametrize("target, units", [("raw", "angstrom2"), ("zscore", "zscore")])
def test_predict_without_experimental_b_factors(models, inputs, tmp_path: Path, target: str, units: str,
                                                caplog) -> None:
    caplog.set_level("INFO")
    table = predict_files(models[target], [inputs["constant"], inputs["plddt"]], tmp_path / "out")
    assert table.attrs["failed"] == []
    assert table["target_true"].isna().all()
    assert np.isfinite(table["target_pred"]).all()
    assert set(table["pred_units"]) == {units}
    per_file = pd.read_csv(tmp_path / "out" / "af.tsv", sep="\t")
    assert set(per_file["b_column"]) == {"plddt"}
    assert set(pd.read_csv(tmp_path / "out" / "zeros.tsv", sep="\t")["b_column"]) == {"constant"}
    assert "af.pdb: B column holds pLDDT" in caplog.text
    assert ("not Å²" in caplog.text) == (target == "zscore")


def test_batch_with_a_bad_file_writes_the_others(models, inputs, tmp_path: Path, capsys, caplog) -> None:
    bad = tmp_path / "broken.pdb"
    bad.write_text("HEADER    nothing here\nEND\n")
    out = tmp_path / "out"
    code = main(["bfactor", "predict", "--model", str(models["zscore"]), "--output-dir", str(out),
                 str(inputs["plddt"]), str(bad), str(DEMO / "1UBI.pdb.gz")])
    assert code == EXIT_SOME_FAILED
    assert sorted(p.name for p in out.iterdir()) == ["1UBI.pdb", "1UBI.residues.tsv", "1UBI.tsv", "af.pdb",
                                                     "af.residues.tsv", "af.tsv", "predictions.tsv"]
    skipped = [r.getMessage() for r in caplog.records if r.getMessage().startswith("skipped:")]
    assert len(skipped) == 1 and "broken.pdb" in skipped[0]
    table = pd.read_csv(out / "predictions.tsv", sep="\t")
    assert table.groupby("structure")["target_true"].apply(lambda s: s.notna().all()).sum() == 1


def test_batch_where_every_file_fails_writes_nothing(models, tmp_path: Path, capsys) -> None:
    bad = [tmp_path / "a.pdb", tmp_path / "b.pdb"]
    for p in bad:
        p.write_text("HEADER    nothing here\nEND\n")
    code = main(["bfactor", "predict", "--model", str(models["raw"]), "--output-dir", str(tmp_path / "out"),
                 *map(str, bad)])
    assert code == 2
    assert "none of the 2 structures could be predicted" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_both_baselines_fit_and_evaluate(models, tmp_path: Path) -> None:
    work = models["raw"].parents[1]
    dirs = {"baseline": "cn", "baseline_wcn": "wcn"}
    for name, kind in dirs.items():
        assert main(["bfactor", "baseline", "--graphs", str(work / "zscore.pt"), "--split", str(work / "split.tsv"),
                     "--kind", kind, "--output-dir", str(tmp_path / name)]) == 0
    assert main(["bfactor", "predict", "--model", str(models["zscore"]), "--from-split", str(work / "split.tsv"),
                 "--output-dir", str(tmp_path / "gcn" / "run0")]) == 0
    assert main(["bfactor", "evaluate", "--predictions", str(tmp_path / "gcn" / "run0"), "--baseline",
                 *[str(tmp_path / n) for n in dirs], "--output-dir", str(tmp_path / "eval")]) == 0
    metrics = pd.read_csv(tmp_path / "eval" / "metrics.tsv", sep="\t").set_index("method")
    assert list(metrics.index) == ["gcn", "baseline", "baseline_wcn"]
    assert np.isfinite(metrics["mape_mean"]).all()  # z-scores mapped back to Å² with the inputs' B mean and sd
    assert "n_undefined_cc" in metrics.columns


def test_four_character_chain_is_written_as_mmcif(models, tmp_path: Path) -> None:
    st = gemmi.read_structure(str(DEMO / "1UBI.pdb.gz"))
    st.remove_ligands_and_waters()
    st[0][0].name = "ABCD"
    source = tmp_path / "long_chain.cif"
    st.make_mmcif_document().write_file(str(source))
    table = predict_files(models["raw"], [source], tmp_path / "out")
    assert not (tmp_path / "out" / "long_chain.pdb").exists()
    back = gemmi.read_structure(str(tmp_path / "out" / "long_chain.cif"))
    assert back[0][0].name == "ABCD"
    written = {(r.seqid.num, a.name): a.b_iso for r in back[0][0] for a in r}
    expected = {(int(r.res_seq), r.atom_name): r.target_pred for r in table.itertuples()}
    assert expected.keys() <= written.keys()
    assert np.allclose([written[k] for k in expected], list(expected.values()), atol=1e-3)


def test_hydrogens_take_their_heavy_atom_value(models, tmp_path: Path) -> None:
    st = gemmi.read_structure(str(DEMO / "1UBI.pdb.gz"))
    st.remove_ligands_and_waters()
    residue = st[0][0][0]  # MET 1: add a hydrogen 1 Å from its N
    h = gemmi.Atom()
    h.name, h.element = "H", gemmi.Element("H")
    h.pos = residue["N"][0].pos + gemmi.Position(1.0, 0.0, 0.0)
    residue.add_atom(h)
    source = tmp_path / "with_h.pdb"
    source.write_text(st.make_pdb_string())
    for flag, out in ((False, "plain"), (True, "parent")):
        predict_files(models["raw"], [source], tmp_path / out, config=PredictConfig(format="pdb", hydrogens=flag))
    table = pd.read_csv(tmp_path / "parent" / "with_h.tsv", sep="\t")
    n_value = table.query("res_seq == 1 and atom_name == 'N'")["target_pred"].item()
    for out, expected in (("plain", 0.0), ("parent", n_value)):
        back = gemmi.read_structure(str(tmp_path / out / "with_h.pdb"))
        assert back[0][0][0]["H"][0].b_iso == pytest.approx(expected, abs=0.006)


def test_residue_table_hand_checked() -> None:
    table = pd.DataFrame({
        "structure": "X", "chain": ["A", "A", "A", "B"], "res_seq": [1, 1, 2, 1], "ins_code": ["", "", "", "A"],
        "res_name": ["GLY", "GLY", "ALA", "SER"], "target_pred": [1.0, 3.0, 5.0, -2.0], "pred_units": "zscore"})
    residues = residue_table(table)
    assert residues[["chain", "res_seq", "ins_code", "res_name"]].values.tolist() == [
        ["A", 1, "", "GLY"], ["A", 2, "", "ALA"], ["B", 1, "A", "SER"]]
    assert residues["n_atoms"].tolist() == [2, 1, 1]
    assert residues["pred_mean"].tolist() == [2.0, 5.0, -2.0]
    assert residues["pred_max"].tolist() == [3.0, 5.0, -2.0]
    assert set(residues["pred_units"]) == {"zscore"}
