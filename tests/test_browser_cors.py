"""A web page on another origin reads the atlas in Chromium: CORS as a browser enforces it.

A second loopback server on another port serves a plain page (the "intranet host" of
a web developer) with its own copy of MapLibre GL.  From there the page fetches OGC API
items, posts sites to the read-only overlay, draws the projects from the atlas's
TileJSON with MapLibre — and tries a write with the right token, which the browser
must block at the preflight (the layer is checked absent on the server afterwards).
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from tests.conftest import LiveServer, free_port

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

VENDOR = Path(__file__).resolve().parent.parent / "webmap/static/vendor/maplibre-gl"

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<link rel="stylesheet" href="maplibre-gl.css">
<script src="maplibre-gl-csp.js"></script></head>
<body><div id="map" style="width:800px;height:600px"></div>
<script>
const ATLAS = "%(atlas)s";
const TOKEN = "%(token)s";
window.results = {};
async function attempt(name, url, init) {
  try {
    const r = await fetch(url, init);
    results[name] = {status: r.status, body: await r.text(),
                     crs: r.headers.get("Content-Crs"), etag: r.headers.get("ETag")};
  } catch (e) { results[name] = {blocked: String(e)}; }
}
(async () => {
  await attempt("items", ATLAS + "/ogcapi/collections/projects/items?limit=5"
                + "&crs=http://www.opengis.net/def/crs/EPSG/0/4548&filter=category%%3D%%27energy%%27");
  await attempt("overlay", ATLAS + "/api/overlay", {method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({type: "FeatureCollection", features: [{type: "Feature",
        properties: {name: "site"}, geometry: {type: "Point", coordinates: [116.07, 43.95]}}]})});
  await attempt("put", ATLAS + "/api/layers/from_elsewhere", {method: "PUT",
      headers: {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/geo+json"},
      body: JSON.stringify({type: "FeatureCollection", features: []})});
  await attempt("delete", ATLAS + "/api/layers/projects", {method: "DELETE"});
  maplibregl.setWorkerUrl("maplibre-gl-csp-worker.js");
  const map = new maplibregl.Map({container: "map", style: {version: 8,
    sources: {atlas: {type: "vector",
      url: ATLAS + "/ogcapi/collections/projects/tiles/WebMercatorQuad/tilejson.json"}},
    layers: [{id: "p", type: "circle", source: "atlas", "source-layer": "projects",
              paint: {"circle-radius": 4, "circle-color": "#d95f02"}}]}});
  map.on("load", () => map.fitBounds(map.getSource("atlas").bounds,
                                     {padding: 20, animate: false}));
  map.on("idle", () => { results.drawn = map.queryRenderedFeatures({layers: ["p"]})
                                            .map(f => f.id); });
})();
</script></body></html>
"""


@pytest.fixture()
def other_origin(tmp_path):
    """A second server on another loopback port, serving ``tmp_path``."""
    for name in ("maplibre-gl.css", "maplibre-gl-csp.js", "maplibre-gl-csp-worker.js"):
        shutil.copy(VENDOR / name, tmp_path / name)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_page_on_another_origin_reads_draws_and_cannot_write(wapp, token, other_origin,
                                                              gl_browser):
    folder, origin = other_origin
    with LiveServer(wapp) as atlas:
        assert origin != atlas.url
        (folder / "index.html").write_text(PAGE % {"atlas": atlas.url, "token": token},
                                           encoding="utf-8")
        context = gl_browser.new_context()
        page = context.new_page()
        page.goto(f"{origin}/index.html")
        page.wait_for_function("() => window.results && window.results.drawn",
                               timeout=60_000)
        results = page.evaluate("() => window.results")
        context.close()
        store = wapp.extensions["atlas_store"]
        assert not store.exists("from_elsewhere") and store.exists("projects")
    items = results["items"]
    assert items["status"] == 200 and items["crs"].endswith("/EPSG/0/4548>")
    assert items["etag"]  # an exposed header
    assert results["overlay"]["status"] == 200
    # The writes never left the browser: their preflight got no CORS answer.
    assert "blocked" in results["put"] and "blocked" in results["delete"]
    assert set(results["drawn"]) == set(range(1, 151))
