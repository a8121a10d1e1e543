"""GET /api/sections/{id}/upstream, /api/sections/{id}/quality and /api/sections/quality
through the HTTP layer, on either backend.

Expected values are computed here from the committed GeoJSON (read with ``json``) —
a 4 km grid over the Xilin basin with GEOS distances for the upstream area, the
projects' nearest point on the Xilin River for the projects upstream, Table 1's
limits written out for the classes — never by the code under test.
"""

from __future__ import annotations

import json
from functools import cache

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from layers.prepare import layer_path

XILIN = "sec_xilinhe_xilinhot"
SECTIONS = ("sec_luanhe_duolun", "sec_shandianhe_zhenglan", XILIN, "sec_wulagaihe_wulagai")
# An Albers equal-area CRS and a UTM zone of the tests' own (not geo.crs's).
ALBERS = "+proj=aea +lat_1=41 +lat_2=47 +lat_0=44 +lon_0=116 +ellps=WGS84 +units=m"
UTM50 = Transformer.from_crs(4326, 32650, always_xy=True)


@cache
def committed(name: str) -> list[dict]:
    with open(layer_path(name), encoding="utf-8") as fh:
        return json.load(fh)["features"]


def by_id(name: str) -> dict[str, dict]:
    return {f["properties"]["id"]: f for f in committed(name)}


def utm(geom):
    return shapely.transform(geom, lambda c: np.column_stack(UTM50.transform(c[:, 0], c[:, 1])))


def shape(f):
    return shapely.geometry.shape(f["geometry"])


# -- upstream -------------------------------------------------------------------------------
def test_xilin_upstream_area_rivers_and_projects(client):
    r = client.get(f"/api/sections/{XILIN}/upstream")
    assert r.status_code == 200, r.json
    body = r.json
    river = utm(shape(by_id("rivers")["xilinhe"]))
    section_m = shapely.line_locate_point(river, utm(shape(by_id("sections")[XILIN])))
    basin = shape(by_id("basins")["xilin"])
    # the area: a 4 km equal-area grid over the basin, a cell upstream when its nearest
    # point of the Xilin River (the basin's only river) lies above the section
    to_aea = Transformer.from_crs(4326, ALBERS, always_xy=True)
    back = Transformer.from_crs(ALBERS, 4326, always_xy=True)
    minx, miny, maxx, maxy = shapely.bounds(shapely.transform(
        basin, lambda c: np.column_stack(to_aea.transform(c[:, 0], c[:, 1]))))
    gx, gy = np.meshgrid(np.arange(minx + 2000, maxx, 4000), np.arange(miny + 2000, maxy, 4000))
    lon, lat = back.transform(gx.ravel(), gy.ravel())
    inside = shapely.contains_xy(basin, lon, lat)
    cells = shapely.points(*UTM50.transform(lon[inside], lat[inside]))
    upstream = shapely.line_locate_point(river, cells) <= section_m
    grid_km2 = upstream.sum() * 16.0
    assert body["area_km2"] == pytest.approx(grid_km2, rel=0.03)
    assert body["basins"][0]["basin_id"] == "xilin"
    assert body["basins"][0]["share_of_basin"] == pytest.approx(upstream.mean(), abs=0.03)
    assert [r["river_id"] for r in body["rivers"]] == ["xilinhe"]
    assert body["rivers"][0]["length_km"] == pytest.approx(section_m / 1000, rel=0.005)
    # the projects: every project of the basin, however far from the river, whose
    # nearest river point lies above the section
    want = {}
    for f in committed("projects"):
        p = shape(f)
        if shapely.contains(basin, p) and \
                shapely.line_locate_point(river, utm(p)) <= section_m:
            want[f["properties"]["id"]] = f["properties"]
    got = {p["id"]: p for p in body["projects"]}
    assert set(got) == set(want) and len(want) >= 10
    for pid, p in got.items():
        assert p["name_zh"] == want[pid]["name_zh"] and p["name_en"] == want[pid]["name_en"]
        assert p["total_investment_yi"] == want[pid]["total_investment_yi"]
    assert body["totals"]["count"] == len(want)
    assert body["totals"]["total_investment_yi"] == pytest.approx(
        sum(p["total_investment_yi"] for p in want.values()), abs=0.01)
    # listed by investment, largest first; the rule says there is no cap
    inv = [p["total_investment_yi"] for p in body["projects"]]
    assert inv == sorted(inv, reverse=True)
    assert "no cap" in body["rule"]["en"] and body["rule"]["zh"]
    assert (body["target_class"], body["target_label_zh"], body["target_label_en"]) == (
        "Ⅳ", "Ⅳ类", "Class IV")


def test_luan_upstream_collects_its_tributaries(client):
    body = client.get("/api/sections/sec_luanhe_duolun/upstream?geometry=true").json
    assert {r["river_id"] for r in body["rivers"]} == {"shandianhe", "tuligenhe", "luanhe"}
    assert body["geometry"]["type"] in ("Polygon", "MultiPolygon")
    # the Shandian section lies upstream of the Duolun one: its projects are all there
    inner = client.get("/api/sections/sec_shandianhe_zhenglan/upstream").json
    assert {p["id"] for p in inner["projects"]} < {p["id"] for p in body["projects"]}
    assert inner["area_km2"] < body["area_km2"]
    assert any(p["county"] == "太仆寺旗" for p in body["projects"])


# -- quality --------------------------------------------------------------------------------
NH3_N = (0.15, 0.5, 1.0, 1.5, 2.0)   # GB 3838-2002 Table 1, classes Ⅰ–Ⅴ
ZH = ("Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "Ⅴ", "劣Ⅴ")


def test_quality_of_a_section_between_two_dates(client):
    r = client.get(f"/api/sections/{XILIN}/quality?from=2023-01-01&to=2023-03-31")
    assert r.status_code == 200, r.json
    body = r.json
    mine = sorted((f["properties"] for f in committed("wq_samples")
                   if f["properties"]["section_id"] == XILIN
                   and "2023-01-01" <= f["properties"]["sampled_on"] <= "2023-03-31"),
                  key=lambda p: p["sampled_on"])
    assert [s["sampled_on"] for s in body["samples"]] == [p["sampled_on"] for p in mine]
    assert len(mine) == 3 and (body["from"], body["to"]) == ("2023-01-01", "2023-03-31")
    for s, p in zip(body["samples"], mine, strict=True):
        # a class at least as bad as ammonia's, by Table 1 written out above
        nh3 = 1 + sum(p["nh3_n"] > lim for lim in NH3_N)
        assert s["class_number"] >= nh3 and s["class"] == ZH[s["class_number"] - 1]
        assert s["class_en"] == ("I", "II", "III", "IV", "V", "worse than V")[
            s["class_number"] - 1]
        if p["nh3_n"] > 1.5:  # over the Ⅳ target's limit: an exceedance, by hand
            assert "nh3_n" in s["exceeding"] and s["meets_target"] is False
            assert s["exceedance"]["nh3_n"] == pytest.approx((p["nh3_n"] - 1.5) / 1.5,
                                                             abs=0.001)
        if s["class_number"] == nh3 and nh3 > 1:
            assert "nh3_n" in s["controlling"]
    share = sum(s["meets_target"] is True for s in body["samples"]) / len(body["samples"])
    assert body["share_meeting_target"] == pytest.approx(share)
    assert [m["period"] for m in body["monthly"]] == ["2023-01", "2023-02", "2023-03"]
    assert {m["period"] for m in body["months_missing_target"]} == {
        m["period"] for m in body["monthly"] if m["meets_target"] is False}
    assert body["annual"][0]["period"] == "2023"
    assert body["limits"]["nh3_n"]["limit"] == 1.5 and body["limits"]["do"]["limit"] == 3
    assert [c["label_en"] for c in body["classes"]][2] == "Class III"
    assert body["parameters"]["nh3_n"]["zh"] == "氨氮" and body["rule"]["en"]


def test_quality_of_every_section_and_its_latest_sample(client):
    body = client.get("/api/sections/quality?year=2023").json
    assert [s["section_id"] for s in body["sections"]] == list(SECTIONS)
    latest = {}
    for f in committed("wq_samples"):
        p = f["properties"]
        if p["sampled_on"] > latest.get(p["section_id"], {}).get("sampled_on", ""):
            latest[p["section_id"]] = p
    for s in body["sections"]:
        assert s["year"] == 2023 and s["n_samples"] == 12 and s["n_months"] == 12
        assert s["latest"]["sampled_on"] == latest[s["section_id"]]["sampled_on"]
        assert s["class"] in ZH and s["meets_target"] is (s["class_number"]
                                                           <= s["target_class_number"])
    xilin = next(s for s in body["sections"] if s["section_id"] == XILIN)
    assert xilin["meets_target"] is False and "nh3_n" in xilin["exceeding"]
    # a year without samples: every section listed, without a class
    empty = client.get("/api/sections/quality?year=2020").json
    assert [s["class"] for s in empty["sections"]] == [None] * 4
    assert all(s["n_samples"] == 0 for s in empty["sections"])
    assert client.get("/api/sections/quality").json["year"] == 2023  # the latest by default


@pytest.mark.parametrize("url, status, code", [
    ("/api/sections/sec_nowhere/upstream", 404, "section_not_found"),
    ("/api/sections/sec_nowhere/quality", 404, "section_not_found"),
    (f"/api/sections/{XILIN}/quality?from=2023-02-30", 400, "bad_date"),
    (f"/api/sections/{XILIN}/quality?from=March", 400, "bad_date"),
    (f"/api/sections/{XILIN}/quality?from=2023-05-01&to=2023-04-01", 400, "bad_date"),
    (f"/api/sections/{XILIN}/quality?form=2023-05-01", 400, "unknown_parameter"),
    (f"/api/sections/{XILIN}/upstream?geometry=maybe", 400, "bad_parameter"),
    ("/api/sections/quality?year=23", 400, "bad_parameter"),
    ("/api/sections/quality?year=abc", 400, "bad_parameter"),
])
def test_errors_in_both_languages(client, url, status, code):
    r = client.get(url)
    assert r.status_code == status and r.json["code"] == code
    assert r.json["error"] and r.json["error_zh"] and r.json["hint"] and r.json["hint_zh"]


def test_answers_follow_the_layer_versions(make_app, client):
    """Cached by the layer versions: a revalidation is a 304 while nothing changed, and a
    new version of wq_samples (a month appended) changes the answer at once."""
    import geopandas as gpd

    from layers.open import open_store

    app = make_app()
    c = app.test_client()
    url = f"/api/sections/{XILIN}/quality?from=2024-01-01"
    first = c.get(url)
    assert first.status_code == 200 and first.json["samples"] == []
    assert c.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    store = open_store(app.config.get("ATLAS_STORE") or app.extensions["atlas_settings"].store)
    samples = store.get("wq_samples")
    new = samples[samples["section_id"] == XILIN].tail(1).copy()
    new["id"] = "wq_test_202401"
    new["sampled_on"] = "2024-01-10"
    new["nh3_n"] = 0.12
    store.put("wq_samples", gpd.GeoDataFrame(
        gpd.pd.concat([samples, new], ignore_index=True), crs=4326))
    second = c.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert [s["sampled_on"] for s in second.json["samples"]] == ["2024-01-10"]
    assert second.json["samples"][0]["nh3_n"] == 0.12
    years = c.get("/api/sections/quality").json
    assert years["year"] == 2024 and years["years"] == [2023, 2024]
