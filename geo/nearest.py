"""Exact nearest-feature search for many sites at once: linestrings and points.

:class:`SegmentIndex` answers "which line is nearest, how far, where along it and
on which side" for a million points in a few seconds without a Python loop over
sites.  GEOS' ``STRtree.query_nearest`` costs tens of microseconds per point
against thousands of river segments (a priority-queue walk with a generic GEOS
distance call per candidate), so points take a faster, still exact route:

1. the sites are binned into square cells of ``cell_m``;
2. for each occupied cell a KD-tree over the segments' midpoints gives an upper
   bound on the distance from the cell centre to the nearest segment, and every
   segment that could be nearest to *some* point of the cell (the centre's
   distance to it at most the centre's nearest distance plus twice the cell's
   half-diagonal) becomes a candidate;
3. exact point-to-segment distances of each site to its cell's candidates are
   computed with NumPy in chunks, and the smallest wins.

Non-point sites (polygons, lines) use ``STRtree.query_nearest`` on the segments,
which is exact for any geometry and fast enough for the thousands of polygons a
user uploads.  All coordinates are metric (a CRS from :mod:`geo.crs`).

Examples
--------
>>> import shapely
>>> idx = SegmentIndex([shapely.LineString([(0, 0), (1000, 0)]),
...                     shapely.LineString([(0, 500), (0, 2000)])])
>>> r = idx.nearest_xy([400.0, -10.0], [30.0, 900.0])
>>> r.line.tolist(), r.distance.round(1).tolist(), r.measure.round(1).tolist()
([0, 1], [30.0, 10.0], [400.0, 400.0])
>>> r.side.tolist()  # +1 left of the line's direction, -1 right, 0 on it
[1, 1]
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

# Sites per chunk in the exact refinement: bounds memory at about
# chunk × candidates × 8 bytes × ~12 temporaries (≈ 200 MB for 40 candidates).
_CHUNK = 65_536
# Separates cells in the one sorted array of (cell, distance) keys; larger than any
# distance on Earth in metres.
_BIG = 1.0e8


@dataclass
class Nearest:
    """Nearest line of each site.

    Attributes
    ----------
    line : ndarray of int
        Position of the nearest line in the index's input (-1 when there are no lines).
    segment : ndarray of int
        Global segment number (internal, for :meth:`SegmentIndex.point_on`).
    distance : ndarray of float
        Distance in CRS units (metres).
    measure : ndarray of float
        Distance along the nearest line from its first vertex to the closest point.
    side : ndarray of int
        +1 when the site lies left of the line's direction, -1 right, 0 on it.
    x, y : ndarray of float
        The closest point on the line.
    """

    line: NDArray[np.int64]
    segment: NDArray[np.int64]
    distance: NDArray[np.float64]
    measure: NDArray[np.float64]
    side: NDArray[np.int8]
    x: NDArray[np.float64]
    y: NDArray[np.float64]

    def take(self, positions: ArrayLike) -> Nearest:
        """The answers of the sites at ``positions`` (a new object).

        Examples
        --------
        >>> import shapely
        >>> r = SegmentIndex([shapely.LineString([(0, 0), (10, 0)])]).nearest_xy(
        ...     [1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
        >>> r.take([2, 0]).distance.tolist()
        [3.0, 1.0]
        """
        pos = np.asarray(positions, dtype=np.int64)
        return Nearest(self.line[pos], self.segment[pos], self.distance[pos],
                       self.measure[pos], self.side[pos], self.x[pos], self.y[pos])


class SegmentIndex:
    """Exact nearest-line search over linestrings in a metric CRS.

    Parameters
    ----------
    lines : array_like of shapely.LineString
        The lines, in a metric CRS.  MultiLineStrings are measured part after part.
    cell_m : float, optional
        Cell size for binning point sites (metres).  Smaller cells give fewer
        candidates per site but more cells to prepare; by default it adapts to
        the sites' density (about eight sites per cell, 0.5–50 km).
    max_segment_m : float
        Long segments are split to at most this length so that a segment's
        midpoint stays a usable proxy for it (longer segments mean fewer
        candidates per site but a looser first bound per cell).
    """

    def __init__(self, lines: ArrayLike, cell_m: float | None = None,
                 max_segment_m: float = 5000.0) -> None:
        lines = np.asarray(lines, dtype=object)
        self.n_lines = len(lines)
        self.cell_m = None if cell_m is None else float(cell_m)
        dense = shapely.segmentize(lines, max_segment_m) if len(lines) else lines
        # Flatten every line to vertices, keeping which line (and which part of a
        # multi-line) each vertex came from; a segment joins two consecutive
        # vertices of the same part.
        parts, part_line = shapely.get_parts(dense, return_index=True)
        coords, vpart = shapely.get_coordinates(parts, return_index=True)
        same = vpart[1:] == vpart[:-1] if len(coords) else np.zeros(0, bool)
        start = np.flatnonzero(same)
        self.a = coords[start]
        self.b = coords[start + 1]
        self.seg_line = part_line[vpart[start]].astype(np.int64)
        ab = self.b - self.a
        self.seg_len = np.hypot(ab[:, 0], ab[:, 1])
        # Measure of each segment's start along its line: cumulative length within
        # the line (parts of a multi-line are chained in order).
        cum = np.cumsum(self.seg_len) - self.seg_len
        first = np.r_[True, self.seg_line[1:] != self.seg_line[:-1]] if len(start) else \
            np.zeros(0, bool)
        line_base = np.maximum.accumulate(np.where(first, cum, 0.0)) if len(start) else cum
        self.seg_m0 = cum - line_base
        self.line_length = np.zeros(self.n_lines)
        np.add.at(self.line_length, self.seg_line, self.seg_len)
        self._max_len = float(self.seg_len.max()) if len(start) else 0.0
        mids = (self.a + self.b) / 2.0
        self._kd = cKDTree(mids) if len(start) else None
        self._tree: shapely.STRtree | None = None
        self._grid: _Grid | None = None
        self._grid_spec: tuple[tuple[float, ...], float, int] | None = None
        self._grid_lock = threading.Lock()

    @property
    def n_segments(self) -> int:
        """Number of (split) segments indexed."""
        return len(self.a)

    def _strtree(self) -> shapely.STRtree:
        if self._tree is None:
            segs = shapely.linestrings(np.stack([self.a, self.b], axis=1))
            self._tree = shapely.STRtree(segs)
        return self._tree

    # -- points ---------------------------------------------------------------------------
    def nearest_xy(self, x: ArrayLike, y: ArrayLike) -> Nearest:
        """Nearest line of each point ``(x, y)`` (metric coordinates).

        Examples
        --------
        >>> import shapely
        >>> SegmentIndex([shapely.LineString([(0, 0), (10, 0)])]).nearest_xy(
        ...     [5.0], [-2.0]).side.tolist()
        [-1]
        """
        x = np.asarray(x, dtype="float64").ravel()
        y = np.asarray(y, dtype="float64").ravel()
        n = len(x)
        if self._kd is None or n == 0:
            return _empty(n)
        seg = np.empty(n, dtype=np.int64)
        dist = np.empty(n)
        t = np.empty(n)
        grid = self._prepared_grid(n) if self.cell_m is None else None
        rest = np.arange(n)
        if grid is not None:
            # Sites inside the prepared grid read its candidate lists; only the
            # others (far outside the area it covers) get cells of their own.
            number, inside = grid.cell_of(x, y)
            on = np.flatnonzero(inside)
            self._search(x, y, on, number[on], grid.cells, grid.g, grid.candidates,
                         seg, dist, t)
            rest = np.flatnonzero(~inside)
        if len(rest):
            xr, yr = x[rest], y[rest]
            g = self.cell_m or _cell_size(xr, yr)
            cells, inverse = _cells(xr, yr, g)
            self._search(x, y, rest, inverse, cells, g, self._cell_candidates(cells, g),
                         seg, dist, t)
        return self._result(x, y, seg, dist, t)

    def prepare_grid(self, bounds: ArrayLike, cell_m: float = 2000.0,
                     min_sites: int = 0) -> None:
        """Compute the candidate segments of every cell over ``bounds`` once.

        :meth:`nearest_xy` then skips its per-call candidate search for the sites
        inside ``bounds`` (``minx, miny, maxx, maxy``, metric): worth it for an
        index that serves many requests over the same area (the overlay's rivers
        and road, kept per layer version).  Results are the same either way.
        With ``min_sites`` the grid is built by the first call with at least that
        many sites instead of now, so that small requests never wait for it.

        Examples
        --------
        >>> import shapely
        >>> idx = SegmentIndex([shapely.LineString([(0, 0), (1000, 0)])])
        >>> idx.prepare_grid((-500, -500, 1500, 500), cell_m=250)
        >>> r = idx.nearest_xy([400.0, 9000.0], [30.0, 0.0])   # inside, outside the grid
        >>> r.distance.tolist(), r.measure.tolist()
        ([30.0, 8000.0], [400.0, 1000.0])
        """
        self._grid_spec = (tuple(float(v) for v in bounds), float(cell_m), int(min_sites))
        self._grid = None
        if min_sites <= 0:
            self._prepared_grid(0)

    def warm(self, n_sites: int) -> None:
        """Build the prepared grid now if a call of ``n_sites`` sites would build it.

        For a caller that splits one large request into chunks smaller than the
        grid's ``min_sites``: the chunks then use the grid the whole would have.
        """
        self._prepared_grid(n_sites)

    def _prepared_grid(self, n: int) -> _Grid | None:
        """The prepared grid, built now if one is wanted for a call of ``n`` sites."""
        spec = self._grid_spec
        if self._grid is not None or spec is None or n < spec[2] or self._kd is None:
            return self._grid
        with self._grid_lock:  # concurrent requests wait for one build
            if self._grid is None:
                (minx, miny, maxx, maxy), g, _ = spec
                ix0, iy0 = int(np.floor(minx / g)), int(np.floor(miny / g))
                nx = int(np.floor(maxx / g)) - ix0 + 1
                ny = int(np.floor(maxy / g)) - iy0 + 1
                # Cells numbered as in _cells: (ix - ix0) * ny + (iy - iy0).
                ix, iy = np.divmod(np.arange(nx * ny), ny)
                cells = np.column_stack([ix + ix0, iy + iy0]).astype("float64")
                self._grid = _Grid(g, ix0, iy0, nx, ny, cells,
                                   self._cell_candidates(cells, g))
        return self._grid

    def _search(self, x: NDArray, y: NDArray, sites: NDArray, cell: NDArray, cells: NDArray,
                g: float, cand: tuple[NDArray, NDArray, NDArray, NDArray],
                seg: NDArray, dist: NDArray, t: NDArray) -> None:
        """Refine ``sites`` (positions into x, y) in cell order, writing seg, dist, t."""
        # Sites in cell order: each chunk then reads a compact run of the candidate
        # arrays (cache-friendly searchsorted and gathers).
        order = np.argsort(cell)
        for c0 in range(0, len(order), _CHUNK):
            pos = order[c0:c0 + _CHUNK]
            sel = sites[pos]
            seg[sel], dist[sel], t[sel] = self._refine(x[sel], y[sel], cell[pos], cells, g,
                                                       *cand)

    def _cell_candidates(self, cells: NDArray, g: float
                         ) -> tuple[NDArray, NDArray, NDArray, NDArray]:
        """Candidate segments of each cell, nearest first.

        Returns ``(ptr, segments, key, best)``: the candidates of cell ``c`` are
        ``segments[ptr[c]:ptr[c+1]]`` sorted by their distance ``D`` from the cell
        centre, ``key = c * _BIG + D`` (one array searchable for every cell) and
        ``best[c]`` the centre's nearest segment.
        """
        centres = (cells + 0.5) * g
        h = g * np.sqrt(2.0) / 2.0
        # Upper bound on the centre's nearest distance: its nearest segment midpoint.
        upper, _ = self._kd.query(centres, k=1, workers=-1)
        # A segment within r of the centre has its midpoint within r + len/2.
        radius = upper + 2.0 * h + self._max_len / 2.0
        lists = self._kd.query_ball_point(centres, radius, return_sorted=False, workers=-1)
        counts = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
        flat = np.concatenate(lists).astype(np.int64) if len(lists) else np.zeros(0, np.int64)
        owner = np.repeat(np.arange(len(cells)), counts)
        # Exact centre distances prune the loose midpoint candidates to the ones
        # that can be nearest for some point of the cell.
        d, _ = _point_segment(centres[owner, 0], centres[owner, 1], self.a[flat], self.b[flat])
        dmin = np.full(len(cells), np.inf)
        np.minimum.at(dmin, owner, d)
        keep = d <= dmin[owner] + 2.0 * h + 1e-6
        flat, owner, d = flat[keep], owner[keep], d[keep]
        key = owner * _BIG + d
        order = np.argsort(key)
        flat, key = flat[order], key[order]
        ptr = np.zeros(len(cells) + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner, minlength=len(cells)), out=ptr[1:])
        return ptr, flat, key, flat[ptr[:-1]]

    def _refine(self, x: NDArray, y: NDArray, cell: NDArray, cells: NDArray, g: float,
                ptr: NDArray, flat: NDArray, key: NDArray, best: NDArray
                ) -> tuple[NDArray, NDArray, NDArray]:
        """Exact nearest among each site's candidates.

        A site ``p`` at ``r`` from its cell centre ``c`` is at most ``u = |p, best(c)|``
        from some segment, and at least ``D(c, S) - r`` from segment ``S``; only
        segments with ``D(c, S) <= u + r`` can beat ``u``, a prefix of the cell's
        sorted candidates.
        """
        cx, cy = (cells[cell, 0] + 0.5) * g, (cells[cell, 1] + 0.5) * g
        r = np.hypot(x - cx, y - cy)
        b0 = best[cell]
        u, _ = _point_segment(x, y, self.a[b0], self.b[b0])
        stop = np.searchsorted(key, cell * _BIG + u + r + 1e-6, side="right")
        begin = ptr[cell]
        counts = np.maximum(stop - begin, 1)
        site = np.repeat(np.arange(len(x)), counts)
        starts = np.cumsum(counts) - counts
        # Ragged arange: position of each pair within its site's candidate list.
        within = np.arange(len(site)) - np.repeat(starts, counts)
        segs = flat[begin[site] + within]
        d, t = _point_segment(x[site], y[site], self.a[segs], self.b[segs])
        dmin = np.minimum.reduceat(d, starts)
        # The pair of each site attaining its minimum.
        hit = np.flatnonzero(d == dmin[site])
        lead = np.r_[True, site[hit][1:] != site[hit][:-1]]
        if not lead.all():
            # Exact ties (a site equidistant from two segments, e.g. off a shared
            # vertex): the lowest segment wins, so the answer does not depend on the
            # candidate order, i.e. on the cell size or on the other sites.
            hit = hit[np.lexsort((segs[hit], site[hit]))]
            lead = np.r_[True, site[hit][1:] != site[hit][:-1]]
        first = hit[lead]
        return segs[first], d[first], t[first]

    # -- any geometry ---------------------------------------------------------------------
    def nearest(self, geoms: ArrayLike) -> Nearest:
        """Nearest line of each geometry (points take the fast path).

        Examples
        --------
        >>> import shapely
        >>> idx = SegmentIndex([shapely.LineString([(0, 0), (100, 0)])])
        >>> tri = shapely.Polygon([(40, 10), (50, 30), (30, 30)])
        >>> r = idx.nearest([tri, shapely.Point(70, -5)])
        >>> r.distance.tolist(), r.measure.tolist()
        ([10.0, 5.0], [40.0, 70.0])
        """
        geoms = np.asarray(geoms, dtype=object)
        n = len(geoms)
        if self._kd is None or n == 0:
            return _empty(n)
        is_point = (shapely.get_type_id(geoms) == 0) & ~shapely.is_empty(geoms)
        x = np.full(n, np.nan)
        y = np.full(n, np.nan)
        x[is_point] = shapely.get_x(geoms[is_point])
        y[is_point] = shapely.get_y(geoms[is_point])
        out = self.nearest_xy(x[is_point], y[is_point]) if is_point.all() else None
        if out is not None:
            return out
        seg = np.zeros(n, dtype=np.int64)
        dist = np.full(n, np.nan)
        t = np.zeros(n)
        if is_point.any():
            r = self.nearest_xy(x[is_point], y[is_point])
            seg[is_point], dist[is_point] = r.segment, r.distance
            t[is_point] = _param(self.a[r.segment], self.b[r.segment], r.x, r.y)
        other = np.flatnonzero(~is_point & ~shapely.is_empty(geoms) & ~shapely.is_missing(geoms))
        if len(other):
            tree = self._strtree()
            pairs = tree.query_nearest(geoms[other], all_matches=False)
            segs = pairs[1]
            # The closest point on the segment is the second end of the shortest line.
            line = shapely.shortest_line(geoms[other][pairs[0]], tree.geometries[segs])
            px, py = shapely.get_coordinates(shapely.get_point(line, 1)).T
            seg[other[pairs[0]]] = segs
            dist[other[pairs[0]]] = shapely.length(line)
            t[other[pairs[0]]] = _param(self.a[segs], self.b[segs], px, py)
            # A site's own coordinates for the side test: its representative point.
            rp = shapely.get_coordinates(shapely.point_on_surface(geoms[other]))
            x[other], y[other] = rp[:, 0], rp[:, 1]
        res = self._result(x, y, seg, dist, t)
        missing = np.isnan(dist)
        res.line[missing] = -1
        return res

    def _result(self, x: NDArray, y: NDArray, seg: NDArray, dist: NDArray, t: NDArray
                ) -> Nearest:
        a, b = self.a[seg], self.b[seg]
        px = a[:, 0] + t * (b[:, 0] - a[:, 0])
        py = a[:, 1] + t * (b[:, 1] - a[:, 1])
        cross = (b[:, 0] - a[:, 0]) * (y - a[:, 1]) - (b[:, 1] - a[:, 1]) * (x - a[:, 0])
        side = np.sign(np.nan_to_num(np.where(dist <= 1e-9, 0.0, cross))).astype(np.int8)
        return Nearest(line=self.seg_line[seg].copy(), segment=seg, distance=dist,
                       measure=self.seg_m0[seg] + t * self.seg_len[seg], side=side,
                       x=px, y=py)

    def point_at(self, line: ArrayLike, measure: ArrayLike) -> tuple[NDArray, NDArray]:
        """Coordinates at ``measure`` metres along line number ``line`` (clamped to the line).

        Examples
        --------
        >>> import shapely
        >>> idx = SegmentIndex([shapely.LineString([(0, 0), (10, 0), (10, 10)])])
        >>> [v.tolist() for v in idx.point_at([0, 0], [5.0, 15.0])]
        [[5.0, 10.0], [0.0, 5.0]]
        """
        line = np.asarray(line, dtype=np.int64).ravel()
        m = np.asarray(measure, dtype="float64").ravel()
        m = np.clip(m, 0.0, self.line_length[line])
        # Segments are ordered by line then measure; offsetting each measure by its
        # line number times more than any length lets one searchsorted serve all lines.
        start = np.searchsorted(self.seg_line, line, side="left")
        stop = np.searchsorted(self.seg_line, line, side="right")
        big = float(self.line_length.max() + 1.0) if self.n_lines else 1.0
        gkey = self.seg_line * big + self.seg_m0
        seg = np.searchsorted(gkey, line * big + m, side="right") - 1
        seg = np.clip(seg, start, stop - 1)
        t = np.where(self.seg_len[seg] > 0,
                     (m - self.seg_m0[seg]) / np.where(self.seg_len[seg] > 0,
                                                      self.seg_len[seg], 1.0), 0.0)
        t = np.clip(t, 0.0, 1.0)
        a, b = self.a[seg], self.b[seg]
        return a[:, 0] + t * (b[:, 0] - a[:, 0]), a[:, 1] + t * (b[:, 1] - a[:, 1])


@dataclass
class _Grid:
    """Cells of a prepared area with their candidate segments (see ``prepare_grid``)."""

    g: float
    ix0: int
    iy0: int
    nx: int
    ny: int
    cells: NDArray
    candidates: tuple[NDArray, NDArray, NDArray, NDArray]

    def cell_of(self, x: NDArray, y: NDArray) -> tuple[NDArray, NDArray]:
        """Each point's cell number and whether it lies in the grid at all."""
        with np.errstate(invalid="ignore"):
            fx = np.floor(x / self.g) - self.ix0
            fy = np.floor(y / self.g) - self.iy0
            inside = (fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny)
        number = np.where(inside, fx * self.ny + fy, 0).astype(np.int64)
        return number, inside


def _cell_size(x: NDArray, y: NDArray, per_cell: float = 8.0) -> float:
    """Cell size (m) giving about ``per_cell`` sites per cell over the sites' extent."""
    if len(x) < 2:
        return 50_000.0
    area = max(float(np.ptp(x)) * float(np.ptp(y)), 1.0)
    return float(np.clip(np.sqrt(area * per_cell / len(x)), 500.0, 50_000.0))


def _cells(x: NDArray, y: NDArray, g: float) -> tuple[NDArray, NDArray]:
    """Occupied cells (rows of integer ``ix, iy``) and each site's cell number."""
    ix = np.floor(x / g).astype(np.int64)
    iy = np.floor(y / g).astype(np.int64)
    ix0, iy0 = ix.min(), iy.min()
    ny = int(iy.max() - iy0) + 1
    flat = (ix - ix0) * ny + (iy - iy0)
    span = int(flat.max()) + 1
    if span <= 64 * len(flat) + 1_000_000:
        # Dense grid: mark occupied cells and number them without sorting the sites.
        occupied = np.zeros(span, dtype=bool)
        occupied[flat] = True
        number = np.cumsum(occupied) - 1
        ids = np.flatnonzero(occupied)
        inverse = number[flat]
    else:  # sites spread very thinly (e.g. a few far away): sort instead
        ids, inverse = np.unique(flat, return_inverse=True)
    cells = np.column_stack([ids // ny + ix0, ids % ny + iy0]).astype("float64")
    return cells, inverse.ravel()


def _point_segment(px: NDArray, py: NDArray, a: NDArray, b: NDArray
                   ) -> tuple[NDArray, NDArray]:
    """Distance from points to segments ``a→b`` and the parameter of the closest point."""
    abx, aby = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
    apx, apy = px - a[:, 0], py - a[:, 1]
    l2 = abx * abx + aby * aby
    t = np.clip((apx * abx + apy * aby) / np.where(l2 > 0, l2, 1.0), 0.0, 1.0)
    return np.hypot(apx - t * abx, apy - t * aby), t


def _param(a: NDArray, b: NDArray, px: NDArray, py: NDArray) -> NDArray:
    """Parameter in [0, 1] of points known to lie on segments ``a→b``."""
    abx, aby = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
    l2 = abx * abx + aby * aby
    return np.clip(((px - a[:, 0]) * abx + (py - a[:, 1]) * aby)
                   / np.where(l2 > 0, l2, 1.0), 0.0, 1.0)


def _empty(n: int) -> Nearest:
    return Nearest(line=np.full(n, -1, dtype=np.int64), segment=np.zeros(n, dtype=np.int64),
                   distance=np.full(n, np.nan), measure=np.full(n, np.nan),
                   side=np.zeros(n, dtype=np.int8), x=np.full(n, np.nan),
                   y=np.full(n, np.nan))


class PointIndex:
    """Exact nearest point of a small point layer (KD-tree).

    Examples
    --------
    >>> idx = PointIndex([[0.0, 0.0], [100.0, 0.0]])
    >>> i, d = idx.nearest_xy([90.0], [0.0])
    >>> i.tolist(), d.tolist()
    ([1], [10.0])
    """

    def __init__(self, xy: ArrayLike) -> None:
        xy = np.asarray(xy, dtype="float64").reshape(-1, 2)
        self.n = len(xy)
        self._kd = cKDTree(xy) if self.n else None

    def nearest_xy(self, x: ArrayLike, y: ArrayLike) -> tuple[NDArray, NDArray]:
        """Position of the nearest point and the distance, for each ``(x, y)``."""
        x = np.asarray(x, dtype="float64").ravel()
        y = np.asarray(y, dtype="float64").ravel()
        idx = np.full(len(x), -1, dtype=np.int64)
        dist = np.full(len(x), np.nan)
        ok = np.isfinite(x) & np.isfinite(y)
        if self._kd is not None and ok.any():
            dist[ok], idx[ok] = self._kd.query(np.column_stack([x[ok], y[ok]]), k=1, workers=-1)
        return idx, dist
