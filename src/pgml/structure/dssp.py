"""Secondary structure and backbone hydrogen bonds from DSSP [dssp], via the ``mkdssp`` program.

``mkdssp`` 4.2 reads a PDB file only when it starts with a ``HEADER`` record, and reads an mmCIF
without ``_pdbx_poly_seq_scheme`` as 0 residues. :func:`_mkdssp_classic` writes the protein atoms of
an :class:`~pgml.structure.io.AtomTable` as a PDB file that starts with a HEADER line, runs ``mkdssp``
on it, parses the classic DSSP output and checks the residue count it reports (mkdssp
skips residues without a complete backbone; fewer than 90 % of the written residues, or none, means
the input was not read as intended). That path cannot take structures that do not fit the PDB format
(over 99,999 atoms, chain IDs longer than one character, residue numbers outside -999..9999) nor those
whose result the classic output cannot hold (mkdssp refuses it when there are more beta ladders than
letters, as in large assemblies). :func:`run_mkdssp` therefore first writes mmCIF, with the categories
mkdssp 4.2 needs (``_pdbx_poly_seq_scheme`` among them), and reads its mmCIF output
(``--write-experimental``: ``_dssp_struct_summary`` and the N-H-->O energies of
``_dssp_struct_bridge_pairs``); the PDB path is the fallback. When mkdssp is missing, fails
or cannot take the structure, :class:`DsspUnavailable` is raised, so a caller can fall back to another
assignment.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import gemmi
import numpy as np

from pgml.structure.io import PDB_MAX_ATOMS, PDB_RES_SEQ_RANGE, AtomTable

#: DSSP's hydrogen-bond energy threshold (kcal/mol): a bond when E < -0.5 ([dssp], eq. 1)
HBOND_ENERGY = -0.5
#: smallest share of the written residues that mkdssp must report
MIN_REPORTED = 0.9
#: eight DSSP states -> three classes (H: H G I; E: E B; everything else coil "-")
THREE_STATE = {"H": "H", "G": "H", "I": "H", "E": "E", "B": "E"}


class DsspUnavailable(RuntimeError):
    """mkdssp is missing, fails, or cannot take this structure; the message says which."""


@dataclass(frozen=True)
class DsspResult:
    """Per residue (indexed by the AtomTable's ``res_index`` of the residues DSSP saw).

    ``residues`` (R,) res_index values; ``ss8`` the DSSP letters (" " for coil); ``hbonds`` (H, 2)
    pairs (donor residue N-H, acceptor residue O) as res_index values, with energy < HBOND_ENERGY.
    """

    residues: np.ndarray
    ss8: str
    hbonds: np.ndarray

    def ss3(self) -> str:
        return "".join(THREE_STATE.get(c, "-") for c in self.ss8)


def find_mkdssp(executable: str = "mkdssp") -> str | None:
    return shutil.which(executable)


def _pdb_text(atoms: AtomTable) -> tuple[str, list[int]]:
    """The protein atoms as PDB ATOM records after a HEADER line, and the res_index of each written
    residue in order (fixed-width columns; element right-aligned, names of 1-3 characters start in
    column 14 for one-letter elements)."""
    lines = ["HEADER    PROTEIN                                 01-JAN-00   XXXX              "]
    rows = np.flatnonzero(atoms.protein_mask())
    for serial, name, element, res_name, chain, res_seq, ins, (x, y, z) in zip(
            range(1, len(rows) + 1), atoms.atom_name[rows].tolist(), atoms.element[rows].tolist(),
            atoms.res_name[rows].tolist(), atoms.chain_id[rows].tolist(), atoms.res_seq[rows].tolist(),
            atoms.ins_code[rows].tolist(), atoms.coords[rows].tolist(), strict=True):
        padded = f" {name:<3}" if len(name) < 4 and len(element) == 1 else f"{name:<4}"
        lines.append(
            f"ATOM  {serial:5d} {padded} {res_name:>3} {chain:1}{res_seq:4d}"
            f"{(ins or ' '):1}   {x:8.3f}{y:8.3f}{z:8.3f}{1.0:6.2f}{0.0:6.2f}"
            f"          {element:>2}")
    lines.append("END")
    return "\n".join(lines) + "\n", _written_residues(atoms, rows)


def _written_residues(atoms: AtomTable, rows: np.ndarray) -> list[int]:
    """res_index of each residue of the atom rows ``rows``, in the order they are written."""
    ri = atoms.res_index[rows]
    return ri[np.r_[True, ri[1:] != ri[:-1]]].tolist() if len(ri) else []


#: ``_pdbx_poly_seq_scheme`` columns written for mkdssp (it reads an mmCIF without them as 0 residues)
_SCHEME = ("asym_id", "entity_id", "seq_id", "mon_id", "ndb_seq_num", "pdb_seq_num", "auth_seq_num",
           "pdb_mon_id", "auth_mon_id", "pdb_strand_id", "pdb_ins_code", "hetero")
_ATOM_SITE = ("group_PDB", "id", "type_symbol", "label_atom_id", "label_alt_id", "label_comp_id",
              "label_asym_id", "label_entity_id", "label_seq_id", "pdbx_PDB_ins_code", "Cartn_x", "Cartn_y",
              "Cartn_z", "occupancy", "B_iso_or_equiv", "auth_seq_id", "auth_comp_id", "auth_asym_id",
              "auth_atom_id", "pdbx_PDB_model_num")


def _cif_text(atoms: AtomTable) -> tuple[str, list[int]]:
    """The protein atoms as an mmCIF that mkdssp 4.2 reads (entities, ``_struct_asym``,
    ``_pdbx_poly_seq_scheme`` and ``_atom_site``; one entity per chain), and the res_index of each
    written residue in order.

    ``label_asym_id`` is the chain ID and ``label_seq_id`` counts the residues of each chain from 1;
    :func:`parse_dssp_mmcif` maps mkdssp's rows back through these two.
    """
    rows = np.flatnonzero(atoms.protein_mask())
    order = _written_residues(atoms, rows)
    chains = list(dict.fromkeys(atoms.chain_id[rows].tolist()))
    bad = [c for c in chains if not c or any(ch.isspace() or ch in "'\"#$_;[]" for ch in c)]
    if bad:
        raise DsspUnavailable(f"chain ID {bad[0]!r} cannot be written to mmCIF for mkdssp")
    entity = {c: k + 1 for k, c in enumerate(chains)}
    lines = ["data_XXXX", "_entry.id XXXX", "loop_", "_entity.id", "_entity.type"]
    lines += [f"{entity[c]} polymer" for c in chains]
    lines += ["loop_", "_entity_poly.entity_id", "_entity_poly.type", "_entity_poly.pdbx_strand_id"]
    lines += [f"{entity[c]} 'polypeptide(L)' {c}" for c in chains]
    lines += ["loop_", "_struct_asym.id", "_struct_asym.entity_id"] + [f"{c} {entity[c]}" for c in chains]
    firsts = rows[np.r_[True, atoms.res_index[rows][1:] != atoms.res_index[rows][:-1]]] if len(rows) else rows
    seq_id = np.zeros(atoms.n_residues, dtype=np.int64)  # label_seq_id: 1.. within each chain
    count: dict[str, int] = {}
    lines += ["loop_"] + [f"_pdbx_poly_seq_scheme.{k}" for k in _SCHEME]
    for chain, res_name, res_index, num, ins in zip(
            atoms.chain_id[firsts].tolist(), atoms.res_name[firsts].tolist(), atoms.res_index[firsts].tolist(),
            atoms.res_seq[firsts].tolist(), atoms.ins_code[firsts].tolist(), strict=True):
        count[chain] = count.get(chain, 0) + 1
        seq_id[res_index] = count[chain]
        lines.append(f"{chain} {entity[chain]} {count[chain]} {res_name} {count[chain]} {num} {num} {res_name} "
                     f"{res_name} {chain} {ins or '.'} n")
    seq_ids = seq_id.tolist()
    lines += ["loop_"] + [f"_atom_site.{k}" for k in _ATOM_SITE]
    for serial, name, element, res_name, chain, res_index, num, ins, (x, y, z) in zip(
            range(1, len(rows) + 1), atoms.atom_name[rows].tolist(), atoms.element[rows].tolist(),
            atoms.res_name[rows].tolist(), atoms.chain_id[rows].tolist(), atoms.res_index[rows].tolist(),
            atoms.res_seq[rows].tolist(), atoms.ins_code[rows].tolist(), atoms.coords[rows].tolist(), strict=True):
        quoted = f'"{name}"' if "'" in name else name
        lines.append(f"ATOM {serial} {element} {quoted} . {res_name} {chain} {entity[chain]} {seq_ids[res_index]} "
                     f"{ins or '?'} {x:.3f} {y:.3f} {z:.3f} 1 0 {num} {res_name} {chain} {quoted} 1")
    lines.append("#")
    return "\n".join(lines) + "\n", order


def fits_pdb_columns(atoms: AtomTable) -> bool:
    lo, hi = PDB_RES_SEQ_RANGE
    return (len(atoms) <= PDB_MAX_ATOMS and all(len(str(c)) == 1 for c in np.unique(atoms.chain_id))
            and bool(np.all((atoms.res_seq >= lo) & (atoms.res_seq <= hi))))


def parse_dssp(text: str) -> list[tuple[int, str, int, str, str, list[tuple[int, float]]]]:
    """Rows of a classic DSSP file: (dssp number, chain, res_seq, ins_code, ss letter,
    N-H-->O partners as (offset, energy)); chain-break rows ("!") are skipped."""
    rows = []
    started = False
    for line in text.splitlines():
        if line.startswith("  #  RESIDUE"):
            started = True
            continue
        if not started or len(line) < 50 or line[13] == "!":
            continue
        num = int(line[0:5])
        res_seq = int(line[5:10])
        ins = line[10].strip()
        chain = line[11]
        ss = line[16]
        partners = []
        for start in (39, 61):  # the two N-H-->O columns
            off, energy = line[start:start + 11].split(",")
            partners.append((int(off), float(energy)))
        rows.append((num, chain, res_seq, ins, ss, partners))
    return rows


def parse_dssp_mmcif(text: str) -> tuple[list[tuple[str, int, str]], list[tuple[str, int, str, int, float]]]:
    """mkdssp's mmCIF output (``--write-experimental``): per residue ``(label_asym_id, label_seq_id,
    ss letter)`` from ``_dssp_struct_summary`` ("." read as coil " "), and the N-H-->O partners of
    ``_dssp_struct_bridge_pairs`` (its ``acceptor_1``/``acceptor_2``: the residue is the donor) as
    ``(asym, seq, partner asym, partner seq, energy)``."""
    block = gemmi.cif.read_string(text).sole_block()
    residues = []
    for asym, seq, ss in block.find("_dssp_struct_summary.", ["label_asym_id", "label_seq_id",
                                                              "secondary_structure"]):
        residues.append((asym, int(seq), " " if ss in (".", "?") else ss))
    partners = []
    for k in (1, 2):
        cols = ["label_asym_id", "label_seq_id", f"acceptor_{k}_label_asym_id", f"acceptor_{k}_label_seq_id",
                f"acceptor_{k}_energy"]
        for asym, seq, p_asym, p_seq, energy in block.find("_dssp_struct_bridge_pairs.", cols):
            if not gemmi.cif.is_null(p_seq):
                partners.append((asym, int(seq), p_asym, int(p_seq), float(energy)))
    return residues, partners


def _run(exe: str, text: str, suffix: str, fmt: str, timeout: float) -> str:
    with tempfile.TemporaryDirectory(prefix="pgml-dssp-") as tmp:
        src = Path(tmp) / f"in{suffix}"
        out = Path(tmp) / f"out.{fmt}"
        src.write_text(text)
        extra = ["--write-experimental"] if fmt == "mmcif" else []
        proc = subprocess.run([exe, "--output-format", fmt, *extra, str(src), str(out)], capture_output=True,
                              text=True, timeout=timeout)
        if proc.returncode != 0 or not out.exists():
            raise DsspUnavailable(f"mkdssp failed (status {proc.returncode}): {proc.stderr.strip()[-300:]}")
        return out.read_text()


def _check_count(reported: int, written: int) -> None:
    # mkdssp leaves out residues without a complete backbone; far fewer (0 for an unreadable input)
    # means it did not read the file as intended
    if reported < MIN_REPORTED * written or not reported:
        raise DsspUnavailable(f"mkdssp reported {reported} residues for {written} written")


def _result(residues: list[int], ss: list[str], bonds: set[tuple[int, int]]) -> DsspResult:
    hb = np.asarray(sorted(bonds), dtype=np.int64).reshape(-1, 2)
    return DsspResult(residues=np.asarray(residues, dtype=np.int64), ss8="".join(ss), hbonds=hb)


def _mkdssp_classic(exe: str, atoms: AtomTable, timeout: float) -> DsspResult:
    """PDB in, classic DSSP out; residues matched back by chain, number and insertion code."""
    text, order = _pdb_text(atoms)
    rows = parse_dssp(_run(exe, text, ".pdb", "dssp", timeout))
    _check_count(len(rows), len(order))
    prot = np.flatnonzero(atoms.protein_mask())
    key_to_index: dict[tuple[str, int, str], int] = {}
    for chain, res_seq, ins, res_index in zip(atoms.chain_id[prot].tolist(), atoms.res_seq[prot].tolist(),
                                              atoms.ins_code[prot].tolist(), atoms.res_index[prot].tolist(),
                                              strict=True):
        key_to_index.setdefault((chain, res_seq, ins), res_index)
    num_to_index: dict[int, int] = {}
    residues, ss = [], []
    for num, chain, res_seq, ins, letter, _ in rows:
        idx = key_to_index.get((chain, res_seq, ins))
        if idx is None:
            raise DsspUnavailable(f"mkdssp residue {chain}:{res_seq}{ins} is not in the input")
        num_to_index[num] = idx
        residues.append(idx)
        ss.append(letter)
    bonds = set()
    for num, *_, partners in rows:
        for off, energy in partners:
            if off != 0 and energy < HBOND_ENERGY and (num + off) in num_to_index:
                bonds.add((num_to_index[num], num_to_index[num + off]))
    return _result(residues, ss, bonds)


def _mkdssp_mmcif(exe: str, atoms: AtomTable, timeout: float) -> DsspResult:
    """mmCIF in (:func:`_cif_text`), mmCIF out; residues matched back by chain and label_seq_id."""
    text, order = _cif_text(atoms)
    rows, partners = parse_dssp_mmcif(_run(exe, text, ".cif", "mmcif", timeout))
    _check_count(len(rows), len(order))
    key_to_index: dict[tuple[str, int], int] = {}
    count: dict[str, int] = {}
    prot = np.flatnonzero(atoms.protein_mask())
    first = prot[np.r_[True, atoms.res_index[prot][1:] != atoms.res_index[prot][:-1]]]
    for chain, res_index in zip(atoms.chain_id[first].tolist(), atoms.res_index[first].tolist(), strict=True):
        count[chain] = count.get(chain, 0) + 1
        key_to_index[(chain, count[chain])] = res_index
    residues, ss = [], []
    for asym, seq, letter in rows:
        idx = key_to_index.get((asym, seq))
        if idx is None:
            raise DsspUnavailable(f"mkdssp residue {asym}:{seq} is not in the input")
        residues.append(idx)
        ss.append(letter)
    bonds = {(key_to_index[(a, s)], key_to_index[(pa, ps)]) for a, s, pa, ps, energy in partners
             if energy < HBOND_ENERGY and (a, s) != (pa, ps) and (pa, ps) in key_to_index and (a, s) in key_to_index}
    return _result(residues, ss, bonds)


def run_mkdssp(atoms: AtomTable, executable: str = "mkdssp", timeout: float = 300.0) -> DsspResult:
    """Run mkdssp on the protein atoms of ``atoms``; raise :class:`DsspUnavailable` when it cannot.

    mmCIF in and out first: it takes every structure (large assemblies included, whose result the
    classic output cannot hold) and costs mkdssp 4.2 about a quarter less CPU at 5,000 atoms and 40 %
    less at 20,000 than PDB in and classic out (benchmarks/fold_speed.py). Structures that fit the PDB
    format get the PDB run when the mmCIF run fails (mkdssp 4.2 stops on some structures, e.g. 2SRC,
    with a duplicate-key error while writing ``_struct_sheet_range``). Both runs give the same residues, letters and
    H-bonds (tests/fold/test_dssp.py)."""
    exe = find_mkdssp(executable)
    if exe is None:
        raise DsspUnavailable(f"{executable} not found on PATH")
    try:
        return _mkdssp_mmcif(exe, atoms, timeout)
    except DsspUnavailable:
        if not fits_pdb_columns(atoms):
            raise
    return _mkdssp_classic(exe, atoms, timeout)
