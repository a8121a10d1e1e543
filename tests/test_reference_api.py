"""``/api/reference``: the catalog layers replaced by files as the offices have them, through
the real HTTP layer, on the test backend (GeoPackage, or PostGIS in the second pass).

For each fixture: a preview changes nothing; a commit changes what every page and API
answers (stats against pandas sums, the overlay of known points against shapely, route
stages, OGC items); a restore brings the previous answers back byte for byte; a restart
keeps the current version.  Then the bad input of the issue: clear 4xx, nothing stored.
"""

from __future__ import annotations

import io
import json

import numpy as np
import openpyxl
import pytest

from layers.catalog import SEED_PROJECT_TOTALS
from layers.open import open_store
from tests import ingest_fixtures as fx
from tests import reference_flows as rf

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture()
def auth(token):
    return {"Authorization": f"Bearer {token}"}


def put(client, auth, layer, data, filename, **fields):
    form = {"file": (io.BytesIO(data), filename), **{k: str(v) for k, v in fields.items()}}
    return client.put(f"/api/reference/{layer}", data=form, headers=auth,
                      content_type="multipart/form-data")


def versions(client, layer):
    r = client.get(f"/api/reference/{layer}/versions")
    assert r.status_code == 200
    return [(v["version"], v["current"], v["restored_from"]) for v in r.json["versions"]]


def stats(client) -> dict:
    return client.get("/api/stats/projects").json


# -- the registry from a government spreadsheet ---------------------------------------------

def test_registry_preview_commit_restore_restart(wapp, auth, make_app, token, store_path):
    client = wapp.test_client()
    io_ = rf.flask_io(client)
    before = rf.answers(*io_)
    edited = rf.edited_registry()
    sheet = fx.registry_xlsx("万元", projects=edited)

    # A dry run answers the preview and stores nothing.
    r = put(client, auth, "projects", sheet, "2024年重大项目.xlsx", dry_run=1)
    assert r.status_code == 200, r.json.get("errors", r.json)
    prev = r.json
    assert prev["stored"] is False and prev["ok"] is True and prev["counts"]["features"] == 140
    assert prev["diff"]["counts"]["removed"] == 10
    assert sorted(prev["diff"]["removed"])[:2] == ["P141", "P142"]
    assert prev["mapping"]["fields"]["total_investment_yi"]["factor"] == 1e-4  # 万元 → 亿元
    assert prev["totals"]["total"]["difference"]["count"] == -10
    assert versions(client, "projects") == [(1, True, None)]
    assert rf.answers(*io_) == before

    # The commit: version 2, and every answer that reads the registry follows at once.
    r = put(client, auth, "projects", sheet, "2024年重大项目.xlsx", source="盟发改委 2024年台账",
            licence="内部资料", date="2024-03", note="年度更新", author="发改委 王工")
    assert r.status_code == 201, r.json
    assert r.json["version"] == 2 and r.json["versions"] == {"projects": 2}
    assert r.json["rederived"] == [] and r.headers["Location"].endswith("/projects/versions")
    after = rf.answers(*io_)
    assert rf.changed(before, after) == {"stats", "stats_basin", "projects_features",
                                         "projects_items", "projects_export"}
    s = stats(client)
    want = rf.registry_totals(edited)
    assert s["total"] == want
    assert s["seed"]["total"]["count"] == SEED_PROJECT_TOTALS["count"] == 150
    assert s["difference"]["total"] == {
        k: round(want[k] - SEED_PROJECT_TOTALS[k], 2) for k in want}
    by_cat = {row["category"]: row for row in s["difference"]["by_category"]}
    kept = edited.groupby("category")["id"].count()
    assert by_cat["energy"]["count"] == kept["energy"] - SEED_PROJECT_TOTALS["by_category"][
        "energy"][0]
    items = json.loads(after["projects_items"])
    assert items["numberMatched"] == 140
    p1 = next(f for f in items["features"] if f["properties"]["id"] == rf.REVISED[0])
    assert p1["properties"]["plan_2023_yi"] == rf.REVISED[1]
    p2 = next(f for f in items["features"] if f["properties"]["id"] == rf.MOVED[0])
    assert p2["geometry"]["coordinates"] == list(rf.MOVED[1])
    assert p2["properties"]["county"] == "多伦县"
    # Each version keeps its provenance: the map's layer list and the OGC collection say it.
    coll = client.get("/ogcapi/collections/projects").json["provenance"]
    assert coll["source"] == "盟发改委 2024年台账" and coll["version"] == 2
    assert coll["licence"] == "内部资料" and coll["authored"] is False
    listed = next(d for d in client.get("/api/layers").json["layers"] if d["id"] == "projects")
    assert listed["provenance"]["source"] == "盟发改委 2024年台账"
    assert listed["provenance"]["version"] == 2 and listed["provenance"]["note"] == "年度更新"
    v = client.get("/api/reference/projects/versions").json["versions"]
    assert [(x["version"], x["current"], x["author"], x["count"], x["source"]) for x in v] == [
        (2, True, "发改委 王工", 140, "盟发改委 2024年台账"),
        (1, False, None, 150, v[1]["source"])]
    assert v[1]["builtin"] is True and v[0]["note"] == "年度更新"
    # Any version downloads in any export format.
    old = client.get("/api/reference/projects/versions/1.geojson")
    assert old.status_code == 200 and len(old.json["features"]) == 150
    shp = client.get("/api/reference/projects/versions/2.shp.zip")
    assert shp.status_code == 200 and shp.data[:2] == b"PK"

    # A restart (create_app runs the built-in loader again) keeps the user's version.
    again = make_app(ATLAS_WRITE_TOKEN=token).test_client()
    assert versions(again, "projects")[0] == (2, True, None)
    assert rf.answers(*rf.flask_io(again)) == after

    # Restoring version 1 writes version 3, and every answer is the built-in one again.
    r = client.post("/api/reference/projects/restore", json={"version": 1}, headers=auth)
    assert r.status_code == 201, r.json
    assert r.json["version"] == 3 and r.json["restored_from"] == 1
    assert versions(client, "projects") == [(3, True, 1), (2, False, None), (1, False, None)]
    assert rf.answers(*io_) == before
    assert client.get("/ogcapi/collections/projects").json["provenance"]["builtin"] is True
    # … and a restart still keeps it (a restore of the built-in data is built-in data).
    assert versions(make_app().test_client(), "projects")[0] == (3, True, 1)

    # A mistaken version is deleted; the current one cannot be.
    assert client.delete("/api/reference/projects/versions/3", headers=auth).status_code == 409
    r = client.delete("/api/reference/projects/versions/2", headers=auth)
    assert r.status_code == 200 and r.json == {"layer": "projects", "deleted": 2}
    assert versions(client, "projects") == [(3, True, 1), (1, False, None)]
    assert client.delete("/api/reference/projects/versions/2", headers=auth).status_code == 404
    r = client.delete("/api/reference/projects/versions/1.geojson", headers=auth)
    assert r.status_code == 400 and r.json["code"] == "bad_parameter"
    assert open_store(store_path).check() == []


def test_append_updates_rows_by_id(wapp, auth):
    # The place-only sheet numbers its rows 1-6 (序号): in append mode they update P001-P006.
    client = wapp.test_client()
    r = put(client, auth, "projects", fx.place_only_xlsx(), "新增项目.xlsx", mode="append",
            source="盟发改委 新增项目")
    assert r.status_code == 201, r.json.get("errors", r.json)
    assert r.json["current"]["mode"] == "append" and r.json["current"]["count"] == 150
    assert r.json["preview"]["counts"]["appended"] == {"updated": 6, "added": 0}
    p = fx.reference("projects")
    kept = p[~p["id"].isin([f"P{k:03d}" for k in range(1, 7)])]
    added = sum(50000 + 1000 * k for k in range(1, len(fx.PLACE_ROWS) + 1)) / 1e4
    s = stats(client)["total"]
    assert s["count"] == 150
    assert s["total_investment_yi"] == round(float(kept["total_investment_yi"].sum()) + added, 2)
    items = client.get("/ogcapi/collections/projects/items?id=P001").json["features"]
    assert items[0]["properties"]["name_zh"] == fx.PLACE_ROWS[0][0]
    assert items[0]["properties"]["source"] == "盟发改委 新增项目"


# -- the basins from a Gauss-Krüger shapefile, the road from a GPS track ---------------------

def test_basins_shapefile_moves_the_overlay_and_restore_brings_it_back(wapp, auth):
    client = wapp.test_client()
    io_ = rf.flask_io(client)
    before = rf.answers(*io_)
    basins = rf.edited_basins()
    # Without the .prj the GK coordinates cannot be read: 4xx naming the CRS to declare.
    r = put(client, auth, "basins", fx.basins_shapefile_zip(prj=False, basins=basins),
            "流域.zip")
    assert r.status_code == 422 and "4548" in r.json["hint"]
    assert versions(client, "basins") == [(1, True, None)]
    r = put(client, auth, "basins", fx.basins_shapefile_zip(prj=False, basins=basins),
            "流域.zip", crs="EPSG:4548", source="盟水利局 流域界线", illustrative=0)
    assert r.status_code == 201, r.json.get("errors", r.json)
    after = rf.answers(*io_)
    assert {"overlay", "basins_features", "basins_items", "tile"} <= rf.changed(before, after)
    assert "projects_items" not in rf.changed(before, after)
    # Each site's basin is the one shapely finds in the uploaded outlines.
    assert rf.overlay_basins(after["overlay"]) == [rf.basin_of(basins, *s) for s in rf.SITES]
    assert rf.overlay_basins(before["overlay"])[:2] == ["abaga", "abaga"]
    assert rf.overlay_basins(after["overlay"])[:2] == ["xilin", "xilin"]
    area = {f["properties"]["id"]: f["properties"]["area_km2"]
            for f in json.loads(after["basins_items"])["features"]}
    assert area["xilin"] > 13771.7 + 1000 and area["abaga"] < 35638.1 - 1000
    r = client.post("/api/reference/basins/restore", data={"version": "1"}, headers=auth)
    assert r.status_code == 201 and r.json["restored_from"] == 1
    assert rf.answers(*io_) == before


def test_road_track_rederives_stations_in_the_same_commit_and_restore_follows(wapp, auth):
    client = wapp.test_client()
    io_ = rf.flask_io(client)
    before = rf.answers(*io_)
    # The track shifted ~1.1 km north: every station's and attraction's km is re-derived.
    gpx = fx.road_gpx(shift_deg=(0.0, 0.01))
    r = put(client, auth, "scenic_road", gpx, "风景大道.gpx", source="旅游局 GPS 轨迹")
    assert r.status_code == 201, r.json.get("errors", r.json)
    assert r.json["versions"] == {"scenic_road": 2, "stations": 2, "attractions": 2}
    assert r.json["rederived"] == ["attractions", "stations"]
    st = client.get("/api/reference/stations/versions").json["versions"][0]
    assert st["derived_from"] == "scenic_road" and st["mode"] == "derive"
    # The stations' own provenance is kept (their features are still the catalog's).
    assert st["source"] == client.get("/api/reference/stations/versions").json[
        "versions"][1]["source"]
    after = rf.answers(*io_)
    assert {"stages", "road_items", "stations_items", "locate"} <= rf.changed(before, after)
    # Restoring the road re-derives the stations against it: the built-in answers return.
    r = client.post("/api/reference/scenic_road/restore", json={"version": 1}, headers=auth)
    assert r.status_code == 201, r.json
    assert sorted(r.json["versions"]) == ["attractions", "scenic_road", "stations"]
    assert rf.answers(*io_) == before
    assert versions(client, "stations")[0][:2] == (3, True)


def test_stations_from_a_dms_csv(wapp, auth):
    client = wapp.test_client()
    before = client.get("/ogcapi/collections/stations/items?limit=100").json
    r = put(client, auth, "stations", fx.stations_csv_dms(), "驿站.csv", dry_run=1)
    assert r.status_code == 200 and r.json["ok"], r.json["errors"]
    assert r.json["counts"]["features"] == before["numberMatched"]
    r = put(client, auth, "stations", fx.stations_csv_dms(), "驿站.csv", source="旅游局 驿站表")
    assert r.status_code == 201
    after = client.get("/ogcapi/collections/stations/items?limit=100").json
    a = {f["properties"]["id"]: f for f in before["features"]}
    for f in after["features"]:
        # DMS to the hundredth of a second: within 0.3 m of the committed positions.
        assert np.allclose(f["geometry"]["coordinates"], a[f["properties"]["id"]]["geometry"][
            "coordinates"], atol=1e-5)
        assert f["properties"]["source"] == "旅游局 驿站表"


# -- bad input: a clear 4xx, nothing stored, the current version untouched --------------------

def _river_file() -> bytes:
    return fx.reference("rivers").to_json().encode()


def _nothing_matches() -> bytes:
    return "甲列,乙列,丙列\n1,2,3\n4,5,6\n".encode()


def _duplicate_ids() -> bytes:
    p = fx.reference("projects").copy()
    p.loc[1, "id"] = p.loc[0, "id"]
    return p.to_json().encode()


@pytest.mark.parametrize("layer, data, filename, fields, status, code", [
    ("projects", _river_file(), "rivers.geojson", {}, 422, "wrong_geometry"),
    ("projects", _nothing_matches(), "table.csv", {}, 422, "no_columns_matched"),
    ("projects", fx.registry_xlsx("亿元", values_in="万元"), "registry.xlsx", {}, 422,
     "amount_unit"),
    ("basins", fx.basins_shapefile_zip(prj=False), "basins.zip", {}, 422, None),
    ("projects", _duplicate_ids(), "projects.geojson", {}, 422, "duplicate_id"),
    ("project", b"x", "x.csv", {}, 404, "layer_not_found"),
    ("projects", fx.registry_xlsx(), "r.xlsx", {"mode": "merge"}, 400, "bad_parameter"),
    ("projects", fx.registry_xlsx(), "r.xlsx", {"mapping": "[1]"}, 400, "bad_parameter"),
    ("projects", b"", "empty.csv", {}, 400, "file_empty"),
])
def test_bad_input_is_a_clear_4xx_and_stores_nothing(wapp, auth, store_path, layer, data,
                                                     filename, fields, status, code):
    client = wapp.test_client()
    store = open_store(store_path)
    before = {i.name: i.version for i in store.list_layers()}
    r = put(client, auth, layer, data, filename, **fields)
    assert r.status_code == status, r.json
    body = r.json
    assert {"error", "error_zh", "code", "status", "hint", "hint_zh"} <= set(body)
    assert body["status"] == status and body["error_zh"] and body["hint"]
    if code is not None:
        assert body["code"] == code
    if status == 422 and "errors" in body:
        assert body["stored"] is False and body["errors"][0]["text_zh"]
    assert {i.name: i.version for i in store.list_layers()} == before
    assert store.check() == []


def test_writes_need_the_token_and_user_layer_routes_point_here(make_app, token, auth):
    ro = make_app().test_client()
    assert ro.put("/api/reference/projects").json["code"] == "writes_disabled"
    client = make_app(ATLAS_WRITE_TOKEN=token).test_client()
    r = put(client, {}, "projects", fx.registry_xlsx(), "r.xlsx", dry_run=1)
    assert r.status_code == 401 and r.json["code"] == "unauthorized"
    assert client.post("/api/reference/projects/restore", json={"version": 1}).status_code == 401
    assert client.delete("/api/reference/projects/versions/1").status_code == 401
    for method in ("put", "delete"):
        r = getattr(client, method)("/api/layers/projects", headers=auth)
        assert r.status_code == 409 and r.json["code"] == "catalog_layer"
        assert "/api/reference/projects" in r.json["hint"]
    r = client.post("/api/reference/projects/restore", json={"version": 9}, headers=auth)
    assert r.status_code == 404 and r.json["code"] == "version_not_found"
    r = client.post("/api/reference/projects/restore", data={}, headers=auth)
    assert r.status_code == 400 and r.json["code"] == "bad_parameter"


def test_reference_listing_and_template(client):
    layers = client.get("/api/reference").json["layers"]
    p = next(x for x in layers if x["id"] == "projects")
    assert p["version"] == 1 and p["builtin"] is True and p["count"] == 150
    assert p["links"]["template"] == "/api/reference/projects/template.xlsx"
    required = {f["name"] for f in p["fields"] if f["required"]}
    assert {"name_zh", "category", "total_investment_yi"} <= required
    r = client.get(p["links"]["template"])
    assert r.status_code == 200 and r.mimetype == XLSX
    ws = openpyxl.load_workbook(io.BytesIO(r.data)).worksheets[0]
    heads = [c.value for c in ws[1] if c.value]
    assert "*项目名称" in heads and "*总投资(亿元)" in heads
    r = client.get("/api/reference/projects/versions/1.kml")
    assert r.status_code == 200 and b"<kml" in r.data[:200]
    assert client.get("/api/reference/projects/versions/1.xyz").status_code == 400
    assert client.get("/api/reference/projects/versions/7.geojson").status_code == 404
