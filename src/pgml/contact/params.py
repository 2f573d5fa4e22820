"""Parameters of the contact chain: names, defaults and allowed values, stated once.

The command line (:mod:`pgml.contact.cli`) takes its defaults from here and
``workflow/schemas/config.schema.yaml`` repeats them (a test holds the two in step). Kept free of
numpy and torch so that ``pgml --help`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass

#: alignment formats read by :func:`pgml.contact.alignment.read_alignment`
FORMATS = ("a3m", "a2m", "stockholm", "fasta", "psicov")
#: sequence search engines of ``pgml contact build-msa --database``
ENGINES = ("jackhmmer", "mmseqs", "hhblits")
#: networks ``pgml contact train --variant`` builds: ATTContact (two attention networks and their
#: ensemble) or the chapter's baseline, the same ResNet without attention (:mod:`pgml.contact.model`)
VARIANTS = ("attcontact", "noattention")


@dataclass(frozen=True)
class ChainParams:
    """Top-level keys of the workflow's ``contact`` section."""

    shards: int = 1


@dataclass(frozen=True)
class FilterParams:
    """hhfilter-like filters and weights (:mod:`pgml.contact.weights`)."""

    min_coverage: float = 0.0
    max_identity: float = 1.0
    weight_identity: float = 0.8


@dataclass(frozen=True)
class PlmParams:
    """Pseudo-likelihood fit (:mod:`pgml.contact.plm`); CCMpred's penalties."""

    lambda_single: float = 0.01
    lambda_pair_factor: float = 0.2
    max_iter: int = 100
    history: int = 5
    chunk: int = 512
    min_neff: float = 2.0
    tolerance: float = 1e-3


@dataclass(frozen=True)
class SimulateParams:
    """Demo alignments (:mod:`pgml.contact.simulate`)."""

    n_sequences: int = 400
    coupling: float = 1.0
    field: float = 1.5
    burn_in: int = 30
    min_separation: int = 3


@dataclass(frozen=True)
class TrainParams:
    """ATTContact training (section 4.2.4 of [dissertation]); widths, blocks and heads are the chapter's.

    ``blocks``: convolution layers of each residual block (4 blocks of 3, 4, 6 and 3); ``heads``: of
    the sequence and the regional attention (4, the best setting of table 4.3).
    """

    variant: str = "attcontact"
    hidden: int = 64
    heads: int = 4
    width: int = 64
    blocks: tuple[int, ...] = (3, 4, 6, 3)
    maxout: int = 64
    lr_adam: float = 1e-3
    lr_sgd: float = 0.01
    sgd_epoch: int = 30
    epochs: int = 60
    patience: int = 60


@dataclass(frozen=True)
class SplitParams:
    """Train/val/test split of the targets by sequence identity (:func:`pgml.split.identity_split`)."""

    val_fraction: float = 0.15
    test_fraction: float = 0.15


@dataclass(frozen=True)
class SearchParams:
    """Search (:mod:`pgml.contact.search`) when a sequence database is configured."""

    engine: str = "jackhmmer"
    iterations: int = 3
    evalue: float = 0.001
    max_seqs: int = 10000
    sensitivity: float = 7.5


#: an alignment shallower than this (Neff) gets a warning: [attcontact]'s lowest Neff bin, where
#: precision is lowest
SHALLOW_NEFF = 64.0
#: the shortest query with a pair at separation >= 6 (the shortest range scored)
MIN_QUERY_LENGTH = 7

#: allowed values of the numeric flags (``dest``: low, high, low excluded); NaN and infinity are
#: refused everywhere. The schema states the same bounds for the workflow.
BOUNDS: dict[str, tuple[float | None, float | None, bool]] = {
    "lambda_single": (0.0, None, False), "lambda_pair_factor": (0.0, None, False), "max_iter": (1, None, False),
    "history": (1, None, False), "chunk": (1, None, False), "min_neff": (0.0, None, False),
    "weight_identity": (0.0, 1.0, True), "min_coverage": (0.0, 1.0, False), "max_identity": (0.0, 1.0, True),
    "iterations": (1, None, False), "evalue": (0.0, None, True), "max_seqs": (1, None, False),
    "sensitivity": (1.0, 7.5, False),
    "n_sequences": (1, None, False), "coupling": (0.0, None, False), "field": (None, None, False),
    "burn_in": (1, None, False), "min_separation": (1, None, False),
    "val_fraction": (0.0, 1.0, False), "test_fraction": (0.0, 1.0, False),
    "hidden": (2, None, False), "heads": (1, None, False), "width": (1, None, False), "blocks": (1, None, False),
    "maxout": (1, None, False), "lr_adam": (0.0, None, True), "lr_sgd": (0.0, None, True),
    "sgd_epoch": (0, None, False), "epochs": (1, None, False), "patience": (1, None, False),
}
