"""What the atlas's people do, end to end in Chromium: regressions found by using the pages.

Each test is a bug a tourism planner, an ecology officer or a GIS user hit while
using the real pages (live server, Debian Chromium, tiles stubbed), kept so that
it stays fixed.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest

from tests.conftest import LiveServer
from tests.test_browser import assert_clean, open_page, poll

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

SITES_CSV = ("名称,经度,纬度\n锡林河上游监测点,116°18′00″,43°45′00″\n"
             "正蓝旗闪电河,115.95,42.25\n东乌旗草原站,116.95,45.52\n")
KML = ('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
       "<Document><Placemark><name>多伦滦河点</name><Point><coordinates>116.48,42.18,0"
       "</coordinates></Point></Placemark><Placemark><name>乌拉盖河点</name><Point>"
       "<coordinates>118.9,45.7,0</coordinates></Point></Placemark></Document></kml>")


def _upload(pg, path) -> dict:
    pg.set_input_files("#atlas-upload-file", str(path))
    pg.evaluate("window.atlas.upload = null")
    pg.click("#atlas-upload-submit")
    return poll(pg, "window.atlas.upload && !window.atlas.upload.running && window.atlas.upload")


def _table(pg, sel: str) -> list[list[str]]:
    return pg.evaluate(f"Array.from(document.querySelectorAll('{sel} tbody tr'))"
                       ".map(r => Array.from(r.children).map(c => c.textContent))")


def test_ecology_officer_uploads_several_files(page, live_server, tmp_path):
    """Second upload works; KML names, section names and coordinates; a bad file clears all."""
    pg, watch = page
    sites = tmp_path / "sites.csv"
    sites.write_text(SITES_CSV, encoding="utf-8")
    kmz = tmp_path / "sites.kmz"
    with zipfile.ZipFile(kmz, "w") as z:
        z.writestr("doc.kml", KML)
    broken = tmp_path / "broken.csv"
    broken.write_text("名称,备注\n点1,没有坐标\n", encoding="utf-8")
    open_page(pg, live_server.url + "/watershed")

    assert _upload(pg, sites).get("count") == 3
    rows = _table(pg, "#atlas-sites-table")
    # upstream sections by name (never ids), distances in whole metres
    assert "sec_" not in str(rows)
    # (column 5 is the river-buffer answer, 7 the sections upstream)
    assert rows[1][7] == "滦河多伦出境断面(示意)、闪电河正蓝旗断面(示意)"
    assert rows[2][7] == "否"
    assert all("." not in r[4] for r in rows)
    # the report speaks the page's language
    assert pg.locator("#atlas-report-table", has_text="表格坐标按WGS 84经纬度读取").count() == 1
    # the CSV download (streamed by the server: the form posted again) carries the sites'
    # coordinates
    with pg.expect_download() as download:
        pg.click("#atlas-download-csv")
    with open(download.value.path(), encoding="utf-8") as fh:
        text = fh.read()
    table = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert (table[0]["lon"], table[0]["lat"], table[0]["名称"]) == ("116.3", "43.75", "锡林河上游监测点")

    # a second file replaces the first (it used to throw in the layer control and hang)
    assert _upload(pg, kmz).get("count") == 2
    rows = _table(pg, "#atlas-sites-table")
    assert [r[0] for r in rows] == ["多伦滦河点", "乌拉盖河点"]  # KML's Name, not 1, 2
    assert poll(pg, "window.atlas.counts.upload === 2")

    # a broken file: the API's message and hint, and nothing left of the previous file
    result = _upload(pg, broken)
    assert result.get("status") == 422
    status = pg.locator("#atlas-upload-status")
    assert "no longitude/latitude columns" in status.inner_text()
    assert "提示: name the coordinate columns" in status.inner_text()
    assert "atlas-error" in status.get_attribute("class")
    assert _table(pg, "#atlas-sites-table") == []
    assert not pg.locator("#atlas-upload-downloads").is_visible()
    assert pg.evaluate("window.atlas.counts.upload") == 0
    assert watch.page_errors == [] and watch.outside_requests == []


def test_upload_table_in_english(page, live_server, tmp_path):
    """The English page names basins, counties, rivers and sections in English."""
    pg, watch = page
    sites = tmp_path / "sites.csv"
    sites.write_text(SITES_CSV, encoding="utf-8")
    open_page(pg, live_server.url + "/watershed?lang=en")
    assert _upload(pg, sites).get("count") == 3
    first = _table(pg, "#atlas-sites-table")[0]
    assert first[1:4] == ["Xilin River basin", "Xilinhot City", "Xilin River"]
    assert _table(pg, "#atlas-report-table")[0][0] == "Warnings"
    # the sites table scrolls sideways rather than wrapping names a character per line
    assert pg.evaluate("getComputedStyle(document.querySelector('#atlas-sites-table td'))"
                       ".whiteSpace") == "nowrap"
    assert_clean(watch)


def test_measure_over_features(page, live_server):
    """Measuring over the League: clicks on polygons add points instead of opening popups."""
    pg, watch = page
    open_page(pg, live_server.url + "/")
    pg.click(".atlas-measure-btn")
    box = pg.locator(".folium-map").bounding_box()
    for dx, dy in [(300, 300), (500, 320), (520, 500)]:  # all inside the League's counties
        pg.mouse.click(box["x"] + dx, box["y"] + dy)
    out = pg.locator(".atlas-measure-out")
    poll(pg, "document.querySelector('.atlas-measure-out').textContent.indexOf('km') >= 0")
    assert out.inner_text().startswith("长度")
    assert pg.locator(".leaflet-popup").count() == 0
    pg.click(".atlas-measure-btn")  # off again: features answer clicks
    pg.mouse.click(box["x"] + 400, box["y"] + 400)
    pg.wait_for_selector(".leaflet-popup-content .atlas-popup")
    assert_clean(watch)


def test_search_hit_popup_survives_the_zoom(page, live_server):
    """A polygon found by search keeps its popup after the zoom redraws the layer."""
    pg, watch = page
    open_page(pg, live_server.url + "/")
    pg.fill("#atlas-search-input", "锡林河流域")
    pg.locator("#atlas-search-results li.atlas-hit").first.click()
    # the zoom reloads the basins at the new zoom's simplification …
    poll(pg, "window.atlas.layers.basins.loadedKey === "
             "Math.round(window.atlas.map.getZoom()) + '|wgs84'")
    pg.wait_for_selector(".leaflet-popup-content .atlas-popup")
    # Leaflet fades a closed popup out for 200 ms before removing it: wait for that.
    poll(pg, "document.querySelectorAll('.leaflet-popup').length === 1")
    # … and the popup is on the redrawn feature
    assert "锡林河流域" in pg.locator(".leaflet-popup-content h4").inner_text()
    assert pg.evaluate("window.atlas.layers.basins.leaflet.indexOf("
                       "window.atlas.map._popup._source) >= 0")
    assert_clean(watch)


def test_route_stages_in_english(page, live_server):
    """Every stage line of the English planner is English (no Chinese list comma)."""
    pg, watch = page
    open_page(pg, live_server.url + "/route?max_km=200&lang=en")
    stages = poll(pg, "window.atlas.stages && window.atlas.stages.stages")
    text = pg.locator("#atlas-stage-list").inner_text()
    assert "、" not in text and "Stops: " in text
    assert len(stages) == pg.locator("#atlas-stage-list li").count()
    assert_clean(watch)


_POPUP_ROWS = """((id, pick) => {
    var e = window.atlas.layers[id], l = e.leaflet.filter(pick)[0] || e.leaflet[0];
    var node = window.atlas.self.popupNode(e.desc, l.feature.properties);
    return Array.from(node.querySelectorAll('tr')).map(
        tr => [tr.children[0].textContent, tr.children[1].textContent]); })"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_popups_show_words_not_codes(page, live_server, lang):
    """Popups: category, status, investor and basin as words, units once and translated."""
    pg, watch = page
    open_page(pg, live_server.url + ("/?lang=en" if lang == "en" else "/"))
    project = dict(pg.evaluate(f"{_POPUP_ROWS}('projects', x => true)"))
    river = dict(pg.evaluate(f"{_POPUP_ROWS}('rivers', x => x.feature.properties.id === 'xilinhe')"))
    if lang == "zh":
        assert project["类别"] in {"能源", "工业及信息化", "基础设施", "社会事业", "生态保护与发展"}
        assert project["建设性质"] in {"新建", "续建"}
        assert project["投资主体"] in {"政府投资", "社会投资"}
        assert project["总投资"].endswith(" 亿元")
        assert project["精度"].endswith(" m") and not any("(米)" in k for k in project)
        assert river["所属流域"] == "锡林河流域"
    else:
        assert project["Category"] in {"Energy", "Industry and IT", "Infrastructure",
                                       "Social undertakings", "Ecological protection"}
        assert project["Status"] in {"New", "Continuing"}
        assert project["Total investment"].endswith(" × 100M yuan")
        assert river["Basin"] == "Xilin River basin"
    assert_clean(watch)


def test_a_file_of_too_many_sites_runs_as_a_job_with_progress(page, make_app, tmp_path):
    """More sites than one JSON answer holds (ATLAS_OVERLAY_MAX_SITES=2 here): the page
    sends the file as a job, shows its progress and offers the job's result files; the
    downloaded CSV and GeoJSON hold every site with its coordinates."""
    pg, watch = page
    sites = tmp_path / "sites.csv"
    sites.write_text(SITES_CSV, encoding="utf-8")
    with LiveServer(make_app(ATLAS_OVERLAY_MAX_SITES=2)) as server:
        open_page(pg, server.url + "/watershed")
        pg.set_input_files("#atlas-upload-file", str(sites))
        pg.evaluate("window.atlas.upload = null")
        pg.click("#atlas-upload-submit")
        result = poll(pg, "window.atlas.upload && !window.atlas.upload.running "
                          "&& window.atlas.upload", timeout=120)
        assert result.get("count") == 3 and result.get("job"), result
        assert pg.evaluate("window.atlas.job") == {"id": result["job"], "status": "done",
                                                   "progress": 1}
        assert "后台任务已完成" in pg.locator("#atlas-upload-status").inner_text()
        assert pg.locator("#atlas-upload-downloads").is_visible()
        href = pg.get_attribute("#atlas-download-csv", "href")
        assert href.endswith(f"/api/jobs/{result['job']}/results/csv")
        with pg.expect_download() as download:
            pg.click("#atlas-download-csv")
        with open(download.value.path(), encoding="utf-8-sig") as fh:
            table = list(csv.DictReader(fh))
        assert [r["名称"] for r in table] == ["锡林河上游监测点", "正蓝旗闪电河", "东乌旗草原站"]
        assert (table[0]["lon"], table[0]["lat"]) == ("116.3", "43.75")
        with pg.expect_download() as download:
            pg.click("#atlas-download-geojson")
        with open(download.value.path(), encoding="utf-8") as fh:
            doc = json.load(fh)
        assert [f["geometry"]["coordinates"] for f in doc["features"]] == [
            [116.3, 43.75], [115.95, 42.25], [116.95, 45.52]]
    assert watch.page_errors == [] and watch.outside_requests == []
