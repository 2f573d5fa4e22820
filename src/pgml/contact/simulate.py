"""Demo alignments: Gibbs samples of a Potts model whose couplings sit on a real structure's contacts.

For each structure, the chain's Cβ contacts (< 8 Å, Cα for glycine; :mod:`pgml.contact.contacts`)
at separation >= ``min_separation`` receive couplings ``J_ij = coupling * G_ij`` with ``G_ij`` a
random symmetric 20 x 20 Gaussian matrix (zero mean per row and column), every other pair none; the
fields favour the native residue, ``h_i(a) = field * [a = s_i] + N(0, 0.3)``. ``n_sequences``
sequences are drawn by Gibbs sampling: ``n_sequences`` chains started from the native sequence, all
updated together one site at a time (``burn_in`` sweeps, then one sample per chain) in numpy. The
native sequence is the query. PLM (:mod:`pgml.contact.plm`) must recover the contacts from these
alignments; the demo's evaluation checks it against the structure.
"""

from __future__ import annotations

import numpy as np

from pgml.contact.alignment import ALPHABET, Alignment
from pgml.contact.contacts import NativeContacts
from pgml.contact.params import SimulateParams


def potts_model(native: NativeContacts, params: SimulateParams, rng: np.random.Generator
                ) -> tuple[np.ndarray, np.ndarray]:
    """Fields ``(L, 20)`` and couplings ``(L, L, 20, 20)`` on the native contacts (module docstring)."""
    length = len(native.sequence)
    sep = np.abs(np.subtract.outer(np.arange(length), np.arange(length)))
    contact = native.contacts & (sep >= params.min_separation)
    h = rng.normal(0.0, 0.3, size=(length, 20))
    for i, a in enumerate(native.sequence):
        k = ALPHABET.find(a)
        if 0 <= k < 20:
            h[i, k] += params.field
    J = np.zeros((length, length, 20, 20))
    for i, j in zip(*np.nonzero(np.triu(contact, 1)), strict=True):
        g = rng.normal(0.0, 1.0, size=(20, 20))
        g = g - g.mean(0, keepdims=True) - g.mean(1, keepdims=True) + g.mean()
        J[i, j] = params.coupling * g
        J[j, i] = J[i, j].T
    return h, J


def gibbs_sample(h: np.ndarray, J: np.ndarray, start: np.ndarray, n: int, sweeps: int,
                 rng: np.random.Generator) -> np.ndarray:
    """``n`` chains from ``start (L,)``, ``sweeps`` site-by-site sweeps; returns ``(n, L)`` states 0..19."""
    length = h.shape[0]
    x = np.tile(start, (n, 1))
    cols = np.arange(length)
    for _ in range(sweeps):
        for i in range(length):
            # energy of each state a at site i given the other sites: h_i(a) + sum_j J_ij(a, x_j)
            logits = h[i][None, :] + J[i, cols, :, x].sum(axis=1)
            logits -= logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=1, keepdims=True)
            u = rng.random((n, 1))
            x[:, i] = np.minimum((p.cumsum(axis=1) < u).sum(axis=1), 19)
    return x


def simulate_alignment(native: NativeContacts, params: SimulateParams, seed: int, name: str = "query"
                       ) -> Alignment:
    """The query (native sequence) followed by ``n_sequences`` Gibbs samples."""
    rng = np.random.default_rng(seed)
    h, J = potts_model(native, params, rng)
    start = np.array([max(ALPHABET.find(a), 0) if ALPHABET.find(a) < 20 else 0 for a in native.sequence])
    samples = gibbs_sample(h, J, start, params.n_sequences, params.burn_in, rng)
    msa = np.vstack([start[None, :], samples]).astype(np.uint8)
    names = [name] + [f"sample{k + 1}" for k in range(params.n_sequences)]
    return Alignment(names, msa)
