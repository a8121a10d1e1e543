"""Every route answers a method it does not take with 405, an ``Allow`` header and a hint
that fits it (never a write hint under the read-only OGC API)."""

from __future__ import annotations

import re

import pytest

SAMPLES = {"layer": "projects", "layer_id": "projects", "name": "projects", "cid": "projects",
           "fid": "1", "z": "5", "x": "26", "y": "11", "target": "ports.geojson",
           "filename": "ogcapi.css", "tms_id": "WebMercatorQuad", "tile_matrix": "5",
           "tile_row": "11", "tile_col": "26",
           "job_id": "0" * 32}


def _urls(app) -> list[tuple[str, set[str]]]:
    by_url: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: SAMPLES.get(m.group(1), "x"),
                     rule.rule)
        by_url.setdefault(url, set()).update(rule.methods or ())
    return sorted(by_url.items())


def test_every_405_has_allow_and_a_fitting_hint(wapp):
    client = wapp.test_client()
    checked = 0
    for url, methods in _urls(wapp):
        for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
            if method in methods:
                continue
            r = client.open(url, method=method)
            assert r.status_code == 405, (method, url, r.status_code)
            allow = {m.strip() for m in r.headers["Allow"].split(",")}
            assert allow == methods, (method, url)
            checked += 1
            if url.startswith(("/api/", "/ogcapi", "/tiles/")):
                body = r.json
                assert body["code"] == "method_not_allowed" and body["hint_zh"]
                for m in methods - {"OPTIONS"}:
                    assert m in body["hint"], (url, body["hint"])
                if url.startswith(("/ogcapi", "/tiles/")):
                    assert "read-only" in body["hint"] and "write" not in body["hint"]
    assert checked > 100


@pytest.mark.parametrize(("url", "word"), [("/api/layers/projects", "write key"),
                                           ("/api/overlay", "POST")])
def test_405_hints_of_api_routes(wapp, url, word):
    r = wapp.test_client().patch(url)
    assert r.status_code == 405 and word in r.json["hint"]
