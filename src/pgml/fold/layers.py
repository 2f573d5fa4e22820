"""The intrinsic-extrinsic convolution of [ieconv] (eq. 1) and its table-2 variants.

Eq. 1 sums, for every node x, the neighbour features h(y) weighted by a kernel K(tau_e, tau_i1,
tau_i2) that one MLP computes per edge. A full kernel (C_in x C_out per edge) does not fit for large
proteins, so the MLP outputs a small basis k(e) in R^B and the layer computes

    h'(x) = W [ (1 / |N(x)|) sum_y  h(y) (x) k(x, y) ],        W: R^(C_in B) -> R^(C_out),

i.e. the kernel is K = W (I (x) k), a rank-B factorisation. Messages are formed and scatter-added one
chunk of edges at a time (autograd keeps only the E x (C_in + B) inputs, never E x C_in x B), so a
10,000-atom protein fits on a CPU. Averaging over the neighbourhood (rather than the plain sum of
eq. 1) keeps activations comparable across radii of 3 to 16 Å; it is a departure stated in the README.

Kernel inputs per variant (edge_attr columns: tau_e, tau_i1, tau_i2, offset/r): ``ours`` all three
distances; ``exconv`` tau_e; ``inconv_c`` tau_i1; ``inconv_h`` tau_i2; ``inconv_ch`` tau_i1, tau_i2;
``ours3d_ch`` the 3D offset plus tau_i1, tau_i2 (not rotation invariant, as in the paper).
``gcnn`` is not an IEConv: table 2 compares with the GCN of Kipf & Welling [kipf2017],
h' = W sum_j (d_i d_j)^(-1/2) h_j over the neighbours and the node itself (A + I, degrees of A + I),
which :class:`KipfWellingGCN` takes from torch_geometric's ``GCNConv``; :func:`make_convolution` picks
the layer for a table-2 variant.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import GCNConv, MessagePassing

KERNEL_INPUTS: dict[str, tuple[int, ...]] = {
    "ours": (0, 1, 2), "exconv": (0,), "inconv_c": (1,), "inconv_h": (2,), "inconv_ch": (1, 2),
    "ours3d_ch": (3, 4, 5, 1, 2),
}
#: edges per message chunk
EDGE_CHUNK = 65_536


class IEConv(MessagePassing):
    """Eq. 1 with a rank-``basis`` kernel (see the module docstring)."""

    def __init__(self, in_channels: int, out_channels: int, *, basis: int = 8, hidden: int = 16,
                 variant: str = "ours", edge_chunk: int = EDGE_CHUNK) -> None:
        super().__init__(aggr="add")
        if variant not in KERNEL_INPUTS:
            raise ValueError(f"variant must be one of {tuple(KERNEL_INPUTS)}, got {variant!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.variant = variant
        self.inputs = KERNEL_INPUTS[variant]
        self.basis = basis
        self.edge_chunk = edge_chunk
        self.kernel = nn.Sequential(nn.Linear(len(self.inputs), hidden), nn.LeakyReLU(0.2),
                                    nn.Linear(hidden, self.basis))
        self.lin = nn.Linear(in_channels * self.basis, out_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        for m in self.kernel:
            if isinstance(m, nn.Linear):
                m.reset_parameters()
        self.lin.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        n = x.size(0)
        k = self.kernel(edge_attr[:, list(self.inputs)])
        agg = x.new_zeros(n, self.in_channels * self.basis)
        for s in range(0, edge_index.size(1), self.edge_chunk):
            sl = slice(s, s + self.edge_chunk)
            agg = agg + self.propagate(edge_index[:, sl], x=x, kernel=k[sl], size=(n, n))
        deg = torch.bincount(edge_index[1], minlength=n).clamp(min=1).to(x.dtype)
        return self.lin(agg / deg[:, None])

    def message(self, x_j: Tensor, kernel: Tensor) -> Tensor:
        return (x_j.unsqueeze(-1) * kernel.unsqueeze(1)).flatten(1)


class KipfWellingGCN(GCNConv):
    """GCN layer of [kipf2017] (eq. 2 there): symmetric normalisation of A + I, then a linear map. Self loops
    already in ``edge_index`` are kept once (torch_geometric's ``add_remaining_self_loops``). Takes and
    ignores ``edge_attr`` so that it stands in for :class:`IEConv` (table 2's ``gcnn`` row)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(in_channels, out_channels, add_self_loops=True, normalize=True)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None) -> Tensor:  # noqa: ARG002
        return super().forward(x, edge_index)


def make_convolution(variant: str, in_channels: int, out_channels: int, *, basis: int = 8,
                     hidden: int = 16) -> nn.Module:
    """The convolution of a table-2 variant: :class:`KipfWellingGCN` for ``gcnn``, else :class:`IEConv`."""
    if variant == "gcnn":
        return KipfWellingGCN(in_channels, out_channels)
    return IEConv(in_channels, out_channels, basis=basis, hidden=hidden, variant=variant)
