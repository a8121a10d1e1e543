"""Items API vs pygeoapi on the same 100,000-point GeoPackage, and the serialisation floor.

Both servers run waitress with 4 threads on 127.0.0.1 and answer the same two
queries (a small bbox with limit 100, a large one with limit 1000), each loaded
by 8 keep-alive connections for a fixed time.  pygeoapi 0.21 serves the
GeoPackage itself through its SQLiteGPKG provider (Debian's python3, whose
sqlite3 loads mod_spatialite); the atlas serves the same file imported as a user
layer of a throwaway store.  pygeoapi is installed into benchmarks/.work/.

The serialisation floor is the time to encode the same features to GeoJSON
in-process with :mod:`geo.geojson` from scratch; the atlas's request latency
(one connection, requests in sequence) is compared with it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import orjson

from geo.geojson import encode_features, feature_collection
from geo.read import read_file
from layers.open import open_store
from layers.prepare import prepare_store

from .common import WORK, Servers, free_port, get, load, sequential_latency
from .data import count_in_bbox, write_gpkg

N_POINTS = 100_000
LAYER = "bench_points"
PYGEOAPI_VERSION = "0.21.0"
SYSTEM_PYTHON = "/usr/bin/python3"
THREADS = 4
CONNECTIONS = 8
#: Small: about 86 of 100,000 uniformly spread points; large: thousands (limit 1000).
QUERIES = {
    "small": ((116.0, 44.0, 116.2, 44.205), 100),
    "large": ((114.0, 43.0, 117.0, 45.0), 1000),
}


def pygeoapi_python() -> str:
    """The python of pygeoapi's own environment, installed on first use.

    Raises
    ------
    RuntimeError
        When the environment cannot be made (no Debian python3 with venv, no
        mod_spatialite, or no package index).
    """
    venv = os.path.join(WORK, "pygeoapi-venv")
    py = os.path.join(venv, "bin", "python")
    marker = os.path.join(venv, f".pygeoapi-{PYGEOAPI_VERSION}")
    if os.path.exists(marker):
        return py
    if not _spatialite_ok():
        _apt_install(["python3-venv", "libsqlite3-mod-spatialite"])
        if not _spatialite_ok():
            raise RuntimeError("Debian's python3 cannot load mod_spatialite "
                               "(apt-get install python3-venv libsqlite3-mod-spatialite)")
    print(f"  installing pygeoapi {PYGEOAPI_VERSION} into {venv} …", flush=True)
    if not os.path.exists(py):
        subprocess.run([SYSTEM_PYTHON, "-m", "venv", venv], check=True)
    subprocess.run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    f"pygeoapi=={PYGEOAPI_VERSION}", "waitress"], check=True, timeout=400)
    open(marker, "w").close()
    return py


def _spatialite_ok() -> bool:
    if not os.path.exists(SYSTEM_PYTHON):
        return False
    code = ("import sqlite3, venv; c = sqlite3.connect(':memory:'); "
            "c.enable_load_extension(True); c.load_extension('mod_spatialite')")
    return subprocess.run([SYSTEM_PYTHON, "-c", code], capture_output=True).returncode == 0


def _apt_install(packages: list[str]) -> None:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-q", *packages], env=env, capture_output=True)


def _pygeoapi_config(gpkg: str, port: int, folder: str) -> tuple[str, str]:
    config = os.path.join(folder, "pygeoapi-config.yml")
    openapi = os.path.join(folder, "pygeoapi-openapi.yml")
    with open(config, "w") as fh:
        fh.write(f"""server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  language: en-US
  limits: {{default_items: 10, max_items: 10000}}
  map: {{url: 'https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png', attribution: OSM}}
  pretty_print: false
logging:
  level: ERROR
metadata:
  identification:
    title: bench
    description: bench
    keywords: [bench]
    keywords_type: theme
    terms_of_service: https://example.org
    url: https://example.org
  license: {{name: CC-BY 4.0, url: https://creativecommons.org/licenses/by/4.0/}}
  provider: {{name: bench, url: https://example.org}}
  contact: {{name: bench, email: bench@example.org}}
resources:
  {LAYER}:
    type: collection
    title: bench points
    description: 100,000 points
    keywords: [points]
    extents:
      spatial: {{bbox: [111, 41.5, 120, 46.8], crs: http://www.opengis.net/def/crs/OGC/1.3/CRS84}}
    providers:
      - type: feature
        name: SQLiteGPKG
        data: {gpkg}
        id_field: fid
        table: {LAYER}
""")
    return config, openapi


def _count(body: bytes) -> int:
    return len(orjson.loads(body).get("features", []))


def run(budget_s: float = 240.0) -> dict:
    """Run the comparison; returns rows for the table and the raw figures."""
    folder = os.path.join(WORK, "items")
    os.makedirs(folder, exist_ok=True)
    gpkg = write_gpkg(os.path.join(WORK, f"points-{N_POINTS}.gpkg"), N_POINTS, LAYER)
    points = read_file(gpkg).gdf
    store_path = os.path.join(folder, "atlas.gpkg")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(store_path + suffix):
            os.unlink(store_path + suffix)
    store = open_store(store_path)
    prepare_store(store)
    store.put(LAYER, points, meta={"title": "bench points", "source": "benchmarks.data"})

    seconds = max(3.0, min(8.0, (budget_s - 60) / 4))
    result: dict = {"n_points": N_POINTS, "threads": THREADS, "connections": CONNECTIONS,
                    "seconds_per_run": seconds, "queries": {}}
    pyg_error = None
    try:
        pyg_py = pygeoapi_python()
    except (RuntimeError, subprocess.SubprocessError, OSError) as e:
        pyg_py, pyg_error = None, str(e)
        result["pygeoapi_error"] = pyg_error

    with Servers() as servers:
        port = free_port()
        ours = servers.start([sys.executable, "-m", "benchmarks.serve", "--store", store_path,
                              "--port", str(port), "--threads", str(THREADS), "--warm", LAYER],
                             port, ready_path="/healthz")
        theirs = None
        if pyg_py:
            pport = free_port()
            config, openapi = _pygeoapi_config(gpkg, pport, folder)
            bindir = os.path.dirname(pyg_py)
            env = {"PYGEOAPI_CONFIG": config, "PYGEOAPI_OPENAPI": openapi}
            subprocess.run([os.path.join(bindir, "pygeoapi"), "openapi", "generate", config,
                            "--output-file", openapi], check=True, capture_output=True,
                           env={**os.environ, **env}, timeout=120)
            theirs = servers.start([os.path.join(bindir, "waitress-serve"), "--host",
                                    "127.0.0.1", "--port", str(pport), "--threads", str(THREADS),
                                    "pygeoapi.flask_app:APP"], pport, env=env,
                                   ready_path="/collections?f=json")

        for qname, (bbox, limit) in QUERIES.items():
            b = ",".join(map(str, bbox))
            our_url = f"{ours}/ogcapi/collections/{LAYER}/items?bbox={b}&limit={limit}&f=json"
            row: dict = {"bbox": bbox, "limit": limit, "matched": count_in_bbox(points, bbox)}
            status, _, body = get(our_url)
            row["atlas_returned"] = _count(body) if status == 200 else f"HTTP {status}"
            for _ in range(20):  # warm: encoded features, caches, connections
                get(our_url)
            row["atlas"] = load(our_url, seconds, CONNECTIONS)
            if theirs:
                their_url = f"{theirs}/collections/{LAYER}/items?bbox={b}&limit={limit}&f=json"
                status, _, body = get(their_url)
                row["pygeoapi_returned"] = _count(body) if status == 200 else f"HTTP {status}"
                get(their_url)
                row["pygeoapi"] = load(their_url, seconds, CONNECTIONS)
                row["ratio_rps"] = row["atlas"]["rps"] / max(row["pygeoapi"]["rps"], 1e-9)

            # serialisation floor vs one-connection latency
            page = store.query(LAYER, bbox=bbox, limit=limit).features
            reps, t0 = 0, time.perf_counter()
            while reps < 50 or (time.perf_counter() - t0 < 1.0 and reps < 2000):
                feature_collection(encode_features(page), {"numberMatched": len(page)})
                reps += 1
            floor_ms = (time.perf_counter() - t0) / reps * 1000
            seq = sequential_latency(our_url, n=300)
            row["floor_ms"] = floor_ms
            row["latency_1conn"] = seq
            row["floor_target_ms"] = 2 * floor_ms + 1
            result["queries"][qname] = row
    return result


def table_rows(res: dict) -> list[dict]:
    """Rows for the summary table."""
    rows = []
    targets = {"small": 30, "large": 10}
    for qname, row in res.get("queries", {}).items():
        a = row["atlas"]
        p = row.get("pygeoapi")
        label = f"items {qname} bbox (limit {row['limit']}, {row['atlas_returned']} returned)"
        if p:
            ratio = row["ratio_rps"]
            target = targets[qname]
            met = ratio >= target and a["errors"] == 0
            rows.append({
                "comparison": label,
                "atlas": f"{a['rps']:.0f} req/s, p50 {a['p50_ms']:.1f} ms, p99 "
                         f"{a['p99_ms']:.1f} ms, {a['errors']} errors",
                "other": f"pygeoapi: {p['rps']:.1f} req/s, p50 {p['p50_ms']:.0f} ms, p99 "
                         f"{p['p99_ms']:.0f} ms, {p['errors']} errors",
                "ratio": f"{ratio:.0f}×",
                "target": f"≥{target}×, 0 errors", "met": met,
            })
        else:
            rows.append({"comparison": label,
                         "atlas": f"{a['rps']:.0f} req/s, {a['errors']} errors",
                         "other": f"pygeoapi not run: {res.get('pygeoapi_error', '?')}",
                         "ratio": "-", "target": f"≥{targets[qname]}×", "met": None})
        lat = row["latency_1conn"]["p50_ms"]
        rows.append({
            "comparison": f"items {qname}: latency vs serialisation floor",
            "atlas": f"p50 {lat:.2f} ms (1 connection)",
            "other": f"floor {row['floor_ms']:.2f} ms (geo.geojson alone)",
            "ratio": f"{lat / max(row['floor_ms'], 1e-9):.1f}×",
            "target": f"≤ 2×floor+1 ms = {row['floor_target_ms']:.2f} ms",
            "met": lat <= row["floor_target_ms"],
        })
    return rows
