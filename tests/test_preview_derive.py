"""layers.preview (diff, registry totals beside the seed) and layers.derive (recomputed fields).

Answers come from outside the functions: the seed article's table, hand-made edits
of the committed layers, pyproj's geodesic lengths and areas, geopandas' own spatial
join and distances.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from geo.crs import DISTANCE_CRS
from geo.read import read_file
from layers.catalog import SEED_PROJECT_TOTALS, get_spec
from layers.derive import (
    DEPENDENTS,
    derive_dependents,
    derive_layer,
    road_km,
    road_route,
    snap_to_lines,
)
from layers.preview import diff_layers, registry_totals, totals_beside_seed
from layers.replace import storable
from tests import ingest_fixtures as fx

GEOD = pyproj.Geod(ellps="WGS84")
CURRENT = {n: fx.reference(n) for n in ("admin", "basins", "rivers", "sections", "scenic_road",
                                        "stations", "attractions", "projects", "ports")}


# -- preview -----------------------------------------------------------------------------------

def test_registry_totals_of_the_committed_registry_are_the_seed_table():
    t = registry_totals(CURRENT["projects"])
    seed = SEED_PROJECT_TOTALS
    assert t["total"] == {k: seed[k] for k in ("count", "total_investment_yi", "plan_2023_yi",
                                                "permits_complete")}
    for split in ("by_category", "by_status", "by_investor"):
        for key, (count, plan) in seed[split].items():
            assert (t[split][key]["count"], t[split][key]["plan_2023_yi"]) == (count, plan)


def test_totals_beside_the_seed_after_edits():
    p = CURRENT["projects"].copy()
    p.loc[p.index[0], "plan_2023_yi"] += 1.0                 # an energy project
    p = p.drop(index=p.index[p["category"] == "ecology"][:2])  # two ecology projects gone
    t = totals_beside_seed(p, CURRENT["projects"])
    assert t["total"]["difference"]["count"] == -2
    assert t["total"]["current"]["count"] == 150 and t["total"]["seed"]["count"] == 150
    rows = {r["key"]: r for r in t["by_category"]}
    assert rows["energy"]["difference"]["plan_2023_yi"] == pytest.approx(1.0)
    assert rows["ecology"]["difference"]["count"] == -2
    assert rows["ecology"]["label_zh"] == "生态保护与发展"


def test_diff_by_id_lists_added_removed_and_changed_fields():
    old = storable(CURRENT["projects"], get_spec("projects"))
    new = old.copy()
    new.loc[3, "total_investment_yi"] += 0.5
    new.loc[5, "status"] = "new" if new.loc[5, "status"] == "continuing" else "continuing"
    new.loc[7, "geometry"] = shapely.Point(new.geometry[7].x + 0.01, new.geometry[7].y)
    new = new.drop(index=[10, 11])
    extra = new.iloc[[0]].copy()
    extra["id"] = "P999"
    new = gpd.GeoDataFrame(np.vstack([new.to_numpy(), extra.to_numpy()]), columns=new.columns,
                           geometry="geometry", crs=4326)
    d = diff_layers(old, new)
    assert d["added"] == ["P999"] and d["removed"] == [old["id"][10], old["id"][11]]
    changed = {c["id"]: c for c in d["changed"]}
    assert set(changed) == {old["id"][3], old["id"][5], old["id"][7]}
    assert changed[old["id"][3]]["fields"] == ["total_investment_yi"]
    assert changed[old["id"][5]]["fields"] == ["status"]
    moved = changed[old["id"][7]]
    assert moved["fields"] == ["geometry"]
    # 0.01° of longitude at this latitude, by pyproj's geodesic.
    lon, lat = old.geometry[7].x, old.geometry[7].y
    assert moved["moved_m"] == pytest.approx(GEOD.inv(lon, lat, lon + 0.01, lat)[2], rel=2e-3)
    assert d["counts"] == {"old": 150, "new": 149, "added": 1, "removed": 2, "changed": 3,
                           "unchanged": 145}


def test_diff_of_a_layer_with_itself_is_empty_even_after_a_shapefile_round_trip():
    gdf, _ = read_file(fx.basins_shapefile_zip(), filename="b.zip")
    b = CURRENT["basins"]
    back = b.assign(geometry=gdf.geometry.values)
    d = diff_layers(b, back)
    assert d["counts"]["changed"] == 0 and d["counts"]["unchanged"] == 6


# -- derive ------------------------------------------------------------------------------------

def test_dependents_are_declared_and_the_build_logic_is_shared():
    assert set(DEPENDENTS["scenic_road"]) == {"stations", "attractions"}
    import data.road
    import data.sections
    assert data.road.road_km is road_km and data.sections.snap_to_lines is snap_to_lines


def test_committed_layers_rederive_to_themselves():
    ctx = CURRENT
    for name in ("projects", "stations", "attractions", "ports", "sections", "basins", "rivers",
                 "scenic_road", "admin"):
        d = derive_layer(name, CURRENT[name], {k: v for k, v in ctx.items() if k != name},
                         where="feature")
        assert not d.changed, (name, d.changed)
        assert d.issues.ok


def test_projects_county_from_the_admin_layer_against_a_spatial_join():
    p = CURRENT["projects"].copy()
    p["county"] = "正蓝旗"  # what a sheet might say, wrongly
    d = derive_layer("projects", p, CURRENT)
    units = CURRENT["admin"][CURRENT["admin"]["level"] != "league"]
    joined = gpd.sjoin(p[["geometry"]], units[["name_zh", "name_en", "geometry"]],
                       predicate="within")
    assert (d.gdf.loc[joined.index, "county"] == joined["name_zh"]).all()
    assert (d.gdf.loc[joined.index, "county_en"] == joined["name_en"]).all()
    assert d.changed["county"] == int((joined["name_zh"] != "正蓝旗").sum())


def test_file_county_that_disagrees_with_the_position_is_a_warning():
    from layers.mapping import COUNTY_TEXT
    p = CURRENT["projects"].iloc[:3].copy()
    p[COUNTY_TEXT] = ["东乌旗", p["county"].iloc[1], None]
    d = derive_layer("projects", p, CURRENT)
    w = [i for i in d.issues.warnings if i.code == "county_differs"]
    assert len(w) == int(p["county"].iloc[0] != "东乌珠穆沁旗")


def test_a_new_road_from_a_gps_track_rederives_station_km():
    road, _ = read_file(fx.road_gpx(), filename="road.gpx")
    derived = derive_layer("scenic_road", road.rename(columns={"name": "name_zh"}).assign(
        seq=None, km_start=None, length_km=None), CURRENT)
    new = derived.gdf
    # Length by pyproj's geodesic (±0.3 % from the map projection and the track's jitter).
    track = new.geometry.iloc[0]
    assert new["length_km"].sum() == pytest.approx(GEOD.geometry_length(track) / 1000, rel=3e-3)
    deps = derive_dependents("scenic_road", new, CURRENT)
    st = deps["stations"].gdf
    # Independently: the station's position along the track, in the transverse Mercator.
    line_m = gpd.GeoSeries([track], crs=4326).to_crs(DISTANCE_CRS).iloc[0]
    pts_m = CURRENT["stations"].to_crs(DISTANCE_CRS).geometry
    expect = np.array([line_m.project(p) for p in pts_m]) / 1000
    assert np.allclose(st["km"], expect, atol=0.06)
    # The same road drawn by GPS: its ±10 m jitter makes it ~0.1 % longer.
    assert np.allclose(st["km"], CURRENT["stations"]["km"], rtol=2e-3, atol=0.1)
    assert deps["stations"].issues.ok and not deps["stations"].issues.warnings


def test_stations_off_a_moved_road_are_warnings():
    road, _ = read_file(fx.road_gpx(shift_deg=(0.25, 0.0)), filename="road.gpx")
    deps = derive_dependents("scenic_road", road, CURRENT)
    st = CURRENT["stations"]
    line_m = gpd.GeoSeries([road.geometry.iloc[0]], crs=4326).to_crs(DISTANCE_CRS).iloc[0]
    dist = st.to_crs(DISTANCE_CRS).distance(line_m).to_numpy()
    far = set(st["name_zh"][dist > 10_000])
    warned = {i.message.split(" ")[1] for i in deps["stations"].issues.warnings
              if i.code == "off_the_road"}
    assert far and warned == far
    assert all(i.where == "feature" for i in deps["stations"].issues.warnings)


def test_sections_follow_a_new_river_layer():
    rivers = CURRENT["rivers"].copy()
    shifted = rivers.geometry.translate(xoff=0.02)  # every river ~1.6 km east
    rivers = rivers.set_geometry(shifted)
    deps = derive_dependents("rivers", rivers, CURRENT)
    sec = deps["sections"].gdf
    lines = rivers.set_index("id").loc[sec["river_id"]].to_crs(DISTANCE_CRS).geometry.values
    d = shapely.distance(sec.to_crs(DISTANCE_CRS).geometry.values, lines)
    assert (d < 1.0).all()
    assert deps["sections"].changed["geometry"] == 4
    assert {i.code for i in deps["sections"].issues.warnings} == {"section_moved"}


def test_lengths_and_areas_against_pyproj_geodesics():
    d = derive_layer("basins", CURRENT["basins"].assign(area_km2=None), CURRENT)
    league = CURRENT["admin"].geometry[CURRENT["admin"]["level"] == "league"].iloc[0]
    for geom, area in zip(d.gdf.geometry, d.gdf["area_km2"], strict=True):
        geodesic = abs(GEOD.geometry_area_perimeter(shapely.intersection(geom, league))[0]) / 1e6
        assert area == pytest.approx(geodesic, rel=2e-3)
    r = derive_layer("rivers", CURRENT["rivers"].assign(length_km=None), CURRENT)
    for geom, km in zip(r.gdf.geometry, r.gdf["length_km"], strict=True):
        assert km == pytest.approx(GEOD.geometry_length(geom) / 1000, rel=3e-3, abs=0.1)


def test_snap_to_lines_keeps_off_the_ends():
    line = shapely.LineString([(116, 44), (116, 44.1)])  # ~11 km
    p, moved = snap_to_lines([shapely.Point(116, 43.9)], [line], 2000)
    y0 = gpd.GeoSeries([shapely.Point(116, 44)], crs=4326).to_crs(DISTANCE_CRS).iloc[0]
    y1 = gpd.GeoSeries(p, crs=4326).to_crs(DISTANCE_CRS).iloc[0]
    assert y1.distance(y0) == pytest.approx(2000, abs=0.01)
    assert moved[0] == pytest.approx(GEOD.inv(116, 43.9, 116, 44)[2] + 2000, rel=2e-3)


def test_road_km_of_the_committed_stations():
    km, off = road_km(road_route(CURRENT["scenic_road"]), CURRENT["stations"])
    assert np.allclose(np.round(km, 1), CURRENT["stations"]["km"]) and (off < 1).all()


def test_rivers_drawn_mouth_first_are_turned_and_get_their_basin():
    r = CURRENT["rivers"].copy()
    trib = r.index[r["flows_into"].fillna("") != ""][0]
    r.loc[trib, "geometry"] = shapely.reverse(r.geometry[trib])
    r["basin_id"] = None
    d = derive_layer("rivers", r, CURRENT)
    assert [i.code for i in d.issues.warnings] == ["river_reversed"]
    assert d.gdf.geometry[trib].equals(CURRENT["rivers"].geometry[trib])
    # Each river's basin is the committed one (the basin holding most of its length).
    assert d.gdf["basin_id"].tolist() == CURRENT["rivers"]["basin_id"].tolist()


def test_a_serial_numbered_per_group_is_not_an_id():
    from layers.mapping import map_columns
    text = ("序号,项目名称,类别,总投资,2023年计划投资,经度,纬度\n1,甲,能源,1,1,116.4,42.2\n"
            "2,乙,能源,1,1,116.4,42.2\n1,丙,生态,1,1,116.4,42.2\n")
    gdf, report = read_file(text.encode(), filename="g.csv", trace=True)
    m = map_columns(gdf, get_spec("projects"))
    assert "serial_not_unique" in m.issues.codes("warning")
    assert len(set(m.gdf["id"])) == 3 and all(v.startswith("P-") for v in m.gdf["id"])
