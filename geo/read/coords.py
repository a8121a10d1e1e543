"""Coordinate columns in tables: finding them by name and reading their values.

Column names are matched case-insensitively after removing spaces, ``_``/``-``
and a bracketed unit, so ``Longitude (°)``, ``POINT_X`` and ``经度（度）`` are all
found.  Values may be decimal degrees or degrees-minutes-seconds in the many ways
people write them (``116°05′30″``, ``116d5m30s``, ``43°57'N``, ``北纬43度57分``,
``116 05 30``); :func:`parse_degrees` reads a whole column with one regular
expression through pandas, not row by row.

Examples
--------
>>> find_columns(["名称", "经度", "纬度"])
('经度', '纬度')
>>> vals, axis = parse_degrees(pd.Series(["116°05′30″", "116d5m30s", "43°57'N", "-3.5", "x"]))
>>> vals.round(5).tolist(), axis.tolist()
([116.09167, 116.09167, 43.95, -3.5, nan], ['', '', 'lat', '', ''])
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

# Names in order of preference: an explicit "longitude" beats a generic "x".
EXPLICIT_LON = ("longitude", "lon", "lng", "long", "经度", "东经", "经度坐标", "lonwgs84")
EXPLICIT_LAT = ("latitude", "lat", "纬度", "北纬", "纬度坐标", "latwgs84")
#: Generic X/Y: longitude/latitude for degrees, the CRS's first/second axis for metres.
GENERIC_X = ("pointx", "x", "xcoord", "x坐标", "坐标x", "x值")
GENERIC_Y = ("pointy", "y", "ycoord", "y坐标", "坐标y", "y值")
#: Projected coordinates named by direction (横坐标 = east, 纵坐标 = north in surveying).
EAST_NAMES = ("easting", "east", "东坐标", "东向坐标", "横坐标", "东距")
NORTH_NAMES = ("northing", "north", "北坐标", "北向坐标", "纵坐标", "北距")
LON_NAMES = EXPLICIT_LON + GENERIC_X
LAT_NAMES = EXPLICIT_LAT + GENERIC_Y
WKT_NAMES = ("wkt", "geometry", "geom", "thegeom", "shape", "几何")


def normalise_name(name: object) -> str:
    """Column name reduced for matching.

    Examples
    --------
    >>> normalise_name(" Longitude (°) "), normalise_name("POINT_X"), normalise_name("经度（度）")
    ('longitude', 'pointx', '经度')
    """
    s = str(name).replace("\ufeff", "").strip().lower()
    s = re.sub(r"[(（\[【].*?[)）\]】]", "", s)
    return re.sub(r"[\s_\-.]", "", s)


def _find(columns: Sequence[object], names: Sequence[str]) -> object | None:
    norm = {normalise_name(c): c for c in reversed(list(columns))}  # first column wins
    for n in names:
        if n in norm:
            return norm[n]
    return None


def find_columns(columns: Sequence[object]) -> tuple[object, object] | None:
    """The (longitude, latitude) column pair, or None when there is no complete pair."""
    lon, lat = _find(columns, LON_NAMES), _find(columns, LAT_NAMES)
    if lon is None or lat is None or lon == lat:
        return None
    return lon, lat


@dataclass(frozen=True)
class CoordinateColumns:
    """The two coordinate columns of a table and what their names say they hold.

    Attributes
    ----------
    first, second : column labels
        ``kind="lonlat"``: longitude, latitude.  ``"en"``: easting, northing.
        ``"xy"``: X, Y — longitude/latitude in degrees, or, for a projected CRS,
        its first and second axis as the CRS defines them (X is the northing of a
        Chinese Gauss-Krüger CRS such as EPSG:4548, the easting of UTM).
    kind : {"lonlat", "en", "xy"}
    """

    first: object
    second: object
    kind: str


def find_coordinate_columns(columns: Sequence[object]) -> CoordinateColumns | None:
    """The coordinate column pair by name: explicit lon/lat, then east/north, then X/Y.

    Examples
    --------
    >>> find_coordinate_columns(["X坐标", "Y坐标", "名称"])
    CoordinateColumns(first='X坐标', second='Y坐标', kind='xy')
    >>> find_coordinate_columns(["北坐标", "东坐标"]).kind
    'en'
    >>> find_coordinate_columns(["名称"]) is None
    True
    """
    for xs, ys, kind in ((EXPLICIT_LON, EXPLICIT_LAT, "lonlat"), (EAST_NAMES, NORTH_NAMES, "en"),
                         (GENERIC_X, GENERIC_Y, "xy")):
        a, b = _find(columns, xs), _find(columns, ys)
        if a is not None and b is not None and a != b:
            return CoordinateColumns(a, b, kind)
    return None


def find_wkt_column(columns: Sequence[object]) -> object | None:
    """A column holding WKT geometries, by name."""
    return _find(columns, WKT_NAMES)


_HEMI = r"(?:[NSEW]|东经|西经|北纬|南纬|[东西南北])"
_NUM = r"\d+(?:\.\d*)?|\.\d+"
_DMS_RE = (
    rf"^(?P<h1>{_HEMI})?\s*(?P<sign>[-+\u2212])?\s*"
    rf"(?P<d>{_NUM})\s*(?:°|度|deg|d|:)?\s*"
    rf"(?:(?P<m>{_NUM})\s*(?:'|′|’|分|min|m|:)?\s*)?"
    rf"(?:(?P<s>{_NUM})\s*(?:\"|″|”|''|′′|秒|sec|s)?\s*)?"
    rf"(?P<h2>{_HEMI})?$"
)
_NEGATIVE = {"s", "w", "南", "西", "南纬", "西经"}
_LAT_HEMI = {"n", "s", "北", "南", "北纬", "南纬"}
_LON_HEMI = {"e", "w", "东", "西", "东经", "西经"}


def parse_degrees(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Degrees from decimal or DMS text; NaN where a value cannot be read.

    Parameters
    ----------
    values : pandas.Series
        Strings or numbers.

    Returns
    -------
    (ndarray of float, ndarray of str)
        The values in decimal degrees, and per value ``"lat"``/``"lon"`` when a
        hemisphere letter says which axis it belongs to (else ``""``).

    Examples
    --------
    >>> parse_degrees(pd.Series(["东经116度5分", "116,5", "43°57′30″S"]))[0].round(4).tolist()
    [116.0833, 116.5, -43.9583]
    """
    numeric = to_float(values)
    value = numeric.copy()
    axis = np.full(len(numeric), "", dtype=object)
    # Only what is not already a plain number goes through the regular expression.
    todo = np.isnan(numeric) & ~pd.isna(np.asarray(values, dtype=object))
    if not todo.any():
        return value, axis
    text = pd.Series(np.asarray(values, dtype=object)[todo]).astype(str)
    text = (text.str.replace("º", "°", regex=False).str.normalize("NFKC").str.strip()
            .str.replace(r"^(-?\d+),(\d+)$", r"\1.\2", regex=True))  # decimal comma
    parts = text.str.extract(_DMS_RE, flags=re.IGNORECASE)
    d = pd.to_numeric(parts["d"], errors="coerce").to_numpy(dtype="float64")
    m = pd.to_numeric(parts["m"], errors="coerce").fillna(0).to_numpy(dtype="float64")
    s = pd.to_numeric(parts["s"], errors="coerce").fillna(0).to_numpy(dtype="float64")
    hemi = parts["h1"].fillna(parts["h2"]).fillna("").str.lower().to_numpy(dtype=object)
    sign = parts["sign"].fillna("").to_numpy(dtype=object)
    negative = np.isin(hemi, list(_NEGATIVE)) | np.isin(sign, ["-", "\u2212"])
    parsed = d + m / 60.0 + s / 3600.0
    parsed = np.where(negative, -parsed, parsed)
    parsed = np.where((m >= 60) | (s >= 60), np.nan, parsed)  # 116°75′ is not a coordinate
    value[todo] = parsed
    axis[todo] = np.where(np.isin(hemi, list(_LAT_HEMI)), "lat",
                          np.where(np.isin(hemi, list(_LON_HEMI)), "lon", ""))
    return value, axis


def to_float(values: pd.Series | np.ndarray) -> np.ndarray:
    """Floats of ``values``; NaN where a value is not a plain number.

    NumPy's C conversion handles the common all-numeric column in one call; only
    a column with some text falls back to pandas' element-wise coercion.

    Examples
    --------
    >>> to_float(pd.Series(["1.5", "x", None])).tolist()
    [1.5, nan, nan]
    """
    arr = np.asarray(values, dtype=object)
    try:
        return arr.astype("float64")
    except (TypeError, ValueError):
        return pd.to_numeric(pd.Series(arr), errors="coerce").to_numpy(dtype="float64")


_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")


def parse_numbers(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Floats of numbers stored as text the way spreadsheets hold them.

    Full-width digits and punctuation (``１２，３４５．６``), thousands separators
    (``1,568.5``; only in groups of three, so ``116,5`` is not 1165), spaces and a
    leading ``+`` are understood; anything else is NaN.

    Returns
    -------
    (ndarray of float, ndarray of bool)
        The values, and which of them were text that needed this cleaning (for the
        report).

    Examples
    --------
    >>> v, cleaned = parse_numbers(pd.Series(["1,568.5", "１２，３４５", 7, "12 5", "x", None]))
    >>> v.tolist(), cleaned.tolist()
    ([1568.5, 12345.0, 7.0, 125.0, nan, nan], [True, True, False, True, False, False])
    """
    arr = np.asarray(values, dtype=object)
    out = to_float(arr).copy()
    cleaned = np.zeros(len(arr), dtype=bool)
    todo = np.flatnonzero(np.isnan(out) & np.array([isinstance(v, str) for v in arr], dtype=bool))
    if not len(todo):
        return out, cleaned
    text = pd.Series(arr[todo], dtype=object).astype(str).map(
        lambda s: unicodedata.normalize("NFKC", s)).str.replace(r"\s+", "", regex=True)
    sep = text.str.match(_THOUSANDS)
    text = text.where(~sep, text.str.replace(",", "", regex=False))
    nums = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64")
    out[todo] = nums
    cleaned[todo] = np.isfinite(nums)
    return out, cleaned


_METRES_PER_DEGREE = 111_320.0


def precision_m(values: pd.Series | np.ndarray, metres: bool = False) -> np.ndarray:
    """Half the last written digit of each coordinate, in metres (NaN when unreadable).

    The rounding a coordinate was written with bounds its accuracy from below:
    ``116.08`` can be anywhere within 0.005° (≈ 560 m), ``116°05′30″`` within half
    a second (≈ 15 m).  Degrees are converted at 111.32 km per degree (latitude; a
    degree of longitude is shorter, so this is the larger, safer figure).

    Examples
    --------
    >>> precision_m(pd.Series(["116.08", "116°05′30″", "116°05′", 116.086112, "x"])).round(1).tolist()
    [556.6, 15.5, 927.7, 0.1, nan]
    >>> precision_m(pd.Series(["4866828.4", 426617]), metres=True).tolist()
    [0.05, 0.5]
    """
    arr = np.asarray(values, dtype=object)
    out = np.full(len(arr), np.nan)
    # Plain decimal text ("116.086112", what CSVs hold) vectorised with NumPy's string
    # ufuncs; anything else (degrees-minutes-seconds, floats, full-width …) below.
    plain, decimals = _plain_decimals(arr)
    unit = 1.0 if metres else _METRES_PER_DEGREE
    out[plain] = 0.5 * 10.0 ** (-np.minimum(decimals[plain], 9)) * unit
    rest = np.flatnonzero(~plain)
    if len(rest):
        out[rest] = _precision_m_text(arr[rest], metres)
    return out


def _plain_decimals(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which values are text of one plain decimal number (``-116.08``) and their decimals.

    Examples
    --------
    >>> _plain_decimals(np.array(["116.08", " 44 ", "116°05′", ".5", 1.5, None], dtype=object))
    (array([ True,  True, False, False, False, False]), array([2, 0, 0, 0, 0, 0]))
    """
    n = len(arr)
    plain = np.zeros(n, dtype=bool)
    decimals = np.zeros(n, dtype="int64")
    is_str = np.fromiter((v.__class__ is str for v in arr), dtype=bool, count=n)
    idx = np.flatnonzero(is_str)
    if not len(idx):
        return plain, decimals
    text = np.strings.strip(arr[idx].astype(np.str_))
    signed = np.strings.startswith(text, "-") | np.strings.startswith(text, "+")
    body = np.where(signed, np.strings.slice(text, 1, None), text)
    dot = np.strings.find(body, ".")
    ok = (np.strings.isdigit(np.strings.replace(body, ".", "", 1))
          & ~np.strings.startswith(body, "."))
    plain[idx] = ok
    decimals[idx] = np.where(ok & (dot >= 0), np.strings.str_len(body) - dot - 1, 0)
    return plain, decimals


def _precision_m_text(arr: np.ndarray, metres: bool) -> np.ndarray:
    """:func:`precision_m` of any values, one regular expression per value."""
    text = pd.Series(arr, dtype=object).map(
        lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v))
        else (repr(float(v)) if isinstance(v, (float, np.floating)) else str(v)))
    text = text.map(lambda s: unicodedata.normalize("NFKC", s).strip())
    # The last number written and how many decimals it has; what it counts (degrees,
    # minutes, seconds) decides its unit.
    parts = text.str.extract(r"(\d+)(?:\.(\d*))?\D*$")
    decimals = parts[1].fillna("").str.len().to_numpy(dtype="float64")
    decimals = np.minimum(decimals, 9)  # binary noise in floats (116.08610000000001)
    count = text.str.count(r"\d+(?:\.\d*)?").to_numpy(dtype="float64")
    unit = np.ones(len(arr))
    if not metres:
        unit = np.where(count >= 3, 1 / 3600, np.where(count == 2, 1 / 60, 1.0)) * _METRES_PER_DEGREE
    out = 0.5 * 10.0 ** (-decimals) * unit
    return np.where(parts[0].isna().to_numpy() | (count == 0), np.nan, out)
