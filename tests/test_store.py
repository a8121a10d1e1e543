"""The Store contract, run on both backends with the same expected results.

Every test taking ``backend_store_url`` runs twice, on a fresh GeoPackage file and
on a fresh PostGIS database of the throwaway cluster (tests/pg.py); the expected
values are written once.  ``test_backends_agree_*`` put the same data in both and
compare what comes back frame by frame.
"""

from __future__ import annotations

import math
import os
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from layers.catalog import layer_ids
from layers.open import open_store
from layers.prepare import layer_path
from layers.store import LayerNameError, LayerNotFound, QueryError
from tests.pg import BACKENDS


def sites() -> gpd.GeoDataFrame:
    """Six sites with every property type, missing values and awkward names."""
    return gpd.GeoDataFrame(
        {
            "name_zh": ["锡林浩特", "多伦", None, "True", "3.0", "<b>x</b>"],
            "seq": [1, 2, 3, 4, 5, 6],
            "invest_yi": [1.5, None, 3.0, 0.0, 12.25, 3.0],
            "done": [True, False, True, True, False, True],
            "maybe": [True, None, False, True, None, True],
            "fid": [60, 50, 40, 30, 20, 10],  # a property called fid is kept as fid_
            "增长%": ["一", "二", "三", "四", "五", "六"],
        },
        geometry=[shapely.Point(116.0, 44.0), shapely.Point(116.5, 42.2),
                  shapely.Point(117.0, 45.0), None,
                  shapely.LineString([(115, 43), (118, 43)]),
                  shapely.box(115.9, 43.9, 116.1, 44.1)],
        crs=4326,
    )


META = {"title": "项目点", "z": 1, "a": [1, 2]}


@pytest.fixture()
def store(backend_store_url):
    """A private store of each backend holding only ``sites``, for tests that write."""
    s = open_store(backend_store_url)
    s.put("sites", sites(), meta=META)
    yield s
    getattr(s, "close", lambda: None)()


@pytest.fixture(scope="module", params=BACKENDS)
def ro_store(request, tmp_path_factory):
    """A store of each backend holding only ``sites``, shared by the read-only tests."""
    if request.param == "postgis":
        cluster = request.getfixturevalue("pg_cluster")
        url = cluster.create_database()
    else:
        url = str(tmp_path_factory.mktemp("ro") / "sites.gpkg")
    s = open_store(url)
    s.put("sites", sites(), meta=META)
    yield s
    if request.param == "postgis":
        s.close()
        cluster.drop_database(url)


def test_put_get_round_trip(ro_store):
    gdf = ro_store.get("sites")
    assert gdf.index.name == "fid" and gdf.index.tolist() == [1, 2, 3, 4, 5, 6]
    assert gdf.columns.tolist() == ["name_zh", "seq", "invest_yi", "done", "maybe", "fid_",
                                    "增长%", "geometry"]
    assert gdf.crs.equals("EPSG:4326")
    assert gdf["name_zh"].tolist()[:2] == ["锡林浩特", "多伦"] and pd.isna(gdf["name_zh"][3])
    assert gdf["seq"].dtype == "int64" and gdf["done"].dtype == "bool"
    assert gdf["maybe"].tolist() == [True, None, False, True, None, True]
    assert gdf["invest_yi"].tolist()[2:] == [3.0, 0.0, 12.25, 3.0]
    assert gdf["fid_"].tolist() == [60, 50, 40, 30, 20, 10]
    src = sites()
    assert gdf.geometry.isna().tolist() == src.geometry.isna().tolist()
    both = src.geometry.notna().to_numpy()
    assert shapely.equals_exact(gdf.geometry.values[both], src.geometry.values[both]).all()


def test_info_fields(ro_store):
    info = ro_store.info("sites")
    assert (info.name, info.count) == ("sites", 6)
    assert info.bounds == (115.0, 42.2, 118.0, 45.0)
    assert info.meta == {"title": "项目点", "z": 1, "a": [1, 2]}
    assert list(info.meta) == ["title", "z", "a"]  # key order kept
    assert info.user_layer
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", info.updated)


def test_put_replaces_whole_layer_with_new_version(store):
    before = store.info("sites")
    small = sites().iloc[[4, 5]]
    after = store.put("sites", small)
    assert after.version != before.version and after.count == 2
    assert after.meta == {}
    gdf = store.get("sites")
    assert gdf.index.tolist() == [1, 2]  # fids restart: stable per version
    assert gdf["name_zh"].tolist() == ["3.0", "<b>x</b>"]
    assert store.check() == []


def test_list_order_catalog_first_then_user_layers_by_name(backend_store_url):
    s = open_store(backend_store_url)
    pt = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(116, 44)], crs=4326)
    ids = list(layer_ids())
    for name in ["zeta", ids[2], "alpha", ids[0]]:
        s.put(name, pt, meta={"catalog": name in ids})
    assert [i.name for i in s.list_layers()] == [ids[0], ids[2], "alpha", "zeta"]
    assert [i.user_layer for i in s.list_layers()] == [False, False, True, True]


def test_missing_layers_and_bad_names(backend_store_url):
    s = open_store(backend_store_url)
    with pytest.raises(LayerNotFound):
        s.info("nope")
    with pytest.raises(LayerNotFound):
        s.get("nope")
    with pytest.raises(LayerNotFound):
        s.query("nope")
    assert not s.exists("nope") and s.delete("nope") is False
    pt = gpd.GeoDataFrame(geometry=[shapely.Point(116, 44)], crs=4326)
    for bad in ["../etc", "a/b", "A", "x" * 65, "a__b", ""]:
        with pytest.raises(LayerNameError):
            s.put(bad, pt)
    assert s.list_layers() == []


def test_delete(store):
    assert store.delete("sites") is True
    assert not store.exists("sites") and store.list_layers() == []
    assert store.check() == []


def test_query_bbox_intersects_and_pages(ro_store):
    r = ro_store.query("sites", bbox=(115.5, 43.5, 116.5, 44.5))
    assert r.features.index.tolist() == [1, 6] and r.number_matched == 2
    # The line crosses the box although no vertex lies in it; a touching point counts.
    r = ro_store.query("sites", bbox=(116.4, 42.2, 116.6, 43.5))
    assert r.features.index.tolist() == [2, 5]
    r = ro_store.query("sites", limit=2, offset=1)
    assert r.features.index.tolist() == [2, 3] and r.number_matched == 6
    assert r.number_returned == 2
    r = ro_store.query("sites", bbox=(115, 42, 118, 46), limit=1, offset=4)
    assert r.features.index.tolist() == [6] and r.number_matched == 5  # fid 4 has no geometry
    r = ro_store.query("sites", offset=100)
    assert r.features.empty and r.number_matched == 6
    assert r.features.columns.tolist() == ro_store.get("sites").columns.tolist()
    r = ro_store.query("sites", limit=0)
    assert r.features.empty and r.number_matched == 6
    with pytest.raises(QueryError):
        ro_store.query("sites", limit=-1)
    with pytest.raises(QueryError):
        ro_store.query("sites", offset=-1)


def test_query_bbox_across_antimeridian(backend_store_url):
    s = open_store(backend_store_url)
    gdf = gpd.GeoDataFrame({"n": [1, 2, 3]}, crs=4326, geometry=[
        shapely.Point(179.5, 10), shapely.Point(-179.5, 10), shapely.Point(0, 10)])
    s.put("dateline", gdf)
    assert s.query("dateline", bbox=(179, 0, -179, 20)).features["n"].tolist() == [1, 2]


@pytest.mark.parametrize(("filters", "fids"), [
    ({"name_zh": "多伦"}, [2]),
    ({"name_zh": "true"}, [4]),  # text compared case-insensitively with true/false
    ({"name_zh": "3"}, [5]),  # numeric text matches numerically
    ({"name_zh": "None"}, []),  # a missing value matches nothing
    ({"seq": "3"}, [3]),
    ({"seq": "3.0"}, [3]),
    ({"seq": 3}, [3]),
    ({"invest_yi": "3"}, [3, 6]),
    ({"invest_yi": "nan"}, []),
    ({"invest_yi": "0"}, [4]),
    ({"done": "true"}, [1, 3, 4, 6]),
    ({"done": "FALSE"}, [2, 5]),
    ({"done": "1"}, [1, 3, 4, 6]),
    ({"maybe": "false"}, [3]),
    ({"maybe": "0"}, [3]),
    ({"fid_": "30"}, [4]),
    ({"增长%": "五"}, [5]),
    ({"done": "true", "invest_yi": "3"}, [3, 6]),
    ({"name_zh": "<b>x</b>", "seq": "6"}, [6]),
    ({"seq": "x' OR '1'='1"}, []),
])
def test_query_property_filters_compare_as_text(ro_store, filters, fids):
    r = ro_store.query("sites", filters=filters)
    assert r.features.index.tolist() == fids and r.number_matched == len(fids)


def test_query_filter_and_bbox_and_page(ro_store):
    r = ro_store.query("sites", bbox=(115, 42, 118, 46), filters={"done": "true"}, limit=1,
                    offset=1)
    assert r.features.index.tolist() == [3] and r.number_matched == 3


def test_unknown_property_is_a_query_error(ro_store):
    with pytest.raises(QueryError, match="unknown property 'nope'; this layer has: name_zh, "
                       "seq, invest_yi, done, maybe, fid_, 增长%"):
        ro_store.query("sites", filters={"nope": "1"})
    with pytest.raises(QueryError):
        ro_store.query("sites", filters={"geometry": "1"})


def test_get_feature(ro_store):
    f = ro_store.get_feature("sites", 2)
    assert f.index.tolist() == [2] and f["name_zh"].tolist() == ["多伦"]
    assert ro_store.get_feature("sites", 99) is None
    assert ro_store.get_feature("sites", 0) is None


def test_empty_layer(backend_store_url):
    s = open_store(backend_store_url)
    info = s.put("empty", gpd.GeoDataFrame({"a": []}, geometry=[], crs=4326))
    assert info.count == 0 and all(math.isnan(b) for b in info.bounds)
    assert s.get("empty").empty and s.query("empty", bbox=(0, 0, 1, 1)).number_matched == 0


def test_other_crs_is_stored_in_4326(backend_store_url):
    s = open_store(backend_store_url)
    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(116, 44)], crs=4326)
    s.put("utm", gdf.to_crs(32650))
    x, y = s.get("utm").geometry.iloc[0].coords[0]
    assert s.get("utm").crs.equals("EPSG:4326")
    assert abs(x - 116) < 1e-9 and abs(y - 44) < 1e-9


def test_reference_layers_load_and_check(backend_ref_url):
    s = open_store(backend_ref_url)
    present = [lid for lid in layer_ids() if os.path.exists(layer_path(lid))]
    assert [i.name for i in s.list_layers()] == present
    assert all(not i.user_layer and i.meta["sha256"] for i in s.list_layers())
    assert s.check() == []


# -- both backends side by side ------------------------------------------------------------
QUERIES = [
    {},
    {"bbox": (115.5, 43.5, 116.5, 44.5)},
    {"limit": 3, "offset": 2},
    {"filters": {"name_zh": "锡林浩特"}},
    {"filters": {"maybe": "true"}, "limit": 1},
    {"bbox": (115, 42, 118, 46), "filters": {"invest_yi": "3.0"}},
    {"offset": 10},
]


@pytest.fixture()
def both(tmp_path, pg_empty_url):
    """A GeoPackage store and a PostGIS store, both empty."""
    pg = open_store(pg_empty_url)
    yield open_store(str(tmp_path / "a.gpkg")), pg
    pg.close()


def test_backends_agree_on_frames_and_queries(both):
    gp, pg = both
    for s in both:
        s.put("sites", sites())
    pd.testing.assert_frame_equal(gp.get("sites"), pg.get("sites"))
    for q in QUERIES:
        a, b = gp.query("sites", **q), pg.query("sites", **q)
        assert a.number_matched == b.number_matched, q
        pd.testing.assert_frame_equal(a.features, b.features, obj=str(q))


def test_backends_agree_on_reference_layers(gpkg_ref_path, pg_ref_url):
    gp, pg = open_store(gpkg_ref_path), open_store(pg_ref_url)
    infos = {i.name: i for i in pg.list_layers()}
    for info in gp.list_layers():
        other = infos.pop(info.name)
        assert (other.count, other.meta) == (info.count, info.meta)
        np.testing.assert_allclose(other.bounds, info.bounds)
        pd.testing.assert_frame_equal(gp.get(info.name), pg.get(info.name), obj=info.name)
        minx, miny, maxx, maxy = info.bounds
        box = (minx, miny, (minx + maxx) / 2, (miny + maxy) / 2)
        a = gp.query(info.name, bbox=box, limit=7, offset=1)
        b = pg.query(info.name, bbox=box, limit=7, offset=1)
        assert a.number_matched == b.number_matched
        pd.testing.assert_frame_equal(a.features, b.features, obj=info.name)
    assert infos == {}
    pg.close()
