"""QGIS 3.22 (Debian's, headless) and OWSLib as clients of the atlas, over real HTTP.

QGIS runs in Debian's system Python as a subprocess (``tests/qgis_client.py``): it opens
every collection through its OAPIF provider, applies a filter (QGIS 3.22 evaluates
``setSubsetString`` on the client, it sends no CQL2) whose count must equal the server's
CQL2 count for the same condition, and opens the GeoPackage and zipped Shapefile exports.
OWSLib's ``Features`` reads the landing page, conformance, queryables, items with a
bbox, a CQL2 filter and pages.  ``make test`` installs QGIS when it is missing
(``make qgis``).
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.parse
import urllib.request

import geopandas as gpd
import pytest

QGIS_CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "qgis_client.py")
pytestmark = [pytest.mark.xdist_group("qgis")]

#: How QGIS types the JSON Schema types of the queryables (OAPIF provider, 3.22).
QGIS_TYPES = {"integer": {"Integer", "Integer64", "int8", "int4"},
              "number": {"Real", "double", "float8"},
              "boolean": {"Boolean", "bool"},
              "string": {"String", "text"}, "date": {"Date"}, "date-time": {"DateTime"}}


def _get(url: str) -> dict:
    req = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.load(resp)


def _run_qgis(*args: str) -> dict:
    if subprocess.run(["/usr/bin/python3", "-c", "import qgis.core"], capture_output=True,
                      check=False).returncode != 0:
        pytest.fail("QGIS is missing: `make qgis` installs Debian's python3-qgis")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    env["QT_QPA_PLATFORM"] = "offscreen"
    done = subprocess.run(["/usr/bin/python3", QGIS_CLIENT, *args], capture_output=True,
                          text=True, timeout=600, env=env, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_qgis_opens_every_collection_filters_and_opens_the_exports(live_server, tmp_path):
    base = f"{live_server.url}/ogcapi"
    # The GIS officer's file: a CQL2 selection in CGCS2000 / Gauss-Krüger (CM 117°E).
    cql2 = "category = 'energy' AND total_investment_yi > 20"
    gk = urllib.parse.urlencode({"crs": "EPSG:4548", "filter": cql2})
    for fmt, query in (("gpkg", ""), ("shp.zip", ""), ("gpkg", gk)):
        with urllib.request.urlopen(f"{live_server.url}/api/export/projects.{fmt}?{query}",
                                    timeout=60) as resp:
            (tmp_path / f"projects{'_gk' if query else ''}.{fmt}").write_bytes(resp.read())
    report = _run_qgis("--oapif", base, "--subset", "\"category\" = 'energy'",
                       "--file", str(tmp_path / "projects.gpkg"),
                       "--file", str(tmp_path / "projects.shp.zip"),
                       "--file", str(tmp_path / "projects_gk.gpkg"))
    assert report["qgis"].startswith("3.")
    ids = [c["id"] for c in _get(f"{base}/collections")["collections"]]
    got = {c["id"]: c for c in report["collections"]}
    assert set(got) == set(ids)
    for cid in ids:
        layer = got[cid]
        assert layer["valid"], cid
        matched = _get(f"{base}/collections/{cid}/items?limit=1")["numberMatched"]
        assert layer["count"] == matched, cid
        queryables = _get(f"{base}/collections/{cid}/queryables")["properties"]
        fields = dict(layer["fields"])
        for name, schema in queryables.items():
            if name == "geometry" or name not in fields:
                continue
            kind = schema.get("format") if schema.get("format", "").startswith("date") \
                else schema["type"]
            assert fields[name] in QGIS_TYPES[kind], (cid, name, fields[name])
    # QGIS filters on the client: its count equals the server's CQL2 count.
    subset = got["projects"]["subset"]
    assert subset["accepted"]
    server = _get(f"{base}/collections/projects/items?limit=1&filter=category%3D%27energy%27")
    assert subset["count"] == server["numberMatched"] > 0
    files = {os.path.basename(f["path"]): f["layers"] for f in report["files"]}
    gpkg = {lyr["name"]: lyr for lyr in files["projects.gpkg"]}["projects"]
    shp = files["projects.shp.zip"][0]
    for lyr in (gpkg, shp):
        assert lyr["valid"] and lyr["count"] == got["projects"]["count"]
        assert lyr["crs"] == "EPSG:4326"
    assert gpkg["renderer"]["type"] == "categorizedSymbol"  # the map's colours
    gk_layer = {lyr["name"]: lyr for lyr in files["projects_gk.gpkg"]}["projects"]
    server = _get(f"{base}/collections/projects/items?limit=1&"
                  + urllib.parse.urlencode({"filter": cql2}))
    assert gk_layer["valid"] and gk_layer["crs"] == "EPSG:4548"
    assert gk_layer["count"] == server["numberMatched"] > 0


def test_owslib_features_client(live_server):
    from owslib.ogcapi.features import Features

    api = Features(f"{live_server.url}/ogcapi")
    assert "Xilingol" in api.response["title"]  # the landing page
    assert "/collections/{collectionId}/queryables" in api.api()["paths"]  # its OpenAPI
    assert any(c.endswith("/conf/filter") for c in api.conformance()["conformsTo"])
    assert "projects" in [c["id"] for c in api.collections()["collections"]]
    assert api.collection_queryables("projects")["properties"]["category"]["type"] == "string"
    projects = gpd.read_file("data/xilingol/projects.geojson")
    box = [115.0, 43.0, 117.0, 45.0]
    fc = api.collection_items("projects", bbox=box, limit=500)
    want = projects.cx[115:117, 43:45]
    assert fc["numberMatched"] == len(want) == len(fc["features"])
    fc = api.collection_items("projects", filter="category = 'energy' AND total_investment_yi > 5",
                              limit=500)
    want = projects[(projects.category == "energy") & (projects.total_investment_yi > 5)]
    assert sorted(f["properties"]["id"] for f in fc["features"]) == sorted(want["id"])
    # Paging: offset and limit walk every feature once.
    seen = []
    for offset in range(0, len(projects), 40):
        page = api.collection_items("projects", limit=40, offset=offset)
        seen += [f["id"] for f in page["features"]]
    assert sorted(seen) == list(range(1, len(projects) + 1))
