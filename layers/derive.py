"""Fields and layers derived from others: recomputed, never taken on trust.

A catalog layer carries fields that follow from geometry or from other layers:
the county of every point (from ``admin``), the road kilometre of stations and
attractions (from ``scenic_road``), a section's position on its river and the
river's names and basin (from ``rivers``), lengths and areas (in the metric CRSs
of :mod:`geo.crs`).  The data build (``data/``) computes them with these
functions, and so does a replacement: :func:`derive_layer` recomputes the derived
fields of a replaced layer (saying where the file's own values disagreed), and
:func:`derive_dependents` re-derives the layers that depend on it — their new
versions are committed in the same transaction as the replacement — with a
warning for each dependent that no longer fits (a station 20 km off a new road).

Which layer feeds which (:data:`DEPENDENTS`)::

    admin        → projects, stations, attractions, sections, ports (county),
                   basins (area in the League), rivers (length in the League)
    rivers       → sections (position on the river, river names, basin)
    sections     → wq_samples (a sample sits at its section: position and names)
    scenic_road  → stations, attractions (road km)

A replaced ``rivers`` layer itself gets its tributaries turned to flow into their
river (the network reads the line's direction as the flow) and a missing
``basin_id`` from the basins layer.

Examples
--------
>>> import geopandas as gpd, shapely
>>> admin = gpd.GeoDataFrame({"name_zh": ["盟", "甲旗"], "name_en": ["L", "A"],
...     "level": ["league", "county"]}, geometry=[shapely.box(115, 43, 117, 45)] * 2, crs=4326)
>>> county_of(gpd.GeoSeries.from_xy([116, 118], [44, 44]).values, admin)
(['甲旗', ''], ['A', ''])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import measure
from geo.gazetteer import Gazetteer
from geo.route import STOP_MAX_OFFSET_M, ScenicRoute

from .issues import Issues
from .mapping import COUNTY_TEXT, ROW_COLUMN

#: Which layers' derived fields follow from a layer.
DEPENDENTS: dict[str, tuple[str, ...]] = {
    "admin": ("basins", "rivers", "sections", "stations", "attractions", "projects", "ports"),
    "rivers": ("sections",),
    "sections": ("wq_samples",),
    "scenic_road": ("stations", "attractions"),
}

#: A station farther than this from the road is not on it (geo.route's rule for stops).
STATION_MAX_OFFSET_M = STOP_MAX_OFFSET_M
#: An attraction farther than this from the road is not "along" it (the built data's
#: farthest, 乌拉盖湿地, is 44 km off the road).
ATTRACTION_MAX_OFFSET_M = 50_000.0
#: A section more than this off its river was placed on it with a warning.
SECTION_SNAP_WARN_M = 1000.0
#: How far (m) a section stays from either end of its river (the League border clips
#: rivers, and a section on the very end would have an ambiguous county).
SECTION_END_MARGIN_M = 2000.0


# -- the pieces ------------------------------------------------------------------------------

def units_of(points: Sequence[shapely.Geometry], names: Sequence[str],
             polygons: Sequence[shapely.Geometry]) -> list[str]:
    """Name of the first polygon each point intersects ("" when none), in polygon order.

    Examples
    --------
    >>> units_of([shapely.Point(0.5, 0.5), shapely.Point(5, 5)], ["a"], [shapely.box(0, 0, 1, 1)])
    ['a', '']
    """
    pts = np.asarray(points, dtype=object)
    out = [""] * len(pts)
    if not len(pts) or not len(polygons):
        return out
    tree = shapely.STRtree(np.asarray(polygons, dtype=object))
    ok = ~shapely.is_missing(pts)
    pi, gi = tree.query(pts[ok], predicate="intersects")
    idx = np.flatnonzero(ok)
    # The first unit in polygon order wins for a point on a shared border.
    order = np.lexsort((gi, pi))
    for p, g in zip(pi[order], gi[order], strict=True):
        k = idx[p]
        out[k] = out[k] or names[g]
    return out


def admin_units(admin: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The county-level units of an admin layer (the League outline left out)."""
    if "level" in admin:
        return admin[admin["level"].astype(str) != "league"]
    return admin


def county_of(points: Sequence[shapely.Geometry], admin: gpd.GeoDataFrame
              ) -> tuple[list[str], list[str]]:
    """Chinese and English names of the county-level unit containing each point.

    Points outside every unit get "" (the League's border is checked elsewhere).
    """
    units = admin_units(admin)
    names = units["name_zh"].astype(str).tolist()
    zh = units_of(points, names, units.geometry.values)
    en_of = dict(zip(names, units.get("name_en", pd.Series([""] * len(units))).fillna("")
                     .astype(str), strict=True))
    return zh, [en_of.get(n, "") for n in zh]


def league_outline(admin: gpd.GeoDataFrame | None) -> shapely.Geometry | None:
    """The League polygon of an admin layer (the union of its units when it has none)."""
    if admin is None or not len(admin):
        return None
    if "level" in admin and (admin["level"] == "league").any():
        return admin.geometry[admin["level"] == "league"].iloc[0]
    return shapely.union_all(admin.geometry.values)


def road_route(road: gpd.GeoDataFrame) -> ScenicRoute:
    """The scenic road's segments as one measured route (segments oriented and chained)."""
    return ScenicRoute.from_segments(road)


def road_km(route: ScenicRoute, points: gpd.GeoSeries | gpd.GeoDataFrame | Sequence
            ) -> tuple[np.ndarray, np.ndarray]:
    """Road kilometre of the road point nearest each point, and the distance (m) to it.

    Examples
    --------
    >>> road = gpd.GeoDataFrame({"seq": [1]}, geometry=[shapely.LineString([(116, 44), (116, 45)])],
    ...                         crs=4326)
    >>> km, off = road_km(road_route(road), gpd.GeoSeries.from_xy([116.1], [44.5], crs=4326))
    >>> round(float(km[0]), 1), round(float(off[0]) / 1000, 1)
    (55.6, 8.0)
    """
    if not isinstance(points, (gpd.GeoSeries, gpd.GeoDataFrame)):
        points = gpd.GeoSeries(np.asarray(points, dtype=object), crs=4326)
    loc = route.locate(points)
    return loc["km"].to_numpy(), loc["distance_m"].to_numpy()


def segment_measures(route: ScenicRoute) -> tuple[np.ndarray, np.ndarray]:
    """Start kilometre and length (km) of each segment, in the road layer's row order.

    Examples
    --------
    >>> road = gpd.GeoDataFrame({"seq": [2, 1]}, geometry=[
    ...     shapely.LineString([(116.5, 44), (117, 44)]), shapely.LineString([(116, 44), (116.5, 44)])],
    ...     crs=4326)
    >>> [v.round(1).tolist() for v in segment_measures(road_route(road))]
    [[40.1, 0.0], [40.1, 40.1]]
    """
    segs = route.segments.sort_index()
    return (segs["km_from"].to_numpy(dtype="float64"),
            (segs["km_to"] - segs["km_from"]).to_numpy(dtype="float64"))


def snap_to_lines(points: Sequence[shapely.Geometry], lines: Sequence[shapely.Geometry],
                  end_margin_m: float = SECTION_END_MARGIN_M) -> tuple[np.ndarray, np.ndarray]:
    """Each point moved onto its line (nearest point, in metres), off the line's ends.

    Returns
    -------
    (ndarray of Point, ndarray of float)
        The points on the lines (EPSG:4326) and how far each was moved (m).

    Examples
    --------
    >>> p, moved = snap_to_lines([shapely.Point(116.01, 44.5)], [shapely.LineString([(116, 44), (116, 45)])])
    >>> round(p[0].x, 6), round(float(moved[0]))
    (116.0, 795)
    """
    pts_m = measure.to_metric(points)
    lines_m = measure.to_metric(lines)
    along = shapely.line_locate_point(lines_m, pts_m)
    length = shapely.length(lines_m)
    margin = np.minimum(end_margin_m, length / 2)
    along = np.clip(along, margin, length - margin)
    on_m = shapely.line_interpolate_point(lines_m, along)
    return measure.from_metric(on_m), shapely.distance(pts_m, on_m)


# -- a replaced layer and its dependents -----------------------------------------------------

@dataclass
class DerivedLayer:
    """A layer with its derived fields recomputed.

    Attributes
    ----------
    layer : str
        Catalog id.
    gdf : GeoDataFrame
        The layer, derived fields recomputed.
    recomputed : list of str
        Fields recomputed.
    changed : dict
        Field → number of features whose value changed (against the file or the
        previous version).
    issues : Issues
        Warnings (dependents that no longer fit, file values that disagreed).
    """

    layer: str
    gdf: gpd.GeoDataFrame
    recomputed: list[str] = field(default_factory=list)
    changed: dict[str, int] = field(default_factory=dict)
    issues: Issues = field(default_factory=Issues)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (counts, not rows)."""
        return {"layer": self.layer, "count": int(len(self.gdf)), "recomputed": self.recomputed,
                "changed": self.changed, "issues": self.issues.to_dict()}


def _usable(gdf: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """The features with a geometry (None when there are none): rows still missing one are
    errors of the validation, not something to derive from."""
    if gdf is None or not len(gdf):
        return None
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    return gdf[ok] if ok.any() else None


def _rows(gdf: pd.DataFrame) -> np.ndarray:
    return gdf[ROW_COLUMN].to_numpy() if ROW_COLUMN in gdf else np.arange(1, len(gdf) + 1)


def _labels(gdf: pd.DataFrame) -> list[str]:
    """How each feature is named in a message: its name, else its id, else its number."""
    out = [f"#{i + 1}" for i in range(len(gdf))]
    for col in ("id", "name_zh"):  # the name wins
        if col in gdf:
            for i, v in enumerate(gdf[col].to_numpy(dtype=object)):
                if v is not None and not (isinstance(v, float) and np.isnan(v)) and v != "":
                    out[i] = str(v)
    return out


def _set(out: gpd.GeoDataFrame, name: str, values: Any, d: DerivedLayer,
         tolerance: float | None = None) -> None:
    """Set derived field ``name`` and count the features whose value changed."""
    new = np.asarray(values, dtype=object)
    if name in out:
        old = out[name].to_numpy(dtype=object)
        if tolerance is not None:
            a = pd.to_numeric(pd.Series(old), errors="coerce").to_numpy(dtype="float64")
            b = pd.to_numeric(pd.Series(new), errors="coerce").to_numpy(dtype="float64")
            diff = ~(np.isclose(a, b, atol=tolerance, equal_nan=False)) & np.isfinite(a)
        else:
            diff = np.array([(x not in (None, "")) and str(x) != str(y)
                             for x, y in zip(old, new, strict=True)], dtype=bool)
        if diff.any():
            d.changed[name] = int(diff.sum())
    out[name] = values
    if name not in d.recomputed:
        d.recomputed.append(name)


def _counties(out: gpd.GeoDataFrame, admin: gpd.GeoDataFrame | None, d: DerivedLayer,
              where: str, gazetteer: Gazetteer | None) -> None:
    """county / county_en from the admin layer; a file's county that disagrees is a warning."""
    if admin is None or "county" not in out:
        return
    zh, en = county_of(out.geometry.values, admin)
    # What a user's file said (its county column, kept by the mapping) against the position.
    said = out[COUNTY_TEXT].to_numpy(dtype=object) if COUNTY_TEXT in out else \
        np.full(len(out), None, dtype=object)
    gz = gazetteer
    rows = _rows(out)
    label = _labels(out)
    known: dict[str, str | None] = {}  # the county each distinct text names
    for i, (s, z) in enumerate(zip(said, zh, strict=True)):
        if s in (None, "") or not z:
            continue
        if gz is None:
            gz = Gazetteer.load()
        if s not in known:
            c = gz.county(s)
            known[s] = c.name_zh if c is not None else None
        if known[s] is not None and known[s] != z:
            d.issues.warn("county_differs", f"{label[i]}: the file says {s}, the position "
                          f"lies in {z}; {z} is kept (counties follow the position)",
                          f"{label[i]}：文件中为{s}，坐标位于{z}，以坐标为准",
                          hint="check the coordinates, or the county column",
                          hint_zh="请核对坐标或旗县市区列", row=int(rows[i]), where=where,
                          field="county", value=str(s), suggestion=z)
    outside = [i for i, z in enumerate(zh) if not z and out.geometry.iat[i] is not None]
    for i in outside[:50]:
        d.issues.warn("outside_counties", f"{label[i]} lies in no county-level unit of "
                      "the League", f"{label[i]}不在盟内任何旗县市区", row=int(rows[i]),
                      where=where)
    _set(out, "county", zh, d)
    if "county_en" in out:
        _set(out, "county_en", en, d)


def _km(out: gpd.GeoDataFrame, road: gpd.GeoDataFrame | None, d: DerivedLayer, where: str,
        max_offset_m: float, what: str) -> None:
    road = _usable(road)
    if road is None or "km" not in out or not len(out):
        return
    route = road_route(road)
    km, off = road_km(route, out.geometry)
    _set(out, "km", np.round(km, 1), d, tolerance=0.15)
    rows = _rows(out)
    label = _labels(out)
    for i in np.flatnonzero(off > max_offset_m):
        d.issues.warn("off_the_road", f"{what} {label[i]} is {off[i] / 1000:.1f} km from "
                      f"the scenic road (more than {max_offset_m / 1000:.0f} km): its road km "
                      f"({km[i]:.1f}) is that of the nearest road point",
                      f"{label[i]}距风景大道{off[i] / 1000:.1f}公里（超过{max_offset_m / 1000:.0f}公里）",
                      hint=f"check the {what}'s position or the new road",
                      hint_zh="请核对其位置或新的道路", row=int(rows[i]), where=where,
                      detail={"distance_km": round(float(off[i]) / 1000, 1),
                              "km": round(float(km[i]), 1)})


def _sections(out: gpd.GeoDataFrame, rivers: gpd.GeoDataFrame | None, d: DerivedLayer,
              where: str) -> gpd.GeoDataFrame:
    """Sections onto their rivers; river names and basin from the rivers layer."""
    rivers = _usable(rivers)
    here = _usable(out)
    if rivers is None or here is None or len(here) < len(out):
        return out  # (sections without a position are the validation's errors)
    rv = rivers.reset_index(drop=True)
    ids = rv["id"].astype(str).tolist() if "id" in rv else [str(i) for i in range(len(rv))]
    by_name = {str(n): k for k, n in enumerate(rv.get("name_zh", pd.Series(dtype=str)))}
    rows = _rows(out)
    label = _labels(out)
    river_id = out["river_id"].to_numpy(dtype=object) if "river_id" in out else \
        np.full(len(out), None, dtype=object)
    named = out["river_zh"].to_numpy(dtype=object) if "river_zh" in out else \
        np.full(len(out), None, dtype=object)
    which = np.full(len(out), -1)
    for i in range(len(out)):
        if river_id[i] not in (None, "") and str(river_id[i]) in ids:
            which[i] = ids.index(str(river_id[i]))
        elif named[i] not in (None, "") and str(named[i]) in by_name:
            which[i] = by_name[str(named[i])]
    # Without a river that names it, the nearest river.
    lost = np.flatnonzero(which < 0)
    if len(lost):
        pts = measure.to_metric(out.geometry.values[lost])
        lines = measure.to_metric(rv.geometry.values)
        tree = shapely.STRtree(lines)
        nearest = tree.query_nearest(pts, return_distance=False)[1]
        which[lost] = nearest
        for k, i in enumerate(lost):
            said = river_id[i] if river_id[i] not in (None, "") else named[i]
            d.issues.warn("section_river_missing" if said not in (None, "") else
                          "section_river_nearest",
                          f"section {label[i]}: " + (f"river {said!r} is not in the rivers "
                                                           "layer; " if said not in (None, "")
                                                           else "")
                          + f"placed on the nearest river, {ids[nearest[k]]}",
                          f"断面{label[i]}：" + (f"河流“{said}”不在河流图层中；" if said not in
                                                     (None, "") else "")
                          + f"已置于最近的河流{ids[nearest[k]]}上", row=int(rows[i]), where=where)
    on, moved = snap_to_lines(out.geometry.values, rv.geometry.values[which])
    for i in np.flatnonzero(moved > SECTION_SNAP_WARN_M):
        d.issues.warn("section_moved", f"section {label[i]} was {moved[i] / 1000:.1f} km "
                      f"off river {ids[which[i]]}: placed on it",
                      f"断面{label[i]}距河流{moved[i] / 1000:.1f}公里，已移至河流上",
                      row=int(rows[i]), where=where,
                      detail={"moved_km": round(float(moved[i]) / 1000, 2)})
    if (moved > 0.5).any():
        d.changed["geometry"] = int((moved > 0.5).sum())
    # A section already on its river (to the half metre) keeps its coordinates as written:
    # re-deriving a layer that did not move gives it back unchanged, digit for digit.
    on = np.where(moved > 0.5, on, np.asarray(out.geometry.values, dtype=object))
    out = out.set_geometry(gpd.GeoSeries(on, index=out.index, crs=out.crs))
    _set(out, "river_id", [ids[k] for k in which], d)
    for name, col in (("river_zh", "name_zh"), ("river_en", "name_en"), ("basin_id", "basin_id")):
        if name in out and col in rv:
            _set(out, name, rv[col].fillna("").astype(str).to_numpy()[which].tolist(), d)
    return out


def _samples(out: gpd.GeoDataFrame, sections: gpd.GeoDataFrame | None, d: DerivedLayer,
             where: str) -> gpd.GeoDataFrame:
    """Water samples at their sections: the section's position and names, by ``section_id``.

    A sample whose section is not in the sections layer keeps its position, with a
    warning (its section was removed or renamed by a replacement).
    """
    sec = _usable(sections)
    if sec is None or "section_id" not in out or "id" not in sec:
        return out
    by_id = sec.drop_duplicates("id").set_index(sec.drop_duplicates("id")["id"].astype(str))
    ids = out["section_id"].astype(str).to_numpy()
    known = np.isin(ids, by_id.index.to_numpy())
    geoms = np.asarray(out.geometry.values, dtype=object).copy()
    if known.any():
        new = by_id.geometry.reindex(ids[known]).to_numpy()
        same = shapely.equals_exact(np.asarray(geoms[known], dtype=object), new, tolerance=1e-9)
        moved = (~same).sum()
        if moved:
            d.changed["geometry"] = int(moved)
        # Where a sample already sits on its section the coordinates stay as written.
        geoms[known] = np.where(same, geoms[known], new)
        out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=out.crs))
        for name, col in (("section_zh", "name_zh"), ("section_en", "name_en")):
            if name in out and col in by_id:
                values = out[name].to_numpy(dtype=object).copy()
                values[known] = by_id[col].reindex(ids[known]).to_numpy(dtype=object)
                _set(out, name, values.tolist(), d)
    rows = _rows(out)
    lost = np.flatnonzero(~known)
    for i in lost[:50]:
        d.issues.warn("sample_section_missing", f"sample {out['id'].iloc[i]}: section "
                      f"{ids[i]!r} is not in the sections layer; the sample keeps its position",
                      f"样品{out['id'].iloc[i]}：断面“{ids[i]}”不在断面图层中，位置未变",
                      row=int(rows[i]), where=where)
    return out


def _rivers(out: gpd.GeoDataFrame, basins: gpd.GeoDataFrame | None, d: DerivedLayer,
            where: str) -> gpd.GeoDataFrame:
    """Tributaries turned to flow into their river; a missing basin from the basins layer.

    Lines are digitised source → mouth (the river network reads the direction as the
    flow): a tributary whose *first* point is nearer the river it flows into than its
    last was drawn mouth → source and is reversed.  A river without ``basin_id`` gets
    the basin holding most of its length.
    """
    here = _usable(out)
    if here is None or len(here) < len(out) or "id" not in out:
        return out
    rows = _rows(out)
    label = _labels(out)
    ids = out["id"].astype(str).tolist()
    geoms = np.asarray(out.geometry.values, dtype=object).copy()
    metric = measure.to_metric(geoms)
    into = out["flows_into"].to_numpy(dtype=object) if "flows_into" in out else \
        np.full(len(out), None, dtype=object)
    reversed_n = 0
    for i, target in enumerate(into):
        if target in (None, "") or str(target) not in ids or metric[i].geom_type != "LineString":
            continue
        main = metric[ids.index(str(target))]
        start, end = shapely.get_point(metric[i], 0), shapely.get_point(metric[i], -1)
        if shapely.distance(start, main) < shapely.distance(end, main):
            geoms[i] = shapely.reverse(geoms[i])
            reversed_n += 1
            d.issues.warn("river_reversed", f"river {label[i]} was drawn from its mouth: reversed "
                          f"to flow into {target}", f"河流{label[i]}自河口向源头绘制，已反转为流向{target}",
                          row=int(rows[i]), where=where)
    if reversed_n:
        out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=out.crs))
        d.changed["geometry"] = reversed_n
    basins = _usable(basins)
    if basins is not None and "basin_id" in out and "id" in basins:
        have = out["basin_id"].to_numpy(dtype=object)
        todo = np.flatnonzero([v is None or (isinstance(v, float) and np.isnan(v)) or v == ""
                               for v in have])
        if len(todo):
            b_m = measure.to_metric(basins.geometry.values)
            lengths = shapely.length(shapely.intersection(measure.to_metric(geoms[todo])[:, None],
                                                          b_m[None, :]))
            best = np.argmax(lengths, axis=1)
            filled = have.copy()
            for k, i in enumerate(todo):
                if lengths[k, best[k]] > 0:
                    filled[i] = str(basins["id"].iloc[best[k]])
            out["basin_id"] = filled
            d.recomputed.append("basin_id")
    return out


def _areas_lengths(layer: str, out: gpd.GeoDataFrame, league: shapely.Geometry | None,
                   d: DerivedLayer) -> None:
    geoms = out.geometry.values
    if layer in ("admin",) and "area_km2" in out:
        _set(out, "area_km2", np.round(measure.area_km2(geoms), 1), d, tolerance=0.15)
    if layer == "basins" and "area_km2" in out:
        inside = shapely.intersection(geoms, league) if league is not None else geoms
        _set(out, "area_km2", np.round(measure.area_km2(inside), 1), d, tolerance=0.15)
    if layer == "rivers" and "length_km" in out:
        inside = shapely.intersection(geoms, league) if league is not None else geoms
        _set(out, "length_km", np.round(measure.length_km(inside), 1), d, tolerance=0.15)


def _road(out: gpd.GeoDataFrame, d: DerivedLayer) -> gpd.GeoDataFrame:
    """Scenic-road segments as LineStrings in order, with seq, km_start and length_km."""
    merged = shapely.line_merge(np.asarray(out.geometry.values, dtype=object))
    out = out.set_geometry(gpd.GeoSeries(merged, index=out.index, crs=out.crs))
    if (out.geom_type == "MultiLineString").any():
        # A track with gaps (several GPX segments): one road segment per part, in order.
        n_before = len(out)
        out = out.explode(index_parts=False).reset_index(drop=True)
        d.issues.warn("road_split", f"the road's lines have gaps: {n_before} features became "
                      f"{len(out)} segments", f"道路线有断开处：{n_before}个要素拆分为{len(out)}段")
        if "id" in out:
            counts = out.groupby("id").cumcount().to_numpy() + 1
            dup = out["id"].duplicated(keep=False).to_numpy()
            out["id"] = [f"{v}-{c}" if dd else v for v, c, dd in zip(out["id"], counts, dup,
                                                                      strict=True)]
    if "seq" in out:
        seq = pd.to_numeric(out["seq"], errors="coerce")
        if seq.isna().any() or seq.duplicated().any():
            _set(out, "seq", np.arange(1, len(out) + 1), d)
        out = out.sort_values("seq", kind="stable").reset_index(drop=True)
    start, length = segment_measures(road_route(out))
    _set(out, "km_start", np.round(start, 1), d, tolerance=0.15)
    _set(out, "length_km", np.round(length, 1), d, tolerance=0.15)
    return out


def derive_layer(layer: str, gdf: gpd.GeoDataFrame, context: Mapping[str, gpd.GeoDataFrame],
                 *, where: str = "row", gazetteer: Gazetteer | None = None) -> DerivedLayer:
    """Recompute the derived fields of ``layer`` from its geometry and the other layers.

    Parameters
    ----------
    layer : str
        Catalog id of the layer.
    gdf : GeoDataFrame
        The layer (e.g. a mapped replacement), EPSG:4326.
    context : mapping
        The other catalog layers (current versions) by id: ``admin``, ``rivers``,
        ``scenic_road`` … (those missing are skipped).
    where : str
        What ``_row`` counts in the user's file (for the warnings).

    Returns
    -------
    DerivedLayer
        ``changed`` counts, per field, the features whose value in ``gdf`` differed
        from the recomputed one (a file's own km, county …).
    """
    out = gdf.copy()
    d = DerivedLayer(layer, out)
    admin = gdf if layer == "admin" else context.get("admin")
    league = league_outline(admin)
    if layer in ("projects", "stations", "attractions", "ports"):
        _counties(out, admin, d, where, gazetteer)
    if layer in ("stations", "attractions"):
        _km(out, context.get("scenic_road"), d, where,
            STATION_MAX_OFFSET_M if layer == "stations" else ATTRACTION_MAX_OFFSET_M,
            "station" if layer == "stations" else "attraction")
    if layer == "sections":
        out = _sections(out, context.get("rivers"), d, where)
        _counties(out, admin, d, where, gazetteer)
    if layer == "rivers":
        out = _rivers(out, context.get("basins"), d, where)
    if layer == "wq_samples":
        out = _samples(out, context.get("sections"), d, where)
    if layer in ("admin", "basins", "rivers"):
        _areas_lengths(layer, out, league, d)
    if layer == "scenic_road" and _usable(out) is not None:
        good = _usable(out)
        rest = out.drop(index=good.index)
        out = _road(good, d)
        if len(rest):  # rows without a line stay, for the validation to report
            out = pd.concat([out, rest], ignore_index=True)
    d.gdf = out
    return d


def derive_dependents(layer: str, new: gpd.GeoDataFrame,
                      context: Mapping[str, gpd.GeoDataFrame], *,
                      gazetteer: Gazetteer | None = None) -> dict[str, DerivedLayer]:
    """Re-derive the layers that depend on ``layer`` once it is replaced by ``new``.

    Parameters
    ----------
    layer : str
        The replaced catalog layer.
    new : GeoDataFrame
        Its new version.
    context : mapping
        The current versions of the other catalog layers by id.

    Returns
    -------
    dict
        Dependent layer id → :class:`DerivedLayer` (only dependents present in
        ``context``); their ``changed`` counts say what the replacement changed, and
        their warnings say which features no longer fit.  Commit each ``gdf`` with
        the replacement in one ``put_many``.
    """
    ctx = {**context, layer: new}
    out: dict[str, DerivedLayer] = {}
    if _usable(new) is None:
        return out  # nothing to derive from: the replacement itself is in error
    for dep in DEPENDENTS.get(layer, ()):
        current = context.get(dep)
        if current is None or not len(current):
            continue
        d = derive_layer(dep, current, ctx, where="feature", gazetteer=gazetteer)
        # The dependents' rows are features of the stored layer, not rows of a file.
        for issue in d.issues.errors + d.issues.warnings:
            issue.where = "feature"
        out[dep] = d
    return out
