"""Per-feature importance for chosen atoms with GNNExplainer (the appendix of [metagnn]; GNNExplainer [ying2019]).

GNNExplainer (Ying et al. 2019) learns a soft mask over the node features (``node_mask_type =
"attributes"``) that keeps the model's prediction for the chosen atom; the mask summed over the
graph's nodes ranks the input features (element, locant, neighbour count, residue type) by how much
the prediction depends on them. torch_geometric's ``Explainer`` does the optimisation; this module
adapts the ``forward(data)`` models to its ``forward(x, edge_index, **kwargs)`` convention, names the
features and writes a table and a bar plot.

    pgml bfactor explain --model CKPT --structure FILE --atoms A:45:CA A:12:CB --output-dir DIR
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import torch
from torch import nn
from torch_geometric.data import Data

from pgml.errors import InputError
from pgml.fileio import atomic_dir
from pgml.plots import figure, save_figure
from pgml.tables import write_tsv

log = logging.getLogger(__name__)


class DataAdapter(nn.Module):
    """Calls a ``forward(data)`` model with torch_geometric.explain's ``(x, edge_index, **kwargs)``."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor,
                pos: torch.Tensor) -> torch.Tensor:
        batch = torch.zeros(x.size(0), dtype=torch.long, device=x.device)
        return self.model(Data(x=x, edge_index=edge_index, edge_attr=edge_attr, pos=pos, batch=batch))


def find_atom(table: pd.DataFrame, spec: str, path: Path) -> int:
    """Node index of ``CHAIN:RESSEQ[INSCODE]:ATOM`` (e.g. ``A:45:CA``, ``B:100A:CB``)."""
    try:
        chain, residue, atom = spec.split(":")
    except ValueError:
        raise InputError(f"atom {spec!r} is not CHAIN:RESSEQ:ATOM (e.g. A:45:CA)") from None
    digits = residue.rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    ins = residue[len(digits):]
    if not digits.lstrip("-").isdigit():
        raise InputError(f"atom {spec!r}: residue number {residue!r} is not a number with an optional "
                         "insertion code (e.g. A:45:CA, B:100A:CB)")
    hit = table.index[(table["chain"] == chain) & (table["res_seq"] == int(digits))
                      & (table["ins_code"].fillna("") == ins) & (table["atom_name"] == atom)]
    if len(hit) != 1:
        raise InputError(f"atom {spec} not found among the graph's heavy atoms", path=path)
    return int(hit[0])


def explain_atoms(model_path: str | Path, structure_path: str | Path, atoms: list[str],
                  output_dir: str | Path, epochs: int = 200, seed: int = 0) -> pd.DataFrame:
    """Feature importance for each chosen atom; writes feature_importance.tsv and .png."""
    from torch_geometric.explain import Explainer, GNNExplainer

    from pgml.bfactor.features import feature_names
    from pgml.bfactor.graphs import structure_to_graph
    from pgml.bfactor.predict import atom_table
    from pgml.bfactor.training import load_model
    from pgml.structure.io import read_structure
    from pgml.train.seed import seed_everything

    if epochs < 1:
        raise InputError(f"epochs must be at least 1, got {epochs}")
    seed_everything(seed)
    model, meta = load_model(model_path)
    structure = read_structure(structure_path)
    data = structure_to_graph(structure, require_target=False, config=meta["graph_config"])
    with torch.no_grad():
        prediction = model(data).numpy()
    table = atom_table(structure, data, prediction)
    explainer = Explainer(
        model=DataAdapter(model).eval(),
        algorithm=GNNExplainer(epochs=epochs),
        explanation_type="model",
        node_mask_type="attributes",
        edge_mask_type=None,
        model_config={"mode": "regression", "task_level": "node", "return_type": "raw"},
    )
    names = feature_names(meta["graph_config"])
    rows = []
    for spec in atoms:
        index = find_atom(table, spec, Path(structure_path))
        explanation = explainer(data.x, data.edge_index, index=index, edge_attr=data.edge_attr, pos=data.pos)
        importance = explanation.node_mask.detach().sum(dim=0).numpy()
        importance = importance / importance.sum() if importance.sum() > 0 else importance
        rows += [{"atom": spec, "predicted": float(prediction[index]), "feature": f, "importance": float(v)}
                 for f, v in zip(names, importance, strict=True)]
    result = pd.DataFrame(rows)
    with atomic_dir(output_dir) as tmp:
        write_tsv(result, tmp / "feature_importance.tsv", float_format="%.5f")
        mean = result.groupby("feature")["importance"].mean().sort_values(ascending=False).head(15)
        fig, ax = figure(figsize=(6, 4))
        ax.barh(mean.index[::-1], mean.to_numpy()[::-1])
        ax.set_xlabel(f"GNNExplainer feature importance (mean over {len(atoms)} atom(s))")
        fig.tight_layout()
        save_figure(fig, tmp / "feature_importance.png")
    log.info("top features: %s", ", ".join(f"{k} {v:.3f}" for k, v in mean.head(5).items()))
    return result

