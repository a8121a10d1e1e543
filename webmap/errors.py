"""JSON errors a person can act on: ``{"error": "...", "hint": "...", "status": N}``.

Handlers are registered on the app so that every blueprint answers bad input
with a 4xx JSON body (and never a bare 500 for something the user can fix).

Examples
--------
>>> ApiError("no layer called 'x'", 404, hint="GET /api/layers lists the layers").status
404
"""

from __future__ import annotations

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from geo.errors import GeoInputError
from layers.store import LayerNameError, LayerNotFound, QueryError, StoreError


class ApiError(Exception):
    """An error answered as JSON with ``status``.

    Parameters
    ----------
    message : str
        What went wrong.
    status : int
        HTTP status (4xx for the caller's mistakes).
    hint : str
        How to fix it.
    """

    def __init__(self, message: str, status: int = 400, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.hint = hint


def error_response(message: str, status: int, hint: str = ""):
    """A Flask JSON response for an error."""
    body = {"error": message, "status": status}
    if hint:
        body["hint"] = hint
    resp = jsonify(body)
    resp.status_code = status
    return resp


def _wants_json() -> bool:
    path = request.path
    if path.startswith(("/api/", "/ogcapi", "/tiles/")):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json"


def register_error_handlers(app: Flask) -> None:
    """Install the JSON error handlers on ``app``."""

    @app.errorhandler(ApiError)
    def _api_error(e: ApiError):
        return error_response(e.message, e.status, e.hint)

    @app.errorhandler(GeoInputError)
    def _geo_input(e: GeoInputError):
        return error_response(e.message, e.status, e.hint)

    @app.errorhandler(LayerNotFound)
    def _not_found(e: LayerNotFound):
        return error_response(str(e), 404, "GET /api/layers lists the layers that exist")

    @app.errorhandler(LayerNameError)
    def _bad_name(e: LayerNameError):
        return error_response(str(e), 400, "choose a name like 'my_sites_2023'")

    @app.errorhandler(QueryError)
    def _bad_query(e: QueryError):
        return error_response(str(e), 400)

    @app.errorhandler(StoreError)
    def _store(e: StoreError):
        return error_response(str(e), 409)

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException):
        if not _wants_json():
            return e
        hints = {
            404: "see /ogcapi for the API and / for the map",
            405: "check the HTTP method: GET reads, PUT/POST/DELETE write",
            413: "the upload is larger than the limit (ATLAS_MAX_UPLOAD_MB, default 50 MB): "
                 "split it, zip it or simplify it",
        }
        return error_response(e.description or e.name, e.code or 500, hints.get(e.code or 0, ""))
