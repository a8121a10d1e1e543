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
from collections.abc import Sequence

import numpy as np
import pandas as pd

# Names in order of preference: an explicit "longitude" beats a generic "x".
LON_NAMES = ("longitude", "lon", "lng", "long", "经度", "东经", "经度坐标", "lonwgs84",
             "pointx", "x", "xcoord", "x坐标")
LAT_NAMES = ("latitude", "lat", "纬度", "北纬", "纬度坐标", "latwgs84", "pointy", "y",
             "ycoord", "y坐标")
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
