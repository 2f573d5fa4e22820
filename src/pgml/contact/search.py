"""Alignments from a sequence search against a FASTA database: jackhmmer (pyhmmer) or mmseqs easy-search.

Each included domain of each included hit becomes one row over the query's positions: the domain's
HMM match states are placed at their model positions, its insertions (``.`` in the model line) are
dropped, deletions are gaps, and positions the domain does not cover are gaps (a3m semantics, query
first). Model positions equal query positions only while the model has one node per query residue:
the first iteration's model (built from the query) always does; of later iterations, whose models
are rebuilt from the hits, the last one that still has ``L`` nodes is used (and the log says so).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from pgml.contact.alignment import Alignment, _encode
from pgml.errors import InputError

log = logging.getLogger(__name__)


def jackhmmer_alignment(query: str, database: str | Path, *, iterations: int = 3, evalue: float = 1e-3,
                        threads: int = 1, name: str = "query") -> Alignment:
    """Query first, then one row per included domain of the chosen iteration (module docstring)."""
    from pyhmmer import easel, hmmer

    alphabet = easel.Alphabet.amino()
    database = Path(database)
    if not database.is_file():
        raise InputError("sequence database not found", path=database)
    digital = easel.TextSequence(name=name.encode(), sequence=query).digitize(alphabet)
    try:
        with easel.SequenceFile(database, digital=True, alphabet=alphabet) as handle:
            targets = handle.read_block()
    except (ValueError, OSError, EOFError) as exc:
        raise InputError(f"cannot read as a FASTA sequence database: {exc}", path=database) from None
    if len(targets) == 0:
        raise InputError("sequence database holds no sequences", path=database)
    length = len(query)
    (rounds,) = list(hmmer.jackhmmer([digital], targets, max_iterations=iterations, checkpoints=True,
                                     cpus=threads, E=evalue, incE=evalue, domE=evalue, incdomE=evalue))
    usable = [r for r in rounds if r.hmm.M == length]
    chosen = usable[-1]
    if chosen is not rounds[-1]:
        log.warning("jackhmmer iteration %d's model has %d nodes for %d query residues; using iteration %d",
                    rounds[-1].iteration, rounds[-1].hmm.M, length, chosen.iteration)
    names, rows = [name], [_encode(name, query, database)]
    for hit in chosen.hits.included:
        hit_name = hit.name.decode() if isinstance(hit.name, bytes) else str(hit.name)
        for k, domain in enumerate(hit.domains.included):
            ali = domain.alignment
            row = np.full(length, "-", dtype="<U1")
            pos = ali.hmm_from - 1
            for h, t in zip(ali.hmm_sequence, ali.target_sequence, strict=True):
                if h == ".":
                    continue
                if pos < length:
                    row[pos] = t.upper() if t.isalpha() else "-"
                pos += 1
            label = f"{hit_name}/{k + 1}"
            names.append(label)
            rows.append(_encode(label, "".join(row), database))
    log.info("jackhmmer: %d iteration(s), %d hits, %d aligned domains", chosen.iteration, len(chosen.hits.included),
             len(rows) - 1)
    return Alignment(names, np.stack(rows))


def mmseqs_alignment(query: str, database: str | Path, *, evalue: float = 1e-3, threads: int = 1,
                     name: str = "query", mmseqs: str = "mmseqs") -> Alignment:
    """Query first, then one row per hit of ``mmseqs easy-search`` (Debian mmseqs2).

    Each hit's aligned query and target strings (``qaln``, ``taln``) are walked from ``qstart``:
    a gap in the query is a target insertion (dropped), any other column sets the query position to
    the target's residue or gap (a3m semantics).
    """
    import shutil
    import subprocess
    import tempfile

    database = Path(database)
    if not database.is_file():
        raise InputError("sequence database not found", path=database)
    exe = shutil.which(mmseqs)
    if exe is None:
        raise InputError(f"{mmseqs} not found on PATH (Debian package mmseqs2)")
    length = len(query)
    names, rows = [name], [_encode(name, query, database)]
    with tempfile.TemporaryDirectory(prefix="pgml-mmseqs-") as tmp:
        fasta, out = Path(tmp) / "query.fasta", Path(tmp) / "hits.tsv"
        fasta.write_text(f">{name}\n{query}\n")
        cmd = [exe, "easy-search", str(fasta), str(database), str(out), str(Path(tmp) / "work"), "-e", str(evalue),
               "--threads", str(threads), "--format-output", "target,qstart,qaln,taln", "-v", "1"]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            tail = " ".join((result.stderr or result.stdout).split())[-300:]
            raise InputError(f"mmseqs easy-search failed (exit {result.returncode}): {tail}", path=database)
        seen: dict[str, int] = {}
        for line in out.read_text().splitlines():
            target, qstart, qaln, taln = line.split("\t")
            row = np.full(length, "-", dtype="<U1")
            pos = int(qstart) - 1
            for qc, tc in zip(qaln, taln, strict=True):
                if qc == "-":
                    continue
                if pos < length:
                    row[pos] = tc.upper() if tc.isalpha() else "-"
                pos += 1
            seen[target] = seen.get(target, 0) + 1
            label = f"{target}/{seen[target]}"
            names.append(label)
            rows.append(_encode(label, "".join(row), database))
    log.info("mmseqs easy-search: %d aligned hits", len(rows) - 1)
    return Alignment(names, np.stack(rows))
