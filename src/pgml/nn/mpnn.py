"""Message passing with an MLP message on [h_i, h_j, e_ij] (Gilmer et al. 2017 [gilmer2017]).

Gilmer et al.'s edge network (torch_geometric's ``NNConv``) turns every edge's features into a
``channels x channels`` matrix, so its memory grows with E x channels^2 (about 7 GB for one layer on a
50,000-atom protein at 128 channels). The MLP message below keeps one ``channels``-wide vector per
edge: memory grows with E x channels. Only plain torch scatter operations are used (no pyg-lib,
torch-scatter or torch-sparse). Used by the bfactor chain's ``mpn`` architecture.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing
from torch_geometric.nn.inits import reset


class MPNNConv(MessagePassing):
    r"""Message-passing layer with an MLP message function ([gilmer2017], eqs. 1-2).

    .. math::
        m_{ij} &= \phi_m\left([h_i \,\Vert\, h_j \,\Vert\, e_{ij}]\right)            && (1) \\
        h_i' &= \Theta h_i + \bigoplus_{j \in N(i)} m_{ij}                            && (2)

    with :math:`\phi_m` a two-layer MLP (Linear, SiLU, Linear), :math:`\Theta` a linear map with bias
    (the root weight of ``NNConv``) and :math:`\bigoplus` the aggregation ``aggr`` (Gilmer et al. sum
    the messages). Eq. (2) is the simplest update :math:`U_t(h_i, m_i)`; the paper's GRU update is
    left to the surrounding model (the bfactor chain wraps every layer in a residual block).

    Args:
        channels: width of the node features :math:`h` (input and output).
        edge_dim: width of the edge features :math:`e_{ij}` (0: none).
        aggr: ``"add"`` (the paper), ``"mean"`` or ``"max"``.

    Shapes:
        - **input:** node features :math:`(N, F)`, edge indices :math:`(2, E)` (row 0 sources j,
          row 1 targets i), edge features :math:`(E, D)` (optional when ``edge_dim`` is 0)
        - **output:** node features :math:`(N, F)`
    """

    def __init__(self, channels: int, edge_dim: int = 0, *, aggr: str = "add") -> None:
        super().__init__(aggr=aggr, flow="source_to_target")
        self.channels = channels
        self.edge_dim = edge_dim
        self.phi_m = nn.Sequential(nn.Linear(2 * channels + edge_dim, channels), nn.SiLU(),
                                   nn.Linear(channels, channels))
        self.root = nn.Linear(channels, channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the message MLP and the root weight."""
        super().reset_parameters()
        reset(self.phi_m)
        self.root.reset_parameters()

    def forward(self, h: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None) -> Tensor:
        """Return the updated node features; ``edge_index[0]`` are sources j, ``edge_index[1]`` targets i."""
        if self.edge_dim and edge_attr is None:
            raise ValueError(f"{self.__class__.__name__} was built with edge_dim={self.edge_dim} but got no edge_attr")
        return self.root(h) + self.propagate(edge_index, h=h, edge_attr=edge_attr)  # eq. (2)

    def message(self, h_i: Tensor, h_j: Tensor, edge_attr: Tensor | None) -> Tensor:
        parts = [h_i, h_j] + ([edge_attr] if self.edge_dim else [])
        return self.phi_m(torch.cat(parts, dim=-1))  # eq. (1)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.channels}, edge_dim={self.edge_dim}, aggr={self.aggr!r})"

