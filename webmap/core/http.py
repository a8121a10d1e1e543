"""Cacheable responses: strong ETags, 304 on revalidation, gzip for text and tiles.

Every layer response is a pure function of (layer version, request parameters),
so its ETag is a hash of those, known before any encoding work: a revalidation
costs a dictionary lookup.  Bodies larger than a packet are gzip-compressed
when the client accepts it (level 5: most of the gain of level 9 at a third of
the CPU).

Content coding follows RFC 9110 §12.5.3 (see :func:`negotiate_encoding`):
q-values are honoured, ``*`` stands for any coding not listed, ``x-gzip`` is
``gzip``.  The gzip body is a different representation from the identity body,
so its strong ETag carries a ``-gzip`` suffix (§8.8.3: a strong validator names
exactly one sequence of bytes); ``If-None-Match`` is compared weakly (§13.1.2)
against the ETag of the representation this request would get.

Examples
--------
>>> make_etag("admin__v1", "zoom=5")
'"3f9b291bb3c86dbd"'
>>> coded_etag('"3f9b291bb3c86dbd"', "gzip")
'"3f9b291bb3c86dbd-gzip"'
>>> negotiate_encoding("gzip;q=0, identity")
'identity'
"""

from __future__ import annotations

import gzip
import hashlib
import re
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator

from flask import Response, request

_MIN_GZIP = 1024

#: Cache-Control of a response whose URL names the layer version it shows (``?v=``, see
#: :func:`webmap.core.listing.version_tag`): kept a year without asking again, since a
#: new version comes under a new URL.
IMMUTABLE = "public, max-age=31536000, immutable"
#: Cache-Control of a response that may change with any write (the layer list, features
#: at an unversioned URL, statistics, exports): kept, but revalidated before every use —
#: the ETag is known before any work, so the 304 costs a registry lookup.
REVALIDATE = "no-cache"

#: One element of ``Accept-Encoding``: a coding and optional parameters (only ``q`` counts).
_CODING = re.compile(r"^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*((?:;\s*[^;]*)*)$")
#: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )  (RFC 9110 §12.4.2)
_QVALUE = re.compile(r"^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$")
#: An entity tag in If-None-Match: optional weakness indicator, then a quoted opaque tag.
_ENTITY_TAG = re.compile(r'\s*(W/)?("[^"]*")\s*(?:,|$)')


def make_etag(*parts: object) -> str:
    """A strong ETag (quoted) from the parts that determine a response."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8)
    return f'"{digest.hexdigest()}"'


def coded_etag(etag: str, coding: str) -> str:
    """The ETag of ``etag``'s representation sent with content coding ``coding``.

    The identity body keeps ``etag``; any other coding appends ``-<coding>``
    inside the quotes, so the two bodies never share a strong validator.

    Examples
    --------
    >>> coded_etag('"abc"', "identity"), coded_etag('"abc"', "gzip")
    ('"abc"', '"abc-gzip"')
    """
    if coding == "identity":
        return etag
    return f'{etag[:-1]}-{coding}"'


def parse_accept_encoding(header: str) -> dict[str, float]:
    """``Accept-Encoding`` as {coding: q}, codings lower-cased, ``x-gzip`` read as ``gzip``.

    Elements whose ``q`` is not a valid qvalue are dropped (a malformed preference
    is no preference); when a coding is listed twice the first wins.

    Examples
    --------
    >>> parse_accept_encoding("GZIP;q=0.5, br, *;Q=0, identity;q=2")
    {'gzip': 0.5, 'br': 1.0, '*': 0.0}
    >>> parse_accept_encoding("x-gzip")
    {'gzip': 1.0}
    """
    prefs: dict[str, float] = {}
    for element in header.split(","):
        m = _CODING.match(element)
        if m is None:
            continue
        coding = m.group(1).lower()
        coding = "gzip" if coding == "x-gzip" else coding
        q = 1.0
        ok = True
        for param in m.group(2).split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                ok = bool(_QVALUE.match(value))
                q = float(value) if ok else 0.0
        if ok and coding not in prefs:
            prefs[coding] = q
    return prefs


def negotiate_encoding(header: str | None, compress: bool = True) -> str:
    """The content coding to send, ``"gzip"`` or ``"identity"``, per RFC 9110 §12.5.3.

    Parameters
    ----------
    header : str or None
        The request's ``Accept-Encoding`` (None when absent).
    compress : bool
        Whether gzip is on offer for this response at all.

    Notes
    -----
    - No header: identity.  The RFC lets a server send any coding then, but a
      client that says nothing (curl, scripts) may not decode gzip.
    - An empty header: identity only.
    - gzip's weight is its own q, else that of ``*``, else 0; identity's is its
      own q, else that of ``*``, else "acceptable, least preferred".
    - gzip is sent when its weight is positive and not below identity's (ties go
      to the smaller body).
    - When no coding on offer is acceptable — ``identity;q=0`` or ``*;q=0`` with
      gzip refused or not on offer — identity is sent anyway, not 406: the RFC's
      SHOULD is "a response without any content coding", and 406 was dropped
      from it on purpose since RFC 7231 (httpwg/http-core#980).

    Examples
    --------
    >>> [negotiate_encoding(h) for h in (None, "", "gzip", "gzip;q=0", "*", "*;q=0")]
    ['identity', 'identity', 'gzip', 'identity', 'gzip', 'identity']
    >>> [negotiate_encoding(h) for h in ("gzip;q=0.5, identity", "gzip;q=0.5, br",
    ...                                  "br, *;q=0", "identity;q=0", "gzip;q=0, *")]
    ['identity', 'gzip', 'identity', 'identity', 'identity']
    >>> negotiate_encoding("gzip, deflate, br", compress=False)
    'identity'
    """
    if header is None or not compress:
        return "identity"
    gzip_q, identity_q = _weights(header)
    return "gzip" if gzip_q > 0 and gzip_q >= identity_q else "identity"


def identity_acceptable(header: str | None) -> bool:
    """Whether ``Accept-Encoding`` leaves the identity coding acceptable (RFC 9110 §12.5.3).

    Examples
    --------
    >>> [identity_acceptable(h) for h in (None, "", "gzip", "identity;q=0, gzip", "*;q=0",
    ...                                   "*;q=0, identity")]
    [True, True, True, False, False, True]
    """
    return header is None or _weights(header)[1] > 0


def _weights(header: str) -> tuple[float, float]:
    """(gzip, identity) weights of a present ``Accept-Encoding``; unlisted identity ranks last."""
    prefs = parse_accept_encoding(header)
    star = prefs.get("*")
    gzip_q = prefs.get("gzip", star if star is not None else 0.0)
    identity_q = prefs.get("identity", star if star is not None else 0.0005)
    return gzip_q, identity_q


def _request_tags() -> tuple[bool, set[str]]:
    """(``If-None-Match: *``, the opaque tags listed), weakness indicators dropped."""
    header = request.headers.get("If-None-Match", "")
    if header.strip() == "*":
        return True, set()
    return False, {m.group(2) for m in _ENTITY_TAG.finditer(header)}


def not_modified(etag: str, compress: bool = True) -> str | None:
    """The ETag a 304 answers with when the request's If-None-Match already names ``etag``.

    ``etag`` is the response's base (identity) ETag.  The comparison is weak
    (``W/"x"`` matches ``"x"``, RFC 9110 §13.1.2) and against the representation
    this request may be given: the one its ``Accept-Encoding`` selects
    (``"x-gzip"`` for gzip), or the identity one ``"x"`` as long as the client
    accepts identity — a cache that stored the identity body may keep using it.
    The 304 carries the tag that matched, so the cache knows which stored
    response it freshens (RFC 9111 §4.3.4).  None when nothing matched.

    Parameters
    ----------
    etag : str
        The base strong ETag (:func:`make_etag`).
    compress : bool
        Whether gzip is on offer for this response (as in :func:`cached_response`).
    """
    star, tags = _request_tags()
    accept = request.headers.get("Accept-Encoding")
    selected = coded_etag(etag, negotiate_encoding(accept, compress))
    if star or selected in tags:
        return selected
    if etag in tags and identity_acceptable(accept):
        return etag
    return None


def accepts_gzip() -> bool:
    """Whether this request's ``Accept-Encoding`` selects gzip (:func:`negotiate_encoding`)."""
    return negotiate_encoding(request.headers.get("Accept-Encoding")) == "gzip"


def cached_response(
    etag: str,
    produce: Callable[[], bytes],
    mimetype: str,
    *,
    max_age: int = 60,
    cache_control: str | None = None,
    status: int = 200,
    compress: bool = True,
    memo_gzip: bool = False,
) -> Response:
    """Answer 304 if the client has ``etag``, else ``produce()`` the body (gzipped if accepted).

    Parameters
    ----------
    etag : str
        Strong ETag of the identity response (see :func:`make_etag`); a gzipped
        body is sent with ``coded_etag(etag, "gzip")``.
    produce : callable
        Returns the body bytes; only called when the body is needed.
    mimetype : str
        Content type.
    max_age : int
        ``Cache-Control: max-age`` seconds; clients revalidate after that.
    cache_control : str, optional
        The whole ``Cache-Control`` instead (:data:`IMMUTABLE`, :data:`REVALIDATE`).
    status : int
        Status of a full response.
    compress : bool
        Allow gzip for this response.
    memo_gzip : bool
        Keep the gzipped body in a small in-process LRU keyed by ETag and serve it
        from there next time (for bodies that depend on nothing but the ETag's
        parts, such as tiles; not for bodies holding the request's host).

    Notes
    -----
    Bodies under 1 KB go out as identity (gzip would not save a packet) unless
    the client refused identity (``identity;q=0``) and accepts gzip.
    """
    headers = {"Cache-Control": cache_control or f"public, max-age={max_age}",
               "Vary": "Accept-Encoding"}
    matched = not_modified(etag, compress)
    if matched:
        return Response(status=304, headers={"ETag": matched, **headers})
    accept = request.headers.get("Accept-Encoding")
    gzip_ok = negotiate_encoding(accept, compress) == "gzip"
    gzip_etag = coded_etag(etag, "gzip")
    if gzip_ok and memo_gzip:
        zipped = _GZIP_MEMO.get(gzip_etag)
        if zipped is not None:
            headers.update({"ETag": gzip_etag, "Content-Encoding": "gzip"})
            return Response(zipped, status=status, mimetype=mimetype, headers=headers)
    body = produce()
    large = len(body) >= _MIN_GZIP
    if gzip_ok and (large or not identity_acceptable(accept)):
        body = gzip.compress(body, compresslevel=5, mtime=0)
        headers.update({"ETag": gzip_etag, "Content-Encoding": "gzip"})
        if memo_gzip and large:  # not small ones: an empty tile is answered 204 by its caller
            _GZIP_MEMO.put(gzip_etag, body)
    else:
        headers["ETag"] = etag
    return Response(body, status=status, mimetype=mimetype, headers=headers)


def streamed_response(etag: str, chunks: Callable[[], Iterator[bytes]], mimetype: str, *,
                      max_age: int = 60, cache_control: str | None = None) -> Response:
    """:func:`cached_response` for a body made a chunk at a time and never held whole.

    The ETag is known before the body (it names the data's version and the request), so
    a revalidation still answers 304 without producing anything; otherwise the chunks
    are sent as they come, gzipped on the fly (one deflate stream, flushed per chunk)
    when the client accepts it.  No Content-Length: the size is not known in advance.
    """
    headers = {"Cache-Control": cache_control or f"public, max-age={max_age}",
               "Vary": "Accept-Encoding"}
    matched = not_modified(etag, True)
    if matched:
        return Response(status=304, headers={"ETag": matched, **headers})
    if negotiate_encoding(request.headers.get("Accept-Encoding"), True) == "gzip":
        headers.update({"ETag": coded_etag(etag, "gzip"), "Content-Encoding": "gzip"})

        def body() -> Iterator[bytes]:
            z = zlib.compressobj(5, zlib.DEFLATED, 31)  # wbits 31: a gzip member
            for chunk in chunks():
                out = z.compress(chunk)
                if out:
                    yield out
            yield z.flush()

        return Response(body(), mimetype=mimetype, headers=headers)
    headers["ETag"] = etag
    return Response(chunks(), mimetype=mimetype, headers=headers)


class ByteLRU:
    """A thread-safe LRU of response bodies (tiles, gzipped bodies), bounded by total bytes.

    Examples
    --------
    >>> cache = ByteLRU(max_bytes=150)
    >>> cache.put(("v1", 0, 0, 0), b"a" * 100)
    >>> cache.put(("v1", 1, 0, 0), b"b" * 100)  # evicts the first
    >>> cache.get(("v1", 0, 0, 0)) is None, len(cache.get(("v1", 1, 0, 0)))
    (True, 100)
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        """The cached body, marked as recently used, or None."""
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key: Hashable, body: bytes) -> None:
        """Keep ``body``, evicting the least recently used bodies beyond the budget."""
        size = max(len(body), 64)  # an empty body still costs its key
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.bytes -= max(len(old), 64)
            self._items[key] = body
            self.bytes += size
            while self.bytes > self.max_bytes:
                _, evicted = self._items.popitem(last=False)
                self.bytes -= max(len(evicted), 64)

    def __len__(self) -> int:
        return len(self._items)


#: Gzipped bodies of ``memo_gzip`` responses (32 MB): compressing a tile costs
#: more than computing it once it is cached.
_GZIP_MEMO = ByteLRU(32 * 1024 * 1024)
