"""Alignments from a sequence search: jackhmmer through pyhmmer against a FASTA sequence database.

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
