"""The model card of a GNET2 result: ``model.json`` beside ``result.json`` (:mod:`pgml.modelcard`).

GNET2 fits modules and trees to one expression matrix; it has no held-out prediction, so the card's
figure is the one a user can check on the data itself: how tightly the genes of each module co-vary
(mean absolute Pearson correlation between the target genes of a module, averaged over modules,
weighted by module size) against the same figure for random modules of the same sizes drawn from the
same target genes (the grouping a user would have without GNET2), in the same run and with the run's
seed. The card also records the input files, their preprocessing and the parameters, so that
``plot`` and ``coherence`` refuse a result whose card belongs to another chain or to other genes.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from pgml.errors import InputError
from pgml.grn.gnet import GnetFit
from pgml.modelcard import CARD_NAME, ModelCard, read_card, write_card

#: random groupings of the same sizes whose coherence is averaged for the baseline
BASELINE_DRAWS = 20


def _standardised(x: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)


def grouping_coherence(z: np.ndarray, assignment: np.ndarray) -> float:
    """Mean |Pearson r| between distinct genes of one group, averaged over groups weighted by size.

    ``z``: rows standardised by :func:`_standardised` (so ``z @ z.T`` is the correlation matrix);
    ``assignment``: group per row, -1 = in no group. Groups of one gene have no pair and are skipped.
    """
    total, weight = 0.0, 0
    for k in np.unique(assignment[assignment >= 0]):
        rows = z[assignment == k]
        n = len(rows)
        if n < 2:
            continue
        r = np.abs(rows @ rows.T)
        total += n * (r.sum() - np.trace(r)) / (n * (n - 1))
        weight += n
    return total / weight if weight else float("nan")


def module_coherence(fit: GnetFit, seed: int = 0, draws: int = BASELINE_DRAWS) -> dict[str, float]:
    """GNET2's module coherence and that of random modules of the same sizes (mean of ``draws``)."""
    z = _standardised(np.asarray(fit.dataset.target_expr, dtype=np.float64))
    assignment = np.asarray(fit.assignment)
    model = grouping_coherence(z, assignment)
    rng = np.random.default_rng(seed)
    baseline = float(np.mean([grouping_coherence(z, rng.permutation(assignment)) for _ in range(draws)]))
    return {"module_coherence": model, "module_coherence_random": baseline}


def write_result_card(fit: GnetFit, output_dir: str | Path, inputs: dict[str, Any]) -> ModelCard:
    """Write ``model.json`` into the result directory of ``pgml grn infer``; return the card."""
    ds = fit.dataset
    metrics: dict[str, Any] = module_coherence(fit, seed=fit.params.seed)
    metrics["beats_baseline"] = bool(metrics["module_coherence"] > metrics["module_coherence_random"])
    metrics["baseline"] = f"random modules of the same sizes over the same target genes ({BASELINE_DRAWS} draws)"
    metrics["n_modules"] = len(fit.modules)
    metrics["converged"] = bool(fit.converged)
    card = ModelCard(
        chain="grn",
        inputs={**inputs, "n_regulators": len(ds.regulators), "n_targets": len(ds.targets),
                "n_samples": ds.n_samples},
        training={"params": asdict(fit.params), "dropped_constant": len(ds.dropped_constant),
                  "missing_regulators": len(ds.missing_regulators)},
        seed=fit.params.seed,
        metrics=metrics,
        source={"kind": "pgml grn infer"},
    )
    write_card(Path(output_dir), card, path=Path(output_dir) / CARD_NAME)
    return card


def check_result_card(directory: Path, fit: GnetFit) -> None:
    """Refuse a result whose card (when there is one) is another chain's or counts other genes or samples."""
    if not (directory / CARD_NAME).is_file():
        return
    card = read_card(directory, "grn", path=directory / CARD_NAME)
    found = {"n_regulators": len(fit.dataset.regulators), "n_targets": len(fit.dataset.targets),
             "n_samples": fit.dataset.n_samples}
    for key, value in found.items():
        if key in card.inputs and card.inputs[key] != value:
            raise InputError(f"the card counts {key}={card.inputs[key]}, the result holds {value}; the card "
                             "belongs to another run", path=directory / CARD_NAME, record=key)
