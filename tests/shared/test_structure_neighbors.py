"""pgml.structure.neighbors: k-d tree pairs and counts against hand-computed and brute-force answers."""

from __future__ import annotations

import numpy as np
import pytest

from pgml.structure.neighbors import neighbour_counts, radius_pairs


def test_hand_made_line():
    coords = np.array([[0.0, 0, 0], [1.0, 0, 0], [2.5, 0, 0], [10.0, 0, 0]])
    assert radius_pairs(coords, 1.5).tolist() == [[0, 1], [1, 2]]
    assert neighbour_counts(coords, 1.5).tolist() == [1, 2, 1, 0]
    assert neighbour_counts(coords, 2.5).tolist() == [2, 2, 2, 0]  # boundary inclusive
    assert neighbour_counts(coords, 100.0).tolist() == [3, 3, 3, 3]


def test_cube_corners():
    """Unit cube: each corner has 3 neighbours at 1, 3 at sqrt(2), 1 at sqrt(3)."""
    coords = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], dtype=float)
    assert neighbour_counts(coords, 1.01).tolist() == [3] * 8
    assert neighbour_counts(coords, 1.5).tolist() == [6] * 8
    assert neighbour_counts(coords, 1.8).tolist() == [7] * 8
    assert len(radius_pairs(coords, 1.01)) == 12  # cube edges


@pytest.mark.parametrize("seed", [0, 1])
def test_agrees_with_brute_force(seed):
    rng = np.random.default_rng(seed)
    coords = rng.uniform(0, 20, size=(300, 3))
    d = np.linalg.norm(coords[:, None] - coords[None], axis=-1)
    r = 4.0
    np.testing.assert_array_equal(neighbour_counts(coords, r), (d <= r).sum(1) - 1)
    i, j = np.nonzero(np.triu(d <= r, k=1))
    np.testing.assert_array_equal(radius_pairs(coords, r), np.stack([i, j], 1))


def test_rotation_translation_invariant():
    rng = np.random.default_rng(3)
    coords = rng.uniform(0, 15, size=(200, 3))
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    moved = coords @ q.T + np.array([5.0, -3.0, 12.0])
    np.testing.assert_array_equal(neighbour_counts(coords, 5.0), neighbour_counts(moved, 5.0))


def test_degenerate_inputs():
    assert radius_pairs(np.zeros((0, 3)), 1.0).shape == (0, 2)
    assert radius_pairs(np.zeros((1, 3)), 1.0).shape == (0, 2)
    assert neighbour_counts(np.zeros((0, 3)), 1.0).shape == (0,)
    assert neighbour_counts(np.zeros((1, 3)), 1.0).tolist() == [0]
    assert neighbour_counts(np.zeros((2, 3)), 1.0).tolist() == [1, 1]  # coincident points
