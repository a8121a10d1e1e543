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
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike
from shapely.ops import substring

from .crs import DISTANCE_CRS
from .errors import GeoInputError
from .nearest import SegmentIndex

# Stops farther than this from the road are not on it (a station is at a town the
# road passes through; the authored positions are within a few km).
STOP_MAX_OFFSET_M = 10_000.0
#: Overnight places (towns, attractions) farther than this from the road are no
#: alternative for a day that is too long.
MAX_DETOUR_M = 30_000.0
#: The trip's ends, for the Chinese messages.
ZH_END = {"start": "起点", "end": "终点"}


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

    # -- day stages -----------------------------------------------------------------------
    def _places(self, frame: gpd.GeoDataFrame | None, layer: str = "") -> _Places:
        """Points of ``frame`` with their km along the road and distance from it."""
        if frame is None:
            return _Places.empty(searched=False)
        if len(frame) == 0:
            return _Places.empty()
        loc = self.locate(frame)
        pts = frame.geometry.to_crs(4326) if frame.crs is not None else frame.geometry
        # Lines or polygons (a town's outline) are placed at a representative point.
        pts = pts.representative_point()
        layers = (_names(frame, "layer", layer) if "layer" in frame
                  else np.full(len(frame), layer, dtype=object))
        return _Places(
            ids=_names(frame, "id", ""), zh=_names(frame, "name_zh", ""),
            en=_names(frame, "name_en", ""), layer=layers,
            km=loc["km"].to_numpy(dtype="float64"),
            distance_m=loc["distance_m"].to_numpy(dtype="float64"),
            lon=pts.x.to_numpy(dtype="float64"), lat=pts.y.to_numpy(dtype="float64"))

    def _trip_ends(self, st: _Places, start: str | None, end: str | None,
                   direction: str | None, max_offset_m: float
                   ) -> tuple[float, float, dict[str, Any], dict[str, Any]]:
        """Road km of the trip's start and end and the stops that name them."""
        if direction not in (None, "forward", "reverse"):
            raise GeoInputError(f"direction must be 'forward' or 'reverse', not {direction!r}",
                                hint="forward runs from 宝昌 (km 0) north to 乌拉盖",
                                code="bad_direction",
                                hint_zh="顺行从宝昌（0 公里）向北到乌拉盖")

        def by_id(key: str, which: str) -> int:
            hit = np.flatnonzero(st.ids == str(key))
            if not len(hit):
                known = ", ".join(sorted(str(i) for i in st.ids if i)) or "none"
                raise GeoInputError(f"no station {key!r} on the road for the {which}",
                                    hint=f"pick one of: {known}", code="no_such_station",
                                    message_zh=f"风景大道上没有驿站 {key!r}（{ZH_END[which]}）",
                                    hint_zh=f"可选：{known}")
            return int(hit[0])

        total = self.length_km
        i0 = by_id(start, "start") if start else -1
        i1 = by_id(end, "end") if end else -1
        k0 = float(st.km[i0]) if i0 >= 0 else None
        k1 = float(st.km[i1]) if i1 >= 0 else None
        if k0 is not None and k1 is not None:
            if abs(k1 - k0) * 1000.0 < 1.0:
                raise GeoInputError("the start and the end of the trip are the same place",
                                    hint="pick two different stations", code="empty_trip",
                                    hint_zh="请选两个不同的驿站")
            implied = "forward" if k1 > k0 else "reverse"
            if direction and direction != implied:
                raise GeoInputError(
                    f"from {start} to {end} runs {implied}, not {direction}",
                    hint="leave the direction out, or swap the start and the end",
                    code="direction_conflict", hint_zh="不选方向，或交换起点和终点")
        else:
            reverse = direction == "reverse"
            if k0 is None and k1 is None:
                k0, k1 = (total, 0.0) if reverse else (0.0, total)
            elif k0 is None:
                # Only the end given: start from the road end that leaves a trip at all.
                k0 = total if reverse or k1 == 0.0 else 0.0
            else:
                k1 = 0.0 if reverse or k0 == total else total
            if abs(k1 - k0) * 1000.0 < 1.0:
                raise GeoInputError("the trip would have no length",
                                    hint="pick a start and an end, or the other direction",
                                    code="empty_trip", hint_zh="请选起点和终点，或换一个方向")

        def named(i: int, k: float, zh: str, en: str) -> dict[str, Any]:
            if i < 0:  # the road's end point: named after a stop within max_offset_m of it
                near = np.flatnonzero(np.abs(st.km - k) * 1000.0 <= max_offset_m)
                if len(near):
                    i = int(near[np.argmin(np.abs(st.km[near] - k))])
            if i >= 0:
                return st.record(i)
            pt = self.interpolate([k]).geometry.iloc[0]
            return {"id": "", "name_zh": zh, "name_en": en, "layer": "",
                    "km": round(k, 3), "lon": round(pt.x, 6), "lat": round(pt.y, 6)}

        return (k0, k1, named(i0, k0, "起点", "Start"), named(i1, k1, "终点", "End"))

    def stages(self, max_km: float, stops: gpd.GeoDataFrame,
               max_offset_m: float = STOP_MAX_OFFSET_M, *,
               overnight: gpd.GeoDataFrame | None = None, start: str | None = None,
               end: str | None = None, direction: str | None = None,
               max_detour_m: float = MAX_DETOUR_M) -> gpd.GeoDataFrame:
        """Day stages of at most ``max_km`` that each end at a stop, honest where they cannot.

        Greedy from the trip's start: each stage ends at the farthest stop within
        ``max_km`` (or at the trip's end when that is within reach).  When no stop
        lies within ``max_km`` the stage runs on to the next stop and is flagged
        ``over_max``, with the reason and what to do instead: ``alternatives``
        (places of ``overnight`` — towns, attractions — reachable within the limit,
        the detour off the road included) and the nearest stops before and after
        the point where the limit is reached (``station_before``,
        ``station_after``).  The trip's start and end are named after a stop within
        ``max_offset_m`` of them when there is one.

        Parameters
        ----------
        max_km : float
            Longest wished-for stage (km).
        stops : geopandas.GeoDataFrame
            Candidate stage ends (stations) with ``id``, ``name_zh``, ``name_en``;
            those farther than ``max_offset_m`` from the road are ignored.
        overnight : geopandas.GeoDataFrame, optional
            Other places to spend a night (``id``, ``name_zh``, ``name_en`` and
            optionally ``layer``), offered only for over-limit stages.
        start, end : str, optional
            ``id`` of the stops the trip starts and ends at (default: the road's
            ends, in ``direction``).
        direction : {"forward", "reverse"}, optional
            Forward runs with the road's km (宝昌 → 乌拉盖); implied by ``start`` and
            ``end`` when both are given.
        max_detour_m : float
            Farthest an overnight place may lie from the road.  Its detour is the
            straight line to the road, a lower bound of the way by road.

        Returns
        -------
        geopandas.GeoDataFrame
            One row per stage: ``n``, ``from_zh``, ``from_en``, ``to_zh``, ``to_en``,
            ``km_start``, ``km_end`` (road km: decreasing on a reverse trip),
            ``length_km``, ``over_max``, ``stops`` (stops passed, with their km),
            ``from_id``, ``to_id``, ``direction``; for over-limit stages (None
            elsewhere) ``reason_zh``, ``reason_en``, ``limit_km`` (road km where
            ``max_km`` is reached), ``limit_lon``/``limit_lat``, ``alternatives``
            (list, farthest first, each with ``day_km`` and ``detour_km``; None
            when no ``overnight`` places were given),
            ``station_before`` and ``station_after`` (with ``day_km``); the stage's
            line in the direction of travel, EPSG:4326.

        Raises
        ------
        GeoInputError
            For a ``max_km`` that is not positive, an unknown stop id, a direction
            that contradicts the start and end, or a trip of no length.

        Examples
        --------
        >>> import geopandas as gpd, shapely
        >>> r = ScenicRoute.from_segments(gpd.GeoDataFrame(geometry=[
        ...     shapely.LineString([(116, 44), (116, 45)])], crs=4326))
        >>> towns = gpd.GeoDataFrame({"id": ["a", "b", "c"], "name_zh": ["甲", "乙", "丙"],
        ...     "name_en": ["A", "B", "C"]},
        ...     geometry=gpd.points_from_xy([116] * 3, [44.0, 44.4, 44.6]), crs=4326)
        >>> s = r.stages(60, towns)
        >>> s[["from_en", "to_en", "over_max"]].values.tolist()
        [['A', 'B', False], ['B', 'C', False], ['C', 'End', False]]
        >>> s = r.stages(30, towns, start="c", end="a")
        >>> s[["from_en", "to_en", "over_max"]].values.tolist()
        [['C', 'B', False], ['B', 'A', True]]
        >>> s["station_after"].iloc[1]["name_en"], s["reason_en"].iloc[1][:23]
        ('A', 'No station within 30 km')
        """
        if not (isinstance(max_km, (int, float, np.number)) and np.isfinite(max_km)
                and max_km > 0):
            raise GeoInputError("max_km must be a positive number of kilometres",
                                hint="the longest day, e.g. 100 by bicycle or 250 by car",
                                code="bad_parameter", message_zh="每日最远里程应是正数",
                                hint_zh="例如骑行 100 公里，自驾 250 公里")
        eps = 1e-6
        everything = self._places(stops, "stations")
        st = everything.take(everything.distance_m <= max_offset_m)
        k0, k1, first, last = self._trip_ends(st, start, end, direction, max_offset_m)
        sign = 1.0 if k1 > k0 else -1.0
        total = abs(k1 - k0)
        t_all = sign * (st.km - k0)  # km along the trip, for every stop on the road
        order = np.argsort(t_all, kind="stable")
        st, t_all = st.take(order), t_all[order]
        # Stops between the trip's ends (the stops naming the ends are the ends).
        mid = (t_all > eps) & (t_all < total - eps)
        if last["id"]:
            mid &= ~((st.ids == last["id"]) & (np.abs(t_all - total) * 1000.0 <= max_offset_m))
        if first["id"]:
            mid &= st.ids != first["id"]
        inner, t = st.take(mid), t_all[mid]
        ov = self._places(overnight)
        t_ov = sign * (ov.km - k0)
        rows: list[dict[str, Any]] = []
        here, here_rec = 0.0, first
        # Stages are few (the trip / max_km); each step is one search in sorted km.
        while here < total - eps:
            over = False
            if total - here <= max_km + eps:
                nxt, rec = total, last
            else:
                reach = np.flatnonzero((t > here + eps) & (t <= here + max_km + eps))
                if len(reach):
                    j = int(reach[-1])
                else:
                    later = np.flatnonzero(t > here + eps)
                    j = int(later[0]) if len(later) else -1
                    over = True
                nxt, rec = (float(t[j]), inner.record(j)) if j >= 0 else (total, last)
            length = nxt - here
            passed = np.flatnonzero((t > here + eps) & (t < nxt - eps))
            row: dict[str, Any] = {
                "n": len(rows) + 1, "from_zh": here_rec["name_zh"], "from_en": here_rec["name_en"],
                "to_zh": rec["name_zh"], "to_en": rec["name_en"],
                "km_start": round(k0 + sign * here, 3), "km_end": round(k0 + sign * nxt, 3),
                "length_km": round(length, 3), "over_max": bool(over and length > max_km + eps),
                "stops": [{**inner.record(int(i)), "day_km": round(float(t[i]) - here, 3)}
                          for i in passed],
                "from_id": here_rec["id"], "to_id": rec["id"],
                "direction": "forward" if sign > 0 else "reverse",
                "reason_zh": None, "reason_en": None, "limit_km": None, "limit_lon": None,
                "limit_lat": None, "alternatives": None, "station_before": None,
                "station_after": None,
                "geometry": self.substring(k0 + sign * here, k0 + sign * nxt),
            }
            if row["over_max"]:
                row.update(self._over_limit(here, length, max_km, rec, k0, sign, total, st,
                                            t_all, ov, t_ov, max_detour_m, max_offset_m))
            rows.append(row)
            here, here_rec = nxt, rec
        frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=DISTANCE_CRS)
        # None, not NaN, where a stage keeps its limit (pandas would infer a string dtype).
        for col in ("reason_zh", "reason_en", "alternatives", "station_before", "station_after"):
            frame[col] = pd.Series([r[col] for r in rows], index=frame.index, dtype=object)
        return frame.to_crs(4326)

    def _over_limit(self, here: float, length: float, max_km: float, to: dict[str, Any],
                    k0: float, sign: float, total: float, st: _Places, t_all: np.ndarray,
                    ov: _Places, t_ov: np.ndarray, max_detour_m: float, max_offset_m: float
                    ) -> dict[str, Any]:
        """Why a stage breaks ``max_km`` and what to do instead (see :meth:`stages`)."""
        eps = 1e-6
        limit_t = here + max_km
        limit_km = k0 + sign * limit_t
        pt = self.interpolate([limit_km]).geometry.iloc[0]
        over_km = length - max_km
        out: dict[str, Any] = {
            "reason_zh": (f"{max_km:g} 公里内没有驿站：本段到“{to['name_zh']}”共 "
                          f"{length:.1f} 公里，超出 {over_km:.1f} 公里"),
            "reason_en": (f"No station within {max_km:g} km: this stage to {to['name_en']} "
                          f"is {length:.1f} km, {over_km:.1f} km over the limit"),
            "limit_km": round(limit_km, 3), "limit_lon": round(pt.x, 6),
            "limit_lat": round(pt.y, 6),
        }
        # Overnight places reachable within the day: along the road, then the detour.
        day = (t_ov - here) + ov.distance_m / 1000.0
        ok = np.flatnonzero((t_ov > here + eps) & (t_ov < total - eps)
                            & (ov.distance_m <= max_detour_m) & (day <= max_km + eps))
        ok = ok[np.argsort(-t_ov[ok], kind="stable")][:MAX_ALTERNATIVES]
        # None when no overnight places were given (not looked for), [] when none fit.
        out["alternatives"] = None if ov.searched is False else [
            {**ov.record(int(i)), "day_km": round(float(day[i]), 3),
             "detour_km": round(float(ov.distance_m[i]) / 1000.0, 3)} for i in ok]
        # The nearest stops on either side of the point where the limit is reached.
        slack = max_offset_m / 1000.0
        before = np.flatnonzero((t_all >= -slack) & (t_all <= limit_t + eps))
        after = np.flatnonzero((t_all > limit_t + eps) & (t_all <= total + slack))
        if len(before):
            i = int(before[-1])
            out["station_before"] = {**st.record(i),
                                     "day_km": round(max(float(t_all[i]) - here, 0.0), 3)}
        if len(after):
            i = int(after[0])
            out["station_after"] = {**st.record(i),
                                    "day_km": round(float(t_all[i]) - here, 3)}
        return out


#: Overnight alternatives listed for an over-limit stage (the farthest first).
MAX_ALTERNATIVES = 5


@dataclass(frozen=True)
class _Places:
    """Named points measured against the road (parallel arrays)."""

    ids: np.ndarray
    zh: np.ndarray
    en: np.ndarray
    layer: np.ndarray
    km: np.ndarray
    distance_m: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    searched: bool = True  # False: no frame was given at all

    @classmethod
    def empty(cls, searched: bool = True) -> _Places:
        e = np.array([], dtype=object)
        f = np.array([], dtype="float64")
        return cls(e, e, e, e, f, f, f, f, searched)

    def take(self, sel: np.ndarray) -> _Places:
        return _Places(*(getattr(self, k)[sel] for k in
                         ("ids", "zh", "en", "layer", "km", "distance_m", "lon", "lat")))

    def record(self, i: int) -> dict[str, Any]:
        return {"id": str(self.ids[i]), "name_zh": str(self.zh[i]), "name_en": str(self.en[i]),
                "layer": str(self.layer[i]), "km": round(float(self.km[i]), 3),
                "lon": round(float(self.lon[i]), 6), "lat": round(float(self.lat[i]), 6)}


# -- GPX/KML of a planned trip --------------------------------------------------------------
def _stage_title(row: Any, lang: str) -> str:
    if lang == "en":
        return f"Stage {row['n']}: {row['from_en']} → {row['to_en']}"
    return f"第{row['n']}段：{row['from_zh']} → {row['to_zh']}"


def stage_features(stages: gpd.GeoDataFrame, n: int | None = None, lang: str = "zh"
                   ) -> gpd.GeoDataFrame:
    """The tracks and waypoints of one stage (``n``) or of the whole trip, for a GPS.

    Each stage is a line (its name says where from and to, its length and whether
    it breaks the limit); the trip's stops are points: the start, every stage end
    and the stations passed, at the stops' own coordinates.

    Parameters
    ----------
    stages : geopandas.GeoDataFrame
        The output of :meth:`ScenicRoute.stages`.
    n : int, optional
        One stage (1-based), or every stage when None.
    lang : {"zh", "en"}
        Language of the names.

    Raises
    ------
    GeoInputError
        For a stage number the plan does not have.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> r = ScenicRoute.from_segments(gpd.GeoDataFrame(geometry=[
    ...     shapely.LineString([(116, 44), (116, 45)])], crs=4326))
    >>> towns = gpd.GeoDataFrame({"id": ["a", "b"], "name_zh": ["甲", "乙"],
    ...     "name_en": ["A", "B"]}, geometry=gpd.points_from_xy([116, 116], [44.0, 44.4]), crs=4326)
    >>> f = stage_features(r.stages(60, towns), lang="en")
    >>> f.geom_type.tolist(), f["name"].tolist()[2:]
    (['LineString', 'LineString', 'Point', 'Point', 'Point'], ['A', 'B', 'End'])
    >>> stage_features(r.stages(60, towns), 2, "en")["name"].tolist()
    ['Stage 2: B → End', 'B', 'End']
    """
    if n is not None:
        if not 1 <= int(n) <= len(stages):
            raise GeoInputError(f"the plan has no stage {n}",
                                hint=f"stages are numbered 1 to {len(stages)}",
                                code="no_such_stage", message_zh=f"行程中没有第 {n} 段",
                                hint_zh=f"分段编号为 1 到 {len(stages)}")
        stages = stages[stages["n"] == int(n)]
    stages = stages.to_crs(4326)
    key = "name_en" if lang == "en" else "name_zh"
    lines = gpd.GeoDataFrame({
        "name": [_stage_title(r, lang) for _, r in stages.iterrows()],
        "kind": "stage", "n": stages["n"].to_numpy(),
        "length_km": stages["length_km"].to_numpy(),
        "over_max": stages["over_max"].to_numpy(),
        "km": stages["km_start"].to_numpy(),
    }, geometry=stages.geometry.values, crs=4326)
    # Waypoints: the first stage's start, then each stage's stops passed and its end.
    first = stages.iloc[0]
    start_xy = shapely.get_coordinates(shapely.get_point(first.geometry, 0))[0]
    points: list[dict[str, Any]] = [{
        "name": first["from_en" if lang == "en" else "from_zh"], "kind": "start",
        "n": int(first["n"]), "km": float(first["km_start"]), "lon": start_xy[0],
        "lat": start_xy[1]}]
    for _, row in stages.iterrows():
        for stop in row["stops"]:
            points.append({"name": stop[key], "kind": "stop", "n": int(row["n"]),
                           "km": stop["km"], "lon": stop["lon"], "lat": stop["lat"]})
        end_xy = shapely.get_coordinates(shapely.get_point(row.geometry, -1))[0]
        points.append({"name": row["to_en" if lang == "en" else "to_zh"], "kind": "stage_end",
                       "n": int(row["n"]), "km": float(row["km_end"]), "lon": end_xy[0],
                       "lat": end_xy[1]})
    wpt = pd.DataFrame(points)
    waypoints = gpd.GeoDataFrame(wpt.drop(columns=["lon", "lat"]),
                                 geometry=gpd.points_from_xy(wpt["lon"], wpt["lat"]), crs=4326)
    return gpd.GeoDataFrame(pd.concat([lines, waypoints], ignore_index=True),
                            geometry="geometry", crs=4326)


def trip_export(stages: gpd.GeoDataFrame, fmt: str = "gpx", n: int | None = None,
                datum: str = "wgs84", lang: str = "zh") -> tuple[bytes, str, str]:
    """A planned trip (or one stage) as a GPX or KML file, in WGS 84 or GCJ-02.

    Chinese navigation apps (高德/AMap, 腾讯) draw in GCJ-02: ``datum="gcj02"``
    writes the coordinates in it (the file is then no longer WGS 84, whatever GPX
    says; GPS devices and OsmAnd want the default).

    Returns
    -------
    (bytes, str, str)
        Content, MIME type and file name (``trip.gpx``, ``stage-3-gcj02.kml`` …).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> r = ScenicRoute.from_segments(gpd.GeoDataFrame(geometry=[
    ...     shapely.LineString([(116, 44), (116, 45)])], crs=4326))
    >>> towns = gpd.GeoDataFrame({"id": ["a"], "name_zh": ["甲"], "name_en": ["A"]},
    ...     geometry=gpd.points_from_xy([116], [44.5]), crs=4326)
    >>> data, mime, name = trip_export(r.stages(80, towns), "gpx", n=1, datum="gcj02")
    >>> name, data.count(b"<trk>"), data.count(b"<wpt ")
    ('stage-1-gcj02.gpx', 1, 2)
    """
    from .crs import normalise_datum, transform_geometries
    from .export import to_bytes

    if fmt not in ("gpx", "kml"):
        raise GeoInputError(f"a trip is written as gpx or kml, not {fmt!r}",
                            hint="ask for .gpx (GPS devices, apps) or .kml (Google Earth)",
                            code="unsupported_format", message_zh=f"行程不提供 {fmt!r} 格式",
                            hint_zh="可下载 GPX（导航设备、手机应用）或 KML（谷歌地球）")
    d = normalise_datum(datum)
    feats = stage_features(stages, n, lang)
    if d not in ("wgs84", "cgcs2000"):
        feats = feats.set_geometry(transform_geometries(feats.geometry.values, "wgs84", d),
                                   crs=4326)
    stem = "trip" if n is None else f"stage-{int(n)}"
    if d not in ("wgs84", "cgcs2000"):
        stem += f"-{d}"
    data, mime, _ = to_bytes(feats, fmt, name=stem, lang=lang)
    return data, mime, f"{stem}.{fmt}"
