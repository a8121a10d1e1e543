"""Property-based fuzzing (hypothesis) of uploads and of the items query parameters.

Whatever arrives — random bytes under any file name, bytes that start like a
zip, a GeoPackage or GeoJSON, random JSON shaped like GeoJSON, random query
strings — the answer is a 2xx or a 4xx JSON error, never a 5xx (the test
client re-raises unhandled exceptions, so those fail too), and the store stays
sound.  Example counts are bounded so the file runs in well under a minute.
"""

from __future__ import annotations

import io
import json
import math
import secrets

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layers.open import open_store

# derandomize: the same examples on every run, so `make test` cannot flake; hypothesis
# still searches its usual edge cases (empty, huge, NaN, unicode) first.
FUZZ = settings(max_examples=50, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

EXTENSIONS = ["", ".geojson", ".json", ".zip", ".csv", ".kml", ".kmz", ".gpx", ".gpkg",
              ".xlsx", ".shp", ".txt", ".7z"]
MAGIC = [b"", b"PK\x03\x04", b"PK\x05\x06", b"SQLite format 3\x00", b'{"type":"FeatureCollection"',
         b"\xef\xbb\xbf", b"<?xml version='1.0'?><kml>", b"<gpx>", b"lon,lat\n", b"\x00\x00'\n"]
# Text without lone surrogates (they cannot be sent in a URL or a body at all).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@pytest.fixture()
def writer(make_app):
    token = secrets.token_urlsafe(16)
    app = make_app(ATLAS_WRITE_TOKEN=token)
    client = app.test_client()
    client.auth = {"Authorization": f"Bearer {token}"}
    client.store = open_store(app.extensions["atlas_settings"].store)
    return client


def answered(r) -> None:
    assert r.status_code < 500, (r.status_code, r.data[:300])
    if r.status_code >= 400:
        body = r.get_json()
        assert body["error"] and body["status"] == r.status_code


def consistent(client, r, name: str) -> None:
    """A 2xx stored exactly what it answered; a 4xx stored nothing new."""
    answered(r)
    if r.status_code in (200, 201):
        assert client.store.info(name).count == r.get_json()["count"]
        client.delete(f"/api/layers/{name}", headers=client.auth)
    else:
        assert not client.store.exists(name)


@FUZZ
@given(magic=st.sampled_from(MAGIC), tail=st.binary(max_size=2048),
       ext=st.sampled_from(EXTENSIONS))
def test_random_files_get_an_answer(writer, magic, tail, ext):
    r = writer.put("/api/layers/fuzz", data={"file": (io.BytesIO(magic + tail), f"f{ext}")},
                   content_type="multipart/form-data", headers=writer.auth)
    consistent(writer, r, "fuzz")


@FUZZ
@given(text=st.text(max_size=300), ext=st.sampled_from([".geojson", ".csv", ".kml", ""]))
def test_random_text_gets_an_answer(writer, text, ext):
    data = text.encode("utf-8", "surrogatepass")
    r = writer.put(f"/api/layers/fuzz?filename=f{ext}", data=data,
                   content_type="application/octet-stream", headers=writer.auth)
    consistent(writer, r, "fuzz")


NUMBER = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                   st.integers(-10**20, 10**20), st.sampled_from([116.0, 44.0, 0, -999]))
JSONISH = st.recursive(st.none() | st.booleans() | NUMBER | TEXT,
                       lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(TEXT, inner, max_size=4), max_leaves=12)
COORDS = st.lists(NUMBER, min_size=0, max_size=4)
GEOMETRY = st.one_of(
    st.fixed_dictionaries({"type": st.just("Point"), "coordinates": COORDS}),
    st.fixed_dictionaries({"type": st.sampled_from(["LineString", "MultiPoint"]),
                           "coordinates": st.lists(COORDS, max_size=5)}),
    st.fixed_dictionaries({"type": st.sampled_from(["Polygon", "MultiLineString"]),
                           "coordinates": st.lists(st.lists(COORDS, max_size=6), max_size=2)}),
    st.fixed_dictionaries({"type": TEXT, "coordinates": JSONISH}),
    st.none(), JSONISH,
)
FEATURE = st.fixed_dictionaries({
    "type": st.sampled_from(["Feature", "Feature", "feature", "Point"]),
    "geometry": GEOMETRY,
    "properties": st.one_of(st.dictionaries(TEXT, JSONISH, max_size=5), st.none(), JSONISH),
})


@FUZZ
@given(features=st.lists(FEATURE, max_size=6), extra=st.dictionaries(TEXT, JSONISH, max_size=2))
def test_random_geojson_gets_an_answer(writer, features, extra):
    doc = {**extra, "type": "FeatureCollection", "features": features}
    data = json.dumps(doc, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")
    r = writer.put("/api/layers/fuzz", data=data, content_type="application/geo+json",
                   headers=writer.auth)
    consistent(writer, r, "fuzz")
    if r.status_code in (200, 201):
        gdf = writer.store.get("fuzz") if writer.store.exists("fuzz") else None
        assert gdf is None or all(math.isfinite(v) for v in gdf.total_bounds)


QUERY_VALUE = st.one_of(TEXT, NUMBER.map(str),
                        st.lists(NUMBER, min_size=0, max_size=7).map(
                            lambda xs: ",".join(map(str, xs))))
COMMON_KEYS = ["bbox", "limit", "offset", "zoom", "datum", "f", "lang", "bbox-crs", "datetime",
               "properties", "sortby", "name_zh", "category", "crs", "filter", "id"]
PARAMS = st.dictionaries(st.one_of(st.sampled_from(COMMON_KEYS), TEXT.filter(bool)),
                         QUERY_VALUE, max_size=5)
LAYER = st.sampled_from(["projects", "rivers", "admin", "stations", "no_such_layer",
                         "..", "a b", "%00"])


@FUZZ
@given(layer=LAYER, params=PARAMS)
def test_random_items_queries_on_the_layers_api(client, layer, params):
    answered(client.get(f"/api/layers/{layer}/features", query_string=params))


@FUZZ
@given(layer=LAYER, params=PARAMS)
def test_random_items_queries_on_ogc_api(client, layer, params):
    answered(client.get(f"/ogcapi/collections/{layer}/items", query_string=params))


@settings(FUZZ, max_examples=20)
@given(layer=LAYER, fid=st.one_of(st.integers(-5, 10**12).map(str), TEXT.filter(bool)),
       params=PARAMS)
def test_random_single_item_requests(client, layer, fid, params):
    answered(client.get(f"/ogcapi/collections/{layer}/items/{fid}", query_string=params))


def test_store_is_sound_after_fuzzing(writer):
    # Runs in the same session as the fuzzers above: the shared reference store is intact.
    assert writer.store.check() == []
