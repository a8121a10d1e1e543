"""Pre-encoded features in one buffer (layers/encoded.py) against geo.geojson's per-feature bytes."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import shapely

from geo.geojson import encode_features, feature_collection
from layers.encoded import EncodedFeatures, encode_page


def layer(n: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(2)
    return gpd.GeoDataFrame(
        {"name": [f"站 {i}, \"q\"" if i % 5 else None for i in range(n)],
         "v": np.where(np.arange(n) % 7 == 0, np.nan, rng.normal(size=n)),
         "k": np.arange(n) % 3 == 0},
        geometry=list(shapely.points(rng.uniform(111, 120, n), rng.uniform(41, 46, n)))[:-1]
        + [shapely.box(116, 44, 116.1, 44.1)], crs=4326,
        index=pd.Index(np.arange(1, n + 1) * 3, name="fid"))


def test_every_feature_and_any_page_equal_the_per_feature_encoding():
    gdf = layer(1000)
    each = encode_features(gdf)
    seen = []
    enc = EncodedFeatures.build(gdf, chunk=128, progress=lambda done, total: seen.append(done))
    assert seen == [*range(128, 1000, 128), 1000]
    assert len(enc) == 1000
    assert [enc.feature(i) for i in range(1000)] == each
    rng = np.random.default_rng(0)
    for _ in range(20):
        pos = rng.choice(1000, rng.integers(0, 50), replace=False)
        members = {"numberMatched": 1000, "numberReturned": len(pos)}
        assert enc.collection(pos, members) == feature_collection([each[p] for p in pos],
                                                                  members)
    body = orjson.loads(enc.collection(np.arange(1000)))
    assert [f["id"] for f in body["features"]] == gdf.index.tolist()


def test_one_buffer_close_to_the_text_itself():
    gdf = layer(5000)
    enc = EncodedFeatures.build(gdf, chunk=1000)
    text = sum(len(b) for b in encode_features(gdf))
    assert len(enc.buffer) == text
    assert enc.nbytes == text + 8 * 5001  # the offsets, nothing per feature


def test_a_cold_page_encodes_only_its_features():
    gdf = layer(300)
    pos = np.array([299, 5, 17])
    page = encode_page(gdf, pos)
    assert page == [encode_features(gdf)[p] for p in pos]
    assert encode_page(gdf, np.array([], dtype=int)) == []
