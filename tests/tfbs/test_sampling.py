"""Training keys: every positive, fresh unbound negatives per epoch (never A or blacklisted), deterministic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from pgml.tfbs.bins import BinSet
from pgml.tfbs.windows import EpochNegativeSampler, TfbsWindows, WindowSource, candidate_keys, validation_keys


def dataset() -> TfbsWindows:
    sizes = [2000, 1200]
    bins = BinSet(["chr2", "chr3"], sizes, {})
    rng = np.random.default_rng(0)
    labels, ann = {}, {}
    for chrom, n in zip(bins.chroms, sizes, strict=True):
        count = (n - 200) // 50 + 1
        bins.blacklist[chrom] = np.zeros(count, dtype=bool)
        bins.blacklist[chrom][:3] = True
        labels[chrom] = rng.choice(np.array([1, 0, 0, 0, -1], dtype=np.int8), size=(count, 2))
        ann[chrom] = np.zeros((count, 6), dtype=np.uint8)
    source = WindowSource(Path("unused.fa"), Path("unused.bw"), {})
    return TfbsWindows(source, bins, ["a", "b"], ann, np.zeros((2, 8)), labels)


def test_sampler_keeps_positives_and_draws_unbound_negatives() -> None:
    data = dataset()
    pos = candidate_keys(data, data.bins.chroms, [0, 1], 1)
    assert (data.label_of(pos) == 1).all() and not data.blacklisted(pos).any()
    sampler = EpochNegativeSampler(data, pos, data.bins.chroms, [0, 1], ratio=2.0, seed=3)
    epoch0 = np.array(list(sampler))
    assert len(epoch0) == len(sampler) == 3 * pos.size
    assert set(pos.tolist()) <= set(epoch0.tolist())
    neg = epoch0[~np.isin(epoch0, pos)]
    assert (data.label_of(neg) == 0).all() and not data.blacklisted(neg).any()
    assert np.array_equal(epoch0, np.array(list(sampler)))  # same epoch, same draw
    sampler.set_epoch(1)
    assert not np.array_equal(np.sort(epoch0), np.sort(np.array(list(sampler))))  # fresh negatives


def test_decode_inverts_keys() -> None:
    data = dataset()
    keys = data.keys("chr3", np.array([0, 5, 16]), 1)
    chrom, b, cell = data.decode(keys)
    assert chrom.tolist() == [1, 1, 1] and b.tolist() == [0, 5, 16] and cell.tolist() == [1, 1, 1]


def test_validation_keys_hold_every_positive_and_no_ambiguous() -> None:
    data = dataset()
    keys = validation_keys(data, ["chr3"], [0, 1], max_windows=10_000)
    pos = candidate_keys(data, ["chr3"], [0, 1], 1)
    assert set(pos.tolist()) <= set(keys.tolist())
    assert not (data.label_of(keys) == -1).any() and not data.blacklisted(keys).any()
    small = validation_keys(data, ["chr3"], [0, 1], max_windows=10)
    assert small.size == 10 and (data.label_of(small) == 1).sum() == 5


class _DnaseOnly(torch.nn.Module):
    """A stand-in model whose score is the mean DNase of the window: only the DNase feature matters."""

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"ensemble": x[:, 5].mean(1)}


class _Windows(torch.utils.data.Dataset):
    def __init__(self, y: np.ndarray) -> None:
        self.y = y

    def __len__(self) -> int:
        return self.y.size

    def __getitem__(self, k: int):
        x = torch.zeros(6, 10)
        x[5] = float(self.y[k]) + 0.1 * (k % 3)
        return x, torch.rand(14), torch.tensor(float(self.y[k]))


def test_feature_importance_finds_the_feature_the_model_uses() -> None:
    from pgml.tfbs.explain import feature_importance

    y = np.array([1, 0, 0, 1, 0, 0, 0, 1, 0, 0] * 3).astype(bool)
    model = _DnaseOnly()
    model.eval = lambda: model  # type: ignore[method-assign]
    table = feature_importance(model, _Windows(y), np.arange(y.size), y, batch_size=8).set_index("feature")
    assert table.loc["none", "auprc"] == pytest.approx(1.0)
    assert table.loc["dnase", "auprc_drop"] == pytest.approx(1.0 - y.mean())  # all scores tied at 0
    others = table.drop(index=["none", "dnase"])
    assert (others["auprc_drop"].abs() < 1e-12).all()
