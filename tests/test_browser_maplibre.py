"""MapLibre GL (self-hosted, CSP build) draws a collection from its TileJSON, in Chromium.

The tileset page of OGC API – Tiles (``…/tiles/WebMercatorQuad?f=html``) loads
MapLibre from the app's own static files under the page's Content-Security-Policy,
reads the TileJSON and fetches the tiles through the OGC tile URL template.  WebGL
comes from SwiftShader (software rendering).
"""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

TS = "/ogcapi/collections/{cid}/tiles/WebMercatorQuad"


def drawn_ids(gl_browser, url: str, layer: str) -> tuple[set, list[str], list[str]]:
    """Feature ids MapLibre rendered, the tile URLs it fetched and the console errors."""
    context = gl_browser.new_context(viewport={"width": 900, "height": 700})
    page = context.new_page()
    tiles: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: r.url.endswith((".mvt", "f=mvt")) and tiles.append(r.url))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("#tile-map[data-idle='1']", state="attached", timeout=60_000)
    ids = page.evaluate(
        "(layer) => window.atlasTileMap.queryRenderedFeatures({layers: [layer]})"
        ".map(f => f.id)", layer)
    context.close()
    return set(ids), tiles, errors


def test_maplibre_draws_the_projects_from_the_tilejson(gl_browser, live_server):
    url = live_server.url + TS.format(cid="projects") + "?f=html"
    ids, tiles, errors = drawn_ids(gl_browser, url, "point")
    assert errors == []
    # Every one of the 150 projects is drawn (the map fits the collection's bounds).
    assert ids == set(range(1, 151))
    # Through the OGC template: …/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}.
    assert tiles and all(re.search(r"/WebMercatorQuad/\d+/\d+/\d+\?f=mvt$", t) for t in tiles)


def test_maplibre_draws_polygons_too(gl_browser, live_server):
    url = live_server.url + TS.format(cid="admin") + "?f=html"
    ids, _, errors = drawn_ids(gl_browser, url, "fill")
    assert errors == [] and len(ids) >= 10  # the League and its counties
