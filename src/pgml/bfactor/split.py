"""Train / validation / test split of the kept structures, by seed.

Structures (not atoms) are split, as in the seed paper, so no protein contributes atoms to two
subsets. The order is a seeded permutation of the kept ids sorted alphabetically, so the split depends
only on the set of kept structures and the seed, not on how they were sharded.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.bfactor.graphs import read_selection
from pgml.bfactor.select import SELECTION_COLUMNS
from pgml.errors import InputError
from pgml.fileio import atomic_path

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


def split_sizes(n: int, val_fraction: float, test_fraction: float) -> tuple[int, int, int]:
    """(n_train, n_val, n_test): rounded fractions, at least one val and one test when n >= 3."""
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


def split_dataset(
    selection_tsvs: Sequence[str | Path] | str | Path,
    output: str | Path,
    report: str | Path,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
) -> pd.DataFrame:
    """Merge selection TSVs into ``report`` and write ``output`` (id, file, split) for the kept rows."""
    if isinstance(selection_tsvs, str | Path):
        selection_tsvs = [selection_tsvs]
    if not (0 <= val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise InputError(f"val_fraction {val_fraction} and test_fraction {test_fraction} must be in [0, 1) "
                         "and sum to less than 1")
    tables = [read_selection(p) for p in selection_tsvs]
    merged = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=SELECTION_COLUMNS)
    merged = merged.sort_values(["status", "id", "file"], kind="stable").reset_index(drop=True)
    with atomic_path(report) as tmp:
        merged.to_csv(tmp, sep="\t", index=False)
    kept = merged[merged["status"] == "kept"]
    dup = kept["id"].duplicated(keep="first")
    if dup.any():
        log.warning("%d duplicate id(s) among kept structures; keeping the first file of each: %s",
                    int(dup.sum()), ", ".join(kept.loc[dup, "id"].tolist()[:10]))
        kept = kept[~dup]
    if kept.empty:
        raise InputError(f"no structure was kept ({len(merged)} rows, all dropped); see {report}",
                         path=", ".join(str(p) for p in selection_tsvs))
    kept = kept.sort_values("id", kind="stable").reset_index(drop=True)
    order = np.random.default_rng(seed).permutation(len(kept))
    n_train, n_val, _ = split_sizes(len(kept), val_fraction, test_fraction)
    labels = np.empty(len(kept), dtype=object)
    labels[order[:n_train]] = "train"
    labels[order[n_train:n_train + n_val]] = "val"
    labels[order[n_train + n_val:]] = "test"
    out = pd.DataFrame({"id": kept["id"], "file": kept["file"], "split": labels})
    out["_rank"] = out["split"].map({s: k for k, s in enumerate(SPLITS)})
    out = out.sort_values(["_rank", "id"], kind="stable").drop(columns="_rank").reset_index(drop=True)
    with atomic_path(output) as tmp:
        out.to_csv(tmp, sep="\t", index=False)
    counts = out["split"].value_counts()
    log.info("split %d structures: train %d, val %d, test %d (seed %d)", len(out), counts.get("train", 0),
             counts.get("val", 0), counts.get("test", 0), seed)
    if len(out) < 3:
        log.warning("only %d structure(s) kept: all go to train, no validation or test set", len(out))
    return out
