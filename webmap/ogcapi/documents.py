"""The JSON documents of the API: landing page, conformance, collections, links.

Everything a collection says about itself comes from the store
(:class:`~layers.store.LayerInfo`: bounds, count, version) and, for reference
layers, from the catalog (:mod:`layers.catalog`: titles, descriptions, fields,
provenance); user layers describe themselves through their saved metadata.

Examples
--------
>>> link("http://h/ogcapi/collections", "data", "application/json", "Collections")["rel"]
'data'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from layers.catalog import GROUPS, get_spec, layer_ids
from layers.describe import version_provenance
from layers.spec import LayerMeta, LayerSpec
from layers.store import LayerInfo, TemporalExtent

from .params import CRS84, DEFAULT_LIMIT, MAX_LIMIT, OFFERED_URIS

TITLE = "锡林郭勒草原图集 Xilingol Grassland Atlas"
DESCRIPTION = ("锡林郭勒盟行政区划、水系流域、千里草原风景大道与重大项目的矢量图层 — "
               "vector layers of Xilingol League: administrative units, rivers and basins, "
               "the Thousand-li Grassland Scenic Road and major projects (OGC API – Features).")

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA = "application/schema+json"
#: The temporal reference system of the temporal extents (the Gregorian calendar, UTC).
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
#: Link relations of OGC API parts (OGC's link-relation register).
REL_QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
REL_SORTABLES = "http://www.opengis.net/def/rel/ogc/1.0/sortables"
REL_TILESETS = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"

_KIND_TO_SCHEMA = {"str": "string", "int": "integer", "float": "number", "bool": "boolean",
                   "date": "string", "datetime": "string"}


def link(href: str, rel: str, type_: str, title: str = "") -> dict[str, str]:
    """A link object (RFC 8288 as OGC API writes it)."""
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out


def self_links(url: str, fmt: str, json_type: str = JSON, title: str = "") -> list[dict]:
    """``self`` and ``alternate`` links of a resource at ``url`` (no query) shown in ``fmt``."""
    sep = "&" if "?" in url else "?"
    as_json = link(f"{url}{sep}f=json", "self" if fmt == "json" else "alternate", json_type,
                   f"{title} as JSON".strip())
    as_html = link(f"{url}{sep}f=html", "self" if fmt == "html" else "alternate", HTML,
                   f"{title} as HTML".strip())
    return [as_json, as_html] if fmt == "json" else [as_html, as_json]


def landing(base: str, fmt: str) -> dict[str, Any]:
    """The landing page (``/ogcapi``)."""
    return {
        "title": TITLE,
        "description": DESCRIPTION,
        "links": [
            *self_links(base, fmt, title="This document"),
            link(f"{base}/openapi", "service-desc", OPENAPI, "The API definition (OpenAPI 3.0)"),
            link(f"{base}/openapi?f=html", "service-doc", HTML, "The API documentation"),
            link(f"{base}/conformance", "conformance", JSON, "Conformance classes"),
            link(f"{base}/collections", "data", JSON, "The collections"),
            link(f"{base}/functions", "http://www.opengis.net/def/rel/ogc/1.0/functions", JSON,
                 "Functions CQL2 filters may call"),
        ],
    }


def conformance(classes: list[str]) -> dict[str, Any]:
    """The conformance declaration of the given classes.

    Examples
    --------
    >>> conformance(["http://x/conf/core"])
    {'conformsTo': ['http://x/conf/core']}
    """
    return {"conformsTo": list(classes)}


def catalog_spec(name: str) -> LayerSpec | None:
    """The catalog entry of a reference layer, None for a user layer.

    Examples
    --------
    >>> catalog_spec("rivers").id, catalog_spec("my_sites")
    ('rivers', None)
    """
    return get_spec(name) if name in layer_ids() else None


def titles(info: LayerInfo) -> tuple[str, str]:
    """(title, description) of a collection: the catalog's, or a user layer's metadata."""
    spec = catalog_spec(info.name)
    if spec is not None:
        return (f"{spec.title_zh} {spec.title_en}",
                f"{spec.description_zh} {spec.description_en}")
    meta = info.meta
    title = str(meta.get("title") or info.name)
    description = str(meta.get("description") or
                      f"用户图层 User layer ({info.count} features, saved {info.updated[:10]})")
    return title, description


def property_schemas(info: LayerInfo, kinds: Mapping[str, str] | None
                     ) -> list[dict[str, Any]]:
    """Queryable properties of a collection: ``{"name", "type", "title"}`` each.

    Catalog layers list their catalog fields (those present in the data, when the
    properties are known) in catalog order, then any other property; user layers list
    their properties with the types the store keeps.

    Parameters
    ----------
    info : LayerInfo
        The layer.
    kinds : mapping or None
        Property name → field kind (``int``, ``float``, ``bool``, ``str`` …) from
        :meth:`layers.store.Store.properties`, if known.
    """
    spec = catalog_spec(info.name)
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    if spec is not None:
        for f in spec.fields:
            if kinds is not None and f.name not in kinds:
                continue
            out.append({"name": f.name, "type": _KIND_TO_SCHEMA[f.kind],
                        "title": f"{f.label_zh} {f.label_en}"
                                 + (f" ({f.unit})" if f.unit else "")})
            seen.add(f.name)
    for name, kind in (kinds or {}).items():
        if name not in seen:
            out.append({"name": name, "type": _KIND_TO_SCHEMA.get(kind, "string"),
                        "title": name})
    return out


def _bbox(info: LayerInfo) -> list[float] | None:
    b = info.bounds
    if len(b) != 4 or not all(isinstance(v, float | int) and math.isfinite(v) for v in b):
        return None
    return [float(np.round(v, 7)) for v in b]


def temporal_interval(extent: TemporalExtent | None) -> list[str | None] | None:
    """``[start, end]`` of a temporal extent as RFC 3339 instants (a date spans its day).

    Examples
    --------
    >>> temporal_interval(TemporalExtent("visited", "date", "2021-03-04", "2023-06-01"))
    ['2021-03-04T00:00:00Z', '2023-06-01T23:59:59Z']
    >>> temporal_interval(None) is None
    True
    """
    if extent is None:
        return None
    if extent.kind == "date":
        return [extent.start and f"{extent.start}T00:00:00Z",
                extent.end and f"{extent.end}T23:59:59Z"]
    return [extent.start, extent.end]


def collection(base: str, info: LayerInfo, fmt: str,
               temporal: TemporalExtent | None = None) -> dict[str, Any]:
    """The description of one collection (``/collections/{id}``).

    ``temporal`` (:meth:`layers.store.Store.temporal`) adds the temporal extent: the span
    of the property ``datetime`` filters on.
    """
    title, description = titles(info)
    url = f"{base}/collections/{info.name}"
    spec = catalog_spec(info.name)
    links = self_links(url, fmt, title=title) + [
        link(f"{url}/items?f=json", "items", GEOJSON, f"{title} (GeoJSON)"),
        link(f"{url}/items?f=html", "items", HTML, f"{title} (HTML)"),
        link(f"{url}/schema", "describedby", SCHEMA, "Feature schema (property types)"),
        link(f"{url}/queryables", REL_QUERYABLES, SCHEMA,
             "Queryable properties (CQL2 filter)"),
        link(f"{url}/sortables", REL_SORTABLES, SCHEMA, "Sortable properties (sortby)"),
        link(f"{url}/tiles", REL_TILESETS, JSON, "Vector tilesets (OGC API – Tiles)"),
        link(f"{base}/collections", "collection", JSON, "All collections"),
    ]
    out: dict[str, Any] = {
        "id": info.name,
        "title": title,
        "description": description,
        "itemType": "feature",
        "crs": list(OFFERED_URIS),
        "storageCrs": CRS84,
        "links": links,
    }
    box = _bbox(info)
    extent: dict[str, Any] = {}
    if box is not None:
        extent["spatial"] = {"bbox": [box], "crs": CRS84}
    interval = temporal_interval(temporal)
    if interval is not None:
        extent["temporal"] = {"interval": [interval], "trs": GREGORIAN}
    if extent:
        out["extent"] = extent
    if temporal is not None:
        out["temporalProperty"] = temporal.property  # which property datetime selects on
    # Atlas extras (allowed by the spec's open schemas): size, version, provenance.
    out["numberOfFeatures"] = info.count
    out["updated"] = info.updated
    if spec is not None:
        out["group"] = {"id": spec.group, "title": " ".join(GROUPS.get(spec.group, ()))}
        # The current version's own provenance (a user's replacement says its source).
        prov = version_provenance(spec, info.meta)
        meta = LayerMeta.from_dict(info.meta)
        source = prov.source_zh if prov.source_zh == prov.source_en else \
            f"{prov.source_zh} — {prov.source_en}"
        out["provenance"] = {
            "source": source, "licence": prov.licence,
            "datum": prov.datum, "accuracy": prov.accuracy, "date": prov.date,
            "authored": prov.authored,
            "version": info.version_number, "builtin": meta.builtin,
            **{k: v for k, v in (("author", meta.author), ("note", meta.note),
                                 ("source_file", meta.source_file),
                                 ("restored_from", meta.restored_from),
                                 ("derived_from", meta.derived_from)) if v not in ("", None)},
            "versions": f"/api/reference/{info.name}/versions",
        }
    else:
        out["provenance"] = {k: v for k, v in info.meta.items()
                             if k in ("source", "licence", "datum", "accuracy", "date",
                                      "source_file", "filename")}
    out["defaultLimit"] = DEFAULT_LIMIT
    out["maxLimit"] = MAX_LIMIT
    return out


def collections(base: str, infos: list[LayerInfo], fmt: str,
                temporal: Mapping[str, TemporalExtent | None] | None = None
                ) -> dict[str, Any]:
    """The collection list (``/collections``), with the CRSs every collection offers."""
    temporal = temporal or {}
    return {
        "links": self_links(f"{base}/collections", fmt, title="Collections"),
        "crs": list(OFFERED_URIS),
        "collections": [collection(base, info, "json", temporal.get(info.name))
                        for info in infos],
    }


def feature_schema(base: str, info: LayerInfo, props: list[dict[str, Any]]) -> dict[str, Any]:
    """JSON Schema of a collection's features (the ``describedby`` link).

    GDAL's OAPIF driver types its fields from it instead of guessing from the
    first page (a column empty in the first page would otherwise become text).

    Examples
    --------
    >>> from layers.store import LayerInfo
    >>> info = LayerInfo("sites", 1, (0.0, 0.0, 1.0, 1.0), "v1", "2023-01-01T00:00:00Z")
    >>> s = feature_schema("http://h/ogcapi", info, [{"name": "n", "type": "integer",
    ...                                               "title": "n"}])
    >>> s["properties"]["properties"]["properties"]["n"]
    {'type': 'integer', 'title': 'n'}

    A property named ``id`` is left to GDAL's reading of the first page:

    >>> s = feature_schema("http://h/ogcapi", info, [{"name": "id", "type": "string",
    ...                                               "title": "id"}])
    >>> s["properties"]["properties"]["properties"]
    {}
    """
    title, description = titles(info)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}/collections/{info.name}/schema",
        "title": title,
        "description": description,
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "integer"},
            "geometry": {"type": "object"},
            "properties": {
                "type": "object",
                # No "id" here: GDAL's OAPIF driver already takes a property named
                # "id" from the first page, and a second "id" field from the schema
                # leaves both empty (every id lost in QGIS/ogr2ogr).
                "properties": {p["name"]: {"type": p["type"], "title": p["title"]}
                               for p in props if p["name"] != "id"},
            },
        },
    }
