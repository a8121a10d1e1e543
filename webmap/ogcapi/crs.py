"""OGC API – Features Part 2 (Coordinate Reference Systems by Reference).

The atlas stores every layer in CRS84 (WGS 84 longitude/latitude).  Part 2 lets a
client ask for features in another CRS and give its bbox in another CRS:

=====================  ===================================================================
``crs``                output CRS of ``/items`` and ``/items/{fid}``: any of :data:`OFFERED`
                       (CGCS2000 EPSG:4490, its 3-degree Gauss-Krüger zones of the League
                       EPSG:4546–4549 and, with the zone number, EPSG:4525–4528, WGS 84
                       EPSG:4326, Web Mercator EPSG:3857), in the axis order the CRS
                       defines (EPSG:4326 and 4490 latitude first, Gauss-Krüger northing
                       first); the answer says which in ``Content-Crs``
``bbox-crs``           the CRS of ``bbox`` (same list), in that CRS's axis order
``filter-crs``         the CRS of a CQL2 filter's geometry literals (Part 3, same list)
=====================  ===================================================================

Every collection document lists the offered CRSs (``crs``) and its ``storageCrs``;
the OpenAPI document enumerates them.  Coordinates are transformed with pyproj
(:mod:`geo.crs`), to 1 mm of pyproj's own answer (millimetres are the decimals written
for a projected CRS, 1e-7 degrees for a geographic one).

This module has no routes of its own: it declares the Part 2 conformance class and
gives the items endpoints (:mod:`webmap.ogcapi.features`) and the documents what they
need; the parameters are parsed in :mod:`webmap.ogcapi.params`.

Examples
--------
>>> from webmap.ogcapi.params import output_crs
>>> output_crs(None).code, content_crs(output_crs(None))
('OGC:CRS84', '<http://www.opengis.net/def/crs/OGC/1.3/CRS84>')
>>> decimals(output_crs("EPSG:4548")), decimals(output_crs("EPSG:4490"))
(3, 7)
"""

from __future__ import annotations

from flask import Blueprint

from geo.crs import CRS84_URI, CrsInfo

from .common import PREFIX, declare_conformance
from .params import OFFERED_URIS

bp = Blueprint("ogcapi_crs", __name__, url_prefix=PREFIX)

#: Part 2's class.
CONFORMANCE: tuple[str, ...] = (
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
)
declare_conformance(bp, CONFORMANCE)

STORAGE_CRS = CRS84_URI
#: Decimals written: 1e-7 degrees is about 1 cm; 3 decimals of a metre are 1 mm.
DECIMALS_DEGREES = 7
DECIMALS_METRES = 3


def content_crs(crs: CrsInfo) -> str:
    """The ``Content-Crs`` header of a response in ``crs``."""
    return crs.header


def decimals(crs: CrsInfo) -> int:
    """Coordinate decimals written in ``crs`` (degrees or metres)."""
    return DECIMALS_DEGREES if crs.geographic else DECIMALS_METRES


def collection_members() -> dict[str, object]:
    """The Part 2 members of a collection document: ``crs`` and ``storageCrs``.

    Examples
    --------
    >>> m = collection_members()
    >>> m["storageCrs"], m["crs"][0], len(m["crs"])
    ('http://www.opengis.net/def/crs/OGC/1.3/CRS84', 'http://www.opengis.net/def/crs/OGC/1.3/CRS84', 12)
    """
    return {"crs": list(OFFERED_URIS), "storageCrs": STORAGE_CRS}
