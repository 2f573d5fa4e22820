"""Parameters of the fold chain: names, defaults and allowed values, stated once.

The command line (:mod:`pgml.fold.cli`) takes its defaults and choices from here, the library takes
these dataclasses, and ``workflow/schemas/config.schema.yaml`` repeats the defaults for the workflow
(``tests/workflow/test_config.py`` holds the two in step). Defaults are the demo's small model; the
paper's values ([ieconv], fig. 5 and appendix D) are in ``config/paper/ieconv_*.yaml``. Kept free of
torch so that ``pgml --help`` stays fast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields


def _check_finite(config: object) -> None:
    """Every float field finite (a NaN flag would train or split on garbage without a word)."""
    for f in fields(config):
        value = getattr(config, f.name)
        values = value if isinstance(value, tuple) else (value,)
        if any(isinstance(v, float) and not math.isfinite(v) for v in values):
            raise ValueError(f"{f.name} must be a finite number, got {value!r}")


def _check_range(config: object, names: tuple[str, ...], lo: float, hi: float, *, hi_open: bool = True) -> None:
    for name in names:
        v = getattr(config, name)
        if not (lo <= v < hi if hi_open else lo <= v <= hi):
            raise ValueError(f"{name} must be in [{lo}, {hi}{')' if hi_open else ']'}, got {v!r}")

#: stored levels of the pooling hierarchy: atoms, half residues, residues, four backbone poolings
LEVELS = 7
#: level at which the residue representation starts
RESIDUE_LEVEL = 2
#: H-bond sources: "dssp" DSSP's rules in NumPy (pgml.structure.kabsch_sander, mkdssp's pairs and
#: letters without a process per structure), "mkdssp" the program, "auto" mkdssp and pydssp when
#: mkdssp cannot take the structure, "pydssp"
HBOND_SOURCES = ("dssp", "auto", "mkdssp", "pydssp")
#: what one sample is: a whole entry, one chain, or fixed-length fragments of each chain
UNITS = ("entry", "chain", "fragment")
#: CA-only models: refuse, or build the residue graph (CA atoms, consecutive CAs bonded)
CA_ONLY_POLICIES = ("error", "residue")
#: modified residues: map to the parent (MSE -> MET) or refuse
NONSTANDARD_POLICIES = ("map", "error")
#: where the labels come from: DSSP classes (mainly-alpha / mainly-beta / mixed; computed from the
#: same DSSP that gives the network its H-bond edges), enzyme / non-enzyme from the EC numbers the
#: structure files carry, or a label table
LABEL_SOURCES = ("dssp", "ec", "table")
#: how samples are split: by sequence identity (mmseqs2), from a list file ("id split"), or from the
#: published list directories of [ieconv] (HomologyTAPE: labels = folds, three test sets; ProtFunct:
#: labels = EC reaction classes), which also give the labels
SPLIT_METHODS = ("identity", "list", "homology", "protfunct")
#: table 2 of [ieconv]: convolutions
CONVOLUTIONS = ("gcnn", "exconv", "inconv_c", "inconv_h", "inconv_ch", "ours3d_ch", "ours")
#: table 2: neighbourhoods
NEIGHBOURHOODS = ("euclidean", "covalent", "hbond")
#: table 2: pooling
POOLINGS = ("ours", "none")
#: table 2: representation
REPRESENTATIONS = ("atom", "residue")
#: optimisers: momentum SGD (appendix D) or Adam (demo)
OPTIMIZERS = ("sgd", "adam")


@dataclass(frozen=True)
class GraphConfig:
    """How samples are built (``pgml fold build-graphs``)."""

    unit: str = "entry"
    fragment_length: int = 40
    hbond_source: str = "dssp"
    ca_only: str = "error"
    nonstandard: str = "map"

    def __post_init__(self) -> None:
        for name, allowed in (("unit", UNITS), ("hbond_source", HBOND_SOURCES), ("ca_only", CA_ONLY_POLICIES),
                              ("nonstandard", NONSTANDARD_POLICIES)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if self.fragment_length < 5:
            raise ValueError("fragment_length must be >= 5")


@dataclass(frozen=True)
class SplitConfig:
    """Labels and the train/val/test assignment (``pgml fold split``)."""

    labels: str = "dssp"
    method: str = "identity"
    val_fraction: float = 0.15
    test_fraction: float = 0.25
    min_seq_id: float = 0.3
    coverage: float = 0.8
    #: DSSP classes: mainly-alpha when helix >= alpha_min and strand <= other_max, mainly-beta
    #: when strand >= beta_min and helix <= other_max, else mixed
    alpha_min: float = 0.4
    beta_min: float = 0.3
    other_max: float = 0.15
    #: seed of the identity split (which groups of entries go to val and test)
    seed: int = 0

    def __post_init__(self) -> None:
        _check_finite(self)
        if self.labels not in LABEL_SOURCES:
            raise ValueError(f"labels must be one of {LABEL_SOURCES}, got {self.labels!r}")
        if self.method not in SPLIT_METHODS:
            raise ValueError(f"method must be one of {SPLIT_METHODS}, got {self.method!r}")
        _check_range(self, ("val_fraction", "test_fraction"), 0.0, 1.0)
        if self.val_fraction + self.test_fraction >= 1.0:
            raise ValueError(f"val_fraction + test_fraction must be below 1 (nothing left to train on), got "
                             f"{self.val_fraction} + {self.test_fraction}")
        _check_range(self, ("min_seq_id", "coverage", "alpha_min", "beta_min", "other_max"), 0.0, 1.0,
                     hi_open=False)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of fig. 5 of [ieconv] with the table-2 switches (demo-sized defaults)."""

    widths: tuple[int, ...] = (16, 24, 32, 48, 64)
    radii: tuple[float, ...] = (3.0, 6.0, 8.0, 12.0, 16.0)
    blocks: int = 2
    basis: int = 8
    kernel_hidden: int = 16
    mlp_hidden: int = 64
    embedding: int = 3
    convolution: str = "ours"
    neighbourhood: str = "euclidean"
    pooling: str = "ours"
    representation: str = "atom"
    dropout_conv: float = 0.2
    dropout_mlp: float = 0.5
    #: appendix D: before every convolution, nodes dropped with this probability ...
    atom_dropout: float = 0.05
    #: ... and Gaussian noise of this sd added to the features (paper 0.025)
    feature_noise: float = 0.025

    def __post_init__(self) -> None:
        _check_finite(self)
        for name, allowed in (("convolution", CONVOLUTIONS), ("neighbourhood", NEIGHBOURHOODS),
                              ("pooling", POOLINGS), ("representation", REPRESENTATIONS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if len(self.widths) != len(self.radii) or not self.widths:
            raise ValueError("widths and radii need the same, nonzero length")
        if len(self.widths) > 5:
            raise ValueError("at most 5 levels")
        if min(self.widths) < 1 or min(self.radii) <= 0:
            raise ValueError("widths must be >= 1 and radii > 0")
        for name in ("blocks", "basis", "kernel_hidden", "mlp_hidden", "embedding"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        _check_range(self, ("dropout_conv", "dropout_mlp", "atom_dropout"), 0.0, 1.0)
        if self.feature_noise < 0:
            raise ValueError(f"feature_noise must be >= 0, got {self.feature_noise}")


@dataclass(frozen=True)
class TrainConfig:
    """Appendix D of [ieconv] (optimizer sgd, lr 0.001, momentum 0.98, halving every 50 epochs)."""

    epochs: int = 8
    batch_size: int = 8
    optimizer: str = "adam"
    lr: float = 0.003
    momentum: float = 0.98
    weight_decay: float = 0.001
    lr_halving_epochs: int = 50
    min_lr: float = 1e-6
    grad_clip: float = 10.0
    patience: int = 100
    augment: bool = True
    coord_noise: float = 0.1
    scale_min: float = 0.9
    scale_max: float = 1.1
    n_runs: int = 1

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        _check_finite(self)
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch_size must be >= 1")
        if self.lr <= 0 or self.min_lr < 0 or self.weight_decay < 0 or self.grad_clip <= 0:
            raise ValueError("lr and grad_clip must be > 0, min_lr and weight_decay >= 0")
        if self.lr_halving_epochs < 1 or self.n_runs < 1 or self.patience < 1:
            raise ValueError("lr_halving_epochs, n_runs and patience must be >= 1")
        if self.coord_noise < 0 or not 0 < self.scale_min <= self.scale_max:
            raise ValueError("coord_noise must be >= 0 and 0 < scale_min <= scale_max")


MODEL_DEFAULTS = ModelConfig()
TRAIN_DEFAULTS = TrainConfig()
