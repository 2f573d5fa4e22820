"""Parameters of the qa chain: names, defaults and allowed values, stated once.

The command line (:mod:`pgml.qa.cli`) takes its defaults from here, the library takes these
dataclasses, and ``workflow/schemas/config.schema.yaml`` repeats the defaults for the workflow
(``tests/workflow/test_config.py`` holds the two in step). Kept free of numpy and torch so that
``pgml --help`` stays fast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pgml.errors import InputError
from pgml.train.optim import OPTIMIZERS

#: lDDT distance-difference thresholds in Å and inclusion radius [mariani2013]
LDDT_THRESHOLDS = (0.5, 1.0, 2.0, 4.0)
LDDT_RADIUS = 15.0
#: edges of the 9 lDDT error bins of the distance-error features ([enqa] eqs. 5.1-5.2), Å: the signed
#: error d_true - d_model falls in (-inf,-4], (-4,-2], (-2,-1], (-1,-0.5], (-0.5,0.5], ..., (4, inf)
ERROR_BIN_EDGES = (-4.0, -2.0, -1.0, -0.5, 0.5, 1.0, 2.0, 4.0)
N_ERROR_BINS = len(ERROR_BIN_EDGES) + 1
#: lDDT credit of each error bin: the fraction of LDDT_THRESHOLDS a |error| in the bin passes
ERROR_BIN_SCORES = (0.0, 0.25, 0.5, 0.75, 1.0, 0.75, 0.5, 0.25, 0.0)
#: distogram bins with midpoint at or below this count as a contact (the contact-probability channel)
CONTACT_CUTOFF = 15.0
#: residues with relative SASA above this are solvent exposed (buriedness feature)
EXPOSED_RSA = 0.25
#: where a model's own prediction is read from in an AlphaFold output directory
REFERENCE_FORMATS = ("auto", "alphafold", "colabfold", "pdb")
#: graph-convolution variant: the node-level EGNN of [enqa] or a spherical-harmonics graph convolution
ARCHITECTURES = ("egnn", "sh")


def check_finite(**values: float) -> None:
    """Refuse NaN or infinite numeric settings (a NaN passes every ``<``/``>`` check silently)."""
    for name, value in values.items():
        if not math.isfinite(value):
            raise InputError(f"{name} must be a finite number, got {value}")


@dataclass(frozen=True)
class FeatureConfig:
    """How features are built (``pgml qa build-graphs``)."""

    n_references: int = 5
    graph_radius: float = 15.0
    sh_degree: int = 2
    #: "alphafold": pkl + PDBs; "colabfold": ranked PDBs + scores JSON (+ --save-all pickles, distogram
    #: channels on when one is there); "pdb": PDBs/mmCIFs only; "auto": the layout of the directory
    reference_format: str = "auto"

    def __post_init__(self) -> None:
        check_finite(graph_radius=self.graph_radius)
        if self.n_references < 1:
            raise InputError(f"n_references must be at least 1, got {self.n_references}")
        if self.graph_radius <= 0:
            raise InputError(f"graph_radius must be positive, got {self.graph_radius}")
        if not 0 <= self.sh_degree <= 6:
            raise InputError(f"sh_degree must be in 0..6, got {self.sh_degree}")
        if self.reference_format not in REFERENCE_FORMATS:
            raise InputError(f"reference_format must be one of {', '.join(REFERENCE_FORMATS)}, "
                             f"got {self.reference_format!r}")


@dataclass(frozen=True)
class SimulateConfig:
    """The demo data (``pgml qa simulate``): decoys and simulated AlphaFold outputs per native."""

    n_decoys: int = 8
    max_perturbation: float = 6.0
    max_residues: int = 120

    def __post_init__(self) -> None:
        check_finite(max_perturbation=self.max_perturbation)
        if self.n_decoys < 1:
            raise InputError(f"n_decoys must be at least 1, got {self.n_decoys}")
        if self.max_perturbation <= 0:
            raise InputError(f"max_perturbation must be positive, got {self.max_perturbation}")
        if self.max_residues < 10:
            raise InputError(f"max_residues must be at least 10, got {self.max_residues}")


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of one training run (``pgml qa train``); the paper's are in
    ``config/paper/qa_casp14.yaml`` (SGD, lr 1e-6, momentum 0.9, weight decay 5e-5, 60 epochs)."""

    architecture: str = "egnn"
    hidden: int = 32
    resnet_blocks: int = 5
    resnet_channels: int = 32
    egnn_layers: int = 3
    lddt_weight: float = 5.0
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 5e-5
    epochs: int = 60
    patience: int = 5
    seed: int = 0

    def __post_init__(self) -> None:
        check_finite(lddt_weight=self.lddt_weight, lr=self.lr, weight_decay=self.weight_decay)
        if self.architecture not in ARCHITECTURES:
            raise InputError(f"unknown architecture {self.architecture!r}; choose one of {', '.join(ARCHITECTURES)}")
        if self.optimizer not in OPTIMIZERS:
            raise InputError(f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
        for name in ("hidden", "resnet_blocks", "resnet_channels", "egnn_layers", "epochs", "patience"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.lddt_weight < 0:
            raise InputError(f"lddt_weight must be >= 0, got {self.lddt_weight}")
        if self.lr <= 0:
            raise InputError(f"lr must be positive, got {self.lr}")
        if self.weight_decay < 0:
            raise InputError(f"weight_decay must be >= 0, got {self.weight_decay}")


@dataclass(frozen=True)
class SplitConfig:
    """Train/validation/test assignment of targets by sequence identity or by lists (``pgml qa split``)."""

    val_fraction: float = 0.2
    test_fraction: float = 0.2
    min_seq_id: float = 0.3
    coverage: float = 0.8
    #: list split (the chapter's temporal split): files of target ids per subset; None: identity split
    train_list: str | None = None
    val_list: str | None = None
    test_list: str | None = None

    def __post_init__(self) -> None:
        check_finite(val_fraction=self.val_fraction, test_fraction=self.test_fraction,
                     min_seq_id=self.min_seq_id, coverage=self.coverage)
        for name in ("val_fraction", "test_fraction"):
            if not 0 < getattr(self, name) < 1:
                raise InputError(f"{name} must lie between 0 and 1, got {getattr(self, name)}")
        if self.val_fraction + self.test_fraction >= 1:
            raise InputError(f"val_fraction + test_fraction must be below 1 (training needs targets), "
                             f"got {self.val_fraction} + {self.test_fraction}")
        for name in ("min_seq_id", "coverage"):
            if not 0 <= getattr(self, name) <= 1:
                raise InputError(f"{name} must lie in [0, 1], got {getattr(self, name)}")


#: network variants: "chapter" (:mod:`pgml.qa.model`, section 5.2 as written) and "released" (the
#: networks behind the authors' published weights, :mod:`pgml.qa.released`)
CHAPTER, RELEASED = "chapter", "released"
VARIANTS = (CHAPTER, RELEASED)


@dataclass(frozen=True)
class ReleasedMethod:
    """One published EnQA model: its weights file in the authors' ``models/`` and the inputs it expects
    (channel counts and what fills them, from the authors' ``EnQA.py`` / ``EnQA-MSA.py``)."""

    file: str
    node_channels: int
    pair_channels: int
    #: True: the EGNN with the edge-level layer on the line graph (``resEGNN_with_ne``)
    line_graph: bool
    node_features: str
    pair_features: str
    #: why the method cannot be imported (None: it can)
    refused: str | None = None


_AF2_NODES = ("residue one-hot and Voronota (S-GCN) residue features of EnQA's feature.py, the AlphaFold "
              "pLDDT and the lDDT of the model against the AlphaFold models (result_model_*.pkl + PDBs)")
_SH = "25 spherical-harmonics channels of the Voronota contact maps (order 4)"
#: EnQA method name (as the authors' EnQA.py spells it) -> its released network and inputs
RELEASED_METHODS = {
    "EGNN_Full": ReleasedMethod("egnn_ne.tar", 33, 70, True, _AF2_NODES,
                                f"{_SH} + 45: the 9-bin distance-error distributions ('esto9') of the model "
                                "against the 5 AlphaFold models"),
    "EGNN_esto9": ReleasedMethod("egnn_esto9.tar", 33, 70, False, _AF2_NODES,
                                 f"{_SH} + 45: 'esto9' against the 5 AlphaFold models"),
    "EGNN_covariance": ReleasedMethod("cov25.pth.tar", 33, 50, False, _AF2_NODES,
                                      f"{_SH} + 25: 'cov25' distogram covariance channels of the 5 AlphaFold "
                                      "models"),
    "EnQA-MSA": ReleasedMethod("EnQA-MSA.pth", 24, 145, True,
                               "residue one-hot and Voronota (S-GCN) residue features, pLDDT from the B column",
                               f"{_SH} + 120: ESM-2 (esm2_t6_8M_UR50D) attention maps"),
    "se3_Full": ReleasedMethod("esto9_se3.tar", 33, 70, False, _AF2_NODES, f"{_SH} + 45: 'esto9'",
                               refused="its graph layers are the DGL-based SE(3)-Transformer (tensor-field "
                                       "kernels from DGL graphs and the authors' fibre code), which pgml "
                                       "does not carry; it cannot be rebuilt exactly on torch_geometric"),
}
RELEASED_METHOD_NAMES = tuple(RELEASED_METHODS)
#: the methods whose inputs `released-features` builds -> the pair channels beside the spherical harmonics
RELEASED_PAIR_KIND = {"EGNN_Full": "esto9", "EGNN_esto9": "esto9", "EGNN_covariance": "cov25"}
RELEASED_FEATURE_METHODS = tuple(RELEASED_PAIR_KIND)
