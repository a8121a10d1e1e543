"""Small helpers to measure and move geometries in the atlas's metric CRSs.

Lengths and distances use :data:`geo.crs.DISTANCE_CRS`, areas
:data:`geo.crs.AREA_CRS`; nothing in the build measures in degrees.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import shapely
from pyproj import Transformer

from geo.crs import AREA_CRS, DISTANCE_CRS, STORAGE_CRS


@lru_cache(maxsize=16)
def _transformer(src: str, dst: str) -> Transformer:
    # Building a Transformer costs ~0.1 s; the build reprojects hundreds of times.
    return Transformer.from_crs(src, dst, always_xy=True)


def to_crs(geoms: Sequence[shapely.Geometry], dst: str, src: str = STORAGE_CRS) -> np.ndarray:
    """Reproject an array of geometries (vectorised over all coordinates)."""
    t = _transformer(src, dst)
    arr = np.asarray(geoms, dtype=object)
    return shapely.transform(arr, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def to_metric(geoms: Sequence[shapely.Geometry]) -> np.ndarray:
    """Geometries in :data:`DISTANCE_CRS` (metres)."""
    return to_crs(geoms, DISTANCE_CRS)


def from_metric(geoms: Sequence[shapely.Geometry]) -> np.ndarray:
    """Geometries from :data:`DISTANCE_CRS` back to lon/lat."""
    return to_crs(geoms, STORAGE_CRS, DISTANCE_CRS)


def area_km2(geoms: Sequence[shapely.Geometry]) -> np.ndarray:
    """Areas in km² measured in :data:`AREA_CRS`.

    Examples
    --------
    >>> cell = shapely.box(116.0, 44.0, 117.0, 45.0)
    >>> round(float(area_km2([cell])[0]))
    8837
    """
    return shapely.area(to_crs(geoms, AREA_CRS)) / 1e6


def length_km(geoms: Sequence[shapely.Geometry]) -> np.ndarray:
    """Lengths in km measured in :data:`DISTANCE_CRS`.

    Examples
    --------
    >>> round(float(length_km([shapely.LineString([(116, 44), (116, 45)])])[0]), 1)
    111.1
    """
    return shapely.length(to_metric(geoms)) / 1e3
