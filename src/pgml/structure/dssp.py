"""Secondary structure and backbone hydrogen bonds from DSSP [dssp], via the ``mkdssp`` program.

``mkdssp`` 4.2 reads a PDB file only when it starts with a ``HEADER`` record, and reads an mmCIF
without ``_pdbx_poly_seq_scheme`` as 0 residues. :func:`run_mkdssp` therefore writes the protein atoms
of an :class:`~pgml.structure.io.AtomTable` as a PDB file that starts with a HEADER line, runs
``mkdssp`` on it, parses the classic DSSP output and checks the residue count it reports (mkdssp
skips residues without a complete backbone; fewer than 90 % of the written residues, or none, means
the input was not read as intended). Structures that do not fit the PDB format (over 99,999 atoms, chain IDs longer than one
character) raise :class:`DsspUnavailable`, so a caller can fall back to another assignment.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

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
    lines = ["HEADER    PROTEIN                                 01-JAN-00   XXXX              "]
    order: list[int] = []
    serial = 0
    prot = atoms.protein_mask()
    last = None
    for i in np.flatnonzero(prot):
        serial += 1
        name = str(atoms.atom_name[i])
        element = str(atoms.element[i])
        padded = f" {name:<3}" if len(name) < 4 and len(element) == 1 else f"{name:<4}"
        x, y, z = atoms.coords[i]
        lines.append(
            f"ATOM  {serial:5d} {padded} {atoms.res_name[i]:>3} {atoms.chain_id[i]:1}{atoms.res_seq[i]:4d}"
            f"{(atoms.ins_code[i] or ' '):1}   {x:8.3f}{y:8.3f}{z:8.3f}{1.0:6.2f}{0.0:6.2f}"
            f"          {element:>2}")
        if atoms.res_index[i] != last:
            order.append(int(atoms.res_index[i]))
            last = atoms.res_index[i]
    lines.append("END")
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


def run_mkdssp(atoms: AtomTable, executable: str = "mkdssp", timeout: float = 300.0) -> DsspResult:
    """Run mkdssp on the protein atoms of ``atoms``; raise :class:`DsspUnavailable` when it cannot."""
    exe = find_mkdssp(executable)
    if exe is None:
        raise DsspUnavailable(f"{executable} not found on PATH")
    if not fits_pdb_columns(atoms):
        raise DsspUnavailable("structure does not fit the PDB format that mkdssp 4.2 is given")
    text, order = _pdb_text(atoms)
    with tempfile.TemporaryDirectory(prefix="pgml-dssp-") as tmp:
        pdb = Path(tmp) / "in.pdb"
        out = Path(tmp) / "out.dssp"
        pdb.write_text(text)
        proc = subprocess.run([exe, "--output-format", "dssp", str(pdb), str(out)], capture_output=True,
                              text=True, timeout=timeout)
        if proc.returncode != 0 or not out.exists():
            raise DsspUnavailable(f"mkdssp failed (status {proc.returncode}): {proc.stderr.strip()[-300:]}")
        rows = parse_dssp(out.read_text())
    key_to_index = {}
    prot = atoms.protein_mask()
    for i in np.flatnonzero(prot):
        key_to_index.setdefault((str(atoms.chain_id[i]), int(atoms.res_seq[i]), str(atoms.ins_code[i])),
                                int(atoms.res_index[i]))
    # mkdssp leaves out residues without a complete backbone; far fewer (0 for an unreadable input)
    # means it did not read the file as intended
    if len(rows) < MIN_REPORTED * len(order) or not rows:
        raise DsspUnavailable(f"mkdssp reported {len(rows)} residues for {len(order)} written")
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
    hb = np.asarray(sorted(bonds), dtype=np.int64).reshape(-1, 2)
    return DsspResult(residues=np.asarray(residues, dtype=np.int64), ss8="".join(ss), hbonds=hb)
