"""PostGIS backend: migrations, ``python -m data.load``, the API on both backends, and
two app processes sharing one database.

Everything runs against the throwaway cluster of tests/pg.py; the app processes
are real waitress servers on 127.0.0.1 started as subprocesses.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import pytest
import shapely

from layers.catalog import layer_ids
from layers.open import open_store
from layers.postgis import PostGISStore, migrations
from layers.store import StoreError
from webmap import create_app

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKEN = "test-token-0123456789"


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATLAS_")}
    env.update(PYTHONPATH=ROOT, ATLAS_DATABASE_URL=url, ATLAS_WRITE_TOKEN=TOKEN)
    return env


# -- schema -------------------------------------------------------------------------------
def test_migrations_run_once_when_processes_open_at_once(pg_cluster):
    url = pg_cluster.create_database("template0")  # no PostGIS, no schema yet
    try:
        with ThreadPoolExecutor(4) as pool:  # four sessions racing to migrate
            stores = list(pool.map(lambda _: PostGISStore(url), range(4)))
        newest = max(v for v, _, _ in migrations())
        assert {s.schema_version() for s in stores} == {newest}
        assert stores[0].check() == []
        with stores[0]._pool.connection() as con:
            rows = con.execute("SELECT version FROM atlas.schema_version").fetchall()
            con.execute("INSERT INTO atlas.schema_version VALUES (9999, 'from the future')")
        assert sorted(v for (v,) in rows) == [v for v, _, _ in migrations()]
        for s in stores:
            s.close()
        with pytest.raises(StoreError, match="schema version 9999"):
            PostGISStore(url)
    finally:
        pg_cluster.drop_database(url)


def test_unreachable_database_is_a_store_error(pg_cluster):
    with pytest.raises(StoreError, match="cannot open the PostGIS store"):
        PostGISStore(pg_cluster.url("no_such_database"))


# -- python -m data.load ------------------------------------------------------------------
def test_data_load_fills_an_empty_database_once(pg_empty_url, capsys):
    from data.load import main

    done = subprocess.run([sys.executable, "-m", "data.load", "--database-url", pg_empty_url],
                          cwd=ROOT, env=_env(""), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    present = [i for i in layer_ids() if os.path.exists(os.path.join(
        ROOT, "data", "xilingol", f"{i}.geojson"))]
    assert f"Loaded {len(present)} layer(s)" in done.stdout
    assert "reference layers" in done.stderr and "100%" in done.stderr  # the progress bar
    store = open_store(pg_empty_url)
    versions = [i.version for i in store.list_layers()]
    assert [i.name for i in store.list_layers()] == present

    assert main(["--database-url", pg_empty_url, "--quiet"]) == 0  # again: nothing to do
    assert "up to date" in capsys.readouterr().out
    assert [i.version for i in store.list_layers()] == versions
    assert store.check() == []
    store.close()


def test_data_load_needs_a_database(monkeypatch, capsys):
    from data.load import main

    monkeypatch.delenv("ATLAS_DATABASE_URL", raising=False)
    assert main([]) == 2
    assert "ATLAS_DATABASE_URL" in capsys.readouterr().err


# -- the API answers the same on both backends ----------------------------------------------
@pytest.fixture(scope="module")
def two_clients(gpkg_ref_path, pg_ref_url):
    """Test clients of the app on the GeoPackage and on the PostGIS reference store."""
    return [create_app({"ATLAS_STORE": u, "TESTING": True}).test_client()
            for u in (gpkg_ref_path, pg_ref_url)]


def _api_urls() -> list[str]:
    urls = ["/api/layers", "/ogcapi/collections", "/ogcapi/collections/nope/items",
            "/api/stats/projects", "/api/route/stages?max_km=250",
            "/api/route/locate?lon=116.2&lat=43.9"]
    for lid in layer_ids():
        urls += [f"/api/layers/{lid}", f"/ogcapi/collections/{lid}",
                 f"/ogcapi/collections/{lid}/items?limit=3&offset=2",
                 f"/ogcapi/collections/{lid}/items?bbox=115.5,43.5,117,44.5&limit=50",
                 f"/ogcapi/collections/{lid}/items/2", f"/ogcapi/collections/{lid}/items/99999",
                 f"/ogcapi/collections/{lid}/items?nope=1",
                 f"/api/layers/{lid}/features?z=8"]
    urls += ["/ogcapi/collections/projects/items?category=energy&limit=5",
             "/ogcapi/collections/projects/items?category=energy&bbox=115,42,118,46&offset=3",
             "/api/stats/projects?basin=luanhe"]
    return urls


def _normalise(body):
    """Drop what differs by design: version tokens (and the URLs' ?v= tags made from them)
    and write times."""
    if isinstance(body, dict):
        return {k: _normalise(v) for k, v in body.items()
                if k not in ("version", "updated", "timeStamp", "etag")}
    if isinstance(body, list):
        return [_normalise(v) for v in body]
    if isinstance(body, str) and "?v=" in body:
        return re.sub(r"\?v=[0-9a-f]+", "", body)
    return body


@pytest.mark.parametrize("url", _api_urls())
def test_api_answers_the_same_on_both_backends(two_clients, url):
    gp, pg = (c.get(url) for c in two_clients)
    if gp.status_code == 404 and b"Not Found" in gp.data and not gp.is_json:
        pytest.skip(f"{url} is not served by this app")
    assert pg.status_code == gp.status_code, pg.data[:300]
    assert pg.is_json == gp.is_json
    if gp.status_code >= 400:
        # Same status and error shape; the wording may differ: the OGC API checks
        # parameters itself when the store has an in-memory copy (GeoPackage), and
        # leaves that to the store's QueryError otherwise (PostGIS).
        assert set(pg.get_json()) == set(gp.get_json()) >= {"error", "hint"}
    elif gp.is_json:
        assert _normalise(pg.get_json()) == _normalise(gp.get_json())
    else:
        assert pg.data == gp.data


# -- two app processes, one database ----------------------------------------------------------
class AppProcess:
    """``python -m waitress … webmap:create_app`` on 127.0.0.1 with ATLAS_DATABASE_URL set."""

    def __init__(self, url: str) -> None:
        from tests.pg import _free_port

        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "waitress", "--host=127.0.0.1", f"--port={self.port}",
             "--threads=6", "--call", "webmap:create_app"],
            cwd=ROOT, env=_env(url), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def wait(self, timeout: float = 90) -> AppProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.proc.stderr.read().decode()[-3000:])
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"the app on port {self.port} did not start")

    def request(self, method: str, path: str, body: bytes | None = None
                ) -> tuple[int, dict]:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        if body is not None:
            headers["Content-Type"] = "application/geo+json"
        req = urllib.request.Request(self.base + path, data=body, method=method,
                                     headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def raw(self, method: str, path: str, body: bytes | None = None,
            content_type: str = "application/octet-stream") -> tuple[int, bytes]:
        """Status and body bytes (for answers compared byte for byte)."""
        headers = {"Authorization": f"Bearer {TOKEN}"}
        if body is not None:
            headers["Content-Type"] = content_type
        req = urllib.request.Request(self.base + path, data=body, method=method,
                                     headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def shared_db(pg_cluster, pg_ref_template):
    """A copy of the reference database shared by this module's app processes."""
    url = pg_cluster.create_database(pg_ref_template)
    yield url
    pg_cluster.drop_database(url)


@pytest.fixture(scope="module")
def two_apps(shared_db):
    """Two app processes on one PostGIS database (started once: each test its own layers)."""
    apps = [AppProcess(shared_db), AppProcess(shared_db)]
    try:
        yield [a.wait() for a in apps]
    finally:
        for a in apps:
            a.stop()


def _geojson(n: int, writer: str) -> bytes:
    """``n`` points in Xilingol, every feature tagged with its writer."""
    features = [{"type": "Feature", "properties": {"writer": writer, "k": i},
                 "geometry": {"type": "Point", "coordinates": [115 + i * 1e-4, 43 + i * 1e-4]}}
                for i in range(n)]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def _names(app: AppProcess) -> list[str]:
    status, body = app.request("GET", "/api/layers")
    assert status == 200
    return [lyr["id"] for lyr in body["layers"]]


def _items(app: AppProcess, name: str, query: str = "limit=10000") -> tuple[int, dict]:
    return app.request("GET", f"/ogcapi/collections/{name}/items?{query}")


@pytest.mark.xdist_group("postgis_two_apps")  # one pair of app processes
def test_a_layer_saved_through_one_app_is_served_by_the_other(two_apps):
    a, b = two_apps
    assert "shared" not in _names(b) and _items(b, "shared")[0] == 404
    assert a.request("PUT", "/api/layers/shared", _geojson(3, "a"))[0] == 201
    assert "shared" in _names(b)  # at once: no restart, no cache to expire
    status, body = _items(b, "shared", "limit=2")
    assert status == 200 and body["numberMatched"] == 3 and body["numberReturned"] == 2
    assert a.request("PUT", "/api/layers/shared", _geojson(5, "a2"))[0] == 200
    status, body = _items(b, "shared", "writer=a2&limit=1")
    assert body["numberMatched"] == 5
    assert b.request("DELETE", "/api/layers/shared")[0] == 200
    assert _items(a, "shared")[0] == 404 and "shared" not in _names(a)


@pytest.mark.xdist_group("postgis_two_apps")  # one pair of app processes
def test_concurrent_writes_to_different_layers_both_land(two_apps, shared_db):
    a, b = two_apps
    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(lambda job: job[0].request("PUT", f"/api/layers/{job[1]}",
                                                        _geojson(job[2], job[1])),
                             [(a, "left", 3000), (b, "right", 2000)]))
    assert [s for s, _ in done] == [201, 201]
    for app in two_apps:
        assert {"left", "right"} <= set(_names(app))
        assert _items(app, "left", "limit=1")[1]["numberMatched"] == 3000
        assert _items(app, "right", "limit=1")[1]["numberMatched"] == 2000
    store = open_store(shared_db)
    assert store.check() == []
    store.close()


@pytest.mark.xdist_group("postgis_two_apps")  # one pair of app processes
def test_concurrent_writes_to_one_layer_end_with_one_whole_version(two_apps, shared_db):
    a, b = two_apps
    sizes = {f"w{k}": 300 + 100 * k for k in range(6)}
    seen: list[tuple[int, set, int]] = []
    stop = threading.Event()

    def read_until_stopped() -> None:
        while not stop.is_set() or not seen:  # at least one read of the layer
            status, body = _items(b, "same")
            if status == 200:
                writers = {f["properties"]["writer"] for f in body["features"]}
                seen.append((body["numberMatched"], writers, len(body["features"])))

    reader = threading.Thread(target=read_until_stopped)
    reader.start()
    try:
        with ThreadPoolExecutor(6) as pool:
            statuses = list(pool.map(
                lambda k: (a, b)[k % 2].request("PUT", "/api/layers/same",
                                                _geojson(sizes[f"w{k}"], f"w{k}"))[0],
                range(6)))
    finally:
        stop.set()
        reader.join()
    assert set(statuses) <= {200, 201}  # every write was acknowledged
    for matched, writers, returned in seen:  # every read saw one whole version
        assert len(writers) == 1 and sizes[writers.pop()] == matched == returned
    status, body = _items(a, "same")
    writers = {f["properties"]["writer"] for f in body["features"]}
    assert len(writers) == 1 and body["numberMatched"] == sizes[writers.pop()]
    store = open_store(shared_db)
    assert store.check() == []  # no half-written or orphaned version tables
    store.close()


@pytest.mark.xdist_group("postgis_two_apps")  # one pair of app processes
def test_concurrent_creates_through_two_apps_give_exactly_one_201(two_apps, shared_db):
    """Issue 13: 20 POSTs of one new name, half through each app process → one 201."""
    a, b = two_apps
    gate = threading.Barrier(20)

    def create(k: int) -> tuple[int, dict]:
        gate.wait(30)
        return (a, b)[k % 2].request("POST", "/api/layers?name=contested",
                                     _geojson(3 + k, f"w{k}"))

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(create, range(20)))
    assert sorted(s for s, _ in answers) == [201] + [409] * 19
    winner = next(body for s, body in answers if s == 201)
    store = open_store(shared_db)
    try:
        assert [v.number for v in store.versions("contested")] == [1]
        gdf = store.get("contested")
        assert set(gdf["writer"]) == {f"w{winner['count'] - 3}"} and len(gdf) == winner["count"]
        assert store.check() == []
    finally:
        store.close()


def test_store_level_writers_and_readers_in_threads(pg_empty_url):
    """Many sessions replacing one layer while others read: only whole versions."""
    def frame(k: int) -> gpd.GeoDataFrame:
        n = 50 + 10 * k
        return gpd.GeoDataFrame({"writer": [k] * n}, crs=4326,
                                geometry=shapely.points([116.0] * n, [44.0] * n))

    stores = [PostGISStore(pg_empty_url) for _ in range(4)]
    stores[0].put("hot", frame(0))
    bad: list = []
    stop = threading.Event()

    def read(store: PostGISStore) -> None:
        while not stop.is_set():
            r = store.query("hot", bbox=(115, 43, 117, 45))
            ks = set(r.features["writer"])
            if len(ks) != 1 or r.number_matched != len(r.features) or \
                    50 + 10 * ks.pop() != r.number_matched:
                bad.append(r)

    readers = [threading.Thread(target=read, args=(s,)) for s in stores[2:]]
    for t in readers:
        t.start()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda k: stores[k % 2].put("hot", frame(k)), range(1, 13)))
    stop.set()
    for t in readers:
        t.join()
    assert bad == []
    assert stores[0].check() == []
    for s in stores:
        s.close()


@pytest.mark.xdist_group("postgis_two_apps")  # one pair of app processes
def test_a_reference_replacement_through_one_app_is_served_by_the_other(two_apps):
    """The registry replaced through app a: app b answers from it at once, and from the
    built-in data again, byte for byte, once a restores version 1 (no restart, no cache)."""
    from urllib.parse import quote

    from tests import ingest_fixtures as fx
    from tests import reference_flows as rf

    a, b = two_apps

    def io(app):
        return (lambda path: app.raw("GET", path),
                lambda path, body: app.raw("POST", path, body, "application/geo+json"))

    before = rf.answers(*io(b))
    edited = rf.edited_registry()
    query = f"filename=r.xlsx&source={quote('盟发改委 2024年台账')}"
    status, body = a.raw("PUT", f"/api/reference/projects?{query}",
                         fx.registry_xlsx("万元", projects=edited))
    assert status == 201, body[:500]
    assert json.loads(body)["version"] == 2
    after = rf.answers(*io(b))
    assert rf.changed(before, after) == {"stats", "stats_basin", "projects_features",
                                         "projects_items", "projects_export"}
    assert json.loads(after["stats"])["total"] == rf.registry_totals(edited)
    coll = b.request("GET", "/ogcapi/collections/projects")[1]
    assert coll["provenance"]["source"] == "盟发改委 2024年台账"
    versions = b.request("GET", "/api/reference/projects/versions")[1]["versions"]
    assert [(v["version"], v["current"]) for v in versions] == [(2, True), (1, False)]
    status, body = a.raw("POST", "/api/reference/projects/restore", b'{"version": 1}',
                         "application/json")
    assert status == 201, body[:500]
    assert rf.answers(*io(b)) == before
