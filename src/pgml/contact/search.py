"""Alignments from a sequence search: jackhmmer (pyhmmer) or mmseqs easy-search against a FASTA
database, or HHblits against an HH-suite database (UniRef30) when ``hhblits`` is installed.

The database is streamed, never held in memory: jackhmmer reads it through pyhmmer's
:class:`~pyhmmer.easel.SequenceFile` (opened again at each iteration), MMseqs2 and HHblits read it
themselves. MMseqs2 keeps ``--max-seqs`` hits per query before aligning (its default, 300, gives
shallow alignments) and searches at sensitivity ``-s``; both come from
:class:`pgml.contact.params.SearchParams`.

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
    if database.stat().st_size == 0:
        raise InputError("sequence database is empty", path=database)
    length = len(query)
    try:
        with easel.SequenceFile(database, digital=True, alphabet=alphabet) as handle:
            # a SequenceFile is streamed: jackhmmer reopens it at each iteration
            (rounds,) = list(hmmer.jackhmmer([digital], handle, max_iterations=iterations, checkpoints=True,
                                             cpus=threads, E=evalue, incE=evalue, domE=evalue, incdomE=evalue))
    except (ValueError, OSError, EOFError) as exc:
        raise InputError(f"cannot read as a FASTA sequence database: {exc}", path=database) from None
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
                     name: str = "query", max_seqs: int = 10000, sensitivity: float = 7.5,
                     mmseqs: str = "mmseqs") -> Alignment:
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
               "--threads", str(threads), "--max-seqs", str(max_seqs), "-s", str(sensitivity),
               "--format-output", "target,qstart,qaln,taln", "-v", "1"]
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


def hhblits_database_exists(database: str | Path) -> bool:
    """True when ``database`` is the prefix of an HH-suite database (``<prefix>_a3m.ffdata`` and ``.ffindex``)."""
    return all(Path(f"{database}_a3m.{ext}").is_file() for ext in ("ffdata", "ffindex"))


def hhblits_alignment(query: str, database: str | Path, *, iterations: int = 3, evalue: float = 1e-3,
                      threads: int = 1, name: str = "query", max_seqs: int = 10000,
                      hhblits: str = "hhblits") -> Alignment:
    """Query first, then HHblits' a3m rows (``-oa3m``) against an HH-suite database such as UniRef30.

    HHblits is optional (Debian package hhsuite); without it this is an :class:`InputError` saying so.
    """
    import shutil
    import subprocess
    import tempfile

    from pgml.contact.alignment import read_alignment

    exe = shutil.which(hhblits)
    if exe is None:
        raise InputError(f"{hhblits} not found on PATH (Debian package hhsuite); use --engine jackhmmer or mmseqs")
    if not hhblits_database_exists(database):
        raise InputError("not an HH-suite database prefix (no <prefix>_a3m.ffdata/.ffindex)", path=database)
    with tempfile.TemporaryDirectory(prefix="pgml-hhblits-") as tmp:
        fasta, out = Path(tmp) / "query.fasta", Path(tmp) / "query.a3m"
        fasta.write_text(f">{name}\n{query}\n")
        cmd = [exe, "-i", str(fasta), "-d", str(database), "-oa3m", str(out), "-o", str(Path(tmp) / "hits.hhr"),
               "-n", str(iterations), "-e", str(evalue), "-cpu", str(threads), "-maxseq", str(max_seqs), "-v", "0"]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0 or not out.is_file():
            tail = " ".join((result.stderr or result.stdout).split())[-300:]
            raise InputError(f"hhblits failed (exit {result.returncode}): {tail}", path=database)
        aln = read_alignment(out, "a3m")
    aln.names[0] = name
    log.info("hhblits: %d iteration(s), %d sequences", iterations, len(aln) - 1)
    return aln


def read_queries(path: str | Path) -> list[tuple[str, str]]:
    """``(name, sequence)`` of every record of a FASTA file of query sequences (Biopython's reader).

    Gaps are removed (an aligned query is accepted); letters outside the amino-acid alphabet and
    ``X B Z J U O``, empty records and repeated names are refused naming the record.
    """
    from Bio import SeqIO

    from pgml.contact.alignment import ALPHABET, AMBIGUOUS

    path = Path(path)
    if not path.is_file():
        raise InputError("is a directory, not a FASTA file" if path.is_dir() else "sequence file not found", path=path)
    try:
        first = next((line for line in path.read_text().splitlines() if line.strip()), "")
        if first and not first.startswith(">"):
            raise InputError("no FASTA record: the first line is not a '>name' header", path=path, record="line 1")
        records = [(r.id, str(r.seq).upper().replace("-", "").replace(".", "")) for r in SeqIO.parse(path, "fasta")]
    except (UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"cannot read as FASTA: {str(exc).splitlines()[0]}", path=path) from None
    if not records:
        raise InputError("no FASTA record ('>name' then the sequence)", path=path)
    seen: set[str] = set()
    allowed = set(ALPHABET[:20] + AMBIGUOUS)
    for name, seq in records:
        if name in seen:
            raise InputError("sequence name given twice", path=path, record=f"sequence {name}")
        seen.add(name)
        if not seq:
            raise InputError("empty sequence", path=path, record=f"sequence {name}")
        bad = next((k for k, c in enumerate(seq) if c not in allowed), None)
        if bad is not None:
            raise InputError(f"unknown letter {seq[bad]!r} at position {bad + 1}", path=path,
                             record=f"sequence {name}")
    return records


def search_alignment(query: str, database: str | Path, *, engine: str, iterations: int, evalue: float,
                     max_seqs: int, sensitivity: float, threads: int, name: str) -> Alignment:
    """The alignment of ``query`` from ``engine`` (jackhmmer, mmseqs or hhblits) against ``database``."""
    if engine == "mmseqs":
        return mmseqs_alignment(query, database, evalue=evalue, threads=threads, name=name, max_seqs=max_seqs,
                                sensitivity=sensitivity)
    if engine == "hhblits":
        return hhblits_alignment(query, database, iterations=iterations, evalue=evalue, threads=threads, name=name,
                                 max_seqs=max_seqs)
    return jackhmmer_alignment(query, database, iterations=iterations, evalue=evalue, threads=threads, name=name)
