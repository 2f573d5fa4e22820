"""Train / validation / test split of the kept structures (``pgml bfactor split``).

Structures (not atoms) are split, as in [metagnn], so no protein contributes atoms to two subsets.
The assignment itself comes from the shared :mod:`pgml.split`, by ``SplitConfig.method``:

* ``identity`` (the default): the chain sequences recorded by ``select`` are clustered with MMseqs2
  (``min_seq_id``, ``coverage``); entries sharing a cluster stay on one side, so no validation or
  test protein has a homologue in training;
* ``random``: a seeded permutation of the sorted kept ids (depends only on the kept set and the seed);
* ``list``: a published split from a list file (one ``id split`` per line).

Whatever the method, the output says for every validation and test entry whether it has a chain in
a training cluster (``train_homologue``), and the log gives the count: the leak a random or
published split carries. That check needs MMseqs2; without it the column is ``NA`` (random and list
splits only).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.bfactor.params import SplitConfig
from pgml.errors import InputError
from pgml.runtime import n_threads
from pgml.split import (
    SPLITS,
    check_fractions,
    cluster_chains,
    count_train_homologues,
    identity_split,
    list_split,
    random_split,
)
from pgml.tables import write_tsv

log = logging.getLogger(__name__)

SPLIT_COLUMNS = ("id", "file", "split", "group", "train_homologue")


def _kept(merged: pd.DataFrame, selection_tsvs: Sequence[str | Path], report: str | Path) -> pd.DataFrame:
    kept = merged[merged["status"] == "kept"]
    dup = kept["id"].duplicated(keep="first")
    if dup.any():
        log.warning("%d duplicate id(s) among kept structures; keeping the first file of each: %s",
                    int(dup.sum()), ", ".join(kept.loc[dup, "id"].tolist()[:10]))
        kept = kept[~dup]
    if kept.empty:
        raise InputError(f"no structure was kept ({len(merged)} rows, all dropped); see {report}",
                         path=", ".join(str(p) for p in selection_tsvs))
    return kept.sort_values("id", kind="stable").reset_index(drop=True)


def _sequences(kept: pd.DataFrame) -> dict[str, list[str]]:
    from pgml.bfactor.select import parse_sequences

    sequences = {row.id: parse_sequences(row.sequences) for row in kept.itertuples(index=False)}
    empty = [i for i, seqs in sequences.items() if not seqs]
    if empty:
        raise InputError(f"no chain sequence recorded for {len(empty)} kept entr(ies), e.g. {empty[:5]}; "
                         "rerun `pgml bfactor select` to record them")
    return sequences


def assign(kept: pd.DataFrame, config: SplitConfig, seed: int) -> tuple[dict[str, str], dict[str, str], dict | None]:
    """``(assignment, group, clusters)`` of the kept entries; ``clusters`` is None when not computed."""
    ids = kept["id"].tolist()
    if config.method == "random":
        return random_split(ids, config.val_fraction, config.test_fraction, seed), {i: i for i in ids}, None
    if config.method == "list":
        if not config.list:
            raise InputError("a list split needs --list FILE (one `id split` per line)")
        return list_assignment(ids, config, seed), {i: i for i in ids}, None
    if config.method == "identity":
        result = identity_split(_sequences(kept), config.val_fraction, config.test_fraction, seed,
                                min_seq_id=config.min_seq_id, coverage=config.coverage, threads=n_threads())
        return result.assignment, result.group, result.clusters
    raise InputError(f"unknown split method {config.method!r}; choose identity, random or list")


def list_assignment(ids: list[str], config: SplitConfig, seed: int) -> dict[str, str]:
    """A list split: entries as the list file names them; the rest go to train and validation.

    [metagnn]'s protocol tests on a separate set: a list that names only ``test`` entries (no ``val``
    line) puts every other entry in train or validation at random, ``val_fraction`` of them in
    validation (the paper's 85/15). A list that names ``val`` entries is taken as it is, and unlisted
    entries go to train. Ids match case-insensitively (PDB codes come in either case).
    """
    from pgml.split import read_split_list

    listed = read_split_list(config.list)
    assignment = list_split(ids, config.list, unlisted_to_train=True, ignore_case=True)
    if "val" not in listed.values():
        rest = sorted(i for i in ids if assignment[i] != "test")
        n_val = min(max(1, round(len(rest) * config.val_fraction)), len(rest) - 1) if len(rest) >= 2 else 0
        order = np.random.default_rng(seed).permutation(len(rest))  # as pgml.split.random_split draws
        for k, pos in enumerate(order):
            assignment[rest[pos]] = "val" if k < n_val else "train"
    return assignment


def homologue_flags(assignment: dict[str, str], kept: pd.DataFrame, clusters: dict | None,
                    config: SplitConfig) -> dict[str, str]:
    """``{id: yes|no|NA}``: does a val/test entry have a chain in a training cluster (train: ``.``)."""
    if clusters is None:
        try:
            clusters = cluster_chains(_sequences(kept), min_seq_id=config.min_seq_id, coverage=config.coverage,
                                      threads=n_threads())
        except InputError as exc:
            log.warning("cannot check the %s split for homologues in training: %s", config.method, exc)
            return {i: "." if s == "train" else "NA" for i, s in assignment.items()}
    report = count_train_homologues(assignment, clusters)
    log.info("%s split: %s", config.method, report.summary())
    if report.count("test"):
        log.warning("test entries with a homologue in training (their metrics are inflated): %s",
                    ", ".join(report.leaked["test"][:20]))
    leaked = {e for split in ("val", "test") for e in report.leaked.get(split, ())}
    return {i: "." if s == "train" else ("yes" if i in leaked else "no") for i, s in assignment.items()}


def read_split(path: str | Path) -> dict[str, str]:
    """``{id: split}`` from a split TSV; :class:`InputError` on missing columns or unknown split names."""
    path = Path(path)
    if path.is_dir():
        raise InputError("is a directory, not a split TSV", path=path)
    try:
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise InputError("split file not found", path=path) from None
    except pd.errors.EmptyDataError:
        raise InputError("empty split file; expected the columns id, file, split", path=path) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"not a split TSV ({exc})", path=path) from None
    missing = {"id", "split"} - set(table.columns)
    if missing:
        raise InputError(f"missing column(s) {sorted(missing)}; expected id, file, split (tab-separated), "
                         f"found {list(table.columns)[:5]}", path=path, record="header")
    if table.empty:
        raise InputError("no rows under the header", path=path)
    bad = table[~table["split"].isin(["train", "val", "test"])]
    if len(bad):
        row = bad.iloc[0]
        raise InputError(f"split must be train, val or test, got {row['split']!r}", path=path,
                         record=f"id {row['id']}")
    dup = table["id"][table["id"].duplicated()]
    if len(dup):
        raise InputError("id listed more than once", path=path, record=f"id {dup.iloc[0]}")
    return dict(zip(table["id"], table["split"], strict=True))


def split_dataset(
    selection_tsvs: Sequence[str | Path] | str | Path,
    output: str | Path,
    report: str | Path,
    config: SplitConfig | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Merge selection TSVs into ``report`` and write ``output`` (:data:`SPLIT_COLUMNS`) for the kept rows."""
    config = config or SplitConfig()
    if isinstance(selection_tsvs, str | Path):
        selection_tsvs = [selection_tsvs]
    try:
        check_fractions(config.val_fraction, config.test_fraction)
    except (InputError, ValueError) as exc:
        raise InputError(f"val_fraction {config.val_fraction} and test_fraction {config.test_fraction} must be "
                         f"in [0, 1) and sum to less than 1 ({exc})") from None
    from pgml.bfactor.graphs import read_selection
    from pgml.bfactor.select import SELECTION_COLUMNS

    tables = [read_selection(p) for p in selection_tsvs]
    merged = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=SELECTION_COLUMNS)
    merged = merged.sort_values(["status", "id", "file"], kind="stable").reset_index(drop=True)
    write_tsv(merged, report)
    kept = _kept(merged, selection_tsvs, report)
    assignment, group, clusters = assign(kept, config, seed)
    flags = homologue_flags(assignment, kept, clusters, config)
    out = pd.DataFrame({"id": kept["id"], "file": kept["file"]})
    out["split"] = out["id"].map(assignment)
    out["group"] = out["id"].map(group)
    out["train_homologue"] = out["id"].map(flags)
    out["_rank"] = out["split"].map({s: k for k, s in enumerate(SPLITS)})
    out = out.sort_values(["_rank", "id"], kind="stable").drop(columns="_rank").reset_index(drop=True)
    write_tsv(out, output)
    counts = out["split"].value_counts()
    log.info("%s split of %d structures: train %d, val %d, test %d (seed %d)", config.method, len(out),
             counts.get("train", 0), counts.get("val", 0), counts.get("test", 0), seed)
    if len(out) < 3:
        log.warning("only %d structure(s) kept: all go to train, no validation or test set", len(out))
    return out
