"""The export route's new formats and options through the real app: zipped Shapefile,
``crs=``, ``encoding=gbk``, the datum converted once, GeoPackage with ``layer_styles``.

Read back with pyogrio (GDAL) and checked against pyproj and the committed GeoJSON.
"""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest

from geo.crs import gcj02_to_wgs84

URL = "/api/export/projects"


@pytest.fixture(scope="module")
def projects() -> gpd.GeoDataFrame:
    return gpd.read_file("data/xilingol/projects.geojson")


def _save(tmp_path, resp, name: str):
    path = tmp_path / name
    path.write_bytes(resp.data)
    return path


def test_zipped_shapefile(client, projects, tmp_path):
    r = client.get(f"{URL}.shp.zip")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    assert r.headers["Content-Disposition"] == 'attachment; filename="projects.shp.zip"'
    names = zipfile.ZipFile(io.BytesIO(r.data)).namelist()
    assert {"projects.shp", "projects.shx", "projects.dbf", "projects.prj",
            "projects.cpg"} <= set(names)
    path = _save(tmp_path, r, "p.shp.zip")
    got = pyogrio.read_dataframe(f"/vsizip/{path}")
    assert len(got) == len(projects)
    assert set(got["name_zh"]) == set(projects["name_zh"])  # Chinese survives (UTF-8 .cpg)
    gbk = client.get(f"{URL}.shp.zip?encoding=gbk")
    cpg = zipfile.ZipFile(io.BytesIO(gbk.data)).read("projects.cpg").decode().strip()
    assert cpg.upper() in ("GBK", "936", "CP936")
    path = _save(tmp_path, gbk, "g.shp.zip")
    assert set(pyogrio.read_dataframe(f"/vsizip/{path}")["name_zh"]) == set(projects["name_zh"])
    assert gbk.headers["ETag"] != r.headers["ETag"]


def test_exports_in_gauss_kruger_agree_with_pyproj(client, projects, tmp_path):
    r = client.get(f"{URL}.geojson?crs=EPSG:4548")
    assert r.status_code == 200
    assert r.headers["Content-Disposition"].endswith('projects_epsg4548.geojson"')
    doc = json.loads(r.data)
    coords = np.array([f["geometry"]["coordinates"] for f in doc["features"]])
    # Files are easting first, as GIS formats expect (pyproj with always_xy).
    e, n = pyproj.Transformer.from_crs(4326, 4548, always_xy=True).transform(
        projects.geometry.x.to_numpy(), projects.geometry.y.to_numpy())
    assert np.abs(coords[:, 0] - e).max() < 1e-3 and np.abs(coords[:, 1] - n).max() < 1e-3
    shp = _save(tmp_path, client.get(f"{URL}.shp.zip?crs=EPSG:4548"), "gk.shp.zip")
    assert pyogrio.read_info(f"/vsizip/{shp}")["crs"] == "EPSG:4548"
    gpkg = _save(tmp_path, client.get(f"{URL}.gpkg?crs=EPSG:4527"), "gk.gpkg")
    assert pyogrio.read_info(gpkg, layer="projects")["crs"] == "EPSG:4527"


def test_gcj02_export_is_shifted_once_and_declared(client, projects, tmp_path):
    doc = json.loads(client.get(f"{URL}.geojson?datum=gcj02").data)
    coords = np.array([f["geometry"]["coordinates"] for f in doc["features"]])
    back_lon, back_lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
    # One conversion back gives the stored WGS 84 (twice shifted would be ~500 m off).
    assert np.abs(back_lon - projects.geometry.x.to_numpy()).max() < 1e-5
    assert np.abs(back_lat - projects.geometry.y.to_numpy()).max() < 1e-5
    assert "GCJ-02" in doc["crs"]["properties"]["name"]
    gpkg = _save(tmp_path, client.get(f"{URL}.gpkg?datum=gcj02"), "gcj.gpkg")
    crs = pyproj.CRS.from_user_input(pyogrio.read_info(gpkg, layer="projects")["crs"])
    assert "GCJ-02" in crs.name and crs.to_epsg() != 4326


def test_geopackage_1_2_with_the_maps_style(client, tmp_path):
    path = _save(tmp_path, client.get(f"{URL}.gpkg"), "p.gpkg")
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA user_version").fetchone()[0] == 10200
        (qml,) = con.execute("SELECT styleQML FROM layer_styles WHERE f_table_name = "
                             "'projects'").fetchone()
    finally:
        con.close()
    assert 'type="categorizedSymbol"' in qml and 'attr="category"' in qml


def test_files_carry_the_layers_time_not_the_hour_of_writing(app, client, tmp_path):
    """The same layer version gives the same bytes (its ETag promises that): the zip
    members, the DBF date and the GeoPackage's times are the layer's last write, as the
    store reports it, whenever the file is written."""
    from webmap.core.store import get_store

    with app.app_context():
        updated = pd.Timestamp(get_store().info("projects").updated).tz_convert("UTC")
    zf = zipfile.ZipFile(io.BytesIO(client.get(f"{URL}.shp.zip").data))
    # A zip holds the seconds halved (MS-DOS time): an odd second reads back one less.
    want = (updated.year, updated.month, updated.day, updated.hour, updated.minute,
            updated.second - updated.second % 2)
    assert {i.date_time for i in zf.infolist()} == {want}
    dbf = zf.read("projects.dbf")
    assert (dbf[1] + 1900, dbf[2], dbf[3]) == want[:3]
    path = _save(tmp_path, client.get(f"{URL}.gpkg"), "p.gpkg")
    con = sqlite3.connect(path)
    try:
        stamps = {pd.Timestamp(t) for (t,) in con.execute(
            "SELECT last_change FROM gpkg_contents UNION SELECT update_time FROM layer_styles")}
    finally:
        con.close()
    assert stamps == {updated.floor("s")}


def test_cql2_filter_and_gauss_kruger_in_one_export(client, projects, tmp_path):
    """What a GIS desk downloads for QGIS or ArcGIS: a CQL2 selection (as the OGC API's
    items take it) in CGCS2000 / Gauss-Krüger — the same features GeoPandas selects, at
    pyproj's coordinates."""
    flt = "category = 'energy' AND total_investment_yi > 20 AND name_zh LIKE '%储能%'"
    r = client.get(f"{URL}.gpkg", query_string={"crs": "EPSG:4548", "filter": flt})
    assert r.status_code == 200
    got = pyogrio.read_dataframe(_save(tmp_path, r, "sel.gpkg"), layer="projects")
    want = projects[(projects.category == "energy") & (projects.total_investment_yi > 20)
                    & projects.name_zh.str.contains("储能")]
    assert 0 < len(want) < len(projects)
    assert sorted(got["id"]) == sorted(want["id"]) and got.crs.to_epsg() == 4548
    got, want = got.set_index("id").sort_index(), want.set_index("id").sort_index()
    e, n = pyproj.Transformer.from_crs(4326, 4548, always_xy=True).transform(
        want.geometry.x.to_numpy(), want.geometry.y.to_numpy())
    assert np.abs(got.geometry.x.to_numpy() - e).max() < 1e-3
    assert np.abs(got.geometry.y.to_numpy() - n).max() < 1e-3
    # CQL2 JSON, a geometry literal in the filter's CRS (northing first in EPSG:4548).
    x0, y0, x1, y1 = want.geometry.iloc[0].buffer(0.01).bounds
    east, north = pyproj.Transformer.from_crs(4326, 4548, always_xy=True).transform(
        [x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0])
    near = {"op": "s_intersects", "args": [{"property": "geometry"}, {
        "type": "Polygon",
        "coordinates": [[[nn, ee] for ee, nn in zip(east, north, strict=True)]]}]}
    doc = client.get(f"{URL}.geojson", query_string={
        "filter": json.dumps(near), "filter-lang": "cql2-json",
        "filter-crs": "http://www.opengis.net/def/crs/EPSG/0/4548"}).json
    ids = [f["properties"]["id"] for f in doc["features"]]
    assert want.index[0] in ids and len(ids) < 10


def test_datetime_selects_on_the_temporal_field(client):
    samples = gpd.read_file("data/xilingol/wq_samples.geojson")
    day = pd.to_datetime(samples["sampled_on"])
    r = client.get("/api/export/wq_samples.geojson?datetime=2023-06-01/..")
    assert r.status_code == 200
    want = samples[day >= pd.Timestamp("2023-06-01")]
    assert 0 < len(want) < len(samples)
    assert len(json.loads(r.data)["features"]) == len(want)


@pytest.mark.parametrize(("query", "code"), [
    (".geojson?filter=total_investment_yi > 'lots'", "bad_filter"),
    (".geojson?filter=category = 'energy'&filter-lang=xml", "bad_filter"),
    (".geojson?datetime=yesterday", "bad_filter"),
    (".geojson?crs=EPSG:99999", "bad_crs"), (".gpx?crs=EPSG:4548", "bad_crs"),
    (".shp.zip?encoding=latin9", "bad_parameter"), (".geojson?datum=gcj02&crs=EPSG:4548",
                                                     "bad_crs"),
    (".shp", "unsupported_format"),
])
def test_bad_export_options_are_400(client, query, code):
    r = client.get(URL + query)
    assert r.status_code == 400 and r.json["code"] == code and r.json["hint_zh"]


def test_one_charset_per_content_type(client):
    for fmt in ("csv", "geojson", "kml", "gpx"):
        ctype = client.get(f"{URL}.{fmt}").headers["Content-Type"]
        assert ctype.lower().count("charset") <= 1, ctype
