"""Parameters of the bfactor chain: names, defaults and allowed values, stated once.

The command line (:mod:`pgml.bfactor.cli`) takes its defaults and choices from here, the library
takes these dataclasses, and ``workflow/schemas/config.schema.yaml`` carries the same defaults and
allowed values for the workflow (``tests/workflow/test_config.py`` holds the two in step). A config
key, its command-line flag (``--neighbour-radius``) and the field (``neighbour_radius``) share one
name. Kept free of torch so that ``pgml --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

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
    #: extra neighbour-count node features, one per radius (Å), e.g. (8, 12, 15) beside the 5 Å count
    packing_radii: tuple[float, ...] = ()
    #: weighted contact number (sum 1/d² within 15 Å) as a node feature
    wcn_feature: bool = False
    #: non-covalent edges between atoms within this distance (Å) beside the covalent ones; 0 = none
    contact_radius: float = 0.0
    #: ligand and metal heavy atoms (not water) count in the packing features
    ligand_counts: bool = False

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise InputError(f"unknown target {self.target!r}; choose one of {', '.join(TARGETS)}")
        if not 0 < self.neighbour_radius < float("inf"):
            raise InputError(f"neighbour_radius must be positive, got {self.neighbour_radius}")
        if any(not 0 < r < float("inf") for r in self.packing_radii):
            raise InputError(f"packing_radii must be positive, got {list(self.packing_radii)}")
        if not 0 <= self.contact_radius < float("inf"):  # also refuses NaN
            raise InputError(f"contact_radius must be 0 (off) or positive, got {self.contact_radius}")

    @property
    def features(self) -> dict:
        """The settings that change a graph's features, as stored in graph files and checkpoints."""
        return {"packing_radii": [float(r) for r in self.packing_radii], "wcn_feature": bool(self.wcn_feature),
                "contact_radius": float(self.contact_radius), "ligand_counts": bool(self.ligand_counts)}


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
        if not 0.0 < self.lr < float("inf"):  # also refuses NaN
            raise InputError(f"lr must be a positive finite number, got {self.lr}")
        if not 0.0 <= self.weight_decay < float("inf"):
            raise InputError(f"weight_decay must be a finite number >= 0, got {self.weight_decay}")


#: TrainConfig fields a per-architecture block (``bfactor.architecture_params.<arch>``) may override
ARCHITECTURE_PARAM_KEYS = tuple(f.name for f in fields(TrainConfig) if f.name not in ("architecture", "seed"))

#: Parameter counts of [metagnn]'s models table, for the architectures whose count this port quotes
PAPER_PARAMETER_COUNTS: dict[str, int] = {"gat": 853_000, "mpn": 412_000, "meta": 145_000}

#: Per-architecture overrides of the shared ``train`` block in ``config/paper/bfactor.yaml`` (4 layers,
#: hidden 128 shared): for the architectures of :data:`PAPER_PARAMETER_COUNTS`, the width at which this
#: port's model has the paper's parameter count (within 3%; ``benchmarks/bfactor_params.py`` prints
#: both). The others keep the shared block. Stated once here; the paper config repeats it and
#: ``tests/workflow/test_config.py`` holds the two in step.
PAPER_ARCHITECTURE_PARAMS: dict[str, dict[str, Any]] = {
    "gat": {"hidden": 404},
    "mpn": {"hidden": 152},
    "meta": {"hidden": 68},
}


def architecture_train_config(train: Mapping[str, Any], architecture_params: Mapping[str, Mapping[str, Any]],
                              architecture: str, seed: int = 0) -> TrainConfig:
    """The :class:`TrainConfig` of one architecture: the shared ``train`` block, then its own overrides."""
    own = dict(architecture_params.get(architecture) or {})
    unknown = sorted(set(own) - set(ARCHITECTURE_PARAM_KEYS))
    if unknown:
        raise InputError(f"architecture_params.{architecture}: unknown key(s) {', '.join(unknown)}; "
                         f"allowed: {', '.join(ARCHITECTURE_PARAM_KEYS)}")
    return TrainConfig(architecture=architecture, seed=seed, **{**dict(train), **own})
