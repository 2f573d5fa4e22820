"""The MMseqs2 nearest-training-neighbour baseline: a planted homologue gives its label."""

from __future__ import annotations

import random
import shutil

import pytest

from pgml.fold.baselines import nearest_neighbour_labels

pytestmark = pytest.mark.skipif(shutil.which("mmseqs") is None, reason="mmseqs2 not installed")


def _random_protein(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("ACDEFGHIKLMNPQRSTVWY") for _ in range(n))


def _mutate(rng: random.Random, seq: str, fraction: float) -> str:
    out = list(seq)
    for i in rng.sample(range(len(seq)), int(fraction * len(seq))):
        out[i] = rng.choice("ACDEFGHIKLMNPQRSTVWY")
    return "".join(out)


def test_each_test_sequence_takes_the_label_of_its_homologue() -> None:
    rng = random.Random(0)
    families = {f"fam{k}": _random_protein(rng, 120) for k in range(4)}
    train = {f"t{k}_{j}": _mutate(rng, seq, 0.3) for k, seq in enumerate(families.values()) for j in range(2)}
    train_labels = {i: f"class{i[1]}" for i in train}
    test = {f"q{k}": _mutate(rng, seq, 0.4) for k, seq in enumerate(families.values())}
    test["unresolved"] = ""  # no sequence to search with: the fallback, counted
    result = nearest_neighbour_labels(test, train, train_labels, "fallback")
    assert [result.labels[f"q{k}"] for k in range(4)] == ["class0", "class1", "class2", "class3"]
    assert result.labels["unresolved"] == "fallback" and result.n_without_hit == 1
