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
ENGINES = ("jackhmmer", "mmseqs")
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
