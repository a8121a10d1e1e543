"""Racing writers against a real server: atomic create, ``created`` told once, PUT vs DELETE.

Issue 13 found 20 concurrent ``POST /api/layers`` of one new name answered 201 eight
times (seven clients told "created" while their data was replaced), concurrent PUTs
reporting ``created: true`` several times, and a PUT raced with a DELETE answering
404.  Here the app is served by waitress over real sockets on 127.0.0.1 and the
requests start together (a barrier); the store is then opened on its own to see what
was kept.  The store follows ``ATLAS_TEST_BACKEND`` (GeoPackage in the first pass of
``make test``, PostGIS in the second); ``tests/test_postgis.py`` races two app
processes on one database.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from layers.open import open_store
from tests.conftest import LiveServer

pytestmark = pytest.mark.xdist_group("races")

N = 20


def geojson(writer: str, n: int) -> bytes:
    """``n`` points, each tagged with its writer."""
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"writer": writer, "k": i},
         "geometry": {"type": "Point", "coordinates": [116 + i * 1e-3, 44 + i * 1e-3]}}
        for i in range(n)]}).encode()


def call(base: str, token: str, method: str, path: str, body: bytes | None = None
         ) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"}
    if body is not None:
        headers["Content-Type"] = "application/geo+json"
    req = urllib.request.Request(base + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def together(jobs: list) -> list:
    """Run every ``job()`` in its own thread, released at the same moment; their results."""
    gate = threading.Barrier(len(jobs))

    def run(job):
        gate.wait(30)
        return job()

    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(run, jobs))


@pytest.fixture()
def served(wapp, token):
    with LiveServer(wapp, threads=8) as server:
        yield server.url, token, wapp.extensions["atlas_settings"].store


def test_concurrent_creates_of_one_name_give_exactly_one_201(served):
    base, token, where = served
    # Each writer sends a different number of features, so what is stored names its writer.
    answers = together([
        (lambda k=k: call(base, token, "POST", "/api/layers?name=contested",
                          geojson(f"w{k}", 3 + k)))
        for k in range(N)])
    statuses = sorted(s for s, _ in answers)
    assert statuses == [201] + [409] * (N - 1), statuses
    winner = next(body for s, body in answers if s == 201)
    assert winner["created"] is True
    for s, body in answers:
        if s == 409:
            assert body["code"] == "layer_exists" and "PUT /api/layers/contested" in body["hint"]
    store = open_store(where)
    try:
        versions = store.versions("contested")
        assert [(v.number, v.token) for v in versions] == [(1, winner["version"])]
        gdf = store.get("contested")
        writers = set(gdf["writer"])
        assert len(writers) == 1 and len(gdf) == winner["count"] == 3 + int(writers.pop()[1:])
        assert store.check() == []  # no table of a losing writer left behind
    finally:
        store.close()


def test_concurrent_puts_of_a_new_name_say_created_once(served):
    base, token, where = served
    answers = together([
        (lambda k=k: call(base, token, "PUT", "/api/layers/raced", geojson(f"w{k}", 2 + k)))
        for k in range(N // 2)])
    assert sorted(s for s, _ in answers) == [200] * (N // 2 - 1) + [201]
    assert [b["created"] for _, b in answers].count(True) == 1
    store = open_store(where)
    try:
        versions = {v.token: v for v in store.versions("raced")}
        # every writer got its own version, and the one told "created" wrote version 1
        assert len(versions) == N // 2
        for status, body in answers:
            v = versions[body["version"]]
            assert (v.number == 1) == (status == 201) == body["created"]
            assert v.count == body["count"]
        assert store.check() == []
    finally:
        store.close()


def test_put_raced_with_delete_answers_a_consistent_status(served):
    """Either order is fine, but the answers must tell which one happened."""
    base, token, where = served
    store = open_store(where)
    try:
        for _ in range(6):
            assert call(base, token, "PUT", "/api/layers/flicker", geojson("old", 3))[0] in (
                200, 201)
            (put_status, put_body), (del_status, _) = together([
                lambda: call(base, token, "PUT", "/api/layers/flicker", geojson("new", 5)),
                lambda: call(base, token, "DELETE", "/api/layers/flicker")])
            assert del_status == 200  # the layer existed when both started
            exists = store.exists("flicker")
            if exists:  # DELETE first, then the PUT created the layer anew
                assert (put_status, put_body["created"]) == (201, True)
                assert store.info("flicker").count == 5 == put_body["count"]
                assert [v.number for v in store.versions("flicker")] == [1]
            else:  # PUT replaced it, then DELETE removed every version
                assert (put_status, put_body["created"]) == (200, False)
                assert put_body["count"] == 5
            if exists:
                call(base, token, "DELETE", "/api/layers/flicker")
        assert store.check() == []
    finally:
        store.close()
