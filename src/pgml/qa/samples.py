"""One graph per model: features against the target's references, labels against its native.

A target is a directory holding ``models/`` (the structures to score), ``alphafold/`` (the reference
predictions, :mod:`pgml.qa.references`) and, for training and evaluation, ``native.pdb`` / ``native.cif``
(optionally gzipped). Each model becomes a ``torch_geometric.data.Data`` with

* ``x`` (R, 20 + 3 + 2 n_ref) node features, ``pair`` (C, R, R) pair features (9 n_ref distance-error
  channels, mean contact probability, model Cβ distance / 20 clipped at 1), ``pos`` (R, 3) Cα,
  ``edge_index`` / ``edge_attr`` the Cα graph within the radius with spherical-harmonic edge features,
  ``sh2d`` ((L+1)^2, R, R) the same harmonics for every residue pair (the ResNet's 2-D input);
* labels ``y`` (R,) Cα-lDDT to the native (NaN without a native residue), ``err_bin`` (R, R) error
  bins of the Cβ distances (-1 outside 15 Å in the native), ``err`` (R, R) the signed errors themselves
  (Å, NaN there), ``lddt``, ``gdt_ts``, ``tm_score``, all by
  CASP's convention (:mod:`pgml.qa.score`: native length, missing residues not conserved);
* baselines ``consensus`` (mean Cα-lDDT to the references) and ``plddt`` (mean reference pLDDT / 100),
  NaN (``n/a``) where no reference has the residue or carries a pLDDT, and NaN for the whole model
  when a chain of the model has no counterpart in the references (a homodimer model against monomer
  predictions: the references say nothing about the second copy or the interface).
"""

from __future__ import annotations

import logging
import multiprocessing
from pathlib import Path

import numpy as np

from pgml.errors import InputError
from pgml.qa.align import match_residues, take, take_pairs
from pgml.qa.features import (
    buriedness,
    error_bin_bounds,
    error_features_from_cumulative,
    one_hot,
    relative_sasa,
    voronoi_volumes,
)
from pgml.qa.geometry import edge_angles, local_frames, real_spherical_harmonics
from pgml.qa.inputs import check_finite_coords, check_pair_memory, check_target_dir, read_coords
from pgml.qa.lddt import lddt, pair_error_bins, pair_errors
from pgml.qa.params import N_ERROR_BINS, FeatureConfig
from pgml.qa.references import Reference, read_references
from pgml.qa.score import native_residues, true_scores
from pgml.structure.collection import is_structure_file, structure_stem
from pgml.structure.residue_coords import distance_map, residue_coords

log = logging.getLogger(__name__)


def _nanmean(rows: list[np.ndarray]) -> np.ndarray:
    """Mean over references where defined (NaN where no reference has a value)."""
    stacked = np.stack(rows)
    count = (~np.isnan(stacked)).sum(0)
    return np.where(count > 0, np.nansum(stacked, 0) / np.maximum(count, 1), np.nan)


#: a model chain counts as covered by a reference when at least this fraction of its residues align
MIN_CHAIN_COVERAGE = 0.5


def uncovered_chains(chain_ids: np.ndarray, mapping: np.ndarray) -> list[str]:
    """Chains of the model with fewer than :data:`MIN_CHAIN_COVERAGE` of their residues aligned."""
    out = []
    for chain in dict.fromkeys(str(c) for c in chain_ids):
        sel = np.asarray([str(c) == chain for c in chain_ids])
        if (mapping[sel] >= 0).mean() < MIN_CHAIN_COVERAGE:
            out.append(chain)
    return out


def find_native(target: Path) -> Path | None:
    found = sorted(p for p in target.glob("native.*") if is_structure_file(p))
    return found[0] if found else None


def model_files(target: Path) -> list[Path]:
    models = target / "models"
    files = sorted(p for p in models.iterdir() if is_structure_file(p)) if models.is_dir() else []
    if not files:
        raise InputError("no model structures under models/", path=target)
    return files


def node_feature_names(n_references: int) -> list[str]:
    return ([f"aa_{a}" for a in "ACDEFGHIKLMNPQRSTVWY"] + ["rsa", "voronoi", "buriedness"]
            + [f"lddt_ref{k}" for k in range(n_references)] + [f"plddt_ref{k}" for k in range(n_references)])


def pair_feature_names(n_references: int) -> list[str]:
    return ([f"err{b}_ref{k}" for k in range(n_references) for b in range(N_ERROR_BINS)]
            + ["contact_probability", "model_distance"])


def harmonics_2d(res, degree: int) -> np.ndarray:  # noqa: ANN001 - ResidueCoords
    """((degree+1)^2, R, R) real spherical harmonics of the Cα_i→Cα_j direction in residue i's frame for
    every ordered pair (0 on the diagonal): the 2-D input of the ResNet [enqa]."""
    n = len(res)
    src, dst = np.nonzero(~np.eye(n, dtype=bool))
    theta, phi = edge_angles(local_frames(res.n, res.ca, res.c), res.ca, src, dst)
    out = np.zeros(((degree + 1) ** 2, n, n))
    out[:, src, dst] = real_spherical_harmonics(degree, theta, phi).T
    return out


def feature_settings(config: FeatureConfig, distogram: bool) -> dict:
    """Every setting a trained model needs its inputs built with (stored with each graph, in the
    checkpoint and in the model card): the :class:`FeatureConfig` and whether distogram channels are on."""
    return {"n_references": config.n_references, "graph_radius": config.graph_radius,
            "sh_degree": config.sh_degree, "reference_format": config.reference_format, "distogram": distogram}


def model_sample(model_path: Path, references: list[Reference], config: FeatureConfig, *,
                 native=None, target: str = "", structure=None):  # noqa: ANN001
    """The Data of one model (see the module docstring); ``native`` a ResidueCoords or None."""
    import torch
    from torch_geometric.data import Data

    if structure is None:
        structure, res = read_coords(model_path)
    else:
        check_finite_coords(structure, model_path)
        res = residue_coords(structure, require_backbone=True)
    n_res = len(res)
    n_ref = config.n_references
    refs = [references[k % len(references)] for k in range(n_ref)]
    bins = max((len(r.bin_edges) + 1 for r in refs if r.bin_edges is not None), default=0)
    check_pair_memory(n_res, n_ref, bins, model_path)
    d_model = distance_map(res.cb)
    ref_lddt, ref_plddt, contact = [], [], []
    # pair channels written straight into the float32 array the sample holds (9 per reference, then the
    # mean contact probability and the model distance): no float64 concatenation of all of them
    pair = np.zeros((N_ERROR_BINS * n_ref + 2, n_res, n_res), dtype=np.float32)
    uncovered: set[str] = set()
    bounds: dict[bytes, np.ndarray] = {}  # error-bin bounds per distinct set of distogram bin edges
    mappings: dict[int, np.ndarray] = {}  # a reference listed twice (fewer files than n_references) once
    for k, ref in enumerate(refs):
        if id(ref) not in mappings:
            mappings[id(ref)] = match_residues(res, ref.coords, model_name=str(model_path), other_name=ref.name)
        mapping = mappings[id(ref)]
        uncovered.update(uncovered_chains(res.chain_id, mapping))
        ref_ca = take(ref.coords.ca, mapping)
        _, per_res = lddt(ref_ca, res.ca)
        ref_lddt.append(np.where(mapping >= 0, per_res, np.nan))
        ref_plddt.append(take(ref.plddt[:, None], mapping)[:, 0] / 100.0)
        if ref.probs is not None:
            key = np.asarray(ref.bin_edges, dtype=np.float64).tobytes()
            if key not in bounds:
                bounds[key] = error_bin_bounds(ref.bin_edges, d_model)
            feats = error_features_from_cumulative(ref.cumulative, bounds[key], mapping)
            pair[N_ERROR_BINS * k: N_ERROR_BINS * (k + 1)] = feats.transpose(2, 0, 1)
            contact.append(take_pairs(ref.contact, mapping))
    rsa = relative_sasa(structure.atoms)
    if len(rsa) != n_res:
        raise InputError(f"{len(rsa)} residues with SASA but {n_res} residues", path=model_path)
    x = np.concatenate([one_hot(res.sequence), rsa[:, None], voronoi_volumes(res.cb)[:, None],
                        buriedness(res.cb, rsa)[:, None] / 10.0, np.nan_to_num(np.stack(ref_lddt, 1), nan=0.0),
                        np.nan_to_num(np.stack(ref_plddt, 1), nan=0.0)], 1)
    if contact:
        pair[-2] = np.mean(contact, axis=0)
    pair[-1] = np.clip(d_model / 20.0, 0, 1)
    d_ca = distance_map(res.ca)
    src, dst = np.nonzero((d_ca <= config.graph_radius) & ~np.eye(n_res, dtype=bool))
    sh2d = harmonics_2d(res, config.sh_degree)
    sh = sh2d[:, src, dst].T  # the graph's edges are pairs of the 2-D map: the same harmonics
    consensus, plddt = _nanmean(ref_lddt), _nanmean(ref_plddt)
    if uncovered:
        log.warning("%s: chain(s) %s have no counterpart in the references (e.g. a homodimer model against "
                    "monomer predictions); AF2Consensus and AF2-pLDDT are n/a for this model",
                    model_path, ", ".join(sorted(uncovered)))
        consensus = np.full(n_res, np.nan)
        plddt = np.full(n_res, np.nan)
    f32 = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float32))  # noqa: E731
    data = Data(x=f32(x), pair=torch.from_numpy(pair), pos=f32(res.ca), edge_index=torch.as_tensor(np.stack([src, dst])),
                edge_attr=f32(sh), sh2d=f32(sh2d), consensus=f32(consensus), plddt=f32(plddt))
    data.target, data.model = target, structure_stem(model_path)
    data.feature_settings = feature_settings(config, distogram=bool(contact))
    data.path = str(model_path)
    data.chain = [str(c) for c in res.chain_id]
    data.res_seq = [int(r) for r in res.res_seq]
    data.sequence = res.sequence
    y = np.full(n_res, np.nan)
    err_bin = np.full((n_res, n_res), -1)
    err = np.full((n_res, n_res), np.nan)
    data.lddt = data.gdt_ts = data.tm_score = float("nan")
    if native is not None:
        scores = true_scores(res, native, model_name=str(model_path))
        y = scores.per_residue
        native_cb = take(native.cb[native_residues(native)], scores.mapping)
        err_bin = pair_error_bins(native_cb, res.cb)
        err = pair_errors(native_cb, res.cb)
        data.lddt, data.gdt_ts, data.tm_score = scores.lddt, scores.gdt_ts, scores.tm_score
    data.y = f32(y)
    data.err_bin = torch.as_tensor(err_bin, dtype=torch.long)
    data.err = f32(err)
    return data


#: what a worker process of :func:`target_samples` holds for its target (set by :func:`_worker_init`)
_SHARED: dict = {}


def _worker_init(target_dir: Path, config: FeatureConfig, native_path: Path | None) -> None:
    """Read the target's references and native once per worker process, as the parent reads them."""
    references = read_references(target_dir / "alphafold", config.n_references, config.reference_format)
    for ref in references:  # the per-reference caches every model of the target reads
        _ = ref.cumulative, ref.contact
    native = read_coords(native_path, require_backbone=False)[1] if native_path else None
    _SHARED.update(references=references, config=config, native=native, target=target_dir.name)


def _worker_sample(path: Path):  # noqa: ANN202 - torch_geometric Data
    return model_sample(path, _SHARED["references"], _SHARED["config"], native=_SHARED["native"],
                        target=_SHARED["target"])


def target_samples(target_dir: str | Path, config: FeatureConfig, *, progress: bool = True,
                   require_distogram: bool = False, workers: int = 1) -> list:
    """Data of every model of one target (see :func:`model_sample`), in file order. ``require_distogram``:
    refuse references without distograms (for a model trained with the distogram channels on).

    ``workers`` > 1 builds the models in that many worker processes, each of which reads the references
    and the native once; the samples are the same as with one process (each model's features depend on
    that model and the references only). The workers start from a fork server (a fresh interpreter), not
    by forking this process: a fork of a process whose OpenMP threads have run (torch, BLAS) can hang.
    """
    from tqdm import tqdm

    target_dir = check_target_dir(Path(target_dir))
    references = read_references(target_dir / "alphafold", config.n_references, config.reference_format)
    if require_distogram and all(ref.probs is None for ref in references):
        raise InputError("the model was trained with distogram channels on; these references have no distogram "
                         "(AlphaFold result_model_*.pkl, or ColabFold run with --save-all)",
                         path=target_dir / "alphafold")
    native_path = find_native(target_dir)
    native = read_coords(native_path, require_backbone=False)[1] if native_path else None
    if native is None:
        log.info("%s: no native structure; labels are NaN", target_dir)
    files = model_files(target_dir)
    workers = min(workers, len(files))
    if workers > 1:
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        context = multiprocessing.get_context(method)
        if method == "forkserver":
            context.set_forkserver_preload([__name__])
        with context.Pool(workers, initializer=_worker_init, initargs=(target_dir, config, native_path)) as pool:
            return list(tqdm(pool.imap(_worker_sample, files), total=len(files), desc=target_dir.name,
                             disable=not progress))
    samples = []
    for path in tqdm(files, desc=target_dir.name, disable=not progress):
        samples.append(model_sample(path, references, config, native=native, target=target_dir.name))
    return samples
