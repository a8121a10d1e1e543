"""Security headers on every response, and the write key.

Headers
    Every HTML page gets a Content-Security-Policy that allows scripts from the app
    itself and, inline, only the scripts the server wrote into the page: each one
    carries the response's nonce, a fresh random value per response
    (``script-src 'self' 'nonce-…'``).  A script injected into the page's body — a
    feature property or layer title that escaped its escaping, a query string echoed
    unescaped — has no nonce and does not run; neither do inline event handlers
    (``onerror=…``), which no nonce can allow.  (Hashing every inline script found in
    the rendered body, as before, would have allowed an injected one too.)

    Pages are rendered once and kept (:mod:`webmap.pages.map_pages`): the server's own
    ``<script>`` tags are rendered with :func:`nonce_attribute`, a placeholder that is a
    secret of this process, and :func:`with_nonce` puts a new nonce in its place for each
    response.  No data can carry the placeholder into the page, since nobody outside the
    process ever sees it.

    Styles keep ``'unsafe-inline'``: Leaflet and Folium position every marker and popup
    with ``style`` attributes, and a style cannot run code.  Images may come from the app
    and the tile hosts of the configured basemaps.  Other responses (JSON, files, and HTML
    without a nonce) allow no inline script at all; JSON and files get
    ``default-src 'none'``.  All get ``X-Content-Type-Options: nosniff``,
    ``Referrer-Policy`` and ``X-Frame-Options``.

    The referrer policy is ``strict-origin-when-cross-origin`` (the browsers'
    default), not ``no-referrer``: the OpenStreetMap tile servers refuse tile
    requests that carry no Referer, and only the origin is sent.

Write key
    Writes (the blueprint :mod:`webmap.api.layer_writes`) need
    ``Authorization: Bearer <token>`` equal to ``ATLAS_WRITE_TOKEN``, compared in
    constant time (:func:`hmac.compare_digest`).  Without the variable every write
    is refused with 403 and a hint; a missing or wrong token gets 401 with
    ``WWW-Authenticate``.  Reads stay public.

Examples
--------
>>> page_policy([], "abc").split("; ")[1]
"script-src 'self' 'nonce-abc' 'report-sample'"
>>> page_policy([]).split("; ")[1]  # no nonce: no inline script may run
"script-src 'self' 'report-sample'"
>>> tile_hosts([("https://tiles.example.org/{z}/{x}/{y}.png", "")])[0]
'https://tiles.example.org'
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from urllib.parse import urlparse

from flask import Flask, Response, current_app, g, has_request_context, request

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

#: Stands for the nonce in rendered pages until a response fills it in: random per
#: process and never sent, so no data can carry it into a page.
_PLACEHOLDER = "atlas-nonce-" + secrets.token_hex(16)
_G_KEY = "atlas_csp_nonce"


def nonce_attribute() -> str:
    """`` nonce="…"`` for a ``<script>`` tag the server writes into a page it renders.

    The value is a placeholder that :func:`with_nonce` replaces per response, so the
    rendered page can be kept and served many times.

    Examples
    --------
    >>> with_nonce(f"<script{nonce_attribute()}>go()</script>".encode(), "n0nce")
    b'<script nonce="n0nce">go()</script>'
    """
    return f' nonce="{_PLACEHOLDER}"'


def with_nonce(html: bytes, nonce: str | None = None) -> bytes:
    """``html`` with this response's nonce in its scripts' nonce attributes.

    Called once per response of a page rendered with :func:`nonce_attribute`; the nonce
    (new and random unless given) is kept for :func:`add_security_headers`, which lists
    it in the page's policy.
    """
    nonce = nonce or secrets.token_urlsafe(18)
    if has_request_context():  # the policy of this response names it
        setattr(g, _G_KEY, nonce)
    return html.replace(_PLACEHOLDER.encode(), nonce.encode())


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


def page_policy(img_hosts: Iterable[str], nonce: str | None = None) -> str:
    """The Content-Security-Policy of an HTML page whose own inline scripts carry ``nonce``.

    Examples
    --------
    >>> p = page_policy(["https://tile.openstreetmap.org"], "abc")
    >>> p.split("; ")[3]
    "img-src 'self' data: blob: https://tile.openstreetmap.org"
    """
    # 'report-sample': a violation report (and the browser's event) quotes the start of
    # the script it blocked, so an operator can tell what was injected where.
    script_src = ["'self'"] + ([f"'nonce-{nonce}'"] if nonce else []) + ["'report-sample'"]
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
        # Only a page that went through with_nonce() in this request may run inline
        # scripts, and only those the server wrote into it.
        headers["Content-Security-Policy"] = page_policy(
            app.extensions["atlas_img_hosts"], g.get(_G_KEY))
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
    app.after_request(add_security_headers)
