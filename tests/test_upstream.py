"""Drainage areas of the national sections (geo.upstream) against an independent grid.

The independent side is written here from scratch: a 2 km grid over the League in the
equal-area CRS; each cell's basin by containment in the committed basin polygons
(EPSG:4326), its nearest river *of that basin* by GEOS distances to every river line,
where along it by ``line_locate_point``, and the network's topology written out by hand
(checked against the committed junctions below).  Nothing of geo.network or
geo.overlay is used to decide which cells drain to which section.
"""

from __future__ import annotations

from functools import cache

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from geo.crs import AREA_CRS, DISTANCE_CRS
from geo.drainage import DRAINAGE_RULE
from geo.errors import GeoInputError
from geo.overlay import OverlayIndex, overlay_sites
from geo.upstream import drainage_regions, section_upstream
from layers.prepare import layer_path

CELL_M = 2000.0
CELL_KM2 = CELL_M * CELL_M / 1e6
BASINS_WITH_RIVERS = ("luan", "xilin", "wulagai")
SECTIONS = ("sec_luanhe_duolun", "sec_shandianhe_zhenglan", "sec_xilinhe_xilinhot",
            "sec_wulagaihe_wulagai")


@cache
def layer(name: str) -> gpd.GeoDataFrame:
    return gpd.read_file(layer_path(name))


@pytest.fixture(scope="module")
def idx() -> OverlayIndex:
    return OverlayIndex.from_layers(**{k: layer(k) for k in (
        "admin", "basins", "rivers", "sections", "scenic_road")})


_TO_M = Transformer.from_crs(4326, DISTANCE_CRS, always_xy=True)


def metric(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geom, lambda c: np.column_stack(_TO_M.transform(c[:, 0], c[:, 1])))


@cache
def section_measures() -> dict[str, float]:
    """Metres along its river of each section (GEOS, metric)."""
    rivers = layer("rivers").set_index("id")
    sec = layer("sections").set_index("id")
    return {s: float(shapely.line_locate_point(metric(rivers.geometry[sec.loc[s, "river_id"]]),
                                               metric(sec.geometry[s])))
            for s in sec.index}


def drains_by_hand(river: np.ndarray, measure: np.ndarray) -> dict[str, np.ndarray]:
    """The committed network's topology, written out: which river points reach which section."""
    m = section_measures()
    return {
        "sec_xilinhe_xilinhot": (river == "xilinhe") & (measure <= m["sec_xilinhe_xilinhot"]),
        # 闪电河 and 吐力根河 meet where the 滦河 begins, above its Duolun section
        "sec_luanhe_duolun": np.isin(river, ["shandianhe", "tuligenhe"])
        | ((river == "luanhe") & (measure <= m["sec_luanhe_duolun"])),
        "sec_shandianhe_zhenglan": (river == "shandianhe")
        & (measure <= m["sec_shandianhe_zhenglan"]),
        # 彦吉嘎河 joins the upper 乌拉盖河 above its section; 高力罕河 and 巴拉格尔河 below it
        "sec_wulagaihe_wulagai": (river == "yanjigahe")
        | ((river == "wulagaihe") & (measure <= m["sec_wulagaihe_wulagai"])),
    }


def test_hand_written_topology_matches_the_junctions():
    rivers = layer("rivers").set_index("id")
    wulagai = metric(rivers.geometry["wulagaihe"])
    mouth = {t: shapely.line_locate_point(wulagai, metric(shapely.Point(
        rivers.geometry[t].coords[-1]))) for t in ("yanjigahe", "gaolihanhe", "balageerhe")}
    m = section_measures()["sec_wulagaihe_wulagai"]
    assert mouth["yanjigahe"] < m < min(mouth["gaolihanhe"], mouth["balageerhe"])
    luan = metric(rivers.geometry["luanhe"])
    for t in ("shandianhe", "tuligenhe"):
        assert rivers.loc[t, "flows_into"] == "luanhe"
        at = shapely.line_locate_point(luan, metric(shapely.Point(rivers.geometry[t].coords[-1])))
        assert at < section_measures()["sec_luanhe_duolun"]
    assert set(rivers.loc[rivers["basin_id"] == "xilin"].index) == {"xilinhe"}


@pytest.fixture(scope="module")
def grid() -> dict[str, np.ndarray]:
    """Cell centres of a 2 km equal-area grid over the League, with the hand answers."""
    league = layer("admin")
    bounds = league[league["level"] == "league"].to_crs(AREA_CRS).total_bounds
    xs = np.arange(bounds[0] + CELL_M / 2, bounds[2], CELL_M)
    ys = np.arange(bounds[1] + CELL_M / 2, bounds[3], CELL_M)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    lon, lat = Transformer.from_crs(AREA_CRS, 4326, always_xy=True).transform(gx, gy)
    basin = np.full(len(lon), "", dtype=object)
    for b, geom in zip(layer("basins")["id"], layer("basins").geometry, strict=True):
        basin[shapely.contains_xy(geom, lon, lat)] = b
    pts = shapely.points(*_TO_M.transform(lon, lat))
    rivers = layer("rivers")
    river = np.full(len(lon), "", dtype=object)
    measure = np.full(len(lon), np.nan)
    for b in BASINS_WITH_RIVERS:
        sel = np.flatnonzero(basin == b)
        ids = rivers.loc[rivers["basin_id"] == b, "id"].to_numpy(dtype=object)
        lines = [metric(g) for g in rivers.loc[rivers["basin_id"] == b].geometry]
        d = np.column_stack([shapely.distance(pts[sel], line) for line in lines])
        k = d.argmin(axis=1)
        river[sel] = ids[k]
        for j, line in enumerate(lines):
            measure[sel[k == j]] = shapely.line_locate_point(line, pts[sel[k == j]])
    return {"lon": lon, "lat": lat, "basin": basin, "river": river, "measure": measure}


@pytest.fixture(scope="module")
def grid_overlay(grid, idx) -> gpd.GeoDataFrame:
    return overlay_sites(gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(grid["lon"], grid["lat"]), crs=4326), idx)


def test_overlay_drains_every_cell_as_the_hand_computation(grid, grid_overlay):
    hand = drains_by_hand(grid["river"], grid["measure"])
    ups = (";" + grid_overlay["upstream_sections"] + ";").to_numpy(dtype=object)
    in_rivers = np.isin(grid["basin"], BASINS_WITH_RIVERS)
    assert in_rivers.sum() > 15_000
    for s in SECTIONS:
        got = np.array([f";{s};" in u for u in ups])
        # the few cells allowed to differ sit on a basin border drawn slightly
        # differently in lon/lat and in metres
        assert (got != hand[s]).sum() <= 3, s
    # no cell inside a basin is left out: yes or no, never unknown, and with rivers
    # every cell drains through a river of its own basin
    status = grid_overlay["upstream_status"].to_numpy(dtype=object)
    inside = grid["basin"] != ""
    assert set(status[inside]) == {"yes", "no"}
    assert (status[~inside & (grid_overlay["basin_id"] == "").to_numpy()] == "unknown").all()
    drained = grid_overlay["drain_river_id"].to_numpy(dtype=object)
    agree = drained[in_rivers] == grid["river"][in_rivers]
    assert agree.mean() > 0.999
    inland = np.isin(grid["basin"], ["hunshandake", "abaga", "sunite"]) & \
        (grid_overlay["basin_id"].to_numpy() == grid["basin"])
    assert (grid_overlay["upstream_reason"].to_numpy()[inland] == "inland_basin").all()
    # far from every river still drains (no distance cap any more)
    far = in_rivers & (grid_overlay["river_distance_m"].to_numpy() > 30_000)
    assert far.sum() > 100 and (status[far] != "unknown").all()
    assert (grid_overlay["upstream_of_section"].to_numpy()[far]).sum() > 50


@pytest.mark.parametrize("section_id", SECTIONS)
def test_upstream_area_matches_the_grid(section_id, grid, idx):
    hand_km2 = drains_by_hand(grid["river"], grid["measure"])[section_id].sum() * CELL_KM2
    up = section_upstream(idx, section_id)
    assert hand_km2 > 4000
    assert up.area_km2 == pytest.approx(hand_km2, rel=0.01)
    # the area is the basin parts' sum, each a share of its basin measured alike
    assert up.area_km2 == pytest.approx(up.basins["area_km2"].sum())
    basin_km2 = {b: shapely.area(g) / 1e6 for b, g in zip(
        layer("basins")["id"], layer("basins").to_crs(AREA_CRS).geometry, strict=True)}
    for _, row in up.basins.iterrows():
        assert row["basin_area_km2"] == pytest.approx(basin_km2[row["basin_id"]], rel=1e-3)
        assert row["share_of_basin"] == pytest.approx(row["area_km2"] / row["basin_area_km2"])
        assert row["illustrative"] and row["accuracy_m"] >= 15_000


def test_drainage_regions_partition_what_drains(idx, grid):
    regions = drainage_regions(idx)
    assert set(regions["section_id"]) == set(SECTIONS)
    # the Shandian section's area lies inside the Luan one's (it is upstream of it)
    geoms = regions.set_index("section_id").geometry
    inner = shapely.difference(geoms["sec_shandianhe_zhenglan"], geoms["sec_luanhe_duolun"])
    assert shapely.area(inner) / 1e6 < 1.0
    # each region lies in its basin
    basins = dict(zip(layer("basins")["id"], layer("basins").to_crs(DISTANCE_CRS).geometry,
                      strict=True))
    for _, row in regions.iterrows():
        outside = shapely.difference(row.geometry, basins[row["basin_id"]].buffer(1.0))
        assert shapely.area(outside) < 1e4
    assert regions is drainage_regions(idx)  # computed once per index


def test_rivers_and_projects_upstream(idx):
    rivers = layer("rivers").set_index("id")
    up = section_upstream(idx, "sec_luanhe_duolun", layer("projects"))
    r = up.rivers.set_index("river_id")
    assert set(r.index) == {"shandianhe", "tuligenhe", "luanhe"}
    for whole in ("shandianhe", "tuligenhe"):
        assert r.loc[whole, "length_km"] == pytest.approx(rivers.loc[whole, "length_km"], abs=0.1)
    assert r.loc["luanhe", "length_km"] == pytest.approx(
        section_measures()["sec_luanhe_duolun"] / 1000, abs=0.01)
    # the projects: by the hand computation on the projects' own points
    p = layer("projects")
    lon, lat = p.geometry.x.to_numpy(), p.geometry.y.to_numpy()
    basin = np.full(len(p), "", dtype=object)
    for b, geom in zip(layer("basins")["id"], layer("basins").geometry, strict=True):
        basin[shapely.contains_xy(geom, lon, lat)] = b
    pts = shapely.points(*_TO_M.transform(lon, lat))
    river = np.full(len(p), "", dtype=object)
    measure = np.full(len(p), np.nan)
    dist = np.full(len(p), np.nan)
    for i in np.flatnonzero(basin == "luan"):
        cands = rivers[rivers["basin_id"] == "luan"]
        d = {rid: shapely.distance(pts[i], metric(g)) for rid, g in cands.geometry.items()}
        river[i] = min(d, key=d.get)
        dist[i] = d[river[i]]
        measure[i] = shapely.line_locate_point(metric(cands.geometry[river[i]]), pts[i])
    want = set(p.loc[drains_by_hand(river, measure)["sec_luanhe_duolun"], "id"])
    assert set(up.sites["id"]) == want and len(want) > 15
    # the 太仆寺旗 projects 30+ km from any river, missed while drainage had a cap
    far = set(p.loc[(basin == "luan") & (dist > 30_000), "id"])
    assert far and far <= want
    assert set(p.loc[p["county"] == "太仆寺旗", "id"]) & far
    totals = up.totals()
    assert totals["count"] == len(want)
    assert totals["total_investment_yi"] == pytest.approx(
        p.loc[p["id"].isin(want), "total_investment_yi"].sum())
    d = up.to_dict(geometry=True)
    assert d["area_km2"] == round(up.area_km2) and d["geometry"]["type"] in (
        "Polygon", "MultiPolygon")
    assert d["rule"] == DRAINAGE_RULE and {s["id"] for s in d["sites"]} == want


def test_an_overlaid_frame_is_used_as_given(idx):
    projects = overlay_sites(layer("projects"), idx)
    a = section_upstream(idx, "sec_xilinhe_xilinhot", projects)
    b = section_upstream(idx, "sec_xilinhe_xilinhot", layer("projects"))
    assert a.sites["id"].tolist() == b.sites["id"].tolist()
    assert (a.sites["drain_river_id"] == "xilinhe").all()


def test_unknown_section(idx):
    with pytest.raises(GeoInputError) as e:
        section_upstream(idx, "sec_nowhere")
    assert e.value.status == 404 and "sec_xilinhe_xilinhot" in e.value.hint
