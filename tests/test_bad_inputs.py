"""Bad inputs of every chain and of the workflow's config, table-driven: each is refused with one line
naming the file and the problem.

Every case writes a small bad input under ``tmp_path``, runs ``pgml ...`` in process through
:func:`pgml.cli.main` and checks the exit status, the one ``pgml <chain> <step>: error: ...`` line on
stderr, and that nothing (no output, no hidden ``.*.tmp*`` file) was left behind. Cases of ``select``,
which drops an unusable structure rather than failing, exit 0 and are checked on the reason written
in the selection table instead. Config cases (``config-...``) run ``snakemake -n`` on a bad config file
and check snakemake's exit status, the message and that nothing was written.

The scale-free GNET2 behaviour and separator sniffing have their own tests at the end.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO_STRUCTURES, backbone, pdb_atom

from pgml.cli import main
from pgml.modelcard import ModelCard, write_card

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
                "--regulators", str(write_regs(tmp)), "--method", *method.format(edges=edges).split(),
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
            from pgml.bfactor.training import card_inputs
            from pgml.structure.graph import EDGE_FEATURE_DIM

            module = BFactorModule(architecture="gcn", node_dim=NODE_FEATURE_DIM, edge_dim=EDGE_FEATURE_DIM,
                                   hidden=8, layers=1, dropout=0.0)
            self._model = self.root / "model.ckpt"
            torch.save({"hyper_parameters": dict(module.hparams), "state_dict": module.state_dict()}, self._model)
            write_card(self._model, ModelCard(chain="bfactor", inputs=card_inputs(dict(module.hparams))))
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
    env: tuple[tuple[str, str], ...] = ()  # environment variables set for the run, e.g. PGML_MEMORY_LIMIT
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
    Case("bfactor-predict-model-text-file", predict_model(lambda t, r: write(t / "in" / "model.txt", "not a model\n")),
         r"model\.txt: not a pgml bfactor checkpoint \(torch\.load cannot read it"),
    Case("bfactor-predict-model-json-file", predict_model(lambda t, r: write(t / "in" / "model.json", '{"a": 1}')),
         r"model\.json: not a pgml bfactor checkpoint \("),
    Case("bfactor-predict-model-not-a-dict", predict_model(altered_checkpoint(lambda c: [1, 2, 3])),
         r"not a pgml bfactor checkpoint \(it holds a list"),
    Case("bfactor-predict-model-no-hyper-parameters",
         predict_model(altered_checkpoint(lambda c: {"state_dict": c["state_dict"]})),
         r"not a pgml bfactor checkpoint \(no hyper_parameters\)"),
    Case("bfactor-predict-model-no-state-dict",
         predict_model(altered_checkpoint(lambda c: {"hyper_parameters": c["hyper_parameters"]})),
         r"not a pgml bfactor checkpoint \(no state_dict\)"),
    Case("bfactor-predict-model-unknown-architecture",
         predict_model(altered_checkpoint(lambda c: c["hyper_parameters"].update(architecture="resnet"))),
         r"unknown architecture 'resnet' in the checkpoint"),
    Case("bfactor-predict-model-weights-do-not-match",
         predict_model(altered_checkpoint(lambda c: c["hyper_parameters"].update(hidden=16))),
         r"weights do not match architecture gcn with node_dim \d+ \(.* has shape \[.*\] in the checkpoint"),
    Case("bfactor-predict-model-wrong-architecture-for-weights",
         predict_model(altered_checkpoint(lambda c: c["hyper_parameters"].update(architecture="gat"))),
         r"weights do not match architecture gat"),
    Case("bfactor-predict-model-missing", predict_model(lambda t, r: t / "in" / "absent.ckpt"),
         r"absent\.ckpt: model checkpoint not found"),
    Case("bfactor-predict-model-dir-without-ckpt", predict_model(lambda t, r: (t / "in").resolve()),
         r"directory holds no model\.ckpt"),
    # ---- bfactor predict: the structures
    Case("bfactor-predict-structure-is-directory", lambda t, r: predict(r.model, t, (t / "in" / "dir").mkdir(parents=True)
                                                                or t / "in" / "dir"),
         r"dir: is a directory, not a structure file"),
    Case("bfactor-predict-structure-missing", predict_structure("absent.pdb", None), r"absent\.pdb: structure file not found"),
    Case("bfactor-predict-structure-empty", predict_structure("empty.pdb", ""), r"empty\.pdb: empty file"),
    Case("bfactor-predict-structure-truncated-gz", predict_structure("cut.pdb.gz", _truncated_gz(GOOD_PDB.encode() * 20)),
         r"cut\.pdb\.gz: truncated or corrupt gzip stream"),
    Case("bfactor-predict-structure-binary", predict_structure("bin.pdb", bytes(range(256)) * 4),
         r"bin\.pdb: binary content"),
    Case("bfactor-predict-structure-no-atoms", predict_structure("none.pdb", "HEADER    nothing here\nEND\n"),
         r"none\.pdb: no protein atoms \(no ATOM/HETATM records at all\)"),
    Case("bfactor-predict-structure-ca-only", predict_structure("ca.pdb", pdb_text(ca_only_lines())),
         r"ca\.pdb: model 1: CA-only or incomplete model \(1\.00 heavy atoms per residue.*full-atom"),
    Case("bfactor-predict-structure-only-water",
         predict_structure("water.pdb", pdb_text([pdb_atom(1, "O", "HOH", "A", 1, (0, 0, 0), het=True)])),
         r"water\.pdb: model 1: no protein atoms"),
    Case("bfactor-predict-cif-without-cartn-z", lambda t, r: predict(r.model, t, cif_from_demo(t, "Cartn_z")),
         r"no_Cartn_z\.cif: _atom_site: _atom_site lacks the column\(s\) _atom_site\.Cartn_z"),
    Case("bfactor-predict-no-files", lambda t, r: predict(r.model, t), r"no structure files given"),
    Case("bfactor-predict-every-structure-fails",
         lambda t, r: predict(r.model, t, write(t / "in" / "empty.pdb", ""), write(t / "in" / "none.pdb", "END\n")),
         r"none of the 2 structures could be predicted \(first: .*empty\.pdb: empty file\)"),
    Case("bfactor-evaluate-baseline-without-predictions",
         lambda t, r: ["bfactor", "evaluate", "--predictions",
                       str(write(t / "in" / "gcn" / "run0" / "predictions.tsv",
                                 "structure\ttarget_true\ttarget_pred\nA\t1\t2\nA\t2\t3\n").parent),
                       "--baseline", str((t / "in" / "baseline_wcn").mkdir(parents=True) or t / "in" / "baseline_wcn"),
                       "--output-dir", str(t / "out")],
         r"baseline_wcn: no predictions\.tsv \(run `pgml bfactor predict` first\)"),
    Case("bfactor-predict-duplicate-stems",
         lambda t, r: predict(r.model, t, write(t / "in" / "a" / "x.pdb", GOOD_PDB), write(t / "in" / "b" / "x.pdb",
                                                                                           GOOD_PDB)),
         r"several inputs share the output name\(s\) \['x'\]"),
    Case("bfactor-predict-from-split-missing",
         lambda t, r: predict(r.model, t, extra=("--from-split", str(t / "in" / "split.tsv"))),
         r"split\.tsv: split file not found"),
    Case("bfactor-predict-from-split-missing-columns",
         lambda t, r: predict(r.model, t, extra=("--from-split", str(write(t / "in" / "split.tsv", "id\tsplit\n")))),
         r"split\.tsv: header: missing column\(s\) file \(columns present: id, split\)"),
    Case("bfactor-predict-from-split-no-test-rows",
         lambda t, r: predict(r.model, t, extra=("--from-split",
                                                  str(write(t / "in" / "split.tsv", "id\tfile\tsplit\nx\tx.pdb\ttrain\n")))),
         r"no rows with split == 'test'"),
    # ---- bfactor select: unusable structures are dropped with the reason (exit 0)
    Case("bfactor-select-nmr-entry", select_one("nmr.pdb", pdb_text(full_atom_lines(), header="EXPDTA    SOLUTION NMR")),
         r"\tdropped\tmethod SOLUTION NMR not accepted", status=0, found_in="out/selection.tsv"),
    Case("bfactor-select-ca-only-with-varying-b", select_one("ca.pdb", pdb_text(ca_only_lines())),
         r"\tdropped\tCA-only or incomplete model \(1\.00", status=0, found_in="out/selection.tsv"),
    Case("bfactor-select-cif-without-b-column", select_one("", lambda t: cif_from_demo(t, "B_iso_or_equiv")),
         r"\tdropped\tno B-factor column \(_atom_site\.B_iso_or_equiv\)", status=0, found_in="out/selection.tsv"),
    Case("bfactor-select-pdb-with-blank-b-columns",
         select_one("blank.pdb", pdb_text([line[:60] for line in full_atom_lines()])),
         r"\tdropped\tno B-factor column", status=0, found_in="out/selection.tsv"),
    Case("bfactor-select-constant-b", select_one("const.pdb", pdb_text(
        [line[:60] + f"{20.0:6.2f}" + line[66:] for line in full_atom_lines()])),
         r"\tdropped\tB-factors constant \(all 20\.00\)", status=0, found_in="out/selection.tsv"),
    Case("bfactor-select-truncated-gz", select_one("cut.pdb.gz", _truncated_gz(GOOD_PDB.encode() * 20)),
         r"\tdropped\tunreadable: truncated or corrupt gzip", status=0, found_in="out/selection.tsv"),
    Case("bfactor-select-cif-without-cartn-z", select_one("", lambda t: cif_from_demo(t, "Cartn_z")),
         r"\tdropped\tunreadable: _atom_site: _atom_site lacks the column\(s\) _atom_site\.Cartn_z",
         status=0, found_in="out/selection.tsv"),
    Case("bfactor-select-manifest-missing",
         lambda t, r: ["bfactor", "select", "--manifest", str(t / "in" / "shard_0.txt"),
                       "--output", str(t / "out" / "selection.tsv")],
         r"shard_0\.txt: manifest not found"),
    Case("bfactor-select-manifest-lists-missing-file",
         lambda t, r: ["bfactor", "select", "--manifest", str(write(t / "in" / "shard_0.txt", "gone.pdb\n")),
                       "--output", str(t / "out" / "selection.tsv")],
         r"shard_0\.txt: line 1: listed path gone\.pdb does not exist"),
    # ---- bfactor build-graphs
    Case("bfactor-build-graphs-selection-missing",
         lambda t, r: ["bfactor", "build-graphs", "--selection", str(t / "in" / "sel.tsv"),
                       "--output", str(t / "out" / "graphs.pt")],
         r"sel\.tsv: selection table not found"),
    Case("bfactor-build-graphs-selection-empty", build_graphs_with(""), r"selection\.tsv: selection table is empty"),
    Case("bfactor-build-graphs-selection-missing-columns", build_graphs_with("id\tfile\n1ABC\tx.pdb\n"),
         r"selection\.tsv: header: missing column\(s\) method, resolution"),
    Case("bfactor-build-graphs-kept-file-gone",
         build_graphs_with("id\tfile\tmethod\tresolution\tn_atoms\tstatus\treason\n"
                           "1ABC\t{tmp}/gone.pdb\tX-RAY DIFFRACTION\t1.50\t10\tkept\t.\n"),
         r"selection\.tsv: id 1ABC: .*gone\.pdb: file not found \(listed as kept"),
    Case("bfactor-build-graphs-negative-contact-radius",
         lambda t, r: [*build_graphs_with("id\tfile\n")(t, r), "--contact-radius", "-1"],
         r"contact_radius must be 0 \(off\) or positive, got -1\.0"),
    Case("bfactor-build-graphs-negative-packing-radius",
         lambda t, r: [*build_graphs_with("id\tfile\n")(t, r), "--packing-radii", "8", "-12"],
         r"packing_radii must be positive, got \[8\.0, -12\.0\]"),
    # ---- bfactor train
    Case("bfactor-train-graph-file-not-pt", train_with(lambda t, r: write(t / "in" / "graphs.pt", "text\n"), "x"),
         r"graphs\.pt: not a graph file from build-graphs \("),
    Case("bfactor-train-graph-file-missing", train_with(lambda t, r: t / "in" / "absent.pt", "x"),
         r"absent\.pt: graph file not found"),
    Case("bfactor-train-graph-file-wrong-payload",
         train_with(altered_checkpoint(lambda c: {"graphs": 5}), "x"),
         r"model\.ckpt: not a graph file from build-graphs \('graphs' is not a list"),
    Case("bfactor-train-split-bad-split-name", train_with(good_graphs, "id\tfile\tsplit\ng1\tg1.pdb\ttraining\n"),
         r"split\.tsv: id g1: split must be train, val or test, got 'training'"),
    Case("bfactor-train-split-missing-columns", train_with(good_graphs, "id,file,split\ng1,g1.pdb,train\n"),
         r"split\.tsv: header: missing column\(s\) \['id', 'split'\]"),
    Case("bfactor-train-split-empty", train_with(good_graphs, ""), r"split\.tsv: empty split file"),
    Case("bfactor-train-split-header-only", train_with(good_graphs, "id\tfile\tsplit\n"), r"split\.tsv: no rows"),
    Case("bfactor-train-graphs-not-in-split", train_with(good_graphs, "id\tfile\tsplit\nother\to.pdb\ttrain\n"),
         r"graph\(s\) have ids not in the split"),
    # ---- bfactor explain
    Case("bfactor-explain-unknown-atom",
         lambda t, r: ["bfactor", "explain", "--model", str(r.model), "--structure",
                       str(write(t / "in" / "s.pdb", GOOD_PDB)), "--atoms", "A:99:CA", "--epochs", "1",
                       "--output-dir", str(t / "out")],
         r"s\.pdb: atom A:99:CA not found among the graph's heavy atoms"),
    Case("bfactor-explain-bad-atom-spec",
         lambda t, r: ["bfactor", "explain", "--model", str(r.model), "--structure",
                       str(write(t / "in" / "s.pdb", GOOD_PDB)), "--atoms", "A-1-CA", "--epochs", "1",
                       "--output-dir", str(t / "out")],
         r"atom 'A-1-CA' is not CHAIN:RESSEQ:ATOM"),
    Case("bfactor-explain-residue-not-a-number",
         lambda t, r: ["bfactor", "explain", "--model", str(r.model), "--structure",
                       str(write(t / "in" / "s.pdb", GOOD_PDB)), "--atoms", "A:xx:CA", "--epochs", "1",
                       "--output-dir", str(t / "out")],
         r"atom 'A:xx:CA': residue number 'xx' is not a number"),
    # ---- grn infer: the expression matrix
    Case("grn-infer-expression-missing", lambda t, r: infer(t / "in" / "absent.tsv", write_regs(t), t),
         r"absent\.tsv: expression file not found"),
    Case("grn-infer-expression-is-directory",
         lambda t, r: infer((t / "in" / "d.tsv").mkdir(parents=True) or t / "in" / "d.tsv", write_regs(t), t),
         r"d\.tsv: is a directory"),
    Case("grn-infer-expression-empty-file", infer_with_text(""), r"expr\.tsv: cannot parse as a table"),
    Case("grn-infer-expression-header-only", infer_with_text("gene\tS1\tS2\n"),
         r"expr\.tsv: the expression matrix is empty \(no gene rows"),
    Case("grn-infer-expression-truncated-gz",
         lambda t, r: infer(write(t / "in" / "expr.tsv.gz", _truncated_gz(EXPR.to_csv(sep="\t").encode())),
                            write_regs(t), t),
         r"expr\.tsv\.gz: truncated or corrupt gzip stream"),
    Case("grn-infer-expression-non-numeric", infer_with(_set(EXPR, 3, 4, "abc")),
         r"expr\.tsv: gene G2, sample S5: non-numeric value 'abc'"),
    Case("grn-infer-expression-decimal-comma", _semicolon_decimal_comma,
         r"expr\.csv: gene R1, sample S1: non-numeric value '-?\d+,\d+' \(a decimal comma\?"),
    Case("grn-infer-expression-nan", infer_with(_set(EXPR, 2, 1, np.nan)),
         r"gene G1, sample S2: 1 missing or infinite values in 1 genes.*impute"),
    Case("grn-infer-expression-infinite", infer_with(_set(EXPR, 2, 1, np.inf)), r"missing or infinite values"),
    Case("grn-infer-expression-duplicate-genes", infer_with(EXPR.rename(index={"G3": "G2"})),
         r"gene G2: duplicate gene IDs \['G2'\]"),
    Case("grn-infer-expression-duplicate-samples", infer_with(EXPR.rename(columns={"S3": "S2"})),
         r"sample S2: duplicate sample IDs \['S2'\]"),
    Case("grn-infer-expression-few-samples", infer_with(expression(n_samples=5)),
         r"5 samples; at least 10 are needed"),
    Case("grn-infer-expression-too-large", infer_with(EXPR * 1e200), r"is too large .*rescale"),
    Case("grn-infer-expression-all-constant", infer_with(EXPR * 0 + 3.0), r"every gene is constant"),
    Case("grn-infer-negative-counts-with-log-transform", infer_with(EXPR, extra=("--log-transform",)),
         r"negative value where counts were expected"),
    Case("grn-infer-top-percent-out-of-range", infer_with(EXPR, extra=("--top-percent", "0")),
         r"top-variable percentage must be in \(0, 100\]"),
    Case("grn-infer-restarts-zero", infer_with(EXPR, extra=("--restarts", "0")), r"restarts must be >= 1"),
    # ---- grn infer: the regulators
    Case("grn-infer-regulators-missing", lambda t, r: infer(write_expr(t), t / "in" / "absent.txt", t),
         r"absent\.txt: regulator list not found"),
    Case("grn-infer-regulators-empty", infer_with(EXPR, regs="# none\n\n"), r"regulators\.txt: the regulator list is empty"),
    Case("grn-infer-regulators-none-in-matrix", infer_with(EXPR, regs="TF1\nTF2\n"),
         r"none of the 2 regulators \(e\.g\. \['TF1', 'TF2'\]\) is a gene ID"),
    # ---- grn baseline
    Case("grn-baseline-regulators-none-in-matrix",
         lambda t, r: ["grn", "baseline", "--method", "correlation", "--expression", str(write_expr(t)),
                       "--regulators", str(write_regs(t, "TF1\n")), "--output", str(t / "out" / "edges.tsv")],
         r"regulators\.txt: none of the regulators is a gene"),
    Case("grn-baseline-expression-nan",
         lambda t, r: ["grn", "baseline", "--method", "clr", "--expression", str(write_expr(t, _set(EXPR, 0, 0, np.nan))),
                       "--regulators", str(write_regs(t)), "--output", str(t / "out" / "edges.tsv")],
         r"gene R1, sample S1: 1 missing or infinite values"),
    # ---- grn evaluate
    Case("grn-evaluate-truth-missing", evaluate_with(None), r"truth\.tsv: edge list not found"),
    Case("grn-evaluate-truth-missing-columns", evaluate_with("from\tto\nR1\tG1\n"),
         r"truth\.tsv: header: missing column\(s\) regulator, target"),
    Case("grn-evaluate-method-without-name", evaluate_with("regulator\ttarget\nR1\tG1\n", method="{edges}"),
         r"--method expects NAME=EDGES\.tsv"),
    Case("grn-evaluate-edges-score-not-a-number",
         lambda t, r: ["grn", "evaluate", "--truth", str(write(t / "in" / "truth.tsv", "regulator\ttarget\nR1\tG1\n")),
                       "--expression", str(write_expr(t)), "--regulators", str(write_regs(t)), "--method",
                       "m=" + str(write(t / "in" / "edges.tsv", "regulator\ttarget\tscore\nR1\tG1\thigh\n")),
                       "--output-dir", str(t / "out")],
         r"edges\.tsv: line 2 \(R1 -> G1\): score 'high' is not a number"),
    Case("grn-evaluate-edges-empty",
         lambda t, r: ["grn", "evaluate", "--truth", str(write(t / "in" / "truth.tsv", "regulator\ttarget\nR1\tG1\n")),
                       "--expression", str(write_expr(t)), "--regulators", str(write_regs(t)), "--method",
                       "m=" + str(write(t / "in" / "edges.tsv", "")), "--output-dir", str(t / "out")],
         r"edges\.tsv: edge list is empty"),
    Case("grn-plot-result-not-a-result-directory",
         lambda t, r: ["grn", "plot", "--result", str(mkdir(t / "in")), "--output-dir", str(t / "out")],
         r"in: no result\.json: not a result directory of `pgml grn infer`"),
    Case("grn-coherence-result-incomplete",
         lambda t, r: ["grn", "coherence", "--result", str(mkdir(t / "in")), "--labels",
                       str(write(t / "labels.tsv", "sample\tlabel\n")), "--output", str(t / "out" / "c.tsv")],
         r"in: no result\.json"),
    # ---- grn coherence: sample labels
    Case("grn-coherence-labels-missing", coherence_with(None), r"labels\.tsv: sample label file not found"),
    Case("grn-coherence-labels-empty", coherence_with(""), r"labels\.tsv: empty file; expected two columns"),
    Case("grn-coherence-labels-one-column", coherence_with("sample\nS1\n"), r"expected two columns: sample, label"),
    Case("grn-coherence-labels-miss-samples", coherence_with("sample\tlabel\nS1\ta\n"),
         r"labels\.tsv: sample S2: no label for 11 samples"),
    Case("grn-coherence-labels-duplicate-sample", coherence_with("sample\tlabel\nS1\ta\nS1\tb\n"),
         r"sample 'S1' has more than one label row"),
    # ---- output locations (pgml.fileio.check_output_dir / check_output_file)
    Case("bfactor-predict-output-dir-is-cwd",
         lambda t, r: ["bfactor", "predict", "--model", str(r.model), "--output-dir", ".",
                       str(write(t / "in" / "s.pdb", GOOD_PDB))],
         r"current|working directory", chdir=True),
    Case("bfactor-predict-output-dir-holds-an-input",
         lambda t, r: ["bfactor", "predict", "--model", str(r.model), "--output-dir", str(t / "in"),
                       str(write(t / "in" / "s.pdb", GOOD_PDB))],
         r"in: .*(holds|contains) .*input"),
    Case("bfactor-build-graphs-output-is-a-directory",
         lambda t, r: ["bfactor", "build-graphs", "--selection", str(write(t / "in" / "sel.tsv", "id\n")),
                       "--output", str(mkdir(t / "out"))],
         r"out: .*directory"),
    Case("grn-plot-output-dir-is-a-file",
         lambda t, r: ["grn", "plot", "--result", str(mkdir(t / "in")), "--output-dir",
                       str(write(t / "out", "a file\n"))],
         r"out: .*(not a directory|is a file)"),
    Case("bfactor-predict-output-dir-is-a-file",
         lambda t, r: ["bfactor", "predict", "--model", str(r.model), "--output-dir",
                       str(write(t / "out", "a file\n")), str(write(t / "in" / "s.pdb", GOOD_PDB))],
         r"out: .*(not a directory|is a file)"),
    Case("grn-infer-output-dir-is-cwd",
         lambda t, r: ["grn", "infer", "--expression", str(write_expr(t)), "--regulators", str(write_regs(t)),
                       "--output-dir", "."],
         r"current|working directory", chdir=True),
    Case("grn-infer-output-dir-holds-an-input",
         lambda t, r: ["grn", "infer", "--expression", str(write_expr(t)), "--regulators", str(write_regs(t)),
                       "--output-dir", str(t / "in")],
         r"in: .*(holds|contains) .*input"),
    # ---- bfactor predict: the model card beside the checkpoint
    Case("bfactor-predict-model-without-card",
         predict_model(lambda t, r: write(t / "in" / "m" / "model.ckpt", r.model.read_bytes())),
         r"m/model\.ckpt: no model card model\.json beside the model"),
    Case("bfactor-predict-card-of-another-chain",
         predict_model(lambda t, r: (write(t / "in" / "m" / "model.json", json.dumps({"chain": "qa", "inputs": {}})),
                                     write(t / "in" / "m" / "model.ckpt", r.model.read_bytes()))[1]),
         r"m/model\.json: model card is for the 'qa' chain, not 'bfactor'"),
    Case("bfactor-predict-card-other-settings",
         predict_model(lambda t, r: (write(t / "in" / "m" / "model.json", r.model.with_name("model.json").read_text()
                                           .replace('"wcn_feature": false', '"wcn_feature": true')),
                                     write(t / "in" / "m" / "model.ckpt", r.model.read_bytes()))[1]),
         r"m/model\.json: wcn_feature: the model was trained with wcn_feature=True, this input gives False"),
    Case("bfactor-predict-card-not-json",
         lambda t, r: [*predict_model(lambda t, r: r.model)(t, r), "--card", str(write(t / "in" / "card.json", "{"))],
         r"card\.json: model card is not readable JSON"),
    # ---- bfactor: non-finite or degenerate numbers in flags and inputs
    Case("bfactor-predict-nan-coordinate",
         predict_structure("nan.pdb", GOOD_PDB.replace("   0.000", "     nan", 1)),
         r"nan\.pdb: A:1 GLY: 1 atom\(s\) with a coordinate that is not a finite number \(first: N \[nan"),
    Case("bfactor-build-graphs-nan-neighbour-radius",
         lambda t, r: [*build_graphs_with("id\tfile\n")(t, r), "--neighbour-radius", "nan"],
         r"neighbour_radius must be positive, got nan"),
    Case("bfactor-build-graphs-nan-contact-radius",
         lambda t, r: [*build_graphs_with("id\tfile\n")(t, r), "--contact-radius", "nan"],
         r"contact_radius must be 0 \(off\) or positive, got nan"),
    Case("bfactor-build-graphs-infinite-packing-radius",
         lambda t, r: [*build_graphs_with("id\tfile\n")(t, r), "--packing-radii", "inf"],
         r"packing_radii must be positive, got \[inf\]"),
    Case("bfactor-train-nan-learning-rate",
         lambda t, r: [*train_with(good_graphs, "id\tfile\tsplit\ng1\tg1.pdb\ttrain\n")(t, r), "--lr", "nan"],
         r"lr must be a positive finite number, got nan"),
    Case("bfactor-train-negative-weight-decay",
         lambda t, r: [*train_with(good_graphs, "id\tfile\tsplit\ng1\tg1.pdb\ttrain\n")(t, r), "--weight-decay",
                       "-1"],
         r"weight_decay must be a finite number >= 0, got -1\.0"),
    Case("bfactor-train-dropout-above-one",
         lambda t, r: [*train_with(good_graphs, "id\tfile\tsplit\ng1\tg1.pdb\ttrain\n")(t, r), "--dropout", "2"],
         r"dropout must be in \[0, 1\), got 2\.0"),
    Case("bfactor-train-zero-epochs",
         lambda t, r: [*train_with(good_graphs, "id\tfile\tsplit\ng1\tg1.pdb\ttrain\n")(t, r), "--epochs", "0"],
         r"epochs must be at least 1, got 0"),
    Case("bfactor-train-split-without-validation",
         train_with(good_graphs, "id\tfile\tsplit\ng1\tg1.pdb\ttrain\n"),
         r"split\.tsv: the split has no val structures"),
    Case("bfactor-select-nan-max-resolution",
         lambda t, r: ["bfactor", "select", "--manifest", str(write(t / "in" / "m.txt", "")), "--output",
                       str(t / "out" / "selection.tsv"), "--max-resolution", "nan"],
         r"max_resolution must be a positive number of Å, got nan"),
    Case("bfactor-split-nan-fraction",
         lambda t, r: ["bfactor", "split", "--selection", str(write(t / "in" / "s.tsv", "id\n")), "--output",
                       str(t / "out" / "split.tsv"), "--report", str(t / "out" / "r.tsv"), "--val-fraction", "nan"],
         r"val_fraction nan and test_fraction 0\.15 must be in \[0, 1\) and sum to less than 1"),
    Case("bfactor-split-fractions-sum-above-one",
         lambda t, r: ["bfactor", "split", "--selection", str(write(t / "in" / "s.tsv", "id\n")), "--output",
                       str(t / "out" / "split.tsv"), "--report", str(t / "out" / "r.tsv"), "--val-fraction", "0.6",
                       "--test-fraction", "0.6"],
         r"val_fraction 0\.6 and test_fraction 0\.6 must be in \[0, 1\) and sum to less than 1"),
    Case("bfactor-shard-zero-shards",
         lambda t, r: ["bfactor", "shard", "--structures", str(write(t / "in" / "a.pdb", GOOD_PDB)), "--shards", "0",
                       "--output-dir", str(t / "out")],
         r"n_shards must be >= 1, got 0"),
    Case("bfactor-shard-structures-missing",
         lambda t, r: ["bfactor", "shard", "--structures", str(t / "in" / "nope"), "--shards", "1",
                       "--output-dir", str(t / "out")],
         r"nope: no such file or directory"),
    Case("bfactor-shard-empty-directory",
         lambda t, r: ["bfactor", "shard", "--structures", str(mkdir(t / "in" / "d")), "--shards", "1",
                       "--output-dir", str(t / "out")],
         r"no structure files \(\*\.pdb, .*found in .*d$"),
    Case("bfactor-baseline-split-missing",
         lambda t, r: ["bfactor", "baseline", "--graphs", str(r.graphs), "--split", str(t / "in" / "nope.tsv"),
                       "--output-dir", str(t / "out")],
         r"nope\.tsv: split file not found"),
    Case("bfactor-baseline-graphs-not-pt",
         lambda t, r: ["bfactor", "baseline", "--graphs", str(write(t / "in" / "g.pt", "x")), "--split",
                       str(write(t / "in" / "s.tsv", "id\tfile\tsplit\ng1\tx\ttest\n")), "--output-dir", str(t / "out")],
         r"g\.pt: not a graph file from build-graphs \("),
    Case("bfactor-evaluate-nan-prediction",
         lambda t, r: ["bfactor", "evaluate", "--predictions",
                       str(write(t / "in" / "gcn" / "run0" / "predictions.tsv",
                                 "structure\ttarget_true\ttarget_pred\nA\t1\tnan\nA\t2\t3\n").parent),
                       "--baseline", str(write(t / "in" / "baseline" / "predictions.tsv",
                                               "structure\ttarget_true\ttarget_pred\nA\t1\t2\nA\t2\t3\n").parent),
                       "--output-dir", str(t / "out")],
         r"run0/predictions\.tsv: line 2 \(structure A\): 1 prediction\(s\) are not finite numbers"),
    Case("bfactor-evaluate-predictions-missing",
         lambda t, r: ["bfactor", "evaluate", "--predictions", str(t / "in" / "gcn" / "run0"), "--baseline",
                       str(mkdir(t / "in" / "baseline")), "--output-dir", str(t / "out")],
         r"run0: no predictions\.tsv \(run `pgml bfactor predict` first\)"),
    Case("bfactor-explain-zero-epochs",
         lambda t, r: ["bfactor", "explain", "--model", str(r.model), "--structure",
                       str(write(t / "in" / "s.pdb", GOOD_PDB)), "--atoms", "A:1:CA", "--epochs", "0",
                       "--output-dir", str(t / "out")],
         r"epochs must be at least 1, got 0"),
    Case("bfactor-split-report-over-selection",
         lambda t, r: ["bfactor", "split", "--selection", str(write(t / "in" / "s.tsv", "id\n")), "--output",
                       str(t / "out" / "split.tsv"), "--report", str(t / "in" / "s.tsv")],
         r"s\.tsv: output file is the input .*s\.tsv; choose another --report"),
    Case("bfactor-predict-output-dir-is-the-model",
         lambda t, r: ["bfactor", "predict", "--model", str(r.model), "--output-dir", str(r.model),
                       str(write(t / "in" / "s.pdb", GOOD_PDB))],
         r"model\.ckpt: .*(input|not a directory)"),
    # ---- grn: non-finite or out-of-range flags, unreadable inputs
    Case("grn-infer-nan-cor-cutoff", infer_with(EXPR, extra=("--cor-cutoff", "nan")),
         r"cor_cutoff must be a correlation in \[0, 1\], got nan"),
    Case("grn-infer-nan-force-split", infer_with(EXPR, extra=("--force-split", "nan")),
         r"force_split must be a fraction of genes in \(0, 1\], got nan"),
    Case("grn-infer-force-split-above-one", infer_with(EXPR, extra=("--force-split", "2")),
         r"force_split must be a fraction of genes in \(0, 1\], got 2\.0"),
    Case("grn-infer-nan-top-percent", infer_with(EXPR, extra=("--top-percent", "nan")),
         r"top-variable percentage must be in \(0, 100\], got nan"),
    Case("grn-infer-max-edges-zero", infer_with(EXPR, extra=("--max-edges", "0")),
         r"--max-edges must be >= 1 \(leave it out for every edge\), got 0"),
    Case("grn-infer-min-group-size-zero", infer_with(EXPR, extra=("--min-group-size", "0")),
         r"min_group_size and min_divide_size must be >= 1, got 0 and 3"),
    Case("grn-infer-min-divide-size-zero", infer_with(EXPR, extra=("--min-divide-size", "0")),
         r"min_group_size and min_divide_size must be >= 1, got 2 and 0"),
    Case("grn-infer-max-depth-zero", infer_with(EXPR, extra=("--max-depth", "0")),
         r"max_depth and max_iter must be >= 1"),
    Case("grn-infer-one-initial-group", infer_with(EXPR, extra=("--init-group-num", "1")),
         r"init_group_num must be >= 2"),
    Case("grn-infer-only-regulators", infer_with(expression(n_genes=2)),
         r"expr\.tsv: only 0 target genes \(genes that are not regulators\) left"),
    Case("grn-infer-h5ad-not-hdf5", infer_with_text("not an h5ad file\n", name="expr.h5ad"),
         r"expr\.h5ad: not a readable AnnData \.h5ad file"),
    Case("grn-infer-regulators-binary",
         lambda t, r: infer(write_expr(t), write(t / "in" / "regs.txt", bytes(range(256))), t),
         r"regs\.txt: binary content, not a text list of regulator IDs"),
    Case("grn-infer-regulators-is-directory", lambda t, r: infer(write_expr(t), mkdir(t / "in" / "rdir"), t),
         r"rdir: is a directory, not a regulator list"),
    Case("grn-baseline-zero-genie3-trees",
         lambda t, r: ["grn", "baseline", "--method", "genie3", "--expression", str(write_expr(t)), "--regulators",
                       str(write_regs(t)), "--output", str(t / "out" / "edges.tsv"), "--genie3-trees", "0"],
         r"--genie3-trees must be >= 1, got 0"),
    Case("grn-baseline-output-over-expression",
         lambda t, r: ["grn", "baseline", "--method", "clr", "--expression", str(write_expr(t)), "--regulators",
                       str(write_regs(t)), "--output", str(t / "in" / "expr.tsv")],
         r"expr\.tsv: output file is the input .*expr\.tsv; choose another --output"),
    Case("grn-evaluate-nan-edge-score",
         lambda t, r: ["grn", "evaluate", "--truth", str(write(t / "in" / "truth.tsv", "regulator\ttarget\nR1\tG1\n")),
                       "--expression", str(write_expr(t)), "--regulators", str(write_regs(t)), "--method",
                       "m=" + str(write(t / "in" / "e.tsv", "regulator\ttarget\tscore\nR1\tG1\tnan\n")),
                       "--output-dir", str(t / "out")],
         r"e\.tsv: line 2 \(R1 -> G1\): score 'nan' is not a number"),
    Case("grn-evaluate-truth-without-edges", evaluate_with("regulator\ttarget\n"),
         r"truth\.tsv: the true network lists no edges \(only a header\)"),
    Case("grn-evaluate-truth-unknown-genes", evaluate_with("regulator\ttarget\nX\tY\n"),
         r"truth\.tsv: none of the true edges is a regulator -> gene pair of the expression matrix"),
    Case("grn-evaluate-method-name-twice",
         evaluate_with("regulator\ttarget\nR1\tG1\n", method="gnet2={edges} gnet2={edges}"),
         r"--method: name 'gnet2' given twice"),
    Case("grn-coherence-zero-permutations",
         lambda t, r: [*coherence_with("sample\tlabel\nS1\ta\n")(t, r), "--permutations", "0"],
         r"--permutations must be >= 1, got 0"),
    Case("grn-coherence-one-label-only",
         coherence_with("sample\tlabel\n" + "".join(f"S{i}\ta\n" for i in range(1, 13))),
         r"labels\.tsv: every sample has the label 'a'; coherence needs at least two labels"),
    Case("grn-infer-consensus-over-memory", infer_with(EXPR, extra=("--restarts", "2")),
         r"the gene x gene consensus of the restarts need about [\d.]+ [KMG]iB, more than the 1\.0 KiB available; "
         r"lower it with --restarts 1 or --top-percent", env=(("PGML_MEMORY_LIMIT", "1K"),)),
    Case("grn-simulate-nan-noise",
         lambda t, r: ["grn", "simulate", "--output-dir", str(t / "out"), "--noise", "nan"],
         r"noise must be a finite sd >= 0, got nan"),
    Case("grn-simulate-too-few-genes",
         lambda t, r: ["grn", "simulate", "--output-dir", str(t / "out"), "--n-genes", "1"],
         r"need at least 3 genes and 2 samples"),
    Case("grn-simulate-seed-network-missing",
         lambda t, r: ["grn", "simulate", "--output-dir", str(t / "out"), "--topology", "seed", "--seed-network",
                       str(t / "in" / "net.tsv")],
         r"net\.tsv: seed network not found"),
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
    Case("contact-query-not-the-structure-chain",
         lambda t, r: _contact_evaluate_long_query(t),
         r"q\.npz: query does not match the structure's chain: 0 of 4 residues align identically"),
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

TFBS_SIZES = {"chr1": 2000, "chr2": 1200}
TFBS_FLANK = 20


def tfbs_fasta_text(names: tuple[str, ...] = ("chr1", "chr2"), all_n: tuple[str, ...] = ()) -> str:
    rng = np.random.default_rng(0)
    out = []
    for name, chrom in zip(names, TFBS_SIZES, strict=True):
        seq = "N" * TFBS_SIZES[chrom] if name in all_n else "".join(rng.choice(list("ACGT"), TFBS_SIZES[chrom]))
        out.append(f">{name}\n" + "\n".join(seq[i:i + 60] for i in range(0, len(seq), 60)))
    return "\n".join(out) + "\n"


def tfbs_bigwig(path: Path, value: float = 1.0, chroms: dict[str, int] | None = None) -> Path:
    import pyBigWig

    chroms = TFBS_SIZES if chroms is None else chroms
    path.parent.mkdir(parents=True, exist_ok=True)
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader(list(chroms.items()))
    for chrom, size in chroms.items():
        starts = list(range(0, size, 100))
        bw.addEntries([chrom] * len(starts), starts, ends=[min(s + 100, size) for s in starts],
                      values=[value * (1 + (s // 100) % 3) for s in starts])
    bw.close()
    return path


def tfbs_world(tmp: Path, *, fasta: str | None = None, dnase: float = 1.0, pca: str | None = None,
               card: bool = True) -> dict[str, Path]:
    """A 3.2-kb genome with everything train/predict/evaluate read, and a small untrained DeepGRN checkpoint
    with its model card."""
    import pyfaidx
    import torch

    from pgml.modelcard import ModelCard, write_card
    from pgml.tfbs.annotate import annotate_bins, save_annotation
    from pgml.tfbs.bins import bin_genome
    from pgml.tfbs.labels import label_bins
    from pgml.tfbs.model import TfbsModule
    from pgml.tfbs.params import ANNOTATIONS, ModelConfig
    from pgml.tfbs.training import card_inputs
    from pgml.tfbs.windows import WindowSource

    d = mkdir(tmp / "in")
    w = {"fasta": write(d / "genome.fa", fasta or tfbs_fasta_text()),
         "sizes": write(d / "chrom.sizes", "".join(f"{c}\t{n}\n" for c, n in TFBS_SIZES.items())),
         "map": tfbs_bigwig(d / "map.bw"), "dnase": tfbs_bigwig(d / "tracks" / "CellA.bw", dnase),
         "bins": d / "bins.npz", "annotation": d / "annotation.npz", "labels": d / "labels.npz",
         "pca": write(d / "pca.tsv", pca or "cell\t" + "\t".join(f"PC{i}" for i in range(1, 9)) + "\n"
                      + "".join(f"{c}\t" + "\t".join(["0.5"] * 8) + "\n" for c in ("CellA", "CellB"))),
         "peaks": write(d / "peaks.bed", "chr1\t300\t500\nchr2\t100\t400\n"), "model": d / "model" / "model.ckpt"}
    pyfaidx.Faidx(str(w["fasta"])).close()  # its own .fai, so no run indexes it in the user's cache
    bins = bin_genome(TFBS_SIZES, None, None)
    bins.save(w["bins"])
    save_annotation(annotate_bins(bins, {a: w["peaks"] for a in ANNOTATIONS}), w["annotation"])
    label_bins(bins, "CTCF", [(c, w["peaks"], w["peaks"]) for c in ("CellA", "CellB")]).save(w["labels"])
    config = ModelConfig(conv_filters=2, conv_kernel=4, pool=4, lstm_hidden=2, d_k=2, dense=2)
    module = TfbsModule(200 + 2 * TFBS_FLANK, config.__dict__, 1e-3)
    mkdir(w["model"].parent)
    torch.save({"hyper_parameters": dict(module.hparams), "state_dict": module.state_dict()}, w["model"])
    if card:
        source = WindowSource(w["fasta"], w["map"], {}, flank=TFBS_FLANK)
        inputs = {**card_inputs(source, w["pca"], config), "pca_basis": None}  # trained on a ready PCA table
        write_card(w["model"], ModelCard(chain="tfbs", inputs=inputs, training={"cells": ["CellB"]}, seed=0))
    return w


def tfbs_window_args(w: dict[str, Path], cell: str = "CellA") -> list[str]:
    return ["--bins", str(w["bins"]), "--annotation", str(w["annotation"]), "--pca", str(w["pca"]),
            "--fasta", str(w["fasta"]), "--mappability", str(w["map"]), "--dnase", f"{cell}={w['dnase']}",
            "--flank", str(TFBS_FLANK)]


def tfbs_predict(*extra: str, chroms: tuple[str, ...] = ("chr1",), model: Callable[[Path], Path] | None = None,
                 output: str = "out", **world) -> Callable[[Path, Resources], list[str]]:
    def build(tmp: Path, res: Resources) -> list[str]:
        w = tfbs_world(tmp, **world)
        ckpt = model(tmp) if model is not None else w["model"]
        return ["tfbs", "predict", "--model", str(ckpt), *tfbs_window_args(w), "--cell", "CellA",
                "--chroms", *chroms, "--output-dir", str(tmp / output), "--device", "cpu", *extra]
    return build


def tfbs_train(*extra: str, **world) -> Callable[[Path, Resources], list[str]]:
    def build(tmp: Path, res: Resources) -> list[str]:
        w = tfbs_world(tmp, **world)
        return ["tfbs", "train", "--labels", str(w["labels"]), *tfbs_window_args(w), "--cells", "CellA",
                "--output-dir", str(tmp / "out"), "--epochs", "1", "--device", "cpu", *extra]
    return build


def tfbs_evaluate(*extra: str) -> Callable[[Path, Resources], list[str]]:
    def build(tmp: Path, res: Resources) -> list[str]:
        w = tfbs_world(tmp)
        modules = write(tmp / "in" / "modules.tsv", "chrom\tstart\tend\tsingle\tpairwise\tensemble\n")
        return ["tfbs", "evaluate", "--labels", str(w["labels"]), "--bins", str(w["bins"]), "--annotation",
                str(w["annotation"]), "--pca", str(w["pca"]), "--predictions", f"CellA={modules}", "--dnase",
                f"CellA={w['dnase']}", "--train-cells", "CellB", "--output-dir", str(tmp / "out"), *extra]
    return build


def tfbs_pca(tpm: Callable[[Path], Path] | str, *, variance: str | None = None) -> Callable[[Path, Resources], list[str]]:
    def build(tmp: Path, res: Resources) -> list[str]:
        path = tpm(tmp) if callable(tpm) else write(tmp / "in" / "tpm.tsv", tpm)
        return ["tfbs", "expression-pca", "--tpm", str(path), "--output", str(tmp / "out" / "pca.tsv"),
                "--variance", str(path if variance == "tpm" else tmp / "out" / "v.tsv"),
                "--plot", str(tmp / "out" / "p.png")]
    return build


def tfbs_project(tpm: str, *, both: bool = False) -> Callable[[Path, Resources], list[str]]:
    """expression-pca --project BASIS on the TPM table ``tpm`` (the basis fitted on g1, g2 over 3 cell types)."""
    def build(tmp: Path, res: Resources) -> list[str]:
        from pgml.tfbs.expression import fit_basis, read_tpm

        fit = write(tmp / "in" / "tpm.tsv", TPM_HEADER + "g1\t1\t2\t3\ng2\t3\t1\t0\n")
        basis = tmp / "in" / "basis.npz"
        fit_basis(read_tpm(fit)).save(basis)
        new = write(tmp / "in" / "new.tsv", tpm)
        return ["tfbs", "expression-pca", "--tpm", str(new), "--project", str(basis), "--output",
                str(tmp / "out" / "pca.tsv"), "--variance", str(tmp / "out" / "v.tsv"), "--plot",
                str(tmp / "out" / "p.png"), *(["--basis", str(tmp / "out" / "b.npz")] if both else [])]
    return build


def tfbs_fifo(tmp: Path) -> Path:
    import os

    path = mkdir(tmp / "in") / "tpm.tsv"
    os.mkfifo(path)
    return path


def tfbs_label(peaks: str | bytes, *, counts_over_peaks: bool = False, name: str = "c.narrowPeak"
               ) -> Callable[[Path, Resources], list[str]]:
    def build(tmp: Path, res: Resources) -> list[str]:
        bins = tfbs_bins(tmp)
        cons = write(tmp / "in" / name, peaks)
        counts = cons if counts_over_peaks else tmp / "out" / "counts.tsv"
        return ["tfbs", "label-bins", "--bins", str(bins), "--tf", "CTCF", "--peaks", f"K562={cons},{cons}",
                "--output", str(tmp / "out" / "CTCF.npz"), "--counts", str(counts)]
    return build


def tfbs_coverage_bigwig(value: float, output: str = "out/cov.bw") -> Callable[[Path, Resources], list[str]]:
    def build(tmp: Path, res: Resources) -> list[str]:
        track = tfbs_bigwig(tmp / "in" / "dnase.bw", value, {"chr1": 2000})
        return ["tfbs", "dnase-coverage", "--bigwig", str(track), "--genome",
                str(write(tmp / "in" / "chrom.sizes", "chr1\t2000\n")), "--bins", str(tfbs_bins(tmp)),
                "--output", str(tmp / output)]
    return build


def tfbs_numbered_bam(tmp: Path, res: Resources) -> list[str]:
    import pysam

    bam = mkdir(tmp / "in") / "reads.bam"
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": str(i), "LN": 2000} for i in range(1, 22)]}
    with pysam.AlignmentFile(str(bam), "wb", header=header) as handle:
        read = pysam.AlignedSegment(handle.header)
        read.query_name, read.reference_id, read.reference_start, read.cigarstring = "r", 0, 10, "36M"
        read.query_sequence = "A" * 36
        handle.write(read)
    pysam.index(str(bam))
    return ["tfbs", "dnase-coverage", "--bam", str(bam), "--genome", str(write(tmp / "in" / "chrom.sizes", "chr1\t2000\n")),
            "--bins", str(tfbs_bins(tmp)), "--effective-genome-size", "2000", "--output", str(tmp / "out" / "cov.bw")]


def tfbs_checkpoint(content: Callable[[], object] | bytes) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        import torch

        path = tmp / "in" / "other" / "model.ckpt"
        if isinstance(content, bytes):
            return write(path, content)
        mkdir(path.parent)
        torch.save(content(), path)
        return path
    return make


def _qa_like_checkpoint() -> dict:
    import torch

    return {"hyper_parameters": {"n_references": 3, "degree": 2, "hidden": 8},
            "state_dict": {"encoder.weight": torch.zeros(2, 2)}, "pytorch-lightning_version": "2.0"}


def tfbs_bed(tmp: Path) -> Path:
    return write(tmp / "in" / "a.bed", "chr1\t1\t100\n")


def tfbs_annotation_beds(tmp: Path) -> list[str]:
    return [f"{a}={tfbs_bed(tmp)}" for a in ("cds", "intron", "promoter", "utr5", "utr3", "cpg")]


TPM_HEADER = "gene\tCellA\tCellB\tCellC\n"
PCA_HEADER = "cell\t" + "\t".join(f"PC{i}" for i in range(1, 9)) + "\n"

def tfbs_import(content: bytes | dict[str, list[float]], *, layer: str | None = None,
                output: str = "out/m.ckpt") -> Callable[[Path, Resources], list[str]]:
    """import-model on ``content``: raw bytes, or an HDF5 file with these tensors (and, with ``layer``,
    a Keras model_config of one layer of that class)."""
    def build(tmp: Path, res: Resources) -> list[str]:
        import json

        import h5py

        path = mkdir(tmp / "in") / "m.h5"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            with h5py.File(path, "w") as f:
                if layer is not None:  # "" writes a layer without a class
                    spec = {"name": "gru_1", "class_name": layer, "config": {}, "inbound_nodes": []}
                    if not layer:
                        del spec["class_name"]
                    f.attrs["model_config"] = json.dumps({"class_name": "Model", "config": {"layers": [spec]}})
                    group = f.create_group("model_weights")
                else:
                    group = f
                for name, values in content.items():
                    group.create_dataset(name, data=np.asarray(values, dtype=np.float32))
        return ["tfbs", "import-model", "--keras", str(path), "--output", str(tmp / output)]
    return build


TFBS_CASES: list[Case] = [
    # outputs over inputs (secondary outputs and CELL=FILE inputs)
    Case("tfbs-pca-variance-over-tpm", tfbs_pca(TPM_HEADER + "g1\t1\t2\t3\ng2\t3\t1\t0\n", variance="tpm"),
         r"tpm\.tsv: output file is the input .*tpm\.tsv; choose another --variance"),
    Case("tfbs-label-counts-over-peaks", tfbs_label("chr1\t100\t300\n", counts_over_peaks=True),
         r"c\.narrowPeak: output file is the input .*c\.narrowPeak; choose another --counts"),
    Case("tfbs-predict-output-dir-holds-dnase", tfbs_predict(output="in/tracks"),
         r"tracks: output directory holds input file .*CellA\.bw; choose another --output-dir"),
    Case("tfbs-annotate-output-over-bed",
         lambda t, r: ["tfbs", "annotate-bins", "--bins", str(tfbs_bins(t)), "--annotation",
                       *tfbs_annotation_beds(t), "--output", str(t / "in" / "a.bed")],
         r"a\.bed: output file is the input .*a\.bed; choose another --output"),
    # chromosome and split lists
    Case("tfbs-train-valid-chrom-typo", tfbs_train("--valid-chroms", "Chr2", "--test-chroms", "chr1"),
         r"bins\.npz: --valid-chroms: Chr2 is not among the chromosomes of the bins \(chr1, chr2\) \(did you mean chr2\?\)"),
    Case("tfbs-train-test-chrom-typo", tfbs_train("--valid-chroms", "chr2", "--test-chroms", "Chr8"),
         r"--test-chroms: Chr8 is not among the chromosomes of the bins"),
    Case("tfbs-train-chrom-valid-and-test", tfbs_train("--valid-chroms", "chr2", "--test-chroms", "chr2"),
         r"bins\.npz: chr2 is in both --valid-chroms and --test-chroms"),
    Case("tfbs-evaluate-test-chrom-typo", tfbs_evaluate("--valid-chroms", "chr2", "--test-chroms", "chr_1"),
         r"--test-chroms: chr_1 is not among the chromosomes of the bins .*did you mean chr1\?"),
    Case("tfbs-predict-unknown-chrom", tfbs_predict(chroms=("chr1", "chr9")),
         r"bins\.npz: --chroms: chr9 is not among the chromosomes of the bins"),
    # NaN and degenerate inputs
    Case("tfbs-predict-all-n-chromosome", tfbs_predict(chroms=("chr2",), fasta=tfbs_fasta_text(all_n=("chr2",))),
         r"genome\.fa: chr2: chromosome chr2 has no A, C, G or T \(all N\)"),
    Case("tfbs-coverage-all-zero-bigwig", tfbs_coverage_bigwig(0.0),
         r"dnase\.bw: every value is 0 \(no signal\)"),
    Case("tfbs-predict-all-zero-dnase", tfbs_predict(dnase=0.0), r"CellA\.bw: every value is 0 \(no signal\)"),
    Case("tfbs-coverage-negative-bigwig", tfbs_coverage_bigwig(-1.0), r"dnase\.bw: holds negative values"),
    Case("tfbs-train-lr-nan", tfbs_train("--lr", "nan"), r"--lr must be a finite number, got nan"),
    Case("tfbs-evaluate-precision-inf", tfbs_evaluate("--precision", "inf"),
         r"--precision must be a finite number, got inf"),
    Case("tfbs-tpm-infinite", tfbs_pca(TPM_HEADER + "g1\t1\tinf\t3\ng2\t3\t1\t0\n"),
         r"tpm\.tsv: gene g1: TPM of CellB is not finite"),
    Case("tfbs-tpm-negative", tfbs_pca(TPM_HEADER + "g1\t1\t2\t3\ng2\t3\t-1\t0\n"),
         r"tpm\.tsv: gene g2: TPM of CellB must be >= 0"),
    Case("tfbs-pca-table-nan", tfbs_predict(pca=PCA_HEADER + "CellA\t" + "\t".join(["nan"] + ["1"] * 7) + "\n"),
         r"pca\.tsv: cell CellA: expression component of PC1 is not a number"),
    Case("tfbs-pca-one-cell-type", tfbs_pca("gene\tCellA\ng1\t1\ng2\t3\n"),
         r"tpm\.tsv: a PCA needs at least two cell types"),
    # tracebacks before
    Case("tfbs-peaks-truncated-gz", tfbs_label(_truncated_gz(b"chr1\t100\t300\n" * 200), name="c.narrowPeak.gz"),
         r"c\.narrowPeak\.gz: truncated or corrupt gzip file"),
    Case("tfbs-predict-fasta-named-1", tfbs_predict(fasta=tfbs_fasta_text(names=("1", "2"))),
         r"genome\.fa: chromosome\(s\) chr1, chr2 of the bins missing from the FASTA \(it names them like '1'"),
    Case("tfbs-tpm-fifo", tfbs_pca(tfbs_fifo), r"tpm\.tsv: is not a regular file"),
    Case("tfbs-predict-qa-checkpoint", tfbs_predict(model=tfbs_checkpoint(_qa_like_checkpoint)),
         r"model\.ckpt: not a tfbs \(DeepGRN\) checkpoint"),
    Case("tfbs-predict-no-model-card", tfbs_predict(card=False),
         r"model\.ckpt: no model card model\.json beside the model"),
    Case("tfbs-predict-other-flank", tfbs_predict("--flank", "30"),
         r"model\.json: flank: the model was trained with flank=20, this input gives 30"),
    Case("tfbs-predict-pca-of-another-basis",
         tfbs_predict(pca="# basis sha256:abc123\n" + PCA_HEADER + "CellA\t" + "\t".join(["1"] * 8) + "\n"),
         r"model\.json: pca_basis: the model was trained with pca_basis=None, this input gives 'abc123'"),
    Case("tfbs-pca-project-missing-genes", tfbs_project("gene\tCellD\ng1\t1\n"),
         r"new\.tsv: 1 gene\(s\) of the PCA basis missing \(first: g2\)"),
    Case("tfbs-pca-basis-and-project", tfbs_project("gene\tCellD\ng1\t1\ng2\t2\n", both=True),
         r"give --basis \(fit a PCA and keep its basis\) or --project \(use a basis\), not both"),
    Case("tfbs-predict-text-checkpoint", tfbs_predict(model=tfbs_checkpoint(b"not a checkpoint\n")),
         r"model\.ckpt: not a readable torch checkpoint"),
    Case("tfbs-predict-negative-workers", tfbs_predict("--workers", "-1"),
         r"--workers must be 0 or more and --batch-size at least 1, got -1 and 256"),
    Case("tfbs-bin-genome-huge-chromosome",
         lambda t, r: ["tfbs", "bin-genome", "--genome", str(write(t / "in" / "g.sizes", "chr1\t1000000000000\n")),
                       "--output", str(t / "out" / "bins.npz")],
         r"g\.sizes: 19,999,999,997 bins need about \d+\.\d GiB, more than the .* lower it with --chroms"),
    # misleading messages before
    Case("tfbs-tpm-directory", tfbs_pca(lambda t: mkdir(t / "in" / "tpm.tsv")), r"tpm\.tsv: is a directory, not a TPM table"),
    Case("tfbs-bins-directory",
         lambda t, r: ["tfbs", "label-bins", "--bins", str(mkdir(t / "in" / "bins.npz")), "--tf", "CTCF", "--peaks",
                       f"K562={tfbs_bed(t)},{tfbs_bed(t)}",
                       "--output", str(t / "out" / "CTCF.npz"), "--counts", str(t / "out" / "counts.tsv")],
         r"bins\.npz: is a directory, not a bins file"),
    Case("tfbs-bins-not-npz",
         lambda t, r: ["tfbs", "annotate-bins", "--bins", str(write(t / "in" / "bins.npz", "chr1\t2000\n")),
                       "--annotation", *tfbs_annotation_beds(t), "--output", str(t / "out" / "ann.npz")],
         r"bins\.npz: not a bins file of pgml tfbs bin-genome"),
    Case("tfbs-bam-numbered-contigs", tfbs_numbered_bam,
         r"reads\.bam: chromosome\(s\) chr1 of the bins missing from the BAM header \(it names them like '1'"),
    Case("tfbs-coverage-error-leaves-no-folder", tfbs_coverage_bigwig(0.0, output="out/new/deeper/cov.bw"),
         r"dnase\.bw: every value is 0"),
    Case("tfbs-chrom-sizes-duplicate",
         lambda t, r: ["tfbs", "bin-genome", "--genome", str(write(t / "in" / "g.sizes", "chr1\t5000\nchr1\t6000\n")),
                       "--output", str(t / "out" / "bins.npz")],
         r"g\.sizes: line 2: chromosome chr1 is listed twice"),
    Case("tfbs-narrowpeak-track-line",
         tfbs_label('track type=narrowPeak name="CTCF"\nbrowser position chr1:1-2000\nchr1\t100\t300\n'),
         r"K562\tchr1\t[1-9]", status=0, found_in="out/counts.tsv"),
    # import-model: the authors' Keras files
    Case("tfbs-import-model-not-hdf5", tfbs_import(b"not an HDF5 file"),
         r"m\.h5: not a readable Keras HDF5 model file"),
    Case("tfbs-import-model-hdf5-without-model", tfbs_import({"x": [1.0]}),
         r"m\.h5: not a Keras model file \(no model_config or model_weights\)"),
    Case("tfbs-import-model-unknown-layer", tfbs_import({"gru_1/gru_1/kernel:0": [1.0]}, layer="GRU"),
         r"m\.h5: gru_1: layer gru_1 \(GRU\) has no counterpart in pgml's released network"),
    Case("tfbs-import-model-output-over-input", tfbs_import(b"x", output="in/m.h5"),
         r"m\.h5: output file is the input .*m\.h5; choose another --output"),
    Case("tfbs-import-model-output-named-like-the-card", tfbs_import(b"x", output="out/model.json"),
         r"model\.json: the model card would be written over the checkpoint; name --output other than model\.json"),
    Case("tfbs-import-model-layer-without-class", tfbs_import({"x/x/kernel:0": [1.0]}, layer=""),
         r"m\.h5: model_config has a layer without name, class or inbound nodes"),
]

# ==== contact ====

UBIQUITIN = "MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG"


def contact_homologues(n: int = 40, seed: int = 0) -> str:
    """An aligned FASTA of ubiquitin and ``n`` random 30 %-mutants (Neff well above 2)."""
    rng = np.random.default_rng(seed)
    rows = [UBIQUITIN]
    for _ in range(n):
        row = np.array(list(UBIQUITIN))
        hit = rng.random(len(row)) < 0.3
        row[hit] = rng.choice(list("ARNDCQEGHILKMFPSTWYV"), int(hit.sum()))
        rows.append("".join(row))
    return "".join(f">s{k}\n{row}\n" for k, row in enumerate(rows))


def contact_plm_file(folder: Path, name: str, query: str, *, apc: float = 0.0) -> Path:
    """A ``<name>.npz`` as ``contact plm`` writes it, all scores ``apc``."""
    length = len(query)
    path = mkdir(folder) / f"{name}.npz"
    np.savez(path, apc=np.full((length, length), apc, dtype=np.float32), query=query, neff=10.0,
             couplings=np.zeros((length, length, 441), dtype=np.float16))
    return path


def contact_pssm_file(folder: Path, name: str, query: str, *, nan_row: int | None = None) -> Path:
    from pgml.contact.pssm import pssm_frame

    scores = np.zeros((len(query), 20))
    if nan_row is not None:
        scores[nan_row, 0] = np.nan
    path = mkdir(folder) / f"{name}.tsv"
    pssm_frame(query, scores).to_csv(path, sep="\t", index=False)
    return path


def contact_plm(text: str | bytes, name: str = "x.a3m", *extra: str) -> Callable[[Path, Resources], list[str]]:
    """``contact plm`` on one alignment file holding ``text``."""
    return lambda t, r: ["contact", "plm", "--alignments", str(write(t / "in" / name, text)),
                         "--output-dir", str(t / "out"), "--max-iter", "2", *extra]


def contact_build_msa(text: str | bytes, name: str = "x.a3m", *extra: str) -> Callable[[Path, Resources], list[str]]:
    return lambda t, r: ["contact", "build-msa", "--alignment", str(write(t / "in" / name, text)),
                         "--output", str(t / "out" / "x.aln"), *extra]


def contact_train(pssm_nan: bool = False, split: str = "id\tsplit\nq\ttrain\nv\tval\n",
                  pssm_query: str = "GGGG") -> Callable[[Path, Resources], list[str]]:
    """``contact train`` on two 4-residue targets (q, v) matching GOOD_PDB's chain."""
    def build(tmp: Path, res: Resources) -> list[str]:
        plm, pssm = tmp / "in" / "plm", tmp / "in" / "pssm"
        for name in ("q", "v"):
            contact_plm_file(plm, name, "GGGG")
            contact_pssm_file(pssm, name, pssm_query, nan_row=2 if pssm_nan else None)
        structures = [write(tmp / "in" / f"{name}.pdb", GOOD_PDB) for name in ("q", "v")]
        return ["contact", "train", "--plm-dir", str(plm), "--pssm-dir", str(pssm), "--structures",
                *map(str, structures), "--split", str(write(tmp / "in" / "split.tsv", split)),
                "--output-dir", str(tmp / "out"), "--epochs", "1"]
    return build


def contact_evaluate(structure: str = GOOD_PDB, *, apc: float = 0.0, prediction: object = None,
                     name: str = "q") -> Callable[[Path, Resources], list[str]]:
    """``contact evaluate`` of one 4-residue target ``q`` against ``structure`` (saved as ``<name>.pdb``)."""
    def build(tmp: Path, res: Resources) -> list[str]:
        plm = tmp / "in" / "plm"
        contact_plm_file(plm, "q", "GGGG", apc=apc)
        extra: list[str] = []
        if prediction is not None:
            predictions = mkdir(tmp / "in" / "pred")
            if not isinstance(prediction, str):
                np.save(predictions / "q.npy", np.asarray(prediction, dtype=np.float32))
            extra = ["--predictions", str(predictions)]
        return ["contact", "evaluate", "--plm-dir", str(plm), "--structures",
                str(write(tmp / "in" / f"{name}.pdb", structure)), "--output-dir", str(tmp / "out"), *extra]
    return build


def _contact_nan_coordinate() -> str:
    lines = full_atom_lines()
    lines[5] = lines[5][:30] + "     nan" + lines[5][38:]
    return pdb_text(lines)


def _contact_truncated_gz() -> bytes:
    data = gzip.compress(contact_homologues().encode())
    return data[: len(data) // 2]


def _contact_long_alignment() -> str:
    rng = np.random.default_rng(0)
    return "".join("".join(rng.choice(list("ARNDCQEGHILKMFPSTWYV"), 6000)) + "\n" for _ in range(3))


def _contact_stockholm_twice() -> str:
    rows = contact_homologues(3).split(">")[1:]
    body = ["# STOCKHOLM 1.0"] + [f"{r.split()[0]} {r.split()[1]}" for r in rows]
    body.insert(2, body[1])  # the query row repeated, as in Pfam's msa_Cys_knot.sth
    return "\n".join(body) + "\n//\n"


def _contact_predict_over_pssm(tmp: Path, res: Resources) -> list[str]:
    pssm = mkdir(tmp / "in" / "pssm")
    contact_pssm_file(pssm, "q", "GGGG")
    return ["contact", "predict", "--model", str(write(tmp / "in" / "model.ckpt", "x")), "--plm-dir",
            str(mkdir(tmp / "in" / "plm")), "--pssm-dir", str(pssm), "--output-dir", str(pssm)]


CONTACT_CASES: list[Case] = [
    # outputs over inputs
    Case("contact-predict-output-dir-is-pssm-dir", _contact_predict_over_pssm,
         r"pssm: output directory is the input .*pssm; choose another --output-dir"),
    Case("contact-build-msa-output-is-alignment",
         lambda t, r: ["contact", "build-msa", "--alignment", str(write(t / "in" / "x.a3m", contact_homologues())),
                       "--output", str(t / "in" / "x.a3m")],
         r"x\.a3m: output file is the input .*choose another --output"),
    Case("contact-plm-output-dir-holds-alignment",
         lambda t, r: ["contact", "plm", "--alignments", str(write(t / "in" / "x.a3m", contact_homologues())),
                       "--output-dir", str(t / "in")],
         r"in: output directory holds input file .*x\.a3m"),
    Case("contact-pssm-output-is-psiblast-pssm",
         lambda t, r: ["contact", "pssm", "--psiblast-pssm", str(write(t / "in" / "x.pssm", "x\n")),
                       "--output", str(t / "in" / "x.pssm")],
         r"x\.pssm: output file is the input"),
    # NaN and out-of-range numbers
    Case("contact-train-pssm-nan", contact_train(pssm_nan=True), r"[qv]\.tsv: row 3: score of A is nan"),
    Case("contact-pssm-psiblast-nan",
         lambda t, r: ["contact", "pssm", "--psiblast-pssm", str(write(t / "in" / "x.pssm",
                       "Last position-specific scoring matrix computed\n           A  R  N  D  C  Q  E  G  H  I  L  K"
                       "  M  F  P  S  T  W  Y  V\n    1 M   " + "  1" * 5 + " nan" + "  1" * 14 + "\n")),
                       "--output", str(t / "out" / "x.tsv")],
         r"x\.pssm: row 1: score of .* is nan"),
    Case("contact-plm-lambda-single-nan", contact_plm(contact_homologues(), "x.a3m", "--lambda-single", "nan"),
         r"--lambda-single must be a finite number, got nan"),
    Case("contact-plm-lambda-pair-negative", contact_plm(contact_homologues(), "x.a3m", "--lambda-pair-factor", "-1"),
         r"--lambda-pair-factor must be at least 0, got -1"),
    Case("contact-plm-max-iter-zero", contact_plm(contact_homologues(), "x.a3m", "--max-iter", "0"),
         r"--max-iter must be at least 1, got 0"),
    Case("contact-build-msa-weight-identity-inf", contact_build_msa(contact_homologues(), "x.a3m",
                                                                    "--weight-identity", "inf"),
         r"--weight-identity must be a finite number, got inf"),
    Case("contact-build-msa-coverage-above-one", contact_build_msa(contact_homologues(), "x.a3m",
                                                                   "--min-coverage", "1.5"),
         r"--min-coverage must be at most 1, got 1.5"),
    Case("contact-split-fraction-nan",
         lambda t, r: ["contact", "split", "--plm-dir", str(mkdir(t / "in" / "plm")), "--output",
                       str(t / "out" / "split.tsv"), "--val-fraction", "nan"],
         r"--val-fraction must be a finite number"),
    Case("contact-plm-npz-nan", contact_evaluate(apc=np.nan), r"q\.npz: apc holds NaN or infinite values"),
    Case("contact-evaluate-prediction-nan", contact_evaluate(prediction=np.full((4, 4), np.nan)),
         r"q\.npy: map holds NaN or infinite values"),
    # degenerate alignments
    Case("contact-plm-one-sequence", contact_plm(f">q\n{UBIQUITIN}\n"),
         r"x\.a3m: 1 sequence\(s\), 1 distinct, Neff 1\.0 \(below --min-neff 2\)"),
    Case("contact-plm-near-empty", contact_plm(f">q\n{UBIQUITIN}\n>s\n{UBIQUITIN[:-3]}WWW\n"),
         r"x\.a3m: 2 sequence\(s\), 2 distinct, Neff 1\.0 \(below --min-neff 2\)"),
    Case("contact-plm-length-one", contact_plm(">q\nA\n>s\nC\n"),
         r"x\.a3m: query has 1 residue\(s\); a contact map needs pairs at least 6 apart"),
    Case("contact-plm-too-long-for-memory", contact_plm(_contact_long_alignment(), "x.aln"),
         r"x\.aln: PLM couplings of 6000 columns need about \d+\.\d GiB, more than the .* available; "
         r"lower it with --history"),
    Case("contact-msa-query-all-gaps", contact_build_msa(">q\n----\n>s\nACDE\n", "x.fasta"),
         r"x\.fasta: sequence q: the query is all gaps"),
    # unreadable files
    Case("contact-plm-truncated-gz", contact_plm(_contact_truncated_gz(), "x.a3m.gz"),
         r"x\.a3m\.gz: truncated or corrupt gzip file"),
    Case("contact-build-msa-truncated-gz", contact_build_msa(_contact_truncated_gz(), "x.a3m.gz"),
         r"x\.a3m\.gz: truncated or corrupt gzip file"),
    Case("contact-build-msa-alignment-is-directory",
         lambda t, r: ["contact", "build-msa", "--alignment", str(mkdir(t / "in" / "msas")),
                       "--output", str(t / "out" / "x.aln")],
         r"msas: is a directory, not an alignment file"),
    Case("contact-plm-alignment-missing",
         lambda t, r: ["contact", "plm", "--alignments", str(t / "in" / "none.a3m"), "--output-dir", str(t / "out")],
         r"none\.a3m: alignment file not found"),
    Case("contact-build-msa-binary", contact_build_msa(b"\x00\xff\xfe" * 20, "x.a3m"), r"x\.a3m: not a text file"),
    Case("contact-stockholm-query-row-twice", contact_build_msa(_contact_stockholm_twice(), "x.sto"),
         r"x\.sto: sequence s0: row given twice in one block \(lines 2 and 3\)"),
    Case("contact-psiblast-pssm-no-header",
         lambda t, r: ["contact", "pssm", "--psiblast-pssm", str(write(t / "in" / "x.pssm", "1 M 0 0\n")),
                       "--output", str(t / "out" / "x.tsv")],
         r"x\.pssm: no 'A R N D \.\.\.' header line"),
    # structures, targets and files that do not belong together
    Case("contact-evaluate-nan-coordinate", contact_evaluate(_contact_nan_coordinate()),
         r"q\.pdb: A:2 GLY: 1 atom\(s\) with a coordinate that is not a finite number \(first: CA \[nan, 0\.0, 0\.0\]\)"),
    Case("contact-evaluate-no-structure-for-target", contact_evaluate(name="other"),
         r"q\.npz: no structure for target q among --structures"),
    Case("contact-evaluate-prediction-missing", contact_evaluate(prediction="none"),
         r"q\.npy: no prediction for this target in --predictions"),
    Case("contact-train-pssm-rows-differ", contact_train(pssm_query="GGGGG"),
         r"[qv]\.tsv: PSSM has 5 rows, the alignment's query 4 residues"),
    Case("contact-train-heads-do-not-divide", lambda t, r: [*contact_train()(t, r), "--heads", "7"],
         r"--heads 7: must divide the regional attention's \d+ channels"),
    Case("contact-train-split-without-val", contact_train(split="id\tsplit\nq\ttrain\nv\ttest\n"),
         r"split\.tsv: the split needs at least one train and one val target"),
    Case("contact-predict-no-query",
         lambda t, r: ["contact", "predict", "--model", str(write(t / "in" / "model.ckpt", "x")),
                       "--output-dir", str(t / "out")],
         r"give one of --sequence \(with --database\), --alignment, or --plm-dir with --pssm-dir"),
    Case("contact-predict-sequence-without-database",
         lambda t, r: ["contact", "predict", "--model", str(write(t / "in" / "model.ckpt", "x")), "--sequence",
                       str(write(t / "in" / "q.fasta", f">q\n{UBIQUITIN}\n")), "--output-dir", str(t / "out")],
         r"q\.fasta: --sequence needs --database"),
    Case("contact-build-msa-query-not-fasta",
         lambda t, r: ["contact", "build-msa", "--sequence", str(write(t / "in" / "q.fasta", "MQIF\n")),
                       "--database", str(write(t / "in" / "db.fasta", f">s\n{UBIQUITIN}\n")),
                       "--output", str(t / "out" / "q.aln")],
         r"q\.fasta: line 1: no FASTA record"),
    Case("contact-evaluate-plm-not-npz",
         lambda t, r: ["contact", "evaluate", "--plm-dir", str(mkdir(t / "in" / "plm")), "--structures",
                       str(write(t / "in" / "q.pdb", GOOD_PDB)), "--output-dir", str(t / "out")],
         r"no <target>\.npz files in the --plm-dir directories"),
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


def qa_import_with(state: dict[str, tuple[int, ...]] | None, method: str = "EGNN_Full",
                   output: str = "out/model.ckpt") -> Callable[[Path, Resources], list[str]]:
    """``pgml qa import-model`` of a tiny weights file holding zero tensors of the given shapes (None: not a
    torch file)."""
    def build(tmp: Path, res: Resources) -> list[str]:
        import torch

        path = mkdir(tmp / "in") / "weights.tar"
        if state is None:
            path.write_text("not torch\n")
        else:
            torch.save({"model": {k: torch.zeros(shape) for k, shape in state.items()}, "optimizer": {}}, path)
        return ["qa", "import-model", "--enqa", str(path), "--method", method, "--output", str(tmp / output)]
    return build


def qa_predict_released_with(change: Callable[[dict], object]) -> Callable[[Path, Resources], list[str]]:
    """``pgml qa predict-released`` with an imported (freshly initialised) EGNN_esto9 network and a features
    file of 8 residues changed by ``change``."""
    def build(tmp: Path, res: Resources) -> list[str]:
        import torch

        from pgml.qa.params import RELEASED_METHODS
        from pgml.qa.published import authors_name, import_enqa
        from pgml.qa.released import ReleasedEnQA

        state = {authors_name(k): v for k, v in ReleasedEnQA(RELEASED_METHODS["EGNN_esto9"]).state_dict().items()}
        torch.save({"model": state}, mkdir(tmp / "in") / "weights.tar")
        import_enqa(tmp / "in" / "weights.tar", "EGNN_esto9", tmp / "in" / "model" / "model.ckpt")
        rng = np.random.default_rng(0)
        n = 8
        arrays = {"f1d": rng.random((33, n)), "f2d": rng.random((70, n, n)), "pos": rng.random((n, 3)) * 0.1,
                  "edge_index": np.stack(np.nonzero(~np.eye(n, dtype=bool))), "cmap": np.full((n, n), 0.5)}
        change(arrays)
        np.savez(tmp / "in" / "T1.npz", **arrays)
        return ["qa", "predict-released", "--model", str(tmp / "in" / "model" / "model.ckpt"), "--features",
                str(tmp / "in" / "T1.npz"), "--output-dir", str(tmp / "out")]
    return build


def qa_released_features_with(change: Callable[[Path], object], output: str = "out/f.npz"
                              ) -> Callable[[Path, Resources], list[str]]:
    """``pgml qa released-features`` on a simulated target after ``change(target)``."""
    def build(tmp: Path, res: Resources) -> list[str]:
        target = qa_target(tmp)
        change(target)
        return ["qa", "released-features", "--model", str(target / "models" / "decoy_00.pdb"), "--alphafold-dir",
                str(target / "alphafold"), "--method", "EGNN_Full", "--output", str(tmp / output)]
    return build


def _qa_pkl_one_residue_short(result: dict) -> None:
    result["plddt"], result["distogram"]["logits"] = result["plddt"][:-1], result["distogram"]["logits"][:-1, :-1]


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
         r"decoy_00\.pdb: A:5 \w+: 1 atom\(s\) with a coordinate that is not a finite number \(first: CA "),
    Case("qa-build-nan-coordinate-in-native",
         qa_build_with(lambda t: _qa_set_field(t / "native.pdb", "N", 3, 46, 54, "inf")),
         r"native\.pdb: A:3 \w+: 1 atom\(s\) with a coordinate that is not a finite number \(first: N "),
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
         r"decoy_00\.pdb: A:7 \w+: 1 atom\(s\) with a coordinate that is not a finite number \(first: C "),
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
    Case("qa-import-not-a-torch-file", qa_import_with(None), r"weights\.tar: not a torch weights file"),
    Case("qa-import-tensor-of-another-shape", qa_import_with({"conv1d_1.weight": (16, 24, 1)}),
         r"weights\.tar: conv1d_1\.weight: tensor has shape \(16, 24, 1\), the released EGNN_Full network's "
         r"node_conv\.weight has \(16, 33, 1\)"),
    Case("qa-import-tensor-without-counterpart", qa_import_with({"EGNN_layers.gcl_9.node_mlp.0.bias": (32,)}),
         r"weights\.tar: EGNN_layers\.gcl_9\.node_mlp\.0\.bias: tensor has no counterpart in the released "
         r"EGNN_Full network"),
    Case("qa-import-tensor-missing", qa_import_with({"conv1d_1.weight": (16, 33, 1)}),
         r"weights\.tar: node_conv\.bias: the file has no conv1d_1\.bias, which this tensor of the released "
         r"EGNN_Full network needs"),
    Case("qa-import-se3-method", qa_import_with({}, method="se3_Full"),
         r"se3_Full: cannot be imported: its graph layers are the DGL-based SE\(3\)-Transformer"),
    Case("qa-import-beside-another-models-card",
         lambda t, r: qa_import_with({})(t, r) if write(t / "out" / "model.json", "{}") else [],
         r"out/model\.json: holds the card of another model; give --output a directory of its own"),
    Case("qa-predict-released-array-missing", qa_predict_released_with(lambda a: a.pop("pos")),
         r"T1\.npz: lacks the array\(s\) pos \(needs f1d, f2d, pos, edge_index, cmap\)"),
    Case("qa-predict-released-other-channel-count",
         qa_predict_released_with(lambda a: a.__setitem__("f1d", a["f1d"][:24])),
         r"T1\.npz: f1d: has shape \(24, 8\), the model expects \(33, 8\)"),
    Case("qa-predict-released-nan-contact-weight",
         qa_predict_released_with(lambda a: a["cmap"].__setitem__((2, 5), np.nan)),
         r"T1\.npz: cmap: holds values that are not finite numbers"),
    Case("qa-predict-released-residue-without-contacts",
         qa_predict_released_with(lambda a: a["cmap"].__setitem__((slice(None), 6), 0.0)),
         r"T1\.npz: cmap: 1 residue\(s\) without contact weight \(first: residue 7"),
    Case("qa-released-features-pkl-without-distogram", qa_released_features_with(_qa_pkl_without_distogram),
         r"result_model_1\.pkl: no distogram \(distogram\.logits and distogram\.bin_edges\)"),
    Case("qa-released-features-length-differs",
         qa_released_features_with(lambda t: _qa_pkl(t, _qa_pkl_one_residue_short)),
         r"result_model_1\.pkl: AlphaFold predicted 19 residues, the model .*decoy_00\.pdb has 20"),
    Case("qa-released-features-nan-plddt",
         qa_released_features_with(lambda t: _qa_pkl(t, lambda r: r["plddt"].__setitem__(3, np.nan))),
         r"result_model_1\.pkl: plddt: 1 NaN or infinite value"),
    Case("qa-released-features-output-over-the-model",
         qa_released_features_with(lambda t: None, output="in/1UBI/models/decoy_00.pdb"),
         r"decoy_00\.pdb: output file is the input"),
    Case("qa-predict-released-features-and-structures",
         lambda t, r: [*qa_predict_released_with(lambda a: None)(t, r), "--structures", str(t / "in" / "T1.npz")],
         r"give either --features FILE\.npz \.\.\. or --structures PDB \.\.\. with --alphafold-dir DIR"),
    Case("qa-import-output-over-the-weights", qa_import_with({}, output="in/weights.tar"),
         r"weights\.tar: output file is the input .*weights\.tar; choose another --output"),
]

# ==== fold ====

FOLD_RECORD_HEADER = "id\tentry\tchains\tsequence\thelix\tstrand\tn_atoms\tn_residues\tn_hbonds\thbond_source\tec\n"


def _fold_ubi_lines() -> list[str]:
    return gzip.decompress((DEMO_STRUCTURES / "1UBI.pdb.gz").read_bytes()).decode().splitlines()


def _fold_renumbered(tmp: Path) -> Path:
    """1UBI with residue 10 renumbered 5: one residue number used twice in chain A."""
    lines = [line[:22] + "   5" + line[26:] if line.startswith("ATOM") and line[22:26] == "  10" else line
             for line in _fold_ubi_lines()]
    return write(tmp / "in" / "dup.pdb", "\n".join(lines) + "\n")


def _fold_backbone_o_missing(tmp: Path) -> Path:
    """1UBI without the backbone O of every fourth residue: mkdssp reports too few residues."""
    lines = [ln for ln in _fold_ubi_lines()
             if not (ln.startswith("ATOM") and ln[12:16] == " O  " and int(ln[22:26]) % 4 == 0)]
    return write(tmp / "in" / "no_o.pdb", "\n".join(lines) + "\n")


def fold_build(structures: Callable[[Path], list[Path | str]] | None = None, *extra: str,
               manifest: Callable[[Path], Path] | None = None, records: str = "out/records.tsv",
               output: str = "out/graphs.pt") -> Callable[[Path, Resources], list[str]]:
    """build-graphs on a manifest listing ``structures(tmp)`` (or the manifest ``manifest(tmp)`` makes)."""
    def build(tmp: Path, res: Resources) -> list[str]:
        if manifest is not None:
            path = manifest(tmp)
        else:
            listed = structures(tmp) if structures else [DEMO_STRUCTURES / "1UBI.pdb.gz"]
            path = write(tmp / "in" / "manifest.txt", "".join(f"{p}\n" for p in listed))
        return ["fold", "build-graphs", "--manifest", str(path), "--output", str(tmp / output),
                "--records", str(tmp / records), *[e.replace("{tmp}", str(tmp)) for e in extra]]
    return build


def fold_split(records: str | None = FOLD_RECORD_HEADER + "ubi\tubi\tA\tMQIFVKTLTG\t0.3\t0.3\t70\t10\t5\tmkdssp\t\n",
               *extra: str, labels: str | None = None, audit: str = "out/audit.txt",
               output: str = "out/samples.tsv") -> Callable[[Path, Resources], list[str]]:
    """split on one records file; ``labels`` (when given) is written as in/labels.tsv."""
    def build(tmp: Path, res: Resources) -> list[str]:
        rec = tmp / "in" / "records.tsv"
        if records is not None:
            write(rec, records)
        if labels is not None:
            write(tmp / "in" / "labels.tsv", labels)
        return ["fold", "split", "--records", str(rec), "--output", str(tmp / output), "--audit", str(tmp / audit),
                *[e.replace("{tmp}", str(tmp)) for e in extra]]
    return build


def _fold_graphs(res: Resources) -> tuple[Path, list[str]]:
    """1UBI cut into 20-residue fragments (3 samples), built once per session."""
    path = res.root / "fold" / "ubi.pt"
    if not path.is_file():
        import torch

        from pgml.fold.graph import structure_samples

        samples = structure_samples(DEMO_STRUCTURES / "1UBI.pdb.gz", unit="fragment", fragment_length=20)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(samples, path)
    return path, ["1UBI_A0", "1UBI_A1", "1UBI_A2"]


def fold_train(split: Callable[[list[str]], str], *extra: str, output: str = "out",
               graphs: Callable[[Path, Resources], Path] | None = None) -> Callable[[Path, Resources], list[str]]:
    """train on the 1UBI fragments with the split table ``split(ids)``."""
    def build(tmp: Path, res: Resources) -> list[str]:
        path, ids = _fold_graphs(res)
        split_path = write(tmp / "in" / "split.tsv", split(ids))
        return ["fold", "train", "--graphs", str(graphs(tmp, res) if graphs else path), "--split", str(split_path),
                "--output-dir", str(tmp / output), "--widths", "8", "--radii", "3", "--blocks", "1", "--epochs", "1",
                *extra]
    return build


def _fold_split_table(labels: tuple[str, str, str] = ("a", "b", "a"), extra_id: str | None = None):
    def table(ids: list[str]) -> str:
        rows = [f"{i}\t1UBI\t{lab}\t{s}\t0.2\t0.3\tMQIFVKTLTG" for i, lab, s in zip(ids, labels, ("train", "val", "test"),
                                                                                    strict=True)]
        if extra_id:
            rows.append(f"{extra_id}\t1UBI\ta\ttrain\t0.2\t0.3\tMQIFVKTLTG")
        return "id\tentry\tlabel\tsplit\thelix\tstrand\tsequence\n" + "\n".join(rows) + "\n"
    return table


def _fold_model(res: Resources, card: bool = True) -> Path:
    """An untrained tiny IEConv checkpoint (classes a, b; 20-residue fragments) with its model card."""
    path = res.root / "fold_model" / ("model.ckpt" if card else "nocard.ckpt")
    if not path.is_file():
        import torch

        from pgml.fold.module import FoldModule
        from pgml.fold.params import GraphConfig, ModelConfig, TrainConfig
        from pgml.modelcard import ModelCard, write_card

        graph = {**GraphConfig(unit="fragment", fragment_length=20).__dict__}
        model = ModelConfig(widths=(8,), radii=(3.0,), blocks=1).__dict__
        module = FoldModule(2, {**model, "widths": [8], "radii": [3.0]}, TrainConfig().__dict__,
                            classes=["a", "b"], class_names={"a": "A", "b": "B"}, graph=graph)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"hyper_parameters": dict(module.hparams), "state_dict": module.state_dict()}, path)
        if card:
            write_card(path, ModelCard(chain="fold", inputs={**graph, "classes": ["a", "b"]}))
    return path


def fold_predict(*structures: Callable[[Path], Path | str], model: Callable[[Path, Resources], Path] | None = None,
                 extra: tuple[str, ...] = (), output: str = "out") -> Callable[[Path, Resources], list[str]]:
    def build(tmp: Path, res: Resources) -> list[str]:
        files = [str(s(tmp)) for s in structures] or [str(DEMO_STRUCTURES / "1UBI.pdb.gz")]
        return ["fold", "predict", "--model", str(model(tmp, res) if model else _fold_model(res)),
                "--output-dir", str(tmp / output), *extra, *files]
    return build


FOLD_CASES: list[Case] = [
    # ---- build-graphs: outputs never over an input
    Case("fold-build-records-over-manifest", fold_build(manifest=lambda t: write(t / "in" / "m.txt", "x.pdb\n"),
                                                        records="in/m.txt"),
         r"m\.txt: output file is the input .*choose another --records"),
    Case("fold-build-output-same-as-records", fold_build(records="out/g.pt", output="out/g.pt"),
         r"g\.pt: --records and --output are the same path"),
    # ---- build-graphs: the manifest
    Case("fold-build-manifest-missing", fold_build(manifest=lambda t: t / "in" / "none.txt"),
         r"none\.txt: manifest not found"),
    Case("fold-build-manifest-is-directory", fold_build(manifest=lambda t: mkdir(t / "in" / "structures")),
         r"structures: is a directory; give a list file"),
    Case("fold-build-manifest-empty", fold_build(manifest=lambda t: write(t / "in" / "m.txt", "\n# nothing\n")),
         r"m\.txt: the manifest lists no structure"),
    # ---- build-graphs: the structures
    Case("fold-build-structure-missing", fold_build(lambda t: [t / "in" / "gone.pdb"]), r"gone\.pdb: file not found"),
    Case("fold-build-structure-empty", fold_build(lambda t: [write(t / "in" / "e.pdb", "")]), r"e\.pdb: empty file"),
    Case("fold-build-structure-truncated-gz",
         fold_build(lambda t: [write(t / "in" / "t.pdb.gz", (DEMO_STRUCTURES / "1UBI.pdb.gz").read_bytes()[:400])]),
         r"t\.pdb\.gz: truncated or corrupt gzip"),
    Case("fold-build-structure-is-directory", fold_build(lambda t: [mkdir(t / "in" / "d")]),
         r"d: is a directory, not a structure file"),
    Case("fold-build-residue-numbered-twice", fold_build(lambda t: [_fold_renumbered(t)]),
         r"dup\.pdb: A:5: residue number used twice in one chain \(VAL, then GLY\)"),
    Case("fold-build-mkdssp-rejects", fold_build(lambda t: [_fold_backbone_o_missing(t)], "--hbond-source", "mkdssp"),
         r"no_o\.pdb: mkdssp cannot assign H-bonds \(mkdssp reported \d+ residues .*--hbond-source auto or pydssp"),
    Case("fold-build-fragment-length-too-small", fold_build(None, "--unit", "fragment", "--fragment-length", "3"),
         r"fragment_length must be >= 5"),
    Case("fold-build-no-fragment-long-enough", fold_build(None, "--unit", "fragment", "--fragment-length", "500"),
         r"manifest\.txt: no samples: .*500-residue fragments"),
    # ---- split
    Case("fold-split-audit-over-label-table",
         fold_split(FOLD_RECORD_HEADER, "--labels", "table", "--label-table", "{tmp}/in/labels.tsv",
                    labels="ubi\talpha\n", audit="in/labels.tsv"),
         r"labels\.tsv: output file is the input .*choose another --audit"),
    Case("fold-split-output-over-records", fold_split(output="in/records.tsv"),
         r"records\.tsv: output file is the input .*choose another --output"),
    Case("fold-split-records-missing", fold_split(None), r"records\.tsv: file not found"),
    Case("fold-split-records-missing-columns", fold_split("id\tentry\nubi\tubi\n"),
         r"records\.tsv: header: missing column\(s\) chains"),
    Case("fold-split-records-empty", fold_split(FOLD_RECORD_HEADER), r"no samples in .*records\.tsv"),
    Case("fold-split-table-labels-without-table", fold_split(FOLD_RECORD_HEADER + "ubi\tubi\tA\tMKV\t0.3\t0.3\t7\t3\t1"
                                                             "\tmkdssp\t\n", "--labels", "table"),
         r"labels 'table' needs a label table"),
    Case("fold-split-label-table-duplicate-id",
         fold_split(FOLD_RECORD_HEADER + "ubi\tubi\tA\tMKV\t0.3\t0.3\t7\t3\t1\tmkdssp\t\n", "--labels", "table", "--label-table", "{tmp}/in/labels.tsv",
                    labels="ubi\talpha\nubi\tbeta\n"),
         r"labels\.tsv: line 2: id 'ubi' listed twice"),
    Case("fold-split-label-table-names-no-sample",
         fold_split(FOLD_RECORD_HEADER + "ubi\tubi\tA\tMKV\t0.3\t0.3\t7\t3\t1\tmkdssp\t\n", "--labels", "table",
                    "--label-table", "{tmp}/in/labels.tsv", labels="other\talpha\n"),
         r"labels\.tsv: no sample id of the records has a label \(ids look like 'ubi'\)"),
    Case("fold-split-val-fraction-nan", fold_split(FOLD_RECORD_HEADER, "--val-fraction", "nan"),
         r"val_fraction must be a finite number, got nan \(check the split settings\)"),
    Case("fold-split-nothing-left-to-train", fold_split(FOLD_RECORD_HEADER, "--val-fraction", "0.5",
                                                        "--test-fraction", "0.5"),
         r"val_fraction \+ test_fraction must be below 1"),
    Case("fold-split-list-method-without-list", fold_split(FOLD_RECORD_HEADER + "ubi\tubi\tA\tMKV\t0.3\t0.3\t7\t3\t1"
                                                            "\tmkdssp\t\n", "--method", "list"),
         r"split method 'list' needs a split list"),
    # ---- train
    Case("fold-train-output-dir-holds-split", fold_train(_fold_split_table(), output="in"),
         r"in: .*(holds|contains) .*input"),
    Case("fold-train-graphs-not-a-graph-file",
         fold_train(_fold_split_table(), graphs=lambda t, r: write(t / "in" / "g.pt", "not a graph file\n")),
         r"g\.pt: not a fold graph file"),
    Case("fold-train-split-id-without-graph", fold_train(_fold_split_table(extra_id="2ABC_A0")),
         r"split\.tsv: 1 ids of the split have no graph: 2ABC_A0"),
    Case("fold-train-one-class", fold_train(_fold_split_table(("a", "a", "a"))),
         r"split\.tsv: every sample has the label 'a'; a classifier needs two classes"),
    Case("fold-train-lr-nan", fold_train(_fold_split_table(), "--lr", "nan"),
         r"lr must be a finite number, got nan \(check the train settings\)"),
    Case("fold-train-widths-radii-mismatch", fold_train(_fold_split_table(), "--radii", "3", "6"),
         r"widths and radii need the same, nonzero length"),
    Case("fold-train-dropout-one", fold_train(_fold_split_table(), "--atom-dropout", "1"),
         r"atom_dropout must be in \[0\.0, 1\.0\)"),
    # ---- evaluate
    Case("fold-evaluate-run-without-model",
         lambda t, r: ["fold", "evaluate", "--graphs", str(_fold_graphs(r)[0]), "--split",
                       str(write(t / "in" / "split.tsv", _fold_split_table()(_fold_graphs(r)[1]))),
                       "--runs", str(mkdir(t / "in" / "run0")), "--output-dir", str(t / "out")],
         r"run0: not a finished 'pgml fold train' run: no run\.json"),
    # ---- predict
    Case("fold-predict-not-a-checkpoint", fold_predict(model=lambda t, r: write(t / "in" / "m.ckpt", "not a model\n")),
         r"m\.ckpt: not a fold model checkpoint"),
    Case("fold-predict-bfactor-checkpoint", fold_predict(model=lambda t, r: r.model),
         r"model\.ckpt: not a fold model checkpoint \(no IEConv hyperparameters\)"),
    Case("fold-predict-checkpoint-without-card", fold_predict(model=lambda t, r: _fold_model(r, card=False)),
         r"nocard\.ckpt: no model card model\.json beside the model"),
    Case("fold-predict-unit-differs", fold_predict(extra=("--unit", "entry")),
         r"model\.ckpt: unit: the model was trained with unit='fragment', this input gives 'entry'"),
    Case("fold-predict-output-dir-holds-structure",
         fold_predict(lambda t: write(t / "in" / "s.pdb", gzip.decompress((DEMO_STRUCTURES / "1UBI.pdb.gz")
                                                                          .read_bytes()).decode()), output="in"),
         r"in: .*(holds|contains) .*input"),
    Case("fold-predict-structure-missing", fold_predict(lambda t: t / "in" / "gone.pdb"), r"gone\.pdb: file not found"),
    Case("fold-predict-shorter-than-a-fragment",
         fold_predict(lambda t: write(t / "in" / "short.pdb", pdb_text(full_atom_lines(6)))),
         r"short\.pdb: no fragment of 20 residues or more to classify"),
    Case("fold-predict-batch-size-zero", fold_predict(extra=("--batch-size", "0")), r"batch_size must be >= 1"),
]

# ==== fetch ====


def _fetch_list(step: str, text: str, *extra: str) -> Callable[[Path, Resources], list[str]]:
    """``pgml fetch <step> --id-list ids.txt`` with ``text`` as the list (refused before any request)."""
    return lambda t, r: ["fetch", step, "--id-list", str(write(t / "in" / "ids.txt", text)),
                         "--output-dir", str(t / "out"), *extra]


FETCH_CASES: list[Case] = [
    Case("fetch-pdb-bad-id-in-list", _fetch_list("pdb", "1UBI\nxyz\n"), r"ids\.txt: line 2: 'xyz' is not a PDB id"),
    Case("fetch-pdb-empty-list", _fetch_list("pdb", "# nothing\n"), r"ids\.txt: lists no identifiers"),
    Case("fetch-pdb-no-ids", lambda t, r: ["fetch", "pdb", "--output-dir", str(t / "out")],
         r"give identifiers with --ids or list files with --id-list"),
    Case("fetch-scope-bad-sid", _fetch_list("scope", "1ubi\n"), r"line 1: '1ubi' is not a SCOPe domain sid"),
    Case("fetch-base-url-not-http", _fetch_list("pdb", "1UBI\n", "--base-url", "ftp://mirror/pdb"),
         r"--base-url ftp://mirror/pdb: not an http\(s\) URL"),
    Case("fetch-base-url-unknown-mirror", _fetch_list("pdb", "1UBI\n", "--base-url", "pdbe=https://x"),
         r"no mirror 'pdbe'"),
    Case("fetch-weights-unknown-name", lambda t, r: ["fetch", "weights", "--ids", "deepgrn:CTCF_single",
                                                    "--output-dir", str(t / "out")],
         r"'deepgrn:CTCF_single' is no published model; known: deepgrn:EGR1_pair"),
    Case("fetch-annotation-gtf-without-transcripts",
         lambda t, r: ["fetch", "annotation", "--gtf", str(write(t / "in" / "g.gtf", "chr1\tx\texon\t1\t9\t.\t+\t.\tx\n")),
                       "--output-dir", str(t / "out")], r"g\.gtf: no transcript records"),
]

# ==== report ====


def _summary(chain: str, table: str) -> Callable[[Path, Resources], list[str]]:
    """``pgml report summary --metrics CHAIN=metrics.tsv`` with ``table`` as the chain's metrics table."""
    return lambda t, r: ["report", "summary", "--metrics", f"{chain}={write(t / 'in' / 'metrics.tsv', table)}",
                         "--output", str(t / "out" / "summary.rst")]


REPORT_CASES: list[Case] = [
    Case("report-summary-unknown-chain", _summary("fols", "method\taccuracy\nieconv\t0.5\n"),
         r"metrics\.tsv: unknown chain 'fols'"),
    Case("report-summary-missing-metric-column", _summary("bfactor", "method\tmae_mean\nmeta\t0.5\n"),
         r"metrics\.tsv: header: missing column\(s\) cc_mean"),
    Case("report-summary-not-chain-equals-file", lambda t, r: ["report", "summary", "--metrics", "bfactor",
                                                                "--output", str(t / "out" / "summary.rst")],
         r"--metrics 'bfactor': expected CHAIN=FILE"),
]

# ==== end of the chain blocks ====

CASES += TFBS_CASES + CONTACT_CASES + QA_CASES + FOLD_CASES + FETCH_CASES + REPORT_CASES


# ---------------------------------------------------------------- the workflow's config check
# `snakemake -n` with the user's --configfile: workflow/rules/common.smk (schema, non-finite numbers)
# and each chain's parse-time checks stop before any job runs (exit 1, snakemake's status).

ROOT = Path(__file__).resolve().parents[1]


def config_with(text: str) -> Callable[[Path, Resources], list[str]]:
    def build(tmp: Path, res: Resources) -> list[str]:
        path = write(tmp / "in" / "config.yaml", text.replace("{tmp}", str(tmp)).replace("{demo}", str(DEMO_STRUCTURES)))
        return ["snakemake", "all", "-n", "--cores", "1", "--configfile", str(path)]
    return build


CONFIG_CASES: list[Case] = [
    Case("config-unknown-chain", config_with("chains: [bfactr]\n"), r"chains\.0 = 'bfactr': must be one of bfactor",
         status=1),
    Case("config-seed-not-an-integer", config_with("chains: [grn]\nseed: abc\n"), r"seed = 'abc': .*integer",
         status=1),
    Case("config-unknown-top-level-key", config_with("chains: [grn]\nsede: 1\n"),
         r"\(top level\): unknown key\(s\) sede; allowed: .*seed", status=1),
    Case("config-unknown-key-in-section", config_with("chains: [grn]\ngrn:\n  gnett: {}\n"),
         r"grn: unknown key\(s\) gnett; allowed: .*gnet", status=1),
    Case("config-nan-value", config_with("chains: [grn]\ngrn:\n  gnet:\n    cor_cutoff: .nan\n"),
         r"grn\.gnet\.cor_cutoff = nan: not a finite number", status=1),
    Case("config-infinite-radius", config_with("chains: [bfactor]\nbfactor:\n  neighbour_radius: .inf\n"),
         r"bfactor\.neighbour_radius = inf: not a finite number", status=1),
    Case("config-value-above-maximum", config_with("chains: [grn]\ngrn:\n  gnet:\n    cor_cutoff: 1.5\n"),
         r"grn\.gnet\.cor_cutoff = 1\.5: .*maximum", status=1),
    Case("config-zero-runs", config_with("chains: [bfactor]\nbfactor:\n  n_runs: 0\n"),
         r"bfactor\.n_runs = 0: .*minimum", status=1),
    Case("config-unknown-target", config_with("chains: [bfactor]\nbfactor:\n  target: zscor\n"),
         r"bfactor\.target = 'zscor': must be one of raw, zscore", status=1),
    Case("config-max-edges-zero", config_with("chains: [grn]\ngrn:\n  gnet:\n    max_edges: 0\n"),
         r"grn\.gnet\.max_edges = 0: .*minimum", status=1),
    Case("config-bfactor-structures-missing",
         config_with("chains: [bfactor]\nbfactor:\n  structures: ['{tmp}/nope']\n"),
         r"bfactor\.structures: not found: .*/nope", status=1),
    Case("config-bfactor-list-split-without-list",
         config_with("chains: [bfactor]\nbfactor:\n  structures: ['{demo}']\n  split: {method: list}\n"),
         r"bfactor\.split\.list: a list split needs an existing list file", status=1),
    Case("config-grn-expression-missing",
         config_with("chains: [grn]\ngrn:\n  input: {expression: '{tmp}/e.tsv', regulators: '{tmp}/r.txt'}\n"),
         r"grn\.input\.expression: not found: .*/e\.tsv", status=1),
    Case("config-not-a-mapping", config_with("[1, 2]\n"),
         r"Config file must be given as JSON or YAML with keys at top level", status=1),
    Case("config-not-yaml", config_with("chains: [grn]\ngrn: {gnet: {cor_cutoff: 0.9}\n"),
         r"Config file is not valid JSON or YAML", status=1),
]

CASES += CONFIG_CASES

#: the first word of every case id: the chain (or the workflow's config) it tests
CHAIN_PREFIXES = ("bfactor", "grn", "tfbs", "contact", "qa", "fold", "config", "fetch", "report")


def _contact_evaluate_long_query(tmp: Path) -> list[str]:
    plm = mkdir(tmp / "in" / "plm")
    np.savez(plm / "q.npz", apc=np.zeros((9, 9), dtype=np.float32), query="WWWWWWWWW", neff=1.0)
    structure = write(tmp / "in" / "q.pdb", GOOD_PDB)
    return ["contact", "evaluate", "--plm-dir", str(plm), "--structures", str(structure),
            "--output-dir", str(tmp / "out")]


def _snapshot(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*") if p.is_file()}


def _temporaries(root: Path) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.name.startswith(".") and ".tmp" in p.name]


def _run_snakemake(argv: list[str]) -> tuple[int, str]:
    from helpers import snakemake_executable, venv_env

    result = subprocess.run([snakemake_executable(), *argv[1:]], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, env=venv_env())
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, resources: Resources, capsys: pytest.CaptureFixture,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    argv = case.build(tmp_path, resources)
    if case.chdir:
        monkeypatch.chdir(tmp_path)
    for name, value in case.env:
        monkeypatch.setenv(name, value)
    before = _snapshot(tmp_path)
    if argv[0] == "snakemake":
        status, err = _run_snakemake(argv)
        assert status == case.status, err
        assert any(re.search(case.message, line) for line in err.splitlines()), err
        assert "Traceback" not in err, err
        assert _snapshot(tmp_path) == before, "a file was written"
        return
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


def _count(prefix: str) -> int:
    return sum(c.id.startswith(f"{prefix}-") for c in CASES)


def test_table_size() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if i.split("-")[0] not in CHAIN_PREFIXES] == []
    assert all(c.id.startswith(("tfbs-", "contact-", "qa-", "fold-")[k])
               for k, block in enumerate((TFBS_CASES, CONTACT_CASES, QA_CASES, FOLD_CASES)) for c in block)
    assert _count("bfactor") >= 20 and _count("grn") >= 20 and _count("config") >= 10


def test_table_covers_every_chain() -> None:
    """At least 150 cases in all and at least 20 for each of the four newer chains."""
    assert len(CASES) >= 150
    for chain in ("tfbs", "contact", "qa", "fold"):
        assert _count(chain) >= 20, chain


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
