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
from scipy.spatial import Voronoi

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


def cumulative_distogram(probs: np.ndarray) -> np.ndarray:
    """(R, R, B + 1) cumulative mass ``C_b`` of a distogram (R, R, B): ``C_0 = 0``, ``C_b = p_1 + ... + p_b``.
    Computed once per reference and shared by every model of the target."""
    return np.concatenate([np.zeros((*probs.shape[:2], 1)), np.cumsum(probs, axis=-1)], axis=-1)


def error_bin_bounds(edges: np.ndarray, d_model: np.ndarray) -> np.ndarray:
    """(R, R, 8) number of distogram bins whose midpoint is <= ``d_model + e`` for each edge e of
    :data:`~pgml.qa.params.ERROR_BIN_EDGES`: the index into the cumulative distogram at which each lDDT
    error bin starts and ends (depends on the model and the bin edges only, so it is shared by every
    reference with the same edges)."""
    shifted = d_model[..., None] + np.asarray(ERROR_BIN_EDGES, dtype=np.float64)
    return np.searchsorted(bin_midpoints(edges), shifted, side="right")


def error_features_from_cumulative(cum: np.ndarray, bounds: np.ndarray, mapping: np.ndarray | None = None) -> np.ndarray:
    """(R, R, 9) eqs. 5.1-5.2 from a reference's cumulative distogram ``cum`` (L, L, B + 1), the bin
    bounds of :func:`error_bin_bounds` (R, R, 8) and the model-to-reference residue ``mapping`` (R,)
    (-1: no counterpart, features 0; None: the identity). The mass of error bin k is
    ``C(d + hi_k) - C(d + lo_k)``; the values are read from ``cum`` with one flat gather, without
    copying the (R, R, B) block of the mapped residues."""
    n_res, n_ref, width = len(bounds), cum.shape[0], cum.shape[2]
    rows = np.arange(n_res) if mapping is None else np.asarray(mapping)
    hit = rows >= 0
    safe = np.where(hit, rows, 0)
    pair = (safe[:, None] * n_ref + safe[None, :]) * width  # (R, R) offset of each mapped pair in cum
    flat = cum.reshape(-1)
    mass = np.empty((n_res, n_res, bounds.shape[2] + 2))
    mass[..., 0] = 0.0
    mass[..., 1:-1] = np.take(flat, pair[..., None] + bounds)
    mass[..., -1] = np.take(flat, pair + width - 1)
    if not hit.all():
        mass[~(hit[:, None] & hit[None, :])] = 0.0
    return np.diff(mass, axis=-1)


def distance_error_features(probs: np.ndarray, edges: np.ndarray, d_model: np.ndarray) -> np.ndarray:
    """(R, R, 9) probability mass of the distogram ``probs`` (R, R, B) in each lDDT error bin given the
    model distances ``d_model`` (R, R) (eqs. 5.1-5.2 of [enqa])."""
    # mid_b - d in (lo, hi]  <=>  mid_b in (d + lo, d + hi]: with C(x) the mass of the bins whose midpoint
    # is <= x (a cumulative sum over the sorted midpoints), the mass of error bin k is C(d + hi) - C(d + lo)
    return error_features_from_cumulative(cumulative_distogram(probs), error_bin_bounds(edges, d_model))


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
    frame, the box (and so every volume) does not depend on how the structure is oriented. Cells that
    stay open (a Voronoi vertex at infinity) or have fewer than 4 vertices get 0."""
    centred = points - points.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    local = centred @ axes.T
    lo, hi = local.min(axis=0) - pad, local.max(axis=0) + pad
    grid = np.stack(np.meshgrid(*[np.linspace(a, b, 4) for a, b in zip(lo, hi, strict=True)], indexing="ij"), -1)
    grid = grid.reshape(-1, 3)
    on_box = (np.isclose(grid, lo) | np.isclose(grid, hi)).any(axis=1)
    vor = Voronoi(np.concatenate([local, grid[on_box]]))
    n = len(points)
    closed = np.array([-1 not in vor.regions[vor.point_region[i]] and len(vor.regions[vor.point_region[i]]) >= 4
                       for i in range(n)], dtype=bool)
    volume = _cell_volumes(vor, n)
    return np.where(closed, np.log1p(volume), 0.0)


def _cell_volumes(vor: Voronoi, n: int) -> np.ndarray:
    """(n,) volume of the Voronoi cells of the first ``n`` input points, summed over their faces.

    Each face (ridge) of cell i lies on the bisector plane of points i and j, so the cell is the union of
    the pyramids from point i over its faces: ``V_i = sum_f A_f h_f / 3`` with ``h_f = |p_i - p_j| / 2``.
    A face's area is the sum of the triangles from its centroid to each edge, its vertices taken in
    angular order around the centroid. Cells touching a vertex at infinity are left to the caller.
    Written with numpy over all faces at once rather than one ``scipy.spatial.ConvexHull`` per cell (the
    volume is the same polytope's, to rounding)."""
    ridge_points = np.asarray(vor.ridge_points)
    sizes = np.fromiter((len(r) for r in vor.ridge_vertices), dtype=np.int64, count=len(vor.ridge_vertices))
    verts = np.fromiter((v for r in vor.ridge_vertices for v in r), dtype=np.int64, count=int(sizes.sum()))
    ridge = np.repeat(np.arange(len(sizes)), sizes)
    finite = np.ones(len(sizes), dtype=bool)
    finite[ridge[verts < 0]] = False
    involved = (ridge_points < n).any(axis=1) & finite & (sizes >= 3)
    keep = involved[ridge]
    ridge, verts = ridge[keep], verts[keep]
    xyz = vor.vertices[verts]
    count = np.bincount(ridge, minlength=len(sizes))[ridge][:, None]
    centre = np.stack([np.bincount(ridge, weights=xyz[:, k], minlength=len(sizes)) for k in range(3)], 1)
    centre = centre[ridge] / count
    normal = vor.points[ridge_points[ridge, 1]] - vor.points[ridge_points[ridge, 0]]
    u = np.cross(normal, np.where(np.abs(normal[:, :1]) < 0.9 * np.linalg.norm(normal, axis=1, keepdims=True),
                                  [[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]]))
    v = np.cross(normal, u)
    rel = xyz - centre
    angle = np.arctan2((rel * v).sum(1), (rel * u).sum(1))
    order = np.lexsort((angle, ridge))
    ridge, rel = ridge[order], rel[order]
    # the next vertex around the same face (the first one after the last)
    first = np.flatnonzero(np.r_[True, ridge[1:] != ridge[:-1]])
    nxt = np.arange(len(ridge)) + 1
    last = np.r_[first[1:], len(ridge)] - 1
    nxt[last] = first
    tri = np.linalg.norm(np.cross(rel, rel[nxt]), axis=1) / 2
    area = np.bincount(ridge, weights=tri, minlength=len(sizes))
    height = np.linalg.norm(vor.points[ridge_points[:, 0]] - vor.points[ridge_points[:, 1]], axis=1) / 2
    pyramid = np.where(involved, area * height / 3, 0.0)
    return (np.bincount(ridge_points[:, 0], weights=pyramid, minlength=len(vor.points))
            + np.bincount(ridge_points[:, 1], weights=pyramid, minlength=len(vor.points)))[:n]


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
