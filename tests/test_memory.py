"""Memory at volume, through HTTP: a million sites and a million-point layer against a running server.

Issue 12's bound: no request raises the server's resident memory by more than 1 GB.
One server (``python -m webmap.core.serving``, what ``make run`` starts, 4 threads) runs
on a copy of the reference GeoPackage; before each request the kernel's peak-RSS
counter of that process is reset (``/proc/<pid>/clear_refs``, value 5) and after it
``VmHWM`` − ``VmRSS`` before is the request's growth: the kernel's own peak, not a
sample.  What is asserted is the memory bound and what the answers hold (row counts,
status codes), never a time.  A watcher kills the server at :data:`KILL_MB` and a loose
``RLIMIT_AS`` is set, both only a safety net for the shared machine (a virtual-memory
limit trips on allocator reservations, so it cannot be the measure).

Its own group (``memory``, one xdist group, GeoPackage pass only): about a minute on
two cores.  ``-m "not memory"`` leaves it out of a quick local run; the figures are
printed (``-s``) and ``make bench-full`` measures the same requests with times.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST = "127.0.0.1"
N = 1_000_000
#: The bound of the issue: growth of the server's peak RSS during one request (MB).
BOUND_MB = 1024.0
#: Safety nets only: the watcher kills the server above this resident size, and the
#: address-space limit stops a runaway allocation faster than the watcher samples.
KILL_MB = 3500.0
AS_LIMIT_MB = 16384
#: Hang guard for one request or job (not an expectation of speed: a loaded shared machine
#: has taken over ten minutes for what takes seconds alone).
GUARD_S = 1800.0
TOKEN = "memory-test-" + uuid.uuid4().hex
LEAGUE = (111.0, 41.5, 120.0, 46.8)

pytestmark = [pytest.mark.memory, pytest.mark.slow, pytest.mark.gpkg_only,
              pytest.mark.xdist_group("memory")]

if not os.path.exists("/proc/self/clear_refs"):  # pragma: no cover - Linux only
    pytest.skip("needs Linux /proc (VmHWM and clear_refs)", allow_module_level=True)


def _status_mb(pid: int, key: str) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no {key} for {pid}")


class Server:
    """The served atlas in a child process, its memory watched."""

    def __init__(self, store: str) -> None:
        with __import__("socket").socket() as s:
            s.bind((HOST, 0))
            self.port = s.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ATLAS_")}
        env.update({"ATLAS_STORE": store, "ATLAS_WRITE_TOKEN": TOKEN, "ATLAS_THREADS": "4",
                    "ATLAS_MAX_UPLOAD_MB": "200", "PYTHONUNBUFFERED": "1"})
        limit = AS_LIMIT_MB * 2**20
        self.log = open(store + ".log", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "webmap.core.serving", "--host", HOST, "--port",
             str(self.port)], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)))
        self.killed_at: float | None = None
        self._stop = threading.Event()
        self._watch = threading.Thread(target=self._watcher, daemon=True)
        self._watch.start()

    def _watcher(self) -> None:
        while not self._stop.wait(0.05):
            try:
                now = _status_mb(self.proc.pid, "VmRSS")
            except (OSError, AssertionError):
                return
            if now > KILL_MB:
                self.killed_at = now
                self.proc.send_signal(signal.SIGKILL)
                return

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"the server exited with {self.proc.returncode}: {self.tail()}")
            try:
                if self.request("GET", "/healthz", timeout=5)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        pytest.fail("the server did not answer /healthz")

    def tail(self) -> str:
        self.log.flush()
        with open(self.log.name, "rb") as fh:
            return fh.read()[-3000:].decode(errors="replace")

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None, timeout: float = GUARD_S,
                keep: int = 1 << 16) -> tuple[int, dict, bytes, int, int]:
        """(status, headers, the first ``keep`` bytes, body size, newlines in the body)."""
        if path.startswith("http"):  # the jobs API answers absolute URLs
            parts = urllib.parse.urlsplit(path)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
        con = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            con.request(method, path, body=body, headers=headers or {})
            resp = con.getresponse()
            head, size, lines = b"", 0, 0
            while chunk := resp.read(1 << 20):
                if len(head) < keep:
                    head += chunk[:keep - len(head)]
                size += len(chunk)
                lines += chunk.count(b"\n")
            return resp.status, dict(resp.getheaders()), head, size, lines
        finally:
            con.close()

    def measured(self, method: str, path: str, body: bytes | None = None,
                 headers: dict | None = None) -> tuple[tuple, float]:
        """A request and the growth (MB) of the server's peak RSS while it ran."""
        pid = self.proc.pid
        before = _status_mb(pid, "VmRSS")
        with open(f"/proc/{pid}/clear_refs", "w") as fh:
            fh.write("5")  # VmHWM := VmRSS now
        t0 = time.monotonic()
        try:
            out = self.request(method, path, body, headers)
        except (OSError, http.client.HTTPException) as e:
            pytest.fail(f"{method} {path}: {e!r} (killed at {self.killed_at} MB); "
                        f"{self.tail()}")
        growth = _status_mb(pid, "VmHWM") - before
        print(f"\n{method} {path.split('?')[0]}: {out[0]}, {out[3] / 1e6:.1f} MB answer, "
              f"RSS {before:.0f} MB, peak +{growth:.0f} MB, {time.monotonic() - t0:.1f} s")
        return out, growth

    def stop(self) -> None:
        self._stop.set()
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(15)
        self.log.close()


@pytest.fixture(scope="module")
def server(ref_store_path, tmp_path_factory) -> Iterator[Server]:
    store = str(tmp_path_factory.mktemp("memory") / "atlas.gpkg")
    shutil.copy(ref_store_path, store)
    srv = Server(store)
    try:
        srv.wait_ready()
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def sites_csv() -> bytes:
    """A million random sites over the League as CSV (name, lon, lat)."""
    rng = np.random.default_rng(12)
    lon = rng.uniform(LEAGUE[0], LEAGUE[2], N)
    lat = rng.uniform(LEAGUE[1], LEAGUE[3], N)
    names = np.char.add("s", np.arange(N).astype(str))
    rows = np.char.add(np.char.add(np.char.add(names, ","), np.char.mod("%.6f", lon)),
                       np.char.add(",", np.char.mod("%.6f", lat)))
    return ("name,lon,lat\n" + "\n".join(rows.tolist()) + "\n").encode()


def _multipart(data: bytes, filename: str = "sites.csv", **fields: str) -> tuple[bytes, dict]:
    b = uuid.uuid4().hex
    parts = [f'--{b}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"'
                 '\r\nContent-Type: text/csv\r\n\r\n'.encode() + data + b"\r\n")
    parts.append(f"--{b}--\r\n".encode())
    return b"".join(parts), {"Content-Type": f"multipart/form-data; boundary={b}"}


def test_a_million_sites_overlaid_through_http_in_bounded_memory(server, sites_csv):
    """The streamed CSV answer holds a row per site; the JSON answer refuses with 413."""
    body, headers = _multipart(sites_csv, format="csv")
    (status, _, head, _, lines), growth = server.measured("POST", "/api/overlay", body, headers)
    assert status == 200, head[:500]
    assert lines == N + 1  # the header and one row per site
    assert growth < BOUND_MB

    body, headers = _multipart(sites_csv)
    (status, _, head, _, _), growth = server.measured("POST", "/api/overlay", body, headers)
    assert status == 413 and json.loads(head)["code"] == "overlay_too_large"
    assert growth < BOUND_MB


def test_a_million_site_job_runs_in_bounded_memory(server, sites_csv):
    """The job's run (submit to done) stays within the bound; its CSV has a row per site."""
    pid = server.proc.pid
    body, headers = _multipart(sites_csv)
    before = _status_mb(pid, "VmRSS")
    with open(f"/proc/{pid}/clear_refs", "w") as fh:
        fh.write("5")
    status, hdrs, head, _, _ = server.request("POST", "/api/jobs/overlay", body, headers)
    assert status == 202, head[:500]
    url = json.loads(head)["url"]
    deadline = time.monotonic() + GUARD_S
    while True:
        state = json.loads(server.request("GET", url)[2])
        if state["status"] in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    growth = _status_mb(pid, "VmHWM") - before
    print(f"\njob of {N:,} sites: {state['status']}, RSS {before:.0f} MB, peak +{growth:.0f} MB")
    assert state["status"] == "done", state
    assert growth < BOUND_MB
    (status, _, _, _, lines), growth = server.measured("GET", state["results"]["csv"])
    assert status == 200 and lines == N + 1
    assert growth < BOUND_MB


def test_a_million_point_layer_uploaded_and_read_in_bounded_memory(server, sites_csv):
    """Upload, first pages, a page deep in the layer, a bbox, tiles, features and
    exports of a million points: each request within the bound, each answer right."""
    body, headers = _multipart(sites_csv)
    (status, _, head, _, _), growth = server.measured(
        "PUT", "/api/layers/million", body, {**headers, "Authorization": f"Bearer {TOKEN}"})
    assert status in (200, 201), head[:500]
    assert growth < BOUND_MB

    base = "/ogcapi/collections/million/items"
    (status, _, head, _, _), growth = server.measured("GET", f"{base}?limit=100")
    page = json.loads(head)
    assert status == 200 and page["numberMatched"] == N and len(page["features"]) == 100
    assert growth < BOUND_MB

    (status, _, head, size, _), growth = server.measured(
        "GET", f"{base}?limit=10000&offset={N - 5000}")
    assert status == 200 and growth < BOUND_MB
    assert len(re.findall(rb'"type":"Feature"', head)) > 0 and size > 5000 * 50

    # The whole layer as GeoJSON while it is not in memory yet: loaded, then encoded.
    (status, _, head, size, _), growth = server.measured("GET", "/api/export/million.geojson")
    assert status == 200 and head.startswith(b'{"type":"FeatureCollection"') and growth < BOUND_MB
    assert size > N * 80  # a feature is at least '{"type":"Feature",...}' with 6 decimals

    # A bbox over a quarter of the League: the layer's index is built (loaded whole).
    (status, _, head, _, _), growth = server.measured(
        "GET", f"{base}?bbox=111,41.5,115.5,44.15&limit=1000")
    page = json.loads(head) if status == 200 and len(head) < (1 << 16) else None
    assert status == 200 and growth < BOUND_MB
    if page is not None:
        assert abs(page["numberMatched"] - N / 4) < N * 0.01  # uniform sites

    for z, x, y in ((5, 26, 11), (8, 210, 93), (12, 3367, 1489)):  # over 116 °E, 44 °N
        (status, _, _, _, _), growth = server.measured("GET", f"/tiles/million/{z}/{x}/{y}.mvt")
        assert status == 200 and growth < BOUND_MB

    (status, _, head, _, _), growth = server.measured("GET", "/api/layers/million/features?zoom=8")
    assert status == 413 and json.loads(head)["code"] == "too_many_features"
    assert growth < BOUND_MB
    (status, _, head, _, _), growth = server.measured(
        "GET", "/api/layers/million/features?zoom=8&bbox=116,44,116.1,44.1")
    assert status == 200 and growth < BOUND_MB

    (status, _, _, _, lines), growth = server.measured("GET", "/api/export/million.csv")
    assert status == 200 and lines == N + 1 and growth < BOUND_MB

    (status, _, _, _, _), growth = server.measured(
        "DELETE", "/api/layers/million", headers={"Authorization": f"Bearer {TOKEN}"})
    assert status in (200, 204) and growth < BOUND_MB
