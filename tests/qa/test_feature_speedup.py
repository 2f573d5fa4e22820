"""The fast feature code against plain, one-thing-at-a-time formulations of the same quantities.

Each reference below is the direct form: eqs. 5.1-5.2 summed distogram bin by distogram bin, one
``scipy.spatial.ConvexHull`` per Voronoi cell, one Kabsch fit per GDT seed and cutoff, the harmonics of
each graph edge computed from its own angles. The fast code (cumulative distograms kept per reference,
one flat gather per model, face-by-face cell volumes, batched fits, edges read from the 2-D harmonics)
must give the same numbers: exactly for counts and GDT-TS, to 1e-9 relative for volumes and
probability sums, on the demo simulation and on real CASP13 / EnQA models when ../shared/data is there.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial import ConvexHull, Voronoi

from pgml.qa.align import match_residues, take_pairs
from pgml.qa.features import (
    bin_midpoints,
    cumulative_distogram,
    error_bin_bounds,
    error_features_from_cumulative,
    voronoi_volumes,
)
from pgml.qa.geometry import edge_angles, local_frames, real_spherical_harmonics
from pgml.qa.inputs import read_coords
from pgml.qa.params import ERROR_BIN_EDGES, FeatureConfig, SimulateConfig
from pgml.qa.references import read_references
from pgml.qa.samples import model_files, model_sample
from pgml.qa.score import native_residues
from pgml.qa.scores import GDT_CUTOFFS, gdt_ts, kabsch

QA_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "qa"
DEMO_STRUCTURES = Path(__file__).resolve().parents[2] / "resources" / "demo" / "structures"


# ---------------------------------------------------------------- direct formulations (slow, plain)

def direct_error_features(probs: np.ndarray, edges: np.ndarray, d_model: np.ndarray,
                          mapping: np.ndarray) -> np.ndarray:
    """Eq. 5.1: P_k(i, j) = sum_b p_b(i', j') [mid_b - d_ij in error bin k], i' j' the mapped residues
    (0 where either has no counterpart)."""
    n = len(mapping)
    mids = bin_midpoints(edges)
    out = np.zeros((n, n, len(ERROR_BIN_EDGES) + 1))
    for i in range(n):
        for j in range(n):
            if mapping[i] < 0 or mapping[j] < 0:
                continue
            k = np.digitize(mids - d_model[i, j], ERROR_BIN_EDGES, right=True)
            np.add.at(out[i, j], k, probs[mapping[i], mapping[j]])
    return out


def direct_contact(probs: np.ndarray, edges: np.ndarray, mapping: np.ndarray, cutoff: float = 15.0) -> np.ndarray:
    n = len(mapping)
    near = bin_midpoints(edges) <= cutoff
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if mapping[i] >= 0 and mapping[j] >= 0:
                out[i, j] = probs[mapping[i], mapping[j]][near].sum()
    return out


def convex_hull_volumes(points: np.ndarray, pad: float = 8.0) -> np.ndarray:
    """log(1 + volume) of each Voronoi cell, one ConvexHull per closed cell (same padding box)."""
    centred = points - points.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    local = centred @ axes.T
    lo, hi = local.min(axis=0) - pad, local.max(axis=0) + pad
    grid = np.stack(np.meshgrid(*[np.linspace(a, b, 4) for a, b in zip(lo, hi, strict=True)], indexing="ij"), -1)
    grid = grid.reshape(-1, 3)
    on_box = (np.isclose(grid, lo) | np.isclose(grid, hi)).any(axis=1)
    vor = Voronoi(np.concatenate([local, grid[on_box]]))
    out = np.zeros(len(points))
    for i in range(len(points)):
        region = vor.regions[vor.point_region[i]]
        if -1 in region or len(region) < 4:
            continue
        out[i] = np.log1p(ConvexHull(vor.vertices[region]).volume)
    return out


def one_fit_at_a_time_gdt(model_ca: np.ndarray, native_ca: np.ndarray) -> float:
    """GDT-TS with the seeds and refinement of :mod:`pgml.qa.scores`, one seed and cutoff at a time."""
    ok = ~(np.isnan(model_ca).any(axis=1) | np.isnan(native_ca).any(axis=1))
    n_native = int((~np.isnan(native_ca).any(axis=1)).sum())
    model, native = model_ca[ok], native_ca[ok]
    n = len(model)
    if n < 3 or n_native == 0:
        return 0.0
    seeds = [np.arange(n)]
    for w in (4, 8, 16):
        if w < n:
            step = max(w // 2, (n - w) // 20 + 1)
            seeds += [np.arange(s, s + w) for s in range(0, n - w + 1, step)]
    fractions = []
    for cutoff in GDT_CUTOFFS:
        best = 0
        for seed in seeds:
            subset = seed
            for _ in range(20):
                if len(subset) < 3:
                    break
                r, t = kabsch(model[subset], native[subset])
                within = np.flatnonzero(np.linalg.norm(model @ r.T + t - native, axis=1) <= cutoff)
                best = max(best, len(within))
                if np.array_equal(within, subset):
                    break
                subset = within
        fractions.append(best / n_native)
    return float(np.mean(fractions))


def edge_harmonics(res, src: np.ndarray, dst: np.ndarray, degree: int) -> np.ndarray:  # noqa: ANN001
    theta, phi = edge_angles(local_frames(res.n, res.ca, res.c), res.ca, src, dst)
    return real_spherical_harmonics(degree, theta, phi)


# ---------------------------------------------------------------- checks


def test_error_features_from_cumulative_equal_the_direct_sum_under_a_mapping() -> None:
    """A reference longer than the model, residues permuted and two without a counterpart."""
    rng = np.random.default_rng(7)
    edges = np.linspace(2.3125, 21.6875, 63)
    probs = rng.dirichlet(np.ones(64), size=(15, 15))
    mapping = np.array([4, -1, 0, 14, 7, 8, -1, 2, 3, 11])
    d_model = rng.uniform(1, 25, size=(10, 10))
    fast = error_features_from_cumulative(cumulative_distogram(probs), error_bin_bounds(edges, d_model), mapping)
    np.testing.assert_allclose(fast, direct_error_features(probs, edges, d_model, mapping), rtol=1e-9, atol=1e-12)
    # the old route (copy the mapped block, then the cumulative sum) gives the very same numbers
    block = take_pairs(probs, mapping)
    assert np.array_equal(fast, error_features_from_cumulative(cumulative_distogram(block),
                                                               error_bin_bounds(edges, d_model)))


def _structures(demo_dir: Path) -> list[Path]:
    paths = [demo_dir / name for name in ("1UBI.pdb.gz", "1PWC.pdb.gz", "1A8O.pdb.gz", "3HSY.pdb.gz")]
    if QA_DATA.is_dir():
        paths += sorted((QA_DATA / "CASP13_T0949" / "models").glob("*.pdb.gz"))[:4]
        paths += [QA_DATA / "EnQA_6KYT" / "models" / "test_model.pdb.gz"]
    return [p for p in paths if p.exists()]


def test_voronoi_volumes_equal_one_convex_hull_per_cell(demo_dir) -> None:
    paths = _structures(demo_dir)
    assert len(paths) >= 3
    for path in paths:
        cb = read_coords(path, require_backbone=False)[1].cb
        cb = cb[~np.isnan(cb).any(axis=1)]
        fast, direct = voronoi_volumes(cb), convex_hull_volumes(cb)
        assert (fast == 0).sum() == (direct == 0).sum(), path.name
        np.testing.assert_allclose(fast, direct, rtol=1e-9, err_msg=path.name)


@pytest.fixture(scope="module")
def demo_target(tmp_path_factory) -> Path:  # noqa: ANN001
    from pgml.qa.simulate import simulate_target

    return simulate_target(DEMO_STRUCTURES / "1UBI.pdb.gz", tmp_path_factory.mktemp("speedup"),
                           SimulateConfig(n_decoys=3, max_perturbation=3.0, max_residues=70))


def _check_samples(target: Path, native_path: Path, models: list[Path], config: FeatureConfig) -> int:
    """Every fast-path quantity of each model's sample against its direct formulation; returns the count."""
    refs = read_references(target / "alphafold", config.n_references, config.reference_format)
    native = read_coords(native_path, require_backbone=False)[1]
    for path in models:
        sample = model_sample(path, refs, config, native=native)
        res = read_coords(path)[1]
        n = len(res)
        d_model = np.linalg.norm(res.cb[:, None] - res.cb[None], axis=-1)
        pair = sample.pair.numpy().astype(np.float64)
        contact = []
        for k, ref in enumerate(refs[: config.n_references]):
            mapping = match_residues(res, ref.coords)
            if ref.probs is None:
                assert not pair[9 * k: 9 * k + 9].any()
                continue
            direct = direct_error_features(ref.probs, ref.bin_edges, d_model, mapping).transpose(2, 0, 1)
            np.testing.assert_allclose(pair[9 * k: 9 * k + 9], direct.astype(np.float32), rtol=1e-6, atol=1e-7)
            contact.append(direct_contact(ref.probs, ref.bin_edges, mapping))
        if contact:
            np.testing.assert_allclose(pair[-2], np.mean(contact, axis=0).astype(np.float32), rtol=1e-6, atol=1e-7)
        src, dst = sample.edge_index.numpy()
        expected = edge_harmonics(res, src, dst, config.sh_degree).astype(np.float32)
        assert np.array_equal(sample.edge_attr.numpy(), expected), path.name
        assert np.array_equal(sample.sh2d.numpy()[:, src, dst].T, expected)
        volumes = convex_hull_volumes(res.cb).astype(np.float32)
        np.testing.assert_allclose(sample.x.numpy()[:, 21], volumes, rtol=1e-6)
        keep = native_residues(native)
        mapping = match_residues(res, native)
        on_native = np.full((len(native), 3), np.nan)
        on_native[mapping[mapping >= 0]] = res.ca[mapping >= 0]
        assert sample.gdt_ts == one_fit_at_a_time_gdt(on_native[keep], native.ca[keep]), path.name
        assert sample.x.shape[0] == n
    return len(models)


def test_demo_samples_equal_the_direct_formulation(demo_target) -> None:  # noqa: ANN001
    """Simulated AlphaFold references with distograms: every distogram channel is checked."""
    assert _check_samples(demo_target, demo_target / "native.pdb", model_files(demo_target), FeatureConfig()) == 3


def test_gdt_ts_batched_equals_one_fit_at_a_time_on_demo_decoys(demo_target) -> None:  # noqa: ANN001
    native = read_coords(demo_target / "native.pdb", require_backbone=False)[1]
    for path in model_files(demo_target):
        model = read_coords(path)[1]
        moved = model.ca.copy()
        moved[5:9] = np.nan  # residues the model lacks
        assert gdt_ts(moved, native.ca) == one_fit_at_a_time_gdt(moved, native.ca)


@pytest.mark.shared_data
@pytest.mark.skipif(not QA_DATA.is_dir(), reason="../shared/data/qa not present")
def test_gdt_ts_batched_equals_one_fit_at_a_time_on_casp13_models() -> None:
    """Every fourth CASP13 T0980s1 server model and all ten T0949 models, exactly."""
    count = 0
    for folder, native_name, step in (("CASP13_T0980s1", "T0980s1-D1.pdb.gz", 4), ("CASP13_T0949", "T0949-D1.pdb.gz", 1)):
        native = read_coords(QA_DATA / folder / "native" / native_name, require_backbone=False)[1]
        keep = native_residues(native)
        for path in sorted((QA_DATA / folder / "models").glob("*.pdb.gz"))[::step]:
            model = read_coords(path, require_backbone=False)[1]
            mapping = match_residues(model, native)
            on_native = np.full((len(native), 3), np.nan)
            on_native[mapping[mapping >= 0]] = model.ca[mapping >= 0]
            assert gdt_ts(on_native[keep], native.ca[keep]) == one_fit_at_a_time_gdt(on_native[keep],
                                                                                     native.ca[keep]), path.name
            count += 1
    assert count >= 50


@pytest.mark.shared_data
@pytest.mark.skipif(not QA_DATA.is_dir(), reason="../shared/data/qa not present")
def test_enqa_6kyt_samples_equal_the_direct_formulation(tmp_path) -> None:
    """EnQA's 6KYT example: its test model and the five AlphaFold2 relaxed models as references."""
    source = QA_DATA / "EnQA_6KYT" / "models"
    (tmp_path / "alphafold").mkdir()
    for path in sorted(source.glob("af2_relaxed_model_*.pdb.gz")):
        (tmp_path / "alphafold" / path.name[:-3]).write_bytes(gzip.decompress(path.read_bytes()))
    models = [source / "test_model.pdb.gz", source / "af2_relaxed_model_3.pdb.gz"]
    native = QA_DATA / "EnQA_6KYT" / "native" / "6KYTP.pdb.gz"
    assert _check_samples(tmp_path, native, models, FeatureConfig(reference_format="pdb")) == 2


def test_worker_processes_give_the_same_samples_in_order(demo_target) -> None:  # noqa: ANN001
    from pgml.qa.samples import target_samples

    one = target_samples(demo_target, FeatureConfig(), progress=False)
    two = target_samples(demo_target, FeatureConfig(), progress=False, workers=2)
    assert [s.model for s in one] == [s.model for s in two] == ["decoy_00", "decoy_01", "decoy_02"]
    for a, b in zip(one, two, strict=True):
        for key in ("x", "pair", "edge_index", "edge_attr", "sh2d", "consensus", "plddt", "y", "err_bin", "err"):
            assert np.array_equal(getattr(a, key).numpy(), getattr(b, key).numpy(), equal_nan=True), key
        assert (a.lddt, a.gdt_ts, a.tm_score) == (b.lddt, b.gdt_ts, b.tm_score)
