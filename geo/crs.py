"""Coordinate reference systems and Chinese datums, chosen in one place.

Two concerns live here:

* **Datums.** WGS 84 (EPSG:4326) and CGCS2000 (EPSG:4490) agree to centimetres at
  map scale, so the atlas stores everything in EPSG:4326.  GCJ-02 (AMap/Gaode,
  Tencent) and BD-09 (Baidu) are obfuscated datums offset by hundreds of metres;
  they are converted here, both ways, vectorised over NumPy arrays.
* **Metric CRSs.** Every length, distance and buffer is computed in
  :data:`DISTANCE_CRS` (a transverse Mercator centred on the League) and every area
  in :data:`AREA_CRS` (an Albers equal-area conic fitted to the League's latitudes).
  Nothing in the atlas measures in degrees.

Examples
--------
>>> lon, lat = wgs84_to_gcj02(116.0, 43.9)
>>> round(float(lon) - 116.0, 5), round(float(lat) - 43.9, 5)  # doctest: +SKIP
(0.00609, 0.00136)
>>> back = gcj02_to_wgs84(lon, lat)
>>> abs(float(back[0]) - 116.0) < 1e-7
True
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Storage CRS of every layer: WGS 84 geographic, lon/lat order (RFC 7946).
STORAGE_CRS = "EPSG:4326"

#: CGCS2000 geographic; treated as identical to WGS 84 at map scale.
CGCS2000 = "EPSG:4490"

#: Equal-area CRS for areas: Albers conic, standard parallels bracketing the League
#: (41.5°N–46.8°N) so the scale error inside the League stays below 0.1 %.
AREA_CRS = (
    "+proj=aea +lat_0=44 +lon_0=116 +lat_1=42.5 +lat_2=45.5 "
    "+x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
)

#: Conformal CRS for distances and buffers: transverse Mercator on 116°E, the League's
#: central meridian.  At its edges (111°E, 120°E) the scale error is about 0.16 %.
DISTANCE_CRS = (
    "+proj=tmerc +lat_0=0 +lon_0=116 +k=1 +x_0=500000 +y_0=0 "
    "+ellps=WGS84 +units=m +no_defs"
)

Datum = Literal["wgs84", "cgcs2000", "gcj02", "bd09"]
DATUMS: tuple[str, ...] = ("wgs84", "cgcs2000", "gcj02", "bd09")

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 obfuscation.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
    return np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Whether points fall in the rough box where GCJ-02 offsets are applied.

    Outside mainland China GCJ-02 equals WGS 84; the conversions leave such points
    untouched, as AMap and Tencent do.

    Examples
    --------
    >>> bool(in_china(116.0, 43.9)), bool(in_china(2.35, 48.85))
    (True, False)
    """
    lon, lat = _as_arrays(lon, lat)
    return (lon > 72.004) & (lon < 137.8347) & (lat > 0.8293) & (lat < 55.8271)


def _delta(lon: NDArray, lat: NDArray) -> tuple[NDArray, NDArray]:
    """GCJ-02 offset (degrees) at WGS 84 position ``lon, lat``."""
    x = lon - 105.0
    y = lat - 35.0
    dlat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
    """Convert WGS 84 coordinates to GCJ-02 (AMap/Gaode, Tencent).

    Parameters
    ----------
    lon, lat : array_like
        WGS 84 longitudes and latitudes in degrees; scalars or arrays.

    Returns
    -------
    tuple of ndarray
        GCJ-02 longitudes and latitudes, same shape as the input.

    Examples
    --------
    >>> glon, glat = wgs84_to_gcj02([116.0], [43.9])
    >>> glon.shape
    (1,)
    """
    lon, lat = _as_arrays(lon, lat)
    dlon, dlat = _delta(lon, lat)
    inside = in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike, *, tol_deg: float = 1e-9, max_iter: int = 30
) -> tuple[NDArray, NDArray]:
    """Convert GCJ-02 coordinates back to WGS 84 by fixed-point iteration.

    The forward transform has no closed-form inverse.  Starting from the GCJ-02
    position, each step subtracts the offset evaluated at the current estimate;
    it converges to well under a millimetre in a handful of steps.

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 longitudes and latitudes in degrees.
    tol_deg : float
        Stop when every point moves less than this (degrees).
    max_iter : int
        Safety bound on the number of steps.

    Returns
    -------
    tuple of ndarray
        WGS 84 longitudes and latitudes.

    Examples
    --------
    >>> g = wgs84_to_gcj02(116.07, 43.95)
    >>> w = gcj02_to_wgs84(*g)
    >>> bool(abs(w[0] - 116.07) < 1e-8 and abs(w[1] - 43.95) < 1e-8)
    True
    """
    glon, glat = _as_arrays(lon, lat)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(max_iter):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = flon - glon, flat - glat
        wlon = wlon - elon
        wlat = wlat - elat
        if np.all(np.abs(elon) < tol_deg) and np.all(np.abs(elat) < tol_deg):
            break
    return wlon, wlat


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
    """Convert GCJ-02 to BD-09 (Baidu).

    Examples
    --------
    >>> b = gcj02_to_bd09(116.404, 39.915)
    >>> round(float(b[0]), 4), round(float(b[1]), 4)
    (116.4104, 39.9213)
    """
    x, y = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
    """Convert BD-09 (Baidu) to GCJ-02.

    The published closed form is accurate to a few centimetres; one refinement
    step against :func:`gcj02_to_bd09` brings it below a millimetre.

    Examples
    --------
    >>> g = bd09_to_gcj02(*gcj02_to_bd09(116.404, 39.915))
    >>> round(float(g[0]), 6), round(float(g[1]), 6)
    (116.404, 39.915)
    """
    bx, by = _as_arrays(lon, lat)
    x, y = bx - 0.0065, by - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    gx, gy = z * np.cos(theta), z * np.sin(theta)
    fx, fy = gcj02_to_bd09(gx, gy)
    return gx - (fx - bx), gy - (fy - by)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
    """Convert WGS 84 to BD-09 (through GCJ-02).

    Examples
    --------
    >>> b = wgs84_to_bd09(116.0, 43.9)
    >>> float(b[0]) > 116.0
    True
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
    """Convert BD-09 to WGS 84 (through GCJ-02).

    Examples
    --------
    >>> w = bd09_to_wgs84(*wgs84_to_bd09(116.0, 43.9))
    >>> bool(abs(w[0] - 116.0) < 1e-8)
    True
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_TO_WGS84 = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
_FROM_WGS84 = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}


def normalise_datum(datum: str | None) -> str:
    """Canonical datum name for user input such as ``"GCJ-02"`` or ``"Baidu"``.

    Raises
    ------
    ValueError
        For a name that is not one of WGS 84, CGCS2000, GCJ-02 or BD-09.

    Examples
    --------
    >>> normalise_datum("GCJ-02"), normalise_datum("amap"), normalise_datum(None)
    ('gcj02', 'gcj02', 'wgs84')
    >>> normalise_datum("EPSG:4490")
    'cgcs2000'
    """
    if datum is None or str(datum).strip() == "":
        return "wgs84"
    key = str(datum).strip().lower()
    for ch in "-_: ":
        key = key.replace(ch, "")
    aliases = {
        "wgs84": "wgs84", "epsg4326": "wgs84", "4326": "wgs84",
        "cgcs2000": "cgcs2000", "epsg4490": "cgcs2000", "4490": "cgcs2000",
        "gcj02": "gcj02", "gcj": "gcj02", "amap": "gcj02", "gaode": "gcj02",
        "tencent": "gcj02", "mars": "gcj02",
        "bd09": "bd09", "bd09ll": "bd09", "baidu": "bd09",
    }
    if key not in aliases:
        raise ValueError(
            f"unknown datum {datum!r}: use one of wgs84, cgcs2000, gcj02 (AMap/Gaode, "
            "Tencent) or bd09 (Baidu)"
        )
    return aliases[key]


def to_wgs84(lon: ArrayLike, lat: ArrayLike, datum: str) -> tuple[NDArray, NDArray]:
    """Convert coordinates in ``datum`` to WGS 84 (identity for WGS 84 / CGCS2000).

    Examples
    --------
    >>> to_wgs84(116.0, 43.9, "cgcs2000")
    (array(116.), array(43.9))
    """
    d = normalise_datum(datum)
    if d in _TO_WGS84:
        return _TO_WGS84[d](lon, lat)
    return _as_arrays(lon, lat)


def from_wgs84(lon: ArrayLike, lat: ArrayLike, datum: str) -> tuple[NDArray, NDArray]:
    """Convert WGS 84 coordinates to ``datum``.

    Examples
    --------
    >>> lon, lat = from_wgs84(116.0, 43.9, "gcj02")
    >>> bool(lon > 116.0)
    True
    """
    d = normalise_datum(datum)
    if d in _FROM_WGS84:
        return _FROM_WGS84[d](lon, lat)
    return _as_arrays(lon, lat)


def transform_geometries(geoms, datum_from: str, datum_to: str):
    """Convert an array of shapely geometries between datums, vertex by vertex.

    Uses :func:`shapely.transform`, so the work is one vectorised call over all
    coordinates rather than a loop over geometries.

    Parameters
    ----------
    geoms : array_like of shapely.Geometry
        Geometries in ``datum_from`` (lon/lat degrees).
    datum_from, datum_to : str
        Datum names accepted by :func:`normalise_datum`.

    Returns
    -------
    ndarray of shapely.Geometry

    Examples
    --------
    >>> import shapely
    >>> g = transform_geometries([shapely.Point(116, 43.9)], "wgs84", "gcj02")
    >>> round(g[0].x, 3)
    116.007
    """
    import shapely

    src, dst = normalise_datum(datum_from), normalise_datum(datum_to)
    arr = np.asarray(geoms, dtype=object)
    if {src, dst} <= {"wgs84", "cgcs2000"}:
        return arr

    def _convert(coords: NDArray) -> NDArray:
        lon, lat = to_wgs84(coords[:, 0], coords[:, 1], src)
        lon, lat = from_wgs84(lon, lat, dst)
        return np.column_stack([lon, lat])

    return shapely.transform(arr, _convert)
