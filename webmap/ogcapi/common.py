"""What every part of the OGC API shares: the API root URL, format negotiation, cached
JSON-or-HTML responses, and how a part declares its conformance classes.

Examples
--------
>>> time_stamp("2024-05-01T08:00:00.123456Z")
'2024-05-01T08:00:00Z'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, g, request
from flask.blueprints import BlueprintSetupState

from ..core.http import cached_response, make_etag
from . import documents as docs
from .params import check_known, negotiate_format

#: Where every part is mounted.
PREFIX = "/ogcapi"
#: Seconds a client may reuse a response before revalidating (ETag makes that cheap).
MAX_AGE = 60
_CONFORMANCE_KEY = "ogcapi_conformance"


def declare_conformance(bp: Blueprint, classes: Iterable[str]) -> None:
    """Record that registering ``bp`` makes the API conform to ``classes``.

    Each part module declares its own classes; ``/ogcapi/conformance`` lists the
    classes of the parts the app registered, in registration order.
    """
    classes = tuple(classes)

    def _record(state: BlueprintSetupState) -> None:
        declared = state.app.extensions.setdefault(_CONFORMANCE_KEY, [])
        declared.extend(c for c in classes if c not in declared)

    bp.record_once(_record)


def conformance_classes() -> list[str]:
    """The conformance classes of the registered parts."""
    return list(current_app.extensions.get(_CONFORMANCE_KEY, []))


def base() -> str:
    """Absolute URL of the API root, as the client reached it (computed once per request)."""
    root = g.get("ogcapi_base")
    if root is None:
        root = g.ogcapi_base = request.url_root.rstrip("/") + PREFIX
    return root


def format_of(known: tuple[str, ...] = ("f",)) -> str:
    """The response format of a request that takes only ``known`` parameters."""
    check_known(request.args, known)
    return negotiate_format(request.args, request.headers.get("Accept"))


def respond(etag_parts: tuple, fmt: str, json_body: Callable[[], bytes],
            html_body: Callable[[], str], json_type: str = docs.JSON) -> Response:
    """A cached JSON-or-HTML response; ``Vary: Accept`` when the format was negotiated."""
    etag = make_etag("ogcapi", fmt, base(), *etag_parts)
    if fmt == "html":
        resp = cached_response(etag, lambda: html_body().encode(), "text/html", max_age=MAX_AGE)
    else:
        resp = cached_response(etag, json_body, json_type, max_age=MAX_AGE)
    if "f" not in request.args:
        resp.vary.add("Accept")
    return resp


def time_stamp(updated: str) -> str:
    """RFC 3339 UTC seconds of a store timestamp (the time the data was last written).

    The response reflects the layer as written then; using that time (not "now")
    keeps each response a pure function of layer version and query, so strong
    ETags hold.
    """
    try:
        when = datetime.fromisoformat(updated.replace("Z", "+00:00"))
    except ValueError:
        return updated
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
