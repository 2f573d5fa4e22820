"""Residue geometry of the edge features [enqa]: local frames and real spherical harmonics.

Each residue's frame: x along Cα→N, y in the C-Cα-N plane (the component of Cα→C orthogonal to x),
z = x × y. The direction of the Cα_i→Cα_j vector in residue i's frame gives (θ, φ), and the edge
features are the real spherical harmonics Y_lm(θ, φ), l = 0..L. The harmonics are written here
(associated Legendre recurrence) so that they work on plain arrays of any size; the tests check them
against ``scipy.special.sph_harm_y``.
"""

from __future__ import annotations

import math

import numpy as np


def local_frames(n: np.ndarray, ca: np.ndarray, c: np.ndarray) -> np.ndarray:
    """(R, 3, 3) rotation matrices whose rows are the x, y, z axes of each residue's frame."""
    x = n - ca
    x = x / np.linalg.norm(x, axis=-1, keepdims=True)
    v = c - ca
    y = v - (v * x).sum(-1, keepdims=True) * x
    y = y / np.linalg.norm(y, axis=-1, keepdims=True)
    z = np.cross(x, y)
    return np.stack([x, y, z], axis=-2)


def edge_angles(frames: np.ndarray, ca: np.ndarray, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Polar θ in [0, π] and azimuth φ in (-π, π] of Cα_dst - Cα_src in the frame of ``src``."""
    vec = ca[dst] - ca[src]
    local = np.einsum("eij,ej->ei", frames[src], vec)
    r = np.linalg.norm(local, axis=-1)
    theta = np.arccos(np.clip(local[:, 2] / np.where(r > 0, r, 1.0), -1.0, 1.0))
    phi = np.arctan2(local[:, 1], local[:, 0])
    return theta, phi


def _legendre(lmax: int, x: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
    """Associated Legendre P_l^m(x), 0 <= m <= l <= lmax, with the Condon-Shortley phase."""
    p: dict[tuple[int, int], np.ndarray] = {(0, 0): np.ones_like(x)}
    s = np.sqrt(np.clip(1.0 - x * x, 0.0, None))
    for m in range(1, lmax + 1):
        p[(m, m)] = -(2 * m - 1) * s * p[(m - 1, m - 1)]
    for m in range(0, lmax):
        p[(m + 1, m)] = (2 * m + 1) * x * p[(m, m)]
    for m in range(0, lmax + 1):
        for l in range(m + 2, lmax + 1):  # noqa: E741
            p[(l, m)] = ((2 * l - 1) * x * p[(l - 1, m)] - (l + m - 1) * p[(l - 2, m)]) / (l - m)
    return p


def real_spherical_harmonics(lmax: int, theta: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """(E, (lmax+1)^2) real orthonormal harmonics, ordered l = 0..lmax, m = -l..l.

    Y_l0 = N_l0 P_l^0(cos θ); for m > 0, sqrt(2) N_lm P_l^m(cos θ) cos(mφ) (-1)^m; for m < 0,
    sqrt(2) N_l|m| P_l^|m|(cos θ) sin(|m|φ) (-1)^m, with N_lm = sqrt((2l+1)/(4π) (l-m)!/(l+m)!), i.e.
    sqrt(2) (-1)^m Re / Im of the complex Y_l^|m| of scipy.
    """
    theta, phi = np.asarray(theta, dtype=np.float64), np.asarray(phi, dtype=np.float64)
    p = _legendre(lmax, np.cos(theta))
    cols = []
    for l in range(lmax + 1):  # noqa: E741
        for m in range(-l, l + 1):
            am = abs(m)
            norm = math.sqrt((2 * l + 1) / (4 * math.pi) * math.factorial(l - am) / math.factorial(l + am))
            if m == 0:
                cols.append(norm * p[(l, 0)])
            elif m > 0:
                cols.append(math.sqrt(2) * (-1) ** m * norm * p[(l, am)] * np.cos(am * phi))
            else:
                cols.append(math.sqrt(2) * (-1) ** m * norm * p[(l, am)] * np.sin(am * phi))
    return np.stack(cols, axis=-1)
