"""The bad-input matrix of issue 6: one test per row, through the real write API.

Each upload goes to ``PUT /api/layers/<name>`` (multipart, as a browser form or
``curl -F`` sends it) on an app with its own GeoPackage copy.  Each row ends in
one of two answers, never a 500:

* refused — a 4xx JSON body with ``error`` (what is wrong) and ``hint`` (how to
  fix it), and the store unchanged: no layer of that name, nothing half-written;
* repaired — 200/201 with the read report saying what was changed, and the
  stored layer exactly as answered (same feature count, valid geometries in
  range).

After every row ``store.check()`` must be clean.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from layers.open import open_store
from tests.fixtures.make_fixtures import make_zip

LEAGUE = (110.6, 41.0, 120.5, 47.3)


@pytest.fixture()
def up(wapp, token):
    """``up(name, data, filename, **form)`` → the response of a multipart PUT."""
    c = wapp.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def _up(name: str, data: bytes, filename: str, **form):
        fields = {"file": (io.BytesIO(data), filename), **form}
        return c.put(f"/api/layers/{name}", data=fields, content_type="multipart/form-data",
                     headers=headers)

    _up.client = c
    _up.headers = headers
    return _up


@pytest.fixture()
def store(wapp):
    return open_store(wapp.extensions["atlas_settings"].store)


def refused(r, store, name: str, statuses=(400, 413, 415, 422)) -> dict:
    """Assert a 4xx JSON answer a person can act on, and that nothing was stored."""
    assert r.status_code in statuses, (r.status_code, r.data[:500])
    body = r.get_json()
    assert body["error"] and body["hint"], body
    assert body["status"] == r.status_code
    assert not store.exists(name)
    assert store.check() == []
    return body


def repaired(r, store, name: str) -> tuple[dict, gpd.GeoDataFrame]:
    """Assert a 2xx answer with a report, and the stored layer matching it exactly."""
    assert r.status_code in (200, 201), (r.status_code, r.data[:800])
    body = r.get_json()
    assert {"warnings", "repairs", "dropped", "counts"} <= set(body["report"])
    gdf = store.get(name)
    assert len(gdf) == body["count"] == store.info(name).count
    assert bool(gdf.geometry.is_valid.all()) and not bool(gdf.geometry.is_empty.any())
    minx, miny, maxx, maxy = gdf.total_bounds
    assert -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90
    assert store.check() == []
    return body, gdf


def codes(body: dict) -> set[str]:
    rep = body["report"]
    return {e["code"] for kind in ("warnings", "repairs", "dropped") for e in rep[kind]}


def told(body: dict, *words: str) -> bool:
    """Whether the report mentions one of ``words`` in a code or message."""
    rep = body["report"]
    text = " ".join(f"{e['code']} {e['message']}" for k in ("warnings", "repairs", "dropped")
                    for e in rep[k]).lower()
    return any(w in text for w in words)


def fc(*features: dict) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)},
                      ensure_ascii=False, allow_nan=True).encode()


def feat(geometry: dict, **props) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def pt(lon: float, lat: float, **props) -> dict:
    return feat({"type": "Point", "coordinates": [lon, lat]}, **props)


def shapefile_parts(tmp_path, gdf: gpd.GeoDataFrame, encoding: str = "UTF-8",
                    stem: str = "sites") -> dict[str, bytes]:
    """The files of a real shapefile written by GDAL, by extension."""
    path = tmp_path / f"{stem}.shp"
    pyogrio.write_dataframe(gdf, path, encoding=encoding)
    return {p.suffix.lower(): p.read_bytes() for p in tmp_path.glob(f"{stem}.*")}


TOWNS = gpd.GeoDataFrame(
    {"name": ["锡林浩特市", "多伦县", "二连浩特市"], "code": [152502, 152531, 152501]},
    geometry=[shapely.Point(116.086, 43.933), shapely.Point(116.478, 42.197),
              shapely.Point(111.977, 43.653)], crs=4326)


# -- not a usable file at all ------------------------------------------------------------

def test_empty_file(up, store):
    body = refused(up("empty", b"", "sites.geojson"), store, "empty")
    assert "empty" in body["error"].lower()


def test_not_geodata_at_all(up, store):
    letter = "尊敬的各位同事：\n附件是本年度的工作总结，请查收。\n".encode()
    refused(up("letter", letter, "总结.txt"), store, "letter")


def test_binary_file_with_a_geojson_name(up, store):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    body = refused(up("png", png, "sites.geojson"), store, "png")
    assert "png" in body["error"].lower() or "image" in body["error"].lower()


def test_truncated_json(up, store):
    whole = fc(pt(116.0, 44.0, name="甲"), pt(116.5, 44.5, name="乙"))
    body = refused(up("cut", whole[: len(whole) // 2], "sites.geojson"), store, "cut")
    assert "json" in (body["error"] + body["hint"]).lower()


# -- GeoJSON with broken geometries ------------------------------------------------------

def test_self_intersecting_polygon_is_repaired(up, store):
    bowtie = {"type": "Polygon",
              "coordinates": [[[116, 43], [117, 44], [117, 43], [116, 44], [116, 43]]]}
    body, gdf = repaired(up("bowtie", fc(feat(bowtie, name="蝴蝶")), "bowtie.geojson"),
                         store, "bowtie")
    assert body["report"]["counts"]["repairs"] >= 1
    assert gdf.geometry.iloc[0].area == pytest.approx(0.5)


def test_unclosed_ring(up, store):
    ring = {"type": "Polygon", "coordinates": [[[116, 43], [117, 43], [117, 44], [116, 44]]]}
    good = pt(116.2, 43.5, name="好")
    r = up("unclosed", fc(feat(ring, name="未闭合"), good), "unclosed.geojson")
    body, gdf = repaired(r, store, "unclosed")
    assert "unclosed_ring" in codes(body)  # closed, and said so
    assert gdf.set_index("name").geometry["未闭合"].equals(shapely.box(116, 43, 117, 44))


def test_nan_coordinates(up, store):
    data = fc(pt(float("nan"), 44.0, name="坏"), pt(116.0, 44.0, name="好"))
    assert b"NaN" in data
    body, gdf = repaired(up("nan", data, "nan.geojson"), store, "nan")
    assert gdf["name"].tolist() == ["好"]
    assert [e["code"] for e in body["report"]["dropped"]] == ["nan_coordinate"]


def test_out_of_range_coordinates(up, store):
    data = fc(pt(516.0, 44.0, name="经度越界"), pt(116.0, 144.0, name="纬度越界"),
              pt(116.0, 44.0, name="好"))
    body, gdf = repaired(up("range", data, "range.geojson"), store, "range")  # all in range
    assert gdf["name"].tolist() == ["好"]
    assert [e["code"] for e in body["report"]["dropped"]] == ["out_of_range"] * 2


def test_3d_geometries_are_stored_2d_with_a_note(up, store):
    line = feat({"type": "LineString",
                 "coordinates": [[116.0, 44.0, 1200.5], [116.2, 44.1, 1180.0]]}, name="河段")
    data = fc(pt(116.1, 44.05, name="站"), line)
    data = data.replace(b'"coordinates": [116.1, 44.05]', b'"coordinates": [116.1, 44.05, 1190]')
    body, gdf = repaired(up("threed", data, "threed.geojson"), store, "threed")
    assert not shapely.has_z(gdf.geometry.values).any()
    assert told(body, "z", "height", "3d", "高程")


def test_mixed_geometry_types(up, store):
    poly = {"type": "Polygon",
            "coordinates": [[[116, 43], [117, 43], [117, 44], [116, 44], [116, 43]]]}
    line = {"type": "LineString", "coordinates": [[116, 43], [117, 44]]}
    data = fc(pt(116.5, 43.5, name="点"), feat(line, name="线"), feat(poly, name="面"))
    body, gdf = repaired(up("mixed", data, "mixed.geojson"), store, "mixed")
    assert len(gdf) == 3
    assert set(gdf.geom_type) == {"Point", "LineString", "Polygon"}
    assert told(body, "mixed")


def test_swapped_lat_lon_is_detected_and_fixed(up, store):
    data = fc(*(pt(lat, lon, name=n) for n, lon, lat in
                [("锡林浩特", 116.086, 43.933), ("多伦", 116.478, 42.197),
                 ("二连浩特", 111.977, 43.653)]))
    body, gdf = repaired(up("swapped", data, "swapped.geojson"), store, "swapped")
    assert told(body, "swap")
    assert gdf.geometry.x.between(111, 120).all() and gdf.geometry.y.between(41, 47).all()


# -- shapefiles in zips ------------------------------------------------------------------

@pytest.mark.parametrize("missing", [".shp", ".shx", ".dbf"])
def test_shapefile_zip_missing_a_part(up, store, tmp_path, missing):
    parts = shapefile_parts(tmp_path, TOWNS)
    members = {f"sites{ext}": data for ext, data in parts.items() if ext != missing}
    name = f"no{missing[1:]}"
    body = refused(up(name, make_zip(members), "sites.zip"), store, name)
    assert missing in body["error"] + body["hint"]
    assert ".shp, .shx and .dbf" in body["hint"] or "Shapefile" in body["hint"]


def test_shapefile_zip_without_prj_is_taken_as_wgs84(up, store, tmp_path):
    parts = shapefile_parts(tmp_path, TOWNS)
    members = {f"sites{ext}": data for ext, data in parts.items() if ext != ".prj"}
    body, gdf = repaired(up("noprj", make_zip(members), "sites.zip"), store, "noprj")
    assert len(gdf) == 3 and told(body, "crs", "prj", "wgs 84", "4326")
    assert gdf.geometry.x.round(3).tolist() == [116.086, 116.478, 111.977]


def test_shapefile_with_gbk_dbf_and_no_cpg(up, store, tmp_path):
    parts = shapefile_parts(tmp_path, TOWNS, encoding="GBK")
    assert "锡林浩特市".encode("gbk") in parts[".dbf"]
    members = {f"sites{ext}": data for ext, data in parts.items() if ext not in (".cpg", ".prj")}
    body, gdf = repaired(up("gbk", make_zip(members), "gbk.zip"), store, "gbk")
    assert gdf["name"].tolist() == ["锡林浩特市", "多伦县", "二连浩特市"]


# -- hostile zips ------------------------------------------------------------------------

def _forge_declared_size(data: bytes, size: int) -> bytes:
    """Rewrite every uncompressed-size field of a zip to ``size`` (a lying header)."""
    buf = bytearray(data)
    start = 0
    while (i := buf.find(b"PK\x01\x02", start)) >= 0:  # central directory entries
        struct.pack_into("<I", buf, i + 24, size)
        start = i + 4
    start = 0
    while (i := buf.find(b"PK\x03\x04", start)) >= 0:  # local headers
        struct.pack_into("<I", buf, i + 22, size)
        start = i + 4
    return bytes(buf)


def test_zip_bomb_declaring_far_more_than_the_limit(up, store):
    bomb = _forge_declared_size(make_zip({"sites.geojson": b"\0" * 100_000}), 0xFFFFFFF0)
    assert zipfile.ZipFile(io.BytesIO(bomb)).infolist()[0].file_size > 4_000_000_000
    body = refused(up("bomb", bomb, "sites.zip"), store, "bomb", statuses=(413,))
    assert "MB" in body["error"]


def test_real_zip_bomb_of_zeros(up, store):
    bomb = make_zip({"sites.geojson": b" " * 60_000_000})
    assert len(bomb) < 200_000
    refused(up("zeros", bomb, "sites.zip"), store, "zeros", statuses=(400, 413, 422))


@pytest.mark.parametrize("member", ["../../evil.geojson", "/etc/evil.geojson",
                                    "C:/evil.geojson", "..\\..\\evil.geojson"])
def test_zip_with_climbing_or_absolute_paths(up, store, tmp_path, member):
    data = make_zip({member: fc(pt(116.0, 44.0, name="x"))})
    body = refused(up("escape", data, "sites.zip"), store, "escape")
    assert "path" in body["error"]


def test_nested_zip(up, store, tmp_path):
    inner = make_zip({f"sites{e}": d for e, d in shapefile_parts(tmp_path, TOWNS).items()})
    r = up("nested", make_zip({"inner.zip": inner}), "outer.zip")
    body = refused(r, store, "nested")  # one level only: the hint says to unzip it
    assert "inner.zip" in body["error"] and "unzip" in body["hint"]


# -- other formats -----------------------------------------------------------------------

KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>手机标注</name>
<Placemark><name>锡林浩特</name><Point><coordinates>116.086,43.933,0</coordinates></Point></Placemark>
<Placemark><name>多伦</name><Point><coordinates>116.478,42.197,0</coordinates></Point></Placemark>
<Placemark><name>路线</name><LineString><coordinates>116.086,43.933 116.478,42.197</coordinates>
</LineString></Placemark></Document></kml>"""


def test_kmz_from_a_phone(up, store):
    kmz = make_zip({"doc.kml": KML.encode(), "files/icon.png": b"\x89PNG\r\n\x1a\n"})
    body, gdf = repaired(up("kmz", kmz, "标注.kmz"), store, "kmz")
    assert len(gdf) == 3
    assert "锡林浩特" in set(gdf.astype(str).to_numpy().ravel())


def test_gpx_with_only_waypoints(up, store):
    gpx = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="phone" xmlns="http://www.topografix.com/GPX/1/1">
<wpt lat="43.933" lon="116.086"><ele>990</ele><name>锡林浩特</name></wpt>
<wpt lat="42.197" lon="116.478"><name>多伦</name></wpt>
</gpx>"""
    body, gdf = repaired(up("wpts", gpx.encode(), "track.gpx"), store, "wpts")
    assert len(gdf) == 2 and set(gdf.geom_type) == {"Point"}
    assert sorted(gdf["name"]) == ["多伦", "锡林浩特"]


CSV_ZH = "名称,经度,纬度,投资(亿元)\n锡林浩特站,116.086,43.933,1.5\n多伦站,116.478,42.197,2\n"


def test_csv_with_chinese_headers(up, store):
    body, gdf = repaired(up("csvzh", CSV_ZH.encode(), "站点.csv"), store, "csvzh")
    assert gdf["名称"].tolist() == ["锡林浩特站", "多伦站"]
    assert gdf.geometry.x.tolist() == pytest.approx([116.086, 116.478])


def test_csv_with_dms_values(up, store):
    csv = "名称,经度,纬度\n锡林浩特,116°05′09.6″E,43°55′58.8″N\n多伦,116°28'40.8\",42°11'49.2\"\n"
    body, gdf = repaired(up("dms", csv.encode(), "dms.csv"), store, "dms")
    assert gdf.geometry.x.tolist() == pytest.approx([116.086, 116.478], abs=1e-4)
    assert gdf.geometry.y.tolist() == pytest.approx([43.933, 42.197], abs=1e-4)


def test_csv_with_blank_rows(up, store):
    csv = "name,lon,lat\n\n甲,116.0,44.0\n,,\n\n乙,116.5,44.5\n \n"
    body, gdf = repaired(up("blank", csv.encode(), "blank.csv"), store, "blank")
    assert gdf["name"].tolist() == ["甲", "乙"]


def test_csv_with_a_bom(up, store):
    body, gdf = repaired(up("bom", b"\xef\xbb\xbf" + CSV_ZH.encode(), "bom.csv"), store, "bom")
    assert "名称" in gdf.columns and not any(c.startswith("\ufeff") for c in gdf.columns)
    assert len(gdf) == 2


def test_csv_in_gbk(up, store):
    body, gdf = repaired(up("csvgbk", CSV_ZH.encode("gbk"), "gbk.csv"), store, "csvgbk")
    assert gdf["名称"].tolist() == ["锡林浩特站", "多伦站"]


def test_xlsx(up, store):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["名称", "经度", "纬度", "类别"])
    ws.append(["锡林浩特站", 116.086, 43.933, "energy"])
    ws.append(["多伦站", 116.478, 42.197, "ecology"])
    buf = io.BytesIO()
    wb.save(buf)
    body, gdf = repaired(up("xlsx", buf.getvalue(), "项目.xlsx"), store, "xlsx")
    assert gdf["名称"].tolist() == ["锡林浩特站", "多伦站"]


# -- size and content --------------------------------------------------------------------

def test_a_feature_with_a_million_vertices(up, store, tmp_path):
    # Sent as a zipped shapefile: a 22 MB GeoJSON of it takes GDAL's JSON parser
    # tens of seconds on a busy machine, and the point here is what happens after reading.
    n = 1_000_000
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ring = np.column_stack([116 + 0.5 * np.cos(t), 44 + 0.3 * np.sin(t)])
    huge = gpd.GeoDataFrame({"name": ["巨型"]}, geometry=[shapely.Polygon(ring)], crs=4326)
    data = make_zip({f"huge{e}": d for e, d in shapefile_parts(tmp_path, huge, stem="huge").items()})
    r = up("huge", data, "huge.zip")
    if r.status_code >= 400:
        refused(r, store, "huge")
        return
    body, gdf = repaired(r, store, "huge")
    assert len(gdf) == 1 and gdf["name"].tolist() == ["巨型"]
    assert shapely.get_num_coordinates(gdf.geometry.values)[0] >= n
    assert "heavy_feature" in codes(body)


HOSTILE = {
    "<script>alert('x')</script>": "<img src=x onerror=alert(1)>",
    "name'); DROP TABLE atlas_layers;--": "1 OR 1=1; DELETE FROM gpkg_contents",
    "שם": "مرحبا بالعالم \u202eevil\u202c",
    "名称🌾": "草原🐎🌸 \U0001F600",
    'quote"d': 'back\\slash "quoted" \u2028 line',
}


def test_property_names_and_values_are_data(up, store):
    layers_before = {i.name: i.version for i in store.list_layers()}
    props = dict(HOSTILE)
    data = fc(pt(116.0, 44.0, **props), pt(116.5, 44.5, **props))
    body, gdf = repaired(up("hostile", data, "hostile.geojson"), store, "hostile")
    row = gdf.iloc[0]
    for key, value in HOSTILE.items():
        stored_key = key if key in gdf.columns else next(c for c in gdf.columns
                                                         if c.startswith(key.replace("\x00", "")))
        assert row[stored_key] in (value, value.replace("\x00", ""))
    after = {i.name: i.version for i in store.list_layers()}
    assert after == {**layers_before, "hostile": after["hostile"]}


def test_unknown_epsg_code(up, store):
    data = fc(pt(500000.0, 4800000.0, name="x"))
    body = refused(up("epsg", data, "utm.geojson", crs="EPSG:999999"), store, "epsg")
    assert "999999" in body["error"]
    named = json.loads(data)
    named["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::999999"}}
    body = refused(up("epsg", json.dumps(named).encode(), "utm.geojson"), store, "epsg")
    assert "999999" in body["error"] and "EPSG:4326" in body["hint"]


@pytest.mark.parametrize("name", ["a/b", "../etc", "..", "x" * 300, "Sites", "名称", ""])
def test_bad_layer_names(up, store, name):
    before = [i.name for i in store.list_layers()]
    r = up.client.post("/api/layers", data={"file": (io.BytesIO(fc(pt(116, 44))), "a.geojson"),
                                            "name": name},
                       content_type="multipart/form-data", headers=up.headers)
    assert 400 <= r.status_code < 500
    body = r.get_json()
    assert body["error"] and body["hint"]
    assert [i.name for i in store.list_layers()] == before and store.check() == []


@pytest.mark.parametrize("path", ["/api/layers/..%2F..%2Fetc", "/api/layers/" + "y" * 300,
                                  "/api/layers/a%2Fb", "/api/layers/%2E%2E"])
def test_bad_layer_names_in_the_url(up, store, path):
    before = [i.name for i in store.list_layers()]
    r = up.client.put(path, data=fc(pt(116, 44)), content_type="application/json",
                      headers=up.headers)
    assert 400 <= r.status_code < 500
    assert r.get_json()["error"]
    assert [i.name for i in store.list_layers()] == before and store.check() == []


def test_nul_characters_in_values_title_and_file_name(up, store):
    # NUL ends a C string in GDAL and PostgreSQL text cannot hold it: never a 500.
    refused(up("nulcsv", b"name,lon,lat\nA\x00B,116.0,44.0\n", "nul.csv"),
            store, "nulcsv", statuses=(415,))  # text files have no NUL: this one is binary
    data = fc(pt(116.0, 44.0, name="A\x00B"))
    assert b"\\u0000" in data
    body, gdf = repaired(up("nul", data, "n\x00ul.geojson", title="标\x00题"), store, "nul")
    assert "\x00" not in gdf["name"].iloc[0] and gdf["name"].iloc[0].startswith("A")
    assert store.info("nul").meta["title"] == "标题"
    assert body["filename"] == "nul.geojson"


def test_property_names_that_collide_ignoring_case(up, store):
    # SQLite column names are case-insensitive: "Name" and "name" must not both become "name".
    data = fc(pt(116.0, 44.0, Name="大写", name="小写", NAME="全大写", fid=7, geom="g"))
    body, gdf = repaired(up("cases", data, "cases.geojson"), store, "cases")
    row = gdf.iloc[0]
    assert {row[c] for c in gdf.columns if c.lower().startswith("name")} == {"大写", "小写", "全大写"}
    assert "renamed_column" in codes(body)


def test_lone_surrogates_in_properties(up, store):
    data = b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":' \
           b'{"name":"bad \\ud800 text","\\udfff":"key"},"geometry":{"type":"Point",' \
           b'"coordinates":[116,44]}}]}'
    r = up("surrogate", data, "s.geojson")
    if r.status_code >= 400:
        refused(r, store, "surrogate")
    else:
        body, gdf = repaired(r, store, "surrogate")
        gdf.to_json()  # every stored string encodes as UTF-8


def test_too_many_columns(up, store):
    header = ",".join(["lon", "lat"] + [f"c{i}" for i in range(600)])
    row = ",".join(["116.0", "44.0"] + ["1"] * 600)
    body = refused(up("wide", f"{header}\n{row}\n".encode(), "wide.csv"), store, "wide",
                   statuses=(422,))
    assert "600" in body["error"] or "602" in body["error"]
