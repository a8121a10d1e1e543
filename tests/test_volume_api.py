"""Large layers through the OGC API: estimated counts flagged, pages encoded alone.

Runs on the GeoPackage store and, in the PostGIS pass, on PostGIS.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
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
