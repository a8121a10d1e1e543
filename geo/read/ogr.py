"""Formats read through GDAL (pyogrio): GeoJSON, Shapefile, GeoPackage, KML, GPX.

:func:`read_layer` reads one layer with pyogrio's raw reader so that the
geometries arrive as WKB and can be decoded here with shapely in one vectorised
call: WKB that GEOS refuses (GDAL accepts unclosed rings) is decoded a second
time with ``on_invalid="fix"``, which closes rings, and what still cannot be
decoded is dropped with a reason instead of failing the whole file.

Examples
--------
>>> import json
>>> from geo.report import Report
>>> fc = {"type": "FeatureCollection", "features": [{"type": "Feature",
...       "properties": {"name": "a"}, "geometry": {"type": "Polygon",
...       "coordinates": [[[116, 43], [117, 43], [117, 44], [116, 44]]]}}]}
>>> report = Report()
>>> gdf, crs = read_layer(json.dumps(fc).encode(), report=report)
>>> gdf.geometry[0].is_valid, report.repairs[0].code
(True, 'unclosed_ring')
"""

from __future__ import annotations

import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.raw
import shapely
from pyogrio.errors import CRSError, DataLayerError, DataSourceError, FieldError, GeometryError

from ..errors import GeoInputError
from ..report import Report

_OGR_ERRORS = (DataSourceError, DataLayerError, FieldError, GeometryError, CRSError, RuntimeError,
               ValueError, OSError)


def list_layers(path: str | bytes) -> list[tuple[str, str | None]]:
    """``(name, geometry type)`` of every layer GDAL sees in ``path``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layers = pyogrio.list_layers(path)
    except _OGR_ERRORS as e:
        raise GeoInputError(f"the file cannot be opened as geodata ({_first_line(e)})",
                            hint="check that the file is complete and not damaged",
                            status=422, code="file_unreadable", message_zh="文件无法作为地理数据打开", hint_zh="请检查文件是否完整、有没有损坏") from e
    return [(str(n), None if t is None else str(t)) for n, t in layers]


def _first_line(e: BaseException) -> str:
    return str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__


def read_layer(path: str | bytes, *, layer: str | int | None = None,
               encoding: str | None = None, report: Report,
               offset: int = 0) -> tuple[gpd.GeoDataFrame, Any]:
    """One layer as a GeoDataFrame (index = feature number + ``offset``) and its CRS.

    Parameters
    ----------
    path : str or bytes
        A file path, or the bytes of a single-file format.
    layer : str or int, optional
        Layer to read (default the first).
    encoding : str, optional
        Attribute encoding to force (shapefiles without ``.cpg``).
    report : Report
        Receives repairs (closed rings) and drops (unreadable geometries).
    offset : int
        Added to feature numbers, when several layers are concatenated.

    Returns
    -------
    (GeoDataFrame, crs)
        ``crs`` is what the file declares (None when it declares nothing); the frame
        itself has no CRS set yet.
    """
    try:
        with warnings.catch_warnings():
            # GDAL warns about unclosed rings, odd field types …; the report says it better.
            warnings.simplefilter("ignore")
            meta, _fids, wkb, field_data = pyogrio.raw.read(
                path, layer=layer, encoding=encoding)
    except _OGR_ERRORS as e:
        raise GeoInputError(f"the file cannot be read as geodata ({_first_line(e)})",
                            hint="check that the file is complete and not damaged",
                            status=422, code="file_unreadable", message_zh="文件无法作为地理数据读取", hint_zh="请检查文件是否完整、有没有损坏") from e
    n = len(field_data[0]) if len(field_data) else (0 if wkb is None else len(wkb))
    index = pd.RangeIndex(offset, offset + n)
    columns: dict[str, Any] = {}
    for name, values in zip(meta["fields"], field_data, strict=True):
        key = str(name)
        if key == "geometry":  # the one name a GeoDataFrame reserves for itself
            key = "geometry_"
            report.warn("renamed_field", "property 'geometry' renamed to 'geometry_'",
                        "属性geometry改名为geometry_")
        columns[key] = values
    frame = pd.DataFrame(columns, index=index)
    geoms, unreadable = decode_wkb(
        wkb if wkb is not None else np.full(n, None, dtype=object), index.to_numpy(), report)
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, index=index))
    if unreadable.any():
        gdf = gdf.loc[~unreadable]
    gdf.attrs["features_read"] = n
    return gdf, meta.get("crs")


def decode_wkb(wkb: np.ndarray, labels: np.ndarray, report: Report
               ) -> tuple[np.ndarray, np.ndarray]:
    """Shapely geometries from WKB; unclosed rings closed, the undecodable marked.

    Returns the geometries and a boolean mask of those that could not be decoded
    (recorded in ``report`` as dropped; missing WKB is left to the validator).
    """
    wkb = np.asarray(wkb, dtype=object)
    present = ~pd.isna(wkb)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        geoms = shapely.from_wkb(wkb, on_invalid="ignore")
    failed = present & shapely.is_missing(geoms)
    if failed.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fixed = shapely.from_wkb(wkb[failed], on_invalid="fix")
        geoms[failed] = fixed
        ok = ~shapely.is_missing(fixed)
        report.repair_many("unclosed_ring", "unclosed polygon ring closed",
                           "多边形环未闭合，已闭合", labels[failed][ok])
        report.drop_many(
            "unreadable_geometry",
            "geometry cannot be read (too few points or malformed coordinates)",
            "几何无法读取（点数过少或坐标格式错误）", labels[failed][~ok])
    return geoms, failed & shapely.is_missing(geoms)


def drop_empty_columns(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Without the property columns that are null in every row (GPX/KML schema noise)."""
    props = [c for c in gdf.columns if c != gdf.geometry.name]
    empty = [c for c in props if gdf[c].isna().all()]
    return gdf.drop(columns=empty) if empty else gdf


#: KML display columns GDAL's KML/LIBKML drivers add to every layer, with the values that
#: mean "not set" (LIBKML reports an absent element as -1; the others are KML's defaults).
KML_DISPLAY_DEFAULTS: dict[str, frozenset] = {
    "tessellate": frozenset({-1, 0}), "extrude": frozenset({-1, 0}),
    "visibility": frozenset({-1, 1}), "drawOrder": frozenset({-1, 0}),
    "altitudeMode": frozenset({"", "clampToGround"}), "icon": frozenset({""}),
    "begin": frozenset({""}), "end": frozenset({""}), "timestamp": frozenset({""}),
}


def tidy_kml_columns(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """KML placemarks without GDAL's display columns where no placemark sets them.

    ``tessellate``, ``extrude``, ``visibility``, ``drawOrder``, ``altitudeMode``,
    ``icon``, ``begin``, ``end`` and ``timestamp`` are dropped when every value is
    empty or the default; a column some placemark really sets is kept.  The
    placemark's ``Name``/``Description`` become ``name``/``description`` (unless
    the file also has those names as ExtendedData), like every other format's.

    Examples
    --------
    >>> import shapely
    >>> g = gpd.GeoDataFrame({"Name": ["a", "b"], "description": ["x", None],
    ...                       "tessellate": [-1, 1], "extrude": [0, 0],
    ...                       "visibility": [-1, -1], "altitudeMode": [None, None]},
    ...                      geometry=[shapely.Point(116, 43)] * 2)
    >>> list(tidy_kml_columns(g).columns)
    ['name', 'description', 'tessellate', 'geometry']
    """
    drop = []
    for col, defaults in KML_DISPLAY_DEFAULTS.items():
        if col in gdf.columns and col != gdf.geometry.name:
            values = gdf[col]
            unset = values.isna() | values.isin(list(defaults))
            if unset.all():
                drop.append(col)
    out = gdf.drop(columns=drop) if drop else gdf
    rename = {old: new for old, new in (("Name", "name"), ("Description", "description"))
              if old in out.columns and new not in out.columns}
    return out.rename(columns=rename) if rename else out


def read_multi(path: str, layers: list[str], *, report: Report, tag: str | None,
               tag_values: dict[str, str] | None = None) -> tuple[gpd.GeoDataFrame, Any]:
    """Several layers of one file concatenated; ``tag`` names a column saying which layer.

    Feature numbers run on across layers, so report indices stay unique.
    """
    frames: list[gpd.GeoDataFrame] = []
    crs = None
    offset = 0
    for name in layers:
        gdf, layer_crs = read_layer(path, layer=name, report=report, offset=offset)
        offset += gdf.attrs.get("features_read", len(gdf))
        if len(gdf) == 0:
            continue
        gdf = drop_empty_columns(gdf)
        if tag:
            gdf.insert(0, tag, (tag_values or {}).get(name, name))
        frames.append(gdf)
        crs = crs or layer_crs
    if not frames:
        return gpd.GeoDataFrame(geometry=gpd.GeoSeries([], dtype="geometry")), crs
    gdf = gpd.GeoDataFrame(pd.concat(frames), geometry="geometry")
    return gdf, crs
