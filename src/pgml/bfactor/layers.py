"""Message-passing layers of the bfactor chain that torch_geometric does not ship.

* :class:`EGNNConv` - the E(n)-equivariant graph convolution of Satorras, Hoogeboom & Welling (2021),
  "E(n) Equivariant Graph Neural Networks", ICML, eqs. (3)-(6). torch_geometric has no EGNN layer.
* :class:`EdgeModel` and :class:`AttentionNodeModel` - the edge and node blocks of the Meta-GNN used
  for B-factor prediction, combined by :class:`MetaBlock` as ``torch_geometric.nn.MetaLayer`` combines
  them (Battaglia et al. 2018, "Relational inductive biases...", Alg. 1: edge update phi^e then node
  update phi^v), but with node projections computed per node rather than per edge. The node block is
  GAT-style attention (Velickovic et al. 2018, eq. 3) whose scores and messages see the *updated* edge
  features, which torch_geometric's GAT layers (fixed edge features, no edge update) do not provide.

All layers use only plain torch scatter operations (no pyg-lib, torch-scatter or torch-sparse).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing
from torch_geometric.nn.inits import reset
from torch_geometric.utils import degree, softmax


def _mlp(sizes: list[int], *, act_last: bool = False) -> nn.Sequential:
    mods: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        mods.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2 or act_last:
            mods.append(nn.SiLU())
    return nn.Sequential(*mods)


class EGNNConv(MessagePassing):
    r"""E(n)-equivariant graph convolution (Satorras et al. 2021, eqs. 3-6).

    .. math::
        m_{ij} &= \phi_e(h_i, h_j, \lVert x_i - x_j \rVert^2, a_{ij})            && (3) \\
        x_i' &= x_i + C \sum_{j \in N(i)} (x_i - x_j)\, \phi_x(m_{ij})            && (4) \\
        m_i &= \sum_{j \in N(i)} m_{ij}                                           && (5) \\
        h_i' &= h_i + \phi_h(h_i, m_i)                                            && (6)

    with :math:`C = 1/|N(i)|` (mean over neighbours) and the residual form of eq. (6) that the authors
    use in their code. Node features are invariant and coordinates equivariant under rotations,
    reflections and translations of ``pos``. ``update_coords=False`` skips eq. (4) (for the last layer,
    whose coordinates nobody reads).
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
        """Re-initialise all MLPs; the last layer of phi_x starts near zero (authors' code, gain 1e-3)."""
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


class EdgeModel(nn.Module):
    r"""Meta-GNN edge block: :math:`e'_{ij} = \mathrm{LN}\big(e_{ij} + \mathrm{MLP}([h_i, h_j, e_{ij}])\big)`.

    The MLP's first layer is applied to the concatenation as the sum of three projections,
    :math:`W[h_i, h_j, e_{ij}] = (W_s h)_i + (W_d h)_j + W_e e_{ij}` (the same function), so the node
    terms are computed once per node and gathered, not once per edge (there are about twice as many
    edges as atoms).
    """

    def __init__(self, node_dim: int, edge_dim: int, hidden: int) -> None:
        super().__init__()
        self.lin_nodes = nn.Linear(node_dim, 2 * hidden, bias=False)  # [W_s; W_d] in one multiply
        self.lin_edge = nn.Linear(edge_dim, hidden)
        self.lin_out = nn.Linear(hidden, edge_dim)
        self.norm = nn.LayerNorm(edge_dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the projections and the norm."""
        for lin in (self.lin_nodes, self.lin_edge, self.lin_out):
            lin.reset_parameters()
        self.norm.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        src, dst = edge_index
        from_src, from_dst = self.lin_nodes(x).chunk(2, dim=-1)
        hidden = from_src[src] + from_dst[dst] + self.lin_edge(edge_attr)
        return self.norm(edge_attr + self.lin_out(nn.functional.silu(hidden)))


class AttentionNodeModel(MessagePassing):
    r"""Meta-GNN node block: GAT-style attention over the incoming *updated* edges.

    .. math::
        \alpha_{ij} &= \mathrm{softmax}_j\big(a^\top \mathrm{LeakyReLU}(W_q h_i + W_k h_j + W_e e'_{ij})\big) \\
        h_i' &= \mathrm{LN}\Big(h_i + W_o \Big[h_i \,\Vert\, \sum_j \alpha_{ij} (W_v h_j + W_u e'_{ij})\Big]\Big)

    (GATv2 scoring, Brody et al. 2022, with the edge term of the Meta-GNN; several heads concatenated).
    As in torch_geometric's GAT layers, the node projections are computed per node before
    ``propagate`` and gathered per edge; :math:`W_q, W_k, W_v` share one matrix multiply, and so do
    :math:`W_e, W_u`.
    """

    def __init__(self, channels: int, edge_dim: int, heads: int = 4, dropout: float = 0.0) -> None:
        super().__init__(aggr="add", node_dim=0)
        if channels % heads:
            raise ValueError(f"channels ({channels}) must be divisible by heads ({heads})")
        self.channels, self.heads, self.dropout = channels, heads, dropout
        self.lin_qkv = nn.Linear(channels, 3 * channels)  # [W_q; W_k; W_v] in one multiply
        self.lin_edge = nn.Linear(edge_dim, 2 * channels, bias=False)  # [W_e; W_u]
        self.att = nn.Parameter(torch.empty(1, heads, channels // heads))
        self.lin_o = nn.Linear(2 * channels, channels)
        self.norm = nn.LayerNorm(channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise all projections, the attention vector and the norm."""
        for lin in (self.lin_qkv, self.lin_edge, self.lin_o):
            lin.reset_parameters()
        nn.init.xavier_uniform_(self.att)
        self.norm.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        H, C = self.heads, self.channels // self.heads
        q, k, v = self.lin_qkv(x).view(-1, 3, H, C).unbind(dim=1)
        e_score, e_value = self.lin_edge(edge_attr).view(-1, 2, H, C).unbind(dim=1)
        agg = self.propagate(edge_index, q=q, k=k, v=v, e_score=e_score, e_value=e_value,
                             size=(x.size(0), x.size(0)))
        return self.norm(x + self.lin_o(torch.cat([x, agg.reshape(x.size(0), -1)], dim=-1)))

    def message(self, q_i: Tensor, k_j: Tensor, v_j: Tensor, e_score: Tensor, e_value: Tensor,
                index: Tensor, size_i: int | None) -> Tensor:
        score = (nn.functional.leaky_relu(q_i + k_j + e_score, 0.2) * self.att).sum(dim=-1)
        alpha = softmax(score, index, num_nodes=size_i)
        alpha = nn.functional.dropout(alpha, p=self.dropout, training=self.training)
        return (v_j + e_value) * alpha.unsqueeze(-1)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.channels}, heads={self.heads})"


class MetaBlock(nn.Module):
    r"""One Meta-GNN layer: edge update, then node update from the updated edges.

    The graph-network block of Battaglia et al. (2018), Alg. 1 without the global term, as
    ``torch_geometric.nn.MetaLayer`` composes it: :math:`e' = \phi^e(h, e)`, :math:`h' = \phi^v(h, e')`.
    MetaLayer itself hands ``phi^e`` per-edge copies of the node features; this block hands it the
    node features and the edge index instead, so both blocks can project nodes once per node.
    ``edge_dim`` is the width of the edge state (and of the edge MLP's hidden layer).
    """

    def __init__(self, channels: int, edge_dim: int, heads: int = 4, dropout: float = 0.0) -> None:
        super().__init__()
        self.edge_model = EdgeModel(channels, edge_dim, edge_dim)
        self.node_model = AttentionNodeModel(channels, edge_dim, heads, dropout)

    def reset_parameters(self) -> None:
        """Re-initialise both blocks."""
        self.edge_model.reset_parameters()
        self.node_model.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> tuple[Tensor, Tensor]:
        edge_attr = self.edge_model(x, edge_index, edge_attr)
        return self.node_model(x, edge_index, edge_attr), edge_attr
