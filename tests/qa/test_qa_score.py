"""``pgml qa score``: per-chain scores of a multi-chain model, the qa page's example numbers, and CASP's
convention on partial models (native length; missing atoms not conserved)."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest

from pgml.cli import main
from pgml.qa.score import score_models

ROOT = Path(__file__).resolve().parents[2]


def test_multichain_model_scored_per_chain(demo_dir) -> None:
    path = demo_dir / "4ZHL.cif.gz"
    table = score_models(path, [path]).set_index("chain")
    assert list(table.index) == ["all", "U", "P"]
    assert table.loc[["U", "P"], "residues"].tolist() == [247, 10]
    for chain in table.index:
        assert table.loc[chain, "lddt"] == pytest.approx(1.0)
        assert table.loc[chain, "gdt_ts"] == pytest.approx(1.0)
        assert table.loc[chain, "tm_score"] == pytest.approx(1.0, abs=1e-3)


def test_docs_example_numbers(tmp_path, monkeypatch, capsys) -> None:
    """The qa page's example (docs/chains/qa.md), run as written, prints the table the page shows."""
    text = (ROOT / "docs" / "chains" / "qa.md").read_text()
    block = text[text.index("<!-- qa-example -->"):text.index("<!-- /qa-example -->")]
    commands = re.findall(r"^(pgml qa .+)$", block, re.M)
    expected = re.findall(r"^\s*(\S+)\s+all\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$", block, re.M)
    assert len(commands) == 2 and len(expected) == 5
    monkeypatch.chdir(tmp_path)
    (tmp_path / "resources").symlink_to(ROOT / "resources")
    for command in commands:
        argv = command.split()[1:]
        argv = [str(p) for a in argv for p in (sorted(tmp_path.glob(a)) if "*" in a else [a])]
        capsys.readouterr()
        assert main(argv) == 0
    out = capsys.readouterr().out
    got = re.findall(r"^\s*(\S+)\s+all\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$", out, re.M)
    assert got == expected


# ---------------------------------------------------------------- CASP's convention on partial models

SHARED_QA = ROOT.parent / "shared" / "data" / "qa"
T0980 = SHARED_QA / "CASP13_T0980s1"


def _cut(text: str, drop: set[int]) -> str:
    """The PDB text without the residues numbered in ``drop``."""
    return "\n".join(line for line in text.splitlines()
                     if not (line.startswith(("ATOM", "HETATM")) and int(line[22:26]) in drop)) + "\n"


def _pair_fraction(native_ca, present) -> float:  # noqa: ANN001
    """Hand count: native Cα pairs within 15 Å with both residues present / all such pairs."""
    d = np.linalg.norm(native_ca[:, None] - native_ca[None], axis=-1)
    pairs = (d <= 15.0) & ~np.eye(len(native_ca), dtype=bool)
    return float(pairs[np.ix_(present, present)].sum() / pairs.sum())


def _check_cut_native(native_path: Path, tmp_path: Path, n_drop: int) -> None:
    from pgml.qa.inputs import read_coords

    text = gzip.decompress(native_path.read_bytes()).decode() if native_path.suffix == ".gz" else native_path.read_text()
    native = read_coords(native_path, require_backbone=False)[1]
    numbers = [int(n) for n in native.res_seq]
    rng = np.random.default_rng(0)
    drop = set(numbers[len(numbers) // 2: len(numbers) // 2 + n_drop // 2])  # a loop
    rest = [n for n in numbers if n not in drop]
    drop |= set(rng.choice(rest, n_drop - len(drop), replace=False).tolist())  # and scattered residues
    cut_path = tmp_path / "cut.pdb"
    cut_path.write_text(_cut(text, drop))
    row = score_models(native_path, [cut_path]).iloc[0]
    n, length = len(numbers) - n_drop, len(numbers)
    assert row.residues == n
    assert row.gdt_ts == pytest.approx(n / length, abs=1e-12)  # exactly n/L
    assert row.tm_score == pytest.approx(n / length, abs=1e-4)  # d = 0 for every present residue
    present = np.asarray([k not in drop for k in numbers])
    assert row.lddt == pytest.approx(_pair_fraction(native.ca, present), abs=1e-6)


def test_cut_native_scores_n_over_l(demo_dir, tmp_path) -> None:
    """The native with residues removed: GDT-TS = TM-score = n/L, lDDT = the fraction of native pairs kept."""
    _check_cut_native(demo_dir / "1UBI.pdb.gz", tmp_path, 15)


@pytest.mark.shared_data
@pytest.mark.skipif(not T0980.is_dir(), reason="../shared/data/qa not present")
def test_cut_casp13_native_scores_n_over_l(tmp_path) -> None:
    """CASP13 T0980s1 with 20 of its 104 residues removed scores 84/104 in GDT-TS and TM-score."""
    _check_cut_native(T0980 / "native" / "T0980s1-D1.pdb.gz", tmp_path, 20)


@pytest.mark.shared_data
@pytest.mark.skipif(not T0980.is_dir(), reason="../shared/data/qa not present")
def test_removing_residues_never_raises_a_casp13_score(tmp_path) -> None:
    """Real server models of T0980s1 (QUARK_TS1 scored 0.534 -> 0.548 GDT-TS after a cut before the
    native-length convention): every score of the cut model is at most the full model's."""
    native = T0980 / "native" / "T0980s1-D1.pdb.gz"
    drop = set(range(60, 70)) | {3, 9, 17, 24, 33, 41, 48, 80, 88, 95}
    paths = []
    for name in ("QUARK_TS1", "FALCON-Contact_TS2", "MUFold_server_TS4", "Cao-server_TS2", "RaptorX-Contact_TS1"):
        text = gzip.decompress((T0980 / "models" / f"{name}.pdb.gz").read_bytes()).decode()
        for suffix, body in (("", text), ("_cut", _cut(text, drop))):
            paths.append(tmp_path / f"{name}{suffix}.pdb")
            paths[-1].write_text(body)
    table = score_models(native, paths).set_index("model")
    for name in ("QUARK_TS1", "FALCON-Contact_TS2", "MUFold_server_TS4", "Cao-server_TS2", "RaptorX-Contact_TS1"):
        full, cut = table.loc[name], table.loc[f"{name}_cut"]
        for score in ("lddt", "gdt_ts", "tm_score"):
            assert cut[score] <= full[score] + 1e-9, (name, score, cut[score], full[score])
    assert table.loc["QUARK_TS1", "gdt_ts"] == pytest.approx(0.534, abs=0.002)
    assert table.loc["QUARK_TS1_cut", "gdt_ts"] < 0.5


def test_labels_of_a_partial_model_count_missing_pairs_as_not_conserved(demo_dir, tmp_path) -> None:
    """Per-residue labels: a native residue's lDDT loses the pairs whose partner the model lacks."""
    from pgml.qa.inputs import read_coords
    from pgml.qa.score import true_scores

    native = read_coords(demo_dir / "1UBI.pdb.gz", require_backbone=False)[1]
    text = gzip.decompress((demo_dir / "1UBI.pdb.gz").read_bytes()).decode()
    (tmp_path / "cut.pdb").write_text(_cut(text, {10, 11, 12}))
    model = read_coords(tmp_path / "cut.pdb")[1]
    scores = true_scores(model, native)
    assert np.count_nonzero(scores.mapping >= 0) == len(model) == len(native) - 3
    missing = [k for k, n in enumerate(native.res_seq) if n in (10, 11, 12)]
    assert (scores.per_native[missing] == 0).all()
    d = np.linalg.norm(native.ca[:, None] - native.ca[None], axis=-1)
    k = int(np.flatnonzero(native.res_seq == 9)[0])  # neighbour of the gap
    near = (d[k] <= 15) & (np.arange(len(native)) != k)
    expected = 1 - near[missing].sum() / near.sum()
    assert scores.per_native[k] == pytest.approx(expected)
    assert np.nanmin(scores.per_residue) > 0
