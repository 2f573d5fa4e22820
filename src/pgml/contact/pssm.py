"""Position-specific scoring matrix (L x 20) from a weighted alignment, or from PSI-BLAST's ASCII PSSM.

From the alignment: weighted amino-acid frequencies ``f_i(a)`` (gaps left out, weights at 80 %
identity), mixed with substitution-matrix pseudocounts as PSI-BLAST does [altschul1997]:

    g_i(a) = sum_b f_i(b) P(a | b),   P(a | b) ∝ p(a) 2^(S(a, b) / 2)  (BLOSUM62 in half bits),
    p_i(a) = (alpha_i f_i(a) + beta g_i(a)) / (alpha_i + beta),  alpha_i = Neff_i - 1,  beta = 10,

and scores ``log2(p_i(a) / p(a))`` with the Robinson & Robinson background ``p(a)``. A one-sequence
alignment gives ``p_i = P(. | query_i)``, the query's BLOSUM62 row. PSI-BLAST's ``-out_ascii_pssm``
scores are in half bits and are divided by two, so both sources share one output: a TSV with
``position``, ``residue`` and the 20 scores in bits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pgml.contact.alignment import ALPHABET, GAP
from pgml.errors import InputError

AMINO = ALPHABET[:20]
#: Robinson & Robinson (1991) background frequencies, in :data:`AMINO` order
BACKGROUND = np.array([0.07805, 0.05129, 0.04487, 0.05364, 0.01925, 0.04264, 0.06295, 0.07377, 0.02199,
                       0.05142, 0.09019, 0.05744, 0.02243, 0.03856, 0.05203, 0.07120, 0.05841, 0.01330,
                       0.03216, 0.06441])
BACKGROUND = BACKGROUND / BACKGROUND.sum()
PSEUDO_BETA = 10.0


def substitution_probabilities() -> np.ndarray:
    """``P[b, a] = P(a | b)`` from BLOSUM62 (Biopython's matrix), rows summing to one."""
    from Bio.Align import substitution_matrices

    blosum = substitution_matrices.load("BLOSUM62")
    scores = np.array([[blosum[a][b] for a in AMINO] for b in AMINO], dtype=np.float64)
    prob = BACKGROUND[None, :] * np.power(2.0, scores / 2.0)
    return prob / prob.sum(axis=1, keepdims=True)


def pssm_from_msa(msa: np.ndarray, weights: np.ndarray, beta: float = PSEUDO_BETA) -> np.ndarray:
    """``(L, 20)`` log2-odds scores (module docstring)."""
    length = msa.shape[1]
    counts = np.zeros((length, 21))
    np.add.at(counts, (np.broadcast_to(np.arange(length), msa.shape), msa), np.broadcast_to(weights[:, None],
                                                                                            msa.shape))
    counts = counts[:, :GAP]
    depth = counts.sum(axis=1, keepdims=True)
    freq = np.divide(counts, depth, out=np.zeros_like(counts), where=depth > 0)
    g = freq @ substitution_probabilities()
    g = np.where(depth > 0, g, BACKGROUND[None, :])
    alpha = np.clip(depth - 1.0, 0.0, None)
    p = (alpha * freq + beta * g) / (alpha + beta)
    return np.log2(p / BACKGROUND[None, :])


def read_psiblast_pssm(path: str | Path) -> tuple[str, np.ndarray]:
    """Query and ``(L, 20)`` scores in bits from ``psiblast -out_ascii_pssm`` (half bits / 2)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("is a directory, not a PSSM file" if path.is_dir() else "PSSM file not found", path=path)
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read as text: {exc}", path=path) from None
    header = next((k for k, line in enumerate(lines) if line.split()[:3] == ["A", "R", "N"]), None)
    if header is None:
        raise InputError("no 'A R N D ...' header line: not a PSI-BLAST ASCII PSSM", path=path)
    order = lines[header].split()[:20]
    residues, rows = [], []
    for number, line in enumerate(lines[header + 1:], header + 2):
        parts = line.split()
        if not parts or not parts[0].isdigit():
            break
        try:
            rows.append([float(v) for v in parts[2:22]])
        except ValueError:
            raise InputError("non-numeric score", path=path, record=f"line {number}") from None
        residues.append(parts[1])
    if not rows:
        raise InputError("no score rows", path=path)
    perm = [order.index(a) for a in AMINO]
    scores = np.array(rows)[:, perm] / 2.0
    _check_finite(scores, path)
    return "".join(residues), scores


def run_psiblast(query: str, blast_db: str, *, iterations: int = 3, evalue: float = 0.001, threads: int = 1,
                 psiblast: str = "psiblast") -> tuple[str, np.ndarray] | None:
    """Run ``psiblast -out_ascii_pssm`` (Debian ncbi-blast+) for ``query`` against ``blast_db``; parse it.

    None when psiblast found no hit (it then writes no PSSM)."""
    import shutil
    import subprocess
    import tempfile

    exe = shutil.which(psiblast)
    if exe is None:
        raise InputError(f"{psiblast} not found on PATH (Debian package ncbi-blast+)")
    with tempfile.TemporaryDirectory(prefix="pgml-psiblast-") as tmp:
        fasta, out = Path(tmp) / "query.fasta", Path(tmp) / "query.pssm"
        fasta.write_text(f">query\n{query.replace('-', '')}\n")
        cmd = [exe, "-query", str(fasta), "-db", str(blast_db), "-num_iterations", str(iterations),
               "-evalue", str(evalue), "-inclusion_ethresh", str(evalue), "-num_threads", str(threads),
               "-out_ascii_pssm", str(out), "-save_pssm_after_last_round", "-out", str(Path(tmp) / "hits.txt")]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode == 0 and not out.is_file():
            return None
        if result.returncode != 0:
            tail = " ".join(result.stderr.split())[-300:]
            raise InputError(f"psiblast failed (exit {result.returncode}): {tail}", path=blast_db)
        return read_psiblast_pssm(out)


def pssm_frame(query: str, scores: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(scores, columns=list(AMINO))
    frame.insert(0, "residue", list(query))
    frame.insert(0, "position", np.arange(1, len(query) + 1))
    return frame


def read_pssm(path: str | Path) -> np.ndarray:
    """The ``(L, 20)`` scores of a PSSM TSV written by :func:`pssm_frame`."""
    from pgml.tables import read_tsv

    frame = read_tsv(path, required_columns=["position", "residue", *AMINO])
    try:
        scores = frame[list(AMINO)].to_numpy(dtype=np.float32)
    except (TypeError, ValueError):
        bad = frame[list(AMINO)].apply(pd.to_numeric, errors="coerce").isna().any(axis=1).to_numpy()
        raise InputError("non-numeric score", path=path, record=f"row {int(np.argmax(bad)) + 1}") from None
    _check_finite(scores, path)
    return scores


def _check_finite(scores: np.ndarray, path: str | Path) -> None:
    """Refuse NaN or infinite scores (one would make the whole contact map NaN), naming the first."""
    bad = ~np.isfinite(scores)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise InputError(f"score of {AMINO[col]} is {scores[row, col]} (NaN or infinite scores are refused)",
                         path=path, record=f"row {row + 1}")
