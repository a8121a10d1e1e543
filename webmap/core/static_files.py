"""``/static/…``: the pages' scripts, styles and fonts, gzipped and cached.

Flask's own static view sends files as they are, with a short cache lifetime.
The vendored assets are large text (Leaflet, the plugins, the atlas scripts), so
this module replaces that view, keeping its URL and endpoint name (``static``):

- text files are gzipped for clients that accept it, once per file version:
  the compressed body is memoised by ETag in :mod:`webmap.http`'s byte-bounded
  LRU, so later requests cost a ``stat`` and a dictionary lookup;
- every response has a strong ETag (file path, size and modification time) and
  answers ``If-None-Match`` with 304;
- URLs made with ``url_for('static', filename=…)`` carry ``?v=<content hash>``;
  such a request is cached for a year (``immutable``), since a changed file
  gets a new URL.  Unversioned URLs are revalidated every time (``no-cache``), so
  ``flask --app webmap run`` shows edits on reload.

Examples
--------
>>> is_compressible("text/css"), is_compressible("font/woff2")
(True, False)
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import threading
from typing import Any

from flask import Flask, Response, abort, current_app, request
from werkzeug.security import safe_join

from .http import cached_response, make_etag

#: Cache lifetime of a versioned URL (one year, the longest browsers honour).
VERSIONED_MAX_AGE = 365 * 24 * 3600

_TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml",
               "application/xml")


def is_compressible(mimetype: str) -> bool:
    """Whether gzip pays for this type (text does; images and woff2 are compressed already)."""
    return mimetype.startswith(_TEXT_TYPES)


class _Versions:
    """Content hash of each static file, recomputed only when its size or mtime changes."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[int, int, str]] = {}
        self._lock = threading.Lock()

    def get(self, path: str) -> str | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        with self._lock:
            hit = self._data.get(path)
        if hit is not None and hit[:2] == (st.st_size, st.st_mtime_ns):
            return hit[2]
        with open(path, "rb") as fh:
            digest = hashlib.blake2b(fh.read(), digest_size=6).hexdigest()
        with self._lock:
            self._data[path] = (st.st_size, st.st_mtime_ns, digest)
        return digest


_VERSIONS = _Versions()


def _file_path(filename: str) -> str | None:
    folder = current_app.static_folder
    path = safe_join(folder, filename) if folder else None
    return path if path and os.path.isfile(path) else None


def static_file(filename: str) -> Response:
    """The ``static`` endpoint: one file under ``webmap/static`` (gzip, ETag, 304)."""
    path = _file_path(filename)
    if path is None:
        abort(404)
    st = os.stat(path)
    mimetype = mimetypes.guess_type(path)[0] or "application/octet-stream"
    if mimetype.startswith("text/") or mimetype == "application/javascript":
        mimetype += "; charset=utf-8"
    etag = make_etag("static", filename, st.st_size, st.st_mtime_ns)

    def produce() -> bytes:
        with open(path, "rb") as fh:
            return fh.read()

    resp = cached_response(etag, produce, mimetype, compress=is_compressible(mimetype),
                           memo_gzip=True)
    version = request.args.get("v")
    if version and version == _VERSIONS.get(path):
        resp.headers["Cache-Control"] = f"public, max-age={VERSIONED_MAX_AGE}, immutable"
    else:  # unversioned (or stale version): always revalidate, a 304 is cheap
        resp.headers["Cache-Control"] = "no-cache"
    return resp


def _add_version(endpoint: str, values: dict[str, Any]) -> None:
    """``url_defaults`` hook: ``url_for('static', filename=f)`` → ``/static/f?v=<hash>``."""
    if endpoint != "static" or "v" in values or "filename" not in values:
        return
    folder = current_app.static_folder
    path = safe_join(folder, values["filename"]) if folder else None
    version = _VERSIONS.get(path) if path else None
    if version:
        values["v"] = version


def init_app(app: Flask) -> None:
    """Serve ``/static`` through :func:`static_file` (called by :func:`webmap.create_app`)."""
    if "static" not in app.view_functions:
        return
    app.view_functions["static"] = static_file
    app.url_defaults(_add_version)
