"""Global model scores: TM-score (tmtools, TM-align's code) and GDT-TS [zemla2003].

Both take the model's Cα indexed by native residue (row k of the model is native residue k, NaN where
the model lacks it) and follow CASP's convention: the denominator is the native's length, so a residue
the model lacks counts as wrong and removing residues never raises a score. TM-score comes from
``tmtools.tm_align`` with the fixed correspondence as its alignment (the model's residues against the
whole native, gaps where the model lacks one), so it is normalised by the native's length with the d0
of that length. GDT-TS is the mean over the cutoffs 1, 2, 4 and 8 Å of the largest fraction of native residues whose
Cα lies within the cutoff after some superposition. tmtools does not report it and no package of the
environment does, so it is computed here the way LGA searches superpositions: Kabsch fits seeded on
windows of 4, 8 and 16 residues (about 20 starts each) and on all residues, each refined by refitting
on the residues within the cutoff until the set stops changing (all seeds and cutoffs searched together, one
batched fit per round, each distinct subset fitted once). The search is a lower bound of the true maximum (as
LGA's is); for identical structures it is exactly 1.
"""

from __future__ import annotations

import numpy as np

GDT_CUTOFFS = (1.0, 2.0, 4.0, 8.0)


def kabsch(mobile: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotation R and translation t minimising ``|mobile @ R.T + t - target|`` (proper rotation)."""
    mc, tc = mobile.mean(axis=0), target.mean(axis=0)
    h = (mobile - mc).T @ (target - tc)
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(vt.T @ u.T))
    r = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    return r, tc - mc @ r.T


def _batched_kabsch(model: np.ndarray, native: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotations (S, 3, 3) and translations (S, 3) of :func:`kabsch` fitted on each row of ``masks`` (S, n)."""
    weight = masks.astype(np.float64)
    count = weight.sum(axis=1, keepdims=True)
    mc, tc = weight @ model / count, weight @ native / count
    h = ((model[None] - mc[:, None]) * weight[:, :, None]).transpose(0, 2, 1) @ (native[None] - tc[:, None])
    u, _, vt = np.linalg.svd(h)
    v, ut = vt.transpose(0, 2, 1), u.transpose(0, 2, 1)
    d = np.sign(np.linalg.det(v @ ut))
    r = v @ (np.concatenate([np.ones((len(d), 2)), d[:, None]], axis=1)[:, :, None] * ut)
    return r, tc - (mc[:, None] @ r.transpose(0, 2, 1))[:, 0]


def _max_within(model: np.ndarray, native: np.ndarray, cutoffs: tuple[float, ...],
                seeds: list[np.ndarray]) -> np.ndarray:
    """(len(cutoffs),) the most residues within each cutoff over the superpositions grown from ``seeds``.

    From each seed: fit on the subset, take the residues within the cutoff as the next subset, until the
    subset stops changing (at most 20 fits) or has fewer than 3 residues. Every seed x cutoff search runs
    at once (one batched Kabsch fit per round), the same fits as running them one by one."""
    n = len(model)
    start = np.zeros((len(seeds), n), dtype=bool)
    for k, seed in enumerate(seeds):
        start[k, seed] = True
    masks = np.tile(start, (len(cutoffs), 1))
    cutoff = np.repeat(np.asarray(cutoffs, dtype=np.float64), len(seeds))
    group = np.repeat(np.arange(len(cutoffs)), len(seeds))
    best = np.zeros(len(cutoffs), dtype=np.int64)
    active = np.ones(len(masks), dtype=bool)
    for _ in range(20):
        active &= masks.sum(axis=1) >= 3
        if not active.any():
            break
        idx = np.flatnonzero(active)
        # searches that reached the same subset at the same cutoff make the same fit: fit each subset once
        keys = np.concatenate([np.packbits(masks[idx], axis=1), group[idx, None].astype(np.uint8)], axis=1)
        _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        r, t = _batched_kabsch(model, native, masks[idx[first]])
        diff = model[None] @ r.transpose(0, 2, 1) + t[:, None] - native[None]
        within = (np.sqrt((diff * diff).sum(axis=2)) <= cutoff[idx[first], None])[inverse.reshape(-1)]
        np.maximum.at(best, group[idx], within.sum(axis=1))
        active[idx[(within == masks[idx]).all(axis=1)]] = False
        masks[idx] = within
    return best


def gdt_ts(model_ca: np.ndarray, native_ca: np.ndarray) -> float:
    """GDT-TS in [0, 1] of the model's Cα indexed by native residue (R, 3); rows with NaN in either are
    left out of fits and count as not within any cutoff; the denominator is the number of native
    residues (CASP's convention: a residue the model lacks counts as outside every cutoff)."""
    ok = ~(np.isnan(model_ca).any(axis=1) | np.isnan(native_ca).any(axis=1))
    n_native = int((~np.isnan(native_ca).any(axis=1)).sum())
    model, native = model_ca[ok], native_ca[ok]
    n = len(model)
    if n < 3 or n_native == 0:
        return 0.0
    seeds = [np.arange(n)]
    for w in (4, 8, 16):
        if w < n:
            step = max(w // 2, (n - w) // 20 + 1)
            seeds += [np.arange(s, s + w) for s in range(0, n - w + 1, step)]
    fractions = _max_within(model, native, GDT_CUTOFFS, seeds) / n_native
    return float(np.mean(fractions))


def tm_score(model_ca: np.ndarray, native_ca: np.ndarray, native_seq: str) -> float:
    """TM-score of the model's Cα indexed by native residue (NaN rows: residues the model lacks)
    against the native, normalised by the native's length (``tm_norm_chain2`` of ``tmtools.tm_align``
    with the correspondence fixed as a gapped alignment)."""
    import tmtools

    native_ok = ~np.isnan(native_ca).any(axis=1)
    model_ca, native_ca = model_ca[native_ok], native_ca[native_ok]
    native_seq = "".join(s for s, k in zip(native_seq, native_ok, strict=True) if k)
    present = ~np.isnan(model_ca).any(axis=1)
    if present.sum() < 3 or len(native_ca) < 3:
        return 0.0
    seq_x = "".join(s for s, k in zip(native_seq, present, strict=True) if k)
    aligned_x = "".join(s if k else "-" for s, k in zip(native_seq, present, strict=True))
    result = tmtools.tm_align(np.ascontiguousarray(model_ca[present]), np.ascontiguousarray(native_ca),
                              seq_x, native_seq, [aligned_x, native_seq])
    return float(result.tm_norm_chain2)
