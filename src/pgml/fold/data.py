"""From stored multigraph samples (:mod:`pgml.fold.graph`) to model batches.

At load time a sample is (optionally) augmented as in appendix D of [ieconv] (random rotation,
per-axis scaling, Gaussian coordinate noise), the node positions of every pooled level are placed
(level 1: mean of its atoms; level 2: the CA atom; higher levels: mean of their members), and each
convolution level gets its neighbourhood with edge features (tau_e, tau_i1, tau_i2) normalised and
clamped to [0, 1] (sec. 3.1). Radius neighbourhoods come from a k-d tree (``scipy.spatial``).
Batches concatenate samples level by level with index offsets (the pooling hierarchy does not fit
torch_geometric's single-graph ``Batch``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from pgml.fold.hops import lookup_hops, normalised
from pgml.fold.params import RESIDUE_LEVEL, ModelConfig
from pgml.structure.neighbors import radius_pairs
from pgml.train.loop import EpochShuffleSampler


@dataclass(frozen=True)
class Augment:
    """Appendix D augmentation: noise sigma (Å), per-axis scaling range, random rotation."""

    coord_noise: float = 0.1
    scale_min: float = 0.9
    scale_max: float = 1.1
    rotate: bool = True


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def augment_positions(pos: np.ndarray, aug: Augment, rng: np.random.Generator) -> np.ndarray:
    centre = pos.mean(axis=0)
    out = pos - centre
    if aug.rotate:
        out = out @ random_rotation(rng).T
    out = out * rng.uniform(aug.scale_min, aug.scale_max, size=3)
    out = out + rng.normal(0.0, aug.coord_noise, size=out.shape)
    return (out + centre).astype(np.float32)


def level_positions(sample: dict, pos: np.ndarray, n_levels: int) -> list[np.ndarray]:
    """Positions of levels 0..n_levels-1 (see the module docstring)."""
    out = [pos.astype(np.float64)]
    for lev in range(1, n_levels):
        assign = sample["assign"][lev - 1]
        n = sample["sizes"][lev]
        if lev == RESIDUE_LEVEL:
            means = _segment_mean(out[-1], assign, n)
            ca = sample["ca"]
            has = ca >= 0
            means[has] = pos[ca[has]]
            out.append(means)
        else:
            out.append(_segment_mean(out[-1], assign, n))
    return out


def _segment_mean(x: np.ndarray, index: np.ndarray, n: int) -> np.ndarray:
    sums = np.zeros((n, x.shape[1]))
    np.add.at(sums, index, x)
    counts = np.bincount(index, minlength=n).astype(np.float64)
    return sums / np.maximum(counts, 1)[:, None]


def neighbourhood(sample: dict, level: int, pos: np.ndarray, radius: float, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Directed edges (2, E) (source j -> target i, self loops included) and features (E, 6):
    tau_e, tau_i1, tau_i2 (each in [0, 1]) and the offset (p_j - p_i) / radius."""
    n = len(pos)
    max_hops = sample["max_hops"]
    cov_pairs, cov_hops = sample["hops_cov"][level]
    hb_pairs, hb_hops = sample["hops_hb"][level]
    if kind == "euclidean":
        pairs = radius_pairs(pos, radius)
    elif kind == "covalent":
        pairs = cov_pairs
    else:
        pairs = hb_pairs
    both = np.concatenate([pairs, pairs[:, ::-1], np.repeat(np.arange(n)[:, None], 2, axis=1)])
    src, dst = both[:, 0], both[:, 1]
    dist = np.linalg.norm(pos[src] - pos[dst], axis=1)
    tau_e = normalised(dist, radius)
    tau_1 = normalised(lookup_hops(n, cov_pairs, cov_hops, both, missing=max_hops), max_hops)
    tau_2 = normalised(lookup_hops(n, hb_pairs, hb_hops, both, missing=max_hops), max_hops)
    rel = ((pos[src] - pos[dst]) / radius).astype(np.float32)
    attr = np.concatenate([np.stack([tau_e, tau_1, tau_2], axis=1), rel], axis=1).astype(np.float32)
    edge_index = np.stack([src, dst]).astype(np.int64)
    return edge_index, attr


def prepare(sample: dict, config: ModelConfig, augment: Augment | None = None,
            rng: np.random.Generator | None = None) -> dict[str, torch.Tensor]:
    """One sample as tensors for :class:`pgml.fold.model.IEConvNet` (see the module docstring)."""
    start = 0 if config.representation == "atom" else RESIDUE_LEVEL
    n_conv = len(config.widths)
    pooled = config.pooling == "ours"
    graph_levels = [start + k for k in range(n_conv)] if pooled else [start] * n_conv
    pos = sample["pos"]
    if augment is not None:
        pos = augment_positions(pos, augment, rng if rng is not None else np.random.default_rng(0))
    positions = level_positions(sample, pos, max(graph_levels) + 1)
    out: dict[str, torch.Tensor] = {}
    if config.representation == "atom":
        out["x_type"] = torch.from_numpy(sample["atom_type"])
        out["x_feat"] = torch.from_numpy(sample["atom_feat"])
    else:
        out["x_type"] = torch.from_numpy(sample["res_type"])
        out["x_feat"] = torch.zeros(len(sample["res_type"]), 3)
    for k, (lev, radius) in enumerate(zip(graph_levels, config.radii, strict=True)):
        ei, attr = neighbourhood(sample, lev, positions[lev], radius, config.neighbourhood)
        out[f"edge_index_{k}"] = torch.from_numpy(ei)
        out[f"edge_attr_{k}"] = torch.from_numpy(attr)
        out[f"n_{k}"] = torch.tensor(len(positions[lev]))
        if k + 1 < n_conv:
            assign = sample["assign"][lev] if pooled else np.arange(len(positions[lev]))
            out[f"assign_{k}"] = torch.from_numpy(np.asarray(assign, dtype=np.int64))
    return out


def collate(items: list[tuple[dict[str, torch.Tensor], int]]) -> dict[str, torch.Tensor]:
    """Concatenate prepared samples level by level; ``batch`` maps last-level nodes to samples."""
    samples = [s for s, _ in items]
    n_conv = sum(1 for k in samples[0] if k.startswith("edge_index_"))
    out: dict[str, torch.Tensor] = {
        "x_type": torch.cat([s["x_type"] for s in samples]),
        "x_feat": torch.cat([s["x_feat"] for s in samples]),
        "y": torch.tensor([y for _, y in items], dtype=torch.long),
    }
    for k in range(n_conv):
        sizes = [int(s[f"n_{k}"]) for s in samples]
        offsets = np.r_[0, np.cumsum(sizes)[:-1]]
        out[f"edge_index_{k}"] = torch.cat([s[f"edge_index_{k}"] + int(o) for s, o in zip(samples, offsets, strict=True)],
                                           dim=1)
        out[f"edge_attr_{k}"] = torch.cat([s[f"edge_attr_{k}"] for s in samples])
        out[f"n_{k}"] = torch.tensor(sum(sizes))
        if k + 1 < n_conv:
            nxt = [int(s[f"n_{k + 1}"]) for s in samples]
            noff = np.r_[0, np.cumsum(nxt)[:-1]]
            out[f"assign_{k}"] = torch.cat([s[f"assign_{k}"] + int(o) for s, o in zip(samples, noff, strict=True)])
        else:
            out["batch"] = torch.cat([torch.full((n,), i, dtype=torch.long) for i, n in enumerate(sizes)])
    return out


class AugmentSampler(EpochShuffleSampler):
    """:class:`~pgml.train.loop.EpochShuffleSampler` that yields ``(epoch, index)``, so that the
    augmentation of every item depends only on (seed, epoch, index) and survives a resume."""

    def __iter__(self):  # type: ignore[override]
        return iter((self.epoch, i) for i in super().__iter__())


class FoldDataset(torch.utils.data.Dataset):
    """Samples with integer labels; items are (prepared tensors, label). With ``augment`` the
    dataset expects ``(epoch, index)`` keys (:class:`AugmentSampler`)."""

    def __init__(self, samples: list[dict], labels: list[int], config: ModelConfig,
                 augment: Augment | None = None, seed: int = 0) -> None:
        self.samples, self.labels, self.config = samples, labels, config
        self.augment, self.seed = augment, seed

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, key):
        epoch, index = key if isinstance(key, tuple) else (0, key)
        rng = np.random.default_rng([self.seed, epoch, index]) if self.augment is not None else None
        return prepare(self.samples[index], self.config, self.augment, rng), self.labels[index]
