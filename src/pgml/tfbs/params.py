"""Parameters of the tfbs chain: names, defaults and allowed values, stated once.

The command line (:mod:`pgml.tfbs.cli`) takes its defaults from here and
``workflow/schemas/config.schema.yaml`` repeats them (a test holds the two in step). Kept free of
numpy and torch so that ``pgml --help`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass

#: bin width and step of the ENCODE-DREAM challenge (section 2.2 of [deepgrn])
BIN_SIZE = 200
BIN_STEP = 50
#: each bin is widened by this many bp on both sides: 200 + 2 * 400 = 1,000-bp windows
FLANK = 400
#: label codes in the per-TF bin x cell-type int8 matrix
LABEL_BOUND, LABEL_UNBOUND, LABEL_AMBIGUOUS = 1, 0, -1
#: the six annotation features of each bin, in this order
ANNOTATIONS = ("cds", "intron", "promoter", "utr5", "utr3", "cpg")
#: expression principal components per cell type
N_PCS = 8
#: merging of the forward and reverse-complement outputs of the Siamese pass
MERGES = ("mean", "max")
#: the network: DeepGRN (single + pairwise attention modules and their ensemble) or the no-attention
#: ablation of figure 2.4 (CNN + BiLSTM, the BiLSTM output flattened into the dense layers)
VARIANTS = ("deepgrn", "noattention")
#: the authors' published networks (:mod:`pgml.tfbs.released`), imported by ``pgml tfbs import-model``:
#: where each one's attention sits (their ``make_model`` names: attention1d_after_lstm_original,
#: attention_before_lstm with one attention vector, qkv_pe_before_lstm)
RELEASED_ATTENTIONS = ("attention1d", "single_before_lstm", "pairwise_before_lstm")
#: their windows: 200-bp bins widened by 401 bp on both sides (1,002 bp, ``flanking`` of their predict.py)
RELEASED_FLANK = 401
#: their input order, mapped onto pgml's at import: sequence channels, then the 14 features
RELEASED_SEQUENTIAL = ("A", "T", "G", "C", "mappability", "dnase")
RELEASED_ANNOTATIONS = ("cpg", "cds", "intron", "promoter", "utr5", "utr3")
#: challenge split: chromosomes held out for validation and test
VALID_CHROMS = ("chr11",)
TEST_CHROMS = ("chr1", "chr8", "chr21")
#: chromosomes left out of the RPGC normalisation (bamCoverage --ignoreForNormalization)
IGNORE_FOR_NORMALIZATION = ("chrX", "chrM")
#: interpretation: best-scored bins explained, and the JASPAR matrices scanned for (CTCF)
EXPLAIN_TOP = 50
EXPLAIN_MOTIFS = ("MA0139.1",)
#: prediction: windows per batch, and loader worker processes (each opens its own FASTA and bigWigs).
#: 0 reads the windows in the predicting process: cut from chromosome slices they are read faster than
#: the model runs on one H200; workers pay off only with spare cores (benchmarks/tfbs_predict_speed.py)
PREDICT_BATCH_SIZE = 256
PREDICT_WORKERS = 0
#: bins further apart than this are read as separate slices when a batch's windows are cut
#: from one chromosome slice (20 bins = 1 kb of unused sequence at most)
SLICE_MAX_GAP = 20
#: a motif site is a hit at this p-value (FIMO's default threshold)
MOTIF_PVALUE = 1e-4
#: without DNase peak files, a bin has a DNase peak when its max coverage reaches this many times the
#: chromosome's mean coverage (the motif analysis of section 2.4.4 looks at bins without one)
DNASE_PEAK_FOLD = 5.0
#: effective genome size for RPGC (hg19, deeptools' table for 50-bp reads)
EFFECTIVE_GENOME_SIZE = 2_864_785_220


@dataclass(frozen=True)
class ModelConfig:
    """Widths of the DeepGRN network (table 2.3 of [deepgrn] lists the searched ranges)."""

    conv_filters: int = 64
    conv_kernel: int = 20
    pool: int = 15
    lstm_hidden: int = 32
    d_k: int = 64
    dense: int = 64
    dropout: float = 0.1
    merge: str = "mean"
    variant: str = "deepgrn"

    def __post_init__(self) -> None:
        if self.merge not in MERGES:
            raise ValueError(f"merge must be one of {MERGES}, got {self.merge!r}")
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {self.variant!r}")
        if min(self.conv_filters, self.conv_kernel, self.pool, self.lstm_hidden, self.d_k, self.dense) < 1:
            raise ValueError("widths must be >= 1")
        if not 0 <= self.dropout < 1:
            raise ValueError("dropout must be in [0, 1)")


@dataclass(frozen=True)
class TrainConfig:
    """Training schedule (section 2.2.4 of [deepgrn]: Adam, BCE, up to 60 epochs, patience 5)."""

    epochs: int = 60
    patience: int = 5
    batch_size: int = 64
    lr: float = 1e-3
    #: negatives drawn afresh every epoch per positive
    negative_ratio: float = 1.0
    #: validation windows at most (all positives first, then a fixed random sample of negatives)
    max_valid_windows: int = 20000

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.patience < 1 or self.batch_size < 1:
            raise ValueError("epochs, patience and batch_size must be >= 1")
        if self.lr <= 0 or self.negative_ratio <= 0 or self.max_valid_windows < 2:
            raise ValueError("lr and negative_ratio must be > 0 and max_valid_windows >= 2")


@dataclass(frozen=True)
class SimulateConfig:
    """Defaults of :func:`pgml.tfbs.simulate.simulate` (the demo genome, about 0.6 Mb)."""

    #: chromosome:length pairs; the names make the challenge split apply
    chroms: str = "chr1:100000,chr2:150000,chr3:150000,chr8:60000,chr11:100000,chr21:40000"
    cells: str = "CellA,CellB,CellC"
    tfs: str = "CTCF=MA0139.1,REST=MA0138.2"
    #: binding sites per TF per 10 kb
    site_density: float = 1.5
    #: fraction of a TF's sites bound in a given cell type
    bound_fraction: float = 0.6
    n_genes: int = 120
    #: DNase reads per kb of background, and per bound site
    background_reads: float = 4.0
    site_reads: int = 25


@dataclass(frozen=True)
class ReleasedConfig:
    """One of the authors' published networks (:class:`pgml.tfbs.released.ReleasedDeepGRN`), read from
    the Keras file's architecture by :mod:`pgml.tfbs.keras_import`."""

    attention: str
    conv_filters: int
    conv_kernel: int
    pool: int
    lstm_hidden: int
    dense: int
    #: dense ReLU layers after the first one that follows the features (their ``num_denselayer``)
    extra_dense: int = 0
    merge: str = "mean"
    length: int = BIN_SIZE + 2 * RELEASED_FLANK
    #: whether the network reads the mappability channel and the 14 non-sequential features
    mappability: bool = True
    features: bool = True

    def __post_init__(self) -> None:
        if self.attention not in RELEASED_ATTENTIONS:
            raise ValueError(f"attention must be one of {RELEASED_ATTENTIONS}, got {self.attention!r}")
        if self.merge not in MERGES:
            raise ValueError(f"merge must be one of {MERGES}, got {self.merge!r}")
        if min(self.conv_filters, self.conv_kernel, self.pool, self.lstm_hidden, self.dense, self.length) < 1:
            raise ValueError("widths must be >= 1")
        if self.extra_dense < 0:
            raise ValueError("extra_dense must be >= 0")
        if (self.length - self.conv_kernel + 1) // self.pool < 1:
            raise ValueError(f"window of {self.length} bp too short for kernel {self.conv_kernel} and pool {self.pool}")
