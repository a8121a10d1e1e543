"""Static assets: gzip, ETag/304, versioned URLs cached for a year, through the test client."""

from __future__ import annotations

import gzip
import os
import re

LEAFLET = "/static/vendor/leaflet/leaflet.js"


def _file(app, rel: str) -> bytes:
    with open(os.path.join(app.static_folder, rel), "rb") as fh:
        return fh.read()


def test_static_gzip_when_accepted(client, app):
    raw = _file(app, "vendor/leaflet/leaflet.js")
    zipped = client.get(LEAFLET, headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.status_code == 200
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert zipped.mimetype == "application/javascript" or zipped.mimetype == "text/javascript"
    assert len(zipped.data) < len(raw) / 2
    assert gzip.decompress(zipped.data) == raw
    plain = client.get(LEAFLET)
    assert "Content-Encoding" not in plain.headers and plain.data == raw
    assert zipped.headers["ETag"] == plain.headers["ETag"][:-1] + '-gzip"'  # RFC 9110 §8.8.3


def test_static_etag_and_304(client):
    first = client.get(LEAFLET, headers={"Accept-Encoding": "gzip"})
    etag = first.headers["ETag"]
    assert etag.startswith('"')
    again = client.get(LEAFLET, headers={"If-None-Match": etag, "Accept-Encoding": "gzip"})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    other = client.get(LEAFLET, headers={"If-None-Match": '"nope"'})
    assert other.status_code == 200


def test_binary_files_are_not_gzipped(client, app):
    rel = "vendor/leaflet/images/layers.png"
    resp = client.get(f"/static/{rel}", headers={"Accept-Encoding": "gzip"})
    assert resp.status_code == 200 and "Content-Encoding" not in resp.headers
    assert resp.data == _file(app, rel)


def test_page_links_are_versioned_and_cached_long(client):
    html = client.get("/").get_data(as_text=True)
    links = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert links and all("?v=" in u for u in links), links
    versioned = client.get(links[0].replace("&amp;", "&"))
    assert versioned.status_code == 200
    assert "immutable" in versioned.headers["Cache-Control"]
    assert "max-age=31536000" in versioned.headers["Cache-Control"]
    # Without (or with a stale) version the browser must revalidate.
    bare = client.get(links[0].split("?")[0])
    assert bare.headers["Cache-Control"] == "no-cache"
    stale = client.get(links[0].split("?")[0] + "?v=0000")
    assert stale.headers["Cache-Control"] == "no-cache"


def test_static_missing_and_traversal_are_404(client):
    assert client.get("/static/vendor/nope.js").status_code == 404
    assert client.get("/static/../__init__.py").status_code == 404
    assert client.get("/static/%2e%2e/__init__.py").status_code == 404
