"""Overlay sites on the reference layers: basin, county, rivers, sections, scenic road.

:func:`overlay_sites` answers, for every site (points or polygons, thousands to
a million): which basin and county it lies in, the nearest river and the distance
to it, whether it is inside the river buffer, the nearest national water-quality
section and the distance, which sections it lies upstream of, and the distance to
the scenic road and whether it is inside the road's view corridor.
:func:`summarise` counts the sites (and sums their investment) per basin or county
and category.

Everything is measured in :data:`geo.crs.DISTANCE_CRS`.  The work is vectorised:
containment by one prepared ``contains_xy`` call per polygon on the sites in its
bounding box, nearest lines by :class:`geo.nearest.SegmentIndex`, nearest
sections by a KD-tree, drainage by the river network's reach × section table.
The reference side is prepared once (:class:`OverlayIndex`) and reused.

Polygon (and line) sites are placed in a basin/county by a representative point
inside them (:func:`shapely.point_on_surface`) and measured by their true
geometry: a polygon touching a river is 0 m from it.

Examples
--------
>>> import geopandas as gpd, shapely
>>> ref = OverlayIndex.from_layers(
...     admin=gpd.GeoDataFrame({"name_zh": ["盟", "甲旗"], "adcode": ["1", "2"],
...         "level": ["league", "county"]},
...         geometry=[shapely.box(115, 43, 117, 45)] * 2, crs=4326),
...     basins=gpd.GeoDataFrame({"id": ["b"], "name_zh": ["乙流域"]},
...         geometry=[shapely.box(115, 43, 117, 45)], crs=4326),
...     rivers=gpd.GeoDataFrame({"id": ["r"], "name_zh": ["丙河"], "basin_id": ["b"],
...         "flows_into": [""]},
...         geometry=[shapely.LineString([(116, 43.2), (116, 44.8)])], crs=4326),
...     sections=gpd.GeoDataFrame({"id": ["s"], "name_zh": ["丁断面"], "river_id": ["r"]},
...         geometry=[shapely.Point(116, 44.5)], crs=4326))
>>> sites = gpd.GeoDataFrame({"name": ["上游", "下游", "盟外"]},
...     geometry=gpd.points_from_xy([116.005, 116.0, 120.0], [44.0, 44.7, 44.0]), crs=4326)
>>> out = overlay_sites(sites, ref)
>>> out[["basin_zh", "county", "river_zh", "in_river_buffer", "upstream_sections"]].values.tolist()
[['乙流域', '甲旗', '丙河', True, 's'], ['乙流域', '甲旗', '丙河', True, ''], ['', '', '丙河', False, '']]
>>> out["river_distance_m"].round(0).tolist()
[401.0, 0.0, 320834.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import Transformer

from .crs import DISTANCE_CRS
from .nearest import PointIndex
from .network import RiverNetwork
from .route import ScenicRoute

#: Columns :func:`overlay_sites` adds, in order.
OVERLAY_COLUMNS: tuple[str, ...] = (
    "in_league", "basin_id", "basin_zh", "county", "adcode",
    "river_id", "river_zh", "river_distance_m", "in_river_buffer",
    "section_id", "section_zh", "section_distance_m",
    "upstream_of_section", "upstream_sections",
    "road_km", "road_distance_m", "in_road_corridor",
)

#: Overlays of at least this many sites build (once) and use the prepared grids of
#: :meth:`OverlayIndex.prepare_grids`; below it the per-call candidate search is cheap.
GRID_MIN_SITES = 100_000

#: Default farthest distance (m) at which a site is taken to drain to the nearest
#: river of its own basin; beyond it the site is not upstream of anything.
DRAIN_MAX_M = 30_000.0


@lru_cache(maxsize=4)
def _to_metric(crs: str = DISTANCE_CRS) -> Transformer:
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def _str_col(frame: pd.DataFrame, col: str) -> NDArray:
    """A text column as an object array ("" for missing), or "" everywhere."""
    if col in frame:
        return frame[col].fillna("").astype(str).to_numpy(dtype=object)
    return np.full(len(frame), "", dtype=object)


@dataclass
class PolygonLookup:
    """Which polygon contains each point: prepared polygons, one vectorised test each.

    Examples
    --------
    >>> import shapely
    >>> lk = PolygonLookup([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
    >>> lk.which([0.5, 1.5, 5.0], [0.5, 0.5, 0.5]).tolist()
    [0, 1, -1]
    """

    polygons: np.ndarray

    def __post_init__(self) -> None:
        self.polygons = np.asarray(self.polygons, dtype=object)
        shapely.prepare(self.polygons)
        self.bounds = shapely.bounds(self.polygons)

    def which(self, x: NDArray, y: NDArray) -> NDArray[np.int64]:
        """Position of the first polygon containing each point, -1 for none."""
        x = np.asarray(x, dtype="float64")
        y = np.asarray(y, dtype="float64")
        out = np.full(len(x), -1, dtype=np.int64)
        # A few dozen polygons at most: one prepared, vectorised test per polygon on
        # the points still unassigned inside its bounding box.
        for j, (minx, miny, maxx, maxy) in enumerate(self.bounds):
            if not np.isfinite(minx):
                continue
            cand = np.flatnonzero((out < 0) & (x >= minx) & (x <= maxx)
                                  & (y >= miny) & (y <= maxy))
            if len(cand):
                inside = shapely.contains_xy(self.polygons[j], x[cand], y[cand])
                out[cand[inside]] = j
        return out


@dataclass
class OverlayIndex:
    """The reference side of the overlay, prepared once in DISTANCE_CRS.

    Build it with :meth:`from_layers` (or let :func:`overlay_sites` build it from a
    reference bundle that has no ``overlay_index``).
    """

    league: PolygonLookup
    counties: PolygonLookup
    county_zh: NDArray
    county_adcode: NDArray
    basins: PolygonLookup
    basin_id: NDArray
    basin_zh: NDArray
    network: RiverNetwork | None
    river_zh: NDArray
    sections_xy: NDArray
    sections: PointIndex
    section_id: NDArray
    section_zh: NDArray
    route: ScenicRoute | None

    @classmethod
    def from_layers(cls, admin: gpd.GeoDataFrame | None = None,
                    basins: gpd.GeoDataFrame | None = None,
                    rivers: gpd.GeoDataFrame | None = None,
                    sections: gpd.GeoDataFrame | None = None,
                    scenic_road: gpd.GeoDataFrame | None = None,
                    network: RiverNetwork | None = None,
                    route: ScenicRoute | None = None) -> OverlayIndex:
        """Prepare the overlay from the reference layers (EPSG:4326 GeoDataFrames).

        ``admin`` rows with ``level == "league"`` give the League outline (else the
        union of the other rows); the other rows are the county-level units.
        A ready ``network`` (with sections) or ``route`` is used as given.
        """
        empty = gpd.GeoDataFrame(geometry=[], crs=4326)
        admin = empty if admin is None else admin
        basins = empty if basins is None else basins
        sections = empty if sections is None else sections

        def metric(gdf: gpd.GeoDataFrame) -> np.ndarray:
            return np.asarray(gdf.to_crs(DISTANCE_CRS).geometry.values, dtype=object)

        level = _str_col(admin, "level")
        is_league = level == "league"
        units = admin[~is_league]
        league_geom = metric(admin[is_league]) if is_league.any() else \
            np.array([shapely.union_all(metric(units))], dtype=object)
        if network is None and rivers is not None and len(rivers):
            network = RiverNetwork.from_rivers(rivers)
        if network is not None and len(sections) and network.sections.empty:
            network = network.with_sections(sections)
        if route is None and scenic_road is not None and len(scenic_road):
            route = ScenicRoute.from_segments(scenic_road)
        sec_xy = shapely.get_coordinates(metric(sections)) if len(sections) else \
            np.zeros((0, 2))
        return cls(
            league=PolygonLookup(league_geom),
            counties=PolygonLookup(metric(units)),
            county_zh=_str_col(units, "name_zh"),
            county_adcode=_str_col(units, "adcode"),
            basins=PolygonLookup(metric(basins)),
            basin_id=_str_col(basins, "id"),
            basin_zh=_str_col(basins, "name_zh"),
            network=network,
            river_zh=(network.rivers["name_zh"].fillna("").astype(str).to_numpy(dtype=object)
                      if network is not None else np.zeros(0, object)),
            sections_xy=sec_xy,
            sections=PointIndex(sec_xy),
            section_id=_str_col(sections, "id"),
            section_zh=_str_col(sections, "name_zh"),
            route=route,
        )

    def prepare_grids(self, cell_m: float = 2000.0, margin_m: float = 20_000.0,
                      min_sites: int = GRID_MIN_SITES) -> OverlayIndex:
        """Precompute the nearest-river and nearest-road candidates of every cell over
        the League (plus ``margin_m``), so that requests skip that step.

        Asked once per layer version by ``layers.reference.Reference.overlay_index``;
        the grids (about a second of work) are built by the first overlay of at least
        ``min_sites`` sites (0: now), so small requests never wait for them.  Results
        are the same with or without.  Returns ``self``.
        """
        if not np.isfinite(self.league.bounds).all() or not len(self.league.bounds):
            return self
        minx, miny = self.league.bounds[:, :2].min(axis=0) - margin_m
        maxx, maxy = self.league.bounds[:, 2:].max(axis=0) + margin_m
        for lines in (self.network.index if self.network is not None else None,
                      self.route.index if self.route is not None else None):
            if lines is not None:
                lines.prepare_grid((minx, miny, maxx, maxy), cell_m, min_sites)
        return self

    @classmethod
    def from_reference(cls, ref: object) -> OverlayIndex:
        """From any object with ``admin``, ``basins``, ``rivers``, ``sections``,
        ``scenic_road`` attributes (and optionally ready ``network``/``route``)."""
        return cls.from_layers(
            admin=getattr(ref, "admin", None), basins=getattr(ref, "basins", None),
            rivers=getattr(ref, "rivers", None), sections=getattr(ref, "sections", None),
            scenic_road=getattr(ref, "scenic_road", None),
            network=getattr(ref, "network", None), route=getattr(ref, "route", None))


def _index_of(ref: object) -> OverlayIndex:
    if isinstance(ref, OverlayIndex):
        return ref
    ready = getattr(ref, "overlay_index", None)
    if isinstance(ready, OverlayIndex):
        return ready
    return OverlayIndex.from_reference(ref)


def _pick(labels: NDArray, idx: NDArray) -> NDArray:
    """``labels[idx]`` with "" where ``idx`` is -1 (object array)."""
    # One trailing "" makes index -1 pick it: a single gather, no masking.
    return np.append(np.asarray(labels, dtype=object), "")[idx]


def overlay_sites(sites: gpd.GeoDataFrame | gpd.GeoSeries, ref: object,
                  river_buffer_m: float = 1000.0, corridor_m: float = 5000.0,
                  drain_max_m: float = DRAIN_MAX_M) -> gpd.GeoDataFrame:
    """Overlay sites on basins, counties, rivers, sections and the scenic road.

    Parameters
    ----------
    sites : GeoDataFrame or GeoSeries
        Points or polygons in EPSG:4326 (a missing CRS is taken as EPSG:4326).
    ref : OverlayIndex or reference bundle
        The reference layers: an :class:`OverlayIndex`, an object with an
        ``overlay_index`` attribute (``layers.reference.Reference``), or any object
        with the layers as attributes.
    river_buffer_m : float
        Width of the river buffer: ``in_river_buffer`` is ``river_distance_m <=
        river_buffer_m``.
    corridor_m : float
        Half-width of the scenic road's view corridor.
    drain_max_m : float
        A site drains to the nearest river of its own basin when within this
        distance of it; ``upstream_sections`` lists the sections downstream of that
        point of the network.

    Returns
    -------
    geopandas.GeoDataFrame
        The sites with :data:`OVERLAY_COLUMNS` added.  Sites outside the League
        have ``in_league`` False and empty basin and county.
    """
    if river_buffer_m < 0 or corridor_m < 0 or drain_max_m < 0:
        raise ValueError("river_buffer_m, corridor_m and drain_max_m must be >= 0 metres")
    idx = _index_of(ref)
    if isinstance(sites, gpd.GeoSeries):
        sites = gpd.GeoDataFrame(geometry=sites)
    if sites.crs is None:
        sites = sites.set_crs(4326)
    elif not sites.crs.equals("EPSG:4326"):
        sites = sites.to_crs(4326)
    n = len(sites)
    geoms = np.asarray(sites.geometry.values, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    all_points = bool(present.all() and (shapely.get_type_id(geoms) == 0).all())
    # Metric coordinates of each site's anchor (the point, or a point inside the
    # polygon) from one pyproj call on coordinate arrays.
    anchor = geoms if all_points else np.where(
        present, shapely.point_on_surface(np.where(present, geoms, shapely.Point(0, 0))),
        None)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    lon[present] = shapely.get_x(anchor[present])
    lat[present] = shapely.get_y(anchor[present])
    x, y = _to_metric().transform(lon, lat)
    metric_geoms = None
    if not all_points:
        metric_geoms = np.asarray(
            gpd.GeoSeries(geoms, crs=4326).to_crs(DISTANCE_CRS).values, dtype=object)

    in_league = np.zeros(n, dtype=bool)
    in_league[present] = idx.league.which(x[present], y[present]) >= 0
    county = np.full(n, -1, dtype=np.int64)
    basin = np.full(n, -1, dtype=np.int64)
    county[in_league] = idx.counties.which(x[in_league], y[in_league])
    basin[in_league] = idx.basins.which(x[in_league], y[in_league])
    basin_id = _pick(idx.basin_id, basin)

    # Columns gathered as arrays and framed once at the end: assigning a million-row
    # column to a GeoDataFrame one at a time copies and re-checks it each time.
    cols: dict[str, NDArray] = {
        "in_league": in_league,
        "basin_id": basin_id,
        "basin_zh": _pick(idx.basin_zh, basin),
        "county": _pick(idx.county_zh, county),
        "adcode": _pick(idx.county_adcode, county),
    }

    # Nearest river (any basin) and its distance.
    net = idx.network
    if net is not None:
        near = (net.index.nearest_xy(x, y) if all_points
                else net.index.nearest(metric_geoms))
        cols["river_id"] = _pick(net.rivers["river_id"].to_numpy(dtype=object), near.line)
        cols["river_zh"] = _pick(idx.river_zh, near.line)
        cols["river_distance_m"] = near.distance
        cols["in_river_buffer"] = near.distance <= river_buffer_m
        # Drainage: snap to the nearest river of the site's own basin.
        snapped = net.snap_metric(metric_geoms if not all_points else None, drain_max_m,
                                  basin_id, xy=(x, y) if all_points else None, near=near)
        snapped.loc[~present, "snapped"] = False
        ups = net.downstream_sections(snapped)
        cols["upstream_of_section"] = ups != ""
        cols["upstream_sections"] = ups
    else:
        cols["river_id"] = cols["river_zh"] = np.full(n, "", dtype=object)
        cols["river_distance_m"] = np.full(n, np.nan)
        cols["in_river_buffer"] = np.zeros(n, dtype=bool)
        cols["upstream_of_section"] = np.zeros(n, dtype=bool)
        cols["upstream_sections"] = np.full(n, "", dtype=object)

    # Nearest section: KD-tree on points; a polygon's true distance to each section.
    sec, sec_d = idx.sections.nearest_xy(x, y)
    if not all_points and idx.sections.n:
        other = np.flatnonzero(present & (shapely.get_type_id(geoms) != 0))
        if len(other):
            spts = shapely.points(idx.sections_xy)
            d = shapely.distance(metric_geoms[other][:, None], spts[None, :])
            sec[other], sec_d[other] = d.argmin(axis=1), d.min(axis=1)
    sec = np.where(present, sec, -1)
    cols["section_id"] = _pick(idx.section_id, sec)
    cols["section_zh"] = _pick(idx.section_zh, sec)
    cols["section_distance_m"] = np.where(present, sec_d, np.nan)

    # Scenic road: km of the closest point and distance.
    if idx.route is not None:
        rnear = (idx.route.index.nearest_xy(x, y) if all_points
                 else idx.route.index.nearest(metric_geoms))
        cols["road_km"] = rnear.measure / 1000.0
        cols["road_distance_m"] = rnear.distance
        cols["in_road_corridor"] = rnear.distance <= corridor_m
    else:
        cols["road_km"] = np.full(n, np.nan)
        cols["road_distance_m"] = np.full(n, np.nan)
        cols["in_road_corridor"] = np.zeros(n, dtype=bool)
    for col in ("river_distance_m", "section_distance_m", "road_km", "road_distance_m"):
        cols[col] = np.where(present, cols[col], np.nan)
    for col in ("in_river_buffer", "in_road_corridor", "upstream_of_section"):
        cols[col] = np.asarray(cols[col], dtype=bool) & present
    # The site's own columns first (an overlay column of the same name is replaced),
    # then the overlay's, then the geometry.
    geom = sites.geometry.name
    own = [c for c in sites.columns if c != geom and c not in OVERLAY_COLUMNS]
    data = {c: sites[c].array for c in own}
    data.update((c, cols[c]) for c in OVERLAY_COLUMNS)
    data[geom] = sites.geometry.array
    return gpd.GeoDataFrame(data, index=sites.index.copy(), geometry=geom, crs=sites.crs)


#: Keys of the areas :func:`summarise` groups by.
SUMMARY_KEYS: dict[str, tuple[str, ...]] = {
    "basin": ("basin_id", "basin_zh"),
    "county": ("county", "adcode"),
}
_MONEY = ("total_investment_yi", "plan_2023_yi")


def summarise(result: pd.DataFrame, by: str = "basin") -> pd.DataFrame:
    """Counts and investment per basin or county, in total and by category.

    Parameters
    ----------
    result : DataFrame
        Output of :func:`overlay_sites`.  ``total_investment_yi`` and
        ``plan_2023_yi`` are summed when present; ``category`` splits the figures
        into ``count_<category>``, ``total_investment_yi_<category>`` … columns.
    by : {"basin", "county"}
        The areas to group by.  Sites outside every area are grouped under "".

    Returns
    -------
    pandas.DataFrame
        One row per area, largest count first.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"basin_id": ["a", "a", "b"], "basin_zh": ["甲", "甲", "乙"],
    ...                   "category": ["energy", "ecology", "energy"],
    ...                   "total_investment_yi": [10.0, 2.0, 5.0]})
    >>> s = summarise(r, "basin")
    >>> s[["basin_id", "count", "total_investment_yi", "count_energy"]].values.tolist()
    [['a', 2, 12.0, 1], ['b', 1, 5.0, 1]]
    """
    if by not in SUMMARY_KEYS:
        raise ValueError(f"by must be one of {', '.join(SUMMARY_KEYS)}, not {by!r}")
    keys = [k for k in SUMMARY_KEYS[by] if k in result]
    if not keys:
        raise ValueError(f"the result has no {SUMMARY_KEYS[by][0]!r} column: run overlay_sites")
    frame = pd.DataFrame({k: result[k].fillna("").astype(str).to_numpy() for k in keys})
    money = [m for m in _MONEY if m in result]
    for m in money:
        frame[m] = pd.to_numeric(result[m], errors="coerce").fillna(0.0).to_numpy()
    frame["count"] = 1
    values = ["count", *money]
    total = frame.groupby(keys, sort=False)[values].sum()
    if "category" in result:
        frame["category"] = result["category"].fillna("").astype(str).to_numpy()
        wide = frame.pivot_table(index=keys, columns="category", values=values,
                                 aggfunc="sum", fill_value=0, sort=False)
        wide.columns = [f"{v}_{c}" for v, c in wide.columns]
        total = total.join(wide)
    total = total.reset_index()
    for m in [c for c in total.columns if c.startswith(_MONEY)]:
        total[m] = total[m].astype(float).round(4)
    return total.sort_values(["count", keys[0]], ascending=[False, True],
                             kind="stable").reset_index(drop=True)
