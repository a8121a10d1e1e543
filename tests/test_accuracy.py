"""Answers honest about the data behind them (geo.accuracy, the overlay's accuracy columns)."""

from __future__ import annotations

import math
from functools import cache

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.accuracy import band_status, round_overlay, round_to_accuracy, rounding_step
from geo.crs import DISTANCE_CRS
from geo.overlay import OVERLAY_COLUMNS, OverlayIndex, overlay_sites
from layers.prepare import layer_path


@cache
def layer(name: str) -> gpd.GeoDataFrame:
    return gpd.read_file(layer_path(name))


@pytest.fixture(scope="module")
def idx() -> OverlayIndex:
    return OverlayIndex.from_layers(**{k: layer(k) for k in (
        "admin", "basins", "rivers", "sections", "scenic_road")})


# -- rounding --------------------------------------------------------------------------------
def test_rounding_step_is_the_largest_nice_step_within_a_tenth():
    acc = np.r_[np.geomspace(10, 100_000, 400), [500, 1500, 2000, 3000, 5000, 8000, 10_000,
                                               15_000, 20_000, 30_000]]
    step = rounding_step(acc)
    for a, s in zip(acc, step, strict=True):
        k = math.floor(math.log10(s) + 1e-9)
        assert round(s / 10 ** k, 9) in (1.0, 2.0, 5.0)    # 1, 2, 5 × 10ⁿ
        assert s <= a / 10 + 1e-9                            # at most a tenth
        nxt = {1: 2, 2: 5, 5: 10}[round(s / 10 ** k)] * 10 ** k
        assert nxt > a / 10 - 1e-9                           # and the largest such
    # the atlas's own accuracies, by hand
    assert rounding_step([500, 1500, 2000, 3000, 5000, 8000, 10_000, 30_000]).tolist() == \
        [50, 100, 200, 200, 500, 500, 1000, 2000]


def test_rounding_step_never_below_a_metre():
    assert rounding_step([0, 5, 9.99, -1, np.nan, np.inf]).tolist() == [1, 1, 1, 1, 1, 1]


def test_round_to_accuracy_by_hand():
    v = np.array([12_345.6, 12_345.6, 12_345.6, 0.4, np.nan, 249.9, 250.0])
    a = np.array([5000, 2000, 10, np.nan, 5000, 5000, 5000])
    assert round_to_accuracy(v, a).tolist()[:4] == [12_500.0, 12_400.0, 12_346.0, 0.0]
    out = round_to_accuracy(v, a)
    assert np.isnan(out[4]) and out[5] == 0.0 and out[6] in (0.0, 500.0)
    rng = np.random.default_rng(1)
    v, a = rng.uniform(0, 300_000, 2000), rng.uniform(0, 40_000, 2000)
    out, step = round_to_accuracy(v, a), rounding_step(a)
    assert (np.abs(out - v) <= step / 2 + 1e-6).all()
    assert np.allclose(out / step, np.round(out / step))
    # km figures keep no binary tails
    assert round_to_accuracy([123.4567], [3000], unit_m=1000).tolist() == [123.4]
    assert repr(float(round_to_accuracy([0.3 + 0.6], [1000], unit_m=1000)[0])) == "0.9"


def test_band_status_edges():
    # true distance in [d - a, d + a]: yes when all of it is within, no when none is
    d = np.array([0, 500, 501, 1500, 1501, 3000, np.nan])
    assert band_status(d, 1000.0, 500.0).tolist() == \
        ["yes", "yes", "uncertain", "uncertain", "no", "no", ""]
    assert band_status([1000.0, 1000.1], 1000.0, 0.0).tolist() == ["yes", "no"]
    assert band_status([10.0], 1000.0, np.nan).tolist() == ["yes"]


# -- the overlay's accuracy columns -----------------------------------------------------------
def offsets_north(lon: float, lat: float, metres: list[float]) -> gpd.GeoDataFrame:
    """Points ``metres`` north of a point (moved in DISTANCE_CRS)."""
    p = gpd.GeoSeries.from_xy([lon], [lat], crs=4326).to_crs(DISTANCE_CRS).iloc[0]
    pts = gpd.GeoSeries.from_xy([p.x] * len(metres), [p.y + m for m in metres],
                                crs=DISTANCE_CRS).to_crs(4326)
    return gpd.GeoDataFrame({"offset": metres}, geometry=pts.values, crs=4326)


def test_rows_carry_the_accuracy_of_what_they_were_measured_against(idx):
    rng = np.random.default_rng(7)
    minx, miny, maxx, maxy = layer("admin").total_bounds
    sites = gpd.GeoDataFrame(geometry=gpd.points_from_xy(
        rng.uniform(minx, maxx, 3000), rng.uniform(miny, maxy, 3000)), crs=4326)
    out = overlay_sites(sites, idx)
    for kind in ("river", "section", "road", "basin", "county"):
        assert f"{kind}_accuracy_m" in OVERLAY_COLUMNS and f"{kind}_illustrative" in OVERLAY_COLUMNS
    rivers = layer("rivers").set_index("id")
    assert (out["river_accuracy_m"].to_numpy()
            == rivers.loc[out["river_id"], "accuracy_m"].to_numpy()).all()
    assert (out["river_illustrative"].to_numpy()
            == rivers.loc[out["river_id"], "illustrative"].to_numpy()).all()
    sections = layer("sections").set_index("id")
    assert (out["section_accuracy_m"] == sections.loc[out["section_id"], "accuracy_m"].to_numpy()
            ).all() and out["section_illustrative"].all()
    inside = out["basin_id"] != ""
    basins = layer("basins").set_index("id")
    assert (out.loc[inside, "basin_accuracy_m"].to_numpy()
            == basins.loc[out.loc[inside, "basin_id"], "accuracy_m"].to_numpy()).all()
    assert out.loc[~inside, "basin_accuracy_m"].isna().all()
    assert not out.loc[~inside, "basin_illustrative"].any()
    units = layer("admin")[layer("admin")["level"] != "league"].set_index("name_zh")
    has = out["county"] != ""
    assert (out.loc[has, "county_accuracy_m"].to_numpy()
            == units.loc[out.loc[has, "county"], "accuracy_m"].to_numpy()).all()
    assert (out.loc[has, "county_illustrative"].to_numpy()
            == (out.loc[has, "county"] == "乌拉盖管理区").to_numpy()).all()
    # the road: every segment is ±3 km and authored
    assert (out["road_accuracy_m"] == 3000).all() and out["road_illustrative"].all()


def test_buffer_and_corridor_status_within_the_accuracy_band(idx):
    rivers = layer("rivers").set_index("id")
    lon, lat = rivers.geometry["xilinhe"].coords[8]
    sites = offsets_north(lon, lat, [0.0, 500.0, 4000.0, 7000.0, 30_000.0])
    out = overlay_sites(sites, idx, river_buffer_m=1000)
    # the exact distances, by GEOS, to the nearest river; all of these are the Xilin (±5 km)
    exact = shapely.distance(np.asarray(sites.to_crs(DISTANCE_CRS).geometry.values)[:, None],
                             np.asarray(layer("rivers").to_crs(DISTANCE_CRS).geometry.values)
                             [None, :]).min(axis=1)
    assert (out["river_id"] == "xilinhe").all() and (out["river_accuracy_m"] == 5000).all()
    want = ["yes" if d + 5000 <= 1000 else "no" if d - 5000 > 1000 else "uncertain"
            for d in exact]
    assert out["in_river_buffer_status"].tolist() == want
    assert want[:3] == ["uncertain"] * 3 and want[-1] == "no"
    # the boolean keeps its plain meaning
    assert out["in_river_buffer"].tolist() == (exact <= 1000).tolist()
    wide = overlay_sites(sites, idx, river_buffer_m=10_000)
    assert wide["in_river_buffer_status"].tolist()[:2] == ["yes", "yes"]
    # the site's own accuracy widens the band: ±20 km projects are uncertain at 8 km
    own = overlay_sites(sites.assign(accuracy_m=20_000.0), idx, river_buffer_m=1000)
    assert own["in_river_buffer_status"].tolist()[:4] == ["uncertain"] * 4
    none = overlay_sites(sites.assign(accuracy_m=20_000.0), idx, river_buffer_m=1000,
                         site_accuracy_m=None)
    assert none["in_river_buffer_status"].tolist() == want
    # the road's corridor likewise, with the road's ±3 km
    road = overlay_sites(sites, idx, corridor_m=5000)
    d = road["road_distance_m"].to_numpy()
    assert road["in_corridor_status"].tolist() == [
        "yes" if x + 3000 <= 5000 else "no" if x - 3000 > 5000 else "uncertain" for x in d]


def test_round_overlay_rounds_each_row_to_its_own_accuracy(idx):
    rivers = layer("rivers").set_index("id")
    pts = []
    for rid in ("luanhe", "xilinhe", "yanjigahe"):  # ±2, ±5, ±10 km
        lon, lat = rivers.geometry[rid].coords[2]
        pts.append(offsets_north(lon, lat, [1234.5]).geometry.iloc[0])
    out = overlay_sites(gpd.GeoDataFrame(geometry=pts, crs=4326), idx)
    shown = round_overlay(out)
    step = {2000.0: 200.0, 5000.0: 500.0, 10_000.0: 1000.0}
    for raw, acc, r in zip(out["river_distance_m"], out["river_accuracy_m"],
                           shown["river_distance_m"], strict=True):
        assert r == round(raw / step[acc]) * step[acc]
    km5 = shown["road_km"].to_numpy() * 5   # the road is ±3 km: steps of 0.2 km
    assert np.allclose(km5, np.round(km5))
    assert shown.index.equals(out.index) and list(shown.columns) == list(out.columns)
    assert (shown["section_distance_m"] % 1000 == 0).all()   # sections ±10 km
    pd.testing.assert_series_equal(shown["upstream_status"], out["upstream_status"])
