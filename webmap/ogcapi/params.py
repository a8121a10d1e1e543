"""Query parameters of the OGC API – Features endpoints, parsed and checked.

Part 1 (Core) asks a server to reject parameters it does not know with a 400
(OGC 17-069r4, 7.15.x "unknown query parameters"); the items endpoint knows
``f``, ``bbox``, ``bbox-crs``, ``limit``, ``offset``, ``datetime`` and one
equality filter per property of the collection.  :class:`ItemsQuery` is the
parsed, normalised request: its :meth:`~ItemsQuery.key` names the response for
the ETag, its :meth:`~ItemsQuery.link_params` rebuilds self/next/prev links.

Examples
--------
>>> from werkzeug.datastructures import MultiDict
>>> q = parse_items_query(MultiDict({"limit": "5", "category": "energy"}), ["category"])
>>> q.limit, q.offset, q.filters
(5, 0, (('category', 'energy'),))
>>> negotiate_format(MultiDict({"f": "html"}), "application/json")
'html'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from werkzeug.datastructures import MIMEAccept, MultiDict
from werkzeug.http import parse_accept_header

from layers.store import BBox, QueryError, parse_bbox

from ..core.errors import ApiError

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
#: Parameters the items endpoint understands besides property filters.
ITEMS_PARAMS: tuple[str, ...] = ("f", "bbox", "bbox-crs", "limit", "offset", "datetime")
FORMATS: tuple[str, ...] = ("json", "html")

# RFC 3339 date or date-time; an interval is two of them (or "..") around "/".
_INSTANT = r"\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2}))?"
_DATETIME_RE = re.compile(rf"^(?:{_INSTANT}|(?:{_INSTANT}|\.\.|)/(?:{_INSTANT}|\.\.|))$")


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
        if f not in FORMATS:
            raise ApiError(f"unsupported format f={f!r}", 400,
                           hint="use f=json (GeoJSON / JSON) or f=html",
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


def _int_param(args: MultiDict, name: str, default: int, low: int, high: int | None) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        upper = f" and {high:,}" if high is not None else ""
        raise ApiError(f"{name}={raw!r} is not allowed", 400,
                       hint=f"{name} must be an integer between {low}{upper or ' or more'}"
                       + (f", e.g. {name}={default or 100}" if name == "limit" else ""),
                       code="bad_parameter",
                       message_zh=("每页数量" if name == "limit" else "起始位置")
                       + f" {raw!r} 无效",
                       hint_zh=f"应是不小于 {low} 的整数"
                       + (f"，且不大于 {high:,}" if high is not None else ""))
    return value


@dataclass(frozen=True)
class ItemsQuery:
    """A parsed ``/collections/{id}/items`` request.

    Attributes
    ----------
    bbox : tuple of float or None
        ``(minx, miny, maxx, maxy)`` in CRS84.
    limit, offset : int
        Page size and start.
    filters : tuple of (str, str)
        Property equality filters, sorted by name.
    datetime : str or None
        The ``datetime`` parameter as given (layers here carry no temporal
        property, so it selects everything; it is still checked for syntax).
    """

    bbox: BBox | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    filters: tuple[tuple[str, str], ...] = ()
    datetime: str | None = None

    def key(self) -> str:
        """Canonical text of the query: equal for requests with equal answers.

        Examples
        --------
        >>> ItemsQuery(limit=5).key()
        'bbox=None&limit=5&offset=0&datetime=None&filters=()'
        """
        return (f"bbox={self.bbox}&limit={self.limit}&offset={self.offset}"
                f"&datetime={self.datetime}&filters={self.filters}")

    def link_params(self, offset: int | None = None) -> list[tuple[str, str]]:
        """Query parameters (without ``f``) reproducing this query, at ``offset``.

        Examples
        --------
        >>> ItemsQuery(bbox=(115.0, 43.0, 117.0, 44.5), limit=5).link_params(offset=15)
        [('bbox', '115,43,117,44.5'), ('limit', '5'), ('offset', '15')]
        """
        params: list[tuple[str, str]] = []
        if self.bbox is not None:
            params.append(("bbox", ",".join(format(v, ".15g") for v in self.bbox)))
        if self.datetime is not None:
            params.append(("datetime", self.datetime))
        params += list(self.filters)
        params.append(("limit", str(self.limit)))
        params.append(("offset", str(self.offset if offset is None else offset)))
        return params

    def at(self, offset: int) -> ItemsQuery:
        """The same query starting at ``offset``."""
        return replace(self, offset=offset)


def parse_items_query(args: MultiDict, properties: Sequence[str] | None) -> ItemsQuery:
    """Parse and check the query string of an items request.

    Parameters
    ----------
    args : werkzeug.datastructures.MultiDict
        ``request.args``.
    properties : sequence of str or None
        Property names of the collection (allowed as filters).  None when the
        store cannot tell cheaply: every other parameter is then passed to the
        store as a filter and the store rejects the unknown ones.

    Raises
    ------
    ApiError
        400 with a hint for anything the client can fix.

    Examples
    --------
    >>> parse_items_query(MultiDict({"bbox": "115,43,117,44.5"}), []).bbox
    (115.0, 43.0, 117.0, 44.5)
    >>> parse_items_query(MultiDict({"limit": "0"}), [])
    Traceback (most recent call last):
    ...
    webmap.core.errors.ApiError: limit='0' is not allowed
    """
    if properties is not None:
        check_known(args, (*ITEMS_PARAMS, *properties))
    for name, values in args.lists():
        if len(values) > 1:
            raise ApiError(f"query parameter {name!r} is given {len(values)} times", 400,
                           hint="give each parameter once", code="bad_parameter",
                           message_zh=f"查询条件 {name!r} 重复出现了 {len(values)} 次",
                           hint_zh="每个条件只写一次")
    crs = args.get("bbox-crs")
    if crs is not None and crs.strip() not in (CRS84, "CRS84", "OGC:CRS84"):
        raise ApiError(f"bbox-crs {crs!r} is not supported", 400,
                       hint=f"this API serves CRS84 only: give bbox in longitude/latitude "
                            f"and leave out bbox-crs or set it to {CRS84}", code="bad_crs",
                       message_zh=f"不支持范围的坐标参考系 {crs!r}",
                       hint_zh="请用经纬度（CRS84）给出范围")
    try:
        bbox = parse_bbox(args.get("bbox"))
    except QueryError as e:
        raise ApiError(str(e), 400, hint="bbox=minLon,minLat,maxLon,maxLat in CRS84, "
                                         "e.g. bbox=115,43,117,44.5", code="bad_parameter",
                       message_zh=e.message_zh, hint_zh=e.hint_zh) from None
    limit = _int_param(args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _int_param(args, "offset", 0, 0, None)
    dt = args.get("datetime")
    if dt is not None and not _DATETIME_RE.match(dt):
        raise ApiError(f"datetime={dt!r} is not an RFC 3339 date-time or interval", 400,
                       hint="e.g. datetime=2023-01-01T00:00:00Z or "
                            "datetime=2023-01-01T00:00:00Z/.. (open interval)",
                       code="bad_parameter", message_zh=f"时间 {dt!r} 的写法无效",
                       hint_zh="例如 2023-01-01 或 2023-01-01/2023-12-31")
    filters = tuple(sorted((k, v) for k, v in args.items() if k not in ITEMS_PARAMS))
    return ItemsQuery(bbox=bbox, limit=limit, offset=offset, filters=filters, datetime=dt)
