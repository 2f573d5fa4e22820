"""Windows read in batches from chromosome slices (and by loader workers) equal the windows read one at
a time, and so do the predictions made from them, on a simulated genome."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("pyjaspar")
pyBigWig = pytest.importorskip("pyBigWig")

from pgml.errors import InputError  # noqa: E402
from pgml.tfbs.bins import bin_genome, read_chrom_sizes  # noqa: E402
from pgml.tfbs.model import TfbsModule  # noqa: E402
from pgml.tfbs.params import BIN_STEP, SimulateConfig  # noqa: E402
from pgml.tfbs.predict import predict_cell  # noqa: E402
from pgml.tfbs.simulate import simulate  # noqa: E402
from pgml.tfbs.windows import TfbsWindows, WindowBatches, WindowSource, assemble, batch_loader  # noqa: E402

FLANK = 100


def sparse_track(path: Path, sizes: dict[str, int], seed: int) -> Path:
    """A bigWig with values at every 7th base on average and no entry (NaN) elsewhere."""
    rng = np.random.default_rng(seed)
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader(list(sizes.items()))
    for chrom, n in sizes.items():
        starts = np.sort(rng.choice(n - 1, n // 7, replace=False))
        bw.addEntries([chrom] * starts.size, starts.tolist(), ends=(starts + 1).tolist(),
                      values=rng.gamma(1.0, 2.0, starts.size).tolist())
    bw.close()
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> TfbsWindows:
    d = tmp_path_factory.mktemp("tfbs_batches")
    simulate(d / "sim", SimulateConfig(chroms="chr1:12000,chr2:9000,chr21:6000", n_genes=20), seed=0)
    sizes = read_chrom_sizes(d / "sim" / "chrom.sizes")
    bins = bin_genome(sizes, None, d / "sim" / "blacklist.bed")
    source = WindowSource(d / "sim" / "genome.fa", d / "sim" / "mappability.bw",
                          {"A": sparse_track(d / "a.bw", sizes, 1), "B": sparse_track(d / "b.bw", sizes, 2)},
                          flank=FLANK)
    rng = np.random.default_rng(0)
    annotation = {c: rng.integers(0, 2, (bins.count(c), 6)).astype(np.uint8) for c in bins.chroms}
    labels = {c: rng.integers(-1, 2, (bins.count(c), 2)).astype(np.int8) for c in bins.chroms}
    return TfbsWindows(source, bins, ["A", "B"], annotation, rng.normal(size=(2, 8)), labels)


def one_at_a_time(data: TfbsWindows, keys: np.ndarray) -> tuple[torch.Tensor, ...]:
    items = [data[int(k)] for k in keys]
    return tuple(torch.stack([item[i] for item in items]) for i in range(3))


def test_a_slice_cut_into_windows_equals_each_window_read_alone(data: TfbsWindows) -> None:
    source, size = data.source, data.bins.sizes[0]
    # both chromosome ends (windows reaching past them are zero there), bins 1 and 3 apart
    starts = np.array([0, 1, 2, 5, 9, size // BIN_STEP - 4, size // BIN_STEP - 3]) * BIN_STEP
    block = source.windows("chr1", size, starts, "A")
    assert block.shape == (starts.size, 6, source.length) and block.flags.c_contiguous
    for k, start in enumerate(starts):
        np.testing.assert_array_equal(block[k], source.window("chr1", size, int(start), "A"))
    assert block[0, :, :FLANK].sum() == 0 and block[-1, :, -FLANK:].sum() == 0
    assert (block[:, 5] > 0).any() and block[:, :4].sum(axis=1).max() == 1  # DNase read; one base per position


@pytest.mark.parametrize("batch_size", [1, 7, 64])
def test_batches_equal_windows_read_one_at_a_time(data: TfbsWindows, batch_size: int) -> None:
    rng = np.random.default_rng(batch_size)
    keys = np.concatenate([
        data.keys("chr21", np.arange(data.bins.count("chr21")), 1),   # a whole chromosome, in order
        data.keys("chr1", np.arange(0, 200, 3), 0),                   # gaps of 3 bins: one slice
        data.keys("chr1", np.arange(0, 200, 40), 1),                  # gaps of 40 bins: one slice each
        data.keys("chr2", np.arange(30, 0, -1), 0),                   # decreasing: each window alone
        rng.choice(len(data), 50),                                    # random chromosomes and cell types
    ])
    batches = WindowBatches(data, keys, batch_size)
    assert len(batches) == len(batch_loader(data, keys, batch_size, 0)) == -(-keys.size // batch_size)
    items = [batches[i] for i in range(len(batches))]
    got = [torch.cat(part) for part in zip(*(assemble(item, data.source.length) for item in items), strict=True)]
    # consecutive bins travel as one slice, about 20 times smaller than their windows
    assert items[0][0][0].shape == (6, data.source.length + BIN_STEP * (batch_size - 1))
    for mine, reference in zip(got, one_at_a_time(data, keys), strict=True):
        assert mine.dtype == reference.dtype
        torch.testing.assert_close(mine, reference, rtol=0, atol=0)
    # the runs: chromosome, cell type and gap decide where a slice ends
    chrom, _, cell = data.decode(keys[:batch_size])
    for (c, cl, end) in batches.runs(keys[:batch_size]):
        assert chrom[end - 1] == c and cell[end - 1] == cl


def test_predictions_equal_with_and_without_workers_and_per_window(data: TfbsWindows) -> None:
    torch.manual_seed(0)
    module = TfbsModule(data.source.length, {"conv_filters": 8, "conv_kernel": 9, "pool": 5, "lstm_hidden": 4,
                                             "d_k": 8, "dense": 8}, 1e-3).eval()
    chroms = data.bins.chroms
    serial = predict_cell(module, data, chroms, batch_size=100, device="cpu", workers=0)
    forked = predict_cell(module, data, chroms, batch_size=100, device="cpu", workers=2)
    assert len(serial) == sum(data.bins.count(c) for c in chroms)
    for column in module.model.outputs:
        np.testing.assert_allclose(forked[column], serial[column], rtol=0, atol=1e-6)
    # the windows read one at a time, through the model in the same batches, give the same numbers
    keys = np.concatenate([data.keys(c, np.arange(data.bins.count(c)), 0) for c in chroms])
    with torch.no_grad():
        reference = torch.cat([module(*one_at_a_time(data, part)[:2])["ensemble"]
                               for part in np.array_split(keys, np.arange(100, keys.size, 100))]).numpy()
    reference[np.concatenate([data.bins.blacklist[c] for c in chroms])] = 0.0
    np.testing.assert_allclose(serial["ensemble"], reference, rtol=0, atol=1e-6)
    assert serial["ensemble"].std() > 0


def test_loader_refuses_negative_workers_and_batch_size(data: TfbsWindows) -> None:
    with pytest.raises(InputError, match="--workers must be 0 or more"):
        batch_loader(data, np.arange(4), 2, -1)
    with pytest.raises(InputError, match="--batch-size must be at least 1"):
        batch_loader(data, np.arange(4), 0, 0)
