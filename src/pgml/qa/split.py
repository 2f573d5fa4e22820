"""Train/validation/test assignment of targets by sequence identity (``pgml qa split``): targets whose
native (or first model) sequences share an MMseqs2 cluster at 30 % identity stay on one side
(:func:`pgml.split.identity_split`)."""

from __future__ import annotations

from pathlib import Path

from pgml.errors import InputError
from pgml.qa.params import SplitConfig


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
                  threads: int = 1) -> dict[str, str]:
    from pgml.split import identity_split, write_split_table

    sequences = target_sequences(graph_files)
    if len(sequences) < 3:
        raise InputError(f"{len(sequences)} target(s); a train/validation/test split needs at least 3")
    result = identity_split(sequences, val_fraction=config.val_fraction, test_fraction=config.test_fraction,
                            seed=seed, min_seq_id=config.min_seq_id, coverage=config.coverage, threads=threads)
    write_split_table(output, result.assignment, columns={"group": result.group})
    return result.assignment
