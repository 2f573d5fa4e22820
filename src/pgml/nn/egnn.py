"""E(n)-equivariant graph convolution (Satorras, Hoogeboom & Welling 2021 [satorras2021]).

torch_geometric ships no EGNN layer, so this one follows its ``MessagePassing`` pattern: the
constructor holds the MLPs, ``forward`` reads like eqs. (3)-(6) of the paper, ``reset_parameters``
re-initialises. Only plain torch scatter operations are used (no pyg-lib, torch-scatter or
torch-sparse). Used by the bfactor chain's ``egnn`` architecture; the qa chain's EnQA is built on it.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing
from torch_geometric.nn.inits import reset
from torch_geometric.utils import degree


def _mlp(sizes: list[int], *, act_last: bool = False) -> nn.Sequential:
    mods: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        mods.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2 or act_last:
            mods.append(nn.SiLU())
    return nn.Sequential(*mods)


class EGNNConv(MessagePassing):
    r"""E(n)-equivariant graph convolution ([satorras2021], eqs. 3-6).

    .. math::
        m_{ij} &= \phi_e(h_i, h_j, \lVert x_i - x_j \rVert^2, a_{ij})            && (3) \\
        x_i' &= x_i + C \sum_{j \in N(i)} (x_i - x_j)\, \phi_x(m_{ij})            && (4) \\
        m_i &= \sum_{j \in N(i)} m_{ij}                                           && (5) \\
        h_i' &= h_i + \phi_h(h_i, m_i)                                            && (6)

    with :math:`C = 1/|N(i)|` (mean over neighbours) and the residual form of eq. (6) that the authors
    use in their code. Node features are invariant and coordinates equivariant under rotations,
    reflections and translations of ``pos``.

    Args:
        channels: width of the node features :math:`h` (input and output).
        edge_dim: width of the edge attributes :math:`a_{ij}` (0: none).
        update_coords: apply eq. (4); ``False`` for a last layer whose coordinates nobody reads.

    Shapes:
        - **input:** node features :math:`(N, F)`, positions :math:`(N, 3)`, edge indices
          :math:`(2, E)` (row 0 sources j, row 1 targets i), edge features :math:`(E, D)` (optional)
        - **output:** node features :math:`(N, F)`, positions :math:`(N, 3)`
    """

    def __init__(self, channels: int, edge_dim: int = 0, *, update_coords: bool = True) -> None:
        super().__init__(aggr="add", flow="source_to_target")
        self.channels = channels
        self.edge_dim = edge_dim
        self.update_coords = update_coords
        self.phi_e = _mlp([2 * channels + 1 + edge_dim, channels, channels], act_last=True)
        self.phi_h = _mlp([2 * channels, channels, channels])
        self.phi_x = _mlp([channels, channels, 1]) if update_coords else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise all MLPs; the last layer of phi_x starts near zero (the authors' code, gain 1e-3)."""
        reset(self.phi_e)
        reset(self.phi_h)
        if self.phi_x is not None:
            reset(self.phi_x)
            last = self.phi_x[-1]
            nn.init.xavier_uniform_(last.weight, gain=1e-3)
            nn.init.zeros_(last.bias)

    def forward(
        self, h: Tensor, pos: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """Return updated ``(h, pos)``; ``edge_index[0]`` are sources j, ``edge_index[1]`` targets i."""
        out = self.propagate(edge_index, h=h, pos=pos, edge_attr=edge_attr)
        m_i, dx = out[:, : self.channels], out[:, self.channels:]
        h = h + self.phi_h(torch.cat([h, m_i], dim=-1))  # eq. (6)
        if self.update_coords:
            deg = degree(edge_index[1], num_nodes=h.size(0), dtype=pos.dtype).clamp(min=1)
            pos = pos + dx / deg.unsqueeze(-1)  # eq. (4), C = 1/|N(i)|
        return h, pos

    def message(self, h_i: Tensor, h_j: Tensor, pos_i: Tensor, pos_j: Tensor,
                edge_attr: Tensor | None) -> Tensor:
        rel = pos_i - pos_j
        d2 = (rel * rel).sum(dim=-1, keepdim=True)
        parts = [h_i, h_j, d2] + ([edge_attr] if self.edge_dim else [])
        m_ij = self.phi_e(torch.cat(parts, dim=-1))  # eq. (3)
        if self.update_coords:
            trans = rel * self.phi_x(m_ij)  # summand of eq. (4)
        else:
            trans = rel.new_zeros(rel.shape)
        return torch.cat([m_ij, trans], dim=-1)  # summed over j: eq. (5) and the sum in eq. (4)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.channels}, edge_dim={self.edge_dim})"
