"""The protein multigraph of [ieconv] (sec. 3): atoms with features, adjacency A (covalent bonds) and
B (A plus backbone hydrogen bonds), intrinsic hop distances and the pooling hierarchy per level.

A sample is a plain dict of NumPy arrays (pickled per shard with ``torch.save``); positions of the
pooled levels and the radius neighbourhoods are computed when a sample is loaded
(:mod:`pgml.fold.data`), after augmentation, so only the intrinsic (rotation-free) parts are stored.

Levels: 0 atoms, 1 half residues (amino-acid pooling), 2 residues (placed at CA), 3.. backbone
poolings that merge consecutive residues. ``LEVELS`` levels are stored so that a residue-graph model
(representation "residue") can start at level 2 and still pool as often as the atom model.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import gemmi
import numpy as np

from pgml.errors import InputError
from pgml.fold.annotations import ec_numbers
from pgml.fold.hbonds import backbone_hbonds, hbond_atom_pairs
from pgml.fold.hops import MAX_HOPS, hop_pairs
from pgml.fold.params import LEVELS, RESIDUE_LEVEL
from pgml.fold.pooling import atom_clusters, consecutive_pairs, pooled_edges, pooling_table
from pgml.structure.bonds import covalent_bonds
from pgml.structure.collection import structure_stem
from pgml.structure.io import AtomTable, Structure, heavy_atoms_per_residue, load_gemmi, read_structure
from pgml.structure.residues import STANDARD_RESIDUES, parent_residue
from pgml.structure.sequence import one_letter

log = logging.getLogger(__name__)

#: largest CA-CA distance (Å) bonded in the CA-only fallback (trans peptide ~3.8 Å)
CA_CA_MAX = 4.2
#: scales that bring the atom features near 1 (Å, Å, Da)
FEATURE_SCALE = np.asarray([2.0, 2.0, 32.0], dtype=np.float32)
#: peak bytes per atom while one sample is built (hop searches on the sparse A and B; measured about
#: 7.6 KiB per atom on the 12,079 atoms of 3O21), and bytes per atom of a stored sample (about 0.9 KiB)
BUILD_BYTES_PER_ATOM = 8 * 1024
STORED_BYTES_PER_ATOM = 1024


def residues_numbered_twice(st: gemmi.Structure) -> list[tuple[str, str, str]]:
    """Amino-acid residues of model 1 whose (chain, number, insertion code) an earlier residue of the
    chain already uses: ``(record, first name, second name)``. Microheterogeneity (the same position
    given twice, adjacent, with alternative locations) is not counted."""
    out = []
    for chain in st[0]:
        seen: dict[tuple[int, str], tuple[int, str]] = {}
        for i, res in enumerate(chain):
            if parent_residue(res.name) is None:
                continue
            key = (res.seqid.num, res.seqid.icode.strip())
            if key in seen:
                j, first = seen[key]
                micro = j == i - 1 and any(a.altloc != "\0" for a in res)
                if micro:  # one more alternative at the same position (ARG/GLN/GLU at A:15 of 3JQH)
                    seen[key] = (i, first)
                else:
                    out.append((f"{chain.name}:{key[0]}{key[1]}", first, res.name))
                continue
            seen[key] = (i, res.name)
    return out


def check_numbering(path: str | Path) -> None:
    """Refuse a structure in which an amino-acid residue number is used twice in one chain: the
    residue table keeps the first and would drop the second without a word."""
    twice = residues_numbered_twice(load_gemmi(path))
    if twice:
        record, first, second = twice[0]
        more = f" (and {len(twice) - 1} more)" if len(twice) > 1 else ""
        raise InputError(f"residue number used twice in one chain ({first}, then {second}){more}; the second "
                         "would be dropped; renumber the residues", path=path, record=record)


def check_graph_memory(path: str | Path, sample_atoms: list[int]) -> None:
    """Refuse (before building) samples whose atom graphs need more memory than the machine has."""
    from pgml.runtime import check_memory

    if not sample_atoms:
        return
    estimate = max(sample_atoms) * BUILD_BYTES_PER_ATOM + sum(sample_atoms) * STORED_BYTES_PER_ATOM
    check_memory(estimate, f"atom graphs of {sum(sample_atoms):,} atoms (largest sample {max(sample_atoms):,})",
                 lower_with="--unit chain or --unit fragment (smaller samples) or fewer structures per shard",
                 path=path)


def atom_type_vocabulary() -> list[str]:
    """``RES:ATOM`` of the 20 standard residues, then ``OXT``, then ``OTHER``."""
    table = pooling_table()
    return [f"{r}:{a}" for r in STANDARD_RESIDUES for a in table[r]] + ["OXT", "OTHER"]


@functools.cache
def _type_index() -> dict[str, int]:
    return {k: i for i, k in enumerate(atom_type_vocabulary())}


def atom_types(atoms: AtomTable) -> np.ndarray:
    vocab = _type_index()
    other, oxt = vocab["OTHER"], vocab["OXT"]
    return np.fromiter((oxt if a == "OXT" else vocab.get(f"{r}:{a}", other)
                        for r, a in zip(atoms.res_name.tolist(), atoms.atom_name.tolist(), strict=True)),
                       dtype=np.int64, count=len(atoms))


def atom_features(atoms: AtomTable) -> np.ndarray:
    """(N, 3): covalent radius, van der Waals radius, atomic mass (gemmi's element table), scaled."""
    elements, inverse = np.unique(atoms.element, return_inverse=True)
    table = np.empty((len(elements), 3), dtype=np.float32)
    for k, el in enumerate(elements.tolist()):
        e = gemmi.Element(str(el))
        table[k] = (e.covalent_r, e.vdw_r, e.weight)
    return table[inverse.reshape(-1)] / FEATURE_SCALE


def _ca_only_bonds(atoms: AtomTable) -> np.ndarray:
    pairs = []
    for i in range(len(atoms) - 1):
        if (atoms.chain_id[i] == atoms.chain_id[i + 1]
                and np.linalg.norm(atoms.coords[i] - atoms.coords[i + 1]) < CA_CA_MAX):
            pairs.append((i, i + 1))
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def ss_fractions(ss3: np.ndarray) -> tuple[float, float]:
    """(helix, strand) fractions of the residues."""
    n = max(len(ss3), 1)
    return float(np.sum(ss3 == "H")) / n, float(np.sum(ss3 == "E")) / n


def build_sample(atoms: AtomTable, sample_id: str, entry: str, *, hbond_source: str = "dssp",
                 ss3: np.ndarray | None = None, hbonds: np.ndarray | None = None, source: str | None = None,
                 ca_only: bool = False, max_hops: int = MAX_HOPS) -> dict:
    """One protein (or fragment) as a multigraph sample (see the module docstring).

    ``ss3``/``hbonds``/``source`` may be given (DSSP run on the whole entry); else DSSP runs here.
    ``ca_only``: the atoms are CA atoms only (the residue-graph fallback): consecutive CAs are bonded.
    """
    if ss3 is None or hbonds is None:
        hb = backbone_hbonds(atoms, hbond_source)
        ss3, hbonds, source = hb.ss3, hb.pairs, hb.source
    n = len(atoms)
    cov = _ca_only_bonds(atoms) if ca_only else covalent_bonds(atoms)[0]
    hb_atoms = hbond_atom_pairs(atoms, hbonds) if not ca_only else (
        np.asarray(hbonds, dtype=np.int64).reshape(-1, 2))
    hb_edges = np.unique(np.r_[cov, hb_atoms].reshape(-1, 2), axis=0) if len(hb_atoms) else cov
    n_res = atoms.n_residues
    _, first = np.unique(atoms.res_index, return_index=True)
    res_first = first
    ca = np.full(n_res, -1, dtype=np.int64)
    is_ca = np.flatnonzero(atoms.atom_name == "CA")[::-1]
    residues, last = np.unique(atoms.res_index[is_ca], return_index=True)  # the last CA of each residue
    ca[residues] = is_ca[last]
    res_names = atoms.res_name[res_first]
    res_type = np.asarray([STANDARD_RESIDUES.index(r) if r in STANDARD_RESIDUES else len(STANDARD_RESIDUES)
                           for r in res_names], dtype=np.int64)
    assign = [atom_clusters(atoms.res_index, atoms.res_name, atoms.atom_name, cov)]
    # level 1 -> residue: the residue of any member atom
    n1 = int(assign[0].max()) + 1
    to_res = np.zeros(n1, dtype=np.int64)
    to_res[assign[0]] = atoms.res_index
    assign.append(to_res)
    chain_of = atoms.chain_id[res_first]
    for _ in range(RESIDUE_LEVEL, LEVELS - 1):
        a = consecutive_pairs(chain_of)
        assign.append(a)
        nxt = np.empty(int(a.max()) + 1, dtype=chain_of.dtype)
        nxt[a] = chain_of
        chain_of = nxt
    levels_cov, levels_hb = [cov], [hb_edges]
    for a in assign:
        levels_cov.append(pooled_edges(levels_cov[-1], a))
        levels_hb.append(pooled_edges(levels_hb[-1], a))
    sizes = [n] + [int(a.max()) + 1 for a in assign]
    hops_cov = [hop_pairs(s, e, max_hops) for s, e in zip(sizes, levels_cov, strict=True)]
    hops_hb = [hop_pairs(s, e, max_hops) for s, e in zip(sizes, levels_hb, strict=True)]
    seq = "".join(one_letter(str(r)) or "X" for r in res_names)
    helix, strand = ss_fractions(np.asarray(ss3))
    return {
        "id": sample_id, "entry": entry, "pos": atoms.coords.astype(np.float32),
        "atom_type": atom_types(atoms), "atom_feat": atom_features(atoms), "res_type": res_type,
        "ca": ca, "assign": assign, "sizes": sizes, "hops_cov": hops_cov, "hops_hb": hops_hb,
        "max_hops": max_hops, "hbond_source": source, "ss3": "".join(np.asarray(ss3).tolist()),
        "sequence": seq, "chains": sorted(set(atoms.chain_id.tolist())), "helix": helix, "strand": strand,
        "n_atoms": n, "n_residues": n_res, "n_hbonds": len(hbonds),
    }


def _fragments(atoms: AtomTable, unit: str, length: int) -> list[tuple[str, np.ndarray]]:
    if unit == "entry":
        return [("", np.ones(len(atoms), dtype=bool))]
    out = []
    for chain in dict.fromkeys(atoms.chain_id.tolist()):
        in_chain = atoms.chain_id == chain
        if unit == "chain":
            out.append((f"_{chain}", in_chain))
            continue
        residues = np.unique(atoms.res_index[in_chain])
        for k in range(len(residues) // length):
            sel = residues[k * length:(k + 1) * length]
            out.append((f"_{chain}{k}", in_chain & np.isin(atoms.res_index, sel)))
    return out


def structure_samples(path: str | Path, *, unit: str = "entry", fragment_length: int = 40,
                      hbond_source: str = "dssp", ca_only: str = "error", nonstandard: str = "map",
                      min_residues: int = 1) -> list[dict]:
    """Read one structure and build its samples (the entry, each chain, or fixed-length fragments
    of each chain; DSSP is run once on the whole entry). ``sample["ec"]`` holds the EC numbers the
    file's header gives for the sample's chains (comma-separated, "" for none). Sample ids start with the file name without
    suffixes (``d1v4wb_.pdb`` -> ``d1v4wb_``, ``1UBI.pdb.gz`` -> ``1UBI``), so that ids of published
    lists (SCOPe domains) match."""
    structure: Structure = read_structure(path, nonstandard=nonstandard)
    check_numbering(path)
    atoms = structure.atoms.subset(structure.atoms.protein_mask())
    check_graph_memory(path, [int(mask.sum()) for _, mask in _fragments(atoms, unit, fragment_length)])
    is_ca_only = heavy_atoms_per_residue(structure) < 3.0
    if is_ca_only:
        if ca_only == "error":
            raise InputError("CA-only or incomplete model (fewer than 3 heavy atoms per residue): the atom "
                             "graph needs full-atom models; use ca_only 'residue' for the residue-graph fallback",
                             path=path, record="model 1")
        atoms = atoms.subset(atoms.atom_name == "CA")
        hbonds = np.zeros((0, 2), dtype=np.int64)
        ss3 = np.full(atoms.n_residues, "-", dtype="<U1")
        source = "none"
    else:
        hb = backbone_hbonds(atoms, hbond_source, path=path)
        ss3, hbonds, source = hb.ss3, hb.pairs, hb.source
    ec_of = ec_numbers(path)
    samples = []
    for suffix, mask in _fragments(atoms, unit, fragment_length):
        residues = np.unique(atoms.res_index[mask])
        if len(residues) < max(min_residues, 1):
            continue
        sub = atoms.subset(mask)
        remap = -np.ones(atoms.n_residues, dtype=np.int64)
        remap[residues] = np.arange(len(residues))
        keep = np.isin(hbonds[:, 0], residues) & np.isin(hbonds[:, 1], residues) if len(hbonds) else []
        sub_hb = remap[hbonds[keep]] if len(hbonds) else hbonds
        if is_ca_only:
            sub_hb = np.zeros((0, 2), dtype=np.int64)
        stem = structure_stem(path)
        sample = build_sample(sub, f"{stem}{suffix}", stem, ss3=np.asarray(ss3)[residues], hbonds=sub_hb,
                              source=source, ca_only=is_ca_only)
        sample["ec"] = ",".join(dict.fromkeys(n for c in sample["chains"] for n in ec_of.get(c, ())))
        samples.append(sample)
    if not samples:
        log.warning("%s: no %s with at least %d residues; skipped", path, unit, max(min_residues, 1))
    return samples
