"""Backbone hydrogen bonds and secondary structure for the multigraph's adjacency B ([ieconv], sec. 3).

By default (``source="dssp"``) DSSP's rules are computed in NumPy (:mod:`pgml.structure.kabsch_sander`:
the same H-bond pairs and three-state letters as mkdssp 4.2.2, without a process per structure, and for
structures of any size). With ``source="mkdssp"`` or ``"auto"`` the program ``mkdssp``
(:func:`pgml.structure.dssp.run_mkdssp`) is run; with ``"auto"``, when it is missing, fails or
cannot take the structure, ``pydssp`` (a NumPy re-implementation of the DSSP electrostatic energy with
an idealised amide hydrogen) assigns bonds and three-state secondary structure per chain. The source
that was used is returned with the result and stored in the graph. The fallback is never silent: a
warning names the file, why mkdssp could not be used and what pydssp found instead (pydssp's idealised
hydrogen finds fewer bonds on some structures), and with ``source="mkdssp"`` the structure is refused
(:class:`~pgml.errors.InputError`, one line) instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pgml.errors import InputError
from pgml.fold.params import HBOND_SOURCES
from pgml.structure import kabsch_sander
from pgml.structure.dssp import MIN_REPORTED, DsspResult, DsspUnavailable, run_mkdssp
from pgml.structure.io import AtomTable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackboneHbonds:
    """``pairs`` (H, 2) residue indices (donor N-H, acceptor O); ``ss3`` per residue (R,) of
    "H"/"E"/"-" ("-" also for residues DSSP did not see); ``source`` "dssp", "mkdssp" or "pydssp"."""

    pairs: np.ndarray
    ss3: np.ndarray
    source: str


def _pydssp(atoms: AtomTable, n_res: int) -> BackboneHbonds:
    import pydssp

    prot = atoms.protein_mask()
    pairs: list[tuple[int, int]] = []
    ss3 = np.full(n_res, "-", dtype="<U1")
    for chain in dict.fromkeys(atoms.chain_id[prot].tolist()):
        rows = np.flatnonzero(prot & (atoms.chain_id == chain))
        residues = np.unique(atoms.res_index[rows])
        coords, kept, is_pro = [], [], []
        for r in residues:
            rr = rows[atoms.res_index[rows] == r]
            names = {str(atoms.atom_name[i]): i for i in rr}
            if all(a in names for a in ("N", "CA", "C", "O")):
                coords.append([atoms.coords[names[a]] for a in ("N", "CA", "C", "O")])
                kept.append(int(r))
                is_pro.append(str(atoms.res_name[rr[0]]) == "PRO")
        if len(kept) < 3:
            continue
        xyz = np.asarray(coords, dtype=np.float64)
        donor = ~np.asarray(is_pro)
        hmap = pydssp.get_hbond_map(xyz, donor_mask=donor)  # [donor, acceptor]
        for d, a in zip(*np.nonzero(hmap > 0.5), strict=True):
            pairs.append((kept[d], kept[a]))
        ss = pydssp.assign(xyz, out_type="c3")
        ss3[np.asarray(kept)] = np.asarray(list(ss))
    arr = np.asarray(sorted(set(pairs)), dtype=np.int64).reshape(-1, 2)
    return BackboneHbonds(pairs=arr, ss3=ss3, source="pydssp")


def _dssp_result(result: DsspResult, n_res: int, source: str) -> BackboneHbonds:
    ss3 = np.full(n_res, "-", dtype="<U1")
    ss3[result.residues] = np.asarray(list(result.ss3()))
    return BackboneHbonds(pairs=result.hbonds, ss3=ss3, source=source)


def backbone_hbonds(atoms: AtomTable, source: str = "dssp", *, path: str | Path | None = None) -> BackboneHbonds:
    """Backbone H-bonds between residues (``atoms.res_index`` numbering) from DSSP's rules
    (:func:`pgml.structure.kabsch_sander.assign`), mkdssp or pydssp.

    ``source="mkdssp"``: a structure mkdssp cannot take is an InputError naming ``path``;
    ``"auto"``: pydssp is used instead, with a warning naming ``path``, the reason and what pydssp found.
    """
    if source not in HBOND_SOURCES:
        raise ValueError(f"source must be one of {HBOND_SOURCES}, got {source!r}")
    n_res = int(atoms.res_index.max()) + 1 if len(atoms) else 0
    if source == "dssp":
        result = kabsch_sander.assign(atoms)
        written = len(np.unique(atoms.res_index[atoms.protein_mask()]))
        if len(result.residues) < MIN_REPORTED * written:
            log.warning("%s: only %d of %d residues have a complete backbone (N, CA, C, O); H-bonds and "
                        "secondary structure of the others are missing", path or "structure", len(result.residues),
                        written)
        return _dssp_result(result, n_res, "dssp")
    if source in ("auto", "mkdssp"):
        try:
            result = run_mkdssp(atoms)
        except DsspUnavailable as exc:
            if source == "mkdssp":
                raise InputError(f"mkdssp cannot assign H-bonds ({exc}); use --hbond-source auto or pydssp "
                                 "to accept pydssp's assignment", path=path) from None
            fallback = _pydssp(atoms, n_res)
            helix = float(np.mean(fallback.ss3 == "H")) if n_res else 0.0
            strand = float(np.mean(fallback.ss3 == "E")) if n_res else 0.0
            log.warning("%s: mkdssp not used (%s); H-bonds and secondary structure from pydssp instead: "
                        "%d backbone H-bonds, helix %.0f %%, strand %.0f %%", path or "structure", exc,
                        len(fallback.pairs), 100 * helix, 100 * strand)
            return fallback
        return _dssp_result(result, n_res, "mkdssp")
    return _pydssp(atoms, n_res)


def hbond_atom_pairs(atoms: AtomTable, residue_pairs: np.ndarray) -> np.ndarray:
    """Residue H-bonds (donor, acceptor) -> atom pairs (N of donor, O of acceptor), i < j, unique."""
    n_res = int(atoms.res_index.max()) + 1 if len(atoms) else 0
    n_of, o_of = _first_atom(atoms, "N", n_res), _first_atom(atoms, "O", n_res)
    pairs = np.asarray(residue_pairs, dtype=np.int64).reshape(-1, 2)
    pairs = pairs[(pairs >= 0).all(axis=1) & (pairs < n_res).all(axis=1)]
    i, j = n_of[pairs[:, 0]], o_of[pairs[:, 1]]
    keep = (i >= 0) & (j >= 0)
    out = np.stack([np.minimum(i, j), np.maximum(i, j)], axis=1)[keep]
    return np.unique(out, axis=0).reshape(-1, 2)


def _first_atom(atoms: AtomTable, name: str, n_res: int) -> np.ndarray:
    """Index of the first atom called ``name`` in each residue (-1 where none)."""
    out = np.full(n_res, -1, dtype=np.int64)
    rows = np.flatnonzero(atoms.atom_name == name)
    residues, first = np.unique(atoms.res_index[rows], return_index=True)
    out[residues] = rows[first]
    return out
