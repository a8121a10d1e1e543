"""The pages' head start: layer list in the page, default layers' features prefetched once.

Through the test client (what the page carries) and in Chromium (what it requests).
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlparse

import pytest

from layers.catalog import CATALOG
from webmap.pages.map_pages import MAX_INLINE_CATALOG

BOOT_RE = re.compile(r"<script[^>]*>\(function \(boot\).*?\}\)\((\{.*?\})\);\s*</script>", re.DOTALL)


def _boot(html: str) -> dict:
    m = BOOT_RE.search(html)
    assert m, "the boot script is missing"
    return json.loads(m.group(1))


@pytest.mark.parametrize("path", ["/", "/route", "/watershed", "/?lang=en"])
def test_page_carries_layer_list_and_first_layers(client, path):
    resp = client.get(path)
    html = resp.get_data(as_text=True)
    assert len(resp.data) <= 150 * 1024
    # The boot script comes before every script and style sheet the page loads.
    head = html[:html.index("</head>")]
    assert head.index("window.atlasBoot") < head.index("<script src=")
    assert head.index("window.atlasBoot") < head.index('rel="stylesheet"')
    boot = _boot(html)
    listing = client.get("/api/layers" + ("?lang=en" if "lang=en" in path else "")).json
    assert boot["catalog"] == listing
    assert boot["lang"] == ("en" if "lang=en" in path else "zh")
    urls = [u for u, _ in boot["layers"]]
    assert urls and all(re.fullmatch(r"/api/layers/[a-z_]+/features\?v=[0-9a-f]{10}", u)
                        for u in urls), urls
    if path.startswith("/?") or path == "/":
        assert len(urls) == sum(1 for s in CATALOG if s.default_visible)


def test_large_layer_list_is_not_inlined(make_app, monkeypatch):
    monkeypatch.setattr("webmap.pages.map_pages.MAX_INLINE_CATALOG", 100)
    boot = _boot(make_app().test_client().get("/").get_data(as_text=True))
    assert boot["catalog"] is None and boot["layers"]
    assert MAX_INLINE_CATALOG >= 32 * 1024


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
@pytest.mark.parametrize("path", ["/", "/route", "/watershed"])
def test_features_are_fetched_once_without_layer_list_request(page, live_server, path):
    pg, watch = page
    seen: list[str] = []
    pg.on("request", lambda r: urlparse(r.url).path.startswith("/api/")
          and seen.append(urlparse(r.url).path + "?" + urlparse(r.url).query))
    pg.goto(live_server.url + path)
    pg.wait_for_selector("body[data-atlas-ready]", state="attached", timeout=20_000)
    counts = pg.evaluate("window.atlas.counts")
    features = [u for u in seen if "/features" in u]
    assert not [u for u in seen if u.startswith("/api/layers?")], seen
    # Every prefetched download was taken by the loader (the zoom was guessed right) …
    assert pg.evaluate("Object.keys(window.atlasBoot.prefetched)") == []
    if path == "/":  # … and not fetched again (the other pages then zoom to their subject)
        assert len(features) == len(set(features)), features
    assert all(counts.get(u.split("/")[3], 0) > 0 for u in features), (features, counts)
    assert watch.page_errors == [] and watch.console_errors == []
