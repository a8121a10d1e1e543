"""Background overlay jobs over HTTP: a job's results equal the synchronous answers.

Each test runs on the GeoPackage store and, in the PostGIS pass of ``make test``, on
PostGIS: the jobs live in the store, so two app servers (two apps on one store here)
share them — one submits, the other runs, either answers.
"""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import time

import pytest

from layers.jobs import runner_id
from tests.test_overlay_stream import _sites_csv

N = 1800


def _wait(client, job_id: str, timeout: float = 300.0) -> dict:
    """Poll the job until it ends (bounded: a test never waits forever)."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        doc = client.get(f"/api/jobs/{job_id}").get_json()
        seen.append(doc["progress"])
        if doc["status"] in ("done", "failed"):
            doc["_seen"] = seen
            return doc
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {doc['status']} after {timeout} s")


@pytest.fixture()
def apps(make_app):
    """Two app servers on one store: one that only queues jobs, one that runs them."""
    made = []

    def _make(**config):
        app = make_app(**config)
        made.append(app)
        return app

    yield _make
    for app in made:
        app.extensions["atlas_job_runner"].stop()


def _submit(client, data: bytes, **fields):
    form = {"file": (io.BytesIO(data), "sites.csv"), **fields}
    return client.post("/api/jobs/overlay", data=form, content_type="multipart/form-data")


def test_a_job_result_equals_the_synchronous_answers(apps):
    front = apps(ATLAS_JOB_WORKERS=0).test_client()   # queues only
    worker = apps(ATLAS_JOB_WORKERS=1).test_client()  # runs what the store holds
    data = _sites_csv(N)
    r = _submit(front, data, river_buffer_m="2500", datum="wgs84")
    assert r.status_code == 202
    body = r.get_json()
    assert r.headers["Location"] == body["url"] and body["url"].endswith(f"/api/jobs/{body['id']}")
    assert body["status"] == "queued"
    worker.get(f"/api/jobs/{body['id']}")  # the second app server's runner starts
    doc = _wait(front, body["id"])
    assert doc["status"] == "done" and doc["progress"] == 1.0 and doc["error"] is None
    assert set(doc["results"]) == {"csv", "geojson", "summary"}
    assert doc["files"]["csv"]["media_type"].startswith("text/csv")
    assert doc["expires"] > doc["finished"] and doc["parameters"]["river_buffer_m"] == 2500.0

    def sync(fmt=None):
        form = {"file": (io.BytesIO(data), "sites.csv"), "river_buffer_m": "2500"}
        if fmt:
            form["format"] = fmt
        return front.post("/api/overlay", data=form, content_type="multipart/form-data")

    csv_url = doc["results"]["csv"].replace("http://localhost", "")
    plain = worker.get(csv_url)
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    assert plain.get_data() == sync("csv").get_data()
    zipped = front.get(csv_url, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.get_data()) == plain.get_data()
    assert int(zipped.headers["Content-Length"]) == len(zipped.get_data())
    geojson = front.get(doc["results"]["geojson"].replace("http://localhost", ""))
    assert geojson.get_data() == sync("geojson").get_data()
    summary = front.get(doc["results"]["summary"].replace("http://localhost", "")).get_json()
    page = json.loads(sync().get_data())
    for key in ("count", "parameters", "rules", "accuracy", "summary", "report"):
        assert summary[key] == page[key], key


def test_limits_per_client_and_for_the_queue(apps):
    client = apps(ATLAS_JOB_WORKERS=0, ATLAS_JOBS_PER_CLIENT=2, ATLAS_JOB_QUEUE=3).test_client()
    data = b"lon,lat\n116,44\n"
    ids = [_submit(client, data).get_json()["id"] for _ in range(2)]
    r = _submit(client, data)
    assert r.status_code == 429 and r.get_json()["code"] == "too_many_jobs"
    other = {"REMOTE_ADDR": "10.1.2.3"}
    assert client.post("/api/jobs/overlay", data={"file": (io.BytesIO(data), "a.csv")},
                       content_type="multipart/form-data",
                       environ_base=other).status_code == 202
    r = client.post("/api/jobs/overlay", data={"file": (io.BytesIO(data), "a.csv")},
                    content_type="multipart/form-data", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert r.status_code == 503 and r.get_json()["code"] == "job_queue_full"
    assert r.get_json()["error_zh"] and r.get_json()["hint"]
    # Results of a queued job are not ready; cancelling frees the client's place.
    r = client.get(f"/api/jobs/{ids[0]}/results/csv")
    assert r.status_code == 409 and r.get_json()["code"] == "job_not_done"
    r = client.delete(f"/api/jobs/{ids[0]}")
    assert r.status_code == 200 and r.get_json() == {"id": ids[0], "status": "cancelled",
                                                     "was": "queued"}
    r = client.get(f"/api/jobs/{ids[0]}")
    assert r.status_code == 404 and r.get_json()["code"] == "job_not_found"
    assert client.delete(f"/api/jobs/{ids[0]}").status_code == 404
    assert _submit(client, data).status_code == 202


def test_a_job_that_cannot_read_its_file_fails_with_the_readers_error(apps):
    client = apps(ATLAS_JOB_WORKERS=1).test_client()
    r = client.post("/api/jobs/overlay", data={"file": (io.BytesIO(b"\x00\x01binary"), "x.csv")},
                    content_type="multipart/form-data")
    doc = _wait(client, r.get_json()["id"])
    assert doc["status"] == "failed" and doc["results"] == {}
    assert set(doc["error"]) == {"error", "error_zh", "code", "status", "hint", "hint_zh"}
    assert doc["error"]["code"] in ("unsupported_format", "file_unreadable", "file_encoding")
    # The same file through the synchronous API: the same error.
    sync = client.post("/api/overlay", data={"file": (io.BytesIO(b"\x00\x01binary"), "x.csv")},
                       content_type="multipart/form-data").get_json()
    assert sync["code"] == doc["error"]["code"] and sync["error"] == doc["error"]["error"]


def test_bad_parameters_are_refused_at_submission(client):
    r = client.post("/api/jobs/overlay?river_buffer_m=-5", data=b'{"type":"FeatureCollection",'
                    b'"features":[]}', content_type="application/geo+json")
    assert r.status_code == 400 and r.get_json()["code"] == "bad_parameter"
    r = client.post("/api/jobs/overlay?format=csv", data=b"{}",
                    content_type="application/geo+json")
    assert r.status_code == 400


def test_a_restart_marks_interrupted_jobs_failed(apps, store_path):
    from layers.open import open_store

    before = apps(ATLAS_JOB_WORKERS=0).test_client()
    job_id = _submit(before, b"lon,lat\n116,44\n").get_json()["id"]
    # Another process claimed it and died (a server killed mid-job) …
    code = ("import sys; from layers.open import open_store; from layers.jobs import runner_id;"
            "s = open_store(sys.argv[1]); print(s.jobs().claim(runner_id()).id)")
    out = subprocess.run([sys.executable, "-c", code, store_path], capture_output=True,
                         text=True, check=True, cwd=str(__import__("pathlib").Path(
                             __file__).resolve().parent.parent))
    assert out.stdout.strip() == job_id
    # … and a job of an earlier app in this very process (restarted in place).
    second = _submit(before, b"lon,lat\n116,44\n").get_json()["id"]
    assert open_store(store_path).jobs().claim(runner_id()).id == second
    after = apps(ATLAS_JOB_WORKERS=0).test_client()
    for jid in (job_id, second):
        doc = after.get(f"/api/jobs/{jid}").get_json()
        assert doc["status"] == "failed" and doc["error"]["code"] == "job_failed", doc
        assert "stopped" in doc["error"]["error"] and doc["error"]["error_zh"]
