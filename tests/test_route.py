"""The scenic road (geo.route): length, km posts, linear referencing, stages, corridor."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.route import ScenicRoute
from layers.open import open_store
from layers.reference import reference

GEOD = pyproj.Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def ref(ref_store_path):
    return reference(open_store(ref_store_path))


@pytest.fixture(scope="module")
def route(ref) -> ScenicRoute:
    return ref.route


def test_length_is_the_published_600_plus_km(ref, route):
    assert 600 < route.length_km < 1000
    # equal to the sum of its segments measured the same way …
    segs = ref.scenic_road.to_crs(route.segments.crs)
    from geo.crs import DISTANCE_CRS
    seg_km = ref.scenic_road.to_crs(DISTANCE_CRS).length.sum() / 1000
    assert route.length_km == pytest.approx(seg_km, abs=0.01)
    # … to the layer's own length_km figures (rounded to 0.1 km each) …
    assert route.length_km == pytest.approx(segs["length_km"].sum(), abs=0.5)
    # … and within 0.5 % of the geodesic length on the ellipsoid.
    geodesic_km = GEOD.geometry_length(shapely.line_merge(
        shapely.union_all(ref.scenic_road.geometry.values))) / 1000
    assert route.length_km == pytest.approx(geodesic_km, rel=0.005)


def test_segments_chain_in_order(route):
    segs = route.segments
    assert segs["seq"].tolist() == sorted(segs["seq"])
    assert np.allclose(segs["km_from"].to_numpy()[1:], segs["km_to"].to_numpy()[:-1])
    # the layer's km_start agrees with the measured chain to the rounding of the data
    assert np.allclose(segs["km_from"], segs["km_start"], atol=0.3)


def test_km_posts(route):
    posts = route.km_posts(10)
    assert posts["km"].tolist()[:3] == [0.0, 10.0, 20.0]
    assert len(posts) == int(np.ceil(route.length_km / 10))
    back = route.locate(posts)
    assert np.allclose(back["km"], posts["km"], atol=0.001)
    assert (back["distance_m"] < 0.01).all()
    with pytest.raises(ValueError):
        route.km_posts(0)


@settings(max_examples=200, deadline=None)
@given(st.floats(0.0, 1.0))
def test_locate_interpolate_round_trip(route, frac):
    d = frac * route.length_km
    km = route.locate(route.interpolate([d]))["km"].iloc[0]
    assert abs(km - d) * 1000 < 1.0


@settings(max_examples=100, deadline=None)
@given(st.floats(0.0, 80.0), st.floats(-3000, 3000))
def test_round_trip_on_a_synthetic_road(d, offset):
    road = ScenicRoute.from_segments(gpd.GeoDataFrame(
        {"seq": [1, 2]}, geometry=[shapely.LineString([(116.0, 44.0), (116.5, 44.0)]),
                                   shapely.LineString([(117.0, 44.0), (116.5, 44.0)])],
        crs=4326))  # second segment digitised backwards: still chained
    assert road.length_km == pytest.approx(80.2, abs=0.1)
    got = road.locate(road.interpolate([d]))["km"].iloc[0]
    assert abs(got - d) * 1000 < 1.0
    # a point north of the eastward road is on its left
    p = road.interpolate([min(max(d, 1.0), 79.0)]).geometry.iloc[0]
    north = gpd.GeoSeries.from_xy([p.x], [p.y + 0.01], crs=4326)
    assert road.locate(north)["side"].iloc[0] == "left"


def test_locate_known_places(route):
    # Xilinhot city centre lies on the road at the start of the northern section (~355 km).
    loc = route.locate(gpd.GeoSeries.from_xy([116.0861], [43.9334], crs=4326)).iloc[0]
    assert 340 < loc["km"] < 370 and loc["distance_m"] < 5000
    assert loc["offset_m"] == pytest.approx(loc["distance_m"] * (1 if loc["side"] == "left" else -1))


def test_stations_lie_on_the_road_at_their_km(ref, route):
    loc = route.locate(ref.stations)
    assert (loc["distance_m"] < 100).all()
    assert np.allclose(loc["km"], ref.stations["km"], atol=0.5)


def test_stages_end_at_stations(ref, route):
    stages = route.stages(250, ref.stations)
    assert stages["km_start"].iloc[0] == 0 and stages["km_end"].iloc[-1] == pytest.approx(
        route.length_km, abs=0.01)
    assert np.allclose(stages["km_start"].to_numpy()[1:], stages["km_end"].to_numpy()[:-1])
    assert (stages["length_km"] <= 250).all() and not stages["over_max"].any()
    station_km = set(np.round(route.locate(ref.stations)["km"], 3))
    assert set(stages["km_end"]) <= station_km | {round(route.length_km, 3)}
    # greedy: the next station after each stage end is out of reach
    sk = np.sort(list(station_km))
    for start, end in zip(stages["km_start"], stages["km_end"], strict=True):
        beyond = sk[sk > end + 1e-6]
        if len(beyond) and end < route.length_km - 1e-3:
            assert beyond[0] - start > 250
    assert stages.crs.to_epsg() == 4326
    assert (~stages.geometry.is_empty).all()


def test_short_days_flag_over_max(ref, route):
    stages = route.stages(40, ref.stations)
    assert stages["over_max"].any()
    assert ((stages["length_km"] > 40) == stages["over_max"]).all()
    with pytest.raises(ValueError):
        route.stages(0, ref.stations)


def test_along_lists_corridor_features_in_road_order(ref, route):
    along = route.along(ref.attractions, corridor_m=5000)
    assert along["km"].is_monotonic_increasing
    assert (along["offset_m"].abs() <= 5000).all()
    assert "元上都遗址" in set(along["name_zh"])
    wide = route.along(ref.attractions, corridor_m=200_000)
    assert len(wide) >= len(along)
