"""Inputs the qa chain refuses or marks undefined: homodimer models against monomer references, the
memory estimate of the pair features, baselines written as ``n/a``."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from pgml.cli import main
from pgml.qa.inputs import pair_feature_bytes
from pgml.qa.params import FeatureConfig, SimulateConfig
from pgml.qa.predict import nanmean
from pgml.qa.samples import target_samples
from pgml.qa.simulate import simulate_target


@pytest.fixture(scope="module")
def target(tmp_path_factory) -> Path:
    demo = Path(__file__).resolve().parents[2] / "resources" / "demo" / "structures"
    return simulate_target(demo / "1UBI.pdb.gz", tmp_path_factory.mktemp("qa_in"), SimulateConfig(n_decoys=1,
                                                                                                    max_residues=20))


def _atoms(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.startswith("ATOM")]


def test_homodimer_against_monomer_references_has_no_baseline(target: Path, tmp_path: Path, caplog) -> None:
    """Both copies of a homodimer model: the monomer references cannot judge it; n/a, not 0."""
    dimer = tmp_path / "1UBI"
    shutil.copytree(target, dimer)
    chain_a = _atoms(dimer / "models" / "decoy_00.pdb")
    chain_b = [line[:21] + "B" + line[22:30] + f"{float(line[30:38]) + 40:8.3f}" + line[38:] for line in chain_a]
    (dimer / "models" / "decoy_00.pdb").write_text("\n".join([*chain_a, "TER", *chain_b, "END"]) + "\n")
    sample = target_samples(dimer, FeatureConfig(), progress=False)[0]
    assert len(sample.sequence) == 40
    assert np.isnan(sample.consensus.numpy()).all() and np.isnan(sample.plddt.numpy()).all()
    assert np.isnan(nanmean(sample.consensus.numpy()))
    assert "have no counterpart in the references" in caplog.text
    # the monomer itself keeps its baselines
    mono = target_samples(target, FeatureConfig(), progress=False)[0]
    assert np.isfinite(mono.consensus.numpy()).all() and 0 < float(mono.consensus.mean()) <= 1


def test_residue_without_reference_counterpart_is_nan_not_zero(target: Path, tmp_path: Path) -> None:
    """A model residue the references lack gets NaN baselines; the model's mean stays defined."""
    longer = tmp_path / "1UBI"
    shutil.copytree(target, longer)
    atoms = _atoms(longer / "models" / "decoy_00.pdb")
    last = int(atoms[-1][22:26])
    extra = [line[:22] + f"{last + 1:4d}" + line[26:30] + f"{float(line[30:38]) + 3.8:8.3f}" + line[38:]
             for line in atoms if int(line[22:26]) == last]
    (longer / "models" / "decoy_00.pdb").write_text("\n".join([*atoms, *extra, "END"]) + "\n")
    sample = target_samples(longer, FeatureConfig(), progress=False)[0]
    consensus, plddt = sample.consensus.numpy(), sample.plddt.numpy()
    assert np.isnan(consensus[-1]) and np.isnan(plddt[-1])
    assert np.isfinite(consensus[:-1]).all() and np.isfinite(plddt[:-1]).all()
    assert nanmean(plddt) == pytest.approx(float(np.mean(plddt[:-1])))
    assert sample.x[-1, 23:].abs().sum() == 0  # the network's inputs stay 0 there


def test_pair_feature_bytes_hand_computed() -> None:
    # L = 100, 5 references, 64 bins: 100^2 (8*64*5 + 8*65*5 + 8*5 + 24*64 + 8*18 + 8*(50+2) + 4*(45+2))
    assert pair_feature_bytes(100, 5, 64) == 10_000 * (2560 + 2600 + 40 + 1536 + 144 + 416 + 188)
    assert pair_feature_bytes(200, 5, 64) == 4 * pair_feature_bytes(100, 5, 64)
    assert pair_feature_bytes(100, 2, 64) < pair_feature_bytes(100, 5, 64)


def test_pair_features_refused_before_they_outgrow_memory(target: Path, tmp_path: Path, monkeypatch,
                                                          capsys) -> None:
    monkeypatch.setenv("PGML_MEMORY_LIMIT", "1M")
    out = tmp_path / "out" / "g.pt"
    assert main(["qa", "build-graphs", "--targets", str(target), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "pair features of 20 residues x 5 references need about" in err
    assert "lower it with --n-references" in err
    assert not out.parent.exists()
    monkeypatch.setenv("PGML_MEMORY_LIMIT", "1G")
    assert main(["qa", "build-graphs", "--targets", str(target), "--output", str(out)]) == 0
