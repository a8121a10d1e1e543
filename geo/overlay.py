"""Overlay sites on the reference layers: basin, county, rivers, sections, scenic road.

:func:`overlay_sites` answers, for every site (points, lines or polygons, thousands
to a million): which basin and county it lies in, the nearest river and the
distance to it, whether it is inside the river buffer, the nearest national
water-quality section and the distance, which sections it lies upstream of and
why, and the distance to the scenic road and whether it is inside the road's view
corridor — each answer with the accuracy of the reference features it was
measured against.  :func:`summarise` counts the sites (and sums their investment)
per basin or county and category.

Everything is measured in :data:`geo.crs.DISTANCE_CRS` (areas in
:data:`geo.crs.AREA_CRS`).  The work is vectorised: containment by one prepared
``contains_xy`` call per polygon on the sites in its bounding box, the parts of
lines and polygons by one intersection over (site, polygon) pair arrays
(:mod:`geo.shares`), nearest lines by :class:`geo.nearest.SegmentIndex`, nearest
sections by a KD-tree, drainage by the river network's reach × section table.
The reference side is prepared once (:class:`OverlayIndex`) and reused.

**Placement.**  A point lies in the county and basin that contain it.  A line or
polygon site gets the county and the basin holding the largest part of it (length
for lines, area for polygons); ``county_shares`` / ``basin_shares`` list the parts
when it crosses a border, and ``in_league`` is true when at least half of it lies
in the League.  Distances use the true geometry: a polygon touching a river is
0 m from it.

**Drainage** follows :data:`geo.drainage.DRAINAGE_RULE`: no distance cap; inland
basins without rivers drain to no section; outside every basin is ``unknown``.

**Accuracy.**  Each row carries the ``accuracy_m`` and ``illustrative`` flag of the
river, section, road segment, basin and county it was measured against;
``in_river_buffer_status`` / ``in_corridor_status`` are ``uncertain`` when the
threshold lies within that accuracy (plus the site's own ``accuracy_m``) of the
distance (:func:`geo.accuracy.band_status`).  Distances are returned unrounded;
:func:`geo.accuracy.round_overlay` rounds them to their accuracy for display.

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
...         "flows_into": [""], "accuracy_m": [5000.0], "illustrative": [True]},
...         geometry=[shapely.LineString([(116, 43.2), (116, 44.8)])], crs=4326),
...     sections=gpd.GeoDataFrame({"id": ["s"], "name_zh": ["丁断面"], "river_id": ["r"]},
...         geometry=[shapely.Point(116, 44.5)], crs=4326))
>>> sites = gpd.GeoDataFrame({"name": ["上游", "下游", "盟外"]},
...     geometry=gpd.points_from_xy([116.005, 116.0, 120.0], [44.0, 44.7, 44.0]), crs=4326)
>>> out = overlay_sites(sites, ref)
>>> out[["basin_zh", "county", "river_zh", "upstream_sections"]].values.tolist()
[['乙流域', '甲旗', '丙河', 's'], ['乙流域', '甲旗', '丙河', ''], ['', '', '丙河', '']]
>>> out["upstream_status"].tolist(), out["in_river_buffer_status"].tolist()
(['yes', 'no', 'unknown'], ['uncertain', 'uncertain', 'no'])
>>> out["river_distance_m"].round(0).tolist(), out["river_accuracy_m"].tolist()
([401.0, 0.0, 320834.0], [5000.0, 5000.0, 5000.0])
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import Transformer

from .accuracy import ACCURACY_RULE, band_status, provenance_arrays
from .crs import DISTANCE_CRS
from .drainage import DRAINAGE_RULE, REASON_CODES, DrainageNames, label_drainage
from .nearest import Nearest, PointIndex
from .network import RiverNetwork
from .route import ScenicRoute
from .shares import polygon_shares

#: Columns :func:`overlay_sites` adds, in order.
OVERLAY_COLUMNS: tuple[str, ...] = (
    "in_league", "basin_id", "basin_zh", "county", "adcode", "basin_shares", "county_shares",
    "river_id", "river_zh", "river_distance_m", "in_river_buffer", "in_river_buffer_status",
    "section_id", "section_zh", "section_distance_m",
    "upstream_of_section", "upstream_status", "upstream_reason", "upstream_reason_zh",
    "upstream_reason_en", "upstream_sections", "drain_river_id",
    "road_km", "road_distance_m", "in_road_corridor", "in_corridor_status",
    "river_accuracy_m", "river_illustrative", "section_accuracy_m", "section_illustrative",
    "road_accuracy_m", "road_illustrative", "basin_accuracy_m", "basin_illustrative",
    "county_accuracy_m", "county_illustrative",
)

#: Each overlay column in words: (Chinese, English), for API descriptions and pages.
COLUMN_MEANINGS: dict[str, tuple[str, str]] = {
    "in_league": ("是否在盟内(线、面: 一半以上在盟内)",
                  "in the League (lines, polygons: at least half of it)"),
    "basin_id": ("所在流域编号(线、面: 最大部分所在)", "basin id (lines, polygons: largest part)"),
    "basin_zh": ("所在流域", "basin name (Chinese)"),
    "county": ("所在旗县市区(线、面: 最大部分所在)",
               "county-level unit (lines, polygons: largest part)"),
    "adcode": ("旗县市区代码", "county admin code"),
    "basin_shares": ("跨流域时各流域所占比例(编号:比例;…)",
                     "basin shares when crossing a border (id:share;…)"),
    "county_shares": ("跨旗县时各旗县所占比例(名称:比例;…)",
                      "county shares when crossing a border (name:share;…)"),
    "river_id": ("最近河流编号", "nearest river id"),
    "river_zh": ("最近河流", "nearest river (Chinese)"),
    "river_distance_m": ("到最近河流的距离(米, 按河流精度取整)",
                         "distance to the nearest river (m, rounded to the river's accuracy)"),
    "in_river_buffer": ("是否在河流缓冲区内(按量测距离)",
                        "inside the river buffer (by the measured distance)"),
    "in_river_buffer_status": ("是否在河流缓冲区内: 是/否/不确定(在精度范围内)",
                               "inside the river buffer: yes / no / uncertain (within the "
                               "accuracy)"),
    "section_id": ("最近国考断面编号", "nearest national section id"),
    "section_zh": ("最近国考断面", "nearest national section (Chinese)"),
    "section_distance_m": ("到最近断面的距离(米)", "distance to the nearest section (m)"),
    "upstream_of_section": ("是否在某国考断面上游", "upstream of a national section"),
    "upstream_status": ("上游判断: 是/否/未知", "upstream: yes / no / unknown"),
    "upstream_reason": ("上游判断的原因代码", "code of the upstream reason"),
    "upstream_reason_zh": ("上游判断的原因", "the upstream reason in Chinese"),
    "upstream_reason_en": ("上游判断的原因(英文)", "the upstream reason in English"),
    "upstream_sections": ("所在上游的断面编号(;分隔)", "ids of the sections it is upstream of (;)"),
    "drain_river_id": ("排水所经河流编号", "river it drains through"),
    "road_km": ("最近处的风景大道里程(公里)", "scenic-road kilometre at the nearest point"),
    "road_distance_m": ("到风景大道的距离(米)", "distance to the scenic road (m)"),
    "in_road_corridor": ("是否在风景大道视觉廊道内(按量测距离)",
                         "inside the road's view corridor (by the measured distance)"),
    "in_corridor_status": ("是否在视觉廊道内: 是/否/不确定", "inside the corridor: yes / no / "
                           "uncertain"),
    "river_accuracy_m": ("所比对河流的精度(±米)", "accuracy of the river matched (±m)"),
    "river_illustrative": ("所比对河流是否为示意", "the river matched is illustrative"),
    "section_accuracy_m": ("所比对断面的精度(±米)", "accuracy of the section matched (±m)"),
    "section_illustrative": ("所比对断面是否为示意", "the section matched is illustrative"),
    "road_accuracy_m": ("所比对道路段的精度(±米)", "accuracy of the road segment matched (±m)"),
    "road_illustrative": ("所比对道路段是否为示意", "the road segment matched is illustrative"),
    "basin_accuracy_m": ("所在流域边界的精度(±米)", "accuracy of the basin's divides (±m)"),
    "basin_illustrative": ("所在流域边界是否为示意", "the basin's outline is illustrative"),
    "county_accuracy_m": ("所在旗县边界的精度(±米)", "accuracy of the county's boundary (±m)"),
    "county_illustrative": ("所在旗县边界是否为示意", "the county's outline is illustrative"),
}

#: Overlays of at least this many sites build (once) and use the prepared grids of
#: :meth:`OverlayIndex.prepare_grids`; below it the per-call candidate search is cheap.
GRID_MIN_SITES = 100_000

#: Share of a line or polygon site that must lie in the League for ``in_league``.
IN_LEAGUE_MIN_SHARE = 0.5

_REASON = {code: i for i, code in enumerate(REASON_CODES)}

#: How sites are placed in counties, basins and the League, in words.
PLACEMENT_RULE = {
    "zh": ("点按其所在位置确定旗县与流域; 线、面按其长度(线)或面积(面)最大的部分所在的旗县与流域"
           "确定, 跨界时列出各部分所占比例; 一半以上位于盟内即为在盟内。距离按真实几何量测。"),
    "en": ("A point lies in the county and basin that contain it; a line or polygon gets the "
           "county and basin holding the largest part of it (length for lines, area for "
           "polygons), with the shares listed when it crosses a border, and is in the League "
           "when at least half of it is. Distances are measured to the true geometry."),
}


def overlay_rules() -> dict[str, dict[str, str]]:
    """The rules behind the overlay's answers, each in Chinese and English.

    For the API description, the overlay report and the page: ``placement``
    (:data:`PLACEMENT_RULE`), ``drainage`` (:data:`geo.drainage.DRAINAGE_RULE`) and
    ``accuracy`` (:data:`geo.accuracy.ACCURACY_RULE`).

    Examples
    --------
    >>> sorted(overlay_rules()), sorted(overlay_rules()["drainage"])
    (['accuracy', 'drainage', 'placement'], ['en', 'zh'])
    """
    return {"placement": dict(PLACEMENT_RULE), "drainage": dict(DRAINAGE_RULE),
            "accuracy": dict(ACCURACY_RULE)}


@lru_cache(maxsize=4)
def _to_metric(crs: str = DISTANCE_CRS) -> Transformer:
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def _str_col(frame: pd.DataFrame, col: str, fallback: str | None = None) -> NDArray:
    """A text column as an object array ("" for missing), else ``fallback`` column or ""."""
    if col in frame:
        return frame[col].fillna("").astype(str).to_numpy(dtype=object)
    if fallback is not None and fallback in frame:
        return _str_col(frame, fallback)
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
    reference bundle that has no ``overlay_index``).  Per-feature arrays (``*_acc``
    accuracy in metres, ``*_ill`` illustrative flags, ``*_en`` English names) are
    aligned with the polygons, rivers, sections and road segments.
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
    basin_en: NDArray = field(default_factory=lambda: np.zeros(0, object))
    basin_acc: NDArray = field(default_factory=lambda: np.zeros(0))
    basin_ill: NDArray = field(default_factory=lambda: np.zeros(0, bool))
    county_acc: NDArray = field(default_factory=lambda: np.zeros(0))
    county_ill: NDArray = field(default_factory=lambda: np.zeros(0, bool))
    section_en: NDArray = field(default_factory=lambda: np.zeros(0, object))
    section_acc: NDArray = field(default_factory=lambda: np.zeros(0))
    section_ill: NDArray = field(default_factory=lambda: np.zeros(0, bool))
    road_km_to: NDArray = field(default_factory=lambda: np.zeros(0))
    road_acc: NDArray = field(default_factory=lambda: np.zeros(0))
    road_ill: NDArray = field(default_factory=lambda: np.zeros(0, bool))
    # Results derived from the index and kept with it (geo.upstream's drainage areas).
    cache: dict = field(default_factory=dict, repr=False)

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
        ``accuracy_m`` and ``illustrative`` are read from every layer that has them.
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
        county_acc, county_ill = provenance_arrays(units)
        basin_acc, basin_ill = provenance_arrays(basins)
        section_acc, section_ill = provenance_arrays(sections)
        if route is not None:
            road_acc, road_ill = provenance_arrays(route.segments)
            road_km_to = route.segments["km_to"].to_numpy(dtype="float64")
        else:
            road_acc, road_ill, road_km_to = np.zeros(0), np.zeros(0, bool), np.zeros(0)
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
            basin_en=_str_col(basins, "name_en", "name_zh"),
            basin_acc=basin_acc, basin_ill=basin_ill,
            county_acc=county_acc, county_ill=county_ill,
            section_en=_str_col(sections, "name_en", "name_zh"),
            section_acc=section_acc, section_ill=section_ill,
            road_km_to=road_km_to, road_acc=road_acc, road_ill=road_ill,
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

    # -- helpers for the overlay ----------------------------------------------------------
    def drainage_names(self) -> DrainageNames:
        """Names quoted by the drainage reasons, aligned with this index."""
        rivers = self.network.rivers if self.network is not None else None
        return DrainageNames(
            basin_zh=self.basin_zh, basin_en=self.basin_en,
            river_zh=self.river_zh,
            river_en=(rivers["name_en"].to_numpy(dtype=object) if rivers is not None
                      and "name_en" in rivers else self.river_zh),
            section_id=(self.network.sections["section_id"].to_numpy(dtype=object)
                        if self.network is not None and len(self.network.sections)
                        else np.zeros(0, object)),
            section_zh=self._network_section_names("zh"),
            section_en=self._network_section_names("en"))

    def _network_section_names(self, lang: str) -> NDArray:
        # The network's section order is the sections layer's order (with_sections).
        if self.network is None or not len(self.network.sections):
            return np.zeros(0, object)
        ids = self.network.sections["section_id"].astype(str).to_numpy()
        names = self.section_en if lang == "en" else self.section_zh
        pos = {s: i for i, s in enumerate(self.section_id)}
        return np.array([names[pos[s]] if s in pos and len(names) else s for s in ids],
                        dtype=object)


def _index_of(ref: object) -> OverlayIndex:
    if isinstance(ref, OverlayIndex):
        return ref
    ready = getattr(ref, "overlay_index", None)
    if isinstance(ready, OverlayIndex):
        return ready
    return OverlayIndex.from_reference(ref)


def _pick(labels: NDArray, idx: NDArray, missing: object = "") -> NDArray:
    """``labels[idx]`` with ``missing`` where ``idx`` is -1."""
    # One trailing value makes index -1 pick it: a single gather, no masking.
    labels = np.asarray(labels)
    kind = labels.dtype if labels.dtype != object else object
    return np.append(labels, np.array([missing], dtype=kind))[idx] \
        if len(labels) else np.full(len(idx), missing, dtype=kind)


def _pick_acc(values: NDArray, idx: NDArray) -> NDArray[np.float64]:
    return _pick(np.asarray(values, dtype="float64"), idx, np.nan)


def _pick_flag(values: NDArray, idx: NDArray) -> NDArray[np.bool_]:
    return _pick(np.asarray(values, dtype=bool), idx, False)


def _site_accuracy(sites: pd.DataFrame, site_accuracy_m: str | float | None) -> NDArray:
    """Each site's own accuracy (m): a column of ``sites``, one number, or 0."""
    n = len(sites)
    if site_accuracy_m is None:
        return np.zeros(n)
    if isinstance(site_accuracy_m, str):
        if site_accuracy_m not in sites:
            return np.zeros(n)
        acc = pd.to_numeric(sites[site_accuracy_m], errors="coerce").to_numpy(dtype="float64")
    else:
        acc = np.full(n, float(site_accuracy_m))
    return np.clip(np.nan_to_num(acc, nan=0.0, posinf=0.0), 0.0, None)


def overlay_sites(sites: gpd.GeoDataFrame | gpd.GeoSeries, ref: object,
                  river_buffer_m: float = 1000.0, corridor_m: float = 5000.0,
                  site_accuracy_m: str | float | None = "accuracy_m") -> gpd.GeoDataFrame:
    """Overlay sites on basins, counties, rivers, sections and the scenic road.

    Parameters
    ----------
    sites : GeoDataFrame or GeoSeries
        Points, lines or polygons in EPSG:4326 (a missing CRS is taken as EPSG:4326).
    ref : OverlayIndex or reference bundle
        The reference layers: an :class:`OverlayIndex`, an object with an
        ``overlay_index`` attribute (``layers.reference.Reference``), or any object
        with the layers as attributes.
    river_buffer_m : float
        Width of the river buffer: ``in_river_buffer`` is ``river_distance_m <=
        river_buffer_m``.
    corridor_m : float
        Half-width of the scenic road's view corridor.
    site_accuracy_m : str, float or None
        The sites' own positional accuracy (m), added to the reference accuracy in
        the ``*_status`` answers: a column name (default ``accuracy_m``, used when
        present), one number for all, or None for exact sites.

    Returns
    -------
    geopandas.GeoDataFrame
        The sites with :data:`OVERLAY_COLUMNS` added:

        ``in_league``, ``basin_id``, ``basin_zh``, ``county``, ``adcode``
            Placement (largest part for lines and polygons); "" outside.
        ``basin_shares``, ``county_shares``
            ``label:share;…`` (basin ids, county names, largest first) for a line
            or polygon crossing a border (the part outside the League is 1 minus
            their sum), else "".
        ``river_id``, ``river_zh``, ``river_distance_m``, ``in_river_buffer``
            The nearest river of any basin, the distance (m) and the buffer test.
        ``in_river_buffer_status``
            ``yes`` / ``no`` / ``uncertain`` given the river's (and site's) accuracy.
        ``section_id``, ``section_zh``, ``section_distance_m``
            The nearest national section.
        ``upstream_of_section``, ``upstream_status``, ``upstream_reason``,
        ``upstream_reason_zh``, ``upstream_reason_en``, ``upstream_sections``,
        ``drain_river_id``
            Drainage per :data:`geo.drainage.DRAINAGE_RULE`: the boolean
            (``upstream_status == "yes"``), ``yes`` / ``no`` / ``unknown``, the reason
            code (:data:`geo.drainage.REASONS`) and words, the section ids (``;``)
            and the river the site drains through.
        ``road_km``, ``road_distance_m``, ``in_road_corridor``, ``in_corridor_status``
            The scenic road.
        ``river_accuracy_m`` … ``county_illustrative``
            Accuracy (m, NaN when unknown or nothing was matched) and illustrative
            flag of the river, section, road segment, basin and county matched.
    """
    if river_buffer_m < 0 or corridor_m < 0:
        raise ValueError("river_buffer_m and corridor_m must be >= 0 metres")
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

    # -- placement: points by containment, lines and polygons by their largest part --
    in_league = np.zeros(n, dtype=bool)
    in_league[present] = idx.league.which(x[present], y[present]) >= 0
    county = np.full(n, -1, dtype=np.int64)
    basin = np.full(n, -1, dtype=np.int64)
    county[in_league] = idx.counties.which(x[in_league], y[in_league])
    basin[in_league] = idx.basins.which(x[in_league], y[in_league])
    county_shares = np.full(n, "", dtype=object)
    basin_shares = np.full(n, "", dtype=object)
    parts = None  # (site, basin, share, piece) of the sized sites' parts in basins
    sized = np.zeros(n, dtype=bool)
    if not all_points:
        cand = np.flatnonzero(present & (shapely.get_dimensions(
            np.where(present, geoms, None)) >= 1))
        if len(cand):
            sub = metric_geoms[cand]
            lg = polygon_shares(sub, idx.league.polygons)
            has = ~np.isnan(lg.inside)  # a length or an area to share out
            pos = cand[has]
            sized[pos] = True
            in_league[pos] = lg.inside[has] >= IN_LEAGUE_MIN_SHARE
            cs = polygon_shares(sub, idx.counties.polygons)
            bs = polygon_shares(sub, idx.basins.polygons)
            county[pos] = np.where(in_league[pos], cs.largest[has], -1)
            basin[pos] = np.where(in_league[pos], bs.largest[has], -1)
            county_shares[cand] = cs.listing(idx.county_zh)
            basin_shares[cand] = bs.listing(idx.basin_id)
            parts = (cand[bs.site], bs.polygon, bs.share, bs.piece)
    basin_id = _pick(idx.basin_id, basin)

    # Columns gathered as arrays and framed once at the end: assigning a million-row
    # column to a GeoDataFrame one at a time copies and re-checks it each time.
    cols: dict[str, NDArray] = {
        "in_league": in_league,
        "basin_id": basin_id,
        "basin_zh": _pick(idx.basin_zh, basin),
        "county": _pick(idx.county_zh, county),
        "adcode": _pick(idx.county_adcode, county),
        "basin_shares": basin_shares,
        "county_shares": county_shares,
    }

    # -- nearest river (any basin) and drainage (own basin) ---------------------------
    net = idx.network
    names = idx.drainage_names()
    k = len(names.section_id)
    mat = np.zeros((n, k), dtype=bool)
    drain_river = np.full(n, -1, dtype=np.int64)
    river_line = np.full(n, -1, dtype=np.int64)
    if net is not None:
        near = (net.index.nearest_xy(x, y) if all_points
                else net.index.nearest(metric_geoms))
        river_line = np.where(present, near.line, -1)
        cols["river_id"] = _pick(net.rivers["river_id"].to_numpy(dtype=object), river_line)
        cols["river_zh"] = _pick(idx.river_zh, river_line)
        cols["river_distance_m"] = near.distance
        # Points (and lines/polygons without length or area): the nearest river of
        # the site's own basin, reusing the search above where it is in that basin.
        snapped = net.snap_metric(metric_geoms if not all_points else None, None,
                                  basin_id, xy=(x, y) if all_points else None, near=near)
        ok = snapped["snapped"].to_numpy() & present & (basin >= 0) & ~sized
        snapped.loc[~ok, "snapped"] = False
        if k:
            mat = net.drains_to(snapped)
        drain_river = np.where(ok, snapped["river_idx"].to_numpy(), -1)
        if parts is not None and len(parts[0]):
            _drain_parts(net, idx, parts, mat, drain_river, near)
    else:
        cols["river_id"] = cols["river_zh"] = np.full(n, "", dtype=object)
        cols["river_distance_m"] = np.full(n, np.nan)

    # -- upstream status and reason ----------------------------------------------------
    drains = mat.any(axis=1) if k else np.zeros(n, dtype=bool)
    reason = np.select(
        [~present, np.full(n, net is None), drains, basin < 0, drain_river >= 0],
        [_REASON["no_geometry"], _REASON["no_rivers"], _REASON["drains_to_section"],
         _REASON["outside_basins"], _REASON["below_sections"]],
        default=_REASON["inland_basin"])
    if net is not None and len(idx.basin_id):
        # The basin a reason names: the drained river's own basin, else the site's.
        river_basin = np.array([np.flatnonzero(idx.basin_id == b)[0]
                                if (idx.basin_id == b).any() else -1
                                for b in net.rivers["basin_id"].astype(str)], dtype=np.int64)
        reason_basin = np.where(drain_river >= 0, _pick(river_basin, drain_river, -1), basin)
    else:
        reason_basin = basin
    labels = label_drainage(mat, reason, reason_basin, drain_river, names)
    cols["upstream_of_section"] = labels["upstream_status"] == "yes"
    cols.update(labels)
    cols["drain_river_id"] = _pick(net.rivers["river_id"].to_numpy(dtype=object),
                                   drain_river) if net is not None else \
        np.full(n, "", dtype=object)

    # -- nearest section: KD-tree on points; a polygon's true distance to each section --
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

    # -- scenic road: km of the closest point and distance ------------------------------
    road_seg = np.full(n, -1, dtype=np.int64)
    if idx.route is not None:
        rnear = (idx.route.index.nearest_xy(x, y) if all_points
                 else idx.route.index.nearest(metric_geoms))
        cols["road_km"] = rnear.measure / 1000.0
        cols["road_distance_m"] = rnear.distance
        if len(idx.road_km_to):
            road_seg = np.minimum(np.searchsorted(idx.road_km_to, cols["road_km"]),
                                  len(idx.road_km_to) - 1)
            road_seg = np.where(present & np.isfinite(cols["road_km"]), road_seg, -1)
    else:
        cols["road_km"] = np.full(n, np.nan)
        cols["road_distance_m"] = np.full(n, np.nan)
    for col in ("river_distance_m", "section_distance_m", "road_km", "road_distance_m"):
        cols[col] = np.where(present, cols[col], np.nan)

    # -- accuracy of what each answer was measured against -------------------------------
    river_acc = _pick_acc(net.rivers["accuracy_m"].to_numpy() if net is not None
                          else np.zeros(0), river_line)
    road_acc = _pick_acc(idx.road_acc, road_seg)
    own = _site_accuracy(sites, site_accuracy_m)
    cols["in_river_buffer"] = cols["river_distance_m"] <= river_buffer_m
    cols["in_river_buffer_status"] = band_status(cols["river_distance_m"], river_buffer_m,
                                                 np.nan_to_num(river_acc) + own)
    cols["in_road_corridor"] = cols["road_distance_m"] <= corridor_m
    cols["in_corridor_status"] = band_status(cols["road_distance_m"], corridor_m,
                                             np.nan_to_num(road_acc) + own)
    cols["river_accuracy_m"] = river_acc
    cols["river_illustrative"] = _pick_flag(
        net.rivers["illustrative"].to_numpy() if net is not None else np.zeros(0, bool),
        river_line)
    cols["section_accuracy_m"] = _pick_acc(idx.section_acc, sec)
    cols["section_illustrative"] = _pick_flag(idx.section_ill, sec)
    cols["road_accuracy_m"] = road_acc
    cols["road_illustrative"] = _pick_flag(idx.road_ill, road_seg)
    cols["basin_accuracy_m"] = _pick_acc(idx.basin_acc, basin)
    cols["basin_illustrative"] = _pick_flag(idx.basin_ill, basin)
    cols["county_accuracy_m"] = _pick_acc(idx.county_acc, county)
    cols["county_illustrative"] = _pick_flag(idx.county_ill, county)
    for col in ("in_river_buffer", "in_road_corridor", "upstream_of_section"):
        cols[col] = np.asarray(cols[col], dtype=bool) & present
    # The site's own columns first (an overlay column of the same name is replaced),
    # then the overlay's, then the geometry.
    geom = sites.geometry.name
    own_cols = [c for c in sites.columns if c != geom and c not in OVERLAY_COLUMNS]
    # Every column is an array of its own (the input's copied, one array never in two
    # columns), so the frame is built without pandas' consolidating copy of a
    # million-row frame (copy=False: 0.3-0.4 s of CPU at 1M sites).
    data = {c: sites[c].array.copy() for c in own_cols}
    seen: set[int] = set()
    for c in OVERLAY_COLUMNS:
        a = cols[c]
        if id(a) in seen:
            a = np.array(a, copy=True)
        seen.add(id(a))
        data[c] = a
    data[geom] = sites.geometry.array.copy()
    return gpd.GeoDataFrame(data, index=sites.index.copy(), geometry=geom, crs=sites.crs,
                            copy=False)


def _drain_parts(net: RiverNetwork, idx: OverlayIndex,
                 parts: tuple[NDArray, NDArray, NDArray, NDArray],
                 mat: NDArray, drain_river: NDArray, near: Nearest) -> None:
    """Drainage of line and polygon sites through each of their parts in a basin.

    Fills ``mat`` (site × section) with every section any part drains to, and
    ``drain_river`` with the river of the largest part that drains to a section, or
    else of the largest part in a basin with rivers.  ``near`` is the sites' own
    nearest-river search: a site wholly in one basin reuses it where that river is
    in the basin, as points do.
    """
    site, poly, share, piece = parts
    part_river = np.full(len(site), -1, dtype=np.int64)
    part_drains = np.zeros(len(site), dtype=bool)
    for b in np.unique(poly):  # a handful of basins
        sel = np.flatnonzero(poly == b)
        bid = str(idx.basin_id[b])
        whole = share[sel] >= 1.0  # the part is the site itself
        if whole.all():
            snapped = net.snap_metric(piece[sel], None, np.full(len(sel), bid, dtype=object),
                                      near=near.take(site[sel]))
        elif not whole.any():
            snapped = net.snap_within(piece[sel], bid)
        else:
            snapped = pd.concat([
                net.snap_metric(piece[sel[whole]], None,
                                np.full(int(whole.sum()), bid, dtype=object),
                                near=near.take(site[sel[whole]])),
                net.snap_within(piece[sel[~whole]], bid),
            ]).iloc[np.argsort(np.r_[np.flatnonzero(whole), np.flatnonzero(~whole)],
                               kind="stable")].reset_index(drop=True)
        ok = snapped["snapped"].to_numpy()
        if not ok.any():
            continue  # an inland basin: its parts drain nowhere
        part_river[sel[ok]] = snapped["river_idx"].to_numpy()[ok]
        if mat.shape[1]:
            rows = net.drains_to(snapped)
            # One part per site and basin: the sites of ``sel`` are distinct.
            mat[site[sel]] |= rows
            part_drains[sel] = rows.any(axis=1)
    has = part_river >= 0
    if has.any():
        order = np.lexsort((-share[has], ~part_drains[has], site[has]))
        s, r = site[has][order], part_river[has][order]
        first = np.r_[True, s[1:] != s[:-1]]
        drain_river[s[first]] = r[first]


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


#: Sites per chunk of :func:`overlay_chunks`: a chunk's overlay and encoded rows stay
#: within tens of MB whatever the number of sites.
OVERLAY_CHUNK = 50_000


def overlay_chunks(sites: gpd.GeoDataFrame, ref: object, *, chunk: int = OVERLAY_CHUNK,
                   **params: float) -> Iterator[gpd.GeoDataFrame]:
    """:func:`overlay_sites` of ``sites`` in consecutive chunks of ``chunk`` rows.

    Each site's answer depends on that site alone, so the chunks together are
    :func:`overlay_sites` of the whole, row for row; a caller writes each chunk out
    before the next is computed, and memory stays bounded by the chunk.  The
    nearest-line grids are built first when the whole would have built them.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> ref = OverlayIndex.from_layers(admin=gpd.GeoDataFrame(
    ...     {"name_zh": ["甲旗"], "adcode": ["1"], "level": ["county"]},
    ...     geometry=[shapely.box(115, 43, 117, 45)], crs=4326))
    >>> sites = gpd.GeoDataFrame(geometry=gpd.points_from_xy([116, 116.5, 120], [44, 44, 44]),
    ...                          crs=4326)
    >>> [c["county"].tolist() for c in overlay_chunks(sites, ref, chunk=2)]
    [['甲旗', '甲旗'], ['']]
    """
    idx = _index_of(ref)
    for lines in (idx.network.index if idx.network is not None else None,
                  idx.route.index if idx.route is not None else None):
        if lines is not None:
            lines.warm(len(sites))
    for start in range(0, len(sites), max(int(chunk), 1)):
        yield overlay_sites(sites.iloc[start:start + chunk], idx, **params)
