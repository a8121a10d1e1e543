"""Security headers on every response, and the write key.

Headers
    Every HTML page gets a Content-Security-Policy that allows only the app
    itself, plus the tile hosts of the configured basemaps for images.  Folium writes its map as
    inline ``<script>`` blocks, so rather than ``'unsafe-inline'`` the policy lists
    the SHA-256 hash of each inline script the page actually carries (computed
    from the response body once per distinct page and cached); browsers that know
    hashes ignore the ``'unsafe-inline'`` kept beside them for very old ones.
    Inline event-handler attributes (``onclick=…``) are allowed by hash the same
    way (``'unsafe-hashes'``).  Styles keep ``'unsafe-inline'``: Leaflet and Folium
    position every marker and popup with ``style`` attributes, and a style cannot
    run code.  Other responses (JSON, files) get ``default-src 'none'``.  All get
    ``X-Content-Type-Options: nosniff``, ``Referrer-Policy`` and ``X-Frame-Options``.

    The referrer policy is ``strict-origin-when-cross-origin`` (the browsers'
    default), not ``no-referrer``: the OpenStreetMap tile servers refuse tile
    requests that carry no Referer, and only the origin is sent.

Write key
    Writes (the blueprint :mod:`webmap.layers_write`) need
    ``Authorization: Bearer <token>`` equal to ``ATLAS_WRITE_TOKEN``, compared in
    constant time (:func:`hmac.compare_digest`).  Without the variable every write
    is refused with 403 and a hint; a missing or wrong token gets 401 with
    ``WWW-Authenticate``.  Reads stay public.

Examples
--------
>>> script_hashes('<script src="/static/a.js"></script><script>var a = 1;</script>')
["'sha256-+dZ6udsWxNVoGfScAq7t5IIF5UJb4F6RhjbN6oe1p4w='"]
>>> tile_hosts([("https://tiles.example.org/{z}/{x}/{y}.png", "")])[0]
'https://tiles.example.org'
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import html as html_mod
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from urllib.parse import urlparse

from flask import Flask, Response, current_app, request

from .config import current_settings
from .errors import error_response

ENABLE_WRITES_HINT = (
    "writes are switched off on this server: start it with ATLAS_WRITE_TOKEN set to a long "
    "random secret (e.g. ATLAS_WRITE_TOKEN=$(python -c 'import secrets; "
    "print(secrets.token_urlsafe(32))') make run) and send the header "
    "'Authorization: Bearer <that secret>' with every PUT/POST/DELETE"
)
ENABLE_WRITES_HINT_ZH = ("请服务器管理员设置写入密钥（环境变量 ATLAS_WRITE_TOKEN）后重启服务，"
                         "写入时附上该密钥")

_SCRIPT_RE = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_SRC_RE = re.compile(r"\bsrc\s*=", re.IGNORECASE)
# Inline event handlers: on<event>="…" or '…' inside a tag.
_HANDLER_ATTR_RE = re.compile(r"\son[a-z]+\s*=\s*(\"[^\"]*\"|'[^']*')", re.DOTALL)
_TAG_RE = re.compile(r"<[a-zA-Z][^>]*>", re.DOTALL)


def _sha256_source(text: str) -> str:
    # Browsers hash the script text after the HTML parser normalised newlines.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def script_hashes(html: str) -> list[str]:
    """CSP hash sources of the inline ``<script>`` blocks of ``html``, in order, unique.

    Examples
    --------
    >>> script_hashes("<p>no scripts</p>")
    []
    """
    out: dict[str, None] = {}
    for attrs, body in _SCRIPT_RE.findall(html):
        if _SRC_RE.search(attrs):
            continue
        out[_sha256_source(body)] = None
    return list(out)


def handler_hashes(html: str) -> list[str]:
    """CSP hash sources of inline event-handler attributes (``onclick="…"``).

    Only entities that HTML allows in attribute values and that a handler is
    likely to contain (``&quot;``, ``&#39;``, ``&amp;``, ``&lt;``, ``&gt;``)
    are decoded before hashing, as the browser does.

    Examples
    --------
    >>> len(handler_hashes('<button onclick="go(1)">go</button><a onclick="go(1)">'))
    1
    """
    out: dict[str, None] = {}
    # Script bodies may contain strings that look like tags: skip them.
    stripped = _SCRIPT_RE.sub("", html)
    for tag in _TAG_RE.findall(stripped):
        for value in _HANDLER_ATTR_RE.findall(tag):
            out[_sha256_source(html_mod.unescape(value[1:-1]))] = None
    return list(out)


def _origins(url: str, subdomains: str) -> list[str]:
    """Origins (``scheme://host[:port]``) a tile URL template can resolve to.

    Examples
    --------
    >>> _origins("https://webrd0{s}.is.autonavi.com/appmaptile?x={x}", "12")
    ['https://webrd01.is.autonavi.com', 'https://webrd02.is.autonavi.com']
    """
    url = "https:" + url if url.startswith("//") else url
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return []
    host = parsed.netloc.rsplit("@", 1)[-1]
    hosts = [host.replace("{s}", s) for s in subdomains] if "{s}" in host else [host]
    return [f"{parsed.scheme}://{h}" for h in hosts if "{" not in h]


def tile_hosts(tile_urls: Iterable[tuple[str, str]]) -> list[str]:
    """Origins images may come from: every tile host of the basemaps the pages offer.

    ``tile_urls`` are ``(url template, subdomains)`` pairs of the basemaps (defined once,
    in :func:`webmap.pages.maps.basemaps.basemaps`); ``{s}`` subdomains are expanded,
    so the list names hosts, not wildcards.

    Examples
    --------
    >>> tile_hosts([("http://tiles.lan:8080/{z}/{x}/{y}.png", "abc"),
    ...             ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "ab")])
    ['http://tiles.lan:8080', 'https://a.tile.example.org', 'https://b.tile.example.org']
    """
    hosts: list[str] = []
    for url, subdomains in tile_urls:
        if url:
            hosts += _origins(url, subdomains)
    return list(dict.fromkeys(hosts))


def page_policy(img_hosts: Iterable[str], scripts: Iterable[str] = (),
                handlers: Iterable[str] = ()) -> str:
    """The Content-Security-Policy of an HTML page.

    Examples
    --------
    >>> p = page_policy(["https://tile.openstreetmap.org"], ["'sha256-abc'"])
    >>> p.split("; ")[1]
    "script-src 'self' 'sha256-abc' 'unsafe-inline'"
    >>> page_policy([]).split("; ")[1]  # no inline script: none may run
    "script-src 'self'"
    """
    scripts = list(scripts)
    handlers = list(handlers)
    script_src = ["'self'", *scripts, *handlers]
    if handlers:
        script_src.append("'unsafe-hashes'")
    if any(s.startswith("'sha256-") for s in script_src):
        # Ignored by every browser that understands hashes; kept only so that
        # CSP-1 browsers still run the page.  Without a hash it would open the door.
        script_src.append("'unsafe-inline'")
    return "; ".join([
        "default-src 'self'",
        "script-src " + " ".join(script_src),
        "style-src 'self' 'unsafe-inline'",
        "img-src " + " ".join(["'self'", "data:", "blob:", *img_hosts]),
        "font-src 'self' data:",
        "connect-src 'self'",
        "frame-src 'self' data:",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ])


#: Policy of every response that is not an HTML page (JSON, exports, tiles, static files).
DATA_POLICY = "default-src 'none'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
#: Policy of scripts: a script started as a web worker (MapLibre GL's worker) runs under
#: its own response's policy, and must fetch the vector tiles from the app.
SCRIPT_POLICY = ("default-src 'none'; script-src 'self'; connect-src 'self'; "
                 "frame-ancestors 'self'; base-uri 'none'; form-action 'none'")
_SCRIPT_TYPES = ("application/javascript", "text/javascript")

_FALLBACK_SCRIPTS = ("'unsafe-inline'",)


class _HashCache:
    """Script hashes per distinct page body (bounded LRU): pages repeat, bodies are hashed once."""

    def __init__(self, size: int = 256) -> None:
        self._data: OrderedDict[bytes, tuple[list[str], list[str]]] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, body: bytes) -> tuple[list[str], list[str]]:
        key = hashlib.blake2b(body, digest_size=16).digest()
        with self._lock:
            hit = self._data.get(key)
            if hit is not None:
                self._data.move_to_end(key)
                return hit
        html = body.decode("utf-8", "replace")
        value = (script_hashes(html), handler_hashes(html))
        with self._lock:
            self._data[key] = value
            while len(self._data) > self._size:
                self._data.popitem(last=False)
        return value


def _html_body(resp: Response) -> bytes | None:
    """The decoded body of a buffered HTML response, or None if it cannot be read."""
    if resp.is_streamed or resp.direct_passthrough:
        return None
    body = resp.get_data()
    if resp.headers.get("Content-Encoding", "").lower() == "gzip":
        try:
            body = gzip.decompress(body)
        except OSError:
            return None
    return body


def add_security_headers(resp: Response) -> Response:
    """``after_request`` hook: CSP and the other security headers on ``resp``."""
    app = current_app
    headers = resp.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    if "Content-Security-Policy" in headers:
        return resp  # a handler chose its own policy
    if resp.mimetype == "text/html" and resp.status_code != 304:
        body = _html_body(resp)
        if body is None:
            scripts, handlers = list(_FALLBACK_SCRIPTS), []
        else:
            scripts, handlers = app.extensions["atlas_csp_cache"].get(body)
        headers["Content-Security-Policy"] = page_policy(
            app.extensions["atlas_img_hosts"], scripts, handlers)
    elif resp.status_code != 304:
        headers["Content-Security-Policy"] = (SCRIPT_POLICY if resp.mimetype in _SCRIPT_TYPES
                                              else DATA_POLICY)
    return resp


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def require_write_token() -> Response | None:
    """``before_request`` guard of write endpoints: None when allowed, else a 403/401 answer.

    Both sides are compared as UTF-8 bytes with :func:`hmac.compare_digest`, so the
    time taken does not reveal how much of a guess was right (and a non-ASCII guess
    is simply wrong, not an error).
    """
    expected = current_settings().write_token
    if not expected:
        return error_response("writes are disabled on this server", 403, ENABLE_WRITES_HINT,
                              code="writes_disabled", message_zh="本服务器未开启数据写入",
                              hint_zh=ENABLE_WRITES_HINT_ZH)
    given = _bearer_token()
    if given is None or not hmac.compare_digest(given.encode("utf-8", "surrogatepass"),
                                                str(expected).encode("utf-8")):
        wrong = given is not None
        resp = error_response(
            "the write token is wrong" if wrong else "this write needs the write token",
            401,
            "send 'Authorization: Bearer <token>' with the value of ATLAS_WRITE_TOKEN "
            "that the server was started with; reads need no token",
            code="unauthorized",
            message_zh="写入密钥不正确" if wrong else "这项写入需要写入密钥",
            hint_zh="请输入服务器管理员提供的写入密钥；浏览数据不需要密钥",
        )
        challenge = 'Bearer realm="atlas"'
        if wrong:
            challenge += ', error="invalid_token"'
        resp.headers["WWW-Authenticate"] = challenge
        return resp
    return None


def init_app(app: Flask, img_hosts: Iterable[str]) -> None:
    """Install the security headers on ``app`` (called by :func:`webmap.create_app`).

    ``img_hosts`` are the origins map tiles come from (:func:`tile_hosts`).
    """
    app.extensions["atlas_img_hosts"] = list(img_hosts)
    app.extensions["atlas_csp_cache"] = _HashCache()
    app.after_request(add_security_headers)
