"""The scenic road as one measured line: km posts, linear referencing, day stages.

:meth:`ScenicRoute.from_segments` joins the ordered segments of the
``scenic_road`` layer into one LineString in :data:`geo.crs.DISTANCE_CRS`; every
kilometre figure is that line's length, so a point's km, the km posts and the
stages all agree with each other.  Locating uses the exact nearest-segment search
of :mod:`geo.nearest`, vectorised over any number of points.

Examples
--------
>>> import geopandas as gpd, shapely
>>> road = gpd.GeoDataFrame({"seq": [2, 1], "name_zh": ["乙段", "甲段"]},
...     geometry=[shapely.LineString([(116.5, 44.0), (117.0, 44.0)]),
...               shapely.LineString([(116.0, 44.0), (116.5, 44.0)])], crs=4326)
>>> route = ScenicRoute.from_segments(road)
>>> round(route.length_km, 1)
80.2
>>> pts = route.interpolate([10.0, 55.5])
>>> route.locate(pts)["km"].round(3).tolist()
[10.0, 55.5]
>>> route.locate(gpd.GeoSeries.from_xy([116.25], [44.05], crs=4326))["side"].tolist()
['left']
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike
from shapely.ops import substring

from .crs import DISTANCE_CRS
from .nearest import SegmentIndex

# Stops farther than this from the road are not on it (a station is at a town the
# road passes through; the authored positions are within a few km).
STOP_MAX_OFFSET_M = 10_000.0


def _names(frame: pd.DataFrame, col: str, fallback: str) -> np.ndarray:
    if col in frame:
        return frame[col].fillna("").astype(str).to_numpy()
    return np.full(len(frame), fallback, dtype=object)


@dataclass(frozen=True)
class ScenicRoute:
    """The scenic road, measured.

    Attributes
    ----------
    line : shapely.LineString
        The whole road, start to end, in DISTANCE_CRS.
    segments : geopandas.GeoDataFrame
        The input segments in road order with ``km_from``/``km_to`` measured on
        :attr:`line` (EPSG:4326).
    index : SegmentIndex
        Nearest-point search on :attr:`line`.
    """

    line: shapely.LineString
    segments: gpd.GeoDataFrame
    index: SegmentIndex

    @classmethod
    def from_segments(cls, road: gpd.GeoDataFrame, order: str = "seq") -> ScenicRoute:
        """Join the road's segments, in ``order``, into one line.

        Each segment is reversed when its far end, not its near end, meets the
        previous segment, so segments digitised either way still chain.

        Raises
        ------
        ValueError
            For an empty layer.
        """
        if road.empty:
            raise ValueError("the scenic road layer is empty")
        ordered = road.sort_values(order) if order in road else road
        geoms = np.asarray(shapely.line_merge(
            np.asarray(ordered.to_crs(DISTANCE_CRS).geometry.values, dtype=object)),
            dtype=object)
        starts = shapely.get_coordinates(shapely.get_point(geoms, 0))
        ends = shapely.get_coordinates(shapely.get_point(geoms, -1))
        # Orient each segment: the first by which of its ends is nearer the second
        # segment, the others by which end is nearer the previous segment's end.
        flip = np.zeros(len(geoms), dtype=bool)
        if len(geoms) > 1:
            nxt = np.vstack([starts[1], ends[1]])
            flip[0] = (np.hypot(*(starts[0] - nxt).T).min()
                       < np.hypot(*(ends[0] - nxt).T).min())
        for i in range(1, len(geoms)):  # a chain: each step depends on the previous
            prev_end = starts[i - 1] if flip[i - 1] else ends[i - 1]
            flip[i] = np.hypot(*(ends[i] - prev_end)) < np.hypot(*(starts[i] - prev_end))
        geoms = np.where(flip, shapely.reverse(geoms), geoms)
        coords, owner = shapely.get_coordinates(geoms, return_index=True)
        # Drop each segment's first vertex when it repeats the previous segment's last.
        dup = np.r_[False, (owner[1:] != owner[:-1])
                    & (np.hypot(*(coords[1:] - coords[:-1]).T) < 1e-6)]
        line = shapely.LineString(coords[~dup])
        lengths = shapely.length(geoms)
        km_to = np.cumsum(lengths) / 1000.0
        segs = ordered.copy()
        segs["km_from"] = km_to - lengths / 1000.0
        segs["km_to"] = km_to
        return cls(line=line, segments=segs, index=SegmentIndex([line]))

    @property
    def length_km(self) -> float:
        """Length of the road in km (measured in DISTANCE_CRS)."""
        return float(self.line.length / 1000.0)

    def geometry(self) -> gpd.GeoSeries:
        """The whole road as a one-row GeoSeries in EPSG:4326."""
        return gpd.GeoSeries([self.line], crs=DISTANCE_CRS).to_crs(4326)

    # -- linear referencing ---------------------------------------------------------------
    def interpolate(self, km: ArrayLike) -> gpd.GeoDataFrame:
        """Points at ``km`` along the road (clamped to the road), in EPSG:4326.

        Examples
        --------
        >>> import geopandas as gpd, shapely
        >>> r = ScenicRoute.from_segments(gpd.GeoDataFrame(geometry=[
        ...     shapely.LineString([(116, 44), (116, 45)])], crs=4326))
        >>> r.interpolate([0, 1e6])["km"].round(1).tolist()
        [0.0, 111.1]
        """
        km = np.atleast_1d(np.asarray(km, dtype="float64"))
        km = np.clip(km, 0.0, self.length_km)
        x, y = self.index.point_at(np.zeros(len(km), dtype=np.int64), km * 1000.0)
        pts = gpd.GeoSeries.from_xy(x, y, crs=DISTANCE_CRS).to_crs(4326)
        return gpd.GeoDataFrame({"km": km}, geometry=pts.values, crs=4326)

    def locate(self, points: gpd.GeoSeries | gpd.GeoDataFrame) -> pd.DataFrame:
        """Km along the road and offset from it of each feature.

        Polygons and lines are measured at their closest point to the road.

        Returns
        -------
        pandas.DataFrame
            ``km`` (along the road to the closest point), ``offset_m`` (distance,
            signed: + left of the direction of travel, − right), ``distance_m``
            (unsigned) and ``side`` (``"left"``, ``"right"`` or ``"on"``), in input
            order and with the input's index.
        """
        geo = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
        if geo.crs is None:
            geo = geo.set_crs(4326)
        geoms = np.asarray(geo.to_crs(DISTANCE_CRS).values, dtype=object)
        near = self.index.nearest(geoms)
        side = np.array(["right", "on", "left"], dtype=object)[near.side + 1]
        return pd.DataFrame({
            "km": near.measure / 1000.0,
            "offset_m": near.distance * np.where(near.side < 0, -1.0, 1.0),
            "distance_m": near.distance,
            "side": side,
        }, index=geo.index)

    def km_posts(self, every_km: float = 10.0) -> gpd.GeoDataFrame:
        """Kilometre posts every ``every_km`` from km 0 (the end is not a post).

        Examples
        --------
        >>> import geopandas as gpd, shapely
        >>> r = ScenicRoute.from_segments(gpd.GeoDataFrame(geometry=[
        ...     shapely.LineString([(116, 44), (116, 45)])], crs=4326))
        >>> r.km_posts(50)["km"].tolist()
        [0.0, 50.0, 100.0]
        """
        if not every_km > 0:
            raise ValueError("every_km must be a positive number of kilometres")
        posts = self.interpolate(np.arange(0.0, self.length_km, float(every_km)))
        posts["label"] = [f"K{k:g}" for k in posts["km"]]
        return posts

    def substring(self, km_from: float, km_to: float) -> shapely.LineString:
        """The part of the road between two km, in DISTANCE_CRS."""
        return substring(self.line, km_from * 1000.0, km_to * 1000.0)

    # -- what lies along the road ---------------------------------------------------------
    def along(self, features: gpd.GeoDataFrame, corridor_m: float = 5000.0
              ) -> gpd.GeoDataFrame:
        """Features within ``corridor_m`` of the road, in road order, with km and offset.

        Examples
        --------
        >>> import geopandas as gpd, shapely
        >>> r = ScenicRoute.from_segments(gpd.GeoDataFrame(geometry=[
        ...     shapely.LineString([(116, 44), (116, 45)])], crs=4326))
        >>> f = gpd.GeoDataFrame({"name_zh": ["远", "北", "南"]},
        ...     geometry=gpd.points_from_xy([117, 116.01, 116.0], [44.5, 44.8, 44.1]), crs=4326)
        >>> r.along(f, 5000)["name_zh"].tolist()
        ['南', '北']
        """
        loc = self.locate(features)
        cols = ["km", "offset_m", "side"]
        # Measured values replace any the layer carries (stations have a km field).
        out = features.drop(columns=[c for c in cols if c in features]).join(
            loc[cols].set_axis(features.index))
        out = out[loc["distance_m"].to_numpy() <= corridor_m]
        return out.sort_values("km", kind="stable")

    def stages(self, max_km: float, stops: gpd.GeoDataFrame,
               max_offset_m: float = STOP_MAX_OFFSET_M) -> gpd.GeoDataFrame:
        """Day stages of at most ``max_km`` that each end at a stop.

        Greedy from km 0: each stage ends at the farthest stop within ``max_km``
        (or at the road's end when that is within reach).  When no stop lies
        within ``max_km`` the stage runs on to the next stop and is flagged
        ``over_max``.  The road's start and end are named after a stop within
        ``max_offset_m`` of them when there is one.

        Parameters
        ----------
        max_km : float
            Longest wished-for stage (km).
        stops : geopandas.GeoDataFrame
            Candidate stage ends (stations, towns) with ``name_zh``/``name_en``;
            those farther than ``max_offset_m`` from the road are ignored.

        Returns
        -------
        geopandas.GeoDataFrame
            ``n``, ``from_zh``, ``from_en``, ``to_zh``, ``to_en``, ``km_start``,
            ``km_end``, ``length_km``, ``over_max``, ``stops`` (list of the stops
            passed, with their km), geometry of the stage in EPSG:4326.

        Examples
        --------
        >>> import geopandas as gpd, shapely
        >>> r = ScenicRoute.from_segments(gpd.GeoDataFrame(geometry=[
        ...     shapely.LineString([(116, 44), (116, 45)])], crs=4326))
        >>> towns = gpd.GeoDataFrame({"name_zh": ["甲", "乙", "丙"], "name_en": ["A", "B", "C"]},
        ...     geometry=gpd.points_from_xy([116] * 3, [44.0, 44.4, 44.6]), crs=4326)
        >>> s = r.stages(60, towns)
        >>> s[["from_en", "to_en", "over_max"]].values.tolist()
        [['A', 'B', False], ['B', 'C', False], ['C', 'End', False]]
        """
        if not max_km > 0:
            raise ValueError("max_km must be a positive number of kilometres")
        total = self.length_km
        loc = self.locate(stops) if len(stops) else pd.DataFrame(
            {"km": [], "distance_m": []})
        on_road = loc["distance_m"].to_numpy() <= max_offset_m
        km = loc["km"].to_numpy()[on_road]
        zh = _names(stops, "name_zh", "")[on_road]
        en = _names(stops, "name_en", "")[on_road]
        order = np.argsort(km, kind="stable")
        km, zh, en = km[order], zh[order], en[order]
        eps = 1e-6
        start_zh, start_en, end_zh, end_en = "起点", "Start", "终点", "End"
        if len(km) and km[0] * 1000.0 <= max_offset_m:
            start_zh, start_en = zh[0], en[0]
        if len(km) and (total - km[-1]) * 1000.0 <= max_offset_m:
            end_zh, end_en = zh[-1], en[-1]
            km[-1] = total  # the last stop is the road's end
        rows = []
        here, here_zh, here_en = 0.0, start_zh, start_en
        # Stages are few (the road / max_km); each step is one search in sorted km.
        while here < total - eps:
            over = False
            if total - here <= max_km + eps:
                nxt_km, nxt_zh, nxt_en = total, end_zh, end_en
            else:
                reach = np.flatnonzero((km > here + eps) & (km <= here + max_km + eps))
                if len(reach):
                    j = reach[-1]
                else:
                    later = np.flatnonzero(km > here + eps)
                    j = later[0] if len(later) else -1
                    over = True
                if j >= 0:
                    nxt_km, nxt_zh, nxt_en = km[j], zh[j], en[j]
                else:
                    nxt_km, nxt_zh, nxt_en = total, end_zh, end_en
                if nxt_km >= total - eps:
                    nxt_zh, nxt_en = end_zh, end_en
            passed = np.flatnonzero((km > here + eps) & (km < nxt_km - eps))
            rows.append({
                "n": len(rows) + 1, "from_zh": here_zh, "from_en": here_en,
                "to_zh": nxt_zh, "to_en": nxt_en,
                "km_start": round(here, 3), "km_end": round(float(nxt_km), 3),
                "length_km": round(float(nxt_km) - here, 3),
                "over_max": bool(over and float(nxt_km) - here > max_km + eps),
                "stops": [{"name_zh": str(zh[i]), "name_en": str(en[i]),
                           "km": round(float(km[i]), 3)}
                          for i in passed],
                "geometry": self.substring(here, float(nxt_km)),
            })
            here, here_zh, here_en = float(nxt_km), nxt_zh, nxt_en
        frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=DISTANCE_CRS) if rows else \
            gpd.GeoDataFrame({"n": []}, geometry=[], crs=DISTANCE_CRS)
        return frame.to_crs(4326)
