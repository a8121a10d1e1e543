"""OGC API – Features under ``/ogcapi``, for GDAL, QGIS and browsers: one module per part.

========================  ===========================================================
module                    what it serves
========================  ===========================================================
:mod:`.core`              landing page, conformance, OpenAPI (Part 1 core, html, oas30)
:mod:`.features`          collections, schemas, items (Part 1 geojson)
:mod:`.crs`               Part 2: output CRSs, ``bbox-crs``, ``storageCrs``, ``Content-Crs``
:mod:`.filter`            Part 3: CQL2 ``filter``/``filter-lang``/``filter-crs``, ``sortby``
:mod:`.queryables`        Part 3: ``/queryables``, ``/sortables``
:mod:`.tiles`             OGC API – Tiles: tile matrix sets, tilesets, TileJSON, tiles
========================  ===========================================================

Each part module defines a blueprint ``bp`` mounted at ``/ogcapi`` and declares its own
conformance classes (:func:`webmap.ogcapi.common.declare_conformance`);
:func:`webmap.create_app` registers the parts listed in :data:`PARTS`, and
``/ogcapi/conformance`` lists the classes of the parts registered.  Shared pieces:
:mod:`.common` (root URL, negotiation, cached responses), :mod:`.params` (query
parameters), :mod:`.documents` (JSON documents), :mod:`.openapi`, :mod:`.snapshot`
(the items fast path).
"""

#: The part modules, registered in this order by :func:`webmap.create_app`.
PARTS: tuple[str, ...] = ("webmap.ogcapi.core", "webmap.ogcapi.features", "webmap.ogcapi.crs",
                          "webmap.ogcapi.filter", "webmap.ogcapi.queryables",
                          "webmap.ogcapi.tiles")
