"""Positional encoding values, reverse-complement symmetry, attention shapes and the challenge metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pgml.tfbs.attention import PairwiseAttention, SingleAttention, positional_encoding
from pgml.tfbs.evaluate import challenge_metrics, peaks_from_bins, precision_threshold
from pgml.tfbs.model import DeepGRN
from pgml.tfbs.params import ModelConfig
from pgml.tfbs.windows import one_hot, reverse_complement

SMALL = {"conv_filters": 4, "conv_kernel": 5, "pool": 4, "lstm_hidden": 3, "d_k": 4, "dense": 5, "dropout": 0.0}


def test_positional_encoding_values() -> None:
    pe = positional_encoding(3, 4)
    # eq. 2.13-2.14: PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(p / 10000^(2i/d))
    expected = [[0, 1, 0, 1],
                [math.sin(1), math.cos(1), math.sin(1 / 100), math.cos(1 / 100)],
                [math.sin(2), math.cos(2), math.sin(2 / 100), math.cos(2 / 100)]]
    np.testing.assert_allclose(pe.numpy(), expected, atol=1e-6)


def test_reverse_complement_of_one_hot() -> None:
    x = torch.zeros(1, 6, 4)
    x[0, :4] = torch.from_numpy(one_hot("ACGN"))
    x[0, 4] = torch.tensor([1.0, 2, 3, 4])
    rc = reverse_complement(x)
    # reverse complement of ACGN is NCGT
    np.testing.assert_array_equal(rc[0, :4].numpy(), one_hot("NCGT"))
    np.testing.assert_array_equal(rc[0, 4].numpy(), [4, 3, 2, 1])
    assert torch.equal(reverse_complement(rc), x)


@pytest.mark.parametrize("merge", ["mean", "max"])
def test_merged_output_is_reverse_complement_symmetric(merge: str) -> None:
    torch.manual_seed(0)
    model = DeepGRN(60, ModelConfig(**SMALL, merge=merge)).eval()
    x, z = torch.rand(3, 6, 60), torch.rand(3, 14)
    out, out_rc = model(x, z), model(reverse_complement(x), z)
    for key in ("single", "pairwise", "ensemble"):
        torch.testing.assert_close(out[key], out_rc[key])
    torch.testing.assert_close(out["ensemble"], (out["single"] + out["pairwise"]) / 2)
    # a single strand is not symmetric: the merge is what makes it so
    logit, _ = model.branches["single"](x, z)
    logit_rc, _ = model.branches["single"](reverse_complement(x), z)
    assert not torch.allclose(logit, logit_rc)


def test_attention_weights_are_distributions() -> None:
    torch.manual_seed(0)
    h = torch.rand(2, 7, 6)
    context, alpha = SingleAttention(7)(h)
    assert context.shape == (2, 6)
    torch.testing.assert_close(alpha.sum(1), torch.ones(2))
    torch.testing.assert_close(context, (alpha[:, :, None] * h).sum(1))
    pooled, weights = PairwiseAttention(6, 7, d_k=4, d_v=4)(h)
    assert pooled.shape == (2, 4) and weights.shape == (2, 7, 7)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 7))


def test_challenge_metrics_on_hand_computed_example() -> None:
    y = np.array([1, 0, 1, 0])
    s = np.array([0.9, 0.8, 0.7, 0.1])
    m = challenge_metrics(y, s)
    # 3 of 4 positive/negative pairs ordered; AP = 0.5 * 1 + 0.5 * 2/3
    assert m["auroc"] == pytest.approx(0.75)
    assert m["average_precision"] == pytest.approx(0.5 + 1 / 3)
    # challenge auPRC (Davis-Goadrich): (TP, FP) = (1,0) (1,1) (2,1) (2,2); rectangle 1/2 * 1, then one TP
    # from precision 1/2 to 2/3: 1/2 * (1/2 + 2/3) / 2 = 7/24; total 19/24
    assert m["auprc"] == pytest.approx(19 / 24)
    assert m["recall_at_50fdr"] == pytest.approx(1.0)   # threshold 0.7: FDR 1/3
    assert m["recall_at_10fdr"] == pytest.approx(0.5)   # threshold 0.9 only
    assert precision_threshold(y, s, 0.6) == pytest.approx(0.7)
    assert precision_threshold(y, s, 1.0) == pytest.approx(0.9)


def test_peaks_merge_overlapping_bins() -> None:
    import pandas as pd

    frame = pd.DataFrame({"chrom": "chr1", "start": [0, 50, 100, 400], "end": [200, 250, 300, 600],
                          "ensemble": [0.9, 0.2, 0.8, 0.95]})
    peaks = peaks_from_bins(frame, 0.5)
    # bins 0 and 100 overlap ([0,200) and [100,300)): one peak; bin 400 another
    assert peaks[["start", "end"]].values.tolist() == [[0, 300], [400, 600]]


def test_saliency_is_the_plain_gradient() -> None:
    from pgml.tfbs.explain import attention_and_saliency
    from pgml.tfbs.model import TfbsModule

    torch.manual_seed(0)
    module = TfbsModule(60, SMALL, 1e-3)
    x = torch.zeros(2, 6, 60)
    x[:, 0] = 1.0  # all A
    z = torch.rand(2, 14)
    res = attention_and_saliency(module, x, z)
    steps = (60 - SMALL["conv_kernel"] + 1) // SMALL["pool"]
    assert res["single"].shape == (2, steps) and res["pairwise"].shape == (2, steps, steps)
    np.testing.assert_allclose(res["single"].sum(1), 1.0, rtol=1e-5)
    xg = x.clone().requires_grad_(True)
    module(xg, z)["ensemble"].sum().backward()
    np.testing.assert_allclose(res["gradient"], xg.grad.numpy(), rtol=1e-5, atol=1e-8)
    # |gradient| averaged over the 6 channels: the C, G, T channels count although the input is 0 there
    np.testing.assert_allclose(res["saliency"], xg.grad.abs().mean(1).numpy(), rtol=1e-5, atol=1e-8)
    assert np.abs(res["saliency"] - np.abs(xg.grad[:, 0].numpy()) / 6).max() > 0


def test_attended_position_is_the_largest_column_sum() -> None:
    from pgml.tfbs.explain import attended_position

    # rows are queries (each a distribution over keys); row 0 puts its largest weight on key 0, but
    # keys 0, 1, 2 receive 0.6, 1.3, 1.1 in all: the most attended position is 1
    a = np.array([[0.6, 0.3, 0.1],
                  [0.0, 0.5, 0.5],
                  [0.0, 0.5, 0.5]])
    assert attended_position(a) == 1
