"""The ``wq_samples`` layer: a year of monthly stand-in samples at the four sections.

Nothing here is measured: ``data/sources/wq_samples.json`` gives, per section, each
item's January and July level and a relative noise, typical of the League's steppe
rivers (see its ``_about``), and the build draws the twelve monthly values from a
seeded NumPy Generator in a fixed order, so the output is reproduced byte for byte.
Values are rounded to the decimals a monitoring report gives; trace items are
either detected or stored as their detection limit with ``<name>_lt`` true.  Each
sample is a point at its section, flagged illustrative.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import shapely

from geo.water.gb3838 import BELOW_DETECTION, PARAMETERS

from .provenance import AUTHORED, illustrative
from .sources import load

MONTHS = np.arange(1, 13)


def seasonal(jan: float, jul: float, months: np.ndarray = MONTHS) -> np.ndarray:
    """The level of each month between the January and the July level (cosine).

    Examples
    --------
    >>> seasonal(0.0, 1.0, np.array([1, 4, 7, 10])).round(2).tolist()
    [0.0, 0.5, 1.0, 0.5]
    """
    s = (1.0 - np.cos(2.0 * np.pi * (months - 1) / 12.0)) / 2.0
    return jan + (jul - jan) * s


def _round(values: np.ndarray, decimals: int) -> list[float | None]:
    out = np.round(values, decimals)
    return [None if np.isnan(v) else (float(v) if decimals > 0 else float(int(v)))
            for v in out]


def build_wq_samples(sections: tuple[list[dict], np.ndarray]) -> tuple[list[dict], np.ndarray]:
    """Records and points of the samples, by section (sections layer order) then month."""
    src = load("wq_samples")
    rng = np.random.default_rng(src["seed"])
    year, day = int(src["year"]), int(src["sample_day"])
    decimals = src["decimals"]
    records: list[dict] = []
    points: list[shapely.Point] = []
    sec_records, sec_points = sections
    for sec, point in zip(sec_records, sec_points, strict=True):
        spec = src["sections"][sec["id"]]
        values: dict[str, np.ndarray] = {}
        below: dict[str, np.ndarray] = {}
        # Draws in a fixed order (items in PARAMETERS order, then months): changing a
        # section's levels never changes another's draws beyond it.
        for name in PARAMETERS:
            if name in spec:
                jan, jul, noise = spec[name]
                level = seasonal(float(jan), float(jul))
                v = level * (1.0 + float(noise) * rng.standard_normal(12))
                values[name] = np.maximum(v, 0.0)
                below[name] = np.zeros(12, dtype=bool)
            else:
                trace = src["trace"][name]
                found = rng.random(12) < float(trace["detected"])
                lo, hi = trace["range"]
                v = rng.uniform(float(lo), float(hi), 12)
                values[name] = np.where(found, v, float(trace["limit"]))
                below[name] = ~found
        for month, change in spec.get("events", {}).items():
            for name, v in change.items():
                values[name][int(month) - 1] = float(v)
        for name, months in src["quarterly"].items():
            values[name] = np.where(np.isin(MONTHS, months), values[name], np.nan)
        # A sampling day a little different each month, as field work is.
        shift = rng.integers(-3, 4, 12)
        for m in range(12):
            rec = {
                "id": f"wq_{sec['id'].removeprefix('sec_')}_{year}{m + 1:02d}",
                "section_id": sec["id"], "section_zh": sec["name_zh"],
                "section_en": sec["name_en"],
                "sampled_on": date(year, m + 1, day + int(shift[m])),
            }
            for name in PARAMETERS:
                rec[name] = _round(values[name][m:m + 1], int(decimals[name]))[0]
                if name in BELOW_DETECTION:
                    rec[f"{name}_lt"] = bool(below[name][m]) and rec[name] is not None
            rec.update({"source": src["source"], "accuracy_m": float(sec["accuracy_m"]),
                        "illustrative": illustrative(AUTHORED)})
            records.append(rec)
            points.append(point)
    return records, np.asarray(points, dtype=object)
