"""Meta-GNN blocks: an edge update and a node update with attention over the updated edges.

The graph-network block of Battaglia et al. (2018) [battaglia2018] as used by the Meta-GNN for
B-factors [metagnn]: :class:`EdgeModel` (edge update phi^e from [h_i, h_j, e_ij]) and
:class:`AttentionNodeModel` (GATv2-style attention [brody2022] whose scores and messages see the
*updated* edge features, which torch_geometric's GAT layers, with fixed edge features, do not
provide), composed by :class:`MetaBlock` as ``torch_geometric.nn.MetaLayer`` composes them but with
node projections computed once per node rather than once per edge. Only plain torch scatter
operations are used.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing
from torch_geometric.utils import softmax


class EdgeModel(nn.Module):
    r"""Meta-GNN edge block: :math:`e'_{ij} = \mathrm{LN}\big(e_{ij} + \mathrm{MLP}([h_i, h_j, e_{ij}])\big)`.

    The MLP's first layer is applied to the concatenation as the sum of three projections,
    :math:`W[h_i, h_j, e_{ij}] = (W_s h)_i + (W_d h)_j + W_e e_{ij}` (the same function), so the node
    terms are computed once per node and gathered, not once per edge (there are about twice as many
    edges as atoms).

    Args:
        node_dim: width of the node features :math:`h`.
        edge_dim: width of the edge state :math:`e` (input and output).
        hidden: width of the MLP's hidden layer.

    Shapes:
        - **input:** node features :math:`(N, F)`, edge indices :math:`(2, E)`, edge features
          :math:`(E, D)`
        - **output:** updated edge features :math:`(E, D)`
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

    Args:
        channels: width of the node features (input and output); divisible by ``heads``.
        edge_dim: width of the (updated) edge features.
        heads: attention heads, concatenated.
        dropout: dropout on the attention coefficients during training.

    Shapes:
        - **input:** node features :math:`(N, F)`, edge indices :math:`(2, E)`, edge features
          :math:`(E, D)`
        - **output:** node features :math:`(N, F)`
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

    Args:
        channels: width of the node features.
        edge_dim: width of the edge state (and of the edge MLP's hidden layer).
        heads: attention heads of the node block.
        dropout: attention dropout of the node block.

    Shapes:
        - **input:** node features :math:`(N, F)`, edge indices :math:`(2, E)`, edge features
          :math:`(E, D)`
        - **output:** ``(node features (N, F), edge features (E, D))``
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
