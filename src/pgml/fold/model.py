"""The IEConv network of fig. 5 of [ieconv]: embedding -> levels of ResNet bottleneck blocks with
IEConv -> pooling after each level -> global average -> MLP -> class logits.

A bottleneck block is BN -> leaky ReLU -> dropout -> 1x1 (C -> C/4), BN -> leaky ReLU -> IEConv
(C/4 -> C/4), BN -> leaky ReLU -> dropout -> 1x1 (C/4 -> C), plus the identity (batch norm and leaky
ReLU before each convolution; dropout 0.2 before the 1x1 convolutions, appendix D). Between levels the
features are average-pooled into the next level's nodes (the rows of P, sec. 3.2) and a 1x1
convolution changes the width. During training, before every IEConv (appendix D), whole nodes'
features are dropped (atom dropout at the atom level; at pooled levels the pooled nodes) and Gaussian
noise (sd ``feature_noise``, paper 0.025) is added to the features (:class:`NodePerturbation`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.utils import scatter

from pgml.fold.layers import make_convolution
from pgml.fold.params import ModelConfig


class NodePerturbation(nn.Module):
    """Appendix D's regularisation before a convolution (training only): each node's features are
    zeroed with probability ``drop`` (atom dropout) and Gaussian noise of sd ``noise`` is added."""

    def __init__(self, drop: float, noise: float) -> None:
        super().__init__()
        self.drop, self.noise = drop, noise

    def forward(self, x: Tensor) -> Tensor:
        if not self.training:
            return x
        if self.drop > 0:
            x = x * (torch.rand(x.size(0), 1, device=x.device) >= self.drop).to(x.dtype)
        if self.noise > 0:
            x = x + self.noise * torch.randn_like(x)
        return x


class Bottleneck(nn.Module):
    def __init__(self, channels: int, config: ModelConfig) -> None:
        super().__init__()
        mid = max(channels // 4, 4)
        self.bn1, self.bn2, self.bn3 = nn.BatchNorm1d(channels), nn.BatchNorm1d(mid), nn.BatchNorm1d(mid)
        self.down = nn.Linear(channels, mid)
        self.perturb = NodePerturbation(config.atom_dropout, config.feature_noise)
        self.conv = make_convolution(config.convolution, mid, mid, basis=config.basis, hidden=config.kernel_hidden)
        self.up = nn.Linear(mid, channels)
        self.act = nn.LeakyReLU(0.2)
        self.drop = nn.Dropout(config.dropout_conv)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        h = self.down(self.drop(self.act(self.bn1(x))))
        h = self.conv(self.perturb(self.act(self.bn2(h))), edge_index, edge_attr)
        h = self.up(self.drop(self.act(self.bn3(h))))
        return x + h


class IEConvNet(nn.Module):
    """Fig. 5; ``forward(batch)`` takes a dict from :func:`pgml.fold.data.collate` and returns logits."""

    def __init__(self, n_classes: int, config: ModelConfig, n_types: int | None = None) -> None:
        super().__init__()
        self.config = config
        if n_types is None:  # the vocabularies of pgml.fold.graph (imported here: it needs gemmi)
            from pgml.fold.graph import atom_type_vocabulary
            from pgml.structure.residues import STANDARD_RESIDUES

            n_types = len(atom_type_vocabulary()) if config.representation == "atom" else len(STANDARD_RESIDUES) + 1
        self.embed = nn.Embedding(n_types, config.embedding)
        self.inp = nn.Linear(config.embedding + 3, config.widths[0])
        self.levels = nn.ModuleList(
            nn.ModuleList(Bottleneck(w, config) for _ in range(config.blocks)) for w in config.widths)
        self.transitions = nn.ModuleList(
            nn.Sequential(nn.BatchNorm1d(a), nn.LeakyReLU(0.2), nn.Linear(a, b))
            for a, b in zip(config.widths[:-1], config.widths[1:], strict=True))
        self.head = nn.Sequential(nn.BatchNorm1d(config.widths[-1]), nn.LeakyReLU(0.2),
                                  nn.Linear(config.widths[-1], config.mlp_hidden), nn.LeakyReLU(0.2),
                                  nn.Dropout(config.dropout_mlp), nn.Linear(config.mlp_hidden, n_classes))

    def reset_parameters(self) -> None:
        for m in self.modules():
            if m is not self and hasattr(m, "reset_parameters"):
                m.reset_parameters()

    def embed_graphs(self, batch: dict[str, Tensor]) -> Tensor:
        """The protein embedding: the last level's features averaged over each protein (fig. 5's global
        average pooling), the input of the classifier MLP; (proteins, widths[-1])."""
        x = self.inp(torch.cat([self.embed(batch["x_type"]), batch["x_feat"]], dim=1))
        n_levels = len(self.levels)
        for k, blocks in enumerate(self.levels):
            for block in blocks:
                x = block(x, batch[f"edge_index_{k}"], batch[f"edge_attr_{k}"])
            if k + 1 < n_levels:
                x = scatter(x, batch[f"assign_{k}"], dim=0, dim_size=int(batch[f"n_{k + 1}"]), reduce="mean")
                x = self.transitions[k](x)
        n_graphs = int(batch["batch"].max()) + 1
        return scatter(x, batch["batch"], dim=0, dim_size=n_graphs, reduce="mean")

    def classify(self, x: Tensor) -> Tensor:
        """The MLP on protein embeddings -> class logits."""
        if x.size(0) == 1 and self.training:  # batch norm needs two rows in training
            return self.head[2:](self.head[1](x))
        return self.head(x)

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        return self.classify(self.embed_graphs(batch))
