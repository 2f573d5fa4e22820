"""Bad inputs of both chains, table-driven: each is refused with one line naming the file and the problem.

Every case writes a small bad input under ``tmp_path``, runs ``pgml ...`` in process through
:func:`pgml.cli.main` and checks the exit status, the one ``pgml <chain> <step>: error: ...`` line on
stderr, and that nothing (no output, no hidden ``.*.tmp*`` file) was left behind. Cases of ``select``,
which drops an unusable structure rather than failing, exit 0 and are checked on the reason written
in the selection table instead.

The scale-free GNET2 behaviour and separator sniffing have their own tests at the end.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO_STRUCTURES, backbone, pdb_atom

from pgml.cli import main

XRAY = "EXPDTA    X-RAY DIFFRACTION\nREMARK   2 RESOLUTION.    1.50 ANGSTROMS."


# ---------------------------------------------------------------- input writers


def mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def pdb_text(lines: list[str], header: str = XRAY) -> str:
    return (header + "\n" if header else "") + "\n".join(lines) + "\nEND\n"


def full_atom_lines(n_res: int = 4, *, b0: float = 10.0) -> list[str]:
    """A chain of glycines (N, CA, C, O): a full-atom model with varying B-factors."""
    lines: list[str] = []
    for i in range(n_res):
        lines += backbone("GLY", "A", i + 1, 3.8 * i, serial=4 * i + 1, b=b0 + 3 * i)
    return lines


def ca_only_lines(n_res: int = 6) -> list[str]:
    return [pdb_atom(i + 1, "CA", "ALA", "A", i + 1, (3.8 * i, 0.0, 0.0), b=10.0 + 5 * i) for i in range(n_res)]


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def cif_from_demo(tmp: Path, drop: str) -> Path:
    """1GBT.cif.gz with the ``_atom_site.<drop>`` column removed."""
    text = gzip.decompress((DEMO_STRUCTURES / "1GBT.cif.gz").read_bytes()).decode()
    tags = [line.strip() for line in text.splitlines() if line.startswith("_atom_site.")]
    col = tags.index(f"_atom_site.{drop}")
    out, in_loop = [], False
    for line in text.splitlines():
        if line.startswith("_atom_site."):
            in_loop = True
            if line.strip() != f"_atom_site.{drop}":
                out.append(line)
            continue
        if in_loop and line.startswith(("ATOM", "HETATM")):
            parts = line.split()
            del parts[col]
            out.append(" ".join(parts))
            continue
        in_loop = False
        out.append(line)
    return write(tmp / "in" / f"no_{drop}.cif", "\n".join(out) + "\n")


def expression(n_genes: int = 12, n_samples: int = 12, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    genes = ["R1", "R2"] + [f"G{i}" for i in range(1, n_genes - 1)]
    return pd.DataFrame(rng.normal(size=(n_genes, n_samples)), index=pd.Index(genes, name="gene"),
                        columns=[f"S{j}" for j in range(1, n_samples + 1)])


def write_expr(tmp: Path, frame: pd.DataFrame | None = None, name: str = "expr.tsv", sep: str = "\t") -> Path:
    frame = expression() if frame is None else frame
    path = tmp / "in" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, sep=sep)
    return path


def write_regs(tmp: Path, text: str = "R1\nR2\n") -> Path:
    return write(tmp / "in" / "regulators.txt", text)


def infer(expr: Path, regs: Path, tmp: Path, *extra: str) -> list[str]:
    return ["grn", "infer", "--expression", str(expr), "--regulators", str(regs),
            "--output-dir", str(tmp / "out"), *extra]


def infer_with(frame: pd.DataFrame, name: str = "expr.tsv", sep: str = "\t", regs: str = "R1\nR2\n",
               extra: tuple[str, ...] = ()) -> Callable[[Path, Resources], list[str]]:
    return lambda tmp, res: infer(write_expr(tmp, frame, name, sep), write_regs(tmp, regs), tmp, *extra)


def infer_with_text(text: str | bytes, name: str = "expr.tsv") -> Callable[[Path, Resources], list[str]]:
    return lambda tmp, res: infer(write(tmp / "in" / name, text), write_regs(tmp), tmp)


def predict(model: Path, tmp: Path, *files: Path | str, extra: tuple[str, ...] = ()) -> list[str]:
    return ["bfactor", "predict", "--model", str(model), "--output-dir", str(tmp / "out"), *extra,
            *[str(f) for f in files]]


def predict_structure(name: str, text: str | bytes | None) -> Callable[[Path, Resources], list[str]]:
    """predict with the good model on one structure file (``None``: the file does not exist)."""
    def build(tmp: Path, res: Resources) -> list[str]:
        path = tmp / "in" / name
        if text is not None:
            write(path, text)
        return predict(res.model, tmp, path)
    return build


def predict_model(make: Callable[[Path, Resources], Path]) -> Callable[[Path, Resources], list[str]]:
    """predict a good structure with the model file ``make`` writes."""
    def build(tmp: Path, res: Resources) -> list[str]:
        model = make(tmp, res)
        return predict(model, tmp, write(tmp / "in" / "good.pdb", pdb_text(full_atom_lines())))
    return build


def altered_checkpoint(change: Callable[[dict], object]) -> Callable[[Path, Resources], Path]:
    def make(tmp: Path, res: Resources) -> Path:
        import torch

        ckpt = torch.load(res.model, map_location="cpu", weights_only=False)
        ckpt = change(ckpt) or ckpt
        path = tmp / "in" / "model.ckpt"
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(ckpt, path)
        return path
    return make


def select_one(name: str, text: str | bytes | Callable[[Path], Path]) -> Callable[[Path, Resources], list[str]]:
    """select on a manifest listing one structure; the reason lands in the output table."""
    def build(tmp: Path, res: Resources) -> list[str]:
        path = text(tmp) if callable(text) else write(tmp / "in" / name, text)
        manifest = write(tmp / "in" / "manifest.txt", f"{path}\n")
        return ["bfactor", "select", "--manifest", str(manifest), "--output", str(tmp / "out" / "selection.tsv")]
    return build


def build_graphs_with(selection: str) -> Callable[[Path, Resources], list[str]]:
    def build(tmp: Path, res: Resources) -> list[str]:
        path = write(tmp / "in" / "selection.tsv", selection.replace("{tmp}", str(tmp)))
        return ["bfactor", "build-graphs", "--selection", str(path), "--output", str(tmp / "out" / "graphs.pt")]
    return build


def train_with(graphs: Callable[[Path, Resources], Path], split: str) -> Callable[[Path, Resources], list[str]]:
    def build(tmp: Path, res: Resources) -> list[str]:
        split_path = write(tmp / "in" / "split.tsv", split)
        return ["bfactor", "train", "--graphs", str(graphs(tmp, res)), "--split", str(split_path),
                "--architecture", "gcn", "--output-dir", str(tmp / "out"), "--epochs", "1"]
    return build


def good_graphs(tmp: Path, res: Resources) -> Path:
    return res.graphs


def coherence_with(labels: str | None) -> Callable[[Path, Resources], list[str]]:
    def build(tmp: Path, res: Resources) -> list[str]:
        path = tmp / "in" / "labels.tsv"
        if labels is not None:
            write(path, labels)
        return ["grn", "coherence", "--result", str(res.grn_result), "--labels", str(path), "--permutations", "5",
                "--output", str(tmp / "out" / "coherence.tsv")]
    return build


def evaluate_with(truth: str | None, method: str = "gnet2={edges}") -> Callable[[Path, Resources], list[str]]:
    def build(tmp: Path, res: Resources) -> list[str]:
        truth_path = tmp / "in" / "truth.tsv"
        if truth is not None:
            write(truth_path, truth)
        edges = write(tmp / "in" / "edges.tsv", "regulator\ttarget\tscore\nR1\tG1\t1.0\n")
        return ["grn", "evaluate", "--truth", str(truth_path), "--expression", str(write_expr(tmp)),
                "--regulators", str(write_regs(tmp)), "--method", method.format(edges=edges),
                "--output-dir", str(tmp / "out")]
    return build


# ---------------------------------------------------------------- shared resources (built once)


class Resources:
    """A tiny untrained checkpoint, a graph file and a GNET2 result, made on first use."""

    def __init__(self, root: Path):
        self.root = root
        self._model: Path | None = None
        self._graphs: Path | None = None
        self._result: Path | None = None

    @property
    def model(self) -> Path:
        if self._model is None:
            import torch

            from pgml.bfactor.features import NODE_FEATURE_DIM
            from pgml.bfactor.module import BFactorModule
            from pgml.structure.graph import EDGE_FEATURE_DIM

            module = BFactorModule(architecture="gcn", node_dim=NODE_FEATURE_DIM, edge_dim=EDGE_FEATURE_DIM,
                                   hidden=8, layers=1, dropout=0.0)
            self._model = self.root / "model.ckpt"
            torch.save({"hyper_parameters": dict(module.hparams), "state_dict": module.state_dict()}, self._model)
        return self._model

    @property
    def graphs(self) -> Path:
        if self._graphs is None:
            import torch

            from pgml.bfactor.graphs import structure_to_graph
            from pgml.structure.io import read_structure

            pdb = write(self.root / "g1.pdb", pdb_text(full_atom_lines()))
            graph = structure_to_graph(read_structure(pdb))
            self._graphs = self.root / "graphs.pt"
            torch.save({"graphs": [graph], "target": "raw", "radius": 5.0, "node_feature_dim": graph.x.size(1),
                        "edge_feature_dim": graph.edge_attr.size(1)}, self._graphs)
        return self._graphs

    @property
    def grn_result(self) -> Path:
        if self._result is None:
            from pgml.grn.data import build_dataset
            from pgml.grn.gnet import GnetParams, fit_gnet
            from pgml.grn.result import write_result
            from pgml.grn.simulate import simulate_planted_modules

            frame, regs, _ = simulate_planted_modules(n_modules=2, genes_per_module=6, n_regulators=4,
                                                      n_samples=12, seed=0)
            fit = fit_gnet(build_dataset(frame, regs), GnetParams(init="kmeans", max_iter=2), progress=False)
            self._result = self.root / "result"
            write_result(fit, self._result)
        return self._result


@pytest.fixture(scope="module")
def resources(tmp_path_factory: pytest.TempPathFactory) -> Resources:
    return Resources(tmp_path_factory.mktemp("resources"))


# ---------------------------------------------------------------- the table


# ---------------------------------------------------------------- tfbs inputs


def tfbs_bins(tmp: Path, sizes: str = "chr1\t2000\n") -> Path:
    from pgml.tfbs.bins import bin_genome, read_chrom_sizes

    genome = write(tmp / "in" / "chrom.sizes", sizes)
    path = tmp / "in" / "bins.npz"
    bin_genome(read_chrom_sizes(genome), None, None).save(path)
    return path


def tfbs_label_with(peaks: str) -> Callable[[Path, Resources], list[str]]:
    def build(tmp: Path, res: Resources) -> list[str]:
        bins = tfbs_bins(tmp)
        cons = write(tmp / "in" / "c.narrowPeak", peaks)
        return ["tfbs", "label-bins", "--bins", str(bins), "--tf", "CTCF", "--peaks", f"K562={cons},{cons}",
                "--output", str(tmp / "out" / "CTCF.npz"), "--counts", str(tmp / "out" / "counts.tsv")]
    return build


def tfbs_unindexed_bam(tmp: Path, res: Resources) -> list[str]:
    import pysam

    bam = mkdir(tmp / "in") / "q.bam"
    header = {"HD": {"VN": "1.6", "SO": "queryname"}, "SQ": [{"SN": "chr1", "LN": 2000}]}
    with pysam.AlignmentFile(str(bam), "wb", header=header) as handle:
        read = pysam.AlignedSegment(handle.header)
        read.query_name, read.reference_id, read.reference_start, read.cigarstring = "r", 0, 10, "36M"
        read.query_sequence = "A" * 36
        handle.write(read)
    bins = tfbs_bins(tmp)
    return ["tfbs", "dnase-coverage", "--bam", str(bam), "--genome", str(tmp / "in" / "chrom.sizes"), "--bins",
            str(bins), "--effective-genome-size", "2000", "--output", str(tmp / "out" / "cov.bw")]


def tfbs_bigwig_named(tmp: Path, res: Resources) -> list[str]:
    import pyBigWig

    path = mkdir(tmp / "in") / "dnase.bw"
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader([("1", 2000)])
    bw.addEntries(["1"], [0], ends=[100], values=[1.0])
    bw.close()
    bins = tfbs_bins(tmp)
    return ["tfbs", "dnase-coverage", "--bigwig", str(path), "--genome", str(tmp / "in" / "chrom.sizes"), "--bins",
            str(bins), "--output", str(tmp / "out" / "cov.bw")]


@dataclass
class Case:
    id: str
    build: Callable[[Path, Resources], list[str]]  # writes the input under tmp_path, returns the argv
    message: str  # regex the error line (or, with `found_in`, that file) must match
    status: int = 2
    found_in: str | None = None  # status 0: the file (relative to tmp_path) holding the message
    chdir: bool = False  # run with tmp_path as the working directory
    marks: tuple = ()


def _set(frame: pd.DataFrame, row: int, col: int, value: object) -> pd.DataFrame:
    frame = frame.astype(object)
    frame.iat[row, col] = value
    return frame


def _semicolon_decimal_comma(tmp: Path, res: Resources) -> list[str]:
    frame = expression()
    text = "gene;" + ";".join(frame.columns) + "\n" + "".join(
        g + ";" + ";".join(f"{v:.3f}".replace(".", ",") for v in row) + "\n" for g, row in frame.iterrows())
    return infer(write(tmp / "in" / "expr.csv", text), write_regs(tmp), tmp)


def _truncated_gz(data: bytes) -> bytes:
    blob = gzip.compress(data)
    return blob[: len(blob) // 2]


def qa_target(tmp: Path) -> Path:
    """A simulated qa target (20 residues of 1UBI, 1 decoy, 5 AlphaFold-format references)."""
    from pgml.qa.params import SimulateConfig
    from pgml.qa.simulate import simulate_target

    return simulate_target(DEMO_STRUCTURES / "1UBI.pdb.gz", tmp / "in", SimulateConfig(n_decoys=1, max_residues=20))


def qa_build_with(change: Callable[[Path], object]) -> Callable[[Path, Resources], list[str]]:
    """``pgml qa build-graphs`` on a simulated target after ``change(target)``."""

    def build(tmp: Path, res: Resources) -> list[str]:
        target = qa_target(tmp)
        change(target)
        return ["qa", "build-graphs", "--targets", str(target), "--output", str(tmp / "out" / "g.pt")]

    return build


def _qa_pkl_without_distogram(target: Path) -> None:
    import pickle

    (target / "alphafold" / "result_model_1.pkl").write_bytes(pickle.dumps({"plddt": np.full(20, 90.0)}))


def _qa_drop_ca(target: Path) -> None:
    path = target / "models" / "decoy_00.pdb"
    lines = path.read_text().splitlines()
    drop = next(i for i, line in enumerate(lines) if line.startswith("ATOM") and line[12:16] == " CA "
                and int(line[22:26]) == 5)
    path.write_text("\n".join(lines[:drop] + lines[drop + 1:]) + "\n")


def _qa_unalignable(target: Path) -> None:
    write(target / "models" / "decoy_00.pdb", pdb_text(full_atom_lines(12), header=""))


GOOD_PDB = pdb_text(full_atom_lines())
EXPR = expression()

CASES: list[Case] = [
    # ---- bfactor predict: the model
    Case("predict-model-text-file", predict_model(lambda t, r: write(t / "in" / "model.txt", "not a model\n")),
         r"model\.txt: not a pgml bfactor checkpoint \(torch\.load cannot read it"),
    Case("predict-model-json-file", predict_model(lambda t, r: write(t / "in" / "model.json", '{"a": 1}')),
         r"model\.json: not a pgml bfactor checkpoint \("),
    Case("predict-model-not-a-dict", predict_model(altered_checkpoint(lambda c: [1, 2, 3])),
         r"not a pgml bfactor checkpoint \(it holds a list"),
    Case("predict-model-no-hyper-parameters",
         predict_model(altered_checkpoint(lambda c: {"state_dict": c["state_dict"]})),
         r"not a pgml bfactor checkpoint \(no hyper_parameters\)"),
    Case("predict-model-no-state-dict",
         predict_model(altered_checkpoint(lambda c: {"hyper_parameters": c["hyper_parameters"]})),
         r"not a pgml bfactor checkpoint \(no state_dict\)"),
    Case("predict-model-unknown-architecture",
         predict_model(altered_checkpoint(lambda c: c["hyper_parameters"].update(architecture="resnet"))),
         r"unknown architecture 'resnet' in the checkpoint"),
    Case("predict-model-weights-do-not-match",
         predict_model(altered_checkpoint(lambda c: c["hyper_parameters"].update(hidden=16))),
         r"weights do not match architecture gcn with node_dim \d+ \(.* has shape \[.*\] in the checkpoint"),
    Case("predict-model-wrong-architecture-for-weights",
         predict_model(altered_checkpoint(lambda c: c["hyper_parameters"].update(architecture="gat"))),
         r"weights do not match architecture gat"),
    Case("predict-model-missing", predict_model(lambda t, r: t / "in" / "absent.ckpt"),
         r"absent\.ckpt: model checkpoint not found"),
    Case("predict-model-dir-without-ckpt", predict_model(lambda t, r: (t / "in").resolve()),
         r"directory holds no model\.ckpt"),
    # ---- bfactor predict: the structures
    Case("predict-structure-is-directory", lambda t, r: predict(r.model, t, (t / "in" / "dir").mkdir(parents=True)
                                                                or t / "in" / "dir"),
         r"dir: is a directory, not a structure file"),
    Case("predict-structure-missing", predict_structure("absent.pdb", None), r"absent\.pdb: structure file not found"),
    Case("predict-structure-empty", predict_structure("empty.pdb", ""), r"empty\.pdb: empty file"),
    Case("predict-structure-truncated-gz", predict_structure("cut.pdb.gz", _truncated_gz(GOOD_PDB.encode() * 20)),
         r"cut\.pdb\.gz: truncated or corrupt gzip stream"),
    Case("predict-structure-binary", predict_structure("bin.pdb", bytes(range(256)) * 4),
         r"bin\.pdb: binary content"),
    Case("predict-structure-no-atoms", predict_structure("none.pdb", "HEADER    nothing here\nEND\n"),
         r"none\.pdb: no protein atoms \(no ATOM/HETATM records at all\)"),
    Case("predict-structure-ca-only", predict_structure("ca.pdb", pdb_text(ca_only_lines())),
         r"ca\.pdb: model 1: CA-only or incomplete model \(1\.00 heavy atoms per residue.*full-atom"),
    Case("predict-structure-only-water",
         predict_structure("water.pdb", pdb_text([pdb_atom(1, "O", "HOH", "A", 1, (0, 0, 0), het=True)])),
         r"water\.pdb: model 1: no protein atoms"),
    Case("predict-cif-without-cartn-z", lambda t, r: predict(r.model, t, cif_from_demo(t, "Cartn_z")),
         r"no_Cartn_z\.cif: _atom_site: _atom_site lacks the column\(s\) _atom_site\.Cartn_z"),
    Case("predict-no-files", lambda t, r: predict(r.model, t), r"no structure files given"),
    Case("predict-every-structure-fails",
         lambda t, r: predict(r.model, t, write(t / "in" / "empty.pdb", ""), write(t / "in" / "none.pdb", "END\n")),
         r"none of the 2 structures could be predicted \(first: .*empty\.pdb: empty file\)"),
    Case("evaluate-baseline-without-predictions",
         lambda t, r: ["bfactor", "evaluate", "--predictions",
                       str(write(t / "in" / "gcn" / "run0" / "predictions.tsv",
                                 "structure\ttarget_true\ttarget_pred\nA\t1\t2\nA\t2\t3\n").parent),
                       "--baseline", str((t / "in" / "baseline_wcn").mkdir(parents=True) or t / "in" / "baseline_wcn"),
                       "--output-dir", str(t / "out")],
         r"baseline_wcn: no predictions\.tsv \(run `pgml bfactor predict` first\)"),
    Case("predict-duplicate-stems",
         lambda t, r: predict(r.model, t, write(t / "in" / "a" / "x.pdb", GOOD_PDB), write(t / "in" / "b" / "x.pdb",
                                                                                           GOOD_PDB)),
         r"several inputs share the output name\(s\) \['x'\]"),
    Case("predict-from-split-missing",
         lambda t, r: predict(r.model, t, extra=("--from-split", str(t / "in" / "split.tsv"))),
         r"split\.tsv: split file not found"),
    Case("predict-from-split-missing-columns",
         lambda t, r: predict(r.model, t, extra=("--from-split", str(write(t / "in" / "split.tsv", "id\tsplit\n")))),
         r"split\.tsv: header: missing column\(s\) file \(columns present: id, split\)"),
    Case("predict-from-split-no-test-rows",
         lambda t, r: predict(r.model, t, extra=("--from-split",
                                                  str(write(t / "in" / "split.tsv", "id\tfile\tsplit\nx\tx.pdb\ttrain\n")))),
         r"no rows with split == 'test'"),
    # ---- bfactor select: unusable structures are dropped with the reason (exit 0)
    Case("select-nmr-entry", select_one("nmr.pdb", pdb_text(full_atom_lines(), header="EXPDTA    SOLUTION NMR")),
         r"\tdropped\tmethod SOLUTION NMR not accepted", status=0, found_in="out/selection.tsv"),
    Case("select-ca-only-with-varying-b", select_one("ca.pdb", pdb_text(ca_only_lines())),
         r"\tdropped\tCA-only or incomplete model \(1\.00", status=0, found_in="out/selection.tsv"),
    Case("select-cif-without-b-column", select_one("", lambda t: cif_from_demo(t, "B_iso_or_equiv")),
         r"\tdropped\tno B-factor column \(_atom_site\.B_iso_or_equiv\)", status=0, found_in="out/selection.tsv"),
    Case("select-pdb-with-blank-b-columns",
         select_one("blank.pdb", pdb_text([line[:60] for line in full_atom_lines()])),
         r"\tdropped\tno B-factor column", status=0, found_in="out/selection.tsv"),
    Case("select-constant-b", select_one("const.pdb", pdb_text(
        [line[:60] + f"{20.0:6.2f}" + line[66:] for line in full_atom_lines()])),
         r"\tdropped\tB-factors constant \(all 20\.00\)", status=0, found_in="out/selection.tsv"),
    Case("select-truncated-gz", select_one("cut.pdb.gz", _truncated_gz(GOOD_PDB.encode() * 20)),
         r"\tdropped\tunreadable: truncated or corrupt gzip", status=0, found_in="out/selection.tsv"),
    Case("select-cif-without-cartn-z", select_one("", lambda t: cif_from_demo(t, "Cartn_z")),
         r"\tdropped\tunreadable: _atom_site: _atom_site lacks the column\(s\) _atom_site\.Cartn_z",
         status=0, found_in="out/selection.tsv"),
    Case("select-manifest-missing",
         lambda t, r: ["bfactor", "select", "--manifest", str(t / "in" / "shard_0.txt"),
                       "--output", str(t / "out" / "selection.tsv")],
         r"shard_0\.txt: manifest not found"),
    Case("select-manifest-lists-missing-file",
         lambda t, r: ["bfactor", "select", "--manifest", str(write(t / "in" / "shard_0.txt", "gone.pdb\n")),
                       "--output", str(t / "out" / "selection.tsv")],
         r"shard_0\.txt: line 1: listed path gone\.pdb does not exist"),
    # ---- bfactor build-graphs
    Case("build-graphs-selection-missing",
         lambda t, r: ["bfactor", "build-graphs", "--selection", str(t / "in" / "sel.tsv"),
                       "--output", str(t / "out" / "graphs.pt")],
         r"sel\.tsv: selection table not found"),
    Case("build-graphs-selection-empty", build_graphs_with(""), r"selection\.tsv: selection table is empty"),
    Case("build-graphs-selection-missing-columns", build_graphs_with("id\tfile\n1ABC\tx.pdb\n"),
         r"selection\.tsv: header: missing column\(s\) method, resolution"),
    Case("build-graphs-kept-file-gone",
         build_graphs_with("id\tfile\tmethod\tresolution\tn_atoms\tstatus\treason\n"
                           "1ABC\t{tmp}/gone.pdb\tX-RAY DIFFRACTION\t1.50\t10\tkept\t.\n"),
         r"selection\.tsv: id 1ABC: .*gone\.pdb: file not found \(listed as kept"),
    Case("build-graphs-negative-contact-radius",
         lambda t, r: [*build_graphs_with("id\tfile\n")(t, r), "--contact-radius", "-1"],
         r"contact_radius must be 0 \(off\) or positive, got -1\.0"),
    Case("build-graphs-negative-packing-radius",
         lambda t, r: [*build_graphs_with("id\tfile\n")(t, r), "--packing-radii", "8", "-12"],
         r"packing_radii must be positive, got \[8\.0, -12\.0\]"),
    # ---- bfactor train
    Case("train-graph-file-not-pt", train_with(lambda t, r: write(t / "in" / "graphs.pt", "text\n"), "x"),
         r"graphs\.pt: not a graph file from build-graphs \("),
    Case("train-graph-file-missing", train_with(lambda t, r: t / "in" / "absent.pt", "x"),
         r"absent\.pt: graph file not found"),
    Case("train-graph-file-wrong-payload",
         train_with(altered_checkpoint(lambda c: {"graphs": 5}), "x"),
         r"model\.ckpt: not a graph file from build-graphs \('graphs' is not a list"),
    Case("train-split-bad-split-name", train_with(good_graphs, "id\tfile\tsplit\ng1\tg1.pdb\ttraining\n"),
         r"split\.tsv: id g1: split must be train, val or test, got 'training'"),
    Case("train-split-missing-columns", train_with(good_graphs, "id,file,split\ng1,g1.pdb,train\n"),
         r"split\.tsv: header: missing column\(s\) \['id', 'split'\]"),
    Case("train-split-empty", train_with(good_graphs, ""), r"split\.tsv: empty split file"),
    Case("train-split-header-only", train_with(good_graphs, "id\tfile\tsplit\n"), r"split\.tsv: no rows"),
    Case("train-graphs-not-in-split", train_with(good_graphs, "id\tfile\tsplit\nother\to.pdb\ttrain\n"),
         r"graph\(s\) have ids not in the split"),
    # ---- bfactor explain
    Case("explain-unknown-atom",
         lambda t, r: ["bfactor", "explain", "--model", str(r.model), "--structure",
                       str(write(t / "in" / "s.pdb", GOOD_PDB)), "--atoms", "A:99:CA", "--epochs", "1",
                       "--output-dir", str(t / "out")],
         r"s\.pdb: atom A:99:CA not found among the graph's heavy atoms"),
    Case("explain-bad-atom-spec",
         lambda t, r: ["bfactor", "explain", "--model", str(r.model), "--structure",
                       str(write(t / "in" / "s.pdb", GOOD_PDB)), "--atoms", "A-1-CA", "--epochs", "1",
                       "--output-dir", str(t / "out")],
         r"atom 'A-1-CA' is not CHAIN:RESSEQ:ATOM"),
    Case("explain-residue-not-a-number",
         lambda t, r: ["bfactor", "explain", "--model", str(r.model), "--structure",
                       str(write(t / "in" / "s.pdb", GOOD_PDB)), "--atoms", "A:xx:CA", "--epochs", "1",
                       "--output-dir", str(t / "out")],
         r"atom 'A:xx:CA': residue number 'xx' is not a number"),
    # ---- grn infer: the expression matrix
    Case("infer-expression-missing", lambda t, r: infer(t / "in" / "absent.tsv", write_regs(t), t),
         r"absent\.tsv: expression file not found"),
    Case("infer-expression-is-directory",
         lambda t, r: infer((t / "in" / "d.tsv").mkdir(parents=True) or t / "in" / "d.tsv", write_regs(t), t),
         r"d\.tsv: is a directory"),
    Case("infer-expression-empty-file", infer_with_text(""), r"expr\.tsv: cannot parse as a table"),
    Case("infer-expression-header-only", infer_with_text("gene\tS1\tS2\n"),
         r"expr\.tsv: the expression matrix is empty \(no gene rows"),
    Case("infer-expression-truncated-gz",
         lambda t, r: infer(write(t / "in" / "expr.tsv.gz", _truncated_gz(EXPR.to_csv(sep="\t").encode())),
                            write_regs(t), t),
         r"expr\.tsv\.gz: truncated or corrupt gzip stream"),
    Case("infer-expression-non-numeric", infer_with(_set(EXPR, 3, 4, "abc")),
         r"expr\.tsv: gene G2, sample S5: non-numeric value 'abc'"),
    Case("infer-expression-decimal-comma", _semicolon_decimal_comma,
         r"expr\.csv: gene R1, sample S1: non-numeric value '-?\d+,\d+' \(a decimal comma\?"),
    Case("infer-expression-nan", infer_with(_set(EXPR, 2, 1, np.nan)),
         r"gene G1, sample S2: 1 missing or infinite values in 1 genes.*impute"),
    Case("infer-expression-infinite", infer_with(_set(EXPR, 2, 1, np.inf)), r"missing or infinite values"),
    Case("infer-expression-duplicate-genes", infer_with(EXPR.rename(index={"G3": "G2"})),
         r"gene G2: duplicate gene IDs \['G2'\]"),
    Case("infer-expression-duplicate-samples", infer_with(EXPR.rename(columns={"S3": "S2"})),
         r"sample S2: duplicate sample IDs \['S2'\]"),
    Case("infer-expression-few-samples", infer_with(expression(n_samples=5)),
         r"5 samples; at least 10 are needed"),
    Case("infer-expression-too-large", infer_with(EXPR * 1e200), r"is too large .*rescale"),
    Case("infer-expression-all-constant", infer_with(EXPR * 0 + 3.0), r"every gene is constant"),
    Case("infer-negative-counts-with-log-transform", infer_with(EXPR, extra=("--log-transform",)),
         r"negative value where counts were expected"),
    Case("infer-top-percent-out-of-range", infer_with(EXPR, extra=("--top-percent", "0")),
         r"top-variable percentage must be in \(0, 100\]"),
    Case("infer-restarts-zero", infer_with(EXPR, extra=("--restarts", "0")), r"restarts must be >= 1"),
    # ---- grn infer: the regulators
    Case("infer-regulators-missing", lambda t, r: infer(write_expr(t), t / "in" / "absent.txt", t),
         r"absent\.txt: regulator list not found"),
    Case("infer-regulators-empty", infer_with(EXPR, regs="# none\n\n"), r"regulators\.txt: the regulator list is empty"),
    Case("infer-regulators-none-in-matrix", infer_with(EXPR, regs="TF1\nTF2\n"),
         r"none of the 2 regulators \(e\.g\. \['TF1', 'TF2'\]\) is a gene ID"),
    # ---- grn baseline
    Case("baseline-regulators-none-in-matrix",
         lambda t, r: ["grn", "baseline", "--method", "correlation", "--expression", str(write_expr(t)),
                       "--regulators", str(write_regs(t, "TF1\n")), "--output", str(t / "out" / "edges.tsv")],
         r"regulators\.txt: none of the regulators is a gene"),
    Case("baseline-expression-nan",
         lambda t, r: ["grn", "baseline", "--method", "clr", "--expression", str(write_expr(t, _set(EXPR, 0, 0, np.nan))),
                       "--regulators", str(write_regs(t)), "--output", str(t / "out" / "edges.tsv")],
         r"gene R1, sample S1: 1 missing or infinite values"),
    # ---- grn evaluate
    Case("evaluate-truth-missing", evaluate_with(None), r"truth\.tsv: edge list not found"),
    Case("evaluate-truth-missing-columns", evaluate_with("from\tto\nR1\tG1\n"),
         r"truth\.tsv: header: missing column\(s\) regulator, target"),
    Case("evaluate-method-without-name", evaluate_with("regulator\ttarget\nR1\tG1\n", method="{edges}"),
         r"--method expects NAME=EDGES\.tsv"),
    Case("evaluate-edges-score-not-a-number",
         lambda t, r: ["grn", "evaluate", "--truth", str(write(t / "in" / "truth.tsv", "regulator\ttarget\nR1\tG1\n")),
                       "--expression", str(write_expr(t)), "--regulators", str(write_regs(t)), "--method",
                       "m=" + str(write(t / "in" / "edges.tsv", "regulator\ttarget\tscore\nR1\tG1\thigh\n")),
                       "--output-dir", str(t / "out")],
         r"edges\.tsv: line 2 \(R1 -> G1\): score 'high' is not a number"),
    Case("evaluate-edges-empty",
         lambda t, r: ["grn", "evaluate", "--truth", str(write(t / "in" / "truth.tsv", "regulator\ttarget\nR1\tG1\n")),
                       "--expression", str(write_expr(t)), "--regulators", str(write_regs(t)), "--method",
                       "m=" + str(write(t / "in" / "edges.tsv", "")), "--output-dir", str(t / "out")],
         r"edges\.tsv: edge list is empty"),
    Case("plot-result-not-a-result-directory",
         lambda t, r: ["grn", "plot", "--result", str(mkdir(t / "in")), "--output-dir", str(t / "out")],
         r"in: no result\.json: not a result directory of `pgml grn infer`"),
    Case("coherence-result-incomplete",
         lambda t, r: ["grn", "coherence", "--result", str(mkdir(t / "in")), "--labels",
                       str(write(t / "labels.tsv", "sample\tlabel\n")), "--output", str(t / "out" / "c.tsv")],
         r"in: no result\.json"),
    # ---- grn coherence: sample labels
    Case("coherence-labels-missing", coherence_with(None), r"labels\.tsv: sample label file not found"),
    Case("coherence-labels-empty", coherence_with(""), r"labels\.tsv: empty file; expected two columns"),
    Case("coherence-labels-one-column", coherence_with("sample\nS1\n"), r"expected two columns: sample, label"),
    Case("coherence-labels-miss-samples", coherence_with("sample\tlabel\nS1\ta\n"),
         r"labels\.tsv: sample S2: no label for 11 samples"),
    Case("coherence-labels-duplicate-sample", coherence_with("sample\tlabel\nS1\ta\nS1\tb\n"),
         r"sample 'S1' has more than one label row"),
    # ---- output locations (pgml.fileio.check_output_dir / check_output_file)
    Case("predict-output-dir-is-cwd",
         lambda t, r: ["bfactor", "predict", "--model", str(r.model), "--output-dir", ".",
                       str(write(t / "in" / "s.pdb", GOOD_PDB))],
         r"current|working directory", chdir=True),
    Case("predict-output-dir-holds-an-input",
         lambda t, r: ["bfactor", "predict", "--model", str(r.model), "--output-dir", str(t / "in"),
                       str(write(t / "in" / "s.pdb", GOOD_PDB))],
         r"in: .*(holds|contains) .*input"),
    Case("build-graphs-output-is-a-directory",
         lambda t, r: ["bfactor", "build-graphs", "--selection", str(write(t / "in" / "sel.tsv", "id\n")),
                       "--output", str(mkdir(t / "out"))],
         r"out: .*directory"),
    Case("grn-plot-output-dir-is-a-file",
         lambda t, r: ["grn", "plot", "--result", str(mkdir(t / "in")), "--output-dir",
                       str(write(t / "out", "a file\n"))],
         r"out: .*(not a directory|is a file)"),
    Case("predict-output-dir-is-a-file",
         lambda t, r: ["bfactor", "predict", "--model", str(r.model), "--output-dir",
                       str(write(t / "out", "a file\n")), str(write(t / "in" / "s.pdb", GOOD_PDB))],
         r"out: .*(not a directory|is a file)"),
    Case("infer-output-dir-is-cwd",
         lambda t, r: ["grn", "infer", "--expression", str(write_expr(t)), "--regulators", str(write_regs(t)),
                       "--output-dir", "."],
         r"current|working directory", chdir=True),
    Case("infer-output-dir-holds-an-input",
         lambda t, r: ["grn", "infer", "--expression", str(write_expr(t)), "--regulators", str(write_regs(t)),
                       "--output-dir", str(t / "in")],
         r"in: .*(holds|contains) .*input"),
    # ---- fold build-graphs / split
    Case("fold-ca-only-refused",
         lambda t, r: ["fold", "build-graphs", "--manifest", str(write(t / "in" / "list.txt",
                       str(write(t / "in" / "ca.pdb", pdb_text(ca_only_lines()))) + "\n")),
                       "--output", str(t / "out.pt"), "--records", str(t / "out.tsv")],
         r"ca\.pdb: model 1: CA-only or incomplete model .*ca_only 'residue'"),
    Case("fold-nonstandard-refused",
         lambda t, r: ["fold", "build-graphs", "--manifest", str(write(t / "in" / "list.txt",
                       str(write(t / "in" / "mse.pdb", pdb_text(full_atom_lines()[:4] + [
                           pdb_atom(5, "N", "MSE", "A", 2, (3.8, 0, 0), het=True),
                           pdb_atom(6, "CA", "MSE", "A", 2, (5.2, 0, 0), het=True),
                           pdb_atom(7, "C", "MSE", "A", 2, (6.3, 0.5, 0), het=True),
                           pdb_atom(8, "O", "MSE", "A", 2, (6.3, 1.7, 0), het=True)]))) + "\n")),
                       "--output", str(t / "out.pt"), "--records", str(t / "out.tsv"), "--nonstandard", "error"],
         r"mse\.pdb: .*non-standard residue MSE \(parent MET\)"),
    Case("fold-label-table-malformed",
         lambda t, r: ["fold", "split", "--records", str(write(t / "in" / "rec.tsv",
                       "id\tentry\tchains\tsequence\thelix\tstrand\tn_atoms\tn_residues\tn_hbonds\thbond_source\n"
                       "X\tX\tA\tMKV\t0.5\t0.1\t20\t3\t1\tmkdssp\n")),
                       "--output", str(t / "out.tsv"), "--audit", str(t / "audit.txt"), "--labels", "table",
                       "--label-table", str(write(t / "in" / "labels.tsv", "X only-one-field\n"))],
         r"labels\.tsv: line 1: expected 'id<TAB>label'"),
    # ---- qa: AlphaFold references, models, checkpoints
    Case("qa-pkl-without-distogram", qa_build_with(_qa_pkl_without_distogram),
         r"result_model_1\.pkl: no distogram"),
    Case("qa-model-missing-residue-atoms", qa_build_with(_qa_drop_ca),
         r"decoy_00\.pdb: 1 residue\(s\) lack one of N, CA, C \(first: A:5"),
    Case("qa-unalignable-sequence", qa_build_with(_qa_unalignable),
         r"decoy_00\.pdb: sequence cannot be aligned to model_1"),
    Case("qa-no-models", qa_build_with(lambda t: [p.unlink() for p in (t / "models").iterdir()]),
         r"1UBI: no model structures under models/"),
    Case("qa-no-references", qa_build_with(lambda t: [p.unlink() for p in (t / "alphafold").iterdir()]),
         r"alphafold: no reference structures"),
    Case("qa-predict-not-a-checkpoint",
         lambda t, r: ["qa", "predict", "--model", str(write(t / "in" / "m.ckpt", "not a model\n")),
                       "--targets", str(qa_target(t)), "--output-dir", str(t / "out")],
         r"m\.ckpt: not a qa model checkpoint"),
    # contact: alignments and the query against the structure
    Case("contact-msa-ragged",
         lambda t, r: ["contact", "build-msa", "--alignment", str(write(t / "in" / "x.a3m", ">q\nACDE\n>s\nACD\n")),
                       "--output", str(t / "out" / "x.aln")],
         r"x\.a3m: sequence s: ragged alignment"),
    Case("contact-msa-unknown-letter",
         lambda t, r: ["contact", "build-msa", "--alignment", str(write(t / "in" / "x.fasta", ">q\nACDE\n>s\nAC*E\n")),
                       "--output", str(t / "out" / "x.aln")],
         r"x\.fasta: sequence s: unknown letter '\*' at column 3"),
    Case("contact-msa-empty",
         lambda t, r: ["contact", "pssm", "--alignment", str(write(t / "in" / "x.aln", "\n")),
                       "--output", str(t / "out" / "x.tsv")],
         r"x\.aln: empty alignment"),
    Case("contact-query-longer-than-structure",
         lambda t, r: _contact_evaluate_long_query(t),
         r"q\.npz: query has 9 residues, longer than the structure's chain \(4\)"),
    Case("contact-predict-model-text-file",
         lambda t, r: ["contact", "predict", "--model", str(write(t / "in" / "model.ckpt", "not a model\n")),
                       "--plm-dir", str(mkdir(t / "in" / "plm")), "--pssm-dir", str(mkdir(t / "in" / "pssm")),
                       "--output-dir", str(t / "out")],
         r"model\.ckpt: not an ATTContact checkpoint"),
    Case("tfbs-peaks-chromosome-style", tfbs_label_with("1\t100\t300\n"),
         r"c.narrowPeak: chromosome '1' is not in the genome, which names it 'chr1'"),
    Case("tfbs-peak-end-before-start", tfbs_label_with("chr1\t300\t100\n"),
         r"c.narrowPeak: record 1: needs 0 <= start < end"),
    Case("tfbs-peaks-not-integer", tfbs_label_with("chr1\tabc\t100\n"), r"c.narrowPeak: record 1: start is not an integer"),
    Case("tfbs-bam-name-sorted-unindexed", tfbs_unindexed_bam, r"q.bam: BAM is sorted by queryname, not by coordinate"),
    Case("tfbs-bigwig-chromosome-style", tfbs_bigwig_named,
         r"dnase.bw: chromosome\(s\) chr1 missing \(it names them like '1'"),
    Case("tfbs-bin-unknown-chromosome",
         lambda t, r: ["tfbs", "bin-genome", "--genome", str(write(t / "in" / "g.sizes", "chr1\t5000\n")), "--chroms",
                       "chr1", "chr2", "--output", str(t / "out" / "bins.npz")],
         r"g.sizes: chromosome\(s\) chr2 not in the genome"),
    Case("tfbs-tpm-not-a-number",
         lambda t, r: ["tfbs", "expression-pca", "--tpm", str(write(t / "in" / "tpm.tsv", "gene\tA\tB\ng1\t1\tx\n")),
                       "--output", str(t / "out" / "pca.tsv"), "--variance", str(t / "out" / "v.tsv"),
                       "--plot", str(t / "out" / "p.png")],
         r"tpm.tsv: gene g1: TPM of B is not a number"),
]

# ---------------------------------------------------------------- one table per newer chain
# Each chain's cases (and the writers only they use) live in its own block, so the chains grow apart.

# ==== tfbs ====

TFBS_CASES: list[Case] = [
]

# ==== contact ====

CONTACT_CASES: list[Case] = [
]

# ==== qa ====


def _qa_pkl(target: Path, change: Callable[[dict], object]) -> None:
    """Rewrite ``result_model_1.pkl`` after ``change(result)``."""
    import pickle

    path = target / "alphafold" / "result_model_1.pkl"
    result = pickle.loads(path.read_bytes())
    change(result)
    path.write_bytes(pickle.dumps(result))


def _qa_set_field(path: Path, atom: str, res_seq: int, start: int, end: int, value: str) -> None:
    """Put ``value`` into columns start:end of the ATOM record of ``atom`` in residue ``res_seq``."""
    lines = path.read_text().splitlines()
    k = next(i for i, line in enumerate(lines) if line.startswith("ATOM") and line[12:16].strip() == atom
             and int(line[22:26]) == res_seq)
    lines[k] = lines[k][:start] + f"{value:>{end - start}}" + lines[k][end:]
    path.write_text("\n".join(lines) + "\n")


def _qa_checkpoint(tmp: Path, n_references: int = 5, sh_degree: int = 2, distogram: bool | None = None) -> Path:
    """A small untrained qa checkpoint in Lightning's format, for features of the given settings (stored
    in it unless ``distogram`` is None, as in checkpoints of older versions)."""
    import lightning
    import torch

    from pgml.qa.module import QAModule
    from pgml.qa.params import N_ERROR_BINS

    features = None if distogram is None else {"n_references": n_references, "graph_radius": 15.0,
                                               "sh_degree": sh_degree, "reference_format": "auto",
                                               "distogram": distogram}
    module = QAModule(23 + 2 * n_references, N_ERROR_BINS * n_references + 2, (sh_degree + 1) ** 2,
                      hidden=4, resnet_blocks=1, resnet_channels=4, egnn_layers=1, features=features)
    path = tmp / "in" / "qa.ckpt"
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": module.state_dict(), "hyper_parameters": dict(module.hparams),
                "pytorch-lightning_version": lightning.__version__}, path)
    return path


def _qa_graphs(tmp: Path, n_references: int = 5) -> Path:
    """``pgml qa build-graphs`` output of a simulated target, written under tmp/in."""
    out = tmp / "in" / "graphs.pt"
    assert main(["qa", "build-graphs", "--targets", str(qa_target(tmp)), "--output", str(out),
                 "--n-references", str(n_references)]) == 0
    return out


def _qa_graphs_two_settings(tmp: Path) -> tuple[Path, Path]:
    """Graph files of one target built with 5 and with 2 references."""
    target = qa_target(tmp)
    out = [tmp / "in" / "g5.pt", tmp / "in" / "g2.pt"]
    for path, n in zip(out, ("5", "2"), strict=True):
        assert main(["qa", "build-graphs", "--targets", str(target), "--output", str(path), "--n-references", n]) == 0
    return out[0], out[1]


def qa_build_target_without_pkls(tmp: Path) -> Path:
    target = qa_target(tmp)
    for pkl in (target / "alphafold").glob("*.pkl"):
        pkl.unlink()
    return target


def _qa_to_colabfold(target: Path, scores: str | None = None) -> None:
    """Rewrite the simulated AlphaFold directory in ColabFold's layout (``scores``: the JSON text of rank 1)."""
    import json
    import pickle

    folder = target / "alphafold"
    for k in range(1, 6):
        tag = f"rank_{k:03d}_alphafold2_ptm_model_{k}_seed_000"
        result = pickle.loads((folder / f"result_model_{k}.pkl").read_bytes())
        (folder / f"result_model_{k}.pkl").rename(folder / f"job_all_{tag}.pickle")
        (folder / f"relaxed_model_{k}.pdb").rename(folder / f"job_unrelaxed_{tag}.pdb")
        text = scores if scores is not None and k == 1 else json.dumps({"plddt": result["plddt"].tolist()})
        (folder / f"job_scores_{tag}.json").write_text(text)


def qa_build_flags(*flags: str) -> Callable[[Path, Resources], list[str]]:
    return lambda t, r: ["qa", "build-graphs", "--targets", str(qa_target(t)), "--output", str(t / "out" / "g.pt"),
                         *flags]


def qa_score_with(native: Callable[[Path], Path], model: Callable[[Path], Path],
                  *extra: str) -> Callable[[Path, Resources], list[str]]:
    def build(tmp: Path, res: Resources) -> list[str]:
        target = qa_target(tmp)
        return ["qa", "score", "--native", str(native(target)), "--models", str(model(target)),
                *[e.format(target=target, tmp=tmp) for e in extra]]
    return build


def qa_simulate_flags(*flags: str, output: str = "out") -> Callable[[Path, Resources], list[str]]:
    def build(tmp: Path, res: Resources) -> list[str]:
        native = write(tmp / "in" / "native.pdb.gz", (DEMO_STRUCTURES / "1UBI.pdb.gz").read_bytes())
        return ["qa", "simulate", "--natives", str(native), "--output-dir", str(tmp / output), *flags]
    return build


def qa_split_with(graphs: Callable[[Path], Path], *flags: str) -> Callable[[Path, Resources], list[str]]:
    return lambda t, r: ["qa", "split", "--graphs", str(graphs(t)), "--output", str(t / "out" / "split.tsv"), *flags]


def qa_train_with(graphs: Callable[[Path], Path], split: Callable[[Path], Path],
                  *flags: str) -> Callable[[Path, Resources], list[str]]:
    return lambda t, r: ["qa", "train", "--graphs", str(graphs(t)), "--split", str(split(t)),
                         "--output-dir", str(t / "out"), "--epochs", "1", *flags]


def _qa_torch_file(obj: object) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        import torch

        path = tmp / "in" / "graphs.pt"
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(obj, path)
        return path
    return make


def _qa_split_table(tmp: Path) -> Path:
    return write(tmp / "in" / "split.tsv", "id\tsplit\n1UBI\ttrain\n")


def qa_evaluate_with(files: dict[str, str]) -> Callable[[Path, Resources], list[str]]:
    def build(tmp: Path, res: Resources) -> list[str]:
        folder = mkdir(tmp / "in" / "pred")
        for name, text in files.items():
            write(folder / name, text)
        return ["qa", "evaluate", "--predictions", str(folder), "--output-dir", str(tmp / "out")]
    return build


QA_CASES: list[Case] = [
    # build-graphs: targets, flags, models, references, natives
    Case("qa-build-target-is-a-file", lambda t, r: ["qa", "build-graphs", "--targets", str(qa_target(t) / "native.pdb"),
                                                    "--output", str(t / "out" / "g.pt")],
         r"native\.pdb: a target is a directory holding models/, alphafold/"),
    Case("qa-build-target-missing", lambda t, r: ["qa", "build-graphs", "--targets", str(t / "in" / "T9"),
                                                  "--output", str(t / "out" / "g.pt")],
         r"T9: target directory not found"),
    Case("qa-build-graph-radius-nan", qa_build_flags("--graph-radius", "nan"), r"graph_radius must be a finite number"),
    Case("qa-build-graph-radius-negative", qa_build_flags("--graph-radius", "-3"), r"graph_radius must be positive"),
    Case("qa-build-zero-references", qa_build_flags("--n-references", "0"), r"n_references must be at least 1"),
    Case("qa-build-harmonic-degree-too-high", qa_build_flags("--sh-degree", "9"), r"sh_degree must be in 0\.\.6"),
    Case("qa-build-nan-coordinate-in-model",
         qa_build_with(lambda t: _qa_set_field(t / "models" / "decoy_00.pdb", "CA", 5, 30, 38, "nan")),
         r"decoy_00\.pdb: A:5:\w+:CA: 1 atom\(s\) with a NaN or infinite coordinate"),
    Case("qa-build-nan-coordinate-in-native",
         qa_build_with(lambda t: _qa_set_field(t / "native.pdb", "N", 3, 46, 54, "inf")),
         r"native\.pdb: A:3:\w+:N: 1 atom\(s\) with a NaN or infinite coordinate"),
    Case("qa-build-nan-plddt-in-pkl", qa_build_with(lambda t: _qa_pkl(t, lambda d: d["plddt"].__setitem__(3, np.nan))),
         r"result_model_1\.pkl: plddt: 1 NaN or infinite value"),
    Case("qa-build-nan-logits-in-pkl",
         qa_build_with(lambda t: _qa_pkl(t, lambda d: d["distogram"]["logits"].__setitem__((0, 1, 2), np.nan))),
         r"result_model_1\.pkl: distogram\.logits: 1 NaN or infinite value"),
    Case("qa-build-unsorted-bin-edges",
         qa_build_with(lambda t: _qa_pkl(t, lambda d: d["distogram"].__setitem__(
             "bin_edges", d["distogram"]["bin_edges"][::-1].copy()))),
         r"result_model_1\.pkl: distogram\.bin_edges: bin_edges must be an increasing list"),
    Case("qa-build-plddt-length-differs",
         qa_build_with(lambda t: _qa_pkl(t, lambda d: d.__setitem__("plddt", d["plddt"][:-2]))),
         r"result_model_1\.pkl: plddt has shape \(18,\), distogram 20 residues"),
    Case("qa-build-pkl-not-a-pickle", qa_build_with(lambda t: write(t / "alphafold" / "result_model_2.pkl", "text\n")),
         r"result_model_2\.pkl: not a readable AlphaFold result pickle"),
    Case("qa-build-pkl-without-its-pdb", qa_build_with(lambda t: (t / "alphafold" / "relaxed_model_3.pdb").unlink()),
         r"result_model_3\.pkl: no relaxed_model_3\.pdb or unrelaxed_model_3\.pdb next to it"),
    Case("qa-build-nan-plddt-in-reference-b-column",
         lambda t, r: (_qa_set_field(qa_target(t) / "alphafold" / "relaxed_model_1.pdb", "CA", 4, 60, 66, "nan"),
                       ["qa", "build-graphs", "--targets", str(t / "in" / "1UBI"), "--output", str(t / "out" / "g.pt"),
                        "--reference-format", "pdb"])[1],
         r"relaxed_model_1\.pdb: A:4:\w+: NaN or infinite pLDDT in the B column"),
    Case("qa-build-alphafold-format-without-pkl",
         lambda t, r: ([p.unlink() for p in (qa_target(t) / "alphafold").glob("*.pkl")],
                       ["qa", "build-graphs", "--targets", str(t / "in" / "1UBI"), "--output", str(t / "out" / "g.pt"),
                        "--reference-format", "alphafold"])[1],
         r"alphafold: no result_model_\*\.pkl \(reference_format alphafold\)"),
    Case("qa-build-output-inside-target",
         lambda t, r: ["qa", "build-graphs", "--targets", str(qa_target(t)),
                       "--output", str(t / "in" / "1UBI" / "models" / "decoy_00.pdb")],
         r"decoy_00\.pdb: output file lies inside the input directory .*; choose another --output"),
    # score
    Case("qa-score-native-is-a-directory", qa_score_with(lambda t: t, lambda t: t / "models" / "decoy_00.pdb"),
         r"1UBI: is a directory, not a structure file"),
    Case("qa-score-model-of-another-protein",
         qa_score_with(lambda t: t / "native.pdb", lambda t: write(t.parent / "other.pdb", pdb_text(full_atom_lines(12)))),
         r"other\.pdb: sequence cannot be aligned to .*native\.pdb"),
    Case("qa-score-nan-coordinate",
         qa_score_with(lambda t: t / "native.pdb",
                       lambda t: (_qa_set_field(t / "models" / "decoy_00.pdb", "C", 7, 38, 46, "nan"),
                                  t / "models" / "decoy_00.pdb")[1]),
         r"decoy_00\.pdb: A:7:\w+:C: 1 atom\(s\) with a NaN or infinite coordinate"),
    Case("qa-score-output-over-a-model",
         qa_score_with(lambda t: t / "native.pdb", lambda t: t / "models" / "decoy_00.pdb",
                       "--output", "{target}/models/decoy_00.pdb"),
         r"decoy_00\.pdb: output file is the input .*; choose another --output"),
    # simulate
    Case("qa-simulate-perturbation-nan", qa_simulate_flags("--max-perturbation", "nan"),
         r"max_perturbation must be a finite number, got nan"),
    Case("qa-simulate-zero-decoys", qa_simulate_flags("--n-decoys", "0"), r"n_decoys must be at least 1"),
    Case("qa-simulate-output-holds-the-native", qa_simulate_flags(output="in"),
         r"output directory holds input file .*native\.pdb\.gz; choose another --output-dir"),
    # split
    Case("qa-split-fraction-nan", qa_split_with(_qa_graphs, "--val-fraction", "nan"),
         r"val_fraction must be a finite number, got nan"),
    Case("qa-split-fractions-leave-no-training", qa_split_with(_qa_graphs, "--val-fraction", "0.5", "--test-fraction", "0.5"),
         r"val_fraction \+ test_fraction must be below 1"),
    Case("qa-split-graphs-not-a-list", qa_split_with(_qa_torch_file({"graphs": []})),
         r"graphs\.pt: not a graph file of `pgml qa build-graphs` \(holds dict"),
    Case("qa-split-graphs-of-another-chain", qa_split_with(_qa_torch_file([{"x": 1}])),
         r"graphs\.pt: item 0: not a qa model graph of this pgml \(no x, pair"),
    Case("qa-split-graphs-text-file", qa_split_with(lambda t: write(t / "in" / "graphs.pt", "not torch\n")),
         r"graphs\.pt: not a graph file of `pgml qa build-graphs`"),
    # train
    Case("qa-train-lr-nan", qa_train_with(_qa_graphs, _qa_split_table, "--lr", "nan"), r"lr must be a finite number"),
    Case("qa-train-split-is-binary", qa_train_with(_qa_graphs, lambda t: _qa_torch_file([1])(t)),
         r"graphs\.pt: not a text split table \(binary content\)"),
    Case("qa-train-graphs-is-a-directory", qa_train_with(lambda t: mkdir(t / "in" / "gdir"), _qa_split_table),
         r"gdir: is a directory; give the \.pt files"),
    Case("qa-train-no-validation-target", qa_train_with(_qa_graphs, _qa_split_table),
         r"split\.tsv: 1 training and 0 validation models; need both"),
    Case("qa-train-graphs-of-other-settings",
         lambda t, r: ["qa", "train", "--graphs", *map(str, _qa_graphs_two_settings(t)),
                       "--split", str(_qa_split_table(t)), "--output-dir", str(t / "out")],
         r"g2\.pt: built with other feature settings"),
    # predict, importance, evaluate
    Case("qa-predict-features-of-other-settings",
         lambda t, r: ["qa", "predict", "--model", str(_qa_checkpoint(t)), "--targets", str(qa_target(t)),
                       "--n-references", "2", "--output-dir", str(t / "out")],
         r"decoy_00\.pdb: 1UBI/decoy_00: features of 27 node, 20 pair and 9 edge channels, the model was trained "
         r"on 33, 47 and 9"),
    Case("qa-predict-flag-differs-from-the-model",
         lambda t, r: ["qa", "predict", "--model", str(_qa_checkpoint(t, distogram=True)), "--targets",
                       str(qa_target(t)), "--n-references", "2", "--output-dir", str(t / "out")],
         r"n_references: the model was trained with n_references=5; --n-references 2 would build other inputs"),
    Case("qa-predict-distogram-model-on-structures-only",
         lambda t, r: ["qa", "predict", "--model", str(_qa_checkpoint(t, distogram=True)), "--targets",
                       str(qa_build_target_without_pkls(t)), "--output-dir", str(t / "out")],
         r"alphafold: the model was trained with distogram channels on; these references have no distogram"),
    Case("qa-predict-distogram-model-with-pdb-format",
         lambda t, r: ["qa", "predict", "--model", str(_qa_checkpoint(t, distogram=True)), "--targets",
                       str(qa_target(t)), "--reference-format", "pdb", "--output-dir", str(t / "out")],
         r"reference_format: the model was trained with distogram channels on; --reference-format pdb"),
    Case("qa-predict-graphs-of-other-settings",
         lambda t, r: ["qa", "predict", "--model", str(_qa_checkpoint(t, n_references=2, distogram=True)),
                       "--graphs", str(_qa_graphs(t)), "--output-dir", str(t / "out")],
         r"1UBI/decoy_00: built with n_references=5, the model was trained with 2"),
    Case("qa-predict-card-of-another-chain",
         lambda t, r: ["qa", "predict", "--model", str(_qa_checkpoint(t, distogram=True)), "--targets",
                       str(qa_target(t)), "--output-dir", str(t / "out")]
         if write(t / "in" / "model.json", '{"chain": "bfactor", "inputs": {}}') else [],
         r"model\.json: model card is for the 'bfactor' chain, not 'qa'"),
    Case("qa-build-colabfold-scores-without-plddt",
         qa_build_with(lambda t: _qa_to_colabfold(t, scores='{"pae": []}')),
         r"job_scores_rank_001_alphafold2_ptm_model_1_seed_000\.json: not a ColabFold scores JSON"),
    Case("qa-build-colabfold-plddt-too-short",
         qa_build_with(lambda t: _qa_to_colabfold(t, scores='{"plddt": [90.0, 80.0]}')),
         r"json: plddt: plddt has 2 values, the structure 20 residues"),
    Case("qa-predict-nothing-to-predict",
         lambda t, r: ["qa", "predict", "--model", str(_qa_checkpoint(t)), "--graphs", str(_qa_graphs(t)),
                       "--split", str(_qa_split_table(t)), "--output-dir", str(t / "out")],
         r"nothing to predict \(no --graphs models in the subset"),
    Case("qa-predict-output-dir-is-the-target",
         lambda t, r: ["qa", "predict", "--model", str(_qa_checkpoint(t)), "--targets", str(qa_target(t)),
                       "--output-dir", str(t / "in" / "1UBI")],
         r"output directory is the input .*1UBI; choose another --output-dir"),
    Case("qa-importance-zero-repeats",
         lambda t, r: ["qa", "importance", "--model", str(_qa_checkpoint(t)), "--graphs", str(_qa_graphs(t)),
                       "--split", str(_qa_split_table(t)), "--repeats", "0", "--output-dir", str(t / "out")],
         r"--repeats must be at least 1, got 0"),
    Case("qa-evaluate-predictions-missing",
         lambda t, r: ["qa", "evaluate", "--predictions", str(t / "in" / "none"), "--output-dir", str(t / "out")],
         r"none: not an output directory of `pgml qa predict`"),
    Case("qa-evaluate-models-without-true-column",
         qa_evaluate_with({"residues.tsv": "target\tmodel\ttrue\tpredicted\taf2_consensus\taf2_plddt\n"
                                           "T\tm\t0.5\t0.5\t0.5\t0.5\n",
                           "models.tsv": "target\tmodel\tpredicted\n"}),
         r"models\.tsv: .*true_lddt"),
    Case("qa-evaluate-no-native", qa_evaluate_with({
        "residues.tsv": "target\tmodel\ttrue\tpredicted\taf2_consensus\taf2_plddt\nT\tm\tn/a\t0.5\t0.5\t0.5\n",
        "models.tsv": "target\tmodel\ttrue_lddt\tgdt_ts\tpredicted\taf2_consensus\taf2_plddt\n"
                      "T\tm\tn/a\tn/a\t0.5\t0.5\t0.5\n"}),
         r"no residue has a true lDDT"),
]

# ==== fold ====

FOLD_CASES: list[Case] = [
]

# ==== end of the chain blocks ====

CASES += TFBS_CASES + CONTACT_CASES + QA_CASES + FOLD_CASES


def _contact_evaluate_long_query(tmp: Path) -> list[str]:
    plm = mkdir(tmp / "in" / "plm")
    np.savez(plm / "q.npz", apc=np.zeros((9, 9), dtype=np.float32), query="GGGGGGGGG", neff=1.0)
    structure = write(tmp / "in" / "q.pdb", GOOD_PDB)
    return ["contact", "evaluate", "--plm-dir", str(plm), "--structures", str(structure),
            "--output-dir", str(tmp / "out")]


def _snapshot(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*") if p.is_file()}


def _temporaries(root: Path) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.name.startswith(".") and ".tmp" in p.name]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, resources: Resources, capsys: pytest.CaptureFixture,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    argv = case.build(tmp_path, resources)
    if case.chdir:
        monkeypatch.chdir(tmp_path)
    before = _snapshot(tmp_path)
    status = main(argv)
    err = capsys.readouterr().err
    assert status == case.status, err
    assert not _temporaries(tmp_path), "temporary files left behind"
    if case.status == 2:
        chain, step = argv[0], argv[1]
        lines = [line for line in err.splitlines() if line.startswith(f"pgml {chain} {step}: error: ")]
        assert len(lines) == 1, err
        assert re.search(case.message, lines[0]), lines[0]
        assert _snapshot(tmp_path) == before, "an output was written"
    else:
        assert case.found_in is not None
        text = (tmp_path / case.found_in).read_text()
        assert re.search(case.message, text), text


def test_table_size() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(CASES) >= 40


# ---------------------------------------------------------------- separators and scale


@pytest.mark.parametrize("name, sep", [("expr.tsv", ","), ("expr.tsv", ";"), ("expr.csv", ";"), ("expr.csv", "\t"),
                                       ("expr.tsv.gz", ";")])
def test_expression_separator_is_sniffed(tmp_path: Path, name: str, sep: str, caplog) -> None:
    from pgml.grn.data import read_expression

    path = tmp_path / name
    EXPR.to_csv(path, sep=sep)
    frame = read_expression(path)
    pd.testing.assert_frame_equal(frame, EXPR.astype(float), check_names=False)
    assert "reading it as" in caplog.text


def test_sample_labels_separator_is_sniffed(tmp_path: Path) -> None:
    from pgml.grn.data import read_sample_labels

    path = write(tmp_path / "labels.tsv", "sample,label\nS1,a\nS2,b\n")
    assert read_sample_labels(path, ["S2", "S1"]).tolist() == ["b", "a"]


def test_predict_without_b_factors_leaves_target_empty(tmp_path: Path, resources: Resources) -> None:
    pdb = write(tmp_path / "in" / "blank.pdb", pdb_text([line[:60] for line in full_atom_lines()]))
    assert main(predict(resources.model, tmp_path, pdb)) == 0
    table = pd.read_csv(tmp_path / "out" / "predictions.tsv", sep="\t")
    assert table.target_true.isna().all() and table.target_pred.notna().all()


def _fit_summary(frame: pd.DataFrame, regulators: list[str], init: str) -> tuple:
    from pgml.grn.data import build_dataset
    from pgml.grn.gnet import GnetParams, fit_gnet

    ds = build_dataset(frame, regulators)
    fit = fit_gnet(ds, GnetParams(init=init, max_iter=3), progress=False)
    genes = dict(zip(ds.targets, fit.assignment.tolist(), strict=True))
    trees = [[ds.regulators[r] for r in m.regulators] for m in fit.modules]
    return ds.targets, genes, trees


@pytest.mark.parametrize("init", ["boosting", "kmeans"])
def test_gnet_modules_do_not_depend_on_the_scale(init: str) -> None:
    """A global rescaling keeps the genes, their modules and the trees' regulators."""
    import warnings

    from pgml.grn.simulate import simulate_network

    sim = simulate_network(60, 40, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # k-means on tied importances warns about duplicate points
        reference = _fit_summary(sim.expression, sim.regulators, init)
        assert len(reference[2]) >= 2
        for scale in (1e-3, 1e6, 1e10):
            assert _fit_summary(sim.expression * scale, sim.regulators, init) == reference, scale


def test_gnet_runs_near_the_float32_limit() -> None:
    from pgml.grn.simulate import simulate_network

    sim = simulate_network(40, 30, seed=2)
    frame = sim.expression / sim.expression.abs().to_numpy().max() * 1e38
    targets, genes, trees = _fit_summary(frame, sim.regulators, "boosting")
    assert trees and len(genes) == len(targets)


def test_importances_do_not_depend_on_the_scale() -> None:
    from pgml.grn.initialise import importance_matrix

    rng = np.random.default_rng(0)
    regs = rng.normal(size=(5, 40))
    targets = regs[[0, 2]] * 2.0 + rng.normal(0, 0.1, (2, 40))
    reference = importance_matrix(regs, targets, progress=False)
    for scale in (1e-6, 1e6, 1e30):
        np.testing.assert_allclose(importance_matrix(regs * scale, targets * scale, progress=False), reference,
                                   rtol=1e-4, atol=1e-6)


def test_constant_gene_filter_is_scale_free() -> None:
    from pgml.grn.data import build_dataset

    frame = expression(n_genes=14)
    frame.iloc[-1] = 5.0 + 1e-6 * np.arange(frame.shape[1])  # near-constant at any scale
    for scale in (1e-6, 1.0, 1e8):
        ds = build_dataset(frame * scale, ["R1", "R2"])
        assert ds.dropped_constant == [frame.index[-1]]
        assert len(ds.targets) == 11


def test_json_file_is_not_a_model(tmp_path: Path) -> None:
    from pgml.bfactor.training import load_model
    from pgml.errors import InputError

    path = write(tmp_path / "m.ckpt", json.dumps({"hyper_parameters": {}}))
    with pytest.raises(InputError, match="not a pgml bfactor checkpoint"):
        load_model(path)
