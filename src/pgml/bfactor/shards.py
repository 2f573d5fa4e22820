"""Reading graph files written by ``pgml bfactor build-graphs``.

Kept apart from :mod:`pgml.bfactor.graphs` (which builds graphs and needs gemmi) so that training and
the graph-only evaluation run on a machine with torch and torch_geometric but without gemmi, from
prebuilt graph shards.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch_geometric.data import Data

from pgml.bfactor.params import GraphConfig
from pgml.errors import InputError


def load_graphs(paths: Sequence[str | Path] | str | Path) -> tuple[list[Data], dict[str, Any]]:
    """Concatenate the graphs of several ``build_graphs`` files; their target/radius/dims must agree."""
    if isinstance(paths, str | Path):
        paths = [paths]
    graphs: list[Data] = []
    meta: dict[str, Any] | None = None
    for p in paths:
        p = Path(p)
        try:
            payload = torch.load(p, weights_only=False, map_location="cpu")
        except FileNotFoundError:
            raise InputError("graph file not found", path=p) from None
        except IsADirectoryError:
            raise InputError("is a directory, not a graph file from build-graphs", path=p) from None
        except Exception as exc:  # noqa: BLE001 - torch raises many types for a corrupt file
            raise InputError(f"not a graph file from build-graphs ({type(exc).__name__}: {exc})", path=p) from None
        if not isinstance(payload, dict) or "graphs" not in payload:
            raise InputError("not a graph file from build-graphs (no 'graphs' key)", path=p)
        if not isinstance(payload["graphs"], list) or not all(isinstance(g, Data) for g in payload["graphs"]):
            raise InputError("not a graph file from build-graphs ('graphs' is not a list of graphs)", path=p)
        this = {k: payload.get(k) for k in ("target", "radius", "node_feature_dim", "edge_feature_dim")}
        this["features"] = payload.get("features") or GraphConfig().features  # files from before the switches
        if meta is None:
            meta = this
        elif this != meta:
            raise InputError(f"graph settings {this} differ from those of the first file {meta}", path=p)
        graphs.extend(payload["graphs"])
    if meta is None:
        raise InputError("no graph files given")
    meta = dict(meta, n_files=len(paths), n_graphs=len(graphs))
    return graphs, meta
