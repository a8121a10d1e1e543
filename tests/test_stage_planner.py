"""The honest stage planner (geo.route.ScenicRoute.stages, trip_export), checked against
an independent measurement: geodesic lengths on the WGS 84 ellipsoid (pyproj.Geod) and
positions along the road measured in UTM zone 50N (EPSG:32650), not the planner's own
transverse Mercator on 116°E.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from geo.crs import gcj02_to_wgs84
from geo.errors import GeoInputError
from geo.route import ScenicRoute, stage_features, trip_export
from layers.open import open_store
from layers.reference import reference

GEOD = pyproj.Geod(ellps="WGS84")
UTM = "EPSG:32650"
GPX = {"g": "http://www.topografix.com/GPX/1/1"}


@pytest.fixture(scope="module")
def ref(ref_store_path):
    return reference(open_store(ref_store_path))


@pytest.fixture(scope="module")
def route(ref) -> ScenicRoute:
    return ref.route


@pytest.fixture(scope="module")
def overnight(ref) -> gpd.GeoDataFrame:
    return ref.overnight


def geodesic_km(geom) -> float:
    return GEOD.geometry_length(geom) / 1000.0


def _road_utm(ref) -> shapely.LineString:
    """The road joined independently (in UTM): segments in seq order, each oriented."""
    segs = ref.scenic_road.sort_values("seq").to_crs(UTM).geometry.tolist()
    coords: list = []
    for g in segs:
        c = list(shapely.line_merge(g).coords)
        if coords and np.hypot(*np.subtract(c[-1], coords[-1])) < np.hypot(
                *np.subtract(c[0], coords[-1])):
            c = c[::-1]
        if not coords and len(segs) > 1:
            nxt = list(shapely.line_merge(segs[1]).coords)
            if min(np.hypot(*np.subtract(c[0], p)) for p in (nxt[0], nxt[-1])) < min(
                    np.hypot(*np.subtract(c[-1], p)) for p in (nxt[0], nxt[-1])):
                c = c[::-1]
        coords.extend(c)
    return shapely.LineString(coords)


def test_stage_lengths_agree_with_the_ellipsoid(ref, route):
    stages = route.stages(100, ref.stations)
    for _, s in stages.iterrows():
        assert s["length_km"] == pytest.approx(geodesic_km(s.geometry), rel=0.004)
    assert stages["length_km"].sum() == pytest.approx(route.length_km, abs=0.01)


@pytest.mark.parametrize("max_km", [100, 120, 250])
def test_no_stage_claims_a_limit_it_breaks(ref, route, overnight, max_km):
    stages = route.stages(max_km, ref.stations, overnight=overnight)
    road = _road_utm(ref)
    station_t = np.array([road.project(p) for p in ref.stations.to_crs(UTM).geometry]) / 1000
    for _, s in stages.iterrows():
        measured = geodesic_km(s.geometry)
        # flagged exactly when the stage, measured independently, is longer than the limit
        # (0.4 % is the two CRSs' scale difference at the League's edges)
        if s["over_max"]:
            assert measured > max_km * 0.996
            assert f"{max_km:g}" in s["reason_zh"] and f"{max_km:g} km" in s["reason_en"]
            assert "公里" in s["reason_zh"] and "over the limit" in s["reason_en"]
            # why: no station between the stage start and the point where the limit is hit
            t0 = road.project(shapely.Point(
                gpd.GeoSeries([shapely.get_point(s.geometry, 0)], crs=4326).to_crs(UTM)[0]))
            between = (station_t > t0 / 1000 + 0.5) & (station_t < t0 / 1000 + max_km)
            assert not between.any(), (s["n"], station_t[between])
            # the stations on either side of the limit point
            assert s["station_after"]["name_zh"] == s["to_zh"]
            assert s["station_after"]["day_km"] == pytest.approx(s["length_km"], abs=0.01)
            assert s["station_before"]["day_km"] <= max_km
            # the limit point lies max_km along the stage
            limit = shapely.Point(s["limit_lon"], s["limit_lat"])
            cut = shapely.ops.substring(
                gpd.GeoSeries([s.geometry], crs=4326).to_crs(UTM)[0], 0, max_km * 1000)
            end = gpd.GeoSeries([shapely.get_point(cut, -1)], crs=UTM).to_crs(4326)[0]
            assert GEOD.inv(limit.x, limit.y, end.x, end.y)[2] < 0.004 * max_km * 1000
            # alternatives: reachable within the day, the detour off the road counted
            for alt in s["alternatives"]:
                place = overnight[overnight["id"] == alt["id"]].geometry.iloc[0]
                detour = gpd.GeoSeries([place], crs=4326).to_crs(UTM)[0].distance(road) / 1000
                access = road.project(gpd.GeoSeries([place], crs=4326).to_crs(UTM)[0]) / 1000
                along = abs(access - t0 / 1000)
                assert along + detour <= max_km * 1.004
                assert alt["detour_km"] == pytest.approx(detour, rel=0.01, abs=0.05)
                assert alt["layer"] in ("towns", "attractions")
        else:
            assert measured <= max_km * 1.004
            assert s["reason_zh"] is None and s["alternatives"] is None


def test_over_limit_at_100_km_names_the_known_long_days(ref, route, overnight):
    stages = route.stages(100, ref.stations, overnight=overnight)
    over = stages[stages["over_max"]]
    # Published station spacing: 宝昌→多伦 117 km, 巴拉嘎尔高勒→乌里雅斯太 115, →乌拉盖 149.
    assert over["to_zh"].tolist() == ["多伦诺尔驿站", "乌里雅斯太驿站", "乌拉盖驿站"]
    last = over.iloc[-1]
    assert [a["name_zh"] for a in last["alternatives"]][:1] == ["乌拉盖湿地"]
    assert 0 < last["alternatives"][0]["detour_km"] <= 30


def test_reverse_trip_between_chosen_stations(ref, route):
    s = route.stages(150, ref.stations, start="st_wulagai", end="st_xilinhot")
    assert s["direction"].unique().tolist() == ["reverse"]
    assert s["from_id"].iloc[0] == "st_wulagai" and s["to_id"].iloc[-1] == "st_xilinhot"
    assert (np.diff(s["km_start"]) < 0).all()  # road km fall on the way back
    stations = ref.stations.set_index("id").geometry
    # the first stage starts at 乌拉盖 and the last ends at 锡林浩特 (within the stations' 2 km)
    first = shapely.get_point(s.geometry.iloc[0], 0)
    last = shapely.get_point(s.geometry.iloc[-1], -1)
    assert GEOD.inv(first.x, first.y, stations["st_wulagai"].x, stations["st_wulagai"].y)[2] < 2000
    assert GEOD.inv(last.x, last.y, stations["st_xilinhot"].x, stations["st_xilinhot"].y)[2] < 2000
    # consecutive stages meet, and the trip is as long as the road between the two stations
    for a, b in zip(s.geometry.iloc[:-1], s.geometry.iloc[1:], strict=True):
        pa, pb = shapely.get_point(a, -1), shapely.get_point(b, 0)
        assert GEOD.inv(pa.x, pa.y, pb.x, pb.y)[2] < 1.0
    road = _road_utm(ref)
    utm = ref.stations.set_index("id").to_crs(UTM).geometry
    between = abs(road.project(utm["st_wulagai"]) - road.project(utm["st_xilinhot"])) / 1000
    assert s["length_km"].sum() == pytest.approx(between, rel=0.004)
    # the same trip forward has the same total
    fwd = route.stages(150, ref.stations, start="st_xilinhot", end="st_wulagai")
    assert fwd["length_km"].sum() == pytest.approx(s["length_km"].sum(), abs=0.01)
    assert set(fwd["direction"]) == {"forward"}


def test_direction_alone_runs_the_whole_road_backwards(ref, route):
    s = route.stages(250, ref.stations, direction="reverse")
    assert s["from_zh"].iloc[0] == "乌拉盖驿站" and s["to_zh"].iloc[-1] == "宝昌驿站"
    assert s["length_km"].sum() == pytest.approx(route.length_km, abs=0.01)


@pytest.mark.parametrize("kwargs,words", [
    ({"start": "nope"}, "no station 'nope'"),
    ({"start": "st_xilinhot", "end": "st_xilinhot"}, "same place"),
    ({"start": "st_xilinhot", "end": "st_wulagai", "direction": "reverse"}, "runs forward"),
    ({"direction": "sideways"}, "direction must be"),
])
def test_bad_choices_raise_input_errors_with_hints(ref, route, kwargs, words):
    with pytest.raises(GeoInputError) as err:
        route.stages(100, ref.stations, **kwargs)
    assert words in str(err.value) and err.value.hint


@pytest.mark.parametrize("bad", [0, -5, float("nan"), float("inf")])
def test_max_km_must_be_a_positive_number(ref, route, bad):
    with pytest.raises(GeoInputError):
        route.stages(bad, ref.stations)


def _parse(data: bytes):
    root = ET.fromstring(data)
    trks = root.findall("g:trk", GPX)
    wpts = root.findall("g:wpt", GPX)
    return root, trks, wpts


def test_gpx_per_stage_and_for_the_trip(ref, route):
    stages = route.stages(100, ref.stations)
    data, mime, name = trip_export(stages, "gpx")
    assert name == "trip.gpx" and mime == "application/gpx+xml"
    _, trks, wpts = _parse(data)
    assert len(trks) == len(stages)
    # waypoints: the start, each stage's end and the stations passed on the way
    passed = sum(len(x) for x in stages["stops"])
    assert len(wpts) == 1 + len(stages) + passed
    # each track, measured on the ellipsoid, is its stage's length
    for trk, (_, s) in zip(trks, stages.iterrows(), strict=True):
        pts = [(float(p.get("lon")), float(p.get("lat"))) for p in trk.iter(f"{{{GPX['g']}}}trkpt")]
        assert geodesic_km(shapely.LineString(pts)) == pytest.approx(s["length_km"], rel=0.004)
    one, _, name = trip_export(stages, "gpx", n=2, lang="en")
    _, trks, wpts = _parse(one)
    assert name == "stage-2.gpx" and len(trks) == 1
    assert trks[0].find("g:name", GPX).text.startswith("Stage 2: ")
    with pytest.raises(GeoInputError):
        trip_export(stages, "gpx", n=len(stages) + 1)


def test_gcj02_trip_for_chinese_apps(ref, route):
    stages = route.stages(250, ref.stations)
    wgs, _, _ = trip_export(stages, "gpx", n=1)
    gcj, _, name = trip_export(stages, "gpx", n=1, datum="gcj02")
    assert name == "stage-1-gcj02.gpx"
    a = [(float(p.get("lon")), float(p.get("lat"))) for p in ET.fromstring(wgs).iter()
         if p.tag.endswith("trkpt")]
    b = np.array([(float(p.get("lon")), float(p.get("lat"))) for p in ET.fromstring(gcj).iter()
                  if p.tag.endswith("trkpt")])
    # back to WGS 84 with the (iterative) inverse: the same track to a metre
    back = np.column_stack(gcj02_to_wgs84(b[:, 0], b[:, 1]))
    assert np.abs(back - np.array(a)).max() < 1e-5
    shift = GEOD.inv(a[0][0], a[0][1], b[0][0], b[0][1])[2]
    assert 100 < shift < 1000  # GCJ-02 moves points by hundreds of metres here


def test_kml_of_the_trip_opens_in_gdal(ref, route, tmp_path):
    import pyogrio

    stages = route.stages(200, ref.stations)
    data, mime, name = trip_export(stages, "kml", lang="en")
    path = tmp_path / name
    path.write_bytes(data)
    got = pyogrio.read_dataframe(path)
    assert (got.geom_type == "LineString").sum() == len(stages)
    assert (got.geom_type == "Point").sum() == len(stage_features(stages)) - len(stages)
