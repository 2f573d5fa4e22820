"""The input arrays of EnQA's released networks, built from a model PDB and AlphaFold's outputs
(``pgml qa released-features``; ``pgml qa predict-released --structures``).

The authors' ``EnQA.py`` [enqa] hands the network ``f1d = [one-hot (20), residue features (3),
pLDDT (5), af2_qa (5)]``, ``f2d = [spherical harmonics (25), esto9 (45) | cov25 (25)]``, ``pos``, the
edge list and ``cmap``. Built here the way the authors' ``feature.py`` and
``data/process_alphafold.py`` (commit b540a46) build them, from AlphaFold's ``result_model_{1..5}.pkl``
(distogram logits + bin edges, pLDDT) and ``relaxed_model_{1..5}.pdb`` (``unrelaxed_`` when not relaxed):

* ``plddt`` (5, L): each model's pLDDT / 100.
* ``cmap`` (L, L): the mean over the 5 models of the probability mass of the first 42 distogram bins
  (distance below 18.4 Å with AlphaFold's 64 bins): the contact weights of eq. 5.3.
* ``esto9`` (45, L, L): for each AlphaFold model, the probability mass of its distogram in each of the 9
  distance-error bins [-inf, -4, -2, -1, -0.5, 0.5, 1, 2, 4, inf) (lower edge included) of
  ``d_model - c_b``, with ``d_model`` the model's Cα distance and ``c_b`` the authors' bin centres:
  ``[e_0 / 2, (e_0 + e_1) / 2, ..., (e_61 + e_62) / 2, e_62]`` (a first bin from 0 and the last bin's
  lower edge) — not the midpoints of :func:`pgml.qa.features.bin_midpoints`.
* ``cov25`` (25, L, L): for each residue pair the 5 x 5 covariance (denominator 63) over the 64 bins
  of the 5 models' probability vectors.
* ``af2_qa`` (5, L): the per-residue lDDT of the model against each AlphaFold model (the AlphaFold
  model is the reference; heavy atoms matched by residue order and atom name; 15 Å, thresholds
  0.5/1/2/4 Å) by :func:`pgml.qa.lddt.lddt`, where the authors run OpenStructure's ``lddt`` binary.
  A residue without any scored pair gets -1, as the authors' parser writes the binary's ``-``.
* ``one_hot`` (20, L): residue types in the authors' order (three-letter names sorted: ALA, ARG, ...).
* ``pos`` (L, 3): Cα in Å x 0.01 (float32); ``edge_index``: every ordered pair, self-pairs included,
  with ``|pos_i - pos_j| <= 0.15`` (15 Å), as ``numpy.where`` returns them.
* ``sh`` (25, L, L): the spherical harmonics (l <= 4) of the Cα_i→Cα_j direction in residue i's frame
  in the convention of the authors' S-GCN featurizer (:func:`featurizer_harmonics`; its values to its 4
  printed decimals on the pairs both have).
* ``features`` (3, L): per residue the sum of its atoms' cell volumes, the least depth of its atoms
  (buriedness) and the sum of their solvent-accessible areas; volume and SASA divided by their sums over
  residues, as the authors' S-GCN step aggregates Voronota's atom values and ``load_x`` normalises them.

Where the authors run Voronota (a C++ program, not part of pgml) pgml computes the same quantities with
the field's libraries, approximately: the atom cells are those of the additively weighted Voronoi
diagram of the atom balls (Voronota's default radii by element) cut by the solvent balls (radius +
1.4 Å), measured on a 0.4 Å grid (scipy's cKDTree); the solvent-accessible areas are freesasa's
(Lee-Richards, same radii and probe); the depth counts hops in the graph of atoms within 4.5 Å from the
atoms with solvent-accessible area; and the residue pairs given harmonics are those with two heavy atoms
within 4.5 Å, where the authors take the pairs with a Voronota contact face (pgml's pairs were a subset,
89-94 % of them, on the examples checked). Written here because no Python library computes Voronota's
tessellation; the docs' agreement table gives the remaining differences and how far the predictions
move.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from pgml.errors import InputError
from pgml.qa.params import RELEASED_PAIR_KIND as PAIR_KIND

log = logging.getLogger(__name__)

#: AlphaFold models the released networks read
N_AF2_MODELS = 5
#: distogram bins summed into the contact map (authors' ``cmap_cutoff_dim``)
CMAP_BINS = 42
#: coordinates are scaled by this (Å -> network units) and edges join residues within EDGE_CUTOFF Å
COORD_SCALE, EDGE_CUTOFF = 0.01, 15.0
#: lower-inclusive edges of the 9 distance-error bins of 'esto9' (Å)
ESTO9_EDGES = (-np.inf, -4.0, -2.0, -1.0, -0.5, 0.5, 1.0, 2.0, 4.0, np.inf)
#: residue types in the order of the authors' one-hot (sorted three-letter names)
RESIDUE_TYPES = tuple(sorted(("ALA", "ARG", "ASN", "ASP", "CYS", "GLN", "GLU", "GLY", "HIS", "ILE", "LEU", "LYS",
                              "MET", "PHE", "PRO", "SER", "THR", "TRP", "TYR", "VAL")))
#: heavy-atom distance (Å) of the residue pairs given spherical harmonics (and of the atom contacts of the
#: depth), and the harmonics' highest degree
SH_CONTACT, SH_DEGREE = 4.5, 4
#: Voronota's default radii by element (Å), its solvent probe (Å) and the volume grid's spacing (Å)
VORONOTA_RADII = {"C": 1.8, "N": 1.6, "O": 1.5, "S": 1.9, "SE": 1.9}
PROBE, GRID_STEP = 1.4, 0.4


def one_hot(res_names: np.ndarray, path: Path | str) -> np.ndarray:
    """(20, L) residue types in the authors' order; refuses a residue that is none of the 20."""
    out = np.zeros((len(RESIDUE_TYPES), len(res_names)), dtype=np.float32)
    for i, name in enumerate(res_names):
        if name not in RESIDUE_TYPES:
            raise InputError(f"residue type {name} is none of the 20 the released network was trained on",
                             path=path, record=f"residue {i + 1}")
        out[RESIDUE_TYPES.index(name), i] = 1.0
    return out


def positions(ca: np.ndarray) -> np.ndarray:
    """(L, 3) Cα in network units: float32 Å x 0.01."""
    return (np.asarray(ca, dtype=np.float32) * COORD_SCALE).astype(np.float32)


def edge_list(pos: np.ndarray, cutoff: float = EDGE_CUTOFF * COORD_SCALE) -> np.ndarray:
    """(2, E) every ordered pair (self-pairs included) within ``cutoff`` in ``pos``'s units, row-major."""
    from scipy.spatial.distance import cdist

    return np.stack(np.nonzero(cdist(pos, pos) <= cutoff)).astype(np.int64)


def plddt_rows(plddts: list[np.ndarray]) -> np.ndarray:
    """(M, L) pLDDT / 100 of each AlphaFold model."""
    return (np.stack(plddts) / 100).astype(np.float32)


def contact_map(probs: list[np.ndarray], n_bins: int = CMAP_BINS) -> np.ndarray:
    """(L, L) mean over models of the probability mass of the first ``n_bins`` distogram bins."""
    return np.mean([p[..., :n_bins].sum(-1) for p in probs], axis=0).astype(np.float32)


def bin_centres(edges: np.ndarray) -> np.ndarray:
    """The authors' (B,) distance of each of the B = len(edges) + 1 distogram bins: midpoints of
    ``[0, e_0, ..., e_last]`` and then ``e_last`` itself."""
    bounds = np.concatenate(([0.0], np.asarray(edges, dtype=np.float64)))
    return np.concatenate(((bounds[:-1] + bounds[1:]) / 2, bounds[-1:]))


def esto9_single(probs: np.ndarray, edges: np.ndarray, d_model: np.ndarray) -> np.ndarray:
    """(9, L, L) mass of ``probs`` (L, L, B) in each distance-error bin of ``d_model - centre_b``."""
    error = d_model[..., None] - bin_centres(edges)
    return np.stack([np.where((error >= lo) & (error < hi), probs, 0.0).sum(-1)
                     for lo, hi in zip(ESTO9_EDGES[:-1], ESTO9_EDGES[1:], strict=True)])


def esto9(probs: list[np.ndarray], edges: list[np.ndarray], ca: np.ndarray) -> np.ndarray:
    """(9 M, L, L) :func:`esto9_single` of each AlphaFold model against the model's Cα distances."""
    d_model = np.linalg.norm(ca[:, None] - ca[None], axis=-1)
    return np.concatenate([esto9_single(p, e, d_model) for p, e in zip(probs, edges, strict=True)]).astype(np.float32)


def cov25(probs: list[np.ndarray]) -> np.ndarray:
    """(M², L, L) covariance over the B bins between the models' probability vectors, per pair."""
    x = np.stack(probs, axis=2)  # (L, L, M, B)
    centred = x - x.mean(axis=3, keepdims=True)
    cov = np.einsum("ijmb,ijnb->ijmn", centred, centred) / (x.shape[3] - 1)
    return cov.reshape(*cov.shape[:2], -1).transpose(2, 0, 1).astype(np.float32)


def heavy_atoms(atoms) -> tuple[np.ndarray, list[tuple[int, str]]]:  # noqa: ANN001 - AtomTable
    """(coordinates, (residue index, atom name) keys) of the protein heavy atoms."""
    keep = atoms.protein_mask() & (atoms.element != "H") & (atoms.element != "D")
    keys = list(zip(atoms.res_index[keep].tolist(), atoms.atom_name[keep].tolist(), strict=True))
    return atoms.coords[keep], keys


def af2_lddt(model_atoms, reference_atoms, n_residues: int) -> np.ndarray:  # noqa: ANN001 - AtomTable
    """(L,) all-atom lDDT of each model residue against the reference (heavy atoms matched by residue
    index and name; a model atom the reference lacks takes no part); -1 where a residue has no pair."""
    from pgml.qa.lddt import lddt

    coords, keys = heavy_atoms(model_atoms)
    ref_coords, ref_keys = heavy_atoms(reference_atoms)
    where = {key: k for k, key in enumerate(ref_keys)}
    reference = np.full_like(coords, np.nan)
    for k, key in enumerate(keys):
        if key in where:
            reference[k] = ref_coords[where[key]]
    residue = np.array([r for r, _ in keys], dtype=np.int64)
    _, per_residue = lddt(reference, coords, residue, n_residues=n_residues)
    return np.where(np.isnan(per_residue), -1.0, per_residue).astype(np.float32)


def atom_radii(elements: np.ndarray) -> np.ndarray:
    """(N,) Voronota's default van der Waals radius of each element (Å; 1.8 for any other)."""
    return np.array([VORONOTA_RADII.get(str(e), 1.8) for e in elements])


def atom_sas_areas(coords: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """(N,) solvent-accessible area of each atom (Å², freesasa, Lee-Richards, probe 1.4 Å)."""
    import freesasa

    result = freesasa.calcCoord(np.asarray(coords, dtype=np.float64).ravel(), radii,
                                freesasa.Parameters({"probe-radius": PROBE}))
    return np.array([result.atomArea(i) for i in range(len(coords))])


def atom_depth(coords: np.ndarray, areas: np.ndarray, contact: float = SH_CONTACT) -> np.ndarray:
    """(N,) Voronota's shelling depth, approximated: 1 for atoms with solvent-accessible area, else 1 +
    hops in the graph of atoms within ``contact`` Å to such an atom."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import shortest_path
    from scipy.spatial import cKDTree

    n = len(coords)
    exposed = np.flatnonzero(areas > 0)
    if len(exposed) == 0:
        return np.full(n, float(n))
    pairs = cKDTree(coords).query_pairs(contact, output_type="ndarray")
    graph = csr_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    depth = shortest_path(graph, directed=False, unweighted=True, indices=exposed).min(axis=0) + 1
    depth[~np.isfinite(depth)] = n
    return depth


def atom_volumes(coords: np.ndarray, radii: np.ndarray, step: float = GRID_STEP,
                 chunk: int = 200_000) -> np.ndarray:
    """(N,) volume (Å³) of each atom's cell in the additively weighted Voronoi diagram of the atom balls,
    cut by the solvent-accessible balls (radius + 1.4 Å), as Voronota's cells are: grid points ``step``
    Å apart, each given to the atom with the least ``distance - radius`` when that is at most 1.4 Å."""
    from scipy.spatial import cKDTree

    tree, reach = cKDTree(coords), float(radii.max()) + PROBE
    lo, hi = coords.min(axis=0) - reach, coords.max(axis=0) + reach
    axes = [np.arange(a, b + step, step) for a, b in zip(lo, hi, strict=True)]
    counts = np.zeros(len(coords))
    shape = tuple(len(a) for a in axes)
    for start in range(0, int(np.prod(shape)), chunk):
        flat = np.arange(start, min(start + chunk, int(np.prod(shape))))
        ijk = np.unravel_index(flat, shape)
        grid = np.stack([axes[k][ijk[k]] for k in range(3)], axis=1)
        dist, idx = tree.query(grid, k=min(12, len(coords)), distance_upper_bound=reach)
        dist, idx = dist.reshape(len(grid), -1), idx.reshape(len(grid), -1)
        found = np.isfinite(dist)
        power = np.where(found, dist - radii[np.minimum(idx, len(coords) - 1)], np.inf)
        best = power.argmin(axis=1)
        inside = power[np.arange(len(grid)), best] <= PROBE
        counts += np.bincount(idx[np.arange(len(grid)), best][inside], minlength=len(coords))
    return counts * step ** 3


def residue_features(structure, n_residues: int, path: Path | str) -> np.ndarray:  # noqa: ANN001
    """(3, L) volume, buriedness and SASA per residue as the authors' S-GCN step aggregates Voronota's atom
    values (sum, minimum, sum), built in pgml (module docstring); volume and SASA divided by their sums
    over residues as the authors' ``load_x`` does."""
    coords, keys = heavy_atoms(structure.atoms)
    keep = structure.atoms.protein_mask() & (structure.atoms.element != "H") & (structure.atoms.element != "D")
    radii = atom_radii(structure.atoms.element[keep])
    residue = np.array([r for r, _ in keys], dtype=np.int64)
    areas = atom_sas_areas(coords, radii)
    depth = atom_depth(coords, areas)
    out = np.stack([np.bincount(residue, weights=atom_volumes(coords, radii), minlength=n_residues),
                    np.array([depth[residue == r].min() if (residue == r).any() else 1.0
                              for r in range(n_residues)]),
                    np.bincount(residue, weights=areas, minlength=n_residues)])
    for row in (0, 2):
        total = out[row].sum()
        if not total > 0:
            raise InputError(f"the {'volume' if row == 0 else 'SASA'} of every residue is 0; the features would "
                             "divide by zero", path=path)
        out[row] = out[row] / total
    return out.astype(np.float32)


def featurizer_harmonics(lmax: int, theta: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """(E, (lmax+1)^2) the harmonics as the authors' S-GCN featurizer (``sh-featurizer-linux --mode sh``)
    writes them: for each l the slots m = -1, -2, ..., -l, 0, 1, ..., l holding ``-2 N_lk P_l^k sin(kφ)``
    (slot -k), ``N_l0 P_l^0`` and ``2 N_lm P_l^m cos(mφ)``, P with the Condon-Shortley phase; in terms of
    pgml's orthonormal real harmonics Y_lm: ``sqrt(2) (-1)^(k+1) Y_l,-k``, ``Y_l0`` and
    ``sqrt(2) (-1)^m Y_lm`` (found by regressing the featurizer's output on Y_lm; agreement to its 4
    printed decimals, see the docs)."""
    from pgml.qa.geometry import real_spherical_harmonics

    y = real_spherical_harmonics(lmax, theta, phi)
    cols = []
    for l in range(lmax + 1):  # noqa: E741
        at = l * l + l  # column of Y_l0
        cols += [np.sqrt(2) * (-1) ** (k + 1) * y[:, at - k] for k in range(1, l + 1)]
        cols += [y[:, at]] + [np.sqrt(2) * (-1) ** m * y[:, at + m] for m in range(1, l + 1)]
    return np.stack(cols, axis=-1)


def contact_pairs(atoms, n_residues: int, cutoff: float = SH_CONTACT) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """(src, dst) ordered residue pairs i != j with two heavy atoms within ``cutoff`` Å: pgml's stand-in for
    the residue pairs with a Voronota contact face, of which they were a subset on the examples checked."""
    from scipy.spatial import cKDTree

    coords, keys = heavy_atoms(atoms)
    residue = np.array([r for r, _ in keys], dtype=np.int64)
    pairs = cKDTree(coords).query_pairs(cutoff, output_type="ndarray")
    contact = np.zeros((n_residues, n_residues), dtype=bool)
    contact[residue[pairs[:, 0]], residue[pairs[:, 1]]] = True
    contact |= contact.T
    np.fill_diagonal(contact, False)
    return np.nonzero(contact)


def contact_harmonics(atoms, res) -> np.ndarray:  # noqa: ANN001 - AtomTable, ResidueCoords
    """(25, L, L) :func:`featurizer_harmonics` (l <= 4) of the Cα_i→Cα_j direction in residue i's frame
    (x along Cα→N, y towards C) for the :func:`contact_pairs`; 0 elsewhere."""
    from pgml.qa.geometry import edge_angles, local_frames

    n = len(res)
    src, dst = contact_pairs(atoms, n)
    theta, phi = edge_angles(local_frames(res.n, res.ca, res.c), res.ca, src, dst)
    out = np.zeros(((SH_DEGREE + 1) ** 2, n, n), dtype=np.float32)
    out[:, src, dst] = featurizer_harmonics(SH_DEGREE, theta, phi).T
    return out


def _af2_files(directory: Path) -> list[tuple[Path, Path]]:
    """(result pkl, structure) of AlphaFold models 1..5; refuses a missing one."""
    if not directory.is_dir():
        raise InputError("is not a directory (AlphaFold's output: result_model_{1..5}.pkl and "
                         "relaxed_model_{1..5}.pdb)", path=directory)
    out = []
    for i in range(1, N_AF2_MODELS + 1):
        pkl = directory / f"result_model_{i}.pkl"
        structures = [directory / f"{kind}_model_{i}.pdb" for kind in ("relaxed", "unrelaxed")]
        found = [p for p in structures if p.is_file()]
        if not pkl.is_file() or not found:
            missing = pkl.name if not pkl.is_file() else f"{structures[0].name} (or {structures[1].name})"
            raise InputError(f"lacks {missing}; the released networks read AlphaFold's 5 models with their result "
                             "pickles", path=directory)
        out.append((pkl, found[0]))
    return out


def read_alphafold(directory: Path, n_residues: int, model_path: Path) -> dict:
    """Distogram probabilities, bin edges, pLDDT and structures of the 5 AlphaFold models, each checked
    against the model's residue count."""
    from pgml.qa.inputs import read_coords
    from pgml.qa.references import read_result_pkl

    probs, edges, plddts, structures = [], [], [], []
    for pkl, pdb in _af2_files(directory):
        p, e, plddt = read_result_pkl(pkl)  # refuses a pkl without distogram, NaN, shapes that disagree
        if len(plddt) != n_residues:
            raise InputError(f"AlphaFold predicted {len(plddt)} residues, the model {model_path} has {n_residues}; "
                             "the released features need the same residues in the same order", path=pkl)
        structure, res = read_coords(pdb)
        if len(res) != n_residues:
            raise InputError(f"has {len(res)} residues, the model {model_path} has {n_residues}", path=pdb)
        probs.append(p)
        edges.append(e)
        plddts.append(plddt)
        structures.append(structure)
    return {"probs": probs, "edges": edges, "plddt": plddts, "structures": structures}


def feature_bytes(n_residues: int, distogram_bins: int = 64) -> int:
    """Peak bytes of :func:`released_arrays` for L residues: per residue pair the 5 models' distogram
    probabilities (float64) and, while cov25 is computed, their stacked and centred copies
    (3 x 8 x 5 B), plus the float32 pair outputs (spherical harmonics, esto9 or cov25, cmap, f2d):
    ``L^2 (120 B + 4 x 2 x (25 + 45 + 1))``."""
    return int(n_residues) ** 2 * (3 * 8 * N_AF2_MODELS * distogram_bins + 4 * 2 * (25 + 45 + 1))


def released_arrays(model_path: Path, alphafold_dir: Path, method: str) -> dict[str, np.ndarray]:
    """Every named array (one_hot, features, plddt, af2_qa, sh, esto9|cov25, pos, edge_index, cmap) and
    the network's inputs f1d, f2d of ``method``."""
    from pgml.qa.inputs import read_coords

    if method not in PAIR_KIND:
        raise InputError(f"pgml builds the features of {', '.join(PAIR_KIND)}; {method} reads others (the model "
                         "card names them)", record=method)
    from pgml.runtime import check_memory

    structure, res = read_coords(model_path)
    n = len(res)
    check_memory(feature_bytes(n), f"the released features of {n} residues", path=model_path,
                 lower_with="a model split into domains (with AlphaFold run on each domain)")
    af2 = read_alphafold(alphafold_dir, n, model_path)
    pos = positions(res.ca)
    arrays = {
        "one_hot": one_hot(res.res_name, model_path),
        "features": residue_features(structure, n, model_path),
        "plddt": plddt_rows(af2["plddt"]),
        "af2_qa": np.stack([af2_lddt(structure.atoms, s.atoms, n) for s in af2["structures"]]),
        "sh": contact_harmonics(structure.atoms, res),
        "pos": pos,
        "edge_index": edge_list(pos),
        "cmap": contact_map(af2["probs"]),
    }
    kind = PAIR_KIND[method]
    arrays[kind] = esto9(af2["probs"], af2["edges"], res.ca) if kind == "esto9" else cov25(af2["probs"])
    arrays["f1d"] = np.concatenate([arrays[k] for k in ("one_hot", "features", "plddt", "af2_qa")])
    arrays["f2d"] = np.concatenate([arrays["sh"], arrays[kind]])
    undefined = int((arrays["af2_qa"] < 0).sum())
    if undefined:
        log.warning("%s: %d residue lDDT value(s) against the AlphaFold models have no scored pair (set to -1, as "
                    "the authors' pipeline does)", model_path, undefined)
    for name, values in arrays.items():
        if not np.isfinite(values).all():
            raise InputError(f"the {name} array holds non-finite values", path=model_path, record=name)
    return arrays


def write_released_features(model_path: Path, alphafold_dir: Path, method: str, output: Path) -> dict:
    """Write the arrays of :func:`released_arrays` to ``output`` (.npz, atomically); returns them."""
    from pgml.fileio import atomic_path

    arrays = released_arrays(model_path, alphafold_dir, method)
    with atomic_path(output) as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(handle, **arrays)
    log.info("%s: %d residues, %d edges, f1d %s, f2d %s -> %s", model_path, arrays["pos"].shape[0],
             arrays["edge_index"].shape[1], arrays["f1d"].shape, arrays["f2d"].shape, output)
    return arrays
