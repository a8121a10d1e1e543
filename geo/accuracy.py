"""Answers no more precise than the data behind them: rounding steps and yes/no/uncertain.

A distance measured to a river drawn to ±5 km is not known to the decimetre, and
"inside the 1 km buffer" is not a fact when the river itself may lie 5 km away.
This module holds the two rules the atlas applies to every such answer:

* **Rounding** (:func:`rounding_step`, :func:`round_to_accuracy`): a value is
  rounded to a step of at most a tenth of the accuracy of the features it was
  measured against, chosen from 1, 2, 5 × 10ⁿ metres and never below 1 m (an
  accuracy of ±5 km gives 500 m, ±2 km 200 m, ±500 m 50 m; unknown accuracy 1 m).
* **Bands** (:func:`band_status`): a position known to ±a moves a distance by at
  most a (triangle inequality), so the true distance lies in [d − a, d + a].  Against
  a threshold t the answer is ``yes`` when d + a ≤ t, ``no`` when d − a > t and
  ``uncertain`` otherwise.

:func:`round_overlay` applies the rounding to the distance columns of
:func:`geo.overlay.overlay_sites`, each with its own accuracy column; the web layer
calls it instead of rounding to 0.1 m.

Examples
--------
>>> rounding_step([5000.0, 8000.0, 2000.0, 500.0, 3.0, float("nan")]).tolist()
[500.0, 500.0, 200.0, 50.0, 1.0, 1.0]
>>> round_to_accuracy([12_345.6, 12_345.6], [5000.0, 500.0]).tolist()
[12500.0, 12350.0]
>>> band_status([300.0, 4000.0, 9000.0], 1000.0, [5000.0, 2000.0, 5000.0]).tolist()
['uncertain', 'no', 'no']
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

#: Steps a rounded value may take, per decade (1, 2, 5 × 10ⁿ).
_MANTISSAS = np.array([1.0, 2.0, 5.0])

#: Smallest rounding step (m): the atlas never reports below a metre.
MIN_STEP_M = 1.0

#: Values of the ``*_status`` columns.
STATUSES: tuple[str, ...] = ("yes", "no", "uncertain")

#: Overlay columns rounded by :func:`round_overlay`: value column → (accuracy column,
#: unit of the value in metres).
OVERLAY_ROUNDING: dict[str, tuple[str, float]] = {
    "river_distance_m": ("river_accuracy_m", 1.0),
    "section_distance_m": ("section_accuracy_m", 1.0),
    "road_distance_m": ("road_accuracy_m", 1.0),
    "road_km": ("road_accuracy_m", 1000.0),
}

_BAND_LABELS = np.array(["uncertain", "yes", "no", ""], dtype=object)

#: The rule in words, for API descriptions, reports and pages.
ACCURACY_RULE = {
    "zh": ("距离按所比对要素的精度取整(步长不超过精度的十分之一, 至少1米); "
           "缓冲区与廊道判断在精度范围内时为“不确定”。"),
    "en": ("Distances are rounded to a step of at most a tenth of the accuracy of the "
           "features they were measured against (at least 1 m); buffer and corridor answers "
           "within that accuracy of the threshold are 'uncertain'."),
}


def provenance_arrays(frame: pd.DataFrame) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """The ``accuracy_m`` (float, NaN when absent) and ``illustrative`` (bool, False when
    absent) columns of a reference layer as arrays.

    Examples
    --------
    >>> acc, ill = provenance_arrays(pd.DataFrame({"accuracy_m": [500, None],
    ...                                            "illustrative": [True, None]}))
    >>> acc.tolist(), ill.tolist()
    ([500.0, nan], [True, False])
    >>> provenance_arrays(pd.DataFrame({"x": [1]}))[1].tolist()
    [False]
    """
    n = len(frame)
    acc = pd.to_numeric(frame["accuracy_m"], errors="coerce").to_numpy(dtype="float64") \
        if "accuracy_m" in frame else np.full(n, np.nan)
    ill = np.fromiter((_truthy(v) for v in frame["illustrative"].tolist()), dtype=bool,
                      count=n) if "illustrative" in frame else np.zeros(n, dtype=bool)
    return acc, ill


def _truthy(value: object) -> bool:
    """A flag as stored by any backend: True/1/"true" are true; None, NaN, "" are not."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    if value is None or value is pd.NA:
        return False
    try:
        return bool(value == value and value)  # NaN != NaN: not set
    except (TypeError, ValueError):
        return False


def rounding_step(accuracy_m: ArrayLike) -> NDArray[np.float64]:
    """The rounding step for each accuracy: the largest 1, 2 or 5 × 10ⁿ m ≤ accuracy / 10.

    Parameters
    ----------
    accuracy_m : array_like of float
        Accuracy (±metres) of what a value was measured against.  NaN, zero or
        negative (unknown) gives the smallest step, :data:`MIN_STEP_M`.

    Returns
    -------
    ndarray of float
        Steps in metres, at least :data:`MIN_STEP_M`.

    Examples
    --------
    >>> rounding_step([10_000.0, 1500.0, 30_000.0, 0.0]).tolist()
    [1000.0, 100.0, 2000.0, 1.0]
    """
    a = np.asarray(accuracy_m, dtype="float64") / 10.0
    ok = np.isfinite(a) & (a >= MIN_STEP_M)
    safe = np.where(ok, a, MIN_STEP_M)
    decade = 10.0 ** np.floor(np.log10(safe))
    # Largest mantissa m with m × decade ≤ a (the 1e-9 absorbs 0.3 / 0.1 style noise).
    ratio = safe / decade
    pick = (ratio[..., None] + 1e-9 >= _MANTISSAS).sum(axis=-1) - 1
    step = _MANTISSAS[np.clip(pick, 0, 2)] * decade
    return np.where(ok, np.maximum(step, MIN_STEP_M), MIN_STEP_M)


def round_to_accuracy(values: ArrayLike, accuracy_m: ArrayLike, unit_m: float = 1.0
                      ) -> NDArray[np.float64]:
    """Round ``values`` to the step :func:`rounding_step` gives for ``accuracy_m``.

    Parameters
    ----------
    values : array_like of float
        Values in units of ``unit_m`` metres (1 for metres, 1000 for km).
    accuracy_m : array_like of float
        Accuracy in metres, one per value (or one for all).
    unit_m : float
        Metres per unit of ``values``.

    Returns
    -------
    ndarray of float
        Rounded values (NaN stays NaN); no floating-point tails (12.3, not
        12.299999999999999).

    Examples
    --------
    >>> round_to_accuracy([41.237, 41.237], [3000.0, 80.0], unit_m=1000.0).tolist()
    [41.2, 41.235]
    """
    v = np.asarray(values, dtype="float64")
    step = rounding_step(np.broadcast_to(np.asarray(accuracy_m, dtype="float64"), v.shape))
    step_u = step / unit_m
    out = np.round(v / step_u) * step_u
    # Steps are 1/2/5 × 10ⁿ: rounding to the step's decimals drops the binary noise.
    decimals = np.clip(-np.floor(np.log10(step_u)), 0, 12).astype(int)
    return _round_by_decimals(out, decimals)


def _round_by_decimals(values: NDArray, decimals: NDArray) -> NDArray:
    """``np.round`` with a per-element number of decimals (a few distinct values)."""
    out = values.copy()
    for d in np.unique(decimals):
        sel = decimals == d
        out[sel] = np.round(values[sel], int(d))
    return out


def band_status(distance_m: ArrayLike, threshold_m: float, accuracy_m: ArrayLike
                ) -> NDArray[np.object_]:
    """``yes`` / ``no`` / ``uncertain``: is the distance within the threshold, given ±accuracy?

    Parameters
    ----------
    distance_m : array_like of float
        Measured distances (NaN: no answer, ``""``).
    threshold_m : float
        The buffer or corridor width.
    accuracy_m : array_like of float
        How far the true distance may differ from the measured one (NaN counts as 0:
        the measured answer stands).

    Returns
    -------
    ndarray of str (object)

    Examples
    --------
    >>> band_status([0.0, 1000.0, 1001.0, float("nan")], 1000.0, 0.0).tolist()
    ['yes', 'yes', 'no', '']
    >>> band_status([2500.0], 1000.0, [2000.0]).tolist()
    ['uncertain']
    """
    d = np.atleast_1d(np.asarray(distance_m, dtype="float64"))
    a = np.nan_to_num(np.broadcast_to(np.asarray(accuracy_m, dtype="float64"), d.shape),
                      nan=0.0)
    a = np.maximum(a, 0.0)
    with np.errstate(invalid="ignore"):
        # yes and no exclude each other: 0 uncertain, 1 yes, 2 no, then 3 for NaN.
        code = (d + a <= threshold_m).view(np.int8) + 2 * (d - a > threshold_m).view(np.int8)
    code[np.isnan(d)] = 3
    return _BAND_LABELS[code]


def round_overlay(frame: pd.DataFrame, columns: dict[str, tuple[str, float]] | None = None
                  ) -> pd.DataFrame:
    """A copy of an overlay result with its distances rounded to their accuracy.

    Parameters
    ----------
    frame : DataFrame
        Output of :func:`geo.overlay.overlay_sites` (or a subset of its columns).
    columns : dict, optional
        Value column → (accuracy column, metres per unit); default
        :data:`OVERLAY_ROUNDING`.  Columns absent from ``frame`` are skipped; a value
        column without its accuracy column is rounded to 1 m (its unit's metre).

    Returns
    -------
    DataFrame
        Same index and columns, distances rounded.

    Examples
    --------
    >>> f = pd.DataFrame({"river_distance_m": [12_345.67], "river_accuracy_m": [8000.0],
    ...                   "road_km": [123.4567], "road_accuracy_m": [3000.0]})
    >>> round_overlay(f)[["river_distance_m", "road_km"]].values.tolist()
    [[12500.0, 123.4]]
    """
    out = frame.copy()
    for col, (acc_col, unit) in (columns or OVERLAY_ROUNDING).items():
        if col not in out:
            continue
        acc = out[acc_col].to_numpy(dtype="float64") if acc_col in out else \
            np.full(len(out), np.nan)
        out[col] = round_to_accuracy(out[col].to_numpy(dtype="float64"), acc, unit)
    return out
