"""Read a user's file into a validated GeoDataFrame in EPSG:4326, with a report.

:func:`read_file` is the one entry point.  It takes a path, bytes or a binary
file object, decides the format from the content (and only then the name), and
reads GeoJSON, zipped Shapefiles, GeoPackages, KML/KMZ, GPX, and CSV/XLSX tables
with coordinate columns.  Whatever it changes — a swapped lat/lon, a closed
ring, a dropped blank row, an assumed CRS — is in the returned report; what it
cannot use raises :class:`~geo.errors.GeoInputError` with a message, a hint and
an HTTP status (400 bad input, 413 too large, 415 unsupported, 422 unusable).

One module per concern: :mod:`.source` (what was given, sniffing),
:mod:`.archive` (zip safety), :mod:`.jsonfile` (GeoJSON checks), :mod:`.ogr`
(formats read through GDAL), :mod:`.tabular` and :mod:`.coords` (tables),
:mod:`.finish` (CRS, swaps, datums, validation).

Examples
--------
>>> csv = "名称,经度,纬度\\n锡林浩特,116.0861,43.9334\\n".encode("utf-8")
>>> gdf, report = read_file(csv, filename="sites.csv")
>>> gdf.crs.to_epsg(), gdf["名称"][0], report.source["format"]
(4326, '锡林浩特', 'csv')
>>> read_file(b"", filename="empty.geojson")
Traceback (most recent call last):
...
geo.errors.GeoInputError: the file 'empty.geojson' is empty
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..crs import STORAGE_CRS
from ..errors import GeoInputError
from ..report import ReadResult, Report
from ..validate import RegionLike
from .archive import Limits, check_zip, extract, read_member, remove_tree
from .finish import finish, parse_crs, parse_datum
from .jsonfile import prepare_geojson
from .ogr import drop_empty_columns, list_layers, read_layer, read_multi, tidy_kml_columns
from .source import ACCEPTED, extension, load_source, refuse, sniff
from .tabular import PRECISION_COLUMN, ROW_COLUMN, read_csv, read_xlsx

__all__ = ["Limits", "ReadResult", "Report", "read_file", "parse_crs", "parse_datum", "ROW_COLUMN",
           "PRECISION_COLUMN"]

#: Order of preference when a zip holds several kinds of data file.
_ZIP_KINDS = (".shp", ".gpkg", ".geojson", ".json", ".kml", ".gpx", ".csv", ".tsv", ".txt",
              ".xlsx")
_NESTED = (".zip", ".kmz", ".7z", ".rar", ".gz", ".tar", ".tgz")
_GPX_LAYERS = {"waypoints": "waypoint", "routes": "route", "tracks": "track"}


@dataclass(frozen=True)
class _TableOptions:
    """What the table readers need beyond the bytes (see :func:`read_file`)."""

    sheet: str | None = None
    crs: Any = None
    keep_unlocated: bool = False
    trace: bool = False
    header_row: int | None = None
    region: RegionLike = None


def read_file(source: Any, *, filename: str | None = None, layer: str | None = None,
              datum: str | None = None, crs: Any = None, region: RegionLike = None,
              limits: Limits | None = None, sheet: str | None = None,
              keep_unlocated: bool = False, trace: bool = False,
              header_row: int | None = None) -> ReadResult:
    """Read a user's geodata file.

    Parameters
    ----------
    source : path, bytes or binary file object
        The file.
    filename : str, optional
        Its name, when ``source`` is bytes or a stream (used for hints and as a
        tie-breaker; the content decides the format).
    layer : str, optional
        Layer of a GeoPackage/KML/GPX, sheet of an XLSX, or shapefile of a zip holding
        several.
    datum : {"wgs84", "cgcs2000", "gcj02", "bd09"}, optional
        Datum of the coordinates; GCJ-02 (AMap/Gaode, Tencent) and BD-09 (Baidu) are
        converted to WGS 84.
    crs : str or int, optional
        CRS of the coordinates (``"EPSG:4547"``), overriding what the file says.  For
        a table, a projected CRS makes its X/Y columns metres in it (X is the CRS's
        first axis: the northing of Chinese Gauss-Krüger CRSs).
    region : optional
        Area features should fall in (see :func:`geo.validate.validate`).
    limits : Limits, optional
        Archive limits (zip bombs).
    sheet : str, optional
        Sheet of an XLSX workbook (name or 1-based position); wins over ``layer``.
    keep_unlocated : bool
        Keep table rows without coordinates (or every row of a table without
        coordinate columns) with an empty geometry, for a gazetteer to place.
    trace : bool
        Add a ``_row`` column: each feature's row (sheet row, CSV line or feature
        number, 1-based, as ``report.source["row_kind"]`` says) in the user's file,
        and for tables with coordinates ``_precision_m``, the rounding of the
        coordinates in metres.
    header_row : int, optional
        The header's row in a table (1-based), when it is not found on its own.

    Returns
    -------
    ReadResult
        ``.gdf`` in EPSG:4326 (index 0..n-1) and ``.report``.

    Raises
    ------
    GeoInputError
        For input that cannot be used, with ``message``, ``hint`` and ``status``.

    Examples
    --------
    >>> sheet = "旗县市区,地点,项目名称\\n多伦县,大北沟镇,甲\\n".encode()
    >>> gdf, report = read_file(sheet, filename="a.csv", keep_unlocated=True, trace=True)
    >>> gdf["_row"].tolist(), bool(gdf.geometry.isna().all()), report.source["row_kind"]
    ([2], True, 'line')
    """
    parse_datum(datum)  # fail fast on a bad parameter, before any parsing
    declared = parse_crs(crs)
    if header_row is not None and (not isinstance(header_row, int) or header_row < 1):
        raise GeoInputError(f"header_row must be a row number from 1, not {header_row!r}",
                            hint="give the row of the header as the spreadsheet numbers it",
                            status=400, code="bad_parameter",
                            hint_zh="请填写表头所在的行号（从1开始）")
    data, name = load_source(source, filename)
    report = Report()
    report.source.update({"filename": name, "bytes": len(data)})
    table = _TableOptions(sheet=sheet, crs=declared, keep_unlocated=keep_unlocated,
                          trace=trace, header_row=header_row, region=region)
    gdf, file_crs, assume = _read_any(data, name, layer=layer, report=report,
                                      limits=limits or Limits(), table=table)
    n_in = report.source.get("features_in", len(gdf))
    report.source["features_in"] = n_in
    if trace and ROW_COLUMN not in gdf:
        gdf[ROW_COLUMN] = np.arange(1, len(gdf) + 1)
        report.source["row_kind"] = "feature"
    missing = np.asarray(shapely.is_missing(np.asarray(gdf.geometry.values, dtype=object)),
                         dtype=bool) if keep_unlocated else np.zeros(len(gdf), dtype=bool)
    if missing.any():
        # Rows without coordinates skip the geometric steps and keep their place.
        order = "__atlas_order__"
        gdf[order] = np.arange(len(gdf))
        located = gdf.loc[~missing]
        parts = []
        if len(located):
            parts.append(finish(located, file_crs, report=report, crs=crs, datum=datum,
                                region=region, assume=assume))
        elif declared is not None:
            report.source["crs"] = declared.to_string()
        rest = gdf.loc[missing].drop(columns=gdf.geometry.name)
        parts.append(gpd.GeoDataFrame(rest, geometry=gpd.GeoSeries([None] * len(rest),
                                                                   index=rest.index),
                                      crs=STORAGE_CRS))
        out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        out = out.sort_values(order, kind="stable").drop(columns=order).reset_index(drop=True)
        out = gpd.GeoDataFrame(out, geometry="geometry", crs=STORAGE_CRS)
    else:
        out = finish(gdf, file_crs, report=report, crs=crs, datum=datum, region=region,
                     assume=assume)
    report.source["features"] = len(out)
    if len(out) == 0:
        reasons = sorted(report.codes("dropped"))
        raise GeoInputError(
            f"no usable features in the file ({n_in} read, all dropped"
            + (f": {', '.join(reasons)})" if reasons else ")"),
            hint="check the coordinates (degrees, lon/lat order) and geometries", status=422, code="no_features", message_zh=f"文件里没有可用的要素（读到 {n_in} 个，全部被舍弃）", hint_zh="请检查坐标（单位是否为度、经纬度顺序）和几何图形")
    return ReadResult(out, report)


def _read_any(data: bytes, name: str, *, layer: str | None, report: Report, limits: Limits,
              table: _TableOptions = _TableOptions()) -> tuple[gpd.GeoDataFrame, Any, str]:
    """Dispatch on content; returns the raw frame, the file's CRS and the assume mode."""
    kind = sniff(data, name)
    ext = extension(name)
    shown = f" {name!r}" if name else ""
    if kind == "empty":
        raise GeoInputError(f"the file{shown} is empty",
                            hint=f"upload a file with data; accepted: {ACCEPTED}", status=400, code="file_empty", message_zh=f"文件{shown}是空的", hint_zh="请上传有数据的文件")
    if ext in (".geojson", ".json") and kind != "json":
        if kind in ("text", "xml", "kml", "gpx"):
            raise GeoInputError(f"the file{shown} is named like GeoJSON but is not JSON "
                                "(it does not start with '{')",
                                hint="check that you picked the right file", status=400, code="unsupported_format", message_zh=f"文件{shown}的扩展名是 GeoJSON，但内容不是 JSON", hint_zh="请检查是否选对了文件")
        raise refuse(kind, name)
    if kind == "json":
        report.source["format"] = "geojson"
        gj, n, _has_geometry = prepare_geojson(data)
        report.source["features_in"] = n
        gdf, file_crs = read_layer(gj, report=report)
        return gdf, file_crs, "silent"
    if kind == "zip":
        return _read_zip(data, name, layer=layer, report=report, limits=limits, table=table)
    if kind == "sqlite":
        return _read_gpkg(data, layer=layer, report=report)
    if kind in ("kml", "gpx"):
        return _read_xml(data, kind, layer=layer, report=report)
    if kind == "text":
        report.source["format"] = "csv"
        gdf = read_csv(data, report=report, crs=table.crs, keep_unlocated=table.keep_unlocated,
                       trace=table.trace, header_row=table.header_row, region=table.region)
        return gdf, None, "plain"
    raise refuse(kind, name)


def _with_temp(data: bytes, suffix: str):
    """A temporary directory holding ``data`` as one file; returns (dir, path)."""
    tmp = tempfile.mkdtemp(prefix="atlas-read-")
    path = os.path.join(tmp, f"upload{suffix}")
    with open(path, "wb") as fh:
        fh.write(data)
    return tmp, path


def _read_gpkg(data: bytes, *, layer: str | None, report: Report
               ) -> tuple[gpd.GeoDataFrame, Any, str]:
    tmp, path = _with_temp(data, ".gpkg")
    try:
        return _read_gpkg_path(path, layer=layer, report=report)
    finally:
        remove_tree(tmp)


def _read_gpkg_path(path: str, *, layer: str | None, report: Report
                    ) -> tuple[gpd.GeoDataFrame, Any, str]:
    report.source["format"] = "gpkg"
    layers = [n for n, t in list_layers(path) if t is not None]
    if not layers:
        raise GeoInputError("the GeoPackage holds no feature layer",
                            hint="export a layer with geometries into it", status=422, code="no_features", message_zh="GeoPackage 里没有要素图层", hint_zh="请把带几何图形的图层导出到其中")
    chosen = _choose_layer(layers, layer, "GeoPackage")
    report.source["layer"] = chosen
    gdf, file_crs = read_layer(path, layer=chosen, report=report)
    return gdf, file_crs, "warn"


def _choose_layer(layers: list[str], layer: str | None, what: str) -> str:
    if layer is not None:
        if layer not in layers:
            raise GeoInputError(f"the {what} has no layer {layer!r}",
                                hint="layers: " + ", ".join(layers), status=422, code="layer_not_in_file", message_zh=f"文件里没有名为 {layer!r} 的图层", hint_zh="可选图层：" + "、".join(layers))
        return layer
    if len(layers) > 1:
        raise GeoInputError(
            f"the {what} holds {len(layers)} layers: " + ", ".join(layers),
            hint="choose one with layer=<name>", status=422, code="layer_choice", message_zh=f"文件里有 {len(layers)} 个图层：" + "、".join(layers), hint_zh="请选择其中一个图层")
    return layers[0]


def _read_xml(data: bytes, kind: str, *, layer: str | None, report: Report
              ) -> tuple[gpd.GeoDataFrame, Any, str]:
    tmp, path = _with_temp(data, f".{kind}")
    try:
        return _read_xml_path(path, kind, layer=layer, report=report)
    finally:
        remove_tree(tmp)


def _read_xml_path(path: str, kind: str, *, layer: str | None, report: Report
                   ) -> tuple[gpd.GeoDataFrame, Any, str]:
    report.source["format"] = kind
    names = [n for n, _ in list_layers(path)]
    if kind == "gpx":
        # Tracks, routes and waypoints, all of them; the *_points layers repeat their vertices.
        wanted = [n for n in names if n in _GPX_LAYERS]
        if layer is not None:
            wanted = [_choose_layer(wanted, layer, "GPX file")]
        gdf, file_crs = read_multi(path, wanted, report=report, tag="gpx_type",
                                   tag_values=_GPX_LAYERS)
        if len(gdf) == 0:
            raise GeoInputError("the GPX file has no waypoints, routes or tracks",
                                hint="record or draw at least one point or track", status=422, code="no_features", message_zh="GPX 文件里没有航点、路线或轨迹", hint_zh="请至少记录或绘制一个点或一条轨迹")
        return gdf, file_crs, "silent"
    wanted = [_choose_layer(names, layer, "KML file")] if layer is not None else names
    gdf, file_crs = read_multi(path, wanted, report=report,
                               tag="kml_folder" if len(wanted) > 1 else None)
    if len(gdf) == 0:
        raise GeoInputError("the KML file has no placemarks",
                            hint="add points, lines or polygons to it", status=422, code="no_features", message_zh="KML 文件里没有地标", hint_zh="请在其中加入点、线或面")
    return tidy_kml_columns(drop_empty_columns(gdf)), file_crs, "silent"


def _read_zip(data: bytes, name: str, *, layer: str | None, report: Report, limits: Limits,
              table: _TableOptions = _TableOptions()) -> tuple[gpd.GeoDataFrame, Any, str]:
    members = check_zip(data, limits)
    names = {m.filename.lower(): m for m in members}
    if "[content_types].xml" in names and any(n.startswith("xl/") for n in names):
        report.source["format"] = "xlsx"
        return read_xlsx(data, sheet=table.sheet if table.sheet is not None else layer,
                         report=report, crs=table.crs, keep_unlocated=table.keep_unlocated,
                         trace=table.trace, header_row=table.header_row,
                         region=table.region), None, "plain"
    by_ext: dict[str, list[zipfile.ZipInfo]] = {}
    for m in members:
        by_ext.setdefault(extension(m.filename), []).append(m)
    kind = next((k for k in _ZIP_KINDS if k in by_ext), None)
    if kind is None:
        nested = [m.filename for m in members if extension(m.filename) in _NESTED]
        if nested:
            raise GeoInputError(
                f"the zip holds another archive ({nested[0]}); archives inside archives are "
                "not read", hint="unzip the outer archive and upload the inner file itself",
                status=422, code="zip_contents", message_zh=f"压缩包里还套着另一个压缩包（{nested[0]}），不会读取", hint_zh="请解开外层压缩包，直接上传里面的文件")
        listing = ", ".join(m.filename for m in members[:10]) or "nothing"
        raise GeoInputError(f"the zip holds no geodata file (it has: {listing})",
                            hint=f"accepted inside a zip: {ACCEPTED}", status=422, code="zip_contents", message_zh="压缩包里没有地理数据文件", hint_zh="压缩包里可以是：GeoJSON、Shapefile、GeoPackage、KML、GPX、CSV 或 Excel")
    nested = [m.filename for m in members if extension(m.filename) in _NESTED]
    if nested:
        report.warn("nested_archive_ignored", "archives inside the zip were not read: "
                    + ", ".join(nested[:5]), "压缩包内的压缩包未读取")
    report.source["zip_member"] = None
    if kind == ".shp":
        return _read_shapefile(data, members, by_ext[".shp"], layer=layer, report=report,
                               limits=limits)
    candidates = by_ext[kind]
    if kind == ".kml" and len(candidates) > 1:  # KMZ: doc.kml is the document
        docs = [m for m in candidates if os.path.basename(m.filename).lower() == "doc.kml"]
        candidates = docs or candidates[:1]
    if len(candidates) > 1:
        stems = [os.path.splitext(os.path.basename(m.filename))[0] for m in candidates]
        if layer in stems:
            candidates = [candidates[stems.index(layer)]]
            layer = None
        else:
            raise GeoInputError(f"the zip holds {len(candidates)} {kind} files: "
                                + ", ".join(stems), hint="choose one with layer=<name>, or "
                                "upload them one by one", status=422, code="layer_choice", message_zh=f"压缩包里有 {len(candidates)} 个 {kind} 文件", hint_zh="请选择其中一个，或者逐个上传")
    member = candidates[0]
    report.source["zip_member"] = member.filename
    content = read_member(data, member, limits)
    inner_kind = sniff(content, member.filename)
    if inner_kind == "zip":
        raise GeoInputError(f"the zip member {member.filename!r} is itself an archive",
                            hint="unzip it and upload the inner file", status=422,
                            code="zip_contents",
                            message_zh=f"压缩包里的 {member.filename!r} 本身又是压缩包",
                            hint_zh="请解开后上传里面的文件")
    return _read_any(content, member.filename, layer=layer, report=report, limits=limits,
                     table=table)


def _read_shapefile(data: bytes, members: list[zipfile.ZipInfo], shps: list[zipfile.ZipInfo],
                    *, layer: str | None, report: Report, limits: Limits
                    ) -> tuple[gpd.GeoDataFrame, Any, str]:
    report.source["format"] = "shapefile"
    stems = {os.path.splitext(m.filename)[0].lower(): m for m in shps}
    shown = [os.path.basename(os.path.splitext(m.filename)[0]) for m in shps]
    if len(shps) > 1:
        pick = [m for m in shps if layer is not None and
                os.path.basename(os.path.splitext(m.filename)[0]) == layer]
        if not pick:
            raise GeoInputError(f"the zip holds {len(shps)} shapefiles: " + ", ".join(shown),
                                hint="choose one with layer=<name>, or zip each separately",
                                status=422, code="layer_choice", message_zh=f"压缩包里有 {len(shps)} 个 Shapefile", hint_zh="请选择其中一个，或者分别压缩上传")
        shp = pick[0]
    else:
        shp = shps[0]
    stem = os.path.splitext(shp.filename)[0].lower()
    del stems
    parts = {extension(m.filename): m for m in members
             if os.path.splitext(m.filename)[0].lower() == stem}
    base = os.path.basename(os.path.splitext(shp.filename)[0])
    report.source["layer"] = base
    for ext, what in ((".shx", "index"), (".dbf", "attribute table")):
        if ext not in parts:
            raise GeoInputError(
                f"the zip has {base}.shp but no {base}{ext} (the {what})",
                hint="a shapefile needs .shp, .shx and .dbf (and .prj for the coordinate "
                "system): zip them together", status=422, code="zip_contents", message_zh=f"压缩包里有 {base}.shp，但缺少 {base}{ext}", hint_zh="Shapefile 需要 .shp、.shx、.dbf（以及说明坐标系的 .prj）一起压缩")
    tmp = tempfile.mkdtemp(prefix="atlas-shp-")
    try:
        paths = extract(data, list(parts.values()), tmp, limits)
        local = {extension(k): v for k, v in paths.items()}
        # Give every part one stem so GDAL finds its siblings whatever their case.
        final = {}
        for ext, p in local.items():
            target = os.path.join(tmp, f"layer{ext}")
            os.replace(p, target)
            final[ext] = target
        encoding = None
        if ".cpg" in final:
            with open(final[".cpg"], "rb") as fh:
                report.source["encoding"] = fh.read(64).decode("ascii", "replace").strip()
        else:
            encoding = detect_dbf_encoding(final[".dbf"])
            report.source["encoding"] = encoding
            report.warn("encoding_detected", f"no .cpg file: attribute encoding detected as "
                        f"{encoding}", f"缺少.cpg文件，属性编码识别为{encoding}")
        if ".prj" not in final:
            report.source["prj"] = False
        gdf, file_crs = read_layer(final[".shp"], encoding=encoding, report=report)
        return gdf, file_crs, "warn"
    finally:
        remove_tree(tmp)


def detect_dbf_encoding(path: str) -> str:
    """Encoding of a .dbf's text: UTF-8 if every byte decodes strictly, else GB18030.

    Chinese shapefiles without a .cpg are nearly always GBK; GB18030 is its superset.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.dbf")
    >>> _ = open(p, "wb").write(bytes(8) + (40).to_bytes(2, "little") + bytes(30)
    ...                          + "滦河".encode("gbk"))
    >>> detect_dbf_encoding(p)
    'GB18030'
    """
    with open(path, "rb") as fh:
        raw = fh.read()
    header_len = int.from_bytes(raw[8:10], "little") if len(raw) >= 10 else 0
    body = raw[header_len:]
    try:
        body.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        return "GB18030"
