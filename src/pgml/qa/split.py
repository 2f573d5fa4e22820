"""Train/validation/test assignment of targets (``pgml qa split``).

* By sequence identity (default): targets whose native (or first model) sequences share an MMseqs2
  cluster at 30 % identity stay on one side (:func:`pgml.split.identity_split`).
* By lists, the chapter's protocol: training, (validation) and test targets named in list files, one
  id per line as EnQA's ``af2_train.txt`` / ``af2_test.txt`` (chain ids such as ``7C7FA``; a target
  directory ``7C7F_A`` or ``7c7f-A`` matches; chain ids are case-sensitive), or ``id split`` lines. Lists drawn by date (CASP8-12 +
  AF2 models to train, CASP13 to validate, CASP14/CAMEO/AF2 to test) give the temporal split. Without
  a validation list, ``val_fraction`` of the training targets validate. As in the chapter, a
  validation or test target with a chain in an MMseqs2 cluster of a training chain (``min_seq_id``,
  ``coverage``) is left out of the table, with a warning naming it.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from pgml.errors import InputError
from pgml.qa.params import SplitConfig

log = logging.getLogger(__name__)


def normalise_id(name: str) -> str:
    """``7C7F_A``, ``7c7f-A`` and ``7C7FA`` are one chain id: separators dropped, the 4-character PDB
    code case-insensitive, the chain id after it case-sensitive (``5MDXa`` and ``5MDXA`` are two chains
    in EnQA's lists)."""
    cleaned = re.sub(r"[_\-.:]", "", name)
    return cleaned[:4].casefold() + cleaned[4:]


def read_id_list(path: Path) -> list[str]:
    """Ids of a list file: the first field of each line (``#`` comments, blank lines and an
    ``id split`` header skipped). A list that names nothing or an id twice is refused."""
    path = Path(path)
    if not path.is_file():
        raise InputError("target list not found", path=path)
    try:
        lines = path.read_text().splitlines()
    except UnicodeDecodeError:
        raise InputError("not a text list of target ids", path=path) from None
    ids: list[str] = []
    seen: dict[str, int] = {}
    for lineno, raw in enumerate(lines, start=1):
        fields = raw.split("#", 1)[0].split()
        if not fields or (lineno == 1 and [f.lower() for f in fields[:2]] == ["id", "split"]):
            continue
        key = normalise_id(fields[0])
        if key in seen:
            raise InputError(f"id {fields[0]!r} listed twice (first on line {seen[key]})", path=path,
                             record=f"line {lineno}")
        seen[key] = lineno
        ids.append(fields[0])
    if not ids:
        raise InputError("the list names no target", path=path)
    return ids


def assign_from_lists(targets: list[str], lists: dict[str, Path], val_fraction: float,
                      seed: int = 0) -> dict[str, str]:
    """``{target: split}`` from list files ``{split: path}`` (``train`` and ``test`` required)."""
    import numpy as np

    where: dict[str, tuple[str, Path]] = {}
    for split, path in lists.items():
        for entry in read_id_list(path):
            key = normalise_id(entry)
            if key in where and where[key][0] != split:
                raise InputError(f"{entry} is listed for {split} and in {where[key][1]} for {where[key][0]}",
                                 path=path, record=entry)
            where[key] = (split, path)
    assignment: dict[str, str] = {}
    unlisted = []
    for target in sorted(targets):
        found = where.get(normalise_id(target))
        if found is None:
            unlisted.append(target)
        else:
            assignment[target] = found[0]
    if unlisted:
        raise InputError(f"{len(unlisted)} target(s) in no list: {', '.join(unlisted[:10])}"
                         f"{' ...' if len(unlisted) > 10 else ''}", path=lists["train"])
    present = {normalise_id(t) for t in targets}
    absent = sum(1 for key in where if key not in present)
    if absent:
        log.info("%d listed id(s) have no target directory (the data hold part of the lists)", absent)
    if "val" not in lists:
        train = sorted(t for t, s in assignment.items() if s == "train")
        n_val = int(round(val_fraction * len(train)))
        for target in np.random.default_rng(seed).permutation(train)[:n_val]:
            assignment[str(target)] = "val"
    for split in ("train", "val", "test"):
        if not any(s == split for s in assignment.values()):
            raise InputError(f"no {split} target among the {len(targets)} targets of the graphs", path=lists.get(
                split, lists["train"]))
    return assignment


def target_sequences(graph_files: list[Path]) -> dict[str, list[str]]:
    """{target: [chain sequences of its first model]} from the graph files."""
    from pgml.qa.training import load_samples

    sequences: dict[str, list[str]] = {}
    for sample in load_samples(graph_files):
        if sample.target not in sequences:
            chains: dict[str, list[str]] = {}
            for chain, letter in zip(sample.chain, sample.sequence, strict=True):
                chains.setdefault(chain, []).append(letter)
            sequences[sample.target] = ["".join(v) for v in chains.values()]
    return sequences


def split_targets(graph_files: list[Path], output: Path, config: SplitConfig, seed: int = 0,
                  threads: int = 1, lists: dict[str, Path] | None = None) -> dict[str, str]:
    """Write the split table (module docstring): by identity, or by ``lists`` ``{split: path}``."""
    from pgml.split import count_train_homologues, identity_split, write_split_table

    sequences = target_sequences(graph_files)
    if len(sequences) < 3:
        raise InputError(f"{len(sequences)} target(s); a train/validation/test split needs at least 3")
    if not lists:
        result = identity_split(sequences, val_fraction=config.val_fraction, test_fraction=config.test_fraction,
                                seed=seed, min_seq_id=config.min_seq_id, coverage=config.coverage, threads=threads)
        write_split_table(output, result.assignment, columns={"group": result.group})
        return result.assignment
    if "train" not in lists or "test" not in lists:
        raise InputError("a list split needs a training and a test list (--train-list, --test-list)")
    assignment = assign_from_lists(list(sequences), lists, config.val_fraction, seed)
    report = count_train_homologues(assignment, sequences=sequences, min_seq_id=config.min_seq_id,
                                    coverage=config.coverage, threads=threads)
    for split in ("val", "test"):
        if report.leaked[split]:
            log.warning("%d %s target(s) share a cluster (%.0f%% identity) with a training target and are left "
                        "out: %s", len(report.leaked[split]), split, 100 * config.min_seq_id,
                        ", ".join(report.leaked[split][:10]))
            for target in report.leaked[split]:
                del assignment[target]
    write_split_table(output, assignment)
    return assignment
