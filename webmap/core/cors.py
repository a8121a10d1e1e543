"""Cross-origin reads (CORS): what a web page on another host may fetch from the atlas.

A map page on another intranet host (MapLibre, OpenLayers, Leaflet) may read the OGC
API, the vector tiles, the layer list and features, the exports, the statistics, the
route and sections, and run the read-only overlay analysis; nothing that writes.
:data:`OPEN_ROUTES` is the one list: a path pattern and the methods open on it.
Routes that need the write token are absent from it, so a browser never lets another
origin send them (their preflight gets no ``Access-Control-Allow-*`` headers) and never
lets it read their answers.

The allowed origins are :attr:`webmap.core.config.Settings.cors_origins`
(``ATLAS_CORS_ORIGINS``): ``*`` (the default) answers ``Access-Control-Allow-Origin: *``;
a list of origins echoes the request's ``Origin`` when it is listed (with
``Vary: Origin``) and answers nothing otherwise.  No credentials are ever allowed:
the reads need none, and the write token must not travel cross-origin.

Examples
--------
>>> open_methods("/ogcapi/collections/projects/items")
('GET', 'HEAD')
>>> open_methods("/api/overlay"), open_methods("/api/layers/my_sites")
(('POST',), ())
"""

from __future__ import annotations

import re

from flask import Flask, Response, request

from .config import current_settings

#: (path pattern, methods) open to other origins.  Everything else stays same-origin.
OPEN_ROUTES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(pattern), methods) for pattern, methods in (
        (r"^/ogcapi(/.*)?$", ("GET", "HEAD")),
        (r"^/tiles/.+$", ("GET", "HEAD")),
        (r"^/api/layers$", ("GET", "HEAD")),
        (r"^/api/layers/[^/]+/features$", ("GET", "HEAD")),
        (r"^/api/export/.+$", ("GET", "HEAD")),
        (r"^/api/stats/.+$", ("GET", "HEAD")),
        (r"^/api/route/.+$", ("GET", "HEAD")),
        (r"^/api/sections(/.*)?$", ("GET", "HEAD")),
        # The read-only analyses: an overlay computes on the posted sites, stores nothing.
        (r"^/api/overlay$", ("POST",)),
        # ... and as a background job: submit it, then read its progress and result files.
        (r"^/api/jobs/overlay$", ("POST",)),
        (r"^/api/jobs/[^/]+(/.*)?$", ("GET", "HEAD")),
    ))
#: Request headers a cross-origin page may send (the reads need no others; never
#: ``Authorization``).
ALLOWED_HEADERS: tuple[str, ...] = ("Accept", "Accept-Language", "Content-Language",
                                    "Content-Type", "If-None-Match", "If-Modified-Since")
#: Response headers a cross-origin page may read besides the CORS-safelisted ones.
EXPOSED_HEADERS: tuple[str, ...] = ("ETag", "Content-Crs", "Content-Disposition", "Link",
                                    "Allow")
#: Seconds a browser may keep a preflight answer.
MAX_AGE = 600


def open_methods(path: str) -> tuple[str, ...]:
    """The methods other origins may use on ``path`` (empty: none)."""
    for pattern, methods in OPEN_ROUTES:
        if pattern.match(path):
            return methods
    return ()


def _allowed_origin(origin: str) -> str | None:
    """The ``Access-Control-Allow-Origin`` value for ``origin``, or None."""
    allowed = current_settings().cors_origins
    if "*" in allowed:
        return "*"
    return origin if origin in allowed else None


def _vary(resp: Response, *names: str) -> None:
    for name in names:
        resp.vary.add(name)


def preflight() -> Response | None:
    """``before_request``: answer a CORS preflight for an open route (204), else go on.

    A preflight for a method or a header that is not open gets no CORS headers (the
    ordinary ``OPTIONS`` answer), so the browser does not send the real request.
    """
    if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
        return None
    origin = request.headers.get("Origin")
    wanted = request.headers["Access-Control-Request-Method"].strip().upper()
    methods = open_methods(request.path)
    asked = [h.strip() for h in request.headers.get("Access-Control-Request-Headers",
                                                    "").split(",") if h.strip()]
    allowed_lower = {h.lower() for h in ALLOWED_HEADERS}
    value = _allowed_origin(origin) if origin else None
    if value is None or wanted not in methods or any(h.lower() not in allowed_lower
                                                     for h in asked):
        return None
    resp = Response(status=204)
    resp.headers["Access-Control-Allow-Origin"] = value
    resp.headers["Access-Control-Allow-Methods"] = ", ".join(methods)
    resp.headers["Access-Control-Allow-Headers"] = ", ".join(ALLOWED_HEADERS)
    resp.headers["Access-Control-Max-Age"] = str(MAX_AGE)
    if value != "*":
        _vary(resp, "Origin")
    _vary(resp, "Access-Control-Request-Method", "Access-Control-Request-Headers")
    return resp


def add_cors_headers(resp: Response) -> Response:
    """``after_request``: let an allowed origin read the answer of an open route.

    Error answers of open routes (400, 404 …) are readable too, so a page can show
    the error body; a method that is not open (a write) gets nothing.
    """
    if "Access-Control-Allow-Origin" in resp.headers:
        return resp  # a preflight answered above
    methods = open_methods(request.path)
    if not methods:
        return resp
    value = None
    origin = request.headers.get("Origin")
    if request.method in methods:
        value = _allowed_origin(origin) if origin else (
            "*" if "*" in current_settings().cors_origins else None)
    if value is not None:
        resp.headers["Access-Control-Allow-Origin"] = value
        resp.headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
    if "*" not in current_settings().cors_origins:
        _vary(resp, "Origin")  # caches must not hand one origin's answer to another
    return resp


def init_app(app: Flask) -> None:
    """Install the CORS hooks on ``app`` (called by :func:`webmap.create_app`)."""
    app.before_request(preflight)
    app.after_request(add_cors_headers)
