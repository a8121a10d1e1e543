"""OGC API – Features Part 3 (Filtering) and CQL2: the conformance this API declares.

``/collections/{id}/items`` takes a CQL2 ``filter`` (:mod:`webmap.ogcapi.params`):

=================  ===========================================================================
``filter``         CQL2 text (``category = 'energy' AND total_investment_yi > 10``) or CQL2
                   JSON: comparisons, ``LIKE``, ``IN``, ``BETWEEN``, ``IS NULL``,
                   ``AND``/``OR``/``NOT``, property-property comparisons, and
                   ``S_INTERSECTS``, ``S_WITHIN``, ``S_CONTAINS``, ``S_DISJOINT`` on the
                   queryable ``geometry`` with any geometry literal, and the custom
                   function ``S_DWITHIN(geometry, literal, metres)`` listed at
                   ``/ogcapi/functions`` (geodesic metres, never degrees)
``filter-lang``    ``cql2-text`` (default for text) or ``cql2-json``
``filter-crs``     CRS of the geometry literals (any CRS the collection offers; CRS84
                   by default), in that CRS's axis order
``sortby``         ``+name_zh,-total_investment_yi`` (missing values last)
=================  ===========================================================================

Filters are parsed by the ``cql2`` library (:mod:`layers.filter`), typed against the
collection's queryables, and evaluated by the store: translated to SQL on PostGIS,
vectorised on the in-memory copy of the GeoPackage store — the same features either
way.  A filter the server cannot evaluate (an unknown property, a type mismatch, a
temporal or array operator, arithmetic) is a 400 with code ``bad_filter`` whose
message names the offending part, in English and Chinese.  The queryables and
sortables themselves are :mod:`webmap.ogcapi.queryables`.

Examples
--------
>>> "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text" in CONFORMANCE
True
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from geo.geojson import dumps
from layers.filter import CONFORMANCE as _FILTER_CLASSES
from layers.filter import FUNCTIONS

from ..core.errors import ApiError
from ..core.http import cached_response, make_etag
from . import documents as docs
from .common import MAX_AGE, PREFIX, declare_conformance
from .params import check_known

bp = Blueprint("ogcapi_filter", __name__, url_prefix=PREFIX)

#: Part 3's filter classes and the CQL2 classes the filters speak (the queryables'
#: own classes are declared by :mod:`webmap.ogcapi.queryables`).
CONFORMANCE: tuple[str, ...] = tuple(c for c in _FILTER_CLASSES
                                     if not c.endswith(("/queryables",
                                                        "/queryables-query-parameters",
                                                        "/sortables")))
declare_conformance(bp, CONFORMANCE)


@bp.get("/functions")
def functions() -> Response:
    """The custom functions a filter may call (``S_DWITHIN``, distances in metres)."""
    check_known(request.args, ("f",))
    if request.args.get("f", "json") != "json":
        raise ApiError("the functions are JSON only", 400, hint="leave out f or use f=json",
                       code="unsupported_format", message_zh="只提供 JSON 格式",
                       hint_zh="请去掉 f 或使用 f=json")
    return cached_response(make_etag("ogcapi", "functions"),
                           lambda: dumps({"functions": list(FUNCTIONS)}), docs.JSON,
                           max_age=MAX_AGE)
