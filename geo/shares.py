"""Which polygon holds the largest part of each line or polygon site, and the shares.

A power line or a pipeline that crosses a county border belongs to the county that
holds most of it, not to whichever county one of its vertices happens to fall in.
:func:`polygon_shares` finds the (site, polygon) pairs with one prepared, vectorised
``contains`` / ``intersects`` test per polygon, cuts only the pairs that cross a
border with one :func:`shapely.intersection` over the pair arrays (a site wholly
inside a polygon is its own part) and measures the parts: lengths for lines in
:data:`geo.crs.DISTANCE_CRS` (conformal, metres), areas for polygons in
:data:`geo.crs.AREA_CRS` (equal-area).  Sites whose measure is zero (points, a
polygon of no area) are left to the caller's point lookup.

Examples
--------
>>> import shapely
>>> west, east = shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)
>>> line = shapely.LineString([(7, 5), (17, 5)])          # 3 m west, 7 m east
>>> s = polygon_shares([line], [west, east], measure_crs=None)
>>> s.largest.tolist(), s.largest_share.round(2).tolist()
([1], [0.7])
>>> s.listing(["西县", "东县"]).tolist()
['东县:0.7;西县:0.3']
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer

from .crs import AREA_CRS, DISTANCE_CRS

#: Parts smaller than this share are not listed (slivers along shared borders).
LIST_MIN_SHARE = 0.0005

#: Decimals of the shares in :meth:`Shares.listing`.
SHARE_DECIMALS = 3


@lru_cache(maxsize=4)
def _to_area(src: str = DISTANCE_CRS) -> Transformer:
    return Transformer.from_crs(src, AREA_CRS, always_xy=True)


def measure(geoms: ArrayLike, measure_crs: str | None = DISTANCE_CRS) -> NDArray[np.float64]:
    """Length of lines (m) and area of polygons (m², equal-area) of metric geometries.

    Parameters
    ----------
    geoms : array_like of shapely geometries
        In ``measure_crs`` (metres).  The dimension of each geometry decides:
        2 → area (reprojected to :data:`geo.crs.AREA_CRS` first unless
        ``measure_crs`` is None), 1 → length, 0 → 0.
    measure_crs : str or None
        CRS the geometries are in; None measures areas as they are (tests, planar data).

    Examples
    --------
    >>> import shapely
    >>> measure([shapely.box(0, 0, 2, 3), shapely.LineString([(0, 0), (3, 4)]),
    ...          shapely.Point(1, 1)], None).tolist()
    [6.0, 5.0, 0.0]
    """
    g = np.asarray(geoms, dtype=object)
    out = np.zeros(len(g))
    dim = shapely.get_dimensions(g)
    lines = dim == 1
    out[lines] = shapely.length(g[lines])
    polys = np.flatnonzero(dim == 2)
    if len(polys):
        p = g[polys]
        if measure_crs is not None:
            t = _to_area(measure_crs)
            p = shapely.transform(p, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
        out[polys] = shapely.area(p)
    return out


@dataclass
class Shares:
    """The parts of each site in each polygon.

    Attributes
    ----------
    site, polygon : ndarray of int
        One row per (site, polygon) part with a positive share, sorted by site, then
        largest share first (ties: lower polygon first).
    share : ndarray of float
        The part's share of the site's whole length or area (0–1).
    piece : ndarray of shapely geometries
        The part itself (metric).
    largest : ndarray of int
        For each site, the polygon holding its largest part (-1: none, or the site
        has no length or area).
    largest_share : ndarray of float
        That part's share (0 where ``largest`` is -1).
    inside : ndarray of float
        Share of each site inside any of the polygons (NaN where the site has no
        length or area: the caller decides by a point).
    """

    site: NDArray[np.int64]
    polygon: NDArray[np.int64]
    share: NDArray[np.float64]
    piece: NDArray[np.object_]
    largest: NDArray[np.int64]
    largest_share: NDArray[np.float64]
    inside: NDArray[np.float64]

    def listing(self, labels: ArrayLike, sites: ArrayLike | None = None) -> NDArray[np.object_]:
        """``label:share;label:share`` for every site that crosses a border, else "".

        A site crosses a border when it has parts in two or more polygons, or a part
        outside all of them (that part is not listed: it is 1 minus the listed
        shares).  Parts below :data:`LIST_MIN_SHARE` are left out.

        Parameters
        ----------
        labels : array_like of str
            Label of each polygon (names or ids).
        sites : array_like of bool, optional
            Only these sites may be listed (e.g. those inside the League).
        """
        n = len(self.largest)
        out = np.full(n, "", dtype=object)
        keep = self.share >= LIST_MIN_SHARE
        site, poly, share = self.site[keep], self.polygon[keep], self.share[keep]
        parts = np.bincount(site, minlength=n)
        crossing = (parts >= 2) | ((parts == 1) & (self.inside < 1.0 - LIST_MIN_SHARE))
        if sites is not None:
            crossing &= np.asarray(sites, dtype=bool)
        sel = crossing[site]
        if not sel.any():
            return out
        lab = np.asarray(labels, dtype=object)[poly[sel]]
        text = lab + ":" + np.array([_short(x) for x in share[sel]], dtype=object)
        # Parts are sorted by site: join each site's run with ";" (object-array sums
        # concatenate the strings, one reduceat for all sites).
        s = site[sel]
        first = np.r_[True, s[1:] != s[:-1]]
        last = np.r_[s[1:] != s[:-1], True]
        text = np.where(last, text, text + ";")
        out[s[first]] = np.add.reduceat(text, np.flatnonzero(first))
        return out


def _short(x: float) -> str:
    """0.7 rather than 0.700, 1 rather than 1.0."""
    return f"{x:.{SHARE_DECIMALS}f}".rstrip("0").rstrip(".")


def _pairs(geoms: NDArray, polys: NDArray) -> tuple[NDArray, NDArray, NDArray]:
    """(site, polygon) pairs that meet, and whether the site lies wholly inside.

    Polygons are few (a League, a dozen counties, a few basins): one prepared,
    vectorised ``contains`` and ``intersects`` per polygon over the sites in its
    bounding box, as :class:`geo.overlay.PolygonLookup` does for points.  GEOS's
    prepared predicates test a site against a polygon of thousands of vertices in
    microseconds, where an overlay would cost milliseconds.
    """
    shapely.prepare(polys)
    b = shapely.bounds(geoms)
    sites, owners, inside = [], [], []
    for j, (minx, miny, maxx, maxy) in enumerate(shapely.bounds(polys)):
        if not np.isfinite(minx):
            continue
        cand = np.flatnonzero((b[:, 2] >= minx) & (b[:, 0] <= maxx)
                              & (b[:, 3] >= miny) & (b[:, 1] <= maxy))
        if not len(cand):
            continue
        within = shapely.contains(polys[j], geoms[cand])
        meets = within | shapely.intersects(polys[j], geoms[cand])
        sites.append(cand[meets])
        owners.append(np.full(int(meets.sum()), j, dtype=np.int64))
        inside.append(within[meets])
    if not sites:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=bool)
    return np.concatenate(sites), np.concatenate(owners), np.concatenate(inside)


def polygon_shares(geoms: ArrayLike, polygons: ArrayLike,
                   measure_crs: str | None = DISTANCE_CRS) -> Shares:
    """Cut each site by each polygon it meets and measure the parts.

    Parameters
    ----------
    geoms : array_like of shapely geometries
        The sites in ``measure_crs``; missing or empty ones have no parts.
    polygons : array_like of shapely (Multi)Polygons
        The areas (counties, basins, the League) in the same CRS.
    measure_crs : str or None
        CRS of both; areas are measured after reprojecting to
        :data:`geo.crs.AREA_CRS` (None: measured as given).

    Returns
    -------
    Shares
    """
    g = np.asarray(geoms, dtype=object)
    polys = np.asarray(polygons, dtype=object)
    n = len(g)
    whole = np.zeros(n)
    ok = ~(shapely.is_missing(g) | shapely.is_empty(g))
    whole[ok] = measure(g[ok], measure_crs)
    sized = np.flatnonzero(ok & (whole > 0))
    empty = np.zeros(0, dtype=np.int64)
    if not len(sized) or not len(polys):
        inside = np.where(ok & (whole > 0), 0.0, np.nan)
        return Shares(empty, empty, np.zeros(0), np.zeros(0, dtype=object),
                      np.full(n, -1, dtype=np.int64), np.zeros(n), inside)
    sg = g[sized]
    # Invalid input polygons would make GEOS's overlay fail: repair those few.
    bad = ~shapely.is_valid(sg)
    if bad.any():
        sg = sg.copy()
        sg[bad] = shapely.make_valid(sg[bad])
    local, poly, inside_whole = _pairs(sg, polys)
    # Most sites lie wholly inside one polygon: that part is the site itself (share 1).
    # Only the pairs that cross a border are cut, by one intersection over the arrays.
    pieces = np.asarray(sg[local], dtype=object).copy()
    cut = np.flatnonzero(~inside_whole)
    size = whole[sized][local].copy()
    if len(cut):
        pieces[cut] = shapely.intersection(sg[local[cut]], polys[poly[cut]])
        # A piece is measured in the site's own dimension: a polygon's boundary touching
        # a county yields a line piece of no area, which must count as nothing.
        dim_site = shapely.get_dimensions(sg[local[cut]])
        dim_piece = shapely.get_dimensions(pieces[cut])
        size[cut] = np.where(dim_piece >= dim_site, measure(pieces[cut], measure_crs), 0.0)
        size[cut] = np.minimum(size[cut], whole[sized][local[cut]])
    site = sized[local]
    share = size / whole[site]
    keep = share > 0
    site, poly, share, pieces = site[keep], poly[keep], share[keep], pieces[keep]
    order = np.lexsort((poly, -share, site))
    site, poly, share, pieces = site[order], poly[order], share[order], pieces[order]
    first = np.r_[True, site[1:] != site[:-1]] if len(site) else np.zeros(0, bool)
    largest = np.full(n, -1, dtype=np.int64)
    largest_share = np.zeros(n)
    largest[site[first]] = poly[first]
    largest_share[site[first]] = share[first]
    inside = np.where(ok & (whole > 0), 0.0, np.nan)
    np.add.at(inside, site, share)
    inside = np.minimum(inside, 1.0)
    return Shares(site.astype(np.int64), poly.astype(np.int64), share, pieces,
                  largest, largest_share, inside)
