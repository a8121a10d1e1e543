"""Large layers through the OGC API: estimated counts flagged, pages encoded alone.

Runs on the GeoPackage store and, in the PostGIS pass, on PostGIS.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.geojson import encode_features
from tests.pg import TEST_BACKEND


@pytest.fixture()
def big_app(make_app):
    """An app whose store holds 12,000 points over 115–117 °E, 43–45 °N."""
    app = make_app()
    rng = np.random.default_rng(11)
    n = 12_000
    gdf = gpd.GeoDataFrame({"name": [f"点{i}" for i in range(n)], "v": np.arange(n)},
                           geometry=shapely.points(rng.uniform(115, 117, n),
                                                   rng.uniform(43, 45, n)), crs=4326)
    app.extensions["atlas_store"].put("many", gdf)
    app.extensions["many"] = gdf
    return app


def _truth(gdf, box) -> int:
    x, y = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
    return int(((x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])).sum())


def test_number_matched_is_flagged_when_estimated(big_app):
    client = big_app.test_client()
    gdf = big_app.extensions["many"]
    wide, narrow = (115.0, 43.0, 117.0, 45.0), (115.0, 43.0, 115.5, 45.0)
    body = client.get("/ogcapi/collections/many/items?limit=7&bbox="
                      + ",".join(map(str, wide))).get_json()
    truth = _truth(gdf, wide)
    assert body["numberReturned"] == 7 and len(body["features"]) == 7
    if TEST_BACKEND == "postgis":  # above 10,000 matches: the planner's estimate, flagged
        assert body["numberMatchedEstimated"] is True
        assert abs(body["numberMatched"] - truth) <= truth / 10
    else:
        assert "numberMatchedEstimated" not in body and body["numberMatched"] == truth
    body = client.get("/ogcapi/collections/many/items?limit=7&bbox="
                      + ",".join(map(str, narrow))).get_json()
    assert body["numberMatched"] == _truth(gdf, narrow) and "numberMatchedEstimated" not in body
    # The page's features are what geo.geojson writes for those rows.
    page = client.get("/ogcapi/collections/many/items?limit=3&offset=4").get_json()
    rows = big_app.extensions["atlas_store"].get("many").iloc[4:7]
    assert page["features"] == [json.loads(f) for f in encode_features(rows)]


@pytest.mark.gpkg_only  # about the GeoPackage store's in-memory copies
def test_a_large_layer_is_paged_from_the_file_until_a_query_needs_it_whole(make_app):
    """Above cold_rows features a layer is not loaded for plain pages (read by key and
    encoded alone, byte for byte what the loaded layer answers); a bbox loads it."""
    app = make_app()
    store = app.extensions["atlas_store"]
    store.cold_rows = 1000
    rng = np.random.default_rng(3)
    n = 3000
    gdf = gpd.GeoDataFrame({"name": [f"点{i}" for i in range(n)],
                            "count": pd.array([None if i % 5 == 0 else i for i in range(n)],
                                              dtype="Int64"),
                            "ok": [None if i % 7 == 0 else bool(i % 2) for i in range(n)]},
                           geometry=shapely.points(rng.uniform(115, 117, n),
                                                   rng.uniform(43, 45, n)), crs=4326)
    store.put("cold", gdf)
    client = app.test_client()
    urls = ["/ogcapi/collections/cold/items?limit=10&offset=20",
            "/ogcapi/collections/cold/items?limit=5&offset=2995",
            "/ogcapi/collections/cold/items/17"]
    cold = [client.get(u) for u in urls]
    assert store.in_memory("cold") is None  # nothing loaded the layer
    assert store.properties("cold") == {"name": "str", "count": "int", "ok": "bool"}
    assert cold[0].get_json()["numberMatched"] == n and cold[1].get_json()["numberReturned"] == 5
    assert cold[2].get_json()["properties"]["name"] == "点16"
    box = client.get("/ogcapi/collections/cold/items?bbox=115,43,116,44&limit=3")
    assert box.status_code == 200 and store.in_memory("cold") is not None  # loaded now
    store._nulls.clear()
    for url, before in zip(urls, cold, strict=True):
        warm = client.get(url)
        assert warm.get_json()["features" if "items?" in url else "properties"] == \
            before.get_json()["features" if "items?" in url else "properties"]
        assert warm.get_data() == before.get_data()  # bytes too: the dtypes of the layer


@pytest.mark.gpkg_only
def test_loaded_layers_stay_within_the_memory_budget(make_app):
    """ATLAS_LAYER_MEMORY_MB: loading a layer beyond the budget drops the least recently
    used one (the one asked for is always kept)."""
    app = make_app(ATLAS_LAYER_MEMORY_MB=1)
    store = app.extensions["atlas_store"]
    rng = np.random.default_rng(4)
    for name in ("a", "b"):
        store.put(name, gpd.GeoDataFrame({"v": np.arange(5000)}, geometry=shapely.points(
            rng.uniform(115, 117, 5000), rng.uniform(43, 45, 5000)), crs=4326))
    a = store.in_memory("a")
    assert a.nbytes() > 2**20 / 2  # a layer of 5,000 points: most of the budget
    assert store.in_memory("a") is a
    b = store.in_memory("b")
    assert store.in_memory("b") is b
    again = store.in_memory("a")  # was dropped for b: loaded afresh, b dropped now
    assert again is not a and again.gdf.equals(a.gdf)
    assert store.in_memory("b") is not b
