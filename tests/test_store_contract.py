"""The Store contract, part two: every capability :class:`layers.store.Store` declares.

Each test runs on both backends (a fresh GeoPackage file and a fresh PostGIS database
of the throwaway cluster, tests/pg.py) with the expected values written once, so
neither backend can drift.  :data:`DECLARED` is checked against the interface itself:
a capability added to ``Store`` without a test here fails
``test_every_declared_capability_is_tested``.
"""

from __future__ import annotations

import inspect
import os
import subprocess

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.vector_tiles import tile_for_lonlat
from layers.filter import parse_filter
from layers.memory import MemoryLayer
from layers.open import open_store
from layers.store import (
    LayerExists,
    LayerNotFound,
    QueryError,
    Store,
    StoreReadOnly,
    VersionConflict,
    VersionNotFound,
)
from tests.test_store import META, sites

#: Every public method of the interface, each exercised by a test below.
DECLARED = {
    "list_layers", "info", "exists", "get", "get_feature", "properties", "query",
    "in_memory", "tile", "put", "put_many", "delete", "versions", "restore",
    "delete_version", "check", "close", "location", "temporal", "jobs", "status",
}


def test_every_declared_capability_is_tested():
    public = {n for n, _ in inspect.getmembers(Store) if not n.startswith("_")}
    assert public == DECLARED
    # Both backends implement every abstract capability (nothing left to probe for).
    from layers.gpkg import GeoPackageStore
    from layers.postgis import PostGISStore

    assert not GeoPackageStore.__abstractmethods__ and not PostGISStore.__abstractmethods__


@pytest.fixture()
def store(backend_store_url):
    s = open_store(backend_store_url)
    s.put("sites", sites(), meta=META)
    yield s
    s.close()


def points(n: int, seed: int = 0, **columns) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    return gpd.GeoDataFrame(
        {"name_zh": [f"点{i}" for i in range(n)], "v": np.arange(n), **columns},
        geometry=shapely.points(rng.uniform(115, 117, n), rng.uniform(43, 45, n)), crs=4326)


def test_location_names_the_store_without_secrets(store, backend):
    assert store.location
    if backend == "postgis":
        assert store.location.startswith("postgresql://") and "@" not in store.location


def test_properties_are_the_stored_kinds(store):
    assert store.properties("sites") == {
        "name_zh": "str", "seq": "int", "invest_yi": "float", "done": "bool", "maybe": "bool",
        "fid_": "int", "增长%": "str"}
    with pytest.raises(LayerNotFound):
        store.properties("nope")


def test_in_memory_where_the_backend_keeps_a_copy(store, backend):
    layer = store.in_memory("sites")
    if backend == "gpkg":
        assert isinstance(layer, MemoryLayer) and layer.info == store.info("sites")
        assert layer.gdf is store.get("sites")
        assert layer.select(bbox=(115.5, 43.5, 116.5, 44.5)).tolist() == [0, 5]
    else:
        assert layer is None
    with pytest.raises(LayerNotFound):
        store.in_memory("nope")


def test_tile_carries_fids_and_name(store):
    z = 8
    x, y = tile_for_lonlat(116.0, 44.0, z)
    decoded = mapbox_vector_tile.decode(store.tile("sites", z, x, y))["sites"]["features"]
    by_id = {f["id"]: f["properties"] for f in decoded}
    assert by_id[1] == {"name": "锡林浩特"}
    assert 6 in by_id  # the box around Xilinhot
    assert store.tile("sites", z, 0, 0) == b""


def test_get_feature(store):
    assert store.get_feature("sites", 2)["name_zh"].tolist() == ["多伦"]
    assert store.get_feature("sites", 99) is None


def test_query_sortby_and_properties(store):
    res = store.query("sites", sortby=[("invest_yi", False)], properties=["name_zh"])
    # 12.25, 3.0 (fid 3), 3.0 (fid 6), 1.5, 0.0, missing last; ties by fid.
    assert res.features.index.tolist() == [5, 3, 6, 1, 4, 2]
    assert res.features.columns.tolist() == ["name_zh", "geometry"]
    assert res.number_matched == 6 and not res.estimated
    by_name = store.query("sites", sortby=[("name_zh", True)], limit=3)
    # Code-point order, as Python sorts: "3.0" < "<b>x</b>" < "True"; the missing name last.
    assert by_name.features["name_zh"].tolist() == sorted(["3.0", "<b>x</b>", "True"])
    with pytest.raises(QueryError):
        store.query("sites", sortby=[("nope", True)])
    with pytest.raises(QueryError):
        store.query("sites", properties=["nope"])


# -- CQL2 filters (where) and datetime ------------------------------------------------------
# Each condition with the same selection written independently in GeoPandas on the frame
# that was stored (sites(): fids 1..6 in row order; three-valued logic: a missing value
# satisfies neither a comparison nor its negation).
def _geodesic_within(g: gpd.GeoDataFrame, lon: float, lat: float, metres: float) -> pd.Series:
    """Within ``metres`` of (lon, lat) on the ellipsoid, by pyproj.Geod over each shape's
    vertices densified to 0.005° (0 inside a polygon): the filter measures otherwise."""
    import pyproj

    geod, here = pyproj.Geod(ellps="WGS84"), shapely.Point(lon, lat)

    def dist(geom) -> float:
        if geom is None or geom.is_empty:
            return np.inf
        if geom.intersects(here):
            return 0.0
        xy = shapely.get_coordinates(shapely.segmentize(geom, 0.005))
        return float(np.min(geod.inv(xy[:, 0], xy[:, 1], np.full(len(xy), lon),
                                     np.full(len(xy), lat))[2]))

    return pd.Series([dist(x) <= metres for x in g.geometry], index=g.index)


WHERE_CASES = [
    ("seq IN (1, 3, 5)", lambda g: g.seq.isin([1, 3, 5])),
    ("invest_yi BETWEEN 1 AND 3", lambda g: g.invest_yi.between(1, 3)),
    ("NOT (name_zh = '多伦')", lambda g: g.name_zh.notna() & (g.name_zh != "多伦")),
    ("maybe IS NULL OR invest_yi > 10", lambda g: g.maybe.isna() | (g.invest_yi > 10)),
    ("done = TRUE AND NOT maybe = FALSE",
     lambda g: g.done & g.maybe.notna() & (g.maybe != False)),  # noqa: E712
    ("name_zh LIKE '%x%' OR \"增长%\" = '二'",
     lambda g: g.name_zh.str.contains("x", na=False) | (g["增长%"] == "二")),
    ("fid_ < 35", lambda g: g.fid < 35),
    ("S_INTERSECTS(geometry, BBOX(115.5, 43.5, 116.6, 44.5))",
     lambda g: g.intersects(shapely.box(115.5, 43.5, 116.6, 44.5))),
    ("S_WITHIN(geometry, POLYGON((115 41, 119 41, 119 46, 115 46, 115 41)))",
     lambda g: g.within(shapely.box(115, 41, 119, 46))),
    ("S_DISJOINT(geometry, POINT(116 44))",
     lambda g: g.geometry.notna() & g.disjoint(shapely.Point(116, 44))),
    ("S_DWITHIN(geometry, POINT(116.5 42.5), 40000)",
     lambda g: _geodesic_within(g, 116.5, 42.5, 40_000)),
    ("S_DWITHIN(geometry, POINT(116.5 42.5), 200, 'kilometers') AND NOT seq = 6",
     lambda g: _geodesic_within(g, 116.5, 42.5, 200_000) & (g.seq != 6)),
]


@pytest.mark.parametrize(("text", "select"), WHERE_CASES, ids=[c[0] for c in WHERE_CASES])
def test_where_selects_what_geopandas_selects(store, text, select):
    expected = [i + 1 for i in np.flatnonzero(select(sites()).fillna(False).to_numpy(bool))]
    res = store.query("sites", where=parse_filter(text))
    assert res.features.index.tolist() == expected
    assert res.number_matched == len(expected)
    # CQL2 JSON of the same filter selects the same features.
    as_json = parse_filter(parse_filter(text).to_json())
    assert store.query("sites", where=as_json).features.index.tolist() == expected


def test_where_on_the_reference_projects_with_bbox_sort_and_paging(backend_ref_url):
    store = open_store(backend_ref_url)
    g = gpd.read_file("data/xilingol/projects.geojson")  # the committed file, read apart
    g.index = pd.RangeIndex(1, len(g) + 1)
    county = gpd.read_file("data/xilingol/admin.geojson")
    xilinhot = county.loc[county.name_zh == "锡林浩特市"].geometry.iloc[0].simplify(0.01)
    cql = (f"category IN ('energy', 'ecology') AND total_investment_yi >= 5 AND "
           f"S_INTERSECTS(geometry, {xilinhot.wkt}) AND NOT name_en LIKE '%station%'")
    want = g[g.category.isin(["energy", "ecology"]) & (g.total_investment_yi >= 5)
             & g.intersects(xilinhot) & ~g.name_en.str.contains("station", case=True)]
    assert len(want) > 1
    res = store.query("projects", where=parse_filter(cql), limit=2, offset=1,
                      sortby=[("total_investment_yi", False)],
                      properties=["name_zh", "total_investment_yi"])
    order = want.sort_values(["total_investment_yi"], ascending=False, kind="stable")
    assert res.number_matched == len(want)
    assert res.features.index.tolist() == order.index.tolist()[1:3]
    assert res.features.columns.tolist() == ["name_zh", "total_investment_yi", "geometry"]
    # bbox and equality filters narrow the same selection further.
    box = (115.5, 43.5, 116.5, 44.5)
    narrowed = want[want.intersects(shapely.box(*box)) & (want.status == "new")]
    res = store.query("projects", where=parse_filter(cql), bbox=box, filters={"status": "new"})
    assert res.features.index.tolist() == narrowed.index.tolist()
    store.close()


def test_a_filter_the_layer_cannot_answer_is_a_query_error_naming_the_part(store):
    for text, part in (("nope = 1", "nope = 1"), ("seq > 'abc'", "seq > 'abc'"),
                       ("name_zh LIKE 1", "")):
        with pytest.raises(QueryError) as e:
            store.query("sites", where=parse_filter(text) if part else text)
        assert e.value.code == "bad_filter" and e.value.message_zh and e.value.hint
        assert part in str(e.value)


def dated(n: int = 6) -> gpd.GeoDataFrame:
    """Points with a date column (as text), a timestamp column and an undated one."""
    return points(n, seed=3,
                  visited=["2023-05-01", "2023-06-15", None, "2022-12-31", "2023-06-15",
                           "2024-02-29"][:n],
                  seen=pd.to_datetime(["2023-05-01T08:00:00Z", "2023-05-01T23:59:59Z",
                                       "2023-05-02T00:00:00Z", None, "2021-01-01T00:00:00Z",
                                       "2025-07-01T12:30:00Z"][:n], utc=True))


DATETIME_CASES = [
    ("2023-06-15", lambda d: d == "2023-06-15"),
    ("2023-01-01/2023-12-31", lambda d: (d >= "2023-01-01") & (d <= "2023-12-31")),
    ("2023-06-01/..", lambda d: d >= "2023-06-01"),
    ("../2023-05-01", lambda d: d <= "2023-05-01"),
    ("2023-06-15T10:00:00Z", lambda d: d == "2023-06-15"),
]


@pytest.mark.parametrize(("value", "select"), DATETIME_CASES, ids=[c[0] for c in DATETIME_CASES])
def test_datetime_filters_the_first_date_column_of_a_user_layer(store, value, select):
    frame = dated()
    store.put("visits", frame)
    assert store.properties("visits")["visited"] == "date"
    assert store.properties("visits")["seen"] == "datetime"
    expected = [i + 1 for i in np.flatnonzero(select(frame.visited).fillna(False))]
    res = store.query("visits", datetime=value)
    assert res.features.index.tolist() == expected
    # The stored text is the text written.
    assert store.get("visits")["visited"].tolist()[:2] == ["2023-05-01", "2023-06-15"]


def test_datetime_with_times_and_a_declared_catalog_field(store, monkeypatch):
    import dataclasses

    import layers.catalog as catalog

    frame = dated()
    # A user layer named like no catalog layer filters on its first date column; declare
    # a catalog layer's temporal field and the same data filters on that one instead.
    spec = catalog.get_spec("ports")
    monkeypatch.setitem(catalog._BY_ID, "ports", dataclasses.replace(spec, temporal="seen"))
    store.put("ports", frame)
    seen = frame.seen
    lo, hi = pd.Timestamp("2023-05-01T12:00:00Z"), pd.Timestamp("2023-05-02T00:00:00Z")
    want = [i + 1 for i in np.flatnonzero(((seen >= lo) & (seen <= hi)).fillna(False))]
    res = store.query("ports", datetime="2023-05-01T20:00:00+08:00/2023-05-02T08:00:00+08:00")
    assert res.features.index.tolist() == want == [2, 3]
    extent = store.temporal("ports")
    assert (extent.property, extent.kind) == ("seen", "datetime")
    assert (extent.start, extent.end) == ("2021-01-01T00:00:00Z", "2025-07-01T12:30:00Z")
    # Datetime and a CQL2 filter together.
    res = store.query("ports", datetime="2023-01-01/..", where=parse_filter("v >= 2"))
    want = [i + 1 for i in np.flatnonzero(((seen >= pd.Timestamp("2023-01-01", tz="UTC"))
                                           & (frame.v >= 2)).fillna(False))]
    assert res.features.index.tolist() == want


def test_temporal_extent_of_user_layers(store):
    store.put("visits", dated())
    extent = store.temporal("visits")
    visited = dated().visited.dropna()
    assert (extent.property, extent.kind, extent.start, extent.end) == (
        "visited", "date", visited.min(), visited.max())
    assert store.temporal("sites") is None  # no date column: no temporal extent
    with pytest.raises(LayerNotFound):
        store.temporal("nope")


def test_datetime_on_a_layer_without_dates_keeps_everything_but_is_checked(store):
    assert store.query("sites", datetime="2023-01-01/..").number_matched == 6
    with pytest.raises(QueryError) as e:
        store.query("sites", datetime="yesterday")
    assert e.value.code == "bad_filter"


def test_dates_read_by_gdal_are_stored_as_iso_dates(store):
    frame = points(3, day=pd.to_datetime(["2023-05-01", None, "2024-01-31"]))
    store.put("days", frame)
    assert store.properties("days")["day"] == "date"
    days = store.get("days")["day"]
    assert [v if isinstance(v, str) else None for v in days] == [
        "2023-05-01", None, "2024-01-31"]
    assert store.query("days", datetime="2024-01-01/..").features.index.tolist() == [3]
    assert store.query("days", sortby=[("day", False)]).features.index.tolist() == [3, 1, 2]


def test_count_estimate_is_allowed_and_flagged(store):
    res = store.query("sites", bbox=(115, 42, 118, 46), count="estimate")
    assert res.number_matched >= res.number_returned
    assert res.estimated in (True, False)


@pytest.mark.parametrize("kwargs", [
    {}, {"bbox": (115.5, 43.5, 116.5, 44.5)}, {"filters": {"seq": "3"}},
    {"sortby": [("invest_yi", False)], "limit": 3, "offset": 1}, {"limit": 0},
])
def test_query_answers_geojson_as_encode_features_writes_it(store, kwargs):
    """output="geojson": the page's Feature objects as geo.geojson writes the frame's
    (PostGIS builds them in SQL), with the same counts."""
    import json

    from geo.geojson import encode_features

    frame = store.query("sites", **kwargs)
    answer = store.query("sites", output="geojson", **kwargs)
    assert answer.features is None and answer.number_returned == len(frame.features)
    assert answer.number_matched == frame.number_matched
    expected = json.loads(b"[" + b",".join(encode_features(frame.features)) + b"]")
    got = json.loads(b"[" + answer.geojson + b"]")
    assert got == expected
    # A whole float stays a float (3.0, not 3): QGIS and GDAL type a field by its values.
    def types(features: list) -> list:
        return [{k: type(v).__name__ for k, v in f["properties"].items()} for f in features]

    assert types(got) == types(expected)


def test_counts_above_ten_thousand_are_estimated_where_the_store_says_so(backend_store_url,
                                                                        backend):
    """count="estimate" on 12,000 points: exact below 10,000 matches on both stores; above,
    PostGIS answers the planner's estimate, flagged, within 10 % of the true count."""
    s = open_store(backend_store_url)
    gdf = points(12_000, seed=5)
    s.put("many", gdf)
    x, y = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
    for box in ((115.0, 43.0, 117.0, 45.0), (115.0, 43.0, 115.9, 45.0)):
        truth = int(((x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])).sum())
        res = s.query("many", bbox=box, limit=5, count="estimate")
        exact = s.query("many", bbox=box, limit=5)
        assert exact.number_matched == truth and not exact.estimated
        if truth > 10_000 and backend == "postgis":
            assert res.estimated and abs(res.number_matched - truth) <= truth / 10
        else:
            assert res.number_matched == truth and not res.estimated
    # Rows are stored in spatial order, fids as written.
    back = s.get("many")
    assert back.index.tolist() == list(range(1, 12_001))
    assert back["v"].tolist() == list(range(12_000))
    s.close()


def test_create_only_refuses_an_existing_layer_inside_the_write(store):
    before = store.info("sites")
    with pytest.raises(LayerExists) as e:
        store.put("sites", points(3), create_only=True)
    assert e.value.code == "layer_exists"
    assert store.info("sites") == before and store.check() == []
    info = store.put("fresh", points(3), create_only=True)
    assert info.version_number == 1 and info.count == 3


def _df_avail(path: str) -> int:
    """Free bytes of the filesystem holding ``path`` as ``df`` reports them."""
    out = subprocess.run(["df", "-B1", "--output=avail", path], capture_output=True,
                         text=True, check=True).stdout
    return int(out.split()[-1])


def test_status_says_writable_and_the_free_space(store, backend):
    status = store.status()
    assert status.writable and status.reason is None
    if backend == "postgis":
        assert status.free_bytes is None  # the database server's disk is not visible
    else:
        # other processes write on this disk too: agree with df to within 256 MB
        assert abs(status.free_bytes - _df_avail(os.path.dirname(store.location))) < 2**28


def _read_only_database(url: str, on: bool) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        (db,) = con.execute("SELECT current_database()").fetchone()
        con.execute("SET default_transaction_read_only = off")
        con.execute(f'ALTER DATABASE "{db}" SET default_transaction_read_only = '
                    f'{"on" if on else "off"}')


def test_a_store_that_cannot_be_written_says_why_and_refuses_writes(
        store, backend, backend_store_url):
    """GeoPackage: less free space than it keeps in reserve; PostGIS: a read-only database.
    Reads go on, writes raise StoreReadOnly (503) and leave nothing, then resume."""
    store.close()
    if backend == "postgis":
        _read_only_database(backend_store_url, True)
        blocked = open_store(backend_store_url)
    else:
        free_mb = _df_avail(os.path.dirname(backend_store_url)) / 2**20
        blocked = open_store(backend_store_url, min_free_mb=free_mb + 1024)
    try:
        status = blocked.status()
        assert not status.writable
        assert ("read-only" in status.reason) if backend == "postgis" else (
            "ATLAS_MIN_FREE_MB" in status.reason and "ATLAS_MIN_FREE_MB" in status.reason_zh)
        before = [(i.name, i.version) for i in blocked.list_layers()]
        assert blocked.get("sites").shape[0] == 6  # reads go on
        for write in (lambda: blocked.put("more", points(3)),
                      lambda: blocked.put("sites", points(3)),
                      lambda: blocked.delete("sites")):
            with pytest.raises(StoreReadOnly) as e:
                write()
            assert e.value.code == "store_read_only" and e.value.retry_after > 0
            assert e.value.full == (backend == "gpkg")
        assert [(i.name, i.version) for i in blocked.list_layers()] == before
        assert blocked.check() == []
    finally:
        blocked.close()
        if backend == "postgis":
            _read_only_database(backend_store_url, False)
    again = open_store(backend_store_url)
    assert again.status().writable and again.put("more", points(3)).count == 3
    again.close()


def test_put_many_lands_all_or_nothing(store):
    infos = store.put_many({"a": (points(4), {"title": "甲"}), "b": (points(2), None)})
    assert {n: (i.count, i.version_number) for n, i in infos.items()} == {"a": (4, 1), "b": (2, 1)}
    assert store.info("a").meta == {"title": "甲"}
    before = {i.name: i.version for i in store.list_layers()}
    # The second layer cannot be written (an unsigned integer beyond 64 bits): the first
    # one's new version, already inserted in the same transaction, must not land either.
    bad = points(2, big=np.array([2**64 - 1, 1], dtype="uint64"))
    with pytest.raises(Exception):  # noqa: B017 - SQLite and PostgreSQL word it differently
        store.put_many({"a": (points(9), None), "c": (bad, None)})
    assert {i.name: i.version for i in store.list_layers()} == before
    assert not store.exists("c") and store.info("a").count == 4
    assert store.check() == []


def test_versions_are_numbered_kept_and_listed_newest_first(store):
    store.put("sites", points(2), meta={"title": "v2", "note": "月报"})
    store.put("sites", points(3), meta={"title": "v3"})
    versions = store.versions("sites")
    assert [(v.number, v.count, v.current) for v in versions] == [
        (3, 3, True), (2, 2, False), (1, 6, False)]
    assert versions[1].meta == {"title": "v2", "note": "月报"}
    assert versions[2].meta == META and versions[2].restored_from is None
    assert all(v.created.endswith("Z") for v in versions)
    assert store.info("sites").version_number == 3
    pd.testing.assert_frame_equal(store.get("sites", 1), store.get("sites", 1))
    assert store.get("sites", 1)["name_zh"].tolist()[:2] == ["锡林浩特", "多伦"]
    assert len(store.get("sites", 2)) == 2
    with pytest.raises(VersionNotFound):
        store.get("sites", 7)
    with pytest.raises(LayerNotFound):
        store.versions("nope")
    assert store.check() == []


def test_restore_writes_an_exact_copy_as_the_next_version(store):
    original = store.get("sites").copy()
    store.put("sites", points(2))
    info = store.restore("sites", 1, meta={"author": "管理员"})
    assert info.version_number == 3 and info.count == 6
    assert info.meta == {**META, "author": "管理员", "restored_from": 1}
    pd.testing.assert_frame_equal(store.get("sites"), original)
    assert store.properties("sites")["seq"] == "int"
    v = store.versions("sites")[0]
    assert (v.number, v.restored_from, v.current) == (3, 1, True)
    with pytest.raises(VersionNotFound):
        store.restore("sites", 9)
    assert store.check() == []


def test_put_many_records_a_restore_written_with_other_layers(store):
    # A restored layer and its re-derived dependent land together; the copy says so.
    original = store.get("sites").copy()
    store.put("sites", points(2))
    infos = store.put_many({"sites": (original, {**META, "restored_from": 1}),
                            "dep": (points(3), {"note": "re-derived"})})
    assert infos["sites"].version_number == 3 and infos["sites"].meta["restored_from"] == 1
    v = store.versions("sites")[0]
    assert (v.number, v.restored_from, v.current) == (3, 1, True)
    pd.testing.assert_frame_equal(store.get("sites"), original)
    assert store.versions("dep")[0].restored_from is None
    # Anything but an integer is not a restore.
    store.put("sites", points(1), meta={"restored_from": "1"})
    assert store.versions("sites")[0].restored_from is None
    assert store.check() == []


def test_delete_version_keeps_the_current_one(store):
    store.put("sites", points(2))
    with pytest.raises(VersionConflict) as e:
        store.delete_version("sites", 2)
    assert e.value.code == "version_current"
    assert store.delete_version("sites", 1) is True
    assert store.delete_version("sites", 1) is False
    assert [v.number for v in store.versions("sites")] == [2]
    # Numbers are never reused: the next write is 3.
    assert store.put("sites", points(1)).version_number == 3
    assert store.check() == []


def test_delete_removes_every_version(store):
    store.put("sites", points(2))
    assert store.delete("sites") is True
    assert not store.exists("sites") and store.check() == []
    assert store.put("sites", points(1)).version_number == 1  # a new layer starts again


def test_close_and_reuse(store):
    store.close()
    assert store.info("sites").count == 6  # the store reopens what it needs


# -- jobs (layers.jobs.JobStore, in the store) --------------------------------------------------
def test_jobs_are_kept_in_the_store_for_every_app_server(store, backend_store_url, monkeypatch):
    """Submitted through one store object (one app server), claimed, progressed and read
    through another on the same database; limits, cancel, failure and expiry."""
    import layers.jobs as jobs_mod
    from layers.errors import JobNotDone, JobNotFound, JobQueueFull, TooManyJobs

    other = open_store(backend_store_url)  # a second app server of the same store
    a, b = store.jobs(), other.jobs()
    job = a.submit("overlay", {"datum": "gcj02"}, "10.0.0.1", "站点.csv", b"lon,lat\n" * 1000,
                   per_client=2, queue_limit=3)
    assert b.get(job.id).status == "queued" and b.get(job.id).params == {"datum": "gcj02"}
    assert b.read_input(job.id) == b"lon,lat\n" * 1000
    second = a.submit("overlay", {}, "10.0.0.1", "b.csv", b"x", per_client=2, queue_limit=3)
    with pytest.raises(TooManyJobs):
        b.submit("overlay", {}, "10.0.0.1", "c.csv", b"x", per_client=2, queue_limit=3)
    third = b.submit("overlay", {}, "10.0.0.2", "c.csv", b"x", per_client=2, queue_limit=3)
    with pytest.raises(JobQueueFull):
        a.submit("overlay", {}, "10.0.0.3", "d.csv", b"x", per_client=2, queue_limit=3)

    # Claimed oldest first, each by one runner only.
    assert b.claim("runner-b").id == job.id and a.claim("runner-a").id == second.id
    assert a.progress(job.id, "runner-b", 0.25) and not a.progress(job.id, "runner-a", 0.5)
    assert b.get(job.id).progress == 0.25 and b.get(job.id).owner == "runner-b"
    with pytest.raises(JobNotDone):
        list(a.parts(job.id, "csv"))

    # A result file of several parts, read back whole through the other app server.
    monkeypatch.setattr(jobs_mod, "PART_BYTES", 1000)
    text = "".join(f"{i},站点{i}\r\n" for i in range(2000)).encode()
    with b.result_file(job.id, "runner-b", "csv", "text/csv", "overlay.csv") as out:
        for i in range(0, len(text), 777):
            out.write(text[i:i + 777])
    assert out.meta["parts"] > 10 and out.meta["size"] == len(text)
    done = b.finish(job.id, "runner-b", {"csv": out.meta, "summary": {"n": 2000}})
    assert done.status == "done" and done.progress == 1.0 and done.expires > done.finished
    assert b"".join(a.read(job.id, "csv")) == text
    import gzip
    assert gzip.decompress(b"".join(a.parts(job.id, "csv"))) == text  # one gzip stream
    assert a.get(job.id).results["summary"] == {"n": 2000}
    with pytest.raises(JobNotFound):
        list(a.parts(job.id, "geojson"))

    # Cancelled while running: the runner's next report and write find it gone.
    assert a.cancel(second.id).status == "running"
    assert not a.progress(second.id, "runner-a", 0.9)
    with pytest.raises(JobNotFound):
        a.write_part(second.id, "runner-a", "csv", 0, b"")
    with pytest.raises(JobNotFound):
        b.get(second.id)

    # A failure keeps the error body, drops input and partial results.
    assert b.claim("runner-b").id == third.id
    b.write_part(third.id, "runner-b", "csv", 0, b"partial")
    assert a.fail(third.id, {"error": "boom", "code": "job_failed"}, owner="runner-b")
    failed = b.get(third.id)
    assert failed.status == "failed" and failed.error["code"] == "job_failed"
    assert b.read_input(third.id) == b""
    assert b.claim("runner-b") is None  # nothing queued

    # Expiry removes finished jobs and their files.
    assert a.expire(now=done.expires - 1) == 0
    assert a.expire(now=done.expires + 10 ** 6) == 2
    with pytest.raises(JobNotFound):
        b.get(job.id)
    other.close()


def test_interrupted_jobs_are_found_by_heartbeat_or_restart(store):
    from layers.jobs import interrupted, local_runner_alive, register_runner, runner_id

    jobs = store.jobs()
    job = jobs.submit("overlay", {}, "c", "a.csv", b"x")
    old_runner = runner_id()  # an app of this process that stopped (restarted in place)
    claimed = jobs.claim(old_runner)
    assert interrupted(claimed, claimed.heartbeat + 1, local_runner_alive)
    register_runner(old_runner)  # while it runs, its jobs are its own
    assert not interrupted(claimed, claimed.heartbeat + 1, local_runner_alive)
    register_runner(old_runner, running=False)
    assert interrupted(claimed, claimed.heartbeat + 3600)
    assert [j.id for j in jobs.list("running")] == [job.id]
