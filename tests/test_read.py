"""geo.read.read_file on real files of every format, and on the bad ones (issue 3 item 2, issue 6)."""

from __future__ import annotations

import codecs
import importlib.util
import io
import json
import pathlib
import zipfile

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.crs import gcj02_to_wgs84, wgs84_to_bd09, wgs84_to_gcj02
from geo.errors import GeoInputError
from geo.read import Limits, ReadResult, read_file

_spec = importlib.util.spec_from_file_location(
    "atlas_make_fixtures", pathlib.Path(__file__).parent / "fixtures" / "make_fixtures.py")
fx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fx)


def fc(*features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)},
                      ensure_ascii=False).encode()


def feat(geometry, **props) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def pt(x, y, **props) -> dict:
    return feat({"type": "Point", "coordinates": [x, y]}, **props)


def raises(status: int, data, **kw) -> GeoInputError:
    with pytest.raises(GeoInputError) as info:
        read_file(data, **kw)
    assert info.value.status == status, (info.value.message, info.value.hint)
    assert info.value.message and info.value.hint
    return info.value


# -- shapefiles -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def gbk_zip() -> bytes:
    return fx.make_gbk_shapefile_zip()


def test_real_gbk_shapefile_without_prj(gbk_zip):
    gdf, report = read_file(gbk_zip, filename="hyd2_4l.zip")
    assert len(gdf) == 2143 and gdf.crs.to_epsg() == 4326
    names = set(gdf["NAME"].dropna())
    assert {"滦河", "闪电河"} <= names  # GBK decoded right
    assert report.source["encoding"] == "GB18030"
    assert {"encoding_detected", "crs_assumed"} <= report.codes("warnings")
    luan = gdf[gdf["NAME"] == "滦河"]
    assert luan.geometry.geom_type.isin(["LineString", "MultiLineString"]).all()
    assert 114 < luan.total_bounds[0] < 120 and 39 < luan.total_bounds[1] < 43


def test_shapefile_with_cpg_and_prj_projected():
    sites = fx.sites_gdf().to_crs(32650)
    gdf, report = read_file(fx.make_shapefile_zip(sites), filename="sites.zip")
    assert gdf["name_zh"].tolist() == ["锡林浩特", "多伦", "二连浩特"]
    assert np.allclose(gdf.geometry.x, fx.sites_gdf().geometry.x, atol=1e-6)
    assert "crs_assumed" not in report.codes()


def test_projected_shapefile_without_prj_is_refused_then_declared():
    data = fx.make_shapefile_zip(fx.sites_gdf().to_crs(32650), drop=(".prj",))
    err = raises(422, data, filename="sites.zip")
    assert ".prj" in err.hint and "EPSG" in err.hint
    gdf, _ = read_file(data, filename="sites.zip", crs="EPSG:32650")
    assert np.allclose(gdf.geometry.y, fx.sites_gdf().geometry.y, atol=1e-6)


@pytest.mark.parametrize("missing", [".dbf", ".shx"])
def test_shapefile_zip_missing_parts(missing):
    err = raises(422, fx.make_shapefile_zip(fx.sites_gdf(), drop=(missing,)), filename="s.zip")
    assert missing in err.message


def test_gbk_dbf_without_cpg_written_by_gdal():
    data = fx.make_shapefile_zip(fx.sites_gdf(), drop=(".cpg",), encoding="GBK")
    gdf, report = read_file(data, filename="s.zip")
    assert gdf["name_zh"].tolist() == ["锡林浩特", "多伦", "二连浩特"]
    assert report.source["encoding"] == "GB18030"


# -- tables -----------------------------------------------------------------------------------

def test_csv_with_chinese_headers_dms_bom_and_blank_row():
    gdf, report = read_file(fx.make_csv_chinese_dms(), filename="sites.csv")
    assert gdf["名称"].tolist() == ["锡林浩特", "多伦", "二连浩特"]
    assert gdf["备注"][1] == "<b>水源</b>"  # data, not markup
    assert gdf.geometry.x[0] == pytest.approx(116 + 5 / 60 + 10 / 3600)
    assert gdf.geometry.y[0] == pytest.approx(43 + 56 / 60)
    assert gdf.geometry.x[2] == pytest.approx(111 + 58.662 / 60)
    blank = [e for e in report.dropped if e.code == "blank_row"]
    assert len(blank) == 1 and blank[0].detail["line"] == 3


def test_gbk_csv():
    gdf, report = read_file(fx.make_csv_gbk(), filename="gbk.csv")
    assert gdf["名称"].tolist() == ["锡林浩特", "多伦"] and gdf["类别"][1] == "县城"
    assert report.source["encoding"] == "gb18030"


def test_xlsx_picks_the_sheet_with_coordinates():
    gdf, report = read_file(fx.make_xlsx(), filename="sites.xlsx")
    assert gdf["名称"].tolist() == ["锡林浩特", "多伦"]
    assert gdf["投资(亿元)"].tolist() == [12.5, 3]
    assert gdf.geometry.x[1] == pytest.approx(116 + 29 / 60 + 9 / 3600)
    assert report.source["layer"] == "站点" and "blank_row" in report.codes("dropped")


def test_csv_bad_and_missing_coordinates_are_dropped_with_lines():
    data = b"name,lon,lat\na,116.1,43.9\nb,,43.9\nc,abc,43\nd,116.2,44\n"
    gdf, report = read_file(data, filename="s.csv")
    assert gdf["name"].tolist() == ["a", "d"]
    by_code = {e.code: e for e in report.dropped}
    assert by_code["missing_coordinate"].detail["line"] == 3
    assert by_code["bad_coordinate"].detail["lon"] == "abc"


def test_csv_without_coordinate_columns():
    err = raises(422, "名称,地址\n锡林浩特,某路\n".encode(), filename="a.csv")
    assert "经度" in err.hint


def test_csv_wkt_column():
    data = b'name,wkt\nroad,"LINESTRING (116 43, 116.5 43.5)"\n'
    gdf, _ = read_file(data, filename="a.csv")
    assert gdf.geometry[0].geom_type == "LineString"


def test_utf8_bom_csv_with_a_character_cut_by_the_sniffed_sample():
    # The sniffer samples 8192 bytes; with a BOM in front, a CJK character can end past
    # them. That is UTF-8 text all the same (it was refused as binary).
    row = "116.1,43.9,锡林浩特\r\n".encode()
    for k in range(len(row)):
        data = codecs.BOM_UTF8 + f"lon,lat,name{'x' * k}\r\n".encode() + row * 400
        try:
            data[3:8192].decode("utf-8")
        except UnicodeDecodeError:
            break  # this header length cuts a character at the sample's end
    else:
        pytest.fail("no header length cuts a character")
    gdf, _ = read_file(data, filename="a.csv")
    assert len(gdf) == 400 and set(gdf[f"name{'x' * k}"]) == {"锡林浩特"}


# -- KML, GPX, GeoPackage ---------------------------------------------------------------------

@pytest.mark.parametrize("maker,name", [(fx.make_kml, "s.kml"), (fx.make_kmz, "s.kmz")])
def test_kml_and_kmz(maker, name):
    gdf, report = read_file(maker(), filename=name)
    assert sorted(gdf.geom_type) == ["LineString", "Point", "Polygon"]
    assert "锡林浩特" in gdf["name"].tolist()
    assert "dropped_z" in report.codes("warnings")  # the placemark had an altitude
    assert not shapely.has_z(gdf.geometry.values).any()


KML_NOISE = ("tessellate", "extrude", "visibility", "altitudeMode", "drawOrder", "icon",
             "begin", "end", "timestamp", "Name", "Description")


@pytest.mark.parametrize("maker,name", [(fx.make_kml, "s.kml"), (fx.make_kmz, "s.kmz")])
def test_kml_results_without_display_columns(maker, name):
    # GDAL adds KML's display columns to every layer; unset they are noise in results.
    gdf, _ = read_file(maker(), filename=name)
    assert not set(KML_NOISE) & set(gdf.columns), list(gdf.columns)
    assert "name" in gdf.columns


def test_kml_keeps_display_columns_a_placemark_sets():
    kml = ('<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">'
           "<Document><Placemark><name>甲</name><description>河边</description>"
           "<Point><coordinates>116.1,43.9</coordinates></Point></Placemark>"
           "<Placemark><name>乙</name><visibility>0</visibility><ExtendedData>"
           '<Data name="owner"><value>旗林草局</value></Data></ExtendedData>'
           "<LineString><tessellate>1</tessellate>"
           "<coordinates>116.1,43.9 116.2,44.0</coordinates></LineString></Placemark>"
           "</Document></kml>").encode()
    gdf, _ = read_file(kml, filename="a.kml")
    props = gdf.drop(columns="geometry")
    assert list(props.columns) == ["name", "description", "tessellate", "visibility", "owner"]
    assert props["name"].tolist() == ["甲", "乙"] and props["description"].iloc[0] == "河边"
    assert props["tessellate"].iloc[1] == 1 and props["visibility"].iloc[1] == 0


def test_gpx_tracks_routes_waypoints():
    gdf, _ = read_file(fx.make_gpx_full(), filename="drive.gpx")
    assert gdf["gpx_type"].value_counts().to_dict() == {"waypoint": 2, "route": 1, "track": 1}
    assert set(gdf.loc[gdf.gpx_type == "waypoint", "name"]) == {"锡林浩特", "多伦"}


def test_gpx_waypoints_only():
    gdf, _ = read_file(fx.make_gpx_waypoints(), filename="places.gpx")
    assert len(gdf) == 2 and set(gdf.gpx_type) == {"waypoint"}


def test_geopackage_with_several_layers(tmp_path):
    path = fx.make_gpkg_multi(str(tmp_path))
    err = raises(422, path)
    assert "towns" in err.message and "roads" in err.message
    roads, report = read_file(path, layer="roads")
    assert roads.geom_type.tolist() == ["LineString"] and report.source["layer"] == "roads"
    assert len(read_file(path, layer="towns").gdf) == 3
    raises(422, path, layer="nope")


# -- coordinates: swaps, datums, CRSs ---------------------------------------------------------

def test_swapped_lat_lon_is_fixed_and_reported():
    gdf, report = read_file(fc(pt(43.9334, 116.0861, name="x"), pt(116.4859, 42.2030)))
    assert gdf.geometry.x.round(4).tolist() == [116.0861, 116.4859]
    repaired = [e.index for e in report.repairs if e.code == "swapped_lat_lon"]
    assert repaired == [0]


def test_swapped_csv_columns_by_value():
    data = b"name,lon,lat\na,43.9334,116.0861\n"
    gdf, report = read_file(data, filename="a.csv")
    assert gdf.geometry.x[0] == pytest.approx(116.0861)
    assert "swapped_lat_lon" in report.codes("repairs")


def test_declared_gcj02_datum_matches_geo_crs():
    lon, lat = wgs84_to_gcj02(116.0861, 43.9334)
    data = f"name,lon,lat\nxl,{float(lon):.9f},{float(lat):.9f}\n".encode()
    gdf, report = read_file(data, filename="amap.csv", datum="gcj02")
    expect = gcj02_to_wgs84(float(f"{float(lon):.9f}"), float(f"{float(lat):.9f}"))
    assert gdf.geometry.x[0] == pytest.approx(float(expect[0]), abs=1e-9)
    assert gdf.geometry.x[0] == pytest.approx(116.0861, abs=1e-7)
    assert "datum_converted" in report.codes()
    # the user said GCJ-02: no "read as WGS 84, declare datum=gcj02" advice beside it
    assert "crs_assumed" not in report.codes()
    _, undeclared = read_file(data, filename="amap.csv")
    assert "crs_assumed" in undeclared.codes()


def test_declared_bd09_datum():
    lon, lat = wgs84_to_bd09(116.4859, 42.2030)
    gdf, _ = read_file(fc(pt(float(lon), float(lat))), datum="bd09")
    assert gdf.geometry.y[0] == pytest.approx(42.2030, abs=1e-7)


def test_unknown_epsg_and_datum():
    assert "EPSG:4490" in raises(400, fc(pt(116, 44)), crs="EPSG:99999").hint
    raises(400, fc(pt(116, 44)), datum="mars-2")


def test_cgcs2000_declared():
    gdf, report = read_file(fc(pt(116, 44)), crs="EPSG:4490")
    assert gdf.crs.to_epsg() == 4326 and gdf.geometry.x[0] == pytest.approx(116, abs=1e-6)


# -- GeoJSON repairs and drops ----------------------------------------------------------------

def test_geojson_bad_geometries_matrix():
    bowtie = {"type": "Polygon", "coordinates": [[[116, 43], [117, 44], [117, 43], [116, 44],
                                                  [116, 43]]]}
    unclosed = {"type": "Polygon", "coordinates": [[[116, 43], [117, 43], [117, 44], [116, 44]]]}
    data = fc(
        feat(bowtie, name="bow"),                                                  # 0
        feat(unclosed, name="unclosed"),                                           # 1
        feat({"type": "Point", "coordinates": [116, 44, 1200]}, name="3d"),        # 2
        feat({"type": "LineString", "coordinates": [[116, 43], [116.5, 43.5]]}),   # 3
        feat(None, name="null"),                                                   # 4
        pt(float("nan"), 43, name="nan"),                                          # 5
        feat({"type": "LineString", "coordinates": [[116, 43]]}, name="one"),      # 6
        pt(200, 43, name="range"),                                                 # 7
    )
    gdf, report = read_file(data, filename="bad.geojson")
    assert gdf["name"].tolist()[:3] == ["bow", "unclosed", "3d"] and len(gdf) == 4
    assert gdf.geometry.is_valid.all() and not shapely.has_z(gdf.geometry.values).any()
    repairs = {e.code: e for e in report.repairs}
    assert "Self-intersection" in repairs["repaired_invalid"].detail["reason"]
    assert repairs["unclosed_ring"].index == 1
    dropped = {e.code: e.index for e in report.dropped}
    assert dropped == {"empty_geometry": 4, "nan_coordinate": 5, "unreadable_geometry": 6,
                       "out_of_range": 7}
    assert {"dropped_z", "mixed_geometry_types"} <= report.codes("warnings")
    d = report.to_dict()
    json.dumps(d)  # JSON-ready
    assert d["counts"]["dropped"] == 4


def test_properties_pass_through_untouched():
    props = {"<script>alert(1)</script>": "<img src=x onerror=alert(1)>",
             "sql": "'; DROP TABLE layers; --", "rtl": "مرحبا بالعالم", "emoji": "🐎🌾",
             "名称": "锡林郭勒"}
    gdf, _ = read_file(fc(pt(116, 44, **props)))
    assert {k: gdf[k][0] for k in props} == props


def test_outside_region_flagged_not_dropped():
    gdf, report = read_file(fc(pt(116, 44), pt(2.35, 48.85)))
    assert gdf["outside_region"].tolist() == [False, True]
    assert "outside_region" in report.codes("warnings")


def test_nothing_usable_is_422():
    raises(422, fc(pt(200, 43), feat(None)))


def test_single_feature_geometry_and_list():
    assert len(read_file(json.dumps(pt(116, 44)).encode()).gdf) == 1
    assert len(read_file(b'{"type": "Point", "coordinates": [116, 44]}').gdf) == 1
    assert len(read_file(json.dumps([pt(116, 44), pt(116, 43)]).encode()).gdf) == 2


def test_path_bytes_and_stream(tmp_path):
    p = tmp_path / "a.geojson"
    p.write_bytes(fc(pt(116, 44)))
    for source in (str(p), p, p.read_bytes(), io.BytesIO(p.read_bytes()), open(p, "rb")):
        res = read_file(source)
        assert isinstance(res, ReadResult) and len(res.gdf) == 1


# -- unusable files ---------------------------------------------------------------------------

def test_empty_and_whitespace():
    assert "empty" in raises(400, b"", filename="a.geojson").message
    raises(400, b"  \n ", filename="a.csv")


def test_binary_named_geojson():
    err = raises(415, b"\x89PNG\r\n\x1a\n" + bytes(range(256)), filename="sites.geojson")
    assert "GeoJSON" in err.message


def test_truncated_json():
    err = raises(400, fc(pt(116, 44), pt(117, 44))[:-7], filename="a.geojson")
    assert "cut off" in err.message and "line 1" in err.message


def test_json_that_is_not_geojson():
    raises(422, b'{"hello": "world"}', filename="a.json")


def test_text_named_geojson():
    raises(400, b"lon,lat\n116,44\n", filename="a.geojson")


@pytest.mark.parametrize("data,name,status", [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "old.xls", 415),
    (b"\x00\x00\x27\x0a" + bytes(96), "rivers.shp", 422),
    (b"\x1f\x8b\x08" + bytes(20), "a.geojson.gz", 415),
    (b"<html><body>hi</body></html>", "page.html", 415),
    (bytes(range(256)) * 4, "blob.bin", 415),
])
def test_refused_kinds(data, name, status):
    raises(status, data, filename=name)


def test_real_7z_archive_is_refused():
    with open(fx.hyd2_archive(), "rb") as fh:
        err = raises(415, fh.read(), filename="hyd2_4l.7z")
    assert "zip" in err.hint


# -- zip safety -------------------------------------------------------------------------------

def test_zip_with_parent_path():
    err = raises(400, fx.make_zip({"../../etc/sites.geojson": fc(pt(116, 44))}), filename="a.zip")
    assert "unsafe" in err.message


def test_zip_with_absolute_path():
    raises(400, fx.make_zip({"/tmp/sites.geojson": fc(pt(116, 44))}), filename="a.zip")


def test_nested_zip_is_refused_with_hint():
    inner = fx.make_zip({"sites.geojson": fc(pt(116, 44))})
    err = raises(422, fx.make_zip({"inner.zip": inner}), filename="outer.zip")
    assert "inner" in err.hint or "unzip" in err.hint


def test_zip_bomb_by_declared_size():
    err = raises(413, fx.make_zip_declaring(4_000_000_000), filename="bomb.zip")
    assert "MB" in err.message


def test_zip_bomb_by_ratio():
    data = fx.make_zip_bomb_ratio(40)
    assert len(data) < 200_000
    assert "bomb" in raises(413, data, filename="zeros.zip").message


def test_zip_limit_is_configurable():
    data = fx.make_zip({"sites.geojson": fc(pt(116, 44))})
    assert len(read_file(data, filename="a.zip").gdf) == 1
    raises(413, data, filename="a.zip", limits=Limits(max_uncompressed=10))


def test_zip_holding_geojson_and_csv_prefers_geojson():
    data = fx.make_zip({"sites.geojson": fc(pt(116, 44)), "notes.csv": b"a,b\n1,2\n",
                        "__MACOSX/._sites.geojson": b"\x00\x05"})
    gdf, report = read_file(data, filename="a.zip")
    assert len(gdf) == 1 and report.source["zip_member"] == "sites.geojson"


def test_damaged_zip():
    data = fx.make_zip({"sites.geojson": fc(pt(116, 44))})
    raises(400, data[:40], filename="a.zip")


# -- property-based: any input ends in a result or a GeoInputError ---------------------------

def _outcome(data: bytes, name: str) -> None:
    try:
        res = read_file(data, filename=name)
    except GeoInputError as e:
        assert 400 <= e.status < 500 and e.message
        return
    assert isinstance(res.gdf, gpd.GeoDataFrame) and res.gdf.crs.to_epsg() == 4326
    json.dumps(res.report.to_dict(), default=str)


_FAST = settings(max_examples=60, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])


@_FAST
@given(st.binary(max_size=600), st.sampled_from(["a.geojson", "a.csv", "a.zip", "a", "a.kml"]))
def test_random_bytes(data, name):
    _outcome(data, name)


_cell = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(str),
                  st.text(max_size=12), st.sampled_from(["116°05′30″", "43°57'N", "", " "]))


@_FAST
@given(st.lists(st.lists(_cell, min_size=1, max_size=4), max_size=6),
       st.sampled_from([",", ";", "\t"]),
       st.sampled_from([["lon", "lat"], ["经度", "纬度"], ["x", "y", "name"], ["a"]]))
def test_random_csv(rows, sep, header):
    text = sep.join(header) + "\n" + "\n".join(sep.join(r) for r in rows)
    _outcome(text.encode("utf-8"), "t.csv")


_num = st.one_of(st.floats(allow_nan=True, allow_infinity=False, width=32),
                 st.integers(-1000, 1000))
_coords = st.lists(_num, min_size=0, max_size=4)
_geom = st.one_of(
    st.none(),
    st.fixed_dictionaries({"type": st.sampled_from(["Point", "MultiPoint"]),
                           "coordinates": st.one_of(_coords, st.lists(_coords, max_size=3))}),
    st.fixed_dictionaries({"type": st.sampled_from(["LineString", "Polygon", "Nope"]),
                           "coordinates": st.lists(st.one_of(_coords, st.lists(_coords, max_size=5)),
                                                   max_size=5)}),
)
_props = st.dictionaries(st.text(max_size=6), st.one_of(st.text(max_size=8), _num, st.none()),
                         max_size=3)


@_FAST
@given(st.lists(st.fixed_dictionaries({"type": st.just("Feature"), "geometry": _geom,
                                       "properties": _props}), max_size=5),
       st.booleans())
def test_random_geojsonish(features, cut):
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    if cut and len(data) > 10:
        data = data[: len(data) // 2]
    _outcome(data, "r.geojson")


def test_zipfile_module_sees_fixture_bomb_claim():
    # The declared-size fixture really declares what the bomb test relies on.
    infos = zipfile.ZipFile(io.BytesIO(fx.make_zip_declaring(4_000_000_000))).infolist()
    assert infos[0].file_size == 4_000_000_000
