"""One error body for every JSON error, in both languages.

Every error a person can fix — raised by the web layer (:class:`ApiError`), the
reader (:class:`geo.errors.GeoInputError`) or the store (:mod:`layers.errors`) — is
answered with::

    {"error": "...", "error_zh": "...", "code": "...", "status": 4xx,
     "hint": "...", "hint_zh": "..."}

``error``/``hint`` are precise English for programs (they may name parameters);
``error_zh``/``hint_zh`` the Chinese texts; ``code`` a stable identifier from
:data:`geo.errors.MESSAGES` that pages translate into a sentence for a person in the
page's language and programs switch on.  Store errors get their status from
:data:`STORE_STATUS`; an unexpected failure on a JSON route is a 500 in the same shape.

Examples
--------
>>> e = ApiError("no layer called 'x'", 404, hint="GET /api/layers lists the layers",
...              code="layer_not_found")
>>> e.status, e.code, e.message_zh
(404, 'layer_not_found', '没有这个图层。')
>>> sorted(error_body(e, 404))
['code', 'error', 'error_zh', 'hint', 'hint_zh', 'status']
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from geo.errors import MESSAGES, ExplainedError, GeoInputError
from layers.errors import (
    CatalogLayerError,
    JobNotDone,
    JobNotFound,
    JobQueueFull,
    LayerExists,
    LayerNameError,
    LayerNotFound,
    NotSupported,
    QueryError,
    StoreError,
    StoreFull,
    StoreReadOnly,
    TooManyJobs,
    UnusableLayer,
    VersionConflict,
    VersionNotFound,
)

#: The HTTP status of each store error (most specific class first).
STORE_STATUS: tuple[tuple[type[StoreError], int], ...] = (
    (LayerNameError, 400),
    (QueryError, 400),
    (LayerNotFound, 404),
    (JobNotFound, 404),
    (JobNotDone, 409),
    (TooManyJobs, 429),
    (JobQueueFull, 503),
    (VersionNotFound, 404),
    (LayerExists, 409),
    (VersionConflict, 409),
    (CatalogLayerError, 409),
    (UnusableLayer, 422),
    (NotSupported, 501),
    (StoreFull, 507),  # Insufficient Storage (RFC 4918 §11.5): the write did not fit
    (StoreReadOnly, 503),  # with Retry-After: writes are paused, not refused for good
    (StoreError, 503),
)

#: Error code and Chinese hint of the HTTP errors Werkzeug raises itself.
_HTTP_CODES: dict[int, tuple[str, str, str]] = {
    400: ("bad_request", "", ""),
    404: ("not_found", "see /ogcapi for the API and / for the map",
          "接口说明见 /ogcapi，地图见首页 /"),
    405: ("method_not_allowed", "check the HTTP method: GET reads, PUT/POST/DELETE write",
          "请检查请求方法：GET 用于读取，PUT/POST/DELETE 用于写入"),
    413: ("upload_too_large",
          "the upload is larger than the limit (ATLAS_MAX_UPLOAD_MB, default 50 MB): "
          "split it, zip it or simplify it",
          "文件超过了上传大小限制：请拆分、压缩或简化后再上传"),
    415: ("unsupported_media_type", "", ""),
}


class ApiError(ExplainedError):
    """An error answered as JSON with ``status``.

    Parameters
    ----------
    message : str
        What went wrong (English, precise).
    status : int
        HTTP status (4xx for the caller's mistakes).
    hint : str
        How to fix it (English).
    code, message_zh, hint_zh : str
        See :class:`geo.errors.ExplainedError`.
    """

    def __init__(self, message: str, status: int = 400, hint: str = "", *,
                 code: str | None = None, message_zh: str = "", hint_zh: str = "") -> None:
        super().__init__(message, hint, code=code or _default_code(status),
                         message_zh=message_zh, hint_zh=hint_zh)
        self.status = status


def _default_code(status: int) -> str:
    return {404: "not_found", 409: "layer_exists", 413: "upload_too_large",
            415: "unsupported_media_type", 422: "unprocessable", 401: "unauthorized",
            403: "writes_disabled", 501: "not_supported", 503: "store_unavailable"}.get(
                status, "bad_parameter" if status == 400 else "bad_request")


def status_of(error: ExplainedError) -> int:
    """The HTTP status of an explained error."""
    if isinstance(error, (ApiError, GeoInputError)):
        return error.status
    for cls, status in STORE_STATUS:
        if isinstance(error, cls):
            return status
    return 400


def error_body(error: ExplainedError, status: int) -> dict[str, Any]:
    """The six keys of the error body, in their order."""
    return {"error": error.message, "error_zh": error.message_zh, "code": error.code,
            "status": status, "hint": error.hint, "hint_zh": error.hint_zh}


def error_response(message: str, status: int, hint: str = "", *, code: str | None = None,
                   message_zh: str = "", hint_zh: str = "") -> Response:
    """A Flask JSON response for an error (the one body)."""
    return explained_response(ApiError(message, status, hint, code=code,
                                       message_zh=message_zh, hint_zh=hint_zh))


def explained_response(error: ExplainedError, status: int | None = None) -> Response:
    """The JSON response of an explained error."""
    status = status or status_of(error)
    resp = jsonify(error_body(error, status))
    resp.status_code = status
    if isinstance(error, StoreReadOnly):
        resp.headers["Retry-After"] = str(error.retry_after)
    return resp


def _wants_json() -> bool:
    path = request.path
    if path.startswith(("/api/", "/ogcapi", "/tiles/")):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json"


#: Path prefixes that only read: their 405s never speak of writes.
READ_ONLY_PREFIXES: tuple[str, ...] = ("/ogcapi", "/tiles/")
_WRITES = {"PUT", "POST", "DELETE", "PATCH"}


def method_hint(path: str, valid: Iterable[str]) -> tuple[str, str]:
    """The hint of a 405 on ``path`` (English, Chinese): what the address accepts.

    Examples
    --------
    >>> method_hint("/ogcapi/collections", {"GET", "HEAD", "OPTIONS"})[0]
    'the OGC API is read-only: this address accepts GET, HEAD'
    >>> method_hint("/api/layers/x", {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})[0]
    'this address accepts GET, HEAD, PUT, DELETE; PUT and DELETE write and need the write key (Authorization: Bearer <ATLAS_WRITE_TOKEN>)'
    """
    order = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"]
    methods = [m for m in order if m in set(valid)]
    listed = ", ".join(methods)
    if path.startswith(READ_ONLY_PREFIXES):
        return (f"the OGC API is read-only: this address accepts {listed}",
                f"OGC API 是只读的：这个地址只接受 {listed} 请求")
    writes = [m for m in methods if m in _WRITES] if path.startswith("/api/layers") else []
    if writes:
        return (f"this address accepts {listed}; {' and '.join(writes)} write and need the "
                "write key (Authorization: Bearer <ATLAS_WRITE_TOKEN>)",
                f"这个地址接受的请求方法：{listed}；其中 {'、'.join(writes)} 用于写入，需要写入密钥")
    return f"this address accepts {listed}", f"这个地址接受的请求方法：{listed}"


def _wants_html_page() -> bool:
    """An OGC API request that asked for HTML (``f=html``, or a browser's Accept without
    ``f``): its error is a page too, as its answer would have been."""
    if not request.path.startswith("/ogcapi"):
        return False
    f = request.args.get("f")
    if f is not None:
        return f == "html"
    best = request.accept_mimetypes.best_match(["application/json", "application/geo+json",
                                                "text/html"])
    return best == "text/html"


def html_error_response(error: ExplainedError, status: int | None = None) -> Response:
    """The error as a small HTML page: a title, ``lang``, the code's sentence for a person
    in Chinese and English, and the API's precise text (everything escaped).

    Examples
    --------
    >>> from flask import Flask
    >>> with Flask(__name__).test_request_context("/ogcapi/collections/x?f=html"):
    ...     r = html_error_response(ApiError("no collection 'x'", 404, code="not_found"))
    >>> r.status_code, r.get_data(as_text=True).split("<title>")[1].split("</title>")[0]
    (404, '404 · 找不到这个地址。 · 锡林郭勒草原图集')
    """
    status = status or status_of(error)
    zh, en = MESSAGES[error.code]
    hint = (f'<p lang="en">{escape(error.hint)}</p>' if error.hint else "")
    hint_zh = f"<p>{escape(error.hint_zh)}</p>" if error.hint_zh else ""
    body = (
        '<!doctype html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{status} · {escape(zh)} · 锡林郭勒草原图集</title>\n"
        '<link rel="stylesheet" href="/ogcapi/static/ogcapi.css">\n</head>\n<body>\n'
        '<header><a href="/ogcapi?f=html">锡林郭勒草原图集 · OGC API</a> · '
        '<a href="/">地图 Map</a></header>\n<main>\n'
        f"<h1>{escape(zh)} <span lang=\"en\">{escape(en)}</span></h1>\n"
        f"<p>{escape(error.message_zh)}</p>{hint_zh}\n"
        f'<p lang="en"><code>{status} {escape(error.code)}</code>: {escape(error.message)}</p>'
        f"{hint}\n</main>\n</body>\n</html>\n")
    return Response(body, status=status, mimetype="text/html")


def register_error_handlers(app: Flask) -> None:
    """Install the JSON error handlers on ``app``."""

    @app.errorhandler(ExplainedError)
    def _explained(e: ExplainedError):
        return html_error_response(e) if _wants_html_page() else explained_response(e)

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException):
        if not _wants_json():
            return e
        status = e.code or 500
        code, hint, hint_zh = _HTTP_CODES.get(status, ("bad_request", "", ""))
        if status == 405 and e.valid_methods:
            hint, hint_zh = method_hint(request.path, e.valid_methods)
        error = ApiError(e.description or e.name, status, hint, code=code, hint_zh=hint_zh)
        resp = html_error_response(error) if _wants_html_page() else explained_response(error)
        if status == 405 and e.valid_methods:
            resp.headers["Allow"] = ", ".join(sorted(e.valid_methods))
        return resp

    @app.errorhandler(Exception)
    def _unexpected(e: Exception):
        if isinstance(e, HTTPException):  # pragma: no cover - handled above
            return _http(e)
        if current_app.testing or not _wants_json():
            raise e
        current_app.logger.exception("unexpected error on %s", request.path)
        zh, en = MESSAGES["internal_error"]
        return explained_response(ApiError(en, 500, "try again later; the server log has the "
                                           "details", code="internal_error", message_zh=zh,
                                           hint_zh="请稍后再试；服务器日志里有详细信息"))
