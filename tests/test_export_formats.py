"""Exports read back by independent readers: Debian's GDAL 3.6 (``ogrinfo``), pyogrio, QGIS.

Zipped Shapefiles (UTF-8 and GBK, field-name mapping, one file per geometry family),
GeoPackages that GDAL 3.6 opens without a warning and that carry the atlas's style for
QGIS, exports in another CRS that agree with pyproj, and GCJ-02 / BD-09 exports that
declare a custom CRS instead of EPSG:4326.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely

from geo.crs import wgs84_to_bd09, wgs84_to_gcj02
from geo.errors import GeoInputError
from geo.export import ARCHIVE_FORMATS, FORMATS, to_bytes
from geo.shapefile import shorten_field_names
from layers.catalog import get_spec

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "data", "xilingol")
QGIS_CLIENT = os.path.join(ROOT, "tests", "qgis_client.py")


@pytest.fixture(scope="module")
def projects() -> gpd.GeoDataFrame:
    return gpd.read_file(os.path.join(DATA, "projects.geojson"))


@pytest.fixture(scope="module")
def mixed() -> gpd.GeoDataFrame:
    parts = [gpd.read_file(os.path.join(DATA, f"{n}.geojson")).head(k)
             for n, k in (("projects", 3), ("rivers", 2), ("admin", 2))]
    gdf = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=4326)
    extra = gpd.GeoDataFrame({"name_zh": ["集合"]}, geometry=[shapely.GeometryCollection(
        [shapely.Point(116, 44), shapely.LineString([(116, 44), (117, 45)])])], crs=4326)
    return gpd.GeoDataFrame(pd.concat([gdf, extra], ignore_index=True), geometry="geometry",
                            crs=4326)


def _ogrinfo(*args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("ogrinfo")
    if exe is None:
        pytest.fail("ogrinfo is missing: `make qgis` installs Debian's gdal-bin")
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=120,
                          check=False)


def _write(tmp_path, data: bytes, filename: str) -> str:
    path = tmp_path / filename
    path.write_bytes(data)
    return str(path)


# -- zipped Shapefile -------------------------------------------------------------------------
def test_shapefile_zip_utf8_reads_back_with_mapping(projects, tmp_path):
    data, mimetype, filename = to_bytes(projects, "shp.zip", name="projects",
                                        spec=get_spec("projects"))
    assert (mimetype, filename) == (ARCHIVE_FORMATS["shp.zip"][1], "projects.shp.zip")
    z = zipfile.ZipFile(io.BytesIO(data))
    assert sorted(z.namelist()) == ["projects.cpg", "projects.dbf", "projects.prj",
                                    "projects.shp", "projects.shx", "projects_fields.csv"]
    assert z.read("projects.cpg") == b"UTF-8"
    mapping = pd.read_csv(io.BytesIO(z.read("projects_fields.csv")), encoding="utf-8-sig",
                          keep_default_na=False)
    assert mapping.property.tolist() == [c for c in projects.columns if c != "geometry"]
    assert all(len(f.encode("utf-8")) <= 10 for f in mapping.shapefile_field)
    assert mapping.shapefile_field.str.lower().is_unique
    row = mapping.set_index("property").loc["total_investment_yi"]
    assert (row.shapefile_field, row.label_zh, row.unit) == ("total_inve", "总投资", "亿元")
    assert "cut to 254 bytes" in mapping.set_index("property").loc["source", "note"]
    path = _write(tmp_path, data, filename)
    back = pyogrio.read_dataframe(f"/vsizip/{path}")
    assert len(back) == len(projects)
    renamed = back.rename(columns=dict(zip(mapping.shapefile_field, mapping.property,
                                           strict=True)))
    assert renamed.name_zh.tolist() == projects.name_zh.tolist()
    assert np.allclose(renamed.total_investment_yi, projects.total_investment_yi)
    assert renamed.geometry.geom_equals_exact(projects.geometry, 1e-9).all()
    info = _ogrinfo("-ro", "-so", "-al", f"/vsizip/{path}")
    assert info.returncode == 0 and "Warning" not in info.stderr, info.stderr
    assert 'ID["EPSG",4326]' in info.stdout


def test_shapefile_zip_gbk_for_old_desktop_tools(projects, tmp_path):
    g = projects.copy()
    g.loc[0, "name_zh"] = "面积 km²"  # '²' is not in GBK
    data, _, filename = to_bytes(g, "shp.zip", name="projects", encoding="gbk")
    z = zipfile.ZipFile(io.BytesIO(data))
    assert z.read("projects.cpg") == b"936"
    dbf = z.read("projects.dbf")
    assert dbf[29] == 0x4D  # DBF language driver: Chinese GBK (code page 936)
    assert "锡林浩特".encode("gbk") in dbf and "锡林浩特".encode() not in dbf
    path = _write(tmp_path, data, filename)
    back = pyogrio.read_dataframe(f"/vsizip/{path}")
    assert back.name_zh.tolist()[1:] == projects.name_zh.tolist()[1:]
    assert back.name_zh.iloc[0] == "面积 km?"
    mapping = pd.read_csv(io.BytesIO(z.read("projects_fields.csv")), encoding="utf-8-sig",
                          keep_default_na=False).set_index("property")
    assert "GBK lacks" in mapping.loc["name_zh", "note"]
    # Debian's GDAL reads the .cpg on its own and decodes GBK.
    info = _ogrinfo("-ro", "-al", "-fid", "2", f"/vsizip/{path}")
    assert projects.name_zh.iloc[2] in info.stdout and "Warning" not in info.stderr


def test_field_names_shortened_uniquely():
    names = ["total_investment_yi", "total_investment_2023", "TOTAL_INVESTMENT", "名称",
             "项目名称与类别说明", "a" * 30]
    for enc, limit_bytes in (("utf-8", 10), ("gbk", 10)):
        short = shorten_field_names(names, enc)
        assert len({s.lower() for s in short.values()}) == len(names)
        codec = "gbk" if enc == "gbk" else "utf-8"
        assert all(len(s.encode(codec)) <= limit_bytes for s in short.values())
    assert shorten_field_names(names)["项目名称与类别说明"] == "项目名"  # 3 bytes a character


def test_mixed_geometries_one_shapefile_per_family(mixed, tmp_path):
    data, _, filename = to_bytes(mixed, "shp.zip", name="mixed")
    z = zipfile.ZipFile(io.BytesIO(data))
    stems = sorted({n.rsplit(".", 1)[0] for n in z.namelist() if n.endswith(".shp")})
    assert stems == ["mixed_line", "mixed_point", "mixed_polygon"]
    path = _write(tmp_path, data, filename)
    counts = {}
    for stem in stems:
        part = pyogrio.read_dataframe(f"/vsizip/{path}/{stem}.shp")
        counts[stem] = len(part)
        assert part.geometry.notna().all()
    # 3 points + the collection's point; 2 rivers + the collection's line; 2 polygons.
    assert counts == {"mixed_point": 4, "mixed_line": 3, "mixed_polygon": 2}


# -- GeoPackage -------------------------------------------------------------------------------
def test_geopackage_is_version_1_2_without_gdal_36_warnings(projects, tmp_path):
    data, _, filename = to_bytes(projects, "gpkg", name="projects", spec=get_spec("projects"))
    path = _write(tmp_path, data, filename)
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47  # "GPKG"
    assert con.execute("PRAGMA user_version").fetchone()[0] == 10200
    info = _ogrinfo("-ro", "-al", "-so", path)
    assert info.returncode == 0, info.stderr
    assert "Warning" not in info.stderr and "ERROR" not in info.stderr, info.stderr
    assert "projects (Point)" in _ogrinfo("-ro", path).stdout
    rows = con.execute("SELECT f_table_name, f_geometry_column, useAsDefault, styleQML, "
                       "styleSLD FROM layer_styles").fetchall()
    assert [r[:3] for r in rows] == [("projects", "geom", 1)]
    qml, sld = rows[0][3], rows[0][4]
    for cat in get_spec("projects").style.categories:
        r, g, b = (int(cat.color[i:i + 2], 16) for i in (1, 3, 5))
        assert f'value="{cat.value}"' in qml and f"{r},{g},{b}," in qml
        assert cat.color in sld
    assert con.execute("SELECT data_type FROM gpkg_contents WHERE table_name = "
                       "'layer_styles'").fetchone() == ("attributes",)


# -- other CRSs and datums --------------------------------------------------------------------
def test_gauss_kruger_exports_agree_with_pyproj(projects, tmp_path):
    to_gk = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4548", always_xy=True)
    e, n = to_gk.transform(projects.geometry.x.to_numpy(), projects.geometry.y.to_numpy())
    for fmt in ("gpkg", "shp.zip", "geojson"):
        data, _, filename = to_bytes(projects, fmt, name="projects", crs="EPSG:4548")
        path = _write(tmp_path, data, filename)
        src = f"/vsizip/{path}" if fmt == "shp.zip" else path
        back = pyogrio.read_dataframe(src)
        assert back.crs.to_epsg() == 4548, fmt
        assert np.max(np.abs(back.geometry.x - e)) < 1e-3, fmt  # easting first in files
        assert np.max(np.abs(back.geometry.y - n)) < 1e-3, fmt
        info = _ogrinfo("-ro", "-al", "-so", src)
        assert "CGCS2000 / 3-degree Gauss-Kruger CM 117E" in info.stdout, fmt
        assert "Warning" not in info.stderr, (fmt, info.stderr)
    csv = to_bytes(projects, "csv", crs="http://www.opengis.net/def/crs/EPSG/0/4548")[0]
    table = pd.read_csv(io.BytesIO(csv), encoding="utf-8-sig")
    assert list(table.columns[:2]) == ["easting", "northing"]
    assert np.max(np.abs(table.easting - e)) < 1e-3


@pytest.mark.parametrize(("datum", "convert", "name"), [
    ("gcj02", wgs84_to_gcj02, "GCJ-02 (AMap/Gaode offset of WGS 84)"),
    ("bd09", wgs84_to_bd09, "BD-09 (Baidu offset of GCJ-02)"),
])
def test_gcj02_and_bd09_exports_declare_their_own_crs(projects, tmp_path, datum, convert, name):
    lon, lat = convert(projects.geometry.x.to_numpy(), projects.geometry.y.to_numpy())
    for fmt in ("gpkg", "shp.zip", "geojson"):
        data, _, filename = to_bytes(projects, fmt, name="projects", datum=datum)
        path = _write(tmp_path, data, f"{datum}_{filename}")
        src = f"/vsizip/{path}" if fmt == "shp.zip" else path
        back = pyogrio.read_dataframe(src)
        assert back.crs is not None and back.crs.to_epsg(min_confidence=1) is None, fmt
        assert not back.crs.equals("EPSG:4326"), fmt
        assert np.max(np.abs(back.geometry.x - lon)) < 1e-6, fmt
        assert np.max(np.abs(back.geometry.y - lat)) < 1e-6, fmt
        info = _ogrinfo("-ro", "-al", "-so", src)
        assert 'ID["EPSG",4326]' not in info.stdout, fmt
        # GDAL's ESRI WKT for the .prj turns punctuation into underscores.
        assert name.split(" ")[0] in info.stdout.replace("_", "-"), (fmt, info.stdout[:800])
    doc = json.loads(to_bytes(projects, "geojson", datum=datum)[0])
    assert name in doc["crs"]["properties"]["name"]


def test_refusals():
    g = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(116, 44)], crs=4326)
    with pytest.raises(GeoInputError, match="always WGS 84"):
        to_bytes(g, "gpx", crs="EPSG:4548")
    with pytest.raises(GeoInputError, match="cannot be combined"):
        to_bytes(g, "gpkg", crs="EPSG:4548", datum="gcj02")
    with pytest.raises(GeoInputError, match="unknown CRS"):
        to_bytes(g, "gpkg", crs="EPSG:0")
    with pytest.raises(GeoInputError, match="encoding"):
        to_bytes(g, "shp.zip", encoding="latin-9")
    assert to_bytes(g, "gpkg", crs="OGC:CRS84")[0][:16] == b"SQLite format 3\x00"


def test_csv_content_type_has_one_charset(client):
    assert FORMATS["csv"][1] == "text/csv"
    resp = client.get("/api/export/projects.csv")
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"


# -- QGIS 3.22 opens the exports ----------------------------------------------------------------
def test_qgis_opens_the_exports_in_the_maps_colours(projects, mixed, tmp_path):
    if not os.path.exists("/usr/bin/python3") or subprocess.run(
            ["/usr/bin/python3", "-c", "import qgis.core"], capture_output=True,
            check=False).returncode != 0:
        pytest.fail("QGIS is missing: `make qgis` installs Debian's python3-qgis")
    spec = get_spec("projects")
    files = {
        "gpkg": _write(tmp_path, to_bytes(projects, "gpkg", name="projects", spec=spec)[0],
                       "projects.gpkg"),
        "gk": _write(tmp_path, to_bytes(projects, "gpkg", name="projects", spec=spec,
                                        crs="EPSG:4527")[0], "projects_4527.gpkg"),
        "gcj": _write(tmp_path, to_bytes(projects, "gpkg", name="projects", spec=spec,
                                         datum="gcj02")[0], "projects_gcj02.gpkg"),
        "shp": _write(tmp_path, to_bytes(projects, "shp.zip", name="projects", spec=spec,
                                         encoding="gbk")[0], "projects.shp.zip"),
        "mixed": _write(tmp_path, to_bytes(mixed, "shp.zip", name="mixed")[0], "mixed.shp.zip"),
    }
    args = ["/usr/bin/python3", QGIS_CLIENT]
    for path in files.values():
        args += ["--file", path]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    env["QT_QPA_PLATFORM"] = "offscreen"
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["qgis"].startswith("3.")
    by_path = {f["path"]: f["layers"] for f in report["files"]}
    main = {lyr["name"]: lyr for lyr in by_path[files["gpkg"]]}
    lyr = main["projects"]
    assert lyr["valid"] and lyr["count"] == len(projects) and lyr["crs"] == "EPSG:4326"
    assert dict(lyr["fields"])["total_investment_yi"] == "Real"
    assert lyr["renderer"]["type"] == "categorizedSymbol"
    assert lyr["renderer"]["attribute"] == "category"
    colours = {c[0]: c[2] for c in lyr["renderer"]["categories"]}
    assert {c.value: c.color for c in spec.style.categories}.items() <= colours.items()
    gk = {lyr["name"]: lyr for lyr in by_path[files["gk"]]}["projects"]
    assert gk["crs"] == "EPSG:4527" and gk["count"] == len(projects)
    gcj = {lyr["name"]: lyr for lyr in by_path[files["gcj"]]}["projects"]
    assert gcj["valid"] and gcj["crs"] != "EPSG:4326" and "GCJ-02" in gcj["crs_name"]
    shp = by_path[files["shp"]]
    assert len(shp) == 1 and shp[0]["valid"] and shp[0]["count"] == len(projects)
    assert shp[0]["crs"] == "EPSG:4326"
    mixed_layers = {lyr["name"]: lyr["count"] for lyr in by_path[files["mixed"]]}
    assert mixed_layers == {"mixed_line": 3, "mixed_point": 4, "mixed_polygon": 2}
