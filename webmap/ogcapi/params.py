"""Query parameters of the OGC API – Features endpoints, parsed and checked.

Part 1 (Core) asks a server to reject parameters it does not know with a 400
(OGC 17-069r4, 7.15.x "unknown query parameters").  The items endpoint knows
:data:`ITEMS_PARAMS` — Part 1's ``f``, ``bbox``, ``limit``, ``offset`` and ``datetime``,
Part 2's ``crs`` and ``bbox-crs``, Part 3's ``filter``, ``filter-lang``, ``filter-crs``
and ``sortby``, and ``properties`` and ``skipGeometry`` — and one equality filter per
property of the collection whose name is not one of those (a column called ``limit`` or
``f`` is filtered through CQL2: ``filter="limit" = 3``).  :class:`ItemsQuery` is the
parsed, normalised request: its :meth:`~ItemsQuery.key` names the response for the ETag,
its :meth:`~ItemsQuery.link_params` rebuilds self/next/prev links.

``limit`` above :data:`MAX_LIMIT` is not an error: it is capped there (as OGC API –
Features recommends), and the response's links carry the capped value.

Examples
--------
>>> from werkzeug.datastructures import MultiDict
>>> q = parse_items_query(MultiDict({"limit": "5", "category": "energy"}), {"category": "str"})
>>> q.limit, q.offset, q.filters
(5, 0, (('category', 'energy'),))
>>> parse_items_query(MultiDict({"limit": "50000"}), {}).limit
10000
>>> negotiate_format(MultiDict({"f": "html"}), "application/json")
'html'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import shapely
from werkzeug.datastructures import MIMEAccept, MultiDict
from werkzeug.http import parse_accept_header

from geo.crs import OUTPUT_CRS, CrsInfo, bbox_polygon, crs_uri, parse_crs
from geo.errors import GeoInputError
from layers.filter import (
    GEOMETRY,
    CqlFilter,
    SortKey,
    and_filters,
    check_filter,
    parse_filter,
    parse_sortby,
)
from layers.store import BBox, QueryError, parse_bbox

from ..core.errors import ApiError

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
#: Parameters the items endpoint understands besides property filters.
ITEMS_PARAMS: tuple[str, ...] = ("f", "bbox", "bbox-crs", "limit", "offset", "datetime", "crs",
                                 "filter", "filter-lang", "filter-crs", "sortby",
                                 "properties", "skipGeometry")
#: Parameters of one feature (``/items/{fid}``).
ITEM_PARAMS: tuple[str, ...] = ("f", "crs")
FORMATS: tuple[str, ...] = ("json", "html")
#: Other names of a format (``f=geojson`` is what many GeoJSON clients send).
FORMAT_ALIASES: dict[str, str] = {"geojson": "json"}

# RFC 3339 date or date-time; an interval is two of them (or "..") around "/".
_INSTANT = r"\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2}))?"
DATETIME_PATTERN = rf"^(?:{_INSTANT}|(?:{_INSTANT}|\.\.)/(?:{_INSTANT}|\.\.))$"
_DATETIME_RE = re.compile(DATETIME_PATTERN)
#: What a property filter's value must look like, per field kind (as the OpenAPI types them).
VALUE_PATTERNS: dict[str, str] = {
    "int": r"^[+-]?[0-9]+$",
    "float": r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$",
    "bool": r"^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$",
}
#: Codes of the CRSs every collection offers (``crs``, ``bbox-crs``, ``filter-crs``), CRS84
#: first: the default and the storage CRS.
OFFERED_CRS: tuple[str, ...] = OUTPUT_CRS
#: Their OGC URIs, in the same order (collection documents, OpenAPI enums).
OFFERED_URIS: tuple[str, ...] = tuple(crs_uri(c) for c in OFFERED_CRS)
_KIND_WORDS = {"int": ("an integer", "整数"), "float": ("a number", "数值"),
               "bool": ("true or false", "true 或 false")}


def negotiate_format(args: MultiDict, accept: str | None) -> str:
    """``"json"`` or ``"html"``: ``f`` wins, then the Accept header, then JSON.

    Raises
    ------
    ApiError
        400 for an ``f`` other than json or html.

    Examples
    --------
    >>> negotiate_format(MultiDict(), "text/html,application/xhtml+xml,*/*;q=0.8")
    'html'
    >>> negotiate_format(MultiDict(), "application/geo+json, application/json")
    'json'
    >>> negotiate_format(MultiDict(), None)
    'json'
    """
    f = args.get("f")
    if f is not None:
        f = FORMAT_ALIASES.get(f, f)
        if f not in FORMATS:
            raise ApiError(f"unsupported format f={f!r}", 400,
                           hint="use f=json (GeoJSON / JSON; f=geojson is the same) or f=html",
                           code="unsupported_format", message_zh=f"不支持的输出格式 {f!r}",
                           hint_zh="可选 JSON（GeoJSON）或 HTML")
        return f
    if not accept:
        return "json"
    offers = ["application/json", "application/geo+json", "text/html"]
    best = parse_accept_header(accept, MIMEAccept).best_match(offers)
    return "html" if best == "text/html" else "json"


def check_known(args: MultiDict, known: Iterable[str]) -> None:
    """Raise a 400 :class:`ApiError` for a query parameter not in ``known``.

    Examples
    --------
    >>> check_known(MultiDict({"f": "json"}), ["f"])
    >>> check_known(MultiDict({"x": "1"}), ["f"])
    Traceback (most recent call last):
    ...
    webmap.core.errors.ApiError: unknown query parameter 'x'
    """
    allowed = set(known)
    for name in args:
        if name not in allowed:
            raise ApiError(f"unknown query parameter {name!r}", 400,
                           hint="parameters understood here: " + ", ".join(sorted(allowed)),
                           code="unknown_parameter", message_zh=f"无法识别的查询条件 {name!r}",
                           hint_zh="这个地址能识别的条件：" + "、".join(sorted(allowed)))


def _crs(name: str, value: str | None) -> CrsInfo:
    if value is None:
        return parse_crs("OGC:CRS84")
    try:
        return parse_crs(value, allowed=OFFERED_CRS)
    except GeoInputError as e:
        raise ApiError(f"{name}: {e.message}", 400, hint=e.hint, code="bad_crs",
                       message_zh=f"{name}：{e.message_zh}", hint_zh=e.hint_zh) from None


def output_crs(value: str | None) -> CrsInfo:
    """The CRS of the ``crs`` parameter (CRS84 when absent); a 400 for one not offered.

    Examples
    --------
    >>> output_crs("http://www.opengis.net/def/crs/EPSG/0/4548").code
    'EPSG:4548'
    >>> output_crs("EPSG:2000")
    Traceback (most recent call last):
    ...
    webmap.core.errors.ApiError: crs: CRS EPSG:2000 is not offered here
    """
    return _crs("crs", value)


def bbox_crs(value: str | None) -> CrsInfo:
    """The CRS of the ``bbox-crs`` parameter (CRS84 when absent); a 400 for one not offered."""
    return _crs("bbox-crs", value)


def _int_param(args: MultiDict, name: str, default: int, low: int) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    value = int(raw) if re.fullmatch(r"[+-]?[0-9]{1,18}", raw.strip()) else None
    if value is None or value < low:
        raise ApiError(f"{name}={raw!r} is not allowed", 400,
                       hint=f"{name} must be an integer of {low} or more"
                       + (f", e.g. {name}={default or 100} (at most {MAX_LIMIT:,} are "
                          "returned per page)" if name == "limit" else ""),
                       code="bad_parameter",
                       message_zh=("每页数量" if name == "limit" else "起始位置")
                       + f" {raw!r} 无效",
                       hint_zh=f"应是不小于 {low} 的整数")
    return value


def _bad(name: str, message: str, hint: str, message_zh: str, hint_zh: str) -> ApiError:
    return ApiError(message, 400, hint=hint, code="bad_parameter", message_zh=message_zh,
                    hint_zh=hint_zh)


@dataclass(frozen=True)
class ItemsQuery:
    """A parsed ``/collections/{id}/items`` request.

    Attributes
    ----------
    bbox : tuple of float or None
        ``(minx, miny, maxx, maxy)`` in CRS84 (the envelope of a box given in another
        CRS).
    limit, offset : int
        Page size (capped at :data:`MAX_LIMIT`) and start.
    filters : tuple of (str, str)
        Property equality filters, sorted by name.
    datetime : str or None
        The ``datetime`` parameter (an instant or interval on the collection's temporal
        property; a collection without one keeps every feature).
    crs : CrsInfo
        The output CRS (``crs``; CRS84 by default).
    where : CqlFilter or None
        The CQL2 ``filter`` (geometry literals already in CRS84), with the exact shape of
        a bbox given in a projected ``bbox-crs`` added.
    sortby : tuple of SortKey
        Order of the features (default: by feature id).
    properties : tuple of str or None
        Only these properties (``properties``; None: all).
    skip_geometry : bool
        ``skipGeometry=true``: features without their geometry.
    raw : tuple of (str, str)
        The Part 2/3 parameters as given (for the links), in a fixed order.
    """

    bbox: BBox | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    filters: tuple[tuple[str, str], ...] = ()
    datetime: str | None = None
    crs: CrsInfo = field(default_factory=lambda: parse_crs("OGC:CRS84"))
    where: CqlFilter | None = None
    sortby: tuple[SortKey, ...] = ()
    properties: tuple[str, ...] | None = None
    skip_geometry: bool = False
    raw: tuple[tuple[str, str], ...] = ()
    bbox_text: str | None = None

    @property
    def default_output(self) -> bool:
        """Whether the features are written as stored: every property, geometry in CRS84."""
        return (self.crs.code == "OGC:CRS84" and self.properties is None
                and not self.skip_geometry)

    @property
    def sort_pairs(self) -> list[tuple[str, bool]]:
        """``sortby`` as the store takes it: ``(property, ascending)`` pairs."""
        return [(k.name, not k.descending) for k in self.sortby]

    def key(self) -> str:
        """Canonical text of the query: equal for requests with equal answers.

        Examples
        --------
        >>> ItemsQuery(limit=5).key()
        'bbox=None&limit=5&offset=0&datetime=None&filters=()&crs=OGC:CRS84&raw=()'
        """
        return (f"bbox={self.bbox}&limit={self.limit}&offset={self.offset}"
                f"&datetime={self.datetime}&filters={self.filters}&crs={self.crs.code}"
                f"&raw={self.raw}")

    def link_params(self, offset: int | None = None) -> list[tuple[str, str]]:
        """Query parameters (without ``f``) reproducing this query, at ``offset``.

        Examples
        --------
        >>> ItemsQuery(bbox=(115.0, 43.0, 117.0, 44.5), limit=5).link_params(offset=15)
        [('bbox', '115,43,117,44.5'), ('limit', '5'), ('offset', '15')]
        """
        params: list[tuple[str, str]] = []
        if self.bbox_text is not None:
            params.append(("bbox", self.bbox_text))
        elif self.bbox is not None:
            params.append(("bbox", ",".join(format(v, ".15g") for v in self.bbox)))
        if self.datetime is not None:
            params.append(("datetime", self.datetime))
        params += list(self.filters)
        params += list(self.raw)
        params.append(("limit", str(self.limit)))
        params.append(("offset", str(self.offset if offset is None else offset)))
        return params

    def at(self, offset: int) -> ItemsQuery:
        """The same query starting at ``offset``."""
        return replace(self, offset=offset)


def _property_value(name: str, kind: str, value: str) -> None:
    """A 400 for an equality filter whose value cannot be one of the property's kind."""
    pattern = VALUE_PATTERNS.get(kind)
    if pattern is not None and not re.match(pattern, value.strip()):
        en, zh = _KIND_WORDS[kind]
        raise _bad(name, f"{name}={value[:40]!r}: {name} is {en}",
                   f"give {en}, e.g. {name}=" + {"int": "3", "float": "2.5",
                                                 "bool": "true"}[kind]
                   + ", or compare it in a CQL2 filter",
                   f"条件 {name} 的值 {value[:40]!r} 无效：应是{zh}", f"{name} 应是{zh}")


def _parse_bbox(args: MultiDict, crs: CrsInfo) -> tuple[BBox | None, Any, str | None]:
    """``(CRS84 envelope, exact CRS84 shape or None, the bbox as given)``."""
    raw = args.get("bbox")
    if raw is None:
        return None, None, None
    hint = ("bbox=minLon,minLat,maxLon,maxLat in CRS84, e.g. bbox=115,43,117,44.5"
            if crs.code == "OGC:CRS84" else
            f"bbox=lower corner, upper corner in {crs.code}'s own axis order ("
            + ("latitude first" if crs.geographic else "northing first"
               if crs.first_axis_north else "easting first") + ")")
    try:
        if crs.code == "OGC:CRS84":
            return parse_bbox(raw), None, None
        parts = [float(p) for p in raw.split(",")]
        if len(parts) == 6:
            parts = parts[:2] + parts[3:5]
        if len(parts) != 4 or not all(map(_finite, parts)) \
                or parts[0] > parts[2] or parts[1] > parts[3]:
            raise ValueError
        shape = bbox_polygon(parts, crs)
        envelope = parse_bbox(tuple(shapely.bounds(shape)))
    except (ValueError, QueryError):
        raise ApiError(f"bbox={raw[:80]!r} is not a box in {crs.code}", 400, hint=hint,
                       code="bad_parameter", message_zh=f"范围 {raw[:80]!r} 无效",
                       hint_zh="范围应为四个数：左下角、右上角") from None
    # Geographic CRSs differ from CRS84 in axis order only: the envelope is exact.
    return envelope, (None if crs.geographic else shape), raw


def _finite(v: float) -> bool:
    """A usable coordinate: a number, and not beyond any CRS's extent (1e9 m or degrees)."""
    return v == v and abs(v) <= 1e9


def parse_items_query(args: MultiDict, kinds: Mapping[str, str] | None) -> ItemsQuery:
    """Parse and check the query string of an items request.

    Parameters
    ----------
    args : werkzeug.datastructures.MultiDict
        ``request.args``.
    kinds : mapping or None
        Property name → kind of the collection (:meth:`layers.store.Store.properties`).
        None when the store cannot tell cheaply: every other parameter is then passed to
        the store as a filter and the store rejects the unknown ones.

    Raises
    ------
    ApiError
        400 with a hint for anything the client can fix;
        :class:`layers.filter.FilterError` (400) for a filter or sortby that does not fit.

    Examples
    --------
    >>> parse_items_query(MultiDict({"bbox": "115,43,117,44.5"}), {}).bbox
    (115.0, 43.0, 117.0, 44.5)
    >>> parse_items_query(MultiDict({"limit": "0"}), {})
    Traceback (most recent call last):
    ...
    webmap.core.errors.ApiError: limit='0' is not allowed
    """
    if kinds is not None:
        check_known(args, (*ITEMS_PARAMS, *[p for p in kinds if p not in ITEMS_PARAMS]))
    for name, values in args.lists():
        if len(values) > 1:
            raise ApiError(f"query parameter {name!r} is given {len(values)} times", 400,
                           hint="give each parameter once", code="bad_parameter",
                           message_zh=f"查询条件 {name!r} 重复出现了 {len(values)} 次",
                           hint_zh="每个条件只写一次")
    out_crs = output_crs(args.get("crs"))
    in_crs = bbox_crs(args.get("bbox-crs"))
    bbox, shape, bbox_text = _parse_bbox(args, in_crs)
    limit = min(_int_param(args, "limit", DEFAULT_LIMIT, 1), MAX_LIMIT)
    offset = _int_param(args, "offset", 0, 0)
    dt = args.get("datetime")
    if dt is not None and not _DATETIME_RE.match(dt):
        raise ApiError(f"datetime={dt!r} is not an RFC 3339 date-time or interval", 400,
                       hint="e.g. datetime=2023-05-01, datetime=2023-01-01T00:00:00Z or "
                            "datetime=2023-01-01/.. (open interval)",
                       code="bad_parameter", message_zh=f"时间 {dt!r} 的写法无效",
                       hint_zh="例如 2023-01-01 或 2023-01-01/2023-12-31")
    typed = {**(kinds or {}), GEOMETRY: "geometry"}
    where = None
    if "filter" in args:
        where = parse_filter(args["filter"], lang=args.get("filter-lang"),
                             crs=args.get("filter-crs"))
        if kinds is not None:
            check_filter(where, typed)
    elif "filter-lang" in args or "filter-crs" in args:
        parse_filter("TRUE", lang=args.get("filter-lang"), crs=args.get("filter-crs"))
    if shape is not None:  # a projected box: its exact shape, not just its envelope
        where = and_filters(where, CqlFilter({"op": "s_intersects", "args": [
            {"property": GEOMETRY}, shapely.geometry.mapping(shape)]}))
    sortby = parse_sortby(args.get("sortby"), typed) if kinds is not None else ()
    properties = None
    if "properties" in args:
        properties = tuple(p.strip() for p in args["properties"].split(",") if p.strip())
        unknown = [p for p in properties if kinds is not None and p not in kinds]
        if unknown:
            names = ", ".join(kinds or ())
            raise _bad("properties", f"properties: unknown property {unknown[0]!r}",
                       f"properties of this collection: {names}",
                       f"没有属性 {unknown[0]!r}", f"可用的属性：{names}")
        properties = tuple(dict.fromkeys(properties))
    skip = args.get("skipGeometry")
    if skip is not None and skip.strip().lower() not in ("true", "false"):
        raise _bad("skipGeometry", f"skipGeometry={skip[:20]!r} is not true or false",
                   "skipGeometry=true leaves the geometries out", f"skipGeometry 的值 "
                   f"{skip[:20]!r} 无效", "应为 true 或 false")
    filters = tuple(sorted((k, v) for k, v in args.items() if k not in ITEMS_PARAMS))
    for name, value in filters:
        if kinds is not None:
            _property_value(name, kinds[name], value)
    raw = tuple((k, args[k]) for k in ("bbox-crs", "crs", "filter", "filter-lang",
                                        "filter-crs", "sortby", "properties", "skipGeometry")
                if k in args)
    return ItemsQuery(bbox=bbox, limit=limit, offset=offset, filters=filters, datetime=dt,
                      crs=out_crs, where=where, sortby=sortby, properties=properties,
                      skip_geometry=skip is not None and skip.strip().lower() == "true",
                      raw=raw, bbox_text=bbox_text)
