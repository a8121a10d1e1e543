"""The river network as a directed graph, so that "upstream of" is a query.

Rivers are digitised source → mouth and a tributary's last vertex lies on the
river it flows into (``flows_into``).  :meth:`RiverNetwork.from_rivers` cuts every
river at the confluences on it into *reaches* and links them in a
:class:`networkx.DiGraph` in the direction water flows: reach ``k`` of a river to
reach ``k + 1``, and a tributary's last reach to the reach of the main river that
starts at the confluence.

Sites are snapped to the network (:meth:`RiverNetwork.snap`: reach, measure along
it, distance in metres in :data:`geo.crs.DISTANCE_CRS`).  A site drains to a
section when it lies on the section's own reach at a smaller measure, or on any
reach from which the graph reaches the section's reach.  The reach × section
answer is computed once per network and mapped onto sites with NumPy, so a
million snapped sites cost a few array operations.

Examples
--------
>>> import geopandas as gpd, shapely
>>> rivers = gpd.GeoDataFrame(
...     {"id": ["main", "trib"], "name_zh": ["干流", "支流"], "basin_id": ["b", "b"],
...      "flows_into": ["", "main"]},
...     geometry=[shapely.LineString([(116.0, 44.0), (116.0, 44.5)]),
...               shapely.LineString([(116.2, 44.2), (116.0, 44.25)])], crs=4326)
>>> net = RiverNetwork.from_rivers(rivers)
>>> net.reaches["reach_id"].tolist()
['main:0', 'main:1', 'trib:0']
>>> sorted(net.graph.successors("trib:0"))
['main:1']
>>> sections = gpd.GeoDataFrame({"id": ["s1"], "river_id": ["main"]},
...     geometry=[shapely.Point(116.0, 44.4)], crs=4326)
>>> net = net.with_sections(sections)
>>> sites = gpd.GeoSeries.from_xy([116.19, 116.0, 116.0], [44.2, 44.1, 44.45], crs=4326)
>>> snapped = net.snap(sites)
>>> net.drains_to(snapped).tolist()   # tributary, main upstream, main downstream
[[True], [True], [False]]
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.ops import substring

from .accuracy import provenance_arrays
from .crs import DISTANCE_CRS
from .nearest import Nearest, SegmentIndex

# Two measures closer than this (m) are the same place on a river: a confluence
# digitised a few centimetres off the main line still cuts it once.
_SAME_PLACE_M = 1.0


def _metric_lines(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Line geometries of ``gdf`` in DISTANCE_CRS, multi-lines merged where they join."""
    geoms = gdf.to_crs(DISTANCE_CRS).geometry.values
    return np.asarray(shapely.line_merge(np.asarray(geoms, dtype=object)), dtype=object)


@dataclass(frozen=True)
class RiverNetwork:
    """Reaches of the river network and the directed graph linking them.

    Build it with :meth:`from_rivers`; add the sections with :meth:`with_sections`.

    Attributes
    ----------
    rivers : pandas.DataFrame
        One row per river (``river_id``, ``name_zh``, ``name_en``, ``basin_id``,
        ``flows_into``, ``length_m``, ``accuracy_m``, ``illustrative``), in the order
        of the input layer.
    reaches : geopandas.GeoDataFrame
        One row per reach (``reach_id``, ``river_id``, ``river_idx``, ``m0``, ``m1``
        measures along the river in metres, ``length_m``), geometry in DISTANCE_CRS.
    graph : networkx.DiGraph
        Reach ids linked in the direction of flow.
    index : SegmentIndex
        Nearest-river search over the rivers (metric).
    lines : ndarray of shapely.LineString
        The river lines in DISTANCE_CRS, in river order.
    sections : pandas.DataFrame
        Sections placed on the network (``section_id``, ``reach_idx``,
        ``river_measure_m``, …); empty until :meth:`with_sections`.
    """

    rivers: pd.DataFrame
    reaches: gpd.GeoDataFrame
    graph: nx.DiGraph
    index: SegmentIndex
    lines: np.ndarray
    sections: pd.DataFrame = field(default_factory=pd.DataFrame)
    _reach_drains: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), bool))
    # basin id -> (river positions, SegmentIndex) or None, filled by basin_lines.
    _basin_index: dict = field(default_factory=dict)

    @classmethod
    def from_rivers(cls, rivers: gpd.GeoDataFrame) -> RiverNetwork:
        """Build the network from the ``rivers`` layer.

        Parameters
        ----------
        rivers : geopandas.GeoDataFrame
            Lines digitised source → mouth with ``id``, ``basin_id`` and
            ``flows_into`` (id of the receiving river, empty for none); ``name_zh``
            is carried along when present.

        Returns
        -------
        RiverNetwork
        """
        n = len(rivers)
        ids = rivers["id"].astype(str).to_numpy()
        into = rivers.get("flows_into", pd.Series([""] * n, index=rivers.index))
        into = into.fillna("").astype(str).to_numpy()
        lines = _metric_lines(rivers)
        index = SegmentIndex(lines)
        accuracy, illustrative = provenance_arrays(rivers)
        table = pd.DataFrame({
            "river_id": ids,
            "name_zh": rivers.get("name_zh", pd.Series(ids, index=rivers.index)).to_numpy(),
            "name_en": rivers.get("name_en", rivers.get("name_zh", pd.Series(
                ids, index=rivers.index))).fillna("").astype(str).to_numpy(dtype=object),
            "basin_id": rivers.get("basin_id", pd.Series([""] * n, index=rivers.index))
            .fillna("").astype(str).to_numpy(),
            "flows_into": into,
            "length_m": index.line_length,
            # Provenance, so that every answer measured against a river can say how
            # far that river may be from the real one (NaN / False when not given).
            "accuracy_m": accuracy,
            "illustrative": illustrative,
        })
        pos = {rid: i for i, rid in enumerate(ids)}
        # Confluences: where each tributary's mouth meets the river it flows into.
        trib = np.flatnonzero([t in pos for t in into])
        main = np.array([pos[into[i]] for i in trib], dtype=np.int64)
        mouths = shapely.get_point(lines[trib], -1) if len(trib) else np.zeros(0, object)
        conf_m = shapely.line_locate_point(lines[main], mouths) if len(trib) else np.zeros(0)
        # Cut points of every river: its confluences strictly inside it.
        inside = (conf_m > _SAME_PLACE_M) & (conf_m < index.line_length[main] - _SAME_PLACE_M)
        cut_line = np.r_[np.arange(n), main[inside]]
        cut_m = np.r_[np.zeros(n), conf_m[inside]]
        order = np.lexsort((cut_m, cut_line))
        cut_line, cut_m = cut_line[order], cut_m[order]
        keep = np.r_[True, (cut_line[1:] != cut_line[:-1])
                     | (np.diff(cut_m) > _SAME_PLACE_M)]
        r_line, r_m0 = cut_line[keep], cut_m[keep]
        last = np.r_[r_line[1:] != r_line[:-1], True]
        r_m1 = np.where(last, index.line_length[r_line], np.r_[r_m0[1:], 0.0])
        k = np.arange(len(r_line)) - np.searchsorted(r_line, r_line, side="left")
        reach_ids = np.char.add(np.char.add(ids[r_line].astype(str), ":"),
                                k.astype(str)).astype(object)
        reaches = gpd.GeoDataFrame({
            "reach_id": reach_ids, "river_id": ids[r_line], "river_idx": r_line,
            "m0": r_m0, "m1": r_m1, "length_m": r_m1 - r_m0,
        }, geometry=_reach_geometries(index, r_line, r_m0, r_m1), crs=DISTANCE_CRS)

        graph = nx.DiGraph()
        graph.add_nodes_from(reach_ids)
        # Within a river: each reach flows into the next one.
        graph.add_edges_from(zip(reach_ids[:-1][~last[:-1]], reach_ids[1:][~last[:-1]],
                                 strict=True))
        # A tributary's last reach flows into the main river's reach at the confluence.
        last_of = {r_line[i]: reach_ids[i] for i in np.flatnonzero(last)}
        target = _reach_at(r_line, r_m0, main, conf_m)
        graph.add_edges_from((last_of[t], reach_ids[j]) for t, j in zip(trib, target, strict=True))
        return cls(rivers=table, reaches=reaches, graph=graph, index=index, lines=lines)

    # -- sections -------------------------------------------------------------------------
    def with_sections(self, sections: gpd.GeoDataFrame) -> RiverNetwork:
        """The network with ``sections`` placed on it (a new, frozen object).

        A section with a ``river_id`` of the network is placed on that river at its
        closest point; otherwise on the nearest river.
        """
        n = len(sections)
        ids = sections["id"].astype(str).to_numpy() if "id" in sections else \
            np.arange(n).astype(str)
        pts = np.asarray(sections.to_crs(DISTANCE_CRS).geometry.values, dtype=object)
        near = self.index.nearest(pts)
        river_idx = near.line.copy()
        measure = near.measure.copy()
        pos = {rid: i for i, rid in enumerate(self.rivers["river_id"])}
        wanted = sections["river_id"].astype(str).to_numpy() if "river_id" in sections else \
            np.array([""] * n)
        named = np.array([w in pos for w in wanted], dtype=bool)
        if named.any():
            river_idx[named] = [pos[w] for w in wanted[named]]
            measure[named] = shapely.line_locate_point(self.lines[river_idx[named]],
                                                       pts[named])
        reach_idx = _reach_at(self.reaches["river_idx"].to_numpy(),
                              self.reaches["m0"].to_numpy(), river_idx, measure)
        table = pd.DataFrame({
            "section_id": ids,
            "name_zh": sections["name_zh"].to_numpy() if "name_zh" in sections else ids,
            "river_idx": river_idx, "reach_idx": reach_idx,
            "reach_id": self.reaches["reach_id"].to_numpy()[reach_idx],
            "river_measure_m": measure,
        })
        # reach × section: does water on this reach (anywhere) pass the section's
        # reach strictly downstream?  Computed once here, mapped onto sites later.
        reach_ids = self.reaches["reach_id"].to_numpy()
        drains = np.zeros((len(reach_ids), n), dtype=bool)
        rpos = {r: i for i, r in enumerate(reach_ids)}
        for j, rid in enumerate(table["reach_id"]):  # a handful of sections
            up = [rpos[a] for a in nx.ancestors(self.graph, rid)]
            drains[up, j] = True
        return replace(self, sections=table, _reach_drains=drains)

    # -- sites ----------------------------------------------------------------------------
    def snap(self, sites: gpd.GeoSeries | gpd.GeoDataFrame,
             max_distance_m: float | None = None,
             basin_id: ArrayLike | None = None) -> pd.DataFrame:
        """Snap sites to the nearest river reach.

        Parameters
        ----------
        sites : GeoSeries or GeoDataFrame
            Points (or any geometry: the closest point of the geometry is used).
        max_distance_m : float, optional
            Sites farther than this from the chosen river are not ``snapped``.
        basin_id : array_like of str, optional
            Each site's basin: a site is then snapped to the nearest river *of its
            own basin* (water does not cross a divide); sites in a basin with no
            river (an inland basin) are not snapped; sites with an empty basin take
            the nearest river overall.

        Returns
        -------
        pandas.DataFrame
            ``river_idx``, ``river_id``, ``reach_idx``, ``reach_id``,
            ``river_measure_m`` (from the river's source), ``measure_m`` (from the
            reach's upstream end), ``distance_m`` and ``snapped``, one row per site
            in order.
        """
        geoms = _metric_geoms(sites)
        return self.snap_metric(geoms, max_distance_m, basin_id)

    def snap_metric(self, geoms: np.ndarray, max_distance_m: float | None = None,
                    basin_id: ArrayLike | None = None,
                    xy: tuple[NDArray, NDArray] | None = None,
                    near: Nearest | None = None) -> pd.DataFrame:
        """:meth:`snap` for geometries already in DISTANCE_CRS (``xy``: point coordinates).

        ``near``, when given, is the caller's own ``self.index`` search for the same
        sites (the overlay needs it anyway), so it is not run twice.
        """
        if near is None:
            near = self.index.nearest_xy(*xy) if xy is not None else self.index.nearest(geoms)
        river_idx, measure, dist = near.line.copy(), near.measure.copy(), near.distance.copy()
        if basin_id is not None and len(self.rivers):
            basin = np.asarray(basin_id, dtype=object).astype(str)
            river_basin = self.rivers["basin_id"].to_numpy().astype(str)
            ok = river_idx >= 0
            wrong = ok & (basin != "") & (river_basin[np.where(ok, river_idx, 0)] != basin)
            # A handful of basins: one vectorised search per basin.  A basin with no
            # river (an inland basin) drains to none: its sites are not snapped.
            orphan = np.zeros(len(basin), dtype=bool)
            for b in np.unique(basin[wrong]):
                sel = np.flatnonzero(wrong & (basin == b))
                found = self.basin_lines(b)
                if found is None:
                    orphan[sel] = True
                    continue
                members, idx = found
                sub = idx.nearest_xy(xy[0][sel], xy[1][sel]) if xy is not None \
                    else idx.nearest(geoms[sel])
                river_idx[sel] = members[sub.line]
                measure[sel], dist[sel] = sub.measure, sub.distance
        reach_idx = _reach_at(self.reaches["river_idx"].to_numpy(),
                              self.reaches["m0"].to_numpy(), river_idx, measure)
        valid = river_idx >= 0
        snapped = valid & np.isfinite(dist)
        if basin_id is not None and len(self.rivers):
            snapped &= ~orphan
        if max_distance_m is not None:
            snapped &= dist <= max_distance_m
        reach_ids = self.reaches["reach_id"].to_numpy()
        river_ids = self.rivers["river_id"].to_numpy()
        m0 = self.reaches["m0"].to_numpy()
        return pd.DataFrame({
            "river_idx": river_idx,
            "river_id": np.where(valid, river_ids[np.where(valid, river_idx, 0)], None)
            if len(river_ids) else [None] * len(river_idx),
            "reach_idx": np.where(valid, reach_idx, -1),
            "reach_id": np.where(valid, reach_ids[np.where(valid, reach_idx, 0)], None)
            if len(reach_ids) else [None] * len(river_idx),
            "river_measure_m": measure,
            "measure_m": measure - (m0[np.where(valid, reach_idx, 0)] if len(m0) else 0.0),
            "distance_m": dist,
            "snapped": snapped,
        })

    def reach_at(self, river_idx: ArrayLike, measure: ArrayLike) -> NDArray[np.int64]:
        """Reach number (row of :attr:`reaches`) holding ``measure`` metres along each
        river ``river_idx``.

        Examples
        --------
        >>> import geopandas as gpd, shapely
        >>> net = RiverNetwork.from_rivers(gpd.GeoDataFrame(
        ...     {"id": ["main", "trib"], "flows_into": ["", "main"]},
        ...     geometry=[shapely.LineString([(116, 44), (116, 45)]),
        ...               shapely.LineString([(116.5, 44.5), (116, 44.5)])], crs=4326))
        >>> net.reaches["reach_id"].iloc[net.reach_at([0, 0, 1], [1000.0, 90_000.0, 0.0])].tolist()
        ['main:0', 'main:1', 'trib:0']
        """
        return _reach_at(self.reaches["river_idx"].to_numpy(), self.reaches["m0"].to_numpy(),
                         np.asarray(river_idx, dtype=np.int64),
                         np.asarray(measure, dtype="float64"))

    def basin_lines(self, basin_id: str) -> tuple[NDArray[np.int64], SegmentIndex] | None:
        """The rivers of one basin (positions in :attr:`rivers`) and a nearest-line
        index over them, built once; None for a basin without rivers.

        Examples
        --------
        >>> import geopandas as gpd, shapely
        >>> net = RiverNetwork.from_rivers(gpd.GeoDataFrame(
        ...     {"id": ["a", "b"], "basin_id": ["x", "y"]},
        ...     geometry=[shapely.LineString([(116, 44), (116, 45)]),
        ...               shapely.LineString([(117, 44), (117, 45)])], crs=4326))
        >>> net.basin_lines("y")[0].tolist(), net.basin_lines("inland") is None
        ([1], True)
        """
        if basin_id in self._basin_index:
            return self._basin_index[basin_id]
        members = np.flatnonzero(self.rivers["basin_id"].to_numpy().astype(str) == basin_id)
        found = (members, SegmentIndex(self.lines[members])) if len(members) else None
        self._basin_index[basin_id] = found
        return found

    def snap_within(self, geoms: np.ndarray, basin_id: str) -> pd.DataFrame:
        """Snap metric geometries that all lie in ``basin_id`` to that basin's rivers.

        Like :meth:`snap_metric` with every site in one basin, at any distance;
        sites of a basin without rivers are not ``snapped``.  Lines and polygons
        are measured at their closest point (exact, GEOS).
        """
        geoms = np.asarray(geoms, dtype=object)
        found = self.basin_lines(basin_id)
        if found is None or not len(geoms):
            near = Nearest(line=np.full(len(geoms), -1, dtype=np.int64),
                           segment=np.zeros(len(geoms), dtype=np.int64),
                           distance=np.full(len(geoms), np.nan),
                           measure=np.full(len(geoms), np.nan),
                           side=np.zeros(len(geoms), dtype=np.int8),
                           x=np.full(len(geoms), np.nan), y=np.full(len(geoms), np.nan))
            return self.snap_metric(geoms, near=near)
        members, idx = found
        sub = idx.nearest(geoms)
        ok = sub.line >= 0
        sub.line = np.where(ok, members[np.where(ok, sub.line, 0)], -1)
        return self.snap_metric(geoms, near=sub)

    def drains_to(self, snapped: pd.DataFrame) -> NDArray[np.bool_]:
        """Site × section matrix: does each snapped site drain to each section?

        True when the site is on the section's reach at a smaller measure, or on
        a reach upstream of it.  Sites not ``snapped`` drain to nothing.
        """
        n, k = len(snapped), len(self.sections)
        out = np.zeros((n, k), dtype=bool)
        if not k or not n:
            return out
        reach = snapped["reach_idx"].to_numpy()
        ok = snapped["snapped"].to_numpy() & (reach >= 0)
        out[ok] = self._reach_drains[reach[ok]]
        sec_reach = self.sections["reach_idx"].to_numpy()
        sec_m = self.sections["river_measure_m"].to_numpy()
        m = snapped["river_measure_m"].to_numpy()
        same = (reach[:, None] == sec_reach[None, :]) & (m[:, None] <= sec_m[None, :])
        return out | (same & ok[:, None])

    def downstream_sections(self, snapped: pd.DataFrame, sep: str = ";") -> NDArray:
        """The sections each snapped site drains to, as ``sep``-joined ids ("" for none).

        Distinct patterns are few, so the strings are built once per pattern.
        """
        mat = self.drains_to(snapped)
        k = mat.shape[1]
        if not k:
            return np.full(len(snapped), "", dtype=object)
        ids = self.sections["section_id"].to_numpy()
        if k > 63:  # more sections than bits in one integer: unique rows (slower)
            patterns, inverse = np.unique(mat, axis=0, return_inverse=True)
            labels = np.array([sep.join(ids[p]) for p in patterns], dtype=object)
            return labels[inverse.ravel()]
        # Each row as one integer (bit j = section j): np.unique on a million
        # integers is a plain sort, where unique rows of a boolean matrix sort
        # structured records (~100x slower).
        code = np.zeros(len(mat), dtype=np.uint64)
        for j in range(k):
            code |= mat[:, j].astype(np.uint64) << np.uint64(j)
        codes, inverse = np.unique(code, return_inverse=True)
        bits = (codes[:, None] >> np.arange(k, dtype=np.uint64)[None, :]) & np.uint64(1)
        labels = np.array([sep.join(ids[p]) for p in bits.astype(bool)], dtype=object)
        return labels[inverse.ravel()]

    def upstream_of(self, section_id: str) -> gpd.GeoDataFrame:
        """Reaches whose water passes ``section_id``: the section's own reach (cut at
        the section) and every reach upstream of it, geometry in EPSG:4326.

        Raises
        ------
        KeyError
            If no section has that id.
        """
        sec = self.sections[self.sections["section_id"] == section_id]
        if sec.empty:
            raise KeyError(f"no section called {section_id!r}")
        j = sec.index[0]
        rows = np.flatnonzero(self._reach_drains[:, j])
        own = int(sec["reach_idx"].iloc[0])
        out = self.reaches.iloc[np.r_[rows, own]].copy()
        cut = float(sec["river_measure_m"].iloc[0]) - float(self.reaches["m0"].iloc[own])
        geoms = np.asarray(out.geometry.values, dtype=object)
        geoms[-1] = substring(geoms[-1], 0.0, cut)
        out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=DISTANCE_CRS))
        out.loc[out.index[-1], "m1"] = float(sec["river_measure_m"].iloc[0])
        out["length_m"] = out["m1"] - out["m0"]
        return out.to_crs(4326)


def _metric_geoms(sites: gpd.GeoSeries | gpd.GeoDataFrame) -> np.ndarray:
    geo = sites.geometry if isinstance(sites, gpd.GeoDataFrame) else sites
    if geo.crs is None:
        geo = geo.set_crs(4326)
    return np.asarray(geo.to_crs(DISTANCE_CRS).values, dtype=object)


def _reach_at(r_line: NDArray, r_m0: NDArray, line: NDArray, measure: NDArray) -> NDArray:
    """Reach number holding ``measure`` on river ``line`` (reaches sorted by river, m0)."""
    line = np.asarray(line, dtype=np.int64)
    if not len(r_line):
        return np.full(len(line), -1, dtype=np.int64)
    big = float(np.max(r_m0) + 1e9)
    key = r_line * big + r_m0
    j = np.searchsorted(key, line * big + np.nan_to_num(measure) + _SAME_PLACE_M / 2,
                        side="right") - 1
    lo = np.searchsorted(r_line, line, side="left")
    return np.maximum(j, lo)


def _reach_geometries(index: SegmentIndex, r_line: NDArray, r_m0: NDArray, r_m1: NDArray
                      ) -> np.ndarray:
    """Reach lines cut from the rivers, built from vertex arrays in one call."""
    # Vertices of every river with their measure: each segment's start, plus the
    # last segment's end.
    last = np.r_[index.seg_line[1:] != index.seg_line[:-1], True]
    vx = np.r_[index.a[:, 0], index.b[last, 0]]
    vy = np.r_[index.a[:, 1], index.b[last, 1]]
    vm = np.r_[index.seg_m0, index.seg_m0[last] + index.seg_len[last]]
    vl = np.r_[index.seg_line, index.seg_line[last]]
    reach = _reach_at(r_line, r_m0, vl, vm - _SAME_PLACE_M / 2)
    inside = (vm > r_m0[reach] + 1e-9) & (vm < r_m1[reach] - 1e-9)
    sx, sy = index.point_at(r_line, r_m0)
    ex, ey = index.point_at(r_line, r_m1)
    nr = len(r_line)
    rid = np.r_[reach[inside], np.arange(nr), np.arange(nr)]
    m = np.r_[vm[inside], r_m0, r_m1]
    xs = np.r_[vx[inside], sx, ex]
    ys = np.r_[vy[inside], sy, ey]
    order = np.lexsort((m, rid))
    return shapely.linestrings(xs[order], ys[order], indices=rid[order])
