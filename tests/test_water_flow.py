"""Issue 14's "done when", end to end: an ecology officer uploads a year of monitoring sheets
(PUT /api/reference/wq_samples, a long table for January–November and December's own
sheet, with a misspelt section answered by the nearest name), then sees on the watershed
page which sections missed their target in which months and by which items, and the
projects upstream of each — in Chromium, against the sheets classified here by hand.
"""

from __future__ import annotations

import io
from urllib.parse import urlparse

import openpyxl
import pandas as pd
import pytest

from tests.conftest import LiveServer
from tests.test_browser import TILE_PNG, open_page, poll
from tests.test_browser_water import LABEL_ZH, _item_class

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

HEADERS = ["断面名称", "采样日期", "水温(℃)", "pH(无量纲)", "溶解氧(mg/L)", "高锰酸盐指数(mg/L)",
           "氨氮(mg/L)", "总磷(mg/L)", "汞(μg/L)"]
NAMES = {"sec_xilinhe_xilinhot": "锡林河锡林浩特下游断面", "sec_luanhe_duolun": "滦河多伦出境断面",
         "sec_shandianhe_zhenglan": "闪电河正蓝旗断面", "sec_wulagaihe_wulagai": "乌拉盖河乌拉盖断面"}
TARGETS = {"sec_xilinhe_xilinhot": 4, "sec_luanhe_duolun": 3, "sec_shandianhe_zhenglan": 3,
           "sec_wulagaihe_wulagai": 3}


def _values(section: str, month: int) -> dict:
    """2024 as designed: the Xilin misses Ⅳ on ammonia under the winter ice (Jan–Mar, Dec),
    the Luan at Duolun misses Ⅲ on phosphorus in July's flood, the others meet Ⅲ."""
    if section == "sec_xilinhe_xilinhot":
        return {"do": 6.5, "codmn": 5.0, "nh3_n": 1.9 if month in (1, 2, 3, 12) else 0.8,
                "tp": 0.15, "ph": 7.9}
    if section == "sec_luanhe_duolun":
        return {"do": 8.0, "codmn": 3.0, "nh3_n": 0.3, "tp": 0.25 if month == 7 else 0.08,
                "ph": 8.1}
    if section == "sec_shandianhe_zhenglan":
        return {"do": 7.6, "codmn": 1.8, "nh3_n": 0.12, "tp": 0.015, "ph": 8.0}
    return {"do": 7.0, "codmn": 4.0, "nh3_n": None, "tp": 0.1, "ph": 8.2}  # NH3-N <0.025


def _row(section: str, month: int, name: str | None = None) -> list:
    v = _values(section, month)
    return [name or NAMES[section], f"2024-{month:02d}-{8 + month % 5:02d}", 4.0 + month,
            v["ph"], v["do"], v["codmn"], "<0.025" if v["nh3_n"] is None else v["nh3_n"],
            v["tp"], "0.04L"]


def _class(v: dict) -> int:
    worst = 1
    for name in ("do", "codmn", "nh3_n", "tp"):
        if v[name] is not None:
            worst = max(worst, _item_class(name, v[name]))
    return worst


def _annual(section: str) -> int:
    # annual means as reported (six significant digits: twelve times 0.1 mg/L averages 0.1,
    # not 0.10000000000000002); NH3-N below detection all year is not assessed here
    means = {k: pd.Series([_values(section, m)[k] for m in range(1, 13)], dtype=float).mean()
             for k in ("do", "codmn", "nh3_n", "tp")}
    return _class({k: (None if pd.isna(v) else float(f"{v:.6g}")) for k, v in means.items()})


def _xlsx(rows: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "2024年1-11月"
    ws.append(HEADERS)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _csv(rows: list[list]) -> bytes:
    lines = [",".join(HEADERS)] + [",".join(str(c) for c in r) for r in rows]
    return ("\n".join(lines) + "\n").encode("gbk")  # as a station's Excel saves CSV


def _put(client, token, data: bytes, filename: str):
    return client.put("/api/reference/wq_samples",
                      data={"file": (io.BytesIO(data), filename), "mode": "append",
                            "source": "锡林郭勒盟生态环境局 2024年监测报表"},
                      headers={"Authorization": f"Bearer {token}"},
                      content_type="multipart/form-data")


def test_a_year_of_sheets_to_the_failing_sections_and_their_upstream_projects(
        make_app, token, browser):
    app = make_app(ATLAS_WRITE_TOKEN=token)
    client = app.test_client()
    long = [_row(s, m) for m in range(1, 12) for s in NAMES]
    r = _put(client, token, _xlsx(long), "2024年1-11月.xlsx")
    assert r.status_code == 201, r.json
    # December's sheet with the Xilin section misspelt: nothing stored, the nearest name given
    december = [_row(s, 12) for s in NAMES]
    typo = [r[:] for r in december]
    typo[0][0] = "锡林河锡林浩特下游段面"
    r = _put(client, token, _csv(typo), "2024年12月.csv")
    assert r.status_code == 422
    assert "锡林河锡林浩特下游断面(示意)" in str(r.json)
    r = _put(client, token, _csv(december), "2024年12月.csv")
    assert r.status_code == 201, r.json

    # what the page must say, computed here
    monthly = {s: [_class(_values(s, m)) for m in range(1, 13)] for s in NAMES}
    missed = {s: [f"2024-{m + 1:02d}" for m, c in enumerate(monthly[s]) if c > TARGETS[s]]
              for s in NAMES}
    assert missed == {"sec_xilinhe_xilinhot": ["2024-01", "2024-02", "2024-03", "2024-12"],
                      "sec_luanhe_duolun": ["2024-07"], "sec_shandianhe_zhenglan": [],
                      "sec_wulagaihe_wulagai": []}

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    outside: list[str] = []
    errors: list[str] = []

    def route(rt):
        host = urlparse(rt.request.url).hostname or ""
        if host in ("127.0.0.1", "localhost") or rt.request.url.startswith(("data:", "blob:")):
            return rt.continue_()
        if rt.request.resource_type == "image":
            return rt.fulfill(status=200, content_type="image/png", body=TILE_PNG)
        outside.append(rt.request.url)
        return rt.abort()

    context.route("**/*", route)
    try:
        with LiveServer(app) as server:
            pg = context.new_page()
            pg.on("pageerror", lambda e: errors.append(str(e)))
            pg.on("console", lambda m: m.type == "error" and errors.append(m.text))
            open_page(pg, server.url + "/watershed")
            poll(pg, "window.atlas.water && window.atlas.water.summary")
            # the latest year is shown; its table: annual class and months meeting the target
            assert pg.inner_text("#atlas-wq-sections caption").startswith("各断面2024年")
            table = pg.evaluate("""Array.from(document.querySelectorAll('#atlas-wq-sections tbody tr'))
                .map(r => [r.getAttribute('data-section'), r.children[1].textContent,
                           r.children[2].textContent, r.children[3].textContent])""")
            for sid, annual, months, latest in table:
                assert annual.startswith(LABEL_ZH[_annual(sid)]), (sid, annual)
                assert months == f"{12 - len(missed[sid])}/12", (sid, months)
                assert latest == LABEL_ZH[monthly[sid][-1]], (sid, latest)
            # the earlier year is one choice away
            assert pg.evaluate("Array.from(document.querySelectorAll('#atlas-wq-year option'))"
                               ".map(o => o.value)") == ["2024", "2023"]

            for sid, item in (("sec_xilinhe_xilinhot", "氨氮"), ("sec_luanhe_duolun", "总磷")):
                pg.click(f"#atlas-wq-sections tr[data-section={sid}] button")
                poll(pg, f"window.atlas.water.section === '{sid}' && window.atlas.water.upstream "
                         "&& window.atlas.water.quality && window.atlas.water.quality.section_id "
                         f"=== '{sid}'")
                lines = pg.locator("#atlas-wq-missed li").all_inner_texts()
                assert [x[:7] for x in lines] == missed[sid]
                assert all(item in x for x in lines)
                up = pg.evaluate(f"fetch('/api/sections/{sid}/upstream').then(r => r.json())")
                listed = pg.evaluate("""Array.from(document.querySelectorAll(
                    '#atlas-wq-projects tbody tr')).map(r => r.getAttribute('data-project'))""")
                assert sorted(listed) == sorted(p["id"] for p in up["projects"]) and listed
            # a section meeting its target every month lists no projects
            pg.click("#atlas-wq-sections tr[data-section=sec_shandianhe_zhenglan] button")
            poll(pg, "window.atlas.water.quality && window.atlas.water.quality.section_id "
                     "=== 'sec_shandianhe_zhenglan'")
            assert not pg.locator("#atlas-wq-upstream").is_visible()

            # 2023 (the stand-in year) by its year choice, kept in the URL
            pg.select_option("#atlas-wq-year", "2023")
            poll(pg, "window.atlas.water.summary.year === 2023 && window.atlas.water.quality "
                     "&& window.atlas.water.quality.from === '2023-01-01'")
            assert "year=2023" in pg.url
            assert pg.inner_text("#atlas-wq-sections caption").startswith("各断面2023年")
        assert errors == [] and outside == []
    finally:
        context.close()
