"""Parameters of the bfactor chain: names, defaults and allowed values, stated once.

The command line (:mod:`pgml.bfactor.cli`) takes its defaults and choices from here, the library
takes these dataclasses, and ``workflow/schemas/config.schema.yaml`` carries the same defaults and
allowed values for the workflow (``tests/workflow/test_config.py`` holds the two in step). A config
key, its command-line flag (``--neighbour-radius``) and the field (``neighbour_radius``) share one
name. Kept free of torch so that ``pgml --help`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pgml.errors import InputError
from pgml.train.optim import OPTIMIZERS

#: the seven architectures compared in [metagnn] (:mod:`pgml.bfactor.models`)
ARCHITECTURES = ("gcn", "gat", "mpn", "unet", "transformer", "egnn", "meta")
#: training target: B-factor in Å² or z-scored within each protein
TARGETS = ("raw", "zscore")
#: packing baselines (:mod:`pgml.bfactor.baseline`): contact number, inverse weighted contact number
BASELINE_KINDS = ("cn", "wcn")
#: how entries are split: by sequence identity (mmseqs2 clusters), by seed, or from a list file
SPLIT_METHODS = ("identity", "random", "list")


@dataclass(frozen=True)
class SelectConfig:
    """Which entries are kept for training and evaluation (``pgml bfactor select``)."""

    max_resolution: float = 2.5
    methods: tuple[str, ...] = ("X-RAY DIFFRACTION",)


@dataclass(frozen=True)
class GraphConfig:
    """How atom graphs are built (``pgml bfactor build-graphs``)."""

    target: str = "raw"
    neighbour_radius: float = 5.0


@dataclass(frozen=True)
class SplitConfig:
    """Train/validation/test assignment of the kept entries (``pgml bfactor split``)."""

    method: str = "identity"
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    min_seq_id: float = 0.3
    coverage: float = 0.8
    list: str | None = field(default=None)


#: structure formats `predict` writes (:data:`pgml.structure.io.WRITE_FORMATS`): auto picks mmCIF when
#: the structure does not fit PDB's columns (chain IDs longer than one character, over 99,999 atoms)
OUTPUT_FORMATS = ("auto", "pdb", "cif")


@dataclass(frozen=True)
class PredictConfig:
    """How predictions are written (``pgml bfactor predict``)."""

    format: str = "auto"
    hydrogens: bool = False


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of one training run (the ``pgml bfactor train`` options)."""

    architecture: str = "meta"
    hidden: int = 64
    layers: int = 3
    dropout: float = 0.1
    optimizer: str = "adamw"
    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 1
    epochs: int = 50
    patience: int = 10
    seed: int = 0

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise InputError(f"unknown architecture {self.architecture!r}; choose one of {', '.join(ARCHITECTURES)}")
        if self.optimizer not in OPTIMIZERS:
            raise InputError(f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
        for name in ("hidden", "layers", "batch_size", "epochs"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise InputError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.patience < 1:
            raise InputError(f"patience must be at least 1, got {self.patience}")
