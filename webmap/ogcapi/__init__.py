"""OGC API – Features Part 1 (Core) under ``/ogcapi``, for GDAL, QGIS and browsers.

=========================================  ================================================
``/ogcapi``                                landing page (links to everything below)
``/ogcapi/conformance``                    core, geojson, html, oas30
``/ogcapi/openapi``                        OpenAPI 3.0 definition (``f=html``: a readable one)
``/ogcapi/collections``                    every layer of the store
``/ogcapi/collections/{id}``               one layer: extent, provenance, links
``/ogcapi/collections/{id}/schema``        JSON Schema of its features (``describedby``)
``/ogcapi/collections/{id}/items``         features: bbox, limit, offset, property filters
``/ogcapi/collections/{id}/items/{fid}``   one feature
=========================================  ================================================

Every resource answers JSON (``f=json``; features as ``application/geo+json``) or
HTML (``f=html``), chosen by ``f`` or else the Accept header.  Responses carry a
strong ETag computed before any work (layer versions + normalised query), so a
revalidation is a 304; bodies are gzipped when the client accepts it.  The items
handler is thin: parse, ask the store, join pre-encoded features
(:mod:`webmap.ogcapi.features`).

Examples
--------
>>> import tempfile, os
>>> from webmap import create_app
>>> app = create_app({"ATLAS_STORE": os.path.join(tempfile.mkdtemp(), "a.gpkg")})
>>> app.test_client().get("/ogcapi/conformance").json["conformsTo"][0]
'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core'
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import Blueprint, Response, g, render_template, request

from geo.geojson import dumps, feature_collection
from layers.store import QueryError, Store

from .. import get_store
from ..errors import ApiError
from ..http import cached_response, make_etag
from . import documents as docs
from .features import Snapshot, feature_bytes, select_page, snapshot
from .openapi import openapi
from .params import ItemsQuery, check_known, negotiate_format, parse_items_query

bp = Blueprint("ogcapi", __name__, url_prefix="/ogcapi", template_folder="templates",
               static_folder="static", static_url_path="/static")

#: Seconds a client may reuse a response before revalidating (ETag makes that cheap).
MAX_AGE = 60


def _base() -> str:
    """Absolute URL of the API root, as the client reached it (computed once per request)."""
    base = g.get("ogcapi_base")
    if base is None:
        base = g.ogcapi_base = request.url_root.rstrip("/") + bp.url_prefix
    return base


def _format(known: tuple[str, ...] = ("f",)) -> str:
    check_known(request.args, known)
    return negotiate_format(request.args, request.headers.get("Accept"))


def _respond(etag_parts: tuple, fmt: str, json_body: Callable[[], bytes],
             html_body: Callable[[], str], json_type: str = docs.JSON) -> Response:
    """A cached JSON-or-HTML response; ``Vary: Accept`` when the format was negotiated."""
    etag = make_etag("ogcapi", fmt, _base(), *etag_parts)
    if fmt == "html":
        resp = cached_response(etag, lambda: html_body().encode(), "text/html", max_age=MAX_AGE)
    else:
        resp = cached_response(etag, json_body, json_type, max_age=MAX_AGE)
    if "f" not in request.args:
        resp.vary.add("Accept")
    return resp


def _time_stamp(updated: str) -> str:
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


def _columns(store: Store, snap: Snapshot) -> tuple[list[str] | None, dict[str, str] | None]:
    """Property columns and dtype kinds of a collection (None when unknown cheaply)."""
    if snap.layer is not None:
        gdf = snap.layer.gdf
    elif docs.catalog_spec(snap.info.name) is not None:
        return None, None  # the catalog's fields describe it
    else:
        gdf = store.get(snap.info.name)
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    return cols, {c: gdf[c].dtype.kind for c in cols}


# -- capabilities ----------------------------------------------------------------------------
@bp.get("")
@bp.get("/")
def landing() -> Response:
    """Landing page: links to the API definition, conformance and the collections."""
    fmt = _format()
    doc = docs.landing(_base(), fmt)
    return _respond(("landing",), fmt, lambda: dumps(doc),
                    lambda: render_template("ogcapi/landing.html", doc=doc, base=_base()))


@bp.get("/conformance")
def conformance() -> Response:
    """The conformance classes this API implements."""
    fmt = _format()
    doc = docs.conformance()
    return _respond(("conformance",), fmt, lambda: dumps(doc),
                    lambda: render_template("ogcapi/conformance.html", doc=doc, base=_base()))


@bp.get("/openapi")
def api_definition() -> Response:
    """The OpenAPI 3.0 document, with each collection's queryable properties."""
    fmt = _format()
    store = get_store()
    infos = store.list_layers()

    def build() -> dict:
        described = []
        for info in infos:
            snap = snapshot(store, info.name)
            cols, kinds = _columns(store, snap)
            described.append((snap.info, docs.property_schemas(snap.info, cols, kinds)))
        return openapi(_base(), described)

    return _respond(("openapi", *[i.version for i in infos]), fmt, lambda: dumps(build()),
                    lambda: render_template("ogcapi/openapi.html", doc=build(), base=_base()),
                    json_type=docs.OPENAPI)


@bp.get("/collections")
def collections() -> Response:
    """Every collection (layer) of the store."""
    fmt = _format()
    infos = get_store().list_layers()
    doc = docs.collections(_base(), infos, fmt)
    return _respond(("collections", *[i.version for i in infos]), fmt, lambda: dumps(doc),
                    lambda: render_template("ogcapi/collections.html", doc=doc, base=_base()))


@bp.get("/collections/<cid>")
def collection(cid: str) -> Response:
    """One collection: extent, provenance, links to its items."""
    fmt = _format()
    store = get_store()
    snap = snapshot(store, cid)
    doc = docs.collection(_base(), snap.info, fmt)

    def html() -> str:
        cols, kinds = _columns(store, snap)
        props = docs.property_schemas(snap.info, cols, kinds)
        return render_template("ogcapi/collection.html", doc=doc, props=props, base=_base())

    return _respond(("collection", snap.info.version), fmt, lambda: dumps(doc), html)


@bp.get("/collections/<cid>/schema")
def schema(cid: str) -> Response:
    """JSON Schema of a collection's features (property names and types)."""
    check_known(request.args, ("f",))
    if request.args.get("f", "json") != "json":
        raise ApiError("the schema is JSON only", 400, hint="leave out f or use f=json")
    store = get_store()
    snap = snapshot(store, cid)

    def body() -> bytes:
        cols, kinds = _columns(store, snap)
        return dumps(docs.feature_schema(_base(), snap.info,
                                         docs.property_schemas(snap.info, cols, kinds)))

    return cached_response(make_etag("ogcapi", "schema", _base(), snap.info.version), body,
                           docs.SCHEMA, max_age=MAX_AGE)


# -- data ------------------------------------------------------------------------------------
def _items_url(cid: str, query: ItemsQuery, fmt: str, offset: int | None = None) -> str:
    params = query.link_params(offset)
    params.append(("f", fmt))
    return f"{_base()}/collections/{cid}/items?{urlencode(params)}"


def _items_links(cid: str, query: ItemsQuery, fmt: str, matched: int) -> list[dict]:
    other = "html" if fmt == "json" else "json"
    types = {"json": docs.GEOJSON, "html": docs.HTML}
    links = [
        docs.link(_items_url(cid, query, fmt), "self", types[fmt], "This page"),
        docs.link(_items_url(cid, query, other), "alternate", types[other],
                  f"This page as {other.upper()}"),
    ]
    if query.offset + query.limit < matched:
        links.append(docs.link(_items_url(cid, query, fmt, query.offset + query.limit), "next",
                               types[fmt], "Next page"))
    if query.offset > 0:
        links.append(docs.link(_items_url(cid, query, fmt, max(0, query.offset - query.limit)),
                               "prev", types[fmt], "Previous page"))
    links.append(docs.link(f"{_base()}/collections/{cid}", "collection", docs.JSON,
                           "The collection"))
    return links


@bp.get("/collections/<cid>/items")
def items(cid: str) -> Response:
    """Features of a collection: ``bbox``, ``limit``, ``offset``, property filters, paging links.

    The ETag is known before the query runs (layer version + normalised query),
    so a revalidating client costs one registry lookup.
    """
    store = get_store()
    snap = snapshot(store, cid)
    query = parse_items_query(request.args, snap.properties)
    fmt = negotiate_format(request.args, request.headers.get("Accept"))

    def page(encode: bool):
        try:
            return select_page(store, snap, bbox=query.bbox, filters=dict(query.filters),
                               limit=query.limit, offset=query.offset, encode=encode)
        except QueryError as e:  # stores that check properties themselves
            raise ApiError(str(e), 400, hint="filter on a property of the collection, "
                           f"e.g. GET /ogcapi/collections/{cid} lists them") from None

    def json_body() -> bytes:
        p = page(True)
        return feature_collection(p.encoded, {
            "links": _items_links(cid, query, "json", p.number_matched),
            "numberMatched": p.number_matched,
            "numberReturned": len(p.encoded),
            "timeStamp": _time_stamp(snap.info.updated),
        })

    def html_body() -> str:
        p = page(False)
        gdf = p.features
        columns = [c for c in gdf.columns if c != gdf.geometry.name]
        title, _ = docs.titles(snap.info)
        return render_template(
            "ogcapi/items.html", cid=cid, title=title, base=_base(), query=query,
            columns=columns, rows=_rows(gdf, columns), matched=p.number_matched,
            links={lnk["rel"]: lnk["href"]
                   for lnk in _items_links(cid, query, "html", p.number_matched)})

    return _respond(("items", snap.info.version, query.key()), fmt, json_body, html_body,
                    json_type=docs.GEOJSON)


def _rows(gdf, columns: list[str]) -> list[dict]:
    """Plain rows for the HTML table (values shown as text, escaped by Jinja)."""
    frame = gdf[columns].astype(object).where(gdf[columns].notna(), None)
    geom_types = gdf.geometry.geom_type.tolist()
    return [{"fid": int(fid), "values": values, "geometry": gt}
            for fid, values, gt in zip(gdf.index.tolist(), frame.values.tolist(), geom_types,
                                       strict=True)]


@bp.get("/collections/<cid>/items/<fid>")
def item(cid: str, fid: str) -> Response:
    """One feature by id (404 JSON when there is none)."""
    fmt = _format()
    store = get_store()
    snap = snapshot(store, cid)
    try:
        fid_int = int(fid)
    except ValueError:
        fid_int = None
    found = feature_bytes(store, snap, fid_int) if fid_int is not None else None
    if found is None:
        raise ApiError(f"collection {cid!r} has no feature {fid!r}", 404,
                       hint=f"feature ids are integers; GET /ogcapi/collections/{cid}/items "
                            "lists the features with their ids")
    row, encoded = found
    url = f"{_base()}/collections/{cid}/items/{fid_int}"
    links = [*docs.self_links(url, fmt, docs.GEOJSON, "This feature"),
             docs.link(f"{_base()}/collections/{cid}", "collection", docs.JSON,
                       "The collection")]

    def json_body() -> bytes:
        # The cached feature ends with "}": reopen it to add the links.
        return encoded[:-1] + b',"links":' + dumps(links) + b"}"

    def html_body() -> str:
        columns = [c for c in row.columns if c != row.geometry.name]
        title, _ = docs.titles(snap.info)
        geom = row.geometry.iloc[0]
        wkt = "" if geom is None else geom.wkt
        return render_template("ogcapi/item.html", cid=cid, title=title, base=_base(),
                               fid=fid_int, row=_rows(row, columns)[0], columns=columns,
                               wkt=wkt[:2000] + ("…" if len(wkt) > 2000 else ""),
                               links={lnk["rel"]: lnk["href"] for lnk in links})

    return _respond(("item", snap.info.version, fid_int), fmt, json_body, html_body,
                    json_type=docs.GEOJSON)

