"""Feature-permutation importance of a trained EnQA (figure 5.5 of [enqa]).

For each feature group, the group's values are permuted across residues within every model (node
features: rows of ``x``; pair features: the same permutation applied to rows and columns of the
group's channels) and the increase of the per-residue MSE of the predicted lDDT over the unpermuted
MSE is the group's importance (mean over ``repeats`` seeded permutations). Geometry the EGNN reads
(positions, edges, spherical harmonics) is left as it is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from pgml.qa.params import N_ERROR_BINS


def feature_groups(n_node: int, n_pair: int) -> dict[str, tuple[str, slice]]:
    """Group name -> ("x" | "pair", channel slice), from the layout of :mod:`pgml.qa.samples`."""
    n_ref = (n_node - 23) // 2
    return {"residue type": ("x", slice(0, 20)), "relative SASA": ("x", slice(20, 21)),
            "Voronoi volume": ("x", slice(21, 22)), "buriedness": ("x", slice(22, 23)),
            "lDDT to references": ("x", slice(23, 23 + n_ref)), "reference pLDDT": ("x", slice(23 + n_ref, n_node)),
            "distance-error features": ("pair", slice(0, N_ERROR_BINS * n_ref)),
            "contact probability": ("pair", slice(n_pair - 2, n_pair - 1)),
            "model distance": ("pair", slice(n_pair - 1, n_pair))}


def _mse(module, samples: list, change=None) -> float:  # noqa: ANN001
    errors = []
    with torch.no_grad():
        for s in samples:
            x, pair = s.x, s.pair
            if change is not None:
                x, pair = change(s, x.clone(), pair.clone())
            pred = module.model(x, pair, s.pos, s.edge_index, s.edge_attr, s.sh2d)[0]
            known = ~torch.isnan(s.y)
            errors.append(((pred[known] - s.y[known]) ** 2).numpy())
    return float(np.concatenate(errors).mean())


def permutation_importance(module, samples: list, repeats: int = 3, seed: int = 0) -> pd.DataFrame:  # noqa: ANN001
    """One row per feature group: ``importance`` = permuted MSE - baseline MSE (see the module docstring)."""
    module = module.cpu().eval()
    base = _mse(module, samples)
    groups = feature_groups(samples[0].x.size(1), samples[0].pair.size(0))
    rows = []
    for name, (where, channels) in groups.items():
        scores = []
        for r in range(repeats):
            gen = torch.Generator().manual_seed(seed + r)

            def change(s, x, pair, where=where, channels=channels, gen=gen):  # noqa: ANN001, ANN202
                perm = torch.randperm(x.size(0), generator=gen)
                if where == "x":
                    x[:, channels] = x[perm][:, channels]
                else:
                    pair[channels] = pair[channels][:, perm][:, :, perm]
                return x, pair

            scores.append(_mse(module, samples, change) - base)
        rows.append({"feature": name, "importance": float(np.mean(scores)), "sd": float(np.std(scores)),
                     "baseline_mse": base})
    return pd.DataFrame(rows).sort_values("importance", ascending=False, ignore_index=True)


def plot_importance(table: pd.DataFrame, path) -> None:  # noqa: ANN001
    from pgml.plots import figure, save_figure

    fig, ax = figure(figsize=(6, 4))
    ax.barh(table["feature"][::-1], table["importance"][::-1], xerr=table["sd"][::-1], color="tab:blue")
    ax.set_xlabel("increase of per-residue MSE when permuted")
    fig.tight_layout()
    save_figure(fig, path)
