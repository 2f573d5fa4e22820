"""Non-covalent contact edges of the bfactor atom graph (a switch beyond [metagnn]).

The paper's atom graph has covalent bonds only, so with three layers an atom sees three bonds away and
packing enters only through node features. ``GraphConfig.contact_radius`` adds an edge between every
two heavy atoms within that distance that are not bonded. Needs only the graph's ``pos`` (no gemmi), so
contact edges can also be added to prebuilt graph files on a training machine.
"""

from __future__ import annotations

import numpy as np
import torch
from torch_geometric.data import Data

from pgml.structure.neighbors import radius_pairs


def add_contact_edges(data: Data, radius: float) -> Data:
    """Add both directions of every non-bonded heavy-atom pair within ``radius`` Å (in place).

    Edge features: bond-order one-hot all zero (no covalent bond) and the distance in Å in the last
    column, like a bond's length. Pairs already joined by a covalent edge are left as they are.
    """
    if radius <= 0:
        return data
    pos = data.pos.numpy().astype(np.float64)
    pairs = radius_pairs(pos, radius)
    n = len(pos)
    ei = data.edge_index.numpy()
    pairs = pairs[~np.isin(pairs[:, 0] * n + pairs[:, 1], ei[0].astype(np.int64) * n + ei[1])]
    attr = np.zeros((len(pairs), data.edge_attr.size(1)), dtype=np.float32)
    attr[:, -1] = np.linalg.norm(pos[pairs[:, 0]] - pos[pairs[:, 1]], axis=1)
    both = np.concatenate([pairs, pairs[:, ::-1]]).T
    data.edge_index = torch.cat([data.edge_index, torch.as_tensor(both.copy(), dtype=torch.long)], dim=1)
    data.edge_attr = torch.cat([data.edge_attr, torch.as_tensor(np.concatenate([attr, attr]))], dim=0)
    return data
