"""Metrics computed per group (e.g. per protein) and their summary over groups.

A per-group value may be undefined (``nan``): the Pearson correlation of a protein whose predictions
are constant, the MAPE of a group whose targets are all zero. What an average over groups does with
those is a choice, stated by ``nan_policy``:

- ``"zero"``: an undefined value counts as 0. Use it for a per-protein
  correlation, so that a collapsed model (constant output) cannot look good by having its proteins skipped.
- ``"omit"``: undefined values are dropped; the mean is over the defined ones (``nan`` if none).
- ``"propagate"``: undefined values are kept; the mean is ``nan`` if any is.

Whatever the policy, :func:`summarise_groups` reports how many groups were undefined
(:attr:`GroupSummary.n_undefined`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from pgml.metrics.regression import ArrayLike, _pair

NanPolicy = Literal["zero", "omit", "propagate"]
NAN_POLICIES: tuple[str, ...] = ("zero", "omit", "propagate")


def _check_policy(nan_policy: str) -> None:
    if nan_policy not in NAN_POLICIES:
        raise ValueError(f"nan_policy must be one of {', '.join(NAN_POLICIES)}, got {nan_policy!r}")


def per_group(
    metric: Callable[[ArrayLike, ArrayLike], float],
    y: ArrayLike,
    p: ArrayLike,
    groups: ArrayLike,
    *,
    nan_policy: NanPolicy = "propagate",
) -> dict[object, float]:
    """``metric(y, p)`` computed separately for each distinct value of ``groups`` (e.g. one per protein).

    Returns ``{group: value}`` in order of first appearance. ``nan_policy`` applies to the values:
    ``"propagate"`` (default) keeps ``nan``, ``"zero"`` replaces it by 0.0, ``"omit"`` leaves the group
    out. To know how many groups were undefined, keep the default and pass the values to
    :func:`summarise_groups`.
    """
    _check_policy(nan_policy)
    ya, pa = _pair(y, p)
    ga = np.asarray(groups).ravel()
    if ga.shape != ya.shape:
        raise ValueError(f"groups has {ga.size} entries, targets {ya.size}")
    _, first, inverse = np.unique(ga, return_index=True, return_inverse=True)
    out: dict[object, float] = {}
    for k in np.argsort(first):
        sel = inverse == k
        key = ga[first[k]]
        value = float(metric(ya[sel], pa[sel]))
        if np.isnan(value):
            if nan_policy == "omit":
                continue
            if nan_policy == "zero":
                value = 0.0
        out[key.item() if hasattr(key, "item") else key] = value
    return out


@dataclass(frozen=True)
class GroupSummary:
    """Mean of per-group values under a NaN policy, with the count of undefined groups.

    ``n_groups`` counts every group given; ``n_undefined`` those whose value was ``nan``;
    ``n_used`` those that entered the mean (``n_groups - n_undefined`` under ``"omit"``, else ``n_groups``).
    """

    mean: float
    n_groups: int
    n_undefined: int
    n_used: int
    nan_policy: str


def summarise_groups(
    values: Mapping[object, float] | Iterable[float], nan_policy: NanPolicy = "zero"
) -> GroupSummary:
    """Mean over groups of per-group values (a :func:`per_group` result or any sequence of floats).

    ``"zero"``: mean with undefined values as 0; ``"omit"``: mean of the defined values (``nan`` if
    none); ``"propagate"``: ``nan`` if any value is undefined. The mean of no groups is ``nan``.
    """
    _check_policy(nan_policy)
    vals = np.asarray(list(values.values() if isinstance(values, Mapping) else values), dtype=np.float64)
    undefined = np.isnan(vals)
    if nan_policy == "zero":
        used = np.where(undefined, 0.0, vals)
    elif nan_policy == "omit":
        used = vals[~undefined]
    else:
        used = vals
    mean = float(used.mean()) if used.size else float("nan")
    return GroupSummary(mean=mean, n_groups=int(vals.size), n_undefined=int(undefined.sum()),
                        n_used=int(used.size), nan_policy=nan_policy)
