"""The seven GNN architectures of the bfactor chain, selectable by name with :func:`build_model`.

[metagnn] (B-factor prediction from atom graphs) compares a Meta-GNN against GCN, GAT, MPN,
Graph U-Net, graph transformer and EGNN baselines on the same atom graphs. Here all seven share one
frame so that only the message-passing core differs:

    h = Linear(x)                                    input encoder
    h = h + Dropout(act(Norm(Conv_l(h, ...))))       l = 1..layers, residual
    B = MLP(h)                                       per-atom output head, shape (N,)

Cores (all from torch_geometric, except EGNN and the Meta node/edge blocks in :mod:`pgml.nn`):

* ``gcn`` - ``GCNConv`` ([kipf2017]) with edge weight w_ij = 1 / bond length (:func:`bond_weight`):
  shorter (stiffer) bonds couple atoms more strongly. Bond order is not used (GCN takes one scalar
  per edge).
* ``gat`` - ``GATConv(edge_dim=...)``, the graph attention network of [velickovic2018] that [metagnn]
  compares with (not GATv2 [brody2022]): bond order and length add a term to the attention scores.
* ``mpn`` - :class:`~pgml.nn.MPNNConv` ([gilmer2017], eqs. 1-2, mean aggregation): the message is
  an MLP on [h_i, h_j, e_ij]. Gilmer et al.'s edge network (``NNConv``, a hidden x hidden matrix per
  edge) needed about 7 GB per layer for a 50,000-atom protein; this message needs E x hidden.
* ``unet`` - one edge-aware :class:`~pgml.nn.MPNNConv` block (bond order and length enter here), then
  ``GraphUNet`` ([gao2019]: gPool/gUnpool with ``TopKPooling``) whose GCN layers take the edge
  weight 1 / bond length (pooled graphs carry the weights of ``GraphUNet``'s A + A^2 augmentation).
* ``transformer`` - ``TransformerConv(edge_dim=...)`` (Shi et al. 2021, eqs. 3-5).
* ``egnn`` - :class:`~pgml.nn.EGNNConv` ([satorras2021], eqs. 3-6); reads ``pos``
  and is invariant to rotations/translations of the structure.
* ``meta`` - :class:`~pgml.nn.MetaBlock` (MetaLayer composition) of
  :class:`~pgml.nn.EdgeModel` (edge update from [h_i, h_j, e_ij]) and
  :class:`~pgml.nn.AttentionNodeModel` (attention over updated edges).

LayerNorm rather than BatchNorm: batches hold one to a few proteins, and per-atom normalisation keeps a
protein's prediction independent of what else is in the batch. None of the layers needs pyg-lib,
torch-scatter or torch-sparse (checked in the tests on an install without them).
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.nn import GATConv, GCNConv, GraphUNet, TransformerConv

from pgml.bfactor.params import ARCHITECTURES, TrainConfig
from pgml.nn import EGNNConv, MetaBlock, MPNNConv

_T = TrainConfig()

#: Bond lengths are clamped to at least this (Å) before 1 / length, so that two atoms placed on top of
#: each other in a broken structure give a large but finite weight. Covalent bonds are 0.9-2.1 Å.
MIN_BOND_LENGTH = 0.5


def bond_weight(edge_attr: Tensor | None) -> Tensor | None:
    """GCN edge weight 1 / bond length (Å^-1, the last column of ``edge_attr``); ``None`` without edges' features.

    Decreasing with length, positive, and invariant to rotations and translations of the structure.
    """
    if edge_attr is None:
        return None
    return 1.0 / edge_attr[:, -1].clamp(min=MIN_BOND_LENGTH)

def _reset(module: nn.Module) -> None:
    for m in module.modules():
        if m is not module and hasattr(m, "reset_parameters"):
            m.reset_parameters()


class BFactorGNN(nn.Module):
    """Encoder -> ``layers`` residual message-passing blocks -> per-atom MLP head.

    ``forward(data)`` takes a ``Data`` or ``Batch`` with ``x``, ``edge_index``, ``edge_attr`` (and
    ``pos`` for ``egnn``) and returns one prediction per atom, shape ``(N,)``.
    """

    def __init__(self, name: str, node_dim: int, edge_dim: int, hidden: int = _T.hidden, layers: int = _T.layers,
                 dropout: float = _T.dropout, heads: int = 4) -> None:
        super().__init__()
        if name not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {name!r}; choose one of {', '.join(ARCHITECTURES)}")
        if layers < 1 or hidden < 1:
            raise ValueError("layers and hidden must be positive")
        if name in ("gat", "transformer", "meta") and hidden % heads:
            raise ValueError(f"hidden ({hidden}) must be divisible by heads ({heads}) for {name}")
        self.name, self.node_dim, self.edge_dim = name, node_dim, edge_dim
        self.hidden, self.num_layers, self.dropout = hidden, layers, dropout
        self.encoder = nn.Linear(node_dim, hidden)
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        self.edge_encoder: nn.Module | None = None
        self.unet: GraphUNet | None = None
        if name == "unet":
            # GraphUNet's GCN layers take one weight per edge, so bond order enters through an
            # edge-aware input block first
            self.convs.append(MPNNConv(hidden, edge_dim, aggr="mean"))
            self.norms.append(nn.LayerNorm(hidden))
            self.unet = GraphUNet(hidden, hidden, hidden, depth=layers, pool_ratios=0.5, sum_res=True)
            self.norms.append(nn.LayerNorm(hidden))
        else:
            if name == "meta":
                # the edge state is carried at half the node width: there are ~2x more edges than atoms
                self.edge_encoder = nn.Linear(edge_dim, self.meta_edge_width(hidden))
            for i in range(layers):
                self.convs.append(self._conv(name, hidden, edge_dim, heads, dropout, last=i == layers - 1))
                self.norms.append(nn.LayerNorm(hidden))
        self.act = nn.SiLU()
        self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, 1))
        # Output = head * scale + shift, set from the training targets (raw B-factors are ~10-100 A^2);
        # buffers, so they travel with the checkpoint and prediction needs no extra file.
        self.register_buffer("target_shift", torch.zeros(()))
        self.register_buffer("target_scale", torch.ones(()))
        self.reset_parameters()

    def set_target_scaling(self, shift: float, scale: float) -> None:
        """Make the head predict ``(y - shift) / scale`` (e.g. the training mean and std of the target)."""
        if not scale > 0:
            raise ValueError(f"target scale must be positive, got {scale}")
        self.target_shift.fill_(float(shift))
        self.target_scale.fill_(float(scale))

    @staticmethod
    def _conv(name: str, hidden: int, edge_dim: int, heads: int, dropout: float, *, last: bool) -> nn.Module:
        if name == "gcn":
            return GCNConv(hidden, hidden)
        if name == "gat":
            return GATConv(hidden, hidden // heads, heads=heads, edge_dim=edge_dim, dropout=dropout)
        if name == "mpn":
            return MPNNConv(hidden, edge_dim, aggr="mean")
        if name == "transformer":
            return TransformerConv(hidden, hidden // heads, heads=heads, edge_dim=edge_dim, dropout=dropout)
        if name == "egnn":
            return EGNNConv(hidden, edge_dim, update_coords=not last)
        if name == "meta":
            return MetaBlock(hidden, BFactorGNN.meta_edge_width(hidden), heads, dropout)
        raise ValueError(name)

    @staticmethod
    def meta_edge_width(hidden: int) -> int:
        """Width of the Meta-GNN's edge state for node width ``hidden``."""
        return max(8, hidden // 2)

    def reset_parameters(self) -> None:
        """Re-initialise every sub-layer."""
        _reset(self)

    def forward(self, data: Any) -> Tensor:
        x, edge_index = data.x, data.edge_index
        edge_attr = getattr(data, "edge_attr", None)
        batch = getattr(data, "batch", None)
        if batch is None:
            batch = torch.zeros(x.size(0), dtype=torch.long, device=x.device)
        h = self.encoder(x)
        if self.unet is not None:
            out = self.convs[0](h, edge_index, edge_attr)
            h = h + nn.functional.dropout(self.act(self.norms[0](out)), self.dropout, self.training)
            with warnings.catch_warnings():  # torch's "sparse CSR is beta" notes from GraphUNet.augment_adj
                warnings.filterwarnings("ignore", message=".*[Ss]parse.*")
                out = self.unet(h, edge_index, batch, bond_weight(edge_attr))
            h = h + nn.functional.dropout(self.act(self.norms[1](out)), self.dropout, self.training)
            return self._output(h)
        pos = data.pos if self.name == "egnn" else None
        e = self.edge_encoder(edge_attr) if self.edge_encoder is not None else edge_attr
        for conv, norm in zip(self.convs, self.norms, strict=True):
            if self.name == "gcn":
                out = conv(h, edge_index, bond_weight(edge_attr))
            elif self.name == "egnn":
                out, pos = conv(h, pos, edge_index, edge_attr)
                out = out - h  # EGNNConv is residual itself; keep only its update
            elif self.name == "meta":
                out, e = conv(h, edge_index, e)
                out = out - h
            else:
                out = conv(h, edge_index, edge_attr)
            h = h + nn.functional.dropout(self.act(norm(out)), self.dropout, self.training)
        return self._output(h)

    def _output(self, h: Tensor) -> Tensor:
        return self.head(h).squeeze(-1) * self.target_scale + self.target_shift

    def extra_repr(self) -> str:
        return f"name={self.name!r}, hidden={self.hidden}, layers={self.num_layers}"


def build_model(name: str, node_dim: int, edge_dim: int, hidden: int = _T.hidden, layers: int = _T.layers,
                dropout: float = _T.dropout) -> BFactorGNN:
    """Return the architecture ``name`` (one of :data:`ARCHITECTURES`) for per-atom B-factor regression."""
    return BFactorGNN(name, node_dim, edge_dim, hidden=hidden, layers=layers, dropout=dropout)
