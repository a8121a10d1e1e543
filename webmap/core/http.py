"""Cacheable responses: strong ETags, 304 on revalidation, gzip for text and tiles.

Every layer response is a pure function of (layer version, request parameters),
so its ETag is a hash of those, known before any encoding work: a revalidation
costs a dictionary lookup.  Bodies larger than a packet are gzip-compressed
when the client accepts it (level 5: most of the gain of level 9 at a third of
the CPU).

Examples
--------
>>> make_etag("admin__v1", "zoom=5")
'"3f9b291bb3c86dbd"'
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import Response, request

_MIN_GZIP = 1024


def make_etag(*parts: object) -> str:
    """A strong ETag (quoted) from the parts that determine a response."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8)
    return f'"{digest.hexdigest()}"'


def not_modified(etag: str) -> bool:
    """Whether the request's If-None-Match already names ``etag``."""
    header = request.headers.get("If-None-Match", "")
    if not header:
        return False
    if header.strip() == "*":
        return True
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return etag in tags


def accepts_gzip() -> bool:
    """Whether the client accepts gzip-encoded responses."""
    return "gzip" in request.headers.get("Accept-Encoding", "").lower()


def cached_response(
    etag: str,
    produce: Callable[[], bytes],
    mimetype: str,
    *,
    max_age: int = 60,
    status: int = 200,
    compress: bool = True,
    memo_gzip: bool = False,
) -> Response:
    """Answer 304 if the client has ``etag``, else ``produce()`` the body (gzipped if accepted).

    Parameters
    ----------
    etag : str
        Strong ETag of the response (see :func:`make_etag`).
    produce : callable
        Returns the body bytes; only called when the body is needed.
    mimetype : str
        Content type.
    max_age : int
        ``Cache-Control: max-age`` seconds; clients revalidate after that.
    status : int
        Status of a full response.
    compress : bool
        Allow gzip for this response.
    memo_gzip : bool
        Keep the gzipped body in a small in-process LRU keyed by ETag and serve it
        from there next time (for bodies that depend on nothing but the ETag's
        parts, such as tiles; not for bodies holding the request's host).
    """
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}",
               "Vary": "Accept-Encoding"}
    if not_modified(etag):
        return Response(status=304, headers=headers)
    gzip_ok = compress and accepts_gzip()
    if gzip_ok and memo_gzip:
        zipped = _GZIP_MEMO.get(etag)
        if zipped is not None:
            headers["Content-Encoding"] = "gzip"
            return Response(zipped, status=status, mimetype=mimetype, headers=headers)
    body = produce()
    if gzip_ok and len(body) >= _MIN_GZIP:
        body = gzip.compress(body, compresslevel=5, mtime=0)
        headers["Content-Encoding"] = "gzip"
        if memo_gzip:
            _GZIP_MEMO.put(etag, body)
    return Response(body, status=status, mimetype=mimetype, headers=headers)


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
