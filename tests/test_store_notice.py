"""The pages say so while writes are paused (Chromium): a notice from /healthz.

A store whose disk has less free space than it keeps (``ATLAS_MIN_FREE_MB`` set above
what the disk has) refuses writes; the map pages still draw every layer and show why
saving is paused, in the page's language, as does the data page.  A writable store shows nothing.
"""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.gpkg_only]


def _open(pg, url: str) -> None:
    pg.goto(url)
    pg.wait_for_selector("body[data-atlas-ready]", state="attached", timeout=30_000)
    for _ in range(100):  # the notice follows the /healthz answer (bounded wait)
        if pg.evaluate("window.atlasStoreStatus !== undefined"):
            return
        pg.wait_for_timeout(100)
    raise AssertionError("the page never asked /healthz")


def test_a_notice_while_writes_are_paused_and_none_otherwise(page, make_app, store_path,
                                                             live_server):
    pg, watch = page
    _open(pg, live_server.url + "/")
    assert pg.evaluate("window.atlasStoreStatus.writable") is True
    assert pg.locator("#atlas-store-notice").count() == 0
    make_app()  # brings the reference layers into the store copy (it may lack the -wal's)
    free_mb = shutil.disk_usage(store_path).free / 2**20
    app = make_app(ATLAS_MIN_FREE_MB=free_mb + 10 * 1024)
    with LiveServer(app) as server:
        _open(pg, server.url + "/watershed")
        notice = pg.locator("#atlas-store-notice")
        assert notice.count() == 1 and notice.is_visible()
        text = notice.inner_text()
        assert "暂时无法写入" in text and "ATLAS_MIN_FREE_MB" in text
        assert pg.evaluate("window.atlas.counts.projects") > 0  # reads go on
        _open(pg, server.url + "/?lang=en")
        text = pg.locator("#atlas-store-notice").inner_text()
        assert "cannot be written just now" in text and "kept free" in text
        _open(pg, server.url + "/data")  # where layers are replaced: said there too
        assert "暂时无法写入" in pg.locator("#atlas-store-notice").inner_text()
    assert watch.page_errors == [] and watch.console_errors == []
