"""Overlay of sites on the reference layers (geo.overlay, geo.nearest): hand-checked sites and scale."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.crs import DISTANCE_CRS
from geo.nearest import SegmentIndex
from geo.overlay import OVERLAY_COLUMNS, overlay_sites, summarise
from layers.open import open_store
from layers.reference import reference

XILIN_SECTION = "sec_xilinhe_xilinhot"


@pytest.fixture(scope="module")
def ref(ref_store_path):
    return reference(open_store(ref_store_path))


def sites(rows: list[tuple[str, float, float]]) -> gpd.GeoDataFrame:
    names, lon, lat = zip(*rows, strict=True)
    return gpd.GeoDataFrame({"name": names}, geometry=gpd.points_from_xy(lon, lat), crs=4326)


def test_hand_checked_sites(ref):
    out = overlay_sites(sites([
        # 1.5 km upstream of the Xilinhot section, beside the 锡林河 (section at ~89.5 km)
        ("xilin upstream", 115.9815, 44.0080),
        # 1.5 km downstream of it on the same river
        ("xilin downstream", 115.9545, 44.0268),
        # in the Wulagai basin, upstream of the Wulagai section: not of the Xilin one
        ("wulagai basin", 118.30, 45.55),
        # Abag inland basin: drains to no section
        ("abaga basin", 115.50, 44.92),
        ("锡林浩特 city", 116.0861, 43.9334),
        ("多伦 town", 116.4856, 42.1977),
        ("Beijing (outside)", 116.39, 39.91),
    ]), ref).set_index("name")
    up = out["upstream_sections"].str.split(";")
    assert XILIN_SECTION in up["xilin upstream"]
    assert out.loc["xilin upstream", "upstream_of_section"]
    assert XILIN_SECTION not in up["xilin downstream"]
    assert XILIN_SECTION not in up["wulagai basin"]
    assert out.loc["abaga basin", "upstream_sections"] == ""
    assert not out.loc["abaga basin", "upstream_of_section"]
    # every answer says why: yes through its own basin's river, no for an inland basin
    # without rivers or below every section, unknown outside every basin
    status = out["upstream_status"]
    assert status["xilin upstream"] == "yes"
    # 118.30°E drains to the Wulagai at 118.3°E, below its section (118.74°E)
    assert out.loc["wulagai basin", "upstream_reason"] == "below_sections"
    assert out.loc["wulagai basin", "drain_river_id"] == "wulagaihe"
    assert out.loc["xilin upstream", "drain_river_id"] == "xilinhe"
    assert "锡林河" in out.loc["xilin upstream", "upstream_reason_zh"]
    assert "Xilin River" in out.loc["xilin upstream", "upstream_reason_en"]
    assert (status["xilin downstream"], out.loc["xilin downstream", "upstream_reason"]) == \
        ("no", "below_sections")
    assert (status["abaga basin"], out.loc["abaga basin", "upstream_reason"]) == \
        ("no", "inland_basin")
    assert "阿巴嘎" in out.loc["abaga basin", "upstream_reason_zh"]
    assert out.loc["abaga basin", "drain_river_id"] == ""
    assert (status["Beijing (outside)"], out.loc["Beijing (outside)", "upstream_reason"]) == \
        ("unknown", "outside_basins")
    assert (out["upstream_of_section"] == (status == "yes")).all()
    for name in ("xilin upstream", "xilin downstream", "锡林浩特 city"):
        assert out.loc[name, "basin_id"] == "xilin"
        assert out.loc[name, "river_zh"] == "锡林河"
    assert out.loc["xilin upstream", "section_id"] == XILIN_SECTION
    assert out.loc["xilin upstream", "section_distance_m"] < 3000
    assert out.loc["锡林浩特 city", "county"] == "锡林浩特市"
    assert out.loc["锡林浩特 city", "adcode"] == "152502"
    assert out.loc["多伦 town", "basin_id"] == "luan"
    assert out.loc["多伦 town", "county"] == "多伦县"
    assert out.loc["abaga basin", "basin_id"] == "abaga"
    outside = out.loc["Beijing (outside)"]
    assert not outside["in_league"] and outside["basin_id"] == "" and outside["county"] == ""
    assert outside["river_distance_m"] > 100_000  # still measured
    assert list(out.columns[-len(OVERLAY_COLUMNS) - 1:-1]) == list(OVERLAY_COLUMNS)


def test_distances_are_metric_and_exact(ref):
    # 0.01° of latitude north of a river vertex is ~1,112 m away from it at most.
    rivers = ref.rivers.set_index("id")
    lon, lat = rivers.geometry["xilinhe"].coords[8]
    out = overlay_sites(sites([("near", lon, lat + 0.01)]), ref, river_buffer_m=2000)
    d = out["river_distance_m"].iloc[0]
    exact = shapely.distance(
        gpd.GeoSeries.from_xy([lon], [lat + 0.01], crs=4326).to_crs(DISTANCE_CRS).iloc[0],
        ref.rivers.to_crs(DISTANCE_CRS).geometry.values).min()
    assert d == pytest.approx(exact, abs=0.01)
    assert 0 < d <= 1113 and out["in_river_buffer"].iloc[0]
    narrow = overlay_sites(sites([("near", lon, lat + 0.01)]), ref, river_buffer_m=10)
    assert not narrow["in_river_buffer"].iloc[0]


def test_road_corridor(ref):
    route = ref.route
    on = route.interpolate([100.0]).geometry.iloc[0]
    out = overlay_sites(sites([("on road", on.x, on.y), ("far", 113.0, 42.0)]), ref,
                        corridor_m=5000)
    assert out["road_distance_m"].iloc[0] < 1 and out["in_road_corridor"].iloc[0]
    assert out["road_km"].iloc[0] == pytest.approx(100.0, abs=0.01)
    assert not out["in_road_corridor"].iloc[1]


def test_polygon_sites(ref):
    rivers = ref.rivers.set_index("id")
    lon, lat = rivers.geometry["xilinhe"].coords[5]
    crossing = shapely.box(lon - 0.02, lat - 0.02, lon + 0.02, lat + 0.02)
    apart = shapely.box(114.9, 44.85, 115.0, 44.95)  # Abag basin, no river within km
    out = overlay_sites(gpd.GeoDataFrame({"name": ["crossing", "apart"]},
                                         geometry=[crossing, apart], crs=4326), ref)
    assert out["river_distance_m"].iloc[0] == 0.0  # true geometry touches the river
    assert out["basin_id"].iloc[0] == "xilin"      # placed by a point inside it
    assert out["river_distance_m"].iloc[1] > 1000
    assert out["basin_id"].iloc[1] == "abaga"
    assert out["upstream_of_section"].iloc[0]


def test_missing_and_empty_geometries(ref):
    gdf = gpd.GeoDataFrame({"name": ["ok", "empty", "none"]},
                           geometry=[shapely.Point(116.0861, 43.9334), shapely.Point(), None],
                           crs=4326)
    out = overlay_sites(gdf, ref)
    assert out["in_league"].tolist() == [True, False, False]
    assert out["river_distance_m"].isna().tolist() == [False, True, True]
    assert out["upstream_of_section"].tolist() == [True, False, False]
    assert out["upstream_status"].tolist() == ["yes", "unknown", "unknown"]
    assert out["upstream_reason"].tolist()[1:] == ["no_geometry", "no_geometry"]
    assert out["in_river_buffer_status"].tolist()[1:] == ["", ""]
    assert out["river_accuracy_m"].isna().tolist() == [False, True, True]


def test_ten_thousand_random_sites_add_up(ref):
    rng = np.random.default_rng(42)
    minx, miny, maxx, maxy = ref.admin.total_bounds
    n = 10_000
    cats = np.array(["energy", "industry", "infrastructure", "social", "ecology"])
    gdf = gpd.GeoDataFrame(
        {"category": cats[rng.integers(0, 5, n)], "total_investment_yi": rng.uniform(0, 10, n)},
        geometry=gpd.points_from_xy(rng.uniform(minx - 0.5, maxx + 0.5, n),
                                    rng.uniform(miny - 0.5, maxy + 0.5, n)), crs=4326)
    out = overlay_sites(gdf, ref)
    assert len(out) == n and out.index.equals(gdf.index)
    inside = out["in_league"]
    assert 0.2 * n < inside.sum() < n
    # every site in the League has a county; basins cover (almost) all of it
    assert (out.loc[inside, "county"] != "").all()
    assert (out.loc[inside, "basin_id"] != "").mean() > 0.97
    assert (out.loc[~inside, ["basin_id", "county"]] == "").all().all()
    assert (out["river_distance_m"] >= 0).all() and (out["road_distance_m"] >= 0).all()
    # the same answers as GEOS's own nearest search on a sample
    sample = out.sample(300, random_state=1)
    rivers_m = ref.rivers.to_crs(DISTANCE_CRS).geometry.values
    pts = gpd.GeoSeries(sample.geometry.values, crs=4326).to_crs(DISTANCE_CRS).values
    exact = shapely.distance(np.asarray(pts)[:, None], np.asarray(rivers_m)[None, :]).min(1)
    assert np.allclose(sample["river_distance_m"], exact, atol=1e-3)
    # summaries add up to the whole, per basin and per county, in count and money
    for by in ("basin", "county"):
        s = summarise(out, by)
        assert s["count"].sum() == n
        assert s["total_investment_yi"].sum() == pytest.approx(gdf["total_investment_yi"].sum())
        cat_counts = s[[f"count_{c}" for c in cats]].sum(axis=1)
        assert (cat_counts == s["count"]).all()
    by_basin = summarise(out, "basin").set_index("basin_id")
    assert by_basin.loc["", "count"] == (out["basin_id"] == "").sum()
    # only the basins with sections drain to one; no site in a basin is left unknown,
    # and every site in the League's basins with rivers drains through one of them
    upstream_basins = set(out.loc[out["upstream_of_section"], "basin_id"])
    assert upstream_basins == {"luan", "xilin", "wulagai"}
    in_basin = out["basin_id"] != ""
    assert (out.loc[in_basin, "upstream_status"] != "unknown").all()
    assert (out.loc[~in_basin, "upstream_status"] == "unknown").all()
    with_rivers = out["basin_id"].isin(["luan", "xilin", "wulagai"])
    river_basin = ref.rivers.set_index("id")["basin_id"]
    drained = out.loc[with_rivers, "drain_river_id"]
    assert (river_basin.loc[drained].to_numpy() == out.loc[with_rivers, "basin_id"]).all()
    inland = out["basin_id"].isin(["hunshandake", "abaga", "sunite"])
    assert (out.loc[inland, "upstream_reason"] == "inland_basin").all()


def test_summarise_rejects_unknown_grouping():
    with pytest.raises(ValueError):
        summarise(pd.DataFrame({"basin_id": []}), "province")


def test_segment_index_matches_geos():
    rng = np.random.default_rng(3)
    lines = [shapely.LineString(np.cumsum(rng.normal(0, 3000, (60, 2)), axis=0) + off)
             for off in rng.uniform(0, 200_000, (12, 2))]
    idx = SegmentIndex(lines, cell_m=5000)
    x, y = rng.uniform(-50_000, 250_000, (2, 4000))
    near = idx.nearest_xy(x, y)
    pts = shapely.points(x, y)
    d = shapely.distance(pts[:, None], np.asarray(lines, dtype=object)[None, :])
    assert np.allclose(near.distance, d.min(1), atol=1e-6)
    assert (near.line == d.argmin(1)).mean() > 0.999  # ties aside
    m = shapely.line_locate_point(np.asarray(lines, dtype=object)[near.line], pts)
    assert np.allclose(near.measure, m, atol=1e-4)
    px, py = idx.point_at(near.line, near.measure)
    assert np.allclose(px, near.x) and np.allclose(py, near.y)


def test_prepared_grid_gives_the_same_answers():
    rng = np.random.default_rng(5)
    lines = [shapely.LineString(np.cumsum(rng.normal(0, 3000, (60, 2)), axis=0) + off)
             for off in rng.uniform(0, 200_000, (12, 2))]
    # Sites inside and well outside the prepared area, plus exact vertices (ties
    # between the two segments meeting there).
    x, y = rng.uniform(-100_000, 300_000, (2, 5000))
    vx, vy = shapely.get_coordinates(np.asarray(lines, dtype=object)).T
    x, y = np.r_[x, vx], np.r_[y, vy]
    plain = SegmentIndex(lines).nearest_xy(x, y)
    gridded = SegmentIndex(lines)
    gridded.prepare_grid((0, 0, 200_000, 200_000), cell_m=2000)
    near = gridded.nearest_xy(x, y)
    for field in ("line", "segment", "distance", "measure", "side", "x", "y"):
        assert np.array_equal(getattr(near, field), getattr(plain, field)), field
    # Lazily: a small call leaves the grid unbuilt, the first large one builds it.
    lazy = SegmentIndex(lines)
    lazy.prepare_grid((0, 0, 200_000, 200_000), cell_m=2000, min_sites=1000)
    assert np.array_equal(lazy.nearest_xy(x[:10], y[:10]).distance, plain.distance[:10])
    assert lazy._grid is None
    assert np.array_equal(lazy.nearest_xy(x, y).measure, plain.measure)
    assert lazy._grid is not None


def test_reference_overlay_index_is_prepared_once_and_matches(ref):
    from geo.overlay import OverlayIndex

    assert ref.overlay_index is ref.overlay_index
    # Asked for per layer version, built by the first large overlay only.
    assert ref.overlay_index.network.index._grid_spec is not None
    layers = dict(admin=ref.admin, basins=ref.basins, rivers=ref.rivers,
                  sections=ref.sections, scenic_road=ref.scenic_road)
    idx = OverlayIndex.from_layers(**layers).prepare_grids(min_sites=0)
    assert idx.network.index._grid is not None and idx.route.index._grid is not None
    unprepared = OverlayIndex.from_layers(**layers)
    assert unprepared.network.index._grid is None
    rng = np.random.default_rng(11)
    minx, miny, maxx, maxy = ref.admin.total_bounds
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(
        rng.uniform(minx - 1, maxx + 1, 3000), rng.uniform(miny - 1, maxy + 1, 3000)), crs=4326)
    pd.testing.assert_frame_equal(overlay_sites(pts, idx), overlay_sites(pts, unprepared))


def test_result_is_independent_of_the_input(ref):
    """The result is built without pandas' consolidating copy (copy=False): writing to it
    must still leave the caller's frame alone."""
    sites = gpd.GeoDataFrame({"name": ["a", "b"], "n": [1.0, 2.0]},
                             geometry=gpd.points_from_xy([116.0, 116.5], [43.9, 42.2]),
                             crs=4326)
    before = sites.copy()
    out = overlay_sites(sites, ref)
    out.loc[0, "name"] = "changed"
    out.loc[1, "n"] = 99.0
    out["river_distance_m"] = out["river_distance_m"] + 1
    out.geometry.values[0] = shapely.Point(0, 0)
    assert sites.equals(before)
    again = overlay_sites(sites, ref)
    assert again["river_distance_m"].tolist() == (out["river_distance_m"] - 1).tolist()
