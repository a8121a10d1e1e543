"""The offline gazetteer (data/sources/gazetteer.json) and placing rows by their place names.

Checked against what the gazetteer does not define itself: the county polygons of the
committed admin layer, the ids and names in counties.json / management_zone.json, the
positions the other authored sources use, and town coordinates known independently
(the fixtures' seats of 锡林浩特, 多伦 and 二连浩特).
"""

from __future__ import annotations

import json
import os

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.crs import DISTANCE_CRS
from geo.gazetteer import DEFAULT_PATH, Gazetteer, normalise
from tests.fixtures.make_fixtures import DUOLUN, ERENHOT, XILINHOT

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _json(name: str) -> dict:
    with open(os.path.join(ROOT, "data", "sources", f"{name}.json"), encoding="utf-8") as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def gz() -> Gazetteer:
    return Gazetteer.load()


@pytest.fixture(scope="module")
def units() -> gpd.GeoDataFrame:
    admin = gpd.read_file(os.path.join(ROOT, "data", "xilingol", "admin.geojson"))
    return admin[admin["level"] != "league"].set_index("adcode").to_crs(DISTANCE_CRS)


def _metres(lon, lat) -> np.ndarray:
    return gpd.GeoSeries.from_xy(np.atleast_1d(lon), np.atleast_1d(lat), crs=4326) \
        .to_crs(DISTANCE_CRS).values


def _distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    pa, pb = _metres(*a)[0], _metres(*b)[0]
    return float(shapely.distance(pa, pb))


def test_counties_are_the_admin_units_with_stable_ids():
    doc = json.load(open(DEFAULT_PATH, encoding="utf-8"))
    expected = {u["adcode"]: (u["name_zh"], u["name_en"]) for u in _json("counties")["units"]}
    zone = _json("management_zone")
    expected[zone["adcode"]] = (zone["name_zh"], zone["name_en"])
    got = {c["adcode"]: (c["name_zh"], c["name_en"]) for c in doc["counties"]}
    assert got == expected and len(got) == 13
    ids = [p["id"] for p in doc["places"]]
    assert len(ids) == len(set(ids))
    for c in doc["counties"]:
        assert c["seat"] in ids


def test_every_place_carries_provenance_and_lies_inside_its_unit(gz, units):
    doc = json.load(open(DEFAULT_PATH, encoding="utf-8"))
    assert doc["source"] and "general knowledge" in doc["_about"]
    pts = _metres([p["lon"] for p in doc["places"]], [p["lat"] for p in doc["places"]])
    for p, pt in zip(doc["places"], pts, strict=True):
        assert p["source"] and p["illustrative"] is True and p["accuracy_m"] >= 3000
        poly = units.geometry[p["county"]]
        assert poly.contains(pt), p["name_zh"]
        assert poly.boundary.distance(pt) >= 5000, p["name_zh"]
    kinds = {p["kind"] for p in doc["places"]}
    assert {"town", "sumu"} <= kinds and sum(p["kind"] == "sumu" for p in doc["places"]) >= 20


def test_seats_agree_with_the_other_authored_sources(gz):
    road = _json("scenic_road")["places"]
    same = {"baochang": "baochang", "dolonnur": "duolun", "shangdu": "shangdu",
            "sanggendalai": "sanggendalai", "balgargol": "balgargol", "uliastai": "uliastai",
            "bayinhushuo": "bayanhushuo", "xilinhot": "xilinhot"}
    for gid, rid in same.items():
        p = gz.places[gid]
        assert (p.lon, p.lat) == (road[rid]["lon"], road[rid]["lat"])
    anchors = {p["name_zh"]: p for p in _json("places")["places"]}
    for name in ("别力古台", "满都拉图", "赛汉塔拉", "新宝拉格", "明安图"):
        p = next(x for x in gz.places.values() if x.name_zh.startswith(name))
        assert (p.lon, p.lat) == (anchors[name]["lon"], anchors[name]["lat"])


def test_extent_is_between_the_seat_to_centroid_and_seat_to_farthest_border(gz, units):
    for c in gz.counties.values():
        seat = _metres(gz.seat(c).lon, gz.seat(c).lat)[0]
        poly = units.geometry[c.adcode]
        to_centroid = shapely.distance(seat, poly.centroid)
        farthest = shapely.hausdorff_distance(seat, poly.exterior if poly.geom_type == "Polygon"
                                              else poly.boundary)
        assert to_centroid <= c.extent_m <= farthest, c.name_zh


@pytest.mark.parametrize("county, place, true, match", [
    ("多伦县", "", DUOLUN, "county_seat"),
    ("", "多伦诺尔镇", DUOLUN, "place"),
    ("多伦", "多伦诺尔", DUOLUN, "place_stem"),
    ("锡林浩特市", "", XILINHOT, "county_seat"),
    ("锡市", "锡林浩特市区", XILINHOT, "place"),
    ("二连浩特市", "", ERENHOT, "county_seat"),
])
def test_seats_placed_within_their_stated_accuracy_of_the_true_seat(gz, county, place, true,
                                                                    match):
    r = gz.locate(county, place)
    assert r["status"] == "ok" and r["match"] == match
    # The seat itself is within the seat's own ±3 km of the independently known position …
    assert _distance_m((r["lon"], r["lat"]), true) <= gz.seat(gz.county(r["adcode"])).accuracy_m
    # … and the accuracy reported is the county's extent when only the county matched.
    if match == "county_seat":
        assert r["accuracy_m"] == gz.county(r["adcode"]).extent_m > 20_000
    else:
        assert r["accuracy_m"] == 3000


def test_town_with_and_without_suffix_and_in_one_text(gz):
    a = gz.locate("多伦县", "大北沟镇")
    b = gz.locate("多伦县", "大北沟")
    c = gz.locate("", "多伦县大北沟镇某某村")
    d = gz.locate("多伦县大北沟镇", "")
    assert {r["matched_zh"] for r in (a, b, c, d)} == {"大北沟镇"}
    assert (a["match"], b["match"]) == ("place", "place_stem")
    assert a["county_zh"] == "多伦县" and a["accuracy_m"] == 25000


def test_short_forms_and_english_county_names(gz):
    for text, name in [("东乌旗", "东乌珠穆沁旗"), ("西乌", "西乌珠穆沁旗"), ("苏右旗", "苏尼特右旗"),
                       ("East Ujimqin Banner", "东乌珠穆沁旗"), ("taibus", "太仆寺旗"),
                       ("152531", "多伦县"), ("乌拉盖", "乌拉盖管理区"), (" 正 蓝 旗 ", "正蓝旗")]:
        assert gz.county(text).name_zh == name, text


def test_what_cannot_be_placed_says_why(gz):
    assert gz.locate("", "")["status"] == "empty"
    assert gz.locate("海淀区", "")["status"] == "unknown_county"
    assert gz.locate("", "不存在镇")["status"] == "unknown_place"
    assert gz.locate("全盟", "")["status"] == "league"
    # A town the county given does not have: the county seat, with a note.
    r = gz.locate("正蓝旗", "大北沟镇")
    assert (r["match"], r["note"], r["county_zh"]) == ("county_seat", "place_not_found", "正蓝旗")


def test_place_many_rows_costs_one_lookup_per_distinct_pair(gz, monkeypatch):
    calls = []
    real = gz.locate

    def counting(*a):
        calls.append(a)
        return real(*a)

    monkeypatch.setattr(gz, "locate", counting)
    out = gz.place(["多伦县"] * 500 + ["东乌旗"] * 500, ["大北沟镇"] * 500 + [""] * 500)
    assert len(out) == 1000 and len(calls) == 2
    assert out["matched_zh"].iloc[0] == "大北沟镇" and out["match"].iloc[-1] == "county_seat"


def test_normalise():
    assert normalise("（示意）多伦县　大北沟镇 境内") == "多伦县大北沟镇"
