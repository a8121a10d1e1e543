"""What a collection can be filtered and sorted on (OGC API – Features Part 3).

=============================================  ==========================================
``/ogcapi/collections/{id}/queryables``        JSON Schema of the properties a CQL2
                                               ``filter`` may name, and ``geometry``
``/ogcapi/collections/{id}/sortables``         JSON Schema of the properties ``sortby``
                                               may name
=============================================  ==========================================

Each property is typed by the store (:meth:`layers.store.Store.properties`: integer,
number, boolean, string, or a string of format ``date``/``date-time``) and titled from
the catalog's labels; ``additionalProperties`` is false, since a filter on any other
name is refused.  Every queryable whose name is not an items parameter is also an
equality filter (``?category=energy``).

Examples
--------
>>> import tempfile, os
>>> from webmap import create_app
>>> app = create_app({"ATLAS_STORE": os.path.join(tempfile.mkdtemp(), "a.gpkg")})
>>> doc = app.test_client().get("/ogcapi/collections/projects/queryables").json
>>> doc["properties"]["total_investment_yi"]["type"], doc["properties"]["geometry"]["format"]
('number', 'geometry-point')
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from geo.geojson import dumps
from layers.filter import queryables_schema

from ..core.errors import ApiError
from ..core.http import cached_response, make_etag
from ..core.store import get_store
from . import documents as docs
from .common import MAX_AGE, PREFIX, base, declare_conformance
from .params import check_known
from .snapshot import snapshot

bp = Blueprint("ogcapi_queryables", __name__, url_prefix=PREFIX)

#: Part 3's queryables classes, and the sortables of Part 5's draft (``sortby``).
CONFORMANCE: tuple[str, ...] = (
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/sortables",
)
declare_conformance(bp, CONFORMANCE)

#: JSON Schema ``format`` of the geometry queryable per stored geometry type.
_GEOMETRY_FORMATS = {"POINT": "geometry-point", "MULTIPOINT": "geometry-multipoint",
                     "LINESTRING": "geometry-linestring",
                     "MULTILINESTRING": "geometry-multilinestring",
                     "POLYGON": "geometry-polygon", "MULTIPOLYGON": "geometry-multipolygon"}


def _schema(cid: str, which: str) -> Response:
    check_known(request.args, ("f",))
    if request.args.get("f", "json") != "json":
        raise ApiError(f"the {which} are JSON Schema only", 400,
                       hint="leave out f or use f=json", code="unsupported_format",
                       message_zh="只提供 JSON Schema 格式")
    store = get_store()
    snap = snapshot(store, cid)

    def body() -> bytes:
        props = docs.property_schemas(snap.info, snap.kinds)
        titles = {p["name"]: p["title"] for p in props}
        kinds = {p["name"]: snap.kinds[p["name"]] for p in props}
        if which == "queryables":
            kinds["geometry"] = "geometry"
            titles["geometry"] = "几何 Geometry"
        schema = queryables_schema(kinds, titles, f"{base()}/collections/{cid}/{which}")
        title, _ = docs.titles(snap.info)
        schema["title"] = title
        if which == "queryables":
            fmt = _GEOMETRY_FORMATS.get(snap.info.geometry_type.upper(), "geometry-any")
            schema["properties"]["geometry"] = {"title": "几何 Geometry", "format": fmt}
        return dumps(schema)

    return cached_response(make_etag("ogcapi", which, base(), snap.info.version), body,
                           docs.SCHEMA, max_age=MAX_AGE)


@bp.get("/collections/<cid>/queryables")
def queryables(cid: str) -> Response:
    """The properties a CQL2 filter may name, as JSON Schema."""
    return _schema(cid, "queryables")


@bp.get("/collections/<cid>/sortables")
def sortables(cid: str) -> Response:
    """The properties ``sortby`` may name, as JSON Schema."""
    return _schema(cid, "sortables")
