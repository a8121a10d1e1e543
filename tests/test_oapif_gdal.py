"""GDAL's OAPIF driver (the one QGIS's GDAL provider and ``ogrinfo`` use) reads every collection.

The server is the real app under waitress on 127.0.0.1 (``live_server``).  GDAL
runs in a child Python process: pyogrio keeps the GIL while GDAL downloads a
page, so a GDAL client in the server's own process would stall waitress as soon
as a response is larger than the socket buffer.
"""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pytest
import shapely

from layers.catalog import SEED_PROJECT_TOTALS
from tests.conftest import LiveServer

# Reads each layer as GDAL would for `ogrinfo -al` / QGIS, and reports what it saw.
_CHILD = r"""
import json, sys
import pyogrio
url = "OAPIF:" + sys.argv[1]
jobs = json.loads(sys.argv[2])
out = {"layers": [[str(n), str(t)] for n, t in pyogrio.list_layers(url)], "read": {}}
for name in [n for n, _ in out["layers"]]:
    df = pyogrio.read_dataframe(url, layer=name)
    info = pyogrio.read_info(url, layer=name)
    out["read"][name] = {
        "count": len(df), "info_count": int(info["features"]),
        "columns": [c for c in df.columns if c != "geometry"],
        "dtypes": {c: str(t) for c, t in df.dtypes.items() if c != "geometry"},
        "geom_types": sorted(set(df.geom_type.dropna())),
        "crs": str(info["crs"]),
        "bounds": [float(v) for v in df.total_bounds] if len(df) else None,
        "first": {k: (None if v != v else v) for k, v in df.drop(columns="geometry")
                  .iloc[0].items() if isinstance(v, (str, int, float, bool))} if len(df) else {},
        "ids": [None if v is None or v != v else str(v) for v in df["id"]]
               if list(df.columns).count("id") == 1 else None,
    }
for key, job in jobs.items():
    df = pyogrio.read_dataframe(url, layer=job["layer"], where=job.get("where"),
                                bbox=tuple(job["bbox"]) if job.get("bbox") else None)
    out[key] = len(df)
print(json.dumps(out, ensure_ascii=False))
"""


def _gdal_read(base_url: str, jobs: dict | None = None) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, base_url + "/ogcapi", json.dumps(jobs or {})],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _check_every_collection(store, seen: dict) -> None:
    infos = store.list_layers()
    assert [n for n, _ in seen["layers"]] == [i.name for i in infos]
    for info in infos:
        got = seen["read"][info.name]
        gdf = store.get(info.name)
        assert got["count"] == got["info_count"] == info.count == len(gdf), info.name
        props = [c for c in gdf.columns if c != gdf.geometry.name]
        assert set(props) <= set(got["columns"]), info.name
        assert len(got["columns"]) == len(set(got["columns"])), (info.name, got["columns"])
        if "id" in props:  # the layer's own ids reach QGIS/ogr2ogr (not a duplicate, empty "id")
            assert got["ids"] == [str(v) for v in gdf["id"]], info.name
        # GDAL reads multi-geometries as such; compare the geometry family
        family = {t.removeprefix("Multi") for t in gdf.geom_type.dropna().unique()}
        assert {t.removeprefix("Multi") for t in got["geom_types"]} == family, info.name
        assert "4326" in got["crs"] or "CRS84" in got["crs"]
        if len(gdf):
            assert got["bounds"] == pytest.approx(list(gdf.total_bounds), abs=1e-5)


def test_gdal_reads_every_reference_collection(live_server, app):
    store = app.extensions["atlas_store"]
    assert store.list_layers(), "the reference store has layers"
    box = (115.0, 43.0, 117.0, 45.0)
    seen = _gdal_read(live_server.url, {
        "energy": {"layer": "projects", "where": "category = 'energy'"},
        "bbox": {"layer": "projects", "bbox": list(box)},
    })
    _check_every_collection(store, seen)
    assert seen["energy"] == SEED_PROJECT_TOTALS["by_category"]["energy"][0]
    projects = store.get("projects")
    assert seen["bbox"] == int(projects.intersects(shapely.box(*box)).sum())


def test_gdal_reads_user_layers_across_pages(make_app):
    """A user layer larger than GDAL's page size, with Chinese and hostile text, reads back whole."""
    app = make_app()
    store = app.extensions["atlas_store"]
    rng = np.random.default_rng(3)
    n = 2_345
    names = [f"样点{i}" for i in range(n)]
    names[5] = "<img src=x onerror=alert(1)>"
    # "depth" is empty in GDAL's first page: its type must come from the schema
    depth = np.where(np.arange(n) < 100, np.nan, rng.uniform(0, 30, n))
    store.put("survey_points", gpd.GeoDataFrame(
        {"name_zh": names, "score": rng.integers(0, 100, n), "depth": depth},
        geometry=shapely.points(rng.uniform(112, 120, n), rng.uniform(41.5, 46, n)), crs=4326))
    store.put("survey_tracks", gpd.GeoDataFrame(
        {"name_zh": ["甲线", "乙线"]},
        geometry=[shapely.LineString([(115, 43), (116, 44)]),
                  shapely.LineString([(116, 43), (117, 44), (117.5, 44.2)])], crs=4326))
    with LiveServer(app) as server:
        seen = _gdal_read(server.url, {"score": {"layer": "survey_points", "where": "score = 42"}})
    _check_every_collection(store, seen)
    got = seen["read"]["survey_points"]
    assert got["first"]["name_zh"] == "样点0"
    assert got["dtypes"]["depth"] == "float64" and got["dtypes"]["score"].startswith("int")
    pts = store.get("survey_points")
    assert seen["score"] == int((pts["score"] == 42).sum())
