"""A user's file as the next version of a catalog layer: every pure step, in order.

:func:`prepare_replacement` takes what :func:`geo.read.read_file` read (with
``keep_unlocated=True, trace=True``) and the current versions of the catalog layers,
and answers everything a dry run shows and a commit needs, storing nothing:

1. rows the reader dropped become errors (a registry must not lose rows silently);
2. columns are mapped onto the catalog's fields (:mod:`layers.mapping`);
3. rows without coordinates are placed from their county and place columns (the
   offline gazetteer);
4. the geometry type is checked and simplified (:func:`layers.validate_ref.conform_geometries`);
5. derived fields are recomputed (:func:`layers.derive.derive_layer`);
6. the rows are validated against the catalog (:func:`layers.validate_ref.validate_layer`);
7. in ``append`` mode the rows are merged into the current version by id;
8. the dependent layers are re-derived (:func:`layers.derive.derive_dependents`);
9. the diff against the current version and, for the registry, the totals beside
   the seed article's table (:mod:`layers.preview`).

The endpoint then answers the dry run with :meth:`Replacement.preview` (200), a
commit with errors with the same body (422), and a commit without errors writes
:meth:`Replacement.to_commit` with ``store.put_many`` — the replaced layer and its
re-derived dependents in one transaction.

Examples
--------
>>> import geopandas as gpd
>>> from geo.read import read_file
>>> from layers.prepare import layer_path
>>> current = {n: gpd.read_file(layer_path(n)) for n in ("admin", "projects")}
>>> sheet = ("项目名称,旗县市区,地点,类别,总投资(万元),2023年计划投资(万元)\\n"
...          "大北沟风电项目,多伦县,大北沟镇,能源,120000,30000\\n").encode()
>>> rep = prepare_replacement("projects", read_file(sheet, filename="a.csv", keep_unlocated=True,
...                                                  trace=True), current)
>>> rep.ok, rep.gdf[["county", "category", "total_investment_yi", "plan_2023_yi"]].values.tolist()
(True, [['多伦县', 'energy', 12.0, 3.0]])
>>> rep.diff["counts"]["added"], rep.diff["counts"]["removed"]
(1, 150)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.gazetteer import Gazetteer
from geo.geojson import encode_for_zoom, feature_collection
from geo.report import ReadResult, Report

from .derive import DerivedLayer, derive_dependents, derive_layer
from .issues import Issues
from .mapping import PRIVATE_COLUMNS, ROW_COLUMN, ColumnMapping, map_columns, place_rows
from .preview import diff_layers, totals_beside_seed
from .reference_hooks import HookContext, hook_for
from .spec import LayerSpec
from .validate_ref import conform_geometries, errors_from_read, reference_spec, validate_layer

Mode = Literal["replace", "append"]
MODES: tuple[str, ...] = ("replace", "append")


def storable(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    """The catalog's fields in catalog order and the geometry: what a store keeps.

    Private columns (``_row`` …) are dropped, missing fields added empty, numbers as
    floats, yes/no as booleans (None where unknown).

    Examples
    --------
    >>> import shapely
    >>> from layers.catalog import get_spec
    >>> g = gpd.GeoDataFrame({"_row": [3], "name_zh": ["甲"], "km": ["1.5"]},
    ...                      geometry=[shapely.Point(116, 44)], crs=4326)
    >>> out = storable(g, get_spec("stations"))
    >>> list(out.columns)[:4], float(out["km"][0]), "_row" in out
    (['id', 'name_zh', 'name_en', 'county'], 1.5, False)
    """
    out: dict[str, Any] = {}
    n = len(gdf)
    for f in spec.fields:
        values = gdf[f.name] if f.name in gdf else pd.Series([None] * n, index=gdf.index)
        if f.kind in ("float", "int"):
            out[f.name] = pd.to_numeric(values, errors="coerce").astype("float64")
            if f.kind == "int" and out[f.name].notna().all():
                out[f.name] = out[f.name].astype("int64")
        elif f.kind == "bool":
            out[f.name] = values.map(lambda v: None if v is None or (isinstance(v, float)
                                                                     and np.isnan(v)) else bool(v))
        else:
            out[f.name] = values.map(lambda v: None if v is None or (isinstance(v, float)
                                                                     and np.isnan(v)) else str(v))
    frame = pd.DataFrame(out, index=gdf.index)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(gdf.geometry.values, index=gdf.index,
                                                          crs=gdf.crs or "EPSG:4326"),
                            crs=gdf.crs or "EPSG:4326").reset_index(drop=True)


def merge_append(current: gpd.GeoDataFrame, rows: gpd.GeoDataFrame, key: str = "id"
                 ) -> tuple[gpd.GeoDataFrame, int, int]:
    """Rows added to ``current``; a row whose ``key`` is already there replaces it.

    Returns
    -------
    (GeoDataFrame, int, int)
        The merged layer (current order, updated rows in place, new rows at the end),
        how many rows were updated and how many added.

    Examples
    --------
    >>> import shapely
    >>> cur = gpd.GeoDataFrame({"id": ["a", "b"], "v": [1, 2]}, geometry=[shapely.Point(0, 0)] * 2)
    >>> new = gpd.GeoDataFrame({"id": ["b", "c"], "v": [20, 30]}, geometry=[shapely.Point(1, 1)] * 2)
    >>> m, updated, added = merge_append(cur, new)
    >>> m["v"].tolist(), updated, added
    ([1, 20, 30], 1, 1)
    """
    cur = current.reset_index(drop=True)
    cur_ids = cur[key].astype(str).tolist() if key in cur else []
    pos = {v: i for i, v in enumerate(cur_ids)}
    new_ids = rows[key].astype(str).tolist() if key in rows else [None] * len(rows)
    update = np.array([i for i, v in enumerate(new_ids) if v in pos], dtype=np.int64)
    add = np.array([i for i, v in enumerate(new_ids) if v not in pos], dtype=np.int64)
    at = np.array([pos[new_ids[i]] for i in update], dtype=np.int64)
    geom = cur.geometry.name
    cols = [c for c in cur.columns if c in rows.columns and c != geom]
    # Column by column as objects: a row's new values whatever the current dtypes are.
    data: dict[str, Any] = {}
    for c in cur.columns:
        if c == geom:
            continue
        values = cur[c].to_numpy(dtype=object).copy()
        if c in cols and len(update):
            values[at] = rows[c].to_numpy(dtype=object)[update]
        extra = rows[c].to_numpy(dtype=object)[add] if c in rows else \
            np.full(len(add), None, dtype=object)
        data[c] = np.concatenate([values, extra])
    geoms = np.asarray(cur.geometry.values, dtype=object).copy()
    new_geoms = np.asarray(rows.geometry.values, dtype=object)
    if len(update):
        geoms[at] = new_geoms[update]
    merged = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(np.concatenate([geoms, new_geoms[add]]),
                                                           crs=current.crs or rows.crs))
    return merged, len(update), len(add)


@dataclass
class Replacement:
    """Everything a replacement of a catalog layer would do (nothing stored).

    Attributes
    ----------
    layer : str
        The catalog layer.
    mode : {"replace", "append"}
    gdf : GeoDataFrame
        The new version as it would be stored (:func:`storable`).
    rows : GeoDataFrame
        The file's rows after mapping, placing and deriving, with ``_row`` (for the
        preview map: the rows in error are :meth:`layers.issues.Issues.rows_in_error`).
    mapping : ColumnMapping
    filled : dict
    placements : DataFrame
        One line per row placed by name (the gazetteer's answer).
    derived : DerivedLayer
    dependents : dict
        Dependent layer → :class:`~layers.derive.DerivedLayer`.
    issues : Issues
        Errors (a commit answers 422) and warnings, from every step.
    report : geo.report.Report
        The read report.
    diff : dict or None
        Against the current version (:func:`layers.preview.diff_layers`).
    totals : dict or None
        For ``projects``: :func:`layers.preview.totals_beside_seed`.
    appended : dict
        In ``append`` mode: ``{"updated": n, "added": m}``.
    """

    layer: str
    mode: str
    gdf: gpd.GeoDataFrame
    rows: gpd.GeoDataFrame
    mapping: ColumnMapping
    filled: dict[str, str]
    placements: pd.DataFrame
    derived: DerivedLayer
    dependents: dict[str, DerivedLayer]
    issues: Issues
    report: Report
    diff: dict[str, Any] | None = None
    totals: dict[str, Any] | None = None
    appended: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when nothing stops a commit."""
        return self.issues.ok

    def to_commit(self) -> dict[str, gpd.GeoDataFrame]:
        """The layers a commit writes in one ``put_many``: this one and its re-derived dependents.

        Dependents whose derived fields did not change are left out (their current
        version stays).
        """
        out = {self.layer: self.gdf}
        for name, d in self.dependents.items():
            if d.changed:
                out[name] = storable(d.gdf, reference_spec(name))
        return out

    def preview(self) -> dict[str, Any]:
        """The JSON body of a dry run (and of a 422): counts, mapping, issues, diff, totals."""
        issues = self.issues.to_dict()
        return {
            "layer": self.layer,
            "mode": self.mode,
            "ok": self.ok,
            "counts": {"rows_read": int(self.report.source.get("features_in", len(self.rows))),
                       "features": int(len(self.gdf)),
                       "placed_by_name": int(len(self.placements)),
                       **issues.pop("counts"),
                       **({"appended": self.appended} if self.appended else {})},
            "mapping": self.mapping.to_dict(),
            "filled": self.filled,
            "placements": _records(self.placements),
            "derived": self.derived.to_dict(),
            "dependents": {k: v.to_dict() for k, v in self.dependents.items()},
            "commits": sorted(self.to_commit()),
            **issues,
            "rows_in_error": self.issues.rows_in_error(),
            "diff": self.diff,
            "totals": self.totals,
            "report": self.report.to_dict(),
        }


#: Rows drawn on the preview map at most (a larger file shows its first ones).
PREVIEW_FEATURES = 20_000


def preview_features(rep: Replacement, limit: int = PREVIEW_FEATURES, zoom: int = 11) -> bytes:
    """The file's rows as a GeoJSON FeatureCollection for the preview map.

    Each feature has ``row`` (in the user's file), ``id``, ``name`` and ``error`` (the
    row has an error: drawn highlighted); rows that could not be placed have a null
    geometry.  Coordinates are trimmed and shapes simplified for a map at ``zoom``.

    Examples
    --------
    >>> import json, geopandas as gpd
    >>> from geo.read import read_file
    >>> from layers.prepare import layer_path
    >>> current = {"admin": gpd.read_file(layer_path("admin"))}
    >>> sheet = "名称,经度,纬度,类别\\n甲,116.1,43.9,能源\\n乙,116.2,43.8,无此类\\n".encode()
    >>> rep = prepare_replacement("projects", read_file(sheet, filename="a.csv",
    ...                           keep_unlocated=True, trace=True), current)
    >>> [(f["properties"]["row"], f["properties"]["error"]) for f in
    ...  json.loads(preview_features(rep))["features"]]
    [(2, False), (3, True)]
    """
    rows = rep.rows.iloc[:limit]
    spec = reference_spec(rep.layer)
    n = len(rows)
    numbers = rows[ROW_COLUMN].to_numpy() if ROW_COLUMN in rows else np.arange(1, n + 1)
    bad = set(rep.issues.rows_in_error())

    def col(name: str) -> np.ndarray:
        if name in rows:
            return rows[name].map(lambda v: None if v is None or (isinstance(v, float)
                                                                  and np.isnan(v)) else str(v)
                                  ).to_numpy(dtype=object)
        return np.full(n, None, dtype=object)

    frame = gpd.GeoDataFrame(
        {"row": numbers.astype("int64"), "id": col("id"), "name": col(spec.name_field),
         "error": np.array([int(r) in bad for r in numbers], dtype=bool)},
        geometry=gpd.GeoSeries(rows.geometry.values, crs="EPSG:4326"), crs="EPSG:4326")
    return feature_collection(encode_for_zoom(frame, zoom), {
        "numberMatched": int(len(rep.rows)), "numberReturned": n})


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in frame.to_dict("records"):
        out.append({k: (None if isinstance(v, float) and not np.isfinite(v) else
                        v.item() if hasattr(v, "item") else v) for k, v in rec.items()})
    return out


def prepare_replacement(layer: str, read: ReadResult | tuple[gpd.GeoDataFrame, Report],
                        current: Mapping[str, gpd.GeoDataFrame], *,
                        mapping: Mapping[str, Any] | None = None, mode: str = "replace",
                        defaults: Mapping[str, Any] | None = None,
                        gazetteer: Gazetteer | None = None,
                        options: Mapping[str, str] | None = None) -> Replacement:
    """Map, place, derive and validate a user's file as the next version of ``layer``.

    Parameters
    ----------
    layer : str
        A catalog layer id (:func:`layers.validate_ref.reference_spec` raises
        :class:`~layers.errors.LayerNotFound` otherwise).
    read : ReadResult or (GeoDataFrame, Report)
        The file as :func:`geo.read.read_file` read it; pass ``keep_unlocated=True``
        (rows placed by name) and ``trace=True`` (row numbers, coordinate precision).
    current : mapping
        The current version of each catalog layer by id (``store.get(name)``);
        layers missing are skipped (no derivation from them, no diff).
    mapping : dict, optional
        ``{"catalog_field": "source column"}`` overriding the automatic matching (the
        pseudo-field ``place`` names the place column).
    mode : {"replace", "append"}
        ``append``: the rows are added to the current version, rows with an existing
        id update it.
    defaults : dict, optional
        Values for fields the file does not give: ``source`` and ``illustrative``
        from the upload's provenance.
    gazetteer : Gazetteer, optional
        Default: the atlas's ``data/sources/gazetteer.json``.
    options : dict, optional
        The layer hook's own options (:attr:`layers.reference_hooks.ReferenceHook.options`).

    A layer with a :class:`~layers.reference_hooks.ReferenceHook` whose ``map`` is
    set has its rows mapped (and placed) by the hook instead of steps 2–4's generic
    mapping and placing; every later step is the same.

    Returns
    -------
    Replacement
    """
    spec = reference_spec(layer)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    gdf, report = read
    where = report.source.get("row_kind", "feature")
    issues = Issues()
    hook = hook_for(layer)
    # A file of another geometry type is for another layer: that one error says it all.
    wrong = Issues()
    conform_geometries(gdf, spec, wrong, where=where)
    wrong_file = any(i.code == "wrong_geometry" and i.row is None for i in wrong.errors)
    if wrong_file:
        issues.extend(wrong)
    errors_from_read(report, issues)
    if hook is not None and hook.map is not None and not wrong_file:
        mapped = hook.map(ReadResult(gdf, report), HookContext(
            layer=layer, spec=spec, current=current, mapping=mapping, defaults=defaults or {},
            options=options or {}, where=where, gazetteer=gazetteer))
        placements = pd.DataFrame()
    else:
        mapped = map_columns(gdf, spec, mapping, unit_hint=report.source.get("unit"),
                             where=where, defaults=defaults)
        placements = place_rows(mapped, gazetteer, where=where) \
            if spec.geometry_type == "Point" and not wrong_file else pd.DataFrame()
    if not wrong_file:
        issues.extend(mapped.issues)
    rows = conform_geometries(mapped.gdf, spec, Issues() if wrong_file else issues, where=where)
    context = {k: v for k, v in current.items() if k != layer}
    if wrong_file:
        derived = DerivedLayer(layer, rows)
    else:
        derived = derive_layer(layer, rows, context, where=where, gazetteer=gazetteer)
        issues.extend(derived.issues)
        admin = derived.gdf if layer == "admin" else current.get("admin")
        validate_layer(derived.gdf, spec, issues=issues, mapping=mapped.mapping, where=where,
                       admin=admin, context=context, read_report=report)
    new = storable(derived.gdf, spec)
    appended: dict[str, int] = {}
    if mode == "append" and layer in current:
        new, updated, added = merge_append(storable(current[layer], spec), new)
        new = storable(new, spec)
        appended = {"updated": updated, "added": added}
    dependents = {} if wrong_file else derive_dependents(layer, new, context, gazetteer=gazetteer)
    for dep in dependents.values():
        issues.extend(dep.issues)
    diff = diff_layers(current[layer], new) if layer in current else None
    totals = totals_beside_seed(new, current.get("projects")) if layer == "projects" else None
    rows_out = derived.gdf.drop(columns=[c for c in PRIVATE_COLUMNS
                                         if c in derived.gdf and c != ROW_COLUMN])
    return Replacement(layer=layer, mode=mode, gdf=new, rows=rows_out, mapping=mapped.mapping,
                       filled=mapped.filled, placements=placements, derived=derived,
                       dependents=dependents, issues=issues, report=report, diff=diff,
                       totals=totals, appended=appended)


def spec_of(layer: str) -> LayerSpec:
    """The catalog layer (alias of :func:`layers.validate_ref.reference_spec`)."""
    return reference_spec(layer)
