"""Split names, split sizes and the two ways of dealing entries out: one by one (random) or in groups.

Every splitter returns a plain ``dict`` from entry id to one of :data:`SPLITS`. Results depend only on
the set of ids (they are sorted first) and the seed, never on the order the ids arrive in.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

import numpy as np

from pgml.errors import InputError

log = logging.getLogger(__name__)

SPLITS: tuple[str, ...] = ("train", "val", "test")


def check_fractions(val_fraction: float, test_fraction: float) -> None:
    """Raise InputError unless both fractions lie in [0, 1) and sum to less than 1."""
    if not (0 <= val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise InputError(f"val_fraction {val_fraction} and test_fraction {test_fraction} must be in [0, 1) "
                         "and sum to less than 1")


def split_sizes(n: int, val_fraction: float, test_fraction: float) -> tuple[int, int, int]:
    """(n_train, n_val, n_test): rounded fractions, at least one val and one test when n >= 3.

    With fewer than 3 entries everything goes to train. Otherwise val and test get
    ``round(n * fraction)`` entries each, at least one, and are shrunk (the larger first) until train
    keeps at least one entry.
    """
    if n < 3:
        return n, 0, 0
    n_val = max(1, round(n * val_fraction))
    n_test = max(1, round(n * test_fraction))
    while n - n_val - n_test < 1:
        if n_val >= n_test and n_val > 1:
            n_val -= 1
        elif n_test > 1:
            n_test -= 1
        else:
            break
    return n - n_val - n_test, n_val, n_test


def unique_sorted(ids: Iterable[str]) -> list[str]:
    """The ids sorted; InputError naming the first duplicate."""
    out = sorted(str(i) for i in ids)
    for a, b in zip(out, out[1:], strict=False):
        if a == b:
            raise InputError(f"duplicate id {a!r}: every entry must have a distinct id")
    return out


def random_split(ids: Iterable[str], val_fraction: float = 0.15, test_fraction: float = 0.15,
                 seed: int = 0) -> dict[str, str]:
    """Assign each id to train/val/test at random, sizes from :func:`split_sizes`.

    The ids are sorted, permuted with ``numpy.random.default_rng(seed).permutation``; the first
    ``n_train`` positions of the permutation are train, the next ``n_val`` val, the rest test. Returns
    ``{id: split}`` in sorted id order.
    """
    check_fractions(val_fraction, test_fraction)
    ordered = unique_sorted(ids)
    order = np.random.default_rng(seed).permutation(len(ordered))
    n_train, n_val, _ = split_sizes(len(ordered), val_fraction, test_fraction)
    labels = np.empty(len(ordered), dtype=object)
    labels[order[:n_train]] = "train"
    labels[order[n_train:n_train + n_val]] = "val"
    labels[order[n_train + n_val:]] = "test"
    return dict(zip(ordered, labels.tolist(), strict=True))


def assign_groups(groups: Mapping[str, str], val_fraction: float = 0.15, test_fraction: float = 0.15,
                  seed: int = 0) -> dict[str, str]:
    """Assign whole groups to train/val/test: ``groups`` maps each entry id to its group id.

    The target sizes are :func:`split_sizes` of the number of entries. Groups, sorted by id, are
    shuffled with ``numpy.random.default_rng(seed).permutation``; walking that order, a group goes to
    test if it still fits test's target, else to val if it fits val's, else to train. Test and val
    never exceed their targets (so train keeps at least one entry from 3 entries on); they fall short
    when the groups are too large to fit, which is logged as a warning. Returns ``{id: split}`` in
    sorted id order.
    """
    check_fractions(val_fraction, test_fraction)
    members: dict[str, list[str]] = {}
    for entry in unique_sorted(groups):
        members.setdefault(str(groups[entry]), []).append(entry)
    names = sorted(members)
    order = np.random.default_rng(seed).permutation(len(names))
    _, n_val, n_test = split_sizes(len(groups), val_fraction, test_fraction)
    target = {"val": n_val, "test": n_test}
    filled = {"val": 0, "test": 0}
    out: dict[str, str] = {}
    for k in order:
        entries = members[names[k]]
        split = "train"
        for candidate in ("test", "val"):
            if filled[candidate] + len(entries) <= target[candidate]:
                split = candidate
                filled[candidate] += len(entries)
                break
        for entry in entries:
            out[entry] = split
    for split in ("val", "test"):
        if filled[split] < target[split]:
            log.warning("%s has %d of its target %d entries: the remaining groups are too large to fit "
                        "(largest group: %d entries)", split, filled[split], target[split],
                        max(len(m) for m in members.values()))
    return dict(sorted(out.items()))


def split_counts(assignment: Mapping[str, str]) -> dict[str, int]:
    """Number of entries in each split, in :data:`SPLITS` order."""
    counts = dict.fromkeys(SPLITS, 0)
    for split in assignment.values():
        counts[split] = counts.get(split, 0) + 1
    return counts
