"""Features of one model against its references [enqa].

* Distance-error features (eqs. 5.1-5.2): for residue pair (i, j) with model Cβ distance d_ij, the
  probability that the true distance falls in each lDDT error bin, read off a reference's distogram:
  ``P_k(i, j) = sum_b p_b(i, j) [mid_b - d_ij in error bin k]``, b over distogram bins with midpoint
  ``mid_b`` (the first and last, open bins take the midpoint one bin width beyond their edge), k over
  the 9 bins of :data:`pgml.qa.params.ERROR_BIN_EDGES`. Plus the contact probability
  ``sum_{b: mid_b <= 15 Å} p_b``, averaged over references.
* Node features: one-hot residue type (20), relative SASA (freesasa, Lee-Richards), Voronoi cell volume
  of the Cβ points (scipy.spatial; log Å³, the open cells at the surface closed by a box of padding
  points along the principal axes), buriedness (shortest path in the 8 Å Cβ contact graph to a residue with relative SASA >
  0.25, scipy.sparse.csgraph), Cα-lDDT of the model to each reference and each reference's pLDDT.
* Edge features: real spherical harmonics of the Cα→Cα direction in each residue's frame
  (:mod:`pgml.qa.geometry`).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path
from scipy.spatial import ConvexHull, Voronoi

from pgml.qa.params import CONTACT_CUTOFF, ERROR_BIN_EDGES, EXPOSED_RSA
from pgml.structure.io import AtomTable
from pgml.structure.sequence import one_letter

AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"


def bin_midpoints(edges: np.ndarray) -> np.ndarray:
    """Midpoints of the B = len(edges) + 1 distogram bins (open end bins: one width beyond the edge)."""
    edges = np.asarray(edges, dtype=np.float64)
    width = edges[1] - edges[0] if len(edges) > 1 else 1.0
    inner = (edges[:-1] + edges[1:]) / 2
    return np.concatenate([[edges[0] - width / 2], inner, [edges[-1] + width / 2]])


def distance_error_features(probs: np.ndarray, edges: np.ndarray, d_model: np.ndarray) -> np.ndarray:
    """(R, R, 9) probability mass of the distogram ``probs`` (R, R, B) in each lDDT error bin given the
    model distances ``d_model`` (R, R) (eqs. 5.1-5.2 of [enqa])."""
    # mid_b - d in (lo, hi]  <=>  mid_b in (d + lo, d + hi]: with C(x) the mass of the bins whose midpoint
    # is <= x (a cumulative sum over the sorted midpoints), the mass of error bin k is C(d + hi) - C(d + lo)
    mids = bin_midpoints(edges)
    cum = np.concatenate([np.zeros((*probs.shape[:2], 1)), np.cumsum(probs, axis=-1)], axis=-1)
    bounds: list[np.ndarray] = []
    for edge in ERROR_BIN_EDGES:
        count = np.searchsorted(mids, d_model + edge, side="right")
        bounds.append(np.take_along_axis(cum, count[..., None], axis=-1)[..., 0])
    below = [np.zeros(d_model.shape), *bounds]
    above = [*bounds, cum[..., -1]]
    return np.stack([a - b for a, b in zip(above, below, strict=True)], axis=-1)


def contact_probability(probs: np.ndarray, edges: np.ndarray, cutoff: float = CONTACT_CUTOFF) -> np.ndarray:
    """(R, R) probability of a distance in a distogram bin with midpoint <= ``cutoff``."""
    return probs[..., bin_midpoints(edges) <= cutoff].sum(-1)


def one_hot(sequence: str) -> np.ndarray:
    out = np.zeros((len(sequence), len(AMINO_ACIDS)))
    for i, letter in enumerate(sequence):
        k = AMINO_ACIDS.find(letter)
        if k >= 0:
            out[i, k] = 1.0
    return out


def relative_sasa(atoms: AtomTable) -> np.ndarray:
    """(R,) relative solvent-accessible surface area per residue (freesasa, default classifier)."""
    import freesasa

    keep = np.array([one_letter(str(r)) is not None for r in atoms.res_name])
    atoms = atoms.subset(keep)
    structure = freesasa.Structure()
    for k in range(len(atoms)):
        x, y, z = atoms.coords[k]
        structure.addAtom(f"{atoms.atom_name[k]:^4}"[:4], str(atoms.res_name[k]), str(int(atoms.res_index[k])),
                          "A", float(x), float(y), float(z))
    result = freesasa.calc(structure)
    areas = result.residueAreas().get("A", {})
    out = np.zeros(atoms.n_residues)
    for key, area in areas.items():
        rel = area.relativeTotal
        out[int(key)] = min(float(rel), 1.5) if np.isfinite(rel) else 0.0
    return out


def voronoi_volumes(points: np.ndarray, pad: float = 8.0) -> np.ndarray:
    """(R,) log(1 + volume) of each point's Voronoi cell (Å³). A box of padding points ``pad`` Å outside
    the points' extent along their principal axes closes the surface cells; built in the principal-axes
    frame, the box (and so every volume) does not depend on how the structure is oriented."""
    centred = points - points.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    local = centred @ axes.T
    lo, hi = local.min(axis=0) - pad, local.max(axis=0) + pad
    grid = np.stack(np.meshgrid(*[np.linspace(a, b, 4) for a, b in zip(lo, hi, strict=True)], indexing="ij"), -1)
    grid = grid.reshape(-1, 3)
    on_box = (np.isclose(grid, lo) | np.isclose(grid, hi)).any(axis=1)
    vor = Voronoi(np.concatenate([local, grid[on_box]]))
    out = np.zeros(len(points))
    for i in range(len(points)):
        region = vor.regions[vor.point_region[i]]
        if -1 in region or len(region) < 4:
            continue
        out[i] = np.log1p(ConvexHull(vor.vertices[region]).volume)
    return out


def buriedness(cb: np.ndarray, rsa: np.ndarray, contact: float = 8.0, exposed: float = EXPOSED_RSA) -> np.ndarray:
    """(R,) hops in the Cβ contact graph (< ``contact`` Å) to the nearest exposed residue (0 if exposed)."""
    d = np.linalg.norm(cb[:, None] - cb[None], axis=-1)
    adjacency = csr_matrix((d < contact) & ~np.eye(len(cb), dtype=bool))
    sources = np.flatnonzero(rsa > exposed)
    if len(sources) == 0:
        return np.full(len(cb), float(len(cb)))
    hops = shortest_path(adjacency, unweighted=True, indices=sources).min(axis=0)
    hops[~np.isfinite(hops)] = len(cb)
    return hops
