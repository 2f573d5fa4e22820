"""Shared neural-network layers (ground floor): used by more than one chain, never importing a chain.

* :class:`EGNNConv` - E(n)-equivariant graph convolution [satorras2021] (bfactor ``egnn``; qa's EnQA).
* :class:`EdgeModel`, :class:`AttentionNodeModel`, :class:`MetaBlock` - the Meta-GNN edge and
  attention node blocks [metagnn], [battaglia2018].
* :class:`MPNNConv` - message passing with an MLP message on [h_i, h_j, e_ij] [gilmer2017] (bfactor
  ``mpn`` and the edge-aware input convolution of ``unet``).

Citation keys refer to ``docs/references.md``.
"""

from pgml.nn.egnn import EGNNConv
from pgml.nn.meta import AttentionNodeModel, EdgeModel, MetaBlock
from pgml.nn.mpnn import MPNNConv

__all__ = ["AttentionNodeModel", "EGNNConv", "EdgeModel", "MetaBlock", "MPNNConv"]
