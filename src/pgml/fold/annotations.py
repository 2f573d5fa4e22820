"""Enzyme Commission numbers that a structure file carries, per chain: labels that do not come from
the coordinates the network sees (the demo's enzyme / non-enzyme task, as the D&D task of [ieconv]).

PDB files give them in ``COMPND`` records (``MOL_ID``, ``CHAIN`` and ``EC`` tokens of one molecule);
mmCIF files in ``_entity.pdbx_ec`` with the chains of each entity in ``_entity_poly.pdbx_strand_id``.
gemmi reads neither into its ``Entity`` objects, so both are parsed here from the header text (gemmi's
CIF reader for mmCIF).
"""

from __future__ import annotations

import re
from pathlib import Path

import gemmi

from pgml.structure.io import read_text

_EC = re.compile(r"^\d+(\.(\d+|-|n\d+)){0,3}$")


def _clean(values: str) -> list[str]:
    out = []
    for value in re.split(r"[,\s]+", values.strip()):
        value = value.strip().rstrip(";")
        if value and value not in ("?", ".") and _EC.match(value):
            out.append(value)
    return out


def _pdb_ec(text: str) -> dict[str, tuple[str, ...]]:
    compnd = " ".join(line[10:80].strip() for line in text.splitlines() if line.startswith("COMPND"))
    out: dict[str, list[str]] = {}
    chains: list[str] = []
    numbers: list[str] = []

    def flush() -> None:
        for chain in chains:
            out.setdefault(chain, []).extend(numbers)

    for token in compnd.split(";"):
        key, _, value = token.partition(":")
        key = key.strip().upper()
        if key == "MOL_ID":
            flush()
            chains, numbers = [], []
        elif key == "CHAIN":
            chains = [c.strip() for c in value.split(",") if c.strip() and c.strip() != "NULL"]
        elif key == "EC":
            numbers = _clean(value)
    flush()
    return {c: tuple(dict.fromkeys(v)) for c, v in out.items()}


def _cif_ec(text: str) -> dict[str, tuple[str, ...]]:
    block = gemmi.cif.read_string(text).sole_block()
    ec_of = {}
    table = block.find("_entity.", ["id", "?pdbx_ec"])
    for row in table:
        if row.has(1):
            ec_of[row.str(0)] = _clean(row.str(1))
    out: dict[str, list[str]] = {}
    for row in block.find("_entity_poly.", ["entity_id", "pdbx_strand_id"]):
        for chain in row.str(1).split(","):
            if chain.strip():
                out.setdefault(chain.strip(), []).extend(ec_of.get(row.str(0), []))
    return {c: tuple(dict.fromkeys(v)) for c, v in out.items()}


def ec_numbers(path: str | Path) -> dict[str, tuple[str, ...]]:
    """``{chain: (EC number, ...)}`` for the chains the file's header describes (chains with none are
    absent or map to an empty tuple)."""
    text = read_text(path)
    if text.lstrip().startswith("data_"):
        return _cif_ec(text)
    return _pdb_ec(text)
