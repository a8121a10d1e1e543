"""The OpenAPI 3.0 definition of the API (``/ogcapi/openapi``).

Besides the generic paths it lists ``/collections/{id}/items`` once per
collection with that collection's properties as query parameters: that is
where GDAL's OAPIF driver (and QGIS) learn which attribute filters they may
send to the server instead of evaluating them client-side.

Examples
--------
>>> doc = openapi("http://127.0.0.1:5000/ogcapi", [])
>>> doc["openapi"], sorted(doc["paths"])[:2]
('3.0.3', ['/', '/collections'])
"""

from __future__ import annotations

from typing import Any

from layers.store import LayerInfo

from .documents import DESCRIPTION, GEOJSON, HTML, JSON, SCHEMA, TITLE, titles
from .params import (
    DATETIME_PATTERN,
    DEFAULT_LIMIT,
    ITEMS_PARAMS,
    MAX_LIMIT,
    OFFERED_URIS,
)

_REF = "#/components/parameters/"


def _param(name: str, description: str, schema: dict[str, Any], *, in_: str = "query",
           required: bool = False, explode: bool | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "in": in_, "description": description,
                           "required": required, "schema": schema}
    if in_ == "query":
        out["style"] = "form"
        out["explode"] = False if explode is None else explode
    return out


def _components() -> dict[str, Any]:
    error = {"type": "object",
             "required": ["error", "error_zh", "code", "status", "hint", "hint_zh"],
             "properties": {"error": {"type": "string"}, "error_zh": {"type": "string"},
                            "code": {"type": "string"}, "status": {"type": "integer"},
                            "hint": {"type": "string"}, "hint_zh": {"type": "string"}}}
    crs_enum = {"type": "string", "format": "uri", "enum": list(OFFERED_URIS)}
    parameters = {
        "f": _param("f", "Response format: json (GeoJSON for features; geojson is the same) "
                    "or html.", {"type": "string", "enum": ["json", "geojson", "html"]}),
        "bbox": _param(
            "bbox", "Only features whose geometry intersects the box: lower corner, upper "
            "corner (minLon,minLat,maxLon,maxLat in CRS84; in bbox-crs's own axis order "
            "otherwise; a 6-number box drops the heights).",
            {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}),
        "bbox-crs": _param("bbox-crs", "CRS of bbox (OGC API – Features Part 2; default "
                           "CRS84).", crs_enum),
        "crs": _param("crs", "CRS of the geometries in the answer (Part 2; default CRS84), "
                      "in its own axis order: EPSG:4326 and EPSG:4490 latitude first, the "
                      "CGCS2000 Gauss-Krüger CRSs northing first; Content-Crs says which.",
                      crs_enum),
        "limit": _param("limit", f"Page size (default {DEFAULT_LIMIT}); larger values are "
                        f"capped at {MAX_LIMIT:,}, and the links carry the capped value.",
                        {"type": "integer", "minimum": 1, "default": DEFAULT_LIMIT}),
        "offset": _param("offset", "Index of the first feature of the page (next/prev links "
                         "carry it).", {"type": "integer", "minimum": 0, "default": 0}),
        "datetime": _param("datetime", "RFC 3339 instant or interval (.. for an open end) "
                           "on the collection's temporal property (its collection document "
                           "names it as temporalProperty and gives its extent); a collection "
                           "without one keeps every feature.",
                           {"type": "string", "pattern": DATETIME_PATTERN}),
        "filter": _param("filter", "CQL2 filter (Part 3): comparisons, LIKE, IN, BETWEEN, IS "
                         "NULL, AND/OR/NOT, S_INTERSECTS/S_WITHIN/S_CONTAINS/S_DISJOINT on "
                         "geometry, and S_DWITHIN(geometry, literal, metres) (/functions); "
                         "/collections/{id}/queryables lists the properties. A "
                         "filter the server cannot evaluate is a 400 naming the part.",
                         {"type": "string", "minLength": 1}),
        "filter-lang": _param("filter-lang", "Language of filter (default cql2-text; CQL2 "
                              "JSON when it starts with '{').",
                              {"type": "string", "enum": ["cql2-text", "cql2-json"]}),
        "filter-crs": _param("filter-crs", "CRS of the geometry literals of filter (default "
                             "CRS84), in its own axis order.", crs_enum),
        "sortby": _param("sortby", "Comma-separated sortables, each with an optional + "
                         "(ascending) or - (descending); /collections/{id}/sortables lists "
                         "them. Missing values sort last.", {"type": "string"}),
        "properties": _param("properties", "Comma-separated properties to include (empty: "
                             "none).", {"type": "string"}),
        "skipGeometry": _param("skipGeometry", "true: features without their geometry.",
                               {"type": "boolean", "default": False}),
        "collectionId": _param("collectionId", "Collection id.", {"type": "string"},
                               in_="path", required=True),
        "featureId": _param("featureId", "Feature id (an integer, stable per layer version).",
                            {"type": "integer"}, in_="path", required=True),
    }
    ok_json = {"application/json": {"schema": {"type": "object"}},
               HTML: {"schema": {"type": "string"}}}
    responses = {
        "Json": {"description": "The document (JSON or HTML).", "content": ok_json},
        "Features": {"description": "A page of features, with next/prev links.",
                     "content": {GEOJSON: {"schema": {"$ref": "#/components/schemas/"
                                                      "featureCollectionGeoJSON"}},
                                 HTML: {"schema": {"type": "string"}}}},
        "Feature": {"description": "One feature.",
                    "content": {GEOJSON: {"schema": {"type": "object"}},
                                HTML: {"schema": {"type": "string"}}}},
        "NotModified": {"description": "Unchanged since the ETag given in If-None-Match."},
        # Asked for as HTML (f=html or a browser's Accept), an error is a page for a person.
        "InvalidParameter": {"description": "A parameter has a bad value or is unknown; "
                             "the body says which and how to fix it.",
                             "content": {JSON: {"schema": {"$ref": "#/components/schemas/"
                                                           "exception"}},
                                         HTML: {"schema": {"type": "string"}}}},
        "NotFound": {"description": "No such collection or feature.",
                     "content": {JSON: {"schema": {"$ref": "#/components/schemas/exception"}},
                                 HTML: {"schema": {"type": "string"}}}},
        "Schema": {"description": "A JSON Schema.",
                   "content": {SCHEMA: {"schema": {"type": "object"}}}},
    }
    schemas = {
        "exception": error,
        "featureCollectionGeoJSON": {
            "type": "object", "required": ["type", "features"],
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {"type": "array", "items": {"type": "object"}},
                "links": {"type": "array", "items": {"type": "object"}},
                "timeStamp": {"type": "string", "format": "date-time"},
                "numberMatched": {"type": "integer", "minimum": 0},
                "numberReturned": {"type": "integer", "minimum": 0},
            },
        },
    }
    return {"parameters": parameters, "responses": responses, "schemas": schemas}


def _value_schema(prop: dict[str, Any]) -> dict[str, Any]:
    """The schema of an equality filter's value: the property's type, as the server checks it.

    Examples
    --------
    >>> _value_schema({"type": "integer"})
    {'type': 'integer'}
    >>> _value_schema({"type": "string", "format": "date"})
    {'type': 'string'}
    """
    return {"type": prop["type"]}


def _get(summary: str, op_id: str, params: list, ok: str, *, tags: list[str] | None = None,
         not_found: bool = False) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": {"$ref": f"#/components/responses/{ok}"},
                                 "304": {"$ref": "#/components/responses/NotModified"},
                                 "400": {"$ref": "#/components/responses/InvalidParameter"}}
    if not_found:
        responses["404"] = {"$ref": "#/components/responses/NotFound"}
    return {"get": {"summary": summary, "operationId": op_id, "tags": tags or ["Capabilities"],
                    "parameters": params, "responses": responses}}


def openapi(base: str, collections: list[tuple[LayerInfo, list[dict[str, Any]]]]
            ) -> dict[str, Any]:
    """The OpenAPI 3.0 document.

    Parameters
    ----------
    base : str
        Absolute URL of the API root (``http://host/ogcapi``).
    collections : list of (LayerInfo, properties)
        Every collection with its queryable properties
        (:func:`webmap.ogcapi.documents.property_schemas`).
    """
    f = {"$ref": _REF + "f"}
    item_params = [{"$ref": _REF + n} for n in
                   ("bbox", "bbox-crs", "limit", "offset", "datetime", "crs", "filter",
                    "filter-lang", "filter-crs", "sortby", "properties", "skipGeometry", "f")]
    ids = [info.name for info, _ in collections]
    paths: dict[str, Any] = {
        "/": _get("Landing page", "getLandingPage", [f], "Json"),
        "/conformance": _get("Conformance classes", "getConformance", [f], "Json"),
        "/openapi": _get("This API definition", "getOpenAPI", [f], "Json"),
        "/collections": _get("The collections", "getCollections", [f], "Json"),
        "/collections/{collectionId}": _get(
            "One collection", "describeCollection", [{"$ref": _REF + "collectionId"}, f],
            "Json", not_found=True),
        "/collections/{collectionId}/schema": _get(
            "JSON Schema of the collection's features", "getSchema",
            [{"$ref": _REF + "collectionId"}, _param("f", "json only.", {
                "type": "string", "enum": ["json"]})], "Schema", not_found=True),
        "/collections/{collectionId}/items": _get(
            "Features of a collection", "getFeatures",
            [{"$ref": _REF + "collectionId"}, *item_params], "Features", tags=["Data"],
            not_found=True),
        "/collections/{collectionId}/items/{featureId}": _get(
            "One feature", "getFeature",
            [{"$ref": _REF + "collectionId"}, {"$ref": _REF + "featureId"},
             {"$ref": _REF + "crs"}, f], "Feature", tags=["Data"], not_found=True),
        "/collections/{collectionId}/queryables": _get(
            "Queryable properties (JSON Schema)", "getQueryables",
            [{"$ref": _REF + "collectionId"}, _param("f", "json only.", {
                "type": "string", "enum": ["json"]})], "Schema", not_found=True),
        "/functions": _get(
            "Custom functions CQL2 filters may call", "getFunctions",
            [_param("f", "json only.", {"type": "string", "enum": ["json"]})], "Json"),
        "/collections/{collectionId}/sortables": _get(
            "Sortable properties (JSON Schema)", "getSortables",
            [{"$ref": _REF + "collectionId"}, _param("f", "json only.", {
                "type": "string", "enum": ["json"]})], "Schema", not_found=True),
    }
    for info, props in collections:
        title, _ = titles(info)
        prop_params = [
            _param(p["name"], f"Only features whose {p['title']} equals this value.",
                   _value_schema(p), explode=False)
            for p in props if p["name"] not in ITEMS_PARAMS
        ]
        op = _get(f"Features of {title}", f"getFeatures_{info.name}",
                  [*item_params, *prop_params], "Features", tags=["Data"])
        clashing = [p["name"] for p in props if p["name"] in ITEMS_PARAMS]
        op["get"]["description"] = (
            "Every property below is also a CQL2 queryable (filter)."
            + (f" Properties named like query parameters ({', '.join(clashing)}) are "
               "filtered through CQL2 only, e.g. filter=\"" + clashing[0] + "\" = 'x'."
               if clashing else ""))
        paths[f"/collections/{info.name}/items"] = op
    components = _components()
    if ids:
        components["parameters"]["collectionId"]["schema"]["enum"] = ids
    return {
        "openapi": "3.0.3",
        "info": {"title": TITLE, "description": DESCRIPTION, "version": "1.0.0",
                 "license": {"name": "see each collection's provenance"}},
        "servers": [{"url": base}],
        "tags": [{"name": "Capabilities"}, {"name": "Data"}],
        "paths": paths,
        "components": components,
    }

