"""Demo data: decoys of real native structures and simulated AlphaFold outputs for them.

A documented simulation, named as such, so the chain runs offline: for each native (the first
protein chain of the file, waters, ligands, hydrogens, alternative conformations and residues
without N, CA or C removed, cut to ``max_residues``):

* **decoys** ``models/decoy_<k>.pdb``, k = 0..n-1: every atom of a residue is moved by the residue's
  displacement, a smooth random field (three Gaussian blobs of width 8 Å centred on random residues,
  random directions) plus 20 % independent per-residue noise, scaled to an RMS displacement of
  ``max_perturbation * (k + 1) / n`` Å: perturbations of increasing size;
* **simulated AlphaFold outputs** ``alphafold/result_model_<m>.pkl`` + ``relaxed_model_<m>.pdb``,
  m = 1..5: the native perturbed the same way at 0.3-1.5 Å RMS (AlphaFold-like accuracy), pLDDT =
  100 × the prediction's true per-residue Cα-lDDT plus N(0, 5) noise clipped to [20, 98] (written to
  the B column too), and distogram logits over AlphaFold's 64 bins (edges 2.3125-21.6875 Å) of a
  Gaussian centred on the prediction's Cβ distance with a width that grows as pLDDT falls.

These are not AlphaFold predictions: they stand in for them so that features, training and
evaluation can be exercised; results on them say nothing about real AlphaFold models.
"""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import numpy as np

from pgml.errors import InputError
from pgml.fileio import atomic_path
from pgml.qa.lddt import lddt
from pgml.qa.params import SimulateConfig
from pgml.structure.collection import structure_stem
from pgml.structure.io import load_gemmi
from pgml.structure.residue_coords import distance_map, residue_coords

log = logging.getLogger(__name__)

#: AlphaFold2's distogram: 64 bins, 63 edges from 2.3125 to 21.6875 Å
AF2_BIN_EDGES = np.linspace(2.3125, 21.6875, 63)
N_PREDICTIONS = 5


def _native(path: Path, max_residues: int):  # noqa: ANN202 - gemmi types
    import gemmi

    st = load_gemmi(path)
    while len(st) > 1:
        del st[len(st) - 1]
    st.setup_entities()
    st.remove_hydrogens()
    st.remove_ligands_and_waters()
    st.remove_empty_chains()
    model = st[0]
    chains = [ch for ch in model if ch.get_polymer().check_polymer_type() in
              (gemmi.PolymerType.PeptideL, gemmi.PolymerType.PeptideD)]
    if not chains:
        raise InputError("no protein chain", path=path)
    keep = chains[0].name
    for name in [ch.name for ch in model if ch.name != keep]:
        model.remove_chain(name)
    st.remove_alternative_conformations()
    chain = model[0]
    for k in reversed(range(len(chain))):
        if not all(chain[k].find_atom(name, "*") for name in ("N", "CA", "C")):
            del chain[k]
    while len(chain) > max_residues:
        del chain[len(chain) - 1]
    st.setup_entities()
    return st


def _field(ca: np.ndarray, rms: float, rng: np.random.Generator) -> np.ndarray:
    """(R, 3) smooth random displacement with RMS ``rms`` (see the module docstring)."""
    disp = np.zeros_like(ca)
    for _ in range(3):
        centre = ca[rng.integers(len(ca))]
        weight = np.exp(-np.sum((ca - centre) ** 2, axis=1) / (2 * 8.0 ** 2))
        disp += weight[:, None] * rng.normal(size=3)[None, :]
    disp += 0.2 * rng.normal(size=ca.shape)
    norm = np.sqrt(np.mean(np.sum(disp ** 2, axis=1)))
    return disp * (rms / norm if norm > 0 else 0.0)


def _moved(st, disp: np.ndarray, bfactors: np.ndarray | None = None):  # noqa: ANN001, ANN202
    import gemmi

    out = st.clone()
    for k, res in enumerate(out[0][0]):
        for atom in res:
            atom.pos = gemmi.Position(atom.pos.x + disp[k, 0], atom.pos.y + disp[k, 1], atom.pos.z + disp[k, 2])
            if bfactors is not None:
                atom.b_iso = float(bfactors[k])
    return out


def _write_pdb(st, path: Path) -> None:  # noqa: ANN001
    with atomic_path(path) as tmp:
        st.write_pdb(str(tmp))


def _ca_of(st) -> np.ndarray:  # noqa: ANN001
    return np.array([[r["CA"][0].pos.x, r["CA"][0].pos.y, r["CA"][0].pos.z] if r.find_atom("CA", "*")
                     else [np.nan] * 3 for r in st[0][0]])


def simulate_target(native_path: str | Path, output_dir: str | Path, config: SimulateConfig, seed: int = 0) -> Path:
    """Write ``output_dir/<native stem>/{native.pdb, models/, alphafold/}``; return that directory."""
    from pgml.structure.io import read_structure

    native_path = Path(native_path)
    name = structure_stem(native_path)
    rng = np.random.default_rng([seed, sum(map(ord, name))])
    st = _native(native_path, config.max_residues)
    target = Path(output_dir) / name
    _write_pdb(st, target / "native.pdb")
    native = residue_coords(read_structure(target / "native.pdb"), require_backbone=True)
    ca = _ca_of(st)
    if np.isnan(ca).any() or len(ca) != len(native):
        raise InputError("residues without CA in the first protein chain", path=native_path)
    for k in range(config.n_decoys):
        rms = config.max_perturbation * (k + 1) / config.n_decoys
        _write_pdb(_moved(st, _field(ca, rms, rng)), target / "models" / f"decoy_{k:02d}.pdb")
    mids = np.concatenate([[AF2_BIN_EDGES[0] - 0.15625], (AF2_BIN_EDGES[:-1] + AF2_BIN_EDGES[1:]) / 2,
                           [AF2_BIN_EDGES[-1] + 0.15625]])
    for m in range(1, N_PREDICTIONS + 1):
        disp = _field(ca, rng.uniform(0.3, 1.5), rng)
        _, true_lddt = lddt(native.ca, native.ca + disp)
        plddt = np.clip(100 * np.nan_to_num(true_lddt, nan=0.5) + rng.normal(0, 5, len(ca)), 20, 98)
        _write_pdb(_moved(st, disp, plddt), target / "alphafold" / f"relaxed_model_{m}.pdb")
        d = distance_map(native.cb + disp)
        conf = plddt / 100.0
        sigma = 0.5 + 4.0 * (1.0 - np.sqrt(np.outer(conf, conf)))
        logits = -((mids[None, None, :] - d[..., None]) ** 2) / (2 * sigma[..., None] ** 2)
        result = {"distogram": {"logits": logits.astype(np.float32), "bin_edges": AF2_BIN_EDGES.astype(np.float32)},
                  "plddt": plddt.astype(np.float32)}
        with atomic_path(target / "alphafold" / f"result_model_{m}.pkl") as tmp, open(tmp, "wb") as handle:
            pickle.dump(result, handle)
    log.info("%s: %d residues, %d decoys, %d simulated AlphaFold predictions", name, len(ca),
             config.n_decoys, N_PREDICTIONS)
    return target
