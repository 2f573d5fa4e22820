"""The SynTReN-style simulator (pgml.grn.simulate)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pgml.grn.simulate import simulate_network, write_simulation


def test_simulation_is_deterministic_acyclic_and_consistent(tmp_path):
    a = simulate_network(60, 30, seed=3)
    b = simulate_network(60, 30, seed=3)
    assert a.expression.equals(b.expression) and a.edges.equals(b.edges)
    assert a.expression.shape == (60, 30) and np.isfinite(a.expression.to_numpy()).all()
    order = {g: i for i, g in enumerate(a.expression.index)}
    assert all(order[r] < order[t] for r, t in zip(a.edges.regulator, a.edges.target, strict=True))
    assert set(a.edges.regulator) == set(a.regulators)
    assert set(a.edges.kinetics) <= {"michaelis-menten", "hill-2", "hill-3", "hill-4"}
    paths = write_simulation(a, tmp_path)
    assert all(p.exists() for p in paths.values())


def test_activators_and_repressors_move_their_targets():
    sim = simulate_network(80, 200, noise=0.02, bio_noise=0.02, seed=1)
    x = sim.expression
    single = sim.edges[sim.edges.target.map(sim.edges.target.value_counts()) == 1]
    signs = [np.sign(np.corrcoef(x.loc[r], x.loc[t])[0, 1]) for r, t in zip(single.regulator, single.target,
                                                                              strict=True)]
    expected = np.where(single.sign == "+", 1, -1)
    assert np.mean(np.array(signs) == expected) > 0.9


def test_seed_network_topology(tmp_path):
    seed = tmp_path / "seed.tsv"
    rng = np.random.default_rng(0)
    lines = ["regulator\ttarget"] + [f"n{int(a)}\tn{int(b)}" for a, b in rng.integers(0, 40, (120, 2)) if a != b]
    seed.write_text("\n".join(lines) + "\n")
    sim = simulate_network(25, 20, topology="seed", seed_network=seed, seed=0)
    assert sim.expression.shape == (25, 20)
    seed_pairs = {tuple(line.split("\t")) for line in lines[1:]}
    assert all((r, t) in seed_pairs for r, t in zip(sim.edges.regulator, sim.edges.target, strict=True))


def test_regulator_list_can_hold_regulators_without_targets():
    plain = simulate_network(60, 20, seed=3)
    full = simulate_network(60, 20, seed=3, regulators_without_targets=True)
    pd.testing.assert_frame_equal(plain.expression, full.expression)
    pd.testing.assert_frame_equal(plain.edges, full.edges)
    assert set(plain.regulators) < set(full.regulators)
    idle = set(full.regulators) - set(full.edges.regulator)
    assert len(idle) == int(np.ceil(0.5 * len(plain.regulators)))
    assert not set(plain.regulators) - set(plain.edges.regulator)


def test_init_group_size_sets_the_group_number():
    from pgml.grn.params import GnetParams

    assert GnetParams(init_group_num=8).group_num(1000) == 8
    assert GnetParams(init_group_size=25).group_num(1000) == 40
    assert GnetParams(init_group_size=25).group_num(30) == 2
