"""POST /api/overlay, GET /api/route/stages, GET /api/route/locate through the Flask test client."""

from __future__ import annotations

import io
import json

import pytest

SITES = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "properties": {"id": "a", "name": "锡林浩特", "category": "energy",
                                           "total_investment_yi": 3.5},
         "geometry": {"type": "Point", "coordinates": [116.0861, 43.9334]}},
        {"type": "Feature", "properties": {"id": "b", "name": "多伦", "category": "ecology",
                                           "total_investment_yi": 1.0},
         "geometry": {"type": "Point", "coordinates": [116.4856, 42.1977]}},
        {"type": "Feature", "properties": {"id": "c", "name": "<img src=x onerror=alert(1)>"},
         "geometry": {"type": "Polygon", "coordinates": [[[115.0, 44.8], [115.1, 44.8],
                                                          [115.1, 44.9], [115.0, 44.8]]]}},
    ],
}


def test_overlay_geojson_body(client):
    r = client.post("/api/overlay", data=json.dumps(SITES), content_type="application/geo+json")
    assert r.status_code == 200, r.json
    body = r.json
    assert body["count"] == 3 and len(body["rows"]) == 3
    rows = {row["id"]: row for row in body["rows"]}
    assert rows["a"]["basin_id"] == "xilin" and rows["a"]["county"] == "锡林浩特市"
    assert rows["a"]["upstream_of_section"] is True
    assert rows["b"]["basin_id"] == "luan" and rows["b"]["county"] == "多伦县"
    assert rows["c"]["name"] == "<img src=x onerror=alert(1)>"  # data, returned as data
    assert rows["c"]["basin_id"] == "abaga"
    for row in body["rows"]:
        assert {"river_distance_m", "in_river_buffer", "section_id", "section_distance_m",
                "upstream_sections", "road_distance_m", "in_road_corridor"} <= set(row)
    by_basin = {s["basin_id"]: s for s in body["summary"]["by_basin"]}
    assert by_basin["xilin"]["count"] == 1
    assert by_basin["xilin"]["total_investment_yi"] == 3.5
    energy = next(c for c in by_basin["xilin"]["by_category"] if c["category"] == "energy")
    assert energy["count"] == 1 and energy["label_zh"] == "能源" and energy["color"].startswith("#")
    assert sum(s["count"] for s in body["summary"]["by_county"]) == 3
    fc = body["geojson"]
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 3
    assert fc["features"][2]["geometry"]["type"] == "Polygon"
    assert "warnings" in body["report"]
    assert body["parameters"] == {"datum": "wgs84", "river_buffer_m": 1000.0,
                                  "corridor_m": 5000.0}


def test_overlay_multipart_csv_with_datum_and_parameters(client):
    csv = "名称,经度,纬度\n锡林浩特,116.0861,43.9334\n".encode()
    r = client.post("/api/overlay", content_type="multipart/form-data", data={
        "file": (io.BytesIO(csv), "sites.csv"), "datum": "gcj02", "river_buffer_m": "50",
        "corridor_m": "20000"})
    assert r.status_code == 200, r.json
    row = r.json["rows"][0]
    assert row["名称"] == "锡林浩特" and row["basin_id"] == "xilin"
    assert r.json["parameters"] == {"datum": "gcj02", "river_buffer_m": 50.0,
                                    "corridor_m": 20000.0}
    assert row["in_road_corridor"] is True
    # read as WGS 84 the same numbers lie ~500 m away: the datum was applied
    r2 = client.post("/api/overlay", content_type="multipart/form-data",
                     data={"file": (io.BytesIO(csv), "sites.csv")})
    x_gcj = r.json["geojson"]["features"][0]["geometry"]["coordinates"][0]
    x_wgs = r2.json["geojson"]["features"][0]["geometry"]["coordinates"][0]
    assert 0.003 < x_wgs - x_gcj < 0.01


@pytest.mark.parametrize("query, fragment", [
    ("river_buffer_m=-1", "river_buffer_m"),
    ("river_buffer_m=abc", "river_buffer_m"),
    ("corridor_m=1e9", "corridor_m"),
    ("corridor_m=nan", "corridor_m"),
    ("datum=marsian", "datum"),
])
def test_overlay_bad_parameters(client, query, fragment):
    r = client.post(f"/api/overlay?{query}", data=json.dumps(SITES),
                    content_type="application/json")
    assert r.status_code == 400
    assert fragment in r.json["error"] and r.json["hint"]


def test_overlay_bad_requests(client):
    r = client.post("/api/overlay", data="a,b", content_type="text/plain")
    assert r.status_code == 415 and "Content-Type" in r.json["hint"]
    r = client.post("/api/overlay", data={}, content_type="multipart/form-data")
    assert r.status_code == 400 and "file" in r.json["error"]
    r = client.post("/api/overlay", data=b"", content_type="application/json")
    assert r.status_code == 400
    r = client.post("/api/overlay", data=b"{not json", content_type="application/geo+json")
    assert 400 <= r.status_code < 500 and r.json["error"]
    empty = {"type": "FeatureCollection", "features": []}
    r = client.post("/api/overlay", data=json.dumps(empty), content_type="application/json")
    assert 400 <= r.status_code < 500 and r.json["hint"]
    assert client.delete("/api/overlay").status_code == 405


def test_route_stages(client):
    r = client.get("/api/route/stages?max_km=250")
    assert r.status_code == 200
    body = r.json
    assert body["max_km"] == 250 and 600 < body["total_km"] < 1000
    stages = body["stages"]
    assert [s["n"] for s in stages] == list(range(1, len(stages) + 1))
    assert stages[0]["km_start"] == 0 and stages[-1]["km_end"] == pytest.approx(body["total_km"])
    assert all(s["length_km"] <= 250 for s in stages)
    assert all(s["to_zh"].endswith("驿站") for s in stages)
    assert {"from_en", "to_en", "stops", "over_max"} <= set(stages[0])
    assert len(body["geojson"]["features"]) == len(stages)
    assert body["geojson"]["features"][0]["geometry"]["type"] == "LineString"
    # cached: revalidation answers 304
    etag = r.headers["ETag"]
    assert client.get("/api/route/stages?max_km=250",
                      headers={"If-None-Match": etag}).status_code == 304
    shorter = client.get("/api/route/stages?max_km=100").json
    assert len(shorter["stages"]) > len(stages)


@pytest.mark.parametrize("query", ["max_km=5", "max_km=5000", "max_km=abc", "max_km=inf",
                                   "max_km="])
def test_route_stages_bad_max_km(client, query):
    r = client.get(f"/api/route/stages?{query}")
    if query == "max_km=":  # empty: the default
        assert r.status_code == 200 and r.json["max_km"] == 250
        return
    assert r.status_code == 400
    assert "max_km" in r.json["error"] and r.json["hint"]


def test_route_locate(client):
    r = client.get("/api/route/locate?lon=116.0861&lat=43.9334")
    assert r.status_code == 200
    body = r.json
    assert 340 < body["km"] < 370 and body["side"] in ("left", "right", "on")
    assert abs(body["offset_m"]) == pytest.approx(body["distance_m"])
    assert body["segment"]["name_zh"]
    assert {"lon", "lat"} <= set(body["on_road"])
    # a point given in GCJ-02 is converted first
    g = client.get("/api/route/locate?lon=116.0922&lat=43.9348&datum=gcj02").json
    assert g["datum"] == "gcj02" and abs(g["lon"] - 116.0861) < 0.002


@pytest.mark.parametrize("query", ["lon=200&lat=43", "lon=116&lat=-91", "lon=abc&lat=43",
                                   "lat=43", "lon=116", "lon=116&lat=43&datum=xyz"])
def test_route_locate_bad_input(client, query):
    r = client.get(f"/api/route/locate?{query}")
    assert r.status_code == 400 and r.json["hint"]
