"""What a replacement would change: the diff by id and the registry's totals beside the seed.

Pure functions on GeoDataFrames, for the dry run of a reference replacement and
for the ``/data`` page:

* :func:`diff_layers` — added, removed and changed ids between two versions of a
  layer, and for each changed id the fields that changed (``geometry`` when it
  moved, with how far for points);
* :func:`registry_totals` — the project registry's count, total investment, 2023
  plan and permits, overall and by category, status and investor;
* :func:`totals_beside_seed` — those figures for the new and the current version
  beside the seed article's table (:data:`layers.catalog.SEED_PROJECT_TOTALS`),
  with the differences.

Examples
--------
>>> import geopandas as gpd, shapely
>>> old = gpd.GeoDataFrame({"id": ["a", "b"], "v": [1.0, 2.0]},
...                        geometry=[shapely.Point(116, 44), shapely.Point(117, 44)], crs=4326)
>>> new = gpd.GeoDataFrame({"id": ["b", "c"], "v": [2.5, 3.0]},
...                        geometry=[shapely.Point(117, 44), shapely.Point(118, 44)], crs=4326)
>>> d = diff_layers(old, new)
>>> d["added"], d["removed"], d["changed"], d["counts"]
(['c'], ['a'], [{'id': 'b', 'fields': ['v']}], {'old': 2, 'new': 2, 'added': 1, 'removed': 1, 'changed': 1, 'unchanged': 0})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import measure

from .catalog import PROJECT_CATEGORIES, PROJECT_INVESTORS, PROJECT_STATUSES, SEED_PROJECT_TOTALS
from .mapping import PRIVATE_COLUMNS

#: Ids listed per kind of change (the counts are always whole).
MAX_LISTED = 1000
#: Geometries closer than this (degrees, ~1 cm) are the same.
SAME_GEOMETRY_DEG = 1e-7


def _key(gdf: pd.DataFrame, key: str) -> pd.Series:
    if key in gdf:
        return gdf[key].astype(str)
    return pd.Series([f"#{i + 1}" for i in range(len(gdf))], index=gdf.index)


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise equality of two object arrays: None = NaN = "", numbers by value."""
    out = np.zeros(len(a), dtype=bool)
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        ex = x is None or (isinstance(x, float) and np.isnan(x)) or x == ""
        ey = y is None or (isinstance(y, float) and np.isnan(y)) or y == ""
        if ex or ey:
            out[i] = ex and ey
        elif isinstance(x, (bool, np.bool_)) or isinstance(y, (bool, np.bool_)):
            out[i] = bool(x) == bool(y)
        elif isinstance(x, (int, float, np.number)) and isinstance(y, (int, float, np.number)):
            out[i] = bool(np.isclose(float(x), float(y), rtol=1e-9, atol=1e-9))
        else:
            out[i] = str(x) == str(y)
    return out


def diff_layers(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, key: str = "id",
                fields: Sequence[str] | None = None) -> dict[str, Any]:
    """The changes from ``old`` to ``new``, matched by ``key``.

    Parameters
    ----------
    old, new : GeoDataFrame
        Two versions of a layer (EPSG:4326).
    key : str
        The id column (rows are numbered ``#1 …`` when a version has none).
    fields : sequence of str, optional
        Fields to compare (default: the properties both versions have, private
        columns left out); ``geometry`` is always compared.

    Returns
    -------
    dict
        ``added``, ``removed`` (ids), ``changed`` (``{"id", "fields", "moved_m"?}``),
        each listed up to :data:`MAX_LISTED`, ``fields_changed`` (field → number of
        features), and ``counts``.
    """
    ko, kn = _key(old, key), _key(new, key)
    pos_old = {v: i for i, v in enumerate(ko)}
    pos_new = {v: i for i, v in enumerate(kn)}
    added = [v for v in kn if v not in pos_old]
    removed = [v for v in ko if v not in pos_new]
    both = [v for v in kn if v in pos_old]
    io = np.array([pos_old[v] for v in both], dtype=np.int64)
    inew = np.array([pos_new[v] for v in both], dtype=np.int64)
    skip = set(PRIVATE_COLUMNS) | {key, old.geometry.name, new.geometry.name}
    cols = list(fields) if fields is not None else [
        c for c in new.columns if c in old.columns and c not in skip]
    changed_fields: dict[str, np.ndarray] = {}
    for c in cols:
        a = old[c].to_numpy(dtype=object)[io] if len(io) else np.array([], dtype=object)
        b = new[c].to_numpy(dtype=object)[inew] if len(inew) else np.array([], dtype=object)
        diff = ~_same(a, b)
        if diff.any():
            changed_fields[c] = diff
    go = np.asarray(old.geometry.values, dtype=object)[io] if len(io) else np.array([], object)
    gn = np.asarray(new.geometry.values, dtype=object)[inew] if len(inew) else np.array([], object)
    moved = np.zeros(len(both), dtype=bool)
    moved_m = np.full(len(both), np.nan)
    if len(both):
        ok = ~(shapely.is_missing(go) | shapely.is_missing(gn))
        same = np.zeros(len(both), dtype=bool)
        # Normalised first: a ring written the other way round (shapefiles) is the same shape.
        same[ok] = shapely.equals_exact(shapely.normalize(go[ok]), shapely.normalize(gn[ok]),
                                        tolerance=SAME_GEOMETRY_DEG)
        same |= shapely.is_missing(go) & shapely.is_missing(gn)
        moved = ~same
        pts = moved & ok & (shapely.get_type_id(go) == 0) & (shapely.get_type_id(gn) == 0)
        if pts.any():
            moved_m[pts] = shapely.distance(measure.to_metric(go[pts]), measure.to_metric(gn[pts]))
    if moved.any():
        changed_fields["geometry"] = moved
    any_change = np.zeros(len(both), dtype=bool)
    for v in changed_fields.values():
        any_change |= v
    changed = []
    for k in np.flatnonzero(any_change)[:MAX_LISTED]:
        entry: dict[str, Any] = {"id": both[k],
                                 "fields": [c for c, v in changed_fields.items() if v[k]]}
        if np.isfinite(moved_m[k]):
            entry["moved_m"] = round(float(moved_m[k]), 1)
        changed.append(entry)
    return {
        "key": key,
        "added": added[:MAX_LISTED],
        "removed": removed[:MAX_LISTED],
        "changed": changed,
        "fields_changed": {c: int(v.sum()) for c, v in changed_fields.items()},
        "counts": {"old": int(len(old)), "new": int(len(new)), "added": len(added),
                   "removed": len(removed), "changed": int(any_change.sum()),
                   "unchanged": int(len(both) - any_change.sum())},
    }


def _money(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col in frame:
        return pd.to_numeric(frame[col], errors="coerce").fillna(0.0).to_numpy(dtype="float64")
    return np.zeros(len(frame))


def _permits(frame: pd.DataFrame) -> np.ndarray:
    if "permits_complete" not in frame:
        return np.zeros(len(frame), dtype=bool)
    return np.array([v is True or v == 1 or (isinstance(v, str) and v.lower() == "true")
                     or (isinstance(v, (bool, np.bool_)) and bool(v))
                     for v in frame["permits_complete"].to_numpy(dtype=object)], dtype=bool)


def _figures(frame: pd.DataFrame, sel: np.ndarray | None = None) -> dict[str, Any]:
    sel = np.ones(len(frame), dtype=bool) if sel is None else sel
    # Sums in integer 0.01 亿元 so the totals are exact, as the build allocates them.
    cents = lambda c: int(np.round(_money(frame, c)[sel] * 100).sum())  # noqa: E731
    return {"count": int(sel.sum()), "total_investment_yi": cents("total_investment_yi") / 100,
            "plan_2023_yi": cents("plan_2023_yi") / 100,
            "permits_complete": int(_permits(frame)[sel].sum())}


_SPLITS = {"by_category": ("category", PROJECT_CATEGORIES),
           "by_status": ("status", PROJECT_STATUSES),
           "by_investor": ("investor", PROJECT_INVESTORS)}


def registry_totals(gdf: pd.DataFrame) -> dict[str, Any]:
    """The registry's figures: overall and by category, status and investor.

    Values the catalog does not know (or empty) are counted under ``""``.

    Examples
    --------
    >>> f = pd.DataFrame({"category": ["energy", "ecology"], "status": ["new", "new"],
    ...     "investor": ["social", "government"], "plan_2023_yi": [2.0, 1.0],
    ...     "total_investment_yi": [5.0, 3.0], "permits_complete": [True, False]})
    >>> t = registry_totals(f)
    >>> t["total"], t["by_category"]["energy"]["count"], t["by_status"]["continuing"]["count"]
    ({'count': 2, 'total_investment_yi': 8.0, 'plan_2023_yi': 3.0, 'permits_complete': 1}, 1, 0)
    """
    out: dict[str, Any] = {"total": _figures(gdf)}
    for split, (col, codes) in _SPLITS.items():
        values = gdf[col].fillna("").astype(str).to_numpy() if col in gdf else \
            np.full(len(gdf), "", dtype=object)
        table = {c.value: _figures(gdf, values == c.value) for c in codes}
        other = ~np.isin(values, [c.value for c in codes])
        if other.any():
            table[""] = _figures(gdf, other)
        out[split] = table
    return out


def totals_beside_seed(new: pd.DataFrame, current: pd.DataFrame | None = None,
                       seed: Mapping[str, Any] = SEED_PROJECT_TOTALS) -> dict[str, Any]:
    """The new registry's figures beside the current version's and the seed article's table.

    Returns
    -------
    dict
        ``total`` and one list per split (``by_category``, ``by_status``,
        ``by_investor``) of rows ``{"key", "label_zh", "label_en", "seed",
        "current", "new", "difference"}``; each figure set holds ``count`` and
        ``plan_2023_yi`` (the seed's splits publish only these two), the totals also
        ``total_investment_yi`` and ``permits_complete``.  ``difference`` is new −
        seed.

    Examples
    --------
    >>> f = pd.DataFrame({"category": ["energy"], "status": ["new"], "investor": ["social"],
    ...     "plan_2023_yi": [2.0], "total_investment_yi": [5.0], "permits_complete": [True]})
    >>> t = totals_beside_seed(f)
    >>> t["total"]["difference"]["count"], t["by_category"][0]["seed"]
    (-149, {'count': 57, 'plan_2023_yi': 271})
    """
    n = registry_totals(new)
    c = registry_totals(current) if current is not None else None
    seed_total = {k: seed[k] for k in ("count", "total_investment_yi", "plan_2023_yi",
                                       "permits_complete")}

    def diff(a: dict, b: dict) -> dict:
        return {k: round(a[k] - b[k], 2) for k in b if k in a}

    out: dict[str, Any] = {"total": {"seed": seed_total, "current": c["total"] if c else None,
                                     "new": n["total"], "difference": diff(n["total"], seed_total)}}
    for split, (_, codes) in _SPLITS.items():
        rows = []
        for code in codes:
            s = seed[split].get(code.value)
            s_fig = {"count": s[0], "plan_2023_yi": s[1]} if s else None
            new_fig = {k: n[split][code.value][k] for k in ("count", "plan_2023_yi",
                                                            "total_investment_yi",
                                                            "permits_complete")}
            rows.append({"key": code.value, "label_zh": code.label_zh, "label_en": code.label_en,
                         "seed": s_fig,
                         "current": c[split][code.value] if c else None,
                         "new": new_fig,
                         "difference": diff(new_fig, s_fig) if s_fig else None})
        if "" in n[split]:
            rows.append({"key": "", "label_zh": "未分类", "label_en": "Not classified",
                         "seed": None, "current": c[split].get("") if c else None,
                         "new": n[split][""], "difference": None})
        out[split] = rows
    return out
