"""River network (geo.network): reaches, graph, snapping and "upstream of" on synthetic and real rivers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.network import RiverNetwork
from layers.open import open_store
from layers.reference import reference


@pytest.fixture(scope="module")
def toy() -> RiverNetwork:
    """Main river south→north on 116°E; tributary A joins it at 44.25°N, B (into A) at 116.1°E.

    A section sits on the main river at 44.4°N, another on A.
    """
    rivers = gpd.GeoDataFrame(
        {"id": ["main", "a", "b", "other"], "name_zh": ["干流", "甲支", "乙支", "他河"],
         "basin_id": ["x", "x", "x", "y"], "flows_into": ["", "main", "a", None]},
        geometry=[shapely.LineString([(116.0, 44.0), (116.0, 44.25), (116.0, 44.5)]),
                  shapely.LineString([(116.2, 44.2), (116.1, 44.22), (116.0, 44.25)]),
                  shapely.LineString([(116.1, 44.1), (116.1, 44.22)]),
                  shapely.LineString([(117.0, 44.0), (117.0, 44.5)])], crs=4326)
    sections = gpd.GeoDataFrame(
        {"id": ["s_main", "s_a"], "name_zh": ["干流断面", "甲支断面"], "river_id": ["main", "a"]},
        geometry=[shapely.Point(116.0, 44.4), shapely.Point(116.15, 44.21)], crs=4326)
    return RiverNetwork.from_rivers(rivers).with_sections(sections)


def test_reaches_split_at_confluences(toy):
    r = toy.reaches.set_index("reach_id")
    assert sorted(r.index) == ["a:0", "a:1", "b:0", "main:0", "main:1", "other:0"]
    # the main river is cut where A's mouth meets it, a quarter of the way up… in metres
    assert r.loc["main:0", "m1"] == pytest.approx(r.loc["main:1", "m0"])
    assert r.loc["main:0", "length_m"] == pytest.approx(27_790, rel=0.01)  # 0.25° of latitude
    # reach lengths add up to the river's length
    lengths = r.groupby("river_id")["length_m"].sum()
    assert np.allclose(lengths.loc[toy.rivers["river_id"]].to_numpy(),
                       toy.rivers["length_m"].to_numpy())
    # reach geometries are the river cut at the confluence
    assert r.loc["main:0"].geometry.length == pytest.approx(r.loc["main:0", "length_m"])


def test_graph_follows_the_flow(toy):
    g = toy.graph
    assert set(g.successors("main:0")) == {"main:1"}
    assert set(g.successors("a:1")) == {"main:1"}
    assert set(g.successors("b:0")) == {"a:1"}
    assert set(g.successors("a:0")) == {"a:1"}
    assert g.out_degree("main:1") == 0 and g.out_degree("other:0") == 0


def test_snap_measures_and_distances(toy):
    sites = gpd.GeoSeries.from_xy([116.001, 116.1, 117.02], [44.1, 44.15, 44.3], crs=4326)
    s = toy.snap(sites, max_distance_m=1000)
    assert s["reach_id"].tolist() == ["main:0", "b:0", "other:0"]
    assert s["distance_m"].iloc[0] == pytest.approx(80.2, abs=1)  # 0.001° of longitude at 44.1°N
    assert s["snapped"].tolist() == [True, True, False]  # the last is 1.6 km away
    assert s["measure_m"].iloc[0] == pytest.approx(11_116, rel=0.01)


def test_drains_to_sections(toy):
    sites = gpd.GeoSeries.from_xy(
        [116.0, 116.0, 116.19, 116.1, 116.11, 116.0, 117.0],
        [44.1, 44.45, 44.2, 44.15, 44.221, 44.3, 44.2], crs=4326)
    names = ["main below A", "main below section", "A above its section", "B",
             "A below its section", "main between A and section", "other river"]
    snapped = toy.snap(sites)
    mat = toy.drains_to(snapped)
    got = {n: [sid for sid, hit in zip(toy.sections["section_id"], row, strict=True) if hit]
           for n, row in zip(names, mat, strict=True)}
    assert got == {
        "main below A": ["s_main"],
        "main below section": [],
        "A above its section": ["s_main", "s_a"],
        "B": ["s_main"],  # B joins A downstream of A's section
        "A below its section": ["s_main"],
        "main between A and section": ["s_main"],
        "other river": [],
    }
    joined = toy.downstream_sections(snapped)
    assert joined[2] == "s_main;s_a" and joined[1] == ""


def test_snap_within_basin(toy):
    # Closer to "other" (basin y) but declared in basin x: snapped to basin x's rivers.
    site = gpd.GeoSeries.from_xy([116.9], [44.2], crs=4326)
    assert toy.snap(site)["river_id"].tolist() == ["other"]
    assert toy.snap(site, basin_id=["x"])["river_id"].tolist() == ["a"]


def test_upstream_of_section(toy):
    up = toy.upstream_of("s_main")
    assert sorted(up["reach_id"]) == ["a:0", "a:1", "b:0", "main:0", "main:1"]
    own = up.set_index("reach_id").loc["main:1"]
    assert own["m1"] == pytest.approx(toy.sections.set_index("section_id")
                                      .loc["s_main", "river_measure_m"])
    with pytest.raises(KeyError):
        toy.upstream_of("nope")


# -- the real rivers -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real(ref_store_path):
    return reference(open_store(ref_store_path))


def test_real_network_links_tributaries(real):
    net = real.network
    g = net.graph
    # 闪电河 and 吐力根河 form the 滦河; 彦吉嘎河, 高力罕河, 巴拉格尔河 join the 乌拉盖河.
    assert set(g.successors("shandianhe:0")) == {"luanhe:0"}
    assert set(g.successors("tuligenhe:0")) == {"luanhe:0"}
    trib_targets = {t: next(iter(g.successors(f"{t}:0")))
                    for t in ("yanjigahe", "gaolihanhe", "balageerhe")}
    assert all(v.startswith("wulagaihe:") for v in trib_targets.values())
    assert len(net.sections) == 4
    up = net.upstream_of("sec_luanhe_duolun")["river_id"].tolist()
    assert {"shandianhe", "tuligenhe", "luanhe"} <= set(up)
    assert net.upstream_of("sec_xilinhe_xilinhot")["river_id"].tolist() == ["xilinhe"]


def test_snap_within_a_basin_at_any_distance(toy):
    # A polygon 60 km east of the main river, declared in basin x: its closest point
    # snaps to basin x's nearest river, whatever the distance; basin y has "other".
    far = gpd.GeoSeries([shapely.box(116.75, 44.3, 116.8, 44.35)], crs=4326).to_crs(
        "+proj=tmerc +lat_0=0 +lon_0=116 +k=1 +x_0=500000 +y_0=0 +ellps=WGS84 +units=m")
    s = toy.snap_within(far.values, "x")
    assert s["river_id"].tolist() == ["a"] and s["snapped"].tolist() == [True]
    assert s["distance_m"].iloc[0] > 40_000
    assert toy.drains_to(s).tolist() == [[True, True]]  # A's source is above both sections
    assert toy.snap_within(far.values, "y")["river_id"].tolist() == ["other"]
    # a basin without rivers drains nowhere
    assert toy.snap_within(far.values, "inland")["snapped"].tolist() == [False]
    assert toy.basin_lines("inland") is None
    assert toy.reaches["reach_id"].iloc[toy.reach_at([0], [30_000.0])].tolist() == ["main:1"]
