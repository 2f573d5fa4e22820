"""Predicted lDDT per residue (``pgml qa predict``): TSVs and the model structures with the
prediction (0-100, as pLDDT) in the B column, like the bfactor chain's outputs.

Writes ``residues.tsv`` (target, model, chain, res_seq, aa, predicted, initial, true, af2_consensus,
af2_plddt) and ``models.tsv`` (per model: predicted global lDDT = mean over residues, the same for the
baselines, true lDDT, GDT-TS, TM-score), ``chains.tsv`` (the same means per chain of a multi-chain
model) and ``structures/<target>/<model>.pdb`` (or ``.cif``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.fileio import atomic_dir

log = logging.getLogger(__name__)

#: how a missing value (an undefined baseline, a residue without a native counterpart) is written
NA = "n/a"


def nanmean(values: np.ndarray) -> float:
    """Mean over the defined values; NaN (written ``n/a``) when none is defined, without a warning."""
    values = np.asarray(values, dtype=np.float64)
    ok = ~np.isnan(values)
    return float(values[ok].mean()) if ok.any() else float("nan")


def load_module(checkpoint: Path, device: str = "auto"):  # noqa: ANN201
    import pickle

    from pgml.errors import InputError
    from pgml.qa.module import QAModule
    from pgml.runtime import pick_device

    try:
        module = QAModule.load_from_checkpoint(checkpoint, map_location="cpu")
    except (OSError, RuntimeError, KeyError, TypeError, EOFError, AttributeError, pickle.UnpicklingError) as exc:
        raise InputError(f"not a qa model checkpoint ({exc})", path=checkpoint) from None
    return module.eval().to(pick_device(device))


#: flags of ``predict`` that must equal the model's settings when given
SETTING_FLAGS = {"n_references": "--n-references", "graph_radius": "--graph-radius", "sh_degree": "--sh-degree"}


def model_settings(module, checkpoint: Path) -> dict | None:  # noqa: ANN001
    """The feature settings a checkpoint was trained with (its hyperparameters, checked against the
    ``model.json`` card beside it when there is one); None for a checkpoint that predates them."""
    from pgml.modelcard import card_path, check_settings, read_card

    settings = module.hparams.get("features")
    card = card_path(checkpoint)
    if card.is_file():
        model_card = read_card(checkpoint, "qa")
        if settings is None:
            settings = {k: model_card.inputs[k] for k in (*SETTING_FLAGS, "reference_format", "distogram")
                        if k in model_card.inputs} or None
        else:
            check_settings(model_card, settings, path=card)
    return settings


def feature_config_for(settings: dict | None, given: dict):  # noqa: ANN201 - FeatureConfig
    """(FeatureConfig, require_distogram) to build a user's targets for a model trained with ``settings``.

    Settings come from the model; a flag in ``given`` that differs from them is refused (it would build
    other inputs than the model was trained on). A model trained with distogram channels needs
    references with distograms; one trained without reads structures only (``reference_format pdb``).
    """
    from pgml.errors import InputError
    from pgml.qa.params import FeatureConfig

    given = {k: v for k, v in given.items() if v is not None}
    if settings is None:
        log.warning("the checkpoint stores no feature settings (trained by an older pgml); building features "
                    "from the flags and their defaults")
        return FeatureConfig(**given), False
    for key, flag in SETTING_FLAGS.items():
        if key in given and given[key] != settings[key]:
            raise InputError(f"the model was trained with {key}={settings[key]!r}; {flag} {given[key]!r} would build "
                             f"other inputs (leave the flag out: predict takes the model's settings)", record=key)
    distogram = settings.get("distogram")
    fmt = given.get("reference_format") or ("pdb" if distogram is False else "auto")
    if distogram is True and fmt == "pdb":
        raise InputError("the model was trained with distogram channels on; --reference-format pdb would leave "
                         "them empty", record="reference_format")
    config = FeatureConfig(n_references=settings["n_references"], graph_radius=settings["graph_radius"],
                           sh_degree=settings["sh_degree"], reference_format=fmt)
    return config, distogram is True


def check_graph_settings(settings: dict | None, samples: list) -> None:
    """Refuse graphs built with other settings than the model's (names the setting)."""
    from pgml.errors import InputError

    if settings is None:
        return
    for s in samples:
        built = getattr(s, "feature_settings", None)
        if built is None:
            continue
        keys = [*SETTING_FLAGS] + (["distogram"] if isinstance(settings.get("distogram"), bool) else [])
        for key in keys:
            if built[key] != settings[key]:
                raise InputError(f"built with {key}={built[key]!r}, the model was trained with {settings[key]!r}",
                                 path=getattr(s, "path", s.model), record=f"{s.target}/{s.model}")


def check_feature_sizes(module, samples: list) -> None:  # noqa: ANN001
    """Refuse models whose feature channels differ from what the checkpoint was trained on."""
    from pgml.errors import InputError

    want = (module.hparams.node_dim, module.hparams.pair_dim, module.hparams.edge_dim)
    for s in samples:
        got = (s.x.size(1), s.pair.size(0), s.edge_attr.size(1))
        if got != want:
            raise InputError(f"features of {got[0]} node, {got[1]} pair and {got[2]} edge channels, the model "
                             f"was trained on {want[0]}, {want[1]} and {want[2]} (other number of references, "
                             f"harmonic degree or reference format)", path=getattr(s, "path", s.model),
                             record=f"{s.target}/{s.model}")


def predict_samples(module, samples: list) -> tuple[pd.DataFrame, pd.DataFrame]:  # noqa: ANN001
    """(residue table, model table) for ``samples`` (Data of :mod:`pgml.qa.samples`)."""
    import torch
    from tqdm import tqdm

    rows, models = [], []
    device = next(module.parameters()).device
    with torch.no_grad():
        for s in tqdm(samples, desc="predict", disable=len(samples) < 5):
            lddt, _, initial, *_ = module(s.to(device))
            pred, init = lddt.cpu().numpy(), initial.cpu().numpy()
            y, cons, plddt = s.y.cpu().numpy(), s.consensus.cpu().numpy(), s.plddt.cpu().numpy()
            rows.append(pd.DataFrame({"target": s.target, "model": s.model, "chain": s.chain, "res_seq": s.res_seq,
                                      "aa": list(s.sequence), "predicted": pred, "initial": init, "true": y,
                                      "af2_consensus": cons, "af2_plddt": plddt}))
            models.append({"target": s.target, "model": s.model, "path": s.path, "n_residues": len(pred),
                           "predicted": float(pred.mean()), "af2_consensus": nanmean(cons),
                           "af2_plddt": nanmean(plddt), "true_lddt": float(s.lddt), "gdt_ts": float(s.gdt_ts),
                           "tm_score": float(s.tm_score)})
    return pd.concat(rows, ignore_index=True), pd.DataFrame(models)


def per_chain(residues: pd.DataFrame) -> pd.DataFrame:
    """Mean predicted and true lDDT (and baselines) per model and chain: multi-chain models are one graph,
    reported per chain."""
    columns = ["predicted", "true", "af2_consensus", "af2_plddt"]
    grouped = residues.groupby(["target", "model", "chain"], sort=False)
    return grouped[columns].mean().join(grouped.size().rename("n_residues")).reset_index()


def write_structures(residues: pd.DataFrame, models: pd.DataFrame, out: Path, fmt: str = "auto") -> None:
    """Each model with its predicted lDDT × 100 in the B column of every atom of the residue."""
    from pgml.structure import read_structure, write_bfactors

    for row in models.itertuples():
        structure = read_structure(row.path)
        res = residues[(residues.target == row.target) & (residues.model == row.model)]
        lookup = {(c, int(n)): v for c, n, v in zip(res.chain, res.res_seq, res.predicted, strict=True)}
        atoms = structure.atoms
        values = np.array([100.0 * lookup.get((c, int(n)), 0.0) for c, n in zip(atoms.chain_id, atoms.res_seq,
                                                                                  strict=True)])
        write_bfactors(structure, atoms, values, out / "structures" / row.target / f"{row.model}.pdb",
                       fmt=fmt)


def predict_files(module, samples: list, output_dir: Path, *, fmt: str = "auto") -> tuple[pd.DataFrame, pd.DataFrame]:  # noqa: ANN001
    """Predict ``samples`` with ``module`` (:func:`load_module`) and write the outputs atomically."""
    from pgml.tables import write_tsv

    check_feature_sizes(module, samples)
    residues, models = predict_samples(module, samples)
    with atomic_dir(output_dir) as tmp:
        write_tsv(residues, tmp / "residues.tsv", float_format="%.4f", na_rep=NA)
        write_tsv(models, tmp / "models.tsv", float_format="%.4f", na_rep=NA)
        write_tsv(per_chain(residues), tmp / "chains.tsv", float_format="%.4f", na_rep=NA)
        write_structures(residues, models, tmp, fmt)
    log.info("%d models, %d residues predicted into %s", len(models), len(residues), output_dir)
    return residues, models
