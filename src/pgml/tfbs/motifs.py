"""JASPAR motifs, a FIMO-like scan with p-values and sequence logos (section 2.4.4 of [deepgrn]).

The chapter scans the high-attention subsequences with FIMO [fimo]. As FIMO does:

* the position frequency matrix of a JASPAR profile (counts from ``pyjaspar``, which ships the
  database offline) gets a pseudocount of 0.1 spread over the bases by the background (FIMO's
  ``--motif-pseudo``), and becomes a log-odds matrix ``log2(p_{b,j} / bg_b)`` against a uniform
  background;
* the matrix is scaled to integers (entries ``round((s - min) * R / (max - min))`` with ``R = 1000``), so
  that the score of a site is an integer and the distribution of the score of a random site under the
  background can be computed exactly, column by column (a convolution per column). The p-value of a
  site is the probability that a random site scores at least as high: ``P(S >= s)``;
* every site of a sequence is scored on both strands; a site is a hit at ``p < 1e-4`` (FIMO's default).

Written here because Biopython gives log-odds PSSMs but no p-value of a score, and the MEME suite is
not a Python dependency. Logos are drawn with ``logomaker`` (information content in bits).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pgml.errors import InputError
from pgml.tfbs.params import MOTIF_PVALUE as HIT_PVALUE

BASES = "ACGT"
#: background base frequencies (uniform) and FIMO's motif pseudocount
BACKGROUND = np.full(4, 0.25)
PSEUDOCOUNT = 0.1
#: integer range of one scaled matrix entry (FIMO scales scores to a grid for its p-value table)
SCALE_RANGE = 1000
_INDEX = np.full(256, -1, dtype=np.int64)
for _i, _b in enumerate(BASES):
    _INDEX[ord(_b)] = _INDEX[ord(_b.lower())] = _i


@dataclass(frozen=True)
class Motif:
    """A JASPAR profile as counts (4 x w, rows A, C, G, T), its integer-scaled log-odds and p-value table."""

    matrix_id: str
    name: str
    counts: np.ndarray
    scaled: np.ndarray
    #: ``tail[k] = P(S >= k)`` for a random site's integer score ``S``
    tail: np.ndarray

    @property
    def width(self) -> int:
        return int(self.counts.shape[1])


def log_odds(counts: np.ndarray, background: np.ndarray = BACKGROUND, pseudocount: float = PSEUDOCOUNT) -> np.ndarray:
    """``log2(p / bg)`` with ``p_{b,j} = (n_{b,j} + pseudocount * bg_b) / (N_j + pseudocount)``."""
    counts = np.asarray(counts, dtype=np.float64)
    freqs = (counts + pseudocount * background[:, None]) / (counts.sum(0) + pseudocount)
    return np.log2(freqs / background[:, None])


def score_tail(scaled: np.ndarray, background: np.ndarray = BACKGROUND) -> np.ndarray:
    """``tail[k] = P(S >= k)`` of the integer score ``S = sum_j scaled[b_j, j]`` of a random site.

    Bases are drawn independently from ``background``; the distribution is built column by column.
    """
    dist = np.ones(1)
    for col in scaled.T:
        new = np.zeros(dist.size + int(col.max()))
        for b in range(4):
            new[col[b]:col[b] + dist.size] += background[b] * dist
        dist = new
    return np.cumsum(dist[::-1])[::-1]


def motif_from_counts(matrix_id: str, name: str, counts: np.ndarray) -> Motif:
    """:class:`Motif` of a 4 x w count matrix (rows A, C, G, T)."""
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[0] != 4 or counts.shape[1] < 1:
        raise ValueError(f"a count matrix is 4 x w, got shape {counts.shape}")
    lo = log_odds(counts)
    span = float(lo.max() - lo.min()) or 1.0
    scaled = np.rint((lo - lo.min()) * SCALE_RANGE / span).astype(np.int64)
    return Motif(matrix_id, name, counts, scaled, score_tail(scaled))


def load_motif(matrix_id: str) -> Motif:
    """The JASPAR profile ``matrix_id`` (e.g. ``MA0139.1``) from ``pyjaspar``'s offline database."""
    from pyjaspar import jaspardb

    jm = jaspardb().fetch_motif_by_id(matrix_id)
    if jm is None:
        raise InputError(f"JASPAR matrix {matrix_id} not found in pyjaspar")
    return motif_from_counts(matrix_id, str(jm.name), np.array([list(jm.counts[b]) for b in BASES]))


def site_scores(motif: Motif, seq: str) -> tuple[np.ndarray, np.ndarray]:
    """Integer scores of every site of ``seq`` on the forward and on the reverse strand (-1: site with N).

    Index ``i`` of both arrays is the site ``seq[i:i + w]``; the reverse score is that of its reverse
    complement.
    """
    idx = _INDEX[np.frombuffer(seq.encode("ascii"), dtype=np.uint8)]
    w = motif.width
    n = idx.size - w + 1
    if n < 1:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    windows = np.lib.stride_tricks.sliding_window_view(idx, w)
    valid = (windows >= 0).all(1)
    safe = np.where(windows >= 0, windows, 0)
    cols = np.arange(w)
    fwd = motif.scaled[safe, cols].sum(1)
    rev = motif.scaled[3 - safe[:, ::-1], cols].sum(1)    # complement of base i = 3 - i in ACGT
    return np.where(valid, fwd, -1), np.where(valid, rev, -1)


def pvalue(motif: Motif, score: int) -> float:
    """``P(S >= score)`` for a random site (1.0 for a site with N)."""
    if score < 0:
        return 1.0
    return float(motif.tail[score]) if score < motif.tail.size else 0.0


def best_site(motif: Motif, seq: str, lo: int = 0, hi: int | None = None) -> tuple[float, int, str, str]:
    """Best site among those starting in ``[lo, hi)`` (both strands): p-value, start, strand, site.

    The site is written on the motif's strand (reverse-complemented for a ``-`` hit); p-value 1 and
    start -1 when no site fits.
    """
    fwd, rev = site_scores(motif, seq)
    hi = fwd.size if hi is None else min(hi, fwd.size)
    lo = max(lo, 0)
    if hi <= lo:
        return 1.0, -1, ".", ""
    f, r = fwd[lo:hi], rev[lo:hi]
    use_rev = r.max() > f.max()
    k = int(np.argmax(r if use_rev else f))
    start = lo + k
    site = seq[start:start + motif.width]
    if use_rev:
        site = site[::-1].translate(str.maketrans("ACGTacgt", "TGCAtgca"))
    return pvalue(motif, int((r if use_rev else f)[k])), start, "-" if use_rev else "+", site.upper()


def site_counts(sites: list[str], width: int) -> np.ndarray:
    """4 x ``width`` base counts of aligned sites (N not counted)."""
    counts = np.zeros((4, width))
    for site in sites:
        idx = _INDEX[np.frombuffer(site.encode("ascii"), dtype=np.uint8)]
        ok = idx >= 0
        counts[idx[ok], np.flatnonzero(ok)] += 1
    return counts


def plot_logos(motif: Motif, sites: list[str], path: Path, *, title: str = "") -> None:
    """Two logos (bits): the JASPAR profile, and the sites found (or a note when there are none)."""
    import logomaker
    import pandas as pd

    from pgml.plots import figure, save_figure

    def info(counts: np.ndarray) -> pd.DataFrame:
        frame = pd.DataFrame(counts.T, columns=list(BASES))
        return logomaker.transform_matrix(frame, from_type="counts", to_type="information", pseudocount=0.1)

    fig, axes = figure(2, 1, figsize=(max(4.0, 0.45 * motif.width), 4.2))
    logomaker.Logo(info(motif.counts), ax=axes[0])
    axes[0].set_title(f"JASPAR {motif.matrix_id} {motif.name}", fontsize=9)
    if sites:
        logomaker.Logo(info(site_counts(sites, motif.width)), ax=axes[1])
        axes[1].set_title(f"{len(sites)} sites at p < {HIT_PVALUE:g}" + (f" ({title})" if title else ""), fontsize=9)
    else:
        axes[1].text(0.5, 0.5, f"no site at p < {HIT_PVALUE:g}", ha="center", va="center")
        axes[1].set_xticks([])
    for ax in axes:
        ax.set_ylabel("bits")
        ax.set_ylim(0, 2)
    axes[0].set_xticks(range(motif.width), [str(i + 1) for i in range(motif.width)])
    if sites:
        axes[1].set_xticks(range(motif.width), [str(i + 1) for i in range(motif.width)])
    fig.tight_layout()
    save_figure(fig, path)
