"""Sequence-identity split: entries whose chains are homologous never sit on both sides of a split.

All chain sequences are clustered with MMseqs2 (``mmseqs easy-cluster``: ``--min-seq-id`` identity,
``-c`` coverage with ``--cov-mode 0``, i.e. of both sequences). Entries that share a cluster through any
of their chains are joined into one group (union-find over entries), and whole groups are assigned to
train, val or test (:func:`pgml.split.assign.assign_groups`), so no test or val entry has a chain in a
cluster that training also has.

Identical sequences always share a cluster (they are deduplicated before clustering). Sequences
shorter than :data:`MIN_CLUSTER_LENGTH` residues are not given to MMseqs2, whose k-mer prefilter
cannot seed them: each is a cluster of its own, shared only with identical sequences.

:func:`count_train_homologues` measures the leak of any split (a random one, a published one): how
many val and test entries have a chain in a training cluster.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pgml.errors import InputError
from pgml.split.assign import assign_groups, check_fractions, split_counts

log = logging.getLogger(__name__)

#: Sequences shorter than this are clustered by exact match only (not given to MMseqs2).
MIN_CLUSTER_LENGTH = 10

_RESIDUES = re.compile(r"^[A-Z]*$")
_NO_KMER = "No k-mer could be extracted"


def _chains_of(sequences: Mapping[str, Sequence[str] | str]) -> dict[str, tuple[str, ...]]:
    """Entry id -> upper-case chain sequences, entries sorted; a plain string is one chain."""
    out: dict[str, tuple[str, ...]] = {}
    for entry in sorted(sequences, key=str):
        value = sequences[entry]
        chains = (value,) if isinstance(value, str) else tuple(value)
        clean = []
        for k, seq in enumerate(chains):
            if not isinstance(seq, str):
                raise InputError(f"entry {entry!r} chain {k + 1}: sequence must be a string, not "
                                 f"{type(seq).__name__}")
            seq = seq.strip().upper()
            if not _RESIDUES.match(seq):
                bad = sorted({c for c in seq if not ("A" <= c <= "Z")})
                raise InputError(f"entry {entry!r} chain {k + 1}: sequence has non-letter character(s) "
                                 f"{''.join(bad)!r}; give one-letter residue codes (X for unknown)")
            clean.append(seq)
        out[str(entry)] = tuple(clean)
    return out


def find_mmseqs(mmseqs: str = "mmseqs") -> str:
    """Full path of the MMseqs2 executable; InputError saying how to install it when absent."""
    exe = shutil.which(mmseqs)
    if exe is None:
        raise InputError(f"MMseqs2 executable {mmseqs!r} not found: install the Debian package mmseqs2 "
                         "(apt-get install mmseqs2) or MMseqs2 from https://github.com/soedinglab/MMseqs2, "
                         "or pass the path of the executable")
    return exe


def _tail(text: str, n: int = 15) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return "\n".join(lines[-n:])


def mmseqs_cluster(sequences: Sequence[str], *, min_seq_id: float = 0.3, coverage: float = 0.8,
                   threads: int = 1, mmseqs: str = "mmseqs", mmseqs_args: Sequence[str] = ()) -> list[int]:
    """Cluster sequences with ``mmseqs easy-cluster``; the representative's index for each sequence.

    Runs ``mmseqs easy-cluster in.fasta out tmp --min-seq-id MIN_SEQ_ID -c COVERAGE --cov-mode 0
    --threads THREADS -v 2 [MMSEQS_ARGS...]`` in a temporary directory. A sequence missing from the
    output is its own representative. When MMseqs2 finds no k-mer at all (only very short or
    low-complexity sequences) every sequence is its own cluster. Other failures raise InputError with
    the tail of MMseqs2's messages.
    """
    if not 0 <= min_seq_id <= 1:
        raise InputError(f"min_seq_id {min_seq_id} must be in [0, 1]")
    if not 0 <= coverage <= 1:
        raise InputError(f"coverage {coverage} must be in [0, 1]")
    if threads < 1:
        raise InputError(f"threads {threads} must be at least 1")
    reps = list(range(len(sequences)))
    if not sequences:
        return reps
    exe = find_mmseqs(mmseqs)
    with tempfile.TemporaryDirectory(prefix="pgml-mmseqs-") as tmp:
        tmpdir = Path(tmp)
        fasta = tmpdir / "in.fasta"
        fasta.write_text("".join(f">s{k}\n{seq}\n" for k, seq in enumerate(sequences)))
        cmd = [exe, "easy-cluster", str(fasta), str(tmpdir / "out"), str(tmpdir / "work"),
               "--min-seq-id", str(min_seq_id), "-c", str(coverage), "--cov-mode", "0",
               "--threads", str(int(threads)), "-v", "2", *map(str, mmseqs_args)]
        log.debug("running %s", " ".join(cmd))
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        except OSError as exc:
            raise InputError(f"cannot run MMseqs2 {exe!r} ({exc}): install the Debian package mmseqs2") from None
        if proc.returncode != 0:
            messages = proc.stderr + "\n" + proc.stdout
            if _NO_KMER in messages:
                log.warning("MMseqs2 found no k-mer in %d sequence(s) (all too short or low-complexity): "
                            "each is a cluster of its own", len(sequences))
                return reps
            raise InputError(f"MMseqs2 failed (exit status {proc.returncode}) running {' '.join(cmd)}:\n"
                             f"{_tail(proc.stderr) or _tail(proc.stdout)}")
        table = tmpdir / "out_cluster.tsv"
        if not table.is_file():
            raise InputError(f"MMseqs2 wrote no {table.name} running {' '.join(cmd)}:\n{_tail(proc.stdout)}")
        for line in table.read_text().splitlines():
            if not line.strip():
                continue
            rep, member = line.split("\t")[:2]
            reps[int(member[1:])] = int(rep[1:])
    return reps


def cluster_chains(sequences: Mapping[str, Sequence[str] | str], *, min_seq_id: float = 0.3,
                   coverage: float = 0.8, threads: int = 1, mmseqs: str = "mmseqs",
                   mmseqs_args: Sequence[str] = ()) -> dict[str, tuple[str, ...]]:
    """Cluster every chain of every entry; ``{entry: (cluster id of each chain, ...)}``.

    ``sequences`` maps an entry id to its chain sequences (one-letter codes; a plain string is a
    single chain). Cluster ids are ``c1``, ``c2``... numbered in order of first appearance over the
    sorted entries and their chains, so equal input gives equal ids. See :func:`mmseqs_cluster` for
    the MMseqs2 run and the module docstring for short sequences.
    """
    chains = _chains_of(sequences)
    find_mmseqs(mmseqs)
    unique: dict[str, int] = {}
    for seqs in chains.values():
        for seq in seqs:
            unique.setdefault(seq, len(unique))
    long_seqs = [s for s in unique if len(s) >= MIN_CLUSTER_LENGTH]
    reps = mmseqs_cluster(long_seqs, min_seq_id=min_seq_id, coverage=coverage, threads=threads,
                          mmseqs=mmseqs, mmseqs_args=mmseqs_args)
    rep_of: dict[str, str] = {s: s for s in unique}
    for k, seq in enumerate(long_seqs):
        rep_of[seq] = long_seqs[reps[k]]
    labels: dict[str, str] = {}
    out: dict[str, tuple[str, ...]] = {}
    for entry, seqs in chains.items():
        ids = []
        for seq in seqs:
            rep = rep_of[seq]
            if rep not in labels:
                labels[rep] = f"c{len(labels) + 1}"
            ids.append(labels[rep])
        out[entry] = tuple(ids)
    n_short = sum(1 for s in unique if len(s) < MIN_CLUSTER_LENGTH)
    log.info("clustered %d chain(s) of %d entries (%d distinct sequences, %d shorter than %d) into %d "
             "cluster(s) at %.0f%% identity, %.0f%% coverage", sum(len(s) for s in chains.values()),
             len(chains), len(unique), n_short, MIN_CLUSTER_LENGTH, len(labels), 100 * min_seq_id,
             100 * coverage)
    return out


def group_entries(clusters: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """Join entries that share a cluster through any chain; ``{entry: group id}``.

    The group id is the smallest entry id of the group (entries compared as strings). An entry with
    no chains is a group of its own.
    """
    clusters = {str(e): tuple(c) for e, c in clusters.items()}
    entries = sorted(clusters)
    parent = {e: e for e in entries}

    def find(e: str) -> str:
        while parent[e] != e:
            parent[e] = parent[parent[e]]
            e = parent[e]
        return e

    owner: dict[str, str] = {}
    for entry in entries:
        for cluster in clusters[entry]:
            if cluster in owner:
                a, b = find(owner[cluster]), find(entry)
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                owner[cluster] = entry
    return {e: find(e) for e in entries}


@dataclass(frozen=True)
class SplitResult:
    """An identity split: ``assignment`` ``{entry: split}``, ``group`` ``{entry: group id}`` (the
    smallest entry id of the group of homologous entries) and ``clusters``
    ``{entry: (cluster id of each chain, ...)}``."""

    assignment: dict[str, str]
    group: dict[str, str]
    clusters: dict[str, tuple[str, ...]] = field(repr=False)

    def counts(self) -> dict[str, int]:
        """Entries per split."""
        return split_counts(self.assignment)


def split_by_clusters(clusters: Mapping[str, Iterable[str]], val_fraction: float = 0.15,
                      test_fraction: float = 0.15, seed: int = 0) -> SplitResult:
    """Group entries by shared clusters (:func:`group_entries`) and assign whole groups
    (:func:`~pgml.split.assign.assign_groups`). Lets one clustering serve several seeds."""
    check_fractions(val_fraction, test_fraction)
    clusters = {str(e): tuple(c) for e, c in clusters.items()}
    group = group_entries(clusters)
    assignment = assign_groups(group, val_fraction, test_fraction, seed)
    sizes: dict[str, int] = {}
    for g in group.values():
        sizes[g] = sizes.get(g, 0) + 1
    counts = split_counts(assignment)
    log.info("identity split of %d entries in %d group(s) (largest %d): train %d, val %d, test %d (seed %d)",
             len(group), len(sizes), max(sizes.values(), default=0), counts["train"], counts["val"],
             counts["test"], seed)
    return SplitResult(assignment=assignment, group=group, clusters=clusters)


def identity_split(sequences: Mapping[str, Sequence[str] | str], val_fraction: float = 0.15,
                   test_fraction: float = 0.15, seed: int = 0, min_seq_id: float = 0.3,
                   coverage: float = 0.8, threads: int = 1, mmseqs: str = "mmseqs",
                   mmseqs_args: Sequence[str] = ()) -> SplitResult:
    """Split entries so that no val or test entry has a chain homologous to a training chain.

    ``sequences`` maps each entry id to its chain sequences (one-letter codes). Chains are clustered
    with MMseqs2 at ``min_seq_id`` identity and ``coverage`` (:func:`cluster_chains`; extra MMseqs2
    options in ``mmseqs_args``, e.g. ``["-s", "7.5"]``), entries sharing a cluster are grouped, and
    groups are dealt to test, val and train in a seeded order (:func:`split_by_clusters`).
    Deterministic for a given input and seed. InputError when MMseqs2 is missing or fails.
    """
    check_fractions(val_fraction, test_fraction)
    clusters = cluster_chains(sequences, min_seq_id=min_seq_id, coverage=coverage, threads=threads,
                              mmseqs=mmseqs, mmseqs_args=mmseqs_args)
    return split_by_clusters(clusters, val_fraction, test_fraction, seed)


@dataclass(frozen=True)
class HomologueReport:
    """Val and test entries with a chain in a training cluster: ``leaked`` ``{split: sorted ids}``
    and ``totals`` ``{split: entries}``."""

    leaked: dict[str, tuple[str, ...]]
    totals: dict[str, int]

    def count(self, split: str) -> int:
        return len(self.leaked.get(split, ()))

    def fraction(self, split: str) -> float:
        """Share of the split's entries that have a training homologue (0.0 for an empty split)."""
        total = self.totals.get(split, 0)
        return self.count(split) / total if total else 0.0

    def summary(self) -> str:
        """One line, e.g. ``test: 3 of 10 entries (30.0%) have a training homologue; val: ...``."""
        parts = []
        for split in ("test", "val"):
            parts.append(f"{split}: {self.count(split)} of {self.totals.get(split, 0)} entries "
                         f"({100 * self.fraction(split):.1f}%) have a training homologue")
        return "; ".join(parts)


def count_train_homologues(assignment: Mapping[str, str],
                           clusters: SplitResult | Mapping[str, Iterable[str]] | None = None, *,
                           sequences: Mapping[str, Sequence[str] | str] | None = None,
                           min_seq_id: float = 0.3, coverage: float = 0.8, threads: int = 1,
                           mmseqs: str = "mmseqs", mmseqs_args: Sequence[str] = ()) -> HomologueReport:
    """Which val and test entries of ``assignment`` have a chain in the same cluster as a training
    chain, i.e. how much a split (random, published) leaks homology into evaluation.

    Give either ``clusters`` (``{entry: cluster ids of its chains}``, e.g. from
    :func:`cluster_chains`, or a :class:`SplitResult`) or ``sequences``, which are then clustered
    with the remaining arguments as in :func:`identity_split`. InputError when an entry of the
    assignment has no clusters.
    """
    if (clusters is None) == (sequences is None):
        raise ValueError("give exactly one of clusters and sequences")
    if sequences is not None:
        clusters = cluster_chains(sequences, min_seq_id=min_seq_id, coverage=coverage, threads=threads,
                                  mmseqs=mmseqs, mmseqs_args=mmseqs_args)
    if isinstance(clusters, SplitResult):
        clusters = clusters.clusters
    missing = sorted(str(e) for e in assignment if e not in clusters)
    if missing:
        raise InputError(f"{len(missing)} entr(ies) of the split have no chain clusters: "
                         f"{', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}")
    train = {c for e, s in assignment.items() if s == "train" for c in clusters[e]}
    leaked: dict[str, tuple[str, ...]] = {}
    for split in ("val", "test"):
        leaked[split] = tuple(sorted(str(e) for e, s in assignment.items()
                                     if s == split and any(c in train for c in clusters[e])))
    report = HomologueReport(leaked=leaked, totals=split_counts(assignment))
    log.info("homologues of training chains: %s", report.summary())
    return report
