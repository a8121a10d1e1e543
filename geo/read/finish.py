"""The steps every format shares once its features are in a GeoDataFrame.

In order: drop the Z coordinate, settle the CRS (declared, from the file, or
assumed WGS 84 when the numbers are plainly degrees), drop features with NaN or
infinite coordinates, detect swapped latitude/longitude, drop what is still out
of range, convert a declared GCJ-02/BD-09 datum to WGS 84, then
:func:`geo.validate.validate`.  All vectorised over the geometry array.

Examples
--------
>>> import geopandas as gpd, shapely
>>> from geo.report import Report
>>> gdf = gpd.GeoDataFrame(geometry=[shapely.Point(43.9, 116.1), shapely.Point(116, 44)])
>>> r = Report()
>>> out = finish(gdf, None, report=r, assume="plain")
>>> [round(p.x, 1) for p in out.geometry], sorted(r.codes("repairs"))
([116.1, 116.0], ['swapped_lat_lon'])
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from pyproj.exceptions import CRSError

from ..crs import STORAGE_CRS, normalise_datum, transform_geometries
from ..errors import GeoInputError
from ..report import Report
from ..validate import RegionLike, region_geometry, validate

_CRS_HINT = ("use an EPSG code such as EPSG:4326 (WGS 84), EPSG:4490 (CGCS2000), "
             "EPSG:4547 (CGCS2000 3-degree Gauss-Kruger CM 114E) or EPSG:32650 (UTM 50N); "
             "the League's CGCS2000 3-degree Gauss-Kruger zones are EPSG:4546 (CM 111E), "
             "4547 (114E), 4548 (117E) and 4549 (120E)")

_CRS_HINT_ZH = ("请附上 Shapefile 的 .prj 文件，或注明坐标参考系；本盟常用 CGCS2000 三度带"
                "高斯-克吕格投影：EPSG:4546（中央经线111°）、EPSG:4547（114°）、EPSG:4548（117°）、"
                "EPSG:4549（120°）")


def parse_crs(crs: Any) -> pyproj.CRS | None:
    """A declared CRS as a :class:`pyproj.CRS`; unknown codes are a 400 with a hint.

    Examples
    --------
    >>> parse_crs("EPSG:4490").name
    'China Geodetic Coordinate System 2000'
    >>> parse_crs("EPSG:99999")
    Traceback (most recent call last):
    ...
    geo.errors.GeoInputError: unknown CRS 'EPSG:99999'
    """
    if crs is None or (isinstance(crs, str) and not crs.strip()):
        return None
    value = crs.strip() if isinstance(crs, str) else crs
    if isinstance(value, str) and value.isdigit():
        value = f"EPSG:{value}"
    try:
        return pyproj.CRS.from_user_input(value)
    except (CRSError, TypeError, ValueError) as e:
        raise GeoInputError(f"unknown CRS {str(crs)[:80]!r}", hint=_CRS_HINT, status=400, code="bad_crs", message_zh=f"无法识别坐标参考系 {str(crs)[:80]!r}", hint_zh="例如 EPSG:4490（CGCS2000）或 EPSG:4547（CGCS2000 高斯-克吕格 3 度带 114°E）") from e


def parse_datum(datum: str | None) -> str:
    """Canonical datum name, or a 400 :class:`GeoInputError`."""
    try:
        return normalise_datum(datum)
    except ValueError as e:
        raise GeoInputError(str(e), hint="datum is one of wgs84, cgcs2000, gcj02, bd09",
                            status=400, code="bad_datum", message_zh="坐标基准无法识别", hint_zh="可选 WGS 84、CGCS2000、GCJ-02（高德、腾讯）、BD-09（百度）") from e


def _geographic_ok(b: np.ndarray) -> np.ndarray:
    """Rows of ``bounds`` (minx, miny, maxx, maxy) inside lon ±180 / lat ±90."""
    return (np.abs(b[:, [0, 2]]) <= 180).all(axis=1) & (np.abs(b[:, [1, 3]]) <= 90).all(axis=1)


def _swapped_ok(b: np.ndarray) -> np.ndarray:
    return (np.abs(b[:, [1, 3]]) <= 180).all(axis=1) & (np.abs(b[:, [0, 2]]) <= 90).all(axis=1)


def finish(gdf: gpd.GeoDataFrame, file_crs: Any, *, report: Report, crs: Any = None,
           datum: str | None = None, region: RegionLike = None,
           assume: str = "warn") -> gpd.GeoDataFrame:
    """Bring a freshly read frame to validated EPSG:4326 (see the module docstring).

    Parameters
    ----------
    gdf : GeoDataFrame
        Features without a CRS set; index = feature numbers for the report.
    file_crs : any
        What the file declares (None for nothing).
    crs : any
        What the caller declares; wins over the file.
    datum : str, optional
        ``gcj02``/``bd09`` coordinates are converted to WGS 84.
    region : see :func:`geo.validate.validate`.
    assume : {"warn", "silent", "plain"}
        When nothing declares a CRS and the numbers are degrees: warn that WGS 84
        is assumed (shapefiles), assume it silently (GeoJSON, where RFC 7946 says so),
        or say so plainly as a note (tables).
    """
    datum_name = parse_datum(datum)
    declared = parse_crs(crs)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    labels = gdf.index.to_numpy()

    has_z = shapely.has_z(geoms)
    if has_z.any():
        geoms = geoms.copy()
        geoms[has_z] = shapely.force_2d(geoms[has_z])
        report.warn("dropped_z", f"dropped the height (Z) of {int(has_z.sum())} features: the "
                    "atlas is 2D", f"已去除{int(has_z.sum())}个要素的高程(Z)坐标",
                    count=int(has_z.sum()))

    # NaN/inf coordinates cannot be projected, swapped or drawn.
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    bad_pos = np.unique(idx[~np.isfinite(coords).all(axis=1)])
    nan_mask = np.zeros(len(geoms), dtype=bool)
    nan_mask[bad_pos] = True
    report.drop_many("nan_coordinate", "a coordinate is NaN or infinite",
                     "坐标为NaN或无穷大", labels[nan_mask])

    source_crs = None
    if declared is not None:
        source_crs = declared
        if file_crs is not None and not pyproj.CRS.from_user_input(file_crs).equals(declared):
            report.warn("crs_overridden", f"the file says {pyproj.CRS.from_user_input(file_crs).name}"
                        f"; the declared {declared.name} is used", "使用声明的坐标系替代文件中的坐标系")
    elif file_crs is not None:
        source_crs = pyproj.CRS.from_user_input(file_crs)

    present = ~nan_mask & ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    bounds = np.full((len(geoms), 4), np.nan)
    if present.any():
        bounds[present] = shapely.bounds(geoms[present])
    if source_crs is None:
        plausible = _geographic_ok(bounds[present]) | _swapped_ok(bounds[present])
        if present.any() and not plausible.all():
            sample = bounds[present][~plausible][0]
            raise GeoInputError(
                f"the coordinates are not degrees (e.g. x={sample[0]:,.0f}, y={sample[1]:,.0f}) and the file does not "
                "say which coordinate system they are in",
                hint="include the .prj file of the shapefile, or declare the CRS (crs=EPSG:…); "
                + _CRS_HINT, status=422, code="bad_crs", message_zh="坐标不是经纬度，文件也没有说明所用的坐标系", hint_zh=_CRS_HINT_ZH)
        source_crs = pyproj.CRS.from_user_input(STORAGE_CRS)
        if assume == "warn":
            report.warn("crs_assumed", "the file has no coordinate system (.prj); its coordinates "
                        "are degrees, so WGS 84 (EPSG:4326) is assumed",
                        "文件未注明坐标系（缺少.prj），坐标为经纬度，按WGS 84处理")
        elif assume == "plain" and datum_name not in ("gcj02", "bd09"):
            # (A declared GCJ-02/BD-09 file was not "read as WGS 84": no advice to declare it.)
            report.warn("crs_assumed", "table coordinates are read as WGS 84 longitude/latitude "
                        "degrees; declare datum=gcj02 or bd09 for AMap/Baidu coordinates",
                        "表格坐标按WGS 84经纬度读取；高德/百度坐标请声明datum=gcj02或bd09")
    report.source["crs"] = source_crs.to_string()

    geographic = source_crs.is_geographic
    if not geographic:
        keep = ~nan_mask
        out = gpd.GeoSeries(geoms[keep], crs=source_crs).to_crs(STORAGE_CRS).values
        geoms = geoms.copy()
        geoms[keep] = np.asarray(out, dtype=object)
        bounds[present] = shapely.bounds(geoms[present])
    elif not source_crs.equals(pyproj.CRS.from_user_input(STORAGE_CRS)):
        keep = ~nan_mask
        # Geographic but another datum (CGCS2000, Beijing 1954 …): a proper transformation.
        out = gpd.GeoSeries(geoms[keep], crs=source_crs).to_crs(STORAGE_CRS).values
        geoms = geoms.copy()
        geoms[keep] = np.asarray(out, dtype=object)

    # Swapped latitude/longitude: numbers that only make sense the other way round,
    # or that land in the region only when swapped.
    if geographic and present.any():
        b = bounds[present]
        as_is, swapped = _geographic_ok(b), _swapped_ok(b)
        swap = ~as_is & swapped
        area = region_geometry(region)
        if area is not None:
            # Box-against-box in NumPy: the region's extent is precise enough for a hint.
            rx0, ry0, rx1, ry1 = area.bounds
            hits_as_is = (b[:, 0] <= rx1) & (b[:, 2] >= rx0) & (b[:, 1] <= ry1) & (b[:, 3] >= ry0)
            hits_swapped = (b[:, 1] <= rx1) & (b[:, 3] >= rx0) & (b[:, 0] <= ry1) & (b[:, 2] >= ry0)
            swap |= as_is & swapped & ~hits_as_is & hits_swapped
        if swap.any():
            pos = np.flatnonzero(present)[swap]
            geoms = geoms.copy()
            geoms[pos] = shapely.transform(geoms[pos], lambda c: c[:, ::-1])
            report.repair_many("swapped_lat_lon",
                               "latitude and longitude were swapped; fixed",
                               "经纬度颠倒，已纠正", labels[pos])
            report.warn("swapped_lat_lon", f"{len(pos)} features had latitude and longitude "
                        "swapped and were fixed: check the source",
                        f"{len(pos)}个要素经纬度颠倒，已纠正，请核对源数据", count=len(pos))
            bounds[pos] = shapely.bounds(geoms[pos])

    out_of_range = np.zeros(len(geoms), dtype=bool)
    out_of_range[present] = ~_geographic_ok(bounds[present])
    report.drop_many("out_of_range", "coordinates outside longitude ±180 / latitude ±90",
                     "坐标超出经度±180/纬度±90范围", labels[out_of_range],
                     [{"bounds": [round(float(v), 6) for v in bb]} for bb in bounds[out_of_range]])

    keep = ~nan_mask & ~out_of_range
    if datum_name in ("gcj02", "bd09"):
        conv = keep & present
        geoms = geoms.copy()
        geoms[conv] = transform_geometries(geoms[conv], datum_name, "wgs84")
        report.source["datum"] = datum_name
        report.warn("datum_converted", f"coordinates converted from {datum_name.upper()} to "
                    "WGS 84", f"坐标已由{datum_name.upper()}转换为WGS 84")

    result = gdf.loc[keep].copy()
    result = result.set_geometry(gpd.GeoSeries(geoms[keep], index=result.index, crs=STORAGE_CRS))
    if result.geometry.name != "geometry":
        result = result.rename_geometry("geometry")
    result, vreport = validate(result, region=region)
    report.extend(vreport)
    return result.reset_index(drop=True)
