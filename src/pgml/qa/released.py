"""The ``released`` variant: EnQA exactly as its authors' published weights expect [enqa].

The chapter's network (:mod:`pgml.qa.model`) is what section 5.2 describes; the networks behind the
published weights (BioinfoMachineLearning/EnQA, ``network/resEGNN.py`` at the pinned commit) differ in
channel layout, layer order and update details, so importing their weights needs their layout. This
module rebuilds it layer by layer (read from the published code, written anew here):

- node features: a 1×1 Conv1d to C/2 channels and ELU; tiled along columns then rows, concatenated
  with the pair features, a 1×1 Conv2d to C, instance norm, ELU;
- ``base``: DeepAccNet's dilated bottleneck ResNet (:class:`DilatedResNet2d`: a 1×1 projection, then
  5 cycles of dilations 1, 2, 4, 8, each block norm-ELU-1×1, norm-ELU-3×3 dilated, norm-ELU-1×1, plus
  the identity), ELU; ``bin``: the same without norms, one cycle plus two undilated blocks, ELU; a 1×1
  Conv2d to the 9 error bins, made symmetric ((z + zᵀ)/2);
- initial lDDT (eq. 5.3): for residue j, ``sum_i m_ij sum_k p_ijk s_k / sum_i m_ij`` with p the
  softmax over bins, s the bin credits (:data:`pgml.qa.params.ERROR_BIN_SCORES`) and m the given
  contact map without its diagonal (AlphaFold's contact probability);
- an EGNN (eqs. 5.4-5.7, [satorras2021] eqs. 3-6; :class:`ReleasedEGCL`) on the given residue edges,
  node input [ELU(Conv1d) features, initial lDDT], edge input [base ResNet output, symmetric bin
  logits] at each edge; messages are summed at ``edge_index[0]``, coordinates move by the mean;
  ``line_graph=False`` (EGNN_esto9, EGNN_covariance): four layers on the raw edge features;
  ``line_graph=True`` (EGNN_Full, EnQA-MSA): the edge features embedded to C, one residue layer, one
  edge-level layer on the directed edges placed at their midpoints, each joined to its 3 nearest
  other edges (edge feature: the midpoint distance), whose output is added to the edge features,
  and a last residue layer;
- the lDDT: ``initial + tanh(w·h + b)`` of the EGNN's last node features (no sigmoid, no clipping).

Own code rather than torch_geometric's layers: pyg ships no EGNN, and the released update (sum of
messages, mean of coordinate moves, aggregation at the first edge row) must be followed exactly.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch_geometric.nn import MessagePassing
from torch_geometric.nn.inits import reset
from torch_geometric.utils import scatter

from pgml.qa.params import ERROR_BIN_SCORES, N_ERROR_BINS, ReleasedMethod

#: instance-norm epsilon of the released network
NORM_EPS = 1e-6
#: dilation cycle of DeepAccNet's ResNet
DILATIONS = (1, 2, 4, 8)


class Bottleneck2d(nn.Module):
    """DeepAccNet's residual block: [norm] ELU 1×1 (C→C/2), [norm] ELU 3×3 dilated, [norm] ELU 1×1
    (C/2→C), plus the identity."""

    def __init__(self, channels: int, dilation: int, *, norm: bool) -> None:
        super().__init__()
        half = channels // 2
        self.norm1 = nn.InstanceNorm2d(channels, eps=NORM_EPS, affine=True) if norm else nn.Identity()
        self.conv1 = nn.Conv2d(channels, half, 1)
        self.norm2 = nn.InstanceNorm2d(half, eps=NORM_EPS, affine=True) if norm else nn.Identity()
        self.conv2 = nn.Conv2d(half, half, 3, dilation=dilation, padding=dilation)
        self.norm3 = nn.InstanceNorm2d(half, eps=NORM_EPS, affine=True) if norm else nn.Identity()
        self.conv3 = nn.Conv2d(half, channels, 1)

    def reset_parameters(self) -> None:
        for module in self.children():
            reset(module)

    def forward(self, x: Tensor) -> Tensor:
        y = self.conv1(F.elu(self.norm1(x)))
        y = self.conv2(F.elu(self.norm2(y)))
        y = self.conv3(F.elu(self.norm3(y)))
        return x + y


class DilatedResNet2d(nn.Module):
    """A 1×1 projection, ``cycles`` × :data:`DILATIONS` bottleneck blocks and ``extra`` undilated ones."""

    def __init__(self, channels: int, cycles: int, *, norm: bool, extra: int = 0) -> None:
        super().__init__()
        self.init_proj = nn.Conv2d(channels, channels, 1)
        self.blocks = nn.ModuleList(Bottleneck2d(channels, d, norm=norm) for _ in range(cycles) for d in DILATIONS)
        self.extra = nn.ModuleList(Bottleneck2d(channels, 1, norm=norm) for _ in range(extra))

    def reset_parameters(self) -> None:
        reset(self.init_proj)
        for block in (*self.blocks, *self.extra):
            block.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        x = self.init_proj(x)
        for block in (*self.blocks, *self.extra):
            x = block(x)
        return x


class ReleasedEGCL(MessagePassing):
    r"""The released E(n)-equivariant layer ([satorras2021] eqs. 3-6 with the published code's choices).

    .. math::
        m_{ij} &= \phi_e(h_i, h_j, \lVert x_i - x_j \rVert^2, a_{ij}) \\
        x_i' &= x_i + \tfrac{1}{|N(i)|} \sum_{j} (x_i - x_j)\, \phi_x(m_{ij}) \\
        h_i' &= h_i + \phi_h\big(h_i, \textstyle\sum_{j} m_{ij}\big)

    with ``i = edge_index[0]`` (messages gather at the first row, as in the published code) and
    SiLU activations; :math:`\phi_x` ends in a bias-free linear layer.
    """

    def __init__(self, channels: int, edge_dim: int) -> None:
        super().__init__(aggr="add", flow="target_to_source")
        self.channels = channels
        self.phi_e = nn.Sequential(nn.Linear(2 * channels + 1 + edge_dim, channels), nn.SiLU(),
                                   nn.Linear(channels, channels), nn.SiLU())
        self.phi_h = nn.Sequential(nn.Linear(2 * channels, channels), nn.SiLU(), nn.Linear(channels, channels))
        self.phi_x = nn.Sequential(nn.Linear(channels, channels), nn.SiLU(), nn.Linear(channels, 1, bias=False))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset(self.phi_e)
        reset(self.phi_h)
        reset(self.phi_x)
        nn.init.xavier_uniform_(self.phi_x[-1].weight, gain=1e-3)

    def forward(self, h: Tensor, pos: Tensor, edge_index: Tensor, edge_attr: Tensor) -> tuple[Tensor, Tensor]:
        rel = pos[edge_index[0]] - pos[edge_index[1]]
        m_ij = self.phi_e(torch.cat([h[edge_index[0]], h[edge_index[1]], (rel * rel).sum(-1, keepdim=True),
                                     edge_attr], -1))
        pos = pos + scatter(rel * self.phi_x(m_ij), edge_index[0], dim=0, dim_size=h.size(0), reduce="mean")
        m_i = self.propagate(edge_index, m=m_ij, size=(h.size(0), h.size(0)))
        return h + self.phi_h(torch.cat([h, m_i], -1)), pos

    def message(self, m: Tensor) -> Tensor:
        return m


class ReleasedEGNN(nn.Module):
    """Node embedding, EGNN layers (optionally interleaved with the edge-level layer) and a linear output."""

    def __init__(self, node_dim: int, edge_dim: int, channels: int, *, line_graph: bool, layers: int = 4,
                 line_k: int = 3) -> None:
        super().__init__()
        self.line_graph = line_graph
        self.line_k = line_k
        self.node_in = nn.Linear(node_dim, channels)
        self.edge_in = nn.Linear(edge_dim, channels) if line_graph else None
        width = channels if line_graph else edge_dim
        self.layers = nn.ModuleList(ReleasedEGCL(channels, width) for _ in range(2 if line_graph else layers))
        self.line_layers = nn.ModuleList([ReleasedEGCL(channels, 1)] if line_graph else [])
        self.node_out = nn.Linear(channels, 1)

    def reset_parameters(self) -> None:
        for module in (self.node_in, self.edge_in, self.node_out):
            if module is not None:
                reset(module)
        for layer in (*self.layers, *self.line_layers):
            layer.reset_parameters()

    def line_edges(self, pos: Tensor, edge_index: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(midpoints, edge index, midpoint distances) of the edge-level graph: each edge's ``line_k``
        nearest other edges (first row) joined to it (second row)."""
        mid = (pos[edge_index[0]] + pos[edge_index[1]]) / 2
        dist = torch.cdist(mid, mid)
        dist = dist.fill_diagonal_(dist.max().item())
        near = torch.topk(dist, self.line_k, dim=1, largest=False).indices
        index = torch.stack([near.flatten(), torch.arange(mid.size(0), device=pos.device).repeat_interleave(self.line_k)])
        return mid, index, (mid[index[0]] - mid[index[1]]).norm(dim=1, keepdim=True)

    def forward(self, h: Tensor, pos: Tensor, edge_index: Tensor, edge_attr: Tensor) -> tuple[Tensor, Tensor]:
        h = self.node_in(h)
        if not self.line_graph:
            for layer in self.layers:
                h, pos = layer(h, pos, edge_index, edge_attr)
            return self.node_out(h), pos
        e = self.edge_in(edge_attr)
        for layer, line_layer in zip(self.layers[:-1], self.line_layers, strict=True):
            h, pos = layer(h, pos, edge_index, e)
            mid, line_index, line_dist = self.line_edges(pos, edge_index)
            e = e + line_layer(e, mid, line_index, line_dist)[0]
        h, pos = self.layers[-1](h, pos, edge_index, e)
        return self.node_out(h), pos


class ReleasedEnQA(nn.Module):
    """The released network of one EnQA method (see the module docstring). ``forward(f1d (D1, R),
    f2d (D2, R, R), pos (R, 3), edge_index (2, E), cmap (R, R))`` returns ``(bin logits (9, R, R),
    updated positions (R, 3), lDDT (R,), initial lDDT (R,))``."""

    def __init__(self, method: ReleasedMethod, *, channels: int = 32, base_cycles: int = 5) -> None:
        super().__init__()
        half = channels // 2
        self.node_conv = nn.Conv1d(method.node_channels, half, 1)
        self.pair_in = nn.Conv2d(channels + method.pair_channels, channels, 1)
        self.pair_norm = nn.InstanceNorm2d(channels, eps=NORM_EPS, affine=True)
        self.base_resnet = DilatedResNet2d(channels, base_cycles, norm=True)
        self.bin_resnet = DilatedResNet2d(channels, 1, norm=False, extra=2)
        self.error_head = nn.Conv2d(channels, N_ERROR_BINS, 1)
        self.egnn = ReleasedEGNN(half + 1, channels + N_ERROR_BINS, channels, line_graph=method.line_graph)
        self.register_buffer("bin_scores", torch.tensor(ERROR_BIN_SCORES, dtype=torch.float32), persistent=False)

    def reset_parameters(self) -> None:
        for module in (self.node_conv, self.pair_in, self.pair_norm, self.error_head):
            reset(module)
        for module in (self.base_resnet, self.bin_resnet, self.egnn):
            module.reset_parameters()

    def initial_lddt(self, logits: Tensor, cmap: Tensor) -> Tensor:
        """Eq. 5.3 with the given contact map as weights, summed over the first residue index."""
        n = cmap.size(-1)
        mask = cmap * (1 - torch.eye(n, dtype=cmap.dtype, device=cmap.device))
        credit = (logits.softmax(0) * self.bin_scores.view(-1, 1, 1)).sum(0)
        return (credit * mask).sum(0) / mask.sum(0)

    def forward(self, f1d: Tensor, f2d: Tensor, pos: Tensor, edge_index: Tensor,
                cmap: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        n = f1d.size(-1)
        h1 = F.elu(self.node_conv(f1d.unsqueeze(0)))[0]  # (C/2, R)
        tiled = torch.cat([h1.unsqueeze(1).expand(-1, n, -1), h1.unsqueeze(2).expand(-1, -1, n)], 0)
        z = F.elu(self.pair_norm(self.pair_in(torch.cat([tiled, f2d], 0).unsqueeze(0))))
        base = F.elu(self.base_resnet(z))
        logits = self.error_head(F.elu(self.bin_resnet(base)))[0]
        logits = (logits + logits.transpose(1, 2)) / 2  # (9, R, R)
        initial = self.initial_lddt(logits, cmap)
        edge_attr = torch.cat([base[0], logits], 0)[:, edge_index[0], edge_index[1]].t()
        h, pos = self.egnn(torch.cat([h1.t(), initial.unsqueeze(1)], 1), pos, edge_index, edge_attr)
        return logits, pos, initial + torch.tanh(h.squeeze(-1)), initial
