"""Lengths and areas in metric CRSs (never degrees): of layers, and of shapes drawn on the map.

:func:`to_metric` / :func:`from_metric` move geometries into and out of
:data:`geo.crs.DISTANCE_CRS` (lengths, distances, linear referencing);
:func:`length_km` and :func:`area_km2` measure arrays of geometries, vectorised over
all their coordinates.  The data build (``data/``) and the re-derivation of a
replaced reference layer (:mod:`layers.derive`) measure with these, so a layer
built from the authored sources and one uploaded by a user are measured alike.

Examples
--------
>>> m = measure_geometry([[116.0, 44.0], [117.0, 44.0], [117.0, 45.0]])
>>> round(m["length_km"]), round(m["area_km2"], -2)
(191, 4500.0)
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from .crs import AREA_CRS, DISTANCE_CRS, STORAGE_CRS, to_wgs84
from .errors import GeoInputError


@lru_cache(maxsize=16)
def _transformer(src: str, dst: str) -> Transformer:
    # Building a Transformer costs ~0.1 s; the build reprojects hundreds of times.
    return Transformer.from_crs(src, dst, always_xy=True)


def to_crs(geoms: Sequence[shapely.Geometry], dst: str, src: str = STORAGE_CRS) -> np.ndarray:
    """Reproject an array of geometries (vectorised over all coordinates).

    Examples
    --------
    >>> to_crs([shapely.Point(116, 0)], DISTANCE_CRS)[0].x
    500000.0
    """
    t = _transformer(src, dst)
    arr = np.asarray(geoms, dtype=object)
    return shapely.transform(arr, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def to_metric(geoms: Sequence[shapely.Geometry]) -> np.ndarray:
    """Geometries in :data:`DISTANCE_CRS` (metres)."""
    return to_crs(geoms, DISTANCE_CRS)


def from_metric(geoms: Sequence[shapely.Geometry]) -> np.ndarray:
    """Geometries from :data:`DISTANCE_CRS` back to lon/lat."""
    return to_crs(geoms, STORAGE_CRS, DISTANCE_CRS)


_THREAD = threading.local()


def _local(lon: float, lat: float) -> Transformer:
    # An azimuthal equidistant projection on the WGS 84 ellipsoid, centred near the
    # shape: distances from its centre are geodesic ones.  Centres are rounded to 0.01°
    # (about 1 km) so that nearby queries share one Transformer (~0.1 s to build); one
    # cache per thread, as pyproj Transformers must not be shared between threads.
    cache = _THREAD.__dict__.setdefault("aeqd", {})
    key = (lon, lat)
    if key not in cache:
        if len(cache) >= 64:
            cache.pop(next(iter(cache)))
        cache[key] = Transformer.from_crs(
            STORAGE_CRS, f"+proj=aeqd +lat_0={lat:.2f} +lon_0={lon:.2f} +ellps=WGS84 "
            "+units=m +no_defs", always_xy=True)
    return cache[key]


def within_metres(geoms: Sequence[shapely.Geometry], other: shapely.Geometry,
                  metres: float) -> np.ndarray:
    """Which of ``geoms`` (lon/lat) come within ``metres`` of ``other`` on the ellipsoid.

    Distances are measured in an azimuthal equidistant projection centred on ``other``
    (geodesic from its centre: exact for a point ``other``, within 0.1 % for shapes up to
    a few hundred kilometres across), never in degrees.  Missing geometries give False.

    Examples
    --------
    >>> from pyproj import Geod
    >>> here = shapely.Point(116.0, 44.0)
    >>> lon, lat, _ = Geod(ellps="WGS84").fwd([116.0, 116.0], [44.0, 44.0], [30, 30],
    ...                                      [4999.0, 5001.0])
    >>> within_metres(shapely.points(lon, lat), here, 5000).tolist()
    [True, False]
    """
    arr = np.asarray(geoms, dtype=object)
    out = np.zeros(len(arr), dtype=bool)
    keep = ~(shapely.is_missing(arr) | shapely.is_empty(arr)) if len(arr) else out
    if not keep.any() or shapely.is_empty(other):
        return out
    centre = shapely.centroid(other)
    t = _local(round(centre.x, 2), round(centre.y, 2))

    def fwd(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(t.transform(xy[:, 0], xy[:, 1]))

    out[keep] = shapely.dwithin(shapely.transform(arr[keep], fwd),
                                shapely.transform(other, fwd), metres)
    return out


def area_km2(geoms: Sequence[shapely.Geometry]) -> np.ndarray:
    """Areas in km² measured in :data:`AREA_CRS`.

    Examples
    --------
    >>> cell = shapely.box(116.0, 44.0, 117.0, 45.0)
    >>> round(float(area_km2([cell])[0]))
    8837
    """
    return shapely.area(to_crs(geoms, AREA_CRS)) / 1e6


def length_km(geoms: Sequence[shapely.Geometry]) -> np.ndarray:
    """Lengths in km measured in :data:`DISTANCE_CRS`.

    Examples
    --------
    >>> round(float(length_km([shapely.LineString([(116, 44), (116, 45)])])[0]), 1)
    111.1
    """
    return shapely.length(to_metric(geoms)) / 1e3


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
