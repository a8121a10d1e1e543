"""Write a layer as GeoJSON, CSV, GPX, KML, GeoPackage or zipped Shapefile bytes, ready to download.

:func:`to_bytes` is the one entry point; the web export endpoint and the
``flask atlas export`` command both call it.  Every format is written from a
copy of the features in EPSG:4326, then, on request, in another CRS (``crs=``:
CGCS2000, its Gauss-Krüger zones, Web Mercator … written in the easting/longitude-first
order every GIS file format uses) or in the GCJ-02 / BD-09 datum (``datum=``: the
coordinates converted *and* the file declaring a custom CRS named for that datum, never
EPSG:4326).  GeoPackages are written as version 1.2 (Debian 12's GDAL 3.6 and QGIS 3.22
warn about 1.4) with the atlas's style in QGIS's ``layer_styles`` table.  A :class:`~layers.spec.LayerSpec` (any object
with ``fields`` of ``name``/``label_zh``/``label_en`` and a ``name_field``) may be
passed to name the features and label the fields; ``geo`` does not import
``layers``, it only reads those attributes.

Examples
--------
>>> import geopandas as gpd, shapely
>>> gdf = gpd.GeoDataFrame({"name_zh": ["锡林浩特"], "name_en": ["Xilinhot"]},
...                        geometry=[shapely.Point(116.0861234567, 43.9334)], crs=4326)
>>> data, mimetype, filename = to_bytes(gdf, "csv", name="towns")
>>> data.decode("utf-8-sig").splitlines()[1], mimetype, filename
('116.086123,43.9334,锡林浩特,Xilinhot', 'text/csv', 'towns.csv')
>>> to_bytes(gdf, "gpx")[0].count(b"<wpt ")
1
"""

from __future__ import annotations

import html
import io
import json
import os
import re
import tempfile
from typing import Any
from xml.sax.saxutils import escape

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from .errors import GeoInputError
from .geojson import encode_features, feature_collection

#: Format → (extension, MIME type).  The CSV type carries no charset: the web framework adds
#: ``; charset=utf-8`` to every ``text/*`` type, and two charsets confuse clients.
FORMATS: dict[str, tuple[str, str]] = {
    "geojson": ("geojson", "application/geo+json"),
    "csv": ("csv", "text/csv"),
    "gpx": ("gpx", "application/gpx+xml"),
    "kml": ("kml", "application/vnd.google-earth.kml+xml"),
    "gpkg": ("gpkg", "application/geopackage+sqlite3"),
}

#: Formats whose file name has two extensions (the export route of phase 2 serves them).
ARCHIVE_FORMATS: dict[str, tuple[str, str]] = {
    "shp.zip": ("shp.zip", "application/zip"),
}

#: Coordinate decimals written: 6 decimals are about 0.1 m, finer than any source here.
PRECISION = 6
#: Decimals for metres in a projected CRS: millimetres.
PRECISION_METRES = 3
#: GeoPackage version written: GDAL 3.6 warns "only partially supported" on 1.4 files.
GPKG_VERSION = "1.2"

_NAME_CANDIDATES = ("name_zh", "name_en", "name", "Name", "NAME", "名称", "title")
# Characters XML 1.0 forbids even escaped; property text may carry them.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def to_bytes(gdf: gpd.GeoDataFrame, fmt: str, *, name: str = "layer", spec: Any = None,
             lang: str = "zh", crs: str | None = None, datum: str | None = None,
             encoding: str = "utf-8", timestamp: str | None = None) -> tuple[bytes, str, str]:
    """Encode ``gdf`` in ``fmt``.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Features (any CRS; brought to EPSG:4326 first).
    fmt : {"geojson", "csv", "gpx", "kml", "gpkg", "shp.zip"}
        Output format.
    name : str
        Layer name: the file name stem and the layer/document name inside.
    spec : LayerSpec, optional
        Field order and labels, the field that names features, and the style written
        into GeoPackages for QGIS.
    lang : {"zh", "en"}
        Language of the field labels and yes/no in GPX/KML descriptions.
    crs : str, optional
        Output CRS (an OGC URI, ``EPSG:n`` … see :func:`geo.crs.parse_crs`); coordinates
        are written easting/longitude first, as GIS file formats expect, and the file
        declares the CRS (``.prj``, the GeoPackage's SRS, GeoJSON's ``crs`` member).
        GPX and KML are WGS 84 by definition and refuse another CRS.
    datum : {"wgs84", "cgcs2000", "gcj02", "bd09"}, optional
        Convert WGS 84 coordinates to GCJ-02 or BD-09 (for Chinese navigation apps); the
        file then declares a custom CRS named for that datum, never EPSG:4326.
    encoding : {"utf-8", "gbk"}
        Attribute encoding of a Shapefile (``gbk`` for old desktop tools).
    timestamp : str, optional
        ISO 8601 UTC time of the data (the layer version's): the GeoPackage's
        ``last_change`` and style time, the Shapefile's DBF date and zip member times.
        Files never carry the time of writing, so the same data gives the same bytes
        (default 1980-01-01T00:00:00Z).

    Returns
    -------
    (bytes, str, str)
        The file content, its MIME type and a file name.

    Raises
    ------
    GeoInputError
        For an unknown format, CRS or encoding, or a CRS the format cannot hold (400).

    Examples
    --------
    >>> import geopandas as gpd, shapely, json
    >>> g = gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.Point(117.0, 44.0)], crs=4326)
    >>> doc = json.loads(to_bytes(g, "geojson", crs="EPSG:4548")[0])
    >>> doc["crs"]["properties"]["name"], doc["features"][0]["geometry"]["coordinates"]
    ('urn:ogc:def:crs:EPSG::4548', [500000.0, 4873822.37])
    >>> doc = json.loads(to_bytes(g, "geojson", datum="gcj02")[0])
    >>> doc["crs"]["properties"]["name"][:46]
    'GEOGCRS["GCJ-02 (AMap/Gaode offset of WGS 84)"'
    """
    from .crs import datum_crs_wkt, transform_geometries

    key, target, datum_key = export_options(fmt, crs=crs, datum=datum, encoding=encoding)
    ext, mimetype = {**FORMATS, **ARCHIVE_FORMATS}[key]
    gdf = _prepare(gdf, spec)
    out_crs: Any = "EPSG:4326"
    if datum_key in ("gcj02", "bd09"):
        gdf = gdf.set_geometry(transform_geometries(gdf.geometry.values, "wgs84", datum_key),
                               crs=4326)
        out_crs = datum_crs_wkt(datum_key)
    elif target is not None:
        gdf = gdf.to_crs(target.crs)  # GeoPandas keeps x = easting / longitude
        out_crs = target.code
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "layer"
    out = _Output(out_crs, target is not None and not target.geographic, encoding, timestamp)
    writer = {"geojson": _geojson, "csv": _csv, "gpx": _gpx, "kml": _kml, "gpkg": _gpkg,
              "shp.zip": _shp_zip}[key]
    return writer(gdf, safe, spec, lang, out), mimetype, f"{safe}.{ext}"


def export_options(fmt: str, *, crs: str | None = None, datum: str | None = None,
                   encoding: str = "utf-8") -> tuple[str, Any, str]:
    """Check an export's options without writing anything: ``(format, CrsInfo or None,
    datum)``.

    The web export checks a request with this before answering (a bad option is a 400,
    never a 304 of an older file); :func:`to_bytes` calls it first.

    Raises
    ------
    GeoInputError
        For an unknown format, CRS, datum or Shapefile encoding, or a combination a file
        cannot hold (GPX/KML in a projected CRS, GCJ-02 with a CRS).

    Examples
    --------
    >>> key, target, datum_key = export_options("shp.zip", crs="EPSG:4548")
    >>> key, target.code, datum_key
    ('shp.zip', 'EPSG:4548', 'wgs84')
    >>> export_options("gpx", crs="EPSG:4548")
    Traceback (most recent call last):
    ...
    geo.errors.GeoInputError: GPX files are always WGS 84 longitude/latitude
    """
    from .crs import normalise_datum, parse_crs
    from .shapefile import normalise_encoding

    key = str(fmt).lower().lstrip(".")
    known = {**FORMATS, **ARCHIVE_FORMATS}
    if key not in known:
        raise GeoInputError(f"unknown export format {fmt!r}",
                            hint="formats: " + ", ".join(known), status=400,
                            code="unsupported_format", message_zh=f"不支持导出格式 {fmt!r}",
                            hint_zh="可选格式：" + "、".join(known))
    try:
        datum_key = normalise_datum(datum)
    except ValueError as e:
        raise GeoInputError(str(e), hint="datum=wgs84 (default), gcj02 or bd09",
                            status=400, code="bad_datum",
                            hint_zh="datum 可选 wgs84（默认）、gcj02 或 bd09") from None
    target = parse_crs(crs) if crs not in (None, "") else None
    if target is not None and target.code in ("OGC:CRS84", "EPSG:4326"):
        target = None
    if target is not None and datum_key in ("gcj02", "bd09"):
        raise GeoInputError(f"datum={datum_key} and crs={target.code} cannot be combined",
                            hint="GCJ-02 and BD-09 are longitude/latitude offsets of WGS 84: "
                                 "ask for one or the other", status=400, code="bad_crs",
                            message_zh=f"datum={datum_key} 与 crs={target.code} 不能同时使用",
                            hint_zh="GCJ-02 和 BD-09 是 WGS 84 经纬度的偏移：请只选其一")
    if target is not None and key in ("gpx", "kml"):
        raise GeoInputError(f"{key.upper()} files are always WGS 84 longitude/latitude",
                            hint="ask for GeoJSON, CSV, GeoPackage or Shapefile in "
                                 f"{target.code}", status=400, code="bad_crs",
                            message_zh=f"{key.upper()} 文件只能是 WGS 84 经纬度",
                            hint_zh=f"如需 {target.code}，请导出 GeoJSON、CSV、GeoPackage 或 Shapefile")
    if key == "shp.zip":
        normalise_encoding(encoding)
    return key, target, datum_key


class _Output:
    """How the writers declare the coordinates: the CRS and the decimals."""

    def __init__(self, crs: Any, metres: bool, encoding: str,
                 timestamp: str | None = None) -> None:
        self.crs = crs  # "EPSG:4326", "EPSG:n" or a custom WKT
        self.precision = PRECISION_METRES if metres else PRECISION
        self.metres = metres
        self.encoding = encoding
        self.timestamp = timestamp

    @property
    def default(self) -> bool:
        return self.crs == "EPSG:4326"

    def geojson_crs(self) -> dict | None:
        """GeoJSON 2008's ``crs`` member, or None for RFC 7946's WGS 84."""
        if self.default:
            return None
        if self.crs.startswith("EPSG:"):
            name = "urn:ogc:def:crs:EPSG::" + self.crs.split(":")[1]
        else:  # GDAL reads a WKT given as the name: the custom GCJ-02 / BD-09 CRS
            name = self.crs
        return {"type": "name", "properties": {"name": name}}


def _prepare(gdf: gpd.GeoDataFrame, spec: Any) -> gpd.GeoDataFrame:
    """A copy in EPSG:4326 with spec fields first and geometry last."""
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs(4326)
    elif gdf.crs is None:
        gdf = gdf.set_crs(4326)
    geom = gdf.geometry.name
    props = [c for c in gdf.columns if c != geom]
    if spec is not None:
        declared = [f.name for f in getattr(spec, "fields", ()) if f.name in props]
        props = declared + [c for c in props if c not in declared]
    out = gdf[props + [geom]].copy()
    if geom != "geometry":
        out = out.rename_geometry("geometry")
    return out


def _props(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    return pd.DataFrame(gdf.drop(columns="geometry"))


def _labels(spec: Any, lang: str = "zh") -> dict[str, str]:
    if spec is None:
        return {}
    return {f.name: (f.label_en if lang == "en" else f.label_zh) for f in spec.fields}


def _units(spec: Any) -> dict[str, str]:
    if spec is None:
        return {}
    return {f.name: getattr(f, "unit", "") or "" for f in spec.fields}


def display_value(value: Any, unit: str = "", lang: str = "zh") -> str:
    """A property value as a person reads it in a description: yes/no, no ".0", its unit.

    Examples
    --------
    >>> display_value(True), display_value(False, lang="en")
    ('是', 'no')
    >>> display_value(3000.0, "m"), display_value(22.75, "km"), display_value("S207")
    ('3000 m', '22.75 km', 'S207')
    """
    if isinstance(value, (bool, np.bool_)):
        return ("yes" if value else "no") if lang == "en" else ("是" if value else "否")
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    return f"{value} {unit}" if unit else str(value)


def feature_names(gdf: gpd.GeoDataFrame, spec: Any = None) -> list[str]:
    """A display name per feature: the spec's name field, else name_zh (+ name_en), else id.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> g = gpd.GeoDataFrame({"name_zh": ["多伦", None], "name_en": ["Duolun", "Zhenglan"]},
    ...                      geometry=[shapely.Point(0, 0)] * 2)
    >>> feature_names(g)
    ['多伦 / Duolun', 'Zhenglan']
    """
    cols = list(gdf.columns)
    primary = getattr(spec, "name_field", None) if spec is not None else None
    if primary not in cols:
        primary = next((c for c in _NAME_CANDIDATES if c in cols), None)
    if primary is None:
        return [f"{i}" for i in gdf.index]
    first = gdf[primary].astype("string").fillna("").str.strip()
    if primary == "name_zh" and "name_en" in cols:
        second = gdf["name_en"].astype("string").fillna("").str.strip()
        both = (first != "") & (second != "") & (first != second)
        first = first.where(~both, first + " / " + second).where(first != "", second)
    names = first.where(first != "", pd.Series([str(i) for i in gdf.index], index=gdf.index))
    return names.tolist()


def _plain_values(frame: pd.DataFrame) -> pd.DataFrame:
    """Dicts and lists as JSON text, so every writer sees scalars."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].map(
                lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v)
    return out


# -- GeoJSON ----------------------------------------------------------------------------------
#: Features encoded at a time: each encoded feature holds its own allocation until
#: joined (orjson sizes small outputs generously: ~8 KB a feature measured on a million
#: points, issue 12), so a layer is encoded a chunk at a time and each chunk joined at
#: once — the body then costs its own size, not a buffer per feature.
GEOJSON_CHUNK = 20_000


def _geojson(gdf: gpd.GeoDataFrame, name: str, spec: Any, lang: str = "zh",
             out: _Output | None = None) -> bytes:
    # RFC 7946: WGS 84 lon/lat, no "crs" member; 6 decimals.  Another CRS or datum is
    # declared with GeoJSON 2008's "crs" member (GDAL and QGIS honour it), coordinates
    # easting/longitude first as GDAL expects in GeoJSON.
    out = out or _Output("EPSG:4326", False, "utf-8")
    members: dict[str, Any] = {"name": name}
    crs_member = out.geojson_crs()
    if crs_member is not None:
        members["crs"] = crs_member
    chunks = [b",".join(encode_features(gdf.iloc[i:i + GEOJSON_CHUNK], precision=out.precision))
              for i in range(0, len(gdf), GEOJSON_CHUNK)]
    return feature_collection(chunks, members)  # chunks joined by "," as features are


# -- CSV --------------------------------------------------------------------------------------
def _csv(gdf: gpd.GeoDataFrame, name: str, spec: Any, lang: str = "zh",
         out: _Output | None = None) -> bytes:
    out = out or _Output("EPSG:4326", False, "utf-8")
    props = _plain_values(_props(gdf))
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    types = shapely.get_type_id(geoms)
    if len(geoms) and (types == shapely.GeometryType.POINT).all():
        coords = np.round(shapely.get_coordinates(geoms), out.precision)
        x, y = ("easting", "northing") if out.metres else ("lon", "lat")
        lead = pd.DataFrame({x: coords[:, 0], y: coords[:, 1]}, index=props.index)
    else:
        lead = pd.DataFrame({"wkt": shapely.to_wkt(geoms, rounding_precision=out.precision,
                                                   trim=True)}, index=props.index)
    table = pd.concat([lead, props.drop(columns=[c for c in lead.columns if c in props])],
                      axis=1)
    buf = io.StringIO()
    table.to_csv(buf, index=False, lineterminator="\r\n", float_format=None)
    # UTF-8 with a byte-order mark: Excel opens a BOM-less CSV in the system code page
    # (GBK on Chinese Windows) and garbles UTF-8 Chinese; with the BOM it reads UTF-8.
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


# -- GPX --------------------------------------------------------------------------------------
def _x(value: Any) -> str:
    return escape(_XML_BAD.sub("", str(value)))


def _describe(row: dict[str, Any], labels: dict[str, str], skip: set[str],
              units: dict[str, str] | None = None, lang: str = "zh") -> str:
    lines = []
    for key, value in row.items():
        if key in skip or value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        if value is pd.NA or (isinstance(value, str) and not value.strip()):
            continue
        lines.append(f"{labels.get(key, key)}: "
                     f"{display_value(value, (units or {}).get(key, ''), lang)}")
    return "\n".join(lines)


def _gpx(gdf: gpd.GeoDataFrame, name: str, spec: Any, lang: str = "zh",
         out: _Output | None = None) -> bytes:
    """GPX 1.1: points as waypoints, lines (and polygon outlines) as tracks.

    Car navigation apps (OsmAnd, Organic Maps, Garmin, 高德/百度 import) take
    waypoints and tracks; a track keeps every vertex of the road, which a route's
    handful of via points would not.
    """
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    names = feature_names(gdf, spec)
    labels, units = _labels(spec, lang), _units(spec)
    records = _plain_values(_props(gdf)).to_dict("records")
    name_cols = {getattr(spec, "name_field", None), "name_zh", "name_en"}
    # Lines from everything that is not a point: polygons contribute their outlines.
    kind = shapely.get_type_id(geoms)
    is_point = np.isin(kind, [shapely.GeometryType.POINT, shapely.GeometryType.MULTIPOINT])
    point_parts, point_owner = shapely.get_parts(geoms[is_point], return_index=True)
    point_xy = shapely.get_coordinates(point_parts)
    point_rows = np.flatnonzero(is_point)[point_owner]
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<gpx version="1.1" creator="Xilingol Grassland Atlas" '
           'xmlns="http://www.topografix.com/GPX/1/1" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           'xsi:schemaLocation="http://www.topografix.com/GPX/1/1 '
           'http://www.topografix.com/GPX/1/1/gpx.xsd">',
           f"<metadata><name>{_x(name)}</name></metadata>"]
    for (lon, lat), row in zip(point_xy, point_rows, strict=True):
        desc = _describe(records[row], labels, name_cols, units, lang)
        out.append(f'<wpt lat="{lat:.{PRECISION}f}" lon="{lon:.{PRECISION}f}">'
                   f"<name>{_x(names[row])}</name>"
                   + (f"<desc>{_x(desc)}</desc>" if desc else "") + "</wpt>")
    lines = np.flatnonzero(~is_point & ~shapely.is_missing(geoms))
    if len(lines):
        boundary = shapely.boundary(geoms[lines])  # polygons → rings; lines → end points
        is_polygonal = shapely.get_dimensions(geoms[lines]) == 2
        linework = np.where(is_polygonal, boundary, geoms[lines])
        parts, owner = shapely.get_parts(linework, return_index=True)
        coords, cidx = shapely.get_coordinates(parts, return_index=True)
        splits = np.searchsorted(cidx, np.arange(1, len(parts)))
        per_part = np.split(coords, splits)
        by_feature: dict[int, list[np.ndarray]] = {}
        for part_xy, o in zip(per_part, owner, strict=True):
            by_feature.setdefault(int(lines[o]), []).append(part_xy)
        for row, segs in by_feature.items():
            desc = _describe(records[row], labels, name_cols, units, lang)
            body = "".join(
                "<trkseg>" + "".join(f'<trkpt lat="{y:.{PRECISION}f}" lon="{x:.{PRECISION}f}"/>'
                                     for x, y in seg) + "</trkseg>"
                for seg in segs if len(seg))
            out.append(f"<trk><name>{_x(names[row])}</name>"
                       + (f"<desc>{_x(desc)}</desc>" if desc else "") + body + "</trk>")
    out.append("</gpx>\n")
    return "\n".join(out).encode("utf-8")


# -- KML --------------------------------------------------------------------------------------
def _description_html(records: list[dict[str, Any]], labels: dict[str, str],
                      units: dict[str, str] | None = None, lang: str = "zh") -> list[str]:
    """An HTML table per feature; values escaped, since KML viewers render it as HTML."""
    out = []
    for row in records:
        cells = "".join(
            f"<tr><th>{html.escape(str(labels.get(k, k)))}</th><td>{html.escape(display_value(v, (units or {}).get(k, ''), lang))}</td></tr>"
            for k, v in row.items()
            if v is not None and v is not pd.NA and not (isinstance(v, float) and np.isnan(v)))
        out.append(_XML_BAD.sub("", f"<table>{cells}</table>"))
    return out


def _kml(gdf: gpd.GeoDataFrame, name: str, spec: Any, lang: str = "zh",
         out: _Output | None = None) -> bytes:
    props = _plain_values(_props(gdf))
    records = props.to_dict("records")
    keep = [c for c in props.columns if str(c).lower() not in ("name", "description")]
    table = props[keep].copy()
    for col in table.columns:
        if table[col].dtype == object:
            table[col] = table[col].map(lambda v: v if v is None else _XML_BAD.sub("", str(v)))
    table.insert(0, "Name", [_XML_BAD.sub("", n) for n in feature_names(gdf, spec)])
    table.insert(1, "Description", _description_html(records, _labels(spec, lang), _units(spec),
                                                     lang))
    out = gpd.GeoDataFrame(table, geometry=gdf.geometry.values, crs=4326)
    return _via_gdal(out, name, "KML", ".kml", geometry_type="Unknown")


# -- GeoPackage -------------------------------------------------------------------------------
def _gpkg(gdf: gpd.GeoDataFrame, name: str, spec: Any, lang: str = "zh",
          out: _Output | None = None) -> bytes:
    # A copy written with GDAL to a temporary file: never the live store.
    out = out or _Output("EPSG:4326", False, "utf-8")
    frame = gpd.GeoDataFrame(_plain_values(_props(gdf)), crs=out.crs,
                             geometry=np.asarray(gdf.geometry.values, dtype=object))
    types = set(frame.geom_type.dropna())
    geometry_type = next(iter(types)) if len(types) == 1 else "Unknown"
    style = getattr(spec, "style", None)
    family = _style_family(types)

    def styled(path: str) -> None:
        if style is not None and family is not None:
            from .qgis_style import add_layer_styles

            title = spec.title(lang) if hasattr(spec, "title") else name
            add_layer_styles(path, name, style, family, title=title)
        _stamp_gpkg(path, out.timestamp)

    return _via_gdal(frame, name, "GPKG", ".gpkg", geometry_type=geometry_type,
                     dataset_options={"VERSION": GPKG_VERSION}, after=styled)


def _stamp_gpkg(path: str, timestamp: str | None) -> None:
    """Set the GeoPackage's times (``gpkg_contents.last_change``, the styles'
    ``update_time``) to the data's time: GDAL and SQLite write the hour of writing."""
    import sqlite3

    from .shapefile import file_time

    stamp = "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.000Z".format(*file_time(timestamp))
    con = sqlite3.connect(path)
    try:
        with con:
            con.execute("UPDATE gpkg_contents SET last_change = ?", (stamp,))
            if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'layer_styles'").fetchone():
                con.execute("UPDATE layer_styles SET update_time = ?", (stamp,))
    finally:
        con.close()


def _style_family(types: set[str]) -> str | None:
    """The one geometry family of a layer (for its QGIS symbol), None if mixed or empty."""
    families = {t.replace("Multi", "") for t in types}
    return families.pop() if len(families) == 1 and families <= {
        "Point", "LineString", "Polygon"} else None


# -- zipped Shapefile -------------------------------------------------------------------------
def _shp_zip(gdf: gpd.GeoDataFrame, name: str, spec: Any, lang: str = "zh",
             out: _Output | None = None) -> bytes:
    from .shapefile import to_shapefile_zip

    out = out or _Output("EPSG:4326", False, "utf-8")
    frame = gpd.GeoDataFrame(_props(gdf), crs=out.crs,
                             geometry=np.asarray(gdf.geometry.values, dtype=object))
    return to_shapefile_zip(frame, name, crs=out.crs, encoding=out.encoding, spec=spec,
                            timestamp=out.timestamp)


def _via_gdal(gdf: gpd.GeoDataFrame, layer: str, driver: str, suffix: str,
              geometry_type: str, dataset_options: dict | None = None,
              after=None) -> bytes:
    with tempfile.TemporaryDirectory(prefix="atlas-export-") as tmp:
        path = os.path.join(tmp, f"{layer}{suffix}")
        pyogrio.write_dataframe(gdf, path, layer=layer, driver=driver,
                                geometry_type=geometry_type,
                                dataset_options=dataset_options or None)
        if after is not None:
            after(path)
        with open(path, "rb") as fh:
            return fh.read()
