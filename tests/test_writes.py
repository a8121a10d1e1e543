"""Saved user layers through the write API, the write key, size limits and security headers.

Everything goes through real HTTP (Flask's test client) into a real GeoPackage
store copy; the store is opened afterwards to check what was (not) written.
"""

from __future__ import annotations

import base64
import io
import json
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest
import shapely
from flask import Response

from layers.catalog import layer_ids
from layers.open import open_store
from webmap.core import security

ROOT = Path(__file__).resolve().parent.parent


def feature_collection(n: int = 3, lon: float = 116.07, lat: float = 43.95,
                       name: str = "站点") -> bytes:
    """A small GeoJSON FeatureCollection of points near Xilinhot."""
    feats = [{"type": "Feature",
              "properties": {"name_zh": f"{name}{i}", "seq": i},
              "geometry": {"type": "Point", "coordinates": [lon + i * 0.01, lat + i * 0.01]}}
             for i in range(n)]
    return json.dumps({"type": "FeatureCollection", "features": feats},
                      ensure_ascii=False).encode()


@pytest.fixture()
def wclient(wapp):
    return wapp.test_client()


@pytest.fixture()
def auth(token) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _store(app):
    return open_store(app.extensions["atlas_settings"].store)


# -- the write key ------------------------------------------------------------------------

def test_writes_refused_with_hint_when_no_token_is_configured(make_app):
    app = make_app(ATLAS_WRITE_TOKEN=None)
    c = app.test_client()
    before = [i.name for i in _store(app).list_layers()]
    for method, url in (("put", "/api/layers/sites"), ("post", "/api/layers?name=sites"),
                        ("delete", "/api/layers/sites")):
        r = getattr(c, method)(url, data=feature_collection(), content_type="application/json",
                               headers={"Authorization": "Bearer anything"})
        assert r.status_code == 403, (method, r.data)
        assert "ATLAS_WRITE_TOKEN" in r.json["hint"]
        assert "Authorization: Bearer" in r.json["hint"]
    assert [i.name for i in _store(app).list_layers()] == before


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", "Basic dXNlcjpwYXNz",
                                    "Bearer", "Bearer 口令🌾", "bearer  "])
def test_missing_or_wrong_token_is_401_with_challenge(wclient, wapp, header):
    headers = {"Authorization": header} if header is not None else {}
    r = wclient.put("/api/layers/sites", data=feature_collection(),
                    content_type="application/json", headers=headers)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert r.json["error"] and "ATLAS_WRITE_TOKEN" in r.json["hint"]
    assert not _store(wapp).exists("sites")


def test_token_is_compared_in_constant_time(wclient, auth, token, monkeypatch):
    calls = []
    real = security.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(security.hmac, "compare_digest", spy)
    r = wclient.delete("/api/layers/nothing_here", headers=auth)
    assert r.status_code == 404
    assert calls == [(token.encode(), token.encode())]


def test_reads_stay_public(wclient):
    assert wclient.get("/healthz").status_code == 200
    r = wclient.get("/api/layers")
    assert r.status_code in (200, 404)  # 404 only until the listing module exists
    assert r.status_code != 401 and r.status_code != 403


def test_no_secret_in_the_repository():
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    assignment = re.compile(r"ATLAS_WRITE_TOKEN\s*[=:]\s*['\"]?([A-Za-z0-9_\-+/]{12,})")
    private_key = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
    found = []
    for name in files:
        path = ROOT / name
        if not name or not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        text = path.read_text("utf-8", errors="ignore")
        found += [f"{name}: {m.group(0)}" for m in assignment.finditer(text)]
        found += [name for _ in private_key.finditer(text)]
    assert found == []


# -- saving, replacing, deleting ----------------------------------------------------------

def test_put_creates_then_replaces_then_delete_removes(wclient, wapp, auth):
    r = wclient.put("/api/layers/my_sites?title=我的站点", data=feature_collection(3),
                    content_type="application/geo+json", headers=auth)
    assert r.status_code == 201, r.json
    body = r.json
    assert body["name"] == "my_sites" and body["created"] is True and body["count"] == 3
    assert body["title"] == "我的站点"
    assert "user upload" in body["provenance"]["source"]
    assert set(body["report"]) >= {"warnings", "repairs", "dropped", "counts"}
    assert r.headers["Location"].endswith("/api/layers/my_sites")

    info = _store(wapp).info("my_sites")
    assert info.count == 3 and info.user_layer
    assert "user upload" in info.meta["source"]
    assert info.meta["uploaded"] and info.meta["title"] == "我的站点"
    assert sorted(_store(wapp).get("my_sites")["name_zh"]) == ["站点0", "站点1", "站点2"]

    r = wclient.put("/api/layers/my_sites", data=feature_collection(5, name="新"),
                    content_type="application/json", headers=auth)
    assert r.status_code == 200 and r.json["created"] is False and r.json["count"] == 5
    assert _store(wapp).info("my_sites").version != info.version
    assert _store(wapp).get("my_sites")["name_zh"].str.startswith("新").all()
    assert _store(wapp).check() == []

    r = wclient.delete("/api/layers/my_sites", headers=auth)
    assert r.status_code == 200 and r.json == {"deleted": "my_sites"}
    assert not _store(wapp).exists("my_sites")
    r = wclient.delete("/api/layers/my_sites", headers=auth)
    assert r.status_code == 404 and r.json["hint"]


def test_post_multipart_with_name_title_and_gcj02_datum(wclient, wapp, auth):
    data = {"file": (io.BytesIO(feature_collection(2)), "gaode_sites.geojson"),
            "name": "gaode_sites", "title": "高德坐标站点", "datum": "gcj02"}
    r = wclient.post("/api/layers", data=data, content_type="multipart/form-data",
                     headers=auth)
    assert r.status_code == 201, r.json
    assert r.json["filename"] == "gaode_sites.geojson"
    assert "gcj02" in r.json["provenance"]["datum"].lower()
    gdf = _store(wapp).get("gaode_sites")
    # GCJ-02 → WGS 84 moves points here by a few hundred metres, south-west.
    moved = shapely.Point(116.07, 43.95).distance(gdf.geometry.iloc[0])
    assert 0.001 < moved < 0.01


def test_post_needs_a_name_and_refuses_to_overwrite(wclient, wapp, auth):
    r = wclient.post("/api/layers", data=feature_collection(), content_type="application/json",
                     headers=auth)
    assert r.status_code == 400 and "name" in r.json["hint"]
    r = wclient.post("/api/layers?name=once", data=feature_collection(1),
                     content_type="application/json", headers=auth)
    assert r.status_code == 201
    r = wclient.post("/api/layers?name=once", data=feature_collection(4),
                     content_type="application/json", headers=auth)
    assert r.status_code == 409 and "PUT /api/layers/once" in r.json["hint"]
    assert _store(wapp).info("once").count == 1


@pytest.mark.parametrize("name", ["sqlite_stat1", "sqlite", "sqlitesites", "gpkg_contents",
                                  "rtree_admin_geom"])
def test_names_the_database_reserves_are_refused_with_a_400_that_says_why(
        wclient, wapp, auth, name):
    """Issue 13: a name beginning with ``sqlite`` answered 500 (SQLite reserves it)."""
    table = f"{name}__v1"  # what a version table would be called
    if table.startswith("sqlite_"):  # SQLite's own rule (our prefix rule is wider)
        with pytest.raises(sqlite3.OperationalError, match="reserved"):
            sqlite3.connect(":memory:").execute(f'CREATE TABLE "{table}" (a)')
    before = [(i.name, i.version) for i in _store(wapp).list_layers()]
    answers = [
        wclient.put(f"/api/layers/{name}", data=feature_collection(),
                    content_type="application/json", headers=auth),
        wclient.post(f"/api/layers?name={name}", data=feature_collection(),
                     content_type="application/json", headers=auth),
        wclient.delete(f"/api/layers/{name}", headers=auth),
        wclient.get(f"/tiles/{name}/5/26/11.mvt"),
    ]
    for r in answers:
        assert r.status_code == 400, (r.status_code, r.data[:200])
        assert r.json["code"] == "bad_layer_name"
        assert "reserved by the database" in r.json["error"] and "sqlite" in r.json["error"]
        assert "保留" in r.json["error_zh"]
    assert [(i.name, i.version) for i in _store(wapp).list_layers()] == before


@pytest.mark.parametrize("name", ["admin", "rivers", "projects"])
def test_catalog_layers_cannot_be_replaced_or_deleted(wclient, wapp, auth, name):
    assert name in layer_ids()
    store = _store(wapp)
    before = store.info(name).version if store.exists(name) else None
    r = wclient.put(f"/api/layers/{name}", data=feature_collection(),
                    content_type="application/json", headers=auth)
    assert r.status_code == 409 and f"{name}_mine" in r.json["hint"]
    r = wclient.delete(f"/api/layers/{name}", headers=auth)
    assert r.status_code == 409
    after = store.info(name).version if store.exists(name) else None
    assert after == before


def test_upload_over_the_size_limit_is_413_json(make_app, token, auth):
    app = make_app(ATLAS_WRITE_TOKEN=token, MAX_CONTENT_LENGTH=64 * 1024)
    c = app.test_client()
    big = feature_collection(2000)
    assert len(big) > 64 * 1024
    r = c.put("/api/layers/big", data=big, content_type="application/json", headers=auth)
    assert r.status_code == 413
    assert "ATLAS_MAX_UPLOAD_MB" in r.json["hint"]
    files = {"file": (io.BytesIO(big), "big.geojson"), "name": "big"}
    r = c.post("/api/layers", data=files, content_type="multipart/form-data", headers=auth)
    assert r.status_code == 413 and r.json["error"]
    assert not _store(app).exists("big")


def test_max_upload_mb_comes_from_the_environment(monkeypatch, make_app):
    monkeypatch.setenv("ATLAS_MAX_UPLOAD_MB", "3")
    from webmap.core.config import Settings

    assert Settings.from_env().max_content_length == 3 * 1024 * 1024
    assert Settings.from_env({}).max_content_length == 50 * 1024 * 1024


# -- security headers ---------------------------------------------------------------------

def _csp(resp) -> dict[str, list[str]]:
    out = {}
    for part in resp.headers["Content-Security-Policy"].split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def test_every_response_carries_the_security_headers(client):
    for url in ("/healthz", "/api/no-such-thing"):
        r = client.get(url)
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
        assert _csp(r)["default-src"] == ["'none'"]


def test_html_pages_allow_only_their_own_inline_scripts_and_the_tile_hosts(make_app):
    app = make_app(ATLAS_TILE_URL="https://tiles.intranet.example/{z}/{x}/{y}.png",
                   TIANDITU_KEY="k")
    client = app.test_client()
    nonces = []
    for path in ("/", "/", "/route", "/watershed?lang=en"):
        r = client.get(path)
        csp = _csp(r)
        # the page's own inline scripts carry this response's nonce; nothing else may run
        assert len(csp["script-src"]) == 3 and csp["script-src"][0] == "'self'"
        assert csp["script-src"][2] == "'report-sample'"
        nonce = re.fullmatch(r"'nonce-([A-Za-z0-9_-]{22,})'", csp["script-src"][1]).group(1)
        html = r.get_data(as_text=True)
        inline = re.findall(r"<script\b([^>]*)>", html)
        own = [attrs for attrs in inline if "src=" not in attrs]
        assert len(own) >= 3 and all(attrs == f' nonce="{nonce}"' for attrs in own), own
        assert "'unsafe-inline'" not in csp["script-src"] and "atlas-nonce-" not in html
        nonces.append(nonce)
    assert len(set(nonces)) == len(nonces)  # a new one for every response, cached page or not
    csp = _csp(client.get("/"))
    assert csp["default-src"] == ["'self'"]
    assert csp["connect-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'self'"]
    img = csp["img-src"]
    assert "https://tiles.intranet.example" in img
    assert "https://tile.openstreetmap.org" in img and "https://t7.tianditu.gov.cn" in img
    assert "https://server.arcgisonline.com" in img and "https://webst04.is.autonavi.com" in img
    assert not any(h in ("*", "https:", "http:") for v in csp.values() for h in v)


def test_html_the_server_did_not_mark_runs_no_inline_script(make_app):
    """Another HTML answer with inline code (a handler's own page, an error page): none
    of it is allowed, whatever it holds — the policy does not hash what it finds."""
    app = make_app()

    @app.get("/csp-probe")
    def probe():
        html = ("<!doctype html><html><head><script src='/static/x.js'></script>"
                "<script>var map = L.map('m');</script></head><body>"
                "<button onclick=\"go(&quot;a&quot;)\">go</button></body></html>")
        return Response(html, mimetype="text/html")

    assert _csp(app.test_client().get("/csp-probe"))["script-src"] == ["'self'", "'report-sample'"]


def test_a_page_without_inline_scripts_allows_none(make_app):
    app = make_app()

    @app.get("/csp-plain")
    def plain():
        return Response("<!doctype html><script src='/static/a.js'></script><p>hi</p>",
                        mimetype="text/html")

    assert _csp(app.test_client().get("/csp-plain"))["script-src"] == ["'self'", "'report-sample'"]


def test_page_csp_lists_tianditu_only_with_a_key(make_app):
    for key, present in ((None, False), ("k", True)):
        r = make_app(TIANDITU_KEY=key).test_client().get("/")
        assert r.status_code == 200
        assert any("tianditu" in h for h in _csp(r)["img-src"]) is present


# -- end to end: a saved layer in the maps and in OGC API ---------------------------------

def test_saved_layer_appears_in_the_maps_and_in_ogc_api(wclient, auth):
    r = wclient.put("/api/layers/field_sites?title=野外站点", data=feature_collection(4),
                    content_type="application/geo+json", headers=auth)
    assert r.status_code == 201
    layers = wclient.get("/api/layers").json["layers"]
    mine = next(item for item in layers if item["id"] == "field_sites")
    assert mine["user_layer"] and mine["group"] == "user" and mine["title"] == "野外站点"
    assert "user upload" in mine["provenance"]["source"]
    feats = wclient.get("/api/layers/field_sites/features?zoom=8").json
    assert feats["numberMatched"] == 4 and len(feats["features"]) == 4
    ids = [c["id"] for c in wclient.get("/ogcapi/collections?f=json").json["collections"]]
    assert "field_sites" in ids
    items = wclient.get("/ogcapi/collections/field_sites/items?f=json&limit=3").json
    assert items["numberMatched"] == 4 and items["numberReturned"] == 3

    assert wclient.delete("/api/layers/field_sites", headers=auth).status_code == 200
    assert "field_sites" not in [i["id"] for i in wclient.get("/api/layers").json["layers"]]
    assert wclient.get("/ogcapi/collections/field_sites/items?f=json").status_code == 404


@pytest.mark.browser
def test_uploaded_layer_is_drawn_under_the_csp(browser, wapp, token):
    """Upload over real HTTP, then open the atlas in Chromium: drawn, no CSP violation."""
    import socket
    import threading
    import urllib.request
    from urllib.parse import urlparse

    from waitress.server import create_server

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = create_server(wapp, host="127.0.0.1", port=port, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        req = urllib.request.Request(
            f"{base}/api/layers/phone_sites?title=%E6%89%8B%E6%9C%BA%E6%A0%87%E6%B3%A8",
            data=feature_collection(5),
            method="PUT", headers={"Authorization": f"Bearer {token}",
                                   "Content-Type": "application/geo+json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            assert resp.status == 201

        def _route(route):
            if urlparse(route.request.url).hostname == "127.0.0.1":
                return route.continue_()
            return route.fulfill(status=200, content_type="image/png", body=_PNG)

        context.route("**/*", _route)
        pg = context.new_page()
        errors: list[str] = []
        pg.on("console", lambda m: m.type == "error" and errors.append(m.text))
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.add_init_script("window.__csp = []; document.addEventListener("
                           "'securitypolicyviolation', e => window.__csp.push("
                           "e.violatedDirective + ' ' + e.blockedURI));")
        # /route and /watershed are opened under the same policy by test_browser.py,
        # whose console-error checks catch any CSP violation there.
        pg.goto(base + "/")
        pg.wait_for_selector("body[data-atlas-ready]", state="attached", timeout=30_000)
        assert pg.evaluate("window.atlas.counts.phone_sites") == 5
        assert pg.locator(".leaflet-control-layers", has_text="手机标注").count() == 1
        assert pg.evaluate("window.__csp") == []
        assert errors == []
    finally:
        context.close()
        server.close()


_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
