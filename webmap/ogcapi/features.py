"""OGC API – Features Part 1 (Core), the data: collections, their schemas, items, one item.

=========================================  ================================================
``/ogcapi/collections``                    every layer of the store
``/ogcapi/collections/{id}``               one layer: extent, provenance, CRSs, links
``/ogcapi/collections/{id}/schema``        JSON Schema of its features (``describedby``)
``/ogcapi/collections/{id}/items``         features: bbox, limit, offset, datetime, property
                                           filters; Part 2 ``crs``/``bbox-crs``; Part 3
                                           ``filter``/``sortby``; ``properties``,
                                           ``skipGeometry``
``/ogcapi/collections/{id}/items/{fid}``   one feature (``crs``)
=========================================  ================================================

Every resource answers JSON (``f=json``; features as ``application/geo+json``) or
HTML (``f=html``), chosen by ``f`` or else the Accept header.  Responses carry a
strong ETag computed before any work (layer versions + normalised query), so a
revalidation is a 304; bodies are gzipped when the client accepts it.  The items
handler is thin: parse, ask the store, join pre-encoded features
(:mod:`webmap.ogcapi.snapshot`).

Examples
--------
>>> import tempfile, os
>>> from webmap import create_app
>>> app = create_app({"ATLAS_STORE": os.path.join(tempfile.mkdtemp(), "a.gpkg")})
>>> app.test_client().get("/ogcapi/collections/ports/items").json["numberMatched"]
2
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request

from geo.geojson import dumps
from layers.store import QueryError

from ..core.errors import ApiError
from ..core.http import cached_response, make_etag
from ..core.store import get_store
from . import documents as docs
from .common import MAX_AGE, PREFIX, base, declare_conformance, format_of, respond, time_stamp
from .crs import content_crs
from .params import (
    ITEM_PARAMS,
    MAX_LIMIT,
    ItemsQuery,
    check_known,
    negotiate_format,
    output_crs,
    parse_items_query,
)
from .snapshot import feature_bytes, select_page, snapshot

bp = Blueprint("ogcapi_features", __name__, url_prefix=PREFIX)

#: Part 1's class this module's resources fulfil.
CONFORMANCE: tuple[str, ...] = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
)
declare_conformance(bp, CONFORMANCE)


@bp.get("/collections")
def collections() -> Response:
    """Every collection (layer) of the store."""
    fmt = format_of()
    store = get_store()
    infos = store.list_layers()
    doc = docs.collections(base(), infos, fmt, {i.name: store.temporal(i.name) for i in infos})
    return respond(("collections", *[i.version for i in infos]), fmt, lambda: dumps(doc),
                    lambda: render_template("ogcapi/collections.html", doc=doc, base=base()))


@bp.get("/collections/<cid>")
def collection(cid: str) -> Response:
    """One collection: extent, provenance, links to its items."""
    fmt = format_of()
    store = get_store()
    snap = snapshot(store, cid)
    doc = docs.collection(base(), snap.info, fmt, store.temporal(cid))

    def html() -> str:
        props = docs.property_schemas(snap.info, store.properties(cid))
        return render_template("ogcapi/collection.html", doc=doc, props=props, base=base())

    return respond(("collection", snap.info.version), fmt, lambda: dumps(doc), html)


@bp.get("/collections/<cid>/schema")
def schema(cid: str) -> Response:
    """JSON Schema of a collection's features (property names and types)."""
    check_known(request.args, ("f",))
    if request.args.get("f", "json") != "json":
        raise ApiError("the schema is JSON only", 400, hint="leave out f or use f=json",
                       code="unsupported_format", message_zh="要素结构只提供 JSON 格式")
    store = get_store()
    snap = snapshot(store, cid)

    def body() -> bytes:
        return dumps(docs.feature_schema(base(), snap.info,
                                         docs.property_schemas(snap.info,
                                                               store.properties(cid))))

    return cached_response(make_etag("ogcapi", "schema", base(), snap.info.version), body,
                           docs.SCHEMA, max_age=MAX_AGE)


# -- data ------------------------------------------------------------------------------------
def _items_url(cid: str, query: ItemsQuery, fmt: str, offset: int | None = None) -> str:
    params = query.link_params(offset)
    params.append(("f", fmt))
    return f"{base()}/collections/{cid}/items?{urlencode(params)}"


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
                               types[fmt], f"Next page (at most {MAX_LIMIT:,} features a page)"
                               if query.limit == MAX_LIMIT else "Next page"))
    if query.offset > 0:
        links.append(docs.link(_items_url(cid, query, fmt, max(0, query.offset - query.limit)),
                               "prev", types[fmt], "Previous page"))
    links.append(docs.link(f"{base()}/collections/{cid}", "collection", docs.JSON,
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
    query = parse_items_query(request.args, snap.kinds)
    fmt = negotiate_format(request.args, request.headers.get("Accept"))

    def page(encode: bool):
        try:
            return select_page(store, snap, bbox=query.bbox, filters=dict(query.filters),
                               limit=query.limit, offset=query.offset, encode=encode,
                               where=query.where, datetime=query.datetime,
                               sortby=query.sort_pairs, properties=query.properties,
                               skip_geometry=query.skip_geometry, crs=query.crs)
        except QueryError as e:  # stores that check properties themselves
            if e.code == "bad_filter":
                raise
            raise ApiError(str(e), 400, hint="filter on a property of the collection, "
                           f"e.g. GET /ogcapi/collections/{cid} lists them",
                           code=e.code, message_zh=e.message_zh,
                           hint_zh="请按图层已有的属性筛选") from None

    def json_body() -> bytes:
        p = page(True)
        members = {
            "links": _items_links(cid, query, "json", p.number_matched),
            "numberMatched": p.number_matched,
            "numberReturned": p.returned,
            "timeStamp": time_stamp(snap.info.updated),
        }
        if p.estimated:  # the store's estimate (PostGIS, above 10,000 matches)
            members["numberMatchedEstimated"] = True
        return (b'{"type":"FeatureCollection","features":[' + p.body + b"],"
                + dumps(members)[1:])

    def html_body() -> str:
        p = page(False)
        gdf = p.features
        columns = [c for c in gdf.columns if c != gdf.geometry.name]
        title, _ = docs.titles(snap.info)
        return render_template(
            "ogcapi/items.html", cid=cid, title=title, base=base(), query=query,
            columns=columns, rows=_rows(gdf, columns), matched=p.number_matched,
            estimated=p.estimated,
            links={lnk["rel"]: lnk["href"]
                   for lnk in _items_links(cid, query, "html", p.number_matched)})

    resp = respond(("items", snap.info.version, query.key()), fmt, json_body, html_body,
                   json_type=docs.GEOJSON)
    resp.headers["Content-Crs"] = content_crs(query.crs)
    return resp


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
    fmt = format_of(ITEM_PARAMS)
    crs = output_crs(request.args.get("crs"))
    store = get_store()
    snap = snapshot(store, cid)
    try:
        fid_int = int(fid)
    except ValueError:
        fid_int = None
    found = feature_bytes(store, snap, fid_int, crs) if fid_int is not None else None
    if found is None:
        raise ApiError(f"collection {cid!r} has no feature {fid!r}", 404,
                       hint=f"feature ids are integers; GET /ogcapi/collections/{cid}/items "
                            "lists the features with their ids", code="feature_not_found",
                       message_zh=f"图层 {cid!r} 没有编号为 {fid!r} 的要素")
    row, encoded = found
    url = f"{base()}/collections/{cid}/items/{fid_int}"
    if crs.code != "OGC:CRS84":
        url += "?" + urlencode([("crs", crs.uri)])
    links = [*docs.self_links(url, fmt, docs.GEOJSON, "This feature"),
             docs.link(f"{base()}/collections/{cid}", "collection", docs.JSON,
                       "The collection")]

    def json_body() -> bytes:
        # The cached feature ends with "}": reopen it to add the links.
        return encoded[:-1] + b',"links":' + dumps(links) + b"}"

    def html_body() -> str:
        columns = [c for c in row.columns if c != row.geometry.name]
        title, _ = docs.titles(snap.info)
        geom = row.geometry.iloc[0]
        wkt = "" if geom is None else geom.wkt
        return render_template("ogcapi/item.html", cid=cid, title=title, base=base(),
                               fid=fid_int, row=_rows(row, columns)[0], columns=columns,
                               wkt=wkt[:2000] + ("…" if len(wkt) > 2000 else ""),
                               links={lnk["rel"]: lnk["href"] for lnk in links})

    resp = respond(("item", snap.info.version, fid_int, crs.code), fmt, json_body, html_body,
                   json_type=docs.GEOJSON)
    resp.headers["Content-Crs"] = content_crs(crs)
    return resp

