"""Space-filling curves: an order of features that keeps neighbours together.

Rows written along a Hilbert curve put features that are close on the map in
the same disk pages, so a small bbox reads a few pages instead of one page per
row (PostGIS), and chunks of a layer cover compact areas.

Examples
--------
>>> import shapely
>>> pts = shapely.points([116.0, 119.0, 116.1, 118.9], [44.0, 42.0, 44.1, 42.1])
>>> spatial_order(pts).tolist()  # the two near Xilinhot together, then the two in the south
[0, 2, 3, 1]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely


def hilbert_index(ix: np.ndarray, iy: np.ndarray, order: int = 16) -> np.ndarray:
    """Position along the Hilbert curve of integer cells ``(ix, iy)`` of a 2^order grid.

    Vectorised form of the classic ``xy2d`` (one pass per bit).

    Examples
    --------
    The four cells of the order-1 curve, and a neighbour step at order 2:

    >>> hilbert_index(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 0]), order=1).tolist()
    [0, 1, 2, 3]
    >>> hilbert_index(np.array([1, 1]), np.array([1, 2]), order=2).tolist()
    [2, 7]
    """
    x = np.asarray(ix, dtype="int64").copy()
    y = np.asarray(iy, dtype="int64").copy()
    n = 1 << order
    d = np.zeros(len(x), dtype="int64")
    s = n >> 1
    while s > 0:
        rx = (x & s) > 0
        ry = (y & s) > 0
        d += s * s * ((3 * rx.astype("int64")) ^ ry.astype("int64"))
        # rotate the quadrant so the curve inside it has the standard orientation
        flip = ~ry & rx
        x = np.where(flip, n - 1 - x, x)
        y = np.where(flip, n - 1 - y, y)
        swap = ~ry
        x, y = np.where(swap, y, x), np.where(swap, x, y)
        s >>= 1
    return d


def hilbert_keys(x: np.ndarray, y: np.ndarray, bounds: Sequence[float] | None = None,
                 order: int = 16) -> np.ndarray:
    """Hilbert keys of positions ``x, y`` on a 2^order grid over ``bounds`` (default: theirs).

    Examples
    --------
    >>> hilbert_keys(np.array([0.0, 1.0]), np.array([0.0, 0.0]), (0, 0, 1, 1), order=1).tolist()
    [0, 3]
    """
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    if bounds is None:
        bounds = (np.nanmin(x), np.nanmin(y), np.nanmax(x), np.nanmax(y)) if len(x) else (0, 0, 1, 1)
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    n = (1 << order) - 1
    fx = np.nan_to_num((x - minx) / ((maxx - minx) or 1.0))
    fy = np.nan_to_num((y - miny) / ((maxy - miny) or 1.0))
    ix = np.clip(np.floor(fx * n + 0.5), 0, n).astype("int64")
    iy = np.clip(np.floor(fy * n + 0.5), 0, n).astype("int64")
    return hilbert_index(ix, iy, order)


def spatial_order(geoms: np.ndarray, order: int = 16) -> np.ndarray:
    """Positions of ``geoms`` sorted along a Hilbert curve of their bounding-box centres.

    Missing or empty geometries go last; ties keep their input order.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
    order : int
        Bits per axis of the curve's grid (16: 65,536 cells a side).

    Returns
    -------
    numpy.ndarray of int64
    """
    geoms = np.asarray(geoms, dtype=object)
    b = shapely.bounds(geoms)
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    missing = np.isnan(cx) | np.isnan(cy)
    keys = hilbert_keys(np.where(missing, 0, cx), np.where(missing, 0, cy),
                        _bounds(cx[~missing], cy[~missing]), order)
    keys = np.where(missing, np.iinfo("int64").max, keys)
    return np.argsort(keys, kind="stable")


def _bounds(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    if len(x) == 0:
        return (0.0, 0.0, 1.0, 1.0)
    return (float(x.min()), float(y.min()), float(x.max()), float(y.max()))
