"""OGC API – Features Part 1 (Core), the capabilities: landing page, conformance, OpenAPI.

=========================================  ================================================
``/ogcapi``                                landing page (links to everything else)
``/ogcapi/conformance``                    the conformance classes of the registered parts
``/ogcapi/openapi``                        OpenAPI 3.0 definition (``f=html``: a readable one)
=========================================  ================================================

This blueprint is named ``ogcapi`` and carries the API's HTML templates and
stylesheet for every part.

Examples
--------
>>> import tempfile, os
>>> from webmap import create_app
>>> app = create_app({"ATLAS_STORE": os.path.join(tempfile.mkdtemp(), "a.gpkg")})
>>> app.test_client().get("/ogcapi/conformance").json["conformsTo"][0]
'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core'
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from geo.geojson import dumps

from ..core.store import get_store
from . import documents as docs
from .common import PREFIX, base, conformance_classes, declare_conformance, format_of, respond
from .openapi import openapi

bp = Blueprint("ogcapi", __name__, url_prefix=PREFIX, template_folder="templates",
               static_folder="static", static_url_path="/static")

#: Part 1's classes this module's resources fulfil.
CONFORMANCE: tuple[str, ...] = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
)
declare_conformance(bp, CONFORMANCE)


@bp.get("")
@bp.get("/")
def landing() -> Response:
    """Landing page: links to the API definition, conformance and the collections."""
    fmt = format_of()
    doc = docs.landing(base(), fmt)
    return respond(("landing",), fmt, lambda: dumps(doc),
                   lambda: render_template("ogcapi/landing.html", doc=doc, base=base()))


@bp.get("/conformance")
def conformance() -> Response:
    """The conformance classes this API implements."""
    fmt = format_of()
    classes = conformance_classes()
    doc = docs.conformance(classes)
    return respond(("conformance", *classes), fmt, lambda: dumps(doc),
                   lambda: render_template("ogcapi/conformance.html", doc=doc, base=base()))


@bp.get("/openapi")
def api_definition() -> Response:
    """The OpenAPI 3.0 document, with each collection's queryable properties."""
    fmt = format_of()
    store = get_store()
    infos = store.list_layers()

    def build() -> dict:
        described = [(info, docs.property_schemas(info, store.properties(info.name)))
                     for info in infos]
        return openapi(base(), described)

    return respond(("openapi", *[i.version for i in infos]), fmt, lambda: dumps(build()),
                   lambda: render_template("ogcapi/openapi.html", doc=build(), base=base()),
                   json_type=docs.OPENAPI)
