"""Selection of the bfactor chain's input structures (collection and sharding: :mod:`pgml.structure.collection`).

Selection follows the data set of [metagnn]: X-ray entries under a resolution cutoff whose B-factors
vary (constant B-factors carry no signal; NMR entries have none) and that are full-atom models (a
CA-only trace has no covalent bonds to build a graph from). One unreadable file never stops a
shard: it is recorded as dropped with the reason.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pgml.bfactor.params import SelectConfig
from pgml.errors import InputError
from pgml.fileio import atomic_path
from pgml.structure.collection import collect_structures
from pgml.structure.io import heavy_atoms_per_residue, read_structure
from pgml.structure.sequence import chain_sequences

log = logging.getLogger(__name__)

#: A model with fewer heavy atoms per residue than this is a CA trace: its atom graph has no bonds.
MIN_ATOMS_PER_RESIDUE = 3.0
#: ``sequences`` holds the protein chains as ``A:MKV...;B:GSH...`` (read by the identity split)
SELECTION_COLUMNS = ("id", "file", "method", "resolution", "n_atoms", "status", "reason", "sequences")


def format_sequences(chains: dict[str, str]) -> str:
    """``{"A": "MKV", "B": "GSH"}`` -> ``A:MKV;B:GSH`` (``NA`` when there is no protein chain)."""
    return ";".join(f"{c}:{seq}" for c, seq in chains.items() if seq) or "NA"


def parse_sequences(text: str) -> list[str]:
    """The chain sequences of a ``sequences`` cell (see :func:`format_sequences`)."""
    if not text or text == "NA":
        return []
    return [part.split(":", 1)[1] for part in text.split(";") if ":" in part]


def _fmt_res(resolution: float | None) -> str:
    return "NA" if resolution is None else f"{resolution:.2f}"


def _is_cif_path(path: Path) -> bool:
    name = path.name.lower().removesuffix(".gz")
    return name.endswith((".cif", ".mmcif"))


def select_one(path: Path, max_resolution: float, methods: Sequence[str]) -> dict[str, str]:
    """The selection row of one file (never raises for bad input)."""
    accepted = {m.strip().upper() for m in methods}
    row = dict.fromkeys(SELECTION_COLUMNS, "NA")
    row["file"] = str(path)
    try:
        st = read_structure(path)
    except InputError as exc:
        msg = str(exc)
        if msg.startswith(str(path) + ": "):
            msg = msg[len(str(path)) + 2:]
        row.update(id=path.name.split(".")[0], status="dropped", reason=f"unreadable: {msg}")
        return row
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the shard
        row.update(id=path.name.split(".")[0], status="dropped",
                   reason=f"unreadable: {type(exc).__name__}: {exc}".replace("\t", " ").replace("\n", " "))
        return row
    prot = st.atoms.protein_mask()
    b = st.atoms.bfactor[prot]
    row.update(id=st.id, method=st.method or "NA", resolution=_fmt_res(st.resolution),
               n_atoms=str(int(prot.sum())), sequences=format_sequences(chain_sequences(st)))
    # the content checks run CA-only first: a CA trace is reported as such whatever its B-factors
    if st.method.upper() not in accepted:
        reason = f"method {st.method or 'missing'} not accepted"
    elif st.resolution is None:
        reason = "resolution missing"
    elif st.resolution >= max_resolution:
        reason = f"resolution {st.resolution:.2f} >= {max_resolution:.2f}"
    elif (per_res := heavy_atoms_per_residue(st)) < MIN_ATOMS_PER_RESIDUE:
        reason = f"CA-only or incomplete model ({per_res:.2f} heavy atoms per residue)"
    elif not st.has_bfactors:
        reason = ("no B-factor column (_atom_site.B_iso_or_equiv)" if _is_cif_path(path)
                  else "no B-factor column (PDB columns 61-66 blank)")
    elif not np.isfinite(b).all():
        reason = "B-factors missing for some atoms"
    elif np.ptp(b) < 1e-6:
        reason = f"B-factors constant (all {b[0]:.2f})"
    else:
        reason = ""
    row.update(status="dropped" if reason else "kept", reason=reason or ".")
    return row


def select_structures(
    manifest: str | Path,
    output: str | Path,
    max_resolution: float = SelectConfig.max_resolution,
    methods: Sequence[str] = SelectConfig.methods,
) -> list[dict[str, str]]:
    """Write the selection TSV (``SELECTION_COLUMNS``) for every structure listed in ``manifest``."""
    from tqdm import tqdm

    manifest = Path(manifest)
    if not 0 < max_resolution < float("inf"):  # also refuses NaN, which would drop every entry
        raise InputError(f"max_resolution must be a positive number of Å, got {max_resolution}")
    if not manifest.exists():
        raise InputError("manifest not found", path=manifest)
    files = collect_structures([manifest]) if manifest.stat().st_size else []
    rows = [select_one(p, max_resolution, methods)
            for p in tqdm(files, desc=f"select {manifest.name}", unit="file", disable=None)]
    with atomic_path(output) as tmp:
        with open(tmp, "w") as fh:
            fh.write("\t".join(SELECTION_COLUMNS) + "\n")
            for r in rows:
                fh.write("\t".join(str(r[c]) for c in SELECTION_COLUMNS) + "\n")
    kept = sum(r["status"] == "kept" for r in rows)
    reasons = Counter(r["reason"].split()[0].rstrip(":") for r in rows if r["status"] == "dropped")
    log.info("%s: kept %d, dropped %d (%s)", manifest, kept, len(rows) - kept,
             ", ".join(f"{k}: {v}" for k, v in sorted(reasons.items())) or "none")
    return rows
