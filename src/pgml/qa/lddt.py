"""lDDT, the local Distance Difference Test [mariani2013], per residue and global.

For every pair of atoms (i, j) in different residues whose distance in the reference is at most
the inclusion radius (15 Å), the pair scores the fraction of the thresholds 0.5, 1, 2 and 4 Å that
``|d_model - d_reference|`` does not exceed. A residue's lDDT is the mean over the pairs whose first
atom belongs to it, the global lDDT the mean over all pairs. These are the conventions of biotite's
``biotite.structure.lddt`` (``exclude_same_residue=True``, pairs with ``<=``, atoms with NaN
coordinates skipped), which the tests check to 1e-6. Written with numpy and ``scipy.spatial.cKDTree``
rather than called through biotite because the chain needs it on plain residue coordinate arrays
(Cα of aligned residues) thousands of times per run, without building AtomArrays; the residue-level
labels of the chain are Cα-lDDT, the quantity AlphaFold's pLDDT estimates.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from pgml.qa.params import LDDT_RADIUS, LDDT_THRESHOLDS


def lddt_pairs(reference: np.ndarray, residue: np.ndarray, radius: float = LDDT_RADIUS) -> np.ndarray:
    """(P, 2) ordered atom pairs (i, j), i != j, different residues, reference distance <= ``radius``."""
    reference = np.asarray(reference, dtype=np.float64)
    ok = np.flatnonzero(~np.isnan(reference).any(axis=1))
    tree = cKDTree(reference[ok])
    pairs = tree.query_pairs(radius, output_type="ndarray")
    pairs = ok[pairs]
    pairs = np.concatenate([pairs, pairs[:, ::-1]])
    residue = np.asarray(residue)
    return pairs[residue[pairs[:, 0]] != residue[pairs[:, 1]]]


def lddt(reference: np.ndarray, model: np.ndarray, residue: np.ndarray | None = None, *,
         radius: float = LDDT_RADIUS, thresholds: tuple[float, ...] = LDDT_THRESHOLDS,
         n_residues: int | None = None) -> tuple[float, np.ndarray]:
    """Global and per-residue lDDT of ``model`` (N, 3) against ``reference`` (N, 3), same atom order.

    ``residue`` (N,) gives each atom's residue index 0..R-1 (default: one atom per residue, e.g. Cα).
    A residue without any pair (or whose atoms are all missing) gets NaN; so does the global score
    when there is no pair at all. Pairs in which the model atom is NaN score 0 (the atom is absent).
    """
    # distances in the inputs' precision (float32 stays float32, as in biotite, whose AtomArrays are
    # float32): a deviation at a threshold then scores the same in both
    dtype = np.result_type(np.asarray(reference).dtype, np.asarray(model).dtype, np.float32)
    reference = np.asarray(reference, dtype=dtype)
    model = np.asarray(model, dtype=dtype)
    if reference.shape != model.shape:
        raise ValueError(f"reference {reference.shape} and model {model.shape} differ in shape")
    residue = np.arange(len(reference)) if residue is None else np.asarray(residue)
    n_res = int(residue.max()) + 1 if n_residues is None and len(residue) else (n_residues or 0)
    pairs = lddt_pairs(reference, residue, radius)
    i, j = pairs[:, 0], pairs[:, 1]
    d_ref = np.linalg.norm(reference[i] - reference[j], axis=1)
    d_mod = np.linalg.norm(model[i] - model[j], axis=1)
    dev = np.abs(d_mod - d_ref)
    dev[np.isnan(dev)] = np.inf
    score = (dev[:, None] <= np.asarray(thresholds)[None, :]).mean(axis=1)
    total = np.bincount(residue[i], weights=score, minlength=n_res)
    count = np.bincount(residue[i], minlength=n_res)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_residue = total / count
    glob = float(score.mean()) if len(score) else float("nan")
    return glob, per_residue


def pair_errors(reference: np.ndarray, model: np.ndarray, radius: float = LDDT_RADIUS) -> np.ndarray:
    """(R, R) signed error ``d_reference - d_model`` (Å) of Cβ pairs (i != j) within ``radius`` in the
    reference; NaN elsewhere (and where either lacks the atom). The target of the final-error MSE."""
    d_ref = np.linalg.norm(reference[:, None] - reference[None], axis=-1)
    d_mod = np.linalg.norm(model[:, None] - model[None], axis=-1)
    valid = (d_ref <= radius) & ~np.eye(len(reference), dtype=bool) & ~np.isnan(d_ref) & ~np.isnan(d_mod)
    return np.where(valid, d_ref - d_mod, np.nan)


def pair_error_bins(reference: np.ndarray, model: np.ndarray, radius: float = LDDT_RADIUS) -> np.ndarray:
    """(R, R) index of the lDDT error bin of ``d_reference - d_model`` for Cβ pairs (i != j) within
    ``radius`` in the reference; -1 elsewhere. The training target of the 9-bin distance errors."""
    from pgml.qa.params import ERROR_BIN_EDGES

    errors = pair_errors(reference, model, radius)
    bins = np.digitize(np.nan_to_num(errors), ERROR_BIN_EDGES, right=True)
    return np.where(np.isnan(errors), -1, bins)
