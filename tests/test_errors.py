"""One error body for every JSON error: six keys, both languages, a stable code.

Every way a request can fail that a person can fix is sent through the real app —
bad parameters, missing layers, bad files, writes without the key, wrong methods,
uploads too large — and each answer must be a 4xx JSON body with exactly
``error``, ``error_zh``, ``code``, ``status``, ``hint``, ``hint_zh``.
"""

from __future__ import annotations

import io
import re

import pytest

from geo.errors import MESSAGES

KEYS = ["error", "error_zh", "code", "status", "hint", "hint_zh"]
CJK = re.compile(r"[\u4e00-\u9fff]")

#: (method, url, request keyword arguments, expected status) — the token is added when
#: the kwargs say ``auth=True``.
CASES = [
    ("get", "/api/layers/nope", {}, 404),
    ("get", "/api/layers/nope/features", {}, 404),
    ("get", "/api/layers/projects/features?zoom=99", {}, 400),
    ("get", "/api/layers/projects/features?bbox=1,2,3", {}, 400),
    ("get", "/api/layers/projects/features?datum=klingon", {}, 400),
    ("get", "/api/layers/UPPER", {}, 404),
    ("get", "/api/route/stages?max_km=5000", {}, 400),
    ("get", "/api/route/locate?lon=abc&lat=44", {}, 400),
    ("get", "/api/route/locate", {}, 400),
    ("get", "/api/route/km-posts?every_km=0", {}, 400),
    ("get", "/api/route/stages?start=st_atlantis", {}, 400),
    ("get", "/api/route/stages?direction=sideways", {}, 400),
    ("get", "/api/route/stages?start=st_baochang&end=st_wulagai&direction=reverse", {}, 400),
    ("get", "/api/route/stages?start=st_baochang&end=st_baochang", {}, 400),
    ("get", "/api/route/trip.shp", {}, 400),
    ("get", "/api/route/trip.gpx?stage=99", {}, 400),
    ("get", "/api/route/trip.gpx?stage=one", {}, 400),
    ("get", "/api/route/trip.kml?datum=klingon", {}, 400),
    ("get", "/api/search?q=x&limit=51", {}, 400),
    ("get", "/api/search?q=" + "长" * 101, {}, 400),
    ("post", "/api/measure", {"json": {"coordinates": [[1, 2]]}}, 400),
    ("post", "/api/measure", {"data": "nope"}, 400),
    ("post", "/api/convert?from=wgs84&to=gcj02", {"data": "nope"}, 400),
    ("post", "/api/overlay", {"data": "x", "content_type": "text/plain"}, 415),
    ("post", "/api/overlay", {"data": b"", "content_type": "application/geo+json"}, 400),
    ("post", "/api/overlay", {"data": {"file": (io.BytesIO(b"a,b\n1,2\n"), "s.csv")},
                              "content_type": "multipart/form-data"}, 422),
    ("post", "/api/overlay?river_buffer_m=-5", {"json": {}}, 400),
    ("get", "/api/export/projects.docx", {}, 400),
    ("get", "/api/export/projects", {}, 400),
    ("get", "/api/export/nope.csv", {}, 404),
    ("get", "/api/export/projects.csv?nope=1", {}, 400),
    ("get", "/api/stats/projects?basin=atlantis", {}, 400),
    ("get", "/tiles/projects/3/9/0.mvt", {}, 400),
    ("get", "/tiles/projects/a/b/c.mvt", {}, 400),
    ("get", "/tiles/nope/3/1/1.mvt", {}, 404),
    ("get", "/ogcapi/collections/nope", {}, 404),
    ("get", "/ogcapi/collections/projects/items?limit=0", {}, 400),
    ("get", "/ogcapi/collections/projects/items?colour=red", {}, 400),
    ("get", "/ogcapi/collections/projects/items?bbox=1,2", {}, 400),
    ("get", "/ogcapi/collections/projects/items?bbox-crs=EPSG:2000", {}, 400),
    ("get", "/ogcapi/collections/projects/items?filter=nope%3D1", {}, 400),
    ("get", "/ogcapi/collections/projects/items?datetime=yesterday", {}, 400),
    ("get", "/ogcapi/collections/projects/items/999999", {}, 404),
    ("get", "/ogcapi/collections/projects/items?f=xml", {}, 400),
    ("get", "/ogcapi/conformance?x=1", {}, 400),
    ("get", "/api/nothing-here", {}, 404),
    ("delete", "/api/layers/projects", {}, 401),
    ("put", "/api/layers/x", {"auth": "wrong"}, 401),
    ("delete", "/api/layers/projects", {"auth": True}, 409),
    ("delete", "/api/layers/nope", {"auth": True}, 404),
    ("put", "/api/layers/Bad Name", {"auth": True, "data": b"{}"}, 400),
    ("put", "/api/layers/sqlite_x", {"auth": True, "data": b"{}"}, 400),
    ("put", "/api/layers/empty", {"auth": True, "data": b"",
                                  "content_type": "application/json"}, 400),
    ("put", "/api/layers/bad", {"auth": True, "data": b"{not json",
                                "content_type": "application/json"}, 400),
    ("put", "/api/layers/nofeat", {"auth": True, "data": b'{"type":"FeatureCollection",'
                                   b'"features":[]}', "content_type": "application/json"}, 422),
    ("put", "/api/layers/x", {"auth": True, "data": {"other": "1"},
                              "content_type": "multipart/form-data"}, 400),
    ("post", "/api/layers", {"auth": True, "data": b"{}",
                             "content_type": "application/json"}, 400),
    ("put", "/api/layers/pdf", {"auth": True, "data": b"%PDF-1.4 xxxxxxxx",
                                "content_type": "application/octet-stream"}, 415),
    ("post", "/api/layers/projects", {"auth": True}, 405),
    ("delete", "/api/overlay", {}, 405),
]


@pytest.fixture()
def client_and_token(make_app, token):
    return make_app(ATLAS_WRITE_TOKEN=token).test_client(), token


@pytest.mark.parametrize("method,url,kwargs,status", CASES,
                         ids=[f"{c[0]} {c[1]}" for c in CASES])
def test_every_json_error_has_the_six_keys(client_and_token, method, url, kwargs, status):
    client, token = client_and_token
    kwargs = dict(kwargs)
    auth = kwargs.pop("auth", None)
    if auth:
        kwargs["headers"] = {"Authorization": f"Bearer {token if auth is True else auth}"}
    r = getattr(client, method)(url, **kwargs)
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:300])
    body = r.get_json()
    assert list(body) == KEYS
    assert body["status"] == status
    assert body["code"] in MESSAGES
    assert body["error"] and isinstance(body["hint"], str)
    assert CJK.search(body["error_zh"]), body
    assert isinstance(body["hint_zh"], str)


def test_upload_too_large_has_the_six_keys(make_app, token):
    client = make_app(ATLAS_WRITE_TOKEN=token, MAX_CONTENT_LENGTH=1024).test_client()
    r = client.put("/api/layers/big", data=b"x" * 4096, content_type="application/json",
                   headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 413 and list(r.json) == KEYS
    assert r.json["code"] == "upload_too_large" and CJK.search(r.json["hint_zh"])


def test_writes_disabled_has_the_six_keys(make_app):
    r = make_app(ATLAS_WRITE_TOKEN=None).test_client().delete("/api/layers/x")
    assert r.status_code == 403 and list(r.json) == KEYS and r.json["code"] == "writes_disabled"


def test_every_code_has_a_sentence_in_both_languages():
    for code, (zh, en) in MESSAGES.items():
        assert re.fullmatch(r"[a-z_]+", code)
        assert CJK.search(zh) and en.endswith(".") and "=" not in en, code
