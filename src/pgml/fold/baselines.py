"""Baselines of the fold evaluation that a user would pick without the network.

- majority class of the training samples;
- a logistic regression on amino-acid composition plus DSSP helix / strand / coil fractions;
- the nearest training neighbour by sequence (:func:`nearest_neighbour_labels`): each test sample takes
  the label of its best-scoring training sequence in an MMseqs2 search [mmseqs2], the sequence-homology
  comparison of table 1 of [ieconv] (HHsuite there). The search runs at the highest sensitivity
  (``-s 7.5``, up to 1,000 hits per query, E-value up to :data:`MAX_EVALUE`); a test sample without any
  hit (no homologue in training, as a sequence-identity split intends) takes the majority class, and the
  count of such samples is reported with the accuracy.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pgml.errors import InputError

log = logging.getLogger(__name__)

#: E-value limit of the search: the nearest neighbour is wanted even when it is a weak hit
MAX_EVALUE = 1000.0


@dataclass(frozen=True)
class NeighbourLabels:
    """``labels`` per test id (the best hit's label, or the fallback); ``n_without_hit`` used the fallback."""

    labels: dict[str, str]
    n_without_hit: int


def composition_features(sequences: list[str], helix: np.ndarray, strand: np.ndarray) -> np.ndarray:
    """Amino-acid composition (20) + DSSP helix, strand and coil fractions."""
    aa = "ACDEFGHIKLMNPQRSTVWY"
    comp = np.asarray([[s.count(a) / max(len(s), 1) for a in aa] for s in sequences])
    return np.c_[comp, helix, strand, 1 - helix - strand]


def _fasta(path: Path, sequences: Mapping[str, str]) -> None:
    path.write_text("".join(f">{k}\n{v}\n" for k, v in sequences.items()))


def best_hits(queries: Mapping[str, str], targets: Mapping[str, str], *, threads: int = 1,
              mmseqs: str = "mmseqs") -> dict[str, str]:
    """Query id -> id of its best target by bit score (``mmseqs easy-search``); queries without a hit are absent."""
    from pgml.split.identity import find_mmseqs

    queries = {k: v for k, v in queries.items() if v}
    targets = {k: v for k, v in targets.items() if v}
    if not queries or not targets:
        return {}
    exe = find_mmseqs(mmseqs)
    with tempfile.TemporaryDirectory(prefix="pgml-nn-") as tmp:
        tmpdir = Path(tmp)
        _fasta(tmpdir / "q.fasta", queries)
        _fasta(tmpdir / "t.fasta", targets)
        out = tmpdir / "hits.m8"
        cmd = [exe, "easy-search", str(tmpdir / "q.fasta"), str(tmpdir / "t.fasta"), str(out), str(tmpdir / "work"),
               "--format-output", "query,target,bits", "-e", str(MAX_EVALUE), "--threads", str(int(threads)),
               "-v", "1", "-s", "7.5", "--max-seqs", "1000"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
            raise InputError(f"MMseqs2 search for the nearest-neighbour baseline failed (exit {proc.returncode}): "
                             f"{tail}")
        best: dict[str, tuple[float, str]] = {}
        for line in out.read_text().splitlines() if out.exists() else []:
            query, target, bits = line.split("\t")[:3]
            score = float(bits)
            if query not in best or (score, target) > best[query]:
                best[query] = (score, target)
    return {q: t for q, (_, t) in best.items()}


def nearest_neighbour_labels(test: Mapping[str, str], train: Mapping[str, str], train_labels: Mapping[str, str],
                             fallback: str, *, threads: int = 1) -> NeighbourLabels:
    """The label of each test sequence's nearest training sequence (see the module docstring)."""
    hits = best_hits(test, train, threads=threads)
    labels = {k: train_labels[hits[k]] if k in hits else fallback for k in test}
    missing = sum(1 for k in test if k not in hits)
    if missing:
        log.info("nearest-neighbour baseline: %d of %d test samples have no MMseqs2 hit in training "
                 "(given the majority class)", missing, len(test))
    return NeighbourLabels(labels=labels, n_without_hit=missing)
