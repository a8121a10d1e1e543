"""CQL2 filters and ``sortby`` (OGC API – Features Part 3), for both stores.

A filter arrives as CQL2 text or CQL2 JSON (``filter-lang``), optionally with its
geometry literals in another CRS (``filter-crs``).  :func:`parse_filter` parses it with
the ``cql2`` library (Development Seed's Rust parser, never a hand-written one) into one
representation, standard CQL2 JSON with every geometry literal in CRS84 lon/lat, held by
a :class:`CqlFilter`.  The same filter is then either

* evaluated on a GeoDataFrame (:func:`filter_mask`: a NumPy boolean mask, vectorised with
  pandas and shapely 2, optionally through the layer's STRtree), or
* translated to a PostgreSQL/PostGIS ``WHERE`` condition with ``%s`` parameters
  (:func:`filter_sql`), given the layer version's column map.

Both follow SQL's three-valued logic, so they select the same features: a comparison
with a missing value is *unknown*, ``NOT unknown`` is unknown, and only *true* rows are
kept (``NOT (county = 'x')`` does not select rows without a county).  Text compares by
code point on both sides (``COLLATE "C"`` in SQL), CQL2 ``LIKE`` wildcards are ``%``
(any run), ``_`` (one character) and ``\\`` (escape).

Every comparison is typed against the property's kind (int, float, bool, str, date,
datetime, geometry).  Anything the server cannot evaluate (an unknown property, a type
mismatch, an unsupported function) raises :class:`FilterError`, a
:class:`~layers.store.QueryError` (answered 400), whose message names the offending part
in English and Chinese.

Examples
--------
>>> import geopandas as gpd, shapely
>>> gdf = gpd.GeoDataFrame({"name": ["a", "b", None], "n": [1.0, 5.0, 9.0]},
...                        geometry=[shapely.Point(116, 44)] * 3, crs=4326)
>>> f = parse_filter("n > 2 AND NOT name = 'b'")
>>> filter_mask(f, gdf).tolist()
[False, False, False]
>>> filter_mask(parse_filter("n > 2 AND (name IS NULL OR name LIKE 'b%')"), gdf).tolist()
[False, True, True]
>>> sql, args = filter_sql(f, {"name": SqlColumn('"name"', "TEXT"), "n": SqlColumn('"n"', "REAL")})
>>> sql, args
('(("n"::double precision > %s::double precision) AND (NOT ("name" COLLATE "C" = %s::text)))', [2.0, 'b'])
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import cql2
import numpy as np
import pandas as pd
import shapely

from geo.crs import parse_crs, transform_geometries_crs
from geo.errors import GeoInputError

from .errors import QueryError

Kind = Literal["str", "int", "float", "bool", "date", "datetime", "geometry"]
KINDS: tuple[str, ...] = ("str", "int", "float", "bool", "date", "datetime", "geometry")

#: The queryable that stands for the feature geometry in filters.
GEOMETRY = "geometry"
#: ``filter-lang`` values.
FILTER_LANGS: tuple[str, ...] = ("cql2-text", "cql2-json")
#: Longest filter accepted (characters of text or JSON): bounds parsing time and memory.
MAX_FILTER_CHARS = 32_768
#: Deepest nesting of a filter, and most vertices in its geometry literals.
MAX_DEPTH = 64
MAX_LITERAL_VERTICES = 100_000

#: ``S_DWITHIN`` units → metres (never degrees: distances are metres in this project).
DISTANCE_UNITS: dict[str, float] = {"meters": 1.0, "metres": 1.0, "m": 1.0,
                                    "kilometers": 1000.0, "kilometres": 1000.0, "km": 1000.0}
#: Largest ``S_DWITHIN`` distance: 1,000 km (beyond it the local projection drifts).
MAX_DWITHIN_M = 1_000_000

#: Conformance classes of OGC API – Features Part 3 / CQL2 that this module implements.
CONFORMANCE: tuple[str, ...] = (
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
    "http://www.opengis.net/spec/cql2/1.0/conf/functions",  # S_DWITHIN, listed at /functions
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/sortables",  # sortby
)

#: The custom functions filters may call, as Part 3's ``/functions`` lists them.
FUNCTIONS: tuple[dict[str, Any], ...] = (
    {"name": "S_DWITHIN",
     "description": "True where the feature's geometry comes within the distance of the "
                    "geometry literal, measured on the WGS 84 ellipsoid in metres (never "
                    "degrees), e.g. S_DWITHIN(geometry, POINT(116.07 43.93), 5000) or "
                    "S_DWITHIN(geometry, POINT(116.07 43.93), 5, 'kilometers'). "
                    "距离以米计(椭球面)：几何在字面量几何的给定距离之内为真。",
     "arguments": [
         {"title": "the geometry queryable", "type": ["geometry"]},
         {"title": "a geometry literal (in filter-crs)", "type": ["geometry"]},
         {"title": f"the distance, 0 to {MAX_DWITHIN_M:,} m", "type": ["number"]},
         {"title": "optional units: meters (default) or kilometers", "type": ["string"]}],
     "returns": ["boolean"]},
)

_COMPARISONS = {"=": "=", "<>": "<>", "<": "<", ">": ">", "<=": "<=", ">=": ">="}
_FLIPPED = {"=": "=", "<>": "<>", "<": ">", ">": "<", "<=": ">=", ">=": "<="}
_SPATIAL = {"s_intersects": "intersects", "s_within": "within", "s_contains": "contains",
            "s_disjoint": "disjoint"}
# With the literal first: S_WITHIN(lit, geom) is S_CONTAINS(geom, lit) and so on.
_SPATIAL_SWAPPED = {"intersects": "intersects", "within": "contains", "contains": "within",
                    "disjoint": "disjoint"}
_UNSUPPORTED_FAMILIES = {
    "t_": ("temporal operators (T_AFTER, T_DURING …) are not supported",
           "不支持时间运算符(T_AFTER、T_DURING 等)",
           "compare date properties with <, >, BETWEEN and DATE('2023-05-01') / TIMESTAMP(…)"),
    "a_": ("array operators (A_CONTAINS …) are not supported", "不支持数组运算符(A_CONTAINS 等)",
           "use IN (…) to test a property against a list of values"),
    "s_": ("this spatial function is not supported", "不支持该空间函数",
           "use S_INTERSECTS, S_WITHIN, S_CONTAINS, S_DISJOINT or S_DWITHIN (metres)"),
}
_ARITHMETIC = {"+", "-", "*", "/", "%", "^", "div"}
_DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
_DATETIME_RE = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
                r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$")
_TZ_RE = r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)$"
# Text PostgreSQL casts to float8 without an error (case-insensitive), as layers.postgis reads it.
_NUMERIC_TEXT = r"^\s*[-+]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?|inf|infinity)\s*$"


class FilterError(QueryError):
    """A filter the server cannot evaluate; the web layer answers 400 (code ``bad_filter``).

    Parameters
    ----------
    message, message_zh : str
        What is wrong, in English and in Chinese.
    part : str
        The part of the filter at fault, as CQL2 text (empty when it is the whole); the
        messages name it.
    hint, hint_zh : str
        How to fix it.

    Examples
    --------
    >>> e = FilterError("unknown property 'x'", "未知属性 'x'", part="x = 1",
    ...                 hint="queryables: a, b", hint_zh="可查询属性: a, b")
    >>> str(e), e.code
    ("unknown property 'x' in `x = 1`", 'bad_filter')
    >>> e.message_zh, e.part
    ("未知属性 'x'，位于 `x = 1`", 'x = 1')
    """

    default_code = "bad_filter"
    default_hint = ("write CQL2 such as category = 'energy' AND total_investment_yi > 10; "
                    "the collection's queryables list the properties")
    default_hint_zh = "请写成 CQL2，例如 category = 'energy' AND total_investment_yi > 10；可查询的属性见图层的 queryables"

    def __init__(self, message: str, message_zh: str, part: str = "", hint: str = "",
                 hint_zh: str = "") -> None:
        self.part = part
        super().__init__(message + (f" in `{part}`" if part else ""), hint,
                         message_zh=message_zh + (f"，位于 `{part}`" if part else ""),
                         hint_zh=hint_zh)


@dataclass(frozen=True)
class CqlFilter:
    """A parsed filter: standard CQL2 JSON with geometry literals in CRS84 lon/lat.

    Build it with :func:`parse_filter`; it holds no layer information, so one parsed
    filter can be checked against and applied to any layer.

    Attributes
    ----------
    ast : Any
        The CQL2 JSON (a dict, or a boolean for ``TRUE``/``FALSE``).
    """

    ast: Any

    @property
    def text(self) -> str:
        """The filter as CQL2 text (for messages, logs and cache keys).

        Examples
        --------
        >>> parse_filter({"op": "=", "args": [{"property": "a"}, 1]}).text
        'a = 1'
        """
        return _part(self.ast)

    def to_json(self) -> Any:
        """The CQL2 JSON (a copy)."""
        return json.loads(json.dumps(self.ast))


@dataclass(frozen=True)
class SqlColumn:
    """Where a property lives in a PostGIS table, for :func:`filter_sql` and :func:`sortby_sql`.

    Attributes
    ----------
    sql : str
        The quoted column (``'"total_investment_yi"'``), ``%`` doubled for psycopg.
    sql_type : str
        The store type: INTEGER, REAL, BOOLEAN, TEXT (or DATE, TIMESTAMP, TIMESTAMPTZ).
    kind : str, optional
        The value kind when it differs from the storage (a TEXT column holding ISO dates
        declared ``"date"``); by default derived from ``sql_type``.
    """

    sql: str
    sql_type: str
    kind: str | None = None

    @property
    def value_kind(self) -> str:
        """The kind used for typing comparisons."""
        if self.kind:
            return self.kind
        return _SQL_KINDS.get(self.sql_type.upper(), "str")


_SQL_KINDS = {"INTEGER": "int", "BIGINT": "int", "REAL": "float", "DOUBLE PRECISION": "float",
              "BOOLEAN": "bool", "TEXT": "str", "DATE": "date", "TIMESTAMP": "datetime",
              "TIMESTAMPTZ": "datetime", "TIMESTAMP WITH TIME ZONE": "datetime"}


def quote_ident(name: str) -> str:
    """A double-quoted SQL identifier with ``%`` doubled (psycopg placeholders).

    Examples
    --------
    >>> quote_ident('a"b%')
    '"a""b%%"'
    """
    return '"' + name.replace('"', '""').replace("%", "%%") + '"'


def sql_columns(registry_columns: list, kinds: Mapping[str, str] | None = None
                ) -> dict[str, SqlColumn]:
    """The column map of :func:`filter_sql` from the PostGIS registry's ``columns``.

    Parameters
    ----------
    registry_columns : list of [property, sql_column, sql_type, nulls]
        One entry per property, as ``atlas.layers.columns`` holds them.
    kinds : mapping, optional
        Declared kinds overriding the storage's (``{"opened": "date"}``).

    Examples
    --------
    >>> sql_columns([["total_investment_yi", "total_investment_yi", "REAL", 0]])
    {'total_investment_yi': SqlColumn(sql='"total_investment_yi"', sql_type='REAL', kind=None)}
    """
    kinds = kinds or {}
    return {c[0]: SqlColumn(quote_ident(c[1]), str(c[2]), kinds.get(c[0])) for c in registry_columns}


# -- parsing -------------------------------------------------------------------------------
def parse_filter(value: str | Mapping[str, Any], lang: str | None = None,
                 crs: str | None = None) -> CqlFilter:
    """Parse a CQL2 filter (text or JSON) into a :class:`CqlFilter`.

    Parameters
    ----------
    value : str or mapping
        The ``filter`` parameter: CQL2 text, CQL2 JSON text, or CQL2 JSON already decoded.
    lang : {"cql2-text", "cql2-json"}, optional
        The ``filter-lang`` parameter; by default JSON when ``value`` is a mapping or
        starts with ``{``, else text.
    crs : str, optional
        The ``filter-crs`` parameter (an OGC URI, ``EPSG:n`` …): geometry literals are
        in this CRS, in its axis order, and are reprojected to CRS84 here.

    Raises
    ------
    FilterError
        For a filter that does not parse, is too long or too deep, or an unknown CRS.

    Examples
    --------
    >>> parse_filter("category IN ('energy', 'ecology')").ast
    {'op': 'in', 'args': [{'property': 'category'}, ['energy', 'ecology']]}
    >>> f = parse_filter("S_INTERSECTS(geometry, POINT(44 116))", crs="EPSG:4326")
    >>> f.ast["args"][1]["coordinates"]
    [116.0, 44.0]
    >>> parse_filter("category = 'energy' AND")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    layers.filter.FilterError: the filter is not valid CQL2 text: at line 1, column 24: expected ...
    """
    if lang is not None and str(lang).strip().lower() not in FILTER_LANGS:
        raise FilterError(f"filter-lang {str(lang)[:40]!r} is not supported",
                          f"不支持 filter-lang {str(lang)[:40]!r}",
                          hint="use filter-lang=cql2-text or cql2-json",
                          hint_zh="请使用 filter-lang=cql2-text 或 cql2-json")
    as_json = (isinstance(value, Mapping) or isinstance(value, bool)
               or (lang or "").strip().lower() == "cql2-json"
               or (lang is None and isinstance(value, str) and value.lstrip().startswith("{")))
    if not isinstance(value, str) and _json_depth(value) > MAX_DEPTH + 8:
        raise _too_deep()
    raw = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(raw) > MAX_FILTER_CHARS:
        raise FilterError(f"the filter is longer than {MAX_FILTER_CHARS} characters",
                          f"过滤条件超过 {MAX_FILTER_CHARS} 个字符",
                          hint="split the query or use bbox", hint_zh="请拆分查询或使用 bbox")
    if not raw.strip():
        raise FilterError("the filter is empty", "过滤条件为空",
                          hint="e.g. filter=category = 'energy'",
                          hint_zh="例如 filter=category = 'energy'")
    # cql2's parser recurses on the stack: thousands of nested parentheses or NOTs crash
    # the process (a segfault, not an exception), so nesting is bounded before it parses.
    if not as_json and _text_nesting(raw) > MAX_DEPTH:
        raise _too_deep()
    try:
        if as_json:
            decoded = json.loads(raw) if isinstance(value, str) else value
            if _json_depth(decoded) > MAX_DEPTH + 8:  # + geometry coordinate arrays
                raise _too_deep()
            expr = cql2.Expr(decoded) if isinstance(decoded, dict) else None
            if expr is None:
                if isinstance(decoded, bool):
                    return CqlFilter(decoded)
                raise ValueError("CQL2 JSON must be an object such as "
                                 '{"op": "=", "args": [{"property": "a"}, 1]}')
        else:
            expr = cql2.parse_text(raw)
        ast = expr.to_json()
    except FilterError:
        raise
    except (ValueError, TypeError, Exception) as e:  # cql2 raises plain Exception on syntax
        kind = "JSON" if as_json else "text"
        detail = _syntax_detail(str(e))
        raise FilterError(f"the filter is not valid CQL2 {kind}: {detail[0]}",
                          f"过滤条件不是有效的 CQL2 {'JSON' if as_json else '文本'}: {detail[1]}",
                          part=raw[:200]) from None
    _check_depth(ast, 0)
    if crs is not None:
        try:
            src = parse_crs(crs)
        except GeoInputError as e:
            raise FilterError(f"filter-crs: {e.message}", f"filter-crs 无法识别: {e.message}",
                              hint=e.hint, hint_zh="例如 http://www.opengis.net/def/crs/EPSG/0/4548"
                              ) from None
        if src.code != "OGC:CRS84":
            ast = _reproject_literals(ast, src)
    return CqlFilter(ast)


def _syntax_detail(message: str) -> tuple[str, str]:
    """A one-line "where and what" from cql2's multi-line parse error."""
    pos = re.search(r"-->\s*(\d+):(\d+)", message)
    expected = re.findall(r"^\s*=\s*(.+)$", message, re.M)
    what = expected[-1].strip() if expected else (message.strip().splitlines() or [""])[0][:200]
    if pos:
        line, col = pos.groups()
        return f"at line {line}, column {col}: {what}", f"第 {line} 行第 {col} 列: {what}"
    return what, what


def _too_deep() -> FilterError:
    return FilterError(f"the filter is nested deeper than {MAX_DEPTH} levels",
                       f"过滤条件嵌套超过 {MAX_DEPTH} 层")


def _text_nesting(text: str) -> int:
    """An upper bound of how deep CQL2 text nests: parentheses, NOTs and unary minus runs.

    Quoted strings and identifiers are skipped.  Counting every NOT (not only nested ones)
    keeps the scan simple and errs on the safe side.

    Examples
    --------
    >>> _text_nesting("NOT (a = 'NOT ((' AND NOT b = -1)")
    4
    """
    depth = deepest = nots = run = longest_run = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "'\"":
            j = i + 1
            while j < n:
                if text[j] == c:
                    if j + 1 < n and text[j + 1] == c:  # doubled quote inside
                        j += 2
                        continue
                    break
                j += 1
            i = j + 1
            run = 0
            continue
        if c == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif c == ")":
            depth -= 1
        elif c == "-":
            run += 1
            longest_run = max(longest_run, run)
        elif c in "Nn" and text[i:i + 3].upper() == "NOT" and (i == 0 or not (
                text[i - 1].isalnum() or text[i - 1] == "_")) and not (
                i + 3 < n and (text[i + 3].isalnum() or text[i + 3] == "_")):
            nots += 1
            i += 3
            continue
        if c not in "- \t\r\n":
            run = 0
        i += 1
    return deepest + nots + longest_run


def _json_depth(obj: Any) -> int:
    """How deeply JSON nests (iteratively: no recursion on hostile input)."""
    deepest = 0
    stack = [(obj, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        if isinstance(node, dict):
            stack.extend((v, d + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, d + 1) for v in node)
    return deepest


def _check_depth(node: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise _too_deep()
    if isinstance(node, dict) and "op" in node:
        for arg in node.get("args", []):
            _check_depth(arg, depth + 1)
    elif isinstance(node, list):
        for arg in node:
            _check_depth(arg, depth + 1)


def _is_geometry_literal(node: Any) -> bool:
    return isinstance(node, dict) and (
        ("type" in node and ("coordinates" in node or "geometries" in node)) or "bbox" in node)


def _reproject_literals(node: Any, src) -> Any:
    """A copy of ``node`` with every geometry literal moved from ``src`` to CRS84."""
    if _is_geometry_literal(node):
        geom = _literal_geometry(node, src)
        return json.loads(shapely.to_geojson(geom))
    if isinstance(node, dict) and "op" in node:
        return {**node, "args": [_reproject_literals(a, src) for a in node.get("args", [])]}
    if isinstance(node, list):
        return [_reproject_literals(a, src) for a in node]
    return node


def _literal_geometry(node: dict, src=None) -> shapely.Geometry:
    """A shapely geometry (CRS84) from a CQL2 geometry literal, checked."""
    from geo.crs import bbox_polygon

    part = _part(node)
    try:
        if "bbox" in node:
            b = [float(v) for v in node["bbox"]]
            if len(b) == 6:
                b = [b[0], b[1], b[3], b[4]]
            if len(b) != 4:
                raise ValueError("a BBOX has 4 (or 6) numbers")
            if src is not None:
                return bbox_polygon(b, src)
            return shapely.box(*b)
        geom = shapely.from_geojson(json.dumps(node))
    except (ValueError, TypeError, shapely.errors.GEOSException) as e:
        raise FilterError(f"invalid geometry literal ({e})", f"几何字面量无效 ({e})",
                          part=part[:200]) from None
    if shapely.get_num_coordinates(geom) > MAX_LITERAL_VERTICES:
        raise FilterError(f"a geometry literal has more than {MAX_LITERAL_VERTICES} vertices",
                          f"几何字面量顶点数超过 {MAX_LITERAL_VERTICES}", part=part[:200])
    geom = shapely.force_2d(geom)
    if src is not None:
        geom = transform_geometries_crs([geom], src, "OGC:CRS84")[0]
    if not shapely.is_valid(geom):
        reason = shapely.is_valid_reason(geom)
        raise FilterError(f"invalid geometry literal: {reason}", f"几何字面量无效: {reason}",
                          part=part[:200], hint="polygons must be closed and not self-intersecting",
                          hint_zh="多边形须闭合且不自相交")
    return geom


def _part(node: Any) -> str:
    """CQL2 text of a node, for messages."""
    try:
        if isinstance(node, dict) and ("op" in node or "property" in node):
            return cql2.Expr(node).to_text()
    except Exception:  # noqa: BLE001 - a message helper must not fail
        pass
    if isinstance(node, str):
        return "'" + node.replace("'", "''") + "'"
    if isinstance(node, bool):
        return "TRUE" if node else "FALSE"
    return json.dumps(node, ensure_ascii=False)


# -- typing: the filter against a layer's queryables ------------------------------------------
# The typed tree both backends walk.  Tuples keep it small: (tag, ...).
#   ("const", bool)
#   ("not", node) | ("and", [nodes]) | ("or", [nodes])
#   ("cmp", op, prop, kind, value)           property op literal
#   ("cmp2", op, prop_a, prop_b, kind)       property op property
#   ("like", prop, pattern)                  CQL2 LIKE pattern on a str property
#   ("in", prop, kind, [values])
#   ("between", prop, kind, low, high)
#   ("isnull", prop)
#   ("spatial", rel, geometry)               rel in intersects/within/contains/disjoint
#   ("dwithin", geometry, metres)            S_DWITHIN: within that many metres (geodesic)


def infer_kinds(gdf: pd.DataFrame) -> dict[str, str]:
    """The kind of every property of a (Geo)DataFrame, and ``geometry`` for its geometry.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> g = gpd.GeoDataFrame({"a": [1, 2], "b": ["x", None], "c": [True, None],
    ...                       "d": [dt.date(2023, 1, 2), None]}, geometry=[shapely.Point(0, 0)] * 2)
    >>> infer_kinds(g)
    {'a': 'int', 'b': 'str', 'c': 'bool', 'd': 'date', 'geometry': 'geometry'}
    """
    geom = gdf.geometry.name if hasattr(gdf, "geometry") else None
    out: dict[str, str] = {}
    for col in gdf.columns:
        if col == geom:
            continue
        s = gdf[col]
        if pd.api.types.is_bool_dtype(s.dtype):
            out[col] = "bool"
        elif pd.api.types.is_integer_dtype(s.dtype):
            out[col] = "int"
        elif pd.api.types.is_float_dtype(s.dtype):
            out[col] = "float"
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            out[col] = "datetime"
        else:
            inferred = pd.api.types.infer_dtype(s, skipna=True)
            out[col] = {"boolean": "bool", "integer": "int", "floating": "float",
                        "mixed-integer-float": "float", "decimal": "float", "date": "date",
                        "datetime": "datetime", "datetime64": "datetime"}.get(inferred, "str")
    if geom is not None:
        out[GEOMETRY] = "geometry"
    return out


def check_filter(flt: CqlFilter, kinds: Mapping[str, str]) -> None:
    """Raise :class:`FilterError` unless ``flt`` can be evaluated on a layer with ``kinds``.

    Examples
    --------
    >>> check_filter(parse_filter("n > 'abc'"), {"n": "float"})
    Traceback (most recent call last):
    ...
    layers.filter.FilterError: type mismatch: n is a number (float), 'abc' is text in `n > 'abc'`
    """
    _typed(flt.ast, kinds)


def _typed(node: Any, kinds: Mapping[str, str]) -> tuple:
    """The typed tree of a boolean CQL2 node."""
    if isinstance(node, bool):
        return ("const", node)
    if isinstance(node, dict) and "property" in node and len(node) == 1:
        name = node["property"]
        raise FilterError(f"{name} is a property, not a condition",
                          f"{name} 是属性，不是条件", part=_part(node),
                          hint=f"compare it, e.g. {name} = 'value' (check the spelling around it)",
                          hint_zh=f"请写成比较式，例如 {name} = '值'(并检查附近的拼写)")
    if not isinstance(node, dict) or "op" not in node:
        raise FilterError("expected a condition", "此处应为条件", part=_part(node),
                          hint="e.g. category = 'energy'", hint_zh="例如 category = 'energy'")
    op = str(node["op"])
    lop = op.lower()
    args = node.get("args", [])
    if lop == "not":
        return ("not", _typed(args[0], kinds))
    if lop in ("and", "or"):
        return (lop, [_typed(a, kinds) for a in args])
    if lop in _COMPARISONS:
        return _typed_comparison(node, _COMPARISONS[lop], args, kinds)
    if lop == "like":
        return _typed_like(node, args, kinds)
    if lop == "in":
        return _typed_in(node, args, kinds)
    if lop == "between":
        return _typed_between(node, args, kinds)
    if lop == "isnull":
        return ("isnull", _property(args[0], kinds, node)[0])
    if lop in _SPATIAL:
        return _typed_spatial(node, _SPATIAL[lop], args, kinds)
    if lop == "s_dwithin":
        return _typed_dwithin(node, args, kinds)
    raise _unsupported(op, node)


def _unsupported(op: str, node: Any) -> FilterError:
    lop = op.lower()
    op = op.upper()  # cql2 lower-cases the standard names; messages show them as written
    if lop in _ARITHMETIC:
        return FilterError("arithmetic (+, -, *, /) is not supported",
                           "不支持算术运算(+、-、*、/)", part=_part(node),
                           hint="compare a property with a literal value",
                           hint_zh="请将属性与字面值比较")
    for prefix, (en, zh, hint) in _UNSUPPORTED_FAMILIES.items():
        if lop.startswith(prefix) or (prefix == "t_" and lop == "t_interval"):
            return FilterError(f"{en}: {op}", f"{zh}: {op}", part=_part(node), hint=hint,
                               hint_zh=hint)
    return FilterError(f"unsupported function {op}", f"不支持函数 {op}", part=_part(node),
                       hint="supported: comparisons, LIKE, IN, BETWEEN, IS NULL, AND/OR/NOT, "
                            "S_INTERSECTS, S_WITHIN, S_CONTAINS, S_DISJOINT, S_DWITHIN",
                       hint_zh="支持: 比较、LIKE、IN、BETWEEN、IS NULL、AND/OR/NOT、"
                               "S_INTERSECTS、S_WITHIN、S_CONTAINS、S_DISJOINT、S_DWITHIN")


def _property(arg: Any, kinds: Mapping[str, str], node: Any) -> tuple[str, str]:
    """``(name, kind)`` of a property reference, or FilterError."""
    if not (isinstance(arg, dict) and "property" in arg):
        raise FilterError("expected a property here", "此处应为属性名", part=_part(node))
    name = str(arg["property"])
    if name not in kinds:
        names = ", ".join(k for k in kinds)
        raise FilterError(f"unknown property {name!r}", f"未知属性 {name!r}", part=_part(node),
                          hint=f"queryables: {names}", hint_zh=f"可查询属性: {names}")
    return name, kinds[name]


_KIND_WORDS = {"str": ("text", "文本"), "int": ("a number (int)", "数值(int)"),
               "float": ("a number (float)", "数值(float)"), "bool": ("a boolean", "布尔值"),
               "date": ("a date", "日期"), "datetime": ("a timestamp", "时间戳"),
               "geometry": ("a geometry", "几何")}
_LITERAL_EXAMPLE = {"str": "'text'", "int": "10", "float": "10", "bool": "TRUE",
                    "date": "DATE('2023-05-01')", "datetime": "TIMESTAMP('2023-05-01T00:00:00Z')"}


def _literal(arg: Any, kind: str, prop: str, node: Any) -> Any:
    """A CQL2 literal converted to the Python value compared with a ``kind`` property."""
    lit_kind, value = _literal_kind(arg, node)
    numeric = {"int", "float"}
    if kind in numeric and lit_kind == "number":
        return float(value)
    if kind == lit_kind or (kind == "str" and lit_kind == "str"):
        if kind == "str" and "\x00" in value:
            raise FilterError("text values cannot contain NUL characters",
                              "文本值不能包含 NUL 字符", part=_part(node))
        return value
    en, zh = _KIND_WORDS.get(kind, (kind, kind))
    lit_en, lit_zh = {"number": ("a number", "数值"), "str": ("text", "文本"),
                      "bool": ("a boolean", "布尔值"), "date": ("a date", "日期"),
                      "datetime": ("a timestamp", "时间戳"), "null": ("NULL", "NULL")
                      }.get(lit_kind, (lit_kind, lit_kind))
    example = f"{prop} > {_LITERAL_EXAMPLE[kind]}" if kind in ("int", "float", "date",
                                                               "datetime") else \
        f"{prop} = {_LITERAL_EXAMPLE.get(kind, '…')}"
    if kind in numeric:
        hint, hint_zh = f"compare a number with a number, e.g. {example}", \
            f"数值只能与数值比较，例如 {example}"
    else:
        hint, hint_zh = f"compare it with {en}, e.g. {example}", f"请与{zh}比较，例如 {example}"
    if lit_kind == "null":
        hint, hint_zh = f"use {prop} IS NULL", f"请使用 {prop} IS NULL"
    raise FilterError(f"type mismatch: {prop} is {en}, {_part(arg)} is {lit_en}",
                      f"类型不匹配: {prop} 是{zh}，{_part(arg)} 是{lit_zh}", part=_part(node),
                      hint=hint, hint_zh=hint_zh)


def _literal_kind(arg: Any, node: Any) -> tuple[str, Any]:
    if isinstance(arg, bool):
        return "bool", arg
    if isinstance(arg, (int, float)):
        if not np.isfinite(arg):
            raise FilterError("numbers must be finite", "数值必须是有限数", part=_part(node))
        return "number", float(arg)
    if isinstance(arg, str):
        return "str", arg
    if arg is None:
        return "null", None
    if isinstance(arg, dict) and "date" in arg:
        try:
            return "date", dt.date.fromisoformat(str(arg["date"]))
        except ValueError:
            raise FilterError(f"invalid date {arg['date']!r}", f"日期无效 {arg['date']!r}",
                              part=_part(node), hint="DATE('2023-05-01')",
                              hint_zh="DATE('2023-05-01')") from None
    if isinstance(arg, dict) and "timestamp" in arg:
        try:
            ts = pd.Timestamp(str(arg["timestamp"]))
        except ValueError:
            raise FilterError(f"invalid timestamp {arg['timestamp']!r}",
                              f"时间戳无效 {arg['timestamp']!r}", part=_part(node),
                              hint="TIMESTAMP('2023-05-01T08:00:00Z')",
                              hint_zh="TIMESTAMP('2023-05-01T08:00:00Z')") from None
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        return "datetime", ts.to_pydatetime()
    if isinstance(arg, dict) and "op" in arg:
        raise _unsupported(str(arg["op"]), arg)
    if isinstance(arg, dict) and "interval" in arg:
        raise _unsupported("T_INTERVAL", arg)
    if _is_geometry_literal(arg):
        return "geometry", arg
    raise FilterError("expected a literal value here", "此处应为字面值", part=_part(node))


def _typed_comparison(node: dict, op: str, args: list, kinds: Mapping[str, str]) -> tuple:
    a, b = args
    a_prop = isinstance(a, dict) and "property" in a
    b_prop = isinstance(b, dict) and "property" in b
    if a_prop and b_prop:
        pa, ka = _property(a, kinds, node)
        pb, kb = _property(b, kinds, node)
        numeric = {"int", "float"}
        if not (ka == kb or (ka in numeric and kb in numeric)) or "geometry" in (ka, kb):
            raise FilterError(f"type mismatch: {pa} is {_KIND_WORDS[ka][0]}, "
                              f"{pb} is {_KIND_WORDS[kb][0]}",
                              f"类型不匹配: {pa} 是{_KIND_WORDS[ka][1]}，{pb} 是{_KIND_WORDS[kb][1]}",
                              part=_part(node))
        _check_operator(op, pa, ka, node)
        return ("cmp2", op, pa, pb, "float" if ka in numeric else ka)
    if not a_prop and b_prop:  # literal op property → property flipped-op literal
        a, b, op = b, a, _FLIPPED[op]
    elif not a_prop:
        ka_, va = _literal_kind(a, node)
        kb_, vb = _literal_kind(b, node)
        if ka_ != kb_ or ka_ in ("geometry", "null"):
            raise FilterError("type mismatch between two literals", "两个字面值类型不匹配",
                              part=_part(node))
        return ("const", bool({"=": va == vb, "<>": va != vb, "<": va < vb, ">": va > vb,
                               "<=": va <= vb, ">=": va >= vb}[op]))
    prop, kind = _property(a, kinds, node)
    if kind == "geometry":
        raise FilterError("geometries are compared with spatial functions",
                          "几何须用空间函数比较", part=_part(node),
                          hint="S_INTERSECTS(geometry, POLYGON((…)))",
                          hint_zh="S_INTERSECTS(geometry, POLYGON((…)))")
    _check_operator(op, prop, kind, node)
    return ("cmp", op, prop, kind, _literal(b, kind, prop, node))


def _check_operator(op: str, prop: str, kind: str, node: Any) -> None:
    if kind == "bool" and op not in ("=", "<>"):
        raise FilterError(f"{prop} is a boolean: only = and <> apply",
                          f"{prop} 是布尔值: 只能用 = 或 <>", part=_part(node),
                          hint=f"{prop} = TRUE", hint_zh=f"{prop} = TRUE")


def _typed_like(node: dict, args: list, kinds: Mapping[str, str]) -> tuple:
    a, b = args
    if isinstance(a, dict) and str(a.get("op", "")).lower() in ("casei", "accenti"):
        raise _unsupported(str(a["op"]).upper(), node)
    prop, kind = _property(a, kinds, node)
    if kind != "str":
        raise FilterError(f"LIKE needs a text property; {prop} is {_KIND_WORDS[kind][0]}",
                          f"LIKE 只能用于文本属性；{prop} 是{_KIND_WORDS[kind][1]}",
                          part=_part(node))
    if isinstance(b, dict) and "op" in b:
        raise _unsupported(str(b["op"]).upper(), node)
    if not isinstance(b, str):
        raise FilterError("the LIKE pattern must be text", "LIKE 的模式必须是文本",
                          part=_part(node), hint=f"{prop} LIKE '%光伏%'",
                          hint_zh=f"{prop} LIKE '%光伏%'")
    _like_regex(b, node)  # checks the escapes
    if "\x00" in b:
        raise FilterError("text values cannot contain NUL characters",
                          "文本值不能包含 NUL 字符", part=_part(node))
    return ("like", prop, b)


def like_regex(pattern: str) -> re.Pattern[str]:
    """The regular expression of a CQL2 ``LIKE`` pattern (matched against the whole value).

    ``%`` is any run of characters, ``_`` one character, ``\\`` makes the next character
    literal.

    Examples
    --------
    >>> bool(like_regex("a_c%").fullmatch("abcdef")), bool(like_regex("a\\\\_c").fullmatch("abc"))
    (True, False)
    >>> bool(like_regex("100\\\\%").fullmatch("100%"))
    True
    """
    return _like_regex(pattern, pattern)


def _like_regex(pattern: str, node: Any) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            if i + 1 >= len(pattern):
                raise FilterError("the LIKE pattern ends with a lone escape character \\",
                                  "LIKE 模式以单独的转义符 \\ 结尾", part=_part(node),
                                  hint="write \\\\ for a literal backslash",
                                  hint_zh="字面反斜杠请写作 \\\\")
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "%" else "." if c == "_" else re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _typed_in(node: dict, args: list, kinds: Mapping[str, str]) -> tuple:
    a, values = args
    prop, kind = _property(a, kinds, node)
    if kind == "geometry":
        raise FilterError("IN does not apply to the geometry", "IN 不能用于几何", part=_part(node))
    if not isinstance(values, list) or not values:
        raise FilterError("IN needs a list of values", "IN 需要值列表", part=_part(node))
    return ("in", prop, kind, [_literal(v, kind, prop, node) for v in values])


def _typed_between(node: dict, args: list, kinds: Mapping[str, str]) -> tuple:
    a, low, high = args
    prop, kind = _property(a, kinds, node)
    if kind not in ("int", "float", "date", "datetime", "str"):
        raise FilterError(f"BETWEEN does not apply to {_KIND_WORDS[kind][0]}",
                          f"BETWEEN 不能用于{_KIND_WORDS[kind][1]}", part=_part(node))
    return ("between", prop, kind, _literal(low, kind, prop, node),
            _literal(high, kind, prop, node))


def _typed_spatial(node: dict, rel: str, args: list, kinds: Mapping[str, str]) -> tuple:
    a, b = args
    if _is_geometry_literal(a) and isinstance(b, dict) and "property" in b:
        a, b, rel = b, a, _SPATIAL_SWAPPED[rel]
    if not (isinstance(a, dict) and "property" in a):
        raise FilterError("a spatial function needs the geometry property and a geometry literal",
                          "空间函数需要几何属性和几何字面量", part=_part(node),
                          hint=f"{node['op'].upper()}(geometry, POLYGON((…)))",
                          hint_zh=f"{node['op'].upper()}(geometry, POLYGON((…)))")
    prop, kind = _property(a, kinds, node)
    if kind != "geometry":
        raise FilterError(f"{prop} is not the geometry", f"{prop} 不是几何属性", part=_part(node),
                          hint=f"use {GEOMETRY}", hint_zh=f"请使用 {GEOMETRY}")
    if not _is_geometry_literal(b):
        raise FilterError("the second argument must be a geometry literal",
                          "第二个参数必须是几何字面量", part=_part(node),
                          hint="POINT(116 44), POLYGON((…)) or BBOX(115,43,117,45)",
                          hint_zh="POINT(116 44)、POLYGON((…)) 或 BBOX(115,43,117,45)")
    return ("spatial", rel, _literal_geometry(b))


def _typed_dwithin(node: dict, args: list, kinds: Mapping[str, str]) -> tuple:
    """``S_DWITHIN(geometry, literal, distance[, units])``: the distance in metres."""
    example = "S_DWITHIN(geometry, POINT(116.07 43.93), 5000)"
    if len(args) not in (3, 4):
        raise FilterError("S_DWITHIN takes the geometry, a geometry literal and a distance "
                          "in metres", "S_DWITHIN 需要几何属性、几何字面量和以米为单位的距离",
                          part=_part(node), hint=example, hint_zh=example)
    _, _, lit = _typed_spatial(node, "intersects", list(args[:2]), kinds)
    distance, units = args[2], (args[3] if len(args) == 4 else "meters")
    unit = str(units).strip().lower() if isinstance(units, str) else None
    if unit not in DISTANCE_UNITS:
        raise FilterError(f"S_DWITHIN distance units {units!r} are not supported",
                          f"不支持 S_DWITHIN 的距离单位 {units!r}", part=_part(node),
                          hint="distances are metres ('meters', the default) or 'kilometers'; "
                               "never degrees", hint_zh="距离以米('meters'，默认)或千米"
                                                        "('kilometers')计，不能用度")
    if (isinstance(distance, bool) or not isinstance(distance, (int, float))
            or not 0 <= distance <= MAX_DWITHIN_M / DISTANCE_UNITS[unit]):
        raise FilterError(f"S_DWITHIN needs a distance from 0 to {MAX_DWITHIN_M:,} m",
                          f"S_DWITHIN 的距离应在 0 到 {MAX_DWITHIN_M:,} 米之间",
                          part=_part(node), hint=example, hint_zh=example)
    return ("dwithin", lit, float(distance) * DISTANCE_UNITS[unit])


# -- evaluation on a GeoDataFrame --------------------------------------------------------------
class _Frame:
    """Column values of a frame, converted once per property and kind."""

    def __init__(self, gdf: pd.DataFrame, tree: shapely.STRtree | None,
                 cache: dict | None = None) -> None:
        self.gdf = gdf
        self.tree = tree
        self.n = len(gdf)
        # A layer version's own cache keeps the converted columns between requests.
        self._cache: dict = cache if cache is not None else {}

    def values(self, prop: str, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """``(values, valid)``: comparable values and where they are not missing."""
        key = ("_filter_values", prop, kind)
        if key not in self._cache:
            self._cache[key] = self._convert(prop, kind)
        return self._cache[key]

    def _convert(self, prop: str, kind: str) -> tuple[np.ndarray, np.ndarray]:
        if kind == "geometry":
            geoms = np.asarray(self.gdf.geometry.values, dtype=object)
            return geoms, ~shapely.is_missing(geoms)
        s = self.gdf[prop]
        if kind in ("int", "float"):
            if not (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(
                    s.dtype)):
                # Numbers kept as text: read only what the SQL side reads (_NUMERIC_TEXT).
                txt = s.astype("string")
                s = txt.where(txt.str.match(_NUMERIC_TEXT, case=False), None)
                s = s.map(lambda x: float(x.strip()) if isinstance(x, str) else np.nan)
            v = pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            return v, ~np.isnan(v)
        valid = s.notna().to_numpy(dtype=bool)
        if kind == "bool":
            if not pd.api.types.is_bool_dtype(s.dtype):
                # True/False objects, or the text 'true'/'false' (any case) as in SQL.
                b = s.map(lambda x: bool(x) if isinstance(x, (bool, np.bool_)) else
                          {"true": True, "false": False}.get(str(x).strip().lower())
                          if x is not None and x is not pd.NA else None)
                valid = b.notna().to_numpy(dtype=bool)
                s = b
            v = np.zeros(self.n, dtype=bool)
            v[valid] = s[valid].astype(bool).to_numpy(dtype=bool)
            return v, valid
        if kind == "date":
            # ISO dates compared as 'YYYY-MM-DD' text, as the SQL side does for TEXT columns.
            if pd.api.types.is_datetime64_any_dtype(s.dtype):
                txt = s.dt.strftime("%Y-%m-%d")
            else:
                txt = s.map(lambda x: x.isoformat() if isinstance(x, (dt.date, dt.datetime))
                            else x).astype("string")
            txt = txt.where(txt.str.match(_DATE_RE), None).str.slice(0, 10)
            ok = txt.notna().to_numpy(dtype=bool)
            return txt.fillna("").to_numpy(dtype=object), ok
        if kind == "datetime":
            if pd.api.types.is_datetime64_any_dtype(s.dtype):
                ts = s.dt.tz_localize("UTC") if s.dt.tz is None else s.dt.tz_convert("UTC")
            else:
                txt = s.map(lambda x: x.isoformat() if isinstance(x, (dt.date, dt.datetime))
                            else x).astype("string")
                txt = txt.where(txt.str.match(_DATETIME_RE), None)
                ts = pd.to_datetime(txt, errors="coerce", utc=True, format="ISO8601")
            ok = ts.notna().to_numpy(dtype=bool)
            return ts.to_numpy(dtype="datetime64[ns]"), ok
        # Text: every value as a string (a user column may mix numbers and words), as the
        # store writes it to a TEXT column.
        if not (pd.api.types.is_string_dtype(s.dtype)
                and pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty")):
            s = s.map(lambda x: x if isinstance(x, str) else str(x), na_action="ignore")
        v = s.to_numpy(dtype=object, na_value="")
        return v, valid


def column_values(gdf: pd.DataFrame, prop: str, kind: str, cache: dict | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``(values, valid)`` of property ``prop`` read as ``kind``, as filters compare them.

    Dates are ``'YYYY-MM-DD'`` text, timestamps ``datetime64[ns]`` in UTC, numbers
    floats; ``valid`` is False where the value is missing or cannot be read as ``kind``.

    Examples
    --------
    >>> v, ok = column_values(pd.DataFrame({"d": ["2023-05-01", "soon", None]}), "d", "date")
    >>> v[ok].tolist()
    ['2023-05-01']
    """
    return _Frame(gdf, None, cache).values(prop, kind)


def filter_mask(flt: CqlFilter, gdf: pd.DataFrame, kinds: Mapping[str, str] | None = None,
                tree: shapely.STRtree | None = None, cache: dict | None = None) -> np.ndarray:
    """Which rows of ``gdf`` the filter selects: a boolean array, one entry per row.

    Parameters
    ----------
    flt : CqlFilter
        From :func:`parse_filter`.
    gdf : geopandas.GeoDataFrame
        The layer (lon/lat).  Its geometry is the queryable ``geometry``.
    kinds : mapping, optional
        Property kinds (:func:`infer_kinds` by default; a catalog's declared kinds or
        ``"date"`` for a text column of ISO dates may be given).
    tree : shapely.STRtree, optional
        The layer's spatial index over ``gdf.geometry``: spatial functions then query it
        instead of testing every geometry.
    cache : dict, optional
        A per-version scratch dict (``LoadedLayer.cache``): the columns converted for
        filtering are kept there, so the next filter on the same version skips that work.
        Only for a frame that never changes while the dict lives.

    Raises
    ------
    FilterError
        When the filter does not fit the layer (see :func:`check_filter`).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> g = gpd.GeoDataFrame({"k": ["a", "b"]}, geometry=[shapely.Point(116, 44),
    ...                      shapely.Point(118, 44)], crs=4326)
    >>> filter_mask(parse_filter("S_WITHIN(geometry, BBOX(115, 43, 117, 45))"), g).tolist()
    [True, False]
    """
    if kinds is None:
        kinds = infer_kinds(gdf)
    else:
        # Inferring reads whole columns: only for properties the caller did not type.
        geom = gdf.geometry.name if hasattr(gdf, "geometry") else None
        rest = [c for c in gdf.columns if c not in kinds and c != geom]
        kinds = {**(infer_kinds(gdf[rest]) if rest else {}), **kinds}
    if hasattr(gdf, "geometry"):
        kinds.setdefault(GEOMETRY, "geometry")
    typed = _typed(flt.ast, kinds)
    true, _false = _eval(typed, _Frame(gdf, tree, cache))
    return true


def _eval(node: tuple, fr: _Frame) -> tuple[np.ndarray, np.ndarray]:
    """``(true, false)`` masks; rows in neither are unknown (SQL NULL)."""
    tag = node[0]
    n = fr.n
    if tag == "const":
        return np.full(n, node[1]), np.full(n, not node[1])
    if tag == "not":
        t, f = _eval(node[1], fr)
        return f, t
    if tag in ("and", "or"):
        parts = [_eval(x, fr) for x in node[1]]
        if tag == "and":
            return (np.logical_and.reduce([p[0] for p in parts]),
                    np.logical_or.reduce([p[1] for p in parts]))
        return (np.logical_or.reduce([p[0] for p in parts]),
                np.logical_and.reduce([p[1] for p in parts]))
    if tag == "isnull":
        kind = "geometry" if node[1] == GEOMETRY else "any"
        if kind == "geometry":
            _, valid = fr.values(GEOMETRY, "geometry")
        else:
            valid = fr.gdf[node[1]].notna().to_numpy(dtype=bool)
        return ~valid, valid.copy()
    if tag == "cmp":
        _, op, prop, kind, value = node
        v, valid = fr.values(prop, kind)
        res = _compare(v[valid], op, _np_value(value, kind))
        return _known(valid, res)
    if tag == "cmp2":
        _, op, pa, pb, kind = node
        va, oka = fr.values(pa, kind)
        vb, okb = fr.values(pb, kind)
        valid = oka & okb
        return _known(valid, _compare(va[valid], op, vb[valid]))
    if tag == "like":
        _, prop, pattern = node
        v, valid = fr.values(prop, "str")
        return _known(valid, _like(v[valid], pattern))
    if tag == "in":
        _, prop, kind, values = node
        v, valid = fr.values(prop, kind)
        wanted = [_np_value(x, kind) for x in values]
        if kind in ("int", "float"):
            res = np.isin(v[valid], np.asarray(wanted, dtype="float64"))
        else:
            res = pd.Series(v[valid], dtype=object).isin(wanted).to_numpy(dtype=bool)
        return _known(valid, res)
    if tag == "between":
        _, prop, kind, low, high = node
        v, valid = fr.values(prop, kind)
        x = v[valid]
        res = _compare(x, ">=", _np_value(low, kind)) & _compare(x, "<=", _np_value(high, kind))
        return _known(valid, res)
    if tag == "spatial":
        return _spatial(node[1], node[2], fr)
    if tag == "dwithin":
        return _dwithin(node[1], node[2], fr)
    raise AssertionError(tag)  # pragma: no cover - _typed makes only these


def _like(values: np.ndarray, pattern: str) -> np.ndarray:
    """CQL2 LIKE over an object array of str: plain string tests for the common shapes
    (``abc``, ``abc%``, ``%abc``, ``%abc%``), a compiled regular expression otherwise."""
    literal = re.fullmatch(r"(%?)((?:[^%_\\]|\\.)*)(%?)", pattern)
    if literal is not None:
        lead, body, tail = literal.groups()
        text = re.sub(r"\\(.)", r"\1", body)
        if lead and tail:
            out = [text in x for x in values]
        elif lead:
            out = [x.endswith(text) for x in values]
        elif tail:
            out = [x.startswith(text) for x in values]
        else:
            out = [x == text for x in values]
    else:
        match = like_regex(pattern).fullmatch
        out = [match(x) is not None for x in values]
    return np.fromiter(out, dtype=bool, count=len(values))


def _np_value(value: Any, kind: str) -> Any:
    if kind == "date":
        return value.isoformat()
    if kind == "datetime":
        return np.datetime64(pd.Timestamp(value).tz_convert("UTC").tz_localize(None), "ns")
    return value


def _compare(v: np.ndarray, op: str, w: Any) -> np.ndarray:
    """Elementwise ``v op w``; text (object arrays of str) in code-point order, as COLLATE "C"."""
    fn = {"=": np.equal, "<>": np.not_equal, "<": np.less, ">": np.greater,
          "<=": np.less_equal, ">=": np.greater_equal}[op]
    return np.asarray(fn(v, w), dtype=bool)


def _known(valid: np.ndarray, res: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = np.zeros(valid.shape, dtype=bool)
    f = np.zeros(valid.shape, dtype=bool)
    t[valid] = res
    f[valid] = ~res
    return t, f


def _spatial(rel: str, lit: shapely.Geometry, fr: _Frame) -> tuple[np.ndarray, np.ndarray]:
    geoms, valid = fr.values(GEOMETRY, "geometry")
    if fr.tree is not None and len(geoms):
        # STRtree.query(lit, predicate=p) finds tree geometries g with p(lit, g).
        tree_pred = {"intersects": "intersects", "disjoint": "intersects",
                     "within": "contains", "contains": "within"}[rel]
        hits = np.zeros(fr.n, dtype=bool)
        hits[fr.tree.query(lit, predicate=tree_pred)] = True
        if rel == "disjoint":
            hits = ~hits
    else:
        shapely.prepare(lit)
        fn = {"intersects": shapely.intersects, "disjoint": shapely.disjoint,
              "within": shapely.contains, "contains": shapely.within}[rel]
        hits = np.zeros(fr.n, dtype=bool)
        hits[valid] = fn(lit, geoms[valid])  # the prepared literal first: fast
    return hits & valid, ~hits & valid


def dwithin_box(lit: shapely.Geometry, metres: float) -> tuple[float, float, float, float]:
    """A lon/lat box holding every point within ``metres`` of ``lit``: the index's part of
    ``S_DWITHIN`` (a degree of latitude is at least 110.5 km, one of longitude at least
    111.3 km times the cosine of the box's highest latitude).

    Examples
    --------
    >>> [round(v, 3) for v in dwithin_box(shapely.Point(116, 44), 11_000)]
    [115.862, 43.9, 116.138, 44.1]
    """
    x0, y0, x1, y1 = shapely.bounds(lit).tolist()
    dlat = metres / 110_000.0
    top = min(90.0, max(abs(y0), abs(y1)) + dlat)
    cos = float(np.cos(np.radians(top)))
    dlon = 360.0 if cos < 1e-6 else min(360.0, metres / (111_000.0 * cos))
    return (max(-180.0, x0 - dlon), max(-90.0, y0 - dlat), min(180.0, x1 + dlon),
            min(90.0, y1 + dlat))


def _dwithin(lit: shapely.Geometry, metres: float, fr: _Frame) -> tuple[np.ndarray, np.ndarray]:
    from geo.measure import within_metres

    geoms, valid = fr.values(GEOMETRY, "geometry")
    hits = np.zeros(fr.n, dtype=bool)
    if len(geoms):
        box = shapely.box(*dwithin_box(lit, metres))
        if fr.tree is not None:
            near = fr.tree.query(box, predicate="intersects")
        else:
            near = np.flatnonzero(valid)
            near = near[shapely.intersects(box, geoms[near])]
        near = near[valid[near]]
        # Only the features near the box are measured, in metres around the literal.
        hits[near] = within_metres(geoms[near], lit, metres)
    return hits & valid, ~hits & valid


# -- translation to PostgreSQL/PostGIS --------------------------------------------------------
def filter_sql(flt: CqlFilter, columns: Mapping[str, SqlColumn], geometry: str = '"geom"',
               srid: int = 4326) -> tuple[str, list[Any]]:
    """The filter as a PostgreSQL ``WHERE`` condition with ``%s`` parameters (psycopg).

    Values are never written into the SQL: every literal is a parameter, every
    identifier comes from ``columns``.

    Parameters
    ----------
    flt : CqlFilter
        From :func:`parse_filter`.
    columns : mapping of property → SqlColumn
        The layer version's columns (:func:`sql_columns` builds it from the registry).
    geometry : str
        The quoted geometry column.
    srid : int
        SRID of that column (geometry literals are CRS84 lon/lat, i.e. EPSG:4326 x/y).

    Returns
    -------
    (str, list)
        The condition (without ``WHERE``) and its parameters.

    Raises
    ------
    FilterError
        When the filter does not fit the columns.

    Examples
    --------
    >>> cols = {"category": SqlColumn('"category"', "TEXT")}
    >>> filter_sql(parse_filter("category IN ('energy', 'ecology')"), cols)
    ('("category" = ANY(%s::text[]))', [['energy', 'ecology']])
    >>> filter_sql(parse_filter("name LIKE 'a%'"), cols)
    Traceback (most recent call last):
    ...
    layers.filter.FilterError: unknown property 'name' in `name LIKE 'a%'`
    """
    kinds = {name: c.value_kind for name, c in columns.items()}
    kinds.setdefault(GEOMETRY, "geometry")
    typed = _typed(flt.ast, kinds)
    args: list[Any] = []
    cond = _sql(typed, columns, geometry, srid, args)
    return cond, args


def sql_value(col: SqlColumn, kind: str) -> str:
    """The SQL expression of column ``col`` read as ``kind``, as :func:`filter_sql` reads it.

    Examples
    --------
    >>> sql_value(SqlColumn('"n"', "BOOLEAN"), "int")
    '"n"::int::double precision'
    """
    return _sql_value_expr(col, kind)


_SQL_CASTS = {"int": "double precision", "float": "double precision", "bool": "boolean",
              "str": "text", "date": "date", "datetime": "timestamptz"}


def _sql_value_expr(col: SqlColumn, kind: str) -> str:
    """The column as a value of ``kind`` (NULL where a text column cannot be read as one)."""
    t = col.sql_type.upper()
    if kind in ("int", "float"):
        if t == "TEXT":  # numbers kept as text: NULL where the text is not a number
            return (f"(CASE WHEN {col.sql} ~* '{_NUMERIC_TEXT}' THEN "
                    f"{col.sql}::double precision END)")
        if t == "BOOLEAN":
            return f"{col.sql}::int::double precision"
        return f"{col.sql}::double precision"
    if kind == "bool" and t == "TEXT":
        return (f"(CASE lower(trim({col.sql})) WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE "
                "END)")
    if kind == "str":
        return f'{col.sql} COLLATE "C"'
    if kind == "date":
        if t == "TEXT":  # ISO text compared as 'YYYY-MM-DD', as filter_mask does
            return f"(CASE WHEN {col.sql} ~ '{_DATE_RE}' THEN left({col.sql}, 10) END)"
        return f"to_char({col.sql}, 'YYYY-MM-DD')"
    if kind == "datetime":
        if t == "TEXT":
            return (f"(CASE WHEN {col.sql} ~ '{_DATETIME_RE}' THEN (CASE WHEN {col.sql} ~ "
                    f"'{_TZ_RE}' THEN {col.sql}::timestamptz ELSE "
                    f"{col.sql}::timestamp AT TIME ZONE 'UTC' END) END)")
        if t == "TIMESTAMP":
            return f"({col.sql} AT TIME ZONE 'UTC')"
        return col.sql
    return col.sql


def _sql_param(value: Any, kind: str, args: list) -> str:
    if kind == "date":
        args.append(value.isoformat())
        return '(%s::text COLLATE "C")'
    if kind in ("int", "float"):
        args.append(float(value))
    else:
        args.append(value)
    return f"%s::{_SQL_CASTS[kind]}"


def _sql(node: tuple, columns: Mapping[str, SqlColumn], geometry: str, srid: int,
         args: list) -> str:
    tag = node[0]
    if tag == "const":
        return "TRUE" if node[1] else "FALSE"
    if tag == "not":
        return f"(NOT {_sql(node[1], columns, geometry, srid, args)})"
    if tag in ("and", "or"):
        joiner = " AND " if tag == "and" else " OR "
        return "(" + joiner.join(_sql(x, columns, geometry, srid, args) for x in node[1]) + ")"
    if tag == "isnull":
        col = geometry if node[1] == GEOMETRY else columns[node[1]].sql
        return f"({col} IS NULL)"
    if tag == "cmp":
        _, op, prop, kind, value = node
        lhs = _sql_value_expr(columns[prop], kind)
        return f"({lhs} {op} {_sql_param(value, kind, args)})"
    if tag == "cmp2":
        _, op, pa, pb, kind = node
        return (f"({_sql_value_expr(columns[pa], kind)} {op} "
                f"{_sql_value_expr(columns[pb], kind)})")
    if tag == "like":
        _, prop, pattern = node
        args.extend([pattern, "\\"])
        return f"({columns[prop].sql} LIKE %s ESCAPE %s)"
    if tag == "in":
        _, prop, kind, values = node
        lhs = _sql_value_expr(columns[prop], kind)
        if kind == "date":
            args.append([v.isoformat() for v in values])
            return f"({lhs} = ANY(%s::text[]))"
        args.append([float(v) if kind in ("int", "float") else v for v in values])
        return f"({columns[prop].sql if kind == 'str' else lhs} = ANY(%s::{_SQL_CASTS[kind]}[]))"
    if tag == "between":
        _, prop, kind, low, high = node
        lhs = _sql_value_expr(columns[prop], kind)
        lo = _sql_param(low, kind, args)
        hi = _sql_param(high, kind, args)
        return f"({lhs} BETWEEN {lo} AND {hi})"
    if tag == "spatial":
        _, rel, lit = node
        args.append(shapely.to_wkb(lit))
        fn = {"intersects": "ST_Intersects", "within": "ST_Within", "contains": "ST_Contains",
              "disjoint": "ST_Disjoint"}[rel]
        return f"{fn}({geometry}, ST_GeomFromWKB(%s, {int(srid)}))"
    if tag == "dwithin":
        # The box lets the GiST index pick the candidates; ST_DWithin on geography measures
        # them geodesically on the WGS 84 spheroid.
        _, lit, metres = node
        args.extend([*dwithin_box(lit, metres), shapely.to_wkb(lit), metres])
        return (f"({geometry} && ST_MakeEnvelope(%s, %s, %s, %s, {int(srid)}) AND "
                f"ST_DWithin({geometry}::geography, ST_GeomFromWKB(%s, {int(srid)})::geography,"
                " %s::double precision))")
    raise AssertionError(tag)  # pragma: no cover


# -- sortby ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SortKey:
    """One ``sortby`` term: a property and its direction."""

    name: str
    descending: bool = False


def parse_sortby(value: str | None, kinds: Mapping[str, str]) -> tuple[SortKey, ...]:
    """Parse ``sortby=+name,-total_investment_yi`` against a layer's properties.

    A leading ``+`` (or the space a query string makes of an unescaped ``+``) or none is
    ascending, ``-`` descending.  Missing values sort last in both directions, ties keep
    feature-id order.

    Raises
    ------
    FilterError
        For an unknown or unsortable property (the geometry), or a repeated one.

    Examples
    --------
    >>> parse_sortby(" name_zh,-total_investment_yi", {"name_zh": "str",
    ...                                                  "total_investment_yi": "float"})
    (SortKey(name='name_zh', descending=False), SortKey(name='total_investment_yi', descending=True))
    """
    if value is None or not str(value).strip():
        return ()
    keys: list[SortKey] = []
    for raw in str(value).split(","):
        term = raw.strip()
        desc = term.startswith("-")
        name = term[1:].strip() if term[:1] in "+-" and term else term
        if not name:
            raise FilterError("empty sortby term", "sortby 中有空项", part=str(value)[:200],
                              hint="sortby=+name_zh,-total_investment_yi",
                              hint_zh="sortby=+name_zh,-total_investment_yi")
        if name not in kinds or kinds[name] == "geometry":
            names = ", ".join(k for k, v in kinds.items() if v != "geometry")
            raise FilterError(f"cannot sort by {name!r}", f"无法按 {name!r} 排序", part=term,
                              hint=f"sortable properties: {names}", hint_zh=f"可排序属性: {names}")
        if any(k.name == name for k in keys):
            raise FilterError(f"{name!r} appears twice in sortby", f"sortby 中 {name!r} 重复",
                              part=str(value)[:200])
        keys.append(SortKey(name, desc))
    return tuple(keys)


def sort_positions(gdf: pd.DataFrame, keys: tuple[SortKey, ...],
                   kinds: Mapping[str, str] | None = None,
                   positions: np.ndarray | None = None, cache: dict | None = None
                   ) -> np.ndarray:
    """Row positions of ``gdf`` (or of the subset ``positions``) in ``sortby`` order.

    Ties keep their original (feature-id) order; missing values go last.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": ["b", None, "a", "b"], "n": [1, 2, 3, 0]})
    >>> sort_positions(df, parse_sortby("a,-n", {"a": "str", "n": "int"})).tolist()
    [2, 0, 3, 1]
    """
    pos = np.arange(len(gdf)) if positions is None else np.asarray(positions)
    if not keys:
        return pos
    kinds = infer_kinds(gdf) if kinds is None else kinds
    fr = _Frame(gdf, None, cache)
    sort_cols = []
    for key in keys:
        kind = kinds.get(key.name, "str")
        v, valid = fr.values(key.name, "str" if kind == "geometry" else kind)
        v, valid = v[pos], valid[pos]
        codes = np.zeros(len(pos), dtype="int64")
        if valid.any():
            # Dense ranks: hashing, then sorting only the distinct values.
            inverse, _ = pd.factorize(v[valid], sort=True)
            top = int(inverse.max()) if len(inverse) else 0
            codes[valid] = (top - inverse) if key.descending else inverse
            codes[~valid] = top + 1  # missing last, either direction
        sort_cols.append(codes)
    order = np.lexsort([np.arange(len(pos)), *reversed(sort_cols)])
    return pos[order]


def sortby_sql(keys: tuple[SortKey, ...], columns: Mapping[str, SqlColumn],
               tiebreak: str = "fid") -> str:
    """``ORDER BY`` terms (without the keywords) for ``keys``, ties broken by ``tiebreak``.

    Examples
    --------
    >>> sortby_sql((SortKey("name_zh"), SortKey("n", True)),
    ...            {"name_zh": SqlColumn('"name_zh"', "TEXT"), "n": SqlColumn('"n"', "REAL")})
    '"name_zh" COLLATE "C" ASC NULLS LAST, "n"::double precision DESC NULLS LAST, fid'
    """
    terms = []
    for key in keys:
        col = columns[key.name]
        expr = _sql_value_expr(col, col.value_kind)
        terms.append(f"{expr} {'DESC' if key.descending else 'ASC'} NULLS LAST")
    return ", ".join([*terms, tiebreak])


# -- queryables and datetime ------------------------------------------------------------------
def queryables_schema(kinds: Mapping[str, str], titles: Mapping[str, str] | None = None,
                      schema_id: str = "") -> dict[str, Any]:
    """The JSON Schema of a layer's queryables (OGC API – Features Part 3).

    Examples
    --------
    >>> s = queryables_schema({"n": "int", "d": "date", "geometry": "geometry"})
    >>> s["properties"]["n"], s["properties"]["d"]["format"], s["properties"]["geometry"]
    ({'type': 'integer'}, 'date', {'format': 'geometry-any'})
    """
    props: dict[str, Any] = {}
    for name, kind in kinds.items():
        schema: dict[str, Any] = {
            "str": {"type": "string"}, "int": {"type": "integer"}, "float": {"type": "number"},
            "bool": {"type": "boolean"}, "date": {"type": "string", "format": "date"},
            "datetime": {"type": "string", "format": "date-time"},
            "geometry": {"format": "geometry-any"}}.get(kind, {"type": "string"})
        if titles and name in titles:
            schema = {"title": titles[name], **schema}
        props[name] = schema
    out: dict[str, Any] = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                           "type": "object", "properties": props, "additionalProperties": False}
    if schema_id:
        out["$id"] = schema_id
    return out


def datetime_filter(value: str, prop: str, kind: str = "datetime") -> CqlFilter:
    """The ``datetime`` query parameter as a filter on the temporal property ``prop``.

    An instant selects that date (``kind="date"``) or that timestamp; an interval
    ``start/end`` with ``..`` for an open end selects the values inside, ends included.

    Raises
    ------
    FilterError
        For a value that is not an RFC 3339 instant or interval.

    Examples
    --------
    >>> datetime_filter("2023-01-01/..", "opened", "date").text
    "opened >= DATE('2023-01-01')"
    >>> datetime_filter("../2023-06-30T12:00:00Z", "t").text
    "t <= TIMESTAMP('2023-06-30T12:00:00Z')"
    """
    text = str(value).strip()
    parts = text.split("/")
    if not text or len(parts) > 2 or all(p in ("", "..") for p in parts):
        raise FilterError(f"datetime {text[:60]!r} is not an instant or interval",
                          f"datetime {text[:60]!r} 不是时刻或时间区间",
                          hint="datetime=2023-05-01, 2023-01-01/2023-06-30 or 2023-01-01/..",
                          hint_zh="datetime=2023-05-01、2023-01-01/2023-06-30 或 2023-01-01/..")

    def literal(p: str) -> dict[str, str]:
        try:
            if kind == "date":
                return {"date": pd.Timestamp(p).date().isoformat()}
            ts = pd.Timestamp(p)
            ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
            return {"timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S") + (
                f".{ts.microsecond:06d}" if ts.microsecond else "") + "Z"}
        except ValueError:
            raise FilterError(f"datetime: {p[:60]!r} is not an RFC 3339 date or timestamp",
                              f"datetime: {p[:60]!r} 不是 RFC 3339 日期或时间戳",
                              hint="2023-05-01 or 2023-05-01T08:00:00Z",
                              hint_zh="2023-05-01 或 2023-05-01T08:00:00Z") from None

    ref = {"property": prop}
    if len(parts) == 1:
        if kind == "date":
            return CqlFilter({"op": "=", "args": [ref, literal(parts[0])]})
        return CqlFilter({"op": "=", "args": [ref, literal(parts[0])]})
    conds = []
    if parts[0] not in ("", ".."):
        conds.append({"op": ">=", "args": [ref, literal(parts[0])]})
    if parts[1] not in ("", ".."):
        conds.append({"op": "<=", "args": [ref, literal(parts[1])]})
    return CqlFilter(conds[0] if len(conds) == 1 else {"op": "and", "args": conds})


def and_filters(*filters: CqlFilter | None) -> CqlFilter | None:
    """One filter that holds where all the given ones hold (None when none is given).

    Examples
    --------
    >>> and_filters(parse_filter("a = 1"), None, parse_filter("b = 'x'")).text
    "a = 1 AND b = 'x'"
    """
    given = [f.ast for f in filters if f is not None]
    if not given:
        return None
    return CqlFilter(given[0] if len(given) == 1 else {"op": "and", "args": given})
