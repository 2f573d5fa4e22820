"""Parameters of the grn chain: names, defaults and allowed values, stated once.

The command line (:mod:`pgml.grn.cli`) takes its defaults and choices from here, the library
functions take these dataclasses, and ``workflow/schemas/config.schema.yaml`` carries the same
defaults for the workflow (a test holds the two in step). A config key, its command-line flag
(``--init-group-num``) and the field (``init_group_num``) share one name. Kept free of numpy and
pandas so that ``pgml --help`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass

#: initial grouping of genes (section 3.2.1 of [gnet2])
INIT_METHODS = ("boosting", "kmeans")
#: ``r_faithful`` follows R GNET2 1.5.5 where the port used to drift (:mod:`pgml.grn.rfaithful`);
#: ``port`` keeps this port's own choices (best k by within-group correlation, no one-leaf groups, ...)
MODES = ("r_faithful", "port")
#: baseline network inference methods (:mod:`pgml.grn.baselines`)
BASELINES = ("clr", "aracne", "mrnet", "genie3", "correlation")
#: GENIE3 trees per target gene [genie3] (the R package's default is 1,000)
GENIE3_TREES = 300
#: permutations for the label-coherence p-values
PERMUTATIONS = 1000


@dataclass
class GnetParams:
    """Parameters of :func:`pgml.grn.gnet.fit_gnet`; defaults are those of GNET2 1.5.5's ``gnet()``."""

    init: str = "boosting"
    #: one of MODES; see :mod:`pgml.grn.rfaithful` for what each switch changes
    mode: str = "r_faithful"
    init_group_num: int = 4
    #: when set, init_group_num = max(2, round(target genes / init_group_size)) ([dissertation] uses
    #: an average group size of 25); it replaces init_group_num. Every k in 2..that number is one
    #: k-means run, so thousands of genes mean hundreds of runs
    init_group_size: int | None = None
    max_depth: int = 3
    cor_cutoff: float = 0.9
    min_divide_size: int = 3
    min_group_size: int = 2
    max_iter: int = 5
    force_split: float = 0.5
    seed: int = 0
    #: runs with seeds seed..seed+restarts-1; > 1 adds a consensus (:mod:`pgml.grn.consensus`)
    restarts: int = 1

    def group_num(self, n_genes: int) -> int:
        """Most initial groups for ``n_genes`` genes: init_group_num, or n_genes / init_group_size."""
        if self.init_group_size is None:
            return self.init_group_num
        return max(2, round(n_genes / self.init_group_size))

    def __post_init__(self) -> None:
        if self.init not in INIT_METHODS:
            raise ValueError(f"init must be one of {INIT_METHODS}, got {self.init!r}")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.init_group_num < 2:
            raise ValueError("init_group_num must be >= 2")
        if self.max_depth < 1 or self.max_iter < 1:
            raise ValueError("max_depth and max_iter must be >= 1")
        if self.init_group_size is not None and self.init_group_size < 1:
            raise ValueError("init_group_size must be >= 1")
        if self.restarts < 1:
            raise ValueError("restarts must be >= 1")
        if not 0.0 <= self.cor_cutoff <= 1.0:  # also refuses NaN
            raise ValueError(f"cor_cutoff must be a correlation in [0, 1], got {self.cor_cutoff}")
        if not 0.0 < self.force_split <= 1.0:
            raise ValueError(f"force_split must be a fraction of genes in (0, 1], got {self.force_split}")
        if self.min_group_size < 1 or self.min_divide_size < 1:
            raise ValueError(f"min_group_size and min_divide_size must be >= 1, got {self.min_group_size} "
                             f"and {self.min_divide_size}")


@dataclass(frozen=True)
class SimulateParams:
    """Defaults of :func:`pgml.grn.simulate.simulate_network` (the demo's 100-gene network)."""

    n_genes: int = 100
    n_samples: int = 100
    n_external: int = 5
    tf_fraction: float = 0.12
    max_in_degree: int = 3
    topology: str = "scale-free"
    n_conditions: int = 4
    bio_noise: float = 0.1
    noise: float = 0.1
    #: the regulator list holds every transcription factor and external regulator, also those that
    #: regulate nothing (as a real TF list does); otherwise only regulators with a target
    regulators_without_targets: bool = False
