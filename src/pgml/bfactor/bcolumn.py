"""What the B column of an input file holds: B-factors, pLDDT, a placeholder, or nothing.

Prediction reads any structure, but only experimental B-factors are a target to compare with.
Models from structure prediction carry their per-residue confidence there instead (AlphaFold and
ColabFold write pLDDT, 0-100, into the B column), and homology models or designs often write a
constant (0.00 or 1.00). :func:`b_column_kind` tells these apart with a stated heuristic:

- ``"missing"``: the file has no B values (mmCIF without ``_atom_site.B_iso_or_equiv``, blank PDB
  columns 61-66);
- ``"constant"``: every protein heavy atom has the same value (population sd below 1e-6 Å²);
- ``"plddt"``: the file carries the ModelCIF category ``_ma_qa_metric`` (AlphaFold DB mmCIF), or the
  header names no experimental method (no EXPDTA / ``_exptl.method``, or a theoretical model) and
  either the text names a predictor (ALPHAFOLD, COLABFOLD, ESMFOLD, PLDDT) or all values lie in
  [0, 100] with one value per residue (a per-residue confidence, never refined per atom). An
  experimental entry that merely mentions AlphaFold (e.g. as its molecular-replacement model) keeps
  its B-factors;
- ``"bfactor"``: anything else.

Only ``"bfactor"`` gives a target (``target_true``); the other kinds leave it NaN.
"""

from __future__ import annotations

import re

import numpy as np

from pgml.structure.io import Structure, read_text

#: the kinds :func:`b_column_kind` returns
B_COLUMN_KINDS = ("bfactor", "plddt", "constant", "missing")

_PREDICTOR_WORDS = re.compile(r"ALPHAFOLD|COLABFOLD|ESMFOLD|PLDDT", re.IGNORECASE)
_MODEL_METHODS = ("THEORETICAL", "PREDICT", "MODEL")
_CONSTANT_SD = 1e-6


def _per_residue_constant(residue: np.ndarray, b: np.ndarray) -> bool:
    order = np.argsort(residue, kind="stable")
    r, v = residue[order], b[order]
    same_residue = r[1:] == r[:-1]
    return bool(np.all(np.abs(v[1:][same_residue] - v[:-1][same_residue]) < 1e-6))


def b_column_kind(structure: Structure, text: str | None = None) -> str:
    """One of :data:`B_COLUMN_KINDS` for the protein heavy atoms of ``structure`` (heuristic above).

    ``text``: the file's text, if already read (else it is read again to look for the markers).
    """
    atoms = structure.atoms
    keep = atoms.protein_mask() & (atoms.element != "H") & (atoms.element != "D")
    b = atoms.bfactor[keep].astype(np.float64)
    if not structure.has_bfactors or b.size == 0 or not np.isfinite(b).all():
        return "missing"
    if b.std() < _CONSTANT_SD:
        return "constant"
    if text is None:
        text = read_text(structure.path)
    if "_ma_qa_metric" in text:
        return "plddt"
    experimental = bool(structure.method) and not any(w in structure.method for w in _MODEL_METHODS)
    if experimental:
        return "bfactor"
    if _PREDICTOR_WORDS.search(text[:100_000]):
        return "plddt"
    if b.min() >= 0.0 and b.max() <= 100.0 and _per_residue_constant(atoms.res_index[keep], b):
        return "plddt"
    return "bfactor"
