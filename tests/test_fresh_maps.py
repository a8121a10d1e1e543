"""A map never draws a layer older than the one just saved (Chromium, one browser profile).

Issue 13 measured the atlas drawing a replaced layer's old features for up to a minute
after a reload: the features and tiles were cached ``max-age=60`` at URLs that did not
change with the layer.  Now the layer list hands out URLs that name the version
(``?v=``, kept for good) and is itself revalidated on every use.  Here a user layer and a
catalog layer are replaced between two loads of the same page in the same browser
context (one HTTP cache), and the second load must draw the new features at once.
"""

from __future__ import annotations

import json
from urllib.parse import urlparse

import pytest

from tests.conftest import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _points(n: int, tag: str) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": f"{tag}{i}"},
         "geometry": {"type": "Point", "coordinates": [116.0 + i * 0.05, 44.0]}}
        for i in range(n)]}).encode()


def _drawn(pg, url: str) -> dict[str, int]:
    pg.goto(url)
    pg.wait_for_selector("body[data-atlas-ready]", state="attached", timeout=30_000)
    return pg.evaluate("window.atlas.counts")


def test_a_replaced_layer_is_drawn_new_at_once_after_a_reload(browser, wapp, token):
    client = wapp.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    store = wapp.extensions["atlas_store"]
    put = client.put("/api/layers/swap", data=_points(3, "old"), headers=auth,
                     content_type="application/geo+json")
    assert put.status_code == 201
    # No request interception: Playwright turns Chromium's HTTP cache off when routing is
    # on, and the cache is what is tested.  Map tiles fail to load (no internet), which
    # the page shrugs off.
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    fetched: list[str] = []
    try:
        with LiveServer(wapp) as server:
            pg = context.new_page()
            pg.on("response", lambda r: "/features" in r.url and fetched.append(
                f"{urlparse(r.url).path} {r.headers.get('cache-control')}"))
            first = _drawn(pg, server.url + "/")
            assert first["swap"] == 3 and first["ports"] == store.info("ports").count == 2
            # both layers replaced: the user layer through the API, the catalog layer as
            # its replacement route writes it (a new version in the store)
            assert client.put("/api/layers/swap", data=_points(5, "new"), headers=auth,
                              content_type="application/geo+json").status_code == 200
            ports = store.get("ports")
            store.put("ports", ports.iloc[:1], meta=store.info("ports").meta)
            again = _drawn(pg, server.url + "/")  # same context: the same HTTP cache
            assert again["swap"] == 5 and again["ports"] == 1
            names = pg.evaluate("""() => {
                const out = [];
                window.atlas.layers.swap.container.eachLayer(function (l) {
                    const f = l.feature || (l.getLayers && l.getLayers()[0].feature);
                    if (f) out.push(f.properties.name);
                });
                return out.sort();
            }""")
            assert names == [f"new{i}" for i in range(5)]
            # the features came at URLs that are kept for good
            assert fetched and all("immutable" in f for f in fetched), fetched
            pg.close()
    finally:
        context.close()
