"""The contact model card: ``model.json`` beside ``model.ckpt`` (:mod:`pgml.modelcard`).

``train`` records the feature settings its targets were built with (:class:`FeatureSettings`, read
from the PLM files, which must agree), the feature shapes, the split, the seed, and the validation
long-range top-L/2 precision of the model beside that of APC-PLM on the same targets (the baseline a
user would rank by without the model). ``predict`` builds a new query's features from the card's
settings and refuses PLM files built with other settings.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pgml.contact.features import FeatureSettings, plm_settings
from pgml.errors import InputError
from pgml.modelcard import ModelCard, check_settings, read_card

CHAIN = "contact"
#: feature shapes of ATTContact's inputs (:mod:`pgml.contact.training`)
FEATURE_SHAPES = {"features_1d": 40, "plm_channels": 442}


def training_settings(plm_files: list[Path]) -> FeatureSettings:
    """The one set of feature settings of the training PLM files (defaults for files that predate them)."""
    found: dict[FeatureSettings, Path] = {}
    for path in plm_files:
        found.setdefault(plm_settings(path) or FeatureSettings(), path)
    if len(found) > 1:
        (a, pa), (b, pb) = list(found.items())[:2]
        diff = next(k for k, v in a.as_dict().items() if b.as_dict()[k] != v)
        raise InputError(f"PLM files built with different settings: {diff}={a.as_dict()[diff]} here, "
                         f"{b.as_dict()[diff]} in {pb}", path=pa)
    return next(iter(found)) if found else FeatureSettings()


def validation_metrics(module, targets: list, device) -> dict[str, float]:
    """Mean validation long-range top-L/2 precision of the model and of APC-PLM on the same targets."""
    from pgml.contact.contacts import precision_table
    from pgml.contact.training import predict

    model, baseline = [], []
    for target in targets:
        prob = next(iter(predict(module, target, device).maps.values()))  # the variant's own map
        model.append(precision_table(prob, target.distances)["long_L/2"])
        baseline.append(precision_table(target.apc, target.distances)["long_L/2"])
    model_mean, base_mean = float(np.nanmean(model)), float(np.nanmean(baseline))
    return {"val_long_L/2": model_mean, "baseline_apc_plm_val_long_L/2": base_mean,
            "beats_baseline": bool(model_mean > base_mean), "val_targets": len(targets)}


def contact_card(settings: FeatureSettings, *, split: Path, train: list[str], val: list[str], seed: int,
                 metrics: dict, hyperparameters: dict) -> ModelCard:
    return ModelCard(chain=CHAIN, inputs={**settings.as_dict(), **FEATURE_SHAPES},
                     training={"split": str(split), "train": train, "val": val, "counts": {
                         "train": len(train), "val": len(val)}, "hyperparameters": hyperparameters},
                     seed=seed, metrics=metrics)


def read_contact_card(model: Path, card: Path | None = None) -> tuple[ModelCard, FeatureSettings]:
    """The card of ``model`` and the feature settings ``predict`` must build with."""
    found = read_card(model, CHAIN, path=card)
    for key, value in FEATURE_SHAPES.items():
        if found.inputs.get(key, value) != value:
            raise InputError(f"the model takes {key}={found.inputs[key]}, this pgml builds {value}",
                             path=card or model, record=key)
    return found, FeatureSettings.from_dict(found.inputs)


def check_plm_file(card: ModelCard, path: Path) -> None:
    """Refuse a PLM file whose feature settings differ from the model's (files without settings pass)."""
    settings = plm_settings(path)
    if settings is not None:
        check_settings(card, settings.as_dict(), path=path)
