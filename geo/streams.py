"""Large answers written chunk by chunk: CSV rows, JSON rows, GeoJSON features, GeoJSON sequences.

An answer of a million rows is never built whole: the caller hands over one chunk
of rows at a time (a DataFrame and its geometries) and sends each encoded chunk
before computing the next, so memory is bounded by the chunk, not by the answer.

Encoding is column by column: each column becomes a list of ``str`` once (floats
through ``repr``, text through the JSON module's C escaper, a text column's
distinct values escaped once each, booleans by lookup), and each row is one
``str.join`` of its cells.  No per-row ``orjson`` bytes object is made: on glibc each
one pins a few kilobytes of heap (a 100,000-row chunk encoded row by row grew the
process by a gigabyte).  Values read back as the same JSON values as
:func:`geo.geojson.properties_json` writes (numbers in Python's shortest form).

* :func:`json_rows` — the rows as JSON objects joined by commas (a JSON array's
  inside);
* :func:`geojson_features` — GeoJSON Feature objects, joined by ``sep`` (``","``
  inside a FeatureCollection, ``"\\n"`` for a GeoJSON sequence);
* :func:`csv_rows` — CSV lines (RFC 4180 quoting, ``\\r\\n``), ``lon,lat`` first for
  points or ``wkt`` for other geometries, as :mod:`geo.export` writes CSV; text
  that a spreadsheet would run as a formula (``=…``, ``+…``, ``-…``, ``@…`` that is not
  a number) is kept as text with a leading ``'``.

Examples
--------
>>> import shapely
>>> frame = pd.DataFrame({"name": ["甲", "a,b"], "d": [1.5, np.nan], "ok": [True, False]})
>>> geoms = np.array([shapely.Point(116.1, 44.0), shapely.Point(117.0, 45.25)])
>>> json_rows(frame)
'{"name":"甲","d":1.5,"ok":true},{"name":"a,b","d":null,"ok":false}'
>>> (csv_header(frame, points=True) + csv_rows(frame, geoms)).splitlines()
['lon,lat,name,d,ok', '116.1,44.0,甲,1.5,True', '117.0,45.25,"a,b",,False']
>>> geojson_features(frame.iloc[:1], geoms[:1], ids=[7])
'{"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[116.1,44.0]},"properties":{"name":"甲","d":1.5,"ok":true}}'
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from itertools import repeat
from json.encoder import encode_basestring
from typing import Any

import numpy as np
import pandas as pd
import shapely

from .geojson import dumps, geometry_json

#: Rows per chunk the callers encode at a time (a few MB of text).
CHUNK_ROWS = 50_000
_CSV_SPECIAL = re.compile(r'[",\r\n]')
_FORMULA = re.compile(r"^[=+\-@]")
_NUMBER = re.compile(r"^-?\d")


def _floats(values: np.ndarray, null: str) -> list[str]:
    """``repr`` of each float (shortest round-trip form), ``null`` for NaN and infinities."""
    out = list(map(repr, values.tolist()))
    bad = ~np.isfinite(values)
    if bad.any():
        for i in np.flatnonzero(bad).tolist():
            out[i] = null
    return out


def _is_text(values: np.ndarray) -> np.ndarray:
    """Which values of an object array are ``str``."""
    return np.fromiter((v.__class__ is str for v in values), dtype=bool, count=len(values))


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (
        isinstance(value, float) and math.isnan(value))


def json_texts(column: pd.Series | np.ndarray) -> list[str]:
    """The JSON text of each value of a column (``null`` for missing values).

    Examples
    --------
    >>> json_texts(pd.Series([1, 2])), json_texts(pd.Series(["a", None, 3.0], dtype=object))
    (['1', '2'], ['"a"', 'null', '3.0'])
    """
    series = column if isinstance(column, pd.Series) else pd.Series(column)
    kind = series.dtype.kind
    if kind == "b":
        return np.where(series.to_numpy(), "true", "false").tolist()
    if kind in "iu":
        return list(map(str, series.to_numpy().tolist()))
    if kind == "f":
        return _floats(series.to_numpy(dtype="float64"), "null")
    values = series.to_numpy(dtype=object, na_value=None)
    text = _is_text(values)
    if text.all():
        codes, uniques = pd.factorize(values)
        encoded = np.array([encode_basestring(u) for u in uniques] + ["null"], dtype=object)
        return encoded[codes].tolist()  # code -1 (a missing value) picks "null"
    out: list[str] = []
    for v, is_text in zip(values.tolist(), text.tolist(), strict=True):
        if is_text:
            out.append(encode_basestring(v))
        elif _missing(v):
            out.append("null")
        else:  # numbers, booleans, lists, dicts … as geo.geojson.dumps writes them
            out.append(dumps(v).decode("utf-8"))
    return out


def csv_texts(column: pd.Series | np.ndarray, guard: bool = True) -> list[str]:
    """The CSV cell of each value of a column (empty for missing values), quoted as needed.

    ``guard`` keeps text that a spreadsheet would read as a formula as text (a leading
    ``'``), as the pages did for their downloads.

    Examples
    --------
    >>> csv_texts(pd.Series(["=SUM(A1)", "-3", "a,b", None], dtype=object))
    ["'=SUM(A1)", '-3', '"a,b"', '']
    """
    series = column if isinstance(column, pd.Series) else pd.Series(column)
    kind = series.dtype.kind
    if kind == "b":
        return np.where(series.to_numpy(), "True", "False").tolist()
    if kind in "iu":
        return list(map(str, series.to_numpy().tolist()))
    if kind == "f":
        return _floats(series.to_numpy(dtype="float64"), "")
    values = series.to_numpy(dtype=object, na_value=None)
    codes, uniques = pd.factorize(values)
    cells = [_csv_cell(u, guard) for u in uniques] + [""]
    return np.array(cells, dtype=object)[codes].tolist()


def _csv_cell(value: Any, guard: bool) -> str:
    if _missing(value):
        return ""
    if isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, float):
        text = repr(value) if math.isfinite(value) else ""
    else:
        text = str(value)
    if guard and isinstance(value, str) and _FORMULA.match(text) and not _NUMBER.match(text):
        text = "'" + text
    if _CSV_SPECIAL.search(text):
        text = '"' + text.replace('"', '""') + '"'
    return text


def _join_rows(columns: Sequence[list[str]], between: Sequence[str], head: str, tail: str,
               sep: str) -> str:
    """Rows ``head + c0 + between[0] + c1 + … + tail`` joined by ``sep``.

    One ``str.join`` per row over the cells and the constant pieces between them.
    """
    n = len(columns[0]) if columns else 0
    if not n:
        return ""
    pieces: list[Any] = [repeat(head, n)]
    for i, col in enumerate(columns):
        pieces.append(col)
        pieces.append(repeat(between[i] if i < len(between) else tail, n))
    return sep.join(map("".join, zip(*pieces, strict=True)))


def json_rows(frame: pd.DataFrame) -> str:
    """Each row of ``frame`` as a JSON object (keys in column order), joined by commas.

    Examples
    --------
    >>> json_rows(pd.DataFrame({"a": [1, 2]})), json_rows(pd.DataFrame(index=[0]))
    ('{"a":1},{"a":2}', '{}')
    """
    if frame.shape[1] == 0:
        return ",".join(["{}"] * len(frame))
    keys = [encode_basestring(str(c)) + ":" for c in frame.columns]
    columns = [json_texts(frame.iloc[:, i]) for i in range(frame.shape[1])]
    return _join_rows(columns, ["," + k for k in keys[1:]], "{" + keys[0], "}", ",")


def point_json(x: np.ndarray, y: np.ndarray, precision: int = 6) -> list[str]:
    """GeoJSON Point geometries of coordinate arrays, rounded to ``precision`` decimals.

    Examples
    --------
    >>> point_json(np.array([116.1234567]), np.array([44.0]))
    ['{"type":"Point","coordinates":[116.123457,44.0]}']
    """
    xs = _floats(np.round(np.asarray(x, dtype="float64"), precision), "null")
    ys = _floats(np.round(np.asarray(y, dtype="float64"), precision), "null")
    return [f'{{"type":"Point","coordinates":[{a},{b}]}}' for a, b in zip(xs, ys, strict=True)]


def geometry_texts(geoms: np.ndarray, precision: int = 6) -> list[str]:
    """GeoJSON geometry text of each geometry (``null`` for a missing one).

    Points are formatted from their coordinates; other geometries go through
    :func:`geo.geojson.geometry_json` (GEOS).

    Examples
    --------
    >>> geometry_texts(np.array([shapely.Point(1, 2), None, shapely.LineString([(0, 0), (1, 1)])]))
    ['{"type":"Point","coordinates":[1.0,2.0]}', 'null', '{"type":"LineString","coordinates":[[0.0,0.0],[1.0,1.0]]}']
    """
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    if not n:
        return []
    types = shapely.get_type_id(geoms)
    points = (types == 0) & ~shapely.is_empty(geoms)
    out = np.empty(n, dtype=object)
    if points.any():
        out[points] = point_json(shapely.get_x(geoms[points]), shapely.get_y(geoms[points]),
                                 precision)
    rest = ~points
    if rest.any():
        out[rest] = geometry_json(geoms[rest], precision)
    return out.tolist()


def geojson_features(frame: pd.DataFrame, geoms: np.ndarray, ids: Sequence[Any] | None = None,
                     sep: str = ",", precision: int = 6) -> str:
    """GeoJSON Feature objects of ``frame``'s rows and ``geoms``, joined by ``sep``.

    ``ids`` default to the frame's index.

    Examples
    --------
    >>> import shapely
    >>> geojson_features(pd.DataFrame({"a": [1]}), np.array([None]), sep="\\n")
    '{"type":"Feature","id":0,"geometry":null,"properties":{"a":1}}'
    """
    n = len(frame)
    if not n:
        return ""
    id_texts = json_texts(pd.Series(list(frame.index) if ids is None else list(ids)))
    geom = geometry_texts(geoms, precision)
    if frame.shape[1] == 0:
        return _join_rows([id_texts, geom], [',"geometry":'], '{"type":"Feature","id":',
                          ',"properties":{}}', sep)
    keys = [encode_basestring(str(c)) + ":" for c in frame.columns]
    columns = [json_texts(frame.iloc[:, i]) for i in range(frame.shape[1])]
    between = [',"geometry":', ',"properties":{' + keys[0]] + ["," + k for k in keys[1:]]
    return _join_rows([id_texts, geom, *columns], between, '{"type":"Feature","id":', "}}",
                      sep)


def csv_header(frame: pd.DataFrame, points: bool) -> str:
    """The CSV header line: ``lon,lat`` (points) or ``wkt``, then the frame's columns.

    A column called ``lon``/``lat`` (``wkt``) is written once, from the geometry.
    """
    lead = ["lon", "lat"] if points else ["wkt"]
    names = lead + [str(c) for c in frame.columns if str(c) not in lead]
    return ",".join(_csv_cell(n, guard=False) for n in names) + "\r\n"


def csv_rows(frame: pd.DataFrame, geoms: np.ndarray, points: bool | None = None,
             precision: int = 6, guard: bool = True) -> str:
    """CSV lines of ``frame``'s rows (each ending ``\\r\\n``) under :func:`csv_header`.

    ``points`` says whether the whole table is points (``lon,lat``) or not (``wkt``);
    the caller decides once for every chunk so that the header holds.  Default: from
    ``geoms``.
    """
    geoms = np.asarray(geoms, dtype=object)
    if not len(frame):
        return ""
    if points is None:
        points = bool(len(geoms)) and bool((shapely.get_type_id(geoms) == 0).all())
    if points:
        empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        x = np.where(empty, np.nan, shapely.get_x(np.where(empty, None, geoms)))
        y = np.where(empty, np.nan, shapely.get_y(np.where(empty, None, geoms)))
        lead = [_floats(np.round(x, precision), ""), _floats(np.round(y, precision), "")]
        names = ("lon", "lat")
    else:
        wkt = shapely.to_wkt(geoms, rounding_precision=precision, trim=True)
        lead = [csv_texts(pd.Series(wkt, dtype=object), guard=False)]
        names = ("wkt",)
    rest = [csv_texts(frame.iloc[:, i], guard) for i, c in enumerate(frame.columns)
            if str(c) not in names]
    columns = [*lead, *rest]
    return _join_rows(columns, [","] * (len(columns) - 1), "", "\r\n", "")
