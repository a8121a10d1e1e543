"""Cacheable responses: ETag, 304 on revalidation, gzip, for layers, items and tiles.

Correctness only (which headers, which bodies); how fast they are is measured
by ``make bench``, never asserted here.
"""

from __future__ import annotations

import gzip

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.vector_tiles import tile_for_lonlat

XILINHOT = (116.09, 43.94)
Z = 6
TX, TY = tile_for_lonlat(*XILINHOT, Z)

#: One cacheable URL per kind of response; each body is well over 1 KB.
URLS = {
    "layer list": "/api/layers",
    "layer features": "/api/layers/projects/features",
    "layer features by zoom": "/api/layers/admin/features?zoom=6",
    "tile": f"/tiles/admin/{Z}/{TX}/{TY}.mvt",
    "point tile": f"/tiles/projects/{Z}/{TX}/{TY}.mvt",
    "items": "/ogcapi/collections/projects/items?limit=100",
    "items bbox": "/ogcapi/collections/projects/items?bbox=115,43,117,45&limit=50",
}


def _get(client, url, **headers):
    return client.get(url, headers=headers)


@pytest.mark.parametrize("kind", list(URLS))
def test_etag_and_304_revalidation(client, kind):
    url = URLS[kind]
    first = _get(client, url)
    assert first.status_code == 200, first.data[:300]
    etag = first.headers.get("ETag")
    assert etag and etag.startswith('"') and etag.endswith('"'), "a strong ETag"
    # what the pages load changes with every write: revalidated (OGC API keeps a minute)
    expected = "public, max-age=60" if url.startswith("/ogcapi") else "no-cache"
    assert first.headers["Cache-Control"] == expected

    again = _get(client, url, **{"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag

    # a weak form of the same tag, or a list holding it, also revalidates
    assert _get(client, url, **{"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    # a different tag gets the whole body again, the same body
    other = _get(client, url, **{"If-None-Match": '"not-this-one"'})
    assert other.status_code == 200 and other.data == first.data


@pytest.mark.parametrize("kind", list(URLS))
def test_gzip_when_accepted_and_identity_otherwise(client, kind):
    url = URLS[kind]
    plain = _get(client, url)
    assert "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers.get("Vary", "")

    zipped = _get(client, url, **{"Accept-Encoding": "gzip, deflate, br"})
    assert zipped.status_code == 200
    assert zipped.headers["Content-Encoding"] == "gzip"
    # two bodies, two strong validators (RFC 9110 §8.8.3): the gzip one is suffixed
    assert zipped.headers["ETag"] == plain.headers["ETag"][:-1] + '-gzip"'
    assert len(zipped.data) < len(plain.data)
    assert gzip.decompress(zipped.data) == plain.data


def test_etag_follows_the_layer_version(make_app):
    app = make_app()
    store = app.extensions["atlas_store"]
    client = app.test_client()
    gdf = gpd.GeoDataFrame({"name": ["甲"]}, geometry=[shapely.Point(*XILINHOT)], crs=4326)
    store.put("cached_sites", gdf)
    urls = ["/api/layers/cached_sites/features", f"/tiles/cached_sites/{Z}/{TX}/{TY}.mvt"]
    before = {u: client.get(u).headers["ETag"] for u in urls}
    for u in urls:  # unchanged layer: revalidates
        assert client.get(u, headers={"If-None-Match": before[u]}).status_code == 304
    store.put("cached_sites", gdf.assign(name=["乙"]))
    for u in urls:  # replaced layer: the old tag no longer matches, a new one is issued
        resp = client.get(u, headers={"If-None-Match": before[u]})
        assert resp.status_code == 200
        assert resp.headers["ETag"] != before[u]


def test_the_urls_the_layer_list_hands_out_name_the_version_and_are_kept_for_good(make_app):
    """Issue 13: a replaced layer was drawn from the browser's copy for up to a minute.
    Now the layer list (revalidated on every use) hands out features and tile URLs that
    name the layer's version; those are kept for good, and a new version gets new URLs."""
    app = make_app()
    store = app.extensions["atlas_store"]
    client = app.test_client()
    n = 20_001  # above the tile threshold: the layer is drawn from tiles
    pts = shapely.points(np.linspace(115.5, 116.5, n), np.linspace(43.5, 44.5, n))
    store.put("many", gpd.GeoDataFrame({"k": np.arange(n)}, geometry=pts, crs=4326))
    store.put("few", gpd.GeoDataFrame({"k": [1]}, geometry=[shapely.Point(*XILINHOT)],
                                      crs=4326))

    def urls() -> dict[str, str]:
        listing = client.get("/api/layers")
        assert listing.headers["Cache-Control"] == "no-cache"
        by_id = {d["id"]: d for d in listing.json["layers"]}
        tile = by_id["many"]["tiles_url"].format(z=Z, x=TX, y=TY)
        return {"features": by_id["few"]["features_url"] + "&zoom=8", "tile": tile,
                "catalog": by_id["projects"]["features_url"] + "&zoom=8"}

    first = urls()
    for url in first.values():
        assert "?v=" in url
        resp = client.get(url)
        assert resp.status_code == 200
        assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    old_body = client.get(first["features"]).data
    store.put("few", gpd.GeoDataFrame({"k": [2, 3]}, crs=4326,
                                      geometry=[shapely.Point(*XILINHOT)] * 2))
    store.put("projects", store.get("projects").iloc[:5])  # a replaced catalog layer
    second = urls()
    assert second["features"] != first["features"] and second["catalog"] != first["catalog"]
    assert second["tile"] == first["tile"]  # "many" was not replaced
    # the old URL (a page made before) gets the new version, and may not keep it
    stale = client.get(first["features"])
    assert stale.headers["Cache-Control"] == "no-cache" and stale.data != old_body
    assert stale.json["numberMatched"] == 2
    assert client.get(second["catalog"]).json["numberMatched"] == 5


def test_tile_cache_is_bounded(make_app):
    app = make_app(ATLAS_TILE_CACHE_MB=0.01)  # 10 KB
    client = app.test_client()
    for z in range(3, 10):
        x, y = tile_for_lonlat(*XILINHOT, z)
        for layer in ("admin", "projects", "basins"):
            assert client.get(f"/tiles/{layer}/{z}/{x}/{y}.mvt").status_code in (200, 204)
    cache = app.extensions["atlas_tiles"]["tiles"]
    assert 0 < cache.bytes <= 10 * 1024
