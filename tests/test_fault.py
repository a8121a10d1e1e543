"""Crash safety: SIGKILL the server in the middle of saving a large upload, then restart.

The server is a real child process (waitress on 127.0.0.1, its own GeoPackage
copy).  The kill is timed by the store itself: the test polls the GeoPackage for
its write lock and kills the server the moment a write transaction is open, so
the process dies half-way through writing the rows.  After a restart every
layer saved before reads back identical (hash of every feature's geometry and
properties), ``store.check()`` is clean, the half-written new layer is absent and
the half-replaced layer is still its previous version.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import threading
import time

import geopandas as gpd
import numpy as np
import pytest
import shapely

from benchmarks.load_test import ServerProcess, request
from layers.open import open_store

pytestmark = pytest.mark.slow


def layer_hash(gdf: gpd.GeoDataFrame) -> str:
    """SHA-256 of a layer's features: fids, WKB geometries and properties, in fid order."""
    gdf = gdf.sort_index()
    h = hashlib.sha256()
    h.update(np.asarray(gdf.index, dtype="int64").tobytes())
    for wkb in shapely.to_wkb(gdf.geometry.values, hex=False):
        h.update(wkb or b"")
    props = gdf.drop(columns=[gdf.geometry.name])
    h.update(json.dumps(props.to_dict("split"), sort_keys=True, default=str).encode())
    return h.hexdigest()


def all_hashes(store_path: str) -> dict[str, tuple[str, str, int]]:
    """Layer name → (version, feature hash, count) read from the GeoPackage itself."""
    store = open_store(store_path)
    return {i.name: (i.version, layer_hash(store.get(i.name)), i.count)
            for i in store.list_layers()}


def big_upload(n: int) -> bytes:
    rng = np.random.default_rng(7)
    xy = np.column_stack([rng.uniform(112, 119, n), rng.uniform(42, 46, n)]).round(5)
    feats = [f'{{"type":"Feature","properties":{{"name":"点{i}","seq":{i},"note":"大批量"}},'
             f'"geometry":{{"type":"Point","coordinates":[{x},{y}]}}}}'
             for i, (x, y) in enumerate(xy.tolist())]
    return ('{"type":"FeatureCollection","features":[' + ",".join(feats) + "]}").encode()


def small_upload(n: int, tag: str) -> bytes:
    feats = [{"type": "Feature", "properties": {"name": f"{tag}{i}", "seq": i},
              "geometry": {"type": "Point", "coordinates": [116 + i * 0.01, 44 - i * 0.01]}}
             for i in range(n)]
    return json.dumps({"type": "FeatureCollection", "features": feats},
                      ensure_ascii=False).encode()


def write_in_progress(store_path: str) -> bool:
    """Whether some process holds the GeoPackage's write lock right now."""
    con = sqlite3.connect(store_path, timeout=0, isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        con.close()


def kill_during_write(server: ServerProcess, store_path: str, path: str, body: bytes,
                      headers: dict[str, str], timeout: float = 60) -> str:
    """Send ``body`` and SIGKILL the server once its write transaction is open.

    Returns what happened to the request on the client side (it must not have
    been acknowledged).
    """
    outcome: list[str] = []

    def send():
        try:
            status, _, _ = request(server.url, "PUT", path, body, headers, timeout=timeout)
            outcome.append(f"answered {status}")
        except OSError as e:
            outcome.append(f"connection lost ({type(e).__name__})")

    t = threading.Thread(target=send, daemon=True)
    t.start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not outcome:
        if write_in_progress(store_path):
            server.kill()
            break
        time.sleep(0.005)
    t.join(timeout)
    assert outcome, "the request neither finished nor failed"
    return outcome[0]


def test_sigkill_during_a_large_upload_loses_nothing(store_path, tmp_path):
    token = secrets.token_urlsafe(24)
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/geo+json"}
    log = str(tmp_path / "server.log")
    big = big_upload(30_000)

    server = ServerProcess(store_path, token=token, threads=4, log=log).start()
    try:
        for name, n in (("saved_a", 5), ("saved_b", 300), ("saved_c", 2000)):
            status, _, data = request(server.url, "PUT", f"/api/layers/{name}",
                                      small_upload(n, name), auth)
            assert status == 201, data
        status, _, _ = request(server.url, "PUT", "/api/layers/saved_b",
                               small_upload(40, "替换"), auth)
        assert status == 200
        before = all_hashes(store_path)
        assert before["saved_b"][2] == 40

        # 1. A new layer, killed half-way: it must not exist afterwards.
        outcome = kill_during_write(server, store_path, "/api/layers/half_new", big, auth)
        assert outcome.startswith("connection lost"), outcome
    finally:
        server.kill()

    server = ServerProcess(store_path, token=token, threads=4, log=log).start()
    try:
        assert all_hashes(store_path) == before
        assert open_store(store_path).check() == []
        assert not open_store(store_path).exists("half_new")

        # 2. A replacement of saved_c, killed half-way: the old version stays.
        outcome = kill_during_write(server, store_path, "/api/layers/saved_c", big, auth)
        assert outcome.startswith("connection lost"), outcome
    finally:
        server.kill()

    server = ServerProcess(store_path, token=token, threads=4, log=log).start()
    try:
        after = all_hashes(store_path)
        assert after == before
        store = open_store(store_path)
        assert store.check() == []
        assert not store.exists("half_new") and store.info("saved_c").count == 2000
        # The restarted server serves the old versions and accepts new writes.
        status, _, data = request(server.url, "PUT", "/api/layers/after_crash",
                                  small_upload(3, "后"), auth)
        assert status == 201, data
        assert open_store(store_path).check() == []
        print(f"held after 2 kills: {len(before)} layers identical "
              f"({', '.join(sorted(before))}), integrity check clean, half-written absent")
    finally:
        server.stop()
