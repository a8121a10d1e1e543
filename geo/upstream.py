"""What drains to each national section: its upstream area, rivers, basin parts, projects.

The overlay (:mod:`geo.overlay`, rule in :data:`geo.drainage.DRAINAGE_RULE`) says of
any site whether it lies upstream of a section: it drains through the nearest
reach of its own basin's rivers.  The *drainage area* of a section is therefore
the set of places in basins with rivers whose nearest river point (within their
basin) lies upstream of the section.  :func:`drainage_regions` builds it once per
reference version: every basin's rivers are densified to vertices
``spacing_m`` apart, each vertex is labelled with the sections it drains to
(reach table of :class:`geo.network.RiverNetwork`, the section's own reach cut at
the section), and the Voronoi cells of the vertices — the places nearer that
vertex than any other of the basin's rivers — are unioned per section and clipped
to the basin.  The cells approximate the exact nearest-segment partition the
overlay uses to within about ``spacing_m`` along the dividing lines (a fraction of
a percent of the area at the default 250 m; the tests compare against a grid of
real overlay answers).  Areas are measured in :data:`geo.crs.AREA_CRS`.

:func:`section_upstream` answers for one section: its area, the basins' parts,
the rivers (cut at the section) and the projects (or any overlaid sites) upstream.

Examples
--------
>>> import geopandas as gpd, shapely
>>> from geo.overlay import OverlayIndex
>>> idx = OverlayIndex.from_layers(
...     admin=gpd.GeoDataFrame({"name_zh": ["甲旗"], "level": ["county"]},
...         geometry=[shapely.box(115.5, 43.5, 116.5, 44.5)], crs=4326),
...     basins=gpd.GeoDataFrame({"id": ["b"], "name_zh": ["乙流域"]},
...         geometry=[shapely.box(115.5, 43.5, 116.5, 44.5)], crs=4326),
...     rivers=gpd.GeoDataFrame({"id": ["r"], "name_zh": ["丙河"], "basin_id": ["b"]},
...         geometry=[shapely.LineString([(116, 43.5), (116, 44.5)])], crs=4326),
...     sections=gpd.GeoDataFrame({"id": ["s"], "name_zh": ["丁断面"], "river_id": ["r"]},
...         geometry=[shapely.Point(116, 44.0)], crs=4326))
>>> up = section_upstream(idx, "s")
>>> round(float(up.area_km2 / up.basins["basin_area_km2"].iloc[0]), 2)  # the southern half
0.5
>>> up.rivers[["river_id", "length_km"]].round(1).values.tolist()
[['r', 55.6]]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import Transformer

from .crs import AREA_CRS, DISTANCE_CRS
from .drainage import DRAINAGE_RULE
from .errors import GeoInputError
from .overlay import OverlayIndex, overlay_sites

#: Spacing (m) of the river vertices whose Voronoi cells make the drainage areas.
DEFAULT_SPACING_M = 250.0

#: Columns of the sites listed as upstream, when the sites carry them.
SITE_COLUMNS: tuple[str, ...] = (
    "id", "name_zh", "name_en", "category", "county", "basin_id", "total_investment_yi",
    "plan_2023_yi", "drain_river_id", "accuracy_m", "illustrative",
)
_MONEY = ("total_investment_yi", "plan_2023_yi")


@lru_cache(maxsize=2)
def _to_area() -> Transformer:
    return Transformer.from_crs(DISTANCE_CRS, AREA_CRS, always_xy=True)


def _area_km2(geoms: NDArray) -> NDArray[np.float64]:
    t = _to_area()
    g = shapely.transform(np.asarray(geoms, dtype=object),
                          lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
    return shapely.area(g) / 1e6


def drainage_regions(index: OverlayIndex, spacing_m: float = DEFAULT_SPACING_M
                     ) -> gpd.GeoDataFrame:
    """The drainage area of every section, split by basin (computed once per index).

    Parameters
    ----------
    index : OverlayIndex
        The prepared reference side (rivers with sections placed, basins).
    spacing_m : float
        Spacing of the river vertices (smaller: closer to the overlay's exact rule,
        slower).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per (section, basin) part with ``section_id``, ``basin_id``,
        ``area_km2`` (AREA_CRS), geometry in DISTANCE_CRS.  Sections on no river of
        a basin have no rows.
    """
    if not spacing_m > 0:
        raise ValueError("spacing_m must be a positive number of metres")
    key = ("drainage_regions", float(spacing_m))
    if key in index.cache:
        return index.cache[key]
    net = index.network
    rows: list[dict[str, Any]] = []
    if net is not None and len(net.sections):
        section_ids = net.sections["section_id"].to_numpy(dtype=object)
        for j, basin_id in enumerate(index.basin_id):
            found = net.basin_lines(str(basin_id))
            if found is None:
                continue  # an inland basin: nothing in it drains to a section
            members, _ = found
            drains, cells = _labelled_cells(net, members, index.basins.polygons[j], spacing_m)
            basin_poly = index.basins.polygons[j]
            for s in np.flatnonzero(drains.any(axis=0)):
                region = shapely.intersection(shapely.union_all(cells[drains[:, s]]),
                                              basin_poly)
                rows.append({"section_id": section_ids[s], "basin_id": str(basin_id),
                             "geometry": region})
    frame = gpd.GeoDataFrame(rows, columns=["section_id", "basin_id", "geometry"],
                             geometry="geometry", crs=DISTANCE_CRS)
    frame["area_km2"] = _area_km2(frame.geometry.values) if len(frame) else []
    index.cache[key] = frame
    return frame


def _labelled_cells(net: Any, members: NDArray, basin_poly: shapely.Geometry,
                    spacing_m: float) -> tuple[NDArray[np.bool_], NDArray]:
    """Vertices of a basin's rivers every ``spacing_m``: which sections each drains to,
    and their Voronoi cells (same order)."""
    dense = shapely.segmentize(net.lines[members], spacing_m)
    coords, which = shapely.get_coordinates(dense, return_index=True)
    # A confluence is a vertex of both rivers: keep one (the cells must not repeat).
    coords, first = np.unique(coords, axis=0, return_index=True)
    river = members[which[first]]
    measure = shapely.line_locate_point(net.lines[river], shapely.points(coords))
    reach = net.reach_at(river, measure)
    snapped = pd.DataFrame({"reach_idx": reach, "river_measure_m": measure,
                            "snapped": np.ones(len(reach), dtype=bool)})
    drains = net.drains_to(snapped)
    cells = shapely.voronoi_polygons(shapely.multipoints(coords), extend_to=basin_poly,
                                     ordered=True)
    return drains, np.asarray(shapely.get_parts(cells), dtype=object)


@dataclass
class SectionUpstream:
    """Everything upstream of one section.

    Attributes
    ----------
    section_id, name_zh, name_en, river_id : str
        The section.
    area_km2 : float
        Its drainage area (AREA_CRS).
    basins : pandas.DataFrame
        The basins' parts: ``basin_id``, ``basin_zh``, ``basin_en``, ``area_km2``,
        ``basin_area_km2`` (the whole basin in the League), ``share_of_basin``,
        ``accuracy_m``, ``illustrative`` (of the basin's divides).
    rivers : pandas.DataFrame
        Rivers upstream, cut at the section: ``river_id``, ``name_zh``, ``name_en``,
        ``length_km``, ``accuracy_m``, ``illustrative``.
    sites : pandas.DataFrame
        The sites (projects) upstream, with the :data:`SITE_COLUMNS` they have.
    geometry : shapely geometry
        The drainage area in EPSG:4326.
    spacing_m : float
        Vertex spacing the area was computed with.
    """

    section_id: str
    name_zh: str
    name_en: str
    river_id: str
    area_km2: float
    basins: pd.DataFrame
    rivers: pd.DataFrame
    sites: pd.DataFrame
    geometry: shapely.Geometry
    spacing_m: float
    rule: dict[str, str] = field(default_factory=lambda: dict(DRAINAGE_RULE))

    def totals(self) -> dict[str, float | int]:
        """Count of the sites upstream and the sums of their investment columns."""
        out: dict[str, float | int] = {"count": len(self.sites)}
        for m in _MONEY:
            if m in self.sites:
                out[m] = round(float(pd.to_numeric(self.sites[m], errors="coerce")
                                     .fillna(0.0).sum()), 4)
        return out

    def to_dict(self, geometry: bool = False) -> dict[str, Any]:
        """JSON-ready answer (numbers rounded: km² to 1, km to 0.1; ``geometry`` adds
        the area as a GeoJSON geometry)."""
        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            clean = frame.astype(object).where(frame.notna(), None)
            return [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
                    for r in clean.to_dict("records")]

        basins = self.basins.assign(area_km2=self.basins["area_km2"].round(0),
                                    basin_area_km2=self.basins["basin_area_km2"].round(0),
                                    share_of_basin=self.basins["share_of_basin"].round(3))
        rivers = self.rivers.assign(length_km=self.rivers["length_km"].round(1))
        d: dict[str, Any] = {
            "section_id": self.section_id, "name_zh": self.name_zh, "name_en": self.name_en,
            "river_id": self.river_id, "area_km2": round(self.area_km2),
            "basins": records(basins), "rivers": records(rivers),
            "sites": records(self.sites), "totals": self.totals(),
            "spacing_m": self.spacing_m, "rule": self.rule,
        }
        if geometry:
            d["geometry"] = shapely.geometry.mapping(self.geometry)
        return d


def section_upstream(index: OverlayIndex, section_id: str,
                     sites: pd.DataFrame | None = None,
                     spacing_m: float = DEFAULT_SPACING_M) -> SectionUpstream:
    """The drainage area, basin parts, rivers and sites upstream of ``section_id``.

    Parameters
    ----------
    index : OverlayIndex
        The prepared reference side (``layers.reference.Reference.overlay_index``).
    section_id : str
        Id of a section of the index.
    sites : DataFrame, optional
        Sites to list when upstream: an overlay result (with ``upstream_sections``,
        e.g. ``Reference.projects_overlay``) or a GeoDataFrame to overlay now.
    spacing_m : float
        See :func:`drainage_regions`.

    Raises
    ------
    GeoInputError
        For an unknown section id (404).
    """
    net = index.network
    known = list(net.sections["section_id"]) if net is not None and len(net.sections) else []
    if section_id not in known:
        raise GeoInputError(
            f"no national section with id {section_id!r}",
            hint=f"use one of: {', '.join(known)}" if known else "load the sections layer",
            status=404, message_zh=f"没有编号为 {section_id!r} 的国考断面",
            code="feature_not_found")
    regions = drainage_regions(index, spacing_m)
    mine = regions[regions["section_id"] == section_id]
    basin_pos = {b: i for i, b in enumerate(index.basin_id)}
    whole = _area_km2(index.basins.polygons) if len(index.basins.polygons) else np.zeros(0)
    bi = np.array([basin_pos[b] for b in mine["basin_id"]], dtype=np.int64)
    basins = pd.DataFrame({
        "basin_id": mine["basin_id"].to_numpy(dtype=object),
        "basin_zh": index.basin_zh[bi] if len(bi) else [],
        "basin_en": index.basin_en[bi] if len(bi) else [],
        "area_km2": mine["area_km2"].to_numpy(),
        "basin_area_km2": whole[bi] if len(bi) else [],
        "accuracy_m": index.basin_acc[bi] if len(bi) and len(index.basin_acc) else np.nan,
        "illustrative": index.basin_ill[bi] if len(bi) and len(index.basin_ill) else False,
    })
    basins["share_of_basin"] = basins["area_km2"] / basins["basin_area_km2"]

    reaches = net.upstream_of(section_id)
    reaches = reaches.assign(length_km=(reaches["m1"] - reaches["m0"]) / 1000.0)
    by_river = reaches.groupby("river_id", sort=False)["length_km"].sum()
    table = net.rivers.set_index("river_id")
    rivers = pd.DataFrame({
        "river_id": by_river.index.to_numpy(dtype=object),
        "name_zh": table.loc[by_river.index, "name_zh"].to_numpy(dtype=object),
        "name_en": table.loc[by_river.index, "name_en"].to_numpy(dtype=object),
        "length_km": by_river.to_numpy(),
        "accuracy_m": table.loc[by_river.index, "accuracy_m"].to_numpy(),
        "illustrative": table.loc[by_river.index, "illustrative"].to_numpy(dtype=bool),
    })

    listed = _sites_upstream(index, section_id, sites)
    sec = net.sections.set_index("section_id").loc[section_id]
    pos = {s: i for i, s in enumerate(index.section_id)}
    area_geom = shapely.union_all(mine.geometry.values) if len(mine) else shapely.Polygon()
    geom4326 = gpd.GeoSeries([area_geom], crs=DISTANCE_CRS).to_crs(4326).iloc[0]
    i = pos.get(section_id, -1)
    return SectionUpstream(
        section_id=section_id,
        name_zh=str(index.section_zh[i]) if i >= 0 else section_id,
        name_en=str(index.section_en[i]) if i >= 0 and len(index.section_en) else section_id,
        river_id=str(net.rivers["river_id"].iloc[int(sec["river_idx"])]),
        area_km2=float(mine["area_km2"].sum()), basins=basins, rivers=rivers, sites=listed,
        geometry=geom4326, spacing_m=float(spacing_m))


def _sites_upstream(index: OverlayIndex, section_id: str,
                    sites: pd.DataFrame | None) -> pd.DataFrame:
    """The rows of ``sites`` upstream of the section, with :data:`SITE_COLUMNS`."""
    if sites is None or not len(sites):
        return pd.DataFrame(columns=["id", "name_zh"])
    if "upstream_sections" not in sites:
        sites = overlay_sites(sites, index)
    padded = ";" + sites["upstream_sections"].fillna("").astype(str) + ";"
    hit = padded.str.contains(f";{section_id};", regex=False).to_numpy(dtype=bool)
    cols = [c for c in SITE_COLUMNS if c in sites]
    return pd.DataFrame(sites.loc[hit, cols]).reset_index(drop=True)
