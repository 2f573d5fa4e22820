"""AlphaFold2 (or any predictor's) predictions used as references [enqa].

Read as the predictors write them:

* an AlphaFold output directory: ``result_model_<k>[_suffix].pkl`` (a pickled dict with
  ``distogram: {logits: (L, L, B), bin_edges: (B-1,)}`` and ``plddt: (L,)``) next to
  ``relaxed_model_<k>[_suffix].pdb`` or ``unrelaxed_model_<k>[_suffix].pdb`` (``ranked_<i>.pdb``
  files are the same structures in pLDDT order and are used when no pkl is there);
* a ColabFold output directory: ``<job>_{relaxed,unrelaxed}_rank_<r>_<tag>.pdb`` (the relaxed one
  when both exist), ``<job>_scores_rank_<r>_<tag>.json`` (``plddt`` per residue and ``pae``, read in
  place of the B column) and, when ColabFold ran with ``--save-all``, ``<job>_all_rank_<r>_<tag>.pickle``
  (the model's raw output, whose ``distogram`` turns the distogram channels on), in rank order;
* a directory of PDB/mmCIF files (AlphaFold, ESMFold, AlphaFold DB ``AF-<id>-F1-model_v<k>``): pLDDT
  is read from the Cα B-factor (values <= 1 are taken as fractions and scaled to 0-100, as ESMFold
  writes them; an all-zero B column, as in older AlphaFold relaxed models, gives NaN pLDDT); the
  distogram channels are then off.

Pickles are read with ``pickle``: only point them at AlphaFold or ColabFold outputs you trust.
:func:`reference_layout` names the layout a directory has; ``reference_format`` ``auto`` takes it.
"""

from __future__ import annotations

import logging
import pickle
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from pgml.errors import InputError
from pgml.qa.inputs import DEFAULT_DISTOGRAM_BINS, check_pair_memory, read_coords
from pgml.structure.collection import is_structure_file
from pgml.structure.residue_coords import ResidueCoords

log = logging.getLogger(__name__)

_PKL = re.compile(r"^result_(model_\d+.*)\.pkl$")
_COLABFOLD = re.compile(r"^(?P<job>.+)_(?P<kind>relaxed|unrelaxed)_rank_(?P<rank>\d+)_(?P<tag>.+?)\.(pdb|cif)(\.gz)?$")


@dataclass
class Reference:
    """One predicted structure: residue coordinates, pLDDT (0-100) and, from a pkl, distogram probabilities."""

    name: str
    coords: ResidueCoords
    plddt: np.ndarray  # (L,)
    probs: np.ndarray | None = None  # (L, L, B) softmax of the distogram logits
    bin_edges: np.ndarray | None = None  # (B - 1,)
    pae: np.ndarray | None = None  # (L, L) predicted aligned error (Å), when the predictor wrote it

    @cached_property
    def cumulative(self) -> np.ndarray | None:
        """(L, L, B + 1) cumulative distogram mass (:func:`pgml.qa.features.cumulative_distogram`), computed
        on first use and kept: every model of the target reads its distance-error features from it."""
        from pgml.qa.features import cumulative_distogram

        return None if self.probs is None else cumulative_distogram(self.probs)

    @cached_property
    def contact(self) -> np.ndarray | None:
        """(L, L) contact probability of the distogram (:func:`pgml.qa.features.contact_probability`),
        computed on first use and kept."""
        from pgml.qa.features import contact_probability

        return None if self.probs is None else contact_probability(self.probs, self.bin_edges)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def read_result_pkl(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(probabilities (L, L, B), bin_edges (B-1,), plddt (L,)) from an AlphaFold result pkl (or the
    ColabFold ``--save-all`` pickle, which holds the same dict)."""
    try:
        with open(path, "rb") as handle:
            result = pickle.load(handle)  # noqa: S301 - AlphaFold's own output format
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ModuleNotFoundError) as exc:
        raise InputError(f"not a readable AlphaFold result pickle ({exc})", path=path) from None
    if not isinstance(result, dict):
        raise InputError(f"expected a dict, got {type(result).__name__}", path=path)
    dist = result.get("distogram")
    if not isinstance(dist, dict) or "logits" not in dist or "bin_edges" not in dist:
        raise InputError("no distogram (distogram.logits and distogram.bin_edges); run AlphaFold with "
                         "its result pickles, or give the PDBs alone (distogram features off)", path=path)
    if "plddt" not in result:
        raise InputError("no plddt", path=path)
    try:
        logits = np.asarray(dist["logits"], dtype=np.float64)
        edges = np.asarray(dist["bin_edges"], dtype=np.float64)
        plddt = np.asarray(result["plddt"], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"distogram or plddt is not numeric ({exc})", path=path) from None
    for name, values in (("distogram.logits", logits), ("distogram.bin_edges", edges), ("plddt", plddt)):
        if not np.isfinite(values).all():
            raise InputError(f"{int((~np.isfinite(values)).sum())} NaN or infinite value(s)", path=path,
                             record=name)
    if edges.ndim != 1 or len(edges) < 2 or (np.diff(edges) <= 0).any():
        raise InputError("bin_edges must be an increasing list of at least two distances", path=path,
                         record="distogram.bin_edges")
    if logits.ndim != 3 or logits.shape[0] != logits.shape[1] or logits.shape[2] != len(edges) + 1:
        raise InputError(f"distogram logits of shape {logits.shape} do not match {len(edges)} bin edges", path=path)
    if plddt.shape != (logits.shape[0],):
        raise InputError(f"plddt has shape {plddt.shape}, distogram {logits.shape[0]} residues", path=path)
    return softmax(logits), edges, plddt


def _plddt_from_b(coords_path: Path, structure) -> np.ndarray:  # noqa: ANN001
    atoms = structure.atoms
    ca = atoms.atom_name == "CA"
    values = np.full(atoms.n_residues, np.nan)
    values[atoms.res_index[ca]] = atoms.bfactor[ca]
    if np.isnan(values).all():
        raise InputError("no Cα atoms to read pLDDT from", path=coords_path)
    bad = ca & ~np.isfinite(atoms.bfactor)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise InputError("NaN or infinite pLDDT in the B column", path=coords_path,
                         record=f"{atoms.chain_id[k]}:{atoms.res_seq[k]}:{atoms.res_name[k]}")
    if np.nanmax(np.abs(values)) == 0:
        log.warning("%s: the B column is all zero (no pLDDT, as in older AlphaFold relaxed models); "
                    "its pLDDT channel is 0 and the AF2-pLDDT baseline undefined", coords_path)
        return np.full(len(values), np.nan)
    if np.nanmax(values) <= 1.0:
        values = values * 100.0
    return values


def _read_structure_reference(path: Path, name: str, *, plddt_from_b: bool = True) -> Reference:
    structure, coords = read_coords(path)
    if not plddt_from_b:
        return Reference(name=name, coords=coords, plddt=np.full(len(coords), np.nan))
    plddt = _plddt_from_b(path, structure)
    if len(plddt) != len(coords):
        raise InputError(f"{len(plddt)} residues with a Cα B-factor but {len(coords)} amino-acid residues", path=path)
    return Reference(name=name, coords=coords, plddt=plddt)


def reference_layout(directory: Path) -> str:
    """``alphafold`` (result pkls), ``colabfold`` (ranked ColabFold files) or ``pdb`` (structures only)."""
    names = [p.name for p in directory.iterdir()]
    if any(_PKL.match(n) for n in names):
        return "alphafold"
    if any(_COLABFOLD.match(n) for n in names):
        return "colabfold"
    return "pdb"


def _read_json_scores(path: Path, n_residues: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(plddt (L,), pae (L, L) or None) from a ColabFold scores JSON, checked against the structure."""
    import json

    try:
        scores = json.loads(path.read_text())
        plddt = np.asarray(scores["plddt"], dtype=np.float64)
        pae = np.asarray(scores["pae"], dtype=np.float64) if "pae" in scores else None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InputError(f"not a ColabFold scores JSON with a numeric 'plddt' list ({type(exc).__name__}: {exc})",
                         path=path) from None
    if plddt.shape != (n_residues,):
        raise InputError(f"plddt has {plddt.size} values, the structure {n_residues} residues", path=path,
                         record="plddt")
    if not np.isfinite(plddt).all():
        raise InputError("NaN or infinite pLDDT", path=path, record="plddt")
    if pae is not None and (pae.shape != (n_residues, n_residues) or not np.isfinite(pae).all()):
        raise InputError(f"pae of shape {pae.shape} (or with NaN) for {n_residues} residues", path=path, record="pae")
    return plddt, pae


def _with_distogram(ref: Reference, pkl: Path, structure: Path, n_references: int) -> Reference:
    check_pair_memory(len(ref.coords), n_references, DEFAULT_DISTOGRAM_BINS, pkl)
    probs, edges, plddt = read_result_pkl(pkl)
    if len(ref.coords) != len(plddt):
        raise InputError(f"{len(plddt)} residues in the pickle but {len(ref.coords)} in {structure.name}", path=pkl)
    ref.plddt, ref.probs, ref.bin_edges = plddt, probs, edges
    return ref


def _alphafold_references(directory: Path, n_references: int) -> list[Reference]:
    refs = []
    for pkl in sorted(p for p in directory.iterdir() if _PKL.match(p.name))[:n_references]:
        stem = _PKL.match(pkl.name).group(1)
        candidates = [directory / f"{kind}_{stem}{ext}" for kind in ("relaxed", "unrelaxed")
                      for ext in (".pdb", ".cif", ".pdb.gz", ".cif.gz")]
        found = next((c for c in candidates if c.exists()), None)
        if found is None:
            raise InputError(f"no relaxed_{stem}.pdb or unrelaxed_{stem}.pdb next to it", path=pkl)
        refs.append(_with_distogram(_read_structure_reference(found, stem), pkl, found, n_references))
    return refs


def _colabfold_references(directory: Path, n_references: int, distograms: bool) -> list[Reference]:
    by_rank: dict[int, dict[str, Path]] = {}
    for path in directory.iterdir():
        match = _COLABFOLD.match(path.name)
        if match:
            by_rank.setdefault(int(match["rank"]), {})[match["kind"]] = path
    refs = []
    for rank in sorted(by_rank)[:n_references]:
        path = by_rank[rank].get("relaxed") or by_rank[rank]["unrelaxed"]
        match = _COLABFOLD.match(path.name)
        stem = f"rank_{match['rank']}_{match['tag']}"
        ref = _read_structure_reference(path, stem, plddt_from_b=False)
        scores = directory / f"{match['job']}_scores_{stem}.json"
        if scores.is_file():
            ref.plddt, ref.pae = _read_json_scores(scores, len(ref.coords))
        else:
            ref.plddt = _plddt_from_b(path, read_coords(path)[0])
        pickle_path = directory / f"{match['job']}_all_{stem}.pickle"
        if distograms and pickle_path.is_file():
            ref = _with_distogram(ref, pickle_path, path, n_references)
        refs.append(ref)
    return refs


def read_references(directory: str | Path, n_references: int = 5, fmt: str = "auto") -> list[Reference]:
    """Up to ``n_references`` references from ``directory`` (see the module docstring).

    ``fmt`` ``alphafold`` requires result pkls, ``colabfold`` ColabFold's ranked files, ``pdb`` reads the
    structures alone (distograms ignored), ``auto`` takes the layout the directory has.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError("reference directory not found", path=directory)
    layout = reference_layout(directory)
    if fmt == "alphafold" and layout != "alphafold":
        raise InputError("no result_model_*.pkl (reference_format alphafold)", path=directory)
    if fmt == "colabfold" and layout != "colabfold":
        raise InputError("no ColabFold <job>_{relaxed,unrelaxed}_rank_<r>_<tag>.pdb files (reference_format "
                         "colabfold)", path=directory)
    if layout == "alphafold" and fmt in ("auto", "alphafold"):
        refs = _alphafold_references(directory, n_references)
    elif layout == "colabfold" and fmt != "alphafold":
        refs = _colabfold_references(directory, n_references, distograms=fmt != "pdb")
    else:
        files = sorted(p for p in directory.iterdir() if is_structure_file(p))
        ranked = [p for p in files if p.name.startswith("ranked_")]
        files = ranked or files
        refs = [_read_structure_reference(path, path.name.split(".")[0]) for path in files[:n_references]]
    if not refs:
        raise InputError("no reference structures (result_model_*.pkl, ColabFold ranks, *.pdb or *.cif)",
                         path=directory)
    return refs
