"""Contact-map outputs: scores as ``.npy`` and a long TSV, CASP RR, and a binary map.

CASP RR (format of CASP's residue-residue contact predictions): a ``PFRMAT RR`` header, the query
sequence in lines of 50, then ``i j 0 8 p`` for the best pairs at separation >= 6, ``p`` in [0, 1].
For scores that are not probabilities (APC-corrected PLM scores) ``p`` is the score's rank quantile
among those pairs, a monotone map that keeps the order; the TSV keeps the raw score. The binary map
marks, with 1, the top ``L`` pairs (or those with ``p >= 0.5`` for probabilities).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pgml.fileio import atomic_path
from pgml.tables import write_tsv

MIN_SEPARATION = 6


def ranked_pairs(scores: np.ndarray, min_separation: int = MIN_SEPARATION) -> pd.DataFrame:
    """Pairs ``i < j`` (1-based) at separation >= ``min_separation``, best first."""
    i, j = np.triu_indices(scores.shape[0], min_separation)
    s = scores[i, j]
    order = np.argsort(-s, kind="stable")
    return pd.DataFrame({"i": i[order] + 1, "j": j[order] + 1, "score": s[order]})


def rr_probabilities(pairs: pd.DataFrame, probabilities: bool) -> np.ndarray:
    if probabilities:
        return np.clip(pairs["score"].to_numpy(), 0.0, 1.0)
    n = len(pairs)
    return 1.0 - np.arange(n) / max(n, 1)


def write_maps(target: str, sequence: str, scores: np.ndarray, out_dir: Path, *, probabilities: bool,
               method: str) -> None:
    """``<target>.npy``, ``<target>.tsv``, ``<target>.rr`` and ``<target>.binary.txt`` under ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_dir / f"{target}.npy") as tmp, open(tmp, "wb") as handle:
        np.save(handle, scores.astype(np.float32))
    pairs = ranked_pairs(scores)
    write_tsv(pairs, out_dir / f"{target}.tsv", float_format="%.6g")
    p = rr_probabilities(pairs, probabilities)
    lines = ["PFRMAT RR", f"TARGET {target}", f"METHOD {method}", "MODEL 1"]
    lines += [sequence[k:k + 50] for k in range(0, len(sequence), 50)]
    top = pairs.head(max(len(sequence) * 2, 1))
    lines += [f"{i} {j} 0 8 {v:.5f}" for i, j, v in zip(top["i"], top["j"], p[:len(top)], strict=True)]
    lines.append("END")
    with atomic_path(out_dir / f"{target}.rr") as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    length = len(sequence)
    binary = np.zeros((length, length), dtype=np.int8)
    chosen = pairs[p >= 0.5] if probabilities else pairs.head(length)
    binary[chosen["i"] - 1, chosen["j"] - 1] = 1
    binary = binary | binary.T
    with atomic_path(out_dir / f"{target}.binary.txt") as tmp:
        np.savetxt(tmp, binary, fmt="%d")
