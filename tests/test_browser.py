"""The map pages in Debian's Chromium (Playwright): drawn layers, toggles, planner, upload.

Only map tiles are stubbed; every other request goes to the live server on
127.0.0.1.  The pages' Content-Security-Policy forbids ``eval``, so waits use
selectors and polled ``evaluate`` calls rather than ``wait_for_function``.
"""

from __future__ import annotations

import base64
import socket
import threading
import time
from urllib.parse import urlparse

import geopandas as gpd
import pytest
import shapely

from layers.catalog import CATALOG

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

XSS = "<img src=x onerror=alert(1)>"


# 1x1 transparent PNG for stubbed tiles (as in conftest).
TILE_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


class _Server:
    """waitress serving ``app`` on a free loopback port (for a test's own store copy)."""

    def __init__(self, app) -> None:
        from waitress.server import create_server

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.server = create_server(app, host="127.0.0.1", port=port, threads=4)
        self.url = f"http://127.0.0.1:{port}"
        threading.Thread(target=self.server.run, daemon=True).start()

    def __enter__(self) -> _Server:
        return self

    def __exit__(self, *exc) -> None:
        self.server.close()


def open_page(pg, url: str) -> None:
    """Go to a map page and wait until every visible layer is drawn."""
    pg.goto(url, timeout=60_000)
    # Generous: on a loaded two-core machine a page may take many seconds to draw; a
    # passing test waits only as long as the page needs.
    pg.wait_for_selector("body[data-atlas-ready]", state="attached", timeout=60_000)


def poll(pg, expr: str, timeout: float = 60.0):
    """Evaluate ``expr`` until it is truthy (bounded, generously for loaded machines)."""
    end = time.monotonic() + timeout
    value = None
    while time.monotonic() < end:
        value = pg.evaluate(expr)
        if value:
            return value
        pg.wait_for_timeout(100)
    raise AssertionError(f"{expr} stayed {value!r}")


def assert_clean(watch) -> None:
    assert watch.page_errors == []
    assert watch.console_errors == []
    assert watch.outside_requests == []


@pytest.mark.parametrize("path", ["/", "/route?max_km=250", "/watershed"])
def test_page_draws_layers_cleanly(page, live_server, path):
    pg, watch = page
    open_page(pg, live_server.url + path)
    counts = pg.evaluate("window.atlas.counts")
    # every layer shown by default is drawn (wq_samples waits for its checkbox)
    wanted = [s.id for s in CATALOG if s.default_visible] if path == "/" else (
        ["admin", "scenic_road", "stations", "attractions", "projects"] if "route" in path
        else ["admin", "basins", "rivers", "sections", "projects"])
    assert all(counts.get(lid, 0) > 0 for lid in wanted), counts
    # SVG paths for lines/polygons/points, cluster icons for the atlas's projects
    assert pg.locator("path.leaflet-interactive").count() > 20
    if path == "/":
        assert pg.locator(".atlas-cluster").count() > 0
        assert pg.locator("#atlas-provenance-body details").count() == len(CATALOG)
    if "route" in path:
        poll(pg, "window.atlas.stages && (window.atlas.stages.stages || window.atlas.stages.error)")
        poll(pg, "window.atlas.corridor")
    else:
        pg.wait_for_timeout(300)  # let the page's follow-up requests finish
    assert_clean(watch)


def test_atlas_toggle_search_and_english(page, live_server):
    pg, watch = page
    open_page(pg, live_server.url + "/")
    control = pg.locator(".leaflet-control-layers")
    rivers = control.locator("label", has_text="河流").locator("input")
    before = pg.locator("path.leaflet-interactive").count()
    rivers.uncheck()
    assert pg.evaluate("!window.atlas.map.hasLayer(window.atlas.layers.rivers.container)")
    assert pg.locator("path.leaflet-interactive").count() == before - pg.evaluate(
        "window.atlas.counts.rivers")
    rivers.check()
    assert pg.evaluate("window.atlas.map.hasLayer(window.atlas.layers.rivers.container)")
    # search by name (the server's index, GET /api/search) and jump to the hit
    pg.fill("#atlas-search-input", "二连浩特")
    hits = pg.locator("#atlas-search-results li.atlas-hit")
    hits.first.wait_for()
    hits.first.click()
    pg.wait_for_selector(".leaflet-popup-content .atlas-popup")
    # GCJ-02 basemap → overlays reloaded with datum=gcj02
    with pg.expect_request(lambda r: "datum=gcj02" in r.url):
        control.locator("label", has_text="高德").first.locator("input").check()
    # the English switch
    pg.click("#atlas-lang")
    open_page(pg, pg.url)
    assert "lang=en" in pg.url
    assert pg.locator(".leaflet-control-layers", has_text="Rivers").count() == 1
    assert pg.locator("#atlas-legend-body", has_text="Energy").count() == 1
    assert_clean(watch)


def test_feature_names_are_text_not_markup(browser, make_app):
    """A layer whose names are markup shows the text and runs nothing."""
    app = make_app()
    with app.app_context():
        from webmap.core.store import get_store

        gdf = gpd.GeoDataFrame({"name": [XSS, "plain"]},
                               geometry=[shapely.Point(116.0, 44.0), shapely.Point(116.5, 44.2)],
                               crs=4326)
        get_store().put("xss_sites", gdf, meta={"title": XSS})
    dialogs: list[str] = []
    with _Server(app) as server:
        context = browser.new_context(viewport={"width": 1280, "height": 800})

        def _route(route):
            host = urlparse(route.request.url).hostname
            if host == "127.0.0.1":
                return route.continue_()
            return route.fulfill(status=200, content_type="image/png", body=TILE_PNG)

        context.route("**/*", _route)
        pg = context.new_page()
        pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        try:
            open_page(pg, server.url + "/")
            assert pg.evaluate("window.atlas.counts.xss_sites") == 2
            pg.fill("#atlas-search-input", "onerror")
            hit = pg.locator("#atlas-search-results li.atlas-hit").first
            assert XSS in hit.inner_text()
            hit.click()
            # .last: a popup closed a moment ago may still be fading out (200 ms)
            popup = pg.locator(".leaflet-popup-content").last
            popup.wait_for()
            assert XSS in popup.inner_text()
            assert pg.locator(".leaflet-popup-content img").count() == 0
            assert pg.locator("#atlas-legend-body", has_text=XSS).count() == 1
            assert pg.locator(".leaflet-control-layers", has_text=XSS).count() == 1
            assert pg.locator("img[src='x']").count() == 0
            pg.wait_for_timeout(200)
        finally:
            context.close()
    assert dialogs == []


def test_stage_planner(page, live_server):
    pg, watch = page
    open_page(pg, live_server.url + "/route?max_km=250")
    stages = poll(pg, "window.atlas.stages && window.atlas.stages.stages")
    items = pg.locator("#atlas-stage-list li")
    assert items.count() == len(stages) >= 3
    assert all(s["length_km"] <= 250 + 1e-6 for s in stages)
    assert poll(pg, "window.atlas.counts.stages") == len(stages)
    assert poll(pg, "window.atlas.counts.km_posts") > 10
    # change max_km with the form
    pg.fill("#atlas-max-km", "400")
    pg.click("#atlas-stage-form button")
    pg.wait_for_selector("body[data-atlas-ready]", state="attached")
    assert "max_km=400" in pg.url
    fewer = poll(pg, "window.atlas.stages && window.atlas.stages.stages")
    assert len(fewer) < len(stages)
    assert_clean(watch)


def test_basin_picking_shows_chart_and_table(page, live_server):
    pg, watch = page
    open_page(pg, live_server.url + "/watershed")
    poll(pg, "document.querySelectorAll('#atlas-basin-select option').length > 3")
    zoom0 = pg.evaluate("window.atlas.map.getZoom()")
    pg.select_option("#atlas-basin-select", "xilin")
    summary = poll(pg, "window.atlas.summary && window.atlas.summary.basin === 'xilin' "
                       "&& window.atlas.summary")
    assert "stats" in summary, summary
    assert pg.evaluate("window.atlas.map.getZoom()") > zoom0
    rows = pg.locator("#atlas-basin-table tbody tr")
    assert rows.count() >= 2  # categories + total
    assert pg.evaluate("window.atlas.chart.data.labels.length") >= 1
    assert_clean(watch)


def test_upload_flow(page, live_server, tmp_path):
    pg, watch = page
    csv = tmp_path / "sites.csv"
    csv.write_text("名称,经度,纬度\n锡林浩特站,116.08,43.95\n多伦站,116.48,42.20\n"
                   "东乌站,116.97,45.52\n", encoding="utf-8")
    open_page(pg, live_server.url + "/watershed")
    pg.set_input_files("#atlas-upload-file", str(csv))
    pg.select_option("#atlas-upload-datum", "wgs84")
    pg.click("#atlas-upload-submit")
    result = poll(pg, "window.atlas.upload && !window.atlas.upload.running && window.atlas.upload")
    assert result.get("count") == 3, result
    assert pg.locator("#atlas-sites-table tbody tr").count() == 3
    assert pg.locator("#atlas-sites-table", has_text="锡林浩特站").count() == 1
    assert poll(pg, "window.atlas.counts.upload") == 3
    for fmt in ("csv", "geojson"):  # streamed by the server, not built from the rows
        assert pg.get_attribute(f"#atlas-download-{fmt}", "href").endswith(
            f"/api/overlay?format={fmt}")
    assert pg.locator("#atlas-upload-downloads").is_visible()
    # filters hide projects by category
    before = pg.evaluate("window.atlas.counts.projects_shown")
    pg.uncheck("#atlas-filter-form input[value='energy']")
    assert pg.evaluate("window.atlas.counts.projects_shown") < before
    assert_clean(watch)
