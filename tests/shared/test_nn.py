"""Tests for the shared layers in pgml.nn: equations by hand, rotation/translation behaviour."""

from __future__ import annotations

import torch
from helpers import check_rigid_motion
from torch_geometric.utils import softmax

from pgml.nn import AttentionNodeModel, EdgeModel, EGNNConv, MetaBlock, MPNNConv


def _chain_graph(n: int, seed: int, edge_dim: int = 5) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Positions (n, 3), a chain's edge index in both directions plus two ring closures, edge features."""
    g = torch.Generator().manual_seed(seed)
    src = torch.arange(n - 1)
    pairs = torch.cat([torch.stack([src, src + 1]), torch.tensor([[0, 2], [n // 2, n - 1]]).T], dim=1)
    edge_index = torch.cat([pairs, pairs.flip(0)], dim=1)
    pos = torch.cumsum(torch.randn(n, 3, generator=g, dtype=torch.float64), dim=0)
    edge_attr = torch.randn(edge_index.size(1), edge_dim, generator=g, dtype=torch.float64)
    return pos, edge_index, edge_attr


def test_egnn_is_equivariant_in_coordinates_and_invariant_in_features() -> None:
    torch.manual_seed(0)
    conv = EGNNConv(8, 5).double()
    torch.nn.init.normal_(conv.phi_x[-1].weight, std=0.5)  # make the coordinate update matter
    pos, ei, ea = _chain_graph(10, 4)
    h = torch.randn(10, 8, dtype=torch.float64)
    check_rigid_motion(lambda p: conv(h, p, ei, ea), pos, seed=2, equivariant_outputs=(1,))
    _, moved = conv(h, pos, ei, ea)
    assert not torch.allclose(moved, pos)  # coordinates did move


def test_egnn_without_coordinate_update_is_invariant() -> None:
    torch.manual_seed(0)
    conv = EGNNConv(8, 5, update_coords=False).double()
    pos, ei, ea = _chain_graph(9, 1)
    h = torch.randn(9, 8, dtype=torch.float64)
    check_rigid_motion(lambda p: conv(h, p, ei, ea)[0], pos, seed=3)
    torch.testing.assert_close(conv(h, pos, ei, ea)[1], pos)


def test_egnn_message_matches_equation_by_hand() -> None:
    """Two atoms: m_ij = phi_e([h_i, h_j, |x_i - x_j|^2, a_ij]); x_i' = x_i + (x_i - x_j) phi_x(m_ij)."""
    torch.manual_seed(1)
    conv = EGNNConv(4, 2).double()
    torch.nn.init.normal_(conv.phi_x[-1].weight, std=0.5)
    h = torch.randn(2, 4, dtype=torch.float64)
    x = torch.tensor([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0]], dtype=torch.float64)
    ei = torch.tensor([[1, 0], [0, 1]])
    ea = torch.tensor([[0.3, 0.7], [0.3, 0.7]], dtype=torch.float64)
    h_new, x_new = conv(h, x, ei, ea)
    m_01 = conv.phi_e(torch.cat([h[0], h[1], torch.tensor([9.0], dtype=torch.float64), ea[0]]))
    torch.testing.assert_close(h_new[0], h[0] + conv.phi_h(torch.cat([h[0], m_01])))
    torch.testing.assert_close(x_new[0], x[0] + (x[0] - x[1]) * conv.phi_x(m_01))


def test_mpnn_message_matches_equation_by_hand() -> None:
    """Two atoms: h_i' = Theta h_i + sum_j phi_m([h_i, h_j, e_ij]) (eqs. 1-2); mean equals sum here."""
    torch.manual_seed(3)
    h = torch.randn(2, 4, dtype=torch.float64)
    ei = torch.tensor([[1, 0], [0, 1]])  # 1 -> 0 and 0 -> 1
    ea = torch.tensor([[0.3, 0.7], [0.1, -0.4]], dtype=torch.float64)
    for aggr in ("add", "mean"):
        conv = MPNNConv(4, 2, aggr=aggr).double()
        out = conv(h, ei, ea)
        m_01 = conv.phi_m(torch.cat([h[0], h[1], ea[0]]))  # message into 0 from 1
        m_10 = conv.phi_m(torch.cat([h[1], h[0], ea[1]]))
        torch.testing.assert_close(out[0], conv.root(h[0]) + m_01)
        torch.testing.assert_close(out[1], conv.root(h[1]) + m_10)
    isolated = MPNNConv(4, 2).double()  # an atom without bonds keeps only the root term
    torch.testing.assert_close(isolated(h, ei[:, :1], ea[:1])[1], isolated.root(h[1]))


def test_mpnn_keeps_one_vector_per_edge() -> None:
    """No hidden x hidden tensor per edge (NNConv's): parameters and messages scale with hidden, not E."""
    conv = MPNNConv(16, 5)
    n_params = sum(p.numel() for p in conv.parameters())
    assert n_params == (2 * 16 + 5) * 16 + 16 + 16 * 16 + 16 + 16 * 16 + 16
    _, ei, ea = _chain_graph(30, 0)
    msgs = conv.message(torch.randn(ei.size(1), 16), torch.randn(ei.size(1), 16), ea.float())
    assert msgs.shape == (ei.size(1), 16)


def test_meta_block_updates_edges_from_nodes_and_attention_sums_to_one() -> None:
    torch.manual_seed(0)
    layer = MetaBlock(8, 8, heads=2)
    _, edge_index, _ = _chain_graph(10, 5)
    h = torch.randn(10, 8)
    e = torch.randn(edge_index.size(1), 8)
    _, e1 = layer(h, edge_index, e)
    assert e1.shape == e.shape and not torch.allclose(e1, e)
    h2 = h.clone()
    h2[0] += 1.0  # changing atom 0 changes exactly the edges that touch it
    _, e2 = layer(h2, edge_index, e)
    touches = (edge_index == 0).any(dim=0)
    assert not torch.allclose(e2[touches], e1[touches])
    torch.testing.assert_close(e2[~touches], e1[~touches])
    node = layer.node_model
    row, col = edge_index
    e_score = node.lin_edge(e1)[:, :8]
    q, k, _ = node.lin_qkv(h).chunk(3, dim=-1)
    score = (torch.nn.functional.leaky_relu((q[col] + k[row] + e_score).view(-1, 2, 4), 0.2) * node.att).sum(-1)
    alpha = softmax(score, col, num_nodes=10)
    torch.testing.assert_close(torch.zeros(10, 2).index_add_(0, col, alpha), torch.ones(10, 2))


def test_edge_model_equals_mlp_on_concatenation() -> None:
    """W_s h_i + W_d h_j + W_e e_ij is the first layer of the MLP on [h_i, h_j, e_ij]."""
    torch.manual_seed(1)
    model = EdgeModel(6, 4, 5).double()
    _, edge_index, _ = _chain_graph(7, 3)
    h = torch.randn(7, 6, dtype=torch.float64)
    e = torch.randn(edge_index.size(1), 4, dtype=torch.float64)
    src, dst = edge_index
    first = torch.nn.Linear(16, 5).double()
    with torch.no_grad():
        w_src, w_dst = model.lin_nodes.weight.chunk(2, dim=0)
        first.weight.copy_(torch.cat([w_src, w_dst, model.lin_edge.weight], 1))
        first.bias.copy_(model.lin_edge.bias)
    expected = model.norm(e + model.lin_out(torch.nn.functional.silu(first(torch.cat([h[src], h[dst], e], 1)))))
    torch.testing.assert_close(model(h, edge_index, e), expected)


def test_meta_layers_are_invariant_to_rigid_motions_of_distance_features() -> None:
    """Edge features built from distances make a Meta block invariant to rotating the structure."""
    torch.manual_seed(2)
    layer = MetaBlock(8, 4, heads=2).double().eval()
    pos, edge_index, _ = _chain_graph(12, 6)
    h = torch.randn(12, 8, dtype=torch.float64)
    proj = torch.randn(1, 4, dtype=torch.float64)

    def run(p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        d = (p[edge_index[0]] - p[edge_index[1]]).norm(dim=-1, keepdim=True)
        return layer(h, edge_index, d @ proj)

    check_rigid_motion(run, pos, seed=4)


def test_reset_parameters_reinitialises_every_layer() -> None:
    for layer in (EGNNConv(8, 3), EdgeModel(8, 4, 4), AttentionNodeModel(8, 4, heads=2), MetaBlock(8, 4, heads=2),
                  MPNNConv(8, 3)):
        before = [p.detach().clone() for p in layer.parameters()]
        torch.manual_seed(123)
        layer.reset_parameters()
        changed = sum(not torch.equal(a, p) for a, p in zip(before, layer.parameters(), strict=True))
        assert changed >= len(before) // 2, type(layer).__name__
