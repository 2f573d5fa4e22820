"""Labels and splits of the fold chain.

Demo labels: enzyme / non-enzyme from the EC numbers the structure files carry (:func:`ec_class`;
the D&D task of [ieconv] at demo size). DSSP classes (mainly-alpha, mainly-beta, mixed; thresholds in
:class:`pgml.fold.params.SplitConfig`) remain as an option, but the network's H-bond edges come from
the same DSSP, so that task is partly read off the input. Paper tasks read labels and splits from the
published list files of [ieconv] (:func:`read_homology_lists`, :func:`read_protfunct_lists`), or from a
user's label table (id, label). :func:`class_names` gives each label a readable name for ``predict``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pgml.errors import InputError
from pgml.fold.params import SplitConfig

DSSP_CLASSES = ("mainly_alpha", "mainly_beta", "mixed")
EC_CLASSES = ("enzyme", "non_enzyme")
NAMES = {"mainly_alpha": "mainly alpha (DSSP)", "mainly_beta": "mainly beta (DSSP)",
         "mixed": "mixed alpha/beta (DSSP)", "enzyme": "enzyme (chain with an EC number)",
         "non_enzyme": "non-enzyme (no EC number)"}


def ec_class(ec: str) -> str:
    """``enzyme`` when the sample's chains carry an EC number, else ``non_enzyme``."""
    return "enzyme" if isinstance(ec, str) and ec.strip() else "non_enzyme"


def protfunct_names(directory: str | Path) -> dict[str, str]:
    """ProtFunct class index -> EC number (line k of ``unique_functions.txt`` names class k)."""
    path = Path(directory) / "unique_functions.txt"
    if not path.is_file():
        return {}
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    return {str(k): f"EC {ec}" for k, ec in enumerate(lines)}


def class_names(labels: list[str], method: str, split_list: str | Path | None = None) -> dict[str, str]:
    """A readable name per label (the label itself when nothing better is known)."""
    known = dict(NAMES)
    if method == "protfunct" and split_list is not None:
        known.update(protfunct_names(split_list))
    return {str(label): known.get(str(label), str(label)) for label in labels}


def dssp_class(helix: float, strand: float, config: SplitConfig | None = None) -> str:
    """Mainly-alpha / mainly-beta / mixed from helix and strand fractions."""
    config = config or SplitConfig()
    if helix >= config.alpha_min and strand <= config.other_max:
        return "mainly_alpha"
    if strand >= config.beta_min and helix <= config.other_max:
        return "mainly_beta"
    return "mixed"


def read_label_table(path: str | Path) -> dict[str, str]:
    """``id<TAB>label`` (header optional); InputError for a malformed line or a repeated id."""
    path = Path(path)
    if not path.is_file():
        raise InputError("label table not found", path=path)
    out: dict[str, str] = {}
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.startswith("#") or (lineno == 1 and line.lower().startswith("id\t")):
            continue
        fields = line.split("\t")
        if len(fields) < 2:
            raise InputError("expected 'id<TAB>label'", path=path, record=f"line {lineno}")
        if fields[0] in out:
            raise InputError(f"id {fields[0]!r} listed twice", path=path, record=f"line {lineno}")
        out[fields[0]] = fields[1].strip()
    if not out:
        raise InputError("the label table names no id", path=path)
    return out


HOMOLOGY_FILES = {"training": "train", "validation": "val", "test_fold": "test_fold",
                  "test_superfamily": "test_superfamily", "test_family": "test_family"}


def read_homology_lists(directory: str | Path) -> pd.DataFrame:
    """HomologyTAPE lists of [ieconv] (Hou et al. splits): columns id, label, split.

    ``training.txt``/``validation.txt``/``test_family.txt`` lines are ``id fold fold``;
    ``test_fold.txt``/``test_superfamily.txt`` lines are ``id length fold fold``; the fold is the label.
    """
    directory = Path(directory)
    rows = []
    for stem, split in HOMOLOGY_FILES.items():
        path = directory / f"{stem}.txt"
        if not path.is_file():
            raise InputError("HomologyTAPE list missing", path=path)
        for lineno, line in enumerate(path.read_text().splitlines(), start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) not in (3, 4):
                raise InputError(f"expected 3 or 4 fields, found {len(fields)}", path=path, record=f"line {lineno}")
            rows.append((fields[0], fields[-1], split))
    return pd.DataFrame(rows, columns=["id", "label", "split"])


def read_protfunct_lists(directory: str | Path) -> pd.DataFrame:
    """ProtFunct lists of [ieconv]: ``{training,validation,testing}.txt`` (one chain ``1abc.A`` per
    line) and ``chain_functions.txt`` (``chain,class``): columns id, label, split."""
    directory = Path(directory)
    labels: dict[str, str] = {}
    path = directory / "chain_functions.txt"
    if not path.is_file():
        raise InputError("ProtFunct chain_functions.txt missing", path=path)
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        if "," not in line:
            raise InputError("expected 'chain,class'", path=path, record=f"line {lineno}")
        chain, label = line.strip().split(",", 1)
        labels[chain] = label
    rows = []
    for stem, split in (("training", "train"), ("validation", "val"), ("testing", "test")):
        p = directory / f"{stem}.txt"
        if not p.is_file():
            raise InputError("ProtFunct list missing", path=p)
        for lineno, line in enumerate(p.read_text().splitlines(), start=1):
            chain = line.strip()
            if not chain:
                continue
            if chain not in labels:
                raise InputError(f"chain {chain} has no class in chain_functions.txt", path=p, record=f"line {lineno}")
            rows.append((chain, labels[chain], split))
    return pd.DataFrame(rows, columns=["id", "label", "split"])
