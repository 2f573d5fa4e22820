"""Reading PDB and mmCIF files (gzipped or not) into flat per-atom arrays, with gemmi.

gemmi does the parsing (fast, both formats, the PDB's own tables of modified residues). This module
adds the policy the chains share: first model only; one conformer per atom (altloc A, else the
highest-occupancy altloc); hydrogens, waters and ligands dropped unless asked for; insertion codes kept
as distinct residues; modified amino acids mapped to their standard parent (MSE -> MET, with SE taking
SD's place; atoms the parent does not have, e.g. the phosphate of SEP, are dropped) or reported with
``nonstandard="error"``. Every problem with the input is an :class:`~pgml.errors.InputError` naming the
file and the record.

Files are decompressed in Python (``gzip``) rather than by gemmi because gemmi silently accepts a
truncated gzip stream; Python raises, and the error is reported as a truncated file.
"""

from __future__ import annotations

import gzip
import logging
import re
import zlib
from dataclasses import dataclass, fields
from pathlib import Path

import gemmi
import numpy as np

from pgml.errors import InputError
from pgml.fileio import atomic_path
from pgml.structure.residues import (
    BACKBONE_ATOMS,
    PARENT_ATOM_RENAMES,
    STANDARD_RESIDUES,
    parent_residue,
    residue_atoms,
)

log = logging.getLogger(__name__)

NONSTANDARD_POLICIES = ("map", "error")
_CIF_SUFFIXES = (".cif", ".mmcif")
_STANDARD = frozenset(STANDARD_RESIDUES)


@dataclass
class AtomTable:
    """One row per atom; all arrays have the same length N."""

    coords: np.ndarray  # (N, 3) float64, Å
    element: np.ndarray  # (N,) str, upper case ("C", "N", "O", "S", "SE")
    atom_name: np.ndarray  # (N,) str
    res_name: np.ndarray  # (N,) str, parent name after mapping (MSE -> MET)
    res_seq: np.ndarray  # (N,) int
    ins_code: np.ndarray  # (N,) str, "" when none
    chain_id: np.ndarray  # (N,) str
    res_index: np.ndarray  # (N,) int, running residue index 0..R-1
    bfactor: np.ndarray  # (N,) float64, Å²
    occupancy: np.ndarray  # (N,) float64
    hetero: np.ndarray  # (N,) bool, HETATM record

    def __len__(self) -> int:
        return int(self.coords.shape[0])

    @property
    def n_residues(self) -> int:
        return int(self.res_index.max()) + 1 if len(self) else 0

    def subset(self, mask: np.ndarray) -> AtomTable:
        """Rows where ``mask`` (bool or index array) selects; res_index is renumbered 0..R'-1."""
        parts = {f.name: getattr(self, f.name)[mask] for f in fields(self)}
        _, parts["res_index"] = np.unique(parts["res_index"], return_inverse=True)
        parts["res_index"] = parts["res_index"].astype(np.int64)
        return AtomTable(**parts)

    def protein_mask(self) -> np.ndarray:
        """Atoms of the 20 standard amino acids (after mapping of modified residues)."""
        return np.isin(self.res_name, STANDARD_RESIDUES)


@dataclass
class Header:
    """Entry-level facts: identifier, experimental method, resolution (Å, None if absent), models."""

    id: str
    method: str
    resolution: float | None
    n_models: int


@dataclass
class Structure:
    id: str
    path: Path
    method: str
    resolution: float | None
    n_models: int
    atoms: AtomTable
    #: False when the file has no B-factor values (mmCIF without ``_atom_site.B_iso_or_equiv``, PDB
    #: with blank columns 61-66); ``atoms.bfactor`` is then NaN rather than gemmi's placeholder.
    has_bfactors: bool = True


def _is_cif(path: Path, text: str) -> bool:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    if name.endswith(_CIF_SUFFIXES):
        return True
    if name.endswith((".pdb", ".ent")):
        return False
    return text.lstrip().startswith("data_")


def _file_stem(path: Path) -> str:
    name = path.name
    for sfx in (".gz",) + _CIF_SUFFIXES + (".pdb", ".ent"):
        if name.lower().endswith(sfx):
            name = name[: -len(sfx)]
    return name


def _read_text(path: Path) -> str:
    if not path.exists():
        raise InputError("file not found", path=path)
    if path.is_dir():
        raise InputError("is a directory, not a structure file", path=path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc})", path=path) from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as exc:
            raise InputError(f"truncated or corrupt gzip stream ({exc})", path=path) from None
    if not raw.strip():
        raise InputError("empty file", path=path)
    if b"\x00" in raw[:65536]:
        raise InputError("binary content, not a PDB or mmCIF text file", path=path)
    return raw.decode("utf-8", errors="replace")


_CIF_RESOLUTION_TAGS = ("_refine.ls_d_res_high", "_reflns.d_resolution_high", "_em_3d_reconstruction.resolution")
_PDB_RESOLUTION = re.compile(r"^REMARK   3   RESOLUTION RANGE HIGH \(ANGSTROMS?\) *: *([0-9.]+)", re.MULTILINE)


def _fallback_resolution(text: str, block: gemmi.cif.Block | None) -> float:
    """Resolution where gemmi finds none (it skips e.g. ``_refine`` without ``pdbx_refine_id``):
    ``_refine.ls_d_res_high``, ``_reflns.d_resolution_high``, ``_em_3d_reconstruction.resolution``
    in mmCIF, ``REMARK 3 RESOLUTION RANGE HIGH`` in PDB. 0.0 when absent."""
    values: list[str] = []
    if block is not None:
        for tag in _CIF_RESOLUTION_TAGS:
            values = [v for v in block.find_values(tag) if v not in ("?", ".")]
            if values:
                break
    else:
        values = _PDB_RESOLUTION.findall(text)
    for v in values:
        try:
            if float(v) > 0:
                return float(v)
        except ValueError:
            continue
    return 0.0


#: ``_atom_site`` columns gemmi needs to place an atom (one of each tuple).
_CIF_REQUIRED_COLUMNS = (("Cartn_x",), ("Cartn_y",), ("Cartn_z",), ("type_symbol",),
                         ("auth_atom_id", "label_atom_id"), ("auth_comp_id", "label_comp_id"),
                         ("auth_asym_id", "label_asym_id"))
_CIF_B_COLUMN = "_atom_site.B_iso_or_equiv"


def _cif_missing_columns(block: gemmi.cif.Block) -> list[str] | None:
    """``_atom_site`` columns gemmi needs but the block lacks; None when there is no atom_site table."""
    table = block.find_mmcif_category("_atom_site.")
    tags = set(table.tags)
    if not tags or len(table) == 0:
        return None
    return ["_atom_site." + "/".join(alts) for alts in _CIF_REQUIRED_COLUMNS
            if not any(f"_atom_site.{a}" in tags for a in alts)]


def _parse(path: Path) -> tuple[gemmi.Structure, str, gemmi.cif.Block | None]:
    text = _read_text(path)
    block = None
    try:
        if _is_cif(path, text):
            doc = gemmi.cif.read_string(text)
            block = doc[0]
            st = gemmi.make_structure_from_block(block)
        else:
            st = gemmi.read_pdb_string(text)
            st.name = dict(st.info).get("_entry.id", "").strip()
    except (RuntimeError, ValueError, IndexError) as exc:
        msg = str(exc).strip().replace("\n", " | ")
        raise InputError(f"unparseable file ({msg})", path=path) from None
    if len(st) == 0:
        if block is not None:
            missing = _cif_missing_columns(block)
            if missing is None:
                raise InputError("no atoms (no _atom_site table)", path=path)
            if missing:
                raise InputError(f"_atom_site lacks the column(s) {', '.join(missing)}; cannot place the atoms",
                                 path=path, record="_atom_site")
        raise InputError("no models (no ATOM/HETATM records)", path=path)
    if all(model.count_atom_sites() == 0 for model in st):
        raise InputError("no protein atoms (no ATOM/HETATM records at all)", path=path)
    if not st.resolution or st.resolution <= 0:
        st.resolution = _fallback_resolution(text, block)
    if not st.name:
        st.name = _file_stem(path)
    return st, text, block


def _has_bfactors(text: str, block: gemmi.cif.Block | None) -> bool:
    """Whether the file states B-factors: the mmCIF column exists with values, or a PDB ATOM/HETATM
    record has a non-blank B field (columns 61-66). gemmi fills missing ones with 20 (mmCIF) or 0 (PDB)."""
    if block is not None:
        values = block.find_values(_CIF_B_COLUMN)
        return any(v not in ("?", ".") for v in values)
    for line in text.splitlines():
        if line.startswith(("ATOM  ", "HETATM")) and line[60:66].strip():
            return True
    return False


def read_text(path: str | Path) -> str:
    """The decompressed text of a structure file (the checks of :func:`read_structure`: missing, empty,
    truncated gzip, binary content are InputError)."""
    return _read_text(Path(path))


def load_gemmi(path: str | Path) -> gemmi.Structure:
    """Parse a PDB or mmCIF file (optionally gzipped) into a ``gemmi.Structure``; errors -> InputError."""
    return _parse(Path(path))[0]




def _header_of(st: gemmi.Structure, path: Path) -> Header:
    info = dict(st.info)
    method = info.get("_exptl.method", "")
    if not method and len(st.meta.experiments):
        method = st.meta.experiments[0].method
    method = method.strip("'\" ").upper()
    resolution = float(st.resolution) if st.resolution and st.resolution > 0 else None
    return Header(id=st.name or _file_stem(path), method=method, resolution=resolution, n_models=len(st))


def read_header(path: str | Path) -> Header:
    """Identifier, method, resolution and model count of a structure file.

    gemmi parses the whole file (it is fast: milliseconds for a typical entry), so this costs about
    as much as :func:`read_structure` minus the atom-table build.
    """
    path = Path(path)
    return _header_of(load_gemmi(path), path)


def _record(chain: str, res: gemmi.Residue) -> str:
    icode = res.seqid.icode.strip()
    return f"model 1 chain {chain} residue {res.name} {res.seqid.num}{icode}"


def _chosen_altloc(res: gemmi.Residue) -> str:
    """Altloc to keep in a residue: 'A' if present, else the one with the highest total occupancy."""
    occ: dict[str, float] = {}
    for atom in res:
        if atom.altloc != "\0":
            occ[atom.altloc] = occ.get(atom.altloc, 0.0) + atom.occ
    if not occ:
        return "\0"
    if "A" in occ:
        return "A"
    return max(sorted(occ), key=lambda k: occ[k])


def read_structure(
    path: str | Path,
    *,
    chains: list[str] | tuple[str, ...] | None = None,
    keep_hydrogens: bool = False,
    keep_water: bool = False,
    keep_ligands: bool = False,
    nonstandard: str = "map",
) -> Structure:
    """Read model 1 of a PDB/mmCIF file into an :class:`AtomTable` (see the module docstring).

    ``nonstandard``: ``"map"`` maps modified amino acids to their parent and drops (with a warning)
    polymer residues that have no known parent (e.g. UNK); ``"error"`` raises InputError for either.
    Raises InputError when the file is missing, empty, truncated or unparseable, has no models, or has
    no protein atoms after filtering.
    """
    if nonstandard not in NONSTANDARD_POLICIES:
        raise ValueError(f"nonstandard must be one of {NONSTANDARD_POLICIES}, not {nonstandard!r}")
    path = Path(path)
    st, text, block = _parse(path)
    has_bfactors = _has_bfactors(text, block)
    header = _header_of(st, path)
    model = st[0]
    wanted = set(chains) if chains else None

    cols: dict[str, list] = {k: [] for k in (
        "coords", "element", "atom_name", "res_name", "res_seq", "ins_code", "chain_id", "res_index",
        "bfactor", "occupancy", "hetero")}
    seen_res: set[tuple[str, int, str]] = set()
    dropped_unknown: list[str] = []
    res_index = 0
    for chain in model:
        if wanted is not None and chain.name not in wanted:
            continue
        for res in chain:
            key = (chain.name, res.seqid.num, res.seqid.icode)
            if key in seen_res:  # microheterogeneity: a second residue at the same position
                continue
            if res.is_water():
                if not keep_water:
                    continue
                parent, ligand = res.name, True
            else:
                parent = parent_residue(res.name)
                ligand = parent is None
                if parent is not None and parent != res.name and nonstandard == "error":
                    raise InputError(f"non-standard residue {res.name} (parent {parent}) with "
                                     "nonstandard='error'", path=path, record=_record(chain.name, res))
                if ligand:
                    info = gemmi.find_tabulated_residue(res.name)
                    polymer_like = res.het_flag == "A" or (info is not None and info.is_amino_acid())
                    if polymer_like and not (info is not None and info.is_nucleic_acid()):
                        if nonstandard == "error":
                            raise InputError(f"unknown residue {res.name}: no standard amino-acid parent",
                                             path=path, record=_record(chain.name, res))
                        dropped_unknown.append(_record(chain.name, res))
                        if not keep_ligands:
                            continue
                    if not keep_ligands:
                        continue
                    parent = res.name
            renames = PARENT_ATOM_RENAMES.get(res.name, {}) if parent != res.name else {}
            allowed = residue_atoms(parent) if (parent in _STANDARD and parent != res.name) else None
            altloc = _chosen_altloc(res)
            names_seen: set[str] = set()
            n_before = len(cols["atom_name"])
            for atom in res:
                if atom.altloc not in ("\0", altloc):
                    continue
                if atom.is_hydrogen() and not keep_hydrogens:
                    continue
                name = renames.get(atom.name, atom.name)
                if allowed is not None and name not in allowed:
                    continue
                if name in names_seen:
                    continue
                names_seen.add(name)
                pos = atom.pos
                cols["coords"].append((pos.x, pos.y, pos.z))
                cols["element"].append(atom.element.name.upper())
                cols["atom_name"].append(name)
                cols["res_name"].append(parent)
                cols["res_seq"].append(res.seqid.num)
                cols["ins_code"].append(res.seqid.icode.strip())
                cols["chain_id"].append(chain.name)
                cols["res_index"].append(res_index)
                cols["bfactor"].append(atom.b_iso)
                cols["occupancy"].append(atom.occ)
                cols["hetero"].append(res.het_flag == "H")
            if len(cols["atom_name"]) > n_before:
                seen_res.add(key)
                res_index += 1
    if dropped_unknown:
        log.warning("%s: dropped %d residue(s) with no standard parent: %s%s", path, len(dropped_unknown),
                    ", ".join(dropped_unknown[:5]), " ..." if len(dropped_unknown) > 5 else "")
    atoms = AtomTable(
        coords=np.asarray(cols["coords"], dtype=np.float64).reshape(-1, 3),
        element=np.asarray(cols["element"], dtype=str),
        atom_name=np.asarray(cols["atom_name"], dtype=str),
        res_name=np.asarray(cols["res_name"], dtype=str),
        res_seq=np.asarray(cols["res_seq"], dtype=np.int64),
        ins_code=np.asarray(cols["ins_code"], dtype=str),
        chain_id=np.asarray(cols["chain_id"], dtype=str),
        res_index=np.asarray(cols["res_index"], dtype=np.int64),
        bfactor=np.asarray(cols["bfactor"] if has_bfactors else np.full(len(cols["bfactor"]), np.nan),
                           dtype=np.float64),
        occupancy=np.asarray(cols["occupancy"], dtype=np.float64),
        hetero=np.asarray(cols["hetero"], dtype=bool),
    )
    bad = np.flatnonzero(~np.isfinite(atoms.coords).all(axis=1))
    if bad.size:
        i = int(bad[0])
        raise InputError(f"{bad.size} atom(s) with a coordinate that is not a finite number (first: "
                         f"{atoms.atom_name[i]} {atoms.coords[i].tolist()})", path=path,
                         record=f"{atoms.chain_id[i]}:{atoms.res_seq[i]}{atoms.ins_code[i]} {atoms.res_name[i]}")
    if not atoms.protein_mask().any():
        sel = f" in chains {','.join(sorted(wanted))}" if wanted else ""
        raise InputError(f"no protein atoms{sel} (standard or mapped amino acids)", path=path,
                         record="model 1")
    return Structure(id=header.id, path=path, method=header.method, resolution=header.resolution,
                     n_models=header.n_models, atoms=atoms, has_bfactors=has_bfactors)


def heavy_atoms_per_residue(structure: Structure) -> float:
    """Mean number of protein heavy atoms per protein residue (about 1 for a CA-only trace)."""
    atoms = structure.atoms
    prot = atoms.protein_mask() & (atoms.element != "H") & (atoms.element != "D")
    n_res = len(np.unique(atoms.res_index[prot]))
    return float(prot.sum()) / n_res if n_res else 0.0


def check_full_atom(structure: Structure, min_per_residue: float = 3.0) -> None:
    """Raise InputError for a CA-only (or mostly incomplete) model: its atom graph has no bonds."""
    per_res = heavy_atoms_per_residue(structure)
    if per_res < min_per_residue:
        raise InputError(f"CA-only or incomplete model ({per_res:.2f} heavy atoms per residue, fewer than "
                         f"{min_per_residue:g}): the atom graphs need full-atom models", path=structure.path,
                         record="model 1")


def check_backbone(structure: Structure, required: tuple[str, ...] = BACKBONE_ATOMS[:3]) -> None:
    """Raise InputError naming the first protein residue that lacks one of the ``required`` atoms."""
    atoms = structure.atoms
    prot = atoms.protein_mask()
    for r in np.unique(atoms.res_index[prot]):
        rows = np.flatnonzero((atoms.res_index == r) & prot)
        present = set(atoms.atom_name[rows].tolist())
        missing = [a for a in required if a not in present]
        if missing:
            i = rows[0]
            record = (f"model 1 chain {atoms.chain_id[i]} residue {atoms.res_name[i]} "
                      f"{atoms.res_seq[i]}{atoms.ins_code[i]}")
            raise InputError(f"missing backbone atom(s) {', '.join(missing)}", path=structure.path,
                             record=record)


#: PDB format limits: one-character chain IDs, five-digit atom serials, four-digit residue numbers
PDB_MAX_ATOMS = 99_999
PDB_RES_SEQ_RANGE = (-999, 9999)
#: ``fmt`` values of :func:`write_bfactors`
WRITE_FORMATS = ("auto", "pdb", "cif")


def fits_pdb(st: gemmi.Structure) -> bool:
    """Whether model 1 of ``st`` fits the PDB format: chain IDs of one character, at most
    :data:`PDB_MAX_ATOMS` atoms, residue numbers within :data:`PDB_RES_SEQ_RANGE`."""
    model = st[0]
    if any(len(chain.name) > 1 for chain in model):
        return False
    if model.count_atom_sites() > PDB_MAX_ATOMS:
        return False
    lo, hi = PDB_RES_SEQ_RANGE
    return all(lo <= res.seqid.num <= hi for chain in model for res in chain)


def _parent_values(res: gemmi.Residue, values: list[float | None]) -> list[float | None]:
    """Each hydrogen takes the value of the nearest heavy atom of its residue (its covalent partner)."""
    heavy = [(atom.pos, v) for atom, v in zip(res, values, strict=True) if not atom.is_hydrogen() and v is not None]
    if not heavy:
        return values
    out = []
    for atom, v in zip(res, values, strict=True):
        if atom.is_hydrogen():
            v = min(heavy, key=lambda pv: atom.pos.dist(pv[0]))[1]
        out.append(v)
    return out


def write_bfactors(
    structure_or_path: Structure | str | Path,
    atoms: AtomTable,
    values: np.ndarray,
    output_path: str | Path,
    *,
    fill: float = 0.0,
    fmt: str | None = None,
    hydrogens_from_parent: bool = False,
) -> Path:
    """Write a copy of the input's model 1 with ``values`` (one per row of ``atoms``) in the B column.

    Atoms are matched on chain, residue number, insertion code and atom name (after the same renaming
    as :func:`read_structure`; every altloc copy of an atom gets its value). Atoms without a value
    (waters, hydrogens, ligands) get ``fill``; with ``hydrogens_from_parent`` a hydrogen without a
    value takes that of the nearest heavy atom of its residue (the atom it is bonded to).
    The format: ``fmt`` ``"pdb"`` or ``"cif"`` (the suffix of ``output_path`` is replaced by ``.pdb``
    or ``.cif``), ``"auto"`` (PDB when :func:`fits_pdb`, else mmCIF), or ``None``: from the output
    suffix (``.cif``/``.mmcif`` writes mmCIF, anything else PDB; a trailing ``.gz`` gzips). Written
    atomically. Returns the path written.
    """
    path = structure_or_path.path if isinstance(structure_or_path, Structure) else Path(structure_or_path)
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.shape[0] != len(atoms):
        raise ValueError(f"{len(atoms)} atoms but {values.shape[0]} values")
    if fmt is not None and fmt not in WRITE_FORMATS:
        raise ValueError(f"fmt must be one of {WRITE_FORMATS} or None, not {fmt!r}")
    lookup = {
        (c, int(s), i, n): float(v)
        for c, s, i, n, v in zip(atoms.chain_id, atoms.res_seq, atoms.ins_code, atoms.atom_name, values,
                                 strict=True)
    }
    st = load_gemmi(path)
    while len(st) > 1:
        del st[len(st) - 1]
    for chain in st[0]:
        for res in chain:
            renames = PARENT_ATOM_RENAMES.get(res.name, {})
            icode = res.seqid.icode.strip()
            found = [lookup.get((chain.name, res.seqid.num, icode, renames.get(a.name, a.name))) for a in res]
            if hydrogens_from_parent:
                found = _parent_values(res, found)
            for atom, value in zip(res, found, strict=True):
                atom.b_iso = fill if value is None else value
    output_path = Path(output_path)
    if fmt is not None:
        use_cif = fmt == "cif" or (fmt == "auto" and not fits_pdb(st))
        output_path = output_path.with_name(_file_stem(output_path) + (".cif" if use_cif else ".pdb"))
    name = output_path.name.lower()
    gz = name.endswith(".gz")
    if gz:
        name = name[:-3]
    try:
        if name.endswith(_CIF_SUFFIXES):
            text = st.make_mmcif_document().as_string()
        else:
            text = st.make_pdb_string()
    except RuntimeError as exc:  # e.g. chain names or atom counts that do not fit the PDB columns
        raise InputError(f"cannot be written as {output_path.name} ({exc}); write mmCIF (.cif) instead",
                         path=path) from None
    with atomic_path(output_path) as tmp:
        if gz:
            tmp.write_bytes(gzip.compress(text.encode(), mtime=0))
        else:
            tmp.write_text(text)
    return output_path
