"""The WebMercatorQuad tile matrix set (OGC 17-083r4, Two Dimensional Tile Matrix Set 2.0).

The atlas's vector tiles are the XYZ tiles of Web Mercator (EPSG:3857) that every web
map uses: zoom ``z`` splits the world into ``2^z × 2^z`` tiles of 256 pixels, counted
from the north-west corner.  OGC API – Tiles names that grid *WebMercatorQuad*; its
tile matrix ``z`` is the zoom, its tile row the XYZ ``y`` and its tile column the XYZ
``x``.  :func:`web_mercator_quad` writes the tile matrix set as TMS 2.0 JSON, computed
here (cell size = equator length / 256 / 2^z, scale denominator = cell size / 0.28 mm)
rather than copied.

Examples
--------
>>> tms = web_mercator_quad(max_zoom=2)
>>> tms["id"], tms["crs"], [m["matrixWidth"] for m in tms["tileMatrices"]]
('WebMercatorQuad', 'http://www.opengis.net/def/crs/EPSG/0/3857', [1, 2, 4])
>>> round(tms["tileMatrices"][0]["scaleDenominator"], 3)
559082264.029
>>> tile_matrix_limits(116.0, 43.9, 116.1, 44.0, zooms=range(8, 9))
[{'tileMatrix': '8', 'minTileRow': 93, 'maxTileRow': 93, 'minTileCol': 210, 'maxTileCol': 210}]
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .vector_tiles import MAX_LAT, MAX_ZOOM, tile_for_lonlat

#: Identifier and URI of the tile matrix set.
ID = "WebMercatorQuad"
URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
CRS = "http://www.opengis.net/def/crs/EPSG/0/3857"
#: Half the equator of the WGS 84 sphere Web Mercator uses (the world spans ±this, metres).
HALF_WORLD = math.pi * 6378137.0
TILE_SIZE = 256
#: The standardized rendering pixel (0.28 mm) that relates cell size and scale denominator.
PIXEL_M = 0.00028


def web_mercator_quad(max_zoom: int = MAX_ZOOM) -> dict[str, Any]:
    """The WebMercatorQuad tile matrix set in TMS 2.0 JSON, zooms 0 to ``max_zoom``."""
    matrices = []
    for z in range(max_zoom + 1):
        cell = 2 * HALF_WORLD / TILE_SIZE / 2**z
        matrices.append({
            "id": str(z),
            "scaleDenominator": cell / PIXEL_M,
            "cellSize": cell,
            "cornerOfOrigin": "topLeft",
            "pointOfOrigin": [-HALF_WORLD, HALF_WORLD],
            "tileWidth": TILE_SIZE,
            "tileHeight": TILE_SIZE,
            "matrixWidth": 2**z,
            "matrixHeight": 2**z,
        })
    return {
        "id": ID,
        "title": "Google Maps Compatible for the World",
        "uri": URI,
        "crs": CRS,
        "orderedAxes": ["E", "N"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "boundingBox": {"lowerLeft": [-HALF_WORLD, -HALF_WORLD],
                        "upperRight": [HALF_WORLD, HALF_WORLD], "crs": CRS},
        "tileMatrices": matrices,
    }


def tile_matrix_limits(minx: float, miny: float, maxx: float, maxy: float,
                       zooms: Iterable[int]) -> list[dict[str, Any]]:
    """Rows and columns of the tiles covering a lon/lat box, per tile matrix (zoom).

    Rows count from the north: the box's north edge gives the smallest row.
    """
    miny, maxy = max(miny, -MAX_LAT), min(maxy, MAX_LAT)
    out = []
    for z in zooms:
        col0, row0 = tile_for_lonlat(minx, maxy, z)
        col1, row1 = tile_for_lonlat(maxx, miny, z)
        out.append({"tileMatrix": str(z), "minTileRow": row0, "maxTileRow": row1,
                    "minTileCol": col0, "maxTileCol": col1})
    return out
