"""CORS: which routes a page on another origin may read, through the real app.

The headers are checked with the test client on every open route family and on the
write routes; ``test_browser_cors.py`` drives Chromium from another origin.
"""

from __future__ import annotations

import json

import pytest

from webmap.core.config import Settings, SettingsError

OTHER = "http://gis.example.lan:8080"
SITES = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"name": "甲"},
     "geometry": {"type": "Point", "coordinates": [116.07, 43.95]}}]}

OPEN_GETS = [
    "/ogcapi", "/ogcapi/collections/projects/items?limit=1",
    "/ogcapi/collections/projects/tiles/WebMercatorQuad/tilejson.json",
    "/tiles/projects/5/26/11.mvt", "/api/layers", "/api/layers/projects/features?zoom=5",
    "/api/export/ports.geojson", "/api/stats/projects", "/api/route/stages",
    "/ogcapi/collections/nope",  # errors of open routes are readable too (404 JSON)
]


@pytest.mark.parametrize("url", OPEN_GETS)
def test_open_reads_answer_any_origin(client, url):
    r = client.get(url, headers={"Origin": OTHER})
    assert r.headers["Access-Control-Allow-Origin"] == "*", (url, r.status_code)
    assert "ETag" in r.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in r.headers


def test_the_read_only_overlay_is_open(client):
    r = client.post("/api/overlay", data=json.dumps(SITES),
                    headers={"Origin": OTHER, "Content-Type": "application/json"})
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "*"
    pre = client.options("/api/overlay", headers={
        "Origin": OTHER, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 204 and pre.headers["Access-Control-Allow-Methods"] == "POST"
    assert "Content-Type" in pre.headers["Access-Control-Allow-Headers"]


def test_overlay_jobs_are_open_but_not_their_cancelling():
    from webmap.core.cors import open_methods

    assert open_methods("/api/jobs/overlay") == ("POST",)
    assert open_methods("/api/jobs/3f2a/result.csv") == ("GET", "HEAD")
    assert "DELETE" not in open_methods("/api/jobs/3f2a")


def test_preflight_of_an_open_read(client):
    pre = client.options("/ogcapi/collections/projects/items", headers={
        "Origin": OTHER, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "if-none-match, accept"})
    assert pre.status_code == 204
    assert pre.headers["Access-Control-Allow-Origin"] == "*"
    assert pre.headers["Access-Control-Allow-Methods"] == "GET, HEAD"
    assert int(pre.headers["Access-Control-Max-Age"]) > 0


@pytest.mark.parametrize(("method", "url"), [
    ("PUT", "/api/layers/my_sites"), ("DELETE", "/api/layers/my_sites"),
    ("POST", "/api/layers"), ("DELETE", "/ogcapi/collections/projects"),
    ("GET", "/api/layers/projects"),  # not on the open list
])
def test_writes_are_never_open(wapp, token, method, url):
    client = wapp.test_client()
    pre = client.options(url, headers={"Origin": OTHER,
                                       "Access-Control-Request-Method": method,
                                       "Access-Control-Request-Headers": "authorization"})
    assert "Access-Control-Allow-Origin" not in pre.headers
    assert "Access-Control-Allow-Methods" not in pre.headers
    r = client.open(url, method=method, headers={"Origin": OTHER,
                                                 "Authorization": f"Bearer {token}"})
    assert "Access-Control-Allow-Origin" not in r.headers


def test_a_preflight_asking_for_authorization_is_refused_even_on_reads(client):
    pre = client.options("/ogcapi/collections", headers={
        "Origin": OTHER, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert "Access-Control-Allow-Origin" not in pre.headers


def test_a_list_of_origins_is_echoed_only_to_its_members(make_app):
    client = make_app(ATLAS_CORS_ORIGINS=f"{OTHER}, https://maps.example.org").test_client()
    r = client.get("/ogcapi/collections", headers={"Origin": OTHER})
    assert r.headers["Access-Control-Allow-Origin"] == OTHER and "Origin" in r.headers["Vary"]
    r = client.get("/ogcapi/collections", headers={"Origin": "http://elsewhere.lan"})
    assert "Access-Control-Allow-Origin" not in r.headers and "Origin" in r.headers["Vary"]
    pre = client.options("/ogcapi/collections", headers={
        "Origin": "http://elsewhere.lan", "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Origin" not in pre.headers
    closed = make_app(ATLAS_CORS_ORIGINS="").test_client()
    assert "Access-Control-Allow-Origin" not in closed.get(
        "/ogcapi", headers={"Origin": OTHER}).headers


@pytest.mark.parametrize("value", ["gis.lan", "http://gis.lan/path", "ftp://x"])
def test_a_bad_origin_setting_stops_the_app(value):
    with pytest.raises(SettingsError, match="ATLAS_CORS_ORIGINS"):
        Settings.from_env({"ATLAS_CORS_ORIGINS": value})
