"""The /data page (数据管理 / Data): a newcomer replaces the project registry with a spreadsheet
and the basins with a shapefile, sees the maps use them, and goes back — in Chromium, on a
live server with writes enabled, tiles stubbed, nothing loaded from outside.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from layers.catalog import CATALOG
from tests import ingest_fixtures as fx
from tests import reference_flows as rf
from tests.conftest import LiveServer, PageWatch, _is_tile
from tests.test_browser import assert_clean
from tests.test_browser import poll as _poll
from tools.browser import TILE_PNG


def test_data_page_is_a_plain_shell_in_both_languages(client):
    r = client.get("/data")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["Content-Language"] == "zh-CN"
    assert "<h1>数据管理：用本单位的数据替换参考图层</h1>" in html
    assert " on" + "click=" not in html and "javascript:" not in html  # no inline handlers
    # Every control has a label; the page loads the app's own files only.
    for control in ("data-token", "data-file", "data-mode", "data-source", "data-crs"):
        assert f'<label for="{control}">' in html
    assert "https://" not in html.split("atlas-data-config")[0]
    en = client.get("/data?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in en and ">Data</a>" in en and "Write token" in en
    # Every page links to it from the header.
    for path in ("/", "/route", "/watershed"):
        assert 'href="/data">数据管理</a>' in client.get(path).get_data(as_text=True)


def _served(browser, server, offline: bool = False, **context_options):
    """A page on ``server``: tiles stubbed (or, ``offline``, refused like everything else
    from outside), outside requests recorded, dialogs accepted."""
    options = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN", **context_options}
    context = browser.new_context(**options)
    pg = context.new_page()
    watch = PageWatch()

    def _route(route):
        url = route.request.url
        host = urlparse(url).hostname or ""
        if host in ("127.0.0.1", "localhost") or url.startswith(("data:", "blob:")):
            return route.continue_()
        if _is_tile(url):
            watch.tile_requests.append(url)
            if not offline:
                return route.fulfill(status=200, content_type="image/png", body=TILE_PNG)
            return route.abort("internetdisconnected")
        watch.outside_requests.append(url)
        return route.abort()

    context.route("**/*", _route)
    pg.on("console", lambda m: m.type == "error" and watch.console_errors.append(m.text))
    pg.on("pageerror", lambda e: watch.page_errors.append(str(e)))
    pg.on("dialog", lambda d: d.accept())  # restore/delete confirmations
    return context, pg, watch


@pytest.fixture()
def writer(browser, make_app, token):
    """A page on a live server whose writes are enabled (token known to the test)."""
    app = make_app(ATLAS_WRITE_TOKEN=token)
    with LiveServer(app) as server:
        context, pg, watch = _served(browser, server)
        yield pg, watch, server
        context.close()


def poll(pg, expr: str, timeout: float = 60.0):
    """Wait for a condition, generously: CI runs two browser tests on two loaded cores."""
    return _poll(pg, expr, timeout)


def _open_map(pg, url: str) -> None:
    pg.goto(url)
    pg.wait_for_selector("body[data-atlas-ready]", state="attached", timeout=60_000)


def _open_data(pg, server, query: str = "") -> None:
    pg.goto(server.url + "/data" + query)
    pg.wait_for_selector("body[data-atlas-ready]", state="attached", timeout=60_000)


def _preview(pg) -> str:
    pg.click("#data-preview")
    poll(pg, "!/正在读取/.test(document.getElementById('data-status').textContent) && "
             "document.getElementById('data-status').textContent.length > 0", 60)
    return pg.inner_text("#data-status")


def _markers(pg) -> tuple[int, int]:
    """(all, red) shapes drawn on the preview map."""
    return tuple(pg.evaluate("""() => {
        const all = document.querySelectorAll('#data-map path.leaflet-interactive');
        const red = Array.from(all).filter(p => p.getAttribute('stroke') === '#c0392b');
        return [all.length, red.length]; }"""))


def _totals(pg) -> dict[tuple[str, str, str], float]:
    """(split, code, figure) → the new data's figure, read off the preview's totals table."""
    cells = pg.evaluate("""() => Array.from(document.querySelectorAll(
        '#data-totals tbody tr[data-key]')).map(tr => [tr.parentNode.dataset.split,
        tr.dataset.code || '', tr.dataset.key, tr.cells[1].textContent])""")
    return {(s, c, k): float(v.replace(",", "")) for s, c, k, v in cells if v}


def _row_version(pg, layer: str) -> str:
    return pg.inner_text(f"#data-layers tr[data-layer={layer}] .atlas-version")


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_newcomer_replaces_registry_and_basins_then_goes_back(writer, token, tmp_path):
    pg, watch, server = writer
    registry = tmp_path / "2024年重大项目台账.xlsx"
    registry.write_bytes(fx.registry_xlsx("万元", projects=rf.edited_registry()))
    basins = tmp_path / "流域界线.zip"
    basins.write_bytes(fx.basins_shapefile_zip(prj=False, basins=rf.edited_basins()))
    bad = tmp_path / "新项目.csv"
    bad.write_text("项目名称,旗县市区,类别,总投资(亿元),2023年计划投资(亿元),经度,纬度\n"
                   "甲风电,多伦县,能源,1,0.5,116.4,42.2\n乙项目,多伦县,不存在的类别,1,0.5,116.5,42.1\n",
                   encoding="utf-8")

    _open_data(pg, server)
    assert pg.locator("#data-layers tbody tr").count() == len(CATALOG)
    assert _row_version(pg, "projects") == "v1 (内置)"
    # Every control can be reached and named: a label, or an aria-label.
    unnamed = pg.evaluate("""() => Array.from(document.querySelectorAll(
        'main input, main select, main button')).filter(e => !e.hidden && !(e.labels &&
        e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim()).map(e => e.id)""")
    assert unnamed == []

    # The write token, typed with the keyboard, kept for this tab only.
    pg.get_by_label("写入密钥（仅保存在本浏览器标签页）").fill(token)
    pg.keyboard.press("Enter")
    assert "已设置写入密钥" in pg.inner_text("#data-token-state")
    assert pg.evaluate("sessionStorage.getItem('atlasWriteToken')") == token
    assert pg.evaluate("localStorage.length") == 0

    # The registry: preview, mapping as drop-downs, the map, then save.
    pg.get_by_role("button", name="替换图层 · 2023年重大项目").click()
    pg.set_input_files("#data-file", str(registry))
    pg.fill("#data-source", "盟发改委 2024年台账")
    pg.fill("#data-licence", "内部资料，经盟发改委同意使用")
    pg.fill("#data-date", "2024-03")
    assert "没有错误" in _preview(pg)
    assert pg.input_value("#data-map-total_investment_yi") == "总投资（万元）"
    assert pg.input_value("#data-map-id") == "序号"
    assert _markers(pg) == (140, 0)
    # The totals beside the current version and the article, as pandas computes them.
    edited = rf.edited_registry()
    want = rf.registry_totals(edited)
    got = _totals(pg)
    for key in ("count", "total_investment_yi", "plan_2023_yi", "permits_complete"):
        assert got["total", "", key] == pytest.approx(want[key], abs=0.006), key
    for split, column in (("by_category", "category"), ("by_status", "status"),
                          ("by_investor", "investor")):
        by = edited.groupby(column)["plan_2023_yi"].agg(["size", "sum"])
        for code, (size, plan) in by.iterrows():
            assert got[split, code, "count"] == size, (split, code)
            assert got[split, code, "plan_2023_yi"] == pytest.approx(plan, abs=0.006)
    assert "删除 10" in pg.inner_text("#data-diff")
    # Change a drop-down: the ids are generated instead, the diff says so; then back.
    pg.select_option("#data-map-id", "")
    assert pg.is_disabled("#data-commit")
    _preview(pg)
    assert "删除 150" in pg.inner_text("#data-diff")
    pg.select_option("#data-map-id", "序号")
    _preview(pg)
    assert "删除 10" in pg.inner_text("#data-diff") and not pg.is_disabled("#data-commit")
    pg.click("#data-commit")
    poll(pg, "/已保存为第 2 版/.test(document.getElementById('data-status').textContent)", 60)
    poll(pg, "document.querySelector('#data-layers tr[data-layer=projects] .atlas-version')"
             ".textContent === 'v2'")
    assert pg.locator("#data-versions tbody tr.atlas-current th").inner_text() == "v2 · 当前"
    # Each version's provenance: what the form said, and the file it came from.
    prov_v2 = pg.inner_text("#data-versions tbody tr.atlas-current .atlas-provenance")
    for text in ("盟发改委 2024年台账", "许可：内部资料，经盟发改委同意使用", "日期：2024-03",
                 f"文件：{registry.name}"):
        assert text in prov_v2, (text, prov_v2)
    assert "2024-03" not in pg.inner_text("#data-versions tbody tr[data-version='1']")
    # Any version downloads in the export formats: the built-in one as a GeoPackage (SQLite).
    href = pg.get_attribute("#data-versions a[aria-label='下载 v1 · GeoPackage']", "href")
    got = pg.request.get(server.url + href)
    assert got.status == 200 and got.body()[:16] == b"SQLite format 3\x00"

    # The atlas shows the 140 projects at once, and the provenance panel says whose they are.
    _open_map(pg, server.url + "/")
    assert poll(pg, "window.atlas.counts.projects") == 140
    prov = pg.text_content("#atlas-provenance-body details[data-layer=projects]")
    assert "盟发改委 2024年台账" in prov and "v2" in prov

    # The basins: without the .prj the page says which CRS to give; with it, saved.
    _open_data(pg, server)
    pg.get_by_role("button", name="替换图层 · 流域").click()
    pg.set_input_files("#data-file", str(basins))
    status = _preview(pg)
    assert "4548" in status
    pg.fill("#data-crs", "EPSG:4548")
    pg.fill("#data-source", "盟水利局 流域界线")
    assert "没有错误" in _preview(pg)
    pg.click("#data-commit")
    poll(pg, "/已保存为第 2 版/.test(document.getElementById('data-status').textContent)", 60)

    # The watershed page draws the new Xilin basin, which now reaches 45°N.
    _open_map(pg, server.url + "/watershed")
    north = poll(pg, """(() => { let n = 0; window.atlas.map.eachLayer(l => {
        if (l.feature && l.feature.properties && l.feature.properties.id === 'xilin' && l.getBounds)
            n = Math.max(n, l.getBounds().getNorth()); }); return n; })()""")
    assert north > 44.95

    # A file with a bad row: the row is red on the map, the error is listed, no save.
    _open_data(pg, server)
    pg.get_by_role("button", name="替换图层 · 2023年重大项目").click()
    pg.set_input_files("#data-file", str(bad))
    assert "错误" in _preview(pg)
    assert _markers(pg) == (2, 1)
    assert "不存在的类别" in pg.inner_text("#data-errors")
    assert pg.is_disabled("#data-commit")

    # Going back: restore version 1 of both from the history.
    for title in ("流域", "2023年重大项目"):
        pg.get_by_role("button", name=f"版本历史 · {title}").click()
        pg.wait_for_selector("#data-versions tbody tr[data-version='1']")
        pg.get_by_role("button", name="恢复 v1").click()
        poll(pg, "/已恢复：现为第 3 版/.test(document.getElementById('data-history-status')"
                 ".textContent)")
    _open_map(pg, server.url + "/")
    assert poll(pg, "window.atlas.counts.projects") == 150
    # The one console error is Chromium logging the refused shapefile's 422 (shown to the user).
    assert len(watch.console_errors) == 1 and "422" in watch.console_errors[0]
    watch.console_errors.clear()
    assert_clean(watch)


# axe-core, served to the test from the app's vendored copy (never a CDN): the serious and
# critical violations of the page as it stands.
_AXE = """axe.run(document, {resultTypes: ['violations']}).then(r => r.violations
    .filter(v => v.impact === 'critical' || v.impact === 'serious')
    .map(v => [v.impact, v.id, v.nodes.slice(0, 3).map(n => n.target.join(' '))]))"""
_SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
_QUERY = "Object.fromEntries(new URLSearchParams(location.search))"


def _axe(pg) -> list:
    pg.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    return pg.evaluate(_AXE)


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_data_page_on_a_phone_offline_by_keyboard_with_its_state_in_the_url(
        browser, make_app, token, tmp_path):
    """At 390×844 with touch and no internet (the basemap's tiles refused): the history and
    the replace form open from the URL, survive a reload and the language switch, are
    reached with the keyboard alone, the page never scrolls sideways, and axe-core finds
    no critical or serious violation, in both languages."""
    # The stations as the tourism bureau keeps them (DMS, GBK), one row mistyped.
    stations = tmp_path / "驿站.csv"
    stations.write_bytes(fx.stations_csv_dms() + "st_bad,错位驿站,106°00′00.00″E,43°00′00.00″N,休憩\r\n"
                         .encode("gbk"))
    n_stations = len(fx.reference("stations"))
    with LiveServer(make_app(ATLAS_WRITE_TOKEN=token)) as server:
        # axe-core compiles its rule templates with `new Function`, which the CSP forbids:
        # this context bypasses the CSP (the page itself never evaluates code).
        context, pg, watch = _served(browser, server, offline=True, bypass_csp=True,
                                     viewport={"width": 390, "height": 844}, has_touch=True,
                                     is_mobile=True, device_scale_factor=2)
        try:
            # A link to a layer's history opens it, with nothing else open.
            _open_data(pg, server, "?layer=basins&view=history")
            poll(pg, "document.querySelector('#data-versions tbody tr[data-version=\"1\"]')")
            assert pg.is_hidden("#data-replace") and pg.is_visible("#data-history")
            assert "流域" in pg.inner_text("#data-history-h")
            assert pg.evaluate(_SIDEWAYS) == 0
            assert _axe(pg) == []

            # The keyboard alone: the skip link first, then on to the registry's replace
            # button (bounded), Enter opens its form with the file field focused.
            pg.evaluate("document.activeElement && document.activeElement.blur()")
            pg.keyboard.press("Tab")
            assert pg.evaluate("document.activeElement.className") == "atlas-skip"
            pg.keyboard.press("Enter")
            assert poll(pg, "document.activeElement.id") == "data-main"
            want = "替换图层 · 2023年重大项目"
            for _ in range(60):
                pg.keyboard.press("Tab")
                if pg.evaluate("document.activeElement.getAttribute('aria-label')") == want:
                    break
            else:
                raise AssertionError(f"Tab never reached {want!r}")
            pg.keyboard.press("Enter")
            assert poll(pg, "document.activeElement.id") == "data-file"
            assert pg.evaluate(_QUERY) == {"layer": "projects", "view": "replace"}
            assert pg.is_visible("#data-replace") and pg.evaluate(_SIDEWAYS) == 0

            # The token and a preview, on the phone, offline: the bad row is red on the map
            # and named in the list; the page still does not scroll sideways.
            pg.fill("#data-token", token)
            pg.keyboard.press("Enter")
            pg.get_by_role("button", name="替换图层 · 驿站").click()
            assert pg.evaluate(_QUERY) == {"layer": "stations", "view": "replace"}
            pg.set_input_files("#data-file", str(stations))
            assert "错误" in _preview(pg)
            assert _markers(pg) == (n_stations + 1, 1)  # 106°E is far west of the League
            # The error names the row as the file numbers it (the header is line 1).
            assert f"第{n_stations + 2}行" in pg.inner_text("#data-errors")
            assert pg.evaluate(_SIDEWAYS) == 0
            assert _axe(pg) == []

            # A reload keeps the state; the language switch carries it into English.
            pg.reload()
            pg.wait_for_selector("body[data-atlas-ready]", state="attached", timeout=60_000)
            poll(pg, "!document.getElementById('data-replace').hidden")
            assert "驿站" in pg.inner_text("#data-replace-h")
            pg.click("#atlas-lang")
            pg.wait_for_selector("body[data-atlas-ready]", state="attached", timeout=60_000)
            assert pg.evaluate(_QUERY) == {"layer": "stations", "view": "replace", "lang": "en"}
            poll(pg, "!document.getElementById('data-replace').hidden")
            assert pg.evaluate("document.documentElement.lang") == "en"
            assert "Replace" in pg.inner_text("#data-replace-h")
            assert pg.evaluate(_SIDEWAYS) == 0
            assert _axe(pg) == []
            # Cancel leaves the layer's history open, and the URL says so; back to Chinese.
            pg.click("#data-cancel")
            assert pg.evaluate(_QUERY) == {"layer": "stations", "view": "history", "lang": "en"}
            assert pg.get_attribute("#atlas-lang", "href") == "/data?layer=stations&view=history"
            pg.click("#atlas-lang")
            pg.wait_for_selector("body[data-atlas-ready]", state="attached", timeout=60_000)
            poll(pg, "!document.getElementById('data-history').hidden")
            assert pg.is_hidden("#data-replace") and pg.evaluate(_SIDEWAYS) == 0
            assert _axe(pg) == []
        finally:
            context.close()
    # Offline: the basemap's tiles were asked for and refused, nothing else left the machine,
    # and the only console errors are those refusals.
    assert watch.outside_requests == [] and watch.page_errors == []
    assert all("ERR_INTERNET_DISCONNECTED" in e or "Failed to load resource" in e
               for e in watch.console_errors), watch.console_errors
