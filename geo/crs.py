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

import re
import threading
from functools import lru_cache
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


# -- Output CRSs (OGC API – Features Part 2) ------------------------------------------------
# The atlas stores lon/lat in EPSG:4326, i.e. OGC:CRS84 axis order.  Every other CRS is an
# output (``crs=``) or an input for bounding boxes and filter literals (``bbox-crs``,
# ``filter-crs``), with the axis order the CRS itself defines: EPSG:4326 and EPSG:4490 are
# latitude first, the CGCS2000 Gauss-Krüger CRSs northing (X) first, EPSG:3857 easting first.

#: The OGC URI of CRS84 (WGS 84, longitude first), the default of OGC API – Features.
CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
#: The OGC URI of an EPSG code.
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{code}"

#: CGCS2000 3-degree Gauss-Krüger zones in EPSG: zone 25 (75°E) … zone 45 (135°E).  The "CM"
#: CRSs (EPSG:4534–4554) have a false easting of 500 km; the "zone" CRSs (EPSG:4513–4533)
#: put the zone number in front of it (39 500 000 m at 117°E).
_GK3_CM_FIRST, _GK3_ZONE_FIRST, _GK3_FIRST_ZONE, _GK3_LAST_ZONE = 4534, 4513, 25, 45

#: The League's four zones (111.1–120.0°E): central meridians 111, 114, 117, 120°E.
LEAGUE_GK_CM = (4546, 4547, 4548, 4549)
LEAGUE_GK_ZONE = (4525, 4526, 4527, 4528)

#: Output CRSs every collection offers, CRS84 first (the default).
OUTPUT_CRS: tuple[str, ...] = (
    "OGC:CRS84", "EPSG:4326", "EPSG:4490",
    *(f"EPSG:{c}" for c in LEAGUE_GK_CM), *(f"EPSG:{c}" for c in LEAGUE_GK_ZONE),
    "EPSG:3857",
)

class CrsInfo:
    """One coordinate reference system as the API speaks of it.

    Attributes
    ----------
    code : str
        ``"OGC:CRS84"`` or ``"EPSG:<n>"``.
    uri : str
        Its OGC URI (``http://www.opengis.net/def/crs/EPSG/0/4548``).
    name : str
        Its name in the EPSG registry (``CGCS2000 / 3-degree Gauss-Kruger CM 117E``).
    first_axis_north : bool
        True when coordinates are written latitude/northing first (EPSG:4326, 4490, the
        Gauss-Krüger CRSs); False for CRS84 and EPSG:3857.
    geographic : bool
        True for degrees, False for a projected CRS in metres.

    Examples
    --------
    >>> c = parse_crs("http://www.opengis.net/def/crs/EPSG/0/4548")
    >>> c.code, c.first_axis_north, c.geographic
    ('EPSG:4548', True, False)
    >>> c.header
    '<http://www.opengis.net/def/crs/EPSG/0/4548>'
    """

    __slots__ = ("code", "uri", "name", "first_axis_north", "geographic", "crs")

    def __init__(self, code: str, crs) -> None:
        self.code = code
        self.crs = crs
        self.uri = CRS84_URI if code == "OGC:CRS84" else EPSG_URI.format(code=code.split(":")[1])
        self.name = crs.name
        self.first_axis_north = crs.axis_info[0].direction.lower() in ("north", "south")
        self.geographic = bool(crs.is_geographic)

    @property
    def header(self) -> str:
        """The value of a ``Content-Crs`` header: the URI in angle brackets."""
        return f"<{self.uri}>"

    def __repr__(self) -> str:
        return f"CrsInfo({self.code!r}, {self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CrsInfo) and other.code == self.code

    def __hash__(self) -> int:
        return hash(self.code)


def crs_uri(code: str | int) -> str:
    """The OGC URI of ``code`` (``"EPSG:4548"``, ``4548``, ``"OGC:CRS84"``, a URI …).

    Examples
    --------
    >>> crs_uri(4548)
    'http://www.opengis.net/def/crs/EPSG/0/4548'
    >>> crs_uri("CRS84")
    'http://www.opengis.net/def/crs/OGC/1.3/CRS84'
    """
    return parse_crs(code).uri


def _crs_code(value: str | int) -> str | None:
    """``"OGC:CRS84"`` / ``"EPSG:<n>"`` for the accepted spellings, else None."""
    s = str(value).strip()
    if re.fullmatch(r"(?i)(OGC:)?CRS:?84|urn:ogc:def:crs:OGC:1\.3:CRS84|"
                    r"https?://www\.opengis\.net/def/crs/OGC/1\.3/CRS84|\[?OGC:CRS84\]?", s):
        return "OGC:CRS84"
    m = re.fullmatch(r"(?i)(?:\[?EPSG:(\d{1,6})\]?|(\d{1,6})|urn:ogc:def:crs:EPSG:[\d.]*:(\d{1,6})"
                     r"|https?://www\.opengis\.net/def/crs/EPSG/0/(\d{1,6}))", s)
    if m:
        return "EPSG:" + str(int(next(g for g in m.groups() if g)))
    return None


def parse_crs(value: str | int, allowed: tuple[str, ...] | None = None) -> CrsInfo:
    """Read a CRS given as an OGC URI, ``EPSG:n``, ``urn:ogc:def:crs:EPSG::n``, ``n`` or CRS84.

    Parameters
    ----------
    value : str or int
        The CRS as a client sends it in ``crs``, ``bbox-crs`` or ``filter-crs``.
    allowed : tuple of str, optional
        Codes (``"EPSG:4548"``) the caller offers; anything else is refused.

    Returns
    -------
    CrsInfo

    Raises
    ------
    GeoInputError
        For an unknown spelling, an EPSG code that is not a CRS, or one not ``allowed``.

    Examples
    --------
    >>> parse_crs("EPSG:4490").first_axis_north, parse_crs("OGC:CRS84").first_axis_north
    (True, False)
    >>> parse_crs("urn:ogc:def:crs:EPSG::4527").name
    'CGCS2000 / 3-degree Gauss-Kruger zone 39'
    >>> parse_crs("EPSG:99999")
    Traceback (most recent call last):
    ...
    geo.errors.GeoInputError: unknown CRS 'EPSG:99999'
    """
    from .errors import GeoInputError

    code = _crs_code(value)
    crs = _pyproj_crs(code) if code else None
    if crs is None:
        raise GeoInputError(
            f"unknown CRS {str(value)[:80]!r}",
            hint="give an OGC URI such as http://www.opengis.net/def/crs/EPSG/0/4548 "
                 "(CGCS2000 / 3-degree Gauss-Kruger CM 117E) or "
                 "http://www.opengis.net/def/crs/OGC/1.3/CRS84", status=400, code="bad_crs",
            message_zh=f"无法识别坐标参考系 {str(value)[:80]!r}",
            hint_zh="请给出 OGC URI，例如 http://www.opengis.net/def/crs/EPSG/0/4548"
                    "（CGCS2000 3 度带高斯-克吕格 中央经线 117°E）")
    if allowed is not None and code not in allowed:
        raise GeoInputError(
            f"CRS {code} is not offered here",
            hint="offered: " + ", ".join(crs_uri(c) for c in allowed), status=400,
            code="bad_crs", message_zh=f"这里不提供坐标参考系 {code}",
            hint_zh="可选：" + "、".join(crs_uri(c) for c in allowed))
    return CrsInfo(code, crs)


@lru_cache(maxsize=256)
def _pyproj_crs(code: str):
    """The pyproj CRS of ``code``, cached; None if PROJ does not know it."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        crs = CRS.from_user_input(code)
    except CRSError:
        return None
    return crs if crs.is_geographic or crs.is_projected else None


# pyproj Transformers must not be shared between threads: one cache per thread.
_LOCAL = threading.local()


def _transformer(src: str, dst: str):
    """A pyproj Transformer in authority axis order (``always_xy=False``), per thread."""
    from pyproj import Transformer

    cache = _LOCAL.__dict__.setdefault("transformers", {})
    key = (src, dst)
    if key not in cache:
        cache[key] = Transformer.from_crs(_pyproj_crs(src), _pyproj_crs(dst), always_xy=False)
    return cache[key]


def transform_coordinates(x: ArrayLike, y: ArrayLike, src: str | CrsInfo,
                          dst: str | CrsInfo) -> tuple[NDArray, NDArray]:
    """Transform coordinate arrays between CRSs, each in its own axis order.

    ``x`` is the first coordinate as written in ``src`` (longitude for CRS84, latitude
    for EPSG:4326/4490, northing for Gauss-Krüger); the result is in ``dst``'s order.

    Examples
    --------
    >>> n, e = transform_coordinates([117.0], [44.0], "OGC:CRS84", "EPSG:4548")
    >>> round(float(e[0]), 3), round(float(n[0]) / 1000, 1)
    (500000.0, 4873.8)
    """
    s = src if isinstance(src, CrsInfo) else parse_crs(src)
    d = dst if isinstance(dst, CrsInfo) else parse_crs(dst)
    x, y = _as_arrays(x, y)
    if s.code == d.code:
        return x.copy(), y.copy()
    a, b = _transformer(s.code, d.code).transform(x, y)
    return np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")


def transform_geometries_crs(geoms, src: str | CrsInfo, dst: str | CrsInfo):
    """Reproject an array of shapely geometries, honouring both CRSs' axis order.

    One vectorised :func:`shapely.transform` over every vertex.  Stored atlas geometries
    are lon/lat, so their ``src`` is ``"OGC:CRS84"``; with ``dst="EPSG:4548"`` the result
    holds (northing, easting) pairs, as EPSG defines that CRS.

    Examples
    --------
    >>> import shapely
    >>> g = transform_geometries_crs([shapely.Point(116.5, 44.0)], "OGC:CRS84", "EPSG:4326")
    >>> g[0].x, g[0].y
    (44.0, 116.5)
    """
    import shapely

    s = src if isinstance(src, CrsInfo) else parse_crs(src)
    d = dst if isinstance(dst, CrsInfo) else parse_crs(dst)
    arr = np.asarray(geoms, dtype=object)
    if s.code == d.code:
        return arr

    def _convert(coords: NDArray) -> NDArray:
        a, b = transform_coordinates(coords[:, 0], coords[:, 1], s, d)
        return np.column_stack([a, b])

    return shapely.transform(arr, _convert)


def bbox_polygon(bbox: tuple[float, float, float, float] | list[float], crs: str | CrsInfo,
                 densify: int = 32):
    """The rectangle ``bbox`` of ``crs`` as a lon/lat (CRS84) polygon.

    ``bbox`` holds the lower corner then the upper corner, each in ``crs``'s axis order
    (``bbox-crs=EPSG:4326`` is lat/lon: ``minlat,minlon,maxlat,maxlon``).  A projected
    rectangle is not a rectangle in degrees, so each edge gets ``densify`` points before
    it is transformed.

    Examples
    --------
    >>> p = bbox_polygon((43.0, 115.0, 44.5, 117.0), "EPSG:4326")
    >>> p.bounds
    (115.0, 43.0, 117.0, 44.5)
    """
    import shapely

    c = crs if isinstance(crs, CrsInfo) else parse_crs(crs)
    a0, b0, a1, b1 = (float(v) for v in bbox)
    t = np.linspace(0.0, 1.0, densify + 1)[:-1]
    ring_a = np.concatenate([a0 + (a1 - a0) * t, np.full_like(t, a1), a1 - (a1 - a0) * t,
                             np.full_like(t, a0)])
    ring_b = np.concatenate([np.full_like(t, b0), b0 + (b1 - b0) * t, np.full_like(t, b1),
                             b1 - (b1 - b0) * t])
    lon, lat = transform_coordinates(ring_a, ring_b, c, "OGC:CRS84")
    if c.code == "OGC:CRS84" or c.code in ("EPSG:4326", "EPSG:4490"):
        lon, lat = np.round(lon, 12), np.round(lat, 12)  # degrees in, degrees out: keep them
    return shapely.Polygon(np.column_stack([lon, lat]))


def bbox_to_crs84(bbox: tuple[float, float, float, float] | list[float],
                  crs: str | CrsInfo) -> tuple[float, float, float, float]:
    """The lon/lat envelope of ``bbox`` given in ``crs`` (see :func:`bbox_polygon`).

    Examples
    --------
    >>> n, e = transform_coordinates([117.0], [44.0], "OGC:CRS84", "EPSG:4548")
    >>> box = bbox_to_crs84((n[0] - 1000, e[0] - 1000, n[0] + 1000, e[0] + 1000), "EPSG:4548")
    >>> [round(v, 3) for v in box]  # 2 km square around (117°E, 44°N), northing first
    [116.988, 43.991, 117.012, 44.009]
    """
    return tuple(float(v) for v in bbox_polygon(bbox, crs).bounds)


class GaussKrugerZone:
    """A CGCS2000 3-degree Gauss-Krüger zone.

    Attributes
    ----------
    zone : int
        Zone number (37–40 in the League).
    central_meridian : int
        Degrees east (3 × zone).
    epsg_cm : int
        EPSG code with a 500 km false easting ("CM 117E": EPSG:4548).
    epsg_zone : int
        EPSG code with the zone number in front of the easting ("zone 39": EPSG:4527).
    """

    __slots__ = ("zone", "central_meridian", "epsg_cm", "epsg_zone")

    def __init__(self, zone: int) -> None:
        self.zone = zone
        self.central_meridian = 3 * zone
        self.epsg_cm = _GK3_CM_FIRST + zone - _GK3_FIRST_ZONE
        self.epsg_zone = _GK3_ZONE_FIRST + zone - _GK3_FIRST_ZONE

    def __repr__(self) -> str:
        return (f"GaussKrugerZone(zone={self.zone}, central_meridian={self.central_meridian}, "
                f"epsg_cm={self.epsg_cm}, epsg_zone={self.epsg_zone})")


def gk_zone(lon: float) -> GaussKrugerZone:
    """The CGCS2000 3-degree Gauss-Krüger zone of a longitude.

    Zone ``n`` spans ``3n - 1.5`` to ``3n + 1.5`` degrees east (a longitude on a boundary
    belongs to the eastern zone).  China's zones run from 25 (75°E) to 45 (135°E).

    Raises
    ------
    GeoInputError
        For a longitude outside 73.5–136.5°E (no CGCS2000 3-degree zone in EPSG).

    Examples
    --------
    >>> gk_zone(116.07)
    GaussKrugerZone(zone=39, central_meridian=117, epsg_cm=4548, epsg_zone=4527)
    >>> [gk_zone(x).central_meridian for x in (111.1, 112.49, 112.5, 120.0)]
    [111, 111, 114, 120]
    """
    from .errors import GeoInputError

    x = float(lon)
    zone = int(np.floor((x + 1.5) / 3.0))
    if not np.isfinite(x) or not _GK3_FIRST_ZONE <= zone <= _GK3_LAST_ZONE:
        raise GeoInputError(f"longitude {lon} has no CGCS2000 3-degree Gauss-Kruger zone",
                            hint="zones 25-45 cover 73.5-136.5 degrees east", status=400,
                            code="bad_crs", message_zh=f"经度 {lon} 不在 CGCS2000 3 度带范围内",
                            hint_zh="3 度带 25–45 覆盖东经 73.5°–136.5°")
    return GaussKrugerZone(zone)


# -- GCJ-02 and BD-09 as declared CRSs ------------------------------------------------------------
# A file in GCJ-02 or BD-09 coordinates must never say EPSG:4326: a GIS would overlay it on
# WGS 84 data hundreds of metres off without a word.  No registry has a code for these
# obfuscated datums, so exports declare a custom geographic CRS (longitude first) whose name
# and datum say what the coordinates are; GDAL, QGIS and ArcGIS then show it as a custom CRS.
_DATUM_CRS_NAMES = {
    "gcj02": ("GCJ-02 (AMap/Gaode offset of WGS 84)",
              "GCJ-02 obfuscated offset of World Geodetic System 1984",
              "Coordinates shifted from WGS 84 by the GCJ-02 algorithm (AMap/Gaode, Tencent): "
              "up to several hundred metres; not WGS 84, not EPSG:4326."),
    "bd09": ("BD-09 (Baidu offset of GCJ-02)",
             "BD-09 obfuscated offset of GCJ-02",
             "Coordinates shifted from GCJ-02 by Baidu's BD-09 algorithm: several hundred "
             "metres from WGS 84; not WGS 84, not EPSG:4326."),
}


def datum_crs_wkt(datum: str) -> str:
    """WKT2 of the custom geographic CRS declaring GCJ-02 or BD-09 coordinates.

    Examples
    --------
    >>> from pyproj import CRS
    >>> c = CRS.from_wkt(datum_crs_wkt("gcj02"))
    >>> c.name, c.to_epsg(min_confidence=1), [a.direction for a in c.axis_info]
    ('GCJ-02 (AMap/Gaode offset of WGS 84)', None, ['east', 'north'])
    """
    key = normalise_datum(datum)
    if key not in _DATUM_CRS_NAMES:
        raise ValueError(f"{datum!r} is a registered datum: use EPSG:4326 or EPSG:4490")
    name, datum_name, remark = _DATUM_CRS_NAMES[key]
    deg = 'ANGLEUNIT["degree",0.0174532925199433]'
    return (f'GEOGCRS["{name}",DATUM["{datum_name}",ELLIPSOID["WGS 84",6378137,298.257223563,'
            f'LENGTHUNIT["metre",1]]],PRIMEM["Greenwich",0,{deg}],CS[ellipsoidal,2],'
            f'AXIS["geodetic longitude (Lon)",east,ORDER[1],{deg}],'
            f'AXIS["geodetic latitude (Lat)",north,ORDER[2],{deg}],REMARK["{remark}"]]')
