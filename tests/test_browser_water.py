"""The watershed page's water quality (issue 14) in Debian's Chromium: the sections coloured by
their latest GB 3838-2002 class, a failing section's chart, items and upstream projects, in
both languages, on a phone, by keyboard, with axe-core, kept in the URL, offline.

Expected values come from the committed stand-in samples (``data/xilingol/wq_samples.geojson``)
classified here with GB 3838-2002 Table 1's limits written out by hand (the rows of
``../shared/reference/GB3838-2002-table1.md`` the stand-in year reaches), and from the
sections API, whose answers ``tests/test_sections_api.py`` and ``tests/test_upstream.py``
check independently.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.test_browser import TILE_PNG, assert_clean, open_page, poll

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "xilingol" / "wq_samples.geojson"
FAILING = "sec_xilinhe_xilinhot"
#: GB 3838-2002 Table 1, classes Ⅰ–Ⅴ (upper limits; DO lower limits), the items that
#: class a river and that the stand-in year reaches beyond class Ⅰ.
TABLE_1 = {
    "do": (7.5, 6, 5, 3, 2), "codmn": (2, 4, 6, 10, 15), "cod": (15, 15, 20, 30, 40),
    "bod5": (3, 3, 4, 6, 10), "nh3_n": (0.15, 0.5, 1.0, 1.5, 2.0),
    "tp": (0.02, 0.1, 0.2, 0.3, 0.4), "fluoride": (1.0, 1.0, 1.0, 1.5, 1.5),
    "copper": (0.01, 1.0, 1.0, 1.0, 1.0), "zinc": (0.05, 1.0, 1.0, 2.0, 2.0),
    "arsenic": (0.05, 0.05, 0.05, 0.1, 0.1), "petroleum": (0.05, 0.05, 0.05, 0.5, 1.0),
    "sulfide": (0.05, 0.1, 0.2, 0.5, 1.0), "phenols": (0.002, 0.002, 0.005, 0.01, 0.1),
    "lead": (0.01, 0.01, 0.05, 0.05, 0.1),
}
#: Conventional colours (地表水环境质量评价办法): Ⅰ–Ⅱ blue, Ⅲ green, Ⅳ yellow, Ⅴ orange, 劣Ⅴ red.
COLOURS = {1: "#5bc0f8", 2: "#1f5fbf", 3: "#2ca02c", 4: "#f2c500", 5: "#ff7f0e", 6: "#d62728"}
LABEL_EN = {1: "Class I", 2: "Class II", 3: "Class III", 4: "Class IV", 5: "Class V",
            6: "Worse than class V"}
LABEL_ZH = {1: "Ⅰ类", 2: "Ⅱ类", 3: "Ⅲ类", 4: "Ⅳ类", 5: "Ⅴ类", 6: "劣Ⅴ类"}


def _item_class(name: str, value: float) -> int:
    limits = TABLE_1[name]
    for cls, lim in enumerate(limits, start=1):
        if (value >= lim) if name == "do" else (value <= lim):
            return cls
    return 6


def _sample_class(props: dict) -> int:
    worst = 1
    for name in TABLE_1:
        v = props.get(name)
        if v is None or props.get(name + "_lt"):
            continue  # below detection meets class Ⅰ
        worst = max(worst, _item_class(name, float(v)))
    ph = props.get("ph")
    if ph is not None and not 6 <= ph <= 9:
        worst = 6
    return worst


def _latest_by_section() -> dict[str, tuple[str, int]]:
    fc = json.loads(SAMPLES.read_text(encoding="utf-8"))
    out: dict[str, tuple[str, int]] = {}
    for f in fc["features"]:
        p = f["properties"]
        sid, day = p["section_id"], p["sampled_on"]
        if sid not in out or day > out[sid][0]:
            out[sid] = (day, _sample_class(p))
    return out


def _year_samples(section_id: str) -> list[tuple[str, int, dict]]:
    fc = json.loads(SAMPLES.read_text(encoding="utf-8"))
    rows = [(f["properties"]["sampled_on"], _sample_class(f["properties"]), f["properties"])
            for f in fc["features"] if f["properties"]["section_id"] == section_id]
    return sorted(rows, key=lambda r: r[0])


_MARKERS = """Object.fromEntries(window.atlas.layers.sections.leaflet.map(l =>
    [l.feature.properties.id, l.options.fillColor]))"""
_ITEMS = """Array.from(document.querySelectorAll('#atlas-wq-items tbody tr')).map(r =>
    [r.getAttribute('data-item'), r.classList.contains('atlas-wq-over'),
     r.children[2].textContent, r.children[3].textContent])"""
_PROJECTS = """Array.from(document.querySelectorAll('#atlas-wq-projects tbody tr'))
    .map(r => r.getAttribute('data-project'))"""


def _loaded(pg, section: str) -> dict:
    return poll(pg, f"window.atlas.water && window.atlas.water.section === '{section}' "
                    "&& window.atlas.water.quality && window.atlas.water.upstream "
                    "&& window.atlas.water.quality.section_id", timeout=30)


def test_failing_section_shows_its_classes_items_and_upstream_projects(page, live_server):
    """A link to the failing Xilin section opens it: the map's sections in the colours of
    their latest class, the chart's twelve samples on class bands with the Ⅳ target as a
    line, the ammonia exceedance in the items, and every project upstream listed."""
    pg, watch = page
    open_page(pg, live_server.url + f"/watershed?section={FAILING}")
    assert _loaded(pg, FAILING) == FAILING
    latest = _latest_by_section()
    markers = poll(pg, f"(() => {{ const m = {_MARKERS}; "
                       f"return Object.values(m).every(c => c && c !== '#ffffff') && m; }})()")
    assert markers == {sid: COLOURS[cls] for sid, (_, cls) in latest.items()}
    assert latest[FAILING][1] == 6  # the stand-in year ends under the ice at 劣Ⅴ

    # the sections' table: one row per section, the failing one marked
    rows = pg.locator("#atlas-wq-sections tbody tr")
    assert rows.count() == 4
    missed = pg.locator("#atlas-wq-sections tbody tr.atlas-wq-missed")
    assert missed.count() == 1 and missed.get_attribute("data-section") == FAILING
    assert pg.locator(f"#atlas-wq-sections tr[data-section={FAILING}] button")\
        .get_attribute("aria-pressed") == "true"

    # the chart: each sample's class as classified by hand, the target (Ⅳ) as a line
    year = _year_samples(FAILING)
    chart = pg.evaluate("""(() => { const c = window.atlas.water.chart;
        return {labels: c.data.labels, classes: c.data.datasets[0].data,
                colours: c.data.datasets[0].pointBackgroundColor,
                target: c.data.datasets[1].data, targetLabel: c.data.datasets[1].label,
                ticks: c.scales.y.ticks.map(t => c.scales.y.getLabelForValue(t.value)),
                bands: c.config.plugins.map(p => p.id),
                alt: c.canvas.getAttribute('aria-label')}; })()""")
    assert chart["labels"] == [d for d, _, _ in year]
    assert chart["classes"] == [c for _, c, _ in year]
    assert chart["colours"] == [COLOURS[c] for _, c, _ in year]
    assert set(chart["target"]) == {4.5} and chart["targetLabel"] == "目标 Ⅳ类"
    assert "atlasWqBands" in chart["bands"] and "Ⅳ类" in chart["alt"]
    # one sample a month in the stand-in year: the months missing Ⅳ are those samples'
    missed = pg.locator("#atlas-wq-missed li").all_inner_texts()
    assert [m[:7] for m in missed] == [d[:7] for d, c, _ in year if c > 4]
    assert all("氨氮" in m for m in missed)
    assert pg.locator("#atlas-wq-chart").bounding_box()["height"] > 100

    # the items of the latest sample against the Ⅳ limits: ammonia exceeds, by the multiple
    # (C − limit) / limit computed here
    day, cls, props = year[-1]
    items = {name: (over, limit, words) for name, over, limit, words in pg.evaluate(_ITEMS)}
    assert items["nh3_n"][0] is True and items["nh3_n"][1] == "≤ 1.5 mg/L"
    multiple = (props["nh3_n"] - 1.5) / 1.5
    assert f"超标 {float(f'{multiple:.3g}')} 倍" in items["nh3_n"][2] or \
        f"超标 {round(multiple, 3)}" in items["nh3_n"][2]
    assert items["do"][1] == "≥ 3 mg/L" and items["ph"][1] == "6–9"
    assert items["tn"][0] is False and "不参评" in items["tn"][2]
    over = {name for name, (o, _, _) in items.items() if o}
    assert over == {n for n in TABLE_1 if props.get(n) is not None and not props.get(n + "_lt")
                    and _item_class(n, props[n]) > 4}

    # the projects upstream beside the chart: all of them, as the API lists them
    up = pg.evaluate(f"fetch('/api/sections/{FAILING}/upstream').then(r => r.json())")
    listed = pg.evaluate(_PROJECTS)
    assert sorted(listed) == sorted(p["id"] for p in up["projects"]) and len(listed) >= 10
    assert pg.locator("#atlas-wq-upstream").is_visible()
    totals = pg.inner_text("#atlas-wq-upstream-totals")
    assert f"{up['totals']['count']} 个项目" in totals
    assert f"{up['totals']['total_investment_yi']:.2f}" in totals

    # a project's button shows it on the map
    first = listed[0]
    pg.click(f"#atlas-wq-projects tr[data-project={first}] button")
    assert poll(pg, "window.atlas.water.shownProject") == first
    assert poll(pg, "document.querySelector('.leaflet-popup-content') && "
                    "document.querySelector('.leaflet-popup-content').textContent")
    assert_clean(watch)


def test_english_keyboard_and_the_url(page, live_server):
    """In English, by keyboard only: the sections' buttons pick a section, the focus moves
    to its heading, the URL and the language link carry it, and a reload reopens it; a
    section meeting its target shows no upstream list."""
    pg, watch = page
    open_page(pg, live_server.url + "/watershed?lang=en")
    poll(pg, "window.atlas.water && window.atlas.water.summary")
    assert pg.locator("#atlas-water-h").inner_text() == "Water quality at the national sections"
    head = pg.locator("#atlas-wq-sections thead th").all_inner_texts()
    assert head == ["Section", "Annual", "Months meeting", "Latest"]
    latest = _latest_by_section()
    cells = pg.evaluate("""Array.from(document.querySelectorAll('#atlas-wq-sections tbody tr'))
        .map(r => [r.getAttribute('data-section'), r.children[3].textContent])""")
    assert {sid: text for sid, text in cells} == {sid: LABEL_EN[c] for sid, (_, c) in latest.items()}

    pg.focus(f"#atlas-wq-sections tr[data-section={FAILING}] button")
    pg.keyboard.press("Enter")
    _loaded(pg, FAILING)
    assert poll(pg, "document.activeElement.id") == "atlas-wq-title"
    assert "Target Class IV" in pg.inner_text("#atlas-wq-title")
    assert parse_qs(urlparse(pg.url).query) == {"lang": ["en"], "section": [FAILING]}
    lang_link = pg.get_attribute("#atlas-lang", "href")
    assert parse_qs(urlparse(lang_link).query).get("section") == [FAILING]
    assert "exceeds by" in pg.inner_text("#atlas-wq-items")
    assert "misses its target of Class IV" in pg.inner_text("#atlas-wq-upstream-why")

    # the sample select by keyboard: January (worse than V) → its items
    pg.focus("#atlas-wq-sample")
    pg.keyboard.press("Home")
    first_day = _year_samples(FAILING)[0][0]
    assert poll(pg, "document.querySelector('#atlas-wq-items caption').textContent")\
        .startswith(first_day)

    # a section that meets its target every month: no upstream list
    ok = [sid for sid in latest if sid != FAILING]
    summary = pg.evaluate("window.atlas.water.summary.sections")
    meets = next(s["section_id"] for s in summary
                 if s["section_id"] in ok and s["n_months_meeting"] == s["n_months"])
    pg.focus(f"#atlas-wq-sections tr[data-section={meets}] button")
    pg.keyboard.press("Space")
    _loaded(pg, meets)
    assert not pg.locator("#atlas-wq-upstream").is_visible()
    assert parse_qs(urlparse(pg.url).query)["section"] == [meets]

    pg.reload()
    pg.wait_for_selector("body[data-atlas-ready]", state="attached", timeout=20_000)
    assert _loaded(pg, meets) == meets
    assert_clean(watch)


_AXE = """axe.run(document, {resultTypes: ['violations']}).then(r => r.violations
    .filter(v => v.impact === 'critical' || v.impact === 'serious')
    .map(v => [v.impact, v.id, v.nodes.slice(0, 3).map(n => n.target.join(' '))]))"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_phone_width_axe_and_offline(browser, live_server, lang):
    """At 390 px the panel's tables and chart fit the screen (the tables scroll inside
    their own box), axe-core finds no critical or serious violation in the water panel,
    and nothing is fetched from outside the app."""
    # axe-core compiles its rule templates with `new Function`: the pages' CSP forbids
    # that, so this context bypasses the CSP (the pages themselves never eval).
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, bypass_csp=True, locale="zh-CN")
    outside: list[str] = []
    errors: list[str] = []

    def route(r):
        host = urlparse(r.request.url).hostname or ""
        if host in ("127.0.0.1", "localhost") or r.request.url.startswith(("data:", "blob:")):
            return r.continue_()
        if r.request.resource_type == "image":
            return r.fulfill(status=200, content_type="image/png", body=TILE_PNG)
        outside.append(r.request.url)
        return r.abort()

    context.route("**/*", route)
    try:
        pg = context.new_page()
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.on("console", lambda m: m.type == "error" and errors.append(m.text))
        q = f"?section={FAILING}" + ("&lang=en" if lang == "en" else "")
        open_page(pg, live_server.url + "/watershed" + q)
        _loaded(pg, FAILING)
        width = pg.evaluate("document.documentElement.clientWidth")
        assert width == 390
        # The side panel (under the map at this width) holds the water panel whole: nothing
        # in it is wider than the screen, and its tables need no sideways scrolling.
        side = pg.evaluate("""(() => { const s = document.getElementById('atlas-side');
            return [s.getBoundingClientRect().right, s.scrollWidth, s.clientWidth]; })()""")
        assert side[0] <= width and side[1] <= side[2], side
        wide = pg.evaluate("""Array.from(document.querySelectorAll('#atlas-water .atlas-table-scroll'))
            .filter(b => b.offsetParent && b.scrollWidth > b.clientWidth).map(b => b.firstChild.id)""")
        assert wide == []
        boxes = pg.evaluate("""['atlas-wq-sections', 'atlas-wq-chart', 'atlas-wq-items',
            'atlas-wq-projects', 'atlas-wq-sample'].map(id => {
              const b = document.getElementById(id).closest('.atlas-table-scroll, .atlas-chart-wrap')
                        || document.getElementById(id);
              const r = b.getBoundingClientRect(); return [id, r.left, r.right, r.width]; })""")
        for name, left, right, w in boxes:
            assert left >= 0 and right <= width and w > 0, (name, left, right)
        label = LABEL_EN[4] if lang == "en" else LABEL_ZH[4]
        assert label in pg.inner_text("#atlas-wq-title")
        pg.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
        found = pg.evaluate(_AXE.replace("axe.run(document", "axe.run('#atlas-water'"))
        assert found == [], found
        assert errors == [] and outside == []
    finally:
        context.close()


def test_overlay_report_on_the_page_states_upstream_accuracy_and_rules(page, live_server,
                                                                        tmp_path):
    """An uploaded file of sites: a site by Xilinhot is upstream of the Xilin section, one in
    the inland 苏尼特 basin of none, one in Sichuan (outside every basin) is 'unknown', not
    'no'; distances carry the accuracy of the river and the road they were measured to,
    each upstream cell says why, and the overlay's rules are listed under the table."""
    pg, watch = page
    csv = tmp_path / "sites.csv"
    # 113.0E 43.0N lies in 苏尼特右旗, in the inland 苏尼特-二连 basin (no river drains it);
    # 100E 30N is in Sichuan, far outside the League and its basins.
    csv.write_text("名称,经度,纬度\n锡林浩特南,116.08,43.95\n内流区,113.0,43.0\n四川,100.0,30.0\n",
                   encoding="utf-8")
    open_page(pg, live_server.url + "/watershed")
    pg.set_input_files("#atlas-upload-file", str(csv))
    pg.select_option("#atlas-upload-datum", "wgs84")
    pg.click("#atlas-upload-submit")
    result = poll(pg, "window.atlas.upload && !window.atlas.upload.running && window.atlas.upload")
    assert result.get("count") == 3, result
    head = pg.locator("#atlas-sites-table thead th").all_inner_texts()
    table = pg.evaluate("""Array.from(document.querySelectorAll('#atlas-sites-table tbody tr'))
        .map(r => Array.from(r.children).map(c => [c.textContent, c.title]))""")
    col = {h: i for i, h in enumerate(head)}
    up = [row[col["位于断面上游"]] for row in table]
    assert up[0][0] == "锡林河锡林浩特下游断面(示意)" and "锡林河" in up[0][1]
    assert up[1][0] == "否" and "内流区" in up[1][1]
    assert up[2][0] == "未知" and "无法判断" in up[2][1]
    rows = result["rows"]
    for row, cells in zip(rows, table, strict=True):
        river = cells[col["距河流(米，±精度)"]][0]
        assert river == f"{row['river_distance_m']:,.0f} ±{row['river_accuracy_m']:,.0f}"
        road = cells[col["距风景道(米，±精度)"]][0]
        assert road == f"{row['road_distance_m']:,.0f} ±{row['road_accuracy_m']:,.0f}"
        buffer = cells[col["在河流缓冲区内"]][0]
        assert buffer == {"yes": "是", "no": "否", "uncertain": "不确定(在精度范围内)"}[
            row["in_river_buffer_status"]]
    rules = pg.locator("#atlas-overlay-rules li").all_inner_texts()
    assert len(rules) == 3 and any("不设距离上限" in r for r in rules)
    assert_clean(watch)
