"""bfactor data steps: node features, shard, select, build-graphs, split (demo + hand-made files)."""

from __future__ import annotations

import gzip
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import SHARED_STRUCTURES, backbone, pdb_atom

from pgml.bfactor.features import (
    ELEMENTS,
    LOCANTS,
    NEIGHBOUR_NORM,
    NODE_FEATURE_DIM,
    locant_index,
    node_features,
)
from pgml.bfactor.graphs import build_graphs, load_graphs, structure_to_graph
from pgml.bfactor.params import SplitConfig
from pgml.bfactor.select import SELECTION_COLUMNS, select_structures
from pgml.bfactor.split import split_dataset
from pgml.errors import InputError
from pgml.split import split_sizes
from pgml.structure.collection import collect_structures, shard_structures
from pgml.structure.io import read_structure
from pgml.structure.residues import STANDARD_RESIDUES

SMALL = ("1EJG.pdb.gz", "1UBI.pdb.gz", "3JQH.cif.gz")  # kept at 2.5 Å, < 700 atoms each


# ---------------------------------------------------------------- features
@pytest.mark.parametrize(("name", "col"), [("N", 0), ("CA", 1), ("C", 2), ("O", 3), ("CB", 4), ("OG1", 5),
                                           ("SD", 6), ("NE2", 7), ("NZ", 8), ("OH", 9), ("CH2", 9),
                                           ("NH1", 9), ("OXT", 10)])
def test_locant(name, col):
    assert locant_index(name) == col


def test_node_features_hand_made(write_pdb):
    lines = backbone("GLY", "A", 1, 0.0) + [
        pdb_atom(5, "OXT", "GLY", "A", 1, (3.3, -0.4, 0.0), element="O"),
        pdb_atom(6, "SG", "CYS", "A", 2, (40.0, 0.0, 0.0)),
    ]
    atoms = read_structure(write_pdb(lines)).atoms
    x = node_features(atoms, radius=5.0)
    assert x.shape == (6, NODE_FEATURE_DIM) == (6, 5 + 11 + 1 + 20) and x.dtype == np.float32
    el, loc = x[:, :5], x[:, 5:16]
    assert el.argmax(1).tolist() == [1, 0, 0, 2, 2, 3]  # N C C O O S
    assert loc.argmax(1).tolist() == [0, 1, 2, 3, 10, 5]  # N CA C O OXT(other) SG(gamma)
    np.testing.assert_allclose(x[:, 16], np.array([4, 4, 4, 4, 4, 0]) / NEIGHBOUR_NORM)
    res = x[:, 17:]
    assert res.sum(1).tolist() == [1] * 6
    assert res.argmax(1).tolist() == [STANDARD_RESIDUES.index("GLY")] * 5 + [STANDARD_RESIDUES.index("CYS")]
    assert len(ELEMENTS) + 1 + len(LOCANTS) + 1 + 1 + 20 == NODE_FEATURE_DIM


# ---------------------------------------------------------------- shard
def test_shard_round_robin(tmp_path, demo_dir):
    listing = tmp_path / "list.txt"
    listing.write_text(f"# two files\n{demo_dir / '1UBI.pdb.gz'}\n\n{demo_dir / '1EJG.pdb.gz'}\n")
    shard_structures([demo_dir, listing], n_shards=3, output_dir=tmp_path / "s")
    shards = [(tmp_path / "s" / f"shard_{i}.txt").read_text().split() for i in range(3)]
    every = sorted(str(p.resolve()) for p in demo_dir.glob("*.gz"))
    assert len(every) == 16
    assert sorted(sum(shards, [])) == every  # each file once, duplicates from the list collapsed
    assert shards[0] == every[0::3] and shards[2] == every[2::3]
    shard_structures([listing], n_shards=4, output_dir=tmp_path / "t")
    sizes = [len((tmp_path / "t" / f"shard_{i}.txt").read_text().split()) for i in range(4)]
    assert sizes == [1, 1, 0, 0]


def test_shard_bad_inputs(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        shard_structures([tmp_path / "missing"], 2, tmp_path)
    listing = tmp_path / "list.txt"
    listing.write_text("nothere.pdb\n")
    with pytest.raises(InputError, match=r"list.txt: line 1: listed path nothere.pdb does not exist"):
        shard_structures([listing], 2, tmp_path)
    with pytest.raises(InputError, match="n_shards"):
        shard_structures([tmp_path], 0, tmp_path)
    (tmp_path / "notes.md").write_text("x")
    with pytest.raises(InputError, match="no structure files"):
        shard_structures([tmp_path], 2, tmp_path / "out")


# ---------------------------------------------------------------- select
def _hand_files(tmp_path: Path, write_pdb) -> dict[str, Path]:
    lines = backbone("GLY", "A", 1, 0.0) + backbone("ALA", "A", 2, 3.8, serial=5)
    zero = [line[:60] + f"{0.0:6.2f}" + line[66:] for line in lines]
    files = {
        "zero": write_pdb(zero, name="zero.pdb"),
        "nores": write_pdb(lines, name="nores.pdb", header="EXPDTA    X-RAY DIFFRACTION"),
        "good": write_pdb(lines, name="good.pdb.gz"),
        "catrace": write_pdb([pdb_atom(k + 1, "CA", "GLY", "A", k + 1, (3.8 * k, 0.0, 0.0), b=10.0 + k)
                              for k in range(5)], name="catrace.pdb"),
        "empty": tmp_path / "empty.pdb",
        "cut": tmp_path / "cut.pdb",
    }
    files["empty"].write_text("")
    files["cut"].write_text(lines[0] + "\n" + lines[1][:40] + "\n")
    return files


def test_select_reasons(tmp_path, demo_dir, write_pdb):
    files = _hand_files(tmp_path, write_pdb)
    demo = [demo_dir / n for n in ("1LCD.pdb.gz", "3P3W.pdb.gz", "1EJG.pdb.gz")]
    manifest = tmp_path / "shard_0.txt"
    manifest.write_text("\n".join(str(p) for p in [*demo, *files.values()]) + "\n")
    out = tmp_path / "sel.tsv"
    select_structures(manifest, out, max_resolution=2.5, methods=("X-RAY DIFFRACTION",))
    table = pd.read_csv(out, sep="\t", dtype=str, keep_default_na=False)
    assert tuple(table.columns) == SELECTION_COLUMNS
    by_file = {Path(f).name: r for f, r in zip(table["file"], table.to_dict("records"), strict=True)}
    assert by_file["1LCD.pdb.gz"]["reason"] == "method SOLUTION NMR not accepted"
    assert by_file["3P3W.pdb.gz"]["reason"] == "resolution 4.20 >= 2.50"
    assert by_file["1EJG.pdb.gz"]["status"] == "kept" and by_file["1EJG.pdb.gz"]["resolution"] == "0.54"
    assert by_file["1EJG.pdb.gz"]["n_atoms"] == str(len(read_structure(demo[2]).atoms))
    assert by_file["zero.pdb"]["reason"] == "B-factors constant (all 0.00)"
    assert by_file["nores.pdb"]["reason"] == "resolution missing"
    assert by_file["good.pdb.gz"]["status"] == "kept"
    assert by_file["catrace.pdb"]["reason"] == "CA-only or incomplete model (1.00 heavy atoms per residue)"
    assert by_file["empty.pdb"]["reason"] == "unreadable: empty file"
    assert by_file["cut.pdb"]["reason"].startswith("unreadable: unparseable file")
    assert (table["status"] == "kept").sum() == 2
    # a looser cutoff and NMR accepted: 3P3W kept, 1LCD then fails on resolution
    select_structures(manifest, out, max_resolution=5.0, methods=("X-RAY DIFFRACTION", "solution nmr"))
    table = pd.read_csv(out, sep="\t", dtype=str, keep_default_na=False).set_index("id")
    assert table.loc["3P3W", "status"] == "kept"
    assert table.loc["1LCD", "reason"] == "resolution missing"


def test_select_empty_manifest(tmp_path):
    manifest = tmp_path / "shard_3.txt"
    manifest.write_text("")
    select_structures(manifest, tmp_path / "sel.tsv")
    assert (tmp_path / "sel.tsv").read_text().strip().split("\t") == list(SELECTION_COLUMNS)


# ---------------------------------------------------------------- graphs
def _selection(tmp_path: Path, demo_dir: Path, names=SMALL) -> Path:
    manifest = tmp_path / "m.txt"
    manifest.write_text("\n".join(str(demo_dir / n) for n in names) + "\n")
    sel = tmp_path / "sel.tsv"
    select_structures(manifest, sel)
    return sel


def test_structure_to_graph(demo_dir):
    st = read_structure(demo_dir / "1EJG.pdb.gz")
    raw = structure_to_graph(st, target="raw")
    z = structure_to_graph(st, target="zscore")
    n = len(st.atoms)
    assert raw.num_nodes == n == raw.n_atoms and raw.x.shape == (n, NODE_FEATURE_DIM)
    assert raw.structure_id == "1EJG"
    torch.testing.assert_close(raw.y, torch.as_tensor(st.atoms.bfactor, dtype=torch.float32))
    torch.testing.assert_close(z.y_raw, raw.y)
    assert raw.b_mean == pytest.approx(st.atoms.bfactor.mean())
    assert raw.b_std == pytest.approx(st.atoms.bfactor.std())
    assert float(z.y.mean()) == pytest.approx(0.0, abs=1e-5)
    assert float(z.y.std(unbiased=False)) == pytest.approx(1.0, abs=1e-5)
    torch.testing.assert_close(z.y * z.b_std + z.b_mean, raw.y, rtol=1e-5, atol=1e-4)
    assert raw.edge_attr.shape[1] == 5 and raw.edge_index.shape[1] == raw.edge_attr.shape[0]
    assert raw.edge_index.max() < n


def test_zscore_of_constant_bfactors(write_pdb):
    lines = [line[:60] + f"{7.0:6.2f}" + line[66:] for line in backbone("GLY", "A", 1, 0.0)]
    st = read_structure(write_pdb(lines))
    with pytest.raises(InputError, match=r"B-factors constant \(all 7.00\)"):
        structure_to_graph(st, target="zscore")


def test_build_and_load_graphs(tmp_path, demo_dir):
    sel = _selection(tmp_path, demo_dir)
    out = tmp_path / "graphs" / "shard_0.pt"
    build_graphs(sel, out, target="zscore", radius=5.0)
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temporary left
    payload = torch.load(out, weights_only=False)
    assert payload["target"] == "zscore" and payload["radius"] == 5.0
    assert payload["node_feature_dim"] == NODE_FEATURE_DIM and payload["edge_feature_dim"] == 5
    graphs, meta = load_graphs([out])
    assert [g.structure_id for g in graphs] == ["1EJG", "1UBI", "3JQH"]
    assert meta["n_graphs"] == 3
    for g in graphs:
        assert g.x.shape == (g.n_atoms, NODE_FEATURE_DIM) and g.y.shape == (g.n_atoms,)
    # a second shard built with another radius cannot be mixed in
    other = tmp_path / "graphs" / "shard_1.pt"
    build_graphs(sel, other, target="zscore", radius=6.0)
    with pytest.raises(InputError, match="differ"):
        load_graphs([out, other])
    bad = tmp_path / "bad.pt"
    bad.write_text("not torch")
    with pytest.raises(InputError, match="bad.pt: not a graph file"):
        load_graphs([bad])


def test_build_graphs_empty_shard(tmp_path):
    sel = tmp_path / "sel.tsv"
    sel.write_text("\t".join(SELECTION_COLUMNS) + "\n")
    build_graphs(sel, tmp_path / "g.pt", target="raw")
    graphs, meta = load_graphs(tmp_path / "g.pt")
    assert graphs == [] and meta["target"] == "raw"


# ---------------------------------------------------------------- split
def _fake_selection(path: Path, n_kept: int, n_dropped: int = 2, start: int = 0) -> Path:
    rng = np.random.default_rng(start)
    seqs = ["A:" + "".join(rng.choice(list("ACDEFGHIKLMNPQRSTVWY"), 60)) for _ in range(n_kept)]
    rows = [(f"P{k:03d}", f"/x/P{k:03d}.pdb", "X-RAY DIFFRACTION", "2.00", "100", "kept", ".", seq)
            for k, seq in zip(range(start, start + n_kept), seqs, strict=True)]
    rows += [(f"D{k:03d}", f"/x/D{k:03d}.pdb", "SOLUTION NMR", "NA", "100", "dropped",
              "method SOLUTION NMR not accepted", "NA") for k in range(start, start + n_dropped)]
    path.write_text("\t".join(SELECTION_COLUMNS) + "\n" + "".join("\t".join(r) + "\n" for r in rows))
    return path


def _random(val: float, test: float) -> SplitConfig:
    return SplitConfig(method="random", val_fraction=val, test_fraction=test)


@pytest.mark.parametrize(("n", "expected"), [(1, (1, 0, 0)), (2, (2, 0, 0)), (3, (1, 1, 1)),
                                             (10, (6, 2, 2)), (100, (70, 15, 15))])
def test_split_sizes(n, expected):
    assert split_sizes(n, 0.15, 0.15) == expected


def test_split_deterministic(tmp_path):
    sels = [_fake_selection(tmp_path / "a.tsv", 20), _fake_selection(tmp_path / "b.tsv", 20, start=20)]
    out, report = tmp_path / "split.tsv", tmp_path / "report.tsv"
    split_dataset(sels, out, report, config=_random(0.15, 0.15), seed=1)
    first = out.read_text()
    split_dataset(sels[::-1], out, report, config=_random(0.15, 0.15), seed=1)
    assert out.read_text() == first  # shard order does not matter
    table = pd.read_csv(out, sep="\t")
    assert list(table.columns) == ["id", "file", "split", "group", "train_homologue"]
    assert set(table.loc[table["split"] != "train", "train_homologue"]) == {"no"}  # unrelated sequences
    assert table["split"].value_counts().to_dict() == {"train": 28, "val": 6, "test": 6}
    assert table["id"].is_unique and not table["id"].str.startswith("D").any()
    assert len(pd.read_csv(report, sep="\t")) == 44  # kept and dropped rows of both shards
    split_dataset(sels, out, report, config=_random(0.15, 0.15), seed=2)
    assert out.read_text() != first


def test_split_small_and_empty(tmp_path):
    out, report = tmp_path / "split.tsv", tmp_path / "report.tsv"
    split_dataset([_fake_selection(tmp_path / "a.tsv", 3)], out, report, config=_random(0.01, 0.01), seed=0)
    assert sorted(pd.read_csv(out, sep="\t")["split"]) == ["test", "train", "val"]
    with pytest.raises(InputError, match="no structure was kept"):
        split_dataset([_fake_selection(tmp_path / "b.tsv", 0)], out, report, config=_random(0.15, 0.15), seed=0)
    with pytest.raises(InputError, match="sum to less than 1"):
        split_dataset([_fake_selection(tmp_path / "c.tsv", 5)], out, report, config=_random(0.6, 0.5), seed=0)
    bad = tmp_path / "bad.tsv"
    bad.write_text("id\tfile\nX\tY\n")
    with pytest.raises(InputError, match=r"bad.tsv: header: missing column\(s\) method"):
        split_dataset([bad], out, report, config=_random(0.15, 0.15), seed=0)


def test_cli_chain_on_demo(tmp_path, demo_dir):
    """shard -> select -> split -> build-graphs through the console entry point."""
    from pgml.cli import main

    src = tmp_path / "structures"
    src.mkdir()
    for n in (*SMALL, "1LCD.pdb.gz"):
        shutil.copy(demo_dir / n, src / n)
    assert main(["bfactor", "shard", "--structures", str(src), "--shards", "2",
                 "--output-dir", str(tmp_path / "shards")]) == 0
    sels = []
    for i in range(2):
        sel = tmp_path / f"sel_{i}.tsv"
        assert main(["bfactor", "select", "--manifest", str(tmp_path / "shards" / f"shard_{i}.txt"),
                     "--output", str(sel)]) == 0
        sels.append(str(sel))
    assert main(["bfactor", "split", "--selection", *sels, "--output", str(tmp_path / "split.tsv"),
                 "--report", str(tmp_path / "report.tsv"), "--seed", "0", "--method", "random"]) == 0
    split = pd.read_csv(tmp_path / "split.tsv", sep="\t")
    assert sorted(split["split"]) == ["test", "train", "val"]
    report = pd.read_csv(tmp_path / "report.tsv", sep="\t")
    assert report.set_index("id").loc["1LCD", "status"] == "dropped"
    assert main(["bfactor", "build-graphs", "--selection", sels[0], "--output",
                 str(tmp_path / "g0.pt"), "--target", "raw"]) == 0
    # nothing kept -> InputError -> exit status 2, no traceback
    empty = _fake_selection(tmp_path / "none.tsv", 0)
    assert main(["bfactor", "split", "--selection", str(empty), "--output", str(tmp_path / "s2.tsv"),
                 "--report", str(tmp_path / "r2.tsv")]) == 2
    assert not (tmp_path / "s2.tsv").exists()


# ---------------------------------------------------------------- shared data (skips when absent)
@pytest.mark.shared_data
def test_select_agrees_with_shared_index(tmp_path):
    index = SHARED_STRUCTURES / "index.tsv"
    if not index.exists():
        pytest.skip("../shared/data/structures absent")
    table = pd.read_csv(index, sep="\t", dtype=str, keep_default_na=False)
    table = table.sort_values("n_atoms_model1", key=lambda s: s.astype(int)).head(25)
    manifest = tmp_path / "m.txt"
    manifest.write_text("\n".join(str(SHARED_STRUCTURES / f) for f in table["file"]) + "\n")
    sel = tmp_path / "sel.tsv"
    select_structures(manifest, sel, max_resolution=99.0, methods=("X-RAY DIFFRACTION",))
    got = pd.read_csv(sel, sep="\t", dtype=str, keep_default_na=False)
    assert len(got) == len(table)
    got = got.assign(name=[Path(f).name for f in got["file"]]).set_index("name")
    for exp in table.to_dict("records"):
        row = got.loc[Path(exp["file"]).name]
        assert row["method"] == exp["method"] or row["reason"].startswith("unreadable"), exp["pdb_id"]
        if exp["resolution"] not in ("NA", "") and not row["reason"].startswith("unreadable"):
            assert math.isclose(float(row["resolution"]), float(exp["resolution"]), abs_tol=0.006)
        if exp["method"] == "X-RAY DIFFRACTION" and exp["bfactors_vary"] == "no":
            assert row["status"] == "dropped"


def test_gzip_and_plain_agree(tmp_path, demo_dir):
    plain = tmp_path / "1UBI.pdb"
    plain.write_bytes(gzip.decompress((demo_dir / "1UBI.pdb.gz").read_bytes()))
    a = read_structure(plain).atoms
    b = read_structure(demo_dir / "1UBI.pdb.gz").atoms
    np.testing.assert_array_equal(a.coords, b.coords)
    assert collect_structures([tmp_path]) == [plain.resolve()]


def test_feature_names_match_node_feature_columns(demo_dir) -> None:
    from pgml.bfactor.features import NODE_FEATURE_DIM, feature_names, node_features
    from pgml.structure.io import read_structure

    names = feature_names()
    assert len(names) == NODE_FEATURE_DIM == len(set(names))
    atoms = read_structure(demo_dir / "1UBI.pdb.gz").atoms
    x = node_features(atoms)
    # ubiquitin residue 1 is MET: its CA is carbon, locant CA, residue MET
    row = int(np.flatnonzero((atoms.res_seq == 1) & (atoms.atom_name == "CA"))[0])
    hot = {names[j] for j in np.flatnonzero(x[row] == 1.0)}
    assert hot == {"element_C", "locant_CA", "residue_MET"}
