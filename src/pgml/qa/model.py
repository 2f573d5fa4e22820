"""EnQA [enqa]: per-residue lDDT of a protein model from its features (section 5.2).

1D convolutions over the node features; a 2D ResNet over the pair features, the spherical harmonics
of every residue pair (``harmonics_2d``) and the node embeddings tiled along rows and columns,
predicting the 9-bin distance-error distribution of every residue pair; the initial quality estimate
of eq. 5.3, ``q_i = sum_{j != i} c_ij sum_k p_ijk s_k / sum_{j != i} c_ij`` over all residues, with
c_ij AlphaFold's contact probability (the ``contact_probability`` pair channel, the second-to-last)
and s_k the lDDT credit of error bin k (:data:`pgml.qa.params.ERROR_BIN_SCORES`). A residue whose
references carry no distogram (all c_ij = 0: structure-only references, residues the references lack)
is weighted by the model's own contacts instead (model Cβ distance <= 15 Å, from the last pair
channel);
node-level EGNN layers (eqs. 5.4-5.7, :class:`pgml.nn.EGNNConv`) over the residue graph with the pair
embedding at each edge and the spherical harmonics as edge features, coordinates updated
equivariantly; a sigmoid head gives the lDDT. The edge-level EGNN (section 5.2.3) runs the same
layers (eqs. 5.4-5.7 with the pairs as nodes) on the line graph of the residue graph
(:mod:`pgml.qa.line_graph`): its nodes are the residue pairs {i, j}, placed at the midpoints
(x_i + x_j)/2 of the EGNN-updated coordinates, each joined to its k = 3 nearest other pairs; a
pair starts from the mean of its two directed edge embeddings plus h_i + h_j of the node-level
EGNN, and a linear head gives the refined ("final") distance error of every pair: the signed error
d_native - d_model in Å, trained with MSE (section 5.3).
``architecture="sh"`` swaps both EGNNs for :class:`SHGraphConv`, a graph convolution on invariant
features only (the spherical-harmonics variant; on the line graph its edge feature is the midpoint
distance). Every input but ``pos`` is invariant, so the lDDT and the final error logits are
invariant to rotations and translations of the model.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing
from torch_geometric.nn.inits import reset
from torch_geometric.utils import scatter

from pgml.nn import EGNNConv
from pgml.qa.line_graph import knn_line_graph, midpoints, residue_pairs
from pgml.qa.params import CONTACT_CUTOFF, ERROR_BIN_SCORES, N_ERROR_BINS

#: the model-distance pair channel holds min(d / MODEL_DISTANCE_SCALE, 1) (:mod:`pgml.qa.samples`)
MODEL_DISTANCE_SCALE = 20.0


class ResBlock2d(nn.Module):
    """Two 3×3 convolutions with instance norm and ELU, plus the identity."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1), nn.InstanceNorm2d(channels, affine=True), nn.ELU(),
            nn.Conv2d(channels, channels, 3, padding=1), nn.InstanceNorm2d(channels, affine=True))
        self.act = nn.ELU()

    def reset_parameters(self) -> None:
        reset(self.body)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(x + self.body(x))


class SHGraphConv(MessagePassing):
    r"""Graph convolution on spherical-harmonic edge features (the non-EGNN variant).

    .. math:: h_i' = h_i + \phi_h\big(h_i, \tfrac{1}{|N(i)|}\sum_{j} \phi_e(h_i, h_j, a_{ij})\big)

    Positions pass through unchanged (same call signature as :class:`pgml.nn.EGNNConv`).
    """

    def __init__(self, channels: int, edge_dim: int) -> None:
        super().__init__(aggr="mean")
        self.phi_e = nn.Sequential(nn.Linear(2 * channels + edge_dim, channels), nn.SiLU(),
                                   nn.Linear(channels, channels), nn.SiLU())
        self.phi_h = nn.Sequential(nn.Linear(2 * channels, channels), nn.SiLU(), nn.Linear(channels, channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset(self.phi_e)
        reset(self.phi_h)

    def forward(self, h: Tensor, pos: Tensor, edge_index: Tensor, edge_attr: Tensor) -> tuple[Tensor, Tensor]:
        m = self.propagate(edge_index, h=h, edge_attr=edge_attr)
        return h + self.phi_h(torch.cat([h, m], -1)), pos

    def message(self, h_i: Tensor, h_j: Tensor, edge_attr: Tensor) -> Tensor:
        return self.phi_e(torch.cat([h_i, h_j, edge_attr], -1))


class EnQA(nn.Module):
    """The EnQA network (see the module docstring). ``forward`` returns ``(lddt (R,), initial error
    logits (R, R, 9), initial estimate (R,), updated positions (R, 3), final errors (P,) in Å,
    pairs (2, P))`` with ``pairs`` the residue pairs i < j of the graph (the line
    graph's nodes)."""

    def __init__(self, node_dim: int, pair_dim: int, edge_dim: int, *, hidden: int = 32, resnet_blocks: int = 5,
                 resnet_channels: int = 32, egnn_layers: int = 3, architecture: str = "egnn",
                 line_k: int = 3) -> None:
        super().__init__()
        self.conv1d = nn.Sequential(nn.Conv1d(node_dim, hidden, 3, padding=1), nn.ELU(),
                                    nn.Conv1d(hidden, hidden, 3, padding=1), nn.ELU())
        self.pair_in = nn.Conv2d(pair_dim + edge_dim + 2 * hidden, resnet_channels, 1)
        self.resnet = nn.Sequential(*[ResBlock2d(resnet_channels) for _ in range(resnet_blocks)])
        self.error_head = nn.Conv2d(resnet_channels, N_ERROR_BINS, 1)
        self.edge_in = nn.Linear(resnet_channels + edge_dim, hidden)
        self.node_in = nn.Linear(hidden + 1, hidden)
        if architecture == "egnn":
            self.convs = nn.ModuleList(EGNNConv(hidden, edge_dim=hidden, update_coords=True)
                                       for _ in range(egnn_layers))
        else:
            self.convs = nn.ModuleList(SHGraphConv(hidden, hidden) for _ in range(egnn_layers))
        self.line_k = line_k
        self.line_in = nn.Linear(2 * hidden, hidden)
        if architecture == "egnn":  # the last layer's coordinates are read by nobody
            self.line_convs = nn.ModuleList(EGNNConv(hidden, update_coords=k < egnn_layers - 1)
                                            for k in range(egnn_layers))
        else:
            self.line_convs = nn.ModuleList(SHGraphConv(hidden, 1) for _ in range(egnn_layers))
        self.architecture = architecture
        self.head = nn.Linear(hidden, 1)
        self.final_head = nn.Linear(hidden, 1)
        self.register_buffer("bin_scores", torch.tensor(ERROR_BIN_SCORES, dtype=torch.float32))

    def reset_parameters(self) -> None:
        for module in (self.conv1d, self.pair_in, self.resnet, self.error_head, self.edge_in, self.node_in,
                       self.head, self.line_in, self.final_head):
            reset(module)
        for conv in (*self.convs, *self.line_convs):
            conv.reset_parameters()

    def forward(self, x: Tensor, pair: Tensor, pos: Tensor, edge_index: Tensor, edge_attr: Tensor,
                sh2d: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
        n = x.size(0)
        h1 = self.conv1d(x.t().unsqueeze(0))[0]  # (hidden, R)
        tiled = torch.cat([h1.unsqueeze(2).expand(-1, -1, n), h1.unsqueeze(1).expand(-1, n, -1)], 0)
        z = self.resnet(self.pair_in(torch.cat([pair, sh2d.to(pair.dtype), tiled], 0).unsqueeze(0)))[0]  # (C, R, R)
        logits = self.error_head(z.unsqueeze(0))[0].permute(1, 2, 0)  # (R, R, 9)
        src, dst = edge_index
        initial = self.initial_estimate(logits, pair)  # eq. 5.3
        h = self.node_in(torch.cat([h1.t(), initial.unsqueeze(-1)], -1))
        e = self.edge_in(torch.cat([z[:, dst, src].t(), edge_attr], -1))
        for conv in self.convs:
            h, pos = conv(h, pos, edge_index, e)
        final, pairs = self.edge_level(h, pos, edge_index, e)
        final = final.squeeze(-1)
        return torch.sigmoid(self.head(h)).squeeze(-1), logits, initial, pos, final, pairs

    def initial_estimate(self, logits: Tensor, pair: Tensor) -> Tensor:
        """Eq. 5.3: expected lDDT credit of every pair, weighted by the contact probability over all
        residues j != i (rows without any contact probability: the model's own contacts)."""
        n = logits.size(0)
        off = 1.0 - torch.eye(n, dtype=logits.dtype, device=logits.device)
        weight = pair[-2].clamp(min=0) * off
        model_contacts = (pair[-1] * MODEL_DISTANCE_SCALE <= CONTACT_CUTOFF).to(logits.dtype) * off
        empty = weight.sum(-1, keepdim=True) <= 1e-8
        weight = torch.where(empty, model_contacts, weight)
        expected = (logits.softmax(-1) * self.bin_scores).sum(-1)  # (R, R)
        return (weight * expected).sum(-1) / weight.sum(-1).clamp(min=1e-8)

    def edge_level(self, h: Tensor, pos: Tensor, edge_index: Tensor, e: Tensor) -> tuple[Tensor, Tensor]:
        """Edge-level EGNN on the line graph: final error logits (P, 9) of the residue pairs (2, P)."""
        pairs, pair_of_edge = residue_pairs(edge_index)
        keep = pair_of_edge >= 0
        e_pair = scatter(e[keep], pair_of_edge[keep], dim=0, dim_size=pairs.size(1), reduce="mean")
        f = self.line_in(torch.cat([e_pair, h[pairs[0]] + h[pairs[1]]], -1))
        mid = midpoints(pos, pairs)  # line-graph coordinates
        line_index = knn_line_graph(mid, self.line_k)
        if self.architecture == "egnn":
            for conv in self.line_convs:
                f, mid = conv(f, mid, line_index)
        else:
            dist = (mid[line_index[0]] - mid[line_index[1]]).norm(dim=-1, keepdim=True)
            for conv in self.line_convs:
                f, mid = conv(f, mid, line_index, dist)
        return self.final_head(f), pairs
