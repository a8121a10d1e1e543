"""Projected X/Y columns in tables: Gauss-Krüger and UTM coordinates as surveyors write them.

A water bureau's sheet of monitoring points in CGCS2000 Gauss-Krüger has columns
``X``/``Y`` (or ``X坐标``/``Y坐标``, ``北坐标``/``东坐标``) in metres.  Chinese surveying
writes the northing first: X is north, Y is east, exactly as EPSG defines the axes
of EPSG:4546–4549 (CGCS2000 3-degree Gauss-Krüger CM 111°E … 120°E, the zones
covering the League).  UTM (EPSG:326xx) defines the easting first.  So a generic
X column is the CRS's *first* axis, whatever that is; columns named by direction
(东坐标/北坐标, easting/northing) are taken as named.

Two slips are common and are repaired, each in the report: X and Y the wrong way
round (found by range: only one order lands in the region), and a 3-degree zone
number written in front of the easting (``39426617.5`` for CM 117°E, zone 39)
while the CRS declared has no zone prefix, or the reverse.

Examples
--------
>>> import pyproj
>>> from geo.report import Report
>>> crs = pyproj.CRS("EPSG:4548")
>>> r = Report()
>>> e, n = arrange_projected(np.array([4866828.4, 426617.5]), np.array([426617.5, 4866828.4]),
...                          "xy", crs, report=r, rows=np.array([2, 3]), where="row")
>>> e.round(1).tolist(), n.round(1).tolist(), [x.detail["row"] for x in r.repairs]
([426617.5, 426617.5], [4866828.4, 4866828.4], [3])
"""

from __future__ import annotations

import numpy as np
import pyproj
import shapely

from ..report import Report
from ..validate import RegionLike, region_geometry

#: CGCS2000 3-degree Gauss-Krüger CRSs (no zone prefix) whose central meridians cover the League.
LEAGUE_GK_CRS: dict[int, str] = {111: "EPSG:4546", 114: "EPSG:4547", 117: "EPSG:4548",
                                 120: "EPSG:4549"}


def _parameters(crs: pyproj.CRS) -> dict[str, float]:
    try:
        params = crs.to_json_dict()["conversion"]["parameters"]
    except (KeyError, TypeError):
        return {}
    return {p["name"]: float(p["value"]) for p in params if isinstance(p.get("value"), (int, float))}


def first_axis_is_north(crs: pyproj.CRS) -> bool:
    """Whether the CRS defines the northing as its first axis (Chinese Gauss-Krüger does).

    Examples
    --------
    >>> first_axis_is_north(pyproj.CRS("EPSG:4548")), first_axis_is_north(pyproj.CRS("EPSG:32650"))
    (True, False)
    """
    axes = crs.axis_info
    return bool(axes) and axes[0].direction.lower() == "north"


def gk_zone_hint(easting: float) -> str:
    """Which League CRS a zone-prefixed easting points to, in words (for hints).

    Examples
    --------
    >>> gk_zone_hint(39426617.5)
    'the easting carries zone number 39 (CM 117°E): declare EPSG:4527 (with the zone number) or EPSG:4548 (without)'
    """
    zone = int(easting // 1_000_000)
    cm = zone * 3
    if 25 <= zone <= 45:
        return (f"the easting carries zone number {zone} (CM {cm}°E): declare EPSG:{4513 + zone - 25} "
                f"(with the zone number) or EPSG:{4534 + (cm - 75) // 3} (without)")
    return f"the easting starts with {zone}, which is no 3-degree zone of China"


def arrange_projected(first: np.ndarray, second: np.ndarray, kind: str, crs: pyproj.CRS, *,
                      report: Report, rows: np.ndarray, where: str = "row",
                      region: RegionLike = None) -> tuple[np.ndarray, np.ndarray]:
    """Easting and northing (the CRS's units) from a table's two coordinate columns.

    Parameters
    ----------
    first, second : ndarray of float
        The columns' values (see :class:`geo.read.coords.CoordinateColumns` for ``kind``).
    kind : {"xy", "en", "lonlat"}
        ``"xy"``: X is the CRS's first axis; ``"en"`` and ``"lonlat"``: easting first.
    crs : pyproj.CRS
        The declared projected CRS.
    report : Report
        Receives ``zone_prefix_removed``/``zone_prefix_added`` and ``swapped_xy`` entries.
    rows : ndarray of int
        Row (or line) numbers of the values in the user's file, for the report.
    region : optional
        Where the points should be (default: the League with a margin); decides swaps.

    Returns
    -------
    (ndarray, ndarray)
        Easting and northing, ready for ``shapely.points(easting, northing)`` in ``crs``.
    """
    if kind == "xy" and first_axis_is_north(crs):
        e, n = second.astype("float64").copy(), first.astype("float64").copy()
    else:
        e, n = first.astype("float64").copy(), second.astype("float64").copy()
    params = _parameters(crs)
    fe = params.get("False easting", 0.0)
    cm = params.get("Longitude of natural origin")
    ok = np.isfinite(e) & np.isfinite(n)

    # A zone number in front of the easting (8 digits) when the CRS has none, or the reverse.
    if fe < 1e7 and cm is not None:
        zones = {round(cm / 3), round((cm + 3) / 6)}
        for values, other in ((e, n), (n, e)):  # the prefix may sit on the swapped column too
            big = ok & (values >= 1e7) & (other < 1e7)
            zone = np.floor(np.where(big, values, 0) / 1e6)
            fix = big & np.isin(zone, list(zones))
            if fix.any():
                values[fix] -= zone[fix] * 1e6
                report.repair_many("zone_prefix_removed",
                                   "the easting carried the Gauss-Krüger zone number, which the "
                                   "declared CRS does not: removed",
                                   "东坐标带有投影带号，所声明的坐标系不含带号：已去除",
                                   rows[fix], [{where: int(r), "zone": int(z)}
                                               for r, z in zip(rows[fix], zone[fix], strict=True)])
    elif fe >= 1e7:
        prefix = np.floor(fe / 1e6) * 1e6
        small = ok & (e < 1e7) & (n < 1e7) & (np.minimum(e, n) < 1e6)
        if small.any():
            short_e = small & (e < n)
            short_n = small & (n < e)
            e[short_e] += prefix
            n[short_n] += prefix
            report.repair_many("zone_prefix_added",
                               "the easting lacked the zone number the declared CRS carries: added",
                               "东坐标缺少所声明坐标系的投影带号：已补上", rows[small],
                               [{where: int(r)} for r in rows[small]])

    # X/Y the wrong way round: only the other order lands in the region.
    area = region_geometry(region)
    if area is None:
        area = shapely.box(-180, -90, 180, 90)
    to_geo = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    inside_as_is = _inside(to_geo, e, n, ok, area)
    inside_swapped = _inside(to_geo, n, e, ok, area)
    swap = ok & ~inside_as_is & inside_swapped
    if swap.any():
        e[swap], n[swap] = n[swap].copy(), e[swap].copy()
        report.repair_many("swapped_xy", "X and Y were the wrong way round for the declared CRS "
                           f"({crs.name}: {'northing' if first_axis_is_north(crs) else 'easting'} "
                           "first); swapped", "X、Y坐标与所声明坐标系的轴序相反，已交换",
                           rows[swap], [{where: int(r)} for r in rows[swap]])
        report.warn("swapped_xy", f"{int(swap.sum())} rows had X and Y swapped for {crs.name} "
                    "and were fixed: check the source", f"{int(swap.sum())}行X、Y坐标颠倒，已纠正",
                    count=int(swap.sum()))
    return e, n


def _inside(t: pyproj.Transformer, x: np.ndarray, y: np.ndarray, ok: np.ndarray,
            area: shapely.Geometry) -> np.ndarray:
    out = np.zeros(len(x), dtype=bool)
    if ok.any():
        with np.errstate(all="ignore"):
            lon, lat = t.transform(x[ok], y[ok], errcheck=False)
        lon, lat = np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")
        good = np.isfinite(lon) & np.isfinite(lat)
        inside = np.zeros(len(lon), dtype=bool)
        inside[good] = shapely.contains_xy(area, lon[good], lat[good])
        out[ok] = inside
    return out
