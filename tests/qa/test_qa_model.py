"""EnQA: invariance of the predicted lDDT and final error logits to rigid motions (layer and whole
pipeline), the initial estimate of eq. 5.3, the line graph of the edge-level EGNN, samples of simulated targets, training, prediction and evaluation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import check_rigid_motion, rigid_motion

from pgml.errors import InputError
from pgml.qa.evaluate import evaluate, ranking_loss
from pgml.qa.model import EnQA, SHGraphConv
from pgml.qa.params import FeatureConfig, SimulateConfig


@pytest.fixture(scope="module")
def target(tmp_path_factory) -> Path:
    from pgml.qa.simulate import simulate_target

    demo = Path(__file__).resolve().parents[2] / "resources" / "demo" / "structures"
    return simulate_target(demo / "1UBI.pdb.gz", tmp_path_factory.mktemp("qa"), SimulateConfig(n_decoys=3, max_residues=30))


@pytest.fixture(scope="module")
def samples(target: Path) -> list:
    from pgml.qa.samples import target_samples

    return target_samples(target, FeatureConfig(n_references=2), progress=False)


def _net(sample, architecture: str = "egnn") -> EnQA:
    torch.manual_seed(0)
    return EnQA(sample.x.size(1), sample.pair.size(0), sample.edge_attr.size(1), hidden=8, resnet_blocks=1,
                resnet_channels=8, egnn_layers=2, architecture=architecture).double().eval()


def test_samples_of_simulated_target(samples) -> None:
    assert len(samples) == 3
    s = samples[0]
    assert s.x.shape == (30, 20 + 3 + 2 * 2) and s.pair.shape == (9 * 2 + 2, 30, 30)
    assert s.edge_attr.shape[1] == 9  # spherical harmonics up to degree 2
    # decoys of increasing perturbation: true lDDT and GDT-TS fall
    lddts = [x.lddt for x in samples]
    assert lddts == sorted(lddts, reverse=True) and samples[0].gdt_ts > samples[-1].gdt_ts
    # distance-error channels of each reference are distributions over the 9 bins
    np.testing.assert_allclose(s.pair[:9].sum(0).numpy(), 1.0, atol=1e-4)
    assert torch.all((s.y >= 0) & (s.y <= 1))


@pytest.mark.parametrize("architecture", ["egnn", "sh"])
def test_predicted_lddt_invariant_to_rigid_motion(samples, architecture: str) -> None:
    s = samples[1]
    net = _net(s, architecture)
    args = [t.double() for t in (s.x, s.pair)]
    fn = lambda pos: net(*args, pos, s.edge_index, s.edge_attr.double(), s.sh2d.double())[0]  # noqa: E731
    if architecture == "egnn":
        check_rigid_motion(fn, s.pos.double(), atol=1e-6)
    else:  # the SH variant reads no coordinates: invariant trivially, positions pass through
        out = net(*args, s.pos.double(), s.edge_index, s.edge_attr.double(), s.sh2d.double())
        r, t = rigid_motion(0)
        moved = net(*args, s.pos.double() @ r.T + t, s.edge_index, s.edge_attr.double(), s.sh2d.double())
        torch.testing.assert_close(out[0], moved[0])
    # the EGNN's updated coordinates are equivariant
    if architecture == "egnn":
        fn2 = lambda pos: net(*args, pos, s.edge_index, s.edge_attr.double(), s.sh2d.double())[3]  # noqa: E731
        check_rigid_motion(fn2, s.pos.double(), equivariant_outputs=(0,), atol=1e-6)


def test_pipeline_invariant_to_rigid_motion(tmp_path, target, samples) -> None:
    """Rotate and translate a model file: every feature and the predicted lDDT stay the same."""
    import dataclasses

    from pgml.qa.references import read_references
    from pgml.qa.samples import model_sample
    from pgml.structure import read_structure
    from pgml.structure.residue_coords import residue_coords

    # rotated in memory: a PDB file's 3 decimals would move distances across the hard error-bin edges
    path = target / "models" / "decoy_01.pdb"
    structure = read_structure(path)
    r, t = (v.numpy() for v in rigid_motion(7))
    atoms = dataclasses.replace(structure.atoms, coords=structure.atoms.coords @ r.T + t)
    moved_structure = dataclasses.replace(structure, atoms=atoms)
    config = FeatureConfig(n_references=2)
    refs = read_references(target / "alphafold", 2)
    native = residue_coords(read_structure(target / "native.pdb"))
    moved = model_sample(path, refs, config, native=native, structure=moved_structure)
    original = samples[1]
    # freesasa's Lee-Richards slices follow the z axis, so SASA moves a little with orientation
    rsa = 20
    torch.testing.assert_close(moved.x[:, rsa], original.x[:, rsa], atol=0.03, rtol=0)
    keep = [k for k in range(moved.x.size(1)) if k != rsa]
    torch.testing.assert_close(moved.x[:, keep], original.x[:, keep], atol=2e-3, rtol=1e-3)
    for key in ("pair", "edge_attr", "sh2d", "y", "err", "consensus"):
        torch.testing.assert_close(getattr(moved, key), getattr(original, key), atol=2e-3, rtol=1e-3, equal_nan=True)
    net = _net(original)
    run = lambda s: net(s.x.double(), s.pair.double(), s.pos.double(), s.edge_index, s.edge_attr.double(), s.sh2d.double())[0]  # noqa: E731
    torch.testing.assert_close(run(moved), run(original), atol=5e-3, rtol=0)


SCORES = torch.tensor([0, 0.25, 0.5, 0.75, 1, 0.75, 0.5, 0.25, 0], dtype=torch.float64)


def test_initial_estimate_is_eq_5_3(samples) -> None:
    """q_i = sum_j c_ij sum_k p_ijk s_k / sum_j c_ij over all j != i, c the contact probability."""
    s = samples[0]
    net = _net(s)
    with torch.no_grad():
        _, logits, initial, *_ = net(s.x.double(), s.pair.double(), s.pos.double(), s.edge_index,
                                     s.edge_attr.double(), s.sh2d.double())
    contact = s.pair[-2].double()
    assert float(contact.sum()) > 0  # the simulated references carry distograms
    for i in (0, 5, 17):
        c = contact[i].clone()
        c[i] = 0
        expected = (c * (logits[i].softmax(-1) * SCORES).sum(-1)).sum() / c.sum()
        assert float(initial[i]) == pytest.approx(float(expected))
    # without distograms the model's own contacts (Cβ within 15 Å) weight the pairs
    pair = s.pair.double().clone()
    pair[-2] = 0
    with torch.no_grad():
        _, logits, initial, *_ = net(s.x.double(), pair, s.pos.double(), s.edge_index, s.edge_attr.double(),
                                     s.sh2d.double())
    near = (pair[-1] * 20 <= 15).double()
    i = 5
    near[i, i] = 0
    expected = (near[i] * (logits[i].softmax(-1) * SCORES).sum(-1)).sum() / near[i].sum()
    assert float(initial[i]) == pytest.approx(float(expected))


def test_harmonics_enter_the_resnet(samples) -> None:
    """The 2-D harmonics are read by the ResNet: they change the initial errors."""
    s = samples[0]
    net = _net(s)
    args = (s.x.double(), s.pair.double(), s.pos.double(), s.edge_index, s.edge_attr.double())
    with torch.no_grad():
        a = net(*args, s.sh2d.double())[1]
        b = net(*args, torch.zeros_like(s.sh2d.double()))[1]
    assert not torch.allclose(a, b)
    assert s.sh2d.shape == (9, 30, 30) and float(s.sh2d[:, 3, 3].abs().sum()) == 0.0
    # Y_00 = 1 / (2 sqrt(pi)) for every ordered pair i != j
    off = ~torch.eye(30, dtype=torch.bool)
    torch.testing.assert_close(s.sh2d[0][off], torch.full((870,), 0.5 / np.pi ** 0.5, dtype=torch.float32))


def test_line_graph_hand_made() -> None:
    """4 residues on a line at x = 0, 1, 3, 2.5 Å, graph edges 0-1, 1-2, 2-3, 0-2 (both directions):
    pairs (0,1) (0,2) (1,2) (2,3) with midpoints 0.5, 1.5, 2, 2.75; the 2 nearest other pairs of each."""
    from pgml.qa.line_graph import knn_line_graph, midpoints, residue_pairs

    pos = torch.tensor([[0.0, 0, 0], [1, 0, 0], [3, 0, 0], [2.5, 0, 0]])
    one_way = torch.tensor([[0, 1, 2, 0], [1, 2, 3, 2]])
    edge_index = torch.cat([one_way, one_way.flip(0)], 1)
    pairs, pair_of_edge = residue_pairs(edge_index)
    assert pairs.t().tolist() == [[0, 1], [0, 2], [1, 2], [2, 3]]
    assert pair_of_edge.tolist() == [0, 2, 3, 1, 0, 2, 3, 1]
    mid = midpoints(pos, pairs)
    assert mid[:, 0].tolist() == [0.5, 1.5, 2.0, 2.75]
    line = knn_line_graph(mid, k=2)
    neighbours = {int(t): sorted(line[0, line[1] == t].tolist()) for t in range(4)}
    # pair 0 (0.5): 1 (1.0 away), 2 (1.5); pair 1 (1.5): 2 (0.5), 0 (1.0); pair 2 (2.0): 1 (0.5), 3 (0.75);
    # pair 3 (2.75): 2 (0.75), 1 (1.25)
    assert neighbours == {0: [1, 2], 1: [0, 2], 2: [1, 3], 3: [1, 2]}
    assert knn_line_graph(mid, k=3).shape == (2, 12)  # k = 3 of the paper: every other pair here
    assert knn_line_graph(mid[:1], k=3).shape == (2, 0)  # a single pair has no neighbour


@pytest.mark.parametrize("architecture", ["egnn", "sh"])
def test_final_error_logits_invariant_to_rigid_motion(samples, architecture: str) -> None:
    s = samples[1]
    net = _net(s, architecture)
    args = [t.double() for t in (s.x, s.pair)]
    out = net(*args, s.pos.double(), s.edge_index, s.edge_attr.double(), s.sh2d.double())
    final, pairs = out[4], out[5]
    assert final.shape == (pairs.size(1),) and bool((pairs[0] < pairs[1]).all())  # errors in Å
    # every undirected edge of the residue graph is one pair
    assert pairs.size(1) == s.edge_index.size(1) // 2
    fn = lambda pos: net(*args, pos, s.edge_index, s.edge_attr.double(), s.sh2d.double())[4]  # noqa: E731
    check_rigid_motion(fn, s.pos.double(), atol=1e-6)


def test_loss_is_initial_ce_plus_5_mse_plus_final_mse(samples) -> None:
    """Section 5.3: CE on the initial errors + 5 × MSE on lDDT + MSE on the final distance errors (Å)."""
    from torch.nn.functional import cross_entropy, mse_loss

    from pgml.qa.module import QAModule

    s = samples[2]
    torch.manual_seed(0)
    module = QAModule(s.x.size(1), s.pair.size(0), s.edge_attr.size(1), hidden=8, resnet_blocks=1,
                      resnet_channels=8, egnn_layers=1).eval()
    with torch.no_grad():
        loss, _ = module.loss(s)
        lddt, logits, _, _, final, pairs = module(s)
    valid = s.err_bin >= 0
    target = s.err[pairs[0], pairs[1]]
    known = ~torch.isnan(target)
    assert known.sum() > 10  # pairs within 15 Å of the native too: the final MSE is not empty
    # the error targets are the signed Cβ errors whose bins are err_bin
    assert torch.equal(~torch.isnan(s.err), valid)
    expected = (cross_entropy(logits[valid], s.err_bin[valid]) + 5 * mse_loss(lddt, s.y)
                + mse_loss(final[known], target[known]))
    assert float(loss) == pytest.approx(float(expected), rel=1e-5)


def test_sh_graph_conv_reset() -> None:
    conv = SHGraphConv(4, 3)
    before = [p.clone() for p in conv.parameters()]
    conv.reset_parameters()
    assert any(not torch.equal(a, b) for a, b in zip(before, conv.parameters(), strict=True))


def test_ranking_loss_and_evaluate_hand_computed() -> None:
    models = pd.DataFrame({"target": ["a", "a", "b", "b"], "model": list("pqrs"), "predicted": [0.9, 0.1, 0.2, 0.8],
                           "af2_consensus": [0.1, 0.9, 0.8, 0.2], "af2_plddt": [0.5, 0.5, 0.5, 0.5],
                           "true_lddt": [0.4, 0.6, 0.7, 0.5], "gdt_ts": [0.4, 0.6, 0.7, 0.5]})
    # predicted picks p (0.4, best 0.6) and s (0.5, best 0.7): loss 0.2; the consensus picks the best
    assert ranking_loss(models, "predicted", "true_lddt") == pytest.approx(0.2)
    assert ranking_loss(models, "af2_consensus", "true_lddt") == pytest.approx(0.0)
    residues = pd.DataFrame({"target": "a", "model": "p", "true": [0.1, 0.5, 0.9], "predicted": [0.2, 0.5, 0.8],
                             "af2_consensus": [0.9, 0.5, 0.1], "af2_plddt": [0.3, 0.5, 0.7]})
    table = evaluate(residues, models).set_index("method")
    assert table.loc["enqa", "residue_mae"] == pytest.approx(0.2 / 3)
    assert table.loc["af2_consensus", "residue_pearson"] == pytest.approx(-1.0)
    assert table.loc["enqa", "enqa_beats_af2_consensus"] == "no"  # per-model r of EnQA is worse
    with pytest.raises(InputError, match="no residue has a true lDDT"):
        evaluate(residues.assign(true=np.nan), models)


def test_train_predict_evaluate(tmp_path, samples) -> None:
    """Two epochs on three targets (the same samples under three names): checkpoints, TSVs, B column."""
    import copy

    from pgml.qa.params import TrainConfig
    from pgml.qa.predict import load_module, predict_files
    from pgml.qa.training import train_model
    from pgml.split import write_split_table
    from pgml.structure import read_structure

    graphs = []
    for k, name in enumerate(("t1", "t2", "t3")):
        renamed = [copy.copy(s) for s in samples]
        for s in renamed:
            s.target = name
        graphs.append(tmp_path / f"g{k}.pt")
        torch.save(renamed, graphs[-1])
    split = write_split_table(tmp_path / "split.tsv", {"t1": "train", "t2": "val", "t3": "test"})
    config = TrainConfig(hidden=8, resnet_blocks=1, resnet_channels=8, egnn_layers=1, epochs=2, patience=2)
    result = train_model(graphs, split, tmp_path / "model", config, device="cpu")
    assert result.best_path.exists() and (tmp_path / "model" / "metrics.tsv").exists()
    residues, models = predict_files(load_module(result.best_path, "cpu"), samples, tmp_path / "pred",
                                      fmt="pdb")
    assert len(models) == 3 and residues["predicted"].between(0, 1).all()
    chains = pd.read_csv(tmp_path / "pred" / "chains.tsv", sep="\t")
    assert chains["n_residues"].tolist() == [30, 30, 30]
    np.testing.assert_allclose(chains["predicted"], models["predicted"], atol=1e-4)
    written = read_structure(tmp_path / "pred" / "structures" / "1UBI" / "decoy_00.pdb")
    ca = written.atoms.atom_name == "CA"
    np.testing.assert_allclose(written.atoms.bfactor[ca], 100 * residues.predicted[residues.model == "decoy_00"],
                               atol=0.01)


def test_permutation_importance_groups_and_a_constant_feature(samples) -> None:
    import copy

    from pgml.qa.importance import feature_groups, permutation_importance
    from pgml.qa.module import QAModule

    groups = feature_groups(samples[0].x.size(1), samples[0].pair.size(0))
    covered = {"x": [], "pair": []}
    for where, channels in groups.values():
        covered[where] += list(range(samples[0].x.size(1) if where == "x" else samples[0].pair.size(0)))[channels]
    assert sorted(covered["x"]) == list(range(samples[0].x.size(1)))
    assert sorted(covered["pair"]) == list(range(samples[0].pair.size(0)))
    torch.manual_seed(0)
    module = QAModule(samples[0].x.size(1), samples[0].pair.size(0), samples[0].edge_attr.size(1), hidden=8,
                      resnet_blocks=1, resnet_channels=8, egnn_layers=1)
    constant = [copy.copy(s) for s in samples]
    for s in constant:
        s.x = s.x.clone()
        s.x[:, 20] = 0.3  # relative SASA the same everywhere: permuting it changes nothing
    table = permutation_importance(module, constant, repeats=2).set_index("feature")
    assert table.loc["relative SASA", "importance"] == 0.0
    assert (table["importance"] != 0).sum() >= 3
