"""geo.export.to_bytes and GET /api/export/<layer>.<fmt> (issue 3 item 7, issue 4 item 7)."""

from __future__ import annotations

import io
import json
import os

import geopandas as gpd
import pyogrio
import pytest
import shapely

from geo.errors import GeoInputError
from geo.export import FORMATS, to_bytes
from geo.read import read_file
from layers.catalog import get_spec, layer_ids

EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture()
def mixed() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name_zh": ["锡林浩特", EVIL, "锡林河"], "name_en": ["Xilinhot", "evil", "Xilin River"],
         "v": [1.5, None, 3.0]},
        geometry=[shapely.Point(116.08612345678, 43.9334),
                  shapely.box(116.0, 43.0, 116.2, 43.2),
                  shapely.LineString([(116.0, 43.6), (116.1, 44.0)])], crs=4326)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_round_trip_through_read_file(mixed, fmt):
    data, mimetype, filename = to_bytes(mixed, fmt, name="sites")
    assert filename == f"sites.{FORMATS[fmt][0]}" and mimetype == FORMATS[fmt][1]
    back, _ = read_file(data, filename=filename)
    assert len(back) == 3
    names = " ".join(str(v) for col in back.columns if col != "geometry"
                     for v in back[col].tolist())
    for name in ("锡林浩特", EVIL, "锡林河"):
        assert name in names
    assert back.geometry.iloc[0].distance(shapely.Point(116.086123, 43.9334)) < 1e-6


def test_geojson_is_rfc7946_with_six_decimals(mixed):
    doc = json.loads(to_bytes(mixed, "geojson")[0])
    assert "crs" not in doc and doc["type"] == "FeatureCollection"
    assert doc["features"][0]["geometry"]["coordinates"] == [116.086123, 43.9334]
    assert doc["features"][1]["properties"]["name_zh"] == EVIL


def test_csv_has_bom_lonlat_for_points_and_wkt_otherwise(mixed):
    points = to_bytes(mixed.iloc[[0]], "csv")[0]
    assert points.startswith(b"\xef\xbb\xbf")
    assert points.decode("utf-8-sig").splitlines()[0].split(",")[:2] == ["lon", "lat"]
    mixed_csv = to_bytes(mixed, "csv")[0].decode("utf-8-sig")
    assert mixed_csv.splitlines()[0].startswith("wkt,") and "POLYGON" in mixed_csv


def test_gpx_is_valid_gpx_11_that_gdal_reads(mixed, tmp_path):
    data = to_bytes(mixed, "gpx", name="drive")[0]
    assert b'version="1.1"' in data and b"http://www.topografix.com/GPX/1/1" in data
    path = tmp_path / "drive.gpx"
    path.write_bytes(data)
    wpts = pyogrio.read_dataframe(path, layer="waypoints")
    trks = pyogrio.read_dataframe(path, layer="tracks")
    assert wpts["name"].tolist() == ["锡林浩特 / Xilinhot"]
    assert sorted(trks["name"]) == sorted([f"{EVIL} / evil", "锡林河 / Xilin River"])


def test_kml_names_and_escaped_descriptions(mixed, tmp_path):
    data = to_bytes(mixed, "kml", spec=None)[0]
    path = tmp_path / "a.kml"
    path.write_bytes(data)
    back = pyogrio.read_dataframe(path)
    assert back["Name"].tolist()[0] == "锡林浩特 / Xilinhot"
    # Viewers render <description> as HTML: the value is escaped inside it.
    desc = back.loc[1, "description"] if "description" in back else back.loc[1, "Description"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in desc and EVIL not in desc


def test_spec_orders_fields_labels_descriptions_and_names():
    gdf = gpd.read_file(os.path.join("data", "xilingol", "stations.geojson"))
    spec = get_spec("stations")
    gdf = gdf[list(reversed(gdf.columns[:-1])) + ["geometry"]]
    csv_head = to_bytes(gdf, "csv", spec=spec)[0].decode("utf-8-sig").splitlines()[0]
    declared = [f.name for f in spec.fields if f.name in gdf.columns]
    assert csv_head.split(",")[2:2 + len(declared)] == declared
    kml = to_bytes(gdf, "kml", spec=spec)[0].decode()
    assert spec.fields[0].label_zh in kml or spec.fields[1].label_zh in kml
    gpx = to_bytes(gdf, "gpx", spec=spec)[0].decode()
    assert f"<name>{gdf[spec.name_field].iloc[0]}" in gpx


def test_gpkg_copy_reads_back(mixed, tmp_path):
    data = to_bytes(mixed, "gpkg", name="copy")[0]
    path = tmp_path / "copy.gpkg"
    path.write_bytes(data)
    assert [n for n, _ in pyogrio.list_layers(path)] == ["copy"]
    assert pyogrio.read_dataframe(path)["name_zh"].tolist() == ["锡林浩特", EVIL, "锡林河"]


def test_projected_input_is_written_in_wgs84(mixed):
    data = to_bytes(mixed.to_crs(32650), "geojson")[0]
    assert json.loads(data)["features"][0]["geometry"]["coordinates"][0] == pytest.approx(
        116.086123, abs=1e-6)


def test_unknown_format():
    with pytest.raises(GeoInputError) as e:
        to_bytes(gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)]), "shp")
    assert e.value.status == 400 and "gpx" in e.value.hint


# -- the endpoint -----------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_catalog_layer_exports(client, fmt, tmp_path):
    for layer in layer_ids():
        resp = client.get(f"/api/export/{layer}.{fmt}")
        assert resp.status_code == 200, (layer, resp.get_data(as_text=True)[:300])
        ext = FORMATS[fmt][0]
        assert resp.headers["Content-Disposition"] == f'attachment; filename="{layer}.{ext}"'
        assert resp.mimetype == FORMATS[fmt][1].split(";")[0]
        count = client.get(f"/api/layers/{layer}").json["count"]
        path = tmp_path / f"{layer}.{ext}"
        path.write_bytes(resp.data)
        if fmt == "gpx":
            got = sum(len(pyogrio.read_dataframe(path, layer=n))
                      for n, _ in pyogrio.list_layers(path) if n in ("waypoints", "tracks"))
        else:
            got = len(read_file(str(path), region=False).gdf) if fmt != "gpkg" else \
                len(pyogrio.read_dataframe(path, layer=layer))
        assert got == count, (layer, fmt)


def test_export_filters_bbox_and_datum(client):
    all_projects = json.loads(client.get("/api/export/projects.geojson").data)["features"]
    energy = json.loads(client.get("/api/export/projects.geojson?category=energy").data)
    assert 0 < len(energy["features"]) < len(all_projects)
    assert {f["properties"]["category"] for f in energy["features"]} == {"energy"}
    boxed = json.loads(client.get("/api/export/projects.geojson?bbox=115,43,117,45").data)
    assert all(115 <= f["geometry"]["coordinates"][0] <= 117 for f in boxed["features"])
    gcj = client.get("/api/export/stations.gpx?datum=gcj02")
    assert gcj.headers["Content-Disposition"] == 'attachment; filename="stations_gcj02.gpx"'
    assert gcj.data != client.get("/api/export/stations.gpx").data


def test_one_gpx_for_drivers_with_stations(client, tmp_path):
    resp = client.get("/api/export/scenic_road.gpx?with=stations,attractions")
    assert resp.status_code == 200
    path = tmp_path / "drive.gpx"
    path.write_bytes(resp.data)
    tracks = pyogrio.read_dataframe(path, layer="tracks")
    wpts = pyogrio.read_dataframe(path, layer="waypoints")
    count = {n: client.get(f"/api/layers/{n}").json["count"]
             for n in ("scenic_road", "stations", "attractions")}
    assert len(tracks) == count["scenic_road"]
    assert len(wpts) == count["stations"] + count["attractions"]
    assert client.get("/api/export/scenic_road.gpx?with=nope").status_code == 404
    # descriptions a driver can read: units, 是/否 (yes/no in English), no "3000.0"
    desc = tracks["desc"].iloc[0]
    assert "长度: 22.8 km" in desc and "示意数据: 是" in desc and "精度: 3000 m" in desc
    assert "True" not in desc and ".0\n" not in desc
    path.write_bytes(client.get("/api/export/scenic_road.gpx?with=stations&lang=en").data)
    desc_en = pyogrio.read_dataframe(path, layer="tracks")["desc"].iloc[0]
    assert "Length: 22.8 km" in desc_en and "Illustrative: yes" in desc_en
    kml = client.get("/api/export/stations.kml").data.decode()
    assert "<th>示意数据</th><td>是</td>" in kml.replace("&lt;", "<").replace("&gt;", ">")
    assert "True" not in kml


@pytest.mark.parametrize("url,status,needle", [
    ("/api/export/nope.geojson", 404, "nope"),
    ("/api/export/stations.shp", 400, "gpkg"),
    ("/api/export/stations", 400, "geojson"),
    ("/api/export/stations.csv?bbox=1,2,3", 400, "bbox"),
    ("/api/export/stations.csv?colour=red", 400, "colour"),
    ("/api/export/stations.csv?datum=tokyo", 400, "datum"),
    ("/api/export/..%2Fetc.csv", 400, "layer name"),
])
def test_export_errors_are_json(client, url, status, needle):
    resp = client.get(url)
    assert resp.status_code == status and resp.is_json
    assert needle in json.dumps(resp.json, ensure_ascii=False)


def test_user_layer_export_and_etag(make_app):
    app = make_app()
    with app.app_context():
        from webmap.core.store import get_store

        gdf, _ = read_file(b"name,lon,lat\nsite,116.1,43.9\n", filename="s.csv")
        get_store().put("my_sites", gdf, meta={"title": "mine"})
    client = app.test_client()
    resp = client.get("/api/export/my_sites.csv")
    assert resp.status_code == 200
    assert "site" in resp.data.decode("utf-8-sig")
    again = client.get("/api/export/my_sites.csv", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304
    back = read_file(io.BytesIO(client.get("/api/export/my_sites.kml").data), filename="a.kml")
    assert len(back.gdf) == 1


def test_geojson_encoded_in_chunks_is_the_whole_collection(monkeypatch):
    """A layer encoded a chunk at a time (bounded memory) gives the same file as the
    features encoded one by one, read back by GDAL feature for feature."""
    import geo.export

    n = 103
    g = gpd.GeoDataFrame({"name": [f"点{i}" for i in range(n)], "v": range(n)},
                         geometry=shapely.points([116 + i / 1000 for i in range(n)], [44.0] * n),
                         crs=4326)
    g.index = g.index * 3 + 5  # ids are the index, kept across chunks
    whole = to_bytes(g, "geojson")[0]
    monkeypatch.setattr(geo.export, "GEOJSON_CHUNK", 10)
    chunked = to_bytes(g, "geojson")[0]
    assert chunked == whole
    doc = json.loads(chunked)
    assert [f["id"] for f in doc["features"]] == list(g.index)
    back = pyogrio.read_dataframe(io.BytesIO(chunked))
    assert back["name"].tolist() == g["name"].tolist()
    assert shapely.equals_exact(back.geometry.values, g.geometry.values, 1e-6).all()
