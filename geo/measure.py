"""Lengths and areas of shapes drawn on the map, in metric CRSs (never degrees).

Examples
--------
>>> m = measure_geometry([[116.0, 44.0], [117.0, 44.0], [117.0, 45.0]])
>>> round(m["length_km"]), round(m["area_km2"], -2)
(191, 4500.0)
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely

from .crs import AREA_CRS, DISTANCE_CRS, to_wgs84
from .errors import GeoInputError


def measure_geometry(coords: Sequence, datum: str = "wgs84") -> dict[str, float]:
    """Length (km) of a line through ``coords`` and, for three or more points, the area
    (km², equal-area CRS) and perimeter (km) of the polygon they close.

    Parameters
    ----------
    coords : sequence of [lon, lat]
        The points, in ``datum``.
    datum : str
        ``wgs84`` (default), ``gcj02`` or ``bd09`` when the points were clicked on a
        basemap in that datum.

    Raises
    ------
    GeoInputError
        Fewer than two points, or points that are not pairs of finite numbers.
    """
    pts = np.asarray(coords, dtype="float64") if _numeric(coords) else np.empty((0, 0))
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 2 or not np.isfinite(pts).all():
        raise GeoInputError(
            "coordinates must be a list of at least two [lon, lat] pairs",
            'POST {"coordinates": [[116.0, 44.0], [117.0, 44.5]]}', code="bad_parameter",
            message_zh="坐标应是至少两个 [经度, 纬度] 数对", hint_zh="在地图上至少点两个点")
    if datum != "wgs84":
        pts = np.column_stack(to_wgs84(pts[:, 0], pts[:, 1], datum))
    line = shapely.LineString(pts)
    out = {"length_km": float(gpd.GeoSeries([line], crs=4326).to_crs(DISTANCE_CRS).length[0]
                              / 1000.0)}
    if len(pts) >= 3:
        poly = shapely.make_valid(shapely.Polygon(pts))
        out["area_km2"] = float(gpd.GeoSeries([poly], crs=4326).to_crs(AREA_CRS).area[0] / 1e6)
        ring = shapely.LineString(np.vstack([pts, pts[:1]]))
        out["perimeter_km"] = float(
            gpd.GeoSeries([ring], crs=4326).to_crs(DISTANCE_CRS).length[0] / 1000.0)
    return out


def _numeric(coords: object) -> bool:
    try:
        np.asarray(coords, dtype="float64")
    except (TypeError, ValueError):
        return False
    return True
