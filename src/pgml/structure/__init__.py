"""Shared structure layer: reading PDB/mmCIF (gemmi), residue chemistry, covalent bonds,
neighbour search and torch_geometric atom graphs. Used by the bfactor, qa and fold chains."""

from pgml.structure.io import AtomTable, Header, Structure, read_header, read_structure, write_bfactors

__all__ = ["AtomTable", "Header", "Structure", "read_header", "read_structure", "write_bfactors"]
