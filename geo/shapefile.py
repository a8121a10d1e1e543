"""A zipped ESRI Shapefile that ArcGIS, QGIS and old desktop tools open as it is.

What a shapefile cannot hold is decided here, visibly, rather than left to GDAL's
warnings:

* **Field names** have at most 10 bytes (in the DBF's encoding): names are shortened
  uniquely (``total_investment_yi`` → ``total_inve``, then ``total_in_1`` …) and the zip
  carries ``<name>_fields.csv`` mapping every short name back to the property and its
  Chinese/English labels and unit.
* **Encoding**: UTF-8 with a ``.cpg`` by default; ``encoding="gbk"`` writes code page 936
  (GBK) with ``.cpg`` = ``936`` *and* the DBF language-driver byte, for tools that ignore
  ``.cpg``.  Characters GBK lacks become ``?`` (counted in the mapping file).
* **Text values** are cut to 254 bytes at a character boundary (counted likewise).
* **One geometry type per file**: a layer mixing points, lines and polygons becomes one
  shapefile per family (``<name>_point.shp`` …); Point and MultiPoint share a file as
  MultiPoint; a GeometryCollection's members go to the files of their families.
* ``.prj`` from the CRS (ESRI WKT), which may be a custom one (GCJ-02, BD-09).

Examples
--------
>>> shorten_field_names(["total_investment_yi", "total_investment_2", "名称", "id"])
{'total_investment_yi': 'total_inve', 'total_investment_2': 'total_in_1', '名称': '名称', 'id': 'id'}
>>> shorten_field_names(["项目名称与类别说明"], "gbk")
{'项目名称与类别说明': '项目名称与'}
"""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

#: Python codec, GDAL encoding, .cpg content and DBF language driver id per choice.
ENCODINGS: dict[str, tuple[str, str, str, int]] = {
    "utf-8": ("utf-8", "UTF-8", "UTF-8", 0x00),
    "gbk": ("gbk", "CP936", "936", 0x4D),  # 0x4D: "Chinese GBK (PRC)", code page 936
}
#: Longest text a DBF character field holds (bytes).
MAX_TEXT_BYTES = 254

_FAMILY_OF_TYPE = {0: "point", 4: "point", 1: "line", 2: "line", 5: "line", 3: "polygon",
                   6: "polygon"}
_FAMILIES = ("point", "line", "polygon")


def normalise_encoding(encoding: str | None) -> str:
    """``"utf-8"`` or ``"gbk"`` for the spellings people use (``GB18030``, ``cp936`` …).

    Examples
    --------
    >>> normalise_encoding("CP936"), normalise_encoding(None), normalise_encoding("UTF8")
    ('gbk', 'utf-8', 'utf-8')
    """
    from .errors import GeoInputError

    key = (encoding or "utf-8").strip().lower().replace("_", "-")
    if key in ("utf-8", "utf8"):
        return "utf-8"
    if key in ("gbk", "cp936", "936", "gb2312", "gb18030", "ms936"):
        return "gbk"
    raise GeoInputError(f"unknown shapefile encoding {encoding!r}",
                        hint="encoding=utf-8 (default) or encoding=gbk for old desktop tools",
                        status=400, code="bad_parameter",
                        message_zh=f"不支持的 Shapefile 编码 {encoding!r}",
                        hint_zh="可选 UTF-8（默认）或 GBK（旧版桌面软件）")


def _fit(name: str, codec: str, limit: int) -> str:
    """The longest prefix of ``name`` that encodes in ``limit`` bytes (unencodable → '_')."""
    clean = "".join(c if _encodes(c, codec) else "_" for c in name) or "field"
    out = ""
    for c in clean:
        if len((out + c).encode(codec)) > limit:
            break
        out += c
    return out


def _encodes(c: str, codec: str) -> bool:
    try:
        c.encode(codec)
        return True
    except UnicodeEncodeError:
        return False


def shorten_field_names(names: list[str], encoding: str = "utf-8",
                        limit: int = 10) -> dict[str, str]:
    """Unique DBF field names (at most ``limit`` bytes in ``encoding``) for ``names``.

    Uniqueness is case-insensitive, as DBF readers compare names.  A clash keeps the
    first name and gives later ones a ``_1``, ``_2`` … suffix inside the limit.
    """
    codec = ENCODINGS[normalise_encoding(encoding)][0]
    taken: set[str] = set()
    out: dict[str, str] = {}
    for name in names:
        short = _fit(str(name), codec, limit)
        n = 0
        while short.lower() in taken:
            n += 1
            suffix = f"_{n}"
            short = _fit(str(name), codec, limit - len(suffix)) + suffix
        taken.add(short.lower())
        out[name] = short
    return out


def _clean_text(series: pd.Series, codec: str) -> tuple[pd.Series, int, int]:
    """Text cut to 254 bytes, unencodable characters as '?': (values, replaced, cut)."""
    replaced = cut = 0

    def one(v: Any) -> Any:
        nonlocal replaced, cut
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            return None
        s = str(v)
        b = s.encode(codec, errors="replace")
        if b.count(b"?") > s.count("?"):
            replaced += 1
        if len(b) > MAX_TEXT_BYTES:
            cut += 1
            b = b[:MAX_TEXT_BYTES]
        return b.decode(codec, errors="ignore")

    return series.astype(object).map(one), replaced, cut


def _split_families(geoms: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per family: (row positions, geometries) — collections split into their members."""
    types = shapely.get_type_id(geoms)
    out: dict[str, tuple[list, list]] = {f: ([], []) for f in _FAMILIES}
    for fam in _FAMILIES:
        rows = np.flatnonzero(np.isin(types, [t for t, f in _FAMILY_OF_TYPE.items() if f == fam]))
        out[fam] = ([rows], [geoms[rows]])
    collections = np.flatnonzero(types == 7)
    if len(collections):
        parts, owner = shapely.get_parts(geoms[collections], return_index=True)
        while True:  # flatten nested multi-geometries and collections to single parts
            multi = shapely.get_type_id(parts) >= 4
            if not multi.any():
                break
            sub, sub_owner = shapely.get_parts(parts[multi], return_index=True)
            parts = np.concatenate([parts[~multi], sub])
            owner = np.concatenate([owner[~multi], owner[multi][sub_owner]])
        ptypes = shapely.get_type_id(parts)
        builders = {"point": shapely.multipoints, "line": shapely.multilinestrings,
                    "polygon": shapely.multipolygons}
        for fam in _FAMILIES:
            sel = np.isin(ptypes, [t for t, f in _FAMILY_OF_TYPE.items() if f == fam and t < 4])
            if not sel.any():
                continue
            members = owner[sel]
            uniq, dense = np.unique(members, return_inverse=True)
            multi = builders[fam](parts[sel], indices=dense)
            out[fam][0].append(collections[uniq])
            out[fam][1].append(multi)
    result = {}
    for fam, (rows, gs) in out.items():
        r = np.concatenate(rows) if rows else np.array([], dtype=int)
        if len(r):
            g = np.concatenate(gs)
            order = np.argsort(r, kind="stable")
            result[fam] = (r[order], g[order])
    missing = np.flatnonzero(shapely.is_missing(geoms))
    if len(missing):  # features without geometry go with the first family (null shapes)
        fam = next(iter(result), "point")
        r, g = result.get(fam, (np.array([], dtype=int), np.array([], dtype=object)))
        r = np.concatenate([r, missing])
        g = np.concatenate([g, geoms[missing]])
        order = np.argsort(r, kind="stable")
        result[fam] = (r[order], g[order])
    return result


def to_shapefile_zip(gdf: gpd.GeoDataFrame, name: str, *, crs: Any = None,
                     encoding: str = "utf-8", spec: Any = None,
                     timestamp: str | None = None) -> bytes:
    """A zip holding the layer as shapefile(s) and the field-name mapping.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Features in the CRS to write (coordinates are not changed here).
    name : str
        File stem inside the zip (safe characters only).
    crs : pyproj CRS, WKT or "EPSG:n", optional
        The CRS written to ``.prj`` (default: ``gdf.crs``).
    encoding : {"utf-8", "gbk"}
        Encoding of the attribute table.
    spec : LayerSpec-like, optional
        Field labels and units for the mapping file.
    timestamp : str, optional
        ISO 8601 UTC time of the data, written as the DBF's update date and the zip
        members' times (default 1980-01-01): the same data gives the same bytes.

    Examples
    --------
    >>> import shapely
    >>> g = gpd.GeoDataFrame({"name_zh": ["锡林浩特"], "total_investment_yi": [1.5]},
    ...                      geometry=[shapely.Point(116.0, 43.9)], crs=4326)
    >>> z = zipfile.ZipFile(io.BytesIO(to_shapefile_zip(g, "towns", encoding="gbk")))
    >>> sorted(z.namelist())
    ['towns.cpg', 'towns.dbf', 'towns.prj', 'towns.shp', 'towns.shx', 'towns_fields.csv']
    >>> z.read("towns.cpg")
    b'936'
    """
    enc = normalise_encoding(encoding)
    codec, gdal_encoding, cpg, ldid = ENCODINGS[enc]
    geom_col = gdf.geometry.name
    props = pd.DataFrame(gdf.drop(columns=geom_col))
    props.columns = [str(c) for c in props.columns]
    short = shorten_field_names(list(props.columns), enc)
    notes: dict[str, list[str]] = {c: [] for c in props.columns}
    table = pd.DataFrame(index=props.index)
    for col in props.columns:
        s = props[col]
        kind = pd.api.types.infer_dtype(s, skipna=True)
        if pd.api.types.is_bool_dtype(s.dtype) or kind == "boolean":
            table[short[col]] = s.astype("boolean") if s.isna().any() else s.astype(bool)
        elif pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_datetime64_any_dtype(
                s.dtype):
            table[short[col]] = s
        else:
            import json

            s = s.map(lambda v: json.dumps(v, ensure_ascii=False)
                      if isinstance(v, (dict, list)) else v)
            cleaned, replaced, cut = _clean_text(s, codec)
            table[short[col]] = cleaned
            if replaced:
                notes[col].append(f"{replaced} value(s) had characters {enc.upper()} lacks "
                                  "(written as ?)")
            if cut:
                notes[col].append(f"{cut} value(s) cut to {MAX_TEXT_BYTES} bytes")
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    families = _split_families(geoms)
    crs = crs if crs is not None else gdf.crs
    labels = {f.name: f for f in getattr(spec, "fields", ())} if spec is not None else {}
    when = file_time(timestamp)
    buf = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="atlas-shp-") as tmp, \
            zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for fam, (rows, fam_geoms) in families.items():
            stem = name if len(families) == 1 else f"{name}_{fam}"
            out = gpd.GeoDataFrame(table.iloc[rows].reset_index(drop=True),
                                   geometry=gpd.GeoSeries(fam_geoms), crs=crs)
            types = set(shapely.get_type_id(fam_geoms[~shapely.is_missing(fam_geoms)]))
            geometry_type = {"point": "MultiPoint" if 4 in types else "Point",
                             "line": "MultiLineString" if 5 in types else "LineString",
                             "polygon": "MultiPolygon" if 6 in types else "Polygon"}[fam]
            path = os.path.join(tmp, f"{stem}.shp")
            pyogrio.write_dataframe(out, path, layer=stem, driver="ESRI Shapefile",
                                    encoding=gdal_encoding, geometry_type=geometry_type,
                                    promote_to_multi=geometry_type.startswith("Multi"))
            with open(os.path.join(tmp, f"{stem}.cpg"), "w", encoding="ascii") as fh:
                fh.write(cpg)
            with open(os.path.join(tmp, f"{stem}.dbf"), "r+b") as fh:
                # DBF header bytes 1-3: the date of the last update (GDAL writes today's).
                fh.seek(1)
                fh.write(bytes([when[0] - 1900, when[1], when[2]]))
                # Byte 29: the language driver, for readers that ignore .cpg.
                fh.seek(29)
                fh.write(bytes([ldid]))
            for ext in ("shp", "shx", "dbf", "prj", "cpg"):
                p = os.path.join(tmp, f"{stem}.{ext}")
                if os.path.exists(p):
                    with open(p, "rb") as fh:
                        _add(zf, f"{stem}.{ext}", fh.read(), when)
        mapping = pd.DataFrame({
            "shapefile_field": [short[c] for c in props.columns],
            "property": list(props.columns),
            "label_zh": [getattr(labels.get(c), "label_zh", "") for c in props.columns],
            "label_en": [getattr(labels.get(c), "label_en", "") for c in props.columns],
            "unit": [getattr(labels.get(c), "unit", "") for c in props.columns],
            "note": ["; ".join(notes[c]) for c in props.columns],
        })
        text = mapping.to_csv(index=False, lineterminator="\r\n")
        _add(zf, f"{name}_fields.csv", b"\xef\xbb\xbf" + text.encode("utf-8"), when)
    return buf.getvalue()


def file_time(timestamp: str | None) -> tuple[int, int, int, int, int, int]:
    """``(Y, M, D, h, m, s)`` of an ISO 8601 UTC time, 1980-01-01 (the zip epoch) for None.

    Files carry the time of the data, never the time of writing, so the same layer
    version gives the same bytes (the web export's ETag promises that).

    Examples
    --------
    >>> file_time("2026-11-30T07:15:02.5Z"), file_time(None)
    ((2026, 11, 30, 7, 15, 2), (1980, 1, 1, 0, 0, 0))
    """
    if not timestamp:
        return (1980, 1, 1, 0, 0, 0)
    t = pd.Timestamp(timestamp)
    t = t.tz_convert("UTC") if t.tzinfo is not None else t
    t = max(t.tz_localize(None), pd.Timestamp(1980, 1, 1))  # zip times start in 1980
    return (t.year, t.month, t.day, t.hour, t.minute, t.second)


def _add(zf: zipfile.ZipFile, name: str, data: bytes,
         when: tuple[int, int, int, int, int, int]) -> None:
    """Add a member stamped with the data's time, not the hour of writing."""
    info = zipfile.ZipInfo(name, date_time=when)
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)
