"""Train / validation / test splits shared by the chains.

Three ways to split entries (structures, proteins...), each returning ``{id: split}`` with split in
:data:`SPLITS`:

* :func:`random_split`: a seeded permutation of the sorted ids, sizes from :func:`split_sizes`;
* :func:`list_split`: a paper's published split, read from a ``id split`` list file;
* :func:`identity_split`: MMseqs2 clusters of the chain sequences, homologous entries kept on one
  side (returns a :class:`SplitResult` with the groups and clusters as well).

:func:`count_train_homologues` reports how many val and test entries of any split have a chain in a
training cluster. :func:`write_split_table` and :func:`read_split_table` store a split as TSV.
"""

from pgml.split.assign import SPLITS, assign_groups, check_fractions, random_split, split_counts, split_sizes
from pgml.split.identity import (
    MIN_CLUSTER_LENGTH,
    HomologueReport,
    SplitResult,
    cluster_chains,
    count_train_homologues,
    find_mmseqs,
    group_entries,
    identity_split,
    mmseqs_cluster,
    split_by_clusters,
)
from pgml.split.listfile import SPLIT_ALIASES, list_split, read_split_list
from pgml.split.table import read_split_table, write_split_table

__all__ = [
    "MIN_CLUSTER_LENGTH",
    "SPLITS",
    "SPLIT_ALIASES",
    "HomologueReport",
    "SplitResult",
    "assign_groups",
    "check_fractions",
    "cluster_chains",
    "count_train_homologues",
    "find_mmseqs",
    "group_entries",
    "identity_split",
    "list_split",
    "mmseqs_cluster",
    "random_split",
    "read_split_list",
    "read_split_table",
    "split_by_clusters",
    "split_counts",
    "split_sizes",
    "write_split_table",
]
