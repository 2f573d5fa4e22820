"""DSSP's backbone hydrogen bonds and three-state secondary structure [dssp], in NumPy.

Written here rather than run through ``mkdssp`` (:mod:`pgml.structure.dssp`) because mkdssp reads
one structure per process: about 0.06 s CPU to start and load its dictionaries, and 0.25 s in all for
a structure of 5,000 atoms (writing mmCIF, running mkdssp 4.2.2, parsing its output), which alone is
more than the graph-building budget of the fold chain (benchmarks/fold_speed.py). ``pydssp`` is no
substitute: it places an idealised amide hydrogen, returns dense L x L maps and finds fewer bonds on
some structures. This module follows mkdssp 4.2.2's rules step by step, so that it gives the same
H-bond pairs and the same H/E/- letters (tests/fold/test_kabsch_sander.py compares the two on the
structures of ``shared/data``):

* residues: the protein residues in file order that have N, CA, C and O (the last atom of each name
  counts, as in mkdssp); coordinates as written to mkdssp (3 decimals) and held in single precision;
* amide hydrogen: H = N + (C - O) / |C - O| of the previous residue in that list (whatever its chain),
  none (H = N) for the first residue; prolines donate no bond;
* chain breaks: a C-N distance above 2.5 Å between consecutive residues, or a change of chain;
* the electrostatic H-bond energy of [dssp]: E = q1 q2 f (1/r_ON + 1/r_CH - 1/r_OH - 1/r_CN) with q1 q2 f = 0.42 * 0.2 * 332
  (27.888 kcal/mol), -9.9 when any distance is below 0.5 Å, rounded to 0.001 kcal/mol, for residue
  pairs whose CA atoms are within 9 Å (a KD-tree finds them), never with the next residue as donor
  to the one before it;
* each residue keeps its two lowest-energy acceptors (ties: the earlier residue); a bond is one of
  them with E < -0.5 kcal/mol. The H-bond pairs returned are those mkdssp's mmCIF output lists, with
  the energy as it prints it (one decimal), below -0.5;
* bridges and ladders with bulges as [dssp] defines them, then the alpha, 3-10 and pi
  helices (pi helices may overwrite alpha helices, as in mkdssp 4); H, G, I -> "H", E, B -> "E".

Turns, bends, polyproline helices and accessibility do not change the three states and are not
computed.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy.spatial import cKDTree

from pgml.structure.dssp import HBOND_ENERGY, DsspResult, _written_residues
from pgml.structure.io import AtomTable

#: q1 q2 f of the H-bond energy (kcal/mol Å), in single precision as in mkdssp
COUPLING = float(np.float32(-27.888))
#: residues whose CA atoms are this close (Å) are tested for H-bonds
CA_CUTOFF = np.float32(9.0)
#: any donor-acceptor distance below this (Å) gives MIN_ENERGY
MIN_DISTANCE = np.float32(0.5)
MIN_ENERGY = float(np.float32(-9.9))
#: longest C-N peptide bond (Å); longer is a chain break
PEPTIDE_BOND = np.float32(2.5)
_BACKBONE = ("N", "CA", "C", "O")
_UINT = 1 << 32


def _last_atom(atoms: AtomTable, rows: np.ndarray, name: str, n_res: int) -> np.ndarray:
    """Row of the last atom called ``name`` in each residue among ``rows`` (-1 where none)."""
    out = np.full(n_res, -1, dtype=np.int64)
    hit = rows[atoms.atom_name[rows] == name][::-1]
    residues, first = np.unique(atoms.res_index[hit], return_index=True)
    out[residues] = hit[first]
    return out


def _distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance in single precision, summed x, y, z in order (as mkdssp does)."""
    d = a - b
    return np.sqrt(d[..., 0] * d[..., 0] + d[..., 1] * d[..., 1] + d[..., 2] * d[..., 2])


def _round_half_away(x: np.ndarray) -> np.ndarray:
    """C's ``round``: halves away from zero (``np.rint`` rounds them to even)."""
    t = np.trunc(x)
    return t + np.where(np.abs(x - t) >= 0.5, np.sign(x), 0.0)


class Backbone:
    """The residues DSSP sees, in order: their res_index, chain, backbone atoms (float32) and H."""

    def __init__(self, atoms: AtomTable) -> None:
        rows = np.flatnonzero(atoms.protein_mask())
        order = np.asarray(_written_residues(atoms, rows), dtype=np.int64)
        n_res = atoms.n_residues
        idx = np.stack([_last_atom(atoms, rows, a, n_res)[order] for a in _BACKBONE], axis=1)
        keep = (idx >= 0).all(axis=1)
        idx = idx[keep]
        self.residues = order[keep]
        self.chain = atoms.chain_id[idx[:, 0]]
        xyz = np.round(np.asarray(atoms.coords, dtype=np.float64)[idx], 3).astype(np.float32)
        self.n, self.ca, self.c, self.o = (xyz[:, k] for k in range(4))
        self.is_pro = atoms.res_name[idx[:, 1]] == "PRO"
        self.h = self.n.copy()
        if len(idx) > 1:
            co = self.c[:-1] - self.o[:-1]
            step = co / _distance(self.c[:-1], self.o[:-1])[:, None]
            donor = ~self.is_pro[1:]
            self.h[1:][donor] = self.n[1:][donor] + step[donor]
        # residue k starts a new stretch when the C-N bond from k-1 is too long or the chain changes
        gap = np.r_[False, _distance(self.c[:-1], self.n[1:]) > PEPTIDE_BOND] if len(idx) else np.zeros(0, bool)
        self._segment = np.cumsum(gap)

    def __len__(self) -> int:
        return len(self.residues)

    def unbroken(self, a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
        """mkdssp's ``NoChainBreak(a, b)``: same chain, a <= b, and no C-N gap between them."""
        a, b = np.asarray(a), np.asarray(b)
        a_, b_ = np.clip(a, 0, len(self) - 1), np.clip(b, 0, len(self) - 1)
        return ((a >= 0) & (b < len(self)) & (a <= b) & (self.chain[a_] == self.chain[b_])
                & (self._segment[a_] == self._segment[b_]))


def hbond_energies(bb: Backbone) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Donor, acceptor (positions in ``bb``) and H-bond energy (kcal/mol) of every pair mkdssp
    evaluates: CA atoms within 9 Å, not a proline donor, not donor k + 1 to acceptor k."""
    if len(bb) < 2:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    pairs = cKDTree(bb.ca.astype(np.float64)).query_pairs(float(CA_CUTOFF) + 0.01, output_type="ndarray")
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))] if len(pairs) else pairs.reshape(0, 2)
    i, j = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    i, j = np.minimum(i, j), np.maximum(i, j)
    near = _distance(bb.ca[i], bb.ca[j]) < CA_CUTOFF
    i, j = i[near], j[near]
    back = j != i + 1
    donor = np.r_[i, j[back]]
    acceptor = np.r_[j, i[back]]
    keep = ~bb.is_pro[donor]
    donor, acceptor = donor[keep], acceptor[keep]
    d_ho = _distance(bb.h[donor], bb.o[acceptor]).astype(np.float64)
    d_hc = _distance(bb.h[donor], bb.c[acceptor]).astype(np.float64)
    d_nc = _distance(bb.n[donor], bb.c[acceptor]).astype(np.float64)
    d_no = _distance(bb.n[donor], bb.o[acceptor]).astype(np.float64)
    close = np.minimum(np.minimum(d_ho, d_hc), np.minimum(d_nc, d_no)) < MIN_DISTANCE
    with np.errstate(divide="ignore"):
        energy = COUPLING / d_ho - COUPLING / d_hc + COUPLING / d_nc - COUPLING / d_no
    energy = np.where(close, MIN_ENERGY, energy)
    energy = _round_half_away(energy * 1000) / 1000
    energy = np.maximum(energy, MIN_ENERGY)
    return donor, acceptor, energy


def best_acceptors(n: int, donor: np.ndarray, acceptor: np.ndarray,
                   energy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two lowest-energy acceptors of each donor, (n, 2) positions (-1 where none) and (n, 2)
    energies (0 where none): only energies below 0 count, ties go to the earlier acceptor."""
    acc = np.full((n, 2), -1, dtype=np.int64)
    en = np.zeros((n, 2))
    neg = energy < 0
    donor, acceptor, energy = donor[neg], acceptor[neg], energy[neg]
    order = np.lexsort((acceptor, energy, donor))
    donor, acceptor, energy = donor[order], acceptor[order], energy[order]
    first = np.r_[True, donor[1:] != donor[:-1]] if len(donor) else np.zeros(0, bool)
    rank = np.arange(len(donor)) - np.maximum.accumulate(np.where(first, np.arange(len(donor)), 0))
    top = rank < 2
    acc[donor[top], rank[top]] = acceptor[top]
    en[donor[top], rank[top]] = energy[top]
    return acc, en


class _Bonds:
    """mkdssp's ``TestBond(a, b)``: b is one of a's two best acceptors with E < -0.5 kcal/mol."""

    def __init__(self, acc: np.ndarray, en: np.ndarray) -> None:
        self.acc = np.where(en < HBOND_ENERGY, acc, -1)

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a_ = np.clip(a, 0, len(self.acc) - 1)
        inside = (a >= 0) & (a < len(self.acc))
        return inside & (b >= 0) & ((self.acc[a_, 0] == b) | (self.acc[a_, 1] == b))


def _bridges(bb: Backbone, bond: _Bonds) -> list[tuple[str, int, int]]:
    """(type "p"/"a", i, j) of every parallel or antiparallel bridge of [dssp], ordered by i then j."""
    n = len(bb)
    donors = np.repeat(np.arange(n), 2)
    acceptors = bond.acc.reshape(-1)
    ok = acceptors >= 0
    x, y = donors[ok], acceptors[ok]
    # every conjunction of TestBridge starts with one bond; each gives one candidate (i, j)
    ci = np.r_[x - 1, y, x - 1, y, x]
    cj = np.r_[y, x - 1, y + 1, x, y]
    cand = np.unique(np.stack([ci, cj], axis=1), axis=0)
    i, j = cand[:, 0], cand[:, 1]
    cand = cand[(i >= 1) & (i + 4 < n) & (j >= i + 3) & (j + 1 < n)]
    i, j = cand[:, 0], cand[:, 1]
    ends = bb.unbroken(i - 1, i + 1) & bb.unbroken(j - 1, j + 1)
    parallel = (bond(i + 1, j) & bond(j, i - 1)) | (bond(j + 1, i) & bond(i, j - 1))
    anti = (bond(i + 1, j - 1) & bond(j + 1, i - 1)) | (bond(j, i) & bond(i, j))
    kind = np.where(parallel, "p", np.where(anti, "a", ""))
    hit = ends & (parallel | anti)
    return [(str(k), int(p), int(q)) for k, p, q in zip(kind[hit], i[hit], j[hit], strict=True)]


def _ladders(bb: Backbone, found: list[tuple[str, int, int]]) -> list[dict]:
    """Bridges joined into ladders, and ladders joined across bulges, as mkdssp 4.2.2 does."""
    ladders: list[dict] = []
    for kind, i, j in found:
        for lad in ladders:
            if lad["type"] != kind or i != lad["i"][-1] + 1:
                continue
            if kind == "p" and lad["j"][-1] + 1 == j:
                lad["i"].append(i)
                lad["j"].append(j)
                break
            if kind == "a" and lad["j"][0] - 1 == j:
                lad["i"].append(i)
                lad["j"].insert(0, j)
                break
        else:
            ladders.append({"type": kind, "i": [i], "j": [j], "chain": str(bb.chain[i])})
    ladders = _libstdcxx_sort(ladders, lambda p, q: p["chain"] < q["chain"] or (
        p["chain"] == q["chain"] and p["i"][0] < q["i"][0]))

    def diff(p: int, q: int) -> int:  # mkdssp subtracts unsigned 32-bit integers
        return (p - q) % _UINT

    chain, segment = bb.chain.tolist(), bb._segment.tolist()

    def unbroken(p: int, q: int) -> bool:  # Backbone.unbroken for one pair, p <= q
        return p <= q and chain[p] == chain[q] and segment[p] == segment[q]

    k = 0
    while k < len(ladders):
        m = k + 1
        while m < len(ladders):
            a, b = ladders[k], ladders[m]
            ibi, iei, jbi, jei = a["i"][0], a["i"][-1], a["j"][0], a["j"][-1]
            ibj, iej, jbj, jej = b["i"][0], b["i"][-1], b["j"][0], b["j"][-1]
            if (a["type"] != b["type"] or not unbroken(min(ibi, ibj), max(iei, iej))
                    or not unbroken(min(jbi, jbj), max(jei, jej)) or diff(ibj, iei) >= 6
                    or (iei >= ibj and ibi <= iej)):
                m += 1
                continue
            if a["type"] == "p":
                bulge = (diff(jbj, jei) < 6 and diff(ibj, iei) < 3) or diff(jbj, jei) < 3
            else:
                bulge = (diff(jbi, jej) < 6 and diff(ibj, iei) < 3) or diff(jbi, jej) < 3
            if bulge:
                a["i"] = a["i"] + b["i"]
                a["j"] = a["j"] + b["j"] if a["type"] == "p" else b["j"] + a["j"]
                del ladders[m]
            else:
                m += 1
        k += 1
    return ladders


def _libstdcxx_sort(items: list, less) -> list:
    """``std::sort`` of GCC's libstdc++ (introsort, then insertion sort), which mkdssp uses to order
    its ladders: it is not stable, and the order of ladders that start at the same residue decides
    which of them a later ladder joins across a bulge."""
    v = list(items)
    if len(v) < 2:
        return v

    def median_to_first(result: int, a: int, b: int, c: int) -> None:
        if less(v[a], v[b]):
            if less(v[b], v[c]):
                v[result], v[b] = v[b], v[result]
            elif less(v[a], v[c]):
                v[result], v[c] = v[c], v[result]
            else:
                v[result], v[a] = v[a], v[result]
        elif less(v[a], v[c]):
            v[result], v[a] = v[a], v[result]
        elif less(v[b], v[c]):
            v[result], v[c] = v[c], v[result]
        else:
            v[result], v[b] = v[b], v[result]

    def partition(first: int, last: int, pivot: int) -> int:
        while True:
            while less(v[first], v[pivot]):
                first += 1
            last -= 1
            while less(v[pivot], v[last]):
                last -= 1
            if not first < last:
                return first
            v[first], v[last] = v[last], v[first]
            first += 1

    def introsort(first: int, last: int, depth: int) -> None:
        while last - first > 16:
            if depth == 0:  # libstdc++ turns to heap sort here; not reached for mkdssp's ladder counts
                v[first:last] = sorted(v[first:last], key=functools.cmp_to_key(
                    lambda p, q: -1 if less(p, q) else int(less(q, p))))
                return
            depth -= 1
            median_to_first(first, first + 1, first + (last - first) // 2, last - 1)
            cut = partition(first + 1, last, first)
            introsort(cut, last, depth)
            last = cut

    def insertion(first: int, last: int) -> None:
        for i in range(first + 1, last):
            val, k = v[i], i
            while k > 0 and less(val, v[k - 1]):
                v[k] = v[k - 1]
                k -= 1
            v[k] = val

    introsort(0, len(v), 2 * (len(v).bit_length() - 1))
    insertion(0, len(v))  # the guarded and unguarded insertion sorts of libstdc++ give this order
    return v


def three_state(bb: Backbone, bond: _Bonds) -> np.ndarray:
    """DSSP letters H G I E B (" " otherwise) per residue of ``bb``, in mkdssp's order of assignment."""
    n = len(bb)
    ss = np.full(n, " ", dtype="<U1")
    for lad in _ladders(bb, _bridges(bb, bond)):
        letter = "E" if len(lad["i"]) > 1 else "B"
        for side in ("i", "j"):
            lo, hi = lad[side][0], lad[side][-1]
            seg = ss[lo:hi + 1]
            seg[seg != "E"] = letter
    pos = np.arange(n)
    start = {}
    for stride in (3, 4, 5):
        start[stride] = np.zeros(n, dtype=bool)
        k = pos[: max(n - stride, 0)]
        start[stride][k] = bb.unbroken(k, k + stride) & bond(k + stride, k)
    for i in np.flatnonzero(start[4][1:] & start[4][:-1]) + 1:
        if i + 4 < n:
            ss[i:i + 4] = "H"
    for stride, letter, allowed in ((3, "G", (" ", "G")), (5, "I", (" ", "I", "H"))):
        for i in np.flatnonzero(start[stride][1:] & start[stride][:-1]) + 1:
            if i + stride < n and np.isin(ss[i:i + stride], allowed).all():
                ss[i:i + stride] = letter
    return ss


def assign(atoms: AtomTable) -> DsspResult:
    """mkdssp's result for the protein atoms of ``atoms`` (see the module docstring): residues,
    letters (H G I E B, " " for the rest) and H-bond pairs (donor, acceptor) as res_index values."""
    bb = Backbone(atoms)
    donor, acceptor, energy = hbond_energies(bb)
    acc, en = best_acceptors(len(bb), donor, acceptor, energy)
    ss = three_state(bb, _Bonds(acc, en))
    # the pairs mkdssp's mmCIF output lists: energies printed with one decimal, below -0.5
    d, rank = np.nonzero((acc >= 0) & (en < -0.4))
    printed = np.asarray([float(f"{e:.1f}") for e in en[d, rank].tolist()])
    listed = printed < HBOND_ENERGY if len(d) else np.zeros(0, dtype=bool)
    pairs = np.stack([bb.residues[d[listed]], bb.residues[acc[d[listed], rank[listed]]]], axis=1)
    pairs = np.unique(pairs.reshape(-1, 2), axis=0).reshape(-1, 2)
    return DsspResult(residues=bb.residues, ss8="".join(ss.tolist()), hbonds=pairs)
