"""An injected script does not run: the pages' CSP lets only the server's own scripts run.

Escaping is the first line of defence (tests/test_browser.py, tests/test_bad_input.py);
the Content-Security-Policy is the second, and it must hold when the first fails.  So
each user-controlled field that reaches a page — a layer's title and description, a
feature's properties, the query string — carries a script, and the escaping is then
broken on purpose (the JSON written into the page's scripts no longer escapes ``<``; a
feature property inserted as HTML; markup appended to every HTML answer).  Chromium
must refuse every injected script and handler (a ``securitypolicyviolation`` event
quoting it: the policy asks for ``'report-sample'``) and run none of them, while the
page's own scripts still draw the map.

Payloads use no character that JSON escapes (no quotes, no backslash), so a script
that broke out would be valid JavaScript: under the former policy, which hashed every
inline script found in the body, it would have run.
"""

from __future__ import annotations

import gzip
import json
import urllib.parse

import pytest
from flask import Response

from tests.conftest import LiveServer
from tools.browser import TILE_PNG

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

#: Breaks out of a <script> block if "<" is not escaped: marks window.__ran_<field>.
BREAKOUT = "</script><script>window.__ran_{0}=1</script>"
#: Runs if inserted as HTML and inline handlers were allowed.
HANDLER = "<img src=x onerror=window.__ran_{0}=1>"

WATCH = ("window.__csp = [];"
         "document.addEventListener('securitypolicyviolation', function (e) {"
         "  window.__csp.push({directive: e.effectiveDirective, sample: e.sample}); });")


def _unescaped_json(value) -> str:
    """:func:`webmap.pages.maps.base.safe_json` without its escaping: the bug simulated."""
    return json.dumps(value, ensure_ascii=False)


def _geojson(props: dict) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props,
         "geometry": {"type": "Point", "coordinates": [116.1, 43.9]}}]}).encode()


@pytest.fixture()
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})

    def route(r):
        if urllib.parse.urlparse(r.request.url).hostname in ("127.0.0.1", "localhost"):
            return r.continue_()
        return r.fulfill(status=200, content_type="image/png", body=TILE_PNG)

    ctx.route("**/*", route)
    ctx.add_init_script(WATCH)
    yield ctx
    ctx.close()


def _visit(ctx, url: str, ready: bool = True):
    pg = ctx.new_page()
    pg.goto(url)
    if ready:
        pg.wait_for_selector("body[data-atlas-ready]", state="attached", timeout=30_000)
    else:
        pg.wait_for_load_state("load")
    pg.wait_for_timeout(200)  # let late violation events arrive
    return pg


def _ran(pg) -> list[str]:
    return pg.evaluate("Object.keys(window).filter(function (k) {"
                       " return k.indexOf('__ran_') === 0; })")


def _blocked(pg) -> dict[str, str]:
    """Blocked script samples → the directive that blocked them."""
    return {v["sample"]: v["directive"] for v in pg.evaluate("window.__csp")}


def _save_poisoned_layer(app, token: str) -> None:
    props = {"name": HANDLER.format("prop"), "note": BREAKOUT.format("note")}
    resp = app.test_client().put(
        "/api/layers/poisoned?" + urllib.parse.urlencode(
            {"title": BREAKOUT.format("title"), "description": BREAKOUT.format("desc")}),
        data=_geojson(props), content_type="application/geo+json",
        headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 201, resp.data


def test_payloads_in_every_field_stay_text_while_escaping_holds(context, wapp, token):
    _save_poisoned_layer(wapp, token)
    with LiveServer(wapp) as server:
        for path in ("/", "/?lang=en", "/watershed?basin=" + urllib.parse.quote(
                BREAKOUT.format("query")), "/route?max_km=" + urllib.parse.quote(
                BREAKOUT.format("km"))):
            pg = _visit(context, server.url + path)
            assert _ran(pg) == [] and _blocked(pg) == {}, path  # nothing became markup
            pg.close()


def test_an_injected_script_is_blocked_when_escaping_fails(context, make_app, token,
                                                           monkeypatch):
    monkeypatch.setattr("webmap.pages.maps.base.safe_json", _unescaped_json)
    monkeypatch.setattr("webmap.pages.map_pages.safe_json", _unescaped_json)
    app = make_app(ATLAS_WRITE_TOKEN=token)
    _save_poisoned_layer(app, token)
    with LiveServer(app) as server:
        # the layer's title and description break out of the boot script (the layer list
        # it carries); the query string out of the page's configuration script.  Both of
        # the server's scripts are cut short, so the map does not start: what matters
        # here is that nothing injected runs.
        pg = _visit(context, server.url + "/watershed?basin=" + urllib.parse.quote(
            BREAKOUT.format("query")), ready=False)
        blocked = _blocked(pg)
        for field in ("title", "desc", "query"):
            sample = f"window.__ran_{field}=1"
            assert blocked.get(sample) == "script-src-elem", (field, blocked)
        assert _ran(pg) == []
        assert pg.evaluate("typeof L") == "object"  # the page's own script files did run
        # a feature property inserted as HTML (as a careless popup would): its handler
        # is an inline script too, and no nonce can allow a handler
        prop = pg.evaluate("""() => fetch('/api/layers/poisoned/features?zoom=8')
            .then(r => r.json()).then(fc => {
              const div = document.createElement('div');
              div.innerHTML = fc.features[0].properties.name;
              document.body.appendChild(div);
              return fc.features[0].properties.name; })""")
        assert prop == HANDLER.format("prop")
        pg.wait_for_timeout(300)  # the image fails to load, the handler is refused
        assert _blocked(pg).get("window.__ran_prop=1") == "script-src-attr"
        assert _ran(pg) == []
        pg.close()


def test_markup_injected_into_any_html_answer_runs_nothing(context, make_app):
    """Whatever the page: the map pages, the OGC API's HTML — a script and a handler
    appended to the body are refused."""
    app = make_app()

    @app.after_request
    def inject(resp: Response) -> Response:  # a template that forgot to escape, anywhere
        if resp.mimetype == "text/html" and resp.status_code == 200:
            zipped = resp.headers.get("Content-Encoding") == "gzip"
            body = gzip.decompress(resp.get_data()) if zipped else resp.get_data()
            body = body.replace(b"</body>", (BREAKOUT.format("body")[9:]
                                             + HANDLER.format("img")).encode() + b"</body>", 1)
            resp.set_data(gzip.compress(body) if zipped else body)
        return resp

    # after_request hooks run last-registered first: security headers are added after
    # the injection, as they would be for a page that carried the markup itself
    with LiveServer(app) as server:
        for path, ready in (("/", True), ("/route", True), ("/ogcapi?f=html", False),
                            ("/ogcapi/collections/projects/items?f=html&limit=2", False)):
            pg = _visit(context, server.url + path, ready)
            blocked = _blocked(pg)
            assert blocked.get("window.__ran_body=1") == "script-src-elem", (path, blocked)
            assert blocked.get("window.__ran_img=1") == "script-src-attr", (path, blocked)
            assert _ran(pg) == []
            pg.close()
