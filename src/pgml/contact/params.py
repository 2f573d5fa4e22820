"""Parameters of the contact chain: names, defaults and allowed values, stated once.

The command line (:mod:`pgml.contact.cli`) takes its defaults from here and
``workflow/schemas/config.schema.yaml`` repeats them (a test holds the two in step). Kept free of
numpy and torch so that ``pgml --help`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass

#: alignment formats read by :func:`pgml.contact.alignment.read_alignment`
FORMATS = ("a3m", "a2m", "stockholm", "fasta", "psicov")


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


@dataclass(frozen=True)
class SimulateParams:
    """Demo alignments (:mod:`pgml.contact.simulate`)."""

    n_sequences: int = 400
    coupling: float = 1.0
    field: float = 1.5
    burn_in: int = 30
    min_separation: int = 3
